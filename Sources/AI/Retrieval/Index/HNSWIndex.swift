// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Approximate nearest neighbours: a Hierarchical Navigable Small World graph (Malkov and
/// Yashunin, "Efficient and robust approximate nearest neighbor search using Hierarchical
/// Navigable Small World graphs", IEEE TPAMI 42(4), 2020; arXiv:1603.09320).
///
/// Every node lives on layer 0 and, with probability falling geometrically (factor `1/m`), on
/// layers above it. A search descends greedily from the top layer's entry point, then runs a
/// best-first search of width `ef` on layer 0. Links are chosen with the paper's neighbour
/// heuristic (Algorithm 4), which keeps links that point in different directions and so keeps
/// the graph navigable on clustered data.
///
/// Vectors must be L2-normalised: the distance is `1 − dot`. Removal marks a node deleted: it is
/// still walked through (so the graph stays connected) but never returned; the owner rebuilds
/// the graph when too many nodes are deleted (``deletedFraction``).
///
/// Storage is manually managed raw memory: one `Float` block for the vectors and one `Int32`
/// block of fixed-width layer-0 link lists, so the inner loop touches no Swift arrays (no
/// copy-on-write or exclusivity checks per distance).
///
/// Not thread-safe: a search writes the visit marks. The owner serialises access.
final class HNSWIndex {
    /// Construction and search parameters.
    struct Parameters: Sendable, Hashable {
        /// Links per node on the upper layers; layer 0 keeps up to `2 m` (the paper's `M_max0`).
        var m: Int = 16
        /// Width of the search that finds a new node's neighbours.
        var efConstruction: Int = 200
        /// Width of a query's layer-0 search (at least `k`).
        var efSearch: Int = 64
        /// Seed of the level generator, so a build is reproducible.
        var seed: UInt64 = 0x0A71_A5EE_D000_0001

        init(m: Int = 16, efConstruction: Int = 200, efSearch: Int = 64, seed: UInt64 = 0x0A71_A5EE_D000_0001) {
            self.m = max(2, m)
            self.efConstruction = max(self.m, efConstruction)
            self.efSearch = max(1, efSearch)
            self.seed = seed
        }
    }

    let dimensions: Int
    let parameters: Parameters
    /// The layer-0 search width used when a search names none.
    var efSearch: Int

    private let maxLinks0: Int
    private let levelScale: Double
    private var capacity = 0
    private var nodeCount = 0
    private var vectorStore: UnsafeMutablePointer<Float>
    private var links0: UnsafeMutablePointer<Int32>
    private var linkCounts0: UnsafeMutablePointer<Int32>
    private var deletedFlags: UnsafeMutablePointer<UInt8>
    private var visitMarks: UnsafeMutablePointer<UInt32>
    private var visitEpoch: UInt32 = 0
    private var labels: [Int64] = []
    private var levels: [Int32] = []
    /// Links of layers 1...level for the nodes that reach above layer 0 (`upper[node][layer - 1]`).
    private var upper: [Int32: [[Int32]]] = [:]
    private var nodeForLabel: [Int64: Int32] = [:]
    private var entryPoint: Int32 = -1
    private var topLevel: Int32 = -1
    private var random: SplitMix64
    private(set) var deletedCount = 0

    init(dimensions: Int, parameters: Parameters = Parameters(), capacity: Int = 1024) {
        precondition(dimensions > 0)
        self.dimensions = dimensions
        self.parameters = parameters
        self.efSearch = parameters.efSearch
        self.maxLinks0 = parameters.m * 2
        self.levelScale = 1 / log(Double(parameters.m))
        self.random = SplitMix64(seed: parameters.seed)
        let initial = max(16, capacity)
        vectorStore = .allocate(capacity: initial * dimensions)
        links0 = .allocate(capacity: initial * parameters.m * 2)
        linkCounts0 = .allocate(capacity: initial)
        deletedFlags = .allocate(capacity: initial)
        visitMarks = .allocate(capacity: initial)
        visitMarks.initialize(repeating: 0, count: initial)
        self.capacity = initial
    }

    deinit {
        vectorStore.deallocate()
        links0.deallocate()
        linkCounts0.deallocate()
        deletedFlags.deallocate()
        visitMarks.deallocate()
    }

    /// Live (not deleted) vectors.
    var count: Int { nodeCount - deletedCount }

    /// The share of nodes that are deleted; searches slow down as it grows.
    var deletedFraction: Double { nodeCount == 0 ? 0 : Double(deletedCount) / Double(nodeCount) }

    func contains(_ label: Int64) -> Bool { nodeForLabel[label] != nil }

    // MARK: Insert and remove

