// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import AI
import ArgumentParser
import Auth
import Billing
import Core
import Foundation
import Storage

/// `atlas ai run "question" --tenant demo`: the reference CLI, made real. Runs the `assistant`
/// graph once, durably, on the configured database and prints the final state as JSON.
struct AIRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the assistant graph on a question and print the final state as JSON.",
        discussion: """
        Migrates the database and seeds the demo tenants as `atlas serve` does; a tenant without documents gets a small \
        built-in knowledge base first. A run that stops for human review prints its state with status `interrupted`; \
        resume it with `POST /ai/runs/{id}/resume`.
        """)

    @Argument(help: "The question.") var question: String
    @Option(help: "The tenant to run for (default: ATLAS_DEFAULT_TENANT).") var tenant: String?
    @Option(help: "Also write the final state to this file.") var dumpFile: String?

    func validate() throws {
        if question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ValidationError("the question must not be empty")
        }
        if let tenant, TenantID(tenant) == nil {
            throw ValidationError("--tenant: '\(tenant.prefix(64))' is not a valid tenant id")
        }
    }

    func run() async throws {
        let session = try await AssistantSession.open(tenant: tenant)
        do {
            let run = try await session.ask(question)
            let text = try AssistantSession.prettyJSON(AssistantSession.output(of: run))
            if let dumpFile {
                do {
                    try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: dumpFile), options: .atomic)
                } catch {
                    throw StartupError(message: "cannot write --dump-file \(dumpFile): \(error.localizedDescription)")
                }
            }
            FileDescriptorWriter.standardOutput.write(text + "\n")
            await session.close()
            if run.status == .failed { throw ExitCode(1) }
        } catch {
            await session.close()
            throw error
        }
    }
}

/// What `atlas ai run` and `atlas ai eval` share: the application wired as `atlas serve` wires
/// it (migrations, seed data, Billing's meter, budget guard and notice outbox), without HTTP.
struct AssistantSession {
    let application: Application
    let database: any Database
    let ai: AIModule
    let assistant: Assistant
    let tenant: TenantID
    let budgetGuard: any BudgetGuard
    let usageMeter: any UsageMeter

    /// Opens and migrates the database, seeds it, registers the assistant and makes sure the
    /// tenant exists and has a knowledge base.
    static func open(tenant name: String?) async throws -> AssistantSession {
        var values = EnvironmentReader().values
        // Standard output carries the JSON answer: logs stay quiet unless asked for.
        if EnvironmentReader(values).raw("ATLAS_LOG_LEVEL") == nil { values["ATLAS_LOG_LEVEL"] = "error" }
        let application = try Application(environment: EnvironmentReader(values))
        let database: any Database
        do {
            database = try await application.openDatabase()
        } catch let error as StorageError {
            throw StartupError(message: "cannot open \(application.database.redactedURL): \(error)")
        }
        do {
            try await application.migrate(database)
            let logger = application.logger
            let auth = try await AuthModule(database: database, configuration: application.auth, logger: logger)
            let billing = BillingModule(database: database, configuration: application.billing, logger: logger,
                                        auditLog: auth.auditLog, tenantPlanWriter: auth.tenantPlanWriter)
            auth.connect(usageLedger: billing.usageLedger, planChangeRecorder: billing.planChangeRecorder)
            try await auth.bootstrap()

            let tenant = name.flatMap { TenantID($0) } ?? auth.tenantDirectory.defaultTenant
            let cli = Principal(subject: .user(UserID("usr_cli")!), isPlatformAdmin: true, displayName: "atlas ai")
            guard let access = try await auth.tenantDirectory.access(of: cli, to: tenant) else {
                throw StartupError(message: "tenant '\(tenant)' does not exist (create it with POST /tenants)")
            }
            guard access.tenant.status == .active else {
                throw StartupError(message: "tenant '\(tenant)' is \(access.tenant.status)")
            }

            let ai = AIModule(database: database, configuration: application.ai, logger: logger, usageMeter: billing.usageMeter)
            let assistant = try ai.installAssistant(budgetGuard: billing.budgetGuard, usageMeter: billing.usageMeter,
                                                    notifier: billing.notifier, logger: logger)
            if try await ai.retriever.generation(of: tenant) == 0 {
                try await ai.ingest(DemoKnowledge.documents, tenant: tenant)
            }
            return AssistantSession(application: application, database: database, ai: ai, assistant: assistant, tenant: tenant,
                                    budgetGuard: billing.budgetGuard, usageMeter: billing.usageMeter)
        } catch {
            await database.close()
            throw error
        }
    }

    /// Runs the assistant once and returns the settled run. A 402 from the budget guard (or
    /// any refusal before the run starts) is reported as a one-line error.
    func ask(_ question: String) async throws -> RunRecord {
        try await checkBudget()
        do {
            _ = try assistant.validatedQuestion(["question": .string(question)])
            return try await ai.runs.invoke(graph: Assistant.graphName, input: ["question": .string(question)], tenant: tenant)
        } catch let error as any ProblemError {
            throw StartupError(message: "\(error.status) \(error.code): \(error.detail)", exitCode: error.status == 402 ? 2 : 1)
        }
    }

    /// The budget guard's refusal as a one-line error with exit status 2.
    func checkBudget() async throws {
        do {
            try await assistant.checkBudget(tenant)
        } catch let error as any ProblemError {
            throw StartupError(message: "\(error.status) \(error.code): \(error.detail)", exitCode: error.status == 402 ? 2 : 1)
        }
    }

    func close() async {
        await ai.runs.shutdown()
        await database.close()
    }

    /// The run's state with its id and status (and the pending review, when interrupted).
    static func output(of run: RunRecord) -> JSONValue {
        var object = run.state ?? [:]
        // Working keys the graph clears once used.
        object = object.filter { $0.value != .null || $0.key != "retrieved" }
        object["run_id"] = .string(run.id)
        object["status"] = .string(run.status.rawValue)
        if let interrupt = run.interrupt { object["interrupt"] = .object(["node": .string(interrupt.node), "payload": interrupt.payload]) }
        if let error = run.error { object["error"] = .string(error) }
        return .object(object)
    }

    static func prettyJSON(_ value: JSONValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
