// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Core
import Foundation
import Storage
import Testing

/// Where a graph test keeps its checkpoints: in memory, or in `ai_checkpoints` on each backend.
enum CheckpointStore: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case memory
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static var all: [CheckpointStore] {
        [.memory] + Backend.all.map { $0 == .sqlite ? .sqlite : .postgres }
    }

    /// Runs `body` with a checkpointer of this kind (and a fresh database when stored).
    func with<R: Sendable>(_ body: (any Checkpointer) async throws -> R) async throws -> R {
        switch self {
        case .memory: return try await body(InMemoryCheckpointer())
        case .sqlite: return try await withAIDatabase(.sqlite) { database, _ in try await body(StoredCheckpointer(database: database)) }
        case .postgres: return try await withAIDatabase(.postgres) { database, _ in try await body(StoredCheckpointer(database: database)) }
        }
    }
}

/// Counts node executions and records their order, across the concurrent tasks of a superstep.
final class Journal: @unchecked Sendable {
    // @unchecked: `entries` is only touched while `lock` is held.
    private let lock = NSLock()
    private var entries: [String] = []

    func record(_ entry: String) { lock.withLock { entries.append(entry) } }
    var all: [String] { lock.withLock { entries } }
    func count(_ entry: String) -> Int { lock.withLock { entries.filter { $0 == entry }.count } }
}

func str(_ text: String) -> JSONValue { .string(text) }
func list(_ items: String...) -> JSONValue { .array(items.map(JSONValue.string)) }

extension GraphState {
    var visited: [String] {
        guard case .array(let items)? = self["visited"] else { return [] }
        return items.compactMap(\.string)
    }
}

/// `a → b → c → END`, each appending its name to `visited` and to the journal.
func linearGraph(name: String = "linear", journal: Journal, options: CompileOptions = CompileOptions()) throws -> CompiledGraph {
    var graph = StateGraph(name: name)
    graph.addChannel("visited", reducer: .append, default: .array([]))
    for node in ["a", "b", "c"] {
        graph.addNode(node) { _, _ in
            journal.record(node)
            return ["visited": list(node)]
        }
    }
    graph.addEdge(StateGraph.start, "a")
    graph.addEdge("a", "b")
    graph.addEdge("b", "c")
    graph.addEdge("c", StateGraph.end)
    return try graph.compile(options)
}
