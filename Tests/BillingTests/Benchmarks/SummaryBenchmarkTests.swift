// Atlas — BillingTests
// SPDX-License-Identifier: Apache-2.0

@testable import Billing
import Core
import Foundation
import Storage
import Testing

/// `GET /metrics/usage/daily` over 1,000,000 stored events on SQLite (issue 4: under 50 ms).
/// Slow to set up, so it runs only with `ATLAS_BENCH_SUMMARY=1` (bench/billing/summary.sh); it
/// prints the timings and fails when the median exceeds the budget.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["ATLAS_BENCH_SUMMARY"] == "1"))
struct SummaryBenchmarkTests {
    static let events = Int(ProcessInfo.processInfo.environment["ATLAS_BENCH_EVENTS"] ?? "") ?? 1_000_000
    static let tenants = 20
    static let batch = 2_000

    /// - `day`: every event inside the last 24 hours, the worst case for the window's leading
    ///   partial hour, which is read from the events themselves;
    /// - `month`: the events spread over 30 days.
    @Test(arguments: ["day", "month"])
    func dailySummaryOverAMillionEvents_AnswersUnder50ms(spread: String) async throws {
        try await withBillingDatabase(.sqlite) { database, test in
            let span: Int64 = spread == "day" ? 24 * 3_600_000 : 30 * 24 * 3_600_000
            let end = BillingPeriod.millis(Date())
            let batches = Self.events / Self.batch
            let tenantIDs = (0..<Self.tenants).map { TenantID("bench-\($0)")! }
            let clock = ContinuousClock()
            let loadStart = clock.now
            for index in 0..<batches {
                let stamp = end - span + 1 + span * Int64(index) / Int64(batches)
                let events = try (0..<Self.batch).map { offset in
                    try UsageEventInput(tenant: tenantIDs[(index * Self.batch + offset) % Self.tenants], source: "ai-service",
                                        tokens: Int64(100 + offset % 900), latencyMs: Double(20 + (offset * 37) % 2_000),
                                        idempotencyKey: nil)
                }
                _ = try await database.transaction { conn in try UsageStore.write(events, now: stamp, on: conn) }
            }
            let loaded = clock.now - loadStart
            // Measure on a freshly opened database, as a restarted server would answer.
            await database.close()
            if let keep = ProcessInfo.processInfo.environment["ATLAS_BENCH_KEEP"], let directory = test.directory {
                let target = keep + "-" + spread + ".db"
                try? FileManager.default.removeItem(atPath: target)
                try FileManager.default.copyItem(atPath: directory.appendingPathComponent("billing.db").path, toPath: target)
            }
            let reopened = try await test.open()
            defer { Task { await reopened.close() } }
            var timings: [Double] = []
            var lines: [UsageStore.SummaryLine] = []
            for _ in 0..<30 {
                let start = clock.now
                lines = try await reopened.read { conn in try UsageStore.summary(hours: 24, now: end + 1, on: conn) }
                let elapsed = clock.now - start
                timings.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
            }
            timings.sort()
            let median = timings[timings.count / 2]
            let p90 = timings[timings.count * 9 / 10]
            print("summary-bench spread=\(spread) events=\(Self.events) tenants=\(Self.tenants) load=\(loaded) median_ms=\(String(format: "%.2f", median)) p90_ms=\(String(format: "%.2f", p90)) max_ms=\(String(format: "%.2f", timings.last!))")
            #expect(lines.count == Self.tenants)
            if spread == "day" {
                #expect(lines.map(\.events).reduce(0, +) == Int64(batches * Self.batch))
            }
            #expect(median < 50)
        }
    }
}
