// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
import Foundation
public import Logging
public import Storage
import Synchronization

/// Runs registered graphs for tenants, durably: each run is a row of `ai_runs`, each superstep a
/// checkpoint in `ai_checkpoints`, and the run executes in the background of this process.
///
/// ```swift
/// let run = try await runs.start(graph: "assistant", input: ["question": .string("refunds?")], tenant: tenant)
/// var done = try await runs.wait(for: run.id, tenant: tenant)          // until completed, interrupted or failed
/// if done.status == .interrupted {
///     _ = try await runs.resume(run.id, tenant: tenant, command: .approve())
///     done = try await runs.wait(for: run.id, tenant: tenant)
/// }
/// ```
///
/// A process claims a run with a lease (`owner`, `lease_expires_at`), renews it while the run
/// executes, and writes each checkpoint only while it still holds it. A run left `running` by a
/// process that died is continued from its newest checkpoint by ``recoverInterruptedWork()`` in
/// whichever process claims it first once the lease expired; finished nodes do not run again.
public final class RunService: Sendable {
    let database: any Database
    /// The graphs runs may name.
    public let graphs: GraphRegistry
    let configuration: RunServiceConfiguration
    let logger: Logger
    /// This process's identity in `ai_runs.owner`.
    let owner: String
    let tasks = RunTasks()
    let signals = RunSignals()

    public init(database: any Database, graphs: GraphRegistry, configuration: RunServiceConfiguration = RunServiceConfiguration(),
                logger: Logger) {
        self.database = database
        self.graphs = graphs
        self.configuration = configuration
        self.logger = logger
        owner = "\(ProcessInfo.processInfo.hostName.prefix(64))/\(ProcessInfo.processInfo.processIdentifier)/"
            + UUID().uuidString.prefix(8).lowercased()
    }

    var leaseMillis: Int64 {
        let parts = configuration.lease.components
        return parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000
    }

    func requireGraph(_ name: String) throws -> CompiledGraph {
        guard let graph = graphs.graph(named: name) else {
            throw GraphError(status: 404, code: "graph_not_found", detail: "graph '\(name.prefix(128))' is not registered")
        }
        return graph
    }

    static func runNotFound(_ id: String) -> GraphError {
        GraphError(status: 404, code: "run_not_found", detail: "run '\(id.prefix(128))' was not found")
    }

    // MARK: Runs

    /// Creates a run of `graph` for `tenant` and starts it in the background; returns the stored
    /// run (status `running`). With a `threadID` whose newest run completed, the new run starts
    /// from that run's final state (a conversation's next turn).
    /// - Throws: ``GraphError`` 404 `graph_not_found`, 409 `thread_busy` when the thread's newest
    ///   run is still running or interrupted, 422 when a reducer refuses the input.
    public func start(graph name: String, input: GraphState, tenant: TenantID, threadID: String? = nil) async throws -> RunRecord {
        let graph = try requireGraph(name)
        // Refusals (an exhausted budget: 402) answer the caller before any run exists.
        try await graphs.admission(named: name)?(tenant, input)
        let runID = RunConfig.makeRunID()
        var base: GraphState?
        if let threadID {
            let previous = try await database.read(tenant: tenant.rawValue) { conn in
                try RunStore.latestRun(thread: threadID, tenant: tenant, on: conn)
            }
            if let previous {
                guard previous.status.isSettled, previous.status != .interrupted else {
                    throw GraphError.conflict("thread '\(threadID.prefix(128))' has a run in progress (\(previous.id))", code: "thread_busy")
                }
                if previous.status == .completed { base = previous.state }
            }
        }
        let first = try await graph.initialCheckpoint(input, base: base, runID: runID)
        let now = Date()
        let record = RunRecord(
            id: runID, tenant: tenant, graph: name, threadID: threadID ?? runID, status: .running, input: input, state: first.state,
            interrupt: nil, error: nil, step: 0, checkpointID: first.id, parentRunID: nil, parentCheckpointID: nil,
            createdAt: now, updatedAt: now, finishedAt: nil)
        let owner = self.owner, lease = leaseMillis
        try await database.transaction(tenant: tenant.rawValue) { conn in
            try RunStore.insertRun(record, owner: owner, leaseMillis: lease, on: conn)
            try RunStore.insertCheckpoint(first, tenant: tenant, on: conn)
        }
        logger.info("run started", metadata: ["ai.run_id": "\(runID)", "ai.graph": "\(name)", "tenant.id": "\(tenant)"])
        await launch(graph, runID: runID, tenant: tenant, from: first)
        return record
    }

