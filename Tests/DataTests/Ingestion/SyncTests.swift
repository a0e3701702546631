// Atlas — DataTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
import Core
@testable import DataPlatform
import Foundation
import HTTP
import HTTPTypes
import Logging
import Storage
import Synchronization
import Testing

/// Pull connectors against a real second SQLite database, a table of Atlas's own database and a
/// real HTTP server on 127.0.0.1: resumable incremental syncs that never load a row twice.
@Suite struct SyncTests {
    static let articlesYAML = """
        sources:
          articles:
            primary_key: [id]
            unknown_columns: ignore
            columns:
              id: int
              tenant: string
              title: {type: string, required: true}
              seq: int
              updated_at: timestamp
        """

    func count(_ database: any Database, _ table: String = "data_raw_articles", tenant: String? = nil) async throws -> Int {
        try await database.read(tenant: "*") { conn in
            if let tenant {
                return try conn.queryScalar("SELECT COUNT(*) FROM \(identifier: table) WHERE tenant = \(tenant)", as: Int.self) ?? 0
            }
            return try conn.queryScalar("SELECT COUNT(*) FROM \(identifier: table)", as: Int.self) ?? 0
        }
    }

    func insertLegacy(_ database: any Database, _ rows: [(Int, String, String, Int)]) async throws {
        try await database.transaction { conn in
            for (id, tenant, title, seq) in rows {
                try conn.execute("""
                    INSERT INTO legacy_articles (id, tenant, title, seq, updated_at, internal_note)
                    VALUES (\(id), \(tenant), \(title), \(seq), \("2024-05-0\(seq % 9 + 1)T00:00:00Z"), 'x')
                    """)
            }
        }
    }

    @Test(arguments: IngestBackend.all)
    func sqlSyncFromASecondDatabaseResumesWhereItStopped(_ backend: IngestBackend) async throws {
        try await withIngestDatabase(backend) { database, test in
            let legacyURL = "sqlite:///" + test.folder.appendingPathComponent("legacy.db").path
            let legacy = try await openDatabase(url: legacyURL, logger: IngestTestDatabase.quiet)
            try await legacy.transaction { conn in
                try conn.execute("CREATE TABLE legacy_articles (id BIGINT, tenant TEXT, title TEXT, seq BIGINT, updated_at TEXT, internal_note TEXT)")
            }
            // Ties on the cursor across the batch size of 2: seq 2 appears three times.
            try await insertLegacy(legacy, [(1, "demo", "One", 1), (2, "demo", "Two", 2), (3, "acme", "Three", 2), (4, "demo", "Four", 2), (5, "demo", "Five", 3)])
            let clock = IngestClock()
            let ingestion = try await makeIngestion(database, clock: clock, yaml: Self.articlesYAML + """

                connectors:
                  legacy:
                    source: articles
                    tenant_column: tenant
                    sql: {database_url: "\(legacyURL)", table: legacy_articles, cursor: seq, batch_size: 2}
                """)
            let first = try await ingestion.sync(connector: "legacy")
            #expect(first.rows == 5 && first.rejected == 0)
            #expect(first.cursor == "i:3")
            #expect(try await count(database) == 5)
            #expect(try await count(database, tenant: "acme") == 1)

            let again = try await ingestion.sync(connector: "legacy")
            #expect(again.rows == 0 && again.pages == 0)

            try await insertLegacy(legacy, [(6, "demo", "Six", 4), (7, "demo", "", 5), (8, "demo", "Eight", 5)])
            try await legacy.transaction { conn in try conn.execute("UPDATE legacy_articles SET title = NULL WHERE id = 7") }
            clock.advance(by: 60)
            let second = try await ingestion.sync(connector: "legacy")
            #expect(second.rows == 2 && second.rejected == 1, "only the new rows, the one without a title refused")
            #expect(try await count(database) == 7)
            let state = try #require(try await ingestion.syncState("legacy"))
            #expect(state.status == "succeeded" && state.runs == 3 && state.totalRows == 7 && state.totalRejected == 1)
            #expect(state.cursor == "i:5" && state.lastRows == 2 && state.lastError == nil)
            await legacy.close()
        }
    }

