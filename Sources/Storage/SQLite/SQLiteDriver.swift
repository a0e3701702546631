// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

import CSQLite
import Dispatch

/// One SQLite connection (`sqlite3*`) with its prepared-statement cache. Opened in multi-thread
/// mode (`SQLITE_OPEN_NOMUTEX`, sqlite.org/threadsafe.html): safe because one thread at a time
/// uses it — its ``SerialWorker``, or (readers) the one caller the pool lent it to.
final class SQLiteDriver: Driver {
    enum Role { case writer, reader, memory }

    let dialect = SQLDialect.sqlite
    /// A SQLite handle is never replaced: I/O errors are reported and the next statement tries again.
    let isBroken = false
    private var handle: OpaquePointer?
    /// Prepared statements by query shape, so a cached statement is found without building its text.
    private var statements: [SQLQuery.Shape: OpaquePointer] = [:]
    /// `BEGIN`/`COMMIT`/`ROLLBACK`, prepared on first use and kept apart from the cache (which
    /// may be emptied), indexed by ``TransactionControl/rawValue``.
    private var controls: [OpaquePointer?] = Array(repeating: nil, count: TransactionControl.allCases.count)
    /// Column names of cached statements, built once per statement rather than once per query.
    /// Keyed by statement; an entry is reused only while SQLite still returns the same name
    /// pointer and count (a re-prepare after a schema change allocates new names).
    private var columnNames: [OpaquePointer: (first: UnsafePointer<CChar>?, count: Int32, columns: RowColumns)] = [:]
    /// The statement timeout in nanoseconds (0: none), worked out once rather than per statement.
    private let statementTimeoutNanos: UInt64
    /// Uptime in nanoseconds after which the progress handler interrupts the running statement.
    fileprivate var deadline: UInt64 = .max

    /// The cache holds this many statements; past it, it is emptied (statements are cheap to
    /// prepare again, and Atlas issues a bounded set of distinct SQL texts).
    private static let cacheLimit = 256

    /// Process-wide settings, applied once before the first connection opens (shim.h).
    private static let configured: Void = { _ = atlas_sqlite3_disable_memstatus() }()

