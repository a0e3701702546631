// Atlas — DataTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
import Core
@testable import DataPlatform
import Foundation
import Storage
import Testing

/// Creates the tenants `demo` and `acme` and the raw table of `source('raw', 'knowledge_base')` as
/// ingestion lays it out, and adds articles, each `(tenant, id, title)`.
func seedKnowledgeBase(_ database: any Database, _ articles: [(String, String, String)]) async throws {
    try await database.transaction(tenant: "*") { conn in
        // The tenants Atlas seeds on first start (SPEC §3); their usage comes from migration 0013.
        try conn.execute("INSERT INTO core_tenants (id, plan) VALUES ('demo', 'scale'), ('acme', 'growth') ON CONFLICT (id) DO NOTHING")
        try conn.execute("""
            CREATE TABLE IF NOT EXISTS data_raw_knowledge_base (
                tenant TEXT NOT NULL, article_id TEXT, title TEXT, body TEXT, updated_at TEXT, _loaded_at BIGINT)
            """)
        for (tenant, id, title) in articles {
            try conn.execute("""
                INSERT INTO data_raw_knowledge_base (tenant, article_id, title, body, updated_at, _loaded_at)
                VALUES (\(tenant), \(id), \(title), \("Body of " + title), \("2024-05-01T00:00:00Z"), \(Date()))
                """)
        }
    }
}

@Suite("dbt models on both backends")
struct ModelRunTests {
    static let referenceProject = modelsRepositoryRoot.appendingPathComponent("data/transformations")

    @Test(arguments: ModelsBackend.all)
    func referenceProjectRunsAndItsTestsPass(_ backend: ModelsBackend) async throws {
        try await withModelsDatabase(backend) { database in
            try await seedKnowledgeBase(database, [
                ("demo", "kb-1", "knowledge_base"),
                ("demo", "kb-2", String(repeating: "Long title ", count: 10)),
                ("acme", "kb-3", "Refund policy"),
            ])
            let models = DataModels(database: database, projectDirectory: Self.referenceProject, logger: modelsQuietLogger)
            let run = try await models.execute(.run)
            #expect(run.status == .success, "\(run.results)")
            #expect(run.results.map(\.name) == ["stg_knowledge_base", "fct_ai_context"])
            #expect(run.results.map(\.materialization) == [.view, .table])
            #expect(run.results.last?.rows == 3)

            let rows = try await database.read(tenant: "*") { conn in
                try conn.query("""
                    SELECT tenant, dataset_name, plan, tokens, requests, last_refresh FROM data_model_fct_ai_context
                    ORDER BY tenant, dataset_name
                    """)
            }
            #expect(rows.count == 3)
            let demo = try #require(try rows.first { try $0["dataset_name", as: String.self] == "knowledge_base" })
            #expect(try demo["tenant", as: String.self] == "demo")
            #expect(try demo["plan", as: String.self] == "scale")
            #expect(try demo["tokens", as: Int64.self] == 120_000)
            #expect(try demo["requests", as: Int64.self] == 540)
            #expect(try demo["last_refresh", as: String.self] == "2024-05-01T00:00:00Z")
            let long = try #require(try rows.first { try $0["dataset_name", as: String.self].hasPrefix("Long") })
            #expect(try long["dataset_name", as: String.self].count == 50)
            let acme = try #require(try rows.first { try $0["tenant", as: String.self] == "acme" })
            #expect(try acme["plan", as: String.self] == "growth")
            #expect(try acme["tokens", as: Int64.self] == 42_000)

            let tests = try await models.execute(.test)
            #expect(tests.results.count == 5)
            #expect(tests.results.allSatisfy { $0.status == .pass }, "\(tests.results)")
            #expect(tests.status == .success)

            let stored = try #require(try await models.run(id: run.id))
            #expect(stored.results.map(\.name) == run.results.map(\.name))
            #expect(stored.results.map(\.rows) == run.results.map(\.rows))
            #expect(stored.status == .success)

            let listed = try await models.models()
            #expect(listed.map(\.name) == ["stg_knowledge_base", "fct_ai_context"])
            #expect(listed.allSatisfy { $0.lastStatus == .success && $0.freshness != nil })
            #expect(listed.last?.rows == 3)
        }
    }

    @Test(arguments: ModelsBackend.all)
    func aMissingSourceFailsTheModelAndSkipsItsChildren(_ backend: ModelsBackend) async throws {
        try await withModelsDatabase(backend) { database in
            let models = DataModels(database: database, projectDirectory: Self.referenceProject, logger: modelsQuietLogger)
            let run = try await models.execute(.run)
            #expect(run.status == .error)
            #expect(run.results.map(\.status) == [.error, .skipped])
            #expect(run.results.first?.error?.contains("data_raw_knowledge_base does not exist") == true)
        }
    }

