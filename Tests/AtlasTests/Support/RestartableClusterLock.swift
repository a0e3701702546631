// Atlas — AtlasTests
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Runs `body` holding `ATLAS_TEST_POSTGRES_RESTART_LOCK` (scripts/with-postgres.sh) exclusively,
/// so tests that stop or restart the second PostgreSQL cluster never do it at the same time.
/// Waits by polling, never by blocking a thread of the cooperative pool.
func withRestartableClusterLock<T>(_ body: () async throws -> T) async throws -> T {
    guard let path = ProcessInfo.processInfo.environment["ATLAS_TEST_POSTGRES_RESTART_LOCK"] else { return try await body() }
    let fd = open(path, O_RDWR | O_CREAT, 0o644)
    guard fd >= 0 else { return try await body() }
    defer { close(fd) }
    while flock(fd, LOCK_EX | LOCK_NB) != 0 {
        try await Task.sleep(for: .milliseconds(50))
    }
    defer { flock(fd, LOCK_UN) }
    return try await body()
}
