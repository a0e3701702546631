// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import Auth
import Core
import Foundation
import HTTPTypes
import Storage
import Testing

@Suite struct APIKeyTests {
    @Test(arguments: Backend.all)
    func authenticatesByBearerAndByXAPIKey(backend: Backend) async throws {
        try await withApp(backend) { app in
            let (_, key) = try await app.makeKey("acme", role: .viewer)
            #expect(key.hasPrefix("atl_"))
            let bearer = try await app.send(.get, "/tenants/current", token: key)
            #expect(bearer.status == 200)
            #expect(bearer["tenant"] as? String == "acme")
            let header = try await app.send(.get, "/tenants/acme", headers: ["X-API-Key": key])
            #expect(header.status == 200)
            #expect(header["role"] as? String == "viewer")
            let me = try await app.send(.get, "/auth/me", headers: ["X-API-Key": key])
            #expect(me["kind"] as? String == "api_key")
        }
    }

    @Test(arguments: Backend.all)
    func keepsAKeyInsideItsTenant_AndWithinItsRole(backend: Backend) async throws {
        try await withApp(backend) { app in
            let (_, key) = try await app.makeKey("acme", role: .viewer)
            #expect(try await app.send(.get, "/tenants/demo", token: key).status == 404)
            #expect(try await app.send(.get, "/tenants/current", token: key, headers: ["X-Atlas-Tenant": "demo"]).status == 404)
            let write = try await app.send(.post, "/tenants/acme/usage", token: key, json: ["tokens_delta": 1, "requests_delta": 1])
            #expect(write.status == 403)
            #expect(write.code == "permission_denied")
            let tenants = try await app.send(.get, "/tenants", token: key)
            #expect(tenants.array.compactMap { $0["tenant"] as? String } == ["acme"])
        }
    }

    @Test(arguments: Backend.all)
    func showsTheSecretOnce_AndStoresOnlyItsDigest(backend: Backend) async throws {
        try await withApp(backend) { app in
            let (id, key) = try await app.makeKey("acme", role: .member, name: "ci")
            let admin = try await app.login()
            let list = try await app.send(.get, "/tenants/acme/api-keys", token: admin)
            #expect(list.status == 200)
            #expect(!list.text.contains(String(key.dropFirst(17))))
            let listed = try #require(list.array.first { $0["id"] as? String == id })
            #expect(listed["name"] as? String == "ci")
            #expect(listed["prefix"] as? String == "atl_\(id)_…")
            let stored = try await app.database.read(tenant: "*") { conn in
                try conn.queryScalar("SELECT secret_hash FROM auth_api_keys WHERE id = \(id)", as: String.self)
            }
            #expect(stored?.count == 64)
            #expect(stored.map { !key.contains($0) } == true)
        }
    }

    @Test(arguments: Backend.all)
    func refusesRevokedExpiredAndAlteredKeys(backend: Backend) async throws {
        let clock = TestClock()
        try await withApp(backend, clock: clock) { app in
            let admin = try await app.login()
            let (id, key) = try await app.makeKey("acme", role: .viewer)
            var altered = Array(key)
            altered[altered.count - 1] = altered.last == "a" ? "b" : "a"
            #expect(try await app.send(.get, "/tenants/current", token: String(altered)).status == 401)
            #expect(try await app.send(.get, "/tenants/current", token: "atl_short").status == 401)
            #expect(try await app.send(.get, "/tenants/current", headers: ["X-API-Key": "not-a-key"]).status == 401)

            let revoke = try await app.send(.delete, "/tenants/acme/api-keys/\(id)", token: admin)
            #expect(revoke.status == 204)
            let revoked = try await app.send(.get, "/tenants/current", token: key)
            #expect(revoked.status == 401)
            #expect((revoked["detail"] as? String)?.contains("revoked") == true)
            #expect(try await app.send(.delete, "/tenants/acme/api-keys/\(id)", token: admin).status == 204)
            #expect(try await app.send(.delete, "/tenants/demo/api-keys/\(id)", token: admin).status == 404)

            let expiry = ISO8601DateFormatter().string(from: clock.now.addingTimeInterval(3600))
            let expiring = try await app.send(
                .post, "/tenants/acme/api-keys", token: admin, json: ["name": "short-lived", "role": "viewer", "expires_at": expiry])
            #expect(expiring.status == 201)
            let shortLived = try #require(expiring["key"] as? String)
            #expect(try await app.send(.get, "/tenants/current", token: shortLived).status == 200)
            clock.advance(by: 3601)
            #expect(try await app.send(.get, "/tenants/current", token: shortLived).status == 401)
        }
    }

    @Test(arguments: Backend.all)
    func recordsLastUseAtMostOnceAMinute(backend: Backend) async throws {
        let clock = TestClock()
        try await withApp(backend, clock: clock) { app in
            let (id, key) = try await app.makeKey("acme", role: .viewer)
            func lastUsed() async throws -> Int64? {
                try await app.database.read(tenant: "acme") { conn in
                    try conn.queryScalar("SELECT last_used_at FROM auth_api_keys WHERE id = \(id)", as: Int64.self)
                }
            }
            #expect(try await lastUsed() == nil)
            _ = try await app.send(.get, "/tenants/current", token: key)
            let first = try #require(try await lastUsed())
            clock.advance(by: 30)
            _ = try await app.send(.get, "/tenants/current", token: key)
            #expect(try await lastUsed() == first)
            clock.advance(by: 31)
            _ = try await app.send(.get, "/tenants/current", token: key)
            #expect(try await lastUsed()! > first)
        }
    }

    @Test(arguments: Backend.all)
    func refusesKeysAboveTheCreatorsRole(backend: Backend) async throws {
        try await withApp(backend) { app in
            let adminMember = try await app.makeMember("acme", role: .admin)
            let owner = try await app.send(.post, "/tenants/acme/api-keys", token: adminMember.token, json: ["name": "x", "role": "owner"])
            #expect(owner.status == 403)
            #expect(owner.code == "role_too_high")
            let admin = try await app.send(.post, "/tenants/acme/api-keys", token: adminMember.token, json: ["name": "x", "role": "admin"])
            #expect(admin.status == 201)
            let badRole = try await app.send(.post, "/tenants/acme/api-keys", token: adminMember.token, json: ["name": "x", "role": "god"])
            #expect(badRole.status == 422)
            let noName = try await app.send(.post, "/tenants/acme/api-keys", token: adminMember.token, json: ["name": "  ", "role": "viewer"])
            #expect(noName.status == 422)
        }
    }
}
