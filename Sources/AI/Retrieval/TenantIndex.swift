// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Dispatch
import Foundation

/// A committed change to a tenant's chunks, as the vector index must apply it.
struct IndexDelta: Sendable {
    /// The tenant generation this change produced.
    var generation: Int64
    var removed: [Int64]
    var added: [(seq: Int64, vector: [Float])]
}

/// When a tenant's vector index moves from exact scan to HNSW, and how the graph is built.
struct IndexPolicy: Sendable {
    var dimensions: Int
    /// Live vectors at which an HNSW graph is built; below half of it the graph is dropped.
    var hnswThreshold: Int
    var parameters: HNSWIndex.Parameters
    /// Share of deleted graph nodes at which the graph is rebuilt.
    var rebuildDeletedFraction: Double = 0.25
}

/// The in-memory vector index of one tenant, kept in step with storage by generation.
///
/// - Contents: an ``ExactVectorIndex`` always (the canonical in-memory copy), plus an
///   ``HNSWIndex`` once the tenant holds ``IndexPolicy/hnswThreshold`` vectors. The graph is built
///   on a background queue from a snapshot while the exact index keeps answering; changes made
///   meanwhile are replayed onto it before it takes over.
/// - Freshness: ``generation`` is the storage generation the contents reflect (`-1` until the
///   first load). Deltas from committed transactions are applied strictly in generation order;
///   one that arrives early waits in `pending`. A load from storage at generation G replaces the
///   contents and discards what G already includes, so a delta is never applied twice or skipped.
/// - Writes in flight: ``beginWrite()``/``endWrite()`` bracket this process's own transactions, so
///   a search that sees storage ahead of the index can tell "my own commit, its hook is about to
///   run" (wait for nothing) from "another instance wrote" (reload).
///
/// All state is behind `lock`; a search holds it for the duration of the scan.
final class TenantIndex: @unchecked Sendable {
    // @unchecked: every stored property below is read and written only while `lock` is held,
    // except the `let`s.
    let tenant: String
    let policy: IndexPolicy
    private let buildQueue: DispatchQueue
    private let lock = NSLock()

    private var exact: ExactVectorIndex
    private var graph: HNSWIndex?
    private var building = false
    private var buildEpoch = 0
    private var changesDuringBuild: [(seq: Int64, vector: [Float]?)] = []
    private var currentGeneration: Int64 = -1
    private var pending: [Int64: IndexDelta] = [:]
    private var writesInFlight = 0
    private var loading = false
    private var builds = 0

    init(tenant: String, policy: IndexPolicy, buildQueue: DispatchQueue) {
        self.tenant = tenant
        self.policy = policy
        self.buildQueue = buildQueue
        self.exact = ExactVectorIndex(dimensions: policy.dimensions)
    }

    /// The storage generation the contents reflect; `-1` before the first load.
    var generation: Int64 { lock.withLock { currentGeneration } }

    /// Live vectors.
    var count: Int { lock.withLock { exact.count } }

    /// Whether searches currently use the HNSW graph.
    var usesGraph: Bool { lock.withLock { graph != nil } }

    /// Graphs built so far (for tests and metrics).
    var graphBuilds: Int { lock.withLock { builds } }

    func beginWrite() { lock.withLock { writesInFlight += 1 } }
    func endWrite() { lock.withLock { writesInFlight -= 1 } }

    /// Whether the index should be reloaded after storage was seen at `storageGeneration`: it is
    /// behind, and no write of this process is about to bring it forward.
    func isStale(comparedTo storageGeneration: Int64) -> Bool {
        lock.withLock { currentGeneration < storageGeneration && writesInFlight == 0 }
    }

    /// Replaces the contents with a snapshot of storage taken at `generation`, unless the index
    /// already reflects that generation or a later one.
    func load(generation: Int64, vectors: [(seq: Int64, vector: [Float])]) {
        var fresh = ExactVectorIndex(dimensions: policy.dimensions)
        for item in vectors where item.vector.count == policy.dimensions {
            fresh.upsert(item.seq, item.vector)
        }
        lock.withLock {
            guard generation > currentGeneration else { return }
            exact = fresh
            graph = nil
            building = false
            buildEpoch += 1
            changesDuringBuild = []
            currentGeneration = generation
            pending = pending.filter { $0.key > generation }
            drainPending()
            maintainGraph()
        }
    }

    /// Marks a load from storage as started, so deltas committed meanwhile are kept for it.
    func beginLoad() { lock.withLock { loading = true } }
    func endLoad() { lock.withLock { loading = false } }

    /// Applies a committed change (in generation order; early ones wait, stale ones are dropped).
    /// While the index was never loaded and no load runs, the change is dropped: the first load
    /// reads it from storage.
    func apply(_ delta: IndexDelta) {
        lock.withLock {
            guard delta.generation > currentGeneration, currentGeneration >= 0 || loading else { return }
            pending[delta.generation] = delta
            guard currentGeneration >= 0 else { return }
            drainPending()
            maintainGraph()
        }
    }

