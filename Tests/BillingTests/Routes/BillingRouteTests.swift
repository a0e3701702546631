// Atlas — BillingTests
// SPDX-License-Identifier: Apache-2.0

@testable import Billing
import Core
import Foundation
import HTTP
import HTTPTypes
import Storage
import Testing

@Suite struct BillingRouteTests {
    @Test(arguments: StorageBackend.all)
    func postUsage_Answers202WithAnID_AndRetriesWithTheSameKeyCountOnce(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let app = RouteHarness(database: database)
            let event: [String: Any] = ["tenant": app.acme.rawValue, "source": "ai-service", "tokens": 1200, "latency_ms": 85.5]
            let first = try await app.send(.post, "/metrics/usage", token: "member", body: event, headers: ["Idempotency-Key": "k-1"])
            #expect(first.status == 202)
            #expect(first.object["status"] as? String == "accepted")
            let id = try #require(first.object["id"] as? String)
            #expect(id.hasPrefix("use_"))
            let retry = try await app.send(.post, "/metrics/usage", token: "member", body: event, headers: ["Idempotency-Key": "k-1"])
            #expect(retry.status == 202 && retry.object["id"] as? String == id)
            #expect(retry.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            var changed = event
            changed["tokens"] = 1
            let reused = try await app.send(.post, "/metrics/usage", token: "member", body: changed, headers: ["Idempotency-Key": "k-1"])
            #expect(reused.status == 409 && reused.object["code"] as? String == "idempotency_key_reused")
            // The reference body: no source, no latency.
            let minimal = try await app.send(.post, "/metrics/usage", token: "owner", body: ["tenant": app.acme.rawValue, "tokens": 10])
            #expect(minimal.status == 202)
            let list = try await app.send(.get, "/tenants/\(app.acme.rawValue)/usage/events", token: "viewer")
            let events = list.object["events"] as? [[String: Any]] ?? []
            #expect(events.count == 2)
            #expect(events.last?["id"] as? String == id && events.last?["latency_ms"] as? Double == 85.5)
            #expect(events.first?["source"] as? String == "ai-service")
        }
    }

    @Test(arguments: StorageBackend.all)
    func postUsage_RefusesBadInputAndForeignTenants_WithClear4xx(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let app = RouteHarness(database: database)
            let acme = app.acme.rawValue
            let cases: [(String?, Any?, [UInt8]?, Int, String?)] = [
                (nil, ["tenant": acme, "tokens": 1], nil, 401, nil),
                ("viewer", ["tenant": acme, "tokens": 1], nil, 403, "permission_denied"),
                ("member", ["tenant": "nobody-here", "tokens": 1], nil, 404, "tenant_not_found"),
                ("key", ["tenant": acme, "tokens": 1], nil, 404, "tenant_not_found"),
                ("member", ["tenant": "Bad Tenant!", "tokens": 1], nil, 400, "invalid_tenant"),
                ("member", ["tenant": acme, "tokens": -5], nil, 422, "validation_failed"),
                ("member", ["tenant": acme, "tokens": "many"], nil, 422, "invalid_field"),
                ("member", ["tenant": acme], nil, 422, "missing_field"),
                ("member", ["tenant": acme, "tokens": 1, "latency_ms": -1], nil, 422, "validation_failed"),
                ("member", ["tenant": acme, "tokens": 1, "source": "has space"], nil, 422, "validation_failed"),
                ("member", nil, Array("{not json".utf8), 400, "malformed_json"),
                ("member", [] as [Any], nil, 422, "invalid_batch"),
            ]
            for (token, body, raw, status, code) in cases {
                let reply = try await app.send(.post, "/metrics/usage", token: token, body: body, raw: raw,
                                               headers: raw != nil ? ["Content-Type": "application/json"] : [:])
                #expect(reply.status == status, "\(String(describing: body)) → \(reply.text)")
                if let code { #expect(reply.object["code"] as? String == code, "\(reply.text)") }
                #expect(reply.object["detail"] is String || reply.status == 202)
            }
            let stored = try await database.read { try $0.queryScalar("SELECT COUNT(*) FROM billing_usage_events", as: Int64.self) }
            #expect(stored == 0)
        }
    }

    @Test(arguments: StorageBackend.all)
    func postUsage_AcceptsBatches_AsAnArrayOrAnEventsObject(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let app = RouteHarness(database: database)
            let acme = app.acme.rawValue
            let array: [[String: Any]] = (0..<5).map { ["tenant": acme, "tokens": 10 * ($0 + 1)] }
            let first = try await app.send(.post, "/metrics/usage", token: "member", body: array, headers: ["Idempotency-Key": "batch-1"])
            #expect(first.status == 202)
            #expect((first.object["ids"] as? [String])?.count == 5)
            let again = try await app.send(.post, "/metrics/usage", token: "member", body: array, headers: ["Idempotency-Key": "batch-1"])
            #expect(again.object["ids"] as? [String] == first.object["ids"] as? [String])
            #expect((again.object["results"] as? [[String: Any]])?.allSatisfy { $0["status"] as? String == "duplicate" } == true)
            let wrapped = try await app.send(.post, "/metrics/usage", token: "admin",
                                             body: ["events": [["tenant": acme, "tokens": 1, "idempotency_key": "own"],
                                                               ["tenant": app.globex.rawValue, "tokens": 2]]])
            #expect(wrapped.status == 202 && (wrapped.object["ids"] as? [String])?.count == 2)
            // One tenant the caller may not write to refuses the whole batch.
            let mixed = try await app.send(.post, "/metrics/usage", token: "member",
                                           body: [["tenant": acme, "tokens": 1], ["tenant": app.globex.rawValue, "tokens": 1]])
            #expect(mixed.status == 403)
            let daily = try await app.send(.get, "/metrics/usage/daily", token: "admin")
            let line = try #require(daily.array.first { $0["tenant"] as? String == acme })
            #expect(line["events"] as? Int == 6 && line["tokens"] as? Int == 151)
        }
    }

    @Test(arguments: StorageBackend.all)
    func dailySummary_HasTheReferenceFields_OnlyForTenantsTheCallerMaySee(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let app = RouteHarness(database: database)
            for (tenant, latency) in [(app.acme, 100.0), (app.acme, 300.0), (app.globex, 50.0)] {
                let reply = try await app.send(.post, "/metrics/usage", token: "admin",
                                               body: ["tenant": tenant.rawValue, "tokens": 100, "latency_ms": latency])
                #expect(reply.status == 202)
            }
            let admin = try await app.send(.get, "/metrics/usage/daily?hours=6", token: "admin")
            #expect(admin.status == 200)
            let acme = try #require(admin.array.first { $0["tenant"] as? String == app.acme.rawValue })
            #expect(Set(acme.keys) == ["tenant", "events", "tokens", "latency_ms", "window_hours", "p50_latency_ms", "p95_latency_ms"])
            #expect(acme["events"] as? Int == 2 && acme["tokens"] as? Int == 200)
            #expect(acme["latency_ms"] as? Double == 200 && acme["window_hours"] as? Int == 6)
            #expect((acme["p50_latency_ms"] as? Double).map { abs($0 - 100) < 26 } == true)
            #expect((acme["p95_latency_ms"] as? Double).map { abs($0 - 300) < 78 } == true)
            #expect(admin.array.contains { $0["tenant"] as? String == app.globex.rawValue })
            // The owner of acme sees acme only; the API key of globex sees globex only.
            let owner = try await app.send(.get, "/metrics/usage/daily", token: "owner")
            #expect(owner.array.map { $0["tenant"] as? String } == [app.acme.rawValue])
            let key = try await app.send(.get, "/metrics/usage/daily", token: "key")
            #expect(key.array.map { $0["tenant"] as? String } == [app.globex.rawValue])
            #expect(try await app.send(.get, "/metrics/usage/daily?hours=0", token: "admin").status == 400)
            #expect(try await app.send(.get, "/metrics/usage/daily?hours=abc", token: "admin").status == 400)
            #expect(try await app.send(.get, "/metrics/usage/daily").status == 401)
        }
    }

    @Test(arguments: StorageBackend.all)
    func usageEvents_PageWithACursor_AndATimeRange(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let app = RouteHarness(database: database)
            let body: [[String: Any]] = (1...7).map { ["tenant": app.acme.rawValue, "tokens": $0] }
            #expect(try await app.send(.post, "/metrics/usage", token: "member", body: body).status == 202)
            var seen: [String] = []
            var cursor: String?
            repeat {
                let target = "/tenants/\(app.acme.rawValue)/usage/events?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await app.send(.get, target, token: "viewer")
                #expect(page.status == 200)
                seen += (page.object["events"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page.object["next_cursor"] as? String
            } while cursor != nil
            #expect(seen.count == 7 && Set(seen).count == 7)
            let future = try await app.send(.get, "/tenants/\(app.acme.rawValue)/usage/events?from=2999-01-01T00:00:00Z", token: "viewer")
            #expect((future.object["events"] as? [Any])?.isEmpty == true)
            let past = try await app.send(.get, "/tenants/\(app.acme.rawValue)/usage/events?to=2000-01-01T00:00:00Z", token: "viewer")
            #expect((past.object["events"] as? [Any])?.isEmpty == true)
            #expect(try await app.send(.get, "/tenants/\(app.acme.rawValue)/usage/events?cursor=%27;DROP", token: "viewer").status == 400)
            #expect(try await app.send(.get, "/tenants/\(app.acme.rawValue)/usage/events?from=yesterday", token: "viewer").status == 400)
            #expect(try await app.send(.get, "/tenants/\(app.acme.rawValue)/usage/events?limit=5000", token: "viewer").status == 400)
            // Another tenant's events: 404, its existence not revealed.
            #expect(try await app.send(.get, "/tenants/\(app.acme.rawValue)/usage/events", token: "key").status == 404)
        }
    }

    @Test(arguments: StorageBackend.all)
    func preview_ChargesOverageOnPeriodUsage_ExactToTheCent(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let app = RouteHarness(database: database)
            #expect(try await app.send(.post, "/metrics/usage", token: "member", body: ["tenant": app.acme.rawValue, "tokens": 171_234]).status == 202)
            let reply = try await app.send(.get, "/billing/\(app.acme.rawValue)/preview", token: "owner")
            #expect(reply.status == 200)
            let document = reply.object
            #expect(document["tenant"] as? String == app.acme.rawValue && document["plan"] as? String == "growth")
            // $249 + 21,234 × $0.0005 = $259.617 → $259.62
            #expect(reply.text.contains("\"estimated_amount_usd\":259.62"))
            #expect(document["estimated_amount_cents"] as? Int == 25_962)
            #expect(document["next_charge_date"] is String)
            let lines = document["line_items"] as? [[String: Any]] ?? []
            #expect(lines.map { $0["kind"] as? String } == ["base", "overage"])
            #expect(lines.last?["quantity"] as? Int == 21_234)
            #expect(try await app.send(.get, "/billing/\(app.acme.rawValue)/preview", token: "member").status == 403)
            #expect(try await app.send(.get, "/billing/\(app.acme.rawValue)/preview", token: "key").status == 404)
        }
    }

    @Test(arguments: StorageBackend.all)
    func budget_IsReadByBillingReadersAndChangedOnlyByManagers(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let app = RouteHarness(database: database)
            let path = "/tenants/\(app.acme.rawValue)/budget"
            let initial = try await app.send(.get, path, token: "owner")
            #expect(initial.status == 200 && initial.object["monthly_tokens"] is NSNull)
            #expect(initial.object["alert_thresholds"] as? [Int] == [80, 100])
            #expect(try await app.send(.put, path, token: "member", body: ["monthly_tokens": 1000]).status == 403)
            #expect(try await app.send(.put, path, token: "owner", body: ["monthly_tokens": -3]).status == 422)
            #expect(try await app.send(.put, path, token: "owner", body: ["monthly_tokens": 1000, "alert_thresholds": [0]]).status == 422)
            let saved = try await app.send(.put, path, token: "owner", body: ["monthly_tokens": 1000, "alert_thresholds": [50, 90]])
            #expect(saved.status == 200 && saved.object["monthly_tokens"] as? Int == 1000 && saved.object["alert_thresholds"] as? [Int] == [50, 90])
            #expect(try await app.send(.post, "/metrics/usage", token: "member", body: ["tenant": app.acme.rawValue, "tokens": 600]).status == 202)
            let after = try await app.send(.get, path, token: "owner")
            #expect(after.object["used_tokens"] as? Int == 600 && after.object["remaining_tokens"] as? Int == 400)
            #expect((after.object["alerts"] as? [[String: Any]])?.map { $0["threshold_percent"] as? Int } == [50])
        }
    }

    @Test(arguments: StorageBackend.all)
    func stripeWebhook_Answers200Accepted_400ForBadSignatures_AndShowsTheSubscription(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let app = RouteHarness(database: database)
            let now = Int64(Date().timeIntervalSince1970)
            let body = StripeFixtures.event(id: "evt_route_1", type: "customer.subscription.updated", created: now - 5,
                                            object: StripeFixtures.subscription(id: "sub_r", customer: "cus_r", status: "past_due",
                                                                                lookupKey: "scale", tenant: app.acme.rawValue))
            let signature = try StripeFixtures.pythonSignature(secret: "whsec_routes", timestamp: now, payload: body)
            let good = try await app.send(.post, "/webhooks/stripe", raw: body,
                                          headers: ["Stripe-Signature": "t=\(now),v1=\(signature)", "Content-Type": "application/json"])
            #expect(good.status == 200 && good.text == #"{"status":"accepted"}"#)
            let replay = try await app.send(.post, "/webhooks/stripe", raw: body, headers: ["Stripe-Signature": "t=\(now),v1=\(signature)"])
            #expect(replay.status == 200 && replay.text == #"{"status":"accepted"}"#)
            let bad = try await app.send(.post, "/webhooks/stripe", raw: body, headers: ["Stripe-Signature": "t=\(now),v1=\(String(signature.reversed()))"])
            #expect(bad.status == 400 && bad.object["code"] as? String == "invalid_signature" && bad.object["detail"] is String)
            #expect(try await app.send(.post, "/webhooks/stripe", raw: body).status == 400)

            let subscription = try await app.send(.get, "/billing/\(app.acme.rawValue)/subscription", token: "owner")
            #expect(subscription.status == 200)
            #expect(subscription.object["status"] as? String == "past_due" && subscription.object["subscription_plan"] as? String == "scale")
            #expect(subscription.object["subscription_id"] as? String == "sub_r" && subscription.object["ai_usage_allowed"] as? Bool == true)
            #expect(subscription.object["ai_usage_refused_from"] is String)
            #expect(try await app.send(.get, "/billing/\(app.acme.rawValue)/subscription", token: "viewer").status == 403)
        }
    }
}
