// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Testing

@Suite struct HybridRankerTests {
    @Test func ranksItemsFoundByBothListsFirst() {
        let fused = HybridRanker.fuse(
            vector: [(label: 1, score: 0.9), (label: 2, score: 0.8), (label: 3, score: 0.7)],
            lexical: [(label: 4, score: 12), (label: 3, score: 9), (label: 5, score: 1)])
        #expect(fused.first?.label == 3, "an item in both lists beats the top of either")
        let three = try! #require(fused.first)
        #expect(abs(three.score - (1 / 63.0 + 1 / 62.0)) < 1e-12)
        #expect(three.vectorRank == 3 && three.lexicalRank == 2)
        #expect(three.vectorScore == 0.7 && three.lexicalScore == 9)
        #expect(Set(fused.map(\.label)) == [1, 2, 3, 4, 5])
        #expect(fused.map(\.label) == [3, 1, 4, 2, 5], "ties between first places go to the vector list")
    }

    @Test func keepsOneListsOrder_WhenTheOtherIsEmpty() {
        let fused = HybridRanker.fuse(vector: [], lexical: [(label: 9, score: 3), (label: 8, score: 2)])
        #expect(fused.map(\.label) == [9, 8])
        #expect(fused.allSatisfy { $0.vectorRank == nil })
    }

    @Test func highlightsMatchingTerms_AndEscapesHTML() {
        let snippets = Highlighter.snippets(
            text: "Refunds <b>are</b> processed within five business days & reimbursed to the card.",
            queryTerms: Set(TextAnalyzer.shared.terms("refund")))
        #expect(snippets.count == 1)
        let snippet = try! #require(snippets.first)
        #expect(snippet.contains("<mark>Refunds</mark>"))
        #expect(snippet.contains("<mark>reimbursed</mark>"), "synonyms are marked too")
        #expect(snippet.contains("&lt;b&gt;are&lt;/b&gt;") && snippet.contains("&amp;"))
        #expect(Highlighter.snippets(text: "nothing relevant here", queryTerms: ["refund"]).isEmpty)
    }
}
