// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

/// A storage failure with a stable code.
///
/// Match a code directly in `catch`:
///
/// ```swift
/// do {
///     try await db.transaction { try $0.execute("INSERT INTO core_tenants (id, plan) VALUES (\(id), \(plan))") }
/// } catch StorageError.uniqueViolation {
///     throw AtlasError.conflict("tenant \(id) already exists")
/// }
/// ```
///
/// `description` is safe to log and to wrap: it holds the code, the SQLSTATE or SQLite result code,
/// the constraint/table/column names the server reported, and the server's message only where that
/// message cannot contain data (syntax errors). Bound values never appear in it. `debugDescription`
/// adds the server's full message and detail (PostgreSQL's `DETAIL: Key (email)=(…)` holds data), so
/// it must stay out of logs that leave the machine.
public struct StorageError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// A stable, matchable error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        fileprivate init(_ name: String) { self.name = name }
        public var description: String { name }

        static let uniqueViolation = Code("unique_violation")
        static let foreignKeyViolation = Code("foreign_key_violation")
        static let notNullViolation = Code("not_null_violation")
        static let checkViolation = Code("check_violation")
        static let constraintViolation = Code("constraint_violation")
        static let connectionLost = Code("connection_lost")
        static let unavailable = Code("unavailable")
        static let timeout = Code("timeout")
        static let busy = Code("busy")
        static let serializationFailure = Code("serialization_failure")
        static let invalidQuery = Code("invalid_query")
        static let invalidValue = Code("invalid_value")
        static let readOnly = Code("read_only")
        static let typeMismatch = Code("type_mismatch")
        static let columnNotFound = Code("column_not_found")
        static let misuse = Code("misuse")
        static let migrationChecksumMismatch = Code("migration_checksum_mismatch")
        static let migrationUnknown = Code("migration_unknown")
        static let migrationInvalid = Code("migration_invalid")
        static let migrationFailed = Code("migration_failed")
        static let internalError = Code("internal")
    }

    /// A `UNIQUE` or primary-key constraint failed (SQLite `SQLITE_CONSTRAINT_UNIQUE`/`_PRIMARYKEY`, SQLSTATE 23505).
    public static let uniqueViolation = Code.uniqueViolation
    /// A foreign key constraint failed (`SQLITE_CONSTRAINT_FOREIGNKEY`, 23503).
    public static let foreignKeyViolation = Code.foreignKeyViolation
    /// A `NOT NULL` constraint failed (`SQLITE_CONSTRAINT_NOTNULL`, 23502).
    public static let notNullViolation = Code.notNullViolation
    /// A `CHECK` constraint failed (`SQLITE_CONSTRAINT_CHECK`, 23514).
    public static let checkViolation = Code.checkViolation
    /// Another integrity constraint failed (exclusion, trigger `RAISE(ABORT)`, other 23xxx).
    public static let constraintViolation = Code.constraintViolation
    /// The connection broke while in use (SQLSTATE class 08, 57P01–57P03); the statement may or may
    /// not have run, so it is never retried automatically.
    public static let connectionLost = Code.connectionLost
    /// The database cannot be reached or opened, or the `Database` was closed.
    public static let unavailable = Code.unavailable
    /// A statement ran past its timeout (SQLSTATE 57014, SQLite interrupt), or no pooled connection
    /// became free in time.
    public static let timeout = Code.timeout
    /// Another connection holds a lock past the busy timeout (`SQLITE_BUSY`/`SQLITE_LOCKED`, 55P03).
    public static let busy = Code.busy
    /// A serialization failure or deadlock (40001, 40P01): the whole transaction may be retried.
    public static let serializationFailure = Code.serializationFailure
    /// The SQL is invalid: syntax error, unknown table or column, wrong parameter count (class 42, `SQLITE_ERROR`).
    public static let invalidQuery = Code.invalidQuery
    /// A value the database refused: out of range, malformed input for its type (class 22, `SQLITE_TOOBIG`, `SQLITE_MISMATCH`).
    public static let invalidValue = Code.invalidValue
    /// A write was attempted through ``Database/read(tenant:_:)`` or on a read-only database.
    public static let readOnly = Code.readOnly
    /// A column holds a value of another type than the one asked for.
    public static let typeMismatch = Code.typeMismatch
    /// A row has no column of that name.
    public static let columnNotFound = Code.columnNotFound
    /// The API was used wrongly, e.g. a ``Connection`` kept and used after its closure returned.
    public static let misuse = Code.misuse
    /// An applied migration's text differs from the one in this binary.
    public static let migrationChecksumMismatch = Code.migrationChecksumMismatch
    /// The database records a migration this binary does not know (the binary is older than the schema).
    public static let migrationUnknown = Code.migrationUnknown
    /// A migration's name or set is malformed (bad `NNNN_<module>_<what>` name, duplicate number).
    public static let migrationInvalid = Code.migrationInvalid
    /// A migration's SQL failed; its transaction was rolled back.
    public static let migrationFailed = Code.migrationFailed
    /// Anything else: I/O error, corruption, out of memory.
    public static let internalError = Code.internalError

    public let code: Code
    /// A message that contains no data values.
    public let message: String
    /// PostgreSQL SQLSTATE, when the server reported one.
    public let sqlState: String?
    /// SQLite extended result code, when SQLite reported one.
    public let sqliteCode: Int32?
    /// The constraint the server named (PostgreSQL only).
    public let constraint: String?
    /// Full server message and detail; may contain data values.
    let privateDetail: String?

    public init(_ code: Code, _ message: String, sqlState: String? = nil, sqliteCode: Int32? = nil,
                constraint: String? = nil, privateDetail: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.sqliteCode = sqliteCode
        self.constraint = constraint
        self.privateDetail = privateDetail
    }

    public var description: String {
        var text = "StorageError.\(code): \(message)"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let sqliteCode { text += " (SQLite code \(sqliteCode))" }
        return text
    }

    public var debugDescription: String {
        guard let privateDetail else { return description }
        return description + " — " + privateDetail
    }

    /// A connection that produced this error must not go back to a pool.
    var breaksConnection: Bool { code == .connectionLost }
}

/// Lets `catch StorageError.uniqueViolation` and `case StorageError.timeout` match any error.
public func ~= (pattern: StorageError.Code, value: any Error) -> Bool {
    (value as? StorageError)?.code == pattern
}
