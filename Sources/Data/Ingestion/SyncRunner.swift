// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Core
public import Foundation
import HTTP
import Logging
import Storage
import Synchronization

/// The stored state of one connector (`data_sync_state`).
public struct SyncState: Sendable, Hashable, Codable {
    public var connector: String
    public var source: String
    /// The last committed cursor value, as text (`nil` before the first successful run).
    public var cursor: String?
    /// `idle` (never ran), `running`, `succeeded` or `failed`.
    public var status: String
    public var runs: Int
    public var lastStartedAt: Date?
    public var lastFinishedAt: Date?
    public var lastSuccessAt: Date?
    public var lastRows: Int
    public var lastRejected: Int
    public var totalRows: Int
    public var totalRejected: Int
    public var lastError: String?
}

/// The outcome of one connector run.
public struct SyncReport: Sendable, Hashable, Codable {
    public var connector: String
    public var source: String
    /// Records stored by this run.
    public var rows: Int
    /// Records refused by validation (stored in `data_ingest_errors`).
    public var rejected: Int
    /// Batches (SQL) or pages (HTTP) read.
    public var pages: Int
    /// The cursor after the run.
    public var cursor: String?
}

/// A connector run that failed; what was committed before the failure stays, and the next run
/// continues from the last committed cursor.
public struct SyncError: Error, CustomStringConvertible, Sendable {
    public var connector: String
    public var detail: String
    public var description: String { "connector \(connector): \(detail)" }
}

/// Runs pull connectors: reads a batch (SQL) or a page (HTTP), validates it against the source's
/// schema and commits its rows, rejected records, batch row and the connector's progress in one
/// transaction, so a crash between batches neither loses nor repeats rows.
final class SyncRunner: Sendable {
    let database: any Database
    let sources: SourceStore
    let logger: Logger
    let now: @Sendable () -> Date
    private let running = Mutex<Set<String>>([])

    init(database: any Database, sources: SourceStore, logger: Logger, now: @escaping @Sendable () -> Date) {
        self.database = database
        self.sources = sources
        self.logger = logger
        self.now = now
    }

    // MARK: State

    func state(_ connector: String) async throws -> SyncState? {
        try await database.read { conn in try Self.loadState(connector, conn) }
    }

    func states() async throws -> [SyncState] {
        try await database.read { conn in
            try conn.query("SELECT * FROM data_sync_state ORDER BY connector").map(Self.decodeState)
        }
    }

    static func loadState(_ connector: String, _ conn: any Connection) throws -> SyncState? {
        try conn.queryFirst("SELECT * FROM data_sync_state WHERE connector = \(connector)").map(decodeState)
    }

    static func decodeState(_ row: Row) throws -> SyncState {
        SyncState(
            connector: try row["connector", as: String.self], source: try row["source", as: String.self],
            cursor: try row["cursor", as: String?.self], status: try row["status", as: String.self], runs: try row["runs", as: Int.self],
            lastStartedAt: try row["last_started_at", as: Date?.self], lastFinishedAt: try row["last_finished_at", as: Date?.self],
            lastSuccessAt: try row["last_success_at", as: Date?.self], lastRows: try row["last_rows", as: Int.self],
            lastRejected: try row["last_rejected", as: Int.self], totalRows: try row["total_rows", as: Int.self],
            totalRejected: try row["total_rejected", as: Int.self], lastError: try row["last_error", as: String?.self])
    }

    // MARK: Running

