// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import JWTKit
import Logging
import Storage
import Synchronization

/// The Auth module's engine: logins and tokens, API keys, tenants, members and the audit log.
/// It implements the Core contracts (``Authenticator``, ``TenantDirectory``, ``AuditLog``) the
/// HTTP tenancy glue and other modules use, and the operations behind Auth's routes.
///
/// Every database call names its scope (``Scope``): tenant-scoped work runs in a transaction
/// scoped to its tenant, so on PostgreSQL row-level security re-checks the tenant filter that
/// each statement already carries.
final class IdentityService: Sendable {
    let database: any Database
    let configuration: AuthModule.Configuration
    let logger: Logger
    let tokens: AccessTokens
    let passwords: PasswordHasher
    let kdf: KDFExecutor
    let throttle = LoginThrottle()
    /// What an unknown account's password is checked against (``PasswordHasher/makeDecoy()``),
    /// made at the first such login rather than at start-up, which then leaves OpenSSL's random
    /// generator (and the megabytes its set-up touches) alone until a request needs it.
    private let decoy = Mutex<String?>(nil)
    var decoyHash: String {
        get throws {
            try decoy.withLock { decoy in
                if let decoy { return decoy }
                let made = try passwords.makeDecoy()
                decoy = made
                return made
            }
        }
    }
    let usageReader: (any TenantUsageReader)?
    /// The clock; tests move it.
    let clock: @Sendable () -> Date

    /// Verified access tokens, by their exact text, until they expire: verification is pure
    /// computation over the token, so its result cannot go stale.
    let verifiedTokens: ExpiringCache<VerifiedTokenKey, AccessTokenClaims>
    /// User status and revocation per token id (with its session), for ``AuthModule/Configuration/cacheTimeToLive``.
    let tokenChecks: ExpiringCache<String, CachedTokenCheck>
    /// API keys by id, as stored (with the secret's digest).
    let keyLookups: ExpiringCache<String, APIKeyLookup>
    /// Membership resolutions by principal and tenant, including "no access".
    let accessCache: ExpiringCache<AccessCacheKey, CachedAccess>

    struct CachedTokenCheck: Sendable {
        var check: UserStore.TokenCheck
        var session: String?
        var user: UserID
    }

    struct APIKeyLookup: Sendable {
        var record: APIKeyRecord
        var digest: [UInt8]
    }

    /// A verified token, as its cache's key. Equal only to the same token, byte for byte; hashed
    /// on its last 32 bytes, the end of the signature, which differ between any two tokens Atlas
    /// signed (hashing all ~300 bytes on every request cost more than the rest of the look-up).
    /// Tokens that share their last 32 bytes only share a bucket.
    struct VerifiedTokenKey: Hashable, Sendable {
        let token: String

        init(_ token: String) { self.token = token }

