// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
public import Foundation

/// One turn of a conversation sent to a model.
public struct LLMMessage: Sendable, Hashable, Codable {
    public enum Role: String, Sendable, Hashable, Codable {
        case user
        case assistant
    }

    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }

    /// A user turn.
    public static func user(_ content: String) -> LLMMessage { LLMMessage(role: .user, content: content) }
}

/// A retrieved passage the answer must be grounded on, cited as `[number]`.
public struct LLMPassage: Sendable, Hashable, Codable {
    /// 1-based; the answer cites it as `[number]`.
    public var number: Int
    public var title: String
    public var text: String
    /// Where it came from, e.g. a chunk id or `catalog:fct_ai_context`.
    public var source: String

    public init(number: Int, title: String, text: String, source: String) {
        self.number = number
        self.title = title
        self.text = text
        self.source = source
    }
}

/// What to ask a model.
///
/// Remote providers receive ``passages`` inside the system prompt (``PromptBuilder``); the
/// ``LocalProvider`` reads them directly and answers from them only.
public struct LLMRequest: Sendable, Hashable {
    public var system: String?
    public var messages: [LLMMessage]
    public var passages: [LLMPassage]
    /// Upper bound of tokens the model may generate.
    public var maxTokens: Int
    /// 0 is the most deterministic.
    public var temperature: Double

    public init(system: String? = nil, messages: [LLMMessage], passages: [LLMPassage] = [], maxTokens: Int = 512,
                temperature: Double = 0) {
        self.system = system
        self.messages = messages
        self.passages = passages
        self.maxTokens = max(1, maxTokens)
        self.temperature = temperature
    }

    /// The text of the last user turn: the question being answered.
    public var question: String {
        messages.last(where: { $0.role == .user })?.content ?? ""
    }
}

/// Tokens a call consumed, as the provider reported them (estimated by ``LocalProvider``).
public struct LLMUsage: Sendable, Hashable, Codable {
    public var inputTokens: Int
    public var outputTokens: Int

    public init(inputTokens: Int, outputTokens: Int) {
        self.inputTokens = max(0, inputTokens)
        self.outputTokens = max(0, outputTokens)
    }

    public var totalTokens: Int { inputTokens + outputTokens }
}

/// A model's answer.
public struct LLMCompletion: Sendable, Hashable {
    public var text: String
    public var usage: LLMUsage
    /// The model that answered, as the provider named it.
    public var model: String
    /// `local`, `openai` or `anthropic`.
    public var provider: String
    /// Wall time of the call, retries included, in milliseconds.
    public var latencyMs: Double
    /// Why generation stopped, when the provider says (`stop`, `end_turn`, `length`, `max_tokens`).
    public var stopReason: String?

    public init(text: String, usage: LLMUsage, model: String, provider: String, latencyMs: Double, stopReason: String? = nil) {
        self.text = text
        self.usage = usage
        self.model = model
        self.provider = provider
        self.latencyMs = latencyMs
        self.stopReason = stopReason
    }
}

/// A language model behind one call.
///
/// ```swift
/// let provider = try configuration.llm.makeProvider()          // ATLAS_AI_PROVIDER
/// let completion = try await provider.complete(LLMRequest(system: "Answer briefly.", messages: [.user("Hi")]))
/// print(completion.text, completion.usage.totalTokens)
/// ```
///
/// Implementations: ``LocalProvider`` (offline, deterministic, extractive), ``OpenAIProvider``
/// (Chat Completions), ``AnthropicProvider`` (Messages). Wrap one in ``MeteredProvider`` to check
/// the tenant's budget before and record usage after every call.
public protocol LLMProvider: Sendable {
    /// `local`, `openai` or `anthropic`.
    var name: String { get }
    /// The model requested by default.
    var model: String { get }
    /// Runs one completion. Throws ``LLMError`` when the provider fails or answers something
    /// that is not a completion.
    func complete(_ request: LLMRequest) async throws -> LLMCompletion
}

/// A provider failure, rendered as problem+json: 504 for a timeout, 502 for a refusal or a bad
/// answer, 503 when the provider is overloaded after every retry. The description never holds
/// an API key or the prompt.
public struct LLMError: ProblemError, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// No answer within the timeout.
        case timeout
        /// Connection refused, reset, DNS: nothing came back.
        case unreachable
        /// The provider answered with an error status.
        case httpStatus
        /// The provider answered 2xx with a body that is not a completion.
        case malformedResponse
        /// The credentials were refused (401/403).
        case unauthorized
    }

    public var kind: Kind
    public var provider: String
    public var reason: String
    /// The provider's HTTP status, when it answered.
    public var httpStatus: Int?
    /// Whether a retry may succeed (429, 5xx, timeouts, transport failures).
    public var transient: Bool
    /// The provider's `Retry-After`, in seconds.
    public var retryAfter: TimeInterval?
    /// Attempts made, the last included.
    public var attempts: Int = 1

    public init(kind: Kind, provider: String, reason: String, httpStatus: Int? = nil, transient: Bool, retryAfter: TimeInterval? = nil) {
        self.kind = kind
        self.provider = provider
        self.reason = reason
        self.httpStatus = httpStatus
        self.transient = transient
        self.retryAfter = retryAfter
    }

    public var status: Int {
        switch kind {
        case .timeout: 504
        case .httpStatus where httpStatus == 429 || (httpStatus ?? 0) >= 500: 503
        default: 502
        }
    }

    public var code: String {
        switch kind {
        case .timeout: "llm_timeout"
        case .malformedResponse: "llm_bad_response"
        default: "llm_unavailable"
        }
    }

    public var detail: String {
        let tries = attempts > 1 ? " after \(attempts) attempts" : ""
        return "the \(provider) model provider failed\(tries): \(reason)"
    }

    public var headers: [(name: String, value: String)] {
        transient ? [("Retry-After", String(Int((retryAfter ?? 5).rounded(.up))))] : []
    }

    public var description: String { "\(status) \(code): \(detail)" }
}
