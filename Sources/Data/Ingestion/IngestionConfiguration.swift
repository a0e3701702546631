// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

public import Core
import Foundation

/// Settings of ingestion, pull connectors and the feature store, read once from the environment:
///
/// | variable | default | meaning |
/// | --- | --- | --- |
/// | `ATLAS_DATA_SOURCES` | `data/sources.yml` | YAML with `sources:` (schemas) and `connectors:` (pulls); a missing file means none |
/// | `ATLAS_DATA_FEATURES` | `data/features` | a feature-view YAML file, or a folder of them; missing means none |
/// | `ATLAS_DATA_INFER_SOURCES` | `true` | a push to an undeclared source infers its schema from the first records |
/// | `ATLAS_DATA_INGEST_MAX_ERRORS` | `100` | rejected records listed in one ingest answer (all are stored) |
/// | `ATLAS_DATA_SYNC_ENABLED` | `true` | `atlas serve` runs the connectors' cron schedules |
public struct IngestionConfiguration: Sendable {
    public var sourcesFile: String
    public var featuresPath: String
    public var inferSources: Bool
    public var maxErrorsReported: Int
    public var syncEnabled: Bool
    /// Records per transaction when loading a file outside HTTP in the default (skip) mode.
    public var fileBatchRows: Int

    public init(sourcesFile: String = "data/sources.yml", featuresPath: String = "data/features", inferSources: Bool = true,
                maxErrorsReported: Int = 100, syncEnabled: Bool = true, fileBatchRows: Int = 50_000) {
        self.sourcesFile = sourcesFile
        self.featuresPath = featuresPath
        self.inferSources = inferSources
        self.maxErrorsReported = maxErrorsReported
        self.syncEnabled = syncEnabled
        self.fileBatchRows = fileBatchRows
    }

    /// Reads the variables in the table above; throws ``ConfigurationError`` naming the variable.
    public init(environment: EnvironmentReader) throws {
        self.init(
            sourcesFile: environment.string("ATLAS_DATA_SOURCES", default: "data/sources.yml"),
            featuresPath: environment.string("ATLAS_DATA_FEATURES", default: "data/features"),
            inferSources: try environment.bool("ATLAS_DATA_INFER_SOURCES", default: true),
            maxErrorsReported: try environment.int("ATLAS_DATA_INGEST_MAX_ERRORS", default: 100, in: 0...10_000),
            syncEnabled: try environment.bool("ATLAS_DATA_SYNC_ENABLED", default: true))
    }
}
