// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
public import ServiceLifecycle

/// Runs the connectors that have a `schedule` at their cron times, inside `atlas serve`.
///
/// One run at a time per connector (a run still going at its next time is skipped); a failed run
/// is logged and stored in its state, and the schedule continues. Graceful shutdown stops waiting
/// and lets a running sync finish its current batch's transaction.
public final class SyncScheduler: Service, Sendable {
    let connectors: [ConnectorDefinition]
    let runner: SyncRunner
    let logger: Logger
    let now: @Sendable () -> Date

    init(connectors: [ConnectorDefinition], runner: SyncRunner, logger: Logger, now: @escaping @Sendable () -> Date) {
        self.connectors = connectors.filter { $0.schedule != nil }
        self.runner = runner
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        guard !connectors.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for connector in self.connectors {
                    group.addTask { await self.loop(connector) }
                }
            }
        }
    }

    private func loop(_ connector: ConnectorDefinition) async {
        guard let schedule = connector.schedule else { return }
        var from = now()
        while !Task.isCancelled {
            guard let next = schedule.next(after: from) else {
                logger.warning("data sync schedule never fires", metadata: ["connector": "\(connector.name)", "schedule": "\(schedule)"])
                return
            }
            let wait = next.timeIntervalSince(now())
            if wait > 0 {
                do { try await Task.sleep(for: .milliseconds(Int64(wait * 1000))) } catch { return }
            }
            do {
                try await runner.run(connector)
            } catch {
                logger.warning("scheduled data sync failed", metadata: ["connector": "\(connector.name)", "error": "\(error)"])
            }
            // Times missed while the run lasted are skipped, not caught up one by one.
            from = max(next, now())
        }
    }
}
