// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Splits prose into sentences for the extractive provider and the groundedness check: a
/// sentence ends after `.`, `!`, `?` or `…` followed by white space, or at a line break. A
/// trailing citation (`… [2]`) stays with its sentence, and a period between digits or letters
/// without a following space (`v1.2`, `e.g.x`) does not end one.
enum Sentences {
    static func split(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        let scalars = Array(text.unicodeScalars)
        var index = 0
        func flush() {
            let trimmed = current.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { result.append(trimmed) }
            current = ""
        }
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\n" || scalar == "\r" {
                flush()
                index += 1
                continue
            }
            current.unicodeScalars.append(scalar)
            if scalar == "." || scalar == "!" || scalar == "?" || scalar == "…" {
                var next = index + 1
                while next < scalars.count, [".", "!", "?", "\"", "'", ")", "\u{201D}"].contains(scalars[next]) {
                    current.unicodeScalars.append(scalars[next])
                    next += 1
                }
                // Keep citations that follow the punctuation: "… humans. [1] Next" → "… humans. [1]".
                var probe = next
                while probe < scalars.count, scalars[probe] == " " { probe += 1 }
                while probe < scalars.count, scalars[probe] == "[" {
                    var end = probe + 1
                    while end < scalars.count, scalars[end].properties.numericType != nil { end += 1 }
                    guard end < scalars.count, scalars[end] == "]", end > probe + 1 else { break }
                    current += " " + String(String.UnicodeScalarView(scalars[probe...end]))
                    next = end + 1
                    probe = next
                    while probe < scalars.count, scalars[probe] == " " { probe += 1 }
                }
                if next >= scalars.count || scalars[next] == " " || scalars[next] == "\n" || scalars[next] == "\t" || scalars[next] == "\r" {
                    flush()
                }
                index = next
                continue
            }
            index += 1
        }
        flush()
        return result
    }

    /// `text` without its `[n]` citations.
    static func removingCitations(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "[") {
            result += rest[..<open]
            let after = rest[rest.index(after: open)...]
            let digits = after.prefix { $0.isASCII && $0.isNumber }
            if !digits.isEmpty, after.dropFirst(digits.count).first == "]" {
                rest = after.dropFirst(digits.count + 1)
            } else {
                result += "["
                rest = after
            }
        }
        result += rest
        return result
    }

    /// The numbers cited as `[n]` in `text`, in order of first appearance.
    static func citations(in text: String) -> [Int] {
        var seen: [Int] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "[") {
            let after = rest[rest.index(after: open)...]
            let digits = after.prefix { $0.isASCII && $0.isNumber }
            if !digits.isEmpty, digits.count < 4, after.dropFirst(digits.count).first == "]", let number = Int(digits),
               !seen.contains(number) {
                seen.append(number)
            }
            rest = after
        }
        return seen
    }
}
