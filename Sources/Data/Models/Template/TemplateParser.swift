// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// The Jinja subset dbt projects use (jinja.palletsprojects.com/en/3.1.x/templates): output
/// `{{ … }}`, statements `{% set %}`, `{% for %}`, `{% if %}` with `elif`/`else`, comments
/// `{# … #}` and the `-` whitespace markers. Everything else is refused with its file and line.
indirect enum TemplateNode: Sendable {
    case text(String)
    case output(TemplateExpression, line: Int)
    case set(names: [String], TemplateExpression, line: Int)
    case setBlock(name: String, body: [TemplateNode], line: Int)
    case forLoop(names: [String], TemplateExpression, body: [TemplateNode], otherwise: [TemplateNode], line: Int)
    case conditional(branches: [(TemplateExpression, [TemplateNode])], otherwise: [TemplateNode], line: Int)
}

indirect enum TemplateExpression: Sendable {
    case literal(TemplateValue)
    case name(String)
    case list([TemplateExpression])
    case dict([(TemplateExpression, TemplateExpression)])
    case attribute(TemplateExpression, String)
    case index(TemplateExpression, TemplateExpression)
    case call(TemplateExpression, [TemplateExpression], [(String, TemplateExpression)])
    case filter(TemplateExpression, String, [TemplateExpression])
    case unary(String, TemplateExpression)
    case binary(String, TemplateExpression, TemplateExpression)
    case test(TemplateExpression, String, negated: Bool)
    case ternary(TemplateExpression, condition: TemplateExpression, otherwise: TemplateExpression?)
}

/// A parsed template: the nodes plus the file name errors are reported against.
/// A parsed model, test or macro-free template.
public struct Template: Sendable {
    let file: String
    let nodes: [TemplateNode]

    init(source: String, file: String) throws {
        self.file = file
        var parser = TemplateParser(file: file, chunks: try TemplateLexer.chunks(source, file: file))
        nodes = try parser.parseAll()
    }

    /// Every `ref('x')` and `source('a', 'b')` with literal arguments, in every branch, the way
    /// dbt finds a model's dependencies before running anything.
    var staticCalls: [(function: String, arguments: [String], line: Int)] {
        var found: [(String, [String], Int)] = []
        func visit(_ expression: TemplateExpression, line: Int) {
            switch expression {
            case .call(let callee, let arguments, let keywords):
                if case .name(let function) = callee, function == "ref" || function == "source" {
                    let literals = arguments.compactMap { argument -> String? in
                        if case .literal(.string(let text)) = argument { return text }
                        return nil
                    }
                    if literals.count == arguments.count { found.append((function, literals, line)) }
                }
                visit(callee, line: line)
                arguments.forEach { visit($0, line: line) }
                keywords.forEach { visit($0.1, line: line) }
            case .list(let items): items.forEach { visit($0, line: line) }
            case .dict(let pairs): pairs.forEach { visit($0.0, line: line); visit($0.1, line: line) }
            case .attribute(let base, _): visit(base, line: line)
            case .index(let base, let key): visit(base, line: line); visit(key, line: line)
            case .filter(let base, _, let arguments): visit(base, line: line); arguments.forEach { visit($0, line: line) }
            case .unary(_, let operand): visit(operand, line: line)
            case .binary(_, let left, let right): visit(left, line: line); visit(right, line: line)
            case .test(let operand, _, _): visit(operand, line: line)
            case .ternary(let value, let condition, let otherwise):
                visit(value, line: line); visit(condition, line: line); otherwise.map { visit($0, line: line) }
            case .literal, .name: break
            }
        }
        func walk(_ nodes: [TemplateNode]) {
            for node in nodes {
                switch node {
                case .text: break
                case .output(let expression, let line): visit(expression, line: line)
                case .set(_, let expression, let line): visit(expression, line: line)
                case .setBlock(_, let body, _): walk(body)
                case .forLoop(_, let expression, let body, let otherwise, let line):
                    visit(expression, line: line); walk(body); walk(otherwise)
                case .conditional(let branches, let otherwise, let line):
                    for (condition, body) in branches { visit(condition, line: line); walk(body) }
                    walk(otherwise)
                }
            }
        }
        walk(nodes)
        return found
    }
}

