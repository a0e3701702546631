// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Core
import Foundation
import Storage
import Testing

/// The graph engine's own cost per superstep (no-op nodes): in-memory checkpoints versus
/// checkpoints stored through `Storage`. Runs only with `ATLAS_BENCH=1` (bench/ai/run.sh);
/// prints one line per configuration for bench/RESULTS.md.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["ATLAS_BENCH"] == "1"), .serialized)
struct GraphOverheadBenchmark {
    static let steps = 100

    /// A chain of `steps` nodes that each return an empty update, and a two-branch variant.
    static func chain(width: Int) throws -> CompiledGraph {
        var graph = StateGraph(name: "noop-\(width)")
        graph.addChannel("visited", reducer: .append, default: .array([]))
        for index in 0..<steps {
            for branch in 0..<width { graph.addNode("n\(index)_\(branch)") { _, _ in [:] } }
        }
        for branch in 0..<width {
            graph.addEdge(StateGraph.start, "n0_\(branch)")
            for index in 1..<steps { graph.addEdge("n\(index - 1)_\(branch)", "n\(index)_\(branch)") }
            graph.addEdge("n\(steps - 1)_\(branch)", StateGraph.end)
        }
        return try graph.compile(CompileOptions(recursionLimit: steps + 1))
    }

    static func measure(_ label: String, graph: CompiledGraph, runs: Int, checkpointer: @escaping () -> any Checkpointer) async throws {
        let tenant = TenantID("bench")!
        var perStep: [Double] = []
        _ = try await graph.invoke(["question": .string("warm-up")], config: RunConfig(tenant: tenant, checkpointer: checkpointer()))
        for _ in 0..<runs {
            let clock = ContinuousClock()
            let started = clock.now
            let result = try await graph.invoke(["question": .string("bench")], config: RunConfig(tenant: tenant, checkpointer: checkpointer()))
            let elapsed = clock.now - started
            #expect(result.status == .completed)
            let micros = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
            perStep.append(micros / Double(steps))
        }
        perStep.sort()
        let p50 = perStep[perStep.count / 2]
        let p90 = perStep[min(perStep.count - 1, perStep.count * 9 / 10)]
        print("graph-overhead \(label): \(steps) supersteps x \(runs) runs; per superstep p50 \(String(format: "%.1f", p50)) µs, p90 \(String(format: "%.1f", p90)) µs")
    }

    @Test func perSuperstepOverhead() async throws {
        for width in [1, 4] {
            let graph = try Self.chain(width: width)
            try await Self.measure("memory width=\(width)", graph: graph, runs: 30) { InMemoryCheckpointer() }
            for backend in Backend.all {
                try await withAIDatabase(backend) { database, _ in
                    try await Self.measure("\(backend.rawValue) width=\(width)", graph: graph, runs: 5) { StoredCheckpointer(database: database) }
                }
            }
        }
    }
}
