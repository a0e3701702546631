// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
public import Foundation

/// One node's partial update within a superstep.
public struct NodeWrite: Sendable, Codable, Hashable {
    public var node: String
    public var update: GraphState

    public init(node: String, update: GraphState) {
        self.node = node
        self.update = update
    }
}

/// A snapshot of a run taken after every superstep (and when it stops for review), enough to
/// continue it in another process without running a finished node again.
public struct Checkpoint: Sendable, Codable, Hashable {
    /// Why the checkpoint was written.
    public enum Source: String, Sendable, Codable, Hashable {
        /// The input was applied (step 0).
        case input
        /// A superstep finished.
        case loop
        /// The run stopped for review before a superstep, or inside one.
        case interrupt
        /// A reviewer's answer (edit or reject) changed the state or the next nodes.
        case update
        /// The first checkpoint of a run forked from another run's checkpoint.
        case fork
    }

    public var id: String
    public var runID: String
    /// The checkpoint this one follows (for a fork: the source run's checkpoint).
    public var parentID: String?
    /// Supersteps completed so far (0 after the input).
    public var step: Int
    public var source: Source
    public var state: GraphState
    /// The nodes the next superstep runs (empty when the run reached `END`).
    public var next: [String]
    /// The nodes whose updates produced this checkpoint, with those updates.
    public var writes: [NodeWrite]
    /// Fan-in progress: for each waiting node, the predecessors already finished.
    public var joins: [String: [String]]
    /// Updates of nodes that finished in a superstep another node interrupted; they are not run again.
    public var pendingWrites: [NodeWrite]
    public var interrupt: PendingInterrupt?
    /// Reviewers' answers the next superstep's nodes receive from their `interrupt` calls.
    public var resumes: [String: [ResumeCommand]]
    /// Whether a reviewer already approved the next superstep (its `interruptBefore` is not asked again).
    public var reviewed: Bool
    /// The reviewer's answer this checkpoint records (`source == .update`).
    public var command: ResumeCommand?
    public var createdAt: Date

    public init(id: String = Checkpoint.makeID(), runID: String, parentID: String?, step: Int, source: Source,
                state: GraphState, next: [String], writes: [NodeWrite] = [], joins: [String: [String]] = [:],
                pendingWrites: [NodeWrite] = [], interrupt: PendingInterrupt? = nil, resumes: [String: [ResumeCommand]] = [:],
                reviewed: Bool = false, command: ResumeCommand? = nil, createdAt: Date = Date()) {
        self.id = id
        self.runID = runID
        self.parentID = parentID
        self.step = step
        self.source = source
        self.state = state
        self.next = next
        self.writes = writes
        self.joins = joins
        self.pendingWrites = pendingWrites
        self.interrupt = interrupt
        self.resumes = resumes
        self.reviewed = reviewed
        self.command = command
        self.createdAt = createdAt
    }

    /// Whether the run has nothing left to do from here.
    public var isFinal: Bool { next.isEmpty && interrupt == nil }

    /// A new random checkpoint id, `ckpt_<32 hex>`.
    public static func makeID() -> String {
        "ckpt_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}

/// Where a graph keeps its checkpoints, per run and tenant (LangGraph's checkpointer; the run id
/// is its thread). ``InMemoryCheckpointer`` lives in the process; the run service stores them in
/// `ai_checkpoints` through `Storage` on both backends.
public protocol Checkpointer: Sendable {
    /// Appends a checkpoint to its run's history. Throwing stops the run: it continues from the
    /// last stored checkpoint.
    func put(_ checkpoint: Checkpoint, tenant: TenantID) async throws
    /// The newest checkpoint of the run.
    func latest(runID: String, tenant: TenantID) async throws -> Checkpoint?
    /// One checkpoint of the run.
    func checkpoint(id: String, runID: String, tenant: TenantID) async throws -> Checkpoint?
    /// The run's checkpoints, oldest first.
    func history(runID: String, tenant: TenantID) async throws -> [Checkpoint]
}

/// Checkpoints kept in memory: tests, benchmarks, and in-process runs that need not survive a restart.
public actor InMemoryCheckpointer: Checkpointer {
    private var runs: [String: [Checkpoint]] = [:]

    public init() {}

    private func key(_ runID: String, _ tenant: TenantID) -> String { "\(tenant.rawValue)\u{0}\(runID)" }

    public func put(_ checkpoint: Checkpoint, tenant: TenantID) {
        runs[key(checkpoint.runID, tenant), default: []].append(checkpoint)
    }

    public func latest(runID: String, tenant: TenantID) -> Checkpoint? {
        runs[key(runID, tenant)]?.last
    }

    public func checkpoint(id: String, runID: String, tenant: TenantID) -> Checkpoint? {
        runs[key(runID, tenant)]?.first { $0.id == id }
    }

    public func history(runID: String, tenant: TenantID) -> [Checkpoint] {
        runs[key(runID, tenant)] ?? []
    }
}
