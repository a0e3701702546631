// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

public import Foundation
import Yams

/// How a model is built (docs.getdbt.com/docs/build/materializations).
public enum Materialization: String, Sendable, Hashable, Codable, CaseIterable {
    case view
    case table
    case incremental
}

/// A dbt project folder: `dbt_project.yml`, `models/**.sql`, the `schema.yml` files beside them,
/// singular tests under `tests/` and seed CSVs under `seeds/`.
///
/// ```swift
/// let project = try DataProject(directory: URL(fileURLWithPath: "data/transformations"))
/// project.models["fct_ai_context"]?.materialization   // .table, from `+materialized` in dbt_project.yml
/// ```
public struct DataProject: Sendable {
    public let directory: URL
    /// `name:` of dbt_project.yml.
    public let name: String
    /// `vars:` of dbt_project.yml (project-level; `{{ var('x', default) }}` reads them).
    public let vars: [String: TemplateValue]
    /// The models by name.
    public let models: [String: ModelDefinition]
    /// Generic tests from schema.yml files and singular tests from `tests/`, in file order.
    public let tests: [DataTestDefinition]
    /// Sources declared in schema.yml files (`sources:`), by `group.table`; models may also use
    /// undeclared sources, which resolve by the naming rule alone.
    public let sources: [String: ProjectSource]
    /// Seed CSV files, by seed name.
    public let seeds: [String: SeedDefinition]

