// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Core
import Foundation
import Testing

@Suite struct LocalProviderTests {
    static let passages = [
        LLMPassage(number: 1, title: "Escalation policy",
                   text: "Escalations are routed to humans through the review queue. A reviewer approves, edits or rejects each draft. Office plants are watered on Fridays.",
                   source: "doc_a:0"),
        LLMPassage(number: 2, title: "Refunds", text: "Refunds are issued within 5 business days. Contact billing for exceptions.", source: "doc_b:0"),
    ]

    @Test func answersExtractively_WithCitations() async throws {
        let provider = LocalProvider()
        let request = LLMRequest(messages: [.user("How do I route escalations to humans?")], passages: Self.passages)
        let completion = try await provider.complete(request)
        #expect(completion.text.contains("Escalations are routed to humans through the review queue. [1]"))
        #expect(!completion.text.contains("plants"), "irrelevant sentences are left out")
        #expect(!completion.text.contains("[2]"), "passages without a relevant sentence are not cited")
        #expect(completion.model == LocalProvider.modelName && completion.provider == "local")
        #expect(completion.usage.outputTokens == LocalProvider.estimateTokens(completion.text))
        #expect(completion.usage.inputTokens > 40)
        // Deterministic: the same request, the same answer and counts.
        let again = try await provider.complete(request)
        #expect(again.text == completion.text && again.usage == completion.usage)
    }

    @Test func picksSentencesAcrossPassages_InPassageOrder() async throws {
        let request = LLMRequest(messages: [.user("When are refunds issued, and how are escalations routed?")], passages: Self.passages)
        let text = try await LocalProvider().complete(request).text
        let escalation = try #require(text.range(of: "[1]"))
        let refund = try #require(text.range(of: "[2]"))
        #expect(escalation.lowerBound < refund.lowerBound)
        #expect(text.contains("Refunds are issued within 5 business days. [2]"))
    }

    @Test func saysSoPlainly_WhenNothingIsRelevant() async throws {
        let provider = LocalProvider()
        let unrelated = try await provider.complete(LLMRequest(messages: [.user("What is the capital of Mongolia?")], passages: Self.passages))
        #expect(unrelated.text == LocalProvider.noAnswer)
        let empty = try await provider.complete(LLMRequest(messages: [.user("How do refunds work?")], passages: []))
        #expect(empty.text == LocalProvider.noAnswer)
    }

    @Test func respectsMaxTokens() async throws {
        let long = (1...40).map { "Escalations rule number \($0) routes tickets to humans quickly." }.joined(separator: " ")
        let request = LLMRequest(messages: [.user("How are escalations routed to humans?")],
                                 passages: [LLMPassage(number: 1, title: "Rules", text: long, source: "x")], maxTokens: 20)
        let completion = try await LocalProvider(maxSentences: 10).complete(request)
        #expect(completion.text.utf8.count <= 80)
        #expect(completion.usage.outputTokens <= 20)
    }

    @Test func sentences_KeepCitationsAndDecimals() {
        #expect(Sentences.split("Version 1.2 ships today. It routes escalations. [1] Next one! [2][3]")
                == ["Version 1.2 ships today.", "It routes escalations. [1]", "Next one! [2] [3]"])
        #expect(Sentences.removingCitations("Routed to humans [1] and [12] [x]") == "Routed to humans  and  [x]")
        #expect(Sentences.citations(in: "a [2] b [1] c [2] [x] [12345]") == [2, 1])
    }
}
