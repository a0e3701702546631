// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

@testable import AI
import Core
import Foundation
import Logging
import Storage
import AtlasTestSupport
import Testing

/// The AI suites' names for the shared harness (Tests/Support).
typealias Backend = TestBackend
typealias AITestDatabase = IsolatedTestDatabase

extension AIModule {
    /// A module over `database` with a test clock and small, fast settings.
    static func make(_ database: any Database, clock: TestClock = TestClock(),
                     retrieval: RetrievalConfiguration = RetrievalConfiguration(),
                     cache: SemanticCacheConfiguration = SemanticCacheConfiguration(),
                     embedder: (any Embedder)? = nil) -> AIModule {
        AIModule(database: database, configuration: Configuration(retrieval: retrieval, semanticCache: cache),
                 logger: AITestDatabase.quiet, usageMeter: nil, embedder: embedder, now: { clock.now })
    }
}

/// Runs `body` with a fresh migrated database, then closes and removes it.
func withAIDatabase<R: Sendable>(_ backend: Backend, _ body: (any Database, AITestDatabase) async throws -> R) async throws -> R {
    try await withIsolatedDatabase(backend, prefix: "ai", body)
}
