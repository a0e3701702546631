// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import HTTPTypes
#if canImport(Glibc)
import Glibc
#endif

/// The outcome of looking up a request's method and path.
enum RouteMatch {
    case found(Route, Parameters)
    case notFound
    case methodNotAllowed(allow: String)
    case options(allow: String)

    var route: Route? {
        if case .found(let route, _) = self { return route }
        return nil
    }
}

/// The routes as an immutable segment trie, matched over the raw path bytes (no String is made
/// for a path unless a parameter is captured).
///
/// Literal segments are compared byte for byte against the still-encoded path, so `/health%2Flive`
/// does not reach `/health/live`. A literal child is tried before the parameter child, with
/// backtracking, so `/tenants/current` and `/tenants/{tenant}/usage` coexist.
final class CompiledRouter: Sendable {
    struct Builder {
        var literals: [(segment: [UInt8], child: Int)] = []
        var parameter: (name: String, child: Int)?
        var routes: [Route?] = Array(repeating: nil, count: MethodIndex.tableCount)
        var otherRoutes: [Route] = []

        var isEndpoint: Bool { !otherRoutes.isEmpty || routes.contains { $0 != nil } }
    }

    /// A trie node; immutable, so matching reads it without copies or access checks.
    final class Node: Sendable {
        let literals: [(segment: [UInt8], child: Int)]
        let parameterChild: Int
        let routes: [Route?]
        let otherRoutes: [Route]
        let isEndpoint: Bool
        let allow: String

        init(_ builder: Builder, allow: String) {
            literals = builder.literals
            parameterChild = builder.parameter?.child ?? -1
            routes = builder.routes
            otherRoutes = builder.otherRoutes
            isEndpoint = builder.isEndpoint
            self.allow = allow
        }

        @inline(__always) func route(for index: MethodIndex, method: HTTPRequest.Method) -> Route? {
            if index != .other { return routes[Int(index.rawValue)] }
            return otherRoutes.first { $0.method == method }
        }

        @inline(__always) var getRoute: Route? { routes[Int(MethodIndex.get.rawValue)] }
    }

    let nodes: ContiguousArray<Node>
    let middleware: ContiguousArray<any Middleware>
    let scope: (any RequestScope)?

    init(routes: [Route], middleware: [any Middleware], scope: (any RequestScope)? = nil) {
        var nodes = [Builder()]
        for route in routes {
            var current = 0
            for segment in RoutePath.segments(route.template) {
                switch segment {
                case .literal(let text):
                    let bytes = Array(text.utf8)
                    if let existing = nodes[current].literals.first(where: { $0.segment == bytes }) {
                        current = existing.child
                    } else {
                        nodes.append(Builder())
                        nodes[current].literals.append((bytes, nodes.count - 1))
                        current = nodes.count - 1
                    }
                case .parameter(let name):
                    if let existing = nodes[current].parameter {
                        precondition(existing.name == name,
                                     "route \(route.template) names parameter {\(name)} where another route has {\(existing.name)}")
                        current = existing.child
                    } else {
                        nodes.append(Builder())
                        nodes[current].parameter = (name, nodes.count - 1)
                        current = nodes.count - 1
                    }
                }
            }
            let index = MethodIndex(route.method)
            if index == .other {
                nodes[current].otherRoutes.append(route)
            } else {
                nodes[current].routes[Int(index.rawValue)] = route
            }
        }
        self.nodes = ContiguousArray(nodes.map { Node($0, allow: $0.isEndpoint ? Self.allowHeader($0) : "") })
        self.middleware = ContiguousArray(middleware)
        self.scope = scope
    }

