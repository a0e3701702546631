// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

public import Core
import Synchronization

/// Authenticates requests and builds ``TenantContext``s, through the Core protocols only (the
/// Auth module implements them; HTTP never imports it).
///
/// The order of checks is fixed so answers never reveal more than the caller may know:
/// 1. a credential is required (401 without one, or with a bad one);
/// 2. the tenant id must be well-formed (400);
/// 3. the tenant must exist *and* the caller must be a member or a platform administrator —
///    otherwise 404 either way, so another tenant's existence is not revealed;
/// 4. a suspended tenant answers 403 (platform administrators pass, to reactivate it);
/// 5. the route's permission must be held (403).
public final class TenantResolver: Sendable {
    public let authenticator: any Authenticator
    public let directory: any TenantDirectory
    private let declared = Mutex<[RouteDeclaration]>([])

    public init(authenticator: any Authenticator, directory: any TenantDirectory) {
        self.authenticator = authenticator
        self.directory = directory
    }

    /// Every route registered through ``SecuredRoutes`` with this resolver, in registration order.
    public var declarations: [RouteDeclaration] { declared.withLock { $0 } }

    func declare(_ declaration: RouteDeclaration) {
        declared.withLock { $0.append(declaration) }
    }

    /// The request's principal; 401 when it presents no credential or a bad one. The principal is
    /// also stored in the context under ``PrincipalKey``.
    public func authenticate(_ request: Request, context: inout RequestContext) async throws -> Principal {
        if let known = context[PrincipalKey.self] { return known }
        guard let credential = try Credential.from(authorization: request.headers["Authorization"], apiKey: request.headers["X-API-Key"]) else {
            throw AtlasError(
                status: 401, code: "authentication_required",
                detail: "this route needs 'Authorization: Bearer <token>' or an 'X-API-Key' header",
                headers: [("WWW-Authenticate", "Bearer realm=\"atlas\"")])
        }
        let principal = try await authenticator.authenticate(credential)
        context[PrincipalKey.self] = principal
        return principal
    }

    /// Authenticates, resolves the tenant and checks `permission`; see the type's documentation
    /// for the order of checks.
    public func resolve(
        _ request: Request, context: inout RequestContext, permission: Permission, selector: TenantSelector
    ) async throws -> TenantContext {
        let principal = try await authenticate(request, context: &context)
        let tenantID = try selectTenant(request, context: context, principal: principal, selector: selector)
        guard let access = try await directory.access(of: principal, to: tenantID) else {
            throw Self.notFound(tenantID)
        }
        context.tenant = tenantID.rawValue
        if access.tenant.status == .suspended && !principal.isPlatformAdmin {
            throw AtlasError(
                status: 403, code: "tenant_suspended",
                detail: "tenant '\(tenantID.rawValue)' is suspended; a platform administrator must reactivate it before it can be used")
        }
        guard principal.holds(permission, role: access.role) else {
            throw Self.denied(permission, role: access.role)
        }
        return TenantContext(
            requestContext: context, tenant: access.tenant, principal: principal, role: access.role, permission: permission)
    }

    func selectTenant(_ request: Request, context: RequestContext, principal: Principal, selector: TenantSelector) throws -> TenantID {
        switch selector {
        case .path(let name):
            return try TenantID(validating: try context.parameters.require(name))
        case .request:
            if let header = request.headers["X-Atlas-Tenant"] {
                return try TenantID(validating: header.trimmingBlanks)
            }
            return principal.defaultTenant ?? directory.defaultTenant
        }
    }

    /// The answer for a tenant that does not exist or that the caller may not see.
    public static func notFound(_ tenant: TenantID) -> AtlasError {
        AtlasError(status: 404, code: "tenant_not_found", detail: "tenant '\(tenant.rawValue)' was not found")
    }

    /// The answer for a permission the caller lacks.
    public static func denied(_ permission: Permission, role: Role?) -> AtlasError {
        let holder = role.map { "the role '\($0.rawValue)'" } ?? "a non-member"
        let needed = permission.minimumRole.map { "; it needs at least '\($0.rawValue)'" } ?? "; only platform administrators hold it"
        return AtlasError(
            status: 403, code: "permission_denied",
            detail: "\(holder) does not hold the permission '\(permission.rawValue)'\(needed)")
    }
}
