// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Storage

/// Loads a seed CSV into `data_model_<seed>`, replacing it in one transaction. Column types are
/// inferred as dbt's seed loader does for numbers (every non-empty value an integer → BIGINT,
/// every one a number → DOUBLE, else TEXT; an empty field is NULL), unless `+column_types` names one.
struct SeedLoader {
    let database: any Database

    func load(_ seed: SeedDefinition) async throws -> Int64 {
        let text = try DataProject.readText(seed.file, relative: seed.path)
        let records = try Self.parseCSV(text, file: seed.path)
        guard let header = records.first, !header.isEmpty else { throw DataProjectError("\(seed.path): the CSV has no header row") }
        let rows = Array(records.dropFirst())
        for (index, row) in rows.enumerated() where row.count != header.count {
            throw DataProjectError("\(seed.path):\(index + 2): \(row.count) fields where the header has \(header.count)")
        }
        for column in header where column.isEmpty || column.count > 63 || column.contains("\u{0}") {
            throw DataProjectError("\(seed.path): column names must be 1 to 63 characters")
        }
        var types: [ColumnType] = []
        for (position, column) in header.enumerated() {
            if let declared = seed.columnTypes[column] {
                types.append(ColumnType(declared: declared))
            } else {
                types.append(ColumnType.infer(rows.map { $0[position] }))
            }
        }
        let relation = DataModelNaming.relation(forModel: seed.name)
        let columnTypes = types
        return try await database.transaction(tenant: ModelRunner.platformTenant) { conn in
            if let existing = try Relations.kind(of: relation, on: conn) { try Relations.drop(relation, kind: existing, on: conn) }
            let columns = zip(header, columnTypes).map { "\(Relations.quote($0)) \($1.sqlType(conn.dialect))" }.joined(separator: ", ")
            try conn.execute(SQLQuery(unsafeSQL: "CREATE TABLE \(Relations.quote(relation)) (\(columns))"))
            let columnList = header.map(Relations.quote).joined(separator: ", ")
            let perStatement = max(1, 500 / header.count)
            for chunk in stride(from: 0, to: rows.count, by: perStatement) {
                var query = SQLQuery(unsafeSQL: "INSERT INTO \(Relations.quote(relation)) (\(columnList)) VALUES ")
                for (offset, row) in rows[chunk..<min(chunk + perStatement, rows.count)].enumerated() {
                    if offset > 0 { query.append(", ") }
                    query.append("(")
                    for (position, field) in row.enumerated() {
                        if position > 0 { query.append(", ") }
                        let value = columnTypes[position].value(field)
                        query.append("\(value)")
                    }
                    query.append(")")
                }
                try conn.execute(query)
            }
            return Int64(rows.count)
        }
    }

    enum ColumnType {
        case integer, double, text

        init(declared: String) {
            let lower = declared.lowercased()
            if lower.contains("int") { self = .integer } else if ["double", "float", "real", "numeric", "decimal"].contains(where: lower.contains) {
                self = .double
            } else { self = .text }
        }

        static func infer(_ values: [String]) -> ColumnType {
            let present = values.filter { !$0.isEmpty }
            if !present.isEmpty, present.allSatisfy({ Int64($0) != nil }) { return .integer }
            if !present.isEmpty, present.allSatisfy({ Double($0) != nil && !$0.lowercased().contains("n") }) { return .double }
            return .text
        }

        func sqlType(_ dialect: SQLDialect) -> String {
            switch self {
            case .integer: "BIGINT"
            case .double: dialect.doubleType
            case .text: "TEXT"
            }
        }

        func value(_ field: String) -> SQLValue {
            if field.isEmpty { return .null }
            switch self {
            case .integer: return Int64(field).map { .integer($0) } ?? .text(field)
            case .double: return Double(field).map { .double($0) } ?? .text(field)
            case .text: return .text(field)
            }
        }
    }

    /// RFC 4180: quoted fields may hold commas, quotes (doubled) and line breaks.
    static func parseCSV(_ text: String, file: String) throws -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var afterQuote = false
        var line = 1
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = iterator.next()
        while let scalar = pending {
            pending = iterator.next()
            if quoted {
                if scalar == "\"" {
                    if pending == "\"" { field.unicodeScalars.append("\""); pending = iterator.next() } else { quoted = false; afterQuote = true }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"":
                guard field.isEmpty, !afterQuote else { throw DataProjectError("\(file):\(line): a quote inside an unquoted field") }
                quoted = true
            case ",":
                record.append(field); field = ""; afterQuote = false
            case "\r":
                break
            case "\n":
                record.append(field); field = ""; afterQuote = false
                if !(record.count == 1 && record[0].isEmpty) { records.append(record) }
                record = []
                line += 1
            default:
                guard !afterQuote else { throw DataProjectError("\(file):\(line): text after a closing quote") }
                field.unicodeScalars.append(scalar)
            }
        }
        guard !quoted else { throw DataProjectError("\(file):\(line): a quoted field is not closed") }
        if !field.isEmpty || !record.isEmpty || afterQuote {
            record.append(field)
            records.append(record)
        }
        return records
    }
}
