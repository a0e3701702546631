// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

import CLibPQ
import CLibPQLoader
import Foundation

/// One libpq connection (`PGconn*`). libpq allows one thread per connection at a time
/// (postgresql.org/docs/15/libpq-threading.html); the owning ``SerialWorker`` guarantees that.
final class PostgresDriver: Driver {
    let dialect = SQLDialect.postgres
    private(set) var isBroken = false
    private var connection: OpaquePointer?

    /// Parameter type OIDs (pg_type.dat). Text goes untyped (0) so the server infers the column's
    /// type: a string then assigns to `jsonb`, `uuid`, `timestamptz` or an enum without a cast.
    private enum OID {
        static let bool: Oid = 16
        static let bytea: Oid = 17
        static let int8: Oid = 20
        static let int2: Oid = 21
        static let int4: Oid = 23
        static let oid: Oid = 26
        static let float4: Oid = 700
        static let float8: Oid = 701
        static let numeric: Oid = 1700
        static let unknown: Oid = 0
    }

    init(keywords: [String: String], statementTimeout: Duration) throws {
        if let failure = atlas_libpq_load() {
            throw StorageError(.unavailable, "PostgreSQL support is not available: \(String(cString: failure))")
        }
        let pairs = keywords.sorted { $0.key < $1.key }
        let keys = pairs.map { strdup($0.key) } + [nil]
        let values = pairs.map { strdup($0.value) } + [nil]
        defer {
            keys.forEach { free($0) }
            values.forEach { free($0) }
        }
        let connection = keys.withUnsafeBufferPointer { keyBuffer in
            values.withUnsafeBufferPointer { valueBuffer in
                keyBuffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { k in
                    valueBuffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { v in
                        PQconnectdbParams(k.baseAddress, v.baseAddress, 0)
                    }
                }
            }
        }
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            // libpq's connection messages name host, port, user and database, never the password.
            let message = connection.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            PQfinish(connection)
            throw StorageError(.unavailable, "cannot connect to PostgreSQL: "
                + message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        self.connection = connection
        // The default notice processor prints to stderr; notices (e.g. "relation already exists,
        // skipping") are not errors and Atlas logs are JSON on stdout.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        let millis = statementTimeout.components.seconds * 1000
            + statementTimeout.components.attoseconds / 1_000_000_000_000_000
        do {
            try executeScript("SET statement_timeout = \(millis)")
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    func close() {
        if let connection { PQfinish(connection) }
        connection = nil
    }

    private func requireConnection() throws -> OpaquePointer {
        guard let connection, !isBroken else {
            throw StorageError(.connectionLost, "the PostgreSQL connection is closed")
        }
        return connection
    }

    // MARK: Driver

    func execute(_ query: SQLQuery) throws -> Int {
        let result = try run(query)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    func query(_ query: SQLQuery) throws -> [Row] {
        let result = try run(query)
        defer { PQclear(result) }
        let rowCount = PQntuples(result)
        let columnCount = PQnfields(result)
        guard rowCount > 0 else { return [] }
        let columns = RowColumns((0..<columnCount).map { String(cString: PQfname(result, $0)) })
        let types = (0..<columnCount).map { PQftype(result, $0) }
        var rows: [Row] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [SQLValue] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) != 0 {
                    values.append(.null)
                } else {
                    values.append(try Self.value(PQgetvalue(result, row, column), length: PQgetlength(result, row, column),
                                                 type: types[Int(column)]))
                }
            }
            rows.append(Row(columns: columns, values: values))
        }
        return rows
    }

    func executeScript(_ sql: String) throws {
        let connection = try requireConnection()
        let result = PQexec(connection, sql)
        try check(result)
        PQclear(result)
    }

    // MARK: Execution

    private func run(_ query: SQLQuery) throws -> OpaquePointer {
        let connection = try requireConnection()
        let count = query.binds.count
        var types = [Oid](repeating: OID.unknown, count: count)
        var values = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
        var lengths = [Int32](repeating: 0, count: count)
        var formats = [Int32](repeating: 0, count: count)
        defer { values.forEach { free($0) } }
        for (index, value) in query.binds.enumerated() {
            switch value {
            case .null:
                break
            case .integer(let integer):
                types[index] = OID.int8
                values[index] = strdup(String(integer))
            case .double(let double):
                types[index] = OID.float8
                values[index] = strdup(Self.text(double))
            case .bool(let bool):
                types[index] = OID.bool
                values[index] = strdup(bool ? "t" : "f")
            case .text(let text):
                // Text parameters travel NUL-terminated, and PostgreSQL text cannot hold NUL anyway.
                guard !text.utf8.contains(0) else {
                    throw StorageError(.invalidValue, "PostgreSQL text cannot contain the NUL character")
                }
                values[index] = strdup(text)
            case .blob(let bytes):
                // Binary format: bytea's binary form is the bytes themselves.
                types[index] = OID.bytea
                formats[index] = 1
                lengths[index] = Int32(bytes.count)
                // A zero-length bytea still needs a non-NULL pointer (NULL means SQL NULL).
                let copy = malloc(max(bytes.count, 1))!
                bytes.withUnsafeBytes { raw in
                    if let base = raw.baseAddress { copy.copyMemory(from: base, byteCount: raw.count) }
                }
                values[index] = copy.assumingMemoryBound(to: CChar.self)
            }
        }
        let sql = query.sql(for: .postgres)
        let result = values.withUnsafeBufferPointer { valueBuffer in
            valueBuffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { valuePointers in
                PQexecParams(connection, sql, Int32(count), types, valuePointers.baseAddress, lengths, formats, 0)
            }
        }
        try check(result)
        return result!
    }

    private static func text(_ double: Double) -> String {
        if double.isNaN { return "NaN" }
        if double.isInfinite { return double < 0 ? "-Infinity" : "Infinity" }
        return "\(double)"
    }

    private static func value(_ pointer: UnsafeMutablePointer<CChar>?, length: Int32, type: Oid) throws -> SQLValue {
        guard let pointer else { return .null }
        let text = String(decoding: UnsafeRawBufferPointer(start: pointer, count: Int(length)), as: UTF8.self)
        switch type {
        case OID.bool:
            return .bool(text == "t")
        case OID.int8, OID.int2, OID.int4, OID.oid:
            guard let integer = Int64(text) else { throw StorageError(.internalError, "unparseable integer from the server") }
            return .integer(integer)
        case OID.float4, OID.float8:
            return .double(Self.double(text))
        case OID.numeric:
            // SUM(bigint) and COUNT-like arithmetic produce numeric; integral values that fit stay integers.
            if let integer = Int64(text) { return .integer(integer) }
            return .double(Self.double(text))
        case OID.bytea:
            var count = 0
            guard let bytes = PQunescapeBytea(UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), &count) else {
                throw StorageError(.internalError, "unparseable bytea from the server")
            }
            defer { PQfreemem(bytes) }
            return .blob([UInt8](UnsafeBufferPointer(start: bytes, count: count)))
        default:
            return .text(text)
        }
    }

