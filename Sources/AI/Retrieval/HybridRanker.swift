// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

/// Reciprocal rank fusion (Cormack, Clarke and Büttcher, "Reciprocal Rank Fusion outperforms
/// Condorcet and individual rank learning methods", SIGIR 2009): each list contributes
/// `1 / (k + rank)` for every item it ranks (rank from 1), and items are ordered by the sum.
///
/// It needs no score calibration between the lists, which is why it suits BM25 and cosine
/// scores that live on unrelated scales; `k = 60` is the paper's constant, which damps the
/// advantage of the very first ranks.
enum HybridRanker {
    static let k = 60.0

    /// One fused result: the fused score and the item's rank and score in each list.
    struct Fused: Sendable, Hashable {
        var label: Int64
        var score: Double
        var vectorRank: Int?
        var vectorScore: Double?
        var lexicalRank: Int?
        var lexicalScore: Double?
    }

    /// Fuses two ranked lists (best first) and returns the items by fused score, best first;
    /// ties go to the better vector rank, then the smaller label, so the order is deterministic.
    static func fuse(vector: [(label: Int64, score: Double)], lexical: [(label: Int64, score: Double)]) -> [Fused] {
        var fused: [Int64: Fused] = [:]
        for (index, item) in vector.enumerated() where fused[item.label]?.vectorRank == nil {
            var entry = fused[item.label] ?? Fused(label: item.label, score: 0)
            entry.vectorRank = index + 1
            entry.vectorScore = item.score
            entry.score += 1 / (k + Double(index + 1))
            fused[item.label] = entry
        }
        for (index, item) in lexical.enumerated() where fused[item.label]?.lexicalRank == nil {
            var entry = fused[item.label] ?? Fused(label: item.label, score: 0)
            entry.lexicalRank = index + 1
            entry.lexicalScore = item.score
            entry.score += 1 / (k + Double(index + 1))
            fused[item.label] = entry
        }
        return fused.values.sorted { lhs, rhs in
            if lhs.score != rhs.score { return lhs.score > rhs.score }
            let left = lhs.vectorRank ?? Int.max
            let right = rhs.vectorRank ?? Int.max
            if left != right { return left < right }
            return lhs.label < rhs.label
        }
    }
}

/// Marks where a query's terms occur in a chunk, for the search response.
///
/// A word of the chunk matches when its term (``TextAnalyzer/term(_:)``: stemmed, synonyms
/// merged) is one of the query's terms, so "refunds" is marked for a query about "reimbursement".
/// Snippets are windows of about ``window`` characters around the densest matches, HTML-escaped,
/// with each match wrapped in `<mark>`…`</mark>`.
enum Highlighter {
    static let window = 160
    static let maxSnippets = 3

    /// Up to ``maxSnippets`` snippets, in text order; empty when no word matches.
    static func snippets(text: String, queryTerms: Set<String>) -> [String] {
        guard !queryTerms.isEmpty else { return [] }
        let analyzer = TextAnalyzer.shared
        let matches = analyzer.words(text).filter { word in
            analyzer.term(word.text).map(queryTerms.contains) ?? false
        }
        guard !matches.isEmpty else { return [] }
        let scalars = Array(text.unicodeScalars)

        // Greedy windows: start at the first unused match, take every match that fits.
        var windows: [(start: Int, end: Int, matches: [TextAnalyzer.Word])] = []
        var index = 0
        while index < matches.count, windows.count < maxSnippets {
            let first = matches[index]
            var group = [first]
            var next = index + 1
            while next < matches.count, matches[next].end - first.start <= window {
                group.append(matches[next])
                next += 1
            }
            let span = group.last!.end - first.start
            let padding = max(0, (window - span) / 2)
            var start = max(0, first.start - padding)
            var end = min(scalars.count, group.last!.end + padding)
            // Snap to white space so no word is cut in half.
            while start > 0, start < first.start, !scalars[start - 1].properties.isWhitespace { start += 1 }
            while end < scalars.count, end > group.last!.end, !scalars[end].properties.isWhitespace { end -= 1 }
            windows.append((start, end, group))
            index = next
        }

        return windows.map { window in
            var output = window.start > 0 ? "…" : ""
            var position = window.start
            for match in window.matches {
                output += escape(scalars[position..<match.start])
                output += "<mark>" + escape(scalars[match.start..<match.end]) + "</mark>"
                position = match.end
            }
            output += escape(scalars[position..<window.end])
            if window.end < scalars.count { output += "…" }
            return output
        }
    }

    private static func escape(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var output = ""
        output.reserveCapacity(scalars.count)
        for scalar in scalars {
            switch scalar {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "\n", "\r", "\t": output += " "
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output
    }
}