// MARK: Lexer

enum TemplateChunk {
    case text(String)
    case output(String, line: Int)
    case statement(String, line: Int)
}

enum TemplateLexer {
    /// Splits a template into text, `{{ }}` and `{% %}` chunks (comments dropped) and applies the
    /// whitespace markers: `{%-` strips the whitespace before the tag, `-%}` the whitespace after.
    static func chunks(_ source: String, file: String) throws -> [TemplateChunk] {
        let bytes = Array(source.utf8)
        var chunks: [TemplateChunk] = []
        var text: [UInt8] = []
        var line = 1
        var index = 0
        var stripNext = false

        func flushText(stripTrailing: Bool) {
            var slice = text[...]
            if stripNext { while let first = slice.first, isSpace(first) { slice = slice.dropFirst() } }
            if stripTrailing { while let last = slice.last, isSpace(last) { slice = slice.dropLast() } }
            if !slice.isEmpty { chunks.append(.text(String(decoding: slice, as: UTF8.self))) }
            text.removeAll(keepingCapacity: true)
            stripNext = false
        }

        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "{"), index + 1 < bytes.count,
               [UInt8(ascii: "{"), UInt8(ascii: "%"), UInt8(ascii: "#")].contains(bytes[index + 1]) {
                let kind = bytes[index + 1]
                let closer: UInt8 = kind == UInt8(ascii: "{") ? UInt8(ascii: "}") : kind
                let startLine = line
                var cursor = index + 2
                let stripBefore = cursor < bytes.count && bytes[cursor] == UInt8(ascii: "-")
                if stripBefore { cursor += 1 }
                // Find the closer, skipping quoted strings inside expressions and statements.
                var quote: UInt8?
                var end = -1
                var scan = cursor
                var newlines = 0
                while scan + 1 < bytes.count {
                    let current = bytes[scan]
                    if current == UInt8(ascii: "\n") { newlines += 1 }
                    if kind != UInt8(ascii: "#") {
                        if let open = quote {
                            if current == UInt8(ascii: "\\") { scan += 2; continue }
                            if current == open { quote = nil }
                            scan += 1
                            continue
                        }
                        if current == UInt8(ascii: "'") || current == UInt8(ascii: "\"") { quote = current; scan += 1; continue }
                    }
                    if current == closer && bytes[scan + 1] == UInt8(ascii: "}") { end = scan; break }
                    scan += 1
                }
                guard end >= 0 else {
                    let what = kind == UInt8(ascii: "{") ? "'{{' has no closing '}}'" : kind == UInt8(ascii: "%") ? "'{%' has no closing '%}'" : "'{#' has no closing '#}'"
                    throw TemplateError(file: file, line: startLine, what)
                }
                var innerEnd = end
                let stripAfter = innerEnd > cursor && bytes[innerEnd - 1] == UInt8(ascii: "-")
                if stripAfter { innerEnd -= 1 }
                flushText(stripTrailing: stripBefore)
                let inner = String(decoding: bytes[cursor..<max(cursor, innerEnd)], as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                if kind == UInt8(ascii: "{") {
                    chunks.append(.output(inner, line: startLine))
                } else if kind == UInt8(ascii: "%") {
                    chunks.append(.statement(inner, line: startLine))
                }
                line += newlines
                stripNext = stripAfter
                index = end + 2
                continue
            }
            if byte == UInt8(ascii: "\n") { line += 1 }
            text.append(byte)
            index += 1
        }
        flushText(stripTrailing: false)
        return chunks
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

// MARK: Statement parser

private struct TemplateParser {
    let file: String
    let chunks: [TemplateChunk]
    var position = 0

