// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
import Foundation
public import Storage

/// The SQL of `ai_runs` and `ai_checkpoints` (migration 0023). Every function takes the
/// connection of a transaction the caller opened for the run's tenant.
enum RunStore {
    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// A run's columns and where they come from, with a `running` run's current checkpoint: while a
    /// run executes, its state is the checkpoint's (stored once, not copied into `ai_runs.state`
    /// at every step).
    static let runSelection = """
        r.tenant_id, r.id, r.graph, r.thread_id, r.status, r.input, r.state, r.interrupt, r.error, r.step, r.checkpoint_id, \
        r.parent_run_id, r.parent_checkpoint_id, r.created_at, r.updated_at, r.finished_at, \
        CASE WHEN r.status = 'running' THEN c.body END AS running_checkpoint \
        FROM ai_runs r LEFT JOIN ai_checkpoints c ON c.tenant_id = r.tenant_id AND c.run_id = r.id AND c.id = r.checkpoint_id
        """

    static func insertRun(_ run: RunRecord, owner: String, leaseMillis: Int64, on conn: any Connection) throws {
        let now = now()
        try conn.execute("""
            INSERT INTO ai_runs (tenant_id, id, graph, thread_id, status, input, state, interrupt, error, step, checkpoint_id, \
            parent_run_id, parent_checkpoint_id, owner, lease_expires_at, created_at, updated_at) VALUES (\
            \(run.tenant.rawValue), \(run.id), \(run.graph), \(run.threadID), \(run.status.rawValue), \(try SQLValue.json(run.input)), \
            \(try run.state.map { try SQLValue.json($0) } ?? .null), NULL, NULL, \(run.step), \(run.checkpointID), \
            \(run.parentRunID), \(run.parentCheckpointID), \(owner), \(now + leaseMillis), \(now), \(now))
            """)
    }

    static func run(_ id: String, tenant: TenantID, on conn: any Connection) throws -> RunRecord? {
        try conn.queryFirst("SELECT \(SQLQuery(unsafeSQL: runSelection)) WHERE r.tenant_id = \(tenant.rawValue) AND r.id = \(id)")
            .map(decodeRun)
    }

    /// The run's status alone (what a waiter polls), or `nil` when the tenant has no such run.
    static func status(_ id: String, tenant: TenantID, on conn: any Connection) throws -> RunStatus? {
        try conn.queryScalar("SELECT status FROM ai_runs WHERE tenant_id = \(tenant.rawValue) AND id = \(id)", as: String.self)
            .map { RunStatus(rawValue: $0) ?? .failed }
    }

    static func latestRun(thread: String, tenant: TenantID, on conn: any Connection) throws -> RunRecord? {
        try conn.queryFirst("""
            SELECT \(SQLQuery(unsafeSQL: runSelection)) WHERE r.tenant_id = \(tenant.rawValue) AND r.thread_id = \(thread) \
            ORDER BY r.created_at DESC, r.id DESC LIMIT 1
            """).map(decodeRun)
    }

    static func decodeRun(_ row: Row) throws -> RunRecord {
        let statusText = try row.decode("status", as: String.self)
        guard let status = RunStatus(rawValue: statusText) else {
            throw GraphError(status: 500, code: "corrupt_run", detail: "ai_runs.status holds an unknown status")
        }
        let tenantText = try row.decode("tenant_id", as: String.self)
        guard let tenant = TenantID(tenantText) else { throw GraphError(status: 500, code: "corrupt_run", detail: "ai_runs.tenant_id is not a tenant id") }
        func json<T: Decodable>(_ column: String, _ type: T.Type) throws -> T? {
            guard let value = row[column], value != .null else { return nil }
            return try row.decodeJSON(column, as: T.self)
        }
        var state = try json("state", GraphState.self)
        if status == .running, let current = try json("running_checkpoint", Checkpoint.self) { state = current.state }
        return RunRecord(
            id: try row.decode("id"), tenant: tenant, graph: try row.decode("graph"), threadID: try row.decode("thread_id"),
            status: status, input: try json("input", GraphState.self) ?? [:], state: state,
            interrupt: try json("interrupt", PendingInterrupt.self), error: try row.decode("error", as: String?.self),
            step: Int(try row.decode("step", as: Int64.self)), checkpointID: try row.decode("checkpoint_id", as: String?.self),
            parentRunID: try row.decode("parent_run_id", as: String?.self),
            parentCheckpointID: try row.decode("parent_checkpoint_id", as: String?.self),
            createdAt: try row.decode("created_at", as: Date.self), updatedAt: try row.decode("updated_at", as: Date.self),
            finishedAt: try row.decode("finished_at", as: Date?.self))
    }