    /// RFC 9110 §10.2.1: the methods the target resource supports, in a stable order.
    private static func allowHeader(_ node: Builder) -> String {
        var methods: [String] = []
        let order: [(MethodIndex, String)] = [(.get, "GET"), (.head, "HEAD"), (.post, "POST"), (.put, "PUT"),
                                              (.patch, "PATCH"), (.delete, "DELETE")]
        for (index, name) in order {
            if node.routes[Int(index.rawValue)] != nil || (index == .head && node.routes[Int(MethodIndex.get.rawValue)] != nil) {
                methods.append(name)
            }
        }
        methods.append(contentsOf: node.otherRoutes.map(\.method.rawValue))
        methods.append("OPTIONS")
        return methods.joined(separator: ", ")
    }

    func match(_ storage: RequestStorage) -> RouteMatch {
        match(path: storage.pathBytes, methodIndex: storage.methodIndex, method: storage.method)
    }

    func match(path: UnsafeRawBufferPointer, methodIndex: MethodIndex, method: HTTPRequest.Method) -> RouteMatch {
        // `OPTIONS *` asks about the server as a whole (RFC 9110 §9.3.7).
        if path.count == 1, path[0] == 0x2A {
            return .options(allow: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
        }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 64) { captures in
            // Find a node serving this method first, so that a literal segment that only has other
            // methods does not hide a parameter route that has this one.
            var depth = 0
            if let node = find(0, path, 0, captures, &depth, accept: { node in
                node.route(for: methodIndex, method: method) != nil || (methodIndex == .head && node.getRoute != nil)
            }) {
                let entry = nodes[node]
                let route = entry.route(for: methodIndex, method: method) ?? entry.getRoute!
                return .found(route, parameters(route, path, captures, depth))
            }
            depth = 0
            guard let node = find(0, path, 0, captures, &depth, accept: { $0.isEndpoint }) else { return .notFound }
            return methodIndex == .options ? .options(allow: nodes[node].allow) : .methodNotAllowed(allow: nodes[node].allow)
        }
    }

    private func parameters(_ route: Route, _ path: UnsafeRawBufferPointer, _ captures: UnsafeMutableBufferPointer<Int>,
                            _ depth: Int) -> Parameters {
        var parameters = Parameters(kind: "path parameter")
        guard depth > 0 else { return parameters }
        for index in 0..<Swift.min(depth, route.parameterNames.count) {
            let start = captures[2 * index]
            let count = captures[2 * index + 1]
            let value = PercentDecoding.decode(UnsafeRawBufferPointer(rebasing: path[start..<(start + count)]), plusAsSpace: false)
            parameters.append(name: route.parameterNames[index], value: value)
        }
        return parameters
    }

    /// Depth-first search from `node` with the path at `position` (a `/` or the end).
    private func find(_ node: Int, _ path: UnsafeRawBufferPointer, _ position: Int,
                      _ captures: UnsafeMutableBufferPointer<Int>, _ depth: inout Int,
                      accept: (Node) -> Bool) -> Int? {
        // An empty path (absolute-form without a path) or "/" is the root.
        if position >= path.count || (position == 0 && path.count == 1) {
            return accept(nodes[node]) ? node : nil
        }
        guard path[position] == ByteClass.slash else { return nil }
        let start = position + 1
        var end = start
        if start < path.count, let found = memchr(path.baseAddress! + start, Int32(ByteClass.slash), path.count - start) {
            end = path.baseAddress!.distance(to: UnsafeRawPointer(found))
        } else {
            end = path.count
        }
        let length = end - start
        guard length > 0 else { return nil }
        let entry = nodes[node]
        for literal in entry.literals where literal.segment.count == length {
            let equal = literal.segment.withUnsafeBytes { memcmp($0.baseAddress!, path.baseAddress! + start, length) == 0 }
            if equal, let found = find(literal.child, path, end, captures, &depth, accept: accept) { return found }
        }
        if entry.parameterChild >= 0, 2 * depth + 1 < captures.count {
            let saved = depth
            captures[2 * depth] = start
            captures[2 * depth + 1] = length
            depth += 1
            if let found = find(entry.parameterChild, path, end, captures, &depth, accept: accept) { return found }
            depth = saved
        }
        return nil
    }
}
