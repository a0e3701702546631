// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

public import Instrumentation
public import Tracing

/// A ``Database`` that records a client span around every read and transaction with `tracer`, as
/// a child of the task's current span (`InstrumentationContext.current`, or the tracer's own notion of the request's span) — the request's, inside a
/// handler. Attributes follow OpenTelemetry's database conventions (`db.system.name`,
/// `db.operation.name`) plus `atlas.tenant`; a failure is recorded on the span. The span is not
/// made the task's current one: nothing starts spans inside a storage closure. The composition
/// root wraps the database in it only when tracing is configured, so an untraced server pays
/// nothing.
///
/// ```swift
/// let database: any Database = telemetry.tracer.map { TracedDatabase(opened, tracer: $0) } ?? opened
/// ```
public struct TracedDatabase<Recorder: Tracer>: Database {
    /// Starts a query's client span given its name, `db.system.name`, `db.operation.name`, tenant
    /// and parent context, for a tracer that can take the attributes without the tracing API's
    /// attribute dictionary (the default sets them through `span.attributes`).
    public typealias SpanStarter = @Sendable (_ name: String, _ system: String, _ operation: String, _ tenant: String?,
                                              _ context: InstrumentationContext) -> Recorder.Span

    public let base: any Database
    public let tracer: Recorder
    private let system: String
    private let starter: SpanStarter?

    public init(_ base: any Database, tracer: Recorder, startSpan: SpanStarter? = nil) {
        self.base = base
        self.tracer = tracer
        self.starter = startSpan
        system = base.dialect == .postgres ? "postgresql" : "sqlite"
    }

    public var dialect: SQLDialect { base.dialect }

    // The span is started and ended in `read` and `transaction` themselves: a shared async
    // helper taking the work as a closure cost two more async frames per query.
    public nonisolated(nonsending) func read<T: Sendable>(tenant: String?, _ body: @escaping @Sendable (any Connection) throws -> T) async throws -> T {
        let span = startSpan("db.read", operation: "read", tenant: tenant)
        defer { span.end() }
        do {
            return try await base.read(tenant: tenant, body)
        } catch {
            span.recordError(error)
            throw error
        }
    }

    public nonisolated(nonsending) func transaction<T: Sendable>(tenant: String?, _ body: @escaping @Sendable (any Connection) throws -> T) async throws -> T {
        let span = startSpan("db.transaction", operation: "transaction", tenant: tenant)
        defer { span.end() }
        do {
            return try await base.transaction(tenant: tenant, body)
        } catch {
            span.recordError(error)
            throw error
        }
    }

    public func ping() async throws { try await base.ping() }

    public func close() async { await base.close() }

    /// A client span named `name` under the task's current context.
    private func startSpan(_ name: String, operation: String, tenant: String?) -> Recorder.Span {
        if let starter {
            return starter(name, system, operation, tenant, InstrumentationContext.current ?? .topLevel)
        }
        return startSpanSettingAttributes(name, operation: operation, tenant: tenant)
    }

    private func startSpanSettingAttributes(_ name: String, operation: String, tenant: String?) -> Recorder.Span {
        let span = tracer.startSpan(name, context: InstrumentationContext.current ?? .topLevel, ofKind: .client)
        if span.isRecording {
            // Built here and set once: each `span.attributes[key] = value` copies the span's
            // attribute dictionary out and back under its lock.
            var attributes: SpanAttributes = ["db.system.name": .string(system), "db.operation.name": .string(operation)]
            if let tenant { attributes["atlas.tenant"] = tenant }
            span.attributes = attributes
        }
        return span
    }
}
