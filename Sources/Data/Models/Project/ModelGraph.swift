// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

/// The models (and seeds) as a DAG of their `ref()`s, in a deterministic build order.
public struct ModelGraph: Sendable {
    /// Every node (model or seed) in dependency order; ties broken by name.
    public let order: [String]
    /// A node's direct parents (what it refs).
    public let parents: [String: [String]]
    /// A node's direct children.
    public let children: [String: [String]]

    /// Throws ``DataProjectError`` for a `ref()` to nothing and for a cycle, naming it:
    /// `dependency cycle: a -> b -> c -> a`.
    public init(project: DataProject) throws {
        var parents: [String: [String]] = [:]
        var children: [String: [String]] = [:]
        for seed in project.seeds.keys {
            parents[seed] = []
            children[seed, default: []] += []
        }
        for model in project.models.values.sorted(by: { $0.name < $1.name }) where model.enabled {
            parents[model.name] = []
            children[model.name, default: []] += []
            for ref in model.refs {
                guard project.models[ref]?.enabled == true || project.seeds[ref] != nil else {
                    throw DataProjectError("\(model.path): ref('\(ref)') names no model or seed of the project")
                }
                parents[model.name, default: []].append(ref)
                children[ref, default: []].append(model.name)
            }
        }
        for key in children.keys { children[key]?.sort() }
        self.parents = parents
        self.children = children

        // Kahn's algorithm, always taking the smallest ready name.
        var remaining = parents.mapValues { Set($0).count }
        var ready = remaining.filter { $0.value == 0 }.map(\.key).sorted()
        var order: [String] = []
        while !ready.isEmpty {
            let next = ready.removeFirst()
            order.append(next)
            for child in Set(children[next] ?? []).sorted() {
                remaining[child]! -= 1
                if remaining[child] == 0 {
                    let position = ready.firstIndex { $0 > child } ?? ready.count
                    ready.insert(child, at: position)
                }
            }
        }
        if order.count < parents.count {
            throw DataProjectError("dependency cycle: " + Self.findCycle(parents: parents, among: Set(parents.keys).subtracting(order)))
        }
        self.order = order
    }

    /// One cycle among `nodes`, written `a -> b -> a` (each node refs the next one's model).
    static func findCycle(parents: [String: [String]], among nodes: Set<String>) -> String {
        var visiting: [String] = []
        var visited = Set<String>()
        func visit(_ node: String) -> [String]? {
            if let position = visiting.firstIndex(of: node) { return Array(visiting[position...]) + [node] }
            guard !visited.contains(node) else { return nil }
            visiting.append(node)
            for parent in (parents[node] ?? []).sorted() where nodes.contains(parent) {
                if let cycle = visit(parent) { return cycle }
            }
            visiting.removeLast()
            visited.insert(node)
            return nil
        }
        for node in nodes.sorted() {
            if let cycle = visit(node) { return cycle.joined(separator: " -> ") }
        }
        return nodes.sorted().joined(separator: ", ")
    }

    /// Resolves dbt selectors: `name`, `name+` (and descendants), `+name` (and ancestors),
    /// `+name+`; several separated by spaces or given as several strings are a union.
    /// An empty list selects everything. Returns the selection in build order.
    public func select(_ selectors: [String]) throws -> [String] {
        let parts = selectors.flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init) }
        guard !parts.isEmpty else { return order }
        var selected = Set<String>()
        for part in parts {
            var name = Substring(part)
            let withAncestors = name.hasPrefix("+")
            if withAncestors { name = name.dropFirst() }
            let withDescendants = name.hasSuffix("+")
            if withDescendants { name = name.dropLast() }
            let node = String(name)
            guard parents[node] != nil else {
                throw DataProjectError("--select \(part): no model or seed named '\(node)'")
            }
            selected.insert(node)
            if withAncestors { selected.formUnion(closure(of: node, along: parents)) }
            if withDescendants { selected.formUnion(closure(of: node, along: children)) }
        }
        return order.filter(selected.contains)
    }

    private func closure(of node: String, along edges: [String: [String]]) -> Set<String> {
        var found = Set<String>()
        var stack = edges[node] ?? []
        while let next = stack.popLast() {
            if found.insert(next).inserted { stack += edges[next] ?? [] }
        }
        return found
    }

    /// `node` and everything that depends on it, directly or not.
    func descendants(of node: String) -> Set<String> { closure(of: node, along: children) }
}
