// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Yams

/// A value inside a model's Jinja: what literals, `set`, `var()` and `ref()` produce. It renders
/// and compares as Jinja (Python) does, so `{{ [1, 2] }}` prints `[1, 2]` and `{{ none }}` prints `None`.
public enum TemplateValue: Sendable, Hashable, CustomStringConvertible {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([TemplateValue])
    /// Keys in insertion order, as Python's dicts keep them.
    case dict([String], [String: TemplateValue])

    /// Python's truthiness: empty strings, lists and dicts, zero and `None` are false.
    public var isTruthy: Bool {
        switch self {
        case .none: false
        case .bool(let value): value
        case .int(let value): value != 0
        case .double(let value): value != 0
        case .string(let value): !value.isEmpty
        case .list(let values): !values.isEmpty
        case .dict(let keys, _): !keys.isEmpty
        }
    }

    /// How `{{ value }}` prints it.
    public var description: String {
        switch self {
        case .none: "None"
        case .bool(let value): value ? "True" : "False"
        case .int(let value): String(value)
        case .double(let value): Self.pythonFloat(value)
        case .string(let value): value
        case .list(let values): "[" + values.map(\.repr).joined(separator: ", ") + "]"
        case .dict(let keys, let values): "{" + keys.map { "'\($0)': \(values[$0]!.repr)" }.joined(separator: ", ") + "}"
        }
    }

    /// Python's `repr`, used inside printed lists and dicts.
    var repr: String {
        if case .string(let value) = self {
            return "'" + value.replacing("\\", with: "\\\\").replacing("'", with: "\\'") + "'"
        }
        return description
    }

    var typeName: String {
        switch self {
        case .none: "none"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "float"
        case .string: "string"
        case .list: "list"
        case .dict: "dict"
        }
    }

    static func pythonFloat(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e16 { return String(format: "%.1f", value) }
        return String(value)
    }

    /// Builds a value from decoded YAML (`vars:` in dbt_project.yml, test arguments).
    init(yaml: Any?) {
        switch yaml {
        case nil: self = .none
        case let value as Bool: self = .bool(value)
        case let value as Int: self = .int(value)
        case let value as Double: self = .double(value)
        case let value as String: self = .string(value)
        case let values as [Any]: self = .list(values.map { TemplateValue(yaml: $0) })
        case let values as [String: Any]:
            let keys = values.keys.sorted()
            self = .dict(keys, values.mapValues { TemplateValue(yaml: $0) })
        case let values as [AnyHashable: Any]:
            var keys: [String] = []
            var dict: [String: TemplateValue] = [:]
            for (key, value) in values {
                let name = "\(key.base)"
                keys.append(name)
                dict[name] = TemplateValue(yaml: value)
            }
            keys.sort()
            self = .dict(keys, dict)
        default: self = .string("\(yaml!)")
        }
    }

    /// Parses `--vars` text (a YAML or JSON mapping) as dbt does.
    public static func parseVars(_ text: String) throws -> [String: TemplateValue] {
        let parsed: Any?
        do {
            parsed = try Yams.load(yaml: text)
        } catch {
            throw DataProjectError("--vars: not valid YAML or JSON")
        }
        guard let mapping = parsed as? [AnyHashable: Any] else { throw DataProjectError("--vars: must be a mapping, e.g. '{key: value}'") }
        var result: [String: TemplateValue] = [:]
        for (key, value) in mapping { result["\(key.base)"] = TemplateValue(yaml: value) }
        return result
    }

    /// Numbers compare across int and float, as in Python.
    static func looselyEqual(_ left: TemplateValue, _ right: TemplateValue) -> Bool {
        switch (left, right) {
        case (.int(let a), .double(let b)): Double(a) == b
        case (.double(let a), .int(let b)): a == Double(b)
        case (.bool(let a), .int(let b)): (a ? 1 : 0) == b
        case (.int(let a), .bool(let b)): a == (b ? 1 : 0)
        default: left == right
        }
    }
}
