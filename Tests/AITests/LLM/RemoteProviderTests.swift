// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Core
import Foundation
import HTTP
import HTTPTypes
import Logging
import Synchronization
import Testing

/// The OpenAI (Chat Completions) and Anthropic (Messages) adapters against a real HTTP server on
/// 127.0.0.1 that speaks each documented wire format
/// (platform.openai.com/docs/api-reference/chat/create, docs.anthropic.com/en/api/messages).
@Suite struct RemoteProviderTests {
    enum Flavor: String, Sendable, CaseIterable, CustomTestStringConvertible {
        case openai, anthropic
        var testDescription: String { rawValue }
        var path: String { self == .openai ? "/v1/chat/completions" : "/v1/messages" }
    }

    /// One scripted answer of the fake provider.
    enum Step: Sendable {
        case status(Int, retryAfter: String?)
        case malformed
        case wrongShape
        case delay(Duration)
    }

    /// What the fake provider saw, and what it answers next.
    final class FakeProvider: Sendable {
        struct Seen: Sendable {
            var headers: [String: String]
            var json: JSONValue
            var at: ContinuousClock.Instant
        }
        let flavor: Flavor
        let requests = Mutex<[Seen]>([])
        let script = Mutex<[Step]>([])

        init(flavor: Flavor) { self.flavor = flavor }

        var router: Router {
            let router = Router()
            router.post(flavor.path) { [self] request, _ in
                var headers: [String: String] = [:]
                for name in ["Authorization", "x-api-key", "anthropic-version", "Content-Type"] {
                    if let value = request.headers[HTTPField.Name(name)!] { headers[name.lowercased()] = value }
                }
                let json = JSONValue(jsonText: String(decoding: request.body, as: UTF8.self)) ?? .null
                requests.withLock { $0.append(Seen(headers: headers, json: json, at: .now)) }
                switch script.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
                case .status(let code, let retryAfter)?:
                    let body = flavor == .openai
                        ? #"{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests"}}"#
                        : #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
                    var response = Response.json(rawJSON: body, status: HTTPResponse.Status(code: code))
                    if let retryAfter { response.headers[HTTPField.Name("Retry-After")!] = retryAfter }
                    return response
                case .malformed?:
                    return Response(status: .ok, headers: [.contentType: "application/json"], body: .bytes(Array("{\"choices\": [".utf8)))
                case .wrongShape?:
                    return Response.json(rawJSON: #"{"object":"list","data":[]}"#)
                case .delay(let pause)?:
                    try await Task.sleep(for: pause)
                case nil:
                    break
                }
                var question = ""
                if case .array(let messages)? = json["messages"] { question = messages.last?["content"]?.string ?? "" }
                if flavor == .openai {
                    return Response.json(rawJSON: """
                    {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18",
                     "choices":[{"index":0,"message":{"role":"assistant","content":"Echo: \(question) [1]"},"finish_reason":"stop"}],
                     "usage":{"prompt_tokens":57,"completion_tokens":9,"total_tokens":66}}
                    """)
                }
                return Response.json(rawJSON: """
                {"id":"msg_1","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022",
                 "content":[{"type":"text","text":"Echo: "},{"type":"text","text":"\(question) [1]"}],
                 "stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":61,"output_tokens":11}}
                """)
            }
            return router
        }
    }

    static func withFakeProvider(_ flavor: Flavor, _ body: (FakeProvider, URL) async throws -> Void) async throws {
        let fake = FakeProvider(flavor: flavor)
        try await withLocalServer(fake.router, workerThreads: 2) { port in
            try await body(fake, URL(string: "http://127.0.0.1:\(port)/v1")!)
        }
    }

    static func provider(_ flavor: Flavor, url: URL, timeout: TimeInterval = 5, attempts: Int = 3, backoff: TimeInterval = 0.01) -> any LLMProvider {
        let settings = RemoteLLMSettings(baseURL: url, apiKey: "sk-test-secret", model: flavor == .openai ? "gpt-4o-mini" : "claude-3-5-haiku-latest",
                                         timeout: timeout, maxAttempts: attempts, initialBackoff: backoff)
        return flavor == .openai ? OpenAIProvider(settings: settings) : AnthropicProvider(settings: settings)
    }

    static let request = LLMRequest(system: "Answer from the passages.", messages: [.user("How do I route escalations?")],
                                    passages: [LLMPassage(number: 1, title: "Escalations", text: "Route escalations to humans.", source: "doc:0")],
                                    maxTokens: 300, temperature: 0.2)

