// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

/// What ``PIIRedactor`` replaced.
public struct Redaction: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case email, phone, card
    }

    public var kind: Kind
    public var count: Int

    public init(kind: Kind, count: Int) {
        self.kind = kind
        self.count = count
    }
}

/// Replaces personal data with placeholders before a question reaches a model and before an
/// answer leaves: e-mail addresses → `[EMAIL]`, payment card numbers → `[CARD]`, phone numbers →
/// `[PHONE]`.
///
/// - E-mail: `local@domain.tld` with the usual address characters (RFC 5322's dot-atom, without
///   quoted local parts).
/// - Card: 13 to 19 digits, optionally grouped by single spaces or hyphens, that pass the Luhn
///   check (ISO/IEC 7812-1). A digit run of that length that fails Luhn is an order or invoice
///   number, and is left alone.
/// - Phone: 10 to 15 digits (E.164 allows 15) written as a phone number: a leading `+`, or
///   grouping by spaces, hyphens, dots or parentheses; or exactly 10 bare digits.
///
/// A hand-written scanner rather than regular expressions: it runs on every question and answer
/// in the hot path, in one pass.
public struct PIIRedactor: Sendable {
    public static let emailPlaceholder = "[EMAIL]"
    public static let phonePlaceholder = "[PHONE]"
    public static let cardPlaceholder = "[CARD]"

    public init() {}

    /// `text` with its personal data replaced, and how much of each kind was found.
    public func redact(_ text: String) -> (text: String, redactions: [Redaction]) {
        let scalars = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var counts: [Redaction.Kind: Int] = [:]
        var index = 0
        while index < scalars.count {
            if let end = emailEnd(scalars, at: index, output: &output) {
                output.append(contentsOf: Self.emailPlaceholder.unicodeScalars)
                counts[.email, default: 0] += 1
                index = end
                continue
            }
            if let (end, kind) = numberEnd(scalars, at: index) {
                output.append(contentsOf: (kind == .card ? Self.cardPlaceholder : Self.phonePlaceholder).unicodeScalars)
                counts[kind, default: 0] += 1
                index = end
                continue
            }
            output.append(scalars[index])
            index += 1
        }
        let redactions = [Redaction.Kind.email, .phone, .card].compactMap { kind in counts[kind].map { Redaction(kind: kind, count: $0) } }
        return (redactions.isEmpty ? text : String(output), redactions)
    }

    /// The Luhn check (ISO/IEC 7812-1 annex B) over decimal digits.
    public static func luhnValid(_ digits: [UInt8]) -> Bool {
        guard digits.count >= 2 else { return false }
        var sum = 0
        for (offset, digit) in digits.reversed().enumerated() {
            var value = Int(digit)
            if offset % 2 == 1 {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
        }
        return sum % 10 == 0
    }

    // MARK: Scanners

    private static func isLocalPart(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.isASCII else { return false }
        let value = scalar.value
        return (0x61...0x7A).contains(value) || (0x41...0x5A).contains(value) || (0x30...0x39).contains(value)
            || "!#$%&'*+/=?^_`{|}~.-".unicodeScalars.contains(scalar)
    }

    private static func isDomain(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.isASCII else { return false }
        let value = scalar.value
        return (0x61...0x7A).contains(value) || (0x41...0x5A).contains(value) || (0x30...0x39).contains(value)
            || scalar == "-" || scalar == "."
    }

    /// When `scalars[index]` is an `@` between a local part (already copied to `output`) and a
    /// domain, removes the local part from `output` and returns the index after the domain.
    private func emailEnd(_ scalars: [Unicode.Scalar], at index: Int, output: inout String.UnicodeScalarView) -> Int? {
        guard scalars[index] == "@" else { return nil }
        var localStart = index
        while localStart > 0, Self.isLocalPart(scalars[localStart - 1]) { localStart -= 1 }
        // A sentence's full stop is not part of the address.
        while localStart < index, scalars[localStart] == "." { localStart += 1 }
        guard localStart < index else { return nil }
        var end = index + 1
        while end < scalars.count, Self.isDomain(scalars[end]) { end += 1 }
        while end > index + 1, scalars[end - 1] == "." || scalars[end - 1] == "-" { end -= 1 }
        let domain = String(String.UnicodeScalarView(scalars[(index + 1)..<end]))
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty }), let tld = labels.last, tld.count >= 2,
              tld.allSatisfy(\.isLetter) else { return nil }
        output.removeLast(index - localStart)
        return end
    }

    /// When a card or phone number starts at `index`, its end and kind.
    private func numberEnd(_ scalars: [Unicode.Scalar], at index: Int) -> (Int, Redaction.Kind)? {
        let first = scalars[index]
        guard first == "+" || first == "(" || Self.isDigit(first) else { return nil }
        // Digits glued to a preceding letter or digit are part of another token (an id, a version).
        if index > 0, TextAnalyzer.isWordScalar(scalars[index - 1]) { return nil }

        // Cards: digits in groups separated by single spaces or hyphens.
        if Self.isDigit(first) {
            var digits: [UInt8] = []
            var end = index
            var lastDigitEnd = index
            while end < scalars.count {
                if Self.isDigit(scalars[end]) {
                    digits.append(UInt8(scalars[end].value - 0x30))
                    end += 1
                    lastDigitEnd = end
                } else if (scalars[end] == " " || scalars[end] == "-"), end + 1 < scalars.count, Self.isDigit(scalars[end + 1]),
                          digits.count < 19 {
                    end += 1
                } else {
                    break
                }
                if digits.count > 19 { break }
            }
            let followedByWord = lastDigitEnd < scalars.count && TextAnalyzer.isWordScalar(scalars[lastDigitEnd])
            if (13...19).contains(digits.count), !followedByWord, Self.luhnValid(digits) {
                return (lastDigitEnd, .card)
            }
        }

        // Phones: +, digits, and the separators people write them with.
        var digitCount = 0
        var separators = 0
        var end = index
        var lastDigitEnd = index
        var openParens = 0
        while end < scalars.count {
            let scalar = scalars[end]
            if Self.isDigit(scalar) {
                digitCount += 1
                lastDigitEnd = end + 1
            } else if scalar == "+" {
                guard end == index else { break }
            } else if scalar == "(" {
                openParens += 1
                separators += 1
            } else if scalar == ")" {
                guard openParens > 0 else { break }
                openParens -= 1
                separators += 1
            } else if scalar == " " || scalar == "-" || scalar == "." {
                guard end + 1 < scalars.count, Self.isDigit(scalars[end + 1]) || scalars[end + 1] == "(" else { break }
                separators += 1
            } else {
                break
            }
            end += 1
            if digitCount > 15 { return nil }
        }
        guard lastDigitEnd > index else { return nil }
        if lastDigitEnd < scalars.count, TextAnalyzer.isWordScalar(scalars[lastDigitEnd]) { return nil }
        let formatted = first == "+" || separators > 0
        if (10...15).contains(digitCount), formatted || digitCount == 10 {
            return (lastDigitEnd, .phone)
        }
        return nil
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x30 && scalar.value <= 0x39
    }
}
