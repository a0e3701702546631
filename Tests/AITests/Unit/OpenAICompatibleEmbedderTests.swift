// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Core
import Foundation
import HTTP
import HTTPTypes
import Logging
import Synchronization
import Testing

/// The OpenAI-compatible adapter against a real HTTP server on 127.0.0.1 that speaks the
/// documented wire format (platform.openai.com/docs/api-reference/embeddings/create).
@Suite struct OpenAICompatibleEmbedderTests {
    /// What the fake provider saw and how it should answer the next requests.
    final class Provider: Sendable {
        struct Seen: Sendable {
            var authorization: String?
            var contentType: String?
            var body: [String: any Sendable]
        }
        let requests = Mutex<[Seen]>([])
        /// Statuses to answer with before answering normally.
        let failures = Mutex<[Int]>([])
        let delay = Mutex<Duration>(.zero)
        let dimensions: Int

        init(dimensions: Int) { self.dimensions = dimensions }

        var router: Router {
            let router = Router()
            router.post("/v1/embeddings") { [self] request, _ in
                let json = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] ?? [:]
                requests.withLock {
                    $0.append(Seen(authorization: request.headers["Authorization"], contentType: request.headers["Content-Type"],
                                   body: json.mapValues { String(describing: $0) }))
                }
                let pause = delay.withLock { $0 }
                if pause > .zero { try await Task.sleep(for: pause) }
                if let status = failures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
                    var response = Response.json(rawJSON: #"{"error":{"message":"Incorrect API key provided: sk-abc...xyz","type":"invalid_request_error"}}"#,
                                                 status: HTTPResponse.Status(code: status))
                    if status == 429 { response.headers[HTTPField.Name("Retry-After")!] = "0" }
                    return response
                }
                let inputs = json["input"] as? [String] ?? []
                // Answer out of order: the adapter must sort by `index`.
                let data = inputs.enumerated().reversed().map { index, text -> [String: Any] in
                    var vector = [Double](repeating: 0, count: self.dimensions)
                    vector[text.count % self.dimensions] = 3
                    vector[(text.count + 1) % self.dimensions] = 4
                    return ["object": "embedding", "index": index, "embedding": vector]
                }
                let body: [String: Any] = ["object": "list", "data": data, "model": json["model"] ?? "",
                                           "usage": ["prompt_tokens": inputs.count * 5, "total_tokens": inputs.count * 5]]
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .bytes(Array(try JSONSerialization.data(withJSONObject: body))))
            }
            return router
        }
    }

    func withProvider(dimensions: Int = 8, _ body: (Provider, URL) async throws -> Void) async throws {
        let provider = Provider(dimensions: dimensions)
        try await withLocalServer(provider.router) { port in
            try await body(provider, URL(string: "http://127.0.0.1:\(port)/v1/embeddings")!)
        }
    }

    @Test func speaksTheWireFormat_AndRestoresInputOrder() async throws {
        try await withProvider { provider, url in
            let embedder = OpenAICompatibleEmbedder(settings: .init(
                url: url, model: "text-embedding-3-small", apiKey: "sk-test", dimensions: 8, timeout: 5, batchSize: 2))
            let texts = ["a", "bb", "ccc", "dddd", "eeeee"]
            let result = try await embedder.embed(texts)
            #expect(result.vectors.count == 5)
            #expect(result.tokens == 25)
            for (text, vector) in zip(texts, result.vectors) {
                #expect(abs(vector[text.count % 8] - 0.6) < 1e-6, "vector of \(text) is its own, normalised")
                #expect(abs(vector[(text.count + 1) % 8] - 0.8) < 1e-6)
            }
            let seen = provider.requests.withLock { $0 }
            #expect(seen.count == 3, "five texts in batches of two")
            #expect(seen.allSatisfy { $0.authorization == "Bearer sk-test" && $0.contentType == "application/json" })
            #expect(seen.first?.body["model"] as? String == "text-embedding-3-small")
            #expect(seen.first?.body["encoding_format"] as? String == "float")
            #expect(seen.first?.body["dimensions"] == nil, "dimensions is only sent when configured")
            #expect(embedder.identifier == "openai-compatible:text-embedding-3-small:8")
        }
    }

    @Test func retriesTransientFailures_AndNeverLeaksTheKey() async throws {
        try await withProvider { provider, url in
            let embedder = OpenAICompatibleEmbedder(settings: .init(url: url, apiKey: "sk-secret", dimensions: 8, sendsDimensions: true, timeout: 5))
            provider.failures.withLock { $0 = [503, 429] }
            let vectors = try await embedder.embed(["retry me"]).vectors
            #expect(vectors.count == 1)
            #expect(provider.requests.withLock { $0.count } == 3)
            #expect(provider.requests.withLock { $0.last?.body["dimensions"] as? String } == "8")

            provider.failures.withLock { $0 = [401] }
            let error = await #expect(throws: EmbeddingError.self) { try await embedder.embed(["x"]) }
            #expect(error?.status == 401)
            #expect(error?.transient == false)
            #expect(!(error?.description.contains("sk-") ?? true), "the provider's message quoting the key is not passed on")
            #expect(provider.requests.withLock { $0.count } == 4, "a 401 is not retried")
        }
    }

    @Test func failsWithinTheTimeout_WhenTheProviderHangs() async throws {
        try await withProvider { provider, url in
            // The provider would answer after 8 s; the 0.3 s timeout must end the call long before.
            provider.delay.withLock { $0 = .seconds(8) }
            let embedder = OpenAICompatibleEmbedder(settings: .init(url: url, dimensions: 8, timeout: 0.3, maxAttempts: 1))
            let started = ContinuousClock.now
            let error = await #expect(throws: EmbeddingError.self) { try await embedder.embed(["slow"]) }
            #expect(error?.transient == true)
            #expect(ContinuousClock.now - started < .seconds(5))
            provider.delay.withLock { $0 = .zero }
        }
    }

    @Test func rejectsVectorsOfTheWrongSize() async throws {
        try await withProvider(dimensions: 6) { _, url in
            let embedder = OpenAICompatibleEmbedder(settings: .init(url: url, dimensions: 8, timeout: 5))
            let error = await #expect(throws: EmbeddingError.self) { try await embedder.embed(["x"]) }
            #expect(error?.description.contains("ATLAS_AI_EMBEDDINGS_DIMENSIONS") == true)
        }
    }

    @Test func isChosenByConfiguration_AndIndexesThroughTheModule() async throws {
        let environment = EnvironmentReader(["ATLAS_AI_EMBEDDINGS_URL": "http://127.0.0.1:9/v1/embeddings",
                                             "ATLAS_AI_EMBEDDINGS_DIMENSIONS": "32", "OPENAI_API_KEY": "sk-env"])
        let configuration = try RetrievalConfiguration(environment: environment)
        guard case .remote(let settings) = configuration.embeddings else {
            Issue.record("a URL selects the remote embedder")
            return
        }
        #expect(settings.apiKey == "sk-env" && settings.dimensions == 32 && settings.sendsDimensions)
        #expect(throws: ConfigurationError.self) {
            try RetrievalConfiguration(environment: EnvironmentReader(["ATLAS_AI_EMBEDDINGS_URL": "ftp://x"]))
        }
        #expect(throws: ConfigurationError.self) {
            try RetrievalConfiguration(environment: EnvironmentReader(["ATLAS_AI_CHUNK_OVERLAP": "900"]))
        }
        if case .local(let dimensions) = try RetrievalConfiguration(environment: EnvironmentReader([:])).embeddings {
            #expect(dimensions == 384)
        } else {
            Issue.record("no URL selects the built-in embedder")
        }
    }
}
