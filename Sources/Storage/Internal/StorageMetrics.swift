// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
#if canImport(Glibc)
import Glibc
#endif

/// Statement and transaction durations of one database, as swift-metrics timers:
/// `atlas_storage_query_duration_seconds{backend, operation}` with `operation` one of
/// `read` (a statement returning rows), `write` (a statement returning a change count) and
/// `transaction` (a write transaction from `BEGIN` to `COMMIT` or `ROLLBACK`).
///
/// The handles are made once per database; recording costs two monotonic clock reads and one
/// histogram update, with no allocation and no formatting. SQL text is never a label.
final class StorageMetrics: Sendable {
    let reads: Timer
    let writes: Timer
    let transactions: Timer

    init(backend: String, factory: any MetricsFactory) {
        func timer(_ operation: String) -> Timer {
            Timer(label: "atlas_storage_query_duration_seconds",
                  dimensions: [("backend", backend), ("operation", operation)], factory: factory)
        }
        reads = timer("read")
        writes = timer("write")
        transactions = timer("transaction")
    }

    /// Monotonic nanoseconds (`CLOCK_MONOTONIC`, a vDSO call on Linux).
    @inline(__always)
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
    }
}

/// Use of one connection pool: `atlas_storage_pool_connections_in_use`,
/// `atlas_storage_pool_connections_max`, `atlas_storage_pool_waits_total` (acquisitions that
/// found every connection busy) and `atlas_storage_pool_wait_timeouts_total`, each with
/// `backend` and `pool` labels.
final class PoolMetrics: Sendable {
    let inUse: Meter
    let waits: Counter
    let timeouts: Counter

    init(backend: String, pool: String, capacity: Int, factory: any MetricsFactory) {
        let dimensions = [("backend", backend), ("pool", pool)]
        inUse = Meter(label: "atlas_storage_pool_connections_in_use", dimensions: dimensions, factory: factory)
        inUse.set(0)
        Gauge(label: "atlas_storage_pool_connections_max", dimensions: dimensions, factory: factory).record(capacity)
        waits = Counter(label: "atlas_storage_pool_waits_total", dimensions: dimensions, factory: factory)
        timeouts = Counter(label: "atlas_storage_pool_wait_timeouts_total", dimensions: dimensions, factory: factory)
    }
}
