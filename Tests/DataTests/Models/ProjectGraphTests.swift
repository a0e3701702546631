// Atlas — DataTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import DataPlatform
import Foundation
import Storage
import Testing

@Suite("dbt project loading and DAG")
struct ProjectGraphTests {
    @Test func referenceProjectCopyIsUnchanged() throws {
        let copy = modelsRepositoryRoot.appendingPathComponent("data/transformations")
        let reference = modelsRepositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/reference/data/transformations")
        guard FileManager.default.fileExists(atPath: reference.path) else { return }
        for file in ["dbt_project.yml", "models/schema.yml", "models/staging/stg_knowledge_base.sql", "models/marts/fct_ai_context.sql"] {
            let ours = try Foundation.Data(contentsOf: copy.appendingPathComponent(file))
            let theirs = try Foundation.Data(contentsOf: reference.appendingPathComponent(file))
            #expect(ours == theirs, "data/transformations/\(file) differs from the reference")
        }
    }

    @Test func referenceProjectLoads() throws {
        let project = try DataProject(directory: modelsRepositoryRoot.appendingPathComponent("data/transformations"))
        #expect(project.name == "atlas_dbt")
        #expect(project.models["stg_knowledge_base"]?.materialization == .view)
        #expect(project.models["fct_ai_context"]?.materialization == .table)
        #expect(project.models["fct_ai_context"]?.refs == ["stg_knowledge_base"])
        #expect(project.models["fct_ai_context"]?.sourceRefs == [SourceReference(group: "core", table: "tenant_usage")])
        #expect(project.models["stg_knowledge_base"]?.description == "Cleaned knowledge articles ingested via Airbyte")
        #expect(Set(project.tests.map(\.name)) == [
            "not_null_stg_knowledge_base_article_id", "unique_stg_knowledge_base_article_id", "not_null_stg_knowledge_base_tenant",
            "not_null_fct_ai_context_tenant", "not_null_fct_ai_context_dataset_name",
        ])
        #expect(try ModelGraph(project: project).order == ["stg_knowledge_base", "fct_ai_context"])
    }

    @Test func cycleIsReportedWithItsPath() throws {
        let folder = try ModelsProjectFolder(files: [
            "models/a.sql": "select * from {{ ref('c') }}",
            "models/b.sql": "select * from {{ ref('a') }}",
            "models/c.sql": "select * from {{ ref('b') }}",
            "models/d.sql": "select 1 as x",
        ])
        defer { folder.remove() }
        let project = try DataProject(directory: folder.url)
        do {
            _ = try ModelGraph(project: project)
            Issue.record("expected a cycle error")
        } catch let error as DataProjectError {
            #expect(error.description == "dependency cycle: a -> c -> b -> a")
        }
    }

    @Test func selectorsPickDescendantsAndAncestors() throws {
        let folder = try ModelsProjectFolder(files: [
            "models/src.sql": "select 1 as id",
            "models/mid.sql": "select * from {{ ref('src') }}",
            "models/top.sql": "select * from {{ ref('mid') }}",
            "models/other.sql": "select 2 as id",
        ])
        defer { folder.remove() }
        let graph = try ModelGraph(project: try DataProject(directory: folder.url))
        #expect(graph.order == ["other", "src", "mid", "top"])
        #expect(try graph.select(["mid+"]) == ["mid", "top"])
        #expect(try graph.select(["+mid"]) == ["src", "mid"])
        #expect(try graph.select(["+mid+"]) == ["src", "mid", "top"])
        #expect(try graph.select(["other top"]) == ["other", "top"])
        #expect(try graph.select([]) == graph.order)
        #expect(throws: DataProjectError.self) { try graph.select(["nope+"]) }
    }

    @Test func folderConfigsCascadeAndFileConfigWins() throws {
        let folder = try ModelsProjectFolder(projectYAML: """
            name: 'shop'
            models:
              +materialized: view
              shop:
                marts:
                  +materialized: table
                  special:
                    materialized: incremental
            """, files: [
            "models/staging/s.sql": "select 1 as id",
            "models/marts/m.sql": "select 1 as id",
            "models/marts/special/x.sql": "select 1 as id",
            "models/marts/f.sql": "{{ config(materialized='view') }} select 1 as id",
        ])
        defer { folder.remove() }
        let project = try DataProject(directory: folder.url)
        #expect(project.models["s"]?.materialization == .view)
        #expect(project.models["m"]?.materialization == .table)
        #expect(project.models["x"]?.materialization == .incremental)
        let f = try project.render(project.models["f"]!, dialect: .sqlite, incremental: false, vars: [:])
        #expect(f.model.materialization == .view)
    }

    @Test func schemaTestsOfEveryKindAreParsed() throws {
        let folder = try ModelsProjectFolder(files: [
            "models/a.sql": "select 1 as id, 'x' as status",
            "models/b.sql": "select 1 as a_id",
            "models/schema.yml": """
                version: 2
                models:
                  - name: a
                    description: "A"
                    columns:
                      - name: id
                        data_tests: [unique, not_null]
                      - name: status
                        tests:
                          - accepted_values:
                              values: ['x', 'y']
                  - name: b
                    columns:
                      - name: a_id
                        tests:
                          - relationships:
                              to: ref('a')
                              field: id
                """,
            "tests/no_negative.sql": "select * from {{ ref('a') }} where id < 0",
        ])
        defer { folder.remove() }
        let project = try DataProject(directory: folder.url)
        #expect(project.tests.map(\.name) == ["unique_a_id", "not_null_a_id", "accepted_values_a_status",
                                              "relationships_b_a_id", "no_negative"])
        #expect(project.models["a"]?.description == "A")
    }

    @Test func unsupportedTestAndMaterialisationAreRefused() throws {
        let folder = try ModelsProjectFolder(files: [
            "models/a.sql": "select 1 as id",
            "models/schema.yml": "models:\n  - name: a\n    columns:\n      - name: id\n        tests: [dbt_utils.at_least_one]\n",
        ])
        defer { folder.remove() }
        #expect { try DataProject(directory: folder.url) } throws: { error in
            "\(error)".contains("models/schema.yml") && "\(error)".contains("dbt_utils.at_least_one")
        }
        let second = try ModelsProjectFolder(files: ["models/a.sql": "{{ config(materialized='ephemeral') }} select 1 as id"])
        defer { second.remove() }
        let project = try DataProject(directory: second.url)
        #expect(throws: DataProjectError.self) {
            try project.render(project.models["a"]!, dialect: .sqlite, incremental: false, vars: [:])
        }
    }
}
