// Atlas — DataTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
import Core
@testable import DataPlatform
import Foundation
import HTTP
import HTTPTypes
import Storage
import Testing

/// The feature store over a model table on both backends: materialisation, online reads with age
/// and ttl, point-in-time reads, the catalog lookup and the route's tenant isolation.
@Suite struct FeatureStoreTests {

    static var referenceView: FeatureView {
        let yaml = (try? String(contentsOfFile: "/work/shared/reference/data/feature-store/tenant_context.yaml", encoding: .utf8)) ?? fallbackYAML
        return try! FeatureView.parse(yaml)[0]
    }

    /// The reference view, for machines without the shared folder.
    static let fallbackYAML = """
        features:
          - name: tenant_ai_context
            entities: [tenant]
            ttl: 1h
            inputs:
              - ref: transformations.models.marts.fct_ai_context
            schema:
              tenant: string
              dataset_name: string
              plan: string
              tokens: int
              requests: int
              last_refresh: timestamp
        """

    /// The table a run of the reference mart leaves (`data_model_fct_ai_context`).
    func buildMart(_ database: any Database, _ rows: [(String, String, String, Int, Int, String)]) async throws {
        try await database.transaction(tenant: "*") { conn in
            try conn.execute("DROP TABLE IF EXISTS data_model_fct_ai_context")
            try conn.execute("CREATE TABLE data_model_fct_ai_context (tenant TEXT, dataset_name TEXT, plan TEXT, tokens BIGINT, requests BIGINT, last_refresh TEXT)")
            for row in rows {
                try conn.execute("""
                    INSERT INTO data_model_fct_ai_context VALUES (\(row.0), \(row.1), \(row.2), \(row.3), \(row.4), \(row.5))
                    """)
            }
        }
    }

    @Test func parsesTheReferenceView() throws {
        let view = Self.referenceView
        #expect(view.name == "tenant_ai_context" && view.entity == "tenant" && view.ttl == 3600 && view.model == "fct_ai_context")
        #expect(view.features.map(\.name) == ["dataset_name", "plan", "tokens", "requests", "last_refresh"])
        #expect(view.table == "data_model_fct_ai_context" && view.entityIsTenant)
        #expect(FeatureView.parseDuration("30m") == 1800 && FeatureView.parseDuration("1d") == 86_400 && FeatureView.parseDuration("1x") == nil)
        #expect(throws: SourceConfigurationError.self) { try FeatureView.parse("features:\n  - name: v\n    entities: [a, b]\n    ttl: 1h\n    inputs: [{ref: m}]\n    schema: {a: string, x: int}\n") }
        #expect(throws: SourceConfigurationError.self) { try FeatureView.parse("features:\n  - name: v\n    entities: [a]\n    ttl: soon\n    inputs: [{ref: m}]\n    schema: {a: string, x: int}\n") }
    }

    @Test(arguments: IngestBackend.all)
    func materialisesAndServesWithAgeAndTTL(_ backend: IngestBackend) async throws {
        try await withIngestDatabase(backend) { database, _ in
            let clock = IngestClock()
            let store = FeatureStore(database: database, views: [Self.referenceView], logger: IngestTestDatabase.quiet, now: { clock.now })
            // Not built yet: skipped, nothing served.
            #expect(try await store.materialize(models: ["fct_ai_context"]).isEmpty)
            try await buildMart(database, [
                ("demo", "Refund policy", "scale", 120_000, 540, "2024-05-01T00:00:00Z"),
                ("demo", "Shipping times", "scale", 120_000, 540, "2024-05-03T00:00:00Z"),
                ("acme", "Onboarding", "growth", 42_000, 210, "2024-04-01T00:00:00Z"),
                ("bad tenant!", "x", "trial", 0, 0, "2024-04-01T00:00:00Z"),
            ])
            let reports = try await store.materialize(models: ["fct_ai_context"])
            #expect(reports.first?.entities == 2)
            clock.advance(by: 90)
            let demo = try #require(try await store.online(view: "tenant_ai_context", entity: "demo", tenant: TenantID("demo")!))
            #expect(demo.values.values["dataset_name"] == .string("Shipping times"), "the row with the latest timestamp")
            #expect(demo.values.values["tokens"] == .number(120_000))
            #expect(demo.values.values["last_refresh"] == .string("2024-05-03T00:00:00Z"))
            #expect(demo.values.values["tenant"] == nil)
            #expect(abs(demo.age - 90) < 0.01)
            // Another tenant's entity is not visible from this tenant.
            #expect(try await store.online(view: "tenant_ai_context", entity: "acme", tenant: TenantID("demo")!) == nil)
            let features = try await store.features(for: TenantID("demo")!)
            #expect(features["tenant_ai_context.plan"] == .string("scale"))
            #expect(features["tenant_ai_context.requests"] == .number(540))
            #expect(features.count == 5)

            clock.advance(by: 3600)
            await #expect(throws: FeatureError.self) { try await store.online(view: "tenant_ai_context", entity: "demo", tenant: TenantID("demo")!) }
            #expect(try await store.features(for: TenantID("demo")!).isEmpty)
            await #expect(throws: FeatureError.self) { try await store.online(view: "nope", entity: "demo", tenant: TenantID("demo")!) }
        }
    }

