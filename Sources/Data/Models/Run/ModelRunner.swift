// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Storage

/// Builds models, runs tests and loads seeds against one database, one resource at a time, each
/// in its own transaction: a model that fails leaves its previous relation as it was.
struct ModelRunner {
    let database: any Database
    let project: DataProject
    let graph: ModelGraph
    let vars: [String: TemplateValue]
    let now: @Sendable () -> Date

    /// The tenant setting for every statement: `*` opens every tenant's rows under PostgreSQL
    /// row-level security, since models are built across tenants.
    static let platformTenant = "*"

    // MARK: Models

    func runModels(_ selected: [String], fullRefresh: Bool) async -> [DataRunResult] {
        var results: [DataRunResult] = []
        var failed = Set<String>()
        for name in selected {
            // Seeds are loaded by `atlas data seed`; a run only needs them to exist.
            if project.seeds[name] != nil { continue }
            guard let model = project.models[name], model.enabled else { continue }
            let started = now()
            let clock = ContinuousClock.now
            if let parent = graph.parents[name]?.first(where: failed.contains) {
                failed.insert(name)
                results.append(DataRunResult(name: name, resourceType: .model, materialization: model.materialization,
                                             relation: DataModelNaming.relation(forModel: name), status: .skipped, rows: nil,
                                             failures: nil, durationMs: 0, error: "skipped because '\(parent)' failed",
                                             startedAt: started, finishedAt: started))
                continue
            }
            do {
                let (materialization, rows) = try await build(model, fullRefresh: fullRefresh)
                results.append(DataRunResult(name: name, resourceType: .model, materialization: materialization,
                                             relation: DataModelNaming.relation(forModel: name), status: .success, rows: rows,
                                             failures: nil, durationMs: Self.milliseconds(since: clock), error: nil,
                                             startedAt: started, finishedAt: now()))
            } catch {
                failed.insert(name)
                results.append(DataRunResult(name: name, resourceType: .model, materialization: model.materialization,
                                             relation: DataModelNaming.relation(forModel: name), status: .error, rows: nil,
                                             failures: nil, durationMs: Self.milliseconds(since: clock), error: Self.describe(error),
                                             startedAt: started, finishedAt: now()))
            }
        }
        if database.dialect == .postgres {
            await restoreDroppedViews(except: Set(selected))
        }
        return results
    }

    /// PostgreSQL drops dependent views with `CASCADE`; rebuild view models outside the selection
    /// that vanished, in dependency order, so a partial run never removes a model.
    private func restoreDroppedViews(except selected: Set<String>) async {
        for name in graph.order where !selected.contains(name) {
            guard let model = project.models[name], model.enabled else { continue }
            let relation = DataModelNaming.relation(forModel: name)
            guard let rendered = try? project.render(model, dialect: database.dialect, incremental: false, vars: vars),
                  rendered.model.materialization == .view else { continue }
            _ = try? await database.transaction(tenant: Self.platformTenant) { conn in
                guard try Relations.kind(of: relation, on: conn) == nil else { return }
                try conn.execute(SQLQuery(unsafeSQL: "CREATE VIEW \(Relations.quote(relation)) AS \(rendered.sql)"))
            }
        }
    }

