// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Logging
import Storage

/// What `POST /auth/token` and `POST /auth/refresh` answer (RFC 6749 §5.1).
struct TokenGrant: Sendable, Encodable, Equatable {
    var accessToken: String
    var tokenType = "bearer"
    var expiresIn: Int
    var refreshToken: String
}

/// Who is asking, for audit entries.
struct RequestOrigin: Sendable {
    var requestID: String?
    var clientAddress: String?
}

extension IdentityService {
    /// Longest password accepted; longer input is refused before any KDF runs.
    static let maximumPasswordBytes = 1024

    // MARK: Login

    private enum Admission: Sendable {
        case denied(retryAfter: Int, reason: String)
        case admitted(attempt: Int64, user: UserRecord?)
    }

    /// Checks a username and password and opens a session: throttling first (SPEC §4), then one
    /// key derivation whether or not the account exists, then a refresh-token family and an
    /// access token.
    func login(username: String, password: String, origin: RequestOrigin) async throws -> TokenGrant {
        let account = UserStore.normalize(email: username)
        guard !account.isEmpty, account.utf8.count <= 254 else { throw AuthError.invalidCredentials }
        guard password.utf8.count <= Self.maximumPasswordBytes else {
            throw AuthError.badRequest("the password is longer than \(Self.maximumPasswordBytes) bytes", code: "password_too_long")
        }
        let address = origin.clientAddress ?? "unknown"
        let now = clock()
        let policy = throttle

        // The attempt is recorded as a failure before the password is checked and turned into a
        // success afterwards, so concurrent guesses all count against the limit.
        let admission = try await database.transaction(tenant: Scope.platform) { conn -> Admission in
            if conn.dialect == .postgres {
                _ = try conn.query("SELECT pg_advisory_xact_lock(hashtext(\(account)))")
            }
            let history = try LoginAttemptStore.history(account: account, address: address, policy: policy, now: now, conn)
            if case .deny(let retryAfter, let reason) = policy.decide(history, now: now) {
                return .denied(retryAfter: retryAfter, reason: reason)
            }
            let attempt = try conn.queryScalar(
                """
                INSERT INTO auth_login_attempts (account, address, succeeded, attempted_at)
                VALUES (\(account), \(address), \(false), \(now)) RETURNING id
                """, as: Int64.self) ?? 0
            return .admitted(attempt: attempt, user: try UserStore.find(email: account, conn))
        }
        let attempt: Int64
        let user: UserRecord?
        switch admission {
        case .denied(let retryAfter, let reason):
            logger.notice("auth.login_throttled", metadata: ["client.address": "\(address)", "retry_after": "\(retryAfter)"])
            throw AuthError.throttled(retryAfter: retryAfter, detail: reason)
        case .admitted(let id, let found):
            attempt = id
            user = found
        }

        let hasher = passwords
        let stored = try user?.passwordHash ?? decoyHash
        let matches: Bool
        do {
            matches = try await kdf.run { hasher.verify(password, against: stored) }
        } catch is KDFExecutor.Busy {
            try await database.transaction(tenant: Scope.platform) { conn in
                try conn.execute("DELETE FROM auth_login_attempts WHERE id = \(attempt)")
            }
            throw AuthError.busy
        }

        guard let user, matches, user.passwordHash != nil, user.isActive else {
            let failedUser = user
            try await database.transaction(tenant: Scope.platform) { conn in
                let tenants = try failedUser.map { try MembershipStore.memberships(of: $0.id, conn).map(\.tenant) } ?? []
                for tenant in tenants.isEmpty ? [nil] : tenants.map(Optional.some) {
                    try AuditStore.append(
                        AuditEvent(
                            tenant: tenant, actor: failedUser.map { "user:\($0.id.rawValue)" } ?? "anonymous",
                            action: "auth.login_failed", target: failedUser?.id.rawValue, requestID: origin.requestID,
                            clientAddress: origin.clientAddress, details: ["account": account], occurredAt: now), conn)
                }
            }
            throw AuthError.invalidCredentials
        }

        var rehashed: String?
        if hasher.needsRehash(user.passwordHash ?? "") {
            rehashed = try? await kdf.run { try hasher.hash(password) }
        }
        let newHash = rehashed
        let refresh = Self.newRefreshToken()
        let family = Encoding.randomID(prefix: "ses_", bytes: 16)
        let refreshExpiry = now.addingTimeInterval(TimeInterval(configuration.refreshTokenLifetime.components.seconds))
        let fallback = configuration.defaultTenant
        let tenant = try await database.transaction(tenant: Scope.platform) { conn -> TenantID? in
            try conn.execute("UPDATE auth_login_attempts SET succeeded = \(true) WHERE id = \(attempt)")
            try UserStore.recordLogin(user.id, now: now, conn)
            if let newHash { try UserStore.setPasswordHash(newHash, for: user.id, now: now, conn) }
            let memberships = try MembershipStore.memberships(of: user.id, conn)
            let tenant = Self.defaultTenant(for: user, memberships: memberships, fallback: fallback)
            try TokenStore.insertRefresh(
                token: refresh, family: family, user: user.id, tenant: tenant, now: now, expiresAt: refreshExpiry, conn)
            for membership in memberships {
                try AuditStore.append(
                    AuditEvent(
                        tenant: membership.tenant, actor: "user:\(user.id.rawValue)", action: "auth.login",
                        target: user.id.rawValue, requestID: origin.requestID, clientAddress: origin.clientAddress,
                        details: ["session": family], occurredAt: now), conn)
            }
            try self.pruneIfDue(now: now, conn)
            return tenant
        }
        let access = try await tokens.issue(user: user.id, tenant: tenant, session: family, now: now)
        return TokenGrant(
            accessToken: access.token, expiresIn: Int(configuration.accessTokenLifetime.components.seconds),
            refreshToken: refresh)
    }

