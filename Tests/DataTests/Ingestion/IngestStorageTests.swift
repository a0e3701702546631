// Atlas — DataTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
import Core
@testable import DataPlatform
import Foundation
import Storage
import Testing

/// Pushes into raw tables on both backends: schema checks, rejected lines, strict mode, idempotent
/// keys, inference and tenant isolation.
@Suite struct IngestStorageTests {
    func rows(_ database: any Database, tenant: String = "*", _ sql: SQLQuery = "SELECT * FROM data_raw_knowledge_base ORDER BY article_id") async throws -> [Row] {
        try await database.read(tenant: tenant) { conn in try conn.query(sql) }
    }

    @Test(arguments: IngestBackend.all)
    func pushesEveryFormatIntoTheRawTable(_ backend: IngestBackend) async throws {
        try await withIngestDatabase(backend) { database, _ in
            let ingestion = try await makeIngestion(database)
            let json = try await ingestion.push("""
                [{"article_id": "a1", "tenant": "demo", "title": "Refunds", "body": "30 days", "updated_at": "2024-05-01T00:00:00Z"},
                 {"article_id": "a2", "title": "Shipping", "updated_at": "2024-05-02T10:00:00+02:00"}]
                """, format: .jsonArray)
            #expect(json.accepted == 2 && json.rejected == 0 && json.batches.count == 1)
            let ndjson = try await ingestion.push("""
                {"article_id": "a3", "title": "Returns", "updated_at": "2024-05-03"}
                {"article_id": "a4", "title": "Warranty", "body": null}
                """, format: .ndjson)
            #expect(ndjson.accepted == 2)
            let csv = try await ingestion.push("article_id,title,body,updated_at\na5,\"Invoices, and taxes\",\"line\nbreak\",2024-05-05T12:00:00.250Z\n",
                                               format: .csv)
            #expect(csv.accepted == 1)
            let stored = try await rows(database)
            #expect(stored.map { try! $0["article_id", as: String.self] } == ["a1", "a2", "a3", "a4", "a5"])
            #expect(stored.allSatisfy { (try? $0["tenant", as: String.self]) == "demo" })
            #expect(try stored[1]["updated_at", as: String.self] == "2024-05-02T08:00:00Z")
            #expect(try stored[2]["updated_at", as: String.self] == "2024-05-03T00:00:00Z")
            #expect(try stored[3]["body", as: String?.self] == nil)
            #expect(try stored[4]["title", as: String.self] == "Invoices, and taxes")
            #expect(try stored[4]["body", as: String.self] == "line\nbreak")
            #expect(try stored[4]["updated_at", as: String.self] == "2024-05-05T12:00:00.250Z")
            #expect(stored[0]["_loaded_at"] != nil)
            #expect(stored[0].columnNames == ["tenant", "article_id", "title", "body", "updated_at", "_loaded_at"])
        }
    }

    @Test(arguments: IngestBackend.all)
    func badCSVRowIsRejectedWithItsLine(_ backend: IngestBackend) async throws {
        try await withIngestDatabase(backend) { database, _ in
            let ingestion = try await makeIngestion(database)
            let summary = try await ingestion.push("""
                article_id,title,updated_at
                b1,Good,2024-05-01T00:00:00Z
                b2,,2024-05-01T00:00:00Z
                b3,Bad date,not-a-date
                b4,"Multi
                line",2024-05-01
                b5,Too,many,fields
                b6,Fine,2024-05-06
                """, format: .csv)
            #expect(summary.accepted == 3)
            #expect(summary.rejected == 3)
            #expect(summary.errors.map(\.line) == [3, 4, 7])
            #expect(summary.errors[0].detail == "title: required, but missing or null")
            #expect(summary.errors[1].detail.hasPrefix("updated_at: expected an ISO-8601 timestamp"))
            #expect(summary.errors[2].detail == "expected 3 fields as in the header, found 4")
            let stored = try await ingestion.rejectedRecords(source: "knowledge_base", tenant: TenantID("demo")!)
            #expect(Set(stored.map(\.line)) == [3, 4, 7])
            #expect(stored.allSatisfy { $0.batch == summary.batches[0] })
            #expect(try await rows(database).count == 3)
        }
    }

