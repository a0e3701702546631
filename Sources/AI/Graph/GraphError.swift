// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core

/// A graph that cannot be built or run, rendered as RFC 9457 problem+json when it reaches HTTP.
public struct GraphError: ProblemError, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var detail: String
    public var headers: [(name: String, value: String)] { [] }

    public init(status: Int, code: String, detail: String) {
        self.status = status
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code): \(detail)" }

    /// The graph definition is inconsistent (unknown node, no entry edge, duplicate name…).
    public static func invalidGraph(_ detail: String) -> GraphError {
        GraphError(status: 500, code: "invalid_graph", detail: detail)
    }

    /// A node returned an update a reducer refused, or a router named a node it may not reach.
    public static func invalidUpdate(_ detail: String) -> GraphError {
        GraphError(status: 422, code: "invalid_update", detail: detail)
    }

    /// The run took more supersteps than the graph's recursion limit without reaching `END`.
    public static func recursionLimit(graph: String, limit: Int) -> GraphError {
        GraphError(status: 422, code: "recursion_limit",
                   detail: "graph '\(graph)' reached its recursion limit of \(limit) supersteps without reaching END; "
                       + "raise CompileOptions.recursionLimit if the cycle is intended")
    }

    /// No run or checkpoint with this id in the tenant.
    public static func notFound(_ what: String) -> GraphError {
        GraphError(status: 404, code: "not_found", detail: what)
    }

    /// The run is not in a state that allows the operation (resume of a run that is not interrupted…).
    public static func conflict(_ detail: String, code: String = "run_conflict") -> GraphError {
        GraphError(status: 409, code: code, detail: detail)
    }

    /// A node failed; `detail` names the node and the error.
    public static func nodeFailed(_ node: String, _ error: any Error) -> GraphError {
        GraphError(status: 500, code: "node_failed", detail: "node '\(node)' failed: \(String(describing: error).prefix(2000))")
    }
}
