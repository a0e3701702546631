// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import Auth
import Core
import Foundation
import HTTP
import HTTPTypes
import Logging
import Storage
import Testing

/// The backends every Auth scenario runs on, and a clock tests move by hand: the shared ones.
typealias Backend = TestBackend
typealias TestClock = AtlasTestSupport.TestClock

extension TestBackend {
    /// PostgreSQL alone, when it is listed: row-level security exists only there.
    static var postgresOnly: [TestBackend] { all.contains(.postgres) ? [.postgres] : [] }
}

/// A fresh database for one test (``IsolatedTestDatabase``: on PostgreSQL a new schema owned by a
/// new **non-superuser** role the application connects as, so the row-level-security policies are
/// in force in every Auth test and a query that forgets its scope fails here). Opened unmigrated,
/// with a larger pool than the shared harness: the scenarios migrate it themselves and some run
/// many requests at once.
struct TestDatabase: Sendable {
    let isolated: IsolatedTestDatabase

    static func make(_ backend: Backend) async throws -> TestDatabase {
        TestDatabase(isolated: try await IsolatedTestDatabase.make(backend, prefix: "auth"))
    }

    func open() async throws -> any Database {
        try await openDatabase(url: isolated.url, configuration: DatabaseConfiguration(poolSize: 8, poolTimeout: .seconds(20)))
    }

    func remove() async {
        await isolated.remove()
    }
}

/// A response as tests read it.
struct TestResponse: Sendable {
    let status: Int
    let headers: HTTPFields
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
    subscript(_ key: String) -> Any? { object[key] }
    var code: String? { object["code"] as? String }
}

/// The Auth module over a fresh, migrated, seeded database, answering through the real router
/// (middleware, routing, error mapping) without a socket; ``LiveServer`` adds one.
final class TestApp: Sendable {
    static let adminEmail = "admin@atlas"
    static let adminPassword = "atlas"

    let backend: Backend
    let testDatabase: TestDatabase
    let database: any Database
    let module: AuthModule
    let router: Router
    let clock: TestClock

    var service: IdentityService { module.service }

    static func configuration(_ overrides: [String: String] = [:]) throws -> AuthModule.Configuration {
        // A cheap scrypt cost keeps the suite fast; the algorithm and code path are production's.
        try AuthModule.Configuration(
            environment: EnvironmentReader(["ATLAS_AUTH_SCRYPT_LOG_N": "10"].merging(overrides) { $1 }))
    }

    private init(backend: Backend, testDatabase: TestDatabase, database: any Database, module: AuthModule, router: Router, clock: TestClock) {
        self.backend = backend
        self.testDatabase = testDatabase
        self.database = database
        self.module = module
        self.router = router
        self.clock = clock
    }

    static func make(_ backend: Backend, environment: [String: String] = [:], clock: TestClock = TestClock()) async throws -> TestApp {
        let testDatabase = try await TestDatabase.make(backend)
        do {
            let database = try await testDatabase.open()
            do {
                try await Migrator(database: database).migrate()
                let module = try await AuthModule(
                    database: database, configuration: try configuration(environment), logger: Logger(label: "atlas.auth.test"),
                    clock: { clock.now })
                try await module.bootstrap()
                let router = Router()
                router.use(RequestIDMiddleware())
                module.registerRoutes(on: router)
                return TestApp(backend: backend, testDatabase: testDatabase, database: database, module: module, router: router, clock: clock)
            } catch {
                await database.close()
                throw error
            }
        } catch {
            await testDatabase.remove()
            throw error
        }
    }

    func close() async {
        await database.close()
        await testDatabase.remove()
    }