    /// Loads and parses the whole project; throws ``DataProjectError`` or ``TemplateError``
    /// naming the file (and line) at fault.
    public init(directory: URL) throws {
        self.directory = directory.standardizedFileURL
        let projectFile = self.directory.appendingPathComponent("dbt_project.yml")
        guard let projectYAML = try Self.loadYAML(projectFile, relative: "dbt_project.yml") as? [AnyHashable: Any] else {
            throw DataProjectError("dbt_project.yml: not found or not a mapping in \(self.directory.path)")
        }
        guard let name = projectYAML["name"] as? String, !name.isEmpty else {
            throw DataProjectError("dbt_project.yml: `name` is required")
        }
        self.name = name
        var vars: [String: TemplateValue] = [:]
        if let declared = projectYAML["vars"] as? [AnyHashable: Any] {
            for (key, value) in declared {
                // dbt also allows vars scoped by project name: `vars: {project: {x: 1}}`.
                if "\(key.base)" == name, let scoped = value as? [AnyHashable: Any] {
                    for (inner, innerValue) in scoped { vars["\(inner.base)"] = TemplateValue(yaml: innerValue) }
                } else {
                    vars["\(key.base)"] = TemplateValue(yaml: value)
                }
            }
        }
        self.vars = vars

        let modelPaths = (projectYAML["model-paths"] as? [String]) ?? (projectYAML["source-paths"] as? [String]) ?? ["models"]
        let testPaths = (projectYAML["test-paths"] as? [String]) ?? ["tests"]
        let seedPaths = (projectYAML["seed-paths"] as? [String]) ?? ["seeds"]
        let modelTree = projectYAML["models"] as? [AnyHashable: Any] ?? [:]
        let seedTree = projectYAML["seeds"] as? [AnyHashable: Any] ?? [:]

        // Models: every .sql below the model paths.
        var models: [String: ModelDefinition] = [:]
        var schemaFiles: [(URL, String)] = []
        for path in modelPaths {
            for (file, relative) in try Self.files(in: self.directory, under: path) {
                if file.pathExtension == "sql" {
                    let modelName = file.deletingPathExtension().lastPathComponent
                    try DataModelNaming.validate(modelName, what: "model name", file: relative)
                    if let existing = models[modelName] {
                        throw DataProjectError("\(relative): a model named '\(modelName)' is already defined in \(existing.path)")
                    }
                    let sql = try Self.readText(file, relative: relative)
                    let template = try Template(source: sql, file: relative)
                    let folders = Array(relative.split(separator: "/").dropFirst().dropLast().map(String.init))
                    let config = Self.resolveConfig(tree: modelTree, project: name, folders: folders, model: modelName)
                    models[modelName] = try ModelDefinition(name: modelName, path: relative, sql: sql, template: template,
                                                            projectConfig: config)
                } else if file.pathExtension == "yml" || file.pathExtension == "yaml" {
                    schemaFiles.append((file, relative))
                }
            }
        }

        // schema.yml files: descriptions, columns, generic tests, sources.
        var tests: [DataTestDefinition] = []
        var sources: [String: ProjectSource] = [:]
        for (file, relative) in schemaFiles {
            guard let yaml = try Self.loadYAML(file, relative: relative) as? [AnyHashable: Any] else { continue }
            for entry in yaml["sources"] as? [Any] ?? [] {
                guard let source = entry as? [AnyHashable: Any], let group = source["name"] as? String else {
                    throw DataProjectError("\(relative): each entry of `sources:` needs a `name`")
                }
                for tableEntry in source["tables"] as? [Any] ?? [] {
                    guard let table = tableEntry as? [AnyHashable: Any], let tableName = table["name"] as? String else {
                        throw DataProjectError("\(relative): each table of source '\(group)' needs a `name`")
                    }
                    let definition = ProjectSource(group: group, table: tableName,
                                                      description: (table["description"] as? String) ?? (source["description"] as? String) ?? "",
                                                      file: relative)
                    sources[definition.qualifiedName] = definition
                    for column in table["columns"] as? [Any] ?? [] {
                        guard let column = column as? [AnyHashable: Any], let columnName = column["name"] as? String else { continue }
                        tests += try Self.genericTests(column["data_tests"] ?? column["tests"], target: .source(group, tableName),
                                                       column: columnName, file: relative)
                    }
                }
            }
            for entry in yaml["models"] as? [Any] ?? [] {
                guard let model = entry as? [AnyHashable: Any], let modelName = model["name"] as? String else {
                    throw DataProjectError("\(relative): each entry of `models:` needs a `name`")
                }
                guard var definition = models[modelName] else {
                    throw DataProjectError("\(relative): describes model '\(modelName)', which has no .sql file")
                }
                definition.description = (model["description"] as? String) ?? definition.description
                if let config = model["config"] as? [AnyHashable: Any] {
                    definition.applySchemaConfig(config)
                }
                for column in model["columns"] as? [Any] ?? [] {
                    guard let column = column as? [AnyHashable: Any], let columnName = column["name"] as? String else {
                        throw DataProjectError("\(relative): each column of model '\(modelName)' needs a `name`")
                    }
                    definition.columns.append(ColumnDefinition(name: columnName, description: (column["description"] as? String) ?? ""))
                    tests += try Self.genericTests(column["data_tests"] ?? column["tests"], target: .model(modelName),
                                                   column: columnName, file: relative)
                }
                tests += try Self.genericTests(model["data_tests"] ?? model["tests"], target: .model(modelName), column: nil, file: relative)
                models[modelName] = definition
            }
        }

        // Singular tests.
        for path in testPaths {
            for (file, relative) in try Self.files(in: self.directory, under: path) where file.pathExtension == "sql" {
                let testName = file.deletingPathExtension().lastPathComponent
                let sql = try Self.readText(file, relative: relative)
                tests.append(DataTestDefinition(name: testName, kind: .singular(try Template(source: sql, file: relative)), file: relative))
            }
        }
        var seen = Set<String>()
        for test in tests where !seen.insert(test.name).inserted {
            throw DataProjectError("\(test.file): two tests are named '\(test.name)'")
        }

        // Seeds.
        var seeds: [String: SeedDefinition] = [:]
        for path in seedPaths {
            for (file, relative) in try Self.files(in: self.directory, under: path) where file.pathExtension == "csv" {
                let seedName = file.deletingPathExtension().lastPathComponent
                try DataModelNaming.validate(seedName, what: "seed name", file: relative)
                if models[seedName] != nil { throw DataProjectError("\(relative): seed '\(seedName)' has the name of a model") }
                let folders = Array(relative.split(separator: "/").dropFirst().dropLast().map(String.init))
                let config = Self.resolveRawConfig(tree: seedTree, project: name, folders: folders, leaf: seedName)
                var columnTypes: [String: String] = [:]
                if let types = config["column_types"] as? [AnyHashable: Any] {
                    for (column, type) in types { columnTypes["\(column.base)"] = "\(type)" }
                }
                seeds[seedName] = SeedDefinition(name: seedName, path: relative, file: file, columnTypes: columnTypes)
            }
        }

        self.models = models
        self.tests = tests
        self.sources = sources
        self.seeds = seeds
    }

