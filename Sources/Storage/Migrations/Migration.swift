// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

/// One SQL migration: `Migrations/<dialect>/NNNN_<module>_<what>.sql`, embedded in the binary at
/// build time (the `EmbedMigrations` plugin).
public struct Migration: Sendable, Hashable {
    /// `NNNN`, the order of application; the same number names the same change in both dialects.
    public let version: Int
    /// The file name without `.sql`, e.g. `0001_core_tenants`.
    public let name: String
    /// The exact text of the file.
    public let sql: String
    /// The dialect folder it came from, for error messages.
    public let dialect: SQLDialect

    /// Throws ``StorageError/migrationInvalid`` unless `name` is `NNNN_<module>_<what>` in lower case.
    public init(name: String, sql: String, dialect: SQLDialect) throws {
        let parts = name.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        let valid = parts.count == 3 && parts[0].count == 4 && parts[0].allSatisfy(\.isASCIIDigit)
            && !parts[1].isEmpty && !parts[2].isEmpty
            && name.allSatisfy { $0.isASCIIDigit || ("a"..."z").contains($0) || $0 == "_" }
        guard valid, let version = Int(parts[0]) else {
            throw StorageError(.migrationInvalid, "migration name \"\(name)\" is not NNNN_<module>_<what> in lower case")
        }
        self.version = version
        self.name = name
        self.sql = sql
        self.dialect = dialect
    }

    /// Where the file lives in the source tree.
    public var file: String { "Migrations/\(dialect.rawValue)/\(name).sql" }

    /// A 64-bit FNV-1a hash of the UTF-8 text, as 16 hex digits. It detects an edited file; it is
    /// not a defence against a deliberate collision (a cryptographic hash would need a crypto
    /// dependency this module does not have, and the database that stores the checksum is trusted).
    public var checksum: String { Self.fnv1a64(sql) }

    static func fnv1a64(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The migrations compiled into this binary for `dialect`, in version order; throws
    /// ``StorageError/migrationInvalid`` for a bad name or a duplicate number.
    public static func embedded(for dialect: SQLDialect) throws -> [Migration] {
        let list = try EmbeddedMigrations.files
            .filter { $0.dialect == dialect.rawValue }
            .map { try Migration(name: $0.name, sql: $0.sql, dialect: dialect) }
        return try ordered(list)
    }

    /// Checks that both dialect folders hold the same `NNNN_<module>_<what>` names, so a change
    /// is never written for one backend only.
    public static func verifyEmbeddedDialectsMatch() throws {
        let sqlite = try embedded(for: .sqlite).map(\.name)
        let postgres = try embedded(for: .postgres).map(\.name)
        guard sqlite == postgres else {
            let missing = Set(sqlite).symmetricDifference(postgres).sorted()
            throw StorageError(.migrationInvalid, "migrations present for only one dialect: \(missing.joined(separator: ", "))")
        }
    }

    static func ordered(_ list: [Migration]) throws -> [Migration] {
        let sorted = list.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw StorageError(.migrationInvalid, "migrations \(previous.file) and \(next.file) share number \(next.version)")
        }
        return sorted
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
