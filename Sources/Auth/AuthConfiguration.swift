// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

public import Core

extension AuthModule {
    /// The Auth module's settings, read from the environment (SPEC §2 names, plus Auth's own):
    ///
    /// | variable | default | meaning |
    /// | --- | --- | --- |
    /// | `ATLAS_ENVIRONMENT` | `local` | `production` refuses the default secret and admin password |
    /// | `ATLAS_DEFAULT_TENANT` | `demo` | tenant of requests that name none |
    /// | `ATLAS_AUTH_SECRET` | `atlas-secret` | HS256 secrets, comma-separated, **newest first**: the first signs, all verify |
    /// | `ATLAS_AUTH_ACCESS_TOKEN_MINUTES` | `60` | access-token lifetime |
    /// | `ATLAS_AUTH_REFRESH_TOKEN_DAYS` | `30` | refresh-token lifetime |
    /// | `ATLAS_AUTH_USERNAME` / `ATLAS_AUTH_PASSWORD` | `admin@atlas` / `atlas` | bootstrap platform administrator |
    /// | `ATLAS_AUTH_PASSWORD_HASH` | `scrypt` | `scrypt` or `pbkdf2-sha256`, for new hashes |
    /// | `ATLAS_AUTH_SCRYPT_LOG_N` | `15` | scrypt cost N = 2^value (10–20), r = 8, p = 1 |
    /// | `ATLAS_AUTH_PBKDF2_ITERATIONS` | `600000` | PBKDF2-HMAC-SHA256 iterations |
    /// | `ATLAS_AUTH_KDF_THREADS` | `2` | password derivations that may run at once |
    /// | `ATLAS_AUTH_CACHE_SECONDS` | `1` | how long a process reuses a token, key or membership look-up (`0` = never) |
    ///
    /// Stored hashes keep their own parameters; raising the cost rehashes a password at its next login.
    public struct Configuration: Sendable, CustomStringConvertible {
        public static let defaultSecret = "atlas-secret"
        public static let defaultAdminUsername = "admin@atlas"
        public static let defaultAdminPassword = "atlas"

        public var environment: String
        public var defaultTenant: TenantID
        /// Signing secrets, newest first.
        public var secrets: [String]
        public var accessTokenLifetime: Duration
        public var refreshTokenLifetime: Duration
        public var adminUsername: String
        public var adminPassword: String
        var passwordAlgorithm: PasswordHasher.Algorithm
        /// Key derivations that may run at once, each on its own thread.
        public var kdfThreads: Int
        /// How long a token, API-key or membership look-up is reused by this process. Changes made
        /// by this process take effect at once; other instances see them within this time.
        public var cacheTimeToLive: Duration

        public var isProduction: Bool { environment == "production" }

        /// Reads the variables in the table; throws ``ConfigurationError`` naming the variable (never
        /// the value) for an unusable one, and in `production` for the default secret or password.
        public init(environment env: EnvironmentReader) throws {
            environment = env.string("ATLAS_ENVIRONMENT", default: "local").lowercased()
            let tenant = env.string("ATLAS_DEFAULT_TENANT", default: "demo")
            guard let defaultTenant = TenantID(tenant) else {
                throw ConfigurationError(variable: "ATLAS_DEFAULT_TENANT", reason: "must be a tenant slug: 1-63 lowercase letters, digits or hyphens")
            }
            self.defaultTenant = defaultTenant
            secrets = env.list("ATLAS_AUTH_SECRET", default: [Self.defaultSecret])
            guard !secrets.isEmpty else {
                throw ConfigurationError(variable: "ATLAS_AUTH_SECRET", reason: "must name at least one secret")
            }
            accessTokenLifetime = .seconds(60 * (try env.int("ATLAS_AUTH_ACCESS_TOKEN_MINUTES", default: 60, in: 1...525_600)))
            refreshTokenLifetime = .seconds(86_400 * (try env.int("ATLAS_AUTH_REFRESH_TOKEN_DAYS", default: 30, in: 1...365)))
            adminUsername = env.string("ATLAS_AUTH_USERNAME", default: Self.defaultAdminUsername)
            guard UserStore.isPlausible(email: UserStore.normalize(email: adminUsername)) else {
                throw ConfigurationError(variable: "ATLAS_AUTH_USERNAME", reason: "must look like an email address (name@domain)")
            }
            adminPassword = env.string("ATLAS_AUTH_PASSWORD", default: Self.defaultAdminPassword)
            let hash = env.string("ATLAS_AUTH_PASSWORD_HASH", default: "scrypt").lowercased()
            switch hash {
            case "scrypt":
                let logN = try env.int("ATLAS_AUTH_SCRYPT_LOG_N", default: 15, in: PasswordHasher.scryptLogNRange)
                passwordAlgorithm = .scrypt(logN: logN, r: 8, p: 1)
            case "pbkdf2-sha256", "pbkdf2":
                let iterations = try env.int("ATLAS_AUTH_PBKDF2_ITERATIONS", default: 600_000, in: PasswordHasher.pbkdf2IterationRange)
                passwordAlgorithm = .pbkdf2SHA256(iterations: iterations)
            default:
                throw ConfigurationError(variable: "ATLAS_AUTH_PASSWORD_HASH", reason: "must be scrypt or pbkdf2-sha256")
            }
            kdfThreads = try env.int("ATLAS_AUTH_KDF_THREADS", default: 2, in: 1...64)
            cacheTimeToLive = try env.seconds("ATLAS_AUTH_CACHE_SECONDS", default: .seconds(1), in: 0...60)

            if isProduction {
                // RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (32 bytes).
                if secrets.contains(Self.defaultSecret) || secrets.contains(where: { $0.utf8.count < 32 }) {
                    throw ConfigurationError(variable: "ATLAS_AUTH_SECRET", reason: "production needs its own secrets of at least 32 bytes, not the default")
                }
                if adminPassword == Self.defaultAdminPassword {
                    throw ConfigurationError(variable: "ATLAS_AUTH_PASSWORD", reason: "production refuses the default admin password")
                }
            }
        }

        /// Secrets and the password are never printed.
        public var description: String {
            "environment=\(environment) default_tenant=\(defaultTenant) secrets=\(secrets.count) access_token_minutes=\(accessTokenLifetime.components.seconds / 60) admin=\(adminUsername)"
        }
    }
}
