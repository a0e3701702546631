// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

public import HTTPTypes
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A handler that runs on the event-loop thread and must never block: health checks, static
/// answers, values already in memory.
public typealias InlineHandler = @Sendable (Request, inout RequestContext) throws -> Response

/// A handler that runs off the event-loop threads and may await database or network work.
public typealias AsyncHandler<Context> = @Sendable (Request, inout Context) async throws -> Response

/// Maps method and path to handlers, and holds the middleware chain.
///
/// Register everything before the server starts; the server compiles the routes into a
/// segment trie once. Path templates use `{name}` for a parameter segment.
///
/// ```swift
/// let router = Router()
/// router.useStandardMiddleware(configuration: configuration)
/// router.inline.get("/health/live") { _, _ in HealthRoutes.live }
/// router.get("/tenants/{tenant}/usage") { request, context in
///     let tenant = try context.parameters.require("tenant")
///     return try .json(await usage.summary(for: tenant))
/// }
/// let tenants = router.group("/tenants")
/// tenants.post("") { request, context in ... }
/// ```
///
/// Answers the router gives by itself: 404 for an unknown path, 405 with `Allow` for a known
/// path and an unregistered method, `HEAD` through the `GET` handler (body dropped, headers kept),
/// and 204 with `Allow` for `OPTIONS`.
public final class Router: Sendable {
    private struct State {
        var routes: [Route] = []
        var middleware: [any Middleware] = []
        var scope: (any RequestScope)?
        var compiled: CompiledRouter?
    }

    private let state = Mutex(State())

    public init() {}

    /// Appends a middleware. `before` hooks run in registration order, `after` hooks in reverse.
    public func use(_ middleware: any Middleware) {
        state.withLock {
            $0.middleware.append(middleware)
            $0.compiled = nil
        }
    }

    /// Sets the scope every async handler runs in (replacing any earlier one).
    public func scope(_ scope: any RequestScope) {
        state.withLock {
            $0.scope = scope
            $0.compiled = nil
        }
    }

    /// The registered middleware, in order.
    public var middleware: [any Middleware] { state.withLock { $0.middleware } }

    /// The registered routes as `(method, template)`, e.g. for an OpenAPI completeness test.
    public var routes: [(method: HTTPRequest.Method, template: String)] {
        state.withLock { $0.routes.map { ($0.method, $0.template) } }
    }

    /// Routes whose handlers run inline on the event-loop thread.
    public var inline: InlineRoutes { InlineRoutes(router: self, prefix: "") }

    /// A group of routes under `prefix` sharing the base context.
    public func group(_ prefix: String) -> RouteGroup<RequestContext> {
        RouteGroup(router: self, prefix: RoutePath.join("", prefix), lift: { $0 })
    }

    /// A group of routes under `prefix` whose handlers receive a `Child` context built first.
    public func group<Child: ChildRequestContext>(_ prefix: String, context: Child.Type) -> RouteGroup<Child>
    where Child.ParentContext == RequestContext {
        group("").group(prefix, context: context)
    }

    /// Registers an async `GET` handler.
    @discardableResult
    public func get(_ path: String, maxBodyBytes: Int? = nil, _ handler: @escaping AsyncHandler<RequestContext>) -> Router {
        on(.get, path, maxBodyBytes: maxBodyBytes, handler)
    }

    /// Registers an async `POST` handler.
    @discardableResult
    public func post(_ path: String, maxBodyBytes: Int? = nil, _ handler: @escaping AsyncHandler<RequestContext>) -> Router {
        on(.post, path, maxBodyBytes: maxBodyBytes, handler)
    }

    /// Registers an async `PUT` handler.
    @discardableResult
    public func put(_ path: String, maxBodyBytes: Int? = nil, _ handler: @escaping AsyncHandler<RequestContext>) -> Router {
        on(.put, path, maxBodyBytes: maxBodyBytes, handler)
    }