    /// Builds one model; returns its materialisation and row count (nil for views).
    func build(_ model: ModelDefinition, fullRefresh: Bool) async throws -> (Materialization, Int64?) {
        let relation = DataModelNaming.relation(forModel: model.name)
        let dialect = database.dialect
        // First rendering: learns `config()` (materialisation) with is_incremental() false.
        let first = try project.render(model, dialect: dialect, incremental: false, vars: vars)
        let materialization = first.model.materialization
        let uniqueKey = first.model.uniqueKey
        let project = self.project
        let vars = self.vars
        for source in model.sourceRefs {
            let table = DataModelNaming.relation(forSource: source.group, table: source.table)
            let exists = try await database.read(tenant: Self.platformTenant) { try Relations.kind(of: table, on: $0) != nil }
            guard exists else {
                throw DataRunError("source('\(source.group)', '\(source.table)'): relation \(table) does not exist"
                                   + (source.group == "core" ? "" : " (no records were ingested into it yet)"))
            }
        }
        return try await database.transaction(tenant: Self.platformTenant) { conn in
            let existing = try Relations.kind(of: relation, on: conn)
            switch materialization {
            case .view:
                if let existing { try Relations.drop(relation, kind: existing, on: conn) }
                try conn.execute(SQLQuery(unsafeSQL: "CREATE VIEW \(Relations.quote(relation)) AS \(first.sql)"))
                // SQLite accepts a view over a missing table; compiling a query on it surfaces the
                // error now, inside the transaction, as PostgreSQL does at CREATE VIEW.
                _ = try conn.query(SQLQuery(unsafeSQL: "SELECT * FROM \(Relations.quote(relation)) LIMIT 0"))
                return (.view, nil)
            case .table:
                if let existing { try Relations.drop(relation, kind: existing, on: conn) }
                try conn.execute(SQLQuery(unsafeSQL: "CREATE TABLE \(Relations.quote(relation)) AS \(first.sql)"))
                return (.table, try Relations.count(relation, on: conn))
            case .incremental:
                guard existing == .table, !fullRefresh else {
                    if let existing { try Relations.drop(relation, kind: existing, on: conn) }
                    try conn.execute(SQLQuery(unsafeSQL: "CREATE TABLE \(Relations.quote(relation)) AS \(first.sql)"))
                    return (.incremental, try Relations.count(relation, on: conn))
                }
                let second = try project.render(model, dialect: conn.dialect, incremental: true, vars: vars)
                let staging = DataModelNaming.buildingRelation(forModel: model.name)
                if let leftover = try Relations.kind(of: staging, on: conn) { try Relations.drop(staging, kind: leftover, on: conn) }
                try conn.execute(SQLQuery(unsafeSQL: "CREATE TABLE \(Relations.quote(staging)) AS \(second.sql)"))
                let targetColumns = Set(try Relations.columns(of: relation, on: conn))
                let newColumns = try Relations.columns(of: staging, on: conn).filter(targetColumns.contains)
                guard !newColumns.isEmpty else { throw DataRunError("the incremental query shares no column with \(relation)") }
                if !uniqueKey.isEmpty {
                    for key in uniqueKey where !newColumns.contains(key) {
                        throw DataRunError("unique_key '\(key)' is not a column of the model's query")
                    }
                    let target = Relations.quote(relation)
                    let match = uniqueKey.map { "s.\(Relations.quote($0)) = \(target).\(Relations.quote($0))" }.joined(separator: " AND ")
                    try conn.execute(SQLQuery(unsafeSQL: """
                        DELETE FROM \(target) WHERE EXISTS (SELECT 1 FROM \(Relations.quote(staging)) AS s WHERE \(match))
                        """))
                }
                let columnList = newColumns.map(Relations.quote).joined(separator: ", ")
                let inserted = try conn.execute(SQLQuery(unsafeSQL: """
                    INSERT INTO \(Relations.quote(relation)) (\(columnList)) SELECT \(columnList) FROM \(Relations.quote(staging))
                    """))
                try conn.execute(SQLQuery(unsafeSQL: "DROP TABLE \(Relations.quote(staging))"))
                return (.incremental, Int64(inserted))
            }
        }
    }

    // MARK: Tests

    func runTests(_ tests: [DataTestDefinition]) async -> [DataRunResult] {
        var results: [DataRunResult] = []
        for test in tests {
            let started = now()
            let clock = ContinuousClock.now
            do {
                let sql = try testSQL(test)
                let failures = try await database.read(tenant: Self.platformTenant) { conn in
                    try conn.queryScalar(SQLQuery(unsafeSQL: "SELECT COUNT(*) FROM (\(sql)) AS atlas_test_failures"), as: Int64.self) ?? 0
                }
                results.append(DataRunResult(name: test.name, resourceType: .test, materialization: nil, relation: nil,
                                             status: failures == 0 ? .pass : .fail, rows: nil, failures: failures,
                                             durationMs: Self.milliseconds(since: clock),
                                             error: failures == 0 ? nil : "\(failures) failing row\(failures == 1 ? "" : "s")",
                                             startedAt: started, finishedAt: now()))
            } catch {
                results.append(DataRunResult(name: test.name, resourceType: .test, materialization: nil, relation: nil,
                                             status: .error, rows: nil, failures: nil, durationMs: Self.milliseconds(since: clock),
                                             error: Self.describe(error), startedAt: started, finishedAt: now()))
            }
        }
        return results
    }

