// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core

/// A node: reads the state, returns a partial update (only the keys it changes). It may call
/// ``NodeContext/interrupt(_:)`` to ask for review. Nodes of one superstep run concurrently and
/// all see the state as it was when the superstep began.
public typealias GraphNode = @Sendable (_ state: GraphState, _ context: NodeContext) async throws -> GraphState

/// Picks the next node from the state after a superstep (a conditional edge).
public typealias GraphRouter = @Sendable (_ state: GraphState) async throws -> String

/// Picks any number of next nodes (fan-out to parallel branches).
public typealias GraphFanOutRouter = @Sendable (_ state: GraphState) async throws -> [String]

/// Builds a graph over a JSON state, LangGraph's `StateGraph` written the Swift way.
///
/// ```swift
/// var graph = StateGraph(name: "triage", description: "classifies then answers")
/// graph.addChannel("visited", reducer: .append, default: .array([]))
/// graph.addNode("classify") { state, _ in ["kind": .string("refund"), "visited": ["classify"]] }
/// graph.addNode("refund") { state, context in
///     let review = try context.interrupt(["question": state["question"] ?? .null])
///     return ["answer": review.value ?? "approved as is", "visited": ["refund"]]
/// }
/// graph.addNode("other") { _, _ in ["answer": "n/a"] }
/// graph.addEdge(StateGraph.start, "classify")
/// graph.addConditionalEdges(from: "classify", to: ["refund", "other"]) { state in
///     state["kind"] == .string("refund") ? "refund" : "other"
/// }
/// graph.addEdge("refund", StateGraph.end)
/// graph.addEdge("other", StateGraph.end)
/// let compiled = try graph.compile(CompileOptions(interruptBefore: ["other"]))
/// ```
///
/// Execution is in supersteps (Pregel): the nodes triggered by the previous step run
/// concurrently, their updates are folded into the state in the order the nodes were declared,
/// then edges pick the next step's nodes. A node reached by several edges in one step runs once.
/// ``addEdge(from:to:)`` with several sources is a fan-in: the target waits until each source
/// has finished, across supersteps.
public struct StateGraph: Sendable {
    /// The virtual entry node (LangGraph's `START`).
    public static let start = "__start__"
    /// The virtual exit node (LangGraph's `END`).
    public static let end = "__end__"

    struct Conditional: Sendable {
        var targets: [String]
        var route: GraphFanOutRouter
    }

    public let name: String
    public let description: String
    var channels: [String: (reducer: Reducer, initial: JSONValue?)] = [:]
    var nodes: [(name: String, action: GraphNode)] = []
    var edges: [(from: String, to: String)] = []
    var joins: [(from: [String], to: String)] = []
    var conditionals: [String: Conditional] = [:]
    var problems: [String] = []

    /// - Parameters:
    ///   - name: the name the graph is registered and run under (`assistant`, `debug.slow`).
    public init(name: String, description: String = "") {
        self.name = name
        self.description = description
    }

    /// Declares a state key's reducer and, optionally, its value before any update.
    public mutating func addChannel(_ key: String, reducer: Reducer = .replace, default initial: JSONValue? = nil) {
        channels[key] = (reducer, initial)
    }

    /// Adds a node. Names are unique and may not be `START`/`END`.
    public mutating func addNode(_ name: String, _ action: @escaping GraphNode) {
        if name == Self.start || name == Self.end || name.isEmpty {
            problems.append("'\(name)' is not a valid node name")
        } else if nodes.contains(where: { $0.name == name }) {
            problems.append("node '\(name)' is declared twice")
        }
        nodes.append((name, action))
    }

    /// An unconditional edge: after `from` finishes, `to` runs in the next superstep.
    /// `from` may be ``start``; `to` may be ``end``.
    public mutating func addEdge(_ from: String, _ to: String) {
        edges.append((from, to))
    }

    /// A fan-in edge: `to` runs once every node of `sources` has finished since it last ran.
    public mutating func addEdge(from sources: [String], to target: String) {
        if sources.count == 1 { addEdge(sources[0], target); return }
        joins.append((sources, target))
    }

