// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

import AI
import AtlasTestSupport
import Billing
import Core
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTP
import ServiceLifecycle
import Storage
import Telemetry
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One Telemetry module fed by real modules the way the composition root wires them: storage
/// opened with Telemetry's factory, Billing's outbox worker, the AI assistant, and an HTTP server
/// on 127.0.0.1 serving `/metrics`.
final class ServedMetrics: Sendable {
    static let token = "s3cret"
    let telemetry: TelemetryModule
    let test: IsolatedTestDatabase
    let database: any Database
    let billing: BillingModule
    let ai: AIModule
    let server: HTTPServer
    let port: Int
    let tenant: TenantID

    private init(telemetry: TelemetryModule, test: IsolatedTestDatabase, database: any Database, billing: BillingModule,
                 ai: AIModule, server: HTTPServer, port: Int, tenant: TenantID) {
        (self.telemetry, self.test, self.database, self.billing, self.ai, self.server, self.port, self.tenant) =
            (telemetry, test, database, billing, ai, server, port, tenant)
    }

    /// Builds everything, runs `body`, then stops the server and removes the database.
    static func with<R: Sendable>(_ backend: TestBackend, environment: [String: String] = [:],
                                  _ body: (ServedMetrics) async throws -> R) async throws -> R {
        let telemetry = try TelemetryModule(environment: EnvironmentReader(environment.merging(["ATLAS_METRICS_TOKEN": token]) { $1 }))
        let test = try await IsolatedTestDatabase.make(backend, prefix: "telemetry")
        let database: any Database
        do {
            database = try await openDatabase(url: test.url, configuration: DatabaseConfiguration(poolSize: 3),
                                              logger: IsolatedTestDatabase.quiet, metrics: telemetry.metricsFactory)
            try await Migrator(database: database, logger: IsolatedTestDatabase.quiet).migrate()
        } catch {
            await test.remove()
            throw error
        }
        // Alerts go to a port nothing listens on, so each delivery fails fast and is retried
        // much later than the test lasts.
        let billing = BillingModule(
            database: database,
            configuration: BillingConfiguration(alertWebhookURL: URL(string: "http://127.0.0.1:\(closedPort())/hook"),
                                                alertWebhookTimeout: 5, alertBackoff: 3600,
                                                outboxPollInterval: .milliseconds(50)),
            logger: IsolatedTestDatabase.quiet, metrics: telemetry.metricsFactory)
        let ai = AIModule(database: database, configuration: AIModule.Configuration(), logger: IsolatedTestDatabase.quiet,
                          usageMeter: billing.usageMeter, metrics: telemetry.metricsFactory)
        let router = Router()
        router.useStandardMiddleware(configuration: HTTPServer.Configuration(), accessLog: nil,
                                     metrics: telemetry.metricsRecorder, compression: false)
        telemetry.installMiddleware(on: router)
        _ = router.inline.get("/health/live") { _, _ in Response.text("ok") }
        telemetry.registerMetricsRoute(on: router, counters: [
            counterSource(prefix: "atlas_billing_", labelName: "reason", billing.counters),
            counterSource(prefix: "atlas_ai_", labelName: "kind", ai.counters),
        ])
        let server = HTTPServer(router: router, configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0, eventLoops: 1,
                                                                                        workerThreads: 2),
                                logger: IsolatedTestDatabase.quiet)
        telemetry.contribute { [server] in
            [ContributedSample(name: "atlas_http_open_connections", value: Double(server.openConnections))]
        }
        let result: Result<R, any Error>
        do {
            result = .success(try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                defer {
                    server.shutdownGracefully()
                    group.cancelAll()
                }
                let served = ServedMetrics(telemetry: telemetry, test: test, database: database, billing: billing, ai: ai,
                                           server: server, port: try await server.listeningPort, tenant: uniqueTenant("obs"))
                return try await body(served)
            })
        } catch {
            result = .failure(error)
        }
        await ai.runs.shutdown()
        await database.close()
        await test.remove()
        return try result.get()
    }

    /// `GET /metrics` over a real connection, parsed by prometheus_client.
    func scrape() async throws -> [ParsedSample] {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        request.setValue("Bearer \(Self.token)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw PythonFailure(message: "scrape: \(response)") }
        return try parsePrometheus(String(decoding: data, as: UTF8.self))
    }

    /// The traffic every feature's metrics need: an assistant question asked twice (a model call,
    /// then a cache hit), an operator notice whose delivery fails, storage reads and writes.
    func exercise() async throws {
        try await ai.ingest([DocumentInput(title: "Refunds", text: "Refunds are issued within five business days to the original payment method.")],
                            tenant: tenant)
        _ = try ai.installAssistant(budgetGuard: billing.budgetGuard, usageMeter: billing.usageMeter, notifier: billing.notifier,
                                    logger: IsolatedTestDatabase.quiet)
        for question in ["How are refunds issued?", "How are refunds issued?"] {
            let run = try await ai.runs.invoke(graph: Assistant.graphName, input: ["question": .string(question)], tenant: tenant)
            guard run.status == .completed else { throw PythonFailure(message: "run \(run.status): \(run.error ?? "")") }
        }
        try await billing.notifier.notify(OperatorNotice(type: "ai.review_requested", id: "notice-\(tenant.rawValue)",
                                                         tenant: tenant, summary: "a run waits for review"))
        // The outbox worker runs until its one delivery attempt has failed and been scheduled again.
        let worker = try #require(billing.services.first)
        let running = Task { try await worker.run() }
        defer { running.cancel() }
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let samples = try await scrape()
            if value(samples, "atlas_billing_outbox_retries_total", ["reason": "operator.notice"]) == 1,
               value(samples, "atlas_billing_outbox_pending", [:]) == 1 {
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        running.cancel()
        _ = await running.result
    }

    /// Tokens billed to `tenant` by the assistant, from Billing's own table.
    func meteredTokens() async throws -> Int64 {
        let tenant = self.tenant.rawValue
        return try await database.read { conn in
            try conn.queryScalar("SELECT COALESCE(SUM(tokens), 0) FROM billing_usage_events WHERE tenant_id = \(tenant) AND source LIKE 'ai.assistant:%'",
                                 as: Int64.self) ?? 0
        }
    }

    /// A port that refuses connections: bound, never listened on, for as long as the process runs.
    private static func closedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// An idle client connection to `port`, closed by ``close()``.
struct IdleConnection {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw PythonFailure(message: "connect failed") }
    }

    func close() { _ = Glibc.close(fd) }
}

/// The value of the first sample named `name` whose labels include `labels`.
func value(_ samples: [ParsedSample], _ name: String, _ labels: [String: String]) -> Double? {
    samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
}

/// The sum of every sample named `name` whose labels include `labels`.
func total(_ samples: [ParsedSample], _ name: String, _ labels: [String: String] = [:]) -> Double {
    samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
        .map(\.value).reduce(0, +)
}
