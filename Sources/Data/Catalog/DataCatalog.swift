// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

public import Core
public import Foundation
import Storage

/// A tenant's data catalog (`GET /tenants/{tenant}/catalog`, and Core's ``TenantDataCatalog``
/// for the AI runtime).
///
/// Visibility: a built model is visible to a tenant when its relation has a `tenant` column with
/// at least one row of that tenant, or when it has no `tenant` column (a platform-wide dataset).
/// An ingested source (`source('raw', …)`, any group but `core`) is visible when it holds rows
/// of the tenant. Models never built successfully are absent.
///
/// Freshness: for a model, the end of its last successful build; for a source, the tenant's
/// latest load (`_loaded_at`), or what `sourceFreshness` reports.
public final class DataCatalog: TenantDataCatalog {
    let models: DataModels
    let sourceFreshness: (@Sendable (TenantID) async throws -> [String: Date])?
    let featureValues: @Sendable (TenantID) async throws -> [String: JSONValue]

    /// - Parameters:
    ///   - sourceFreshness: the ingestion's last committed load per source table name, if known.
    ///   - features: the feature store's online values for a tenant (``TenantDataCatalog/features(for:)``).
    public init(models: DataModels,
                sourceFreshness: (@Sendable (TenantID) async throws -> [String: Date])? = nil,
                features: @escaping @Sendable (TenantID) async throws -> [String: JSONValue] = { _ in [:] }) {
        self.models = models
        self.sourceFreshness = sourceFreshness
        self.featureValues = features
    }

    public func features(for tenant: TenantID) async throws -> [String: JSONValue] {
        try await featureValues(tenant)
    }

    public func catalog(for tenant: TenantID) async throws -> [DatasetDescriptor] {
        let project = try models.project()
        let statuses = try await models.models().filter { $0.resourceType == .model && $0.freshness != nil }
        var sources: [String: (group: String, table: String, description: String)] = [:]
        for model in project.models.values {
            for reference in model.sourceRefs where reference.group != "core" {
                sources[reference.qualifiedName] = (reference.group, reference.table,
                                                    "Records ingested into source \(reference.qualifiedName)")
            }
        }
        for source in project.sources.values where source.group != "core" {
            sources[source.qualifiedName] = (source.group, source.table,
                                             source.description.isEmpty ? "Records ingested into source \(source.qualifiedName)" : source.description)
        }
        let reported = try await sourceFreshness?(tenant) ?? [:]
        let tenantID = tenant.rawValue
        let sourceList = sources.sorted { $0.key < $1.key }
        return try await models.database.read(tenant: tenantID) { conn in
            var entries: [DatasetDescriptor] = []
            for status in statuses {
                // A relation that no longer resolves (e.g. a view whose source was dropped) is left out.
                guard let columns = try? Relations.columns(of: status.relation, on: conn), !columns.isEmpty else { continue }
                if columns.contains("tenant") {
                    let present = try conn.queryFirst(SQLQuery(unsafeSQL: "SELECT 1 AS present FROM \(Relations.quote(status.relation)) WHERE tenant = ")
                                                        + "\(tenantID) LIMIT 1")
                    guard present != nil else { continue }
                }
                entries.append(DatasetDescriptor(name: status.name, description: status.description, freshness: status.freshness))
            }
            for (name, source) in sourceList {
                let relation = DataModelNaming.relation(forSource: source.group, table: source.table)
                guard let columns = try? Relations.columns(of: relation, on: conn), columns.contains("tenant") else { continue }
                var freshness = reported[source.table] ?? reported[name]
                if freshness == nil, columns.contains("_loaded_at") {
                    freshness = try? conn.queryScalar(SQLQuery(unsafeSQL: "SELECT MAX(_loaded_at) FROM \(Relations.quote(relation)) WHERE tenant = ")
                                                      + "\(tenantID)", as: Date.self)
                }
                let present = try conn.queryFirst(SQLQuery(unsafeSQL: "SELECT 1 AS present FROM \(Relations.quote(relation)) WHERE tenant = ")
                                                    + "\(tenantID) LIMIT 1")
                guard present != nil else { continue }
                entries.append(DatasetDescriptor(name: name, description: source.description, freshness: freshness))
            }
            return entries
        }
    }
}
