// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core

/// The state of a graph run: a JSON object. A node returns a partial update (only the keys it
/// changes), and each key's ``Reducer`` folds the update into the state.
public typealias GraphState = [String: JSONValue]

/// How a state key combines its current value with a node's update (LangGraph's channel
/// reducers). Keys without a declared reducer use ``replace``.
///
/// ```swift
/// graph.addChannel("visited", reducer: .append, default: .array([]))
/// graph.addChannel("messages", reducer: .mergeByKey("id"))
/// graph.addChannel("total", reducer: .custom("sum") { current, update in
///     .number(Double(current?.int64 ?? 0) + Double(update.int64 ?? 0))
/// })
/// ```
public struct Reducer: Sendable {
    /// A name for diagnostics and the graph description (`replace`, `append`, `merge`, `merge_by_key(id)`, or a custom name).
    public let name: String
    let combine: @Sendable (_ current: JSONValue?, _ update: JSONValue) throws -> JSONValue

    /// A custom reducer; `combine` receives the current value (`nil` when the key is unset) and the update.
    /// Throw ``GraphError`` (or any error) to reject an update: the run fails with the error.
    public init(name: String, _ combine: @escaping @Sendable (_ current: JSONValue?, _ update: JSONValue) throws -> JSONValue) {
        self.name = name
        self.combine = combine
    }

    /// The update replaces the value (the default).
    public static let replace = Reducer(name: "replace") { _, update in update }

    /// Arrays concatenate: an array update is appended element by element, any other value is
    /// appended as one element. An unset or `null` current value counts as `[]`.
    public static let append = Reducer(name: "append") { current, update in
        var items: [JSONValue]
        switch current {
        case nil, .null?: items = []
        case .array(let existing)?: items = existing
        case let other?: items = [other]
        }
        if case .array(let added) = update { items.append(contentsOf: added) } else { items.append(update) }
        return .array(items)
    }

    /// Objects merge shallowly: the update's keys replace the current object's; a `null` value in
    /// the update removes its key. A non-object update is an error.
    public static let merge = Reducer(name: "merge") { current, update in
        guard case .object(let changes) = update else {
            throw GraphError.invalidUpdate("the `merge` reducer takes an object, got \(update.kindName)")
        }
        var object: [String: JSONValue] = [:]
        if case .object(let existing)? = current { object = existing }
        for (key, value) in changes {
            if value == .null { object.removeValue(forKey: key) } else { object[key] = value }
        }
        return .object(object)
    }

    /// Arrays of objects identified by `key` (LangGraph's `add_messages`): an update item whose
    /// `key` matches an existing item replaces it in place, others are appended. The update may be
    /// one object or an array of objects; an item without `key` is appended.
    public static func mergeByKey(_ key: String) -> Reducer {
        Reducer(name: "merge_by_key(\(key))") { current, update in
            var items: [JSONValue]
            switch current {
            case nil, .null?: items = []
            case .array(let existing)?: items = existing
            case let other?: items = [other]
            }
            let added: [JSONValue]
            if case .array(let list) = update { added = list } else { added = [update] }
            for item in added {
                guard case .object(let object) = item else {
                    throw GraphError.invalidUpdate("the `merge_by_key(\(key))` reducer takes objects, got \(item.kindName)")
                }
                if let id = object[key], let index = items.firstIndex(where: { $0[key] == id }) {
                    items[index] = item
                } else {
                    items.append(item)
                }
            }
            return .array(items)
        }
    }

    /// A named custom reducer.
    public static func custom(_ name: String, _ combine: @escaping @Sendable (_ current: JSONValue?, _ update: JSONValue) throws -> JSONValue) -> Reducer {
        Reducer(name: name, combine)
    }
}

extension JSONValue {
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
