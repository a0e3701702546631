// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Testing

@Suite struct ChunkerTests {
    /// The chunk's text must be exactly its range of the original text.
    func expectOffsetsMatch(_ chunks: [Chunker.Chunk], in text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let scalars = Array(text.unicodeScalars)
        for chunk in chunks {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[chunk.start..<chunk.end])
            #expect(String(view) == chunk.text, "chunk \(chunk.ordinal) text differs from its range", sourceLocation: sourceLocation)
        }
    }

    static func sentence(_ index: Int) -> String {
        "Sentence number \(index) talks about topic \(index * 7) in some detail."
    }

    @Test func keepsParagraphsWhole_WhenTheyFitInAChunk() {
        let paragraphs = (0..<6).map { p in (0..<2).map { Self.sentence(p * 10 + $0) }.joined(separator: " ") }
        let text = paragraphs.joined(separator: "\n\n")
        let chunker = Chunker(maxCharacters: 300, overlapCharacters: 80)
        let chunks = chunker.chunks(of: text)
        #expect(chunks.count > 1)
        for paragraph in paragraphs {
            let containing = chunks.filter { $0.text.contains(paragraph) }
            #expect(containing.count == 1, "a paragraph that fits must sit whole in exactly one chunk")
        }
        for chunk in chunks {
            #expect(chunk.text.unicodeScalars.count <= 300)
            #expect(paragraphs.contains { chunk.text.hasPrefix($0) }, "a chunk starts where a paragraph starts")
            #expect(paragraphs.contains { chunk.text.hasSuffix($0) }, "a chunk ends where a paragraph ends")
        }
        expectOffsetsMatch(chunks, in: text)
    }

    @Test func splitsLongParagraphsAtSentences_WithOverlap() {
        let sentences = (0..<12).map(Self.sentence)
        let text = sentences.joined(separator: " ")
        let chunker = Chunker(maxCharacters: 200, overlapCharacters: 80)
        let chunks = chunker.chunks(of: text)
        #expect(chunks.count >= 4)
        for chunk in chunks {
            #expect(chunk.text.unicodeScalars.count <= 200)
            #expect(sentences.contains { chunk.text.hasPrefix($0) }, "chunk \(chunk.ordinal) starts mid-sentence: \(chunk.text)")
            #expect(sentences.contains { chunk.text.hasSuffix($0) }, "chunk \(chunk.ordinal) ends mid-sentence: \(chunk.text)")
        }
        for (previous, next) in zip(chunks, chunks.dropFirst()) {
            #expect(next.start < previous.end, "consecutive chunks of one paragraph overlap")
            #expect(previous.end - next.start <= 80, "the overlap stays within its budget")
            let shared = String(previous.text.unicodeScalars.suffix(previous.end - next.start))
            #expect(next.text.hasPrefix(shared))
        }
        for sentence in sentences {
            #expect(chunks.contains { $0.text.contains(sentence) }, "every sentence is in some chunk")
        }
        expectOffsetsMatch(chunks, in: text)
    }

    @Test func startsEachParagraphClean_WhenTheOneBeforeWasSplit() {
        let first = (0..<8).map(Self.sentence).joined(separator: " ")
        let second = (20..<28).map(Self.sentence).joined(separator: " ")
        let text = first + "\n\n" + second
        let chunks = Chunker(maxCharacters: 180, overlapCharacters: 80).chunks(of: text)
        let secondStart = text.unicodeScalars.count - second.unicodeScalars.count
        let opening = chunks.first { $0.end > secondStart && $0.start <= secondStart }
        #expect(opening?.start == secondStart, "no overlap is carried across a paragraph boundary")
        #expect(!chunks.contains { $0.start < secondStart && $0.end > secondStart }, "no chunk straddles the paragraph boundary")
    }

    @Test func cutsOverlongSentencesIntoOverlappingWordWindows() {
        let words = (0..<120).map { "word\($0)" }
        let text = words.joined(separator: " ")
        let chunks = Chunker(maxCharacters: 100, overlapCharacters: 30).chunks(of: text)
        #expect(chunks.count > 5)
        let wordSet = Set(words)
        for chunk in chunks {
            #expect(chunk.text.unicodeScalars.count <= 100)
            for piece in chunk.text.split(separator: " ") {
                #expect(wordSet.contains(String(piece)), "windows cut between words, not inside one: \(piece)")
            }
        }
        for (previous, next) in zip(chunks, chunks.dropFirst()) {
            #expect(next.start < previous.end && next.start > previous.start)
        }
        #expect(Set(chunks.flatMap { $0.text.split(separator: " ").map(String.init) }) == wordSet)
    }

    @Test func cutsAWordLongerThanAChunk() {
        let text = String(repeating: "x", count: 250)
        let chunks = Chunker(maxCharacters: 100, overlapCharacters: 10).chunks(of: text)
        #expect(chunks.map { $0.text.count } == [100, 100, 50])
        expectOffsetsMatch(chunks, in: text)
    }

    @Test func countsUnicodeScalars_WhenTextIsNotASCII() {
        let text = "Café crème coûte 3 €. 🚲 Les vélos sont gratuits le dimanche.\n\nZweiter Absatz über Größe und Übermaß."
        let chunks = Chunker(maxCharacters: 40, overlapCharacters: 15).chunks(of: text)
        #expect(!chunks.isEmpty)
        expectOffsetsMatch(chunks, in: text)
        #expect(chunks.allSatisfy { $0.text.unicodeScalars.count <= 40 })
    }

    @Test func isDeterministic_AndNumbersChunksInOrder() {
        let text = (0..<30).map(Self.sentence).joined(separator: " ") + "\n\nA closing paragraph."
        let chunker = Chunker(maxCharacters: 250, overlapCharacters: 60)
        let first = chunker.chunks(of: text)
        #expect(first == chunker.chunks(of: text))
        #expect(first.map(\.ordinal) == Array(0..<first.count))
        #expect(zip(first, first.dropFirst()).allSatisfy { $0.start < $1.start })
    }

    @Test func returnsNoChunks_ForBlankText() {
        #expect(Chunker().chunks(of: "").isEmpty)
        #expect(Chunker().chunks(of: " \n\n \t\n").isEmpty)
    }
}
