// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import Auth
import Core
import Foundation
import HTTP
import HTTPTypes
import Testing

/// Someone calling the API in a scenario.
struct Caller: Sendable, CustomStringConvertible {
    let name: String
    let credential: String
    /// The role in the tenant under test; `nil` for outsiders and platform administrators.
    let role: Role?
    let isPlatformAdmin: Bool

    var description: String { name }

    /// What the permission table says this caller may do in the tenant under test.
    func holds(_ permission: Permission) -> Bool {
        Principal(subject: .user(UserID("usr_x")!), isPlatformAdmin: isPlatformAdmin, displayName: name)
            .holds(permission, role: role)
    }
}

/// A concrete request for a declared route: path with real ids, and a body that passes
/// validation, so the only reason to refuse it is authorisation.
struct Probe: Sendable {
    var target: String
    var json: [String: any Sendable]?
    var headers: [String: String] = [:]
}

/// Builds probes against `tenant`, creating throwaway fixtures (as the platform administrator)
/// for routes that change or delete something.
struct ProbeFactory: Sendable {
    let app: TestApp
    let tenant: String

    func probe(_ declaration: RouteDeclaration) async throws -> Probe? {
        switch (declaration.method, declaration.template) {
        case (.get, "/tenants/current"):
            return Probe(target: "/tenants/current", headers: ["X-Atlas-Tenant": tenant])
        case (.get, "/tenants/{tenant}"):
            return Probe(target: "/tenants/\(tenant)")
        case (.patch, "/tenants/{tenant}"):
            let current = try await app.service.tenantRecord(TenantID(tenant)!).tenant.plan.rawValue
            return Probe(target: "/tenants/\(tenant)", json: ["plan": current])
        case (.post, "/tenants/{tenant}/usage"):
            return Probe(target: "/tenants/\(tenant)/usage", json: ["tokens_delta": 0, "requests_delta": 0])
        case (.get, "/tenants/{tenant}/members"):
            return Probe(target: "/tenants/\(tenant)/members")
        case (.post, "/tenants/{tenant}/members"):
            return Probe(target: "/tenants/\(tenant)/members", json: ["email": "new-\(UUID().uuidString.prefix(8))@probe.test", "role": "viewer"])
        case (.patch, "/tenants/{tenant}/members/{user}"):
            let target = try await app.makeMember(tenant, role: .viewer, name: "target")
            return Probe(target: "/tenants/\(tenant)/members/\(target.id)", json: ["role": "viewer"])
        case (.delete, "/tenants/{tenant}/members/{user}"):
            let target = try await app.makeMember(tenant, role: .viewer, name: "target")
            return Probe(target: "/tenants/\(tenant)/members/\(target.id)")
        case (.get, "/tenants/{tenant}/api-keys"):
            return Probe(target: "/tenants/\(tenant)/api-keys")
        case (.post, "/tenants/{tenant}/api-keys"):
            return Probe(target: "/tenants/\(tenant)/api-keys", json: ["name": "probe", "role": "viewer"])
        case (.delete, "/tenants/{tenant}/api-keys/{id}"):
            let key = try await app.makeKey(tenant, role: .viewer)
            return Probe(target: "/tenants/\(tenant)/api-keys/\(key.id)")
        case (.get, "/tenants/{tenant}/audit"):
            return Probe(target: "/tenants/\(tenant)/audit?limit=5")
        default:
            return nil
        }
    }
}

extension TestApp {
    func send(_ method: HTTPRequest.Method, _ probe: Probe, as caller: Caller?) async throws -> TestResponse {
        var headers = probe.headers
        if let caller {
            if caller.credential.hasPrefix("atl_"), Bool.random() {
                headers["X-API-Key"] = caller.credential
            } else {
                headers["Authorization"] = "Bearer \(caller.credential)"
            }
        }
        return try await send(method, probe.target, json: probe.json.map { $0 as [String: Any] }, headers: headers)
    }

    /// The callers of one tenant: a user and an API key per role, an outsider, a platform admin.
    func callers(of tenant: String) async throws -> [Caller] {
        var callers: [Caller] = []
        for role in Role.allCases {
            let member = try await makeMember(tenant, role: role)
            callers.append(Caller(name: "\(role.rawValue) user", credential: member.token, role: role, isPlatformAdmin: false))
            let key = try await makeKey(tenant, role: role)
            callers.append(Caller(name: "\(role.rawValue) key", credential: key.key, role: role, isPlatformAdmin: false))
        }
        return callers
    }
}

