// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
import Foundation

/// Admission checks a graph runs before a run of it is created, e.g. the tenant's budget: a
/// refusal (a ``ProblemError``, 402 for a budget) answers the request instead of a failed run.
public typealias RunAdmission = @Sendable (_ tenant: TenantID, _ input: GraphState) async throws -> Void

/// The graphs runs may name, by ``CompiledGraph/name``. Register at start-up, before routes serve.
///
/// ```swift
/// ai.graphs.register(try assistantGraph.compile(CompileOptions(interruptBefore: ["hitl"])))
/// ```
public final class GraphRegistry: @unchecked Sendable {
    // @unchecked: `graphs` is only read and written under `lock`.
    private let lock = NSLock()
    private var graphs: [String: CompiledGraph] = [:]
    private var admissions: [String: RunAdmission] = [:]

    public init() {}

    /// Adds or replaces the graph registered under its name, with the checks a new run of it
    /// must pass first.
    public func register(_ graph: CompiledGraph, admission: RunAdmission? = nil) {
        lock.lock()
        defer { lock.unlock() }
        graphs[graph.name] = graph
        admissions[graph.name] = admission
    }

    /// The admission checks of the graph registered under `name`, if it has any.
    public func admission(named name: String) -> RunAdmission? {
        lock.lock()
        defer { lock.unlock() }
        return admissions[name]
    }

    /// The graph registered under `name`.
    public func graph(named name: String) -> CompiledGraph? {
        lock.lock()
        defer { lock.unlock() }
        return graphs[name]
    }

    /// Every registered graph, by name.
    public var all: [CompiledGraph] {
        lock.lock()
        defer { lock.unlock() }
        return graphs.values.sorted { $0.name < $1.name }
    }
}