    /// Starts a run and waits until it completes, fails or stops for review.
    public func invoke(graph name: String, input: GraphState, tenant: TenantID, threadID: String? = nil) async throws -> RunRecord {
        let run = try await start(graph: name, input: input, tenant: tenant, threadID: threadID)
        return try await wait(for: run.id, tenant: tenant)
    }

    /// The run, or `nil` when `tenant` has no run with this id.
    public func run(_ id: String, tenant: TenantID) async throws -> RunRecord? {
        try await database.read(tenant: tenant.rawValue) { conn in try RunStore.run(id, tenant: tenant, on: conn) }
    }

    /// Waits until the run is no longer `running` and returns it. Works for runs executed by any
    /// process on the same database.
    public func wait(for id: String, tenant: TenantID) async throws -> RunRecord {
        while true {
            let subscription = await signals.subscribe(id)
            // Woken at every checkpoint: the status decides, the whole run is read once it settled.
            let (status, settled) = try await database.read(tenant: tenant.rawValue) { conn -> (RunStatus?, RunRecord?) in
                guard let status = try RunStore.status(id, tenant: tenant, on: conn) else { return (nil, nil) }
                return (status, status.isSettled ? try RunStore.run(id, tenant: tenant, on: conn) : nil)
            }
            guard status != nil else {
                await signals.unsubscribe(subscription)
                throw Self.runNotFound(id)
            }
            if let settled {
                await signals.unsubscribe(subscription)
                return settled
            }
            await signals.wait(subscription, timeout: .milliseconds(500))
            try Task.checkCancellation()
        }
    }

    /// Answers the run's pending interrupt and continues it in the background.
    /// - Throws: ``GraphError`` 404 `run_not_found`, 409 `run_not_interrupted`, 422 for an
    ///   `edit` whose value the interrupt cannot take.
    public func resume(_ id: String, tenant: TenantID, command: ResumeCommand) async throws -> RunRecord {
        let owner = self.owner, lease = leaseMillis, graphs = self.graphs
        let (record, graph, answered) = try await database.transaction(tenant: tenant.rawValue) { conn -> (RunRecord, CompiledGraph, Checkpoint) in
            guard var run = try RunStore.run(id, tenant: tenant, on: conn) else { throw Self.runNotFound(id) }
            guard run.status == .interrupted else {
                throw GraphError.conflict("run '\(id)' is \(run.status.rawValue), not interrupted: only an interrupted run can be resumed",
                                          code: "run_not_interrupted")
            }
            guard let graph = graphs.graph(named: run.graph) else {
                throw GraphError.conflict("graph '\(run.graph)' of run '\(id)' is not registered", code: "graph_not_found")
            }
            guard let last = try RunStore.latestCheckpoint(run: id, tenant: tenant, on: conn) else { throw Self.runNotFound(id) }
            let answered = try graph.answer(last, with: command)
            let now = RunStore.now()
            let updated = try conn.execute("""
                UPDATE ai_runs SET status = 'running', interrupt = NULL, owner = \(owner), lease_expires_at = \(now + lease), \
                checkpoint_id = \(answered.id), state = \(try SQLValue.json(answered.state)), updated_at = \(now) \
                WHERE tenant_id = \(tenant.rawValue) AND id = \(id) AND status = 'interrupted'
                """)
            guard updated == 1 else { throw GraphError.conflict("run '\(id)' was resumed concurrently", code: "run_not_interrupted") }
            try RunStore.insertCheckpoint(answered, tenant: tenant, on: conn)
            run.status = .running
            run.interrupt = nil
            run.state = answered.state
            run.checkpointID = answered.id
            run.updatedAt = Date(timeIntervalSince1970: Double(now) / 1000)
            return (run, graph, answered)
        }
        logger.info("run resumed", metadata: ["ai.run_id": "\(id)", "ai.decision": "\(command.decision.rawValue)", "tenant.id": "\(tenant)"])
        await launch(graph, runID: id, tenant: tenant, from: answered)
        return record
    }