    /// The query returning a test's failing rows (docs.getdbt.com/docs/build/data-tests).
    func testSQL(_ test: DataTestDefinition) throws -> String {
        func relation(_ target: DataTestTarget) -> String {
            switch target {
            case .model(let name): Relations.quote(DataModelNaming.relation(forModel: name))
            case .source(let group, let table): Relations.quote(DataModelNaming.relation(forSource: group, table: table))
            }
        }
        let q = Relations.quote
        switch test.kind {
        case .notNull(let target, let column):
            return "SELECT \(q(column)) FROM \(relation(target)) WHERE \(q(column)) IS NULL"
        case .unique(let target, let column):
            return """
                SELECT \(q(column)) AS unique_field, COUNT(*) AS n_records FROM \(relation(target))
                WHERE \(q(column)) IS NOT NULL GROUP BY \(q(column)) HAVING COUNT(*) > 1
                """
        case .acceptedValues(let target, let column, let values, let quote):
            let list = values.map { quote ? "'" + $0.replacing("'", with: "''") + "'" : $0 }
            if !quote, let bad = values.first(where: { Double($0) == nil }) {
                throw DataRunError("accepted_values with quote: false needs numeric values, not '\(bad)'")
            }
            return """
                SELECT \(q(column)) AS value_field FROM \(relation(target))
                WHERE \(q(column)) IS NOT NULL AND \(q(column)) NOT IN (\(list.joined(separator: ", ")))
                """
        case .relationships(let target, let column, let to, let field):
            return """
                SELECT child.\(q(column)) FROM \(relation(target)) AS child
                LEFT JOIN \(relation(to)) AS parent ON child.\(q(column)) = parent.\(q(field))
                WHERE child.\(q(column)) IS NOT NULL AND parent.\(q(field)) IS NULL
                """
        case .singular(let template):
            return try project.render(template, dialect: database.dialect, vars: vars)
        }
    }

    // MARK: Seeds

    func loadSeeds(_ names: [String]) async -> [DataRunResult] {
        var results: [DataRunResult] = []
        for name in names {
            guard let seed = project.seeds[name] else { continue }
            let started = now()
            let clock = ContinuousClock.now
            do {
                let rows = try await SeedLoader(database: database).load(seed)
                results.append(DataRunResult(name: name, resourceType: .seed, materialization: .table,
                                             relation: DataModelNaming.relation(forModel: name), status: .success, rows: rows,
                                             failures: nil, durationMs: Self.milliseconds(since: clock), error: nil,
                                             startedAt: started, finishedAt: now()))
            } catch {
                results.append(DataRunResult(name: name, resourceType: .seed, materialization: .table,
                                             relation: DataModelNaming.relation(forModel: name), status: .error, rows: nil,
                                             failures: nil, durationMs: Self.milliseconds(since: clock), error: Self.describe(error),
                                             startedAt: started, finishedAt: now()))
            }
        }
        return results
    }

    // MARK: Helpers

    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        let value = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return (value * 1000).rounded() / 1000
    }

    /// An error as stored and shown: the template's file and line, or the database's message
    /// (which never holds data values, see ``StorageError``).
    static func describe(_ error: any Error) -> String {
        if let storage = error as? StorageError { return "database error (\(storage.code)): \(storage.message)" }
        return String(describing: error)
    }
}

/// A model that cannot be built for a reason of its own (a missing source, a bad key).
struct DataRunError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
