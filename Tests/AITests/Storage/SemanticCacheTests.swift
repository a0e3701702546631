// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Core
import Foundation
import Storage
import Testing

/// The semantic cache against real storage, on SQLite and PostgreSQL.
@Suite struct SemanticCacheTests {
    static let question = "How do I reset my password?"
    static let answer = "Open Settings → Security and choose Reset password."

    /// Looks up `question` and stores `answer` on a miss; returns the lookup.
    @discardableResult
    static func ask(_ cache: any SemanticCache, _ question: String, tenant: TenantID, answer: String = answer) async throws -> SemanticCacheLookup {
        let lookup = try await cache.lookup(question, tenant: tenant)
        if case .miss(let key) = lookup {
            try await cache.store(answer, metadata: .object(["model": .string("local")]), for: key)
        }
        return lookup
    }

    @Test(arguments: Backend.all)
    func answersAParaphrase_AndMissesAnUnrelatedQuestion(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let module = AIModule.make(database)
            let cache = module.semanticCache
            let tenant = uniqueTenant()
            #expect(try await Self.ask(cache, Self.question, tenant: tenant).hit == nil, "the first question misses")

            let paraphrase = try #require(try await cache.lookup("What's the way to reset my password?", tenant: tenant).hit)
            #expect(paraphrase.answer == Self.answer)
            #expect(paraphrase.question == Self.question)
            #expect(paraphrase.similarity >= SemanticCacheConfiguration.calibratedThreshold)
            #expect(paraphrase.hits == 1)
            #expect(paraphrase.metadata == .object(["model": .string("local")]))

            #expect(try await cache.lookup("What is the weather like in Madrid?", tenant: tenant).hit == nil)
            #expect(try await cache.lookup("How do I reset my username?", tenant: tenant).hit == nil, "a near miss on the topic is not a hit")

            let again = try #require(try await cache.lookup("how do i reset my password", tenant: tenant).hit)
            #expect(again.hits == 2, "hits are counted in storage")
            let stats = try await module.cache.stats(tenant: tenant)
            #expect(stats.entries == 1 && stats.hits == 2)
            let counters = Dictionary(module.counters().map { ($0.name, $0.value) }, uniquingKeysWith: +)
            #expect(counters["semantic_cache_hits_total"] == 2)
            #expect(counters["semantic_cache_misses_total"] == 3)
            #expect(counters["semantic_cache_stores_total"] == 1)
        }
    }

    @Test(arguments: Backend.all)
    func forgetsEverything_WhenTheTenantsDocumentsChange(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let module = AIModule.make(database)
            let cache = module.semanticCache
            let tenant = uniqueTenant()
            try await Self.ask(cache, Self.question, tenant: tenant)
            #expect(try await cache.lookup(Self.question, tenant: tenant).hit != nil)

            try await module.ingest([DocumentInput(title: "Passwords", text: "Passwords are reset by the IT desk now.")], tenant: tenant)
            #expect(try await cache.lookup(Self.question, tenant: tenant).hit == nil, "an ingest invalidates")

            try await Self.ask(cache, Self.question, tenant: tenant)
            #expect(try await cache.lookup(Self.question, tenant: tenant).hit != nil)
            let list = try await module.retrieval.documents(tenant: tenant, limit: 1, cursor: nil)
            #expect(try await module.retrieval.delete(list.documents[0].id, tenant: tenant))
            #expect(try await cache.lookup(Self.question, tenant: tenant).hit == nil, "a delete invalidates")
            let stored = try await module.cache.stats(tenant: tenant)
            #expect(stored.entries == 0, "the entries are deleted in the document transaction")
        }
    }

    @Test(arguments: Backend.all)
    func dropsAnAnswer_ComputedWhileTheDocumentsChanged(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let module = AIModule.make(database)
            let cache = module.semanticCache
            let tenant = uniqueTenant()
            guard case .miss(let key) = try await cache.lookup(Self.question, tenant: tenant) else {
                Issue.record("expected a miss")
                return
            }
            try await module.ingest([DocumentInput(title: "Passwords", text: "Passwords are reset by the IT desk.")], tenant: tenant)
            #expect(try await cache.store(Self.answer, metadata: nil, for: key) == false)
            #expect(try await cache.lookup(Self.question, tenant: tenant).hit == nil)
        }
    }

    @Test(arguments: Backend.all)
    func expiresEntries_AfterTheirTimeToLive(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let clock = TestClock()
            let module = AIModule.make(database, clock: clock, cache: SemanticCacheConfiguration(ttl: 60))
            let cache = module.semanticCache
            let tenant = uniqueTenant()
            try await Self.ask(cache, Self.question, tenant: tenant)
            clock.advance(by: 59)
            #expect(try await cache.lookup(Self.question, tenant: tenant).hit != nil)
            clock.advance(by: 2)
            #expect(try await cache.lookup(Self.question, tenant: tenant).hit == nil)
        }
    }

    @Test(arguments: Backend.all)
    func keepsTenantsApart_AndHonoursTheSwitch(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let module = AIModule.make(database)
            let alpha = uniqueTenant("alpha")
            let beta = uniqueTenant("beta")
            try await Self.ask(module.semanticCache, Self.question, tenant: alpha)
            #expect(try await module.semanticCache.lookup(Self.question, tenant: beta).hit == nil)
            try await module.semanticCache.invalidate(tenant: alpha)
            #expect(try await module.semanticCache.lookup(Self.question, tenant: alpha).hit == nil)

            let disabled = AIModule.make(database, cache: SemanticCacheConfiguration(isEnabled: false))
            #expect(!disabled.semanticCache.isEnabled)
            try await Self.ask(disabled.semanticCache, Self.question, tenant: beta)
            #expect(try await disabled.semanticCache.lookup(Self.question, tenant: beta).hit == nil)
            #expect(try await module.cache.stats(tenant: beta).entries == 0)
        }
    }

    @Test(arguments: Backend.all)
    func keepsAtMostTheConfiguredEntries(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let clock = TestClock()
            let module = AIModule.make(database, clock: clock, cache: SemanticCacheConfiguration(maxEntriesPerTenant: 3))
            let tenant = uniqueTenant()
            for topic in ["invoices", "passwords", "shipping", "warranty", "parking"] {
                clock.advance(by: 1)
                try await Self.ask(module.semanticCache, "Where can I read about \(topic)?", tenant: tenant, answer: topic)
            }
            #expect(try await module.cache.stats(tenant: tenant).entries == 3)
            #expect(try await module.semanticCache.lookup("Where can I read about invoices?", tenant: tenant).hit == nil)
            #expect(try await module.semanticCache.lookup("Where can I read about parking?", tenant: tenant).hit?.answer == "parking")
        }
    }

    @Test(arguments: Backend.all)
    func countsEveryHit_InStorage_WithoutWritingOnTheLookupPath(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let module = AIModule.make(database)
            let cache = module.semanticCache
            let tenant = uniqueTenant()
            try await Self.ask(cache, Self.question, tenant: tenant)
            func storedHits() async throws -> Int64 {
                try await database.read(tenant: tenant.rawValue) { conn in
                    try conn.queryScalar("SELECT hits FROM ai_semantic_cache WHERE tenant_id = \(tenant.rawValue)", as: Int64.self) ?? -1
                }
            }

            // Concurrent hits each report their own count.
            let counts = try await withThrowingTaskGroup(of: Int64?.self) { group in
                for _ in 0..<24 { group.addTask { try await cache.lookup(Self.question, tenant: tenant).hit?.hits } }
                var counts: [Int64?] = []
                for try await count in group { counts.append(count) }
                return counts
            }
            #expect(counts.compactMap { $0 }.sorted() == Array(1...24))
            // Written shortly after, in a batch; `stats` waits for what is still to be written.
            #expect(try await module.cache.stats(tenant: tenant).hits == 24)
            #expect(try await storedHits() == 24)

            // Hits around a batch being written are counted once each.
            for round in 1...3 {
                let hit = try #require(try await cache.lookup(Self.question, tenant: tenant).hit)
                #expect(hit.hits == 24 + Int64(round))
                try await Task.sleep(for: .milliseconds(150 * round))
            }
            #expect(try await module.cache.stats(tenant: tenant).hits == 27)
            #expect(try await storedHits() == 27)
        }
    }
}
