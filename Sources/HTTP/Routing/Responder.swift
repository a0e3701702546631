// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import HTTPTypes
import Logging

/// Runs a request through middleware, route and error mapping. Shared by the event loops
/// (inline routes), the async task of an async route, and ``Router/respond(to:context:)``.
final class Responder: Sendable {
    let router: CompiledRouter
    let logger: Logger

    init(router: CompiledRouter, logger: Logger) {
        self.router = router
        self.logger = logger
    }

    enum Plan {
        case respond(Response)
        case inline(InlineHandler)
        case async(AsyncHandler<RequestContext>)
    }

    /// Runs the `before` hooks and decides who answers.
    @inline(__always)
    func begin(_ request: Request, _ context: inout RequestContext, _ match: RouteMatch) -> Plan {
        let early: Response? = router.middleware.withUnsafeBufferPointer { chain in
            for index in chain.indices {
                do {
                    if let response = try chain[index].before(request, context: &context) { return response }
                } catch {
                    return failure(error, request, context)
                }
            }
            return nil
        }
        if let early { return .respond(early) }
        switch match {
        case .found(let route, _):
            switch route.handler {
            case .inline(let handler): return .inline(handler)
            case .async(let handler): return .async(handler)
            }
        case .notFound:
            return .respond(.problem(status: .notFound, code: "not_found", detail: "no route matches this path",
                                     requestID: context.requestID))
        case .methodNotAllowed(let allow):
            return .respond(.problem(status: .methodNotAllowed, code: "method_not_allowed",
                                     detail: "the method is not allowed on this path", requestID: context.requestID,
                                     headers: [("Allow", allow)]))
        case .options(let allow):
            return .respond(Response(status: .noContent, headers: [.allow: allow]))
        }
    }

    @inline(__always)
    func runInline(_ handler: InlineHandler, _ request: Request, _ context: inout RequestContext) -> Response {
        do {
            return try handler(request, &context)
        } catch {
            return failure(error, request, context)
        }
    }

    /// Calls `start`, which creates an async handler's task, inside the router's scope (if any).
    @inline(__always)
    func starting<T>(_ context: RequestContext, _ start: () -> T) -> T {
        guard let scope = router.scope else { return start() }
        var started: T?
        scope.bind(context) { started = start() }
        return started!
    }

    /// Runs an async handler in the calling task; the event loops start that task inside
    /// ``starting(_:_:)``, so it carries the scope's values.
    nonisolated(nonsending) func runAsync(_ handler: AsyncHandler<RequestContext>, _ request: Request, _ context: inout RequestContext) async -> Response {
        do {
            return try await handler(request, &context)
        } catch {
            return failure(error, request, context)
        }
    }

    /// Runs an async handler in a task of its own started inside the router's scope, for a
    /// request answered without a socket; cancelling the caller cancels it.
    private func runScoped(_ handler: @escaping AsyncHandler<RequestContext>, _ request: Request,
                           _ context: inout RequestContext) async -> Response {
        let task = starting(context) { [context] in
            Task {
                var context = context
                let response = await self.runAsync(handler, request, &context)
                return (response, context)
            }
        }
        let (response, updated) = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
        context = updated
        return response
    }

    /// Runs the `after` hooks, last registered first.
    @inline(__always)
    func finish(_ request: Request, _ context: RequestContext, _ response: inout Response) {
        router.middleware.withUnsafeBufferPointer { chain in
            var index = chain.count
            while index > 0 {
                index -= 1
                chain[index].after(request, context: context, response: &response)
            }
        }
    }

    func flush() {
        router.middleware.withUnsafeBufferPointer { chain in
            for index in chain.indices { chain[index].flush() }
        }
    }

    func failure(_ error: any Error, _ request: Request, _ context: RequestContext) -> Response {
        if Response.isUnexpected(error) {
            logger.error("request failed", metadata: [
                "request.id": .string(context.requestID ?? "-"),
                "http.route": .string(context.route ?? "unmatched"),
                "http.method": .string(request.method.rawValue),
                "error.type": .string(String(reflecting: type(of: error))),
                "error.message": .string(String(describing: error)),
            ])
        }
        return .problem(for: error, requestID: context.requestID)
    }

    /// The complete pipeline for one request, with no socket.
    func respond(to request: Request, context: inout RequestContext) async -> Response {
        let match = router.match(request.storage)
        if case .found(let route, let parameters) = match {
            context.route = route.template
            context.parameters = parameters
        }
        var response: Response
        switch begin(request, &context, match) {
        case .respond(let early): response = early
        case .inline(let handler): response = runInline(handler, request, &context)
        case .async(let handler):
            if router.scope != nil {
                response = await runScoped(handler, request, &context)
            } else {
                response = await runAsync(handler, request, &context)
            }
        }
        finish(request, context, &response)
        return response
    }
}

extension Router {
    /// Answers `request` through the middleware and routes without a socket, as the server would
    /// (minus framing): the response carries `X-Request-ID` when a request id was assigned, and a
    /// `HEAD` response has its body removed.
    ///
    /// ```swift
    /// let response = await router.respond(to: try Request(method: .get, target: "/health/live"))
    /// #expect(response.status == .ok)
    /// ```
    public func respond(to request: Request, context: RequestContext = RequestContext()) async -> Response {
        var context = context
        return await respondWithContext(to: request, context: &context)
    }

    /// Like ``respond(to:context:)``, and hands back the context as the handler left it.
    public func respondWithContext(to request: Request, context: inout RequestContext) async -> Response {
        let responder = Responder(router: compile(), logger: Logger(label: "atlas.http"))
        var response = await responder.respond(to: request, context: &context)
        responder.flush()
        if let id = context.requestID { response.headers[HTTPField.Name("X-Request-ID")!] = id }
        if request.storage.methodIndex == .head, !response.body.isStream { response.body = .empty }
        return response
    }

    /// Installs the standard chain, in this order: request id, access log, metrics (when given),
    /// CORS, gzip compression.
    ///
    /// `after` hooks run in reverse, so the access log and metrics see the final status of
    /// every response, error mapping and compression included.
    public func useStandardMiddleware(configuration: HTTPServer.Configuration,
                                      accessLog: (any AccessLogSink)? = StandardOutputAccessLog.shared,
                                      metrics: (any HTTPMetricsRecorder)? = nil,
                                      compression: Bool = true) {
        use(RequestIDMiddleware())
        if let accessLog { use(AccessLogMiddleware(sink: accessLog)) }
        if let metrics { use(MetricsMiddleware(recorder: metrics)) }
        use(CORSMiddleware(allowOrigins: configuration.allowOrigins))
        if compression { use(CompressionMiddleware()) }
    }
}
