// Atlas — DataTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
import Core
@testable import DataPlatform
import Foundation
import HTTP
import HTTPTypes
import Storage
import Testing

/// Fixed principals by bearer token, standing in for the Auth module (a sibling DataTests may not import).
private struct ModelsScenarioDirectory: Authenticator, TenantDirectory {
    let users: [String: (Principal, [TenantID: Role])]
    let tenants: [TenantID: Tenant]
    let defaultTenant: TenantID

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
        let role = users.values.first { $0.0 == principal }?.1[tenant]
        if role == nil && !principal.isPlatformAdmin { return nil }
        return TenantAccess(tenant: stored, role: role)
    }
}

/// The model and catalog routes over a real database, answered without a socket.
private struct ModelsRouteHarness {
    let router = Router()

    init(database: any Database, project: URL) {
        let demo = TenantID("demo")!
        let acme = TenantID("acme")!
        func user(_ name: String, tenant: TenantID) -> Principal {
            Principal(subject: .user(UserID("usr_" + name)!), defaultTenant: tenant, displayName: name)
        }
        let now = Date()
        let directory = ModelsScenarioDirectory(
            users: ["member": (user("member", tenant: demo), [demo: .member]),
                    "viewer": (user("viewer", tenant: demo), [demo: .viewer]),
                    "rival": (user("rival", tenant: acme), [acme: .owner])],
            tenants: [demo: Tenant(id: demo, plan: .scale, status: .active, createdAt: now),
                      acme: Tenant(id: acme, plan: .growth, status: .active, createdAt: now)],
            defaultTenant: demo)
        router.use(RequestIDMiddleware())
        let module = DataModule(database: database, configuration: DataModule.Configuration(projectDirectory: project),
                                logger: modelsQuietLogger)
        module.registerRoutes(on: SecuredRoutes(router: router, resolver: TenantResolver(authenticator: directory, directory: directory)))
    }

    func send(_ method: HTTPRequest.Method, _ target: String, token: String = "member", json: Any? = nil) async throws
        -> (status: Int, body: Any?) {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(token)"
        var bytes: [UInt8] = []
        if let json {
            bytes = Array(try JSONSerialization.data(withJSONObject: json))
            headers[.contentType] = "application/json"
        }
        let response = await router.respond(to: try Request(method: method, target: target, headers: headers, body: bytes))
        let body = response.body.bytes ?? []
        return (Int(response.status.code), try? JSONSerialization.jsonObject(with: Foundation.Data(body)))
    }
}

@Suite("Model and catalog routes")
struct DataModelRouteTests {
    @Test(arguments: ModelsBackend.all)
    func runListAndCatalogOverHTTP(_ backend: ModelsBackend) async throws {
        try await withModelsDatabase(backend) { database in
            try await seedKnowledgeBase(database, [("demo", "kb-1", "knowledge_base")])
            let harness = ModelsRouteHarness(database: database, project: ModelRunTests.referenceProject)

            #expect(try await harness.send(.post, "/data/runs", token: "viewer", json: ["kind": "run"]).status == 403)
            #expect(try await harness.send(.post, "/data/runs", json: ["kind": "deploy"]).status == 422)

            let started = try await harness.send(.post, "/data/runs", json: ["kind": "run", "select": "stg_knowledge_base+"])
            #expect(started.status == 201)
            let run = try #require(started.body as? [String: Any])
            #expect(run["status"] as? String == "success")
            let results = try #require(run["results"] as? [[String: Any]])
            #expect(results.map { $0["name"] as? String } == ["stg_knowledge_base", "fct_ai_context"])
            #expect(results.last?["rows"] as? Int == 1)
            #expect(results.last?["duration_ms"] is Double)

            let id = try #require(run["id"] as? String)
            let fetched = try await harness.send(.get, "/data/runs/\(id)", token: "viewer")
            #expect(fetched.status == 200)
            #expect((fetched.body as? [String: Any])?["id"] as? String == id)
            #expect(try await harness.send(.get, "/data/runs/run_nope").status == 404)

            let tests = try await harness.send(.post, "/data/runs", json: ["kind": "test"])
            #expect((tests.body as? [String: Any])?["summary"] as? [String: Int] == ["pass": 5])

            let listed = try await harness.send(.get, "/data/models", token: "viewer")
            let models = try #require((listed.body as? [String: Any])?["models"] as? [[String: Any]])
            #expect(models.map { $0["name"] as? String } == ["stg_knowledge_base", "fct_ai_context"])
            #expect(models.allSatisfy { $0["status"] as? String == "success" && $0["freshness"] is String })
            #expect(models.last?["materialization"] as? String == "table")

            let catalog = try await harness.send(.get, "/tenants/demo/catalog", token: "viewer")
            #expect(catalog.status == 200)
            let entries = try #require(catalog.body as? [[String: Any]])
            #expect(entries.map { $0["name"] as? String } == ["stg_knowledge_base", "fct_ai_context", "raw.knowledge_base"])
            let freshness = try #require(entries.first?["freshness"] as? String)
            #expect(ISO8601DateFormatter().date(from: freshness) != nil)
            #expect(Set(entries.first?.keys.map { $0 } ?? []) == ["name", "description", "freshness"])

            // Another tenant's catalog is not revealed; its own holds nothing of demo's.
            #expect(try await harness.send(.get, "/tenants/demo/catalog", token: "rival").status == 404)
            let rival = try await harness.send(.get, "/tenants/acme/catalog", token: "rival")
            #expect((rival.body as? [Any])?.isEmpty == true)
        }
    }

    @Test func aBrokenProjectIsA422NamingFileAndLine() async throws {
        let folder = try ModelsProjectFolder(files: ["models/m.sql": "select 1\n{% macro nope() %}{% endmacro %}"])
        defer { folder.remove() }
        try await withModelsDatabase(.sqlite) { database in
            let harness = ModelsRouteHarness(database: database, project: folder.url)
            let reply = try await harness.send(.post, "/data/runs", json: [:])
            #expect(reply.status == 422)
            let detail = (reply.body as? [String: Any])?["detail"] as? String
            #expect(detail?.hasPrefix("models/m.sql:2: unsupported tag 'macro'") == true, "\(detail ?? "")")
        }
    }
}