    /// Adds `vector` under `label`; a label already present is replaced (its old node is deleted).
    func insert(_ label: Int64, _ vector: [Float]) {
        precondition(vector.count == dimensions, "vector has \(vector.count) dimensions, index has \(dimensions)")
        if nodeForLabel[label] != nil { remove(label) }
        reserve(nodeCount + 1)
        let node = Int32(nodeCount)
        let base = vectorStore + Int(node) * dimensions
        vector.withUnsafeBufferPointer { source in
            base.update(from: source.baseAddress!, count: dimensions)
        }
        linkCounts0[Int(node)] = 0
        deletedFlags[Int(node)] = 0
        visitMarks[Int(node)] = 0
        labels.append(label)
        let level = randomLevel()
        levels.append(level)
        if level > 0 { upper[node] = Array(repeating: [], count: Int(level)) }
        nodeForLabel[label] = node
        nodeCount += 1

        guard entryPoint >= 0 else {
            entryPoint = node
            topLevel = level
            return
        }

        let query = UnsafePointer(base)
        var current = entryPoint
        var currentDistance = distance(query, current)
        if topLevel > level {
            for layer in stride(from: topLevel, to: level, by: -1) {
                greedy(query, &current, &currentDistance, layer: layer)
            }
        }
        for layer in stride(from: min(level, topLevel), through: 0, by: -1) {
            let found = searchLayer(query, from: current, distance: currentDistance, ef: parameters.efConstruction,
                                    layer: layer, skipDeleted: false)
            let neighbours = selectNeighbours(found, limit: parameters.m)
            setLinks(node, layer: layer, to: neighbours.map(\.node))
            for neighbour in neighbours {
                connect(neighbour.node, to: node, distance: neighbour.distance, layer: layer)
            }
            if let closest = found.first {
                current = closest.node
                currentDistance = closest.distance
            }
        }
        if level > topLevel {
            topLevel = level
            entryPoint = node
        }
    }

    /// Marks the node of `label` deleted; returns whether there was one.
    @discardableResult
    func remove(_ label: Int64) -> Bool {
        guard let node = nodeForLabel.removeValue(forKey: label) else { return false }
        deletedFlags[Int(node)] = 1
        deletedCount += 1
        return true
    }

    // MARK: Search

    /// The `k` live vectors most similar to `query`, best first, searching layer 0 with width
    /// `max(ef, k)` (``efSearch`` when `ef` is nil).
    func search(_ query: [Float], k: Int, ef: Int? = nil) -> [ScoredLabel] {
        precondition(query.count == dimensions, "query has \(query.count) dimensions, index has \(dimensions)")
        guard k > 0, entryPoint >= 0, count > 0 else { return [] }
        let width = max(ef ?? efSearch, k)
        return query.withUnsafeBufferPointer { buffer -> [ScoredLabel] in
            let pointer = buffer.baseAddress!
            var current = entryPoint
            var currentDistance = distance(pointer, current)
            if topLevel > 0 {
                for layer in stride(from: topLevel, to: 0, by: -1) {
                    greedy(pointer, &current, &currentDistance, layer: layer)
                }
            }
            let found = searchLayer(pointer, from: current, distance: currentDistance, ef: width, layer: 0, skipDeleted: true)
            return found.prefix(k).map { ScoredLabel(label: labels[Int($0.node)], score: 1 - $0.distance) }
        }
    }

    /// Every live `(label, vector)` pair, for rebuilding.
    func forEachLive(_ body: (Int64, UnsafeBufferPointer<Float>) -> Void) {
        for node in 0..<nodeCount where deletedFlags[node] == 0 {
            body(labels[node], UnsafeBufferPointer(start: vectorStore + node * dimensions, count: dimensions))
        }
    }

    // MARK: Internals

    private struct Candidate {
        var distance: Float
        var node: Int32
    }

    @inline(__always)
    private func distance(_ query: UnsafePointer<Float>, _ node: Int32) -> Float {
        1 - VectorMath.dot(query, vectorStore + Int(node) &* dimensions, count: dimensions)
    }

    @inline(__always)
    private func distance(between a: Int32, _ b: Int32) -> Float {
        1 - VectorMath.dot(vectorStore + Int(a) &* dimensions, vectorStore + Int(b) &* dimensions, count: dimensions)
    }

    private func randomLevel() -> Int32 {
        // 53 random bits → (0, 1]; −ln(u)·mL is the paper's exponentially decaying level.
        let uniform = (Double(random.next() >> 11) + 1) / 9_007_199_254_740_992
        return Int32(min(16, Int(-log(uniform) * levelScale)))
    }

