// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

/// The Telemetry module's public entry point. Its routes and services are wired by the `atlas`
/// composition root.
public enum TelemetryModule {
    /// The prefix of every table this module owns (ARCHITECTURE.md, rule 3).
    public static let tablePrefix = "telemetry_"
}
