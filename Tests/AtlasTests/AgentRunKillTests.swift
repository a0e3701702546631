// Atlas — AtlasTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Storage
import Testing

/// SPEC §4 "AI runtime": a checkpoint after every step, stored per run, so a restart resumes and
/// does not repeat. A real `atlas serve` is killed with SIGKILL while a run of `debug.slow` sleeps
/// in its second node; a new `atlas` on the same database continues the run from the checkpoint
/// after the first node, which runs exactly once.
@Suite(.serialized, .timeLimit(.minutes(3))) struct AgentRunKillTests {
    enum Store: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }

        static var all: [Store] {
            let url = ProcessInfo.processInfo.environment["ATLAS_TEST_POSTGRES_URL"] ?? ""
            let required = ProcessInfo.processInfo.environment["ATLAS_REQUIRE_POSTGRES"] == "1"
            return url.isEmpty && !required ? [.sqlite] : [.sqlite, .postgres]
        }
    }

    static func request(_ port: Int, _ method: String, _ path: String, token: String, body: String? = nil) async throws -> HTTPClient.Response {
        var raw = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n"
        if let body { raw += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        raw += "\r\n" + (body ?? "")
        return try await HTTPClient.request(port: port, raw: raw)
    }

    /// A database URL of its own: a SQLite file, or a fresh schema of the test PostgreSQL.
    static func databaseURL(_ store: Store, directory: URL) async throws -> (url: String, cleanup: @Sendable () async -> Void) {
        switch store {
        case .sqlite:
            return ("sqlite:///\(directory.path)/atlas.db", {})
        case .postgres:
            guard let base = ProcessInfo.processInfo.environment["ATLAS_TEST_POSTGRES_URL"], !base.isEmpty else {
                throw AtlasProcessError(message: "ATLAS_REQUIRE_POSTGRES=1 but ATLAS_TEST_POSTGRES_URL is not set")
            }
            let schema = "kill_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
            let admin = try await openDatabase(url: base)
            try await admin.transaction { conn in try conn.execute(SQLQuery(unsafeSQL: "CREATE SCHEMA \(schema)")) }
            await admin.close()
            guard var components = URLComponents(string: base) else { throw AtlasProcessError(message: "bad ATLAS_TEST_POSTGRES_URL") }
            components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "options", value: "-csearch_path=\(schema)")]
            let url = components.string!.replacingOccurrences(of: "search_path=", with: "search_path%3D")
            return (url, {
                guard let admin = try? await openDatabase(url: base) else { return }
                _ = try? await admin.transaction { conn in try conn.execute(SQLQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE")) }
                await admin.close()
            })
        }
    }

    static func executions(_ log: URL) -> [String] {
        ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map { String($0.split(separator: " ").last ?? "") }
    }

    /// How the first process ends: killed outright, or stopped gracefully (it then releases its
    /// lease, so the next start continues the run at once).
    enum Stop: String, CaseIterable, CustomTestStringConvertible {
        case kill9, sigterm
        var testDescription: String { rawValue }
        var signal: Int32 { self == .kill9 ? SIGKILL : SIGTERM }
    }

    @Test(arguments: Store.all, Stop.allCases)
    func aRunKilledMidwayResumesFromItsCheckpointWithoutRepeatingFinishedNodes(store: Store, stop: Stop) async throws {
        let directory = try AtlasProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (url, cleanup) = try await Self.databaseURL(store, directory: directory)
        let log = directory.appendingPathComponent("executions.log")
        let environment = [
            "ATLAS_DATABASE_URL": url, "ATLAS_ENABLE_DEBUG_ROUTES": "true", "ATLAS_DEBUG_GRAPH_LOG": log.path,
            "ATLAS_AI_RUN_LEASE_SECONDS": "2",
        ]
        do {
            let first = try AtlasProcess(arguments: ["serve"], environment: environment)
            try await first.waitUntilServing(timeout: .seconds(60))
            let token = try await UsageDurabilityTests.token(port: first.port)
            let created = try await Self.request(first.port, "POST", "/ai/runs", token: token,
                                                 body: #"{"graph":"debug.slow","input":{"delay_ms":8000}}"#)
            #expect(created.status == 202, "\(String(decoding: created.body, as: UTF8.self))")
            let id = try #require((created.json as? [String: Any])?["id"] as? String)

            // Wait for the checkpoint after `a` (step 1): `b` is then sleeping.
            var steps: [Int] = []
            for _ in 0..<600 where !steps.contains(1) {
                let listed = try await Self.request(first.port, "GET", "/ai/runs/\(id)/checkpoints", token: token)
                steps = ((listed.json as? [String: Any])?["checkpoints"] as? [[String: Any]] ?? []).compactMap { $0["step"] as? Int }
                if !steps.contains(1) { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(steps == [0, 1])
            #expect(Self.executions(log) == ["a"])

            first.signal(stop.signal)
            let status = try await first.waitForExit()
            if stop == .sigterm {
                #expect(status == 0, "a graceful stop exits cleanly")
                let database = try await openDatabase(url: url)
                let row = try await database.read(tenant: "*") { conn in
                    try conn.queryFirst("SELECT status, owner, lease_expires_at FROM ai_runs WHERE id = \(id)")
                }
                await database.close()
                #expect(try row?.decode("status", as: String.self) == "running")
                #expect(row?["owner"] == .null, "the stopping process released its claim")
                #expect(try row?.decode("lease_expires_at", as: Int64.self) == 0)
            }

            // A new process on the same database continues the run once the dead one's lease expired
            // (or at once, when the first process released it on SIGTERM).
            let second = try AtlasProcess(arguments: ["serve"], environment: environment)
            try await second.waitUntilServing(timeout: .seconds(60))
            let token2 = try await UsageDurabilityTests.token(port: second.port)
            var run: [String: Any] = [:]
            for _ in 0..<1200 {
                let read = try await Self.request(second.port, "GET", "/ai/runs/\(id)", token: token2)
                run = read.json as? [String: Any] ?? [:]
                if let status = run["status"] as? String, status != "running" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(run["status"] as? String == "completed", "\(run)")
            #expect((run["state"] as? [String: Any])?["visited"] as? [String] == ["a", "b", "c"])
            #expect(Self.executions(log) == ["a", "b", "c"], "a ran once, before the kill; b and c after the restart")
            let listed = try await Self.request(second.port, "GET", "/ai/runs/\(id)/checkpoints", token: token2)
            let after = ((listed.json as? [String: Any])?["checkpoints"] as? [[String: Any]] ?? []).compactMap { $0["step"] as? Int }
            #expect(after == [0, 1, 2, 3], "no step was recorded twice")
            second.signal(SIGTERM)
            _ = try await second.waitForExit()
        } catch {
            await cleanup()
            throw error
        }
        await cleanup()
    }
}
