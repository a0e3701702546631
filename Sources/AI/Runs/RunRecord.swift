// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
public import Foundation

/// Where a run stands (SPEC §4).
public enum RunStatus: String, Sendable, Codable, Hashable, CaseIterable {
    /// Executing, or waiting for a process to continue it after a restart.
    case running
    /// Stopped for review; see ``RunRecord/interrupt``.
    case interrupted
    case completed
    /// See ``RunRecord/error``.
    case failed

    /// Whether the run will not change again without a resume.
    public var isSettled: Bool { self != .running }
}

/// One run of a named graph for a tenant, as stored in `ai_runs`.
public struct RunRecord: Sendable, Codable, Hashable {
    public var id: String
    public var tenant: TenantID
    public var graph: String
    /// The conversation the run belongs to; a new run in a thread starts from the thread's last
    /// completed state. Defaults to the run id.
    public var threadID: String
    public var status: RunStatus
    public var input: GraphState
    /// The state at the newest checkpoint (the final state once completed).
    public var state: GraphState?
    public var interrupt: PendingInterrupt?
    public var error: String?
    /// Supersteps completed.
    public var step: Int
    /// The newest checkpoint's id.
    public var checkpointID: String?
    /// For a replay or fork: the run and checkpoint it started from.
    public var parentRunID: String?
    public var parentCheckpointID: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?

    public init(id: String, tenant: TenantID, graph: String, threadID: String, status: RunStatus, input: GraphState,
                state: GraphState?, interrupt: PendingInterrupt?, error: String?, step: Int, checkpointID: String?,
                parentRunID: String?, parentCheckpointID: String?, createdAt: Date, updatedAt: Date, finishedAt: Date?) {
        self.id = id
        self.tenant = tenant
        self.graph = graph
        self.threadID = threadID
        self.status = status
        self.input = input
        self.state = state
        self.interrupt = interrupt
        self.error = error
        self.step = step
        self.checkpointID = checkpointID
        self.parentRunID = parentRunID
        self.parentCheckpointID = parentCheckpointID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
    }
}

/// Settings of the run service.
public struct RunServiceConfiguration: Sendable {
    /// How long a process's claim on a running run lasts without renewal. A run whose process died
    /// is continued by another (or the restarted) process once this has passed.
    public var lease: Duration
    /// How often start-up recovery looks again for runs whose lease expired.
    public var recoveryInterval: Duration
    /// Registers the `debug.slow` graph (with `ATLAS_ENABLE_DEBUG_ROUTES`).
    public var debugGraphs: Bool
    /// A file each `debug.slow` node appends its name to when it runs (`ATLAS_DEBUG_GRAPH_LOG`).
    public var debugGraphLog: String?

    public init(lease: Duration = .seconds(30), recoveryInterval: Duration? = nil, debugGraphs: Bool = false,
                debugGraphLog: String? = nil) {
        self.lease = lease
        self.recoveryInterval = recoveryInterval ?? lease / 2
        self.debugGraphs = debugGraphs
        self.debugGraphLog = debugGraphLog
    }

    /// Reads `ATLAS_AI_RUN_LEASE_SECONDS` (default 30, 1…3600), `ATLAS_ENABLE_DEBUG_ROUTES` and
    /// `ATLAS_DEBUG_GRAPH_LOG`.
    public init(environment: EnvironmentReader) throws {
        self.init(lease: try environment.seconds("ATLAS_AI_RUN_LEASE_SECONDS", default: .seconds(30), in: 1...3600),
                  debugGraphs: try environment.bool("ATLAS_ENABLE_DEBUG_ROUTES", default: false),
                  debugGraphLog: environment.raw("ATLAS_DEBUG_GRAPH_LOG"))
    }
}
