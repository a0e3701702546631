// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Core
import Foundation
import Storage
import Synchronization
import Testing

/// A real embedder that counts the texts it embeds, so a test can prove a run embedded its
/// question once.
final class CountingEmbedder: Embedder {
    let inner = HashingEmbedder()
    let texts = Mutex(0)

    var identifier: String { inner.identifier }
    var dimensions: Int { inner.dimensions }

    func embed(_ batch: [String]) async throws -> Embeddings {
        texts.withLock { $0 += batch.count }
        return try await inner.embed(batch)
    }

    var count: Int { texts.withLock { $0 } }
}

extension AssistantHarness {
    /// Hybrid searches the module has run so far.
    var searches: Int64 {
        ai.counters().first { $0.name == "searches_total" && $0.label == "hybrid" }?.value ?? 0
    }

    /// The metadata stored with the tenant's cache entries.
    func cacheMetadata() async throws -> [JSONValue] {
        let tenant = self.tenant
        return try await database.read(tenant: tenant.rawValue) { conn in
            try conn.query("SELECT metadata FROM ai_semantic_cache WHERE tenant_id = \(tenant.rawValue) ORDER BY id")
                .map { JSONValue(jsonText: try $0.decode("metadata", as: String.self)) ?? .null }
        }
    }
}

/// The assistant and the semantic cache together: a hit reuses the passages stored with the
/// answer instead of searching again, and every change to the tenant's documents makes the next
/// run miss and search afresh.
@Suite struct AssistantCacheTests {
    static let question = "How do I route escalations to humans?"
    static let paraphrase = "How can I route escalations to humans?"

    @Test(arguments: Backend.all)
    func aHit_ReusesTheStoredPassages_AndStillReportsContextCitationsAndEvaluation(_ backend: Backend) async throws {
        try await AssistantHarness.with(backend) { harness in
            let first = try await harness.ask(Self.question)
            let original = try #require(first.state)
            #expect(original["cached"] == .bool(false) && original["route"]?.string == "auto")
            #expect(harness.searches == 1)

            // What the miss stored next to its answer: the passages it was drawn from.
            let stored = try #require(try await harness.cacheMetadata().first)
            #expect(stored["context"] == original["context"] && stored["citations"] == original["citations"])
            let passages = try #require(Assistant.storedPassages(stored))
            #expect(!passages.isEmpty && passages.map { $0["text"] } == original["context"]?.testItems)
            #expect(passages.map { $0["source"] } == (original["citations"]?.testItems ?? []).map { $0["source"] })
            #expect(passages.allSatisfy { $0["document_id"]?.string?.hasPrefix("doc_") == true })
            #expect(Assistant.storedPassages(.object(["citations": .array([])])) == nil, "an entry without context")

            let second = try await harness.ask(Self.paraphrase)
            let state = try #require(second.state)
            #expect(second.status == .completed, "\(second.error ?? "")")
            #expect(state["cached"] == .bool(true))
            #expect(harness.searches == 1, "the hit did not search again")
            #expect(harness.provider.count == 1, "nor call the model")
            #expect(state["question"]?.string == Self.paraphrase && state["tenant"]?.string == harness.tenant.rawValue)
            #expect(state["response"] == original["response"])
            #expect(state["context"] == original["context"], "the passages the answer was drawn from")
            #expect(state["citations"] == original["citations"])
            #expect(state["cache"]?["question"]?.string == Self.question)
            #expect(state["cache"]?["answer"] == nil, "the answer is served once, as `response`")
            #expect(state["generation"] == original["generation"])
            // The cached answer is still judged against its context.
            let evaluation = try #require(state["evaluation"])
            #expect(evaluation["hallucination_risk"]?.string == "low")
            #expect(evaluation["needs_review"] == .bool(false))
            #expect(evaluation["sentiment"]?.string == "neutral")
            #expect((evaluation["supported_sentences"]?.int64 ?? 0) >= 1)
            #expect(state["route"]?.string == "auto")
            // The injected passage stays out of a hit's context, as it stayed out of the original's.
            #expect(!(state["context"]?.testItems ?? []).contains { $0.string?.contains("ignore all previous") == true })

            // The hit was counted in storage, once.
            let stats = try await harness.ai.cache.stats(tenant: harness.tenant)
            #expect(stats.entries == 1 && stats.hits == 1)
        }
    }

