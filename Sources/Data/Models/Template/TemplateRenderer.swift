// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// What a rendering can ask its surroundings: dbt's context functions (`ref`, `source`,
/// `config`, `var`, `is_incremental`) and globals (`this`, `target`).
protocol TemplateHost: AnyObject {
    /// Calls a context function; `nil` when the host has no function of that name.
    func call(_ function: String, arguments: [TemplateValue], keywords: [(String, TemplateValue)], line: Int) throws -> TemplateValue?
    /// A global variable; `nil` when undefined.
    func global(_ name: String) -> TemplateValue?
}

/// Renders a parsed ``Template`` to SQL text.
final class TemplateRenderer {
    private let template: Template
    private let host: any TemplateHost
    private var scopes: [[String: TemplateValue]] = [[:]]
    private var iterations = 0
    /// A bound on loop iterations, so a template cannot spin forever.
    static let iterationLimit = 1_000_000

    init(template: Template, host: any TemplateHost) {
        self.template = template
        self.host = host
    }

    func render() throws -> String {
        var output = ""
        try render(template.nodes, into: &output)
        return output
    }

    private func error(_ line: Int, _ message: String) -> TemplateError {
        TemplateError(file: template.file, line: line, message)
    }

    private func render(_ nodes: [TemplateNode], into output: inout String) throws {
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .output(let expression, let line):
                output += try evaluate(expression, line: line).description
            case .set(let names, let expression, let line):
                let value = try evaluate(expression, line: line)
                if names.count == 1 {
                    scopes[scopes.count - 1][names[0]] = value
                } else {
                    let items = try iterate(value, line: line)
                    guard items.count == names.count else {
                        throw error(line, "cannot unpack \(items.count) values into \(names.count) names")
                    }
                    for (name, item) in zip(names, items) { scopes[scopes.count - 1][name] = item }
                }
            case .setBlock(let name, let body, _):
                var captured = ""
                try render(body, into: &captured)
                scopes[scopes.count - 1][name] = .string(captured)
            case .forLoop(let names, let iterable, let body, let otherwise, let line):
                let items = try iterate(try evaluate(iterable, line: line), line: line)
                if items.isEmpty {
                    try render(otherwise, into: &output)
                    continue
                }
                for (offset, item) in items.enumerated() {
                    iterations += 1
                    guard iterations <= Self.iterationLimit else { throw error(line, "more than \(Self.iterationLimit) loop iterations") }
                    var scope: [String: TemplateValue] = [:]
                    if names.count == 1 {
                        scope[names[0]] = item
                    } else {
                        let parts = try iterate(item, line: line)
                        guard parts.count == names.count else {
                            throw error(line, "cannot unpack \(parts.count) values into \(names.count) loop names")
                        }
                        for (name, part) in zip(names, parts) { scope[name] = part }
                    }
                    let count = items.count
                    scope["loop"] = .dict(
                        ["index", "index0", "revindex", "revindex0", "first", "last", "length"],
                        ["index": .int(offset + 1), "index0": .int(offset), "revindex": .int(count - offset),
                         "revindex0": .int(count - offset - 1), "first": .bool(offset == 0), "last": .bool(offset == count - 1),
                         "length": .int(count)])
                    scopes.append(scope)
                    defer { scopes.removeLast() }
                    try render(body, into: &output)
                }
            case .conditional(let branches, let otherwise, let line):
                var taken = false
                for (condition, body) in branches where try evaluate(condition, line: line).isTruthy {
                    try render(body, into: &output)
                    taken = true
                    break
                }
                if !taken { try render(otherwise, into: &output) }
            }
        }
    }

    private func iterate(_ value: TemplateValue, line: Int) throws -> [TemplateValue] {
        switch value {
        case .list(let items): return items
        case .dict(let keys, _): return keys.map { .string($0) }
        case .string(let text): return text.map { .string(String($0)) }
        default: throw error(line, "cannot iterate over a \(value.typeName)")
        }
    }

    private func lookup(_ name: String) -> TemplateValue? {
        for scope in scopes.reversed() {
            if let value = scope[name] { return value }
        }
        return host.global(name)
    }

    // MARK: Expressions

    private func evaluate(_ expression: TemplateExpression, line: Int) throws -> TemplateValue {
        switch expression {
        case .literal(let value):
            return value
        case .name(let name):
            guard let value = lookup(name) else { throw error(line, "'\(name)' is undefined") }
            return value
        case .list(let items):
            return .list(try items.map { try evaluate($0, line: line) })
        case .dict(let pairs):
            var keys: [String] = []
            var values: [String: TemplateValue] = [:]
            for (keyExpression, valueExpression) in pairs {
                let key = try evaluate(keyExpression, line: line).description
                if values[key] == nil { keys.append(key) }
                values[key] = try evaluate(valueExpression, line: line)
            }
            return .dict(keys, values)
        case .attribute(let base, let name):
            let value = try evaluate(base, line: line)
            if case .dict(_, let values) = value, let found = values[name] { return found }
            throw error(line, "\(value.typeName) has no attribute '\(name)'")
        case .index(let base, let keyExpression):
            let value = try evaluate(base, line: line)
            let key = try evaluate(keyExpression, line: line)
            switch (value, key) {
            case (.list(let items), .int(let position)):
                let resolved = position < 0 ? items.count + position : position
                guard items.indices.contains(resolved) else { throw error(line, "list index \(position) out of range") }
                return items[resolved]
            case (.dict(_, let values), _):
                guard let found = values[key.description] else { throw error(line, "dict has no key '\(key.description)'") }
                return found
            case (.string(let text), .int(let position)):
                let characters = Array(text)
                let resolved = position < 0 ? characters.count + position : position
                guard characters.indices.contains(resolved) else { throw error(line, "string index \(position) out of range") }
                return .string(String(characters[resolved]))
            default:
                throw error(line, "cannot index a \(value.typeName) with a \(key.typeName)")
            }
        case .call(let callee, let argumentExpressions, let keywordExpressions):
            let arguments = try argumentExpressions.map { try evaluate($0, line: line) }
            let keywords = try keywordExpressions.map { ($0.0, try evaluate($0.1, line: line)) }
            if case .attribute(let base, let method) = callee {
                return try callMethod(method, on: try evaluate(base, line: line), arguments: arguments, line: line)
            }
            guard case .name(let function) = callee else { throw error(line, "only named functions can be called") }
            if lookup(function) == nil, let result = try host.call(function, arguments: arguments, keywords: keywords, line: line) {
                return result
            }
            if function == "range" { return try range(arguments, line: line) }
            throw error(line, "unsupported function '\(function)' (supported: ref, source, config, var, is_incremental, env_var, range)")
        case .filter(let base, let name, let argumentExpressions):
            let value = try evaluate(base, line: line)
            let arguments = try argumentExpressions.map { try evaluate($0, line: line) }
            return try applyFilter(name, to: value, arguments: arguments, line: line)
        case .unary(let op, let operandExpression):
            let operand = try evaluate(operandExpression, line: line)
            switch (op, operand) {
            case ("not", _): return .bool(!operand.isTruthy)
            case ("-", .int(let value)): return .int(-value)
            case ("-", .double(let value)): return .double(-value)
            default: throw error(line, "cannot apply '\(op)' to a \(operand.typeName)")
            }
        case .binary("and", let left, let right):
            let value = try evaluate(left, line: line)
            return value.isTruthy ? try evaluate(right, line: line) : value
        case .binary("or", let left, let right):
            let value = try evaluate(left, line: line)
            return value.isTruthy ? value : try evaluate(right, line: line)
        case .binary(let op, let left, let right):
            return try binary(op, try evaluate(left, line: line), try evaluate(right, line: line), line: line)
        case .test(let operandExpression, let name, let negated):
            let result: Bool
            if name == "defined" || name == "undefined" {
                var defined = true
                if case .name(let variable) = operandExpression { defined = lookup(variable) != nil }
                result = name == "defined" ? defined : !defined
            } else {
                let operand = try evaluate(operandExpression, line: line)
                switch name {
                case "none": result = operand == .none
                case "string": if case .string = operand { result = true } else { result = false }
                case "number":
                    switch operand { case .int, .double: result = true; default: result = false }
                case "iterable", "sequence":
                    switch operand { case .list, .dict, .string: result = true; default: result = false }
                case "mapping": if case .dict = operand { result = true } else { result = false }
                case "true": result = operand == .bool(true)
                case "false": result = operand == .bool(false)
                case "even", "odd":
                    guard case .int(let value) = operand else { throw error(line, "'\(name)' needs an integer") }
                    result = (value % 2 == 0) == (name == "even")
                default: throw error(line, "unsupported test 'is \(name)'")
                }
            }
            return .bool(result != negated)
        case .ternary(let value, let condition, let otherwise):
            if try evaluate(condition, line: line).isTruthy { return try evaluate(value, line: line) }
            return try otherwise.map { try evaluate($0, line: line) } ?? .string("")
        }
    }

    private func range(_ arguments: [TemplateValue], line: Int) throws -> TemplateValue {
        let bounds = try arguments.map { argument -> Int in
            guard case .int(let value) = argument else { throw error(line, "range() takes integers") }
            return value
        }
        let (start, end, step): (Int, Int, Int)
        switch bounds.count {
        case 1: (start, end, step) = (0, bounds[0], 1)
        case 2: (start, end, step) = (bounds[0], bounds[1], 1)
        case 3: (start, end, step) = (bounds[0], bounds[1], bounds[2])
        default: throw error(line, "range() takes one to three integers")
        }
        guard step != 0 else { throw error(line, "range() step must not be zero") }
        let values = Array(stride(from: start, to: end, by: step))
        guard values.count <= Self.iterationLimit else { throw error(line, "range() is too long") }
        return .list(values.map { .int($0) })
    }

    private func number(_ value: TemplateValue) -> Double? {
        switch value {
        case .int(let number): Double(number)
        case .double(let number): number
        case .bool(let flag): flag ? 1 : 0
        default: nil
        }
    }

    private func binary(_ op: String, _ left: TemplateValue, _ right: TemplateValue, line: Int) throws -> TemplateValue {
        switch op {
        case "==": return .bool(TemplateValue.looselyEqual(left, right))
        case "!=": return .bool(!TemplateValue.looselyEqual(left, right))
        case "<", ">", "<=", ">=":
            let order: Int
            if case .string(let a) = left, case .string(let b) = right {
                order = a < b ? -1 : (a == b ? 0 : 1)
            } else if let a = number(left), let b = number(right) {
                order = a < b ? -1 : (a == b ? 0 : 1)
            } else {
                throw error(line, "cannot compare a \(left.typeName) with a \(right.typeName)")
            }
            switch op {
            case "<": return .bool(order < 0)
            case ">": return .bool(order > 0)
            case "<=": return .bool(order <= 0)
            default: return .bool(order >= 0)
            }
        case "in":
            switch right {
            case .list(let items): return .bool(items.contains { TemplateValue.looselyEqual($0, left) })
            case .dict(_, let values): return .bool(values[left.description] != nil)
            case .string(let text):
                guard case .string(let needle) = left else { throw error(line, "'in <string>' needs a string on the left") }
                return .bool(text.contains(needle))
            default: throw error(line, "'in' needs a list, dict or string on the right, not a \(right.typeName)")
            }
        case "~":
            return .string(left.description + right.description)
        case "+":
            switch (left, right) {
            case (.int(let a), .int(let b)): return .int(a &+ b)
            case (.string(let a), .string(let b)): return .string(a + b)
            case (.list(let a), .list(let b)): return .list(a + b)
            default:
                guard let a = number(left), let b = number(right) else {
                    throw error(line, "cannot add a \(left.typeName) and a \(right.typeName)")
                }
                return .double(a + b)
            }
        case "-", "*", "/", "//", "%":
            if case .int(let a) = left, case .int(let b) = right, op != "/" {
                switch op {
                case "-": return .int(a &- b)
                case "*": return .int(a &* b)
                default:
                    guard b != 0 else { throw error(line, "division by zero") }
                    // Python floors integer division and takes the divisor's sign for %.
                    let quotient = Int((Double(a) / Double(b)).rounded(.down))
                    return op == "//" ? .int(quotient) : .int(a - quotient * b)
                }
            }
            if op == "*", case .string(let text) = left, case .int(let count) = right {
                return .string(String(repeating: text, count: max(0, min(count, 100_000))))
            }
            guard let a = number(left), let b = number(right) else {
                throw error(line, "cannot apply '\(op)' to a \(left.typeName) and a \(right.typeName)")
            }
            switch op {
            case "-": return .double(a - b)
            case "*": return .double(a * b)
            case "/":
                guard b != 0 else { throw error(line, "division by zero") }
                return .double(a / b)
            case "//":
                guard b != 0 else { throw error(line, "division by zero") }
                return .double((a / b).rounded(.down))
            default:
                guard b != 0 else { throw error(line, "division by zero") }
                return .double(a - (a / b).rounded(.down) * b)
            }
        default:
            throw error(line, "unsupported operator '\(op)'")
        }
    }

    private func callMethod(_ method: String, on value: TemplateValue, arguments: [TemplateValue], line: Int) throws -> TemplateValue {
        switch (value, method) {
        case (.string(let text), "upper"): return .string(text.uppercased())
        case (.string(let text), "lower"): return .string(text.lowercased())
        case (.string(let text), "strip"): return .string(text.trimmingCharacters(in: .whitespacesAndNewlines))
        case (.string(let text), "startswith"):
            guard case .string(let prefix)? = arguments.first else { throw error(line, "startswith() takes a string") }
            return .bool(text.hasPrefix(prefix))
        case (.string(let text), "endswith"):
            guard case .string(let suffix)? = arguments.first else { throw error(line, "endswith() takes a string") }
            return .bool(text.hasSuffix(suffix))
        case (.string(let text), "replace"):
            guard arguments.count == 2, case .string(let old) = arguments[0], case .string(let new) = arguments[1] else {
                throw error(line, "replace() takes two strings")
            }
            return .string(text.replacing(old, with: new))
        case (.string(let text), "split"):
            if case .string(let separator)? = arguments.first {
                return .list(text.components(separatedBy: separator).map { .string($0) })
            }
            return .list(text.split(whereSeparator: \.isWhitespace).map { .string(String($0)) })
        case (.dict(let keys, let values), "items"):
            return .list(keys.map { .list([.string($0), values[$0]!]) })
        case (.dict(let keys, _), "keys"):
            return .list(keys.map { .string($0) })
        case (.dict(let keys, let values), "values"):
            return .list(keys.map { values[$0]! })
        case (.dict(_, let values), "get"):
            guard let key = arguments.first else { throw error(line, "get() takes a key") }
            return values[key.description] ?? (arguments.count > 1 ? arguments[1] : .none)
        default:
            throw error(line, "unsupported method '\(method)' on a \(value.typeName)")
        }
    }

    private func applyFilter(_ name: String, to value: TemplateValue, arguments: [TemplateValue], line: Int) throws -> TemplateValue {
        switch name {
        case "upper": return .string(value.description.uppercased())
        case "lower": return .string(value.description.lowercased())
        case "trim": return .string(value.description.trimmingCharacters(in: .whitespacesAndNewlines))
        case "string": return .string(value.description)
        case "capitalize":
            let text = value.description.lowercased()
            return .string(text.prefix(1).uppercased() + text.dropFirst())
        case "replace":
            guard arguments.count == 2 else { throw error(line, "replace takes two arguments") }
            return .string(value.description.replacing(arguments[0].description, with: arguments[1].description))
        case "join":
            let separator = arguments.first?.description ?? ""
            return .string(try iterate(value, line: line).map(\.description).joined(separator: separator))
        case "length", "count":
            switch value {
            case .list(let items): return .int(items.count)
            case .dict(let keys, _): return .int(keys.count)
            case .string(let text): return .int(text.count)
            default: throw error(line, "a \(value.typeName) has no length")
            }
        case "default", "d":
            if value == .none { return arguments.first ?? .string("") }
            return value
        case "first", "last":
            let items = try iterate(value, line: line)
            guard let item = name == "first" ? items.first : items.last else { throw error(line, "\(name) of an empty sequence") }
            return item
        case "list": return .list(try iterate(value, line: line))
        case "int":
            switch value {
            case .int: return value
            case .double(let number): return .int(Int(number))
            case .bool(let flag): return .int(flag ? 1 : 0)
            default: return .int(Int(value.description.trimmingCharacters(in: .whitespaces)) ?? 0)
            }
        case "float":
            return .double(number(value) ?? Double(value.description.trimmingCharacters(in: .whitespaces)) ?? 0)
        case "abs":
            switch value {
            case .int(let number): return .int(abs(number))
            case .double(let number): return .double(abs(number))
            default: throw error(line, "abs of a \(value.typeName)")
            }
        case "sort":
            let items = try iterate(value, line: line)
            return .list(items.sorted { a, b in
                if let x = number(a), let y = number(b) { return x < y }
                return a.description < b.description
            })
        default:
            throw error(line, "unsupported filter '\(name)' (supported: upper, lower, trim, join, length, default, replace, first, last, int, float, string, sort)")
        }
    }
}
