// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import HTTP
import HTTPTypes
import Logging
import Synchronization

/// Runs `server` for the duration of `body`, then shuts it down gracefully and waits for `run()`
/// to return, so no test leaves threads or sockets behind.
func withServer(
    _ router: Router,
    configure: (inout HTTPServer.Configuration) -> Void = { _ in },
    _ body: (_ port: Int, _ server: HTTPServer) async throws -> Void
) async throws {
    var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0, eventLoops: 1, workerThreads: 2)
    configure(&configuration)
    var logger = Logger(label: "atlas.http.test")
    logger.logLevel = .warning
    let server = HTTPServer(router: router, configuration: configuration, logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        let port = try await server.listeningPort
        do {
            try await body(port, server)
        } catch {
            group.cancelAll()
            throw error
        }
        server.shutdownGracefully()
        try await group.waitForAll()
    }
}

/// An access-log sink that keeps lines in memory, formatted exactly as the default sink does.
final class MemoryAccessLog: AccessLogSink {
    private let file: TemporaryFile
    private let sink: StandardOutputAccessLog

    init() throws {
        file = try TemporaryFile()
        sink = StandardOutputAccessLog(fileDescriptor: file.fd)
    }

    func log(_ request: Request, context: RequestContext, status: HTTPResponse.Status, duration: Duration) {
        sink.log(request, context: context, status: status, duration: duration)
    }

    func flush() {
        sink.flush()
    }

    /// The lines written so far (flushes first).
    func lines() throws -> [String] {
        flush()
        return try file.contents().split(separator: "\n").map(String.init)
    }
}