    private static func double(_ text: String) -> Double {
        switch text {
        case "NaN": .nan
        case "Infinity": .infinity
        case "-Infinity": -.infinity
        default: Double(text) ?? .nan
        }
    }

    // MARK: Errors

    /// Throws for a failed result, mapping SQLSTATE (postgresql.org/docs/15/errcodes-appendix.html).
    /// Clears the result when it throws.
    private func check(_ result: OpaquePointer?) throws {
        guard let result else {
            if PQstatus(connection) != CONNECTION_OK { isBroken = true }
            throw StorageError(isBroken ? .connectionLost : .internalError,
                               String(cString: PQerrorMessage(connection)).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return
        default:
            break
        }
        defer { PQclear(result) }
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
        }
        let state = field("C")
        let primary = field("M") ?? String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
        let detail = [field("D"), field("H")].compactMap { $0 }.joined(separator: " ")
        let constraint = field("n")
        let code: StorageError.Code
        switch state ?? "" {
        case "23505": code = .uniqueViolation
        case "23503": code = .foreignKeyViolation
        case "23502": code = .notNullViolation
        case "23514": code = .checkViolation
        case let s where s.hasPrefix("23"): code = .constraintViolation
        case "57014": code = .timeout
        case "55P03": code = .busy
        case "40001", "40P01": code = .serializationFailure
        case "25006": code = .readOnly
        case "57P01", "57P02", "57P03": code = .connectionLost
        case let s where s.hasPrefix("08"): code = .connectionLost
        case let s where s.hasPrefix("42"): code = .invalidQuery
        case let s where s.hasPrefix("22"): code = .invalidValue
        case "": code = PQstatus(connection) == CONNECTION_OK ? .internalError : .connectionLost
        default: code = .internalError
        }
        if code == .connectionLost || PQstatus(connection) != CONNECTION_OK { isBroken = true }
        // Class 22 messages quote the offending input and P0001 carries application text, so those
        // keep the message out of the redacted description.
        let safe = !(state?.hasPrefix("22") ?? false) && state != "P0001" && !(state?.hasPrefix("XX") ?? false)
        let message = safe ? primary : "the server rejected a value"
        let privateDetail = safe ? (detail.isEmpty ? nil : detail) : ([primary, detail].filter { !$0.isEmpty }.joined(separator: " "))
        throw StorageError(isBroken ? .connectionLost : code, message, sqlState: state, constraint: constraint, privateDetail: privateDetail)
    }
}
