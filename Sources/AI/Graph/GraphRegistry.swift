// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// The graphs runs may name, by ``CompiledGraph/name``. Register at start-up, before routes serve.
///
/// ```swift
/// ai.graphs.register(try assistantGraph.compile(CompileOptions(interruptBefore: ["hitl"])))
/// ```
public final class GraphRegistry: @unchecked Sendable {
    // @unchecked: `graphs` is only read and written under `lock`.
    private let lock = NSLock()
    private var graphs: [String: CompiledGraph] = [:]

    public init() {}

    /// Adds or replaces the graph registered under its name.
    public func register(_ graph: CompiledGraph) {
        lock.lock()
        defer { lock.unlock() }
        graphs[graph.name] = graph
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
