// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// A model behind OpenAI's Chat Completions API, or any server that speaks it (Azure OpenAI,
/// vLLM, Ollama, LiteLLM).
///
/// Request (platform.openai.com/docs/api-reference/chat/create): `POST <base>/chat/completions`
/// with `Authorization: Bearer <key>` and
/// `{"model", "messages": [{"role": "system"|"user"|"assistant", "content"}], "max_tokens", "temperature"}`.
/// Response: `{"model", "choices": [{"message": {"role": "assistant", "content"}, "finish_reason"}],
/// "usage": {"prompt_tokens", "completion_tokens", "total_tokens"}}`. `max_tokens` rather than
/// `max_completion_tokens`, since compatible servers know the former.
public struct OpenAIProvider: LLMProvider {
    public let settings: RemoteLLMSettings
    private let transport: RemoteLLMTransport

    public init(settings: RemoteLLMSettings) {
        self.settings = settings
        transport = RemoteLLMTransport(provider: "openai", settings: settings)
    }

    public var name: String { "openai" }
    public var model: String { settings.model }

    private struct Body: Encodable {
        struct Message: Encodable {
            var role: String
            var content: String
        }
        var model: String
        var messages: [Message]
        var maxTokens: Int
        var temperature: Double

        enum CodingKeys: String, CodingKey {
            case model, messages, temperature
            case maxTokens = "max_tokens"
        }
    }

    private struct Answer: Decodable {
        struct Choice: Decodable {
            struct Message: Decodable { var content: String? }
            var message: Message
            var finishReason: String?
            enum CodingKeys: String, CodingKey {
                case message
                case finishReason = "finish_reason"
            }
        }
        struct Usage: Decodable {
            var promptTokens: Int
            var completionTokens: Int
            enum CodingKeys: String, CodingKey {
                case promptTokens = "prompt_tokens"
                case completionTokens = "completion_tokens"
            }
        }
        var model: String?
        var choices: [Choice]
        var usage: Usage?
    }

    public func complete(_ request: LLMRequest) async throws -> LLMCompletion {
        let started = ContinuousClock.now
        let messages = [Body.Message(role: "system", content: PromptBuilder.systemPrompt(for: request))]
            + request.messages.map { Body.Message(role: $0.role.rawValue, content: $0.content) }
        let body = try JSONEncoder().encode(Body(model: settings.model, messages: messages, maxTokens: request.maxTokens,
                                                 temperature: request.temperature))
        let (data, _) = try await transport.post(path: "chat/completions", headers: ["Authorization": "Bearer \(settings.apiKey)"],
                                                 body: body)
        let answer: Answer
        do {
            answer = try JSONDecoder().decode(Answer.self, from: data)
        } catch {
            throw RemoteLLMTransport.malformed(name, "the response is not a chat completion")
        }
        guard let choice = answer.choices.first, let text = choice.message.content else {
            throw RemoteLLMTransport.malformed(name, "the chat completion has no message content")
        }
        guard let usage = answer.usage else {
            throw RemoteLLMTransport.malformed(name, "the chat completion reports no token usage")
        }
        return LLMCompletion(text: text, usage: LLMUsage(inputTokens: usage.promptTokens, outputTokens: usage.completionTokens),
                             model: answer.model ?? settings.model, provider: name,
                             latencyMs: Self.milliseconds(since: started), stopReason: choice.finishReason)
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }
}