    init(file: String, chunks: [TemplateChunk]) {
        self.file = file
        self.chunks = chunks
    }

    mutating func parseAll() throws -> [TemplateNode] {
        let (nodes, terminator) = try parseBlock(until: [])
        if let terminator {
            throw TemplateError(file: file, line: terminator.line, "unexpected '{% \(terminator.keyword) %}'")
        }
        return nodes
    }

    /// Parses nodes until a statement whose keyword is in `terminators` (returned, not consumed
    /// further) or the end of the template.
    mutating func parseBlock(until terminators: Set<String>) throws -> ([TemplateNode], (keyword: String, rest: String, line: Int)?) {
        var nodes: [TemplateNode] = []
        while position < chunks.count {
            let chunk = chunks[position]
            position += 1
            switch chunk {
            case .text(let text):
                nodes.append(.text(text))
            case .output(let source, let line):
                guard !source.isEmpty else { throw TemplateError(file: file, line: line, "empty expression '{{ }}'") }
                nodes.append(.output(try expression(source, line: line), line: line))
            case .statement(let source, let line):
                let (keyword, rest) = Self.splitKeyword(source)
                if terminators.contains(keyword) { return (nodes, (keyword, rest, line)) }
                switch keyword {
                case "set":
                    nodes.append(try parseSet(rest, line: line))
                case "for":
                    nodes.append(try parseFor(rest, line: line))
                case "if":
                    nodes.append(try parseIf(rest, line: line))
                case "endfor", "endif", "else", "elif", "endset":
                    throw TemplateError(file: file, line: line, "'{% \(keyword) %}' without a matching opening tag")
                case "":
                    throw TemplateError(file: file, line: line, "empty statement '{% %}'")
                default:
                    throw TemplateError(file: file, line: line,
                                        "unsupported tag '\(keyword)' (supported: set, for, if/elif/else)")
                }
            }
        }
        return (nodes, nil)
    }

    static func splitKeyword(_ source: String) -> (String, String) {
        let trimmed = source.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }) else { return (trimmed, "") }
        return (String(trimmed[..<space]), String(trimmed[space...]).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func expression(_ source: String, line: Int) throws -> TemplateExpression {
        var parser = try ExpressionParser(source: source, file: file, line: line)
        return try parser.parseTop()
    }

    mutating func parseSet(_ rest: String, line: Int) throws -> TemplateNode {
        if let equals = Self.assignmentIndex(rest) {
            let target = rest[..<equals].trimmingCharacters(in: .whitespaces)
            let names = target.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            for name in names where !ExpressionParser.isIdentifier(name) {
                throw TemplateError(file: file, line: line, "'\(name)' is not a name to set")
            }
            let value = String(rest[rest.index(after: equals)...])
            return .set(names: names, try expression(value, line: line), line: line)
        }
        let name = rest.trimmingCharacters(in: .whitespaces)
        guard ExpressionParser.isIdentifier(name) else {
            throw TemplateError(file: file, line: line, "expected '{% set name = value %}' or '{% set name %}…{% endset %}'")
        }
        let (body, terminator) = try parseBlock(until: ["endset"])
        guard terminator != nil else { throw TemplateError(file: file, line: line, "'{% set \(name) %}' has no '{% endset %}'") }
        return .setBlock(name: name, body: body, line: line)
    }

    /// The `=` of an assignment (not `==`), outside quotes.
    static func assignmentIndex(_ text: String) -> String.Index? {
        var quote: Character?
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "=" {
                let next = text.index(after: index)
                let previous = index > text.startIndex ? text[text.index(before: index)] : " "
                if (next == text.endIndex || text[next] != "=") && !"!<>=".contains(previous) { return index }
                if next < text.endIndex && text[next] == "=" { index = text.index(after: next); continue }
            }
            index = text.index(after: index)
        }
        return nil
    }

