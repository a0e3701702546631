// Atlas — AtlasTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// SPEC §4 "Metering": an accepted usage event (202) survives `kill -9` of the server the moment
/// after the response. A real `atlas` is killed while clients are still posting; every event it
/// acknowledged must be there after a restart on the same SQLite file.
@Suite(.serialized) struct UsageDurabilityTests {
    static func token(port: Int) async throws -> String {
        let body = #"{"username":"admin@atlas","password":"atlas"}"#
        let response = try await HTTPClient.request(port: port, raw: "POST /auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        guard response.status == 200, let token = (response.json as? [String: Any])?["access_token"] as? String else {
            throw AtlasProcessError(message: "no token: \(response.status) \(String(decoding: response.body, as: UTF8.self))")
        }
        return token
    }

    static func postUsage(port: Int, token: String, tokens: Int, key: String) async throws -> HTTPClient.Response {
        let body = #"{"tenant":"demo","source":"ai-service","tokens":\#(tokens),"latency_ms":12.5}"#
        return try await HTTPClient.request(port: port, raw: "POST /metrics/usage HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nIdempotency-Key: \(key)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
    }

    /// Every event id of tenant `demo`, through the listing route.
    static func storedIDs(port: Int, token: String) async throws -> Set<String> {
        var ids = Set<String>()
        var cursor: String?
        repeat {
            let path = "/tenants/demo/usage/events?limit=1000" + (cursor.map { "&cursor=\($0)" } ?? "")
            let response = try await HTTPClient.request(port: port, raw: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n")
            guard response.status == 200, let page = response.json as? [String: Any] else {
                throw AtlasProcessError(message: "listing failed: \(response.status)")
            }
            for event in page["events"] as? [[String: Any]] ?? [] {
                if let id = event["id"] as? String { ids.insert(id) }
            }
            cursor = page["next_cursor"] as? String
        } while cursor != nil
        return ids
    }

    @Test func acknowledgedUsageEventsSurviveKill9_WhileClientsAreStillPosting() async throws {
        let directory = try AtlasProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = ["ATLAS_DATABASE_URL": "sqlite:///\(directory.path)/atlas.db"]
        let atlas = try AtlasProcess(arguments: ["serve"], environment: environment)
        try await atlas.waitUntilServing()
        let token = try await Self.token(port: atlas.port)

        let acknowledged = AcknowledgedIDs()
        let target = 400
        // 16 clients post until the server dies; the kill comes right after the 400th 202.
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<16 {
                group.addTask {
                    var sequence = 0
                    while true {
                        sequence += 1
                        guard let response = try? await Self.postUsage(port: atlas.port, token: token, tokens: sequence, key: "c\(client)-\(sequence)"),
                              response.status == 202,
                              let id = (response.json as? [String: Any])?["id"] as? String else { return }
                        if acknowledged.add(id) == target { atlas.signal(SIGKILL) }
                    }
                }
            }
        }
        _ = try await atlas.waitForExit()
        let ids = acknowledged.all
        #expect(ids.count >= target)

        let restarted = try AtlasProcess(arguments: ["serve"], environment: environment)
        try await restarted.waitUntilServing()
        let stored = try await Self.storedIDs(port: restarted.port, token: try await Self.token(port: restarted.port))
        let lost = ids.subtracting(stored)
        #expect(lost.isEmpty, "\(lost.count) of \(ids.count) acknowledged events are missing after kill -9")
        restarted.signal(SIGTERM)
        _ = try await restarted.waitForExit()
    }
}

/// Ids acknowledged by the server, from many client tasks.
final class AcknowledgedIDs: @unchecked Sendable {
    // @unchecked: `ids` is only touched under `lock`.
    private let lock = NSLock()
    private var ids = Set<String>()

    /// Adds an id and returns how many are known.
    func add(_ id: String) -> Int { lock.withLock { ids.insert(id); return ids.count } }
    var all: Set<String> { lock.withLock { ids } }
}
