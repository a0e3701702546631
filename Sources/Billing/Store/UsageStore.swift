// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Storage

/// The SQL of metering: writing events with their rollups, period totals, summaries and listings.
/// Every function runs inside a transaction or read the caller opened.
enum UsageStore {
    static let hourMillis: Int64 = 3_600_000
    /// Rows per multi-row `INSERT`: at most 8 parameters each, well below SQLite's 32,766 and PostgreSQL's
    /// 65,535 parameter limits.
    static let rowsPerStatement = 200

    /// The result of writing one batch.
    struct WriteResult: Sendable {
        var receipts: [UsageReceipt]
        /// Tenants and periods whose totals changed, for budget evaluation.
        var touched: Set<TenantPeriod>
    }

    struct TenantPeriod: Hashable, Sendable, Comparable {
        var tenant: String
        var periodStart: Int64
        static func < (lhs: TenantPeriod, rhs: TenantPeriod) -> Bool {
            (lhs.tenant, lhs.periodStart) < (rhs.tenant, rhs.periodStart)
        }
    }

    /// Writes `events` (all stamped `now`) and updates the rollups, in the caller's transaction.
    /// Keyed events already stored (or repeated inside the batch) are not written again.
    static func write(_ events: [UsageEventInput], now: Int64, on conn: any Connection) throws -> WriteResult {
        var receipts = [UsageReceipt?](repeating: nil, count: events.count)
        var firstIndexByKey: [KeyRef: Int] = [:]
        var repeats: [(index: Int, first: Int)] = []
        var keyedByTenant: [String: [String]] = [:]
        for (index, event) in events.enumerated() {
            guard let key = event.idempotencyKey else { continue }
            let ref = KeyRef(tenant: event.tenant.rawValue, key: key)
            if let first = firstIndexByKey[ref] {
                repeats.append((index, first))
            } else {
                firstIndexByKey[ref] = index
                keyedByTenant[ref.tenant, default: []].append(key)
            }
        }

        // Retries of stored events.
        let existing = try fetchByKeys(keyedByTenant, on: conn)
        for (ref, index) in firstIndexByKey {
            if let stored = existing[ref] {
                receipts[index] = events[index].matches(stored) ? .duplicate(id: stored.id) : .conflict(id: stored.id)
            }
        }

        // New events.
        var pending: [(index: Int, id: String)] = []
        let repeatIndexes = Set(repeats.map(\.index))
        for index in events.indices where receipts[index] == nil && !repeatIndexes.contains(index) {
            pending.append((index, UsageEventID.make(millis: now)))
        }
        var inserted = Set<String>()
        for chunk in stride(from: 0, to: pending.count, by: rowsPerStatement) {
            let slice = pending[chunk..<min(chunk + rowsPerStatement, pending.count)]
            var query: SQLQuery = "INSERT INTO billing_usage_events (id, tenant_id, source, tokens, latency_ms, latency_bucket, idempotency_key, occurred_at) VALUES "
            for (position, item) in slice.enumerated() {
                let event = events[item.index]
                if position > 0 { query.append(", ") }
                let bucket = event.latencyMs.map(LatencyHistogram.bucket(for:))
                query.append("(\(item.id), \(event.tenant.rawValue), \(event.source), \(event.tokens), \(event.latencyMs), \(bucket), \(event.idempotencyKey), \(now))")
            }
            query.append(" ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id")
            for row in try conn.query(query) {
                inserted.insert(try row.decode("id", as: String.self))
            }
        }
        var lost: [String: [String]] = [:]
        for item in pending {
            if inserted.contains(item.id) {
                receipts[item.index] = .accepted(id: item.id)
            } else if let key = events[item.index].idempotencyKey {
                // Another instance stored the same key between our look-up and our insert.
                lost[events[item.index].tenant.rawValue, default: []].append(key)
            } else {
                throw StorageError(StorageError.internalError, "a usage event without an idempotency key was not inserted")
            }
        }
        if !lost.isEmpty {
            let winners = try fetchByKeys(lost, on: conn)
            for item in pending where receipts[item.index] == nil {
                let event = events[item.index]
                guard let key = event.idempotencyKey, let stored = winners[KeyRef(tenant: event.tenant.rawValue, key: key)] else {
                    throw StorageError(StorageError.internalError, "a usage event was neither inserted nor found")
                }
                receipts[item.index] = event.matches(stored) ? .duplicate(id: stored.id) : .conflict(id: stored.id)
            }
        }
        for (index, first) in repeats {
            switch receipts[first]! {
            case .accepted(let id), .duplicate(let id):
                receipts[index] = events[index].matches(stored(events[first], id: id, now: now)) ? .duplicate(id: id) : .conflict(id: id)
            case .conflict(let id):
                receipts[index] = .conflict(id: id)
            }
        }

        let written = pending.filter { inserted.contains($0.id) }.map { events[$0.index] }
        let touched = try updateRollups(for: written, now: now, on: conn)
        return WriteResult(receipts: receipts.map { $0! }, touched: touched)
    }

