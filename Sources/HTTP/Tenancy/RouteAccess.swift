// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

public import Core
public import HTTPTypes

/// Where a tenant-scoped route finds its tenant.
public enum TenantSelector: Sendable, Hashable {
    /// A path parameter, e.g. `{tenant}` in `/tenants/{tenant}/members`.
    case path(String)
    /// The request's tenant as SPEC §3 orders it: `X-Atlas-Tenant`, else the credential's default
    /// tenant, else `ATLAS_DEFAULT_TENANT`.
    case request

    /// `{tenant}` in the path.
    public static let pathTenant = TenantSelector.path("tenant")
}

/// What a route requires of its caller, declared where the route is registered.
public enum RouteAccess: Sendable, Hashable, CustomStringConvertible {
    /// No credential.
    case open
    /// Any authenticated principal; the handler decides per tenant (e.g. `GET /tenants` lists
    /// only the caller's tenants).
    case authenticated
    /// An authenticated principal holding `permission` in the tenant `selector` names.
    case tenant(Permission, TenantSelector)

    /// The permission, for tenant-scoped routes.
    public var permission: Permission? {
        if case .tenant(let permission, _) = self { return permission }
        return nil
    }

    public var description: String {
        switch self {
        case .open: "open"
        case .authenticated: "authenticated"
        case .tenant(let permission, .request): "\(permission.rawValue) (request tenant)"
        case .tenant(let permission, .path(let name)): "\(permission.rawValue) (tenant from {\(name)})"
        }
    }
}

/// One declared route: method, template and access rule. ``TenantResolver/declarations`` lists
/// them all, so tests can walk every route against the permission table and documentation can
/// show each route's requirement.
public struct RouteDeclaration: Sendable, Hashable {
    public let method: HTTPRequest.Method
    public let template: String
    public let access: RouteAccess
}
