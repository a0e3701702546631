// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

public import Foundation
import Yams

/// A feature view, in the YAML of `feature-store/tenant_context.yaml`:
///
/// ```yaml
/// features:
///   - name: tenant_ai_context
///     entities: [tenant]
///     ttl: 1h                      # s, m, h, d (or seconds)
///     inputs:
///       - ref: transformations.models.marts.fct_ai_context   # → model fct_ai_context
///     schema: {tenant: string, plan: string, tokens: int, last_refresh: timestamp}
///     timestamp_field: last_refresh   # optional: the event time; default the materialisation time
/// ```
///
/// `online_store` and `offline_store` are accepted and ignored: both stores live in Atlas's
/// database (`data_features_online`, `data_features_offline`).
public struct FeatureView: Sendable, Hashable {
    public var name: String
    public var description: String
    /// The entity column (one entity per view).
    public var entity: String
    public var ttl: TimeInterval
    /// The model whose table (`data_model_<model>`) the view reads.
    public var model: String
    /// Every schema column in order, the entity's included.
    public var schema: [SourceColumn]
    public var timestampField: String?

    public init(name: String, description: String = "", entity: String, ttl: TimeInterval, model: String, schema: [SourceColumn],
                timestampField: String? = nil) throws {
        guard SourceNames.isValidSource(name) else { throw SourceConfigurationError("feature view name \(SourceNames.quoted(name)) must match [a-z][a-z0-9_]{0,47}") }
        guard SourceNames.isValidColumn(entity) else { throw SourceConfigurationError("feature view \(name): entity \(SourceNames.quoted(entity)) is not a column name") }
        guard SourceNames.isValidSource(model) else { throw SourceConfigurationError("feature view \(name): model \(SourceNames.quoted(model)) is not a model name") }
        guard ttl > 0 else { throw SourceConfigurationError("feature view \(name): ttl must be positive") }
        for column in schema where !SourceNames.isValidColumn(column.name) {
            throw SourceConfigurationError("feature view \(name): schema column \(SourceNames.quoted(column.name)) is not a column name")
        }
        guard schema.contains(where: { $0.name != entity }) else { throw SourceConfigurationError("feature view \(name): the schema names no feature besides the entity") }
        if let timestampField, !schema.contains(where: { $0.name == timestampField }) {
            throw SourceConfigurationError("feature view \(name): timestamp_field \(timestampField) is not in the schema")
        }
        self.name = name
        self.description = description
        self.entity = entity
        self.ttl = ttl
        self.model = model
        self.schema = schema
        self.timestampField = timestampField
    }

    /// The feature columns: the schema without the entity.
    public var features: [SourceColumn] { schema.filter { $0.name != entity } }

    /// The model table the view reads.
    public var table: String { "data_model_" + model }

    /// Whether the entity is a tenant id (its values are then readable only by that tenant).
    public var entityIsTenant: Bool { entity == "tenant" || entity == "tenant_id" }

    /// Reads every `.yaml`/`.yml` file of `path` (a file or a folder); a missing path is no views.
    public static func load(path: String) throws -> [FeatureView] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        var files = [path]
        if isDirectory.boolValue {
            files = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                .map { (path as NSString).appendingPathComponent($0) }
        }
        var views: [FeatureView] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw SourceConfigurationError("\(file): cannot be read as UTF-8 text")
            }
            do {
                views += try parse(text)
            } catch let error as SourceConfigurationError {
                throw SourceConfigurationError("\(file): \(error.description)")
            }
        }
        var names = Set<String>()
        for view in views where !names.insert(view.name).inserted {
            throw SourceConfigurationError("feature view \(view.name) is defined twice")
        }
        return views
    }

    /// Parses one feature-view YAML document (`features: [...]`).
    public static func parse(_ text: String) throws -> [FeatureView] {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw SourceConfigurationError("invalid YAML: \(error)") }
        guard let root else { return [] }
        guard let list = root["features"]?.sequence else { throw SourceConfigurationError("expected a top-level `features:` list") }
        return try list.map(view)
    }

    private static func view(_ node: Node) throws -> FeatureView {
        let name = node["name"]?.string ?? ""
        let at = "feature view \(name.isEmpty ? "?" : name)"
        try YAMLFields.allow(node, ["name", "description", "entities", "ttl", "online_store", "offline_store", "inputs", "schema", "timestamp_field", "tags", "owner"], at: at)
        let entities = try YAMLFields.strings(node["entities"], at: "\(at), entities")
        guard entities.count == 1 else { throw SourceConfigurationError("\(at): exactly one entity is supported, found \(entities.count)") }
        guard let ttlText = node["ttl"]?.string, let ttl = parseDuration(ttlText) else {
            throw SourceConfigurationError("\(at): ttl must be a duration such as 30m, 1h or 1d")
        }
        guard let inputs = node["inputs"]?.sequence, inputs.count == 1, let ref = inputs.first?["ref"]?.string else {
            throw SourceConfigurationError("\(at): inputs must hold exactly one `ref:` to a model")
        }
        let model = ref.split(separator: ".").last.map(String.init) ?? ref
        guard let schemaNode = node["schema"]?.mapping else { throw SourceConfigurationError("\(at): `schema` (a mapping of column to type) is required") }
        var schema: [SourceColumn] = []
        for (key, value) in schemaNode {
            guard let type = ColumnType(rawValue: (value.string ?? "").lowercased()) else {
                throw SourceConfigurationError("\(at): schema column \(key.string ?? "?") has type \(SourceNames.quoted(value.string ?? "")), not one of \(ColumnType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            schema.append(SourceColumn(name: key.string ?? "", type: type))
        }
        return try FeatureView(name: name, description: node["description"]?.string ?? "", entity: entities[0], ttl: ttl, model: model,
                               schema: schema, timestampField: node["timestamp_field"]?.string)
    }

    /// `90`, `90s`, `30m`, `1h`, `1d`, `1w` → seconds.
    public static func parseDuration(_ text: String) -> TimeInterval? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        if let unit = trimmed.last, let scale = units[unit], let value = Double(trimmed.dropLast()), value > 0 { return value * scale }
        if let value = Double(trimmed), value > 0 { return value }
        return nil
    }
}
