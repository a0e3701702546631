// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
public import Foundation

/// Which model provider answers, and how to reach it (SPEC §2):
///
/// | variable | default | meaning |
/// | --- | --- | --- |
/// | `ATLAS_AI_PROVIDER` | `local` | `local` (offline, deterministic), `openai`, `anthropic` |
/// | `OPENAI_API_KEY` / `ANTHROPIC_API_KEY` | unset | required by `openai` / `anthropic` |
/// | `ATLAS_AI_MODEL` | per provider | `gpt-4o-mini`, `claude-3-5-haiku-latest`, `atlas-extractive-1` |
/// | `ATLAS_AI_OPENAI_BASE_URL` | `https://api.openai.com/v1` | any Chat Completions server |
/// | `ATLAS_AI_ANTHROPIC_BASE_URL` | `https://api.anthropic.com/v1` | any Messages API server |
/// | `ATLAS_AI_LLM_TIMEOUT` | `60` | seconds per attempt |
/// | `ATLAS_AI_LLM_MAX_ATTEMPTS` | `3` | attempts per call on 429, 5xx and timeouts |
/// | `ATLAS_AI_MAX_OUTPUT_TOKENS` | `512` | tokens a completion may generate |
public struct LLMConfiguration: Sendable {
    public enum ProviderKind: String, Sendable, CaseIterable {
        case local, openai, anthropic

        /// The model used when `ATLAS_AI_MODEL` is unset.
        public var defaultModel: String {
            switch self {
            case .local: LocalProvider.modelName
            case .openai: "gpt-4o-mini"
            case .anthropic: "claude-3-5-haiku-latest"
            }
        }
    }

    public var provider: ProviderKind
    public var model: String
    public var openAIKey: String?
    public var anthropicKey: String?
    public var openAIBaseURL: URL
    public var anthropicBaseURL: URL
    /// Seconds for one attempt.
    public var timeout: TimeInterval
    public var maxAttempts: Int
    public var maxOutputTokens: Int
    /// First retry delay, doubled for each further attempt (unless the provider sends `Retry-After`).
    public var initialBackoff: TimeInterval

    public static let defaultOpenAIBaseURL = URL(string: "https://api.openai.com/v1")!
    public static let defaultAnthropicBaseURL = URL(string: "https://api.anthropic.com/v1")!

    public init(provider: ProviderKind = .local, model: String? = nil, openAIKey: String? = nil, anthropicKey: String? = nil,
                openAIBaseURL: URL = LLMConfiguration.defaultOpenAIBaseURL,
                anthropicBaseURL: URL = LLMConfiguration.defaultAnthropicBaseURL,
                timeout: TimeInterval = 60, maxAttempts: Int = 3, maxOutputTokens: Int = 512, initialBackoff: TimeInterval = 0.5) {
        self.provider = provider
        self.model = model ?? provider.defaultModel
        self.openAIKey = openAIKey
        self.anthropicKey = anthropicKey
        self.openAIBaseURL = openAIBaseURL
        self.anthropicBaseURL = anthropicBaseURL
        self.timeout = timeout
        self.maxAttempts = max(1, maxAttempts)
        self.maxOutputTokens = max(1, maxOutputTokens)
        self.initialBackoff = max(0, initialBackoff)
    }

    /// Reads the variables in the table above. A remote provider without its key, or a base URL
    /// that is not http(s), throws ``ConfigurationError`` naming the variable (never its value).
    public init(environment: EnvironmentReader) throws {
        let provider = try environment.choice("ATLAS_AI_PROVIDER", default: ProviderKind.local)
        let openAIKey = environment.raw("OPENAI_API_KEY")
        let anthropicKey = environment.raw("ANTHROPIC_API_KEY")
        switch provider {
        case .openai where openAIKey == nil:
            throw ConfigurationError(variable: "OPENAI_API_KEY", reason: "is required when ATLAS_AI_PROVIDER=openai")
        case .anthropic where anthropicKey == nil:
            throw ConfigurationError(variable: "ANTHROPIC_API_KEY", reason: "is required when ATLAS_AI_PROVIDER=anthropic")
        default: break
        }
        self.init(
            provider: provider,
            model: environment.raw("ATLAS_AI_MODEL"),
            openAIKey: openAIKey,
            anthropicKey: anthropicKey,
            openAIBaseURL: try Self.baseURL(environment, "ATLAS_AI_OPENAI_BASE_URL", default: Self.defaultOpenAIBaseURL),
            anthropicBaseURL: try Self.baseURL(environment, "ATLAS_AI_ANTHROPIC_BASE_URL", default: Self.defaultAnthropicBaseURL),
            timeout: try environment.double("ATLAS_AI_LLM_TIMEOUT", default: 60, in: 0.1...600),
            maxAttempts: try environment.int("ATLAS_AI_LLM_MAX_ATTEMPTS", default: 3, in: 1...10),
            maxOutputTokens: try environment.int("ATLAS_AI_MAX_OUTPUT_TOKENS", default: 512, in: 1...32_768))
    }

    private static func baseURL(_ environment: EnvironmentReader, _ key: String, default value: URL) throws -> URL {
        guard let text = environment.raw(key) else { return value }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            throw ConfigurationError(variable: key, reason: "must be an http(s) URL such as https://api.openai.com/v1")
        }
        return url
    }

    /// The provider this configuration names.
    public func makeProvider() -> any LLMProvider {
        switch provider {
        case .local:
            LocalProvider(model: model)
        case .openai:
            OpenAIProvider(settings: RemoteLLMSettings(baseURL: openAIBaseURL, apiKey: openAIKey ?? "", model: model,
                                                       timeout: timeout, maxAttempts: maxAttempts, initialBackoff: initialBackoff))
        case .anthropic:
            AnthropicProvider(settings: RemoteLLMSettings(baseURL: anthropicBaseURL, apiKey: anthropicKey ?? "", model: model,
                                                          timeout: timeout, maxAttempts: maxAttempts, initialBackoff: initialBackoff))
        }
    }
}
