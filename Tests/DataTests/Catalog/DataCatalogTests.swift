// Atlas — DataTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
import Core
@testable import DataPlatform
import Foundation
import Storage
import Testing

@Suite("Tenant data catalog")
struct DataCatalogTests {
    @Test(arguments: ModelsBackend.all)
    func catalogListsWhatTheTenantHasRowsInWithFreshness(_ backend: ModelsBackend) async throws {
        try await withModelsDatabase(backend) { database in
            try await seedKnowledgeBase(database, [("demo", "kb-1", "knowledge_base"), ("demo", "kb-2", "Pricing")])
            let models = DataModels(database: database, projectDirectory: ModelRunTests.referenceProject, logger: modelsQuietLogger)
            let catalog = DataCatalog(models: models, features: { tenant in ["tenant_context.plan": .string(tenant.rawValue)] })

            // Nothing built yet: only the raw source, for the tenant that has rows in it.
            let before = try await catalog.catalog(for: TenantID("demo")!)
            #expect(before.map(\.name) == ["raw.knowledge_base"])
            #expect(before.first?.freshness != nil)

            let run = try await models.execute(.run)
            #expect(run.status == .success, "\(run.results)")
            let demo = try await catalog.catalog(for: TenantID("demo")!)
            #expect(demo.map(\.name) == ["stg_knowledge_base", "fct_ai_context", "raw.knowledge_base"])
            let fact = try #require(demo.first { $0.name == "fct_ai_context" })
            #expect(fact.description == "Datasets exposed to LangGraph (joined with freshness + usage)")
            let built = try #require(run.results.last?.finishedAt)
            #expect(abs((fact.freshness ?? .distantPast).timeIntervalSince(built)) < 0.01)

            // acme has no articles: no tenant-scoped dataset is visible to it.
            #expect(try await catalog.catalog(for: TenantID("acme")!).isEmpty)

            #expect(try await catalog.features(for: TenantID("acme")!) == ["tenant_context.plan": .string("acme")])
        }
    }

    @Test(arguments: ModelsBackend.all)
    func modelsWithoutATenantColumnAreVisibleToEveryone(_ backend: ModelsBackend) async throws {
        let folder = try ModelsProjectFolder(files: [
            "models/plans.sql": "select 'trial' as plan, 0 as price union all select 'scale', 999",
            "models/broken.sql": "select * from missing_table",
        ])
        defer { folder.remove() }
        try await withModelsDatabase(backend) { database in
            let models = DataModels(database: database, projectDirectory: folder.url, logger: modelsQuietLogger)
            _ = try await models.execute(.run)
            let catalog = DataCatalog(models: models)
            // A model never built successfully is absent.
            #expect(try await catalog.catalog(for: TenantID("acme")!).map(\.name) == ["plans"])
        }
    }
}
