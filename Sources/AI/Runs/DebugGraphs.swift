// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation

/// Graphs for tests of the run machinery, registered only with `ATLAS_ENABLE_DEBUG_ROUTES=true`.
///
/// `debug.slow`: `a` → `b` (sleeps `delay_ms` from the input, default 1000, at most 60000) → `c`;
/// each node appends its name to `visited`, and to the file `ATLAS_DEBUG_GRAPH_LOG` names (one
/// `<run id> <node>` line per execution) so a test can count executions across processes.
enum DebugGraphs {
    static func register(in registry: GraphRegistry, log: String?) {
        if let graph = try? slow(log: log) { registry.register(graph) }
    }

    static func slow(log: String?) throws -> CompiledGraph {
        var graph = StateGraph(name: "debug.slow", description: "a → b (sleeps delay_ms) → c; for crash-recovery tests")
        graph.addChannel("visited", reducer: .append, default: .array([]))
        @Sendable func record(_ node: String, _ context: NodeContext) {
            guard let log, let handle = FileHandle(forWritingAtPath: log) ?? create(log) else { return }
            defer { try? handle.close() }
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: Data("\(context.runID) \(node)\n".utf8))
        }
        graph.addNode("a") { _, context in
            record("a", context)
            return ["visited": .array([.string("a")])]
        }
        graph.addNode("b") { state, context in
            let delay = min(max(state["delay_ms"]?.int64 ?? 1000, 0), 60_000)
            try await Task.sleep(for: .milliseconds(delay))
            record("b", context)
            return ["visited": .array([.string("b")])]
        }
        graph.addNode("c") { _, context in
            record("c", context)
            return ["visited": .array([.string("c")])]
        }
        graph.addEdge(StateGraph.start, "a")
        graph.addEdge("a", "b")
        graph.addEdge("b", "c")
        graph.addEdge("c", StateGraph.end)
        return try graph.compile()
    }

    private static func create(_ path: String) -> FileHandle? {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return FileHandle(forWritingAtPath: path)
    }
}