    @Test(arguments: Flavor.allCases)
    func speaksTheWireFormat_AndReadsUsage(_ flavor: Flavor) async throws {
        try await Self.withFakeProvider(flavor) { fake, url in
            let completion = try await Self.provider(flavor, url: url).complete(Self.request)
            #expect(completion.text == "Echo: How do I route escalations? [1]")
            #expect(completion.provider == flavor.rawValue)
            #expect(completion.latencyMs > 0)
            let seen = try #require(fake.requests.withLock { $0.first })
            #expect(seen.headers["content-type"] == "application/json")
            #expect(seen.json["temperature"]?.jsonText == "0.2")
            #expect(seen.json["max_tokens"]?.int64 == 300)
            switch flavor {
            case .openai:
                #expect(completion.usage == LLMUsage(inputTokens: 57, outputTokens: 9))
                #expect(completion.model == "gpt-4o-mini-2024-07-18")
                #expect(completion.stopReason == "stop")
                #expect(seen.headers["authorization"] == "Bearer sk-test-secret")
                #expect(seen.json["model"]?.string == "gpt-4o-mini")
                #expect(seen.json["messages"]?[0]?["role"]?.string == "system")
                let system = seen.json["messages"]?[0]?["content"]?.string ?? ""
                #expect(system.hasPrefix("Answer from the passages.") && system.contains("[1] Escalations\nRoute escalations to humans."))
                #expect(seen.json["messages"]?[1]?["role"]?.string == "user")
            case .anthropic:
                #expect(completion.usage == LLMUsage(inputTokens: 61, outputTokens: 11))
                #expect(completion.model == "claude-3-5-haiku-20241022")
                #expect(completion.stopReason == "end_turn")
                #expect(seen.headers["x-api-key"] == "sk-test-secret")
                #expect(seen.headers["anthropic-version"] == "2023-06-01")
                #expect(seen.headers["authorization"] == nil)
                #expect(seen.json["system"]?.string?.contains("[1] Escalations") == true)
                #expect(seen.json["messages"]?[0]?["role"]?.string == "user")
                #expect(seen.json["messages"]?[0]?["content"]?.string == "How do I route escalations?")
            }
        }
    }

    @Test(arguments: Flavor.allCases)
    func retries429_HonouringRetryAfter(_ flavor: Flavor) async throws {
        try await Self.withFakeProvider(flavor) { fake, url in
            fake.script.withLock { $0 = [.status(429, retryAfter: "1")] }
            let completion = try await Self.provider(flavor, url: url, backoff: 0).complete(Self.request)
            #expect(completion.text.hasPrefix("Echo:"))
            let seen = fake.requests.withLock { $0 }
            #expect(seen.count == 2)
            // Without Retry-After the backoff would be 0 s; the second attempt waited for the header's 1 s.
            #expect(seen[1].at - seen[0].at >= .milliseconds(950))
        }
    }

    @Test(arguments: Flavor.allCases)
    func retries5xxWithBackoff_ThenSucceeds(_ flavor: Flavor) async throws {
        try await Self.withFakeProvider(flavor) { fake, url in
            fake.script.withLock { $0 = [.status(500, retryAfter: nil), .status(flavor == .anthropic ? 529 : 503, retryAfter: nil)] }
            let completion = try await Self.provider(flavor, url: url, backoff: 0.2).complete(Self.request)
            #expect(completion.text.hasPrefix("Echo:"))
            let seen = fake.requests.withLock { $0 }
            #expect(seen.count == 3)
            #expect(seen[1].at - seen[0].at >= .milliseconds(190), "first backoff 0.2 s")
            #expect(seen[2].at - seen[1].at >= .milliseconds(390), "then doubled")
        }
    }

    @Test(arguments: Flavor.allCases)
    func givesUpAfterMaxAttempts_WithAClearError(_ flavor: Flavor) async throws {
        try await Self.withFakeProvider(flavor) { fake, url in
            fake.script.withLock { $0 = Array(repeating: .status(503, retryAfter: "0"), count: 5) }
            let error = await #expect(throws: LLMError.self) { try await Self.provider(flavor, url: url, attempts: 2).complete(Self.request) }
            #expect(error?.attempts == 2)
            #expect(error?.status == 503)
            #expect(error?.code == "llm_unavailable")
            #expect(error?.detail.contains("HTTP 503") == true)
            #expect(fake.requests.withLock { $0.count } == 2)
        }
    }

