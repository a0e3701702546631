// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core

/// How demanding the evaluation is (`ATLAS_AI_EVALUATION_MODE`).
public enum EvaluationMode: String, Sendable, CaseIterable, Codable {
    /// Review only answers at high risk of hallucination.
    case fast
    /// Lower bar: review anything not clearly grounded, and questions in a negative mood.
    case strict
}

/// The `evaluation` field of the assistant's state.
public struct Evaluation: Sendable, Hashable, Codable {
    /// `positive`, `neutral` or `negative`: the mood of the question.
    public var sentiment: String
    /// `low`, `medium` or `high`.
    public var hallucinationRisk: String
    public var needsReview: Bool
    /// Share of the answer's sentences supported by the context, 0…1.
    public var groundedness: Double
    public var supportedSentences: Int
    public var totalSentences: Int
    public var mode: String
    /// Why the answer needs review, when it does.
    public var reasons: [String]

    enum CodingKeys: String, CodingKey {
        case sentiment, groundedness, mode, reasons
        case hallucinationRisk = "hallucination_risk"
        case needsReview = "needs_review"
        case supportedSentences = "supported_sentences"
        case totalSentences = "total_sentences"
    }

    /// The state's JSON form (snake_case keys).
    public var json: JSONValue {
        .object([
            "sentiment": .string(sentiment), "hallucination_risk": .string(hallucinationRisk), "needs_review": .bool(needsReview),
            "groundedness": .number((groundedness * 1000).rounded() / 1000), "supported_sentences": .number(Double(supportedSentences)),
            "total_sentences": .number(Double(totalSentences)), "mode": .string(mode), "reasons": .array(reasons.map { .string($0) }),
        ])
    }
}

/// Judges an answer against the context it was given, without another model call:
///
/// - **Groundedness**: the answer is cut into sentences (citations removed); a sentence is
///   supported when at least ``supportThreshold`` of its content terms (the retrieval analyzer's
///   stemmed, synonym-merged terms) occur in the context. The score is the supported share.
/// - **Hallucination risk**: `low` at a score of 0.8 or more (0.9 in strict mode), `medium` at 0.5
///   or more (0.6), else `high`; an answer citing a passage that does not exist is at least
///   `medium`; an answer given with no context at all is `high`.
/// - **Sentiment** of the question, from a small lexicon with negation (*not good* is negative).
/// - **Needs review**: `fast` reviews `high` risk only; `strict` also reviews `medium` risk and
///   negative questions.
public struct Evaluator: Sendable {
    public let mode: EvaluationMode

    public init(mode: EvaluationMode = .fast) {
        self.mode = mode
    }

    /// Least share of a sentence's terms found in the context for it to count as supported.
    public var supportThreshold: Double { mode == .strict ? 0.75 : 0.6 }

    public func evaluate(question: String, answer: String, context: [String], passageCount: Int? = nil) -> Evaluation {
        let analyzer = TextAnalyzer.shared
        var contextTerms: Set<String> = []
        for text in context { contextTerms.formUnion(analyzer.terms(text)) }

        var total = 0
        var supported = 0
        for sentence in Sentences.split(answer) {
            let terms = analyzer.terms(Sentences.removingCitations(sentence))
            guard !terms.isEmpty else { continue }
            total += 1
            let found = terms.reduce(0) { $0 + (contextTerms.contains($1) ? 1 : 0) }
            if Double(found) / Double(terms.count) >= supportThreshold { supported += 1 }
        }
        let score = total == 0 || contextTerms.isEmpty ? 0 : Double(supported) / Double(total)

        var reasons: [String] = []
        var risk: String
        let (lowBar, mediumBar) = mode == .strict ? (0.9, 0.6) : (0.8, 0.5)
        if contextTerms.isEmpty {
            risk = "high"
            reasons.append("no relevant context was found")
        } else if score >= lowBar {
            risk = "low"
        } else if score >= mediumBar {
            risk = "medium"
        } else {
            risk = "high"
        }
        if risk != "low", !contextTerms.isEmpty {
            reasons.append("\(supported) of \(total) answer sentences are supported by the context")
        }
        if let passageCount {
            let invalid = Sentences.citations(in: answer).filter { $0 < 1 || $0 > passageCount }
            if !invalid.isEmpty {
                if risk == "low" { risk = "medium" }
                reasons.append("cites passages that do not exist: \(invalid.map { "[\($0)]" }.joined(separator: ", "))")
            }
        }
        let sentiment = Sentiment.classify(question)
        var needsReview = risk == "high"
        if mode == .strict {
            if risk == "medium" { needsReview = true }
            if sentiment == "negative" {
                needsReview = true
                reasons.append("the question reads negative")
            }
        }
        return Evaluation(sentiment: sentiment, hallucinationRisk: risk, needsReview: needsReview, groundedness: score,
                          supportedSentences: supported, totalSentences: total, mode: mode.rawValue,
                          reasons: needsReview ? reasons : [])
    }
}

/// A lexicon sentiment classifier: enough to tell an angry customer from a neutral question.
enum Sentiment {
    static let positive: Set<String> = [
        "good", "great", "excellent", "love", "loved", "like", "happy", "thanks", "thank", "awesome", "perfect", "helpful",
        "amazing", "nice", "glad", "pleased", "works", "fast", "easy", "wonderful", "appreciate", "fantastic", "smooth",
    ]
    static let negative: Set<String> = [
        "bad", "terrible", "awful", "hate", "angry", "broken", "fail", "failed", "failing", "fails", "failure", "error", "errors",
        "crash", "crashed", "crashes", "bug", "bugs", "slow", "worst", "useless", "frustrated", "frustrating", "annoyed",
        "annoying", "unacceptable", "refund", "cancel", "disappointed", "disappointing", "wrong", "outage", "down", "lost",
        "problem", "problems", "issue", "issues", "complaint", "ridiculous", "horrible", "furious", "stuck", "cannot", "cant",
    ]
    static let negations: Set<String> = ["not", "no", "never", "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "without", "hardly"]

    static func classify(_ text: String) -> String {
        var score = 0.0
        var negateFor = 0
        for word in TextAnalyzer.shared.words(text).map(\.text) {
            if negations.contains(word) {
                negateFor = 3
                continue
            }
            var value = positive.contains(word) ? 1.0 : negative.contains(word) ? -1.0 : 0
            if negateFor > 0 {
                value = -value * 0.8
                negateFor -= 1
            }
            score += value
        }
        if score >= 0.5 { return "positive" }
        if score <= -0.5 { return "negative" }
        return "neutral"
    }
}
