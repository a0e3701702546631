// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// A model behind Anthropic's Messages API.
///
/// Request (docs.anthropic.com/en/api/messages): `POST <base>/messages` with `x-api-key`,
/// `anthropic-version: 2023-06-01` and
/// `{"model", "max_tokens", "system", "messages": [{"role": "user"|"assistant", "content"}], "temperature"}`.
/// Response: `{"type": "message", "model", "content": [{"type": "text", "text"}, …], "stop_reason",
/// "usage": {"input_tokens", "output_tokens"}}`; the text blocks are joined. 529 (overloaded) is
/// retried like any 5xx.
public struct AnthropicProvider: LLMProvider {
    public static let apiVersion = "2023-06-01"

    public let settings: RemoteLLMSettings
    private let transport: RemoteLLMTransport

    public init(settings: RemoteLLMSettings) {
        self.settings = settings
        transport = RemoteLLMTransport(provider: "anthropic", settings: settings)
    }

    public var name: String { "anthropic" }
    public var model: String { settings.model }

    private struct Body: Encodable {
        struct Message: Encodable {
            var role: String
            var content: String
        }
        var model: String
        var maxTokens: Int
        var system: String
        var messages: [Message]
        var temperature: Double

        enum CodingKeys: String, CodingKey {
            case model, system, messages, temperature
            case maxTokens = "max_tokens"
        }
    }

    private struct Answer: Decodable {
        struct Block: Decodable {
            var type: String
            var text: String?
        }
        struct Usage: Decodable {
            var inputTokens: Int
            var outputTokens: Int
            enum CodingKeys: String, CodingKey {
                case inputTokens = "input_tokens"
                case outputTokens = "output_tokens"
            }
        }
        var type: String
        var model: String?
        var content: [Block]
        var stopReason: String?
        var usage: Usage

        enum CodingKeys: String, CodingKey {
            case type, model, content, usage
            case stopReason = "stop_reason"
        }
    }

    public func complete(_ request: LLMRequest) async throws -> LLMCompletion {
        let started = ContinuousClock.now
        // The Messages API wants the conversation to start with a user turn.
        var messages = request.messages.map { Body.Message(role: $0.role.rawValue, content: $0.content) }
        if messages.first?.role != "user" { messages.insert(Body.Message(role: "user", content: "(conversation)"), at: 0) }
        let body = try JSONEncoder().encode(Body(model: settings.model, maxTokens: request.maxTokens,
                                                 system: PromptBuilder.systemPrompt(for: request), messages: messages,
                                                 temperature: min(1, max(0, request.temperature))))
        let (data, _) = try await transport.post(path: "messages",
                                                 headers: ["x-api-key": settings.apiKey, "anthropic-version": Self.apiVersion],
                                                 body: body)
        let answer: Answer
        do {
            answer = try JSONDecoder().decode(Answer.self, from: data)
        } catch {
            throw RemoteLLMTransport.malformed(name, "the response is not a Messages API message")
        }
        guard answer.type == "message" else {
            throw RemoteLLMTransport.malformed(name, "the response is of type '\(answer.type.prefix(40))', not a message")
        }
        let texts = answer.content.filter { $0.type == "text" }.compactMap(\.text)
        guard !texts.isEmpty else {
            throw RemoteLLMTransport.malformed(name, "the message has no text content")
        }
        return LLMCompletion(text: texts.joined(), usage: LLMUsage(inputTokens: answer.usage.inputTokens, outputTokens: answer.usage.outputTokens),
                             model: answer.model ?? settings.model, provider: name,
                             latencyMs: OpenAIProvider.milliseconds(since: started), stopReason: answer.stopReason)
    }
}
