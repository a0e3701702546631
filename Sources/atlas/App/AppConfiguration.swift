// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Logging

/// The application-wide settings of SPEC §2, read once at start-up. Module-specific settings (HTTP
/// limits, storage pool) are read by each module's own `Configuration` from the same environment.
///
/// Every value is checked here or in a module's own `Configuration` before anything is opened, so
/// a bad setting stops start-up with one line naming the variable instead of failing on first use.
/// Auth's settings (`ATLAS_AUTH_*`, `ATLAS_DEFAULT_TENANT`) are read by `AuthModule.Configuration`,
/// Billing's (`ATLAS_STRIPE_*`, budgets, alert webhooks) by `BillingConfiguration`.
struct AppConfiguration: Sendable, CustomStringConvertible {
    enum AIProvider: String, CaseIterable, Sendable { case local, openai, anthropic }
    enum EvaluationMode: String, CaseIterable, Sendable { case fast, strict }

    var environment: String
    var logLevel: Logger.Level
    var otlpEndpoint: URL?
    var aiOTLPEndpoint: URL?
    var aiProvider: AIProvider
    var semanticCacheEnabled: Bool
    var evaluationMode: EvaluationMode
    var debugRoutesEnabled: Bool

    init(environment env: EnvironmentReader) throws {
        environment = env.string("ATLAS_ENVIRONMENT", default: "local").lowercased()
        guard environment.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ConfigurationError(variable: "ATLAS_ENVIRONMENT", reason: "must be a plain name such as local, staging or production")
        }
        let level = env.string("ATLAS_LOG_LEVEL", default: "info").lowercased()
        guard let parsed = Logger.Level(rawValue: level == "warn" ? "warning" : level) else {
            throw ConfigurationError(variable: "ATLAS_LOG_LEVEL", reason: "must be one of trace, debug, info, notice, warning, error, critical")
        }
        logLevel = parsed
        otlpEndpoint = try Self.url(env, "ATLAS_OTLP_ENDPOINT")
        aiOTLPEndpoint = try Self.url(env, "ATLAS_AI_OTLP_ENDPOINT")
        aiProvider = try env.choice("ATLAS_AI_PROVIDER", default: .local)
        semanticCacheEnabled = try env.bool("ATLAS_AI_ENABLE_SEMANTIC_CACHE", default: true)
        evaluationMode = try env.choice("ATLAS_AI_EVALUATION_MODE", default: .fast)
        debugRoutesEnabled = try env.bool("ATLAS_ENABLE_DEBUG_ROUTES", default: false)
    }

    private static func url(_ env: EnvironmentReader, _ key: String) throws -> URL? {
        guard let text = env.raw(key) else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            throw ConfigurationError(variable: key, reason: "must be an http(s) URL such as http://collector:4318")
        }
        return url
    }

    /// Secrets are never printed.
    var description: String {
        "environment=\(environment) log_level=\(logLevel) ai_provider=\(aiProvider.rawValue)"
    }
}
