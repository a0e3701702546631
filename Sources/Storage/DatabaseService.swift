// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

public import ServiceLifecycle

/// Keeps a ``Database`` open for the life of a `ServiceGroup` and closes it at graceful shutdown.
/// Put it first in the group, so it starts before and stops after the services that use it.
public struct DatabaseService: Service {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    public func run() async throws {
        // Cancellation and graceful shutdown both end the wait; the database closes either way.
        try? await gracefulShutdown()
        await database.close()
    }
}