    @Test(arguments: IngestBackend.all)
    func abortModeLeavesNothingBehind(_ backend: IngestBackend) async throws {
        try await withIngestDatabase(backend) { database, _ in
            let ingestion = try await makeIngestion(database)
            let body = (1...500).map { #"{"article_id": "c\#($0)", "title": "T\#($0)"}"# }.joined(separator: "\n") + "\n{\"article_id\": \"c501\", \"title\": 5}\n"
            await #expect(throws: IngestError.self) { try await ingestion.push(body, format: .ndjson, mode: .abort) }
            do {
                _ = try await ingestion.push(body, format: .ndjson, mode: .abort)
            } catch let error as IngestError {
                #expect(error.status == 422)
                #expect(error.summary?.errors.first == RejectedRecord(line: 501, detail: "title: expected a string, got integer"))
            }
            #expect(try await rows(database).isEmpty)
            let errors = try await database.read(tenant: "*") { conn in try conn.queryScalar("SELECT COUNT(*) FROM data_ingest_errors", as: Int.self) }
            #expect(errors == 0)
            // A malformed body is refused whole, also in skip mode.
            await #expect(throws: IngestError.self) { try await ingestion.push("[{\"article_id\": \"d1\", \"title\": \"x\"}", format: .jsonArray) }
            #expect(try await rows(database).isEmpty)
        }
    }

    @Test(arguments: IngestBackend.all)
    func primaryKeyMakesRepushIdempotent(_ backend: IngestBackend) async throws {
        try await withIngestDatabase(backend) { database, _ in
            let ingestion = try await makeIngestion(database)
            let body = #"[{"article_id": "k1", "title": "One"}, {"article_id": "k2", "title": "Two"}, {"article_id": "k1", "title": "One v2"}]"#
            _ = try await ingestion.push(body, format: .jsonArray)
            _ = try await ingestion.push(body, format: .jsonArray)
            _ = try await ingestion.push(#"[{"article_id": "k1", "title": "One v2"}]"#, tenant: "acme", format: .jsonArray)
            let stored = try await rows(database, "SELECT tenant, article_id, title FROM data_raw_knowledge_base ORDER BY tenant, article_id")
            #expect(stored.map { "\(try! $0["tenant", as: String.self])/\(try! $0["article_id", as: String.self])/\(try! $0["title", as: String.self])" }
                    == ["acme/k1/One v2", "demo/k1/One v2", "demo/k2/Two"])
        }
    }

    @Test(arguments: IngestBackend.all)
    func tenantsAreIsolated(_ backend: IngestBackend) async throws {
        try await withIngestDatabase(backend) { database, _ in
            let ingestion = try await makeIngestion(database)
            _ = try await ingestion.push(#"[{"article_id": "t1", "title": "Demo only"}]"#, tenant: "demo", format: .jsonArray)
            // A record may not claim another tenant.
            let claimed = try await ingestion.push(#"[{"article_id": "t2", "title": "Sneaky", "tenant": "demo"}]"#, tenant: "acme", format: .jsonArray)
            #expect(claimed.accepted == 0 && claimed.errors.first?.detail.hasPrefix("tenant:") == true)
            let freshness = try await ingestion.sourceFreshness(tenant: TenantID("demo")!)
            #expect(freshness["knowledge_base"] != nil)
            #expect(try await ingestion.sourceFreshness(tenant: TenantID("acme")!)["knowledge_base"] == nil)
            #expect(try await ingestion.rejectedRecords(source: "knowledge_base", tenant: TenantID("demo")!).isEmpty)
            if backend == .postgres {
                // Row-level security: a transaction for acme sees none of demo's rows, even unfiltered.
                #expect(try await rows(database, tenant: "acme", "SELECT * FROM data_raw_knowledge_base").isEmpty)
                #expect(try await rows(database, tenant: "demo", "SELECT * FROM data_raw_knowledge_base").count == 1)
                await #expect(throws: StorageError.self) {
                    try await database.transaction(tenant: "acme") { conn in
                        try conn.execute("INSERT INTO data_raw_knowledge_base (tenant, article_id, title, _loaded_at) VALUES ('demo', 'x', 'y', 0)")
                    }
                }
            }
        }
    }

    @Test(arguments: IngestBackend.all)
    func undeclaredSourceIsInferredThenEnforced(_ backend: IngestBackend) async throws {
        try await withIngestDatabase(backend) { database, _ in
            let ingestion = try await makeIngestion(database)
            let first = try await ingestion.push("""
                {"id": 1, "score": 2, "ok": true, "seen": "2024-05-01T00:00:00Z", "tags": ["a"], "name": "x"}
                {"id": 2, "score": 2.5, "ok": false, "seen": "2024-05-02", "tags": {"b": 1}, "name": null}
                """, source: "events", format: .ndjson)
            #expect(first.inferred && first.accepted == 2)
            let source = try #require(try await ingestion.sources().first { $0.name == "events" })
            #expect(source.origin == .inferred)
            #expect(source.columns.map { "\($0.name):\($0.type.rawValue)" } == ["id:int", "score:float", "ok:bool", "seen:timestamp", "tags:json", "name:string"])
            let second = try await ingestion.push(#"{"id": "three"}"# + "\n" + #"{"id": 4, "extra": 1}"#, source: "events", format: .ndjson)
            #expect(!second.inferred && second.accepted == 0 && second.rejected == 2)
            let csv = try await ingestion.push("n,when,label\n1,2024-01-01,a\n2.5,2024-01-02,b\n", source: "csv_things", format: .csv)
            #expect(csv.accepted == 2)
            let csvSource = try #require(try await ingestion.sources().first { $0.name == "csv_things" })
            #expect(csvSource.columns.map(\.type) == [.float, .timestamp, .string])
            let off = try await makeIngestion(database, configuration: IngestionConfiguration(inferSources: false))
            await #expect(throws: IngestError.self) { try await off.push("{\"a\":1}", source: "nothing_here", format: .ndjson) }
        }
    }

    @Test(arguments: IngestBackend.all)
    func fileIngestCommitsInBatches(_ backend: IngestBackend) async throws {
        try await withIngestDatabase(backend) { database, test in
            let ingestion = try await makeIngestion(database, configuration: IngestionConfiguration(fileBatchRows: 1000))
            let path = test.folder.appendingPathComponent("articles.ndjson").path
            var text = ""
            for index in 1...2500 { text += #"{"article_id": "f\#(index)", "title": "Title \#(index)"}"# + "\n" }
            text += "{broken\n"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let summary = try await ingestion.ingestFile(path: path, source: "knowledge_base", tenant: TenantID("demo")!)
            #expect(summary.accepted == 2500 && summary.rejected == 1 && summary.errors.first?.line == 2501)
            #expect(summary.batches.count == 3)
            #expect(try await rows(database).count == 2500)
            await #expect(throws: IngestError.self) {
                try await ingestion.ingestFile(path: path + ".missing", source: "knowledge_base", tenant: TenantID("demo")!)
            }
        }
    }

    @Test func sourcesFileErrorsNameTheEntry() throws {
        #expect(throws: SourceConfigurationError.self) { try SourcesFile.parse("sources:\n  Bad-Name:\n    columns: {a: string}\n") }
        #expect(throws: SourceConfigurationError.self) { try SourcesFile.parse("sources:\n  s:\n    columns: {a: decimal}\n") }
        #expect(throws: SourceConfigurationError.self) { try SourcesFile.parse("sources:\n  s:\n    columns: {a: string}\n    primary_key: b\n") }
        #expect(throws: SourceConfigurationError.self) {
            try SourcesFile.parse("connectors:\n  c:\n    source: s\n    tenant: demo\n    schedule: '61 * * * *'\n    sql: {table: t, cursor: id}\n")
        }
        do {
            _ = try SourcesFile.parse("sources:\n  s:\n    colums: {a: string}\n")
            Issue.record("an unknown key must be refused")
        } catch let error as SourceConfigurationError {
            #expect(error.description.contains("source s") && error.description.contains("colums"))
        }
        let file = try SourcesFile.parse("""
            connectors:
              pull:
                source: knowledge_base
                tenant_column: tenant
                schedule: "*/5 * * * *"
                http:
                  url: http://127.0.0.1:1/items?x=1
                  records: data.items
                  headers: {Authorization: "Bearer ${INGEST_TEST_TOKEN}"}
                  pagination: {type: cursor, param: after, next: meta.next}
            """, environment: ["INGEST_TEST_TOKEN": "s3cret"])
        guard case .http(let pull) = file.connectors[0].kind else { Issue.record("expected an http connector"); return }
        #expect(pull.headers["Authorization"] == "Bearer s3cret")
        #expect(pull.records == ["data", "items"])
        #expect(pull.pagination == .cursor(param: "after", next: ["meta", "next"]))
        #expect(file.connectors[0].tenant == .column("tenant"))
    }
}
