// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

import CSQLite
import Foundation

/// Online copies of a SQLite database file through SQLite's backup API (sqlite.org/backup.html),
/// for `atlas backup` and `atlas restore`.
///
/// ```swift
/// let report = try SQLiteBackup.copy(from: "atlas.db", to: "atlas-2026-11-26.db")   // while serving
/// let check = try SQLiteBackup.verify("atlas-2026-11-26.db")  // integrity and known migrations
/// try SQLiteBackup.restore(from: "atlas-2026-11-26.db", to: "atlas.db", force: false)
/// ```
///
/// A copy is the database as it was at one instant: the source connection holds one read
/// transaction for the whole copy, so the WAL snapshot it reads never moves (and the backup is
/// never restarted by a concurrent writer), while the server's writer keeps committing beside it
/// (readers do not block the writer in WAL mode, sqlite.org/wal.html). Pages are copied a few at
/// a time with a short pause between steps, so the copy does not monopolise the disk.
public enum SQLiteBackup {
    /// What a finished copy holds.
    public struct Report: Sendable, Equatable {
        /// Pages copied (the source's page count at the snapshot).
        public let pages: Int
        /// Size of the finished file in bytes.
        public let bytes: Int64
        /// `backup_step` calls the copy took.
        public let steps: Int
    }

    /// What ``verify(_:)`` found in a backup file.
    public struct Verification: Sendable, Equatable {
        /// Migration names recorded in the file, in version order.
        public let applied: [String]
        /// Migrations this binary has that the file has not applied yet (`atlas serve` applies them).
        public let pending: [String]
        public let pages: Int
    }

    /// A backup or restore that could not be done; `description` says why and what to do.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Copies the database at `source` into a new file at `destination`, written beside it under a
    /// temporary name and renamed into place when complete, so `destination` never holds half a copy.
    ///
    /// - Parameters:
    ///   - pagesPerStep: pages copied per `sqlite3_backup_step` call (4 KiB each by default).
    ///   - pause: sleep between steps; the writer of a serving `atlas` is never blocked by the copy,
    ///     the pause only leaves disk bandwidth to it.
    /// - Throws: ``Failure`` when `source` is not a SQLite database, `destination` exists, or the copy fails.
    @discardableResult
    public static func copy(from source: String, to destination: String, pagesPerStep: Int32 = 256,
                            pause: Duration = .milliseconds(2)) throws -> Report {
        guard pagesPerStep > 0 else { throw Failure("pages per step must be positive") }
        guard FileManager.default.fileExists(atPath: source) else {
            throw Failure("no database at \(source)")
        }
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw Failure("\(destination) exists; a backup never overwrites a file, choose another name")
        }
        let sourceDB = try open(source, flags: SQLITE_OPEN_READWRITE)
        defer { sqlite3_close_v2(sourceDB) }
        // Read-only from here on: the source is only read, but opening it read-write lets SQLite
        // use the WAL index the serving process maintains.
        try execute(sourceDB, "PRAGMA query_only = ON")
        // The snapshot: a read transaction that stays open until the copy is done.
        try execute(sourceDB, "BEGIN DEFERRED")
        defer { _ = sqlite3_exec(sourceDB, "ROLLBACK", nil, nil, nil) }
        try execute(sourceDB, "SELECT count(*) FROM sqlite_schema")

        let temporary = destination + ".partial-\(getpid())"
        unlink(temporary)
        var renamed = false
        defer { if !renamed { unlink(temporary); unlink(temporary + "-journal") } }
        let destinationDB = try open(temporary, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        var destinationOpen = true
        defer { if destinationOpen { sqlite3_close_v2(destinationDB) } }

        guard let backup = sqlite3_backup_init(destinationDB, "main", sourceDB, "main") else {
            throw Failure("cannot start the backup: \(message(destinationDB))")
        }
        var steps = 0
        var result: Int32 = SQLITE_OK
        while true {
            result = sqlite3_backup_step(backup, pagesPerStep)
            steps += 1
            if result == SQLITE_DONE { break }
            if result == SQLITE_OK || result == SQLITE_BUSY || result == SQLITE_LOCKED {
                pauseFor(pause)
                continue
            }
            break
        }
        let pages = Int(sqlite3_backup_pagecount(backup))
        let finish = sqlite3_backup_finish(backup)
        guard result == SQLITE_DONE, finish == SQLITE_OK else {
            throw Failure("the backup failed: \(String(cString: sqlite3_errstr(result == SQLITE_DONE ? finish : result)))")
        }
        // The copy carries the source's WAL flag; a rollback journal makes it one self-contained file.
        try execute(destinationDB, "PRAGMA journal_mode = DELETE")
        guard sqlite3_close_v2(destinationDB) == SQLITE_OK else { throw Failure("cannot close \(temporary)") }
        destinationOpen = false
        try syncFile(temporary)
        guard rename(temporary, destination) == 0 else {
            throw Failure("cannot move the backup into place at \(destination): \(String(cString: strerror(errno)))")
        }
        renamed = true
        syncDirectory(of: destination)
        let size = (try? FileManager.default.attributesOfItem(atPath: destination)[.size] as? NSNumber)?.int64Value ?? 0
        return Report(pages: pages, bytes: size, steps: steps)
    }

