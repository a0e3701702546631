// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

public import Core
public import Foundation
public import HTTP
public import Logging
public import Storage
import Synchronization

/// One entity's feature values with their event time.
public struct FeatureValues: Sendable, Hashable {
    public var view: String
    public var tenant: String
    public var entity: String
    /// Feature name → value (the entity column left out).
    public var values: [String: JSONValue]
    /// When the values were true: the view's `timestamp_field`, else the materialisation time.
    public var eventTime: Date
}

/// A feature read that cannot be answered; rendered as problem+json.
public struct FeatureError: ProblemError, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var detail: String
    public var description: String { "\(status) \(code): \(detail)" }
}

/// The outcome of materialising one view.
public struct MaterializationReport: Sendable, Hashable {
    public var view: String
    public var entities: Int
    public var eventTime: Date
}

/// The feature store: feature views materialised from their model's table into an offline table
/// (every value with its event time, for point-in-time reads) and an online table (the latest
/// values per entity, for serving). Rows carry their tenant: a view whose entity is `tenant` takes
/// it from the entity, any other view from the model's `tenant` column.
public final class FeatureStore: Sendable {
    let database: any Database
    let logger: Logger
    let now: @Sendable () -> Date
    private let loaded: Mutex<[FeatureView]>

    public convenience init(database: any Database, views: [FeatureView], logger: Logger) {
        self.init(database: database, views: views, logger: logger, now: { Date() })
    }

    init(database: any Database, views: [FeatureView], logger: Logger, now: @escaping @Sendable () -> Date) {
        self.database = database
        self.logger = logger
        self.now = now
        loaded = Mutex(views)
    }

    /// The views, in file order.
    public var views: [FeatureView] { loaded.withLock { $0 } }

    /// Replaces the views (e.g. after reloading the feature files).
    public func setViews(_ views: [FeatureView]) { loaded.withLock { $0 = views } }

    public func view(_ name: String) -> FeatureView? { views.first { $0.name == name } }

    // MARK: Materialisation

    /// Materialises every view whose input model is in `models` (all views when `nil`); a view
    /// whose model table does not exist yet is skipped with a log line. Call after a model run.
    @discardableResult
    public func materialize(models: [String]? = nil) async throws -> [MaterializationReport] {
        var reports: [MaterializationReport] = []
        for view in views where models.map({ $0.contains(view.model) }) ?? true {
            do {
                reports.append(try await materialize(view))
            } catch let error as FeatureError where error.code == "model_not_built" {
                logger.info("feature view skipped", metadata: ["view": "\(view.name)", "reason": "\(error.detail)"])
            }
        }
        return reports
    }

    /// Reads `view`'s model table and writes one offline row and the online row per entity, in
    /// one transaction. An entity's row is the one with the latest `timestamp_field` (or, without
    /// one, the latest value of the first `timestamp` feature).
    @discardableResult
    public func materialize(_ view: FeatureView) async throws -> MaterializationReport {
        let at = now()
        let columns = Array(Set(view.schema.map(\.name) + (view.entityIsTenant ? [] : ["tenant"]))).sorted()
        let ordering = view.timestampField ?? view.features.first { $0.type == .timestamp }?.name
        return try await database.transaction(tenant: "*") { conn in
            guard try conn.queryFirst(conn.dialect.tableExists(view.table)) != nil else {
                throw FeatureError(status: 409, code: "model_not_built",
                                   detail: "feature view \(view.name): model \(view.model) has not been built (run it first)")
            }
            let rows: [Row]
            do {
                rows = try conn.query(Self.latestRowsQuery(view, columns: columns, ordering: ordering))
            } catch let error as StorageError {
                throw FeatureError(status: 409, code: "model_mismatch",
                                   detail: "feature view \(view.name): model \(view.model) lacks a column of the view's schema (\(columns.joined(separator: ", "))): \(error)")
            }
            var latest: [String: (tenant: String, entity: String, key: SQLValue, row: Row)] = [:]
            for row in rows {
                guard let entity = Self.text(row[view.entity]) else { continue }
                let tenant = view.entityIsTenant ? entity : (Self.text(row["tenant"]) ?? "")
                guard TenantID.isValid(tenant) else { continue }
                let key = ordering.flatMap { row[$0] } ?? .null
                let id = tenant + "\u{0}" + entity
                if let current = latest[id], Self.isAfter(current.key, key) { continue }
                latest[id] = (tenant, entity, key, row)
            }
            for item in latest.values {
                var values: [String: JSONValue] = [:]
                for feature in view.features { values[feature.name] = Self.json(item.row[feature.name] ?? .null, type: feature.type) }
                var eventTime = at
                if let field = view.timestampField, let text = Self.text(item.row[field]), let millis = Timestamps.parse(text) {
                    eventTime = Date(timeIntervalSince1970: Double(millis) / 1000)
                } else if let field = view.timestampField, case .integer(let millis)? = item.row[field] {
                    eventTime = Date(timeIntervalSince1970: Double(millis) / 1000)
                }
                let document = try SQLValue.json(JSONValue.object(values))
                try conn.execute("""
                    INSERT INTO data_features_offline (view, tenant_id, entity, event_time, feature_values, created_at)
                    VALUES (\(view.name), \(item.tenant), \(item.entity), \(eventTime), \(document), \(at))
                    ON CONFLICT (view, tenant_id, entity, event_time) DO UPDATE SET feature_values = excluded.feature_values,
                        created_at = excluded.created_at
                    """)
                try conn.execute("""
                    INSERT INTO data_features_online (view, tenant_id, entity, event_time, feature_values, updated_at)
                    VALUES (\(view.name), \(item.tenant), \(item.entity), \(eventTime), \(document), \(at))
                    ON CONFLICT (view, tenant_id, entity) DO UPDATE SET feature_values = excluded.feature_values,
                        event_time = excluded.event_time, updated_at = excluded.updated_at
                    WHERE data_features_online.event_time <= excluded.event_time
                    """)
            }
            return MaterializationReport(view: view.name, entities: latest.count, eventTime: at)
        }
    }

