// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import ServiceLifecycle

extension AIModule {
    /// The module's background services, for the composition root's `ServiceGroup`: run
    /// recovery, which continues runs left `running` by a process that stopped (at start-up and
    /// then every half lease), and on shutdown pauses this process's runs so the next start
    /// continues them.
    public var services: [any Service] {
        [RunRecoveryService(runs: runs, interval: configuration.runs.recoveryInterval)]
    }
}

/// Continues orphaned runs (``RunService/recoverInterruptedWork()``) until shutdown, then stops
/// this process's runs and releases their leases.
struct RunRecoveryService: Service {
    let runs: RunService
    let interval: Duration

    func run() async throws {
        let runs = self.runs, interval = self.interval
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await runs.recoverInterruptedWork()
                try? await Task.sleep(for: interval)
            }
        }
        await runs.shutdown()
    }
}
