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

/// `POST /data/sources/{source}/records` and the listing routes, with real permissions and storage.
@Suite struct IngestRouteTests {
    @Test(arguments: IngestBackend.all)
    func pushOverHTTP(_ backend: IngestBackend) async throws {
        try await withIngestDatabase(backend) { database, _ in
            let harness = IngestRouteHarness()
            let ingestion = try await makeIngestion(database)
            ingestion.registerRoutes(on: harness.routes)
            let path = "/data/sources/knowledge_base/records"

            let json = try await harness.send(.post, path, body: #"[{"article_id": "h1", "title": "One"}, {"article_id": "h2", "title": 2}]"#,
                                              contentType: "application/json")
            #expect(json.status == 200, "\(json.text)")
            #expect(json.object["accepted"] as? Int == 1 && json.object["rejected"] as? Int == 1)
            let errors = json.object["errors"] as? [[String: Any]] ?? []
            #expect(errors.first?["line"] as? Int == 1 && (errors.first?["detail"] as? String)?.hasPrefix("title:") == true)

            let ndjson = try await harness.send(.post, path, body: "{\"article_id\": \"h3\", \"title\": \"Three\"}\n",
                                                contentType: "application/x-ndjson; charset=utf-8")
            #expect(ndjson.status == 200 && ndjson.object["accepted"] as? Int == 1)

            let csv = try await harness.send(.post, path, body: "article_id,title\nh4,Four\nh5,\n", contentType: "text/csv")
            #expect(csv.object["accepted"] as? Int == 1)
            #expect((csv.object["errors"] as? [[String: Any]])?.first?["line"] as? Int == 3)

            let strict = try await harness.send(.post, path + "?on_error=abort", body: "article_id,title\nh6,Six\nh7,\n", contentType: "text/csv")
            #expect(strict.status == 422)
            #expect(strict.headers[.contentType] == "application/problem+json")
            #expect(strict.object["rejected"] as? Int == 1 && strict.object["accepted"] as? Int == 0)
            #expect((strict.object["errors"] as? [[String: Any]])?.first?["line"] as? Int == 3)
            #expect(strict.object["detail"] is String)

            #expect(try await harness.send(.post, path, body: "x", contentType: "text/plain").status == 415)
            #expect(try await harness.send(.post, path, body: "[{", contentType: "application/json").status == 400)
            #expect(try await harness.send(.post, path + "?on_error=maybe", body: "[]", contentType: "application/json").status == 400)
            #expect(try await harness.send(.post, path, token: "viewer", body: "[]", contentType: "application/json").status == 403)
            #expect(try await harness.send(.post, "/data/sources/Bad%20Name/records", body: "[]", contentType: "application/json").status == 404)

            let stored = try await database.read(tenant: "*") { conn in
                try conn.query("SELECT tenant, article_id FROM data_raw_knowledge_base ORDER BY article_id").map {
                    "\(try $0["tenant", as: String.self])/\(try $0["article_id", as: String.self])"
                }
            }
            #expect(stored == ["\(harness.acme)/h1", "\(harness.acme)/h3", "\(harness.acme)/h4"])

            let sources = try await harness.send(.get, "/data/sources", token: "viewer")
            #expect(sources.status == 200)
            let kb = sources.array.first { $0["name"] as? String == "knowledge_base" }
            #expect(kb?["table"] as? String == "data_raw_knowledge_base")
            #expect(kb?["last_loaded_at"] is String)
            let rivalSources = try await harness.send(.get, "/data/sources", token: "rival")
            #expect(rivalSources.array.first { $0["name"] as? String == "knowledge_base" }?["last_loaded_at"] == nil)

            let rejected = try await harness.send(.get, "/data/sources/knowledge_base/errors", token: "viewer")
            #expect(Set(rejected.array.compactMap { $0["line"] as? Int }) == [1, 3])
            #expect(try await harness.send(.get, "/data/sources/knowledge_base/errors", token: "rival").array.isEmpty)
        }
    }
}