    /// The run's checkpoints, oldest first.
    /// - Throws: ``GraphError`` 404 `run_not_found`.
    public func checkpoints(of id: String, tenant: TenantID) async throws -> [Checkpoint] {
        try await database.read(tenant: tenant.rawValue) { conn in
            guard try RunStore.run(id, tenant: tenant, on: conn) != nil else { throw Self.runNotFound(id) }
            return try RunStore.checkpoints(run: id, tenant: tenant, on: conn).map(\.checkpoint)
        }
    }

    /// Replays a run from one of its checkpoints as a new run in the same thread (a fork when
    /// `patch` changes the state, through the reducers). The source run is not changed.
    /// - Throws: ``GraphError`` 404 `run_not_found` / `checkpoint_not_found` / `graph_not_found`,
    ///   422 when a reducer refuses the patch.
    public func replay(_ id: String, tenant: TenantID, from checkpointID: String, patch: GraphState? = nil) async throws -> RunRecord {
        let owner = self.owner, lease = leaseMillis, graphs = self.graphs
        let newID = RunConfig.makeRunID()
        let (record, graph, first) = try await database.transaction(tenant: tenant.rawValue) { conn -> (RunRecord, CompiledGraph, Checkpoint) in
            guard let source = try RunStore.run(id, tenant: tenant, on: conn) else { throw Self.runNotFound(id) }
            guard let checkpoint = try RunStore.checkpoint(id: checkpointID, run: id, tenant: tenant, on: conn) else {
                throw GraphError(status: 404, code: "checkpoint_not_found",
                                 detail: "run '\(id)' has no checkpoint '\(checkpointID.prefix(128))'")
            }
            guard let graph = graphs.graph(named: source.graph) else {
                throw GraphError(status: 404, code: "graph_not_found", detail: "graph '\(source.graph)' is not registered")
            }
            let first = try graph.forkCheckpoint(from: checkpoint, patch: patch, runID: newID)
            let now = Date()
            let record = RunRecord(
                id: newID, tenant: tenant, graph: source.graph, threadID: source.threadID, status: .running, input: source.input,
                state: first.state, interrupt: nil, error: nil, step: first.step, checkpointID: first.id, parentRunID: source.id,
                parentCheckpointID: checkpoint.id, createdAt: now, updatedAt: now, finishedAt: nil)
            try RunStore.insertRun(record, owner: owner, leaseMillis: lease, on: conn)
            try RunStore.insertCheckpoint(first, tenant: tenant, on: conn)
            return (record, graph, first)
        }
        logger.info("run replayed", metadata: ["ai.run_id": "\(newID)", "ai.parent_run_id": "\(id)", "tenant.id": "\(tenant)"])
        await launch(graph, runID: newID, tenant: tenant, from: first)
        return record
    }

    // MARK: Recovery

    /// Claims every run left `running` whose lease has expired (its process died or stopped) and
    /// continues it from its newest checkpoint. Safe to call from several processes on one
    /// database: the claim is a conditional `UPDATE`, so exactly one process wins each run. Runs
    /// of graphs this process does not register are left alone.
    public func recoverInterruptedWork() async {
        let owner = self.owner, lease = leaseMillis
        let known = Set(graphs.all.map(\.name))
        do {
            let claimed = try await database.transaction(tenant: "*") { conn -> [(tenant: String, id: String, graph: String)] in
                let now = RunStore.now()
                let candidates = try conn.query("""
                    SELECT tenant_id, id, graph FROM ai_runs WHERE status = 'running' AND lease_expires_at < \(now) \
                    ORDER BY updated_at LIMIT 100
                    """)
                var claimed: [(tenant: String, id: String, graph: String)] = []
                for row in candidates {
                    let tenant = try row.decode("tenant_id", as: String.self)
                    let id = try row.decode("id", as: String.self)
                    let graph = try row.decode("graph", as: String.self)
                    guard known.contains(graph) else { continue }
                    let won = try conn.execute("""
                        UPDATE ai_runs SET owner = \(owner), lease_expires_at = \(now + lease), updated_at = \(now) \
                        WHERE tenant_id = \(tenant) AND id = \(id) AND status = 'running' AND lease_expires_at < \(now)
                        """)
                    if won == 1 { claimed.append((tenant, id, graph)) }
                }
                return claimed
            }
            for run in claimed {
                guard let tenant = TenantID(run.tenant), let graph = graphs.graph(named: run.graph) else { continue }
                logger.info("run recovered", metadata: ["ai.run_id": "\(run.id)", "ai.graph": "\(run.graph)", "tenant.id": "\(tenant)"])
                await launch(graph, runID: run.id, tenant: tenant)
            }
        } catch {
            logger.warning("run recovery failed", metadata: ["error": "\(error)"])
        }
    }

