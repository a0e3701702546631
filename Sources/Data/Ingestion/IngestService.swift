// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

public import Core
public import Foundation
import Storage

/// What to do when a record fails validation.
public enum IngestErrorMode: String, Sendable, Hashable, CaseIterable {
    /// Store the valid records, record the bad ones (with their line) in `data_ingest_errors`.
    case skip
    /// Store nothing when any record is bad (answered 422).
    case abort
}

/// The outcome of one ingest call (`POST /data/sources/{source}/records`, `atlas data ingest`).
public struct IngestSummary: Sendable, Hashable, Codable {
    public var source: String
    public var tenant: String
    /// Records stored.
    public var accepted: Int
    /// Records refused.
    public var rejected: Int
    /// The first refused records (``IngestionConfiguration/maxErrorsReported``), in body order.
    public var errors: [RejectedRecord]
    /// The committed batches' ids (`data_ingest_batches.id`); one for an HTTP push.
    public var batches: [String]
    /// Whether the source was created by this call from the records' shape.
    public var inferred: Bool
}

/// A refusal of a whole ingest call, rendered as problem+json.
public struct IngestError: ProblemError, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var detail: String
    /// For `abort` mode: what was refused.
    public var summary: IngestSummary?

    public var description: String { "\(status) \(code): \(detail)" }

    static func unknownSource(_ name: String) -> IngestError {
        IngestError(status: 404, code: "source_not_found",
                    detail: "source \(SourceNames.quoted(name)) is not declared in the sources file (and schema inference is off)")
    }
}

/// Streams records into a source: parse (incrementally), validate, then write in one transaction
/// per batch — accepted rows, the rejected records and the batch row together, so a failure leaves
/// nothing half-written.
final class IngestService: Sendable {
    let database: any Database
    let sources: SourceStore
    let configuration: IngestionConfiguration
    let now: @Sendable () -> Date

    /// Records read before an undeclared source's schema is inferred.
    static let inferenceSample = 1000
    /// Rejected records stored per batch; the counts stay exact beyond.
    static let storedErrorsPerBatch = 10_000

    init(database: any Database, sources: SourceStore, configuration: IngestionConfiguration, now: @escaping @Sendable () -> Date) {
        self.database = database
        self.sources = sources
        self.configuration = configuration
        self.now = now
    }

