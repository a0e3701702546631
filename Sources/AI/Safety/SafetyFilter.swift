// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core

/// Settings of the assistant's guard rails:
///
/// | variable | default | meaning |
/// | --- | --- | --- |
/// | `ATLAS_AI_REDACT_PII` | `true` | redact e-mails, phone numbers and Luhn-valid card numbers in questions and answers |
/// | `ATLAS_AI_MAX_QUESTION_CHARS` | `4000` | longest question accepted (422 beyond) |
/// | `ATLAS_AI_MAX_RESPONSE_CHARS` | `4000` | longest answer returned; longer ones are cut at a sentence |
public struct SafetyConfiguration: Sendable {
    public var redactsPII: Bool
    public var maxQuestionCharacters: Int
    public var maxResponseCharacters: Int

    public init(redactsPII: Bool = true, maxQuestionCharacters: Int = 4000, maxResponseCharacters: Int = 4000) {
        self.redactsPII = redactsPII
        self.maxQuestionCharacters = max(1, maxQuestionCharacters)
        self.maxResponseCharacters = max(16, maxResponseCharacters)
    }

    /// Reads the variables in the table above; throws ``ConfigurationError`` naming the variable.
    public init(environment: EnvironmentReader) throws {
        self.init(redactsPII: try environment.bool("ATLAS_AI_REDACT_PII", default: true),
                  maxQuestionCharacters: try environment.int("ATLAS_AI_MAX_QUESTION_CHARS", default: 4000, in: 1...100_000),
                  maxResponseCharacters: try environment.int("ATLAS_AI_MAX_RESPONSE_CHARS", default: 4000, in: 16...100_000))
    }
}

/// A retrieved chunk the injection check dropped, kept in the run's state for audit.
public struct FlaggedChunk: Sendable, Hashable, Codable {
    public var source: String
    public var title: String
    public var reasons: [String]

    public init(source: String, title: String, reasons: [String]) {
        self.source = source
        self.title = title
        self.reasons = reasons
    }
}

/// The assistant's guard rails in one place: PII redaction of the question (before any model or
/// cache sees it) and of the answer, the prompt-injection check of retrieved passages (flagged
/// ones are dropped), and the answer's length limit.
public struct SafetyFilter: Sendable {
    public let configuration: SafetyConfiguration
    public let redactor = PIIRedactor()
    public let detector = InjectionDetector()

    public init(configuration: SafetyConfiguration = SafetyConfiguration()) {
        self.configuration = configuration
    }

    /// The text with personal data redacted (when enabled).
    public func redact(_ text: String) -> (text: String, redactions: [Redaction]) {
        configuration.redactsPII ? redactor.redact(text) : (text, [])
    }

    /// Splits passages into those kept and those flagged as injection attempts.
    public func screen(_ passages: [LLMPassage]) -> (kept: [LLMPassage], flagged: [FlaggedChunk]) {
        var kept: [LLMPassage] = []
        var flagged: [FlaggedChunk] = []
        for passage in passages {
            let reasons = detector.reasons(passage.title + "\n" + passage.text)
            if reasons.isEmpty {
                kept.append(passage)
            } else {
                flagged.append(FlaggedChunk(source: passage.source, title: passage.title, reasons: reasons))
            }
        }
        return (kept, flagged)
    }

    /// The answer redacted and cut to ``SafetyConfiguration/maxResponseCharacters``: at the last
    /// sentence end that fits, else at a word, with an ellipsis.
    public func screenOutput(_ text: String) -> (text: String, redactions: [Redaction], truncated: Bool) {
        let (redacted, redactions) = redact(text)
        let limit = configuration.maxResponseCharacters
        guard redacted.count > limit else { return (redacted, redactions, false) }
        let head = redacted.prefix(limit - 1)
        var cut = head.endIndex
        if let end = head.lastIndex(where: { ".!?".contains($0) }), head.distance(from: head.startIndex, to: end) > limit / 2 {
            cut = head.index(after: end)
            // Keep a citation that belongs to the last sentence kept.
            var probe = cut
            while probe < head.endIndex, head[probe] == " " { probe = head.index(after: probe) }
            if probe < head.endIndex, head[probe] == "[", let close = head[probe...].firstIndex(of: "]") {
                cut = head.index(after: close)
            }
            return (String(head[..<cut]), redactions, true)
        }
        if let space = head.lastIndex(of: " ") { cut = space }
        return (String(head[..<cut]) + "…", redactions, true)
    }
}