    @Test(arguments: ModelsBackend.all)
    func incrementalModelsAddOnlyNewRows(_ backend: ModelsBackend) async throws {
        let folder = try ModelsProjectFolder(files: [
            "models/events_log.sql": """
                {{ config(materialized='incremental') }}
                select id, kind, amount from {{ source('raw', 'events') }}
                {% if is_incremental() %}
                where id > (select coalesce(max(id), 0) from {{ this }})
                {% endif %}
                """,
            "models/latest_amounts.sql": """
                {{ config(materialized='incremental', unique_key='kind') }}
                select kind, max(amount) as amount from {{ source('raw', 'events') }} group by kind
                """,
        ])
        defer { folder.remove() }
        try await withModelsDatabase(backend) { database in
            try await database.transaction(tenant: "*") { conn in
                try conn.execute("CREATE TABLE data_raw_events (id BIGINT, kind TEXT, amount BIGINT)")
                try conn.execute("INSERT INTO data_raw_events VALUES (1, 'a', 10), (2, 'b', 20), (3, 'a', 30)")
            }
            let models = DataModels(database: database, projectDirectory: folder.url, logger: modelsQuietLogger)
            let first = try await models.execute(.run)
            #expect(first.status == .success, "\(first.results)")
            #expect(first.results.map(\.rows) == [3, 2])

            try await database.transaction(tenant: "*") { conn in
                try conn.execute("INSERT INTO data_raw_events VALUES (4, 'b', 5), (5, 'c', 50)")
                // An old row changed: an incremental model filtered on id must not pick it up again.
                try conn.execute("UPDATE data_raw_events SET amount = 99 WHERE id = 1")
            }
            let second = try await models.execute(.run)
            #expect(second.status == .success, "\(second.results)")
            #expect(second.results.first { $0.name == "events_log" }?.rows == 2)
            let log = try await database.read(tenant: "*") { conn in
                try conn.query("SELECT id, amount FROM data_model_events_log ORDER BY id").map { [try $0.decode("id", as: Int64.self), try $0.decode("amount", as: Int64.self)] }
            }
            #expect(log == [[1, 10], [2, 20], [3, 30], [4, 5], [5, 50]])
            // delete+insert by unique_key: 'a' now 99, 'b' stays 20, 'c' added; one row per key.
            let latest = try await database.read(tenant: "*") { conn in
                try conn.query("SELECT kind, amount FROM data_model_latest_amounts ORDER BY kind").map { "\(try $0.decode("kind", as: String.self))=\(try $0.decode("amount", as: Int64.self))" }
            }
            #expect(latest == ["a=99", "b=20", "c=50"])

            let full = try await models.execute(.run, select: ["events_log"], fullRefresh: true)
            #expect(full.results.map(\.rows) == [5])
        }
    }

    @Test(arguments: ModelsBackend.all)
    func failingTestsAreReportedWithTheirRowCount(_ backend: ModelsBackend) async throws {
        let folder = try ModelsProjectFolder(files: [
            "models/customers.sql": "select 1 as id, 'gold' as tier union all select 2, 'tin' union all select 2, null",
            "models/orders.sql": "select 10 as id, 1 as customer_id union all select 11, 3 union all select 12, 4",
            "models/schema.yml": """
                version: 2
                models:
                  - name: customers
                    columns:
                      - name: id
                        tests: [unique, not_null]
                      - name: tier
                        tests:
                          - not_null
                          - accepted_values: {values: ['gold', 'silver']}
                  - name: orders
                    columns:
                      - name: customer_id
                        tests:
                          - relationships: {to: "ref('customers')", field: id}
                """,
            "tests/orders_have_ids.sql": "select * from {{ ref('orders') }} where id is null",
            "tests/too_many_orders.sql": "select * from {{ ref('orders') }} where id > 10",
        ])
        defer { folder.remove() }
        try await withModelsDatabase(backend) { database in
            let models = DataModels(database: database, projectDirectory: folder.url, logger: modelsQuietLogger)
            #expect(try await models.execute(.run).status == .success)
            let run = try await models.execute(.test)
            let byName = Dictionary(uniqueKeysWithValues: run.results.map { ($0.name, $0) })
            #expect(byName["unique_customers_id"]?.status == .fail)
            #expect(byName["unique_customers_id"]?.failures == 1)
            #expect(byName["not_null_customers_id"]?.status == .pass)
            #expect(byName["not_null_customers_tier"]?.failures == 1)
            #expect(byName["accepted_values_customers_tier"]?.status == .fail)
            #expect(byName["accepted_values_customers_tier"]?.failures == 1)
            #expect(byName["relationships_orders_customer_id"]?.failures == 2)
            #expect(byName["orders_have_ids"]?.status == .pass)
            #expect(byName["too_many_orders"]?.status == .fail)
            #expect(byName["too_many_orders"]?.failures == 2)
            #expect(byName["too_many_orders"]?.error == "2 failing rows")
            #expect(run.status == .error)
            let stored = try #require(try await models.run(id: run.id))
            #expect(stored.results.first { $0.name == "relationships_orders_customer_id" }?.failures == 2)

            let selected = try await models.execute(.test, select: ["orders"])
            #expect(Set(selected.results.map(\.name)) == ["relationships_orders_customer_id", "orders_have_ids", "too_many_orders"])
        }
    }

