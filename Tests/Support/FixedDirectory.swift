// Atlas — test support
// SPDX-License-Identifier: Apache-2.0

public import Core

/// The principals of route tests by bearer token: Core's `Authenticator` and `TenantDirectory`
/// over fixed tables, for test targets that may not import Auth (the real pair is exercised by
/// the Auth and `atlas` process tests).
public struct FixedDirectory: Authenticator, TenantDirectory {
    /// token → (principal, role per tenant)
    public let users: [String: (Principal, [TenantID: Role])]
    public let tenants: [TenantID: Tenant]
    public let defaultTenant: TenantID

    public init(users: [String: (Principal, [TenantID: Role])], tenants: [TenantID: Tenant], defaultTenant: TenantID) {
        self.users = users
        self.tenants = tenants
        self.defaultTenant = defaultTenant
    }

    public func authenticate(_ credential: Credential) async throws -> Principal {
        let token: String
        switch credential {
        case .accessToken(let value), .apiKey(let value): token = value
        }
        guard let user = users[token] else { throw AtlasError.unauthorized("unknown token") }
        return user.0
    }

    public func access(of principal: Principal, to tenant: TenantID) async throws -> TenantAccess? {
        guard let stored = tenants[tenant] else { return nil }
        let role = users.values.first { $0.0 == principal }?.1[tenant]
        if role == nil && !principal.isPlatformAdmin { return nil }
        return TenantAccess(tenant: stored, role: role)
    }
}
