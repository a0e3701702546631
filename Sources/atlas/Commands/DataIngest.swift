// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Core
import DataPlatform
import Foundation
import Storage

/// `atlas data ingest SOURCE FILE`: the file is read in chunks and validated like
/// `POST /data/sources/{source}/records`; `--sync CONNECTOR` runs a pull connector once instead.
struct DataIngest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest", abstract: "Load a JSON, NDJSON or CSV file into a source, or run a pull connector once.",
        discussion: """
            The format follows the extension (.json, .ndjson/.jsonl, .csv) unless --format names it. Records that fail \
            the source's schema are stored in data_ingest_errors with their line and listed here; with --on-error abort \
            one bad record stores nothing (exit status 1). Sources and connectors come from ATLAS_DATA_SOURCES.
            """)

    @Argument(help: "The source to load into.")
    var source: String?

    @Argument(help: "The file to read.")
    var file: String?

    @Option(name: .long, help: "The tenant the records belong to.")
    var tenant: String = "demo"

    @Option(name: .long, help: "json, ndjson or csv (default: from the file's extension).")
    var format: String?

    @Option(name: .customLong("on-error"), help: "skip (store the good records) or abort (store nothing when one is bad).")
    var onError: String = "skip"

    @Option(name: .long, help: "Run this connector of the sources file once instead of loading a file.")
    var sync: String?

    func validate() throws {
        if sync == nil && (source == nil || file == nil) { throw ValidationError("give SOURCE and FILE, or --sync CONNECTOR") }
        if sync != nil && (source != nil || file != nil) { throw ValidationError("--sync takes no SOURCE or FILE") }
        guard TenantID(tenant) != nil else { throw ValidationError("--tenant \(tenant) is not a valid tenant id") }
        guard IngestErrorMode(rawValue: onError) != nil else { throw ValidationError("--on-error must be skip or abort") }
        if let format, RecordFormat(rawValue: format) == nil { throw ValidationError("--format must be json, ndjson or csv") }
    }

    func run() async throws {
        let environment = EnvironmentReader()
        let application = try Application(environment: environment)
        let configuration: IngestionConfiguration
        do {
            configuration = try IngestionConfiguration(environment: environment)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        let database = try await application.openDatabase()
        do {
            _ = try await application.migrate(database)
            let ingestion = DataIngestion(database: database, configuration: configuration, logger: application.logger)
            try await ingestion.bootstrap()
            if let sync {
                let report = try await ingestion.sync(connector: sync)
                print("connector \(report.connector) → \(report.source): \(report.rows) rows, \(report.rejected) rejected, \(report.pages) batches, cursor \(report.cursor ?? "-")")
            } else if let source, let file {
                let summary = try await ingestion.ingestFile(
                    path: file, source: source, tenant: TenantID(tenant)!, format: format.flatMap(RecordFormat.init(rawValue:)),
                    mode: IngestErrorMode(rawValue: onError) ?? .skip)
                print("\(summary.source) (\(summary.tenant)): \(summary.accepted) accepted, \(summary.rejected) rejected in \(summary.batches.count) batch(es)\(summary.inferred ? ", schema inferred" : "")")
                for error in summary.errors { print("  line \(error.line): \(error.detail)") }
            }
            await database.close()
        } catch let error as IngestError {
            await database.close()
            if let summary = error.summary {
                for rejected in summary.errors { print("  line \(rejected.line): \(rejected.detail)") }
            }
            throw ValidationError(error.detail)
        } catch let error as SourceConfigurationError {
            await database.close()
            throw ValidationError(error.description)
        } catch let error as SyncError {
            await database.close()
            throw ValidationError(error.description)
        } catch {
            await database.close()
            throw error
        }
    }
}
