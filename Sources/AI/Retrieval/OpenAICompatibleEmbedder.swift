// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Foundation
import HTTP

/// Embeddings from an OpenAI-compatible HTTP endpoint (OpenAI, Azure OpenAI, vLLM, Ollama,
/// LiteLLM and others that speak the same wire format).
///
/// Request (platform.openai.com/docs/api-reference/embeddings/create):
/// `POST <url>` with `Authorization: Bearer <key>` and
/// `{"model": "…", "input": ["…", …], "encoding_format": "float"[, "dimensions": n]}`.
/// Response: `{"data": [{"index": 0, "embedding": [0.1, …]}, …], "usage": {"total_tokens": n}}`;
/// items are put back in input order by `index`.
///
/// Texts go out in batches of ``Settings/batchSize``. A 429, a 5xx or a transport failure is
/// retried twice after 0.25 s and 1 s (or the server's `Retry-After`, up to 10 s); any other
/// status fails at once. Errors never contain the key or the input text.
public struct OpenAICompatibleEmbedder: Embedder {
    /// Where and how to call the endpoint.
    public struct Settings: Sendable, Equatable {
        public var url: URL
        public var model: String
        public var apiKey: String?
        public var dimensions: Int
        /// Whether to send `dimensions` (models that can shorten their vectors accept it; some
        /// compatible servers reject unknown fields).
        public var sendsDimensions: Bool
        /// Seconds for one request.
        public var timeout: TimeInterval
        public var batchSize: Int
        /// Attempts per batch, including the first.
        public var maxAttempts: Int

        public init(url: URL, model: String = "text-embedding-3-small", apiKey: String? = nil, dimensions: Int = 1536,
                    sendsDimensions: Bool = false, timeout: TimeInterval = 30, batchSize: Int = 64, maxAttempts: Int = 3) {
            self.url = url
            self.model = model
            self.apiKey = apiKey
            self.dimensions = dimensions
            self.sendsDimensions = sendsDimensions
            self.timeout = timeout
            self.batchSize = max(1, batchSize)
            self.maxAttempts = max(1, maxAttempts)
        }
    }

    public let settings: Settings
    /// Kept-alive connections to the endpoint; nil when the URL is neither http nor https.
    private let client: HTTPClient?

    public init(settings: Settings) {
        self.settings = settings
        client = HTTPClient(url: settings.url.absoluteString, maxResponseBytes: 64 << 20)
    }

    public var identifier: String { "openai-compatible:\(settings.model):\(settings.dimensions)" }
    public var dimensions: Int { settings.dimensions }

    public func embed(_ texts: [String]) async throws -> Embeddings {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        var tokens = 0
        var start = 0
        while start < texts.count {
            let batch = Array(texts[start..<min(texts.count, start + settings.batchSize)])
            let result = try await embedBatch(batch)
            vectors.append(contentsOf: result.vectors)
            tokens += result.tokens
            start += batch.count
        }
        return Embeddings(vectors: vectors, tokens: tokens)
    }

    private struct RequestBody: Encodable {
        var model: String
        var input: [String]
        var encodingFormat = "float"
        var dimensions: Int?

        enum CodingKeys: String, CodingKey {
            case model, input, dimensions
            case encodingFormat = "encoding_format"
        }
    }

    private struct ResponseBody: Decodable {
        struct Item: Decodable {
            var index: Int
            var embedding: [Float]
        }
        struct Usage: Decodable {
            var totalTokens: Int?
            var promptTokens: Int?
            enum CodingKeys: String, CodingKey {
                case totalTokens = "total_tokens"
                case promptTokens = "prompt_tokens"
            }
        }
        var data: [Item]
        var usage: Usage?
    }

    private func embedBatch(_ texts: [String]) async throws -> Embeddings {
        var fields: [(name: String, value: String)] = [("Content-Type", "application/json"), ("Accept", "application/json")]
        if let key = settings.apiKey { fields.append(("Authorization", "Bearer \(key)")) }
        let body = try JSONEncoder().encode(RequestBody(
            model: settings.model, input: texts, dimensions: settings.sendsDimensions ? settings.dimensions : nil))
        let request = (fields: fields, body: [UInt8](body))

        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await send(request, expecting: texts.count)
            } catch let error as EmbeddingError where error.transient && attempt < settings.maxAttempts {
                let delay = min(10, retryDelay(after: error, attempt: attempt))
                try await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            }
        }
    }

    private func retryDelay(after error: EmbeddingError, attempt: Int) -> TimeInterval {
        if let retryAfter = error.retryAfter { return retryAfter }
        return attempt == 1 ? 0.25 : 1
    }

    private func send(_ request: (fields: [(name: String, value: String)], body: [UInt8]),
                      expecting count: Int) async throws -> Embeddings {
        guard let client else { throw EmbeddingError(reason: "the endpoint URL is not an http or https URL", transient: false) }
        let http: HTTPClientResponse
        do {
            http = try await client.perform("POST", HTTPClient.requestTarget(of: settings.url.absoluteString), headers: request.fields,
                                            body: request.body, timeout: .milliseconds(Int64(settings.timeout * 1000)))
        } catch {
            switch error.kind {
            case .cancelled: throw CancellationError()
            case .timeout: throw EmbeddingError(reason: "the request timed out after \(settings.timeout) s", transient: true)
            case .tls: throw EmbeddingError(reason: "TLS with the endpoint failed: \(error.detail)", transient: false)
            case .malformedResponse, .responseTooLarge:
                throw EmbeddingError(reason: "the endpoint did not answer over HTTP (\(error.kind))", transient: true)
            case .connect, .connection: throw EmbeddingError(reason: "the endpoint could not be reached (\(error.kind))", transient: true)
            }
        }
        let data = Data(http.body)
        guard (200..<300).contains(http.status) else {
            let transient = http.status == 429 || http.status >= 500
            // A provider's message for a bad key may quote part of the key: say nothing of it.
            let reason = http.status == 401 || http.status == 403
                ? "the endpoint refused the credentials (check ATLAS_AI_EMBEDDINGS_API_KEY)"
                : RemoteLLMTransport.errorMessage(data) ?? "request refused"
            var error = EmbeddingError(reason: reason, status: http.status, transient: transient)
            if let value = http.header("Retry-After"), let seconds = TimeInterval(value), seconds >= 0 {
                error.retryAfter = seconds
            }
            throw error
        }
        let body: ResponseBody
        do {
            body = try JSONDecoder().decode(ResponseBody.self, from: data)
        } catch {
            throw EmbeddingError(reason: "the response is not an embeddings list", status: http.status, transient: false)
        }
        guard body.data.count == count, Set(body.data.map(\.index)) == Set(0..<count) else {
            throw EmbeddingError(reason: "expected \(count) embeddings indexed 0..<\(count), got \(body.data.count)",
                                 status: http.status, transient: false)
        }
        var vectors = [[Float]](repeating: [], count: count)
        for item in body.data {
            guard item.embedding.count == settings.dimensions else {
                throw EmbeddingError(
                    reason: "the model returned \(item.embedding.count) dimensions; set ATLAS_AI_EMBEDDINGS_DIMENSIONS to match",
                    status: http.status, transient: false)
            }
            guard item.embedding.allSatisfy(\.isFinite) else {
                throw EmbeddingError(reason: "the model returned a non-finite component", status: http.status, transient: false)
            }
            vectors[item.index] = VectorMath.normalize(item.embedding)
        }
        return Embeddings(vectors: vectors, tokens: body.usage?.totalTokens ?? body.usage?.promptTokens ?? 0)
    }
}
