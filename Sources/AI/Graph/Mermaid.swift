// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Foundation

extension CompiledGraph {
    /// The graph as a Mermaid flowchart (`graph TD`): `START`/`END` as rounded nodes, plain edges
    /// solid, conditional edges dashed, fan-in edges solid into their target; nodes with a static
    /// interrupt are marked `⏸` before or after their name.
    ///
    /// ```
    /// graph TD
    ///     __start__([START]) --> classify[classify]
    ///     classify -.-> refund
    /// ```
    public func mermaid() -> String {
        var lines = ["graph TD"]
        func id(_ node: String) -> String {
            switch node {
            case StateGraph.start: "__start__"
            case StateGraph.end: "__end__"
            default: "n_" + String(node.unicodeScalars.map { scalar in
                scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar)) ? Character(scalar) : "_"
            })
            }
        }
        func label(_ node: String) -> String {
            var text = node.replacingOccurrences(of: "\"", with: "#quot;")
            if options.interruptBefore.contains(node) { text = "⏸ " + text }
            if options.interruptAfter.contains(node) { text += " ⏸" }
            return text
        }
        lines.append("    __start__([START])")
        for node in nodeNames {
            lines.append("    \(id(node))[\"\(label(node))\"]")
        }
        lines.append("    __end__([END])")
        for edge in definition.edges {
            lines.append("    \(id(edge.from)) --> \(id(edge.to))")
        }
        for join in definition.joins {
            for source in join.from { lines.append("    \(id(source)) --> \(id(join.to))") }
        }
        for node in [StateGraph.start] + nodeNames {
            guard let conditional = definition.conditionals[node] else { continue }
            for target in conditional.targets { lines.append("    \(id(node)) -.-> \(id(target))") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