    @Test(arguments: IngestBackend.all)
    func sqlSyncFromAtlasOwnDatabaseAndFailureState(_ backend: IngestBackend) async throws {
        try await withIngestDatabase(backend) { database, _ in
            try await database.transaction { conn in
                try conn.execute("CREATE TABLE legacy_articles (id BIGINT, tenant TEXT, title TEXT, seq BIGINT, updated_at TEXT, internal_note TEXT)")
            }
            try await insertLegacy(database, [(1, "demo", "One", 10), (2, "demo", "Two", 20)])
            let ingestion = try await makeIngestion(database, yaml: Self.articlesYAML + """

                connectors:
                  own:
                    source: articles
                    tenant: demo
                    sql: {table: legacy_articles, cursor: seq, columns: [id, title, seq]}
                  broken:
                    source: articles
                    tenant: demo
                    sql: {table: no_such_table, cursor: seq}
                """)
            #expect(try await ingestion.sync(connector: "own").rows == 2)
            try await insertLegacy(database, [(3, "demo", "Three", 30)])
            #expect(try await ingestion.sync(connector: "own").rows == 1)
            #expect(try await count(database, tenant: "demo") == 3)
            await #expect(throws: SyncError.self) { try await ingestion.sync(connector: "broken") }
            let state = try #require(try await ingestion.syncState("broken"))
            #expect(state.status == "failed" && state.lastError?.contains("no_such_table") == true)
            await #expect(throws: SyncError.self) { try await ingestion.sync(connector: "missing") }
        }
    }

    /// A paged JSON API over the project's own HTTP server.
    final class Feed: Sendable {
        struct Item: Sendable { var id: Int; var title: String; var updatedAt: String }
        let items = Mutex<[Item]>([])
        let failNext = Mutex<Int>(0)
        let seen = Mutex<[String]>([])

        var router: Router {
            let router = Router()
            router.get("/v1/articles") { [self] request, _ in
                seen.withLock { $0.append(request.target) }
                if failNext.withLock({ value -> Bool in
                    defer { if value > 0 { value -= 1 } }
                    return value > 0
                }) {
                    return Response.json(rawJSON: #"{"error":"boom"}"#, status: .internalServerError)
                }
                let page = Int(request.query["page"] ?? "1") ?? 1
                let size = Int(request.query["per_page"] ?? "2") ?? 2
                let since = request.query["updated_since"]
                let all = items.withLock { $0 }.filter { since == nil || $0.updatedAt > since! }
                let slice = all.dropFirst((page - 1) * size).prefix(size)
                let body: [String: Any] = ["data": ["items": slice.map { ["id": $0.id, "title": $0.title, "updated_at": $0.updatedAt, "tenant": "demo"] as [String: Any] }]]
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .bytes(Array(try JSONSerialization.data(withJSONObject: body))))
            }
            router.get("/v1/stream") { [self] request, _ in
                seen.withLock { $0.append(request.target) }
                let all = items.withLock { $0 }
                let start = Int(request.query["after"] ?? "0") ?? 0
                let slice = Array(all.dropFirst(start).prefix(3))
                var body: [String: Any] = ["records": slice.map { ["id": $0.id, "title": $0.title, "updated_at": $0.updatedAt] as [String: Any] }]
                if start + slice.count < all.count { body["next"] = String(start + slice.count) }
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .bytes(Array(try JSONSerialization.data(withJSONObject: body))))
            }
            return router
        }

