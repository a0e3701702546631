// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

public import Foundation
public import Logging
public import Storage

/// The dbt-compatible models of one project folder over one database: run, test, seed, list.
/// The project is read from disk at every call, so edits apply without a restart.
///
/// ```swift
/// let models = DataModels(database: db, projectDirectory: URL(fileURLWithPath: "data/transformations"))
/// let run = try await models.execute(.run, select: ["stg_orders+"])
/// run.results.map { "\($0.name) \($0.status) \($0.rows ?? 0)" }
/// ```
public final class DataModels: Sendable {
    public let database: any Database
    public let projectDirectory: URL
    let logger: Logger
    let now: @Sendable () -> Date
    private let observers = ObserverList()
    /// One run at a time: two runs rebuilding the same relation would only fight over locks.
    private let gate = RunGate()

    public init(database: any Database, projectDirectory: URL, logger: Logger = Logger(label: "atlas.data.models"),
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.projectDirectory = projectDirectory
        self.logger = logger
        self.now = now
    }

    /// Loads the project (throws ``DataProjectError`` / ``TemplateError`` naming file and line).
    public func project() throws -> DataProject {
        try DataProject(directory: projectDirectory)
    }

    /// Called after each finished run (any kind), e.g. by the feature store to refresh views whose
    /// input model was rebuilt.
    public func addRunObserver(_ observer: @escaping @Sendable (DataRun) async -> Void) {
        observers.add(observer)
    }

    /// Runs models (`.run`), tests (`.test`) or seeds (`.seed`) and stores the run with its results.
    /// `select` takes dbt selectors (`name`, `name+`, `+name`); tests are selected by the model
    /// they check (singular tests by their name or a model they ref). A project that does not load
    /// (bad YAML, bad Jinja, a cycle) throws and stores nothing.
    @discardableResult
    public func execute(_ kind: DataRunKind, select: [String] = [], fullRefresh: Bool = false,
                        vars: [String: TemplateValue] = [:], requestedBy: String? = nil) async throws -> DataRun {
        let project = try self.project()
        let graph = try ModelGraph(project: project)
        let selected = try graph.select(select)
        let runner = ModelRunner(database: database, project: project, graph: graph, vars: vars, now: now)
        let selector = select.isEmpty ? nil : select.joined(separator: " ")

        return try await gate.exclusively {
            var run = DataRun(id: "run_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20),
                              kind: kind, status: .running, selector: selector, project: project.name, requestedBy: requestedBy,
                              error: nil, startedAt: now(), finishedAt: nil, results: [])
            let started = run
            try await database.transaction(tenant: ModelRunner.platformTenant) { try RunStore.insert(started, on: $0) }
            switch kind {
            case .run:
                run.results = await runner.runModels(selected, fullRefresh: fullRefresh)
            case .seed:
                run.results = await runner.loadSeeds(selected.filter { project.seeds[$0] != nil })
            case .test:
                let chosen = Set(selected)
                let tests = project.tests.filter { test in
                    if select.isEmpty { return true }
                    if let model = test.model { return chosen.contains(model) }
                    if case .relationships(_, _, .model(let parent), _) = test.kind, chosen.contains(parent) { return true }
                    if case .singular(let template) = test.kind {
                        return select.contains(test.name) || template.staticCalls.contains { $0.function == "ref" && chosen.contains($0.arguments.last ?? "") }
                    }
                    return false
                }
                run.results = await runner.runTests(tests)
            }
            run.finishedAt = now()
            run.status = run.results.contains { [.error, .fail, .skipped].contains($0.status) } ? .error : .success
            let finished = run
            try await database.transaction(tenant: ModelRunner.platformTenant) { try RunStore.finish(finished, on: $0) }
            logger.info("data run finished", metadata: [
                "data.run_id": "\(run.id)", "data.kind": "\(kind.rawValue)", "data.status": "\(run.status.rawValue)",
                "data.results": "\(run.results.count)",
            ])
            for observer in observers.all { await observer(finished) }
            return finished
        }
    }

    /// A stored run, or `nil`.
    public func run(id: String) async throws -> DataRun? {
        try await database.read(tenant: ModelRunner.platformTenant) { try RunStore.run(id, on: $0) }
    }

    /// The latest runs, newest first.
    public func recentRuns(limit: Int = 20) async throws -> [DataRun] {
        try await database.read(tenant: ModelRunner.platformTenant) { conn in
            try RunStore.runs(limit: limit, on: conn).compactMap { try RunStore.run($0, on: conn) }
        }
    }

    /// The project's models and seeds with their last build, freshness and current row count.
    public func models() async throws -> [DataModelStatus] {
        let project = try self.project()
        let graph = try ModelGraph(project: project)
        let dialect = database.dialect
        return try await database.read(tenant: ModelRunner.platformTenant) { conn in
            let latest = try RunStore.latest(names: graph.order, on: conn)
            return try graph.order.map { name in
                let relation = DataModelNaming.relation(forModel: name)
                var status: DataModelStatus
                if let model = project.models[name] {
                    let configured = (try? project.render(model, dialect: dialect, incremental: false, vars: [:]).model) ?? model
                    status = DataModelStatus(name: name, resourceType: .model, materialization: configured.materialization,
                                             relation: relation, description: model.description, path: model.path,
                                             dependsOn: model.refs + model.sourceRefs.map { "source:" + $0.qualifiedName })
                } else {
                    let seed = project.seeds[name]!
                    status = DataModelStatus(name: name, resourceType: .seed, materialization: .table, relation: relation,
                                             description: "", path: seed.path, dependsOn: [])
                }
                if let entry = latest[name] {
                    status.lastStatus = entry.last.status
                    status.lastRunAt = entry.last.finishedAt
                    status.lastRunID = entry.runID
                    status.freshness = entry.success
                }
                if let kind = try Relations.kind(of: relation, on: conn), kind == .table {
                    status.rows = try Relations.count(relation, on: conn)
                }
                return status
            }
        }
    }
}

extension DataModelStatus {
    init(name: String, resourceType: DataRunResult.ResourceType, materialization: Materialization?, relation: String,
         description: String, path: String, dependsOn: [String]) {
        self.init(name: name, resourceType: resourceType, materialization: materialization, relation: relation,
                  description: description, path: path, dependsOn: dependsOn, lastStatus: nil, lastRunAt: nil, lastRunID: nil,
                  freshness: nil, rows: nil)
    }
}

/// Run observers, added at wiring time and read at each run's end.
private final class ObserverList: @unchecked Sendable {
    // @unchecked: `observers` is only touched while `lock` is held.
    private let lock = NSLock()
    private var observers: [@Sendable (DataRun) async -> Void] = []

    func add(_ observer: @escaping @Sendable (DataRun) async -> Void) { lock.withLock { observers.append(observer) } }
    var all: [@Sendable (DataRun) async -> Void] { lock.withLock { observers } }
}

/// Lets one run proceed at a time; later callers wait their turn (suspended, not blocking).
private actor RunGate {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func exclusively<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if busy {
            await withCheckedContinuation { waiters.append($0) }
        }
        busy = true
        defer {
            if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
        }
        return try await body()
    }
}
