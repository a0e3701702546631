// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

public import Foundation

/// What a run does: build models, run tests, or load seeds.
public enum DataRunKind: String, Sendable, Hashable, Codable, CaseIterable {
    case run
    case test
    case seed
}

/// A stored run (`data_runs`) with its results (`data_run_results`).
public struct DataRun: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        case running
        /// Every model built / every test passed.
        case success
        /// At least one model or test failed or errored.
        case error
    }

    public var id: String
    public var kind: DataRunKind
    public var status: Status
    /// The `--select` given, if any.
    public var selector: String?
    /// The project's name.
    public var project: String
    public var requestedBy: String?
    /// Why the whole run could not start (bad project, cycle), if so.
    public var error: String?
    public var startedAt: Date
    public var finishedAt: Date?
    public var results: [DataRunResult]

    /// Counts by status, e.g. `["success": 3, "skipped": 1]`.
    public var summary: [String: Int] {
        results.reduce(into: [:]) { $0[$1.status.rawValue, default: 0] += 1 }
    }
}

/// One model, seed or test of a run.
public struct DataRunResult: Sendable, Hashable, Codable {
    public enum ResourceType: String, Sendable, Hashable, Codable {
        case model
        case test
        case seed
    }

    public enum Status: String, Sendable, Hashable, Codable {
        /// A model or seed was built.
        case success
        /// A model, seed or test could not run (SQL error, missing source, bad template).
        case error
        /// Not run because something it depends on failed.
        case skipped
        /// A test returned no rows.
        case pass
        /// A test returned rows: ``DataRunResult/failures`` of them.
        case fail
    }

    public var name: String
    public var resourceType: ResourceType
    public var materialization: Materialization?
    /// The database relation built or tested.
    public var relation: String?
    public var status: Status
    /// Rows in the table after a build, or rows added by an incremental build; `nil` for views.
    public var rows: Int64?
    /// The failing rows of a test.
    public var failures: Int64?
    public var durationMs: Double
    public var error: String?
    public var startedAt: Date
    public var finishedAt: Date
}

/// A model as `atlas data ls` and `GET /data/models` show it.
public struct DataModelStatus: Sendable, Hashable, Codable {
    public var name: String
    /// `model` or `seed`.
    public var resourceType: DataRunResult.ResourceType
    public var materialization: Materialization?
    public var relation: String
    public var description: String
    public var path: String
    /// Models it refs.
    public var dependsOn: [String]
    /// The status of its latest build (`success`, `error`, `skipped`), `nil` when never built.
    public var lastStatus: DataRunResult.Status?
    public var lastRunAt: Date?
    public var lastRunID: String?
    /// The end of its last successful build.
    public var freshness: Date?
    public var rows: Int64?
}