    /// Ingests the records of `chunks` (the body's bytes, in order) into `source` for `tenant`.
    ///
    /// - Parameters:
    ///   - batchRows: records per transaction in `skip` mode; `nil` = one transaction for the whole
    ///     input (HTTP pushes). `abort` mode is always one transaction.
    ///   - origin: where the records came from, stored with the batch (`push`, `file`, `sync:<connector>`).
    func ingest<Chunks: AsyncSequence>(
        source name: String, tenant: TenantID, format: RecordFormat, chunks: Chunks, mode: IngestErrorMode,
        batchRows: Int? = nil, origin: String = "push"
    ) async throws -> IngestSummary where Chunks.Element == [UInt8] {
        guard SourceNames.isValidSource(name) else {
            throw IngestError(status: 404, code: "source_not_found", detail: "source name \(SourceNames.quoted(name)) must match [a-z][a-z0-9_]{0,47}")
        }
        var definition = try await sources.definition(name)
        if definition == nil && !configuration.inferSources { throw IngestError.unknownSource(name) }

        var parser = format.makeParser()
        var parsed: [ParsedRecord] = []
        var validator = definition.map { RecordValidator(source: $0, tenant: tenant.rawValue) }
        var summary = IngestSummary(source: name, tenant: tenant.rawValue, accepted: 0, rejected: 0, errors: [], batches: [], inferred: false)
        var rows: [[SQLValue]] = []
        var rejected: [RejectedRecord] = []
        let flushAt = mode == .abort ? Int.max : (batchRows ?? Int.max)
        var started = now()

        func drain() async throws {
            guard let current = validator else { return }
            let records = parsed
            parsed.removeAll(keepingCapacity: true)
            for record in records {
                switch current.validate(record) {
                case .success(let values):
                    rows.append(values)
                    if rows.count >= flushAt { try await commit() }
                case .failure(let refusal):
                    rejected.append(refusal)
                    summary.rejected += 1
                    if summary.errors.count < configuration.maxErrorsReported { summary.errors.append(refusal) }
                }
            }
        }

        func commit() async throws {
            guard let current = validator else { return }
            let batch = try await write(rows, rejected: rejected, source: current.source, tenant: tenant, format: format,
                                        origin: origin, started: started)
            if let batch { summary.batches.append(batch) }
            summary.accepted += rows.count
            rows.removeAll(keepingCapacity: true)
            rejected.removeAll(keepingCapacity: true)
            started = now()
        }

        do {
            for try await chunk in chunks {
                try parser.feed(chunk, into: &parsed)
                if validator == nil {
                    guard parsed.count >= Self.inferenceSample else { continue }
                    definition = try await inferAndRegister(name, from: parsed, format: format)
                    summary.inferred = true
                    validator = definition.map { RecordValidator(source: $0, tenant: tenant.rawValue) }
                }
                try await drain()
            }
            try parser.finish(into: &parsed)
        } catch let error as RecordFormatError {
            throw IngestError(status: 400, code: "malformed_body", detail: "line \(error.line): \(error.detail)")
        }
        if validator == nil {
            guard parsed.contains(where: { $0.error == nil }) else {
                if parsed.isEmpty { throw IngestError(status: 422, code: "no_records", detail: "the body holds no records") }
                throw IngestError(status: 422, code: "no_valid_records",
                                  detail: "source \(name) is not declared and no record could be read to infer its schema; line \(parsed[0].line): \(parsed[0].error ?? "")")
            }
            definition = try await inferAndRegister(name, from: parsed, format: format)
            summary.inferred = true
            validator = definition.map { RecordValidator(source: $0, tenant: tenant.rawValue) }
        }
        try await drain()
        if mode == .abort && summary.rejected > 0 {
            summary.accepted = 0
            throw IngestError(status: 422, code: "records_rejected",
                              detail: "\(summary.rejected) record(s) failed validation (first: line \(summary.errors.first?.line ?? 0): \(summary.errors.first?.detail ?? "")); with on_error=abort nothing was stored",
                              summary: summary)
        }
        if !rows.isEmpty || !rejected.isEmpty || summary.batches.isEmpty { try await commit() }
        return summary
    }

    /// One transaction: the rows, the rejected records and the batch row. Returns the batch id.
    private func write(_ rows: [[SQLValue]], rejected: [RejectedRecord], source: SourceDefinition, tenant: TenantID,
                       format: RecordFormat, origin: String, started: Date) async throws -> String? {
        let batch = "bat_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        let finished = now()
        let stored = Array(rejected.prefix(Self.storedErrorsPerBatch))
        try await database.transaction(tenant: tenant.rawValue) { conn in
            _ = try SourceStore.insert(rows, tenant: tenant.rawValue, source: source, loadedAt: finished, conn)
            try Self.recordErrors(stored, tenant: tenant.rawValue, source: source.name, batch: String(batch), at: finished, conn)
            try conn.execute("""
                INSERT INTO data_ingest_batches (id, tenant_id, source, origin, format, accepted, rejected, started_at, finished_at)
                VALUES (\(String(batch)), \(tenant.rawValue), \(source.name), \(origin), \(format.rawValue), \(rows.count), \(rejected.count),
                        \(started), \(finished))
                """)
        }
        return String(batch)
    }

    static func recordErrors(_ errors: [RejectedRecord], tenant: String, source: String, batch: String, at date: Date,
                             _ conn: any Connection) throws {
        var start = 0
        while start < errors.count {
            let end = min(start + 400, errors.count)
            var sql = SQLQuery.StringInterpolation(literalCapacity: 64, interpolationCount: (end - start) * 6)
            sql.appendLiteral("INSERT INTO data_ingest_errors (tenant_id, source, batch_id, line, detail, created_at) VALUES ")
            for index in start..<end {
                sql.appendLiteral(index == start ? "(" : ", (")
                sql.appendInterpolation(tenant)
                sql.appendLiteral(", ")
                sql.appendInterpolation(source)
                sql.appendLiteral(", ")
                sql.appendInterpolation(batch)
                sql.appendLiteral(", ")
                sql.appendInterpolation(errors[index].line)
                sql.appendLiteral(", ")
                sql.appendInterpolation(String(errors[index].detail.prefix(1000)))
                sql.appendLiteral(", ")
                sql.appendInterpolation(date)
                sql.appendLiteral(")")
            }
            try conn.execute(SQLQuery(stringInterpolation: sql))
            start = end
        }
    }

