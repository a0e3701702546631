// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import Auth
import Core
import Foundation
import HTTP
import HTTPTypes
import Logging
import Storage
import Synchronization
import Testing

/// What Auth does with the contracts other modules implement or consume: the usage ledger and
/// plan recorder (Billing's, connected after construction), the plan writer Auth offers, and a
/// second instance on the same database.
@Suite struct CollaborationTests {
    /// A ledger kept in memory: the Core contract implemented as plainly as possible, since the
    /// module that implements it for real is not a dependency of these tests.
    final class MemoryLedger: UsageLedger, PlanChangeRecorder, Sendable {
        let adjustments = Mutex<[String: (tokens: Int64, requests: Int64)]>([:])
        let plans = Mutex<[(String, TenantPlan)]>([])

        func periodTotals(for tenant: TenantID, at date: Date) async throws -> UsagePeriodTotals {
            let (tokens, requests) = adjustments.withLock { $0[tenant.rawValue] ?? (0, 0) }
            return UsagePeriodTotals(tenant: tenant, periodStart: date, periodEnd: date, meteredTokens: 1000, meteredEvents: 10,
                                     adjustedTokens: tokens, adjustedRequests: requests)
        }

        func adjust(_ tenant: TenantID, tokensDelta: Int64, requestsDelta: Int64, actor: String) async throws -> UsagePeriodTotals {
            adjustments.withLock { all in
                let current = all[tenant.rawValue] ?? (0, 0)
                all[tenant.rawValue] = (current.tokens + tokensDelta, current.requests + requestsDelta)
            }
            return try await periodTotals(for: tenant, at: Date())
        }

        func planChanged(tenant: TenantID, to plan: TenantPlan, at date: Date) async throws {
            plans.withLock { $0.append((tenant.rawValue, plan)) }
        }
    }

    @Test(arguments: Backend.all)
    func usesTheConnectedLedger_ForSummariesAndAdjustments(backend: Backend) async throws {
        try await withMigratedDatabase(backend) { db in
            let module = try await AuthModule(database: db, configuration: try TestApp.configuration(), logger: Logger(label: "test"))
            let ledger = MemoryLedger()
            module.connect(usageLedger: ledger, planChangeRecorder: ledger)
            try await module.bootstrap()
            try await module.bootstrap()
            let router = Router()
            module.registerRoutes(on: router)

            func send(_ method: HTTPRequest.Method, _ target: String, token: String? = nil, json: [String: Any]? = nil) async throws -> [String: Any] {
                var fields = HTTPFields()
                if let token { fields[.authorization] = "Bearer \(token)" }
                var body: [UInt8] = []
                if let json {
                    fields[.contentType] = "application/json"
                    body = Array(try JSONSerialization.data(withJSONObject: json))
                }
                let response = await router.respond(to: try Request(method: method, target: target, headers: fields, body: body))
                return try JSONSerialization.jsonObject(with: Data(response.body.bytes ?? [])) as? [String: Any] ?? [:]
            }
            let token = try #require(try await send(.post, "/auth/token", json: ["username": "admin@atlas", "password": "atlas"])["access_token"] as? String)
            let demo = try await send(.get, "/tenants/demo", token: token)
            // The ledger is the one source: its period (here 1,000 metered tokens, 10 events), not
            // the counters Auth seeded for running without one.
            #expect((demo["usage"] as? [String: Any])?["tokens"] as? Int == 1000)
            #expect((demo["usage"] as? [String: Any])?["requests"] as? Int == 10)
            let adjusted = try await send(.post, "/tenants/demo/usage", token: token, json: ["tokens_delta": 5000, "requests_delta": 50])
            #expect((adjusted["usage"] as? [String: Any])?["tokens"] as? Int == 6000)
            #expect((adjusted["usage"] as? [String: Any])?["requests"] as? Int == 60)
            _ = try await send(.patch, "/tenants/acme", token: token, json: ["plan": "scale"])
            _ = try await send(.post, "/tenants", token: token, json: ["tenant": "initech", "plan": "trial"])
            let reported = ledger.plans.withLock { $0 }
            #expect(reported.count == 2)
            #expect(reported.contains { $0 == ("acme", .scale) })
            #expect(reported.contains { $0 == ("initech", .trial) })
        }
    }

    /// Totals read on the connection of Auth's own read: the reader gets a live connection inside
    /// a transaction (it queries the tenant table through it), and its numbers, not the async
    /// ledger's, are what `GET /tenants/current` and `GET /tenants/{tenant}` show; plan and status
    /// come from the request's resolved tenant.
    final class TableLedgerTotals: LedgerTotalsReader {
        let calls = Mutex<[String]>([])
        func periodTotals(for tenant: TenantID, at date: Date, on connection: any Connection) throws -> UsagePeriodTotals {
            calls.withLock { $0.append(tenant.rawValue) }
            let tenants = try connection.queryFirst("SELECT count(*) AS n FROM core_tenants")?.decode("n", as: Int64.self) ?? 0
            return UsagePeriodTotals(tenant: tenant, periodStart: date, periodEnd: date, meteredTokens: 7 * tenants, meteredEvents: tenants,
                                     adjustedTokens: 0, adjustedRequests: 0)
        }
    }

