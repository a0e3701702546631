// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Storage

/// dbt's Jinja context for one model or test (docs.getdbt.com/reference/dbt-jinja-functions):
/// `ref`, `source`, `config`, `var`, `is_incremental`, `env_var`, and the globals `this`,
/// `target`, `model`, `execute`.
final class ModelRenderHost: TemplateHost {
    let project: DataProject
    let dialect: SQLDialect
    let file: String
    /// The relation `{{ this }}` names.
    let this: String?
    let modelName: String?
    let incremental: Bool
    let vars: [String: TemplateValue]
    /// `config(...)` calls seen while rendering, merged.
    private(set) var config: [String: Any] = [:]

    init(project: DataProject, dialect: SQLDialect, file: String, model: String?, incremental: Bool, vars: [String: TemplateValue]) {
        self.project = project
        self.dialect = dialect
        self.file = file
        self.modelName = model
        self.this = model.map(DataModelNaming.relation(forModel:))
        self.incremental = incremental
        self.vars = project.vars.merging(vars) { $1 }
    }

    /// `target.type`: the adapter name dbt would report for this backend.
    var targetType: String { dialect == .postgres ? "postgres" : "sqlite" }

    func global(_ name: String) -> TemplateValue? {
        switch name {
        case "this": this.map { .string($0) }
        case "target":
            .dict(["type", "name", "schema", "database", "profile_name", "threads"],
                  ["type": .string(targetType), "name": .string("atlas"), "schema": .string(dialect == .postgres ? "public" : "main"),
                   "database": .string("atlas"), "profile_name": .string("atlas"), "threads": .int(1)])
        case "model": modelName.map { .dict(["name"], ["name": .string($0)]) }
        case "execute": .bool(true)
        case "project_name": .string(project.name)
        default: nil
        }
    }

    func call(_ function: String, arguments: [TemplateValue], keywords: [(String, TemplateValue)], line: Int) throws -> TemplateValue? {
        func error(_ message: String) -> TemplateError { TemplateError(file: file, line: line, message) }
        switch function {
        case "ref":
            guard let last = arguments.last, arguments.count <= 2, case .string(let name) = last else {
                throw error("ref() takes a model name")
            }
            guard project.models[name] != nil || project.seeds[name] != nil else {
                throw error("ref('\(name)') names no model or seed of the project")
            }
            return .string(DataModelNaming.relation(forModel: name))
        case "source":
            guard arguments.count == 2, case .string(let group) = arguments[0], case .string(let table) = arguments[1] else {
                throw error("source() takes a source name and a table name")
            }
            guard DataModelNaming.isValid(group), DataModelNaming.isValid(table) else {
                throw error("source('\(group)', '\(table)'): names must be letters, digits and '_'")
            }
            return .string(DataModelNaming.relation(forSource: group, table: table))
        case "config":
            guard arguments.isEmpty else { throw error("config() takes keyword arguments, e.g. config(materialized='table')") }
            for (key, value) in keywords { config[key] = Self.plain(value) }
            return .string("")
        case "var":
            guard let first = arguments.first, case .string(let name) = first, arguments.count <= 2 else {
                throw error("var() takes a name and an optional default")
            }
            if let value = vars[name] { return value }
            if arguments.count == 2 { return arguments[1] }
            throw error("required var '\(name)' is not set (define it under `vars:` in dbt_project.yml or pass --vars)")
        case "is_incremental":
            return .bool(incremental)
        case "env_var":
            guard let first = arguments.first, case .string(let name) = first else { throw error("env_var() takes a name") }
            // Only DBT_-prefixed variables: rendered SQL must never expose Atlas's own secrets.
            if name.hasPrefix("DBT_"), let value = ProcessInfo.processInfo.environment[name] { return .string(value) }
            if arguments.count == 2 { return arguments[1] }
            throw error("env_var('\(name)') is not set (only DBT_* variables are readable)")
        case "log", "print":
            return .string("")
        default:
            return nil
        }
    }

    static func plain(_ value: TemplateValue) -> Any {
        switch value {
        case .none: NSNull()
        case .bool(let flag): flag
        case .int(let number): number
        case .double(let number): number
        case .string(let text): text
        case .list(let items): items.map(plain)
        case .dict(let keys, let values): Dictionary(uniqueKeysWithValues: keys.map { ($0, plain(values[$0]!)) })
        }
    }
}

extension DataProject {
    /// Renders a model to SQL: config from `config()` merged over the project's, the SQL text
    /// without a trailing `;`.
    func render(_ model: ModelDefinition, dialect: SQLDialect, incremental: Bool, vars: [String: TemplateValue]) throws
        -> (sql: String, model: ModelDefinition) {
        let host = ModelRenderHost(project: self, dialect: dialect, file: model.path, model: model.name, incremental: incremental, vars: vars)
        let sql = try TemplateRenderer(template: model.template, host: host).render()
        var configured = model
        try configured.apply(host.config, file: model.path)
        return (Self.portable(Self.trimmedSQL(sql), dialect), configured)
    }

    func render(_ template: Template, dialect: SQLDialect, vars: [String: TemplateValue]) throws -> String {
        let host = ModelRenderHost(project: self, dialect: dialect, file: template.file, model: nil, incremental: false, vars: vars)
        return Self.portable(Self.trimmedSQL(try TemplateRenderer(template: template, host: host).render()), dialect)
    }

    static func portable(_ sql: String, _ dialect: SQLDialect) -> String {
        dialect == .sqlite ? SQLitePortability.rewrite(sql) : sql
    }

    static func trimmedSQL(_ sql: String) -> String {
        var text = sql.trimmingCharacters(in: .whitespacesAndNewlines)
        while text.hasSuffix(";") { text = String(text.dropLast()).trimmingCharacters(in: .whitespacesAndNewlines) }
        return text
    }
}