    // MARK: Files

    /// Regular files under `path` (recursively, sorted), with their project-relative path.
    /// Refuses paths that leave the project folder.
    static func files(in root: URL, under path: String) throws -> [(URL, String)] {
        let base = root.appendingPathComponent(path).standardizedFileURL
        guard base.path.hasPrefix(root.path) else { throw DataProjectError("dbt_project.yml: path '\(path)' leaves the project folder") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: base.path, isDirectory: &isDirectory), isDirectory.boolValue else { return [] }
        var found: [(URL, String)] = []
        guard let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        for case let url as URL in enumerator {
            let standardized = url.standardizedFileURL
            guard (try? standardized.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            guard standardized.path.hasPrefix(root.path + "/") else { continue }
            found.append((standardized, String(standardized.path.dropFirst(root.path.count + 1))))
        }
        return found.sorted { $0.1 < $1.1 }
    }

    static func readText(_ file: URL, relative: String) throws -> String {
        do {
            let bytes = try Foundation.Data(contentsOf: file)
            guard let text = String(data: bytes, encoding: .utf8) else { throw DataProjectError("\(relative): not valid UTF-8") }
            return text
        } catch let error as DataProjectError {
            throw error
        } catch {
            throw DataProjectError("\(relative): cannot be read")
        }
    }

    static func loadYAML(_ file: URL, relative: String) throws -> Any? {
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        let text = try readText(file, relative: relative)
        do {
            return try Yams.load(yaml: text)
        } catch let error as YamlError {
            throw DataProjectError("\(relative): invalid YAML: \(error)")
        }
    }

    // MARK: Configuration tree

    static let configKeys: Set<String> = ["materialized", "enabled", "unique_key", "tags", "schema", "alias", "column_types",
                                          "incremental_strategy", "on_schema_change", "full_refresh", "persist_docs", "docs",
                                          "meta", "quote_columns", "database", "pre-hook", "post-hook", "grants", "contract"]

    /// Applies the `models:` tree along the model's folders: `+key` (or a known config name) at
    /// each level, deeper levels overriding shallower ones (docs.getdbt.com/reference/model-configs).
    static func resolveRawConfig(tree: [AnyHashable: Any], project: String, folders: [String], leaf: String) -> [String: Any] {
        var config: [String: Any] = [:]
        func apply(_ node: [AnyHashable: Any]) {
            for (key, value) in node {
                let name = "\(key.base)"
                if name.hasPrefix("+") { config[String(name.dropFirst())] = value } else if configKeys.contains(name) { config[name] = value }
            }
        }
        apply(tree)
        guard var node = tree[project] as? [AnyHashable: Any] else { return config }
        apply(node)
        for folder in folders + [leaf] {
            guard let child = node[folder] as? [AnyHashable: Any] else { break }
            apply(child)
            node = child
        }
        return config
    }

    static func resolveConfig(tree: [AnyHashable: Any], project: String, folders: [String], model: String) -> [String: Any] {
        resolveRawConfig(tree: tree, project: project, folders: folders, leaf: model)
    }

    // MARK: Generic tests

    static func genericTests(_ declaration: Any?, target: DataTestTarget, column: String?, file: String) throws -> [DataTestDefinition] {
        guard let declaration else { return [] }
        guard let entries = declaration as? [Any] else {
            throw DataProjectError("\(file): `tests` of \(target.displayName) must be a list")
        }
        var tests: [DataTestDefinition] = []
        for entry in entries {
            let testName: String
            var arguments: [AnyHashable: Any] = [:]
            if let name = entry as? String {
                testName = name
            } else if let mapping = entry as? [AnyHashable: Any], mapping.count == 1, let (key, value) = mapping.first.map({ ("\($0.key.base)", $0.value) }) {
                testName = key
                if let given = value as? [AnyHashable: Any] {
                    arguments = given
                    // dbt 1.10 nests the arguments under `arguments:`.
                    if let nested = given["arguments"] as? [AnyHashable: Any] {
                        for (nestedKey, nestedValue) in nested { arguments[nestedKey] = nestedValue }
                    }
                }
            } else {
                throw DataProjectError("\(file): a test of \(target.displayName) must be a name or a one-key mapping")
            }
            let columnName = column ?? (arguments["column_name"] as? String)
            guard let columnName else {
                throw DataProjectError("\(file): test '\(testName)' on \(target.displayName) needs a column (declare it under `columns:`)")
            }
            let kind: DataTestDefinition.Kind
            switch testName {
            case "not_null":
                kind = .notNull(target, column: columnName)
            case "unique":
                kind = .unique(target, column: columnName)
            case "accepted_values":
                guard let values = arguments["values"] as? [Any], !values.isEmpty else {
                    throw DataProjectError("\(file): accepted_values on \(target.displayName).\(columnName) needs a non-empty `values` list")
                }
                let quote = (arguments["quote"] as? Bool) ?? true
                kind = .acceptedValues(target, column: columnName, values: values.map { "\($0)" }, quote: quote)
            case "relationships":
                guard let to = arguments["to"] as? String, let field = arguments["field"] as? String else {
                    throw DataProjectError("\(file): relationships on \(target.displayName).\(columnName) needs `to` and `field`")
                }
                kind = .relationships(target, column: columnName, to: try parseRelationTarget(to, file: file), field: field)
            default:
                throw DataProjectError("\(file): unsupported test '\(testName)' on \(target.displayName) (supported: not_null, unique, accepted_values, relationships)")
            }
            let name = DataTestDefinition.generatedName(testName, target: target, column: columnName)
            tests.append(DataTestDefinition(name: name, kind: kind, file: file))
        }
        return tests
    }

    /// `ref('x')` or `source('a', 'b')` as written in a relationships test's `to:`.
    static func parseRelationTarget(_ text: String, file: String) throws -> DataTestTarget {
        let template = try Template(source: "{{ \(text) }}", file: file)
        guard let call = template.staticCalls.first else {
            throw DataProjectError("\(file): relationships `to: \(text)` must be ref('model') or source('group', 'table')")
        }
        if call.function == "ref", call.arguments.count == 1 { return .model(call.arguments[0]) }
        if call.function == "source", call.arguments.count == 2 { return .source(call.arguments[0], call.arguments[1]) }
        throw DataProjectError("\(file): relationships `to: \(text)` must be ref('model') or source('group', 'table')")
    }
}

/// A project that cannot be loaded: the message names the file.
public struct DataProjectError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One model: its SQL, parsed template, configuration and documentation.
public struct ModelDefinition: Sendable {
    public let name: String
    /// Relative to the project folder, e.g. `models/marts/fct_ai_context.sql`.
    public let path: String
    public let sql: String
    let template: Template
    /// From dbt_project.yml and schema.yml; `config()` in the file overrides it when rendered.
    public var materialization: Materialization
    public var uniqueKey: [String]
    public var enabled: Bool
    public var description: String = ""
    public var columns: [ColumnDefinition] = []
    /// `ref()` targets found in the file.
    public let refs: [String]
    /// `source()` targets found in the file, as (group, table).
    public let sourceRefs: [SourceReference]

