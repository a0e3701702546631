// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import Auth
import Core
import Foundation
import HTTP
import HTTPTypes
import Storage
import Testing

/// Two tenants, users and keys of every role in each, and every tenant-scoped route probed across
/// the boundary: reads, writes, deletes, list filters and ids taken from the other tenant. The
/// expected leak count is zero: every cross-tenant request is a 404 that names nothing of the
/// other tenant, and the other tenant is unchanged afterwards.
@Suite struct CrossTenantProbeTests {
    struct World {
        var alphaCallers: [Caller]
        var betaMembers: [Member]
        var betaKeys: [(id: String, key: String)]
        /// Strings that must never appear in an answer to an alpha caller.
        var betaSecrets: [String]
    }

    static func makeWorld(_ app: TestApp) async throws -> World {
        try await app.makeTenant("alpha", plan: "growth")
        try await app.makeTenant("beta", plan: "scale")
        let alphaCallers = try await app.callers(of: "alpha")
        var betaMembers: [Member] = []
        var betaKeys: [(id: String, key: String)] = []
        for role in Role.allCases {
            betaMembers.append(try await app.makeMember("beta", role: role, name: "beta-\(role.rawValue)"))
            betaKeys.append(try await app.makeKey("beta", role: role, name: "beta-key-\(role.rawValue)"))
        }
        // Activity in beta, so its audit log has entries to leak.
        let admin = try await app.login()
        _ = try await app.send(.post, "/tenants/beta/usage", token: admin, json: ["tokens_delta": 777, "requests_delta": 7])
        let secrets = betaMembers.flatMap { [$0.id, $0.email] } + betaKeys.flatMap { [$0.id, $0.key] } + ["beta-key-"]
        return World(alphaCallers: alphaCallers, betaMembers: betaMembers, betaKeys: betaKeys, betaSecrets: secrets)
    }

    static func expectNoLeak(_ response: TestResponse, _ world: World, _ context: String) {
        for secret in world.betaSecrets {
            #expect(!response.text.contains(secret), "\(context) leaked \(secret.prefix(12))…")
        }
    }

    @Test(arguments: Backend.all)
    func everyTenantRouteAnswers404AcrossTheBoundary(backend: Backend) async throws {
        try await withApp(backend) { app in
            let world = try await Self.makeWorld(app)
            let betaFactory = ProbeFactory(app: app, tenant: "beta")
            var probed = 0
            for declaration in app.module.resolver.declarations {
                guard case .tenant = declaration.access else { continue }
                for caller in world.alphaCallers {
                    guard var probe = try await betaFactory.probe(declaration) else {
                        Issue.record("no probe for \(declaration.method) \(declaration.template)")
                        continue
                    }
                    if declaration.template == "/tenants/current" { probe.headers["X-Atlas-Tenant"] = "beta" }
                    let response = try await app.send(declaration.method, probe, as: caller)
                    let context = "\(declaration.method) \(probe.target) as alpha \(caller)"
                    #expect(response.status == 404, "\(context): \(response.status) \(response.text)")
                    #expect(response.code == "tenant_not_found", "\(context)")
                    Self.expectNoLeak(response, world, context)
                    probed += 1
                }
            }
            #expect(probed >= 12 * world.alphaCallers.count)
            try await Self.expectBetaUntouched(app, world)
        }
    }

    @Test(arguments: Backend.all)
    func idsGuessedFromTheOtherTenantAreNotFound(backend: Backend) async throws {
        try await withApp(backend) { app in
            let world = try await Self.makeWorld(app)
            let betaUser = world.betaMembers[0]
            let betaKey = world.betaKeys[0]
            for caller in world.alphaCallers {
                let requests: [(HTTPRequest.Method, String, [String: any Sendable]?)] = [
                    (.patch, "/tenants/alpha/members/\(betaUser.id)", ["role": "viewer"]),
                    (.patch, "/tenants/alpha/members/\(betaUser.email)", ["role": "viewer"]),
                    (.delete, "/tenants/alpha/members/\(betaUser.id)", nil),
                    (.delete, "/tenants/alpha/api-keys/\(betaKey.id)", nil),
                ]
                for (method, target, json) in requests {
                    let response = try await app.send(method, Probe(target: target, json: json), as: caller)
                    let context = "\(method) \(target) as alpha \(caller)"
                    if caller.holds(.membersManage) {
                        #expect(response.status == 404, "\(context): \(response.status) \(response.text)")
                    } else {
                        #expect(response.status == 403, "\(context): \(response.status)")
                    }
                    Self.expectNoLeak(response, world, context)
                }
            }
            try await Self.expectBetaUntouched(app, world)
        }
    }

    @Test(arguments: Backend.all)
    func listsShowOnlyTheCallersTenant(backend: Backend) async throws {
        try await withApp(backend) { app in
            let world = try await Self.makeWorld(app)
            for caller in world.alphaCallers {
                for target in ["/tenants", "/tenants/alpha/members", "/tenants/alpha/api-keys", "/tenants/alpha/audit?limit=200",
                               "/tenants/current", "/tenants/alpha", "/auth/me"] {
                    let response = try await app.send(.get, Probe(target: target), as: caller)
                    Self.expectNoLeak(response, world, "GET \(target) as alpha \(caller)")
                    #expect(!response.text.contains("\"beta\""), "GET \(target) as alpha \(caller) names beta")
                }
            }
            // Another tenant's API key never acts in this one, whatever the request names.
            for key in world.betaKeys {
                let response = try await app.send(.get, "/tenants/current", headers: ["X-API-Key": key.key, "X-Atlas-Tenant": "alpha"])
                #expect(response.status == 404)
            }
        }
    }

    static func expectBetaUntouched(_ app: TestApp, _ world: World) async throws {
        let admin = try await app.login()
        let members = try await app.send(.get, "/tenants/beta/members", token: admin)
        for member in world.betaMembers {
            let listed = members.array.first { $0["user_id"] as? String == member.id }
            #expect(listed?["role"] as? String == member.role.rawValue, "beta member \(member.role) changed")
        }
        let keys = try await app.send(.get, "/tenants/beta/api-keys", token: admin)
        for key in world.betaKeys {
            let listed = keys.array.first { $0["id"] as? String == key.id }
            #expect(listed != nil && listed?["revoked_at"] == nil, "beta key \(key.id) was revoked")
        }
        let beta = try await app.send(.get, "/tenants/beta", token: admin)
        #expect(beta["plan"] as? String == "scale")
        #expect((beta["usage"] as? [String: Any])?["tokens"] as? Int == 777)
        #expect(beta["status"] as? String == "active")
    }
}