    // MARK: Checkpoints

    /// Appends `checkpoint` to its run's history: one statement, numbering it after the run's newest.
    static func insertCheckpoint(_ checkpoint: Checkpoint, tenant: TenantID, on conn: any Connection) throws {
        try conn.execute("""
            INSERT INTO ai_checkpoints (tenant_id, run_id, seq, id, parent_id, step, source, body, created_at) VALUES (\
            \(tenant.rawValue), \(checkpoint.runID), \
            (SELECT COALESCE(MAX(seq), 0) + 1 FROM ai_checkpoints WHERE tenant_id = \(tenant.rawValue) AND run_id = \(checkpoint.runID)), \
            \(checkpoint.id), \(checkpoint.parentID), \(checkpoint.step), \(checkpoint.source.rawValue), \(try SQLValue.json(checkpoint)), \
            \(checkpoint.createdAt))
            """)
    }

    static func latestCheckpoint(run: String, tenant: TenantID, on conn: any Connection) throws -> Checkpoint? {
        try conn.queryFirst("""
            SELECT body FROM ai_checkpoints WHERE tenant_id = \(tenant.rawValue) AND run_id = \(run) ORDER BY seq DESC LIMIT 1
            """).map { try $0.decodeJSON("body", as: Checkpoint.self) }
    }

    static func checkpoint(id: String, run: String, tenant: TenantID, on conn: any Connection) throws -> Checkpoint? {
        try conn.queryFirst("""
            SELECT body FROM ai_checkpoints WHERE tenant_id = \(tenant.rawValue) AND run_id = \(run) AND id = \(id)
            """).map { try $0.decodeJSON("body", as: Checkpoint.self) }
    }

    /// Checkpoints of the run with `seq` above `after`, oldest first, with their `seq`.
    static func checkpoints(run: String, tenant: TenantID, after: Int64 = 0, on conn: any Connection) throws -> [(seq: Int64, checkpoint: Checkpoint)] {
        try conn.query("""
            SELECT seq, body FROM ai_checkpoints WHERE tenant_id = \(tenant.rawValue) AND run_id = \(run) AND seq > \(after) \
            ORDER BY seq
            """).map { (try $0.decode("seq", as: Int64.self), try $0.decodeJSON("body", as: Checkpoint.self)) }
    }
}

/// Checkpoints in `ai_checkpoints` through `Storage`, on SQLite or PostgreSQL. On its own it only
/// appends checkpoints; the run service's instance also renews the run's lease in the same
/// transaction and stops the run when another process has taken it over.
public struct StoredCheckpointer: Checkpointer {
    let database: any Database
    let fence: (@Sendable (Checkpoint, TenantID, any Connection) throws -> Void)?

    /// - Parameter database: a migrated database (migration 0023).
    public init(database: any Database) {
        self.database = database
        self.fence = nil
    }

    init(database: any Database, fence: @escaping @Sendable (Checkpoint, TenantID, any Connection) throws -> Void) {
        self.database = database
        self.fence = fence
    }

    public func put(_ checkpoint: Checkpoint, tenant: TenantID) async throws {
        let fence = self.fence
        try await database.transaction(tenant: tenant.rawValue) { conn in
            try fence?(checkpoint, tenant, conn)
            try RunStore.insertCheckpoint(checkpoint, tenant: tenant, on: conn)
        }
    }

    public func latest(runID: String, tenant: TenantID) async throws -> Checkpoint? {
        try await database.read(tenant: tenant.rawValue) { conn in try RunStore.latestCheckpoint(run: runID, tenant: tenant, on: conn) }
    }

    public func checkpoint(id: String, runID: String, tenant: TenantID) async throws -> Checkpoint? {
        try await database.read(tenant: tenant.rawValue) { conn in
            try RunStore.checkpoint(id: id, run: runID, tenant: tenant, on: conn)
        }
    }

    public func history(runID: String, tenant: TenantID) async throws -> [Checkpoint] {
        try await database.read(tenant: tenant.rawValue) { conn in
            try RunStore.checkpoints(run: runID, tenant: tenant, on: conn).map(\.checkpoint)
        }
    }
}