    @Test(arguments: Flavor.allCases)
    func timesOut_WhenTheProviderHangs(_ flavor: Flavor) async throws {
        try await Self.withFakeProvider(flavor) { fake, url in
            fake.script.withLock { $0 = [.delay(.seconds(8))] }
            let started = ContinuousClock.now
            let error = await #expect(throws: LLMError.self) {
                try await Self.provider(flavor, url: url, timeout: 0.3, attempts: 1).complete(Self.request)
            }
            #expect(error?.kind == .timeout)
            #expect(error?.status == 504)
            #expect(error?.code == "llm_timeout")
            #expect(ContinuousClock.now - started < .seconds(6), "the 0.3 s timeout ended the call long before the 8 s answer")
        }
    }

    @Test(arguments: Flavor.allCases)
    func rejectsMalformedBodies_WithoutRetrying(_ flavor: Flavor) async throws {
        try await Self.withFakeProvider(flavor) { fake, url in
            fake.script.withLock { $0 = [.malformed, .wrongShape] }
            let provider = Self.provider(flavor, url: url)
            let first = await #expect(throws: LLMError.self) { try await provider.complete(Self.request) }
            #expect(first?.kind == .malformedResponse)
            #expect(first?.code == "llm_bad_response")
            #expect(first?.status == 502)
            let second = await #expect(throws: LLMError.self) { try await provider.complete(Self.request) }
            #expect(second?.kind == .malformedResponse)
            #expect(second?.detail.contains(flavor == .openai ? "not a chat completion" : "not a Messages API message") == true)
            #expect(fake.requests.withLock { $0.count } == 2, "a malformed answer is not retried")
        }
    }

    @Test(arguments: Flavor.allCases)
    func refusedCredentials_AreNotRetried_AndNeverLeakTheKey(_ flavor: Flavor) async throws {
        try await Self.withFakeProvider(flavor) { fake, url in
            fake.script.withLock { $0 = [.status(401, retryAfter: nil)] }
            let error = await #expect(throws: LLMError.self) { try await Self.provider(flavor, url: url).complete(Self.request) }
            #expect(error?.kind == .unauthorized)
            #expect(error.map { !$0.description.contains("sk-test") } == true)
            #expect(fake.requests.withLock { $0.count } == 1)
        }
    }

    @Test func retryAfter_AcceptsSecondsAndHTTPDates() {
        #expect(RemoteLLMTransport.retryAfter("3") == 3)
        #expect(RemoteLLMTransport.retryAfter("soon") == nil)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let date = formatter.string(from: Date().addingTimeInterval(30))
        let seconds = try? #require(RemoteLLMTransport.retryAfter(date))
        #expect((25...31).contains(seconds ?? -1))
    }

    @Test func configuration_ChoosesTheProvider_AndRequiresItsKey() throws {
        let local = try LLMConfiguration(environment: EnvironmentReader([:]))
        #expect(local.provider == .local && local.makeProvider() is LocalProvider)
        let openai = try LLMConfiguration(environment: EnvironmentReader([
            "ATLAS_AI_PROVIDER": "openai", "OPENAI_API_KEY": "sk-x", "ATLAS_AI_OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
            "ATLAS_AI_MODEL": "gpt-4.1-mini"]))
        let provider = try #require(openai.makeProvider() as? OpenAIProvider)
        #expect(provider.settings.baseURL.absoluteString == "http://127.0.0.1:9/v1" && provider.model == "gpt-4.1-mini")
        let anthropic = try LLMConfiguration(environment: EnvironmentReader(["ATLAS_AI_PROVIDER": "Anthropic", "ANTHROPIC_API_KEY": "k"]))
        #expect(anthropic.makeProvider() is AnthropicProvider && anthropic.model == "claude-3-5-haiku-latest")
        #expect(throws: ConfigurationError(variable: "OPENAI_API_KEY", reason: "is required when ATLAS_AI_PROVIDER=openai")) {
            try LLMConfiguration(environment: EnvironmentReader(["ATLAS_AI_PROVIDER": "openai"]))
        }
        #expect(throws: ConfigurationError.self) { try LLMConfiguration(environment: EnvironmentReader(["ATLAS_AI_PROVIDER": "llama"])) }
        #expect(throws: ConfigurationError.self) {
            try LLMConfiguration(environment: EnvironmentReader(["ATLAS_AI_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": "k",
                                                                 "ATLAS_AI_ANTHROPIC_BASE_URL": "file:///etc/passwd"]))
        }
    }
}