    /// Stops the runs this process executes and releases their leases, so another process (or
    /// the next start) continues them from their newest checkpoint.
    public func shutdown() async {
        await tasks.cancelAll()
    }

    // MARK: Execution

    /// Executes the run in the background, from `checkpoint` when the caller just stored it as the
    /// run's newest (in the transaction that made this process its owner), else from the newest stored.
    func launch(_ graph: CompiledGraph, runID: String, tenant: TenantID, from checkpoint: Checkpoint? = nil) async {
        await tasks.start(runID) { [self] in
            await self.execute(graph, runID: runID, tenant: tenant, from: checkpoint)
        }
    }

    struct LeaseLost: Error {}

    /// The checkpoint that settled a run in its own transaction (``fencedCheckpointer(settled:)``).
    final class Settled: Sendable {
        private let checkpointID = Mutex<String?>(nil)
        func record(_ id: String) { checkpointID.withLock { $0 = id } }
        func contains(_ id: String) -> Bool { checkpointID.withLock { $0 == id } }
    }

    /// Checkpoints written only while this process holds the run's lease, each renewing it. The
    /// run row points at its newest checkpoint (whose state readers of a running run see); the
    /// checkpoint a run stops at — completed, or waiting for review — also settles the run, in the
    /// same transaction.
    func fencedCheckpointer(settled: Settled = Settled()) -> StoredCheckpointer {
        let owner = self.owner, lease = leaseMillis
        return StoredCheckpointer(database: database) { checkpoint, tenant, conn in
            let now = RunStore.now()
            let updated: Int
            if checkpoint.isFinal || checkpoint.interrupt != nil {
                let status: RunStatus = checkpoint.isFinal ? .completed : .interrupted
                updated = try conn.execute("""
                    UPDATE ai_runs SET status = \(status.rawValue), state = \(try SQLValue.json(checkpoint.state)), \
                    interrupt = \(try checkpoint.interrupt.map { try SQLValue.json($0) } ?? .null), error = NULL, \
                    step = \(checkpoint.step), checkpoint_id = \(checkpoint.id), owner = NULL, lease_expires_at = 0, \
                    updated_at = \(now), finished_at = \(status == .completed ? SQLValue.integer(now) : .null) \
                    WHERE tenant_id = \(tenant.rawValue) AND id = \(checkpoint.runID) AND owner = \(owner) AND status = 'running'
                    """)
                let id = checkpoint.id
                conn.afterCommit { settled.record(id) }
            } else {
                updated = try conn.execute("""
                    UPDATE ai_runs SET step = \(checkpoint.step), checkpoint_id = \(checkpoint.id), \
                    lease_expires_at = \(now + lease), updated_at = \(now) \
                    WHERE tenant_id = \(tenant.rawValue) AND id = \(checkpoint.runID) AND owner = \(owner) AND status = 'running'
                    """)
            }
            if updated == 0 { throw LeaseLost() }
        }
    }