    /// The `k` nearest chunks to `query`, best first, and the generation the answer reflects.
    func search(_ query: [Float], k: Int) -> (results: [ScoredLabel], generation: Int64) {
        lock.withLock {
            guard query.count == policy.dimensions else { return ([], currentGeneration) }
            if let graph, exact.count >= policy.hnswThreshold / 2 {
                return (graph.search(query, k: k), currentGeneration)
            }
            return (exact.search(query, k: k), currentGeneration)
        }
    }

    /// Exact search regardless of the graph (for tests and recall measurements).
    func exactSearch(_ query: [Float], k: Int) -> [ScoredLabel] {
        lock.withLock { exact.search(query, k: k) }
    }

    /// Waits until no graph build queued before this call is still running (for tests).
    func settle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            buildQueue.async { continuation.resume() }
        }
    }

    // MARK: Internals (lock held)

    private func drainPending() {
        while let next = pending.removeValue(forKey: currentGeneration + 1) {
            for seq in next.removed {
                exact.remove(seq)
                graph?.remove(seq)
                if building { changesDuringBuild.append((seq, nil)) }
            }
            for item in next.added where item.vector.count == policy.dimensions {
                exact.upsert(item.seq, item.vector)
                graph?.insert(item.seq, item.vector)
                if building { changesDuringBuild.append((item.seq, item.vector)) }
            }
            currentGeneration = next.generation
        }
    }

    private func maintainGraph() {
        if let graph {
            if exact.count < policy.hnswThreshold / 2 {
                self.graph = nil
            } else if graph.deletedFraction > policy.rebuildDeletedFraction, !building {
                startBuild()
            }
        } else if exact.count >= policy.hnswThreshold, !building {
            startBuild()
        }
    }

    private func startBuild() {
        building = true
        buildEpoch += 1
        changesDuringBuild = []
        let epoch = buildEpoch
        let snapshot = exact
        let policy = self.policy
        buildQueue.async { [weak self] in
            let built = HNSWIndex(dimensions: policy.dimensions, parameters: policy.parameters, capacity: snapshot.count)
            snapshot.forEach { label, vector in built.insert(label, Array(vector)) }
            self?.finishBuild(built, epoch: epoch)
        }
    }

    private func finishBuild(_ built: HNSWIndex, epoch: Int) {
        lock.withLock {
            guard epoch == buildEpoch, building else { return }
            for change in changesDuringBuild {
                if let vector = change.vector {
                    built.insert(change.seq, vector)
                } else {
                    built.remove(change.seq)
                }
            }
            changesDuringBuild = []
            building = false
            builds += 1
            graph = exact.count >= policy.hnswThreshold / 2 ? built : nil
        }
    }
}

/// The vector indexes of every tenant this process has searched, loaded lazily from storage.
final class IndexRegistry: @unchecked Sendable {
    // @unchecked: `indexes` and `loads` are only touched while `lock` is held.
    private let lock = NSLock()
    private var indexes: [String: TenantIndex] = [:]
    private var loads: [String: Task<Void, any Error>] = [:]
    let policy: IndexPolicy
    /// One serial queue for graph builds: at most one build at a time, off Swift's cooperative pool.
    let buildQueue = DispatchQueue(label: "atlas.ai.index-build", qos: .utility)

    init(policy: IndexPolicy) {
        self.policy = policy
    }

    /// The tenant's index object (created empty and unloaded on first use, so deltas committed
    /// while it loads are kept).
    func index(for tenant: String) -> TenantIndex {
        lock.withLock {
            if let index = indexes[tenant] { return index }
            let index = TenantIndex(tenant: tenant, policy: policy, buildQueue: buildQueue)
            indexes[tenant] = index
            return index
        }
    }

    /// The tenant's index if this process has created it.
    func existingIndex(for tenant: String) -> TenantIndex? {
        lock.withLock { indexes[tenant] }
    }

    /// Loads the tenant's index from storage once (concurrent callers share one load), or again
    /// when `force` is set.
    func ensureLoaded(_ tenant: String, force: Bool = false,
                      loader: @escaping @Sendable () async throws -> (generation: Int64, vectors: [(seq: Int64, vector: [Float])])) async throws -> TenantIndex {
        let index = index(for: tenant)
        if !force, index.generation >= 0 { return index }
        let task: Task<Void, any Error> = lock.withLock {
            if let running = loads[tenant] { return running }
            index.beginLoad()
            let task = Task<Void, any Error> {
                defer { index.endLoad() }
                let loaded = try await loader()
                index.load(generation: loaded.generation, vectors: loaded.vectors)
            }
            loads[tenant] = task
            return task
        }
        defer { lock.withLock { if loads[tenant] == task { loads[tenant] = nil } } }
        try await task.value
        return index
    }

    /// Tenants with an index in memory.
    var loadedTenants: Int { lock.withLock { indexes.count } }
}