    init(name: String, path: String, sql: String, template: Template, projectConfig: [String: Any]) throws {
        self.name = name
        self.path = path
        self.sql = sql
        self.template = template
        materialization = .view
        uniqueKey = []
        enabled = true
        var refs: [String] = []
        var sources: [SourceReference] = []
        for call in template.staticCalls {
            if call.function == "ref" {
                guard call.arguments.count == 1 || call.arguments.count == 2 else {
                    throw TemplateError(file: path, line: call.line, "ref() takes a model name")
                }
                if !refs.contains(call.arguments.last!) { refs.append(call.arguments.last!) }
            } else {
                guard call.arguments.count == 2 else {
                    throw TemplateError(file: path, line: call.line, "source() takes a source name and a table name")
                }
                let reference = SourceReference(group: call.arguments[0], table: call.arguments[1])
                if !sources.contains(reference) { sources.append(reference) }
            }
        }
        self.refs = refs
        self.sourceRefs = sources
        try apply(projectConfig, file: "dbt_project.yml")
    }

    mutating func apply(_ config: [String: Any], file: String) throws {
        if let value = config["materialized"] {
            guard let materialization = Materialization(rawValue: "\(value)") else {
                throw DataProjectError("\(file): materialized '\(value)' for model '\(name)' is not supported (view, table, incremental)")
            }
            self.materialization = materialization
        }
        if let value = config["unique_key"] {
            if let list = value as? [Any] { uniqueKey = list.map { "\($0)" } } else { uniqueKey = ["\(value)"] }
        }
        if let value = config["enabled"] as? Bool { enabled = value }
    }

