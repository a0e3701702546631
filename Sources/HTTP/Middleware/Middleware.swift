// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

/// A hook pair around every request, for inline and async routes alike.
///
/// Hooks are plain synchronous calls (no closure per request, no suspension): `before` runs
/// after route lookup and before the handler, and may answer instead of it; `after` runs on
/// every response — handler results, mapped errors, 404/405 and short-circuits — in reverse
/// registration order. For an inline route both run on the event-loop thread; for an async route
/// `before` runs there and `after` on the thread that finished the handler. Work that must await
/// belongs in a ``ChildRequestContext`` or the handler.
///
/// ```swift
/// struct ServerTiming: Middleware {
///     func after(_ request: Request, context: RequestContext, response: inout Response) {
///         response.headers[HTTPField.Name("Server-Timing")!] = "app;dur=\(context.elapsed)"
///     }
/// }
/// ```
public protocol Middleware: Sendable {
    /// Runs before the handler. Return a response to answer without calling the handler
    /// (e.g. a CORS preflight); throw to answer with the mapped error.
    func before(_ request: Request, context: inout RequestContext) throws -> Response?

    /// Runs after the response exists; may change it (headers, compression) and observe it (logs, metrics).
    func after(_ request: Request, context: RequestContext, response: inout Response)

    /// Called by each event loop after a batch of events, to write out what was buffered.
    func flush()
}

extension Middleware {
    public func before(_ request: Request, context: inout RequestContext) throws -> Response? { nil }
    public func after(_ request: Request, context: RequestContext, response: inout Response) {}
    public func flush() {}
}

/// Runs around every async handler, in the handler's task: the place to bind task-local values
/// for the handler's duration, such as the request's trace context, so that spans started
/// anywhere below (storage, graph nodes, model calls) become its children. At most one per router
/// (``Router/scope(_:)``); inline routes, which cannot await, run without it.
public protocol RequestScope: Sendable {
    nonisolated(nonsending) func run(_ context: RequestContext, _ body: nonisolated(nonsending) () async -> Response) async -> Response
}
