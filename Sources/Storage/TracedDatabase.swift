// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

public import Instrumentation
public import Tracing

/// Where ``TracedDatabase`` records a client span per read or transaction.
///
/// A tracer can give each query a span object through the tracing API (``TracerQuerySpans``
/// adapts any `Tracer`), or carry it as a plain value from ``startQuery(_:system:operation:tenant:)``
/// to ``endQuery(_:error:)``, as Telemetry's tracer does: a span object, its lock and its
/// attribute storage cost more than the query on the authenticated read path.
public protocol QuerySpanRecorder: Sendable {
    /// A started span, until it ends.
    associatedtype Started: Sendable
    /// Starts the span of a query named `name` (`db.read`, `db.transaction`) with OpenTelemetry's
    /// database attributes `db.system.name` and `db.operation.name`, and `atlas.tenant`, as a
    /// child of the task's current span.
    func startQuery(_ name: StaticString, system: StaticString, operation: StaticString, tenant: String?) -> Started
    /// Ends it, recording `error` when the query failed.
    func endQuery(_ span: Started, error: (any Error)?)
}

/// A ``QuerySpanRecorder`` for any swift-distributed-tracing `Tracer`: a span through the tracing
/// API under `InstrumentationContext.current`, its attributes set once.
public struct TracerQuerySpans<Recorder: Tracer>: QuerySpanRecorder {
    public let tracer: Recorder

    public init(_ tracer: Recorder) {
        self.tracer = tracer
    }

    public func startQuery(_ name: StaticString, system: StaticString, operation: StaticString, tenant: String?) -> Recorder.Span {
        let span = tracer.startSpan("\(name)", context: InstrumentationContext.current ?? .topLevel, ofKind: .client)
        if span.isRecording {
            // Built here and set once: each `span.attributes[key] = value` copies the span's
            // attribute dictionary out and back.
            var attributes: SpanAttributes = ["db.system.name": .string("\(system)"), "db.operation.name": .string("\(operation)")]
            if let tenant { attributes["atlas.tenant"] = tenant }
            span.attributes = attributes
        }
        return span
    }

    public func endQuery(_ span: Recorder.Span, error: (any Error)?) {
        if let error { span.recordError(error) }
        span.end()
    }
}

/// A ``Database`` that records a client span around every read and transaction, as a child of
/// the task's current span — the request's, inside a handler. Attributes follow OpenTelemetry's
/// database conventions (`db.system.name`, `db.operation.name`) plus `atlas.tenant`; a failure
/// is recorded on the span. The span is not made the task's current one: nothing starts spans
/// inside a storage closure. The composition root wraps the database in it only when tracing is
/// configured, so an untraced server pays nothing.
///
/// ```swift
/// let database: any Database = tracer.map { TracedDatabase(opened, spans: TracerQuerySpans($0)) } ?? opened
/// ```
public struct TracedDatabase<Spans: QuerySpanRecorder>: Database {
    public let base: any Database
    public let spans: Spans
    private let system: StaticString

    public init(_ base: any Database, spans: Spans) {
        self.base = base
        self.spans = spans
        system = base.dialect == .postgres ? "postgresql" : "sqlite"
    }

    public var dialect: SQLDialect { base.dialect }

    // The span is started and ended in `read` and `transaction` themselves: a shared async
    // helper taking the work as a closure cost two more async frames per query.
    public nonisolated(nonsending) func read<T: Sendable>(tenant: String?, _ body: @escaping @Sendable (any Connection) throws -> T) async throws -> T {
        let span = spans.startQuery("db.read", system: system, operation: "read", tenant: tenant)
        do {
            let result = try await base.read(tenant: tenant, body)
            spans.endQuery(span, error: nil)
            return result
        } catch {
            spans.endQuery(span, error: error)
            throw error
        }
    }

    public nonisolated(nonsending) func transaction<T: Sendable>(tenant: String?, _ body: @escaping @Sendable (any Connection) throws -> T) async throws -> T {
        let span = spans.startQuery("db.transaction", system: system, operation: "transaction", tenant: tenant)
        do {
            let result = try await base.transaction(tenant: tenant, body)
            spans.endQuery(span, error: nil)
            return result
        } catch {
            spans.endQuery(span, error: error)
            throw error
        }
    }

    public func ping() async throws { try await base.ping() }

    public func close() async { await base.close() }
}