        func add(_ ids: ClosedRange<Int>) {
            items.withLock { list in
                for id in ids { list.append(Item(id: id, title: "Article \(id)", updatedAt: String(format: "2024-05-01T00:%02d:00Z", id))) }
            }
        }
    }

    func withFeed(_ body: (Feed, Int) async throws -> Void) async throws {
        let feed = Feed()
        try await withLocalServer(feed.router) { port in try await body(feed, port) }
    }

    @Test(arguments: IngestBackend.all)
    func pagedHTTPPullIsIncrementalAndResumable(_ backend: IngestBackend) async throws {
        try await withIngestDatabase(backend) { database, _ in
            try await withFeed { feed, port in
                feed.add(1...5)
                let ingestion = try await makeIngestion(database, yaml: Self.articlesYAML + """

                    connectors:
                      feed:
                        source: articles
                        tenant: demo
                        http:
                          url: http://127.0.0.1:\(port)/v1/articles
                          records: data.items
                          pagination: {type: page, param: page, start: 1, size_param: per_page, size: 2}
                          cursor_field: updated_at
                          cursor_param: updated_since
                    """)
                let first = try await ingestion.sync(connector: "feed")
                #expect(first.rows == 5 && first.pages == 3)
                #expect(first.cursor == "t:2024-05-01T00:05:00Z")
                #expect(try await count(database) == 5)

                feed.add(6...8)
                feed.failNext.withLock { $0 = 1 }
                await #expect(throws: SyncError.self) { try await ingestion.sync(connector: "feed") }
                #expect(try await ingestion.syncState("feed")?.status == "failed")
                #expect(try await ingestion.syncState("feed")?.cursor == "t:2024-05-01T00:05:00Z")

                feed.seen.withLock { $0.removeAll() }
                let second = try await ingestion.sync(connector: "feed")
                #expect(second.rows == 3, "only the three new articles")
                #expect(feed.seen.withLock { $0 }.allSatisfy { $0.contains("updated_since=2024-05-01T00:05:00Z") })
                #expect(try await count(database) == 8)
                let third = try await ingestion.sync(connector: "feed")
                #expect(third.rows == 0)
                #expect(try await count(database) == 8)
            }
        }
    }

    @Test(arguments: IngestBackend.all)
    func cursorPaginatedHTTPPullWithoutServerFiltering(_ backend: IngestBackend) async throws {
        try await withIngestDatabase(backend) { database, _ in
            try await withFeed { feed, port in
                feed.add(1...7)
                let ingestion = try await makeIngestion(database, yaml: Self.articlesYAML + """

                    connectors:
                      stream:
                        source: articles
                        tenant: acme
                        http:
                          url: http://127.0.0.1:\(port)/v1/stream
                          records: records
                          pagination: {type: cursor, param: after, next: next}
                          cursor_field: updated_at
                    """)
                let first = try await ingestion.sync(connector: "stream")
                #expect(first.rows == 7 && first.pages == 3)
                feed.add(8...9)
                // The server ignores the cursor and sends everything again; the stored cursor skips the old rows.
                let second = try await ingestion.sync(connector: "stream")
                #expect(second.rows == 2)
                #expect(try await count(database, tenant: "acme") == 9)
            }
        }
    }

    @Test func schedulerRunsDueConnectors() async throws {
        try await withIngestDatabase(.sqlite) { database, _ in
            try await database.transaction { conn in
                try conn.execute("CREATE TABLE legacy_articles (id BIGINT, tenant TEXT, title TEXT, seq BIGINT, updated_at TEXT, internal_note TEXT)")
            }
            try await insertLegacy(database, [(1, "demo", "One", 1)])
            // Half a second before a minute boundary, so the first run is due at once.
            let clock = IngestClock(Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.down) * 60 + 59.5))
            let ingestion = try await makeIngestion(database, clock: clock, yaml: Self.articlesYAML + """

                connectors:
                  every_minute:
                    source: articles
                    tenant: demo
                    schedule: "* * * * *"
                    sql: {table: legacy_articles, cursor: seq}
                """)
            #expect(ingestion.services.count == 1)
            let scheduler = try #require(ingestion.services.first as? SyncScheduler)
            let task = Task { try await scheduler.run() }
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, try await ingestion.syncState("every_minute")?.status != "succeeded" {
                try await Task.sleep(for: .milliseconds(500))
            }
            task.cancel()
            #expect(try await ingestion.syncState("every_minute")?.totalRows == 1)
            let off = try await makeIngestion(database, configuration: IngestionConfiguration(syncEnabled: false))
            #expect(off.services.isEmpty)
        }
    }
}
