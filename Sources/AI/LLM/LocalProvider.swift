// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// The offline, deterministic provider (`ATLAS_AI_PROVIDER=local`, the default): it answers
/// extractively, with the sentences of the request's passages most relevant to the question, each
/// followed by its passage's citation `[n]`, and says so plainly when no passage is relevant.
/// It never invents text, so its answers are grounded by construction, and the same request
/// always gets the same answer.
///
/// Relevance: the question's terms (the retrieval analyzer's: stop words dropped, stemmed,
/// synonyms merged) are weighted by inverse sentence frequency over the passages; a sentence
/// scores the weighted share of the question it covers, plus a little for its passage's title.
/// Sentences covering less than ``minimumCoverage`` are not relevant. Up to ``maxSentences``
/// sentences are kept and put back in passage order.
///
/// Tokens are estimated as one per four UTF-8 bytes (rounded up) of what was sent and of what
/// was answered — the usual rule of thumb for English — so metering works offline too.
public struct LocalProvider: LLMProvider {
    public static let modelName = "atlas-extractive-1"
    /// The answer when no passage is relevant.
    public static let noAnswer = "I could not find anything relevant to this question in the knowledge base, so I cannot answer it reliably."

    public let model: String
    public let maxSentences: Int
    public let minimumCoverage: Double

    public init(model: String = LocalProvider.modelName, maxSentences: Int = 3, minimumCoverage: Double = 0.3) {
        self.model = model
        self.maxSentences = max(1, maxSentences)
        self.minimumCoverage = minimumCoverage
    }

    public var name: String { "local" }

    public func complete(_ request: LLMRequest) async throws -> LLMCompletion {
        let started = ContinuousClock.now
        let text = answer(request)
        let sent = [PromptBuilder.systemPrompt(for: request)] + request.messages.map(\.content)
        let usage = LLMUsage(inputTokens: sent.reduce(0) { $0 + Self.estimateTokens($1) }, outputTokens: Self.estimateTokens(text))
        return LLMCompletion(text: text, usage: usage, model: model, provider: name,
                             latencyMs: OpenAIProvider.milliseconds(since: started), stopReason: "stop")
    }

    /// Tokens of `text` by the four-bytes rule, at least one for non-empty text.
    public static func estimateTokens(_ text: String) -> Int {
        (text.utf8.count + 3) / 4
    }

    struct Candidate {
        var passage: Int
        var position: Int
        var number: Int
        var text: String
        var terms: Set<String>
        var score = 0.0
    }

    func answer(_ request: LLMRequest) -> String {
        let analyzer = TextAnalyzer.shared
        let questionTerms = Set(analyzer.terms(request.question)).subtracting(TextAnalyzer.questionWords)
        guard !questionTerms.isEmpty, !request.passages.isEmpty else { return Self.noAnswer }

        var candidates: [Candidate] = []
        var titleTerms: [Int: Set<String>] = [:]
        for (passageIndex, passage) in request.passages.enumerated() {
            titleTerms[passageIndex] = Set(analyzer.terms(passage.title))
            for (position, sentence) in Sentences.split(passage.text).enumerated() {
                let terms = Set(analyzer.terms(sentence))
                guard !terms.isEmpty else { continue }
                candidates.append(Candidate(passage: passageIndex, position: position, number: passage.number, text: sentence, terms: terms))
            }
        }
        guard !candidates.isEmpty else { return Self.noAnswer }

        // Inverse sentence frequency: a term every sentence has tells little.
        var weights: [String: Double] = [:]
        let count = Double(candidates.count)
        for term in questionTerms {
            let frequency = Double(candidates.reduce(0) { $0 + ($1.terms.contains(term) ? 1 : 0) })
            weights[term] = log(1 + count / (1 + frequency)) + 0.1
        }
        let total = weights.values.reduce(0, +)
        for index in candidates.indices {
            let covered = questionTerms.reduce(0.0) { $0 + (candidates[index].terms.contains($1) ? weights[$1]! : 0) }
            let titled = questionTerms.reduce(0.0) { $0 + (titleTerms[candidates[index].passage]!.contains($1) ? weights[$1]! : 0) }
            candidates[index].score = covered / total + 0.15 * titled / total
        }

        var chosen: [Candidate] = []
        var seenTexts: Set<String> = []
        for candidate in candidates.sorted(by: { ($0.score, -$0.passage, -$0.position) > ($1.score, -$1.passage, -$1.position) }) {
            let covered = questionTerms.reduce(0.0) { $0 + (candidate.terms.contains($1) ? weights[$1]! : 0) } / total
            guard chosen.count < maxSentences else { break }
            guard covered >= minimumCoverage else { continue }
            guard seenTexts.insert(candidate.text.lowercased()).inserted else { continue }
            chosen.append(candidate)
        }
        guard !chosen.isEmpty else { return Self.noAnswer }

        let budget = request.maxTokens * 4
        var text = ""
        for candidate in chosen.sorted(by: { ($0.passage, $0.position) < ($1.passage, $1.position) }) {
            let body = Sentences.removingCitations(candidate.text).trimmingCharacters(in: .whitespaces)
            let piece = (Self.endsSentence(body) ? body : body + ".") + " [\(candidate.number)]"
            if !text.isEmpty, text.utf8.count + 1 + piece.utf8.count > budget { break }
            text += text.isEmpty ? piece : " " + piece
        }
        if text.utf8.count > budget { text = String(decoding: text.utf8.prefix(budget), as: UTF8.self) }
        return text
    }

    static func endsSentence(_ text: String) -> Bool {
        guard let last = text.last else { return false }
        return ".!?…".contains(last)
    }
}