    /// Runs `connector` once. Throws ``SyncError`` when it is already running in this process or
    /// fails; the failure is also stored in its state.
    @discardableResult
    func run(_ connector: ConnectorDefinition) async throws -> SyncReport {
        guard running.withLock({ $0.insert(connector.name).inserted }) else {
            throw SyncError(connector: connector.name, detail: "already running")
        }
        defer { _ = running.withLock { $0.remove(connector.name) } }
        guard let source = try await sources.definition(connector.source) else {
            throw SyncError(connector: connector.name, detail: "source \(connector.source) is not registered (declare it in the sources file)")
        }
        let started = now()
        let previous = try await database.transaction { conn -> String? in
            try conn.execute("""
                INSERT INTO data_sync_state (connector, source, status, runs, last_started_at, updated_at)
                VALUES (\(connector.name), \(connector.source), 'running', 1, \(started), \(started))
                ON CONFLICT (connector) DO UPDATE SET status = 'running', runs = data_sync_state.runs + 1,
                    last_started_at = excluded.last_started_at, source = excluded.source, updated_at = excluded.updated_at
                """)
            return try conn.queryScalar("SELECT cursor FROM data_sync_state WHERE connector = \(connector.name)", as: String.self)
        }
        var report = SyncReport(connector: connector.name, source: source.name, rows: 0, rejected: 0, pages: 0, cursor: previous)
        do {
            switch connector.kind {
            case .sql(let pull): try await runSQL(connector, pull, source: source, report: &report)
            case .http(let pull): try await runHTTP(connector, pull, source: source, report: &report)
            }
        } catch {
            let detail = (error as? SyncError)?.detail ?? String(describing: error)
            let finished = now()
            _ = try? await database.transaction { [report] conn in
                try conn.execute("""
                    UPDATE data_sync_state SET status = 'failed', last_finished_at = \(finished), last_error = \(String(detail.prefix(2000))),
                        last_rows = \(report.rows), last_rejected = \(report.rejected), updated_at = \(finished)
                    WHERE connector = \(connector.name)
                    """)
            }
            logger.warning("data sync failed", metadata: ["connector": "\(connector.name)", "error": "\(detail)"])
            throw SyncError(connector: connector.name, detail: detail)
        }
        let finished = now()
        try await database.transaction { [report] conn in
            try conn.execute("""
                UPDATE data_sync_state SET status = 'succeeded', last_finished_at = \(finished), last_success_at = \(finished),
                    last_error = NULL, last_rows = \(report.rows), last_rejected = \(report.rejected), updated_at = \(finished)
                WHERE connector = \(connector.name)
                """)
        }
        logger.info("data sync finished", metadata: ["connector": "\(connector.name)", "rows": "\(report.rows)", "rejected": "\(report.rejected)"])
        return report
    }

    /// Validates `records` and commits them with the connector's new cursor in one transaction.
    private func commit(_ records: [ParsedRecord], connector: ConnectorDefinition, source: SourceDefinition, cursor: String?,
                        format: String, report: inout SyncReport) async throws {
        var byTenant: [String: (rows: [[SQLValue]], rejected: [RejectedRecord])] = [:]
        for record in records {
            let tenant: String
            switch connector.tenant {
            case .fixed(let id): tenant = id.rawValue
            case .column(let column):
                let value = record.fields.first { $0.name.lowercased() == column }?.value
                switch value {
                case .string(let text)? where TenantID.isValid(text): tenant = text
                case .cell(let text)? where TenantID.isValid(text): tenant = text
                default:
                    report.rejected += 1
                    logger.debug("data sync record without tenant", metadata: ["connector": "\(connector.name)", "line": "\(record.line)"])
                    continue
                }
            }
            let validator = RecordValidator(source: source, tenant: tenant)
            switch validator.validate(record) {
            case .success(let values): byTenant[tenant, default: ([], [])].rows.append(values)
            case .failure(let refusal): byTenant[tenant, default: ([], [])].rejected.append(refusal)
            }
        }
        let at = now()
        let origin = "sync:\(connector.name)"
        let name = connector.name
        let groups = byTenant
        let written = try await database.transaction(tenant: "*") { conn -> (Int, Int) in
            var rows = 0
            var rejected = 0
            for (tenant, group) in groups.sorted(by: { $0.key < $1.key }) {
                _ = try SourceStore.insert(group.rows, tenant: tenant, source: source, loadedAt: at, conn)
                let batch = "bat_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
                try IngestService.recordErrors(Array(group.rejected.prefix(IngestService.storedErrorsPerBatch)), tenant: tenant,
                                               source: source.name, batch: String(batch), at: at, conn)
                try conn.execute("""
                    INSERT INTO data_ingest_batches (id, tenant_id, source, origin, format, accepted, rejected, started_at, finished_at)
                    VALUES (\(String(batch)), \(tenant), \(source.name), \(origin), \(format), \(group.rows.count), \(group.rejected.count), \(at), \(at))
                    """)
                rows += group.rows.count
                rejected += group.rejected.count
            }
            try conn.execute("""
                UPDATE data_sync_state SET cursor = \(cursor), total_rows = total_rows + \(rows), total_rejected = total_rejected + \(rejected),
                    updated_at = \(at)
                WHERE connector = \(name)
                """)
            return (rows, rejected)
        }
        report.rows += written.0
        report.rejected += written.1
        report.cursor = cursor
        report.pages += 1
    }

    // MARK: SQL

