// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Core
import Foundation
import HTTP
import HTTPTypes
import Storage
import Testing

/// `/ai/documents` and `/ai/search` through the real router, middleware and error mapping.
@Suite struct RetrievalRouteTests {
    nonisolated(unsafe) static let policy: [String: Any] = [
        "title": "Refund policy",
        "text": "Refunds are issued within five business days.\n\nShipping costs are not refunded.",
        "metadata": ["team": "support", "user_id": 42, "tags": ["billing", "faq"]],
    ]

    @Test(arguments: Backend.all)
    func ingestsReadsListsAndDeletesDocuments(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let app = RouteHarness(database: database)
            let created = try await app.send(.post, "/ai/documents", json: Self.policy)
            #expect(created.status == 201, "\(created.text)")
            let id = try #require(created.object["id"] as? String)
            #expect(created.object["status"] as? String == "created")
            #expect(created.object["chunk_count"] as? Int == 1)
            #expect(created.headers[.location] == "/ai/documents/\(id)")
            let metadata = try #require(created.object["metadata"] as? [String: Any])
            #expect(metadata["user_id"] as? Int == 42, "metadata keys pass through unconverted")

            let repeated = try await app.send(.post, "/ai/documents", json: Self.policy)
            #expect(repeated.status == 200)
            #expect(repeated.object["status"] as? String == "unchanged")

            let read = try await app.send(.get, "/ai/documents/\(id)", token: "viewer")
            #expect(read.status == 200)
            #expect(read.object["text"] as? String == Self.policy["text"] as? String)
            #expect((read.object["chunks"] as? [[String: Any]])?.first?["id"] as? String == "\(id):0")

            let batch = try await app.send(.post, "/ai/documents", json: ["documents": [
                ["id": "kitchen", "title": "Kitchen", "text": "The fridge is emptied on Fridays."],
                ["title": "Parking", "text": "The car park closes at midnight.", "metadata": ["floor": -1]],
            ]])
            #expect(batch.status == 201, "\(batch.text)")
            #expect(batch.object["count"] as? Int == 2)
            #expect(batch.object["created"] as? Int == 2)

            let plain = try await app.send(.post, "/ai/documents?title=Visitors&id=visitors", raw: "Visitors sign in at reception.",
                                           contentType: "text/plain; charset=utf-8",
                                           headers: ["X-Document-Metadata": #"{"source":"wiki"}"#])
            #expect(plain.status == 201, "\(plain.text)")
            #expect(plain.object["id"] as? String == "visitors")
            let headerTitle = try await app.send(.post, "/ai/documents", raw: "Lights go off at ten.", contentType: "text/plain",
                                                 headers: ["X-Document-Title": "Lights"])
            #expect(headerTitle.status == 201)
            #expect(headerTitle.object["title"] as? String == "Lights")

            let first = try await app.send(.get, "/ai/documents?limit=3", token: "viewer")
            #expect(first.status == 200)
            #expect(first.object["total"] as? Int == 5)
            let firstPage = try #require(first.object["documents"] as? [[String: Any]])
            #expect(firstPage.count == 3)
            let cursor = try #require(first.object["next_cursor"] as? String)
            let second = try await app.send(.get, "/ai/documents?limit=3&cursor=\(cursor)", token: "viewer")
            let secondPage = try #require(second.object["documents"] as? [[String: Any]])
            #expect(secondPage.count == 2)
            #expect(second.object["next_cursor"] is NSNull)
            let ids = (firstPage + secondPage).compactMap { $0["id"] as? String }
            #expect(Set(ids).count == 5)

            #expect(try await app.send(.delete, "/ai/documents/kitchen").status == 204)
            let gone = try await app.send(.get, "/ai/documents/kitchen")
            #expect(gone.status == 404)
            #expect(gone.code == "document_not_found")
            #expect(try await app.send(.delete, "/ai/documents/kitchen").status == 404)
        }
    }

    @Test(arguments: Backend.all)
    func searchesWithScoresHighlightsAndModes(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let app = RouteHarness(database: database)
            _ = try await app.send(.post, "/ai/documents", json: Self.policy)
            _ = try await app.send(.post, "/ai/documents", json: ["title": "Kitchen", "text": "The fridge is emptied on Fridays."])
            let response = try await app.send(.post, "/ai/search", token: "viewer", json: ["query": "when do I get my refund?", "top_k": 2])
            #expect(response.status == 200, "\(response.text)")
            #expect(response.object["mode"] as? String == "hybrid")
            let results = try #require(response.object["results"] as? [[String: Any]])
            #expect(results.count == 2)
            let top = try #require(results.first)
            #expect(top["title"] as? String == "Refund policy")
            #expect(top["document_id"] is String && top["chunk_id"] is String)
            #expect((top["score"] as? Double).map { $0 > 0 } == true)
            #expect(top["vector_score"] is Double)
            #expect(((top["highlights"] as? [String])?.first ?? "").contains("<mark>Refunds</mark>"))
            #expect((top["metadata"] as? [String: Any])?["team"] as? String == "support")
            #expect(response.object["took_ms"] is Double)

            let lexical = try await app.send(.post, "/ai/search", token: "viewer", json: ["query": "fridge", "mode": "lexical"])
            let lexicalResults = try #require(lexical.object["results"] as? [[String: Any]])
            #expect(lexicalResults.count == 1)
            #expect(lexicalResults.first?["vector_score"] is NSNull)
        }
    }

