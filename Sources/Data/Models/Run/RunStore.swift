// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Storage

/// `data_runs` and `data_run_results` (migration 0030).
enum RunStore {
    static func insert(_ run: DataRun, on conn: any Connection) throws {
        try conn.execute("""
            INSERT INTO data_runs (id, kind, status, selector, project, requested_by, error, started_at, finished_at)
            VALUES (\(run.id), \(run.kind.rawValue), \(run.status.rawValue), \(run.selector), \(run.project), \(run.requestedBy),
                    \(run.error), \(run.startedAt), \(run.finishedAt))
            """)
    }

    static func finish(_ run: DataRun, on conn: any Connection) throws {
        try conn.execute("""
            UPDATE data_runs SET status = \(run.status.rawValue), error = \(run.error), finished_at = \(run.finishedAt)
            WHERE id = \(run.id)
            """)
        for (position, result) in run.results.enumerated() {
            try conn.execute("""
                INSERT INTO data_run_results (run_id, position, name, resource_type, materialization, relation, status,
                                              rows_affected, failures, duration_ms, error, started_at, finished_at)
                VALUES (\(run.id), \(position), \(result.name), \(result.resourceType.rawValue), \(result.materialization?.rawValue),
                        \(result.relation), \(result.status.rawValue), \(result.rows), \(result.failures), \(result.durationMs),
                        \(result.error), \(result.startedAt), \(result.finishedAt))
                """)
        }
    }

    static func run(_ id: String, on conn: any Connection) throws -> DataRun? {
        guard let row = try conn.queryFirst("""
            SELECT id, kind, status, selector, project, requested_by, error, started_at, finished_at FROM data_runs WHERE id = \(id)
            """) else { return nil }
        let results = try conn.query("""
            SELECT name, resource_type, materialization, relation, status, rows_affected, failures, duration_ms, error,
                   started_at, finished_at
            FROM data_run_results WHERE run_id = \(id) ORDER BY position
            """).map(result)
        return DataRun(
            id: try row.decode("id"), kind: DataRunKind(rawValue: try row.decode("kind")) ?? .run,
            status: DataRun.Status(rawValue: try row.decode("status")) ?? .error, selector: try row.decode("selector"),
            project: try row.decode("project"), requestedBy: try row.decode("requested_by"), error: try row.decode("error"),
            startedAt: try row.decode("started_at"), finishedAt: try row.decode("finished_at"), results: results)
    }

    static func runs(limit: Int, on conn: any Connection) throws -> [String] {
        try conn.query("SELECT id FROM data_runs ORDER BY started_at DESC, id DESC LIMIT \(limit)").map { try $0.decode("id") }
    }

    static func result(_ row: Row) throws -> DataRunResult {
        DataRunResult(
            name: try row.decode("name"),
            resourceType: DataRunResult.ResourceType(rawValue: try row.decode("resource_type")) ?? .model,
            materialization: (try row.decode("materialization", as: String?.self)).flatMap(Materialization.init(rawValue:)),
            relation: try row.decode("relation"),
            status: DataRunResult.Status(rawValue: try row.decode("status")) ?? .error,
            rows: try row.decode("rows_affected"), failures: try row.decode("failures"),
            durationMs: try row.decode("duration_ms"), error: try row.decode("error"),
            startedAt: try row.decode("started_at"), finishedAt: try row.decode("finished_at"))
    }

    /// The latest result and the latest successful build of each named model or seed.
    static func latest(names: [String], on conn: any Connection) throws -> [String: (last: DataRunResult, runID: String, success: Date?)] {
        guard !names.isEmpty else { return [:] }
        var found: [String: (DataRunResult, String, Date?)] = [:]
        let rows = try conn.query("""
            SELECT r.run_id, r.name, r.resource_type, r.materialization, r.relation, r.status, r.rows_affected, r.failures,
                   r.duration_ms, r.error, r.started_at, r.finished_at
            FROM data_run_results r
            WHERE r.name IN (\(list: names)) AND r.resource_type IN ('model', 'seed')
              AND r.finished_at = (SELECT MAX(x.finished_at) FROM data_run_results x
                                   WHERE x.name = r.name AND x.resource_type IN ('model', 'seed'))
            """)
        for row in rows {
            let result = try result(row)
            found[result.name] = (result, try row.decode("run_id"), nil)
        }
        let successes = try conn.query("""
            SELECT name, MAX(finished_at) AS freshness FROM data_run_results
            WHERE name IN (\(list: names)) AND resource_type IN ('model', 'seed') AND status = 'success'
            GROUP BY name
            """)
        for row in successes {
            let name: String = try row.decode("name")
            let freshness: Date? = try row.decode("freshness")
            if var entry = found[name] {
                entry.2 = freshness
                found[name] = entry
            }
        }
        return found.mapValues { (last: $0.0, runID: $0.1, success: $0.2) }
    }
}
