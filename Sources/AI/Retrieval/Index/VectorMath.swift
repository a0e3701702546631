// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

/// Dense `Float` vector arithmetic for the vector indexes.
///
/// Every vector Atlas indexes is L2-normalised when it enters (``normalize(_:)``), so cosine
/// similarity is the plain dot product and the indexes never divide.
enum VectorMath {
    /// The dot product of `count` floats at `a` and `b`.
    ///
    /// Two independent 8-lane accumulators keep the adds of neighbouring iterations apart, so the
    /// loop is bound by loads rather than by the latency of one accumulator. Separate multiply and
    /// add (no fused multiply-add): without an explicit FMA target feature the fused form may be
    /// lowered to a library call.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        let rawA = UnsafeRawPointer(a)
        let rawB = UnsafeRawPointer(b)
        var first = SIMD8<Float>()
        var second = SIMD8<Float>()
        var index = 0
        let stride = MemoryLayout<Float>.stride
        while index + 16 <= count {
            let offset = index &* stride
            first += rawA.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            second += rawA.loadUnaligned(fromByteOffset: offset &+ 8 &* stride, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: offset &+ 8 &* stride, as: SIMD8<Float>.self)
            index &+= 16
        }
        if index + 8 <= count {
            let offset = index &* stride
            first += rawA.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            index &+= 8
        }
        var sum = (first + second).sum()
        while index < count {
            sum += a[index] * b[index]
            index &+= 1
        }
        return sum
    }

    /// The dot product of two equally long arrays.
    static func dot(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "vectors of different dimensions")
        return a.withUnsafeBufferPointer { left in
            b.withUnsafeBufferPointer { right in
                guard let l = left.baseAddress, let r = right.baseAddress else { return 0 }
                return dot(l, r, count: left.count)
            }
        }
    }

    /// The Euclidean norm.
    static func norm(_ vector: [Float]) -> Float {
        dot(vector, vector).squareRoot()
    }

    /// `vector` scaled to unit length; a zero vector stays zero (it matches nothing).
    static func normalize(_ vector: [Float]) -> [Float] {
        let length = norm(vector)
        guard length > 0, length.isFinite else { return [Float](repeating: 0, count: vector.count) }
        let scale = 1 / length
        return vector.map { $0 * scale }
    }

    /// Whether every component is finite and the vector is not all zeros.
    static func isUsable(_ vector: [Float]) -> Bool {
        var any = false
        for value in vector {
            guard value.isFinite else { return false }
            if value != 0 { any = true }
        }
        return any
    }
}

/// A result of a vector search: the caller's label and the cosine similarity to the query.
struct ScoredLabel: Sendable, Hashable {
    var label: Int64
    var score: Float
}

/// A binary heap of `(key, value)` pairs with the smallest key on top. Used with negated keys it
/// is a max-heap. Specialised to these two types so the hot loops of the indexes need no
/// closures or generic dispatch.
struct MinHeap {
    private(set) var keys: [Float] = []
    private(set) var values: [Int64] = []

    init(capacity: Int = 0) {
        keys.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    var count: Int { keys.count }
    var isEmpty: Bool { keys.isEmpty }
    /// The smallest key; only valid when not empty.
    var topKey: Float { keys[0] }
    var topValue: Int64 { values[0] }

    mutating func push(_ key: Float, _ value: Int64) {
        keys.append(key)
        values.append(value)
        var child = keys.count - 1
        while child > 0 {
            let parent = (child - 1) >> 1
            guard keys[child] < keys[parent] else { break }
            keys.swapAt(child, parent)
            values.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func pop() -> (key: Float, value: Int64) {
        let top = (keys[0], values[0])
        let lastKey = keys.removeLast()
        let lastValue = values.removeLast()
        if !keys.isEmpty {
            keys[0] = lastKey
            values[0] = lastValue
            siftDown(from: 0)
        }
        return top
    }

    /// Replaces the top with a new pair (cheaper than pop + push).
    mutating func replaceTop(_ key: Float, _ value: Int64) {
        keys[0] = key
        values[0] = value
        siftDown(from: 0)
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        let count = keys.count
        while true {
            let left = 2 &* parent &+ 1
            guard left < count else { return }
            let right = left &+ 1
            var smallest = left
            if right < count, keys[right] < keys[left] { smallest = right }
            guard keys[smallest] < keys[parent] else { return }
            keys.swapAt(smallest, parent)
            values.swapAt(smallest, parent)
            parent = smallest
        }
    }
}

/// Keeps the `k` highest-scoring labels seen.
struct TopK {
    let k: Int
    private var heap: MinHeap

    init(_ k: Int) {
        self.k = max(0, k)
        heap = MinHeap(capacity: self.k)
    }

    /// The lowest score currently kept, or `-infinity` while fewer than `k` are kept.
    var threshold: Float { heap.count < k ? -.infinity : heap.topKey }

    @inline(__always)
    mutating func offer(_ score: Float, _ label: Int64) {
        guard k > 0 else { return }
        if heap.count < k {
            heap.push(score, label)
        } else if score > heap.topKey {
            heap.replaceTop(score, label)
        }
    }

    /// The kept labels, best first; ties broken by the smaller label so results are deterministic.
    func sorted() -> [ScoredLabel] {
        zip(heap.keys, heap.values).map { ScoredLabel(label: $1, score: $0) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : $0.label < $1.label }
    }
}
