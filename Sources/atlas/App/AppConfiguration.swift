// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Logging

/// The application-wide settings of SPEC §2, read once at start-up. Module-specific settings (HTTP
/// limits, storage pool) are read by each module's own `Configuration` from the same environment.
///
/// Every value is checked here, including those of modules that only read them later, so a bad
/// setting stops start-up with one line naming the variable instead of failing on first use.
struct AppConfiguration: Sendable, CustomStringConvertible {
    enum AIProvider: String, CaseIterable, Sendable { case local, openai, anthropic }
    enum EvaluationMode: String, CaseIterable, Sendable { case fast, strict }

    static let defaultAuthSecret = "atlas-secret"
    static let defaultAdminPassword = "atlas"
    static let defaultStripeSecret = "whsec_demo"

    var environment: String
    var databaseURL: String
    var logLevel: Logger.Level
    var defaultTenant: String
    var authSecrets: [String]
    var accessTokenMinutes: Int
    var adminUsername: String
    var adminPassword: String
    var stripeWebhookSecrets: [String]
    var otlpEndpoint: URL?
    var aiOTLPEndpoint: URL?
    var aiProvider: AIProvider
    var semanticCacheEnabled: Bool
    var evaluationMode: EvaluationMode
    var debugRoutesEnabled: Bool

    var isProduction: Bool { environment == "production" }

    init(environment env: EnvironmentReader) throws {
        environment = env.string("ATLAS_ENVIRONMENT", default: "local").lowercased()
        guard environment.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ConfigurationError(variable: "ATLAS_ENVIRONMENT", reason: "must be a plain name such as local, staging or production")
        }
        databaseURL = env.string("ATLAS_DATABASE_URL", default: "sqlite:///atlas.db")
        let level = env.string("ATLAS_LOG_LEVEL", default: "info").lowercased()
        guard let parsed = Logger.Level(rawValue: level == "warn" ? "warning" : level) else {
            throw ConfigurationError(variable: "ATLAS_LOG_LEVEL", reason: "must be one of trace, debug, info, notice, warning, error, critical")
        }
        logLevel = parsed
        defaultTenant = env.string("ATLAS_DEFAULT_TENANT", default: "demo")
        guard Self.isSlug(defaultTenant) else {
            throw ConfigurationError(variable: "ATLAS_DEFAULT_TENANT", reason: "must be a tenant slug: 1-63 lowercase letters, digits or hyphens, starting with a letter or digit")
        }
        authSecrets = env.list("ATLAS_AUTH_SECRET", default: [Self.defaultAuthSecret])
        accessTokenMinutes = try env.int("ATLAS_AUTH_ACCESS_TOKEN_MINUTES", default: 60, in: 1...525_600)
        adminUsername = env.string("ATLAS_AUTH_USERNAME", default: "admin@atlas")
        adminPassword = env.string("ATLAS_AUTH_PASSWORD", default: Self.defaultAdminPassword)
        stripeWebhookSecrets = env.list("ATLAS_STRIPE_WEBHOOK_SECRET", default: [Self.defaultStripeSecret])
        otlpEndpoint = try Self.url(env, "ATLAS_OTLP_ENDPOINT")
        aiOTLPEndpoint = try Self.url(env, "ATLAS_AI_OTLP_ENDPOINT")
        aiProvider = try env.choice("ATLAS_AI_PROVIDER", default: .local)
        semanticCacheEnabled = try env.bool("ATLAS_AI_ENABLE_SEMANTIC_CACHE", default: true)
        evaluationMode = try env.choice("ATLAS_AI_EVALUATION_MODE", default: .fast)
        debugRoutesEnabled = try env.bool("ATLAS_ENABLE_DEBUG_ROUTES", default: false)

        if isProduction {
            if authSecrets.contains(Self.defaultAuthSecret) || authSecrets.contains(where: { $0.utf8.count < 32 }) {
                throw ConfigurationError(variable: "ATLAS_AUTH_SECRET", reason: "production needs its own secret of at least 32 bytes, not the default")
            }
            if adminPassword == Self.defaultAdminPassword {
                throw ConfigurationError(variable: "ATLAS_AUTH_PASSWORD", reason: "production refuses the default admin password")
            }
            if stripeWebhookSecrets.contains(Self.defaultStripeSecret) {
                throw ConfigurationError(variable: "ATLAS_STRIPE_WEBHOOK_SECRET", reason: "production refuses the demo webhook secret")
            }
        }
    }

    /// Tenant ids are DNS-label-like slugs, so they are safe in paths, logs and SQL identifiers alike.
    static func isSlug(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") }
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
        "environment=\(environment) database=\(Self.redact(databaseURL)) log_level=\(logLevel) default_tenant=\(defaultTenant) ai_provider=\(aiProvider.rawValue)"
    }

    /// The database URL without its password.
    static func redact(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let scheme = url.range(of: "://"), scheme.upperBound < at else { return url }
        let credentials = url[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}
