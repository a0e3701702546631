// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

public import Foundation

/// Who is making a request, as established by authentication: a user holding an access token, or
/// an API key acting inside its one tenant.
///
/// A principal alone grants nothing inside a tenant: the role comes from membership resolution
/// (``TenantDirectory``), except for an API key, whose tenant and role are fixed when it is created.
public struct Principal: Sendable, Hashable, CustomStringConvertible {
    /// The authenticated subject.
    public enum Subject: Sendable, Hashable {
        /// A user, authenticated by an access token.
        case user(UserID)
        /// An API key (`atl_…`), bound to one tenant with one role.
        case apiKey(id: String, tenant: TenantID, role: Role)
    }

    /// The authenticated subject.
    public var subject: Subject
    /// Whether this principal administers the platform: it may act in every tenant with every
    /// permission. Never true for an API key.
    public var isPlatformAdmin: Bool
    /// The tenant used when a request names none: the token's `tenant` claim, or the key's tenant.
    public var defaultTenant: TenantID?
    /// The user's email or the key's name, for logs and audit entries.
    public var displayName: String
    /// The presented credential's identifier (a token's `jti`, a key's id), so it can be revoked.
    public var credentialID: String?
    /// When the presented credential stops being valid, if it expires.
    public var credentialExpiresAt: Date?
    /// The login session the credential belongs to (an access token's `sid`), so logout can end it.
    public var sessionID: String?

    public init(
        subject: Subject, isPlatformAdmin: Bool = false, defaultTenant: TenantID? = nil, displayName: String,
        credentialID: String? = nil, credentialExpiresAt: Date? = nil, sessionID: String? = nil
    ) {
        self.subject = subject
        if case .apiKey = subject {
            self.isPlatformAdmin = false
        } else {
            self.isPlatformAdmin = isPlatformAdmin
        }
        self.defaultTenant = defaultTenant
        self.displayName = displayName
        self.credentialID = credentialID
        self.credentialExpiresAt = credentialExpiresAt
        self.sessionID = sessionID
    }

    /// The user behind the principal, or `nil` for an API key.
    public var userID: UserID? {
        if case .user(let id) = subject { return id }
        return nil
    }

    /// The API key's id, or `nil` for a user.
    public var apiKeyID: String? {
        if case .apiKey(let id, _, _) = subject { return id }
        return nil
    }

    /// A stable, secret-free actor label for audit entries and logs: `user:<id>` or `api_key:<id>`.
    public var actor: String {
        switch subject {
        case .user(let id): "user:\(id.rawValue)"
        case .apiKey(let id, _, _): "api_key:\(id)"
        }
    }

    public var description: String { actor }
}