    @Test(arguments: Backend.all)
    func readsTheLedgerTotalsOnAuthsConnection(backend: Backend) async throws {
        try await withMigratedDatabase(backend) { db in
            let module = try await AuthModule(database: db, configuration: try TestApp.configuration(), logger: Logger(label: "test"))
            let ledger = MemoryLedger()
            let totals = TableLedgerTotals()
            module.connect(usageLedger: ledger, planChangeRecorder: ledger, ledgerTotals: totals)
            try await module.bootstrap()
            let router = Router()
            module.registerRoutes(on: router)
            func send(_ target: String, token: String? = nil, tenant: String? = nil) async throws -> (Int, [String: Any]) {
                var fields = HTTPFields()
                if let token { fields[.authorization] = "Bearer \(token)" }
                if let tenant { fields[HTTPField.Name("X-Atlas-Tenant")!] = tenant }
                let response = await router.respond(to: try Request(method: .get, target: target, headers: fields))
                return (response.status.code, try JSONSerialization.jsonObject(with: Data(response.body.bytes ?? [])) as? [String: Any] ?? [:])
            }
            let login = try Request(method: .post, target: "/auth/token", headers: [.contentType: "application/json"],
                                    body: Array(#"{"username":"admin@atlas","password":"atlas"}"#.utf8))
            let grant = try JSONSerialization.jsonObject(with: Data(await router.respond(to: login).body.bytes ?? [])) as? [String: Any]
            let token = try #require(grant?["access_token"] as? String)
            let tenantCount = try await db.read { try $0.queryFirst("SELECT count(*) AS n FROM core_tenants")?.decode("n", as: Int.self) ?? 0 }

            let (status, current) = try await send("/tenants/current", token: token, tenant: "demo")
            #expect(status == 200)
            #expect(current["tenant"] as? String == "demo")
            #expect((current["usage"] as? [String: Any])?["tokens"] as? Int == 7 * tenantCount)
            #expect((current["usage"] as? [String: Any])?["requests"] as? Int == tenantCount)
            #expect((current["usage"] as? [String: Any])?["plan"] as? String == "scale")
            let (_, detail) = try await send("/tenants/acme", token: token)
            #expect((detail["usage"] as? [String: Any])?["tokens"] as? Int == 7 * tenantCount)
            #expect(detail["status"] as? String == "active")
            #expect(totals.calls.withLock { $0 } == ["demo", "acme"])
            // An unknown tenant is a 404 before the reader is asked.
            #expect(try await send("/tenants/nowhere", token: token).0 == 404)
            #expect(totals.calls.withLock { $0.count } == 2)
        }
    }

    @Test(arguments: Backend.all)
    func offersAnIdempotentPlanWriter(backend: Backend) async throws {
        try await withApp(backend) { app in
            try await app.module.tenantPlanWriter.setPlan(.trial, for: TenantID("acme")!, actor: "stripe:evt_1")
            try await app.module.tenantPlanWriter.setPlan(.trial, for: TenantID("acme")!, actor: "stripe:evt_1")
            let admin = try await app.login()
            #expect(try await app.send(.get, "/tenants/acme", token: admin)["plan"] as? String == "trial")
            let audit = try await app.send(.get, "/tenants/acme/audit", token: admin)
            let changes = (audit["items"] as? [[String: Any]] ?? []).filter { $0["action"] as? String == "tenants.plan_changed" }
            #expect(changes.count == 1)
            #expect(changes.first?["actor"] as? String == "stripe:evt_1")
            await #expect(throws: AuthError.self) {
                try await app.module.tenantPlanWriter.setPlan(.trial, for: TenantID("nowhere")!, actor: "stripe:evt_2")
            }
        }
    }

    /// Two instances on one database: a change made through one is seen by the other once the
    /// other's short-lived cache entries expire (ATLAS_AUTH_CACHE_SECONDS), never later.
    @Test(arguments: Backend.all)
    func anotherInstanceSeesRevocationsWithinTheCacheTime(backend: Backend) async throws {
        let clock = TestClock()
        try await withApp(backend, clock: clock) { app in
            let other = try await AuthModule(
                database: app.database, configuration: try TestApp.configuration(), logger: Logger(label: "other"), clock: { clock.now })
            let router = Router()
            other.registerRoutes(on: router)
            func status(_ target: String, _ credential: String) async throws -> Int {
                let request = try Request(method: .get, target: target, headers: [.authorization: "Bearer \(credential)"])
                return await router.respond(to: request).status.code
            }
            let session = try await app.grant("admin@atlas", "atlas")
            let member = try await app.makeMember("acme", role: .admin)
            let (keyID, key) = try await app.makeKey("acme", role: .viewer)
            #expect(try await status("/auth/me", session.access) == 200)
            #expect(try await status("/tenants/acme/members", member.token) == 200)
            #expect(try await status("/tenants/current", key) == 200)

            let admin = try await app.login()
            #expect(try await app.send(.post, "/auth/logout", token: session.access).status == 204)
            #expect(try await app.send(.delete, "/tenants/acme/members/\(member.id)", token: admin).status == 204)
            #expect(try await app.send(.delete, "/tenants/acme/api-keys/\(keyID)", token: admin).status == 204)

            clock.advance(by: 1.01)
            #expect(try await status("/auth/me", session.access) == 401)
            #expect(try await status("/tenants/acme/members", member.token) == 404)
            #expect(try await status("/tenants/current", key) == 401)
        }
    }
}