    // MARK: Reads

    /// The online values of `entity` in `view` for `tenant`: `nil` when there are none; throws
    /// 410 ``FeatureError`` when they are older than the view's ttl.
    public func online(view name: String, entity: String, tenant: TenantID) async throws -> (values: FeatureValues, age: TimeInterval)? {
        guard let view = view(name) else {
            throw FeatureError(status: 404, code: "feature_view_not_found", detail: "feature view \(SourceNames.quoted(name)) does not exist")
        }
        let found = try await database.read(tenant: tenant.rawValue) { conn in
            try conn.queryFirst("""
                SELECT entity, event_time, feature_values FROM data_features_online
                WHERE view = \(view.name) AND tenant_id = \(tenant.rawValue) AND entity = \(entity)
                """).map { try Self.decode($0, view: view.name, tenant: tenant.rawValue) }
        }
        guard let found else { return nil }
        let age = max(0, now().timeIntervalSince(found.eventTime))
        guard age <= view.ttl else {
            throw FeatureError(
                status: 410, code: "feature_expired",
                detail: "the values of \(view.name) for \(entity) are \(Int(age)) s old, past the view's ttl of \(Int(view.ttl)) s; rebuild model \(view.model) to refresh them")
        }
        return (found, age)
    }

    /// Point-in-time read: the values of `entity` in `view` as they were known at `time` — the
    /// offline row with the latest event time not after `time`, and not older than the ttl then.
    public func values(view name: String, entity: String, tenant: TenantID, asOf time: Date) async throws -> FeatureValues? {
        guard let view = view(name) else {
            throw FeatureError(status: 404, code: "feature_view_not_found", detail: "feature view \(SourceNames.quoted(name)) does not exist")
        }
        let oldest = time.addingTimeInterval(-view.ttl)
        return try await database.read(tenant: tenant.rawValue) { conn in
            try conn.queryFirst("""
                SELECT entity, event_time, feature_values FROM data_features_offline
                WHERE view = \(view.name) AND tenant_id = \(tenant.rawValue) AND entity = \(entity)
                  AND event_time <= \(time) AND event_time >= \(oldest)
                ORDER BY event_time DESC LIMIT 1
                """).map { try Self.decode($0, view: view.name, tenant: tenant.rawValue) }
        }
    }

