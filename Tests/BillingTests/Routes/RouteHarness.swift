// Atlas — BillingTests
// SPDX-License-Identifier: Apache-2.0

@testable import Billing
import Core
import Foundation
import HTTP
import HTTPTypes
import Logging
import Storage

/// The principals of the route scenarios, by bearer token. The Auth module is a sibling that
/// BillingTests may not import, so the two Core protocols it implements are stood in for here by
/// fixed tables; the real pair is exercised by the `atlas` process tests.
struct ScenarioDirectory: Authenticator, TenantDirectory {
    /// token → (principal, role per tenant)
    let users: [String: (Principal, [TenantID: Role])]
    let tenants: [TenantID: Tenant]
    let defaultTenant = TenantID("demo")!

    func authenticate(_ credential: Credential) async throws -> Principal {
        let token: String
        switch credential {
        case .accessToken(let value), .apiKey(let value): token = value
        }
        guard let user = users[token] else { throw AtlasError.unauthorized("unknown token") }
        return user.0
    }

    func access(of principal: Principal, to tenant: TenantID) async throws -> TenantAccess? {
        guard let stored = tenants[tenant] else { return nil }
        if case .apiKey(_, let keyTenant, let role) = principal.subject {
            return keyTenant == tenant ? TenantAccess(tenant: stored, role: role) : nil
        }
        let role = users.values.first { $0.0 == principal }?.1[tenant]
        if role == nil && !principal.isPlatformAdmin { return nil }
        return TenantAccess(tenant: stored, role: role)
    }
}

/// A router with the Billing routes mounted over a real database.
struct RouteHarness {
    let router: Router
    let module: BillingModule
    let acme = TenantID("acme-" + UUID().uuidString.lowercased().prefix(6))!
    let globex = TenantID("globex-" + UUID().uuidString.lowercased().prefix(6))!

    init(database: any Database, configuration: BillingConfiguration = BillingConfiguration(stripeWebhookSecrets: ["whsec_routes"])) {
        func user(_ name: String, admin: Bool = false) -> Principal {
            Principal(subject: .user(UserID("usr_" + name)!), isPlatformAdmin: admin, displayName: name)
        }
        let acme = self.acme
        let globex = self.globex
        let now = Date()
        let directory = ScenarioDirectory(
            users: [
                "admin": (user("admin", admin: true), [:]),
                "owner": (user("owner"), [acme: .owner]),
                "member": (user("member"), [acme: .member, globex: .viewer]),
                "viewer": (user("viewer"), [acme: .viewer]),
                "key": (Principal(subject: .apiKey(id: "key1", tenant: globex, role: .member), displayName: "ci"), [:]),
            ],
            tenants: [acme: Tenant(id: acme, plan: .growth, status: .active, createdAt: now),
                      globex: Tenant(id: globex, plan: .scale, status: .active, createdAt: now)])
        router = Router()
        module = BillingModule(database: database, configuration: configuration,
                               logger: Logger(label: "routes", factory: { _ in SwiftLogNoOpLogHandler() }))
        module.registerRoutes(on: SecuredRoutes(router: router, resolver: TenantResolver(authenticator: directory, directory: directory)))
    }

    struct Reply {
        var status: Int
        var headers: HTTPFields
        var body: [UInt8]
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func send(_ method: HTTPRequest.Method, _ target: String, token: String? = nil, body: Any? = nil, raw: [UInt8]? = nil,
              headers extra: [String: String] = [:]) async throws -> Reply {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        var bytes: [UInt8] = raw ?? []
        if let body {
            bytes = Array(try JSONSerialization.data(withJSONObject: body))
            headers[.contentType] = "application/json"
        }
        let response = await router.respond(to: try Request(method: method, target: target, headers: headers, body: bytes))
        return Reply(status: Int(response.status.code), headers: response.headers, body: response.body.bytes ?? [])
    }
}