    /// Registers an async `PATCH` handler.
    @discardableResult
    public func patch(_ path: String, maxBodyBytes: Int? = nil, _ handler: @escaping AsyncHandler<RequestContext>) -> Router {
        on(.patch, path, maxBodyBytes: maxBodyBytes, handler)
    }

    /// Registers an async `DELETE` handler.
    @discardableResult
    public func delete(_ path: String, maxBodyBytes: Int? = nil, _ handler: @escaping AsyncHandler<RequestContext>) -> Router {
        on(.delete, path, maxBodyBytes: maxBodyBytes, handler)
    }

    /// Registers an async handler for any method. `maxBodyBytes` overrides the server's body limit
    /// for this route (checked before the body is read); `body: .streamed` hands the body to the
    /// handler as it arrives (``Request/bodyChunks``).
    @discardableResult
    public func on(_ method: HTTPRequest.Method, _ path: String, maxBodyBytes: Int? = nil, body: RequestBodyMode = .buffered,
                   _ handler: @escaping AsyncHandler<RequestContext>) -> Router {
        add(Route(method: method, template: RoutePath.join("", path), handler: .async(handler), maxBodyBytes: maxBodyBytes,
                  bodyMode: body))
        return self
    }

    func add(_ route: Route) {
        state.withLock { state in
            precondition(!state.routes.contains { $0.method == route.method && RoutePath.sameShape($0.template, route.template) },
                         "route \(route.method) \(route.template) is registered twice")
            state.routes.append(route)
            state.compiled = nil
        }
    }

    /// The routes compiled into a trie, built once and cached until the next registration.
    func compile() -> CompiledRouter {
        state.withLock { state in
            if let compiled = state.compiled { return compiled }
            let compiled = CompiledRouter(routes: state.routes, middleware: state.middleware, scope: state.scope)
            state.compiled = compiled
            return compiled
        }
    }
}

/// Registration of inline handlers; see ``InlineHandler``.
///
/// ```swift
/// router.inline.get("/health/live") { _, _ in HealthRoutes.live }
/// ```
public struct InlineRoutes: Sendable {
    let router: Router
    let prefix: String

    @discardableResult
    public func get(_ path: String, _ handler: @escaping InlineHandler) -> InlineRoutes { on(.get, path, handler) }

    @discardableResult
    public func post(_ path: String, maxBodyBytes: Int? = nil, _ handler: @escaping InlineHandler) -> InlineRoutes {
        on(.post, path, maxBodyBytes: maxBodyBytes, handler)
    }

    /// Registers an inline handler for any method.
    @discardableResult
    public func on(_ method: HTTPRequest.Method, _ path: String, maxBodyBytes: Int? = nil,
                   _ handler: @escaping InlineHandler) -> InlineRoutes {
        router.add(Route(method: method, template: RoutePath.join(prefix, path), handler: .inline(handler), maxBodyBytes: maxBodyBytes))
        return self
    }
}

/// Routes under a common prefix whose handlers receive a `Context`.
public struct RouteGroup<Context: RequestContextConvertible>: Sendable {
    let router: Router
    let prefix: String
    let lift: @Sendable (@escaping AsyncHandler<Context>) -> AsyncHandler<RequestContext>

    /// A nested group under `path`, same context.
    public func group(_ path: String) -> RouteGroup<Context> {
        RouteGroup(router: router, prefix: RoutePath.join(prefix, path), lift: lift)
    }

    /// A nested group under `path` whose handlers receive a `Child` built from this group's context.
    public func group<Child: ChildRequestContext>(_ path: String, context: Child.Type) -> RouteGroup<Child>
    where Child.ParentContext == Context {
        let parentLift = lift
        return RouteGroup<Child>(router: router, prefix: RoutePath.join(prefix, path)) { handler in
            parentLift { request, parent in
                var child = try await Child(request: request, parent: parent)
                defer { parent.requestContext = child.requestContext }
                return try await handler(request, &child)
            }
        }
    }

