// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import AI
import ArgumentParser
import Core
import Foundation

/// `atlas ai eval --dataset FILE.jsonl`: asks the assistant every question of a file and prints
/// per-question and total figures. Each line is a JSON object:
/// `{"question": "…", "expected_keywords": ["…"], "expected_route": "auto"|"hitl"}` (both optional).
///
/// A question passes when its run completes or stops for review, its answer contains every
/// expected keyword (case-insensitive) and its route is the expected one. Runs are held in
/// memory and send no review notices; model calls are metered like any other.
struct AIEval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Evaluate the assistant over a question set.")

    @Option(help: "A JSON Lines file of {question, expected_keywords?, expected_route?}.") var dataset: String
    @Option(help: "The tenant to run for (default: ATLAS_DEFAULT_TENANT).") var tenant: String?
    @Option(help: "Exit with status 1 when fewer than this share of questions pass (0 to 1).") var minPassRate: Double = 0

    struct Case: Decodable {
        var question: String
        var expectedKeywords: [String]?
        var expectedRoute: String?

        enum CodingKeys: String, CodingKey {
            case question
            case expectedKeywords = "expected_keywords"
            case expectedRoute = "expected_route"
        }
    }

    struct Outcome {
        var route: String
        var groundedness: Double
        var latencyMs: Double
        var cached: Bool
        var passed: Bool
        var tokens: Int64
        var why: String
    }

    func validate() throws {
        guard (0...1).contains(minPassRate) else { throw ValidationError("--min-pass-rate must be between 0 and 1") }
        if let tenant, TenantID(tenant) == nil { throw ValidationError("--tenant: '\(tenant.prefix(64))' is not a valid tenant id") }
    }

    static func load(_ path: String) throws -> [Case] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ValidationError("--dataset: cannot read \(path)")
        }
        var cases: [Case] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            guard let item = try? JSONDecoder().decode(Case.self, from: Data(trimmed.utf8)),
                  !item.question.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("--dataset: line \(index + 1) is not an object with a non-empty \"question\" string")
            }
            if let route = item.expectedRoute, !["auto", "hitl"].contains(route) {
                throw ValidationError("--dataset: line \(index + 1): expected_route must be auto or hitl")
            }
            cases.append(item)
        }
        guard !cases.isEmpty else { throw ValidationError("--dataset: \(path) holds no questions") }
        return cases
    }

    func run() async throws {
        let cases = try Self.load(dataset)
        let session = try await AssistantSession.open(tenant: tenant)
        do {
            try await evaluate(cases, session: session)
            await session.close()
        } catch {
            await session.close()
            throw error
        }
    }

    private func evaluate(_ cases: [Case], session: AssistantSession) async throws {
        // Its own instance without a notifier: an evaluation must not page reviewers.
        let assistant = Assistant(retriever: session.ai.retriever, semanticCache: session.ai.semanticCache,
                                  configuration: session.assistant.configuration, budgetGuard: session.budgetGuard,
                                  usageMeter: session.usageMeter, notifier: nil, logger: session.application.logger)
        let graph = try assistant.makeGraph()
        try await session.checkBudget()
        var outcomes: [Outcome] = []
        let out = FileDescriptorWriter.standardOutput
        out.write(Self.row(["#", "route", "grounded", "latency_ms", "cached", "result", "question"]))
        for (index, item) in cases.enumerated() {
            let started = ContinuousClock.now
            let outcome: Outcome
            do {
                let result = try await graph.invoke(["question": .string(item.question)], config: RunConfig(tenant: session.tenant))
                let elapsed = ContinuousClock.now - started
                outcome = Self.judge(item, state: result.state, draft: result.interrupt?.payload["draft_response"]?.string,
                                     interrupted: result.status == .interrupted,
                                     latencyMs: Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
            } catch {
                outcome = Outcome(route: "error", groundedness: 0, latencyMs: 0, cached: false, passed: false, tokens: 0,
                                  why: String(describing: error).prefix(200).description)
            }
            outcomes.append(outcome)
            out.write(Self.row([String(index + 1), outcome.route, String(format: "%.2f", outcome.groundedness),
                                String(format: "%.1f", outcome.latencyMs), outcome.cached ? "yes" : "no",
                                outcome.passed ? "pass" : "FAIL", String(item.question.prefix(70))]))
            if !outcome.passed { out.write("      \(outcome.why)\n") }
        }
        let passed = outcomes.filter(\.passed).count
        let latencies = outcomes.map(\.latencyMs).sorted()
        let rate = Double(passed) / Double(outcomes.count)
        out.write("""

        questions \(outcomes.count)  passed \(passed)  failed \(outcomes.count - passed)  pass_rate \(String(format: "%.2f", rate))
        mean_grounded \(String(format: "%.2f", outcomes.map(\.groundedness).reduce(0, +) / Double(outcomes.count)))  \
        p50_latency_ms \(String(format: "%.1f", Self.percentile(latencies, 0.5)))  \
        p95_latency_ms \(String(format: "%.1f", Self.percentile(latencies, 0.95)))  \
        cached \(outcomes.filter(\.cached).count)  auto \(outcomes.filter { $0.route == "auto" }.count)  \
        hitl \(outcomes.filter { $0.route == "hitl" }.count)  tokens \(outcomes.map(\.tokens).reduce(0, +))

        """)
        if rate < minPassRate { throw ExitCode(1) }
    }

    static func judge(_ item: Case, state: GraphState, draft: String?, interrupted: Bool, latencyMs: Double) -> Outcome {
        let route = interrupted ? "hitl" : state["route"]?.string ?? "?"
        let response = (interrupted ? draft : state["response"]?.string) ?? ""
        var groundedness = 0.0
        if case .number(let value)? = state["evaluation"]?["groundedness"] { groundedness = value }
        var reasons: [String] = []
        let missing = (item.expectedKeywords ?? []).filter { !response.localizedCaseInsensitiveContains($0) }
        if !missing.isEmpty { reasons.append("missing keywords: \(missing.joined(separator: ", "))") }
        if let expected = item.expectedRoute, expected != route { reasons.append("route \(route), expected \(expected)") }
        return Outcome(route: route, groundedness: groundedness, latencyMs: latencyMs, cached: state["cached"] == .bool(true),
                       passed: reasons.isEmpty, tokens: state["usage"]?["total_tokens"]?.int64 ?? 0,
                       why: reasons.joined(separator: "; "))
    }

    static func row(_ columns: [String]) -> String {
        let widths = [4, 6, 9, 11, 7, 7, 0]
        return zip(columns, widths).map { column, width in
            width == 0 ? column : column.padding(toLength: max(width, column.count), withPad: " ", startingAt: 0)
        }.joined(separator: " ") + "\n"
    }

    static func percentile(_ sorted: [Double], _ share: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * share).rounded()))]
    }
}