    private func runSQL(_ connector: ConnectorDefinition, _ pull: ConnectorDefinition.SQLPull, source: SourceDefinition,
                        report: inout SyncReport) async throws {
        let remote: (any Database)?
        if let url = pull.databaseURL {
            do {
                remote = try await openDatabase(url: url, configuration: DatabaseConfiguration(poolSize: 1), logger: logger)
            } catch {
                throw SyncError(connector: connector.name, detail: "cannot open the connector's database: \(error)")
            }
        } else {
            remote = nil
        }
        defer { if let remote { Task { await remote.close() } } }
        let reader = remote ?? database
        let table = SQLQuery(unsafeSQL: pull.table.split(separator: ".").map { SQLDialect.quoteIdentifier(String($0)) }.joined(separator: "."))
        let cursorColumn = SQLQuery(unsafeSQL: SQLDialect.quoteIdentifier(pull.cursor))
        let selection = pull.columns.map { columns in
            SQLQuery(unsafeSQL: (Set(columns + [pull.cursor]).sorted()).map(SQLDialect.quoteIdentifier).joined(separator: ", "))
        } ?? SQLQuery(unsafeSQL: "*")
        var cursor = report.cursor.flatMap(CursorValue.init(stored:))
        let batchSize = pull.batchSize
        while true {
            let from = cursor
            let rows: [Row]
            do {
                rows = try await reader.read(tenant: remote == nil ? "*" : nil) { conn in
                    let condition: SQLQuery = from.map { "WHERE \(cursorColumn) > \($0.sqlValue)" } ?? "WHERE \(cursorColumn) IS NOT NULL"
                    var batch = try conn.query("SELECT \(selection) FROM \(table) \(condition) ORDER BY \(cursorColumn) LIMIT \(batchSize)")
                    // Rows sharing the batch's last cursor value may continue past the limit: read
                    // them all, or the next batch (`> last`) would skip them.
                    if batch.count == batchSize, let last = batch.last?[pull.cursor] {
                        batch.removeAll { $0[pull.cursor] == last }
                        batch += try conn.query("SELECT \(selection) FROM \(table) WHERE \(cursorColumn) = \(last)")
                    }
                    return batch
                }
            } catch {
                throw SyncError(connector: connector.name, detail: "reading \(pull.table) failed: \(error)")
            }
            guard !rows.isEmpty else { return }
            guard let last = rows.last?[pull.cursor], let next = CursorValue(last) else {
                throw SyncError(connector: connector.name, detail: "cursor column \(pull.cursor) is missing or not an integer, number or text")
            }
            let records = rows.enumerated().map { index, row in
                ParsedRecord(line: report.rows + report.rejected + index + 1, fields: zip(row.columnNames, row.values).compactMap { name, value in
                    FieldValue(value).map { (name.lowercased(), $0) }
                })
            }
            try await commit(records, connector: connector, source: source, cursor: next.stored, format: "sql", report: &report)
            cursor = next
            if rows.count < batchSize { return }
        }
    }

    // MARK: HTTP