    /// Sends a request through the router as if from `address`.
    func send(
        _ method: HTTPRequest.Method, _ target: String, token: String? = nil, json: Any? = nil, form: String? = nil,
        headers: [String: String] = [:], from address: String = "127.0.0.1"
    ) async throws -> TestResponse {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        var body: [UInt8] = []
        if let json {
            fields[.contentType] = "application/json"
            body = Array(try JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed]))
        } else if let form {
            fields[.contentType] = "application/x-www-form-urlencoded"
            body = Array(form.utf8)
        }
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        let request = try Request(method: method, target: target, headers: fields, body: body)
        let response = await router.respond(to: request, context: RequestContext(remoteAddress: SocketAddress(address)))
        return TestResponse(status: response.status.code, headers: response.headers, body: response.body.bytes ?? [])
    }

    /// Logs in and returns the access token; records an issue when the login fails.
    func login(_ email: String = adminEmail, _ password: String = adminPassword, from address: String = "127.0.0.1") async throws -> String {
        try await grant(email, password, from: address).access
    }

    func grant(_ email: String, _ password: String, from address: String = "127.0.0.1") async throws -> (access: String, refresh: String) {
        let response = try await send(.post, "/auth/token", json: ["username": email, "password": password], from: address)
        try #require(response.status == 200, "login of \(email) answered \(response.status): \(response.text)")
        return (try #require(response["access_token"] as? String), try #require(response["refresh_token"] as? String))
    }

    /// Creates a tenant as the platform administrator.
    func makeTenant(_ id: String, plan: String = "trial") async throws {
        let admin = try await login()
        let response = try await send(.post, "/tenants", token: admin, json: ["tenant": id, "plan": plan])
        try #require(response.status == 200, "creating \(id) answered \(response.status): \(response.text)")
    }

    /// A user with `role` in `tenant`, created through the members API; returns email, password and a token.
    func makeMember(_ tenant: String, role: Role, name: String? = nil) async throws -> Member {
        let admin = try await login()
        let email = "\(name ?? role.rawValue)-\(UUID().uuidString.prefix(8).lowercased())@\(tenant).test"
        let password = "pw-\(UUID().uuidString)"
        let response = try await send(
            .post, "/tenants/\(tenant)/members", token: admin, json: ["email": email, "role": role.rawValue, "password": password])
        try #require(response.status == 201, "adding \(email) answered \(response.status): \(response.text)")
        let id = try #require(response["user_id"] as? String)
        return Member(id: id, email: email, password: password, token: try await login(email, password), role: role)
    }

    /// An API key of `tenant` with `role`, created by the platform administrator.
    func makeKey(_ tenant: String, role: Role, name: String = "test key") async throws -> (id: String, key: String) {
        let admin = try await login()
        let response = try await send(.post, "/tenants/\(tenant)/api-keys", token: admin, json: ["name": name, "role": role.rawValue])
        try #require(response.status == 201, "creating a key answered \(response.status): \(response.text)")
        return (try #require(response["id"] as? String), try #require(response["key"] as? String))
    }
}

struct Member: Sendable {
    let id: String
    let email: String
    let password: String
    let token: String
    let role: Role
}

/// Runs `body` with a fresh, migrated database and nothing else, then removes it.
func withMigratedDatabase(_ backend: Backend, _ body: (any Database) async throws -> Void) async throws {
    try await migratedDatabase(backend, body)
}

private func migratedDatabase(_ backend: Backend, _ body: (any Database) async throws -> Void) async throws {
    let test = try await TestDatabase.make(backend)
    let database: any Database
    do {
        database = try await test.open()
    } catch {
        await test.remove()
        throw error
    }
    do {
        try await Migrator(database: database).migrate()
        try await body(database)
    } catch {
        await database.close()
        await test.remove()
        throw error
    }
    await database.close()
    await test.remove()
}

/// Runs `body` with a fresh app on `backend`, then closes it, also when `body` throws.
func withApp(
    _ backend: Backend, environment: [String: String] = [:], clock: TestClock = TestClock(),
    _ body: (TestApp) async throws -> Void
) async throws {
    try await runApp(backend, environment, clock, body)
}

private func runApp(
    _ backend: Backend, _ environment: [String: String], _ clock: TestClock, _ body: (TestApp) async throws -> Void
) async throws {
    let app = try await TestApp.make(backend, environment: environment, clock: clock)
    do {
        try await body(app)
    } catch {
        await app.close()
        throw error
    }
    await app.close()
}