@Suite struct PermissionMatrixTests {
    /// Every route Auth declares, for every kind of caller, against `Permission.roles`.
    @Test(arguments: Backend.all)
    func everyRouteObeysThePermissionTable_ForEveryRole(backend: Backend) async throws {
        try await withApp(backend) { app in
            try await app.makeTenant("outside")
            let outsider = try await app.makeMember("outside", role: .owner)
            var callers = try await app.callers(of: "acme")
            callers.append(Caller(name: "outsider", credential: outsider.token, role: nil, isPlatformAdmin: false))
            callers.append(Caller(name: "platform admin", credential: try await app.login(), role: nil, isPlatformAdmin: true))
            let factory = ProbeFactory(app: app, tenant: "acme")
            let declarations = app.module.resolver.declarations
            #expect(declarations.count >= 17)

            for declaration in declarations {
                switch declaration.access {
                case .open:
                    continue
                case .authenticated:
                    let anonymous = try await app.send(declaration.method, declaration.template, json: [:] as [String: String])
                    #expect(anonymous.status == 401, "\(declaration.method) \(declaration.template) without a credential")
                case .tenant(let permission, _):
                    guard let probe = try await factory.probe(declaration) else {
                        Issue.record("no probe for \(declaration.method) \(declaration.template): add one so the matrix covers it")
                        continue
                    }
                    let anonymous = try await app.send(declaration.method, probe, as: nil)
                    #expect(anonymous.status == 401, "\(declaration.method) \(declaration.template) without a credential")
                    for caller in callers {
                        let probe = try #require(try await factory.probe(declaration))
                        let response = try await app.send(declaration.method, probe, as: caller)
                        let route = "\(declaration.method) \(declaration.template) as \(caller)"
                        if caller.role == nil && !caller.isPlatformAdmin {
                            #expect(response.status == 404, "\(route): \(response.status) \(response.text)")
                        } else if caller.holds(permission) {
                            #expect((200..<300).contains(response.status), "\(route) is allowed by \(permission): \(response.status) \(response.text)")
                        } else {
                            #expect(response.status == 403, "\(route) is denied by \(permission): \(response.status) \(response.text)")
                            #expect(response.code == "permission_denied", "\(route)")
                        }
                    }
                }
            }
        }
    }

    @Test func declaresEveryAuthRoute_WithTheIntendedRule() async throws {
        try await withApp(.sqlite) { app in
            let rules = Dictionary(uniqueKeysWithValues: app.module.resolver.declarations.map { ("\($0.method) \($0.template)", $0.access) })
            #expect(rules["POST /auth/token"] == .open)
            #expect(rules["POST /auth/refresh"] == .open)
            #expect(rules["POST /auth/logout"] == .authenticated)
            #expect(rules["GET /auth/me"] == .authenticated)
            #expect(rules["GET /tenants"] == .authenticated)
            #expect(rules["POST /tenants"] == .authenticated)
            #expect(rules["GET /tenants/current"] == .tenant(.tenantsRead, .request))
            #expect(rules["PATCH /tenants/{tenant}"] == .tenant(.tenantsWrite, .pathTenant))
            #expect(rules["POST /tenants/{tenant}/usage"] == .tenant(.tenantsUsageWrite, .pathTenant))
            #expect(rules["POST /tenants/{tenant}/members"] == .tenant(.membersManage, .pathTenant))
            #expect(rules["DELETE /tenants/{tenant}/api-keys/{id}"] == .tenant(.apiKeysManage, .pathTenant))
            #expect(rules["GET /tenants/{tenant}/audit"] == .tenant(.auditRead, .pathTenant))
        }
    }

    /// The permission table, restated: changing who holds what must be a deliberate edit here too.
    @Test func permissionTableIsTheReviewedOne() {
        let everyone: Set<Role> = [.viewer, .member, .admin, .owner]
        let users: Set<Role> = [.member, .admin, .owner]
        let managers: Set<Role> = [.admin, .owner]
        let expected: [Permission: Set<Role>] = [
            .tenantsRead: everyone, .membersRead: everyone, .usageRead: everyone, .aiRead: everyone, .dataRead: everyone,
            .usageWrite: users, .aiRun: users, .aiDocumentsWrite: users, .dataWrite: users, .dataRun: users,
            .membersManage: managers, .apiKeysManage: managers, .auditRead: managers, .billingRead: managers,
            .billingManage: managers, .tenantsUsageWrite: managers,
            .tenantsWrite: [.owner], .tenantsAdminister: [], .platformMetricsRead: [],
        ]
        #expect(Set(expected.keys) == Set(Permission.allCases))
        for permission in Permission.allCases { #expect(permission.roles == expected[permission], "\(permission)") }
    }

    @Test func permissionTableMatchesSpecRules() {
        // SPEC §4: a viewer cannot write, a member cannot manage members or billing, only owners
        // (and platform administrators) change plans.
        let writes: [Permission] = [.tenantsWrite, .tenantsUsageWrite, .membersManage, .apiKeysManage, .billingManage,
                                    .usageWrite, .aiRun, .aiDocumentsWrite, .dataWrite, .dataRun, .tenantsAdminister]
        for permission in writes { #expect(!permission.isGranted(to: .viewer), "\(permission)") }
        for permission in [Permission.membersManage, .billingManage, .billingRead, .apiKeysManage, .auditRead] {
            #expect(!permission.isGranted(to: .member), "\(permission)")
        }
        #expect(Permission.tenantsWrite.roles == [.owner])
        #expect(Permission.tenantsAdminister.roles.isEmpty)
        for permission in Permission.allCases {
            // Higher roles hold everything lower ones do.
            for role in permission.roles { #expect(Role.allCases.filter { $0 > role }.allSatisfy(permission.isGranted(to:))) }
        }
    }
}
