// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

/// Vectors for a batch of texts, and what producing them cost.
public struct Embeddings: Sendable {
    /// One L2-normalised vector per input text, in input order.
    public var vectors: [[Float]]
    /// Tokens the provider charged for the batch (0 for the built-in embedder).
    public var tokens: Int

    public init(vectors: [[Float]], tokens: Int = 0) {
        self.vectors = vectors
        self.tokens = tokens
    }
}

/// Turns texts into fixed-length vectors whose dot product measures how alike the texts are.
///
/// Implementations must return exactly one vector of ``dimensions`` components per input, in
/// order, L2-normalised (so cosine similarity is the dot product). ``identifier`` names the model
/// and its settings: stored vectors made under another identifier are re-embedded when a tenant's
/// index is loaded, because vectors of two models cannot be compared.
///
/// ```swift
/// let embedder: any Embedder = HashingEmbedder()
/// let result = try await embedder.embed(["How do I reset my password?"])
/// let vector = result.vectors[0]          // 384 floats, unit length
/// ```
public protocol Embedder: Sendable {
    /// Stable name of the model and its settings, e.g. `atlas-hashing-v1-384`.
    var identifier: String { get }
    /// Components per vector.
    var dimensions: Int { get }
    /// Embeds `texts`; throws ``EmbeddingError`` when the provider fails.
    func embed(_ texts: [String]) async throws -> Embeddings
}

/// An embedding provider failed.
public struct EmbeddingError: Error, CustomStringConvertible, Sendable {
    /// Why, without secrets or input text.
    public var reason: String
    /// The provider's HTTP status, when it answered.
    public var status: Int?
    /// Whether trying again later may succeed (timeouts, 429, 5xx).
    public var transient: Bool
    /// Seconds the provider asked to wait (`Retry-After`).
    public var retryAfter: Double?

    public init(reason: String, status: Int? = nil, transient: Bool) {
        self.reason = reason
        self.status = status
        self.transient = transient
    }

    public var description: String {
        status.map { "embedding provider answered \($0): \(reason)" } ?? "embedding failed: \(reason)"
    }
}
