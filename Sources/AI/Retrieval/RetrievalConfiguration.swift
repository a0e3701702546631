// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
import Foundation

/// Settings of document retrieval, read once from the environment:
///
/// | variable | default | meaning |
/// | --- | --- | --- |
/// | `ATLAS_AI_EMBEDDINGS_URL` | unset | an OpenAI-compatible embeddings endpoint (e.g. `https://api.openai.com/v1/embeddings`); unset = the built-in offline embedder |
/// | `ATLAS_AI_EMBEDDINGS_MODEL` | `text-embedding-3-small` | the `model` sent to that endpoint |
/// | `ATLAS_AI_EMBEDDINGS_API_KEY` | `OPENAI_API_KEY` | bearer key for that endpoint |
/// | `ATLAS_AI_EMBEDDINGS_DIMENSIONS` | `384` built-in, `1536` remote | vector length; for a remote model it is also sent as `dimensions` when set explicitly |
/// | `ATLAS_AI_EMBEDDINGS_TIMEOUT` | `30` | seconds for one embeddings request |
/// | `ATLAS_AI_EMBEDDINGS_BATCH` | `64` | texts per embeddings request |
/// | `ATLAS_AI_CHUNK_SIZE` | `1000` | most characters (Unicode scalars) in a chunk |
/// | `ATLAS_AI_CHUNK_OVERLAP` | `150` | characters of whole sentences repeated when a paragraph is split |
/// | `ATLAS_AI_HNSW_THRESHOLD` | `20000` | chunks at which a tenant's index moves from exact scan to HNSW |
/// | `ATLAS_AI_HNSW_M` | `16` | HNSW links per node |
/// | `ATLAS_AI_HNSW_EF_CONSTRUCTION` | `200` | HNSW build search width |
/// | `ATLAS_AI_HNSW_EF_SEARCH` | `96` | HNSW query search width |
/// | `ATLAS_AI_MAX_DOCUMENT_BYTES` | `1048576` | largest document text accepted (UTF-8 bytes) |
/// | `ATLAS_AI_MAX_BATCH_DOCUMENTS` | `100` | most documents in one batch ingest |
public struct RetrievalConfiguration: Sendable {
    /// Where vectors come from.
    public enum Embeddings: Sendable, Equatable {
        /// The built-in ``HashingEmbedder``.
        case local(dimensions: Int)
        /// An OpenAI-compatible `/embeddings` endpoint (``OpenAICompatibleEmbedder``).
        case remote(OpenAICompatibleEmbedder.Settings)
    }

    public var embeddings: Embeddings
    public var chunkSize: Int
    public var chunkOverlap: Int
    public var hnswThreshold: Int
    public var hnswM: Int
    public var hnswEfConstruction: Int
    public var hnswEfSearch: Int
    public var maxDocumentBytes: Int
    public var maxBatchDocuments: Int

    public init(
        embeddings: Embeddings = .local(dimensions: 384), chunkSize: Int = 1000, chunkOverlap: Int = 150,
        hnswThreshold: Int = 20_000, hnswM: Int = 16, hnswEfConstruction: Int = 200, hnswEfSearch: Int = 96,
        maxDocumentBytes: Int = 1_048_576, maxBatchDocuments: Int = 100
    ) {
        self.embeddings = embeddings
        self.chunkSize = chunkSize
        self.chunkOverlap = chunkOverlap
        self.hnswThreshold = hnswThreshold
        self.hnswM = hnswM
        self.hnswEfConstruction = hnswEfConstruction
        self.hnswEfSearch = hnswEfSearch
        self.maxDocumentBytes = maxDocumentBytes
        self.maxBatchDocuments = maxBatchDocuments
    }

    /// Reads the variables in the table above; throws ``ConfigurationError`` naming the variable,
    /// never its value.
    public init(environment: EnvironmentReader) throws {
        let embeddings: Embeddings
        if let text = environment.raw("ATLAS_AI_EMBEDDINGS_URL") {
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                  url.host != nil else {
                throw ConfigurationError(variable: "ATLAS_AI_EMBEDDINGS_URL", reason: "must be an absolute http(s) URL")
            }
            let explicitDimensions = environment.raw("ATLAS_AI_EMBEDDINGS_DIMENSIONS") != nil
            let dimensions = try environment.int("ATLAS_AI_EMBEDDINGS_DIMENSIONS", default: 1536, in: 16...16_384)
            embeddings = .remote(OpenAICompatibleEmbedder.Settings(
                url: url,
                model: environment.string("ATLAS_AI_EMBEDDINGS_MODEL", default: "text-embedding-3-small"),
                apiKey: environment.raw("ATLAS_AI_EMBEDDINGS_API_KEY") ?? environment.raw("OPENAI_API_KEY"),
                dimensions: dimensions,
                sendsDimensions: explicitDimensions,
                timeout: try environment.double("ATLAS_AI_EMBEDDINGS_TIMEOUT", default: 30, in: 0.1...600),
                batchSize: try environment.int("ATLAS_AI_EMBEDDINGS_BATCH", default: 64, in: 1...2048)))
        } else {
            embeddings = .local(dimensions: try environment.int("ATLAS_AI_EMBEDDINGS_DIMENSIONS", default: 384, in: 16...16_384))
        }
        let chunkSize = try environment.int("ATLAS_AI_CHUNK_SIZE", default: 1000, in: 100...100_000)
        self.init(
            embeddings: embeddings,
            chunkSize: chunkSize,
            chunkOverlap: try environment.int("ATLAS_AI_CHUNK_OVERLAP", default: min(150, chunkSize / 2), in: 0...(chunkSize / 2)),
            hnswThreshold: try environment.int("ATLAS_AI_HNSW_THRESHOLD", default: 20_000, in: 1...1_000_000_000),
            hnswM: try environment.int("ATLAS_AI_HNSW_M", default: 16, in: 4...128),
            hnswEfConstruction: try environment.int("ATLAS_AI_HNSW_EF_CONSTRUCTION", default: 200, in: 8...4096),
            hnswEfSearch: try environment.int("ATLAS_AI_HNSW_EF_SEARCH", default: 96, in: 8...4096),
            maxDocumentBytes: try environment.int("ATLAS_AI_MAX_DOCUMENT_BYTES", default: 1_048_576, in: 1...(64 * 1_048_576)),
            maxBatchDocuments: try environment.int("ATLAS_AI_MAX_BATCH_DOCUMENTS", default: 100, in: 1...10_000))
    }

    /// The embedder these settings name.
    func makeEmbedder() -> any Embedder {
        switch embeddings {
        case .local(let dimensions): HashingEmbedder(dimensions: dimensions)
        case .remote(let settings): OpenAICompatibleEmbedder(settings: settings)
        }
    }

    var hnswParameters: HNSWIndex.Parameters {
        HNSWIndex.Parameters(m: hnswM, efConstruction: hnswEfConstruction, efSearch: hnswEfSearch)
    }
}