    mutating func applySchemaConfig(_ config: [AnyHashable: Any]) {
        var plain: [String: Any] = [:]
        for (key, value) in config { plain["\(key.base)"] = value }
        try? apply(plain, file: path)
    }
}

/// A column documented in schema.yml.
public struct ColumnDefinition: Sendable, Hashable {
    public var name: String
    public var description: String
}

/// `source('group', 'table')`.
public struct SourceReference: Sendable, Hashable, Codable {
    public var group: String
    public var table: String
    public var qualifiedName: String { "\(group).\(table)" }
}

/// A source declared under `sources:` in a schema.yml.
public struct ProjectSource: Sendable, Hashable {
    public var group: String
    public var table: String
    public var description: String
    public var file: String
    public var qualifiedName: String { "\(group).\(table)" }
}

/// A seed CSV (docs.getdbt.com/docs/build/seeds): loaded into a table that `ref('name')` reads.
public struct SeedDefinition: Sendable, Hashable {
    public var name: String
    public var path: String
    public var file: URL
    /// `+column_types` from dbt_project.yml's `seeds:` tree.
    public var columnTypes: [String: String]
}

/// What a data test checks: a model or a source.
public enum DataTestTarget: Sendable, Hashable {
    case model(String)
    case source(String, String)

    var displayName: String {
        switch self {
        case .model(let name): "model '\(name)'"
        case .source(let group, let table): "source '\(group).\(table)'"
        }
    }

    var nameFragment: String {
        switch self {
        case .model(let name): name
        case .source(let group, let table): "source_\(group)_\(table)"
        }
    }
}

/// A test: generic (from schema.yml) or singular (a `tests/*.sql` query). A test fails when its
/// query returns rows; the number of rows is the failure count.
public struct DataTestDefinition: Sendable {
    public enum Kind: Sendable {
        case notNull(DataTestTarget, column: String)
        case unique(DataTestTarget, column: String)
        case acceptedValues(DataTestTarget, column: String, values: [String], quote: Bool)
        case relationships(DataTestTarget, column: String, to: DataTestTarget, field: String)
        case singular(Template)
    }

    public let name: String
    public let kind: Kind
    /// The file that declares it.
    public let file: String

    /// dbt's naming: `not_null_orders_id`, `accepted_values_orders_status`, …
    static func generatedName(_ test: String, target: DataTestTarget, column: String) -> String {
        "\(test)_\(target.nameFragment)_\(column)"
    }

    /// The model it is attached to (for `--select`), if any.
    public var model: String? {
        switch kind {
        case .notNull(.model(let name), _), .unique(.model(let name), _), .acceptedValues(.model(let name), _, _, _),
             .relationships(.model(let name), _, _, _):
            name
        default:
            nil
        }
    }
}