    private struct KeyRef: Hashable {
        var tenant: String
        var key: String
    }

    private static func stored(_ event: UsageEventInput, id: String, now: Int64) -> StoredUsageEvent {
        StoredUsageEvent(id: id, tenant: event.tenant.rawValue, source: event.source, tokens: event.tokens,
                         latencyMs: event.latencyMs, idempotencyKey: event.idempotencyKey, occurredAt: now)
    }

    private static func fetchByKeys(_ keys: [String: [String]], on conn: any Connection) throws -> [KeyRef: StoredUsageEvent] {
        var found: [KeyRef: StoredUsageEvent] = [:]
        for (tenant, list) in keys.sorted(by: { $0.key < $1.key }) {
            for chunk in stride(from: 0, to: list.count, by: 500) {
                let slice = list[chunk..<min(chunk + 500, list.count)]
                let rows = try conn.query("""
                    SELECT id, tenant_id, source, tokens, latency_ms, idempotency_key, occurred_at
                    FROM billing_usage_events WHERE tenant_id = \(tenant) AND idempotency_key IN (\(list: slice))
                    """)
                for row in rows {
                    let event = try decodeEvent(row)
                    found[KeyRef(tenant: tenant, key: event.idempotencyKey ?? "")] = event
                }
            }
        }
        return found
    }

    static func decodeEvent(_ row: Row) throws -> StoredUsageEvent {
        StoredUsageEvent(
            id: try row.decode("id"), tenant: try row.decode("tenant_id"), source: try row.decode("source"),
            tokens: try row.decode("tokens"), latencyMs: try row.decode("latency_ms", as: Double?.self),
            idempotencyKey: try row.decode("idempotency_key", as: String?.self), occurredAt: try row.decode("occurred_at"))
    }

    // MARK: Rollups

    private struct HourKey: Hashable, Comparable {
        var tenant: String
        var hour: Int64
        static func < (lhs: HourKey, rhs: HourKey) -> Bool { (lhs.tenant, lhs.hour) < (rhs.tenant, rhs.hour) }
    }

    private struct HourTotals {
        var events: Int64 = 0
        var tokens: Int64 = 0
        var latencyCount: Int64 = 0
        var latencySum: Double = 0
    }

    private struct BucketKey: Hashable, Comparable {
        var hour: HourKey
        var bucket: Int
        static func < (lhs: BucketKey, rhs: BucketKey) -> Bool { (lhs.hour, lhs.bucket) < (rhs.hour, rhs.bucket) }
    }

