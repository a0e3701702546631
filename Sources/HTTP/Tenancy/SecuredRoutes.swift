// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

public import Core
public import HTTPTypes

/// Registers routes together with what they require, so no route exists without a declared rule.
///
/// ```swift
/// let routes = SecuredRoutes(router: router, resolver: resolver)
/// routes.get("/tenants/{tenant}/members", requires: .membersRead) { request, context in
///     // context: TenantContext — tenant resolved, membership and permission checked
/// }
/// routes.get("/auth/me") { request, context in           // context: AuthenticatedContext
/// }
/// routes.post("/auth/token", access: .open) { request, context in   // context: RequestContext
/// }
/// ```
public struct SecuredRoutes: Sendable {
    public let router: Router
    public let resolver: TenantResolver
    private let prefix: String

    public init(router: Router, resolver: TenantResolver, prefix: String = "") {
        self.router = router
        self.resolver = resolver
        self.prefix = prefix
    }

    /// Routes under `path`.
    public func group(_ path: String) -> SecuredRoutes {
        SecuredRoutes(router: router, resolver: resolver, prefix: RoutePath.join(prefix, path))
    }

    // MARK: Tenant-scoped

    /// Registers a tenant-scoped route requiring `permission` in the tenant `tenant` selects.
    @discardableResult
    public func on(
        _ method: HTTPRequest.Method, _ path: String, requires permission: Permission,
        tenant selector: TenantSelector = .pathTenant, maxBodyBytes: Int? = nil, body: RequestBodyMode = .buffered,
        _ handler: @escaping AsyncHandler<TenantContext>
    ) -> SecuredRoutes {
        let template = RoutePath.join(prefix, path)
        if case .path(let name) = selector {
            precondition(RoutePath.segments(template).contains(.parameter(name)), "route \(template) has no {\(name)} for its tenant")
        }
        let resolver = self.resolver
        register(method, template, access: .tenant(permission, selector), maxBodyBytes: maxBodyBytes, body: body) { request, context in
            var tenantContext = try await resolver.resolve(request, context: &context, permission: permission, selector: selector)
            defer { context = tenantContext.requestContext }
            return try await handler(request, &tenantContext)
        }
        return self
    }

    @discardableResult
    public func get(_ path: String, requires permission: Permission, tenant: TenantSelector = .pathTenant,
                    _ handler: @escaping AsyncHandler<TenantContext>) -> SecuredRoutes {
        on(.get, path, requires: permission, tenant: tenant, handler)
    }

    @discardableResult
    public func post(_ path: String, requires permission: Permission, tenant: TenantSelector = .pathTenant,
                     maxBodyBytes: Int? = nil, _ handler: @escaping AsyncHandler<TenantContext>) -> SecuredRoutes {
        on(.post, path, requires: permission, tenant: tenant, maxBodyBytes: maxBodyBytes, handler)
    }

    @discardableResult
    public func put(_ path: String, requires permission: Permission, tenant: TenantSelector = .pathTenant,
                    maxBodyBytes: Int? = nil, _ handler: @escaping AsyncHandler<TenantContext>) -> SecuredRoutes {
        on(.put, path, requires: permission, tenant: tenant, maxBodyBytes: maxBodyBytes, handler)
    }

    @discardableResult
    public func patch(_ path: String, requires permission: Permission, tenant: TenantSelector = .pathTenant,
                      maxBodyBytes: Int? = nil, _ handler: @escaping AsyncHandler<TenantContext>) -> SecuredRoutes {
        on(.patch, path, requires: permission, tenant: tenant, maxBodyBytes: maxBodyBytes, handler)
    }

    @discardableResult
    public func delete(_ path: String, requires permission: Permission, tenant: TenantSelector = .pathTenant,
                       _ handler: @escaping AsyncHandler<TenantContext>) -> SecuredRoutes {
        on(.delete, path, requires: permission, tenant: tenant, handler)
    }

    // MARK: Authenticated, no tenant

    /// Registers a route that needs an authenticated principal but no tenant.
    @discardableResult
    public func on(
        _ method: HTTPRequest.Method, _ path: String, maxBodyBytes: Int? = nil,
        authenticated handler: @escaping AsyncHandler<AuthenticatedContext>
    ) -> SecuredRoutes {
        let resolver = self.resolver
        register(method, RoutePath.join(prefix, path), access: .authenticated, maxBodyBytes: maxBodyBytes) { request, context in
            let principal = try await resolver.authenticate(request, context: &context)
            var authenticated = AuthenticatedContext(requestContext: context, principal: principal)
            defer { context = authenticated.requestContext }
            return try await handler(request, &authenticated)
        }
        return self
    }

    @discardableResult
    public func get(_ path: String, _ handler: @escaping AsyncHandler<AuthenticatedContext>) -> SecuredRoutes {
        on(.get, path, authenticated: handler)
    }

    @discardableResult
    public func post(_ path: String, maxBodyBytes: Int? = nil, _ handler: @escaping AsyncHandler<AuthenticatedContext>) -> SecuredRoutes {
        on(.post, path, maxBodyBytes: maxBodyBytes, authenticated: handler)
    }

    // MARK: Open

    /// Registers a route that needs no credential; declared `.open` so listings show it as such.
    @discardableResult
    public func on(
        _ method: HTTPRequest.Method, _ path: String, access: RouteAccess, maxBodyBytes: Int? = nil,
        _ handler: @escaping AsyncHandler<RequestContext>
    ) -> SecuredRoutes {
        precondition(access == .open, "use the tenant-scoped or authenticated overloads for protected routes")
        register(method, RoutePath.join(prefix, path), access: .open, maxBodyBytes: maxBodyBytes, handler)
        return self
    }

    @discardableResult
    public func post(_ path: String, access: RouteAccess, maxBodyBytes: Int? = nil,
                     _ handler: @escaping AsyncHandler<RequestContext>) -> SecuredRoutes {
        on(.post, path, access: access, maxBodyBytes: maxBodyBytes, handler)
    }

    private func register(
        _ method: HTTPRequest.Method, _ template: String, access: RouteAccess, maxBodyBytes: Int?,
        body: RequestBodyMode = .buffered, _ handler: @escaping AsyncHandler<RequestContext>
    ) {
        router.on(method, template, maxBodyBytes: maxBodyBytes, body: body, handler)
        resolver.declare(RouteDeclaration(method: method, template: template, access: access))
    }
}
