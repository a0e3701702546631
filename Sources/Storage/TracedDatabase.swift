// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

public import Tracing

/// A ``Database`` that records a client span around every read and transaction through the
/// process-wide tracer (swift-distributed-tracing's `InstrumentationSystem`), as a child of the
/// task's current span — the request's, inside a handler. Attributes follow OpenTelemetry's
/// database conventions (`db.system.name`, `db.operation.name`) plus `atlas.tenant`; a failure
/// is recorded on the span. The composition root wraps the database in it only when tracing is
/// configured, so an untraced server pays nothing.
///
/// ```swift
/// let database: any Database = tracing ? TracedDatabase(opened) : opened
/// ```
public struct TracedDatabase: Database {
    public let base: any Database
    private let system: String

    public init(_ base: any Database) {
        self.base = base
        system = base.dialect == .postgres ? "postgresql" : "sqlite"
    }

    public var dialect: SQLDialect { base.dialect }

    public func read<T: Sendable>(tenant: String?, _ body: @escaping @Sendable (any Connection) throws -> T) async throws -> T {
        try await withSpan("db.read", ofKind: .client) { span in
            describe(span, operation: "read", tenant: tenant)
            return try await base.read(tenant: tenant, body)
        }
    }

    public func transaction<T: Sendable>(tenant: String?, _ body: @escaping @Sendable (any Connection) throws -> T) async throws -> T {
        try await withSpan("db.transaction", ofKind: .client) { span in
            describe(span, operation: "transaction", tenant: tenant)
            return try await base.transaction(tenant: tenant, body)
        }
    }

    public func ping() async throws { try await base.ping() }

    public func close() async { await base.close() }

    private func describe(_ span: any Span, operation: String, tenant: String?) {
        guard span.isRecording else { return }
        span.attributes["db.system.name"] = system
        span.attributes["db.operation.name"] = operation
        if let tenant { span.attributes["atlas.tenant"] = tenant }
    }
}