    func execute(_ graph: CompiledGraph, runID: String, tenant: TenantID, from checkpoint: Checkpoint? = nil) async {
        let signals = self.signals
        let settled = Settled()
        let config = RunConfig(runID: runID, tenant: tenant, checkpointer: fencedCheckpointer(settled: settled)) { _ in
            await signals.notify(runID)
        }
        let outcome: Result<GraphResult, any Error> = await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.renewLease(runID: runID, tenant: tenant) }
            let outcome: Result<GraphResult, any Error>
            do {
                if let checkpoint {
                    outcome = .success(try await graph.loop(from: checkpoint, config))
                } else {
                    outcome = .success(try await graph.continueRun(config: config))
                }
            } catch {
                outcome = .failure(error)
            }
            group.cancelAll()
            return outcome
        }
        let cancelled = Task.isCancelled
        // A cancelled task may not get a pooled connection: the final write runs in its own task.
        await Task { await self.finish(runID: runID, tenant: tenant, outcome: outcome, cancelled: cancelled, settled: settled) }.value
        await signals.notify(runID)
    }

    func renewLease(runID: String, tenant: TenantID) async {
        let owner = self.owner, lease = leaseMillis
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.lease / 3)
            if Task.isCancelled { return }
            do {
                let held = try await database.transaction(tenant: tenant.rawValue) { conn in
                    let now = RunStore.now()
                    return try conn.execute("""
                        UPDATE ai_runs SET lease_expires_at = \(now + lease) \
                        WHERE tenant_id = \(tenant.rawValue) AND id = \(runID) AND owner = \(owner) AND status = 'running'
                        """)
                }
                if held == 0 { return }
            } catch {
                logger.warning("run lease renewal failed", metadata: ["ai.run_id": "\(runID)", "error": "\(error)"])
            }
        }
    }

    func finish(runID: String, tenant: TenantID, outcome: Result<GraphResult, any Error>, cancelled: Bool,
                settled: Settled = Settled()) async {
        let owner = self.owner
        let metadata: Logger.Metadata = ["ai.run_id": "\(runID)", "tenant.id": "\(tenant)"]
        do {
            switch outcome {
            case .success(let result) where settled.contains(result.checkpoint.id):
                logger.info("run \(result.status == .completed ? RunStatus.completed.rawValue : RunStatus.interrupted.rawValue)",
                            metadata: metadata)
            case .success(let result):
                // A run continued from a checkpoint that already stopped it (stored by a process that
                // ended before it could record the status).
                let status: RunStatus = result.status == .completed ? .completed : .interrupted
                try await database.transaction(tenant: tenant.rawValue) { conn in
                    let now = RunStore.now()
                    try conn.execute("""
                        UPDATE ai_runs SET status = \(status.rawValue), state = \(try SQLValue.json(result.state)), \
                        interrupt = \(try result.interrupt.map { try SQLValue.json($0) } ?? .null), error = NULL, \
                        step = \(result.checkpoint.step), checkpoint_id = \(result.checkpoint.id), owner = NULL, lease_expires_at = 0, \
                        updated_at = \(now), finished_at = \(status == .completed ? SQLValue.integer(now) : .null) \
                        WHERE tenant_id = \(tenant.rawValue) AND id = \(runID) AND owner = \(owner) AND status = 'running'
                        """)
                }
                logger.info("run \(status.rawValue)", metadata: metadata)
            case .failure(let error) where error is LeaseLost:
                logger.warning("run taken over by another process", metadata: metadata)
            case .failure(let error) where cancelled || error is CancellationError:
                try await database.transaction(tenant: tenant.rawValue) { conn in
                    try conn.execute("""
                        UPDATE ai_runs SET owner = NULL, lease_expires_at = 0 \
                        WHERE tenant_id = \(tenant.rawValue) AND id = \(runID) AND owner = \(owner) AND status = 'running'
                        """)
                }
                logger.info("run paused for shutdown", metadata: metadata)
            case .failure(let error):
                let detail = (error as? GraphError)?.detail ?? String(describing: error)
                try await database.transaction(tenant: tenant.rawValue) { conn in
                    let now = RunStore.now()
                    try conn.execute("""
                        UPDATE ai_runs SET status = 'failed', error = \(String(detail.prefix(4000))), owner = NULL, lease_expires_at = 0, \
                        updated_at = \(now), finished_at = \(now) \
                        WHERE tenant_id = \(tenant.rawValue) AND id = \(runID) AND owner = \(owner) AND status = 'running'
                        """)
                }
                logger.warning("run failed", metadata: metadata.merging(["error": "\(detail.prefix(500))"]) { $1 })
            }
        } catch {
            logger.error("run status not recorded", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }
}

/// The background tasks of the runs this process executes, one per run; a run started again
/// while its previous task winds down waits for it.
actor RunTasks {
    private var tasks: [String: (token: Int, task: Task<Void, Never>)] = [:]
    private var nextToken = 0

    func start(_ id: String, _ body: @escaping @Sendable () async -> Void) {
        let previous = tasks[id]?.task
        nextToken += 1
        let token = nextToken
        let task = Task {
            await previous?.value
            await body()
            self.finished(id, token: token)
        }
        tasks[id] = (token, task)
    }

    private func finished(_ id: String, token: Int) {
        if tasks[id]?.token == token { tasks[id] = nil }
    }

    func cancelAll() async {
        let running = tasks.values.map(\.task)
        for task in running { task.cancel() }
        for task in running { await task.value }
    }

    var count: Int { tasks.count }
}

/// Wakes those waiting on a run (``RunService/wait(for:tenant:)``, the event stream) when this
/// process writes one of its checkpoints or its status. Waiters also poll, for runs executed by
/// another process.
actor RunSignals {
    struct Subscription: Sendable {
        let run: String
        let token: Int
        let stream: AsyncStream<Void>
    }

    private var waiters: [String: [Int: AsyncStream<Void>.Continuation]] = [:]
    private var nextToken = 0

    func subscribe(_ run: String) -> Subscription {
        nextToken += 1
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        waiters[run, default: [:]][nextToken] = continuation
        return Subscription(run: run, token: nextToken, stream: stream)
    }

    func unsubscribe(_ subscription: Subscription) {
        waiters[subscription.run]?[subscription.token]?.finish()
        waiters[subscription.run]?[subscription.token] = nil
        if waiters[subscription.run]?.isEmpty == true { waiters[subscription.run] = nil }
    }

    func notify(_ run: String) {
        for continuation in waiters[run]?.values ?? [:].values { continuation.yield() }
    }

    /// Returns at the first notification or after `timeout`, and ends the subscription.
    nonisolated func wait(_ subscription: Subscription, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in subscription.stream { return }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        await unsubscribe(subscription)
    }
}

/// What ``RunService/follow(_:tenant:after:keepAlive:_:)`` reports.
public enum RunEvent: Sendable {
    /// A stored checkpoint and its position in the run's history (1, 2, …).
    case checkpoint(seq: Int64, Checkpoint)
    /// The run stopped: completed, failed or interrupted. The last event.
    case settled(RunRecord)
    /// Nothing happened for a while (for keep-alive pings).
    case idle
}

extension RunService {
    /// Reports the run's checkpoints after `after` (a previous event's `seq`), then each new one as
    /// it is stored (by any process), and finally the run once it is no longer `running`.
    /// - Throws: ``GraphError`` 404 `run_not_found`; whatever `emit` throws ends the stream.
    public func follow(_ id: String, tenant: TenantID, after: Int64 = 0, keepAlive: Duration = .seconds(15),
                       _ emit: @Sendable (RunEvent) async throws -> Void) async throws {
        var last = after
        var quiet = Duration.zero
        let poll = Duration.milliseconds(500)
        while true {
            let subscription = await signals.subscribe(id)
            let seen = last
            let read = try await database.read(tenant: tenant.rawValue) { conn -> (RunRecord?, [(seq: Int64, checkpoint: Checkpoint)]) in
                (try RunStore.run(id, tenant: tenant, on: conn), try RunStore.checkpoints(run: id, tenant: tenant, after: seen, on: conn))
            }
            guard let run = read.0 else {
                await signals.unsubscribe(subscription)
                throw Self.runNotFound(id)
            }
            for (seq, checkpoint) in read.1 {
                try await emit(.checkpoint(seq: seq, checkpoint))
                last = seq
                quiet = .zero
            }
            if run.status.isSettled {
                await signals.unsubscribe(subscription)
                try await emit(.settled(run))
                return
            }
            let started = ContinuousClock.now
            await signals.wait(subscription, timeout: poll)
            try Task.checkCancellation()
            quiet += ContinuousClock.now - started
            if quiet >= keepAlive {
                try await emit(.idle)
                quiet = .zero
            }
        }
    }
}
