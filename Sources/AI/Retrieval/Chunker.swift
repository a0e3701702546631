// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

/// Splits a document into chunks that respect its structure.
///
/// 1. The text is cut into paragraphs at blank lines.
/// 2. A paragraph longer than ``maxCharacters`` is cut into sentences (after `.`, `!`, `?` or `…`
///    followed by white space, and at line breaks); a sentence still too long is cut into windows
///    of whole words, and a single word longer than a chunk is cut where it must.
/// 3. These units are packed greedily, in order, into chunks of at most ``maxCharacters``: a
///    chunk always begins and ends on a unit boundary, so a paragraph that fits in a chunk is
///    never split. Whole paragraphs share chunks; the pieces of a split paragraph share a chunk
///    only with each other, so a split paragraph starts and ends its own chunks.
/// 4. When a paragraph is split across chunks, the next chunk repeats its last sentences (up to
///    ``overlapCharacters``) so a statement that spans the cut is whole in one of them. Overlap
///    never crosses a paragraph boundary: a new paragraph starts a chunk clean.
///
/// Lengths and offsets count Unicode scalars (what Python's `len` and slicing count), and
/// ``Chunk/start``..``Chunk/end`` is the chunk's exact range in the original text. The result
/// depends only on the text and the two limits, so chunk ids derived from the ordinal are stable.
struct Chunker: Sendable {
    /// One chunk of a document.
    struct Chunk: Sendable, Hashable {
        /// 0-based position in the document.
        var ordinal: Int
        /// Scalar offset of the first character in the document.
        var start: Int
        /// Scalar offset just past the last character.
        var end: Int
        var text: String
    }

    let maxCharacters: Int
    let overlapCharacters: Int

    init(maxCharacters: Int = 1000, overlapCharacters: Int = 150) {
        precondition(maxCharacters >= 20, "chunks must hold at least 20 characters")
        self.maxCharacters = maxCharacters
        self.overlapCharacters = max(0, min(overlapCharacters, maxCharacters / 2))
    }

    /// A unit of packing: a range of the text and the paragraph it belongs to.
    private struct Unit {
        var start: Int
        var end: Int
        var paragraph: Int
        /// A whole paragraph (rather than a sentence or window of a split one).
        var whole: Bool
    }

    func chunks(of text: String) -> [Chunk] {
        let scalars = Array(text.unicodeScalars)
        var units: [Unit] = []
        for (index, paragraph) in paragraphs(scalars).enumerated() {
            if paragraph.upperBound - paragraph.lowerBound <= maxCharacters {
                units.append(Unit(start: paragraph.lowerBound, end: paragraph.upperBound, paragraph: index, whole: true))
                continue
            }
            for sentence in sentences(scalars, in: paragraph) {
                if sentence.upperBound - sentence.lowerBound <= maxCharacters {
                    units.append(Unit(start: sentence.lowerBound, end: sentence.upperBound, paragraph: index, whole: false))
                } else {
                    for window in windows(scalars, in: sentence) {
                        units.append(Unit(start: window.lowerBound, end: window.upperBound, paragraph: index, whole: false))
                    }
                }
            }
        }

        var chunks: [Chunk] = []
        func emit(_ group: [Unit]) {
            guard let first = group.first, let last = group.last else { return }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[first.start..<last.end])
            chunks.append(Chunk(ordinal: chunks.count, start: first.start, end: last.end, text: String(view)))
        }