    /// The user's stored default tenant when still a member, else the first tenant they belong
    /// to, else (for platform administrators) `ATLAS_DEFAULT_TENANT`.
    static func defaultTenant(for user: UserRecord, memberships: [(tenant: TenantID, role: Role)], fallback: TenantID) -> TenantID? {
        if let preferred = user.defaultTenant, user.isPlatformAdmin || memberships.contains(where: { $0.tenant == preferred }) {
            return preferred
        }
        if user.isPlatformAdmin, memberships.isEmpty || memberships.contains(where: { $0.tenant == fallback }) {
            return fallback
        }
        return memberships.first?.tenant
    }

    /// 256 random bits, base64url: opaque to the client, stored only as a SHA-256 digest.
    static func newRefreshToken() -> String { Encoding.base64URL(SystemCrypto.randomBytes(32)) }

    static func isRefreshTokenShaped(_ text: String) -> Bool {
        text.utf8.count == 43 && Encoding.decodeBase64URL(text)?.count == 32
    }

    // MARK: Refresh

    private enum RefreshOutcome: Sendable {
        case rotated(user: UserID, tenant: TenantID?, family: String, token: String)
        case invalid(String)
        case reused(family: String)
    }

    /// Rotates a refresh token (RFC 6749 §10.4, OAuth 2.0 Security BCP §4.14): the presented
    /// token is spent and a new one of the same family returned. Presenting a spent token again
    /// means it leaked, so the whole family and its access tokens are revoked.
    func refresh(_ token: String, origin: RequestOrigin) async throws -> TokenGrant {
        guard Self.isRefreshTokenShaped(token) else { throw AuthError.invalidToken("the refresh token is not valid") }
        let now = clock()
        let lifetime = configuration.refreshTokenLifetime
        let accessLifetime = configuration.accessTokenLifetime
        let outcome = try await database.transaction(tenant: Scope.platform) { conn -> RefreshOutcome in
            guard let record = try TokenStore.findRefresh(token: token, conn) else { return .invalid("the refresh token is not valid") }
            if record.revokedAt != nil { return .invalid("the refresh token has been revoked") }
            let won = record.rotatedAt == nil ? try TokenStore.markRotated(token: token, now: now, conn) : false
            if !won {
                try TokenStore.revokeFamily(record.familyID, now: now, accessTokenLifetime: accessLifetime, conn)
                for membership in try MembershipStore.memberships(of: record.userID, conn) {
                    try AuditStore.append(
                        AuditEvent(
                            tenant: membership.tenant, actor: "user:\(record.userID.rawValue)",
                            action: "auth.refresh_reuse_detected", target: record.userID.rawValue,
                            requestID: origin.requestID, clientAddress: origin.clientAddress,
                            details: ["session": record.familyID], occurredAt: now), conn)
                }
                return .reused(family: record.familyID)
            }
            if record.expiresAt <= now { return .invalid("the refresh token has expired") }
            guard let user = try UserStore.find(id: record.userID, conn), user.isActive else {
                return .invalid("the refresh token's user no longer exists or is disabled")
            }
            let next = Self.newRefreshToken()
            try TokenStore.insertRefresh(
                token: next, family: record.familyID, user: user.id, tenant: record.tenant, now: now,
                expiresAt: now.addingTimeInterval(TimeInterval(lifetime.components.seconds)), conn)
            return .rotated(user: user.id, tenant: record.tenant, family: record.familyID, token: next)
        }
        switch outcome {
        case .invalid(let reason):
            throw AuthError.invalidToken(reason)
        case .reused(let family):
            forget(session: family)
            logger.warning("auth.refresh_reuse_detected", metadata: ["client.address": "\(origin.clientAddress ?? "unknown")"])
            throw AuthError.invalidToken("the refresh token was already used; its session has been revoked")
        case .rotated(let user, let tenant, let family, let next):
            let access = try await tokens.issue(user: user, tenant: tenant, session: family, now: now)
            return TokenGrant(
                accessToken: access.token, expiresIn: Int(configuration.accessTokenLifetime.components.seconds),
                refreshToken: next)
        }
    }