        func hash(into hasher: inout Hasher) {
            var token = token
            token.withUTF8 { bytes in
                hasher.combine(bytes.count)
                hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes.suffix(32))))
            }
        }

        static func == (lhs: Self, rhs: Self) -> Bool { lhs.token == rhs.token }
    }

    struct AccessCacheKey: Hashable, Sendable {
        var subject: Principal.Subject
        var tenant: TenantID
    }

    struct CachedAccess: Sendable {
        var access: TenantAccess?
    }

    /// Collaborators from other modules, connected after construction (they are built after Auth).
    private let links = Mutex<Links>(Links())

    struct Links: Sendable {
        var ledger: (any UsageLedger)?
        var planRecorder: (any PlanChangeRecorder)?
        var ledgerTotals: (any LedgerTotalsReader)?
    }

    /// The usage ledger, when the metering module is connected: the one source of usage totals.
    var ledger: (any UsageLedger)? { links.withLock { $0.ledger } }
    /// Where plan changes are reported for proration, when connected.
    var planRecorder: (any PlanChangeRecorder)? { links.withLock { $0.planRecorder } }

    /// The ledger's totals on a connection Auth holds, when connected with the ledger.
    var ledgerTotals: (any LedgerTotalsReader)? { links.withLock { $0.ledger == nil ? nil : $0.ledgerTotals } }

    func connect(ledger: (any UsageLedger)?, planRecorder: (any PlanChangeRecorder)?, ledgerTotals: (any LedgerTotalsReader)? = nil) {
        links.withLock {
            $0.ledger = ledger
            $0.planRecorder = planRecorder
            $0.ledgerTotals = ledgerTotals
        }
    }

    /// When this process last recorded each API key's use, so a busy key costs one write a minute.
    private let keyTouches = Mutex<[String: Date]>([:])
    /// When this process last deleted expired rows.
    private let lastPrune = Mutex<Date>(.distantPast)

    init(
        database: any Database, configuration: AuthModule.Configuration, logger: Logger,
        usageReader: (any TenantUsageReader)?, clock: @escaping @Sendable () -> Date = { Date() }
    ) async throws {
        self.database = database
        self.configuration = configuration
        self.logger = logger
        self.usageReader = usageReader
        self.clock = clock
        tokens = await AccessTokens(secrets: configuration.secrets, lifetime: configuration.accessTokenLifetime)
        let ttl = Double(configuration.cacheTimeToLive.components.seconds)
            + Double(configuration.cacheTimeToLive.components.attoseconds) / 1e18
        verifiedTokens = ExpiringCache(timeToLive: Double(configuration.accessTokenLifetime.components.seconds), capacity: 20_000)
        tokenChecks = ExpiringCache(timeToLive: ttl, capacity: 20_000)
        keyLookups = ExpiringCache(timeToLive: ttl, capacity: 10_000)
        accessCache = ExpiringCache(timeToLive: ttl, capacity: 50_000)
        passwords = PasswordHasher(algorithm: configuration.passwordAlgorithm)
        kdf = KDFExecutor(threads: configuration.kdfThreads, maximumPending: 64 * configuration.kdfThreads)
    }

    // MARK: Authenticator

    func authenticate(_ credential: Credential) async throws -> Principal {
        switch credential {
        case .accessToken(let token): try await authenticate(accessToken: token)
        case .apiKey(let key): try await authenticate(apiKey: key)
        }
    }

    private func authenticate(accessToken token: String) async throws -> Principal {
        let now = clock()
        let claims: AccessTokenClaims
        if let cached = verifiedTokens.value(for: VerifiedTokenKey(token), now: now) {
            claims = cached
        } else {
            claims = try await tokens.verify(token, now: now)
            verifiedTokens.store(claims, for: VerifiedTokenKey(token), now: now, notAfter: claims.exp.value)
        }
        guard now < claims.exp.value else { throw AuthError.invalidToken("the token has expired") }
        guard let user = UserID(claims.sub.value) else { throw AuthError.invalidToken("the token's subject is invalid") }
        let jti = claims.jti.value
        let session = claims.sid
        let check: UserStore.TokenCheck?
        if let cached = tokenChecks.value(for: jti, now: now) {
            check = cached.check
        } else {
            check = try await database.read(tenant: nil) { conn in
                try UserStore.tokenCheck(user: user, jti: jti, session: session, conn)
            }
            if let check { tokenChecks.store(CachedTokenCheck(check: check, session: session, user: user), for: jti, now: now) }
        }
        guard let check, check.isActive else { throw AuthError.invalidToken("the token's user no longer exists or is disabled") }
        guard !check.revoked else { throw AuthError.invalidToken("the token has been revoked") }
        return Principal(
            subject: .user(user), isPlatformAdmin: check.isPlatformAdmin, defaultTenant: claims.tenant.flatMap { TenantID($0) },
            displayName: check.email, credentialID: jti, credentialExpiresAt: claims.exp.value, sessionID: session)
    }

    private func authenticate(apiKey text: String) async throws -> Principal {
        guard let key = APIKeySecret(parsing: text) else { throw AuthError.invalidAPIKey("the API key is malformed") }
        let now = clock()
        var found = keyLookups.value(for: key.id, now: now)
        if found == nil {
            found = try await database.read(tenant: Scope.platform) { conn in
                try APIKeyStore.lookup(id: key.id, conn).map { APIKeyLookup(record: $0.record, digest: $0.digest) }
            }
            if let found { keyLookups.store(found, for: key.id, now: now) }
        }
        guard let found, key.matches(digest: found.digest) else { throw AuthError.invalidAPIKey("the API key is not valid") }
        let record = found.record
        guard record.revokedAt == nil else { throw AuthError.invalidAPIKey("the API key has been revoked") }
        if let expiry = record.expiresAt, expiry <= now { throw AuthError.invalidAPIKey("the API key has expired") }
        try await touch(record, now: now)
        return Principal(
            subject: .apiKey(id: record.id, tenant: record.tenant, role: record.role), defaultTenant: record.tenant,
            displayName: record.name, credentialID: record.id, credentialExpiresAt: record.expiresAt)
    }

    /// Records a key's use when neither the table nor this process has done so within a minute.
    private func touch(_ record: APIKeyRecord, now: Date) async throws {
        if let last = record.lastUsedAt, now.timeIntervalSince(last) < 60 { return }
        let due = keyTouches.withLock { touches in
            if let last = touches[record.id], now.timeIntervalSince(last) < 60 { return false }
            touches[record.id] = now
            if touches.count > 10_000 { touches = touches.filter { now.timeIntervalSince($0.value) < 60 } }
            return true
        }
        guard due else { return }
        let tenant = record.tenant
        let id = record.id
        try await database.transaction(tenant: Scope.tenant(tenant)) { conn in
            try APIKeyStore.touch(tenant, id: id, now: now, conn)
        }
    }

    // MARK: TenantDirectory

    var defaultTenant: TenantID { configuration.defaultTenant }

    func access(of principal: Principal, to tenant: TenantID) async throws -> TenantAccess? {
        let now = clock()
        let key = AccessCacheKey(subject: principal.subject, tenant: tenant)
        if let cached = accessCache.value(for: key, now: now) { return Self.grant(cached.access, to: principal) }
        let access: TenantAccess?
        switch principal.subject {
        case .apiKey(_, let keyTenant, let role):
            // A key never leaves its tenant, whatever the request names.
            guard keyTenant == tenant else { return nil }
            let record = try await database.read(tenant: Scope.tenant(tenant)) { conn in try TenantStore.find(tenant, conn) }
            access = record.map { TenantAccess(tenant: $0.tenant, role: role) }
        case .user(let user):
            let found = try await database.read(tenant: Scope.tenant(tenant)) { conn -> (TenantRecord, Role?)? in
                guard let record = try TenantStore.find(tenant, conn) else { return nil }
                return (record, try MembershipStore.role(tenant, user: user, conn))
            }
            access = found.map { TenantAccess(tenant: $0.0.tenant, role: $0.1) }
        }
        accessCache.store(CachedAccess(access: access), for: key, now: now)
        return Self.grant(access, to: principal)
    }

    /// A tenant that exists answers only to its members and to platform administrators.
    private static func grant(_ access: TenantAccess?, to principal: Principal) -> TenantAccess? {
        guard let access, access.role != nil || principal.isPlatformAdmin else { return nil }
        return access
    }

    // MARK: Cache invalidation

    /// Forgets what this process cached about `tenant` (memberships, status, plan).
    func forget(tenant: TenantID) {
        accessCache.remove { key, _ in key.tenant == tenant }
    }

    /// Forgets cached checks of a token id or of every token of a session.
    func forget(jti: String? = nil, session: String? = nil) {
        tokenChecks.remove { key, value in key == jti || (session != nil && value.session == session) }
    }

    /// Forgets a cached API key.
    func forget(apiKey id: String) {
        keyLookups.remove { key, _ in key == id }
    }

    // MARK: AuditLog

    func record(_ event: AuditEvent) async throws {
        let scope = event.tenant.map(Scope.tenant) ?? Scope.platform
        try await database.transaction(tenant: scope) { conn in try AuditStore.append(event, conn) }
    }

    // MARK: Maintenance

    /// Deletes expired throttle rows and tokens, at most once a minute per process. Runs inside a
    /// platform-scoped write transaction the caller already holds.
    func pruneIfDue(now: Date, _ conn: any Connection) throws {
        let due = lastPrune.withLock { last in
            guard now.timeIntervalSince(last) >= 60 else { return false }
            last = now
            return true
        }
        guard due else { return }
        try LoginAttemptStore.prune(policy: throttle, now: now, conn)
        try TokenStore.prune(now: now, conn)
    }
}

extension IdentityService: Authenticator, TenantDirectory, AuditLog, TenantPlanWriter {}