    @Test(arguments: Backend.all)
    func everyDocumentWrite_InvalidatesTheCache_SoTheNextRunMissesAndSearches(_ backend: Backend) async throws {
        try await AssistantHarness.with(backend) { harness in
            let ai = harness.ai
            let tenant = harness.tenant
            /// Asks the question twice: the first run must miss (and search), the second hit.
            func missThenHit(_ label: String) async throws -> GraphState {
                let searches = harness.searches
                let miss = try #require(try await harness.ask(Self.question).state)
                #expect(miss["cached"] == .bool(false), "\(label): the next run misses")
                #expect(harness.searches == searches + 1, "\(label): and searches")
                let hit = try #require(try await harness.ask(Self.question).state)
                #expect(hit["cached"] == .bool(true), "\(label): the run after it hits again")
                #expect(hit["context"] == miss["context"])
                return miss
            }
            _ = try await missThenHit("first question")

            // A new document.
            try await ai.ingest([DocumentInput(id: "esc-humans", title: "Escalations to humans",
                                               text: "Route escalations to humans with the Escalate button on the conversation.")],
                                tenant: tenant)
            let afterCreate = try await missThenHit("ingest of a new document")
            #expect((afterCreate["context"]?.testItems ?? []).contains { $0.string?.contains("Escalate button") == true })

            // The same document with only new metadata.
            try await ai.ingest([DocumentInput(id: "esc-humans", title: "Escalations to humans",
                                               text: "Route escalations to humans with the Escalate button on the conversation.",
                                               metadata: .object(["team": .string("support")]))],
                                tenant: tenant)
            _ = try await missThenHit("metadata update")

            // New text under the same id: a hit must not serve the old passage.
            try await ai.ingest([DocumentInput(id: "esc-humans", title: "Escalations to humans",
                                               text: "Route escalations to humans with the Hand-off menu on the conversation.")],
                                tenant: tenant)
            let afterUpdate = try await missThenHit("text update")
            let updatedContext = afterUpdate["context"]?.testItems ?? []
            #expect(updatedContext.contains { $0.string?.contains("Hand-off menu") == true })
            #expect(!updatedContext.contains { $0.string?.contains("Escalate button") == true })

            // A delete.
            #expect(try await ai.retrieval.delete("esc-humans", tenant: tenant))
            let afterDelete = try await missThenHit("delete")
            #expect(!(afterDelete["context"]?.testItems ?? []).contains { $0.string?.contains("Hand-off menu") == true })
            #expect(!(afterDelete["citations"]?.testItems ?? []).contains { $0["document_id"]?.string == "esc-humans" })

            // Another embedding model re-embeds the tenant's chunks when it loads them: also a write.
            let other = AIModule(database: harness.database, configuration: AIModule.Configuration(), logger: AITestDatabase.quiet,
                                 usageMeter: nil, embedder: HashingEmbedder(dimensions: 256), now: { Date() })
            _ = try await other.retriever.search("escalations", tenant: tenant, topK: 1, mode: .vector)
            #expect(other.counters().contains { $0.name == "chunks_reembedded_total" && $0.value > 0 })
            let searches = harness.searches
            let afterReembedding = try #require(try await harness.ask(Self.question).state)
            #expect(afterReembedding["cached"] == .bool(false), "re-embedding: the next run misses")
            #expect(harness.searches == searches + 1, "re-embedding: and searches")
        }
    }

    @Test(arguments: Backend.all)
    func aRunEmbedsItsQuestionOnce_ForTheLookupAndTheSearch(_ backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let embedder = CountingEmbedder()
            let ai = AIModule.make(database, embedder: embedder)
            try ai.installAssistant(budgetGuard: nil, usageMeter: nil, notifier: nil, logger: AITestDatabase.quiet)
            let tenant = uniqueTenant("emb")
            try await ai.ingest(AssistantHarness.knowledge, tenant: tenant)
            let graph = try #require(ai.graphs.graph(named: Assistant.graphName))
            func run(_ question: String) async throws -> (state: GraphState, embedded: Int) {
                let before = embedder.count
                let state = try await graph.invoke(["question": .string(question)], config: RunConfig(tenant: tenant)).state
                return (state, embedder.count - before)
            }
            let miss = try await run(Self.question)
            #expect(miss.state["cached"] == .bool(false))
            // The retrieve step's lookup and search share one embedding; storing the answer asks
            // the cache once more whether a hit appeared meanwhile.
            #expect(miss.embedded == 2)
            let hit = try await run(Self.paraphrase)
            #expect(hit.state["cached"] == .bool(true))
            #expect(hit.embedded == 1)

            // The shared embedding finds what embedding the text again finds.
            let query = try await ai.retriever.embedQuery("  escalations to humans  ", tenant: tenant)
            #expect(query.text == "escalations to humans" && query.model == embedder.identifier)
            let reused = try await ai.retriever.search(query, tenant: tenant, topK: 3, mode: .hybrid)
            let fresh = try await ai.retriever.search(query.text, tenant: tenant, topK: 3, mode: .hybrid)
            #expect(reused.map(\.chunkID) == fresh.map(\.chunkID) && !reused.isEmpty)
            await #expect(throws: RetrievalError.self) { try await ai.retriever.embedQuery("   ", tenant: tenant) }
        }
    }

    @Test(arguments: Backend.all)
    func aHitWithoutStoredPassages_SearchesForItsContext(_ backend: Backend) async throws {
        try await AssistantHarness.with(backend) { harness in
            // An answer cached through the public API, with no passages next to it.
            let cache = harness.ai.semanticCache
            guard case .miss(let key) = try await cache.lookup(Self.question, tenant: harness.tenant) else {
                Issue.record("a fresh tenant's cache hit")
                return
            }
            let answer = "Escalations are routed to humans through the review queue. [1]"
            #expect(try await cache.store(answer, metadata: .object(["reviewed": .bool(true)]), for: key))
            let run = try await harness.ask(Self.question)
            let state = try #require(run.state)
            #expect(state["cached"] == .bool(true) && state["response"]?.string == answer)
            #expect(harness.searches == 1, "the context came from a search")
            #expect((state["context"]?.testItems ?? []).contains { $0.string?.contains("review queue") == true })
            #expect(state["citations"]?.testItems.isEmpty == false)
            #expect(harness.provider.count == 0)
        }
    }
}