    private func runHTTP(_ connector: ConnectorDefinition, _ pull: ConnectorDefinition.HTTPPull, source: SourceDefinition,
                         report: inout SyncReport) async throws {
        let stored = report.cursor.flatMap(CursorValue.init(stored:))
        var highest = stored
        var page = 0
        var token: String?
        if case .page(_, let start, _, _) = pull.pagination { page = start }
        var line = 0
        // One client per run: its pages go to one origin over a kept-alive connection, closed
        // when the run ends.
        guard let client = HTTPClient(url: pull.url.absoluteString, maxResponseBytes: 64 << 20, maxIdleConnections: 1) else {
            throw SyncError(connector: connector.name, detail: "the pull URL is not an http or https URL")
        }
        for _ in 0..<pull.maxPages {
            var components = URLComponents(url: pull.url, resolvingAgainstBaseURL: false)!
            var items = components.queryItems ?? []
            switch pull.pagination {
            case .none: break
            case .page(let param, _, let sizeParam, let size):
                items.append(URLQueryItem(name: param, value: String(page)))
                if let sizeParam, let size { items.append(URLQueryItem(name: sizeParam, value: String(size))) }
            case .cursor(let param, _):
                if let token { items.append(URLQueryItem(name: param, value: token)) }
            }
            if let param = pull.cursorParam, let stored { items.append(URLQueryItem(name: param, value: stored.text)) }
            components.queryItems = items.isEmpty ? nil : items
            var fields: [(name: String, value: String)] = [("Accept", "application/json")]
            for (name, value) in pull.headers.sorted(by: { $0.key < $1.key }) {
                fields.removeAll { $0.name.lowercased() == name.lowercased() }
                fields.append((name, value))
            }
            let response: HTTPClientResponse
            do {
                response = try await client.perform("GET", HTTPClient.requestTarget(of: components.url!.absoluteString),
                                                    headers: fields, timeout: .milliseconds(Int64(pull.timeout * 1000)))
            } catch {
                if error.kind == .cancelled { throw CancellationError() }
                throw SyncError(connector: connector.name, detail: "request \(report.pages + 1) failed: \(error.detail)")
            }
            let data = Data(response.body)
            let status = response.status
            guard (200..<300).contains(status) else {
                throw SyncError(connector: connector.name, detail: "request \(report.pages + 1) answered HTTP \(status)")
            }
            guard let document = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
                throw SyncError(connector: connector.name, detail: "request \(report.pages + 1) did not answer JSON")
            }
            var located: Any? = document
            for key in pull.records { located = (located as? [String: Any])?[key] }
            guard let array = located as? [Any] else {
                throw SyncError(connector: connector.name, detail: "request \(report.pages + 1): no array at `\(pull.records.joined(separator: "."))`")
            }
            var records: [ParsedRecord] = []
            for element in array {
                line += 1
                guard JSONSerialization.isValidJSONObject(element) || element is [String: Any],
                      let bytes = try? JSONSerialization.data(withJSONObject: element) else {
                    records.append(ParsedRecord(line: line, error: "a record must be a JSON object"))
                    continue
                }
                do {
                    let fields = try JSONRecordReader.readObject(bytes)
                    if let field = pull.cursorField {
                        let value = fields.first { $0.name.lowercased() == field }?.value
                        if let value, let cursor = CursorValue(value) {
                            if let stored, !(stored < cursor) { continue }
                            if highest == nil || highest! < cursor { highest = cursor }
                        }
                    }
                    records.append(ParsedRecord(line: line, fields: fields))
                } catch {
                    records.append(ParsedRecord(line: line, error: error.detail))
                }
            }
            var next: String?
            var done: Bool
            switch pull.pagination {
            case .none: done = true
            case .page(_, _, _, let size):
                done = array.isEmpty || (size.map { array.count < $0 } ?? false)
                page += 1
            case .cursor(_, let path):
                var found: Any? = document
                for key in path { found = (found as? [String: Any])?[key] }
                switch found {
                case let text as String where !text.isEmpty: next = text
                case let number as NSNumber: next = number.stringValue
                default: next = nil
                }
                done = next == nil
                token = next
            }
            // The cursor is committed with the last page only: pages need not be ordered by it.
            try await commit(records, connector: connector, source: source, cursor: done ? highest?.stored : report.cursor,
                             format: "http", report: &report)
            if done { return }
        }
        throw SyncError(connector: connector.name, detail: "stopped after max_pages (\(pull.maxPages)) pages")
    }
}

extension FieldValue {
    /// A value read from a SQL row.
    init?(_ value: SQLValue) {
        switch value {
        case .null: self = .null
        case .integer(let number): self = .int(number)
        case .double(let number): self = .float(number)
        case .text(let text): self = .string(text)
        case .bool(let flag): self = .bool(flag)
        case .blob: return nil
        }
    }
}

/// A cursor value: an integer, a number or text, stored with a one-letter type tag.
enum CursorValue: Sendable, Comparable {
    case integer(Int64)
    case number(Double)
    case text(String)

    init?(_ value: SQLValue) {
        switch value {
        case .integer(let number): self = .integer(number)
        case .double(let number): self = .number(number)
        case .text(let text): self = .text(text)
        default: return nil
        }
    }

    init?(_ value: FieldValue) {
        switch value {
        case .int(let number): self = .integer(number)
        case .float(let number): self = .number(number)
        case .string(let text), .cell(let text): self = .text(Timestamps.parse(text).map(Timestamps.format) ?? text)
        default: return nil
        }
    }

    init?(stored: String) {
        let tag = stored.prefix(2)
        let body = String(stored.dropFirst(2))
        switch tag {
        case "i:": guard let number = Int64(body) else { return nil }; self = .integer(number)
        case "f:": guard let number = Double(body) else { return nil }; self = .number(number)
        case "t:": self = .text(body)
        default: return nil
        }
    }

    var stored: String {
        switch self {
        case .integer(let number): "i:\(number)"
        case .number(let number): "f:\(number)"
        case .text(let text): "t:\(text)"
        }
    }

    var text: String {
        switch self {
        case .integer(let number): String(number)
        case .number(let number): String(number)
        case .text(let text): text
        }
    }

    var sqlValue: SQLValue {
        switch self {
        case .integer(let number): .integer(number)
        case .number(let number): .double(number)
        case .text(let text): .text(text)
        }
    }

    static func < (lhs: CursorValue, rhs: CursorValue) -> Bool {
        switch (lhs, rhs) {
        case (.integer(let a), .integer(let b)): a < b
        case (.integer(let a), .number(let b)): Double(a) < b
        case (.number(let a), .integer(let b)): a < Double(b)
        case (.number(let a), .number(let b)): a < b
        case (.text(let a), .text(let b)): a < b
        case (.text, _): false
        case (_, .text): true
        }
    }
}