    mutating func parseFor(_ rest: String, line: Int) throws -> TemplateNode {
        guard let range = rest.range(of: " in ") else {
            throw TemplateError(file: file, line: line, "expected '{% for name in list %}'")
        }
        let names = rest[..<range.lowerBound].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty, names.allSatisfy(ExpressionParser.isIdentifier) else {
            throw TemplateError(file: file, line: line, "expected '{% for name in list %}'")
        }
        let iterable = try expression(String(rest[range.upperBound...]), line: line)
        let (body, terminator) = try parseBlock(until: ["endfor", "else"])
        guard let terminator else { throw TemplateError(file: file, line: line, "'{% for %}' has no '{% endfor %}'") }
        var otherwise: [TemplateNode] = []
        if terminator.keyword == "else" {
            let (elseBody, end) = try parseBlock(until: ["endfor"])
            guard end != nil else { throw TemplateError(file: file, line: line, "'{% for %}' has no '{% endfor %}'") }
            otherwise = elseBody
        }
        return .forLoop(names: names, iterable, body: body, otherwise: otherwise, line: line)
    }

    mutating func parseIf(_ rest: String, line: Int) throws -> TemplateNode {
        var branches: [(TemplateExpression, [TemplateNode])] = []
        var condition = try expression(rest, line: line)
        var conditionLine = line
        while true {
            let (body, terminator) = try parseBlock(until: ["elif", "else", "endif"])
            guard let terminator else { throw TemplateError(file: file, line: conditionLine, "'{% if %}' has no '{% endif %}'") }
            branches.append((condition, body))
            switch terminator.keyword {
            case "elif":
                condition = try expression(terminator.rest, line: terminator.line)
                conditionLine = terminator.line
            case "else":
                let (otherwise, end) = try parseBlock(until: ["endif"])
                guard end != nil else { throw TemplateError(file: file, line: line, "'{% if %}' has no '{% endif %}'") }
                return .conditional(branches: branches, otherwise: otherwise, line: line)
            default:
                return .conditional(branches: branches, otherwise: [], line: line)
            }
        }
    }
}

// MARK: Expression parser

private struct ExpressionParser {
    enum Token: Equatable {
        case name(String)
        case string(String)
        case int(Int)
        case double(Double)
        case symbol(String)
    }

