// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Core
import DataPlatform
import Foundation
import Storage

/// Options every model command shares.
struct DataProjectOptions: ParsableArguments {
    @Option(name: .long, help: "The dbt project folder (default: ATLAS_DATA_PROJECT_DIR, else data/transformations).")
    var project: String?

    @Option(name: [.customShort("s"), .long], parsing: .upToNextOption,
            help: "Models to include: name, name+ (and descendants), +name (and ancestors).")
    var select: [String] = []

    @Option(name: .long, help: "Variables as YAML/JSON, e.g. '{cutoff: 2024-01-01}', overriding dbt_project.yml vars.")
    var vars: String?

    func configuration(_ environment: EnvironmentReader) throws -> DataModule.Configuration {
        var configuration = try DataModule.Configuration(environment: environment)
        if let project { configuration.projectDirectory = URL(fileURLWithPath: project) }
        return configuration
    }

    func parsedVars() throws -> [String: TemplateValue] {
        guard let vars else { return [:] }
        do {
            return try TemplateValue.parseVars(vars)
        } catch let error as DataProjectError {
            throw ValidationError(error.description)
        }
    }

    /// Opens and migrates the database, runs `kind`, prints the results; exits 1 when anything failed.
    func execute(_ kind: DataRunKind, fullRefresh: Bool = false) async throws {
        let environment = EnvironmentReader()
        let application = try Application(environment: environment)
        let run = try await withProjectDatabase(application) { database in
            let module = DataModule(database: database, configuration: try configuration(environment), logger: application.logger)
            do {
                // Loads the feature views, so a run refreshes those reading the rebuilt models.
                try await module.bootstrap()
            } catch {
                FileHandle.standardError.write(Data("warning: sources or feature views not loaded: \(error)\n".utf8))
            }
            return try await module.models.execute(kind, select: select, fullRefresh: fullRefresh, vars: try parsedVars(),
                                                   requestedBy: "cli")
        }
        DataOutput.print(run)
        if run.status != .success { throw ExitCode(1) }
    }
}

/// Opens and migrates the application's database, runs `body` on it and closes it on every path;
/// project and template errors become usage errors naming the file and line.
private func withProjectDatabase<T>(_ application: Application, _ body: (any Database) async throws -> T) async throws -> T {
    let database = try await application.openDatabase()
    do {
        _ = try await application.migrate(database)
        let result = try await body(database)
        await database.close()
        return result
    } catch let error as DataProjectError {
        await database.close()
        throw ValidationError(error.description)
    } catch let error as TemplateError {
        await database.close()
        throw ValidationError(error.description)
    } catch {
        await database.close()
        throw error
    }
}

struct DataRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Build the project's models in dependency order.",
        discussion: "Each model is built in its own transaction; a model that fails keeps its previous contents and its descendants are skipped.")

    @OptionGroup var options: DataProjectOptions

    @Flag(name: .long, help: "Rebuild incremental models from scratch.")
    var fullRefresh = false

    func run() async throws { try await options.execute(.run, fullRefresh: fullRefresh) }
}

struct DataTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test", abstract: "Run the project's data tests (schema.yml tests and tests/*.sql).",
        discussion: "A test fails when its query returns rows; the count of failing rows is shown. Exit status 1 when any test fails.")

    @OptionGroup var options: DataProjectOptions

    func run() async throws { try await options.execute(.test) }
}

struct DataSeed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "seed", abstract: "Load the project's seed CSV files into tables.")

    @OptionGroup var options: DataProjectOptions

    func run() async throws { try await options.execute(.seed) }
}

struct DataList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List the project's models with materialisation, status, last run and freshness.")

    @Option(name: .long, help: "The dbt project folder (default: ATLAS_DATA_PROJECT_DIR, else data/transformations).")
    var project: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        let environment = EnvironmentReader()
        let application = try Application(environment: environment)
        let directory = try project.map { URL(fileURLWithPath: $0) } ?? DataModule.Configuration(environment: environment).projectDirectory
        let statuses = try await withProjectDatabase(application) { database in
            try await DataModels(database: database, projectDirectory: directory, logger: application.logger).models()
        }
        if json {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            Swift.print(String(decoding: try encoder.encode(statuses), as: UTF8.self))
            return
        }
        let formatter = ISO8601DateFormatter()
        let header = ["name", "type", "materialized", "status", "last run", "freshness", "rows"]
        let rows = statuses.map { status in
            [status.name, status.resourceType.rawValue, status.materialization?.rawValue ?? "-",
             status.lastStatus?.rawValue ?? "never run", status.lastRunAt.map(formatter.string) ?? "-",
             status.freshness.map(formatter.string) ?? "-", status.rows.map(String.init) ?? "-"]
        }
        DataOutput.table(header, rows)
    }
}

enum DataOutput {
    static func print(_ run: DataPlatform.DataRun) {
        let total = run.results.count
        for (index, result) in run.results.enumerated() {
            let label: String
            switch result.status {
            case .success: label = "OK"
            case .pass: label = "PASS"
            case .fail: label = "FAIL \(result.failures ?? 0)"
            case .error: label = "ERROR"
            case .skipped: label = "SKIP"
            }
            var what = result.resourceType.rawValue
            if let materialization = result.materialization, result.resourceType == .model { what = "\(materialization.rawValue) model" }
            let rows = result.rows.map { " (\($0) rows)" } ?? ""
            let duration = String(format: "%.1f", result.durationMs)
            Swift.print("\(index + 1) of \(total) \(label.padding(toLength: 8, withPad: " ", startingAt: 0)) \(what) \(result.name)\(rows) in \(duration) ms")
            if let error = result.error, result.status == .error || result.status == .skipped {
                Swift.print("    \(error)")
            }
        }
        let summary = run.summary.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        Swift.print("\(run.kind.rawValue) \(run.id): \(run.status.rawValue) (\(summary.isEmpty ? "nothing selected" : summary))")
    }

    static func table(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        Swift.print(line(header))
        for row in rows { Swift.print(line(row)) }
    }
}
