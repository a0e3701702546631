// Atlas — test support
// SPDX-License-Identifier: Apache-2.0

public import HTTP
import Logging

/// Serves `router` on an ephemeral loopback port while `body` runs (a stand-in for a remote
/// provider, feed or collector), then shuts the server down, also when `body` throws.
public func withLocalServer(_ router: Router, workerThreads: Int = 1, _ body: (Int) async throws -> Void) async throws {
    var logger = Logger(label: "atlas-test-server")
    logger.logLevel = .critical
    let server = HTTPServer(router: router,
                            configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0, eventLoops: 1, workerThreads: workerThreads),
                            logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        let port = try await server.listeningPort
        do {
            try await body(port)
        } catch {
            server.shutdownGracefully()
            group.cancelAll()
            throw error
        }
        server.shutdownGracefully()
        try await group.waitForAll()
    }
}
