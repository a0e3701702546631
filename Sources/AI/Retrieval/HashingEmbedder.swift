// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// The built-in, offline embedder: feature hashing ("the hashing trick", Weinberger et al.,
/// "Feature Hashing for Large Scale Multitask Learning", ICML 2009) of the text's terms.
///
/// Features, each hashed to one of ``dimensions`` buckets with a hash-derived sign (so
/// collisions cancel out on average instead of piling up):
/// - every term (``TextAnalyzer``: stop words dropped, stemmed, synonyms merged), weight 1
///   (question words 0.5);
/// - every pair of consecutive terms, weight 0.6, so word order and phrases count;
/// - the character trigrams of every non-stop word (with `^`/`$` boundary marks), weight
///   0.35/√n for a word of n trigrams, so inflections and typos still overlap.
///
/// A feature seen `tf` times counts `1 + ln(tf)` (sublinear term frequency, so one repeated
/// word cannot dominate), and the vector is L2-normalised. Deterministic across runs and
/// machines, no model file, roughly a microsecond per word: fast enough to embed on every
/// request. It knows words, not meaning: paraphrases score high when they share terms or
/// synonyms, which is what the semantic cache threshold is calibrated for (bench/RESULTS.md).
public struct HashingEmbedder: Embedder {
    public let dimensions: Int
    private let analyzer = TextAnalyzer.shared

    static let termWeight: Float = 1.0
    static let questionWordWeight: Float = 0.5
    static let bigramWeight: Float = 0.6
    static let trigramWeight: Float = 0.35

    /// - Parameter dimensions: components per vector (default 384).
    public init(dimensions: Int = 384) {
        precondition(dimensions >= 16, "a hashing embedder needs at least 16 dimensions")
        self.dimensions = dimensions
    }

    public var identifier: String { "atlas-hashing-v1-\(dimensions)" }

    public func embed(_ texts: [String]) async throws -> Embeddings {
        Embeddings(vectors: texts.map(vector(for:)))
    }

    /// The vector of one text (synchronous; ``embed(_:)`` maps it over a batch).
    public func vector(for text: String) -> [Float] {
        // Every occurrence of every feature as (hash, weight); sorting by hash then groups the
        // occurrences of one feature, which gives its count without a dictionary.
        var occurrences: [(hash: UInt64, weight: Float)] = []
        occurrences.reserveCapacity(text.utf8.count)
        var previousTerm: UInt64?
        var terms: [String: String?] = [:]
        for word in analyzer.words(text) {
            let cached = terms[word.text]
            let term: String?
            if let cached {
                term = cached
            } else {
                term = analyzer.term(word.text)
                terms[word.text] = .some(term)
            }
            guard let term else { continue }
            let termHash = StableHash.hash(term, seed: Self.termSeed)
            occurrences.append((termHash, TextAnalyzer.questionWords.contains(word.text) ? Self.questionWordWeight : Self.termWeight))
            if let previous = previousTerm {
                occurrences.append((StableHash.combine(previous, termHash), Self.bigramWeight))
            }
            previousTerm = termHash
            appendTrigrams(of: word.text, to: &occurrences)
        }
        occurrences.sort { $0.hash < $1.hash }

        var vector = [Float](repeating: 0, count: dimensions)
        let buckets = UInt64(dimensions)
        // Summed in hash order: any order that depends on the run (a dictionary's) would make
        // vectors differ in their last bits, since float addition is not associative.
        var index = 0
        while index < occurrences.count {
            let hash = occurrences[index].hash
            var weight = occurrences[index].weight
            var count: Float = 1
            index += 1
            while index < occurrences.count, occurrences[index].hash == hash {
                weight = max(weight, occurrences[index].weight)
                count += 1
                index += 1
            }
            let sign: Float = hash >> 63 == 0 ? 1 : -1
            vector[Int(hash % buckets)] += sign * weight * (1 + logf(count))
        }
        return VectorMath.normalize(vector)
    }

    private func appendTrigrams(of word: String, to occurrences: inout [(hash: UInt64, weight: Float)]) {
        var bytes: [UInt8] = [0x5E]          // ^
        bytes.append(contentsOf: word.utf8)
        bytes.append(0x24)                   // $
        guard bytes.count >= 3 else { return }
        let grams = bytes.count - 2
        let weight = Self.trigramWeight / Float(grams).squareRoot()
        for start in 0..<grams {
            occurrences.append((StableHash.hash(bytes[start..<(start + 3)], seed: Self.trigramSeed), weight))
        }
    }

    private static let termSeed = StableHash.mix(0x7465_726D)      // "term"
    private static let trigramSeed = StableHash.mix(0x0074_7269)   // "tri"
}
