// Atlas — AtlasTests
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Testing

/// `atlas ai run` and `atlas ai eval` as an operator runs them: the real binary on a fresh
/// database, migrated and seeded by the command itself.
@Suite(.timeLimit(.minutes(3))) struct AICommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func json(_ text: String) throws -> JSONValue {
        try #require(JSONValue(jsonText: text), "stdout is one JSON document: \(text.prefix(400))")
    }

    @Test(arguments: AgentRunKillTests.Store.all)
    func aiRun_OnAFreshDatabase_PrintsTheReferenceFields(store: AgentRunKillTests.Store) async throws {
        let directory = try AtlasProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (url, cleanup) = try await AgentRunKillTests.databaseURL(store, directory: directory)
        defer { Task { await cleanup() } }
        let dump = directory.appendingPathComponent("state.json")
        let environment = ["ATLAS_DATABASE_URL": url]

        let first = try AtlasProcess.run(["ai", "run", "How do I route escalations to humans?", "--tenant", "demo",
                                          "--dump-file", dump.path], environment: environment)
        #expect(first.status == 0, "\(first.stderr)")
        let state = try Self.json(first.stdout)
        for key in ["question", "tenant", "context", "response", "cached", "evaluation", "route", "citations"] {
            #expect(state[key] != nil, "the final state has \(key)")
        }
        #expect(state["question"]?.string == "How do I route escalations to humans?")
        #expect(state["tenant"]?.string == "demo")
        #expect(state["status"]?.string == "completed")
        #expect(state["route"]?.string == "auto")
        #expect(state["cached"] == .bool(false))
        let response = try #require(state["response"]?.string)
        #expect(response.contains("Escalations are routed to humans") && response.contains("[1]"), "\(response)")
        #expect(state["evaluation"]?["hallucination_risk"]?.string == "low")
        #expect(state["evaluation"]?["needs_review"] == .bool(false))
        #expect(state["evaluation"]?["sentiment"]?.string == "neutral")
        #expect(state["citations"]?[0]?["title"]?.string == "Routing escalations to humans")
        #expect(state["context"]?[0]?.string?.isEmpty == false)
        #expect(!first.stdout.contains("\"level\""), "no log lines mixed into the JSON")
        let dumped = try Self.json(try String(contentsOf: dump, encoding: .utf8))
        #expect(dumped == state)

        // The same database again: no second migration or seed, and a paraphrase is a cache hit.
        let second = try AtlasProcess.run(["ai", "run", "How can I route escalations to humans?", "--tenant", "demo"], environment: environment)
        #expect(second.status == 0, "\(second.stderr)")
        let again = try Self.json(second.stdout)
        #expect(again["cached"] == .bool(true))
        #expect(again["response"] == state["response"])
        #expect(again["run_id"] != state["run_id"])
    }

    @Test func aiRun_RefusesUnknownTenantsAndBlankQuestions() throws {
        let directory = try AtlasProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = ["ATLAS_DATABASE_URL": "sqlite:///\(directory.path)/atlas.db"]
        let unknown = try AtlasProcess.run(["ai", "run", "Hello?", "--tenant", "globex"], environment: environment)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("tenant 'globex' does not exist"), "\(unknown.stderr)")
        #expect(unknown.stdout.isEmpty)
        let blank = try AtlasProcess.run(["ai", "run", "   "], environment: environment)
        #expect(blank.status == 64)
        #expect(blank.stderr.contains("the question must not be empty"))
        let badTenant = try AtlasProcess.run(["ai", "run", "Hi", "--tenant", "../etc"], environment: environment)
        #expect(badTenant.status == 64 && badTenant.stderr.contains("not a valid tenant id"))
    }

    @Test func aiEval_PrintsPerQuestionAndTotalFigures() throws {
        let directory = try AtlasProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = ["ATLAS_DATABASE_URL": "sqlite:///\(directory.path)/atlas.db"]
        let sample = Self.root.appendingPathComponent("docs/ai/eval-sample.jsonl").path
        let result = try AtlasProcess.run(["ai", "eval", "--dataset", sample], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("#    route  grounded  latency_ms  cached  result  question") == true)
        let rows = lines.filter { $0.first?.isNumber == true }
        #expect(rows.count == 6)
        #expect(rows.allSatisfy { $0.contains(" pass ") }, "\(result.stdout)")
        #expect(rows.last?.contains("hitl") == true, "the unanswerable question goes to review")
        #expect(result.stdout.contains("questions 6  passed 6  failed 0  pass_rate 1.00"), "\(result.stdout)")
        #expect(result.stdout.contains("p50_latency_ms") && result.stdout.contains("tokens "))

        // A failing expectation is reported, and --min-pass-rate turns it into the exit status.
        let strict = directory.appendingPathComponent("strict.jsonl")
        try Data("""
        {"question": "How long do refunds take?", "expected_keywords": ["ten weeks"]}
        {"question": "How do I route escalations to humans?", "expected_route": "auto"}

        """.utf8).write(to: strict)
        let failing = try AtlasProcess.run(["ai", "eval", "--dataset", strict.path, "--min-pass-rate", "1"], environment: environment)
        #expect(failing.status == 1)
        #expect(failing.stdout.contains("FAIL") && failing.stdout.contains("missing keywords: ten weeks"))
        #expect(failing.stdout.contains("questions 2  passed 1  failed 1"))

        let broken = directory.appendingPathComponent("broken.jsonl")
        try Data("{\"question\": \"ok?\"}\n{\"q\": 1}\n".utf8).write(to: broken)
        let invalid = try AtlasProcess.run(["ai", "eval", "--dataset", broken.path], environment: environment)
        #expect(invalid.status == 64)
        #expect(invalid.stderr.contains("line 2"), "\(invalid.stderr)")
    }
}