    /// Adds the events to the hourly, latency and period rollups. Rows are upserted in key order so
    /// concurrent writers on PostgreSQL lock them in the same order and cannot deadlock.
    private static func updateRollups(for events: [UsageEventInput], now: Int64, on conn: any Connection) throws -> Set<TenantPeriod> {
        guard !events.isEmpty else { return [] }
        let hour = now - now % hourMillis
        let period = BillingPeriod(containing: Date(timeIntervalSince1970: Double(now) / 1000)).startMillis
        var hours: [HourKey: HourTotals] = [:]
        var buckets: [BucketKey: Int64] = [:]
        var periods: [TenantPeriod: (events: Int64, tokens: Int64)] = [:]
        for event in events {
            let key = HourKey(tenant: event.tenant.rawValue, hour: hour)
            hours[key, default: HourTotals()].events += 1
            hours[key, default: HourTotals()].tokens += event.tokens
            if let latency = event.latencyMs {
                hours[key, default: HourTotals()].latencyCount += 1
                hours[key, default: HourTotals()].latencySum += latency
                buckets[BucketKey(hour: key, bucket: LatencyHistogram.bucket(for: latency)), default: 0] += 1
            }
            let periodKey = TenantPeriod(tenant: event.tenant.rawValue, periodStart: period)
            periods[periodKey, default: (0, 0)].events += 1
            periods[periodKey, default: (0, 0)].tokens += event.tokens
        }

        let hourRows = hours.keys.sorted()
        for chunk in stride(from: 0, to: hourRows.count, by: rowsPerStatement) {
            var query: SQLQuery = "INSERT INTO billing_usage_hourly (tenant_id, hour_start, events, tokens, latency_count, latency_sum) VALUES "
            for (position, key) in hourRows[chunk..<min(chunk + rowsPerStatement, hourRows.count)].enumerated() {
                let totals = hours[key]!
                if position > 0 { query.append(", ") }
                query.append("(\(key.tenant), \(key.hour), \(totals.events), \(totals.tokens), \(totals.latencyCount), \(totals.latencySum))")
            }
            query.append("""
                 ON CONFLICT (tenant_id, hour_start) DO UPDATE SET events = billing_usage_hourly.events + excluded.events,
                 tokens = billing_usage_hourly.tokens + excluded.tokens,
                 latency_count = billing_usage_hourly.latency_count + excluded.latency_count,
                 latency_sum = billing_usage_hourly.latency_sum + excluded.latency_sum
                """)
            try conn.execute(query)
        }

        let bucketRows = buckets.keys.sorted()
        for chunk in stride(from: 0, to: bucketRows.count, by: rowsPerStatement) {
            var query: SQLQuery = "INSERT INTO billing_usage_latency (tenant_id, hour_start, bucket, events) VALUES "
            for (position, key) in bucketRows[chunk..<min(chunk + rowsPerStatement, bucketRows.count)].enumerated() {
                if position > 0 { query.append(", ") }
                query.append("(\(key.hour.tenant), \(key.hour.hour), \(key.bucket), \(buckets[key]!))")
            }
            query.append(" ON CONFLICT (tenant_id, hour_start, bucket) DO UPDATE SET events = billing_usage_latency.events + excluded.events")
            try conn.execute(query)
        }

        let periodRows = periods.keys.sorted()
        for chunk in stride(from: 0, to: periodRows.count, by: rowsPerStatement) {
            var query: SQLQuery = "INSERT INTO billing_usage_periods (tenant_id, period_start, events, tokens, adjusted_tokens, adjusted_requests) VALUES "
            for (position, key) in periodRows[chunk..<min(chunk + rowsPerStatement, periodRows.count)].enumerated() {
                let totals = periods[key]!
                if position > 0 { query.append(", ") }
                query.append("(\(key.tenant), \(key.periodStart), \(totals.events), \(totals.tokens), 0, 0)")
            }
            query.append("""
                 ON CONFLICT (tenant_id, period_start) DO UPDATE SET events = billing_usage_periods.events + excluded.events,
                 tokens = billing_usage_periods.tokens + excluded.tokens
                """)
            try conn.execute(query)
        }
        return Set(periodRows)
    }

    // MARK: Period totals and adjustments

    static func periodTotals(tenant: TenantID, period: BillingPeriod, on conn: any Connection) throws -> UsagePeriodTotals {
        var totals = UsagePeriodTotals(tenant: tenant, periodStart: period.start, periodEnd: period.end)
        if let row = try conn.queryFirst("""
            SELECT events, tokens, adjusted_tokens, adjusted_requests FROM billing_usage_periods
            WHERE tenant_id = \(tenant.rawValue) AND period_start = \(period.startMillis)
            """) {
            totals.meteredEvents = try row.decode("events")
            totals.meteredTokens = try row.decode("tokens")
            totals.adjustedTokens = try row.decode("adjusted_tokens")
            totals.adjustedRequests = try row.decode("adjusted_requests")
        }
        return totals
    }

    /// Records an adjustment; throws a 422 when a total would become negative (the transaction is
    /// then rolled back by the caller's throw).
    static func adjust(tenant: TenantID, tokensDelta: Int64, requestsDelta: Int64, actor: String, now: Int64,
                       on conn: any Connection) throws -> UsagePeriodTotals {
        let period = BillingPeriod(containing: Date(timeIntervalSince1970: Double(now) / 1000))
        try conn.execute("""
            INSERT INTO billing_usage_adjustments (tenant_id, period_start, tokens_delta, requests_delta, actor, created_at)
            VALUES (\(tenant.rawValue), \(period.startMillis), \(tokensDelta), \(requestsDelta), \(actor), \(now))
            """)
        try conn.execute("""
            INSERT INTO billing_usage_periods (tenant_id, period_start, events, tokens, adjusted_tokens, adjusted_requests)
            VALUES (\(tenant.rawValue), \(period.startMillis), 0, 0, \(tokensDelta), \(requestsDelta))
            ON CONFLICT (tenant_id, period_start) DO UPDATE SET
            adjusted_tokens = billing_usage_periods.adjusted_tokens + excluded.adjusted_tokens,
            adjusted_requests = billing_usage_periods.adjusted_requests + excluded.adjusted_requests
            """)
        let totals = try periodTotals(tenant: tenant, period: period, on: conn)
        guard totals.tokens >= 0, totals.requests >= 0 else {
            throw BillingError.unprocessable(
                "the adjustment would make the period's usage negative (tokens \(totals.tokens), requests \(totals.requests))",
                code: "usage_negative")
        }
        return totals
    }

