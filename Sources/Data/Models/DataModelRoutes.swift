// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import HTTP
import HTTPTypes

/// The model and catalog routes (SPEC §3, "Added by Atlas"):
///
/// | route | permission | |
/// | --- | --- | --- |
/// | `POST /data/runs` | `data.run` in the request's tenant | `{kind: run\|test\|seed, select?, full_refresh?}` → 201 run |
/// | `GET /data/runs/{id}` | `data.read` | the run with its results |
/// | `GET /data/models` | `data.read` | `{project, models: [...]}` with status and freshness |
/// | `GET /tenants/{tenant}/catalog` | `data.read` in `{tenant}` | `[{name, description, freshness}]` |
///
/// Models are platform-wide (one build covers every tenant's rows), so a run is not scoped to
/// the caller's tenant: any member holding `data.run` in the tenant it acts in may start one.
/// Runs reveal model names, row counts and database messages (never data values); what a
/// tenant may read of the data itself goes through the catalog and the feature store.
struct DataModelRoutes: Sendable {
    let models: DataModels
    let catalog: DataCatalog

    func register(_ routes: SecuredRoutes) {
        let models = self.models
        let catalog = self.catalog
        routes.post("/data/runs", requires: .dataRun, tenant: .request, maxBodyBytes: 64 * 1024) { request, context in
            let body: RunRequestBody = request.body.isEmpty ? RunRequestBody() : try request.decode(RunRequestBody.self)
            let kind = try body.kind.map { name -> DataRunKind in
                guard let kind = DataRunKind(rawValue: name) else {
                    throw AtlasError.unprocessable("kind: must be one of run, test, seed", code: "invalid_kind")
                }
                return kind
            } ?? .run
            let selectors = try body.selectors()
            let run: DataRun
            do {
                run = try await models.execute(kind, select: selectors, fullRefresh: body.fullRefresh ?? false,
                                               requestedBy: Self.actor(context.principal))
            } catch let error as DataProjectError {
                throw AtlasError.unprocessable(error.description, code: "invalid_project")
            } catch let error as TemplateError {
                throw AtlasError.unprocessable(error.description, code: "invalid_template")
            }
            var response = try Response.json(RunBody(run), status: .created)
            response.headers[.location] = "/data/runs/\(run.id)"
            return response
        }
        routes.get("/data/runs/{id}", requires: .dataRead, tenant: .request) { _, context in
            let id = try context.requestContext.parameters.require("id")
            guard id.count <= 64, let run = try await models.run(id: id) else {
                throw AtlasError.notFound("run '\(id.prefix(64))' was not found")
            }
            return try Response.json(RunBody(run))
        }
        routes.get("/data/models", requires: .dataRead, tenant: .request) { _, _ in
            do {
                let project = try models.project()
                return try Response.json(ModelsBody(project: project.name, models: try await models.models()))
            } catch let error as DataProjectError {
                throw AtlasError.unprocessable(error.description, code: "invalid_project")
            } catch let error as TemplateError {
                throw AtlasError.unprocessable(error.description, code: "invalid_template")
            }
        }
        routes.get("/tenants/{tenant}/catalog", requires: .dataRead) { _, context in
            let entries = try await catalog.catalog(for: context.tenantID)
            return try Response.json(entries.map(CatalogEntryBody.init))
        }
    }
}

extension DataModelRoutes {
    /// Who started a run, as stored in `data_runs.requested_by`.
    static func actor(_ principal: Principal) -> String {
        switch principal.subject {
        case .user(let id): "user:\(id)"
        case .apiKey(let id, _, _): "api_key:\(id)"
        }
    }
}

/// `POST /data/runs`.
struct RunRequestBody: Decodable {
    var kind: String?
    /// One selector string (`"stg_orders+ fct_orders"`) or a list.
    var select: SelectValue?
    var fullRefresh: Bool?

    init() {}

    enum SelectValue: Decodable {
        case one(String)
        case many([String])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) { self = .one(text); return }
            self = .many(try container.decode([String].self))
        }
    }

    func selectors() throws -> [String] {
        let values: [String]
        switch select {
        case nil: values = []
        case .one(let text): values = [text]
        case .many(let list): values = list
        }
        for value in values where value.count > 200 || value.contains(where: { !($0.isLetter || $0.isNumber || "_+ ,".contains($0)) || !$0.isASCII }) {
            throw AtlasError.unprocessable("select: selectors are model names with optional '+' (e.g. 'stg_orders+')", code: "invalid_select")
        }
        return values
    }
}

struct RunBody: Encodable {
    var id: String
    var kind: String
    var status: String
    var select: String?
    var project: String
    var requestedBy: String?
    var error: String?
    var startedAt: Date
    var finishedAt: Date?
    var summary: [String: Int]
    var results: [ResultBody]

    struct ResultBody: Encodable {
        var name: String
        var resourceType: String
        var materialization: String?
        var relation: String?
        var status: String
        var rows: Int64?
        var failures: Int64?
        var durationMs: Double
        var error: String?
        var startedAt: Date
        var finishedAt: Date
    }

    init(_ run: DataRun) {
        id = run.id
        kind = run.kind.rawValue
        status = run.status.rawValue
        select = run.selector
        project = run.project
        requestedBy = run.requestedBy
        error = run.error
        startedAt = run.startedAt
        finishedAt = run.finishedAt
        summary = run.summary
        results = run.results.map {
            ResultBody(name: $0.name, resourceType: $0.resourceType.rawValue, materialization: $0.materialization?.rawValue,
                       relation: $0.relation, status: $0.status.rawValue, rows: $0.rows, failures: $0.failures,
                       durationMs: $0.durationMs, error: $0.error, startedAt: $0.startedAt, finishedAt: $0.finishedAt)
        }
    }
}

struct ModelsBody: Encodable {
    var project: String
    var models: [ModelBody]

    struct ModelBody: Encodable {
        var name: String
        var resourceType: String
        var materialization: String?
        var relation: String
        var description: String
        var path: String
        var dependsOn: [String]
        var status: String
        var lastRunAt: Date?
        var lastRunId: String?
        var freshness: Date?
        var rows: Int64?
    }

    init(project: String, models: [DataModelStatus]) {
        self.project = project
        self.models = models.map {
            ModelBody(name: $0.name, resourceType: $0.resourceType.rawValue, materialization: $0.materialization?.rawValue,
                      relation: $0.relation, description: $0.description, path: $0.path, dependsOn: $0.dependsOn,
                      status: $0.lastStatus?.rawValue ?? "never_run", lastRunAt: $0.lastRunAt, lastRunId: $0.lastRunID,
                      freshness: $0.freshness, rows: $0.rows)
        }
    }
}

/// One entry of `GET /tenants/{tenant}/catalog` (SPEC §3): `freshness` is ISO 8601 or null.
struct CatalogEntryBody: Encodable {
    var name: String
    var description: String
    var freshness: Date?

    init(_ descriptor: DatasetDescriptor) {
        name = descriptor.name
        description = descriptor.description
        freshness = descriptor.freshness
    }

    enum CodingKeys: String, CodingKey { case name, description, freshness }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(description, forKey: .description)
        // Present as null rather than absent, so clients always find the key.
        try container.encode(freshness, forKey: .freshness)
    }
}
