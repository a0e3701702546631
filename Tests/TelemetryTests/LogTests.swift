// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Logging
import Testing
@testable import Telemetry

@Suite struct LogTests {
    /// Logs through a handler writing to a real temporary file and returns the parsed lines.
    func capture(_ body: (Logger) -> Void) throws -> [[String: Any]] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-log-\(UUID().uuidString)").path
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        try #require(fd >= 0)
        defer { unlink(path) }
        let handler = JSONLogHandler(label: "atlas.test", level: .info, metadataProvider: nil, output: LineWriter(fd: fd))
        body(Logger(label: "atlas.test", factory: { _ in handler }))
        close(fd)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func writesOneJSONObjectPerLine_WithRequestFields() throws {
        let lines = try capture { logger in
            logger.info("request", metadata: ["event": "api_request", "path": "/health/live", "method": "GET",
                                              "status_code": .stringConvertible(200), "duration_ms": .stringConvertible(1.5),
                                              "tenant": "acme", "request_id": "r-1", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"])
            logger.debug("not at info")
        }
        try #require(lines.count == 1)
        let line = lines[0]
        #expect(line["event"] as? String == "api_request")
        #expect(line["status_code"] as? Int == 200)
        #expect(line["duration_ms"] as? Double == 1.5)
        #expect(line["tenant"] as? String == "acme")
        #expect(line["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(line["level"] as? String == "info")
    }

    @Test func redactsSecrets_WhateverTheKeySpelling() throws {
        let lines = try capture { logger in
            logger.info("login", metadata: ["Authorization": "Bearer abc.def", "password": "hunter2",
                                            "Stripe-Signature": "t=1,v1=ff", "openai_api_key": "sk-123",
                                            "user": "admin@atlas", "refresh_token": "rt-9", "ai.tokens": .stringConvertible(42)])
        }
        let text = String(decoding: try JSONSerialization.data(withJSONObject: lines[0]), as: UTF8.self)
        for secret in ["abc.def", "hunter2", "v1=ff", "sk-123", "rt-9"] { #expect(!text.contains(secret)) }
        #expect(lines[0]["password"] as? String == "[redacted]")
        #expect(lines[0]["user"] as? String == "admin@atlas")
        #expect(lines[0]["ai.tokens"] as? Int == 42)
    }
}