    /// A conditional edge: after `source` finishes, `router` reads the new state and names the
    /// next node, one of `targets` (which may include ``end``). The targets are also what the
    /// Mermaid rendering draws.
    public mutating func addConditionalEdges(from source: String, to targets: [String], router: @escaping GraphRouter) {
        addConditional(source, targets) { state in [try await router(state)] }
    }

    /// A conditional fan-out: `router` names any number of `targets`, all run in the next superstep.
    public mutating func addConditionalEdges(from source: String, to targets: [String], fanOut router: @escaping GraphFanOutRouter) {
        addConditional(source, targets, router)
    }

    private mutating func addConditional(_ source: String, _ targets: [String], _ route: @escaping GraphFanOutRouter) {
        if conditionals[source] != nil { problems.append("node '\(source)' has two conditional edges") }
        conditionals[source] = Conditional(targets: targets, route: route)
    }

    /// Checks the graph and freezes it.
    /// - Throws: ``GraphError/invalidGraph(_:)`` naming the first problem (unknown node in an
    ///   edge, no edge from `START`, a node with no way out…).
    public func compile(_ options: CompileOptions = CompileOptions()) throws -> CompiledGraph {
        if let problem = problems.first { throw GraphError.invalidGraph("graph '\(name)': \(problem)") }
        let known = Set(nodes.map(\.name))
        func check(_ node: String, from: Bool) throws {
            if node == (from ? Self.start : Self.end) || known.contains(node) { return }
            throw GraphError.invalidGraph("graph '\(name)': an edge names unknown node '\(node)'")
        }
        for edge in edges {
            try check(edge.from, from: true)
            try check(edge.to, from: false)
        }
        for join in joins {
            for source in join.from { try check(source, from: true) }
            try check(join.to, from: false)
        }
        for (source, conditional) in conditionals {
            try check(source, from: true)
            for target in conditional.targets { try check(target, from: false) }
        }
        guard edges.contains(where: { $0.from == Self.start }) || conditionals[Self.start] != nil else {
            throw GraphError.invalidGraph("graph '\(name)': no edge from START")
        }
        for node in known {
            let leaves = edges.contains { $0.from == node } || joins.contains { $0.from.contains(node) } || conditionals[node] != nil
            if !leaves { throw GraphError.invalidGraph("graph '\(name)': node '\(node)' has no outgoing edge (add one to END)") }
        }
        for node in options.interruptBefore.union(options.interruptAfter) where !known.contains(node) {
            throw GraphError.invalidGraph("graph '\(name)': interrupt names unknown node '\(node)'")
        }
        guard options.rejectRoute == Self.end || known.contains(options.rejectRoute) else {
            throw GraphError.invalidGraph("graph '\(name)': rejectRoute names unknown node '\(options.rejectRoute)'")
        }
        guard options.recursionLimit > 0 else { throw GraphError.invalidGraph("graph '\(name)': recursionLimit must be positive") }
        return CompiledGraph(definition: self, options: options)
    }
}

/// Options fixed when a graph is compiled.
public struct CompileOptions: Sendable {
    /// Stop for review before any of these nodes runs.
    public var interruptBefore: Set<String>
    /// Stop for review after any of these nodes ran (its update is applied and checkpointed).
    public var interruptAfter: Set<String>
    /// The most supersteps a run may take (LangGraph's default is 25); beyond it the run fails
    /// with ``GraphError/recursionLimit(graph:limit:)``.
    public var recursionLimit: Int
    /// Where a `reject` of a static interrupt sends the run: ``StateGraph/end`` (the run completes
    /// as it stands) or a node.
    public var rejectRoute: String

    public init(interruptBefore: Set<String> = [], interruptAfter: Set<String> = [], recursionLimit: Int = 25,
                rejectRoute: String = StateGraph.end) {
        self.interruptBefore = interruptBefore
        self.interruptAfter = interruptAfter
        self.recursionLimit = recursionLimit
        self.rejectRoute = rejectRoute
    }
}
