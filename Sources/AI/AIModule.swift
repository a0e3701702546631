// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
public import CoreMetrics
import Foundation
public import HTTP
public import Logging
public import Storage

/// The AI module's public entry point. Today it holds retrieval — tenant documents, chunking,
/// embeddings, the per-tenant vector and lexical indexes, hybrid search — and the semantic
/// cache; the agent runtime joins it here.
///
/// ```swift
/// let ai = try AIModule(database: db, configuration: AIModule.Configuration(environment: env), logger: logger,
///                       usageMeter: billing.usageMeter)
/// ai.registerRoutes(on: SecuredRoutes(router: router, resolver: auth.resolver))
/// let hits = try await ai.retriever.search("refund policy", tenant: tenant, topK: 4, mode: .hybrid)
/// if let hit = try await ai.semanticCache.lookup(question, tenant: tenant).hit { … }
/// ```
///
/// Storage is the source of truth: nothing needs to run at start-up. Each tenant's vector index
/// is loaded from storage the first time the tenant is searched and then kept in step with
/// every committed change.
public final class AIModule: Sendable {
    /// The prefix of every table this module owns (ARCHITECTURE.md, rule 3).
    public static let tablePrefix = "ai_"

    /// The module's settings, one struct per part.
    public struct Configuration: Sendable {
        public var retrieval: RetrievalConfiguration
        public var semanticCache: SemanticCacheConfiguration
        /// Durable graph runs: lease, recovery, the `debug.slow` graph.
        public var runs = RunServiceConfiguration()
        /// The `assistant` graph: model provider, guard rails, evaluation (``AssistantConfiguration``).
        public var assistant = AssistantConfiguration()

        public init(retrieval: RetrievalConfiguration = RetrievalConfiguration(),
                    semanticCache: SemanticCacheConfiguration = SemanticCacheConfiguration()) {
            self.retrieval = retrieval
            self.semanticCache = semanticCache
        }

        /// Reads every `ATLAS_AI_*` variable of ``RetrievalConfiguration`` and
        /// ``SemanticCacheConfiguration``; throws ``ConfigurationError`` naming the variable.
        public init(environment: EnvironmentReader) throws {
            self.init(retrieval: try RetrievalConfiguration(environment: environment),
                      semanticCache: try SemanticCacheConfiguration(environment: environment))
            runs = try RunServiceConfiguration(environment: environment)
            assistant = try AssistantConfiguration(environment: environment)
        }
    }

    public let configuration: Configuration
    let retrieval: RetrievalService
    let cache: StoredSemanticCache
    let metrics: RetrievalMetrics
    /// Tokens and semantic-cache lookups per tenant (``AIUsageMetrics``), given to the assistant.
    public let usageMetrics: AIUsageMetrics
    /// The graphs runs may name; register them at start-up.
    public let graphs = GraphRegistry()
    /// Durable runs of the registered graphs (`/ai/runs`).
    public let runs: RunService

    /// - Parameters:
    ///   - usageMeter: records the tokens a remote embeddings provider charges (Billing's meter).
    ///   - embedder: overrides the embedder the configuration names.
    ///   - metrics: receives the per-tenant token and cache counters (the composition root passes
    ///     Telemetry's).
    public convenience init(database: any Database, configuration: Configuration, logger: Logger,
                            usageMeter: (any UsageMeter)? = nil, embedder: (any Embedder)? = nil,
                            metrics: any MetricsFactory = MetricsSystem.factory) {
        self.init(database: database, configuration: configuration, logger: logger, usageMeter: usageMeter, embedder: embedder,
                  now: { Date() }, metrics: metrics)
    }

    init(database: any Database, configuration: Configuration, logger: Logger, usageMeter: (any UsageMeter)?,
         embedder: (any Embedder)?, now: @escaping @Sendable () -> Date, metrics: any MetricsFactory = MetricsSystem.factory) {
        self.configuration = configuration
        usageMetrics = AIUsageMetrics(factory: metrics)
        let embedder = embedder ?? configuration.retrieval.makeEmbedder()
        let metrics = RetrievalMetrics()
        self.metrics = metrics
        cache = StoredSemanticCache(database: database, embedder: embedder, configuration: configuration.semanticCache,
                                    metrics: metrics, logger: logger, now: now)
        retrieval = RetrievalService(database: database, configuration: configuration.retrieval, embedder: embedder, cache: cache,
                                     metrics: metrics, logger: logger, usageMeter: usageMeter, now: now)
        runs = RunService(database: database, graphs: graphs, configuration: configuration.runs, logger: logger)
        if configuration.runs.debugGraphs { DebugGraphs.register(in: graphs, log: configuration.runs.debugGraphLog) }
    }

    /// Registers the retrieval routes, each with its permission, in the request's tenant:
    ///
    /// | route | permission |
    /// | --- | --- |
    /// | `POST /ai/documents` | `ai.documents.write` |
    /// | `GET /ai/documents` | `ai.read` |
    /// | `GET /ai/documents/{id}` | `ai.read` |
    /// | `DELETE /ai/documents/{id}` | `ai.documents.write` |
    /// | `POST /ai/search` | `ai.read` |
    ///
    /// and the graph and run routes (`/ai/runs…` with `ai.read` / `ai.run`, `/ai/graphs…` with
    /// `ai.read`; Sources/AI/README.md, "Agent runtime").
    public func registerRoutes(on routes: SecuredRoutes) {
        RetrievalRoutes(service: retrieval).register(routes)
        RunRoutes(runs: runs).register(routes)
    }

    /// Search over tenant documents, for the agent runtime.
    public var retriever: any Retriever { retrieval }

    /// The tenant-scoped semantic cache, for the agent runtime.
    public var semanticCache: any SemanticCache { cache }

    /// The embedder in use.
    public var embedder: any Embedder { retrieval.embedder }

    /// Ingests documents into `tenant` outside HTTP (seeding, the CLI); see `POST /ai/documents`.
    /// Returns each document's id.
    @discardableResult
    public func ingest(_ documents: [DocumentInput], tenant: TenantID) async throws -> [String] {
        try await retrieval.ingest(documents, tenant: tenant).map(\.document.id)
    }

    /// The module's counters as `(name, label, value)`, e.g. `("semantic_cache_hits_total", nil, 12)`
    /// or `("searches_total", "hybrid", 40)`, for the metrics endpoint (names are to be prefixed
    /// `atlas_ai_`).
    public func counters() -> [(name: String, label: String?, value: Int64)] {
        metrics.snapshot().map { ($0.key.name, $0.key.label, $0.value) }
            .sorted { ($0.name, $0.label ?? "") < ($1.name, $1.label ?? "") }
    }
}