    // MARK: Logout

    /// Ends the caller's session: the presented access token, its session's other access tokens
    /// and refresh tokens, and the family of `refreshToken` when one is given and is the caller's.
    func logout(_ principal: Principal, refreshToken: String?, origin: RequestOrigin) async throws {
        guard let user = principal.userID, let jti = principal.credentialID else {
            throw AuthError.badRequest(
                "API keys do not log out; revoke them with DELETE /tenants/{tenant}/api-keys/{id}", code: "not_a_session")
        }
        let now = clock()
        let expiry = principal.credentialExpiresAt ?? now.addingTimeInterval(TimeInterval(configuration.accessTokenLifetime.components.seconds))
        let accessLifetime = configuration.accessTokenLifetime
        let session = principal.sessionID
        let presented = refreshToken.flatMap { Self.isRefreshTokenShaped($0) ? $0 : nil }
        let ended = try await database.transaction(tenant: Scope.platform) { conn -> Set<String> in
            try TokenStore.revoke(jti: jti, expiresAt: expiry, now: now, conn)
            var families = Set<String>()
            if let session { families.insert(session) }
            if let presented, let record = try TokenStore.findRefresh(token: presented, conn), record.userID == user {
                families.insert(record.familyID)
            }
            for family in families {
                try TokenStore.revokeFamily(family, now: now, accessTokenLifetime: accessLifetime, conn)
            }
            for membership in try MembershipStore.memberships(of: user, conn) {
                try AuditStore.append(
                    AuditEvent(
                        tenant: membership.tenant, actor: principal.actor, action: "auth.logout", target: user.rawValue,
                        requestID: origin.requestID, clientAddress: origin.clientAddress, occurredAt: now), conn)
            }
            return families
        }
        forget(jti: jti)
        for family in ended { forget(session: family) }
    }

    // MARK: Who am I

    struct Me: Sendable, Encodable {
        struct Membership: Sendable, Encodable {
            var tenant: String
            var role: String
            var plan: String?
            var status: String?
        }
        var kind: String
        var id: String
        var email: String?
        var displayName: String?
        var name: String?
        var isPlatformAdmin: Bool
        var defaultTenant: String?
        var memberships: [Membership]
        var permissions: [String: [String]]?
    }

    /// The caller, its memberships and the permissions each role grants.
    func me(_ principal: Principal) async throws -> Me {
        switch principal.subject {
        case .apiKey(let id, let tenant, let role):
            let record = try await database.read(tenant: Scope.tenant(tenant)) { conn in try TenantStore.find(tenant, conn) }
            return Me(
                kind: "api_key", id: id, email: nil, displayName: nil, name: principal.displayName, isPlatformAdmin: false,
                defaultTenant: tenant.rawValue,
                memberships: [
                    Me.Membership(tenant: tenant.rawValue, role: role.rawValue, plan: record?.tenant.plan.rawValue,
                                  status: record?.tenant.status.rawValue)
                ],
                permissions: [tenant.rawValue: Permission.allCases.filter { $0.isGranted(to: role) }.map(\.rawValue)])
        case .user(let id):
            let loaded = try await database.read(tenant: Scope.platform) { conn -> (UserRecord, [(TenantID, Role)], [TenantRecord])? in
                guard let user = try UserStore.find(id: id, conn) else { return nil }
                let memberships = try MembershipStore.memberships(of: id, conn)
                return (user, memberships, try TenantStore.some(memberships.map(\.tenant), conn))
            }
            guard let (user, memberships, tenants) = loaded else { throw AuthError.invalidToken("the token's user no longer exists") }
            let byID = Dictionary(uniqueKeysWithValues: tenants.map { ($0.tenant.id, $0.tenant) })
            var permissions: [String: [String]] = [:]
            for (tenant, role) in memberships {
                permissions[tenant.rawValue] = Permission.allCases.filter { principal.holds($0, role: role) }.map(\.rawValue)
            }
            return Me(
                kind: "user", id: id.rawValue, email: user.email, displayName: user.displayName, name: nil,
                isPlatformAdmin: user.isPlatformAdmin, defaultTenant: principal.defaultTenant?.rawValue,
                memberships: memberships.map { tenant, role in
                    Me.Membership(tenant: tenant.rawValue, role: role.rawValue, plan: byID[tenant]?.plan.rawValue,
                                  status: byID[tenant]?.status.rawValue)
                },
                permissions: permissions)
        }
    }
}