    @Test(arguments: ModelsBackend.all)
    func aFailingModelLeavesThePreviousTableAndViewsSurvive(_ backend: ModelsBackend) async throws {
        let folder = try ModelsProjectFolder(files: [
            "models/base.sql": "{{ config(materialized='table') }} select 1 as id union all select 2",
            "models/base_view.sql": "select id * 10 as id from {{ ref('base') }}",
        ])
        defer { folder.remove() }
        try await withModelsDatabase(backend) { database in
            let models = DataModels(database: database, projectDirectory: folder.url, logger: modelsQuietLogger)
            #expect(try await models.execute(.run).status == .success)
            try folder.write("models/base.sql", "{{ config(materialized='table') }} select id from no_such_table")
            let failed = try await models.execute(.run, select: ["base"])
            #expect(failed.results.map(\.status) == [.error])
            #expect(failed.results.first?.error?.contains("database error") == true)
            let count = try await database.read(tenant: "*") { try $0.queryScalar("SELECT COUNT(*) FROM data_model_base", as: Int64.self) }
            #expect(count == 2)

            // Rebuilding only the table keeps the dependent view usable (PostgreSQL drops it with
            // CASCADE; the runner puts it back).
            try folder.write("models/base.sql", "{{ config(materialized='table') }} select 1 as id union all select 2 union all select 3")
            let rebuilt = try await models.execute(.run, select: ["base"])
            #expect(rebuilt.status == .success)
            let viewCount = try await database.read(tenant: "*") { try $0.queryScalar("SELECT COUNT(*) FROM data_model_base_view", as: Int64.self) }
            #expect(viewCount == 3)
        }
    }

    @Test(arguments: ModelsBackend.all)
    func seedsLoadAndModelsReadThem(_ backend: ModelsBackend) async throws {
        let folder = try ModelsProjectFolder(files: [
            "seeds/countries.csv": "code,name,population,ratio\nNL,\"Nether, lands\",17,0.5\nBE,Belgium,11,\n",
            "models/big.sql": "select code, population * 2 as doubled from {{ ref('countries') }} where population > 12",
        ])
        defer { folder.remove() }
        try await withModelsDatabase(backend) { database in
            let models = DataModels(database: database, projectDirectory: folder.url, logger: modelsQuietLogger)
            let seeded = try await models.execute(.seed)
            #expect(seeded.results.map(\.rows) == [2], "\(seeded.results)")
            #expect(try await models.execute(.run).status == .success)
            let row = try await database.read(tenant: "*") { try $0.queryFirst("SELECT code, doubled FROM data_model_big") }
            #expect(try row?["code", as: String.self] == "NL")
            #expect(try row?["doubled", as: Int64.self] == 34)
            let name = try await database.read(tenant: "*") { try $0.queryScalar("SELECT name FROM data_model_countries WHERE code = 'NL'", as: String.self) }
            #expect(name == "Nether, lands")
        }
    }

    @Test(arguments: ModelsBackend.all)
    func leftAndRightBehaveAsInPostgreSQL(_ backend: ModelsBackend) async throws {
        let folder = try ModelsProjectFolder(files: [
            "models/texts.sql": """
                {{ config(materialized='table') }}
                select left('héllo wörld', 3) as a, right('héllo', 2) as b, left('abc', -1) as c, RIGHT ('abc', -1) as d,
                       left(cast(null as text), 2) as e, 'left(x)' as f, t.x as "left"
                from (select 1 as x) t left join (select 1 as y) u on u.y = t.x -- left(comment)
                """,
        ])
        defer { folder.remove() }
        try await withModelsDatabase(backend) { database in
            let models = DataModels(database: database, projectDirectory: folder.url, logger: modelsQuietLogger)
            let run = try await models.execute(.run)
            #expect(run.status == .success, "\(run.results)")
            let row = try #require(try await database.read(tenant: "*") { try $0.queryFirst("SELECT * FROM data_model_texts") })
            #expect(try row["a", as: String.self] == "hél")
            #expect(try row["b", as: String.self] == "lo")
            #expect(try row["c", as: String.self] == "ab")
            #expect(try row["d", as: String.self] == "bc")
            #expect(try row["e", as: String?.self] == nil)
            #expect(try row["f", as: String.self] == "left(x)")
            #expect(try row["left", as: Int64.self] == 1)
        }
    }
}