    private func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        let newCapacity = max(needed, capacity * 2)
        func grow<T>(_ pointer: inout UnsafeMutablePointer<T>, width: Int, fill: T?) {
            let fresh = UnsafeMutablePointer<T>.allocate(capacity: newCapacity * width)
            fresh.moveInitialize(from: pointer, count: nodeCount * width)
            if let fill { (fresh + nodeCount * width).initialize(repeating: fill, count: (newCapacity - nodeCount) * width) }
            pointer.deallocate()
            pointer = fresh
        }
        grow(&vectorStore, width: dimensions, fill: nil)
        grow(&links0, width: maxLinks0, fill: nil)
        grow(&linkCounts0, width: 1, fill: nil)
        grow(&deletedFlags, width: 1, fill: nil)
        grow(&visitMarks, width: 1, fill: UInt32(0))
        capacity = newCapacity
    }

    private func nextEpoch() -> UInt32 {
        if visitEpoch == UInt32.max {
            visitMarks.update(repeating: 0, count: capacity)
            visitEpoch = 0
        }
        visitEpoch &+= 1
        return visitEpoch
    }

    /// Calls `body` with the links of `node` on `layer`.
    @inline(__always)
    private func withLinks<R>(_ node: Int32, layer: Int32, _ body: (UnsafeBufferPointer<Int32>) -> R) -> R {
        if layer == 0 {
            return body(UnsafeBufferPointer(start: links0 + Int(node) &* maxLinks0, count: Int(linkCounts0[Int(node)])))
        }
        return upper[node]![Int(layer) - 1].withUnsafeBufferPointer(body)
    }

    private func setLinks(_ node: Int32, layer: Int32, to nodes: [Int32]) {
        if layer == 0 {
            let count = min(nodes.count, maxLinks0)
            let base = links0 + Int(node) * maxLinks0
            for index in 0..<count { base[index] = nodes[index] }
            linkCounts0[Int(node)] = Int32(count)
        } else {
            upper[node]![Int(layer) - 1] = nodes
        }
    }

    /// Adds the link `from → to`; when `from` is full, its links are re-chosen with the heuristic.
    private func connect(_ from: Int32, to: Int32, distance: Float, layer: Int32) {
        let limit = layer == 0 ? maxLinks0 : parameters.m
        let existing = withLinks(from, layer: layer) { Array($0) }
        if existing.contains(to) { return }
        if existing.count < limit {
            setLinks(from, layer: layer, to: existing + [to])
            return
        }
        var candidates = existing.map { Candidate(distance: self.distance(between: from, $0), node: $0) }
        candidates.append(Candidate(distance: distance, node: to))
        candidates.sort { $0.distance < $1.distance }
        setLinks(from, layer: layer, to: selectNeighbours(candidates, limit: limit).map(\.node))
    }

    /// The paper's Algorithm 4 without extension or pruned-link keeping (as hnswlib): walk the
    /// candidates closest first, keep one when it is closer to the base than to every kept one.
    private func selectNeighbours(_ sortedCandidates: [Candidate], limit: Int) -> [Candidate] {
        guard sortedCandidates.count > limit else { return sortedCandidates }
        var kept: [Candidate] = []
        kept.reserveCapacity(limit)
        for candidate in sortedCandidates {
            if kept.count >= limit { break }
            var diverse = true
            for other in kept where distance(between: candidate.node, other.node) < candidate.distance {
                diverse = false
                break
            }
            if diverse { kept.append(candidate) }
        }
        return kept
    }

    /// Greedy descent on one upper layer: move to any closer neighbour until none is closer.
    private func greedy(_ query: UnsafePointer<Float>, _ current: inout Int32, _ currentDistance: inout Float, layer: Int32) {
        var changed = true
        while changed {
            changed = false
            let links = upper[current].map { $0[Int(layer) - 1] } ?? []
            for neighbour in links {
                let candidate = distance(query, neighbour)
                if candidate < currentDistance {
                    currentDistance = candidate
                    current = neighbour
                    changed = true
                }
            }
        }
    }

    /// Best-first search of width `ef` on one layer (the paper's Algorithm 2). Returns the nearest
    /// nodes found, closest first. With `skipDeleted`, deleted nodes are walked but not returned.
    private func searchLayer(_ query: UnsafePointer<Float>, from start: Int32, distance startDistance: Float, ef: Int,
                             layer: Int32, skipDeleted: Bool) -> [Candidate] {
        let epoch = nextEpoch()
        visitMarks[Int(start)] = epoch
        var candidates = MinHeap(capacity: ef * 2)
        var results = MinHeap(capacity: ef + 1)      // keys negated: the furthest result on top
        candidates.push(startDistance, Int64(start))
        if !(skipDeleted && deletedFlags[Int(start)] != 0) { results.push(-startDistance, Int64(start)) }
        var bound = results.isEmpty ? Float.infinity : -results.topKey

        while !candidates.isEmpty {
            let nearest = candidates.topKey
            if nearest > bound && results.count >= ef { break }
            let node = Int32(truncatingIfNeeded: candidates.pop().value)
            withLinks(node, layer: layer) { links in
                for neighbour in links {
                    let index = Int(neighbour)
                    if visitMarks[index] == epoch { continue }
                    visitMarks[index] = epoch
                    let candidate = distance(query, neighbour)
                    if results.count < ef || candidate < bound {
                        candidates.push(candidate, Int64(neighbour))
                        if !(skipDeleted && deletedFlags[index] != 0) {
                            results.push(-candidate, Int64(neighbour))
                            if results.count > ef { results.pop() }
                        }
                        if !results.isEmpty { bound = -results.topKey }
                    }
                }
            }
        }
        var ordered: [Candidate] = []
        ordered.reserveCapacity(results.count)
        while !results.isEmpty {
            let (key, value) = results.pop()
            ordered.append(Candidate(distance: -key, node: Int32(truncatingIfNeeded: value)))
        }
        ordered.reverse()
        return ordered
    }
}

/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA
/// 2014): a tiny, seedable generator, so index builds and test data are reproducible. Not for
/// anything secret.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
