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

/// Binds task-local values around the start of every async handler's task, which inherits them:
/// the place for the request's trace context, so that spans started anywhere below the handler
/// (storage, graph nodes, model calls) become its children. At most one per router
/// (``Router/scope(_:)``); inline routes, which start no task, run without it.
///
/// The values are bound synchronously where the task is created (the event loop's thread, or
/// the task that calls ``Router/respond(to:context:)``) and copied into the new task, rather
/// than bound by an async wrapper inside it: that wrapper cost every traced request an executor
/// switch, two extra async frames and a generic-metadata lookup.
///
/// ```swift
/// struct TraceScope: RequestScope {
///     func bind(_ context: RequestContext, _ start: () -> Void) {
///         InstrumentationContext.$current.withValue(context.instrumentationContext, operation: start)
///     }
/// }
/// ```
public protocol RequestScope: Sendable {
    /// Calls `start`, which creates the handler's task, exactly once, with the values the task
    /// should inherit bound. Not generic: a generic requirement had the task type's metadata looked up at run
    /// time on every request.
    func bind(_ context: RequestContext, _ start: () -> Void)
}