    let file: String
    let line: Int
    var tokens: [Token]
    var position = 0

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, first == "_" || first.isLetter, first.isASCII else { return false }
        return text.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }
    }

    init(source: String, file: String, line: Int) throws {
        self.file = file
        self.line = line
        tokens = []
        let characters = Array(source)
        var index = 0
        let symbols = ["==", "!=", "<=", ">=", "//", "**", "(", ")", "[", "]", "{", "}", ",", ".", "|", "=", "<", ">", "+", "-", "*", "/", "%", "~", ":"]
        while index < characters.count {
            let character = characters[index]
            if character.isWhitespace { index += 1; continue }
            if character == "'" || character == "\"" {
                var value = ""
                var cursor = index + 1
                var closed = false
                while cursor < characters.count {
                    let current = characters[cursor]
                    if current == "\\", cursor + 1 < characters.count {
                        let escaped = characters[cursor + 1]
                        switch escaped {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        default: value.append(escaped)
                        }
                        cursor += 2
                        continue
                    }
                    if current == character { closed = true; break }
                    value.append(current)
                    cursor += 1
                }
                guard closed else { throw TemplateError(file: file, line: line, "unterminated string literal") }
                tokens.append(.string(value))
                index = cursor + 1
                continue
            }
            if character.isNumber {
                var cursor = index
                var text = ""
                var isDouble = false
                while cursor < characters.count, characters[cursor].isNumber || characters[cursor] == "_"
                        || (characters[cursor] == "." && !isDouble && cursor + 1 < characters.count && characters[cursor + 1].isNumber) {
                    if characters[cursor] == "." { isDouble = true }
                    if characters[cursor] != "_" { text.append(characters[cursor]) }
                    cursor += 1
                }
                if isDouble, let value = Double(text) { tokens.append(.double(value)) } else if let value = Int(text) {
                    tokens.append(.int(value))
                } else {
                    throw TemplateError(file: file, line: line, "bad number '\(text)'")
                }
                index = cursor
                continue
            }
            if character == "_" || (character.isLetter && character.isASCII) {
                var cursor = index
                var text = ""
                while cursor < characters.count, (characters[cursor].isLetter || characters[cursor].isNumber || characters[cursor] == "_"),
                      characters[cursor].isASCII {
                    text.append(characters[cursor])
                    cursor += 1
                }
                tokens.append(.name(text))
                index = cursor
                continue
            }
            if let symbol = symbols.first(where: { symbol in
                symbol.count <= characters.count - index && String(characters[index..<index + symbol.count]) == symbol
            }) {
                tokens.append(.symbol(symbol))
                index += symbol.count
                continue
            }
            throw TemplateError(file: file, line: line, "unexpected character '\(character)' in expression")
        }
    }

    func error(_ message: String) -> TemplateError { TemplateError(file: file, line: line, message) }

    var current: Token? { position < tokens.count ? tokens[position] : nil }

    mutating func accept(_ symbol: String) -> Bool {
        if current == .symbol(symbol) { position += 1; return true }
        return false
    }

    mutating func acceptName(_ name: String) -> Bool {
        if current == .name(name) { position += 1; return true }
        return false
    }

    mutating func expect(_ symbol: String) throws {
        guard accept(symbol) else { throw error("expected '\(symbol)'\(describeCurrent)") }
    }

    var describeCurrent: String {
        switch current {
        case nil: " at the end of the expression"
        case .name(let name)?: " before '\(name)'"
        case .string(let text)?: " before '\(text)'"
        case .int(let value)?: " before \(value)"
        case .double(let value)?: " before \(value)"
        case .symbol(let symbol)?: " before '\(symbol)'"
        }
    }

    mutating func parseTop() throws -> TemplateExpression {
        let expression = try parseTernary()
        guard position == tokens.count else { throw error("unexpected token\(describeCurrent)") }
        return expression
    }

    mutating func parseTernary() throws -> TemplateExpression {
        let value = try parseOr()
        if acceptName("if") {
            let condition = try parseOr()
            let otherwise = acceptName("else") ? try parseTernary() : nil
            return .ternary(value, condition: condition, otherwise: otherwise)
        }
        return value
    }

    mutating func parseOr() throws -> TemplateExpression {
        var left = try parseAnd()
        while acceptName("or") { left = .binary("or", left, try parseAnd()) }
        return left
    }

    mutating func parseAnd() throws -> TemplateExpression {
        var left = try parseNot()
        while acceptName("and") { left = .binary("and", left, try parseNot()) }
        return left
    }

    mutating func parseNot() throws -> TemplateExpression {
        if acceptName("not") { return .unary("not", try parseNot()) }
        return try parseComparison()
    }

    mutating func parseComparison() throws -> TemplateExpression {
        var left = try parseConcat()
        while true {
            if let op = ["==", "!=", "<", ">", "<=", ">="].first(where: { current == .symbol($0) }) {
                position += 1
                left = .binary(op, left, try parseConcat())
            } else if acceptName("in") {
                left = .binary("in", left, try parseConcat())
            } else if current == .name("not"), position + 1 < tokens.count, tokens[position + 1] == .name("in") {
                position += 2
                left = .unary("not", .binary("in", left, try parseConcat()))
            } else if acceptName("is") {
                let negated = acceptName("not")
                guard case .name(let test)? = current else { throw error("expected a test name after 'is'") }
                position += 1
                left = .test(left, test, negated: negated)
            } else {
                return left
            }
        }
    }

    mutating func parseConcat() throws -> TemplateExpression {
        var left = try parseAdditive()
        while accept("~") { left = .binary("~", left, try parseAdditive()) }
        return left
    }

    mutating func parseAdditive() throws -> TemplateExpression {
        var left = try parseMultiplicative()
        while true {
            if accept("+") { left = .binary("+", left, try parseMultiplicative()) } else if accept("-") {
                left = .binary("-", left, try parseMultiplicative())
            } else { return left }
        }
    }

    mutating func parseMultiplicative() throws -> TemplateExpression {
        var left = try parseUnary()
        while true {
            if let op = ["*", "/", "//", "%"].first(where: { current == .symbol($0) }) {
                position += 1
                left = .binary(op, left, try parseUnary())
            } else { return left }
        }
    }

    mutating func parseUnary() throws -> TemplateExpression {
        if accept("-") { return .unary("-", try parseUnary()) }
        if accept("+") { return try parseUnary() }
        return try parsePostfix()
    }

    mutating func parsePostfix() throws -> TemplateExpression {
        var expression = try parsePrimary()
        while true {
            if accept(".") {
                guard case .name(let name)? = current else { throw error("expected an attribute name after '.'") }
                position += 1
                expression = .attribute(expression, name)
            } else if accept("[") {
                let key = try parseTernary()
                try expect("]")
                expression = .index(expression, key)
            } else if accept("(") {
                let (arguments, keywords) = try parseArguments()
                expression = .call(expression, arguments, keywords)
            } else if accept("|") {
                guard case .name(let name)? = current else { throw error("expected a filter name after '|'") }
                position += 1
                var arguments: [TemplateExpression] = []
                if accept("(") {
                    let parsed = try parseArguments()
                    guard parsed.1.isEmpty else { throw error("filter '\(name)' takes no keyword arguments") }
                    arguments = parsed.0
                }
                expression = .filter(expression, name, arguments)
            } else {
                return expression
            }
        }
    }

    /// After `(`: positional then keyword arguments, through `)`.
    mutating func parseArguments() throws -> ([TemplateExpression], [(String, TemplateExpression)]) {
        var arguments: [TemplateExpression] = []
        var keywords: [(String, TemplateExpression)] = []
        if accept(")") { return (arguments, keywords) }
        repeat {
            if case .name(let name)? = current, position + 1 < tokens.count, tokens[position + 1] == .symbol("=") {
                position += 2
                keywords.append((name, try parseTernary()))
            } else {
                guard keywords.isEmpty else { throw error("a positional argument follows a keyword argument") }
                arguments.append(try parseTernary())
            }
        } while accept(",") && current != .symbol(")")
        try expect(")")
        return (arguments, keywords)
    }

    mutating func parsePrimary() throws -> TemplateExpression {
        guard let token = current else { throw error("expected a value at the end of the expression") }
        position += 1
        switch token {
        case .string(var text):
            // Adjacent string literals concatenate, as in Python.
            while case .string(let more)? = current { text += more; position += 1 }
            return .literal(.string(text))
        case .int(let value): return .literal(.int(value))
        case .double(let value): return .literal(.double(value))
        case .name(let name):
            switch name {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(name)
            }
        case .symbol("("):
            let inner = try parseTernary()
            if accept(",") {
                var items = [inner]
                while current != .symbol(")") {
                    items.append(try parseTernary())
                    if !accept(",") { break }
                }
                try expect(")")
                return .list(items)
            }
            try expect(")")
            return inner
        case .symbol("["):
            var items: [TemplateExpression] = []
            while !accept("]") {
                items.append(try parseTernary())
                if !accept(",") { try expect("]"); break }
            }
            return .list(items)
        case .symbol("{"):
            var pairs: [(TemplateExpression, TemplateExpression)] = []
            while !accept("}") {
                let key = try parseTernary()
                try expect(":")
                pairs.append((key, try parseTernary()))
                if !accept(",") { try expect("}"); break }
            }
            return .dict(pairs)
        case .symbol(let symbol):
            throw error("unexpected '\(symbol)' in expression")
        }
    }
}
