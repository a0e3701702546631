// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Turns text into the normalised terms that the built-in embedder hashes, that lexical queries
/// are built from and that highlights are matched on — one definition of "the same word" for
/// all three.
///
/// A word is a maximal run of Unicode letters and digits; apostrophes inside a word are dropped
/// (`don't` → `dont`), letters are lower-cased and diacritics folded. A term is a word that is not
/// a stop word, reduced by a light suffix stemmer and then mapped to its synonym group's
/// canonical form (``SynonymTable``), so "purchase"/"purchasing"/"buy" all become one term.
struct TextAnalyzer: Sendable {
    /// A word and where it sits in the text, in Unicode scalar offsets (as Python indexes `str`).
    struct Word: Sendable, Hashable {
        var text: String
        var start: Int
        var end: Int
    }

    static let shared = TextAnalyzer()

    /// Question words: kept as terms (they carry intent: "when" and "where" ask different
    /// questions) but weighted lower by the embedder.
    static let questionWords: Set<String> = ["how", "what", "why", "when", "where", "who", "which", "whom", "whose"]

    /// English function words that carry no topic. Negations (`not`, `no`, `never`) are kept.
    static let stopWords: Set<String> = [
        "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at",
        "be", "because", "been", "before", "being", "below", "between", "both", "but", "by",
        "can", "could", "did", "do", "does", "doing", "done", "down", "during", "each", "either", "else", "etc", "ever", "every",
        "few", "for", "from", "further", "get", "gets", "got", "had", "has", "have", "having", "he", "her", "here", "hers",
        "herself", "him", "himself", "his", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "let", "lets",
        "may", "me", "might", "mine", "more", "most", "much", "must", "my", "myself", "of", "off", "often", "on", "once",
        "one", "only", "or", "other", "others", "our", "ours", "ourselves", "out", "over", "own", "per", "please",
        "quite", "rather", "really", "same", "shall", "she", "should", "so", "some", "such", "than", "that", "thats", "the",
        "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "thus",
        "to", "too", "under", "until", "up", "upon", "us", "very", "via", "was", "we", "were", "while", "will",
        "with", "within", "would", "yet", "you", "your", "yours", "yourself", "yourselves", "im", "ive", "id", "youre",
        "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "cant", "wont", "whats", "hows", "theres", "anyone",
        "anything", "someone", "something", "somebody", "way", "ways", "tell", "know", "want", "wants", "wanted", "need",
        "needs", "like", "able", "possible", "there",
    ]

    // MARK: Words

    /// The words of `text` with their scalar offsets.
    func words(_ text: String) -> [Word] {
        var result: [Word] = []
        var scalars = String.UnicodeScalarView()
        var start = -1
        var sawNonASCII = false
        func flush(_ end: Int) {
            guard start >= 0 else { return }
            var word = String(scalars).lowercased()
            if sawNonASCII {
                word = word.folding(options: [.diacriticInsensitive, .widthInsensitive], locale: nil)
            }
            if !word.isEmpty { result.append(Word(text: word, start: start, end: end)) }
            scalars = String.UnicodeScalarView()
            start = -1
            sawNonASCII = false
        }
        var previousWasWordScalar = false
        let all = Array(text.unicodeScalars)
        for (index, scalar) in all.enumerated() {
            if Self.isWordScalar(scalar) {
                if start < 0 { start = index }
                scalars.append(scalar)
                if !scalar.isASCII { sawNonASCII = true }
                previousWasWordScalar = true
            } else if (scalar == "'" || scalar == "\u{2019}"), previousWasWordScalar, index + 1 < all.count,
                      Self.isWordScalar(all[index + 1]) {
                // An apostrophe inside a word joins it: don't, O'Neil.
                continue
            } else {
                flush(index)
                previousWasWordScalar = false
            }
        }
        flush(all.count)
        return result
    }

    @inline(__always)
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let value = scalar.value
            return (value >= 0x61 && value <= 0x7A) || (value >= 0x41 && value <= 0x5A) || (value >= 0x30 && value <= 0x39)
        }
        let properties = scalar.properties
        return properties.isAlphabetic || properties.numericType != nil
    }

    // MARK: Terms

    /// Whether `word` (lower case) is a stop word.
    func isStopWord(_ word: String) -> Bool { Self.stopWords.contains(word) }

    /// The term of one lower-case word, or `nil` for a stop word.
    func term(_ word: String) -> String? {
        guard !isStopWord(word) else { return nil }
        let stemmed = Self.stem(word)
        return SynonymTable.canonical[stemmed] ?? stemmed
    }

    /// The terms of `text`, in order.
    func terms(_ text: String) -> [String] {
        words(text).compactMap { term($0.text) }
    }

    private static let derivational: [(StaticString, String)] = [
        ("ational", "ate"), ("ization", "ize"), ("fulness", "ful"), ("iveness", "ive"), ("ousness", "ous"), ("ement", "e"), ("ment", ""),
    ]

    /// A light suffix stemmer for English (in the spirit of Porter's step 1 and a few of its later
    /// rules, not the full algorithm): plurals, `-ed`, `-ing`, `-ly`, a final `-e` and a few
    /// derivational endings. Words with non-ASCII letters or digits, and short words, are kept.
    static func stem(_ word: String) -> String {
        var bytes = Array(word.utf8)
        guard bytes.count > 3, bytes.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else { return word }

        func ends(_ suffix: StaticString) -> Bool {
            let count = suffix.utf8CodeUnitCount
            guard bytes.count > count else { return false }
            let start = suffix.utf8Start
            let offset = bytes.count - count
            for index in 0..<count where bytes[offset + index] != start[index] { return false }
            return true
        }
        func hasVowel(_ slice: ArraySlice<UInt8>) -> Bool {
            slice.contains { [0x61, 0x65, 0x69, 0x6F, 0x75, 0x79].contains($0) }
        }
        func replace(_ count: Int, with replacement: String) {
            bytes.removeLast(count)
            bytes.append(contentsOf: replacement.utf8)
        }

        // Plurals and third person.
        if ends("sses") {
            bytes.removeLast(2)
        } else if ends("ies"), bytes.count > 4 {
            replace(3, with: "y")
        } else if ends("s"), !ends("ss"), !ends("us"), !ends("is"), bytes.count > 3 {
            bytes.removeLast()
        }

        // Past tense and gerund, when what is left still has a vowel and three letters.
        for suffix: StaticString in ["ing", "ed"] where ends(suffix) {
            let stem = bytes.dropLast(suffix.utf8CodeUnitCount)
            if stem.count >= 3, hasVowel(stem) {
                bytes = Array(stem)
                if let last = bytes.last, bytes.count >= 2, bytes[bytes.count - 2] == last,
                   !"aeioulsz".utf8.contains(last) {
                    bytes.removeLast()          // stopped → stopp → stop
                }
            }
            break
        }

        // Adverbs and a few derivational endings.
        if ends("ly"), bytes.count > 5 {
            bytes.removeLast(2)
        }
        for (suffix, replacement) in derivational where ends(suffix) {
            if bytes.count - suffix.utf8CodeUnitCount >= 4 { replace(suffix.utf8CodeUnitCount, with: replacement) }
            break
        }
        // A final silent e: hope/hoped/hoping all end as "hop".
        if bytes.count >= 4, bytes.last == 0x65 {
            bytes.removeLast()
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