    // MARK: Summary

    /// One tenant's line of `GET /metrics/usage/daily`.
    struct SummaryLine: Sendable, Hashable {
        var tenant: String
        var events: Int64
        var tokens: Int64
        var latencyCount: Int64
        var latencySum: Double
        var histogram: LatencyHistogram

        var meanLatency: Double { latencyCount > 0 ? latencySum / Double(latencyCount) : 0 }
    }

    /// Usage per tenant over `[now − hours, now]`: whole hours from the rollups, and the leading
    /// partial hour from the events themselves (an index-only range scan), so the window is exact
    /// while the work stays proportional to hours × tenants, not to events.
    static func summary(hours: Int, now: Int64, on conn: any Connection) throws -> [SummaryLine] {
        let start = now - Int64(hours) * hourMillis
        let firstWholeHour = start % hourMillis == 0 ? start : start - start % hourMillis + hourMillis
        var lines: [String: SummaryLine] = [:]
        func line(_ tenant: String) -> SummaryLine {
            lines[tenant] ?? SummaryLine(tenant: tenant, events: 0, tokens: 0, latencyCount: 0, latencySum: 0, histogram: LatencyHistogram())
        }
        for row in try conn.query("""
            SELECT tenant_id, CAST(SUM(events) AS BIGINT) AS events, CAST(SUM(tokens) AS BIGINT) AS tokens,
            CAST(SUM(latency_count) AS BIGINT) AS latency_count, SUM(latency_sum) AS latency_sum
            FROM billing_usage_hourly WHERE hour_start >= \(firstWholeHour) GROUP BY tenant_id
            """) {
            let tenant: String = try row.decode("tenant_id")
            var entry = line(tenant)
            entry.events += try row.decode("events")
            entry.tokens += try row.decode("tokens")
            entry.latencyCount += try row.decode("latency_count")
            entry.latencySum += try row.decode("latency_sum", as: Double?.self) ?? 0
            lines[tenant] = entry
        }
        for row in try conn.query("""
            SELECT tenant_id, bucket, CAST(SUM(events) AS BIGINT) AS events FROM billing_usage_latency
            WHERE hour_start >= \(firstWholeHour) GROUP BY tenant_id, bucket
            """) {
            let tenant: String = try row.decode("tenant_id")
            var entry = line(tenant)
            entry.histogram.add(bucket: try row.decode("bucket"), count: try row.decode("events"))
            lines[tenant] = entry
        }
        if start < firstWholeHour {
            for row in try conn.query("""
                SELECT tenant_id, latency_bucket AS bucket, COUNT(*) AS events, CAST(SUM(tokens) AS BIGINT) AS tokens,
                COUNT(latency_ms) AS latency_count, SUM(latency_ms) AS latency_sum
                FROM billing_usage_events WHERE occurred_at >= \(start) AND occurred_at < \(firstWholeHour)
                GROUP BY tenant_id, latency_bucket
                """) {
                let tenant: String = try row.decode("tenant_id")
                var entry = line(tenant)
                entry.events += try row.decode("events")
                entry.tokens += try row.decode("tokens")
                let latencyCount: Int64 = try row.decode("latency_count")
                entry.latencyCount += latencyCount
                entry.latencySum += try row.decode("latency_sum", as: Double?.self) ?? 0
                if latencyCount > 0, let bucket = try row.decode("bucket", as: Int?.self) {
                    entry.histogram.add(bucket: bucket, count: latencyCount)
                }
                lines[tenant] = entry
            }
        }
        return lines.values.filter { $0.events > 0 }.sorted { $0.tenant < $1.tenant }
    }

    // MARK: Listing

    /// A page of a tenant's events, newest first, in `[from, to)`, after `cursor` (exclusive).
    static func list(tenant: TenantID, from: Int64?, to: Int64?, cursor: (occurredAt: Int64, id: String)?, limit: Int,
                     on conn: any Connection) throws -> [StoredUsageEvent] {
        var conditions: [SQLQuery] = ["tenant_id = \(tenant.rawValue)"]
        if let from { conditions.append("occurred_at >= \(from)") }
        if let to { conditions.append("occurred_at < \(to)") }
        if let cursor {
            conditions.append("(occurred_at < \(cursor.occurredAt) OR (occurred_at = \(cursor.occurredAt) AND id < \(cursor.id)))")
        }
        let query: SQLQuery = """
            SELECT id, tenant_id, source, tokens, latency_ms, idempotency_key, occurred_at FROM billing_usage_events
            WHERE \(SQLQuery.joined(conditions, separator: " AND ")) ORDER BY occurred_at DESC, id DESC LIMIT \(limit)
            """
        return try conn.query(query).map(decodeEvent)
    }
}
