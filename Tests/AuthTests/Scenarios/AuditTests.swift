// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import Auth
import Core
import Foundation
import HTTPTypes
import Testing

@Suite struct AuditTests {
    @Test(arguments: Backend.all)
    func recordsSecurityEvents_WithActorTimeAndRequestID(backend: Backend) async throws {
        try await withApp(backend) { app in
            let admin = try await app.login()
            let adminID = try #require(try await app.send(.get, "/auth/me", token: admin)["id"] as? String)
            let member = try await app.makeMember("acme", role: .viewer)
            let promote = try await app.send(
                .patch, "/tenants/acme/members/\(member.id)", token: admin, json: ["role": "member"], headers: ["X-Request-ID": "req-promote-1"])
            #expect(promote.status == 200)
            let key = try await app.makeKey("acme", role: .viewer)
            _ = try await app.send(.delete, "/tenants/acme/api-keys/\(key.id)", token: admin)
            _ = try await app.send(.patch, "/tenants/acme", token: admin, json: ["plan": "scale"])
            _ = try await app.send(.post, "/auth/token", json: ["username": member.email, "password": "wrong"], from: "198.51.100.23")

            let page = try await app.send(.get, "/tenants/acme/audit?limit=200", token: admin)
            #expect(page.status == 200)
            let items = page["items"] as? [[String: Any]] ?? []
            let actions = items.compactMap { $0["action"] as? String }
            for expected in ["auth.login", "auth.login_failed", "members.added", "members.role_changed", "apikeys.created",
                             "apikeys.revoked", "tenants.plan_changed", "tenants.seeded"] {
                #expect(actions.contains(expected), "missing \(expected)")
            }
            let roleChange = try #require(items.first { $0["action"] as? String == "members.role_changed" })
            #expect(roleChange["actor"] as? String == "user:\(adminID)")
            #expect(roleChange["target"] as? String == member.id)
            #expect(roleChange["request_id"] as? String == promote.header("X-Request-ID"))
            #expect((roleChange["details"] as? [String: String]) == ["from": "viewer", "to": "member"])
            #expect(roleChange["occurred_at"] is String)
            let plan = try #require(items.first { $0["action"] as? String == "tenants.plan_changed" })
            #expect((plan["details"] as? [String: String]) == ["from": "growth", "to": "scale"])
            // Nothing secret is ever written: neither passwords nor key secrets.
            #expect(!page.text.contains("wrong"))
            #expect(!page.text.contains(String(key.key.dropFirst(17))))
            #expect(!page.text.contains(member.password))
        }
    }

    @Test(arguments: Backend.all)
    func paginatesNewestFirst_WithACursor(backend: Backend) async throws {
        try await withApp(backend) { app in
            let admin = try await app.login()
            for delta in 1...7 {
                _ = try await app.send(.post, "/tenants/acme/usage", token: admin, json: ["tokens_delta": delta, "requests_delta": 0])
            }
            var seen: [Int] = []
            var cursor: String?
            repeat {
                let target = "/tenants/acme/audit?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await app.send(.get, target, token: admin)
                #expect(page.status == 200)
                let ids = (page["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
                #expect(ids.count <= 3)
                seen += ids
                cursor = page["next_cursor"] as? String
            } while cursor != nil && seen.count < 100
            #expect(seen == seen.sorted(by: >))
            #expect(Set(seen).count == seen.count)
            #expect(seen.count >= 9)
            #expect(try await app.send(.get, "/tenants/acme/audit?limit=0", token: admin).status == 422)
            let notANumber = try await app.send(.get, "/tenants/acme/audit?limit=abc", token: admin)
            #expect([400, 422].contains(notANumber.status))
            #expect(try await app.send(.get, "/tenants/acme/audit?cursor=-4", token: admin).status == 422)
        }
    }

    @Test(arguments: Backend.all)
    func onlyOwnersAndAdminsReadIt(backend: Backend) async throws {
        try await withApp(backend) { app in
            for role in Role.allCases {
                let member = try await app.makeMember("acme", role: role)
                let status = try await app.send(.get, "/tenants/acme/audit", token: member.token).status
                #expect(status == (role >= .admin ? 200 : 403), "\(role)")
            }
        }
    }
}