    private func inferAndRegister(_ name: String, from records: [ParsedRecord], format: RecordFormat) async throws -> SourceDefinition {
        let inferred: SourceDefinition
        do {
            inferred = try SchemaInference.infer(name, from: records)
        } catch let error as SourceConfigurationError {
            throw IngestError(status: 422, code: "schema_inference_failed", detail: error.description)
        }
        return try await sources.register(inferred)
    }

    // MARK: Reads

    /// The last committed load per source for `tenant`.
    func freshness(tenant: TenantID) async throws -> [String: Date] {
        try await database.read(tenant: tenant.rawValue) { conn in
            var result: [String: Date] = [:]
            for row in try conn.query("""
                SELECT source, MAX(finished_at) AS loaded FROM data_ingest_batches WHERE tenant_id = \(tenant.rawValue) AND accepted > 0
                GROUP BY source
                """) {
                result[try row["source", as: String.self]] = try row["loaded", as: Date.self]
            }
            return result
        }
    }

    /// The latest rejected records of `source` for `tenant`, newest first.
    func errors(source: String, tenant: TenantID, limit: Int) async throws -> [StoredIngestError] {
        try await database.read(tenant: tenant.rawValue) { conn in
            try conn.query("""
                SELECT batch_id, line, detail, created_at FROM data_ingest_errors
                WHERE tenant_id = \(tenant.rawValue) AND source = \(source) ORDER BY id DESC LIMIT \(limit)
                """).map {
                StoredIngestError(batch: try $0["batch_id", as: String.self], line: try $0["line", as: Int.self],
                                  detail: try $0["detail", as: String.self], createdAt: try $0["created_at", as: Date.self])
            }
        }
    }
}

/// One row of `data_ingest_errors`.
public struct StoredIngestError: Sendable, Hashable, Codable {
    public var batch: String
    public var line: Int
    public var detail: String
    public var createdAt: Date
}

/// Infers a source's columns from its first records: a field's type is the one all its non-null
/// values share (integers widen to `float`; strings that all read as ISO-8601 become `timestamp`;
/// nested values and mixed kinds become `json`); CSV cells are read from their text the same way.
enum SchemaInference {
    static let maxInferredColumns = 200

    static func infer(_ name: String, from records: [ParsedRecord]) throws -> SourceDefinition {
        var order: [String] = []
        var kinds: [String: Set<ColumnType>] = [:]
        for record in records where record.error == nil {
            for (rawName, value) in record.fields {
                let field = rawName.lowercased()
                if kinds[field] == nil {
                    order.append(field)
                    kinds[field] = []
                }
                if let type = type(of: value) { kinds[field]?.insert(type) }
            }
        }
        guard !order.isEmpty else { throw SourceConfigurationError("source \(name): the records have no fields to infer columns from") }
        // PostgreSQL allows 1,600 columns; a source this wide is a mistake, not a schema.
        guard order.count <= maxInferredColumns else {
            throw SourceConfigurationError("source \(name): the records have \(order.count) distinct fields; at most \(maxInferredColumns) can be inferred (declare the source instead)")
        }
        let columns = order.map { field -> SourceColumn in
            let seen = kinds[field] ?? []
            let type: ColumnType
            if field == "tenant" {
                type = .string
            } else if seen.isEmpty {
                type = .string
            } else if seen.count == 1 {
                type = seen.first!
            } else if seen == [.int, .float] {
                type = .float
            } else if seen.isSubset(of: [.timestamp, .string]) {
                type = .string
            } else {
                type = .json
            }
            return SourceColumn(name: field, type: type)
        }
        return try SourceDefinition(name: name, columns: columns, origin: .inferred)
    }

    private static func type(of value: FieldValue) -> ColumnType? {
        switch value {
        case .null: nil
        case .bool: .bool
        case .int: .int
        case .float: .float
        case .string(let text): Timestamps.parse(text) != nil ? .timestamp : .string
        case .json: .json
        case .cell(let text):
            if Int64(text) != nil { .int } else if let number = Double(text), number.isFinite { .float } else if ["true", "false"].contains(text.lowercased()) {
                .bool
            } else if Timestamps.parse(text) != nil { .timestamp } else { .string }
        }
    }
}
