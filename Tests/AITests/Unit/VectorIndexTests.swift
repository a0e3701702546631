// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Dispatch
import Testing

/// Reproducible vectors: `clusters` centres plus Gaussian-ish noise, normalised, like real
/// embeddings (which cluster by topic) rather than uniform noise.
struct VectorFixture {
    var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func uniform() -> Float { Float(Double(generator.next() >> 11) / 9_007_199_254_740_992) * 2 - 1 }

    mutating func noise(_ dimensions: Int) -> [Float] {
        (0..<dimensions).map { _ in (uniform() + uniform() + uniform()) / 3 }
    }

    mutating func clustered(count: Int, dimensions: Int, clusters: Int, spread: Float = 0.6) -> [[Float]] {
        let centres = (0..<clusters).map { _ in noise(dimensions) }
        return (0..<count).map { index in
            let centre = centres[index % clusters]
            let offset = noise(dimensions)
            return VectorMath.normalize(zip(centre, offset).map { $0 + spread * $1 })
        }
    }
}

@Suite struct VectorIndexTests {
    @Test func exactAndHNSWAgree_OnSmallSets() {
        var fixture = VectorFixture(seed: 7)
        let vectors = fixture.clustered(count: 300, dimensions: 48, clusters: 12)
        var exact = ExactVectorIndex(dimensions: 48)
        let graph = HNSWIndex(dimensions: 48, parameters: HNSWIndex.Parameters(m: 8, efConstruction: 64, efSearch: 300))
        for (index, vector) in vectors.enumerated() {
            exact.upsert(Int64(index), vector)
            graph.insert(Int64(index), vector)
        }
        let queries = fixture.clustered(count: 25, dimensions: 48, clusters: 12)
        for query in queries {
            let expected = exact.search(query, k: 10)
            let found = graph.search(query, k: 10)
            #expect(found.map(\.label) == expected.map(\.label))
            for (a, b) in zip(found, expected) { #expect(abs(a.score - b.score) < 1e-5) }
        }
    }

    @Test func hnswRecallsNinetyFivePercent_OnClusteredVectors() {
        var fixture = VectorFixture(seed: 11)
        let vectors = fixture.clustered(count: 2000, dimensions: 32, clusters: 40)
        var exact = ExactVectorIndex(dimensions: 32)
        let graph = HNSWIndex(dimensions: 32, parameters: HNSWIndex.Parameters(m: 12, efConstruction: 80, efSearch: 64))
        for (index, vector) in vectors.enumerated() {
            exact.upsert(Int64(index), vector)
            graph.insert(Int64(index), vector)
        }
        var found = 0
        let queries = fixture.clustered(count: 50, dimensions: 32, clusters: 40)
        for query in queries {
            let truth = Set(exact.search(query, k: 10).map(\.label))
            found += graph.search(query, k: 10).filter { truth.contains($0.label) }.count
        }
        let recall = Double(found) / Double(queries.count * 10)
        #expect(recall >= 0.95, "recall@10 \(recall)")
    }

    @Test func neverReturnsRemovedVectors() {
        var fixture = VectorFixture(seed: 3)
        let vectors = fixture.clustered(count: 200, dimensions: 24, clusters: 5)
        var exact = ExactVectorIndex(dimensions: 24)
        let graph = HNSWIndex(dimensions: 24, parameters: HNSWIndex.Parameters(m: 8, efConstruction: 40, efSearch: 200))
        for (index, vector) in vectors.enumerated() {
            exact.upsert(Int64(index), vector)
            graph.insert(Int64(index), vector)
        }
        let removed = Set(stride(from: 0, to: 200, by: 3).map(Int64.init))
        for label in removed {
            let fromExact = exact.remove(label)
            #expect(fromExact)
            #expect(graph.remove(label))
        }
        let again = exact.remove(0)
        #expect(!again)
        #expect(exact.count == 200 - removed.count)
        #expect(graph.count == 200 - removed.count)
        for query in vectors.prefix(20) {
            #expect(exact.search(query, k: 20).allSatisfy { !removed.contains($0.label) })
            let found = graph.search(query, k: 20)
            #expect(found.allSatisfy { !removed.contains($0.label) })
            #expect(found.map(\.label) == exact.search(query, k: 20).map(\.label))
        }
        for label in removed { #expect(exact.vector(for: label) == nil) }
    }

    @Test func replacesTheVector_WhenALabelIsInsertedAgain() {
        var exact = ExactVectorIndex(dimensions: 2)
        let graph = HNSWIndex(dimensions: 2)
        exact.upsert(1, [1, 0])
        graph.insert(1, [1, 0])
        exact.upsert(2, [0, 1])
        graph.insert(2, [0, 1])
        exact.upsert(1, [0, 1])
        graph.insert(1, [0, 1])
        #expect(exact.count == 2)
        #expect(graph.count == 2)
        #expect(exact.search([1, 0], k: 2).allSatisfy { $0.score < 0.5 })
        #expect(graph.search([1, 0], k: 2).allSatisfy { $0.score < 0.5 })
    }

    // MARK: Tenant index

    static func policy(threshold: Int = 1000) -> IndexPolicy {
        IndexPolicy(dimensions: 2, hnswThreshold: threshold, parameters: HNSWIndex.Parameters(m: 8, efConstruction: 32, efSearch: 64))
    }

    @Test func appliesDeltasInGenerationOrder_WhenTheyArriveOutOfOrder() {
        let index = TenantIndex(tenant: "t", policy: Self.policy(), buildQueue: DispatchQueue(label: "test"))
        index.load(generation: 1, vectors: [(seq: 1, vector: [1, 0])])
        index.apply(IndexDelta(generation: 3, removed: [2], added: [(seq: 3, vector: [0.6, 0.8])]))
        #expect(index.generation == 1, "generation 3 waits for 2")
        #expect(index.count == 1)
        index.apply(IndexDelta(generation: 2, removed: [], added: [(seq: 2, vector: [0, 1])]))
        #expect(index.generation == 3)
        #expect(Set(index.search([1, 0], k: 5).results.map(\.label)) == [1, 3])
        index.apply(IndexDelta(generation: 3, removed: [1], added: []))
        #expect(index.count == 2, "a delta the index already reflects is ignored")
    }

    @Test func discardsDeltasALoadAlreadyIncludes() {
        let index = TenantIndex(tenant: "t", policy: Self.policy(), buildQueue: DispatchQueue(label: "test"))
        index.apply(IndexDelta(generation: 1, removed: [], added: [(seq: 1, vector: [1, 0])]))
        #expect(index.count == 0, "an index never loaded drops deltas: its first load reads them from storage")
        index.beginLoad()
        index.apply(IndexDelta(generation: 2, removed: [], added: [(seq: 2, vector: [0, 1])]))
        index.apply(IndexDelta(generation: 3, removed: [2], added: [(seq: 3, vector: [1, 0])]))
        index.load(generation: 2, vectors: [(seq: 1, vector: [1, 0]), (seq: 2, vector: [0, 1])])
        index.endLoad()
        #expect(index.generation == 3, "deltas committed during the load and newer than it are applied after it")
        #expect(Set(index.search([1, 0], k: 5).results.map(\.label)) == [1, 3])
        index.load(generation: 2, vectors: [])
        #expect(index.count == 2, "an older snapshot never replaces newer contents")
    }

    @Test func reportsStale_OnlyWhenNoLocalWriteExplainsIt() {
        let index = TenantIndex(tenant: "t", policy: Self.policy(), buildQueue: DispatchQueue(label: "test"))
        index.load(generation: 4, vectors: [])
        #expect(!index.isStale(comparedTo: 4))
        #expect(index.isStale(comparedTo: 5))
        index.beginWrite()
        #expect(!index.isStale(comparedTo: 5), "this process's own commit is about to be applied")
        index.endWrite()
        #expect(index.isStale(comparedTo: 5))
    }

    @Test func movesToHNSW_AboveTheThreshold_AndAgreesWithExactSearch() async {
        var fixture = VectorFixture(seed: 21)
        let vectors = fixture.clustered(count: 120, dimensions: 16, clusters: 6)
        let policy = IndexPolicy(dimensions: 16, hnswThreshold: 100, parameters: HNSWIndex.Parameters(m: 8, efConstruction: 48, efSearch: 120))
        let index = TenantIndex(tenant: "t", policy: policy, buildQueue: DispatchQueue(label: "test-build"))
        index.load(generation: 0, vectors: vectors.prefix(90).enumerated().map { (seq: Int64($0.offset), vector: $0.element) })
        await index.settle()
        #expect(!index.usesGraph)
        index.apply(IndexDelta(generation: 1, removed: [], added: vectors.dropFirst(90).enumerated().map {
            (seq: Int64(90 + $0.offset), vector: $0.element)
        }))
        await index.settle()
        #expect(index.usesGraph)
        #expect(index.graphBuilds == 1)
        for query in fixture.clustered(count: 10, dimensions: 16, clusters: 6) {
            #expect(index.search(query, k: 5).results.map(\.label) == index.exactSearch(query, k: 5).map(\.label))
        }
        index.apply(IndexDelta(generation: 2, removed: (0..<80).map(Int64.init), added: []))
        #expect(!index.usesGraph, "below half the threshold the graph is dropped")
    }
}