    @Test(arguments: IngestBackend.all)
    func pointInTimeReadsReturnWhatWasKnownThen(_ backend: IngestBackend) async throws {
        try await withIngestDatabase(backend) { database, _ in
            let clock = IngestClock(Date(timeIntervalSince1970: 1_800_000_000))
            let t1 = clock.now
            let store = FeatureStore(database: database, views: [Self.referenceView], logger: IngestTestDatabase.quiet, now: { clock.now })
            try await buildMart(database, [("demo", "Refund policy", "growth", 100, 1, "2024-05-01T00:00:00Z")])
            try await store.materialize()
            clock.advance(by: 600)
            let t2 = clock.now
            try await buildMart(database, [("demo", "Refund policy", "scale", 200, 2, "2024-05-01T00:00:00Z")])
            try await store.materialize()
            let demo = TenantID("demo")!
            func tokens(at time: Date) async throws -> JSONValue? {
                try await store.values(view: "tenant_ai_context", entity: "demo", tenant: demo, asOf: time)?.values["tokens"]
            }
            #expect(try await tokens(at: t1.addingTimeInterval(-1)) == nil)
            #expect(try await tokens(at: t1) == .number(100))
            #expect(try await tokens(at: t1.addingTimeInterval(300)) == .number(100))
            #expect(try await tokens(at: t2) == .number(200))
            #expect(try await tokens(at: t2.addingTimeInterval(3599)) == .number(200))
            #expect(try await tokens(at: t2.addingTimeInterval(3601)) == nil, "past the ttl")
            #expect(try await store.values(view: "tenant_ai_context", entity: "demo", tenant: TenantID("acme")!, asOf: t2) == nil)
            let online = try #require(try await store.online(view: "tenant_ai_context", entity: "demo", tenant: demo))
            #expect(online.values.values["plan"] == .string("scale"))
        }
    }

    @Test(arguments: IngestBackend.all)
    func timestampFieldSetsTheEventTime(_ backend: IngestBackend) async throws {
        try await withIngestDatabase(backend) { database, _ in
            let view = try FeatureView(name: "article_freshness", entity: "dataset_name", ttl: 86_400 * 365 * 50, model: "fct_ai_context",
                                       schema: [SourceColumn(name: "dataset_name", type: .string), SourceColumn(name: "tokens", type: .int),
                                                SourceColumn(name: "last_refresh", type: .timestamp)],
                                       timestampField: "last_refresh")
            let store = FeatureStore(database: database, views: [view], logger: IngestTestDatabase.quiet, now: { Date() })
            try await buildMart(database, [("demo", "Refunds", "scale", 7, 1, "2024-05-01T00:00:00Z"), ("acme", "Refunds", "growth", 9, 1, "2024-06-01T00:00:00Z")])
            try await store.materialize()
            let demo = try #require(try await store.online(view: "article_freshness", entity: "Refunds", tenant: TenantID("demo")!))
            #expect(demo.values.eventTime == Date(timeIntervalSince1970: 1_714_521_600))
            #expect(demo.values.values["tokens"] == .number(7), "the entity is per tenant: acme's row stays acme's")
            let acme = try #require(try await store.online(view: "article_freshness", entity: "Refunds", tenant: TenantID("acme")!))
            #expect(acme.values.values["tokens"] == .number(9))
        }
    }

    @Test(arguments: IngestBackend.all)
    func routeServesOnlyTheEntityTenant(_ backend: IngestBackend) async throws {
        try await withIngestDatabase(backend) { database, _ in
            let harness = IngestRouteHarness()
            let acme = harness.acme.rawValue
            let clock = IngestClock()
            let store = FeatureStore(database: database, views: [Self.referenceView], logger: IngestTestDatabase.quiet, now: { clock.now })
            store.registerRoutes(on: harness.routes)
            try await buildMart(database, [(acme, "Onboarding", "growth", 42_000, 210, "2024-04-01T00:00:00Z"),
                                           (harness.globex.rawValue, "Secret", "scale", 1, 1, "2024-04-01T00:00:00Z")])
            try await store.materialize()
            clock.advance(by: 12)

            let viewer = try await harness.send(.get, "/features/tenant_ai_context/\(acme)", token: "viewer")
            #expect(viewer.status == 200, "\(viewer.text)")
            #expect(abs((viewer.object["age_seconds"] as? Double ?? 0) - 12) < 0.01)
            #expect(viewer.object["ttl_seconds"] as? Double == 3600)
            #expect((viewer.object["values"] as? [String: Any])?["plan"] as? String == "growth")
            #expect(viewer.object["event_time"] is String)

            // Another tenant's entity: 404 whether it exists or not.
            let rival = try await harness.send(.get, "/features/tenant_ai_context/\(acme)", token: "rival")
            #expect(rival.status == 404)
            let crossed = try await harness.send(.get, "/features/tenant_ai_context/\(harness.globex.rawValue)", token: "viewer")
            #expect(crossed.status == 404)
            let admin = try await harness.send(.get, "/features/tenant_ai_context/\(harness.globex.rawValue)", token: "admin")
            #expect(admin.status == 200, "\(admin.text)")
            #expect((admin.object["values"] as? [String: Any])?["dataset_name"] as? String == "Secret")

            #expect(try await harness.send(.get, "/features/nope/\(acme)", token: "viewer").status == 404)
            #expect(try await harness.send(.get, "/features/tenant_ai_context/\(acme)", token: nil).status == 401)
            let asOf = try await harness.send(.get, "/features/tenant_ai_context/\(acme)?as_of=2000-01-01T00:00:00Z", token: "viewer")
            #expect(asOf.status == 404)
            #expect(try await harness.send(.get, "/features/tenant_ai_context/\(acme)?as_of=later", token: "viewer").status == 400)

            clock.advance(by: 3600)
            let expired = try await harness.send(.get, "/features/tenant_ai_context/\(acme)", token: "viewer")
            #expect(expired.status == 410)
            #expect(expired.headers[.contentType] == "application/problem+json")
            #expect((expired.object["detail"] as? String)?.contains("ttl") == true)
        }
    }
}
