// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Foundation
import HTTP

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
    /// Kept-alive connections to the provider; nil when the base URL is neither http nor https.
    private let client: HTTPClient?

    init(provider: String, settings: RemoteLLMSettings) {
        self.provider = provider
        self.settings = settings
        client = HTTPClient(url: settings.baseURL.absoluteString, maxResponseBytes: 16 << 20)
    }

    /// Sends `body` to `path` (relative to the base URL) and returns the 2xx body and the number
    /// of attempts it took.
    func post(path: String, headers: [String: String], body: Data) async throws -> (body: Data, attempts: Int) {
        let target = HTTPClient.requestTarget(of: settings.baseURL.appendingPathComponent(path).absoluteString)
        var fields: [(name: String, value: String)] = [("Content-Type", "application/json"), ("Accept", "application/json")]
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            fields.removeAll { $0.name.lowercased() == name.lowercased() }
            fields.append((name, value))
        }
        let request = (target: target, fields: fields, body: [UInt8](body))

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

    private func send(_ request: (target: String, fields: [(name: String, value: String)], body: [UInt8])) async throws -> Data {
        guard let client else {
            throw LLMError(kind: .unreachable, provider: provider, reason: "the base URL is not an http or https URL", transient: false)
        }
        let http: HTTPClientResponse
        do {
            http = try await client.perform("POST", request.target, headers: request.fields, body: request.body,
                                            timeout: .milliseconds(Int64(settings.timeout * 1000)))
        } catch {
            switch error.kind {
            case .cancelled:
                throw CancellationError()
            case .timeout:
                throw LLMError(kind: .timeout, provider: provider, reason: "no answer within \(Self.format(settings.timeout)) s",
                               transient: true)
            case .malformedResponse, .responseTooLarge:
                throw LLMError(kind: .unreachable, provider: provider, reason: "the endpoint did not answer over HTTP (\(error.kind))",
                               transient: true)
            case .tls:
                // A certificate that is not trusted or not for this host will not be on the next attempt.
                throw LLMError(kind: .unreachable, provider: provider, reason: "TLS with the endpoint failed: \(error.detail)",
                               transient: false)
            case .connect, .connection:
                throw LLMError(kind: .unreachable, provider: provider, reason: "the endpoint could not be reached (\(error.kind))",
                               transient: true)
            }
        }
        let data = Data(http.body)
        guard (200..<300).contains(http.status) else {
            let status = http.status
            if status == 401 || status == 403 {
                // A provider's message about a bad key may quote part of it: pass none of it on.
                throw LLMError(kind: .unauthorized, provider: provider, reason: "the credentials were refused (HTTP \(status))",
                               httpStatus: status, transient: false)
            }
            let message = Self.errorMessage(data).map { ": \($0)" } ?? ""
            throw LLMError(kind: .httpStatus, provider: provider, reason: "HTTP \(status)\(message)", httpStatus: status,
                           transient: status == 408 || status == 429 || status >= 500,
                           retryAfter: http.header("Retry-After").flatMap(Self.retryAfter))
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