    /// The tenant's latest non-expired values of every view whose entity is the tenant, keyed
    /// `view.feature` — what `TenantDataCatalog.features(for:)` answers.
    public func features(for tenant: TenantID) async throws -> [String: JSONValue] {
        let views = self.views.filter(\.entityIsTenant)
        guard !views.isEmpty else { return [:] }
        let rows = try await database.read(tenant: tenant.rawValue) { conn in
            try conn.query("""
                SELECT view, entity, event_time, feature_values FROM data_features_online
                WHERE tenant_id = \(tenant.rawValue) AND entity = \(tenant.rawValue) AND view IN (\(list: views.map(\.name)))
                """).map { try Self.decode($0, view: try $0["view", as: String.self], tenant: tenant.rawValue) }
        }
        let current = now()
        var result: [String: JSONValue] = [:]
        for values in rows {
            guard let view = views.first(where: { $0.name == values.view }), current.timeIntervalSince(values.eventTime) <= view.ttl else { continue }
            for (feature, value) in values.values { result["\(view.name).\(feature)"] = value }
        }
        return result
    }

    /// Registers `GET /features/{view}/{entity}` (`data.read`, the request's tenant; for a view
    /// whose entity is a tenant id, that tenant: the caller must be its member or a platform admin).
    public func registerRoutes(on routes: SecuredRoutes) {
        FeatureRoutes(store: self, resolver: routes.resolver).register(routes)
    }

    // MARK: Helpers

    /// The model's rows, narrowed in SQL to each entity's latest by `ordering` (ties and entities
    /// whose ordering is NULL everywhere stay, and are settled in Swift), so a large mart is not
    /// read whole.
    static func latestRowsQuery(_ view: FeatureView, columns: [String], ordering: String?) -> SQLQuery {
        let selection = SQLQuery(unsafeSQL: columns.map { "t." + SQLDialect.quoteIdentifier($0) }.joined(separator: ", "))
        guard let ordering else { return "SELECT \(selection) FROM \(identifier: view.table) t" }
        let keys = (view.entityIsTenant ? [view.entity] : ["tenant", view.entity]).map(SQLDialect.quoteIdentifier)
        let order = SQLDialect.quoteIdentifier(ordering)
        let groupKeys = keys.joined(separator: ", ")
        let join = keys.map { "g.\($0) = t.\($0)" }.joined(separator: " AND ")
        return SQLQuery(unsafeSQL: """
            SELECT \(selection.sql(for: .postgres)) FROM \(SQLDialect.quoteIdentifier(view.table)) t
            JOIN (SELECT \(groupKeys), MAX(\(order)) AS atlas_latest FROM \(SQLDialect.quoteIdentifier(view.table)) GROUP BY \(groupKeys)) g
              ON \(join) AND (t.\(order) = g.atlas_latest OR g.atlas_latest IS NULL)
            """)
    }

    static func decode(_ row: Row, view: String, tenant: String) throws -> FeatureValues {
        let text = try row["feature_values", as: String.self]
        let values = try JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8))
        return FeatureValues(view: view, tenant: tenant, entity: try row["entity", as: String.self], values: values,
                             eventTime: try row["event_time", as: Date.self])
    }

    static func text(_ value: SQLValue?) -> String? {
        switch value {
        case .text(let text)?: text
        case .integer(let number)?: String(number)
        default: nil
        }
    }

    /// Whether `a` orders after `b` (NULL first), for picking an entity's latest row.
    static func isAfter(_ a: SQLValue, _ b: SQLValue) -> Bool {
        switch (a, b) {
        case (.null, _): false
        case (_, .null): true
        case (.integer(let x), .integer(let y)): x > y
        case (.double(let x), .double(let y)): x > y
        case (.text(let x), .text(let y)): (Timestamps.parse(x) ?? 0, x) > (Timestamps.parse(y) ?? 0, y)
        default: false
        }
    }

    static func json(_ value: SQLValue, type: ColumnType) -> JSONValue {
        switch (value, type) {
        case (.null, _): return .null
        case (.integer(let number), .bool): return .bool(number != 0)
        case (.bool(let flag), _): return .bool(flag)
        case (.integer(let millis), .timestamp): return .string(Timestamps.format(millis))
        case (.integer(let number), _): return .number(Double(number))
        case (.double(let number), _): return .number(number)
        case (.text(let text), .timestamp): return .string(Timestamps.parse(text).map(Timestamps.format) ?? text)
        case (.text(let text), .json): return JSONValue(jsonText: text) ?? .string(text)
        case (.text(let text), .int), (.text(let text), .float): return Double(text).map(JSONValue.number) ?? .string(text)
        case (.text(let text), _): return .string(text)
        case (.blob, _): return .null
        }
    }
}