    init(path: String, role: Role, synchronous: SQLiteSynchronous, busyTimeout: Duration, statementTimeout: Duration) throws {
        Self.configured
        let parts = statementTimeout.components
        self.statementTimeoutNanos = statementTimeout > .zero
            ? max(1, UInt64(parts.seconds) * 1_000_000_000 + UInt64(parts.attoseconds / 1_000_000_000)) : 0
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (role == .reader ? 0 : SQLITE_OPEN_CREATE)
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw StorageError(.unavailable, "cannot open SQLite database \(path): \(message)", sqliteCode: rc)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        // Double-quoted strings are identifiers only, as in PostgreSQL (sqlite.org/quirks.html#dblquote),
        // and defensive mode forbids writes that can corrupt the file (sqlite.org/c3ref/c_dbconfig_defensive.html).
        _ = atlas_sqlite3_db_config_int(db, SQLITE_DBCONFIG_DQS_DML, 0, nil)
        _ = atlas_sqlite3_db_config_int(db, SQLITE_DBCONFIG_DQS_DDL, 0, nil)
        _ = atlas_sqlite3_db_config_int(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nil)
        // PostgreSQL's left()/right() as atlas_left()/atlas_right(), for the Data module's dbt models (shim.h).
        _ = atlas_sqlite3_register_functions(db)
        if statementTimeout > .zero {
            sqlite3_progress_handler(db, 1000, { context in
                guard let context else { return 0 }
                let driver = Unmanaged<SQLiteDriver>.fromOpaque(context).takeUnretainedValue()
                return DispatchTime.now().uptimeNanoseconds > driver.deadline ? 1 : 0
            }, Unmanaged.passUnretained(self).toOpaque())
        }
        do {
            // The fixed PRAGMA list (sqlite.org/pragma.html). WAL lets readers run beside the one
            // writer; synchronous=FULL syncs the WAL at every commit, so a commit survives power loss.
            let millis = busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000
            try executeScript("PRAGMA busy_timeout = \(millis)")
            try executeScript("PRAGMA trusted_schema = OFF")
            try executeScript("PRAGMA foreign_keys = ON")
            switch role {
            case .writer:
                let mode = try query("PRAGMA journal_mode = WAL").first?.values.first
                guard mode == .text("wal") else {
                    throw StorageError(.unavailable, "SQLite database \(path) cannot use WAL journal mode")
                }
                try executeScript("PRAGMA synchronous = \(synchronous.rawValue)")
            case .reader:
                try executeScript("PRAGMA query_only = ON")
            case .memory:
                try executeScript("PRAGMA synchronous = \(synchronous.rawValue)")
            }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
        for index in controls.indices {
            sqlite3_finalize(controls[index])
            controls[index] = nil
        }
        columnNames.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    private func requireHandle() throws -> OpaquePointer {
        guard let handle else { throw StorageError(.unavailable, "the database was closed") }
        return handle
    }

    // MARK: Driver

    func execute(_ query: SQLQuery) throws -> Int {
        let db = try requireHandle()
        let before = sqlite3_total_changes64(db)
        try run(query) { _ in }
        // sqlite3_changes64 keeps the count of the last INSERT/UPDATE/DELETE, so a statement that
        // changed nothing (DDL, SELECT) is detected through the running total.
        return sqlite3_total_changes64(db) == before ? 0 : Int(sqlite3_changes64(db))
    }

    func query(_ query: SQLQuery) throws -> [Row] {
        var rows: [Row] = []
        var columns: RowColumns?
        try run(query) { statement in
            let count = sqlite3_column_count(statement)
            let names: RowColumns
            if let columns {
                names = columns
            } else {
                names = self.columns(of: statement, count: count)
                columns = names
            }
            var values: [SQLValue] = []
            values.reserveCapacity(Int(count))
            for index in 0..<count { values.append(Self.value(statement, index)) }
            rows.append(Row(columns: names, values: values))
        }
        return rows
    }

    private func columns(of statement: OpaquePointer, count: Int32) -> RowColumns {
        let first = count > 0 ? sqlite3_column_name(statement, 0) : nil
        if let cached = columnNames[statement], cached.count == count, cached.first == first { return cached.columns }
        let columns = RowColumns((0..<count).map { String(cString: sqlite3_column_name(statement, $0)) })
        columnNames[statement] = (first, count, columns)
        return columns
    }

    func control(_ statement: TransactionControl) throws {
        let prepared: OpaquePointer
        if let known = controls[statement.rawValue] {
            prepared = known
        } else {
            prepared = try compile(statement.sql)
            controls[statement.rawValue] = prepared
        }
        deadline = statementDeadline()
        defer {
            deadline = .max
            sqlite3_reset(prepared)
        }
        let rc = sqlite3_step(prepared)
        guard rc == SQLITE_DONE else { throw error(rc) }
    }

    func executeScript(_ sql: String) throws {
        let db = try requireHandle()
        deadline = statementDeadline()
        defer { deadline = .max }
        let rc = sqlite3_exec(db, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error(rc) }
    }

    // MARK: Statements

    private func statementDeadline() -> UInt64 {
        guard statementTimeoutNanos > 0 else { return .max }
        return DispatchTime.now().uptimeNanoseconds + statementTimeoutNanos
    }

    private func run(_ query: SQLQuery, row: (OpaquePointer) throws -> Void) throws {
        let statement = try prepare(query)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        try bind(query.binds, to: statement)
        deadline = statementDeadline()
        defer { deadline = .max }
        while true {
            let rc = sqlite3_step(statement)
            switch rc {
            case SQLITE_ROW: try row(statement)
            case SQLITE_DONE: return
            default: throw error(rc)
            }
        }
    }

    private func prepare(_ query: SQLQuery) throws -> OpaquePointer {
        let shape = query.shape
        if let cached = statements[shape] { return cached }
        let statement = try compile(query.sql(for: .sqlite))
        if statements.count >= Self.cacheLimit {
            for cached in statements.values { sqlite3_finalize(cached) }
            statements.removeAll()
            columnNames.removeAll()
        }
        statements[shape] = statement
        return statement
    }

    /// Compiles one statement (sqlite3_prepare_v3 with SQLITE_PREPARE_PERSISTENT).
    private func compile(_ sql: String) throws -> OpaquePointer {
        let db = try requireHandle()
        var statement: OpaquePointer?
        var trailing: OpaquePointer?
        let rc = sql.withCString { text -> Int32 in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v3(db, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
            // sqlite3_prepare compiles only the first statement; refuse a second one rather than
            // silently ignore it (a tail of whitespace or comments compiles to no statement).
            if rc == SQLITE_OK, let tail, tail.pointee != 0 {
                sqlite3_prepare_v2(db, tail, -1, &trailing, nil)
            }
            return rc
        }
        guard rc == SQLITE_OK else { throw error(rc) }
        if let trailing {
            sqlite3_finalize(trailing)
            sqlite3_finalize(statement)
            throw StorageError(.invalidQuery, "execute and query take one statement; use executeScript for several")
        }
        guard let statement else {
            throw StorageError(.invalidQuery, "the SQL contains no statement")
        }
        return statement
    }

    private func bind(_ values: [SQLValue], to statement: OpaquePointer) throws {
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == values.count else {
            throw StorageError(.invalidQuery, "the statement has \(expected) parameters but \(values.count) values were bound")
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null:
                rc = sqlite3_bind_null(statement, index)
            case .integer(let integer):
                rc = sqlite3_bind_int64(statement, index, integer)
            case .double(let double):
                rc = sqlite3_bind_double(statement, index, double)
            case .bool(let bool):
                rc = sqlite3_bind_int64(statement, index, bool ? 1 : 0)
            case .text(let text):
                // The explicit byte length keeps text with embedded NUL characters whole.
                rc = text.withCString { pointer in
                    atlas_sqlite3_bind_text_transient(statement, index, pointer, Int32(text.utf8.count))
                }
            case .blob(let bytes):
                if bytes.isEmpty {
                    // A NULL pointer would bind SQL NULL; an empty blob is a zero-length blob.
                    rc = sqlite3_bind_zeroblob(statement, index, 0)
                } else {
                    rc = bytes.withUnsafeBytes { buffer in
                        atlas_sqlite3_bind_blob_transient(statement, index, buffer.baseAddress, Int32(buffer.count))
                    }
                }
            }
            guard rc == SQLITE_OK else { throw error(rc) }
        }
    }

    private static func value(_ statement: OpaquePointer, _ index: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT:
            return .double(sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            guard let text = sqlite3_column_text(statement, index) else { return .text("") }
            let count = Int(sqlite3_column_bytes(statement, index))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0, let bytes = sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob([UInt8](UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            return .null
        }
    }

    // MARK: Errors

    /// Extended result codes are function-like macros in sqlite3.h, which Swift does not import.
    private enum ExtendedCode {
        static let check = SQLITE_CONSTRAINT | (1 << 8)
        static let foreignKey = SQLITE_CONSTRAINT | (3 << 8)
        static let notNull = SQLITE_CONSTRAINT | (5 << 8)
        static let primaryKey = SQLITE_CONSTRAINT | (6 << 8)
        static let unique = SQLITE_CONSTRAINT | (8 << 8)
        static let rowID = SQLITE_CONSTRAINT | (10 << 8)
    }

    /// Maps an extended result code (sqlite.org/rescode.html). SQLite's messages name tables,
    /// columns and constraints but never bound values, so they are kept.
    private func error(_ rc: Int32) -> StorageError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
        let code: StorageError.Code
        switch rc {
        case ExtendedCode.unique, ExtendedCode.primaryKey, ExtendedCode.rowID:
            code = .uniqueViolation
        case ExtendedCode.foreignKey:
            code = .foreignKeyViolation
        case ExtendedCode.notNull:
            code = .notNullViolation
        case ExtendedCode.check:
            code = .checkViolation
        default:
            switch rc & 0xff {
            case SQLITE_CONSTRAINT: code = .constraintViolation
            case SQLITE_BUSY, SQLITE_LOCKED: code = .busy
            case SQLITE_INTERRUPT: code = .timeout
            case SQLITE_READONLY: code = .readOnly
            case SQLITE_ERROR, SQLITE_RANGE: code = .invalidQuery
            case SQLITE_MISMATCH, SQLITE_TOOBIG: code = .invalidValue
            case SQLITE_CANTOPEN, SQLITE_NOTADB: code = .unavailable
            case SQLITE_MISUSE: code = .misuse
            default: code = .internalError
            }
        }
        let text = code == .timeout ? "statement interrupted after the statement timeout" : message
        return StorageError(code, text, sqliteCode: rc)
    }
}
