// Atlas — AtlasTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// `atlas` as an operator runs it: a real child process on a real SQLite file and a real port.
@Suite(.serialized) struct ServeCommandTests {
    @Test func answersLivenessWithinOneSecond_AndStaysSmallWhenIdle() async throws {
        let directory = try AtlasProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let atlas = try AtlasProcess(
            arguments: ["serve"],
            environment: ["ATLAS_DATABASE_URL": "sqlite:///\(directory.path)/atlas.db"])
        let startUp = try await atlas.waitUntilServing()
        #expect(startUp < .seconds(1), "first answer after \(startUp)")

        let live = try await HTTPClient.get(port: atlas.port, path: "/health/live")
        #expect(live.status == 200)
        #expect(String(decoding: live.body, as: UTF8.self) == #"{"status":"ok"}"#)
        #expect(live.header("X-Request-ID")?.isEmpty == false)

        let ready = try await HTTPClient.get(port: atlas.port, path: "/health/ready")
        #expect(ready.status == 200)
        #expect((ready.json as? [String: String]) == ["status": "ready", "environment": "local"])

        let root = try await HTTPClient.get(port: atlas.port, path: "/")
        let rootBody = try #require(root.json as? [String: String])
        #expect(rootBody["environment"] == "local")
        #expect(rootBody["name"] != nil && rootBody["docs_url"] != nil)

        try await Task.sleep(for: .milliseconds(300))
        let peak = try atlas.peakResidentKiB()
        #expect(peak < 25 * 1024, "peak RSS \(peak) KiB")

        atlas.signal(SIGTERM)
        #expect(try await atlas.waitForExit() == 0)
    }

    @Test func unknownPathIsProblemJSON() async throws {
        let directory = try AtlasProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let atlas = try AtlasProcess(arguments: ["serve"], environment: ["ATLAS_DATABASE_URL": "sqlite:///\(directory.path)/a.db"])
        try await atlas.waitUntilServing()
        let response = try await HTTPClient.get(port: atlas.port, path: "/does-not-exist")
        #expect(response.status == 404)
        #expect(response.header("Content-Type")?.hasPrefix("application/problem+json") == true)
        let body = try #require(response.json as? [String: Any])
        #expect(body["status"] as? Int == 404)
        #expect((body["detail"] as? String)?.isEmpty == false)
        #expect(response.header("X-Request-ID") != nil)
    }

    @Test func readinessIs503_WhenStorageIsUnreachable() async throws {
        // Nothing listens on port 1; --no-migrate lets the server start without the database.
        let atlas = try AtlasProcess(
            arguments: ["serve", "--no-migrate"],
            environment: ["ATLAS_DATABASE_URL": "postgresql://atlas:pw@127.0.0.1:1/atlas?connect_timeout=1"])
        try await atlas.waitUntilServing()
        let ready = try await HTTPClient.get(port: atlas.port, path: "/health/ready")
        #expect(ready.status == 503)
        #expect(ready.header("Content-Type")?.hasPrefix("application/problem+json") == true)
        let body = try #require(ready.json as? [String: Any])
        #expect(body["status"] as? Int == 503)
        #expect(!(String(decoding: ready.body, as: UTF8.self).contains("pw")), "the password leaked into the answer")
        let live = try await HTTPClient.get(port: atlas.port, path: "/health/live")
        #expect(live.status == 200)
    }

    @Test(arguments: [
        ("ATLAS_PORT", "eighty"),
        ("ATLAS_DATABASE_URL", "mysql://nope"),
        ("ATLAS_AI_PROVIDER", "skynet"),
        ("ATLAS_AUTH_ACCESS_TOKEN_MINUTES", "-5"),
        ("ATLAS_HTTP_MAX_BODY_BYTES", "lots"),
        ("ATLAS_LOG_LEVEL", "loud"),
    ])
    func badConfigurationStopsStartUpWithOneLineNamingTheVariable(variable: String, value: String) throws {
        let result = try AtlasProcess.run(["serve", "--no-migrate"], environment: [variable: value])
        #expect(result.status == 78)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains(variable))
        #expect(!result.stderr.contains(value) || value.count < 3)
    }

    @Test func productionRefusesDefaultSecrets() throws {
        let result = try AtlasProcess.run(["serve", "--no-migrate"], environment: ["ATLAS_ENVIRONMENT": "production"])
        #expect(result.status == 78)
        #expect(result.stderr.contains("ATLAS_AUTH_SECRET"))
    }

    @Test func migrateThenStatusListsAppliedMigrations() throws {
        let directory = try AtlasProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = ["ATLAS_DATABASE_URL": "sqlite:///\(directory.path)/m.db"]
        let before = try AtlasProcess.run(["migrate", "status"], environment: url)
        #expect(before.status == 0, "\(before.stderr)")
        #expect(before.stdout.contains("pending"))
        let apply = try AtlasProcess.run(["migrate"], environment: url)
        #expect(apply.status == 0, "\(apply.stderr)")
        let after = try AtlasProcess.run(["migrate", "status"], environment: url)
        #expect(after.stdout.contains("0001_core_tenants"))
        #expect(after.stdout.contains("applied"))
        #expect(!after.stdout.contains("pending"))
    }

    @Test func versionPrintsAVersion() throws {
        let result = try AtlasProcess.run(["version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("atlas "))
    }
}
