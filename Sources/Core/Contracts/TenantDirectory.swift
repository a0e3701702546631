// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

/// A principal's standing in one tenant, as resolved for one request.
public struct TenantAccess: Sendable, Hashable {
    /// The tenant, as stored.
    public var tenant: Tenant
    /// The principal's role there; `nil` for a platform administrator who is not a member.
    public var role: Role?

    public init(tenant: Tenant, role: Role?) {
        self.tenant = tenant
        self.role = role
    }
}

/// Tenant look-up and membership resolution, implemented by the Auth module.
///
/// The HTTP-side tenancy glue builds a request's tenant context only through this protocol, so a
/// handler that receives a context knows its tenant exists and its principal may act there.
public protocol TenantDirectory: Sendable {
    /// The tenant used when a request names none (`ATLAS_DEFAULT_TENANT`).
    var defaultTenant: TenantID { get }

    /// The principal's access to `tenant`, or `nil` when the tenant does not exist or the principal
    /// may not see it (neither member nor platform administrator — the two are indistinguishable to
    /// the caller, so a tenant's existence is not revealed).
    func access(of principal: Principal, to tenant: TenantID) async throws -> TenantAccess?
}
