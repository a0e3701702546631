// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Core
import Foundation
import Storage
import Testing

/// Retrieval against real storage, on SQLite and PostgreSQL.
@Suite struct RetrievalStorageTests {
    static let refunds = DocumentInput(
        id: "refunds", title: "Refund policy",
        text: """
            Customers may return any unused item within thirty days of delivery.

            Refunds are issued to the original payment method within five business days after the parcel reaches \
            the warehouse. Shipping costs are not refunded unless the item arrived damaged.
            """,
        metadata: .object(["team": .string("support"), "version": .number(3)]))
    static let onboarding = DocumentInput(
        id: "onboarding", title: "Employee onboarding",
        text: """
            New employees receive a laptop on their first day. The IT desk sets up email, calendar and chat accounts.

            During the first week every new hire meets their mentor and completes the security awareness course.
            """)
    static let kitchen = DocumentInput(
        id: "kitchen", title: "Office kitchen rules",
        text: "Label your food with your name and the date. The fridge is emptied every Friday afternoon.")

    static func ingestAll(_ module: AIModule, tenant: TenantID) async throws {
        try await module.ingest([refunds, onboarding, kitchen], tenant: tenant)
    }

    @Test(arguments: Backend.all)
    func findsDocumentsByMeaningAndByWords_InEveryMode(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let module = AIModule.make(database)
            let tenant = uniqueTenant()
            try await Self.ingestAll(module, tenant: tenant)
            for mode in [SearchMode.hybrid, .vector] {
                let hits = try await module.retriever.search("When are refunds paid back?", tenant: tenant, topK: 3, mode: mode)
                #expect(hits.first?.documentID == "refunds", "\(mode): \(hits.map(\.documentID))")
            }
            let noSharedWord = try await module.retriever.search("money back", tenant: tenant, topK: 3, mode: .lexical)
            #expect(noSharedWord.isEmpty, "lexical search needs a shared word (or synonym)")
            let lexical = try await module.retriever.search("fridge emptied", tenant: tenant, topK: 3, mode: .lexical)
            #expect(lexical.map(\.documentID) == ["kitchen"], "lexical search returns only chunks containing the words")
            #expect(lexical.first?.lexicalScore.map { $0 > 0 } == true)
            #expect(lexical.first?.vectorScore == nil)
            #expect(lexical.first?.highlights.first?.contains("<mark>fridge</mark>") == true)

            let vector = try await module.retriever.search("new hire laptop", tenant: tenant, topK: 3, mode: .vector)
            #expect(vector.first?.documentID == "onboarding")
            #expect(vector.count == 3, "vector search ranks every chunk")
            #expect(zip(vector, vector.dropFirst()).allSatisfy { $0.score >= $1.score })

            let hybrid = try await module.retriever.search("refund shipping costs", tenant: tenant, topK: 2, mode: .hybrid)
            let top = try #require(hybrid.first)
            #expect(top.documentID == "refunds")
            #expect(top.vectorScore != nil && top.lexicalScore != nil, "the top hybrid hit was found by both rankings")
            #expect(abs(top.score - (1 / 61.0 + 1 / 61.0)) < 1e-9, "fused score of a first place in both lists")
            #expect(top.metadata == .object(["team": .string("support"), "version": .number(3)]))
            #expect(top.chunkID.hasPrefix("refunds:"))
        }
    }

    @Test(arguments: Backend.all)
    func treatsQueryTextAsWords_NeverAsSearchSyntax(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let module = AIModule.make(database)
            let tenant = uniqueTenant()
            try await Self.ingestAll(module, tenant: tenant)
            for query in ["\"fridge", "fridge OR", "NEAR(fridge", "title:fridge", "fridge' | !'x", "fridge'); DROP TABLE ai_chunks; --",
                          "*", "^fridge", "fridge AND OR", "( ) :", "🥶 fridge", "fridge\u{0}"] {
                let hits = try await module.retriever.search(query, tenant: tenant, topK: 3, mode: .lexical)
                #expect(hits.allSatisfy { $0.documentID == "kitchen" }, "\(query)")
            }
            let stillThere = try await module.retriever.search("fridge", tenant: tenant, topK: 3, mode: .lexical)
            #expect(stillThere.count == 1)
        }
    }

    @Test(arguments: Backend.all)
    func deleteRemovesTheDocumentFromEveryIndex(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let module = AIModule.make(database)
            let tenant = uniqueTenant()
            try await Self.ingestAll(module, tenant: tenant)
            _ = try await module.retriever.search("refund", tenant: tenant, topK: 3, mode: .hybrid)   // load the index
            #expect(try await module.retrieval.delete("refunds", tenant: tenant))
            #expect(try await module.retrieval.delete("refunds", tenant: tenant) == false)
            for mode in SearchMode.allCases {
                let hits = try await module.retriever.search("refunds money back payment", tenant: tenant, topK: 10, mode: mode)
                #expect(!hits.contains { $0.documentID == "refunds" }, "\(mode)")
            }
            let index = try #require(module.retrieval.indexes.existingIndex(for: tenant.rawValue))
            #expect(index.count == 2, "only the chunks of the two remaining documents stay in the vector index")
            let counts = try await database.read(tenant: tenant.rawValue) { conn in
                (try DocumentStore.counts(tenant.rawValue, on: conn),
                 conn.dialect == .sqlite ? try conn.queryScalar("SELECT COUNT(*) FROM ai_chunks_fts", as: Int.self) ?? -1 : 2)
            }
            #expect(counts.0.documents == 2 && counts.0.chunks == 2)
            #expect(counts.1 == 2, "the FTS5 table lost the deleted chunks too")
            #expect(try await module.retrieval.document("refunds", tenant: tenant) == nil)
        }
    }

    @Test(arguments: Backend.all)
    func replacingADocumentReplacesItsChunks_AndRepostingChangesNothing(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let module = AIModule.make(database)
            let tenant = uniqueTenant()
            let first = try await module.retrieval.ingest([Self.kitchen], tenant: tenant)
            #expect(first.map(\.status) == [.created])
            let generation = try await module.retriever.generation(of: tenant)
            let again = try await module.retrieval.ingest([Self.kitchen], tenant: tenant)
            #expect(again.map(\.status) == [.unchanged])
            #expect(try await module.retriever.generation(of: tenant) == generation, "an unchanged document is not a change")

            var edited = Self.kitchen
            edited.text = "The dishwasher runs every evening at six. Please load cups upside down."
            #expect(try await module.retrieval.ingest([edited], tenant: tenant).map(\.status) == [.updated])
            #expect(try await module.retriever.search("fridge", tenant: tenant, topK: 5, mode: .lexical).isEmpty)
            #expect(try await module.retriever.search("dishwasher", tenant: tenant, topK: 5, mode: .hybrid).first?.documentID == "kitchen")

            var retagged = edited
            retagged.metadata = .object(["floor": .number(2)])
            let result = try await module.retrieval.ingest([retagged], tenant: tenant)
            #expect(result.map(\.status) == [.updated])
            #expect(result.first?.document.metadata == .object(["floor": .number(2)]))

            let unnamed = try await module.retrieval.ingest([DocumentInput(title: "Same", text: "Identical text.")], tenant: tenant)
            let repeated = try await module.retrieval.ingest([DocumentInput(title: "Same", text: "Identical text.")], tenant: tenant)
            #expect(unnamed.first?.document.id == repeated.first?.document.id, "ids derive from the content, so a repost is idempotent")
            #expect(unnamed.first?.document.id.hasPrefix("doc_") == true)
            #expect(repeated.first?.status == .unchanged)
        }
    }

    /// Above the threshold a tenant's vector search runs on the HNSW graph; on a small corpus with
    /// a wide search it must return exactly what the exact scan returns, and keep doing so as
    /// documents are deleted and added.
    @Test(arguments: Backend.all)
    func searchesWithHNSWAboveTheThreshold_AgreeingWithExactSearch(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let module = AIModule.make(database, retrieval: RetrievalConfiguration(hnswThreshold: 40, hnswEfSearch: 200))
            let tenant = uniqueTenant()
            let documents = QualityCorpus.documents.prefix(60).map {
                DocumentInput(id: $0.id, title: $0.title, text: $0.text)
            }
            try await module.ingest(Array(documents), tenant: tenant)
            let index = try await module.retrieval.loadedIndex(tenant.rawValue)
            await index.settle()
            #expect(index.usesGraph)
            func agree() {
                for question in QualityCorpus.questions.prefix(20) {
                    let vector = HashingEmbedder().vector(for: question.text)
                    #expect(index.search(vector, k: 8).results.map(\.label) == index.exactSearch(vector, k: 8).map(\.label))
                }
            }
            agree()
            #expect(try await module.retrieval.delete(documents[0].id!, tenant: tenant))
            try await module.ingest([DocumentInput(id: "extra", title: "Extra", text: "A late addition about parking and pets.")],
                                    tenant: tenant)
            await index.settle()
            #expect(index.usesGraph)
            #expect(index.count == 60)
            agree()
            let hits = try await module.retriever.search("late addition parking pets", tenant: tenant, topK: 3, mode: .vector)
            #expect(hits.first?.documentID == "extra")
        }
    }

    @Test(arguments: Backend.all)
    func restartRebuildsTheIndexFromStorage(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, testDatabase in
            let tenant = uniqueTenant()
            do {
                let before = AIModule.make(database)
                try await Self.ingestAll(before, tenant: tenant)
            }
            await database.close()
            let reopened = try await testDatabase.open()
            let after = AIModule.make(reopened)
            #expect(after.retrieval.indexes.existingIndex(for: tenant.rawValue) == nil)
            let hits = try await after.retriever.search("new hire laptop", tenant: tenant, topK: 3, mode: .vector)
            let index = after.retrieval.indexes.existingIndex(for: tenant.rawValue)
            await reopened.close()
            #expect(hits.first?.documentID == "onboarding")
            #expect(index?.count == 3)
            #expect(index?.generation == 1)
        }
    }

    /// A crash between the commit and the index update (the after-commit hook never runs) must
    /// not leave a stored chunk unfindable: storage's generation is ahead, so the next search
    /// reloads — and a restarted process loads from storage anyway.
    @Test(arguments: Backend.all)
    func findsChunksCommittedWithoutTheirIndexUpdate(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let module = AIModule.make(database)
            let tenant = uniqueTenant()
            let key = tenant.rawValue
            try await module.ingest([Self.kitchen], tenant: tenant)
            _ = try await module.retriever.search("fridge", tenant: tenant, topK: 1, mode: .vector)
            let vector = module.embedder is HashingEmbedder ? HashingEmbedder().vector(for: "Parking\nThe car park closes at midnight.") : []
            try await database.transaction(tenant: key) { conn in
                _ = try DocumentStore.lockTenant(key, now: Date(), on: conn)
                try DocumentStore.upsert(key, DocumentRecord(
                    id: "parking", title: "Parking", text: "The car park closes at midnight.", metadata: .emptyObject,
                    contentHash: "x", metadataHash: "y", chunkCount: 1, byteCount: 32, createdAt: Date(), updatedAt: Date()), on: conn)
                _ = try DocumentStore.insertChunks(key, documentID: "parking", title: "Parking", chunks: [
                    NewChunk(id: "parking:0", ordinal: 0, text: "The car park closes at midnight.", start: 0, end: 32, embedding: vector),
                ], model: module.embedder.identifier, on: conn)
                _ = try DocumentStore.bumpGeneration(key, now: Date(), on: conn)
            }
            let hits = try await module.retriever.search("when does the car park close", tenant: tenant, topK: 2, mode: .vector)
            #expect(hits.first?.documentID == "parking", "the index noticed storage was ahead and reloaded")
            #expect(module.counters().contains { $0.name == "index_reloads_total" && $0.value == 1 })
        }
    }

    /// A transaction that fails after writing chunks leaves nothing findable: the index is only
    /// updated after a commit.
    @Test(arguments: Backend.all)
    func leavesNothingFindable_WhenTheTransactionRollsBack(backend: Backend) async throws {
        struct Crash: Error {}
        try await withAIDatabase(backend) { database, _ in
            let module = AIModule.make(database)
            let tenant = uniqueTenant()
            let key = tenant.rawValue
            try await module.ingest([Self.kitchen], tenant: tenant)
            _ = try await module.retriever.search("fridge", tenant: tenant, topK: 1, mode: .vector)
            let vector = HashingEmbedder().vector(for: "Parking\nThe car park closes at midnight.")
            await #expect(throws: Crash.self) {
                try await database.transaction(tenant: key) { conn in
                    _ = try DocumentStore.lockTenant(key, now: Date(), on: conn)
                    try DocumentStore.upsert(key, DocumentRecord(
                        id: "parking", title: "Parking", text: "The car park closes at midnight.", metadata: .emptyObject,
                        contentHash: "x", metadataHash: "y", chunkCount: 1, byteCount: 32, createdAt: Date(), updatedAt: Date()), on: conn)
                    let stored = try DocumentStore.insertChunks(key, documentID: "parking", title: "Parking", chunks: [
                        NewChunk(id: "parking:0", ordinal: 0, text: "The car park closes at midnight.", start: 0, end: 32, embedding: vector),
                    ], model: module.embedder.identifier, on: conn)
                    let index = module.retrieval.indexes.index(for: key)
                    let generation = try DocumentStore.bumpGeneration(key, now: Date(), on: conn)
                    conn.afterCommit { index.apply(IndexDelta(generation: generation, removed: [], added: stored)) }
                    throw Crash()
                }
            }
            for mode in SearchMode.allCases {
                let hits = try await module.retriever.search("car park midnight", tenant: tenant, topK: 5, mode: mode)
                #expect(!hits.contains { $0.documentID == "parking" }, "\(mode)")
            }
            #expect(module.retrieval.indexes.existingIndex(for: key)?.count == 1)
        }
    }

    @Test(arguments: Backend.all)
    func neverReturnsAnotherTenantsChunks(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let module = AIModule.make(database)
            let alpha = uniqueTenant("alpha")
            let beta = uniqueTenant("beta")
            try await module.ingest([Self.refunds, Self.onboarding], tenant: alpha)
            let secret = DocumentInput(id: "refunds", title: "Refund policy (beta)",
                                       text: "Beta refunds money through gift vouchers only, within ninety days.")
            try await module.ingest([secret, Self.kitchen], tenant: beta)
            for mode in SearchMode.allCases {
                let alphaHits = try await module.retriever.search("refund gift vouchers fridge", tenant: alpha, topK: 10, mode: mode)
                #expect(!alphaHits.isEmpty)
                #expect(alphaHits.allSatisfy { !$0.text.contains("vouchers") && !$0.text.contains("fridge") }, "\(mode)")
                let betaHits = try await module.retriever.search("refund laptop mentor", tenant: beta, topK: 10, mode: mode)
                #expect(betaHits.allSatisfy { !$0.text.contains("laptop") && !$0.text.contains("thirty days") }, "\(mode)")
            }
            let alphaDocument = try #require(try await module.retrieval.document("refunds", tenant: alpha))
            #expect(!alphaDocument.document.text!.contains("vouchers"))
            #expect(try await module.retrieval.document("kitchen", tenant: alpha) == nil)
            #expect(try await module.retrieval.delete("kitchen", tenant: alpha) == false)
            #expect(try await module.retrieval.document("kitchen", tenant: beta) != nil)
            #expect(try await module.retrieval.documents(tenant: alpha, limit: 10, cursor: nil).total == 2)
        }
    }

    /// PostgreSQL's row-level security is a second wall: a query that forgot its tenant filter
    /// still sees only the transaction's tenant.
    @Test(arguments: Backend.all.filter { $0 == .postgres })
    func rowLevelSecurityHidesOtherTenantsRows(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let module = AIModule.make(database)
            let alpha = uniqueTenant("alpha")
            let beta = uniqueTenant("beta")
            try await module.ingest([Self.refunds], tenant: alpha)
            try await module.ingest([Self.kitchen, Self.onboarding], tenant: beta)
            let seen = try await database.read(tenant: alpha.rawValue) { conn in
                (try conn.queryScalar("SELECT COUNT(*) FROM ai_chunks", as: Int.self),
                 try conn.queryScalar("SELECT COUNT(*) FROM ai_documents", as: Int.self))
            }
            #expect(seen.0 == 1 && seen.1 == 1, "only alpha's one chunk and one document are visible")
            let none = try await database.read(tenant: nil) { conn in
                try conn.queryScalar("SELECT COUNT(*) FROM ai_chunks", as: Int.self)
            }
            #expect(none == 0, "a transaction that names no tenant sees nothing")
            await #expect(throws: StorageError.self) {
                try await database.transaction(tenant: alpha.rawValue) { conn in
                    try conn.execute("INSERT INTO ai_tenant_state (tenant_id, generation, updated_at) VALUES (\(beta.rawValue), 9, 0)")
                }
            }
        }
    }

    @Test(arguments: Backend.all)
    func reEmbedsStoredChunks_WhenTheModelChanges(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let tenant = uniqueTenant()
            let small = AIModule.make(database, retrieval: RetrievalConfiguration(embeddings: .local(dimensions: 64)))
            try await Self.ingestAll(small, tenant: tenant)
            let large = AIModule.make(database)
            let hits = try await large.retriever.search("new hire laptop", tenant: tenant, topK: 1, mode: .vector)
            #expect(hits.first?.documentID == "onboarding")
            #expect(large.counters().contains { $0.name == "chunks_reembedded_total" && $0.value == 3 })
            let models = try await database.read(tenant: tenant.rawValue) { conn in
                try conn.query("SELECT DISTINCT embedding_model FROM ai_chunks WHERE tenant_id = \(tenant.rawValue)")
                    .map { try $0.decode("embedding_model", as: String.self) }
            }
            #expect(models == ["atlas-hashing-v1-384"])
        }
    }

    @Test(arguments: Backend.all)
    func pagesThroughDocuments_NewestFirst(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let clock = TestClock()
            let module = AIModule.make(database, clock: clock)
            let tenant = uniqueTenant()
            for index in 0..<7 {
                clock.advance(by: 1)
                try await module.ingest([DocumentInput(id: "doc-\(index)", title: "Doc \(index)", text: "Body \(index).")], tenant: tenant)
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await module.retrieval.documents(tenant: tenant, limit: 3, cursor: cursor)
                #expect(page.total == 7)
                seen += page.documents.map(\.id)
                cursor = page.next
            } while cursor != nil
            #expect(seen == (0..<7).reversed().map { "doc-\($0)" })
            await #expect(throws: RetrievalError.self) {
                _ = try await module.retrieval.documents(tenant: tenant, limit: 3, cursor: "not-a-cursor")
            }
        }
    }
}
