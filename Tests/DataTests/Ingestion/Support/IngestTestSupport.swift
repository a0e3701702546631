// Atlas — DataTests
// SPDX-License-Identifier: Apache-2.0

import Core
@testable import DataPlatform
import Foundation
import HTTP
import HTTPTypes
import Logging
import Storage
import Synchronization
import AtlasTestSupport
import Testing

/// The ingestion suites' names for the shared harness (Tests/Support).
typealias IngestBackend = TestBackend
typealias IngestTestDatabase = IsolatedTestDatabase

extension IsolatedTestDatabase {
    /// The test's own folder, for files it ingests or syncs from.
    var folder: URL { directory }
}

/// Runs `body` with a fresh migrated database, then closes and removes it.
func withIngestDatabase<R: Sendable>(_ backend: IngestBackend, _ body: (any Database, IngestTestDatabase) async throws -> R) async throws -> R {
    try await withIsolatedDatabase(backend, prefix: "ingest", body)
}

/// A clock the tests move by hand.
final class IngestClock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date = Date()) { current = Mutex(start) }
    var now: Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// The reference design's knowledge-base source (reference/data/transformations, `raw.knowledge_base`).
let knowledgeBaseYAML = """
    sources:
      knowledge_base:
        description: Knowledge articles
        primary_key: [article_id]
        columns:
          article_id: string
          tenant: string
          title: {type: string, required: true}
          body: string
          updated_at: timestamp
    """

func makeIngestion(_ database: any Database, clock: IngestClock = IngestClock(), yaml: String = knowledgeBaseYAML,
                   configuration: IngestionConfiguration = IngestionConfiguration()) async throws -> DataIngestion {
    let ingestion = DataIngestion(database: database, configuration: configuration, logger: IngestTestDatabase.quiet, now: { clock.now })
    try await ingestion.apply(try SourcesFile.parse(yaml))
    return ingestion
}

extension DataIngestion {
    func push(_ text: String, source: String = "knowledge_base", tenant: String = "demo", format: RecordFormat,
              mode: IngestErrorMode = .skip) async throws -> IngestSummary {
        try await ingest(source: source, tenant: TenantID(tenant)!, format: format, chunks: ByteChunks([Array(text.utf8)]), mode: mode)
    }
}

/// A tenant id no other test uses.
func ingestTenant(_ prefix: String = "t") -> TenantID { uniqueTenant(prefix) }

/// The principals of route tests by bearer token (DataTests may not import Auth).
typealias IngestDirectory = FixedDirectory

/// A router with the ingestion and feature routes over a real database, answered without a socket.
struct IngestRouteHarness {
    let router = Router()
    let acme: TenantID
    let globex: TenantID
    let resolver: TenantResolver

    init(acme: TenantID = ingestTenant("acme"), globex: TenantID = ingestTenant("globex")) {
        self.acme = acme
        self.globex = globex
        func user(_ name: String, tenant: TenantID, admin: Bool = false) -> Principal {
            Principal(subject: .user(UserID("usr_" + name)!), isPlatformAdmin: admin, defaultTenant: tenant, displayName: name)
        }
        let now = Date()
        let directory = IngestDirectory(
            users: [
                "writer": (user("writer", tenant: acme), [acme: .member]),
                "viewer": (user("viewer", tenant: acme), [acme: .viewer]),
                "rival": (user("rival", tenant: globex), [globex: .owner]),
                "admin": (user("admin", tenant: acme, admin: true), [:]),
            ],
            tenants: [acme: Tenant(id: acme, plan: .growth, status: .active, createdAt: now),
                      globex: Tenant(id: globex, plan: .scale, status: .active, createdAt: now)],
            defaultTenant: acme)
        router.use(RequestIDMiddleware())
        resolver = TenantResolver(authenticator: directory, directory: directory)
    }

    var routes: SecuredRoutes { SecuredRoutes(router: router, resolver: resolver) }

    struct Reply {
        var status: Int
        var headers: HTTPFields
        var body: [UInt8]
        var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
        var array: [[String: Any]] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [[String: Any]] ?? [] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func send(_ method: HTTPRequest.Method, _ target: String, token: String? = "writer", body: String? = nil,
              contentType: String? = nil, headers extra: [String: String] = [:]) async throws -> Reply {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let contentType { headers[.contentType] = contentType }
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        let response = await router.respond(to: try Request(method: method, target: target, headers: headers, body: Array((body ?? "").utf8)))
        return Reply(status: Int(response.status.code), headers: response.headers, body: response.body.bytes ?? [])
    }
}
