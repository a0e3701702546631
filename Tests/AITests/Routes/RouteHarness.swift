// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Core
import Foundation
import HTTP
import HTTPTypes
import Storage

/// The principals of the route scenarios, by bearer token.
typealias ScenarioDirectory = FixedDirectory

/// The retrieval routes mounted on a router over a real database, answered without a socket.
struct RouteHarness {
    let router: Router
    let module: AIModule
    let acme = uniqueTenant("acme")
    let globex = uniqueTenant("globex")

    init(database: any Database) {
        func user(_ name: String, tenant: TenantID) -> Principal {
            Principal(subject: .user(UserID("usr_" + name)!), defaultTenant: tenant, displayName: name)
        }
        let acme = self.acme
        let globex = self.globex
        let now = Date()
        let directory = ScenarioDirectory(
            users: [
                "writer": (user("writer", tenant: acme), [acme: .member]),
                "viewer": (user("viewer", tenant: acme), [acme: .viewer]),
                "rival": (user("rival", tenant: globex), [globex: .owner]),
            ],
            tenants: [acme: Tenant(id: acme, plan: .growth, status: .active, createdAt: now),
                      globex: Tenant(id: globex, plan: .scale, status: .active, createdAt: now)],
            defaultTenant: acme)
        router = Router()
        router.use(RequestIDMiddleware())
        module = AIModule.make(database)
        module.registerRoutes(on: SecuredRoutes(router: router, resolver: TenantResolver(authenticator: directory, directory: directory)))
    }

    struct Reply {
        var status: Int
        var headers: HTTPFields
        var body: [UInt8]
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
        var code: String? { object["code"] as? String }
        var contentType: String? { headers[.contentType] }
    }

    func send(_ method: HTTPRequest.Method, _ target: String, token: String? = "writer", json: Any? = nil, raw: String? = nil,
              contentType: String? = nil, headers extra: [String: String] = [:]) async throws -> Reply {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        var bytes: [UInt8] = []
        if let json {
            bytes = Array(try JSONSerialization.data(withJSONObject: json))
            headers[.contentType] = "application/json"
        }
        if let raw { bytes = Array(raw.utf8) }
        if let contentType { headers[.contentType] = contentType }
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        let response = await router.respond(to: try Request(method: method, target: target, headers: headers, body: bytes))
        return Reply(status: Int(response.status.code), headers: response.headers, body: response.body.bytes ?? [])
    }
}