        var current: [Unit] = []
        for unit in units {
            guard let first = current.first, let last = current.last else {
                current = [unit]
                continue
            }
            // Whole paragraphs share chunks; the pieces of a split paragraph share only with each other.
            let sameParagraph = last.paragraph == unit.paragraph
            if (sameParagraph || (last.whole && unit.whole)), unit.end - first.start <= maxCharacters {
                current.append(unit)
                continue
            }
            emit(current)
            // Carry the previous chunk's last units of the same paragraph (a strict suffix, within
            // the overlap budget and leaving room for the new unit).
            var carried: [Unit] = []
            if let last = current.last, last.paragraph == unit.paragraph {
                for previous in current.dropFirst().reversed() {
                    guard previous.paragraph == unit.paragraph,
                          last.end - previous.start <= overlapCharacters,
                          unit.end - previous.start <= maxCharacters else { break }
                    carried.insert(previous, at: 0)
                }
            }
            current = carried + [unit]
        }
        emit(current)
        return chunks
    }

    // MARK: Splitting

    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    private static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\n" || scalar == "\r" || scalar == "\u{2028}" || scalar == "\u{2029}"
    }

    /// `range` without leading and trailing white space; `nil` when nothing is left.
    private static func trimmed(_ scalars: [Unicode.Scalar], _ range: Range<Int>) -> Range<Int>? {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, isSpace(scalars[lower]) { lower += 1 }
        while upper > lower, isSpace(scalars[upper - 1]) { upper -= 1 }
        return lower < upper ? lower..<upper : nil
    }

    /// Paragraphs: runs of lines separated by at least one blank (white-space-only) line.
    private func paragraphs(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var paragraphStart = 0
        var lineStart = 0
        var index = 0
        func lineIsBlank(_ range: Range<Int>) -> Bool {
            range.allSatisfy { Self.isSpace(scalars[$0]) }
        }
        while index <= scalars.count {
            let atEnd = index == scalars.count
            if atEnd || Self.isLineBreak(scalars[index]) {
                let line = lineStart..<index
                if lineIsBlank(line) {
                    if let paragraph = Self.trimmed(scalars, paragraphStart..<lineStart) { result.append(paragraph) }
                    paragraphStart = min(index + 1, scalars.count)
                }
                lineStart = min(index + 1, scalars.count)
            }
            index += 1
        }
        if let paragraph = Self.trimmed(scalars, paragraphStart..<scalars.count) { result.append(paragraph) }
        return result
    }

    /// Sentences of one paragraph: cut after terminal punctuation (and closing quotes or
    /// brackets) followed by white space, and at line breaks.
    private func sentences(_ scalars: [Unicode.Scalar], in paragraph: Range<Int>) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = paragraph.lowerBound
        var index = paragraph.lowerBound
        while index < paragraph.upperBound {
            let scalar = scalars[index]
            var cut: Int?
            if Self.isLineBreak(scalar) {
                cut = index
            } else if ".!?…。！？".unicodeScalars.contains(scalar) {
                var end = index + 1
                while end < paragraph.upperBound, "\"')]»”’".unicodeScalars.contains(scalars[end]) { end += 1 }
                if end == paragraph.upperBound || Self.isSpace(scalars[end]) { cut = end }
            }
            if let cut {
                if let sentence = Self.trimmed(scalars, start..<cut) { result.append(sentence) }
                start = cut
                index = max(index + 1, cut)
            } else {
                index += 1
            }
        }
        if let sentence = Self.trimmed(scalars, start..<paragraph.upperBound) { result.append(sentence) }
        return result
    }

    /// Windows of whole words of at most `maxCharacters`, overlapping by up to
    /// `overlapCharacters` of whole words; a word longer than a chunk is cut into pieces.
    private func windows(_ scalars: [Unicode.Scalar], in sentence: Range<Int>) -> [Range<Int>] {
        var words: [Range<Int>] = []
        var index = sentence.lowerBound
        while index < sentence.upperBound {
            while index < sentence.upperBound, Self.isSpace(scalars[index]) { index += 1 }
            let start = index
            while index < sentence.upperBound, !Self.isSpace(scalars[index]) { index += 1 }
            if start < index {
                var piece = start
                while index - piece > maxCharacters {
                    words.append(piece..<(piece + maxCharacters))
                    piece += maxCharacters
                }
                words.append(piece..<index)
            }
        }
        var result: [Range<Int>] = []
        var first = 0
        while first < words.count {
            var last = first
            while last + 1 < words.count, words[last + 1].upperBound - words[first].lowerBound <= maxCharacters { last += 1 }
            result.append(words[first].lowerBound..<words[last].upperBound)
            guard last + 1 < words.count else { break }
            // Step back over whole words that fit in the overlap, always advancing.
            var next = last + 1
            while next - 1 > first, words[last].upperBound - words[next - 1].lowerBound <= overlapCharacters,
                  words[last + 1].upperBound - words[next - 1].lowerBound <= maxCharacters {
                next -= 1
            }
            first = next
        }
        return result
    }
}
