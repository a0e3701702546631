// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Where and how a remote provider is called.
public struct RemoteLLMSettings: Sendable, Equatable {
    /// The API root, e.g. `https://api.openai.com/v1`; the provider appends its path.
    public var baseURL: URL
    public var apiKey: String
    public var model: String
    /// Seconds for one attempt.
    public var timeout: TimeInterval
    /// Attempts per call, the first included.
    public var maxAttempts: Int
    /// First retry delay in seconds, doubled per further attempt; a `Retry-After` replaces it.
    public var initialBackoff: TimeInterval
    /// Longest wait between two attempts, whatever `Retry-After` asks.
    public var maxBackoff: TimeInterval

    public init(baseURL: URL, apiKey: String, model: String, timeout: TimeInterval = 60, maxAttempts: Int = 3,
                initialBackoff: TimeInterval = 0.5, maxBackoff: TimeInterval = 20) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.model = model
        self.timeout = timeout
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = max(0, initialBackoff)
        self.maxBackoff = max(0, maxBackoff)
    }
}

/// POSTs JSON to a provider with a per-attempt timeout and retries: 429, 5xx (Anthropic's 529
/// included), timeouts and transport failures are retried with exponential backoff, honouring
/// `Retry-After` (seconds or an HTTP date, RFC 9110 §10.2.3); any other status fails at once.
struct RemoteLLMTransport: Sendable {
    let provider: String
    let settings: RemoteLLMSettings
    private let session: URLSession

    init(provider: String, settings: RemoteLLMSettings) {
        self.provider = provider
        self.settings = settings
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = settings.timeout
        configuration.timeoutIntervalForResource = settings.timeout + 5
        configuration.httpAdditionalHeaders = ["User-Agent": "atlas"]
        session = URLSession(configuration: configuration)
    }

    /// Sends `body` to `path` (relative to the base URL) and returns the 2xx body and the number
    /// of attempts it took.
    func post(path: String, headers: [String: String], body: Data) async throws -> (body: Data, attempts: Int) {
        var request = URLRequest(url: settings.baseURL.appendingPathComponent(path))
        request.httpMethod = "POST"
        request.timeoutInterval = settings.timeout
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body

        var attempt = 0
        while true {
            attempt += 1
            do {
                return (try await send(request), attempt)
            } catch var error as LLMError {
                error.attempts = attempt
                guard error.transient, attempt < settings.maxAttempts else { throw error }
                try await Task.sleep(for: .milliseconds(Int(delay(after: error, attempt: attempt) * 1000)))
            }
        }
    }

    func delay(after error: LLMError, attempt: Int) -> TimeInterval {
        let exponential = settings.initialBackoff * pow(2, Double(attempt - 1))
        return min(settings.maxBackoff, error.retryAfter ?? exponential)
    }

    private func send(_ request: URLRequest) async throws -> Data {
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as URLError {
            if error.code == .cancelled, Task.isCancelled { throw CancellationError() }
            if error.code == .timedOut {
                throw LLMError(kind: .timeout, provider: provider, reason: "no answer within \(Self.format(settings.timeout)) s",
                               transient: true)
            }
            throw LLMError(kind: .unreachable, provider: provider, reason: "the endpoint could not be reached (URL error \(error.code.rawValue))",
                           transient: true)
        }
        guard let http = response as? HTTPURLResponse else {
            throw LLMError(kind: .unreachable, provider: provider, reason: "the endpoint did not answer over HTTP", transient: true)
        }
        guard (200..<300).contains(http.statusCode) else {
            let status = http.statusCode
            if status == 401 || status == 403 {
                // A provider's message about a bad key may quote part of it: pass none of it on.
                throw LLMError(kind: .unauthorized, provider: provider, reason: "the credentials were refused (HTTP \(status))",
                               httpStatus: status, transient: false)
            }
            let message = Self.errorMessage(data).map { ": \($0)" } ?? ""
            throw LLMError(kind: .httpStatus, provider: provider, reason: "HTTP \(status)\(message)", httpStatus: status,
                           transient: status == 408 || status == 429 || status >= 500,
                           retryAfter: http.value(forHTTPHeaderField: "Retry-After").flatMap(Self.retryAfter))
        }
        return data
    }

    /// `Retry-After` as seconds from now: delta-seconds or an IMF-fixdate.
    static func retryAfter(_ value: String) -> TimeInterval? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = TimeInterval(text), seconds.isFinite, seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return max(0, date.timeIntervalSinceNow)
    }

    /// The provider's `error.message` (OpenAI, Anthropic and OpenAI-compatible embedding servers
    /// nest it so), shortened; it describes the request, never the key.
    static func errorMessage(_ data: Data) -> String? {
        struct Envelope: Decodable {
            struct Detail: Decodable { var message: String? }
            var error: Detail?
        }
        guard let message = (try? JSONDecoder().decode(Envelope.self, from: data))?.error?.message, !message.isEmpty else {
            return nil
        }
        return String(message.prefix(200))
    }

    static func format(_ seconds: TimeInterval) -> String {
        seconds.rounded() == seconds ? String(Int(seconds)) : String(format: "%.2f", seconds)
    }

    static func malformed(_ provider: String, _ reason: String) -> LLMError {
        LLMError(kind: .malformedResponse, provider: provider, reason: reason, transient: false)
    }
}