    @discardableResult
    public func get(_ path: String = "", maxBodyBytes: Int? = nil, _ handler: @escaping AsyncHandler<Context>) -> Self {
        on(.get, path, maxBodyBytes: maxBodyBytes, handler)
    }

    @discardableResult
    public func post(_ path: String = "", maxBodyBytes: Int? = nil, _ handler: @escaping AsyncHandler<Context>) -> Self {
        on(.post, path, maxBodyBytes: maxBodyBytes, handler)
    }

    @discardableResult
    public func put(_ path: String = "", maxBodyBytes: Int? = nil, _ handler: @escaping AsyncHandler<Context>) -> Self {
        on(.put, path, maxBodyBytes: maxBodyBytes, handler)
    }

    @discardableResult
    public func patch(_ path: String = "", maxBodyBytes: Int? = nil, _ handler: @escaping AsyncHandler<Context>) -> Self {
        on(.patch, path, maxBodyBytes: maxBodyBytes, handler)
    }

    @discardableResult
    public func delete(_ path: String = "", maxBodyBytes: Int? = nil, _ handler: @escaping AsyncHandler<Context>) -> Self {
        on(.delete, path, maxBodyBytes: maxBodyBytes, handler)
    }

    /// Registers a handler for any method under this group.
    @discardableResult
    public func on(_ method: HTTPRequest.Method, _ path: String = "", maxBodyBytes: Int? = nil,
                   _ handler: @escaping AsyncHandler<Context>) -> Self {
        router.add(Route(method: method, template: RoutePath.join(prefix, path), handler: .async(lift(handler)),
                         maxBodyBytes: maxBodyBytes))
        return self
    }
}

extension RouteGroup where Context == RequestContext {
    /// Inline routes under this group's prefix.
    public var inline: InlineRoutes { InlineRoutes(router: router, prefix: prefix) }
}

enum RouteHandler: Sendable {
    case inline(InlineHandler)
    case async(AsyncHandler<RequestContext>)
}

/// One registered route.
final class Route: Sendable {
    let method: HTTPRequest.Method
    let template: String
    let handler: RouteHandler
    let maxBodyBytes: Int?
    let bodyMode: RequestBodyMode
    let parameterNames: [String]

    init(method: HTTPRequest.Method, template: String, handler: RouteHandler, maxBodyBytes: Int?,
         bodyMode: RequestBodyMode = .buffered) {
        self.method = method
        self.template = template
        self.handler = handler
        self.maxBodyBytes = maxBodyBytes
        self.bodyMode = bodyMode
        self.parameterNames = RoutePath.segments(template).compactMap(\.parameter)
    }

    var isInline: Bool {
        if case .inline = handler { return true }
        return false
    }
}

enum RoutePath {
    enum Segment: Equatable {
        case literal(String)
        case parameter(String)

        var parameter: String? {
            if case .parameter(let name) = self { return name }
            return nil
        }
    }

    /// Joins a prefix and a path with exactly one slash between them; `""` adds nothing.
    static func join(_ prefix: String, _ path: String) -> String {
        let parts = (prefix.split(separator: "/") + path.split(separator: "/")).map(String.init)
        return "/" + parts.joined(separator: "/")
    }

    static func segments(_ template: String) -> [Segment] {
        template.split(separator: "/").map { part in
            if part.hasPrefix("{"), part.hasSuffix("}"), part.count > 2 {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            precondition(!part.contains("{") && !part.contains("}"), "route segment \(part) mixes text and a parameter")
            return .literal(String(part))
        }
    }

    /// Whether two templates match the same paths (`/a/{x}` and `/a/{y}` do).
    static func sameShape(_ lhs: String, _ rhs: String) -> Bool {
        let left = segments(lhs)
        let right = segments(rhs)
        guard left.count == right.count else { return false }
        return zip(left, right).allSatisfy { pair in
            switch pair {
            case (.parameter, .parameter): return true
            case (.literal(let a), .literal(let b)): return a == b
            default: return false
            }
        }
    }
}