    /// Checks a backup file before it is restored: `PRAGMA integrity_check` answers `ok`, it holds
    /// Atlas's migration table, and every migration it records is one this binary knows with the
    /// same text (a newer binary's backup restored by an older one is refused, as `atlas migrate` would).
    public static func verify(_ path: String) throws -> Verification {
        guard FileManager.default.fileExists(atPath: path) else { throw Failure("no backup at \(path)") }
        let db = try open(path, flags: SQLITE_OPEN_READONLY)
        defer { sqlite3_close_v2(db) }
        let integrity = try rows(db, "PRAGMA integrity_check").map { $0.first ?? "" }
        guard integrity == ["ok"] else {
            throw Failure("\(path) fails PRAGMA integrity_check: \(integrity.prefix(3).joined(separator: "; "))")
        }
        let hasTable = try rows(db, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name = '\(Migrator.table)'")
        guard !hasTable.isEmpty else {
            throw Failure("\(path) is a SQLite file but not an Atlas database (no \(Migrator.table) table)")
        }
        let recorded = try rows(db, "SELECT version, name, checksum FROM \(Migrator.table) ORDER BY version")
        let known = try Migration.embedded(for: .sqlite)
        let byVersion = Dictionary(uniqueKeysWithValues: known.map { ($0.version, $0) })
        var applied: [String] = []
        for row in recorded {
            guard row.count == 3, let version = Int(row[0]) else { throw Failure("\(path) has a malformed migration table") }
            guard let migration = byVersion[version] else {
                throw Failure("\(path) has migration \(row[1]), unknown to this atlas: restore it with the atlas version that wrote it")
            }
            guard migration.name == row[1], migration.checksum == row[2] else {
                throw Failure("\(path) recorded migration \(row[1]) with other text than this atlas's \(migration.name)")
            }
            applied.append(migration.name)
        }
        let appliedSet = Set(applied)
        let pending = known.map(\.name).filter { !appliedSet.contains($0) }
        let pages = Int(try rows(db, "PRAGMA page_count").first?.first ?? "0") ?? 0
        return Verification(applied: applied, pending: pending, pages: pages)
    }

    /// Verifies `backup`, then replaces the database at `target` with it in one step of the backup
    /// API: the target is locked for the copy and its readers see either the old or the restored
    /// database, never a mixture.
    ///
    /// - Parameter force: without it, a `target` that already holds tables is refused, since
    ///   restoring discards everything written to it after the backup was taken.
    @discardableResult
    public static func restore(from backup: String, to target: String, force: Bool) throws -> Verification {
        let verification = try verify(backup)
        if FileManager.default.fileExists(atPath: target), !force {
            let db = try open(target, flags: SQLITE_OPEN_READONLY)
            defer { sqlite3_close_v2(db) }
            let tables = try rows(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'").first?.first ?? "0"
            if tables != "0" {
                throw Failure("\(target) already holds a database; restoring replaces all of it, including writes made after the backup. Stop atlas serve and pass --force to replace it")
            }
        }
        let sourceDB = try open(backup, flags: SQLITE_OPEN_READONLY)
        defer { sqlite3_close_v2(sourceDB) }
        let targetDB = try open(target, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        defer { sqlite3_close_v2(targetDB) }
        guard let handle = sqlite3_backup_init(targetDB, "main", sourceDB, "main") else {
            throw Failure("cannot start the restore: \(message(targetDB))")
        }
        var result = sqlite3_backup_step(handle, -1)
        var attempts = 0
        while result == SQLITE_BUSY || result == SQLITE_LOCKED, attempts < 200 {
            attempts += 1
            pauseFor(.milliseconds(50))
            result = sqlite3_backup_step(handle, -1)
        }
        let finish = sqlite3_backup_finish(handle)
        guard result == SQLITE_DONE, finish == SQLITE_OK else {
            throw Failure("the restore into \(target) failed: \(String(cString: sqlite3_errstr(result == SQLITE_DONE ? finish : result)))")
        }
        let integrity = try rows(targetDB, "PRAGMA integrity_check").map { $0.first ?? "" }
        guard integrity == ["ok"] else { throw Failure("\(target) fails PRAGMA integrity_check after the restore") }
        return verification
    }

    // MARK: SQLite calls

    private static func open(_ path: String, flags: Int32) throws -> OpaquePointer {
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let text = db.map { message($0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            throw Failure("cannot open \(path): \(text)")
        }
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, 5000)
        do {
            _ = try rows(db, "SELECT count(*) FROM sqlite_schema")
        } catch {
            sqlite3_close_v2(db)
            throw Failure("\(path) is not a SQLite database")
        }
        return db
    }

    private static func execute(_ db: OpaquePointer, _ sql: String) throws {
        _ = try rows(db, sql)
    }

    /// Runs one statement and returns every row as text.
    private static func rows(_ db: OpaquePointer, _ sql: String) throws -> [[String]] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw Failure(message(db))
        }
        defer { sqlite3_finalize(statement) }
        var result: [[String]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return result }
            guard rc == SQLITE_ROW else { throw Failure(message(db)) }
            result.append((0..<sqlite3_column_count(statement)).map { index in
                sqlite3_column_text(statement, index).map { String(cString: $0) } ?? ""
            })
        }
    }

    private static func message(_ db: OpaquePointer) -> String {
        String(cString: sqlite3_errmsg(db))
    }

    private static func pauseFor(_ duration: Duration) {
        let micros = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        if micros > 0 { usleep(useconds_t(micros)) }
    }

    private static func syncFile(_ path: String) throws {
        let fd = Foundation.open(path, O_RDONLY)
        guard fd >= 0 else { throw Failure("cannot open \(path) to sync it") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }

    /// A rename is durable once the directory entry is synced.
    private static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = Foundation.open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
