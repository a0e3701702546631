// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
import Foundation
import Tracing

/// Where a run executes: its id (the checkpoint thread), tenant and checkpointer.
public struct RunConfig: Sendable {
    public var runID: String
    public var tenant: TenantID
    public var checkpointer: any Checkpointer
    /// Called after each checkpoint is stored (live progress; errors are the observer's own).
    public var observer: (@Sendable (Checkpoint) async -> Void)?

    public init(runID: String = RunConfig.makeRunID(), tenant: TenantID, checkpointer: any Checkpointer = InMemoryCheckpointer(),
                observer: (@Sendable (Checkpoint) async -> Void)? = nil) {
        self.runID = runID
        self.tenant = tenant
        self.checkpointer = checkpointer
        self.observer = observer
    }

    /// A new random run id, `run_<32 hex>`.
    public static func makeRunID() -> String {
        "run_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}

/// How far a run got: to `END`, or to an interrupt waiting for review.
public struct GraphResult: Sendable {
    public enum Status: String, Sendable, Codable {
        case completed, interrupted
    }

    public var status: Status
    public var runID: String
    public var state: GraphState
    /// The pending interrupt when `status == .interrupted`.
    public var interrupt: PendingInterrupt?
    /// The last checkpoint written.
    public var checkpoint: Checkpoint
}

/// A checked, runnable graph. Values are immutable and safe to share between runs.
///
/// ```swift
/// let config = RunConfig(tenant: tenant)                        // in-memory checkpoints
/// var result = try await compiled.invoke(["question": .string("refund?")], config: config)
/// if result.status == .interrupted {
///     result = try await compiled.resume(.approve(), config: config)
/// }
/// print(result.state)
/// ```
public struct CompiledGraph: Sendable {
    let definition: StateGraph
    public let options: CompileOptions
    let order: [String: Int]
    let actions: [String: GraphNode]
    /// Plain edges by source, and the fan-in edges each node takes part in, looked up per superstep.
    let outgoing: [String: [String]]
    let joinsBySource: [String: [Int]]

    init(definition: StateGraph, options: CompileOptions) {
        self.definition = definition
        self.options = options
        var order: [String: Int] = [:]
        for (index, node) in definition.nodes.enumerated() { order[node.name] = index }
        self.order = order
        actions = Dictionary(definition.nodes.map { ($0.name, $0.action) }, uniquingKeysWith: { first, _ in first })
        outgoing = Dictionary(grouping: definition.edges, by: \.from).mapValues { $0.map(\.to) }
        var joinsBySource: [String: [Int]] = [:]
        for (index, join) in definition.joins.enumerated() {
            for source in Set(join.from) { joinsBySource[source, default: []].append(index) }
        }
        self.joinsBySource = joinsBySource
    }

    public var name: String { definition.name }
    public var description: String { definition.description }
    /// The node names in declaration order.
    public var nodeNames: [String] { definition.nodes.map(\.name) }
    /// Each declared channel's reducer name.
    public var channelReducers: [String: String] { definition.channels.mapValues(\.reducer.name) }

    // MARK: Entry points

    /// Starts a run: the channel defaults, then `input` folded in through the reducers (step 0),
    /// then supersteps until `END` or an interrupt.
    public func invoke(_ input: GraphState, config: RunConfig) async throws -> GraphResult {
        let first = try await initialCheckpoint(input, base: nil, runID: config.runID)
        try await store(first, config)
        return try await loop(from: first, config)
    }

    /// The checkpoint a run starts from (step 0, not stored): the channel defaults (or `base`,
    /// a thread's previous final state), then `input` through the reducers, then the entry nodes.
    public func initialCheckpoint(_ input: GraphState, base: GraphState? = nil, runID: String) async throws -> Checkpoint {
        var state: GraphState = [:]
        for (key, channel) in definition.channels {
            if let initial = channel.initial { state[key] = initial }
        }
        if let base { state.merge(base) { _, kept in kept } }
        state = try apply(input, to: state)
        let next = try await successors(of: [StateGraph.start], state: state, joins: [:]).next
        return Checkpoint(runID: runID, parentID: nil, step: 0, source: .input, state: state, next: next)
    }

    /// Continues a stopped run with a reviewer's answer (see ``ResumeCommand`` for what each
    /// decision does).
    /// - Throws: ``GraphError/notFound(_:)`` without checkpoints, ``GraphError/conflict(_:code:)``
    ///   when the run is not waiting for review, ``GraphError/invalidUpdate(_:)`` for an `edit`
    ///   of a static interrupt whose value is not an object.
    public func resume(_ command: ResumeCommand, config: RunConfig) async throws -> GraphResult {
        guard let last = try await config.checkpointer.latest(runID: config.runID, tenant: config.tenant) else {
            throw GraphError.notFound("run '\(config.runID)' has no checkpoint")
        }
        let answered = try answer(last, with: command)
        try await store(answered, config)
        return try await loop(from: answered, config)
    }

    /// The checkpoint a reviewer's answer leads to (not stored).
    func answer(_ last: Checkpoint, with command: ResumeCommand) throws -> Checkpoint {
        guard let pending = last.interrupt else {
            throw GraphError.conflict("run '\(last.runID)' is not interrupted", code: "run_not_interrupted")
        }
        var next = last
        next.id = Checkpoint.makeID()
        next.parentID = last.id
        next.source = .update
        next.interrupt = nil
        next.writes = []
        next.createdAt = Date()
        next.resumes = [:]
        next.reviewed = false
        next.command = command
        switch pending.kind {
        case .node:
            next.resumes = [pending.node: pending.resumes + [command]]
            next.reviewed = true
            return next
        case .before, .after:
            switch command.decision {
            case .approve:
                break
            case .edit:
                guard case .object(let patch)? = command.value else {
                    throw GraphError.invalidUpdate("an edit of the state at an interrupt \(pending.kind.rawValue) '\(pending.node)' takes an object `value` (a partial state)")
                }
                next.state = try apply(patch, to: last.state)
            case .reject:
                next.next = options.rejectRoute == StateGraph.end ? [] : [options.rejectRoute]
                next.pendingWrites = []
                next.joins = last.joins
                return next
            }
            next.reviewed = pending.kind == .before
            return next
        }
    }

    /// Continues a run from its newest checkpoint, e.g. after the process that ran it died. Nodes
    /// of finished supersteps do not run again. A run waiting for review stays waiting.
    public func continueRun(config: RunConfig) async throws -> GraphResult {
        guard let last = try await config.checkpointer.latest(runID: config.runID, tenant: config.tenant) else {
            throw GraphError.notFound("run '\(config.runID)' has no checkpoint")
        }
        return try await loop(from: last, config)
    }

    /// Starts a new run (`config.runID`) from a checkpoint of another run (replay, or a fork when
    /// `patch` changes the state through the reducers). The superstep after the checkpoint runs again.
    public func fork(from source: Checkpoint, patch: GraphState? = nil, config: RunConfig) async throws -> GraphResult {
        let first = try forkCheckpoint(from: source, patch: patch, runID: config.runID)
        try await store(first, config)
        return try await loop(from: first, config)
    }

    /// The first checkpoint of a fork (not stored).
    public func forkCheckpoint(from source: Checkpoint, patch: GraphState?, runID: String) throws -> Checkpoint {
        var state = source.state
        if let patch { state = try apply(patch, to: state) }
        return Checkpoint(runID: runID, parentID: source.id, step: source.step, source: .fork, state: state, next: source.next,
                          joins: source.joins)
    }

    // MARK: Supersteps

    func loop(from start: Checkpoint, _ config: RunConfig) async throws -> GraphResult {
        var current = start
        while true {
            if let pending = current.interrupt {
                return GraphResult(status: .interrupted, runID: config.runID, state: current.state, interrupt: pending, checkpoint: current)
            }
            let runnable = current.next
            if runnable.isEmpty {
                return GraphResult(status: .completed, runID: config.runID, state: current.state, interrupt: nil, checkpoint: current)
            }
            try Task.checkCancellation()
            if current.step >= options.recursionLimit {
                throw GraphError.recursionLimit(graph: name, limit: options.recursionLimit)
            }
            if !current.reviewed, let node = runnable.first(where: { options.interruptBefore.contains($0) }) {
                var stop = current
                stop.id = Checkpoint.makeID()
                stop.parentID = current.id
                stop.source = .interrupt
                stop.writes = []
                stop.createdAt = Date()
                stop.command = nil
                stop.interrupt = PendingInterrupt(kind: .before, node: node, payload: .object(["node": .string(node), "state": .object(current.state)]))
                try await store(stop, config)
                current = stop
                continue
            }
            current = try await superstep(after: current, runnable: runnable, config)
            try await store(current, config)
        }
    }

    private enum Outcome: Sendable {
        case update(GraphState)
        case interrupted(NodeInterrupt)
        case failed(any Error)
    }

    /// Runs `runnable` concurrently and returns the checkpoint that follows `current`.
    func superstep(after current: Checkpoint, runnable: [String], _ config: RunConfig) async throws -> Checkpoint {
        let done = Dictionary(current.pendingWrites.map { ($0.node, $0.update) }, uniquingKeysWith: { first, _ in first })
        let actions = self.actions
        let state = current.state
        let graphName = name
        let outcomes = await withTaskGroup(of: (String, Outcome).self) { group in
            for node in runnable where done[node] == nil {
                guard let action = actions[node] else { continue }
                let context = NodeContext(runID: config.runID, tenant: config.tenant, graph: graphName, node: node, step: current.step,
                                          resumes: current.resumes[node] ?? [])
                group.addTask {
                    do {
                        let update = try await withSpan("graph.node", ofKind: .internal) { span in
                            span.attributes["atlas.graph"] = graphName
                            span.attributes["atlas.node"] = node
                            span.attributes["atlas.step"] = current.step
                            span.attributes["atlas.run_id"] = config.runID
                            return try await action(state, context)
                        }
                        return (node, .update(update))
                    } catch let interrupt as NodeInterrupt {
                        return (node, .interrupted(interrupt))
                    } catch {
                        return (node, .failed(error))
                    }
                }
            }
            var outcomes: [String: Outcome] = [:]
            for await (node, outcome) in group { outcomes[node] = outcome }
            return outcomes
        }

        var writes: [NodeWrite] = []
        var interrupts: [NodeInterrupt] = []
        for node in runnable {
            if let update = done[node] {
                writes.append(NodeWrite(node: node, update: update))
                continue
            }
            switch outcomes[node] {
            case .update(let update)?: writes.append(NodeWrite(node: node, update: update))
            case .interrupted(let interrupt)?: interrupts.append(interrupt)
            case .failed(let error)?:
                if error is CancellationError { throw error }
                if let graphError = error as? GraphError { throw graphError }
                throw GraphError.nodeFailed(node, error)
            case nil: break
            }
        }
        try Task.checkCancellation()

        if let first = interrupts.first {
            return Checkpoint(runID: config.runID, parentID: current.id, step: current.step, source: .interrupt, state: current.state,
                              next: current.next, joins: current.joins, pendingWrites: writes,
                              interrupt: PendingInterrupt(kind: .node, node: first.node, payload: first.payload, resumes: first.resumes))
        }

        var newState = current.state
        for write in writes {
            do {
                newState = try apply(write.update, to: newState)
            } catch let error as GraphError {
                throw GraphError.invalidUpdate("node '\(write.node)': \(error.detail)")
            }
        }
        let (next, joins) = try await successors(of: runnable, state: newState, joins: current.joins)
        var checkpoint = Checkpoint(runID: config.runID, parentID: current.id, step: current.step + 1, source: .loop, state: newState,
                                    next: next, writes: writes, joins: joins)
        if let node = runnable.first(where: { options.interruptAfter.contains($0) }) {
            checkpoint.interrupt = PendingInterrupt(kind: .after, node: node, payload: .object(["node": .string(node), "state": .object(newState)]))
        }
        return checkpoint
    }

    /// The nodes triggered by `finished` (edges, routers evaluated on `state`, completed fan-ins),
    /// in declaration order, without `END`.
    func successors(of finished: [String], state: GraphState, joins: [String: [String]]) async throws -> (next: [String], joins: [String: [String]]) {
        var targets: [String] = []
        var joins = joins
        for node in finished {
            targets.append(contentsOf: outgoing[node] ?? [])
            if let conditional = definition.conditionals[node] {
                let chosen = try await conditional.route(state)
                for target in chosen where !conditional.targets.contains(target) {
                    throw GraphError.invalidUpdate(
                        "the router after '\(node)' chose '\(target)', which is not one of its targets \(conditional.targets)")
                }
                targets.append(contentsOf: chosen)
            }
            for index in joinsBySource[node] ?? [] {
                let key = "\(definition.joins[index].to)#\(index)"
                var seen = joins[key] ?? []
                if !seen.contains(node) { seen.append(node) }
                joins[key] = seen
            }
        }
        for (index, join) in definition.joins.enumerated() {
            let key = "\(join.to)#\(index)"
            if let seen = joins[key], Set(join.from).isSubset(of: Set(seen)) {
                targets.append(join.to)
                joins[key] = nil
            }
        }
        var unique = Set<String>()
        let next = targets.filter { $0 != StateGraph.end && unique.insert($0).inserted }
            .sorted { (order[$0] ?? .max) < (order[$1] ?? .max) }
        return (next, joins)
    }

    /// Folds a partial update into `state` through each key's reducer.
    public func apply(_ update: GraphState, to state: GraphState) throws -> GraphState {
        var state = state
        for key in update.keys.sorted() {
            guard let value = update[key] else { continue }
            let reducer = definition.channels[key]?.reducer ?? .replace
            state[key] = try reducer.combine(state[key], value)
        }
        return state
    }

    private func store(_ checkpoint: Checkpoint, _ config: RunConfig) async throws {
        try await config.checkpointer.put(checkpoint, tenant: config.tenant)
        await config.observer?(checkpoint)
    }
}
