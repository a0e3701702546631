// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

public import Core

/// The context of a request that acts inside one tenant. It exists only after authentication and
/// membership resolution succeeded and the route's permission was checked, so its ``tenant`` and
/// ``principal`` are not optional and a handler that takes one cannot forget to scope its work to
/// the tenant. Only ``TenantResolver`` builds it.
///
/// ```swift
/// routes.get("/tenants/{tenant}/invoices", requires: .billingRead) { request, context in
///     let invoices = try await store.invoices(context.tenantID)   // the tenant is always known
///     return try .json(invoices)
/// }
/// ```
public struct TenantContext: RequestContextConvertible {
    /// The base context (request id, parameters, log fields); changes flow back to the access log.
    public var requestContext: RequestContext
    /// The tenant the request acts in, resolved from the path, `X-Atlas-Tenant`, the credential's
    /// default tenant or `ATLAS_DEFAULT_TENANT`, in that order (SPEC §3).
    public let tenant: Tenant
    /// Who is acting.
    public let principal: Principal
    /// The principal's role in ``tenant``; `nil` for a platform administrator who is not a member.
    public let role: Role?
    /// The permission the route declared, already checked.
    public let permission: Permission

    /// The tenant's id.
    public var tenantID: TenantID { tenant.id }

    /// Whether the principal also holds `other` here (for actions inside a route that need more
    /// than the route's own permission, e.g. changing a tenant's status).
    public func holds(_ other: Permission) -> Bool { principal.holds(other, role: role) }

    /// Throws 403 unless the principal holds `other` here.
    public func require(_ other: Permission) throws {
        guard holds(other) else { throw TenantResolver.denied(other, role: role) }
    }

    /// The request id, for audit entries.
    public var requestID: String? { requestContext.requestID }

    /// The client's address, for audit entries and throttling.
    public var clientAddress: String? { requestContext.remoteAddress?.host }

    init(requestContext: RequestContext, tenant: Tenant, principal: Principal, role: Role?, permission: Permission) {
        self.requestContext = requestContext
        self.tenant = tenant
        self.principal = principal
        self.role = role
        self.permission = permission
    }
}

/// The context of a request that needs an authenticated caller but no tenant (`/auth/me`,
/// `GET /tenants`).
public struct AuthenticatedContext: RequestContextConvertible {
    public var requestContext: RequestContext
    /// Who is calling.
    public let principal: Principal

    /// The request id, for audit entries.
    public var requestID: String? { requestContext.requestID }

    /// The client's address, for audit entries.
    public var clientAddress: String? { requestContext.remoteAddress?.host }

    init(requestContext: RequestContext, principal: Principal) {
        self.requestContext = requestContext
        self.principal = principal
    }
}

/// The authenticated principal of a request, once known, for middleware that runs after the
/// handler (access log, metrics).
public enum PrincipalKey: RequestContextKey {
    public typealias Value = Principal
}