    @Test(arguments: Backend.all)
    func hidesAnotherTenantsDocuments_AndEnforcesPermissions(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let app = RouteHarness(database: database)
            let created = try await app.send(.post, "/ai/documents", json: Self.policy)
            let id = try #require(created.object["id"] as? String)

            let probe = try await app.send(.get, "/ai/documents/\(id)", token: "rival")
            #expect(probe.status == 404, "another tenant's id is as unknown as a missing one")
            #expect(!probe.text.contains("Refund"))
            #expect(try await app.send(.delete, "/ai/documents/\(id)", token: "rival").status == 404)
            let rivalSearch = try await app.send(.post, "/ai/search", token: "rival", json: ["query": "refund shipping"])
            #expect((rivalSearch.object["results"] as? [Any])?.isEmpty == true)
            let rivalList = try await app.send(.get, "/ai/documents", token: "rival")
            #expect(rivalList.object["total"] as? Int == 0)

            let crossHeader = try await app.send(.get, "/ai/documents/\(id)", token: "rival", headers: ["X-Atlas-Tenant": app.acme.rawValue])
            #expect(crossHeader.status == 404, "naming a tenant the caller is not a member of answers 404")
            #expect(crossHeader.code == "tenant_not_found")

            let viewerWrite = try await app.send(.post, "/ai/documents", token: "viewer", json: Self.policy)
            #expect(viewerWrite.status == 403)
            #expect(try await app.send(.delete, "/ai/documents/\(id)", token: "viewer").status == 403)
            #expect(try await app.send(.get, "/ai/documents", token: nil).status == 401)
            #expect(try await app.send(.get, "/ai/documents/\(id)", token: "viewer").status == 200)
        }
    }

    @Test(arguments: Backend.all)
    func rejectsBadInput_WithAClearClientError(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let app = RouteHarness(database: database)
            let cases: [(String, RouteHarness.Reply, Int)] = [
                ("malformed JSON", try await app.send(.post, "/ai/documents", raw: "{\"title\": ", contentType: "application/json"), 400),
                ("missing title", try await app.send(.post, "/ai/documents", json: ["text": "x"]), 422),
                ("blank text", try await app.send(.post, "/ai/documents", json: ["title": "t", "text": "   \n"]), 422),
                ("title not a string", try await app.send(.post, "/ai/documents", json: ["title": 5, "text": "x"]), 422),
                ("metadata not an object", try await app.send(.post, "/ai/documents", json: ["title": "t", "text": "x", "metadata": [1, 2]]), 422),
                ("bad id", try await app.send(.post, "/ai/documents", json: ["id": "../etc/passwd", "title": "t", "text": "x"]), 422),
                ("both shapes", try await app.send(.post, "/ai/documents", json: ["title": "t", "text": "x", "documents": []]), 422),
                ("empty batch", try await app.send(.post, "/ai/documents", json: ["documents": []]), 422),
                ("duplicate ids", try await app.send(.post, "/ai/documents", json: ["documents": [
                    ["id": "a", "title": "t", "text": "x"], ["id": "a", "title": "u", "text": "y"]]]), 422),
                ("unsupported type", try await app.send(.post, "/ai/documents", raw: "<doc/>", contentType: "application/xml"), 415),
                ("text without title", try await app.send(.post, "/ai/documents", raw: "words", contentType: "text/plain"), 422),
                ("latin-1 text", try await app.send(.post, "/ai/documents?title=x", raw: "words", contentType: "text/plain; charset=iso-8859-1"), 415),
                ("empty query", try await app.send(.post, "/ai/search", json: ["query": "  "]), 422),
                ("bad mode", try await app.send(.post, "/ai/search", json: ["query": "x", "mode": "semantic"]), 422),
                ("top_k zero", try await app.send(.post, "/ai/search", json: ["query": "x", "top_k": 0]), 422),
                ("top_k huge", try await app.send(.post, "/ai/search", json: ["query": "x", "top_k": 100_000]), 422),
                ("query not a string", try await app.send(.post, "/ai/search", json: ["query": ["x"]]), 422),
                ("limit zero", try await app.send(.get, "/ai/documents?limit=0"), 400),
                ("limit not a number", try await app.send(.get, "/ai/documents?limit=ten"), 400),
                ("forged cursor", try await app.send(.get, "/ai/documents?cursor=Zm9v"), 400),
                ("unknown id", try await app.send(.get, "/ai/documents/%27%20OR%201%3D1"), 404),
            ]
            for (name, reply, status) in cases {
                #expect(reply.status == status, "\(name): \(reply.status) \(reply.text)")
                #expect(reply.contentType == "application/problem+json", "\(name)")
                #expect((reply.object["detail"] as? String)?.isEmpty == false, "\(name)")
            }
            let emptyText = try await app.send(.post, "/ai/documents?title=x", raw: "", contentType: "text/plain")
            #expect(emptyText.status == 422, "\(emptyText.text)")
            let list = try await app.send(.get, "/ai/documents")
            #expect(list.object["total"] as? Int == 0, "no rejected request stored anything")
        }
    }
}
