// Atlas — DataTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
import Core
@testable import DataPlatform
import Foundation
import Storage
import Testing

/// The reference data platform end to end on both backends: records pushed into `knowledge_base`,
/// the reference dbt project run unchanged, the feature view refreshed by the run and served.
@Suite struct ReferenceProjectFeatureTests {
    static let reference = URL(fileURLWithPath: "/work/shared/reference/data")

    @Test(arguments: IngestBackend.all)
    func pushedRecordsFlowIntoServedFeatures(_ backend: IngestBackend) async throws {
        let project = Self.reference.appendingPathComponent("transformations")
        try #require(FileManager.default.fileExists(atPath: project.appendingPathComponent("dbt_project.yml").path))
        try await withIngestDatabase(backend) { database, test in
            let sources = test.folder.appendingPathComponent("sources.yml")
            try knowledgeBaseYAML.write(to: sources, atomically: true, encoding: .utf8)
            let data = DataModule(
                database: database,
                configuration: DataModule.Configuration(
                    projectDirectory: project,
                    ingestion: IngestionConfiguration(sourcesFile: sources.path,
                                                      featuresPath: Self.reference.appendingPathComponent("feature-store").path)),
                logger: IngestTestDatabase.quiet)
            try await data.bootstrap()
            #expect(data.featureStore.views.map(\.name) == ["tenant_ai_context"])
            let long = String(repeating: "Refund policy and returns ", count: 4)
            let summary = try await data.ingestion.ingest(
                source: "knowledge_base", tenant: TenantID("demo")!, format: .csv,
                chunks: ByteChunks([Array("article_id,title,body,updated_at\nkb1,Shipping,Two days,2024-04-01T00:00:00Z\nkb2,\"\(long)\",30 days,2024-05-01T00:00:00Z\n".utf8)]))
            #expect(summary.accepted == 2)

            let run = try await data.models.execute(.run)
            #expect(run.status == .success, "\(run.results.map { "\($0.name): \($0.status) \($0.error ?? "")" })")
            let demo = try #require(try await data.featureStore.online(view: "tenant_ai_context", entity: "demo", tenant: TenantID("demo")!))
            #expect(demo.values.values["dataset_name"] == .string(String(long.prefix(50))))
            #expect(demo.values.values["last_refresh"] == .string("2024-05-01T00:00:00Z"))
            #expect(demo.age < 60)
            let features = try await data.catalog.features(for: TenantID("demo")!)
            #expect(features["tenant_ai_context.dataset_name"] == .string(String(long.prefix(50))))
            #expect(try await data.catalog.features(for: TenantID("acme")!).isEmpty)
        }
    }
}
