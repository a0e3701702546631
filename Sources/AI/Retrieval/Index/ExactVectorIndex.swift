// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

/// Brute-force nearest neighbours over vectors kept in one contiguous `[Float]` buffer.
///
/// Exact by construction, so it is both the index of small tenants and the reference that the
/// approximate index is measured against. A search is one linear pass of SIMD dot products (see
/// ``VectorMath/dot(_:_:count:)``) feeding a bounded heap; removal swaps the last vector into the
/// freed slot, so the buffer never has holes.
struct ExactVectorIndex {
    let dimensions: Int
    private(set) var vectors: [Float] = []
    private(set) var labels: [Int64] = []
    private var slots: [Int64: Int] = [:]

    init(dimensions: Int) {
        precondition(dimensions > 0)
        self.dimensions = dimensions
    }

    var count: Int { labels.count }

    func contains(_ label: Int64) -> Bool { slots[label] != nil }

    /// Adds `vector` under `label`, replacing any vector already stored under it. The vector
    /// must have ``dimensions`` components and be normalised.
    mutating func upsert(_ label: Int64, _ vector: [Float]) {
        precondition(vector.count == dimensions, "vector has \(vector.count) dimensions, index has \(dimensions)")
        if let slot = slots[label] {
            let base = slot * dimensions
            vectors.withUnsafeMutableBufferPointer { buffer in
                for index in 0..<dimensions { buffer[base + index] = vector[index] }
            }
            return
        }
        slots[label] = labels.count
        labels.append(label)
        vectors.append(contentsOf: vector)
    }

    /// Removes the vector stored under `label`; returns whether there was one.
    @discardableResult
    mutating func remove(_ label: Int64) -> Bool {
        guard let slot = slots.removeValue(forKey: label) else { return false }
        let last = labels.count - 1
        if slot != last {
            let movedLabel = labels[last]
            labels[slot] = movedLabel
            slots[movedLabel] = slot
            let from = last * dimensions
            let to = slot * dimensions
            vectors.withUnsafeMutableBufferPointer { buffer in
                for index in 0..<dimensions { buffer[to + index] = buffer[from + index] }
            }
        }
        labels.removeLast()
        vectors.removeLast(dimensions)
        return true
    }

    /// The vector stored under `label`.
    func vector(for label: Int64) -> [Float]? {
        guard let slot = slots[label] else { return nil }
        return Array(vectors[(slot * dimensions)..<((slot + 1) * dimensions)])
    }

    /// The `k` stored vectors most similar to `query` (cosine, i.e. dot product of unit vectors),
    /// best first.
    func search(_ query: [Float], k: Int) -> [ScoredLabel] {
        precondition(query.count == dimensions, "query has \(query.count) dimensions, index has \(dimensions)")
        guard k > 0, !labels.isEmpty else { return [] }
        var top = TopK(min(k, labels.count))
        let dimensions = self.dimensions
        query.withUnsafeBufferPointer { queryBuffer in
            vectors.withUnsafeBufferPointer { buffer in
                guard let q = queryBuffer.baseAddress, let base = buffer.baseAddress else { return }
                for slot in 0..<labels.count {
                    let score = VectorMath.dot(q, base + slot &* dimensions, count: dimensions)
                    top.offer(score, labels[slot])
                }
            }
        }
        return top.sorted()
    }

    /// Every `(label, vector)` pair, in storage order (for building another index from this one).
    func forEach(_ body: (Int64, UnsafeBufferPointer<Float>) -> Void) {
        vectors.withUnsafeBufferPointer { buffer in
            for slot in 0..<labels.count {
                body(labels[slot], UnsafeBufferPointer(rebasing: buffer[(slot * dimensions)..<((slot + 1) * dimensions)]))
            }
        }
    }
}
