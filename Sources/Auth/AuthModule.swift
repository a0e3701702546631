// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

/// The Auth module's public entry point. Its routes and services are wired by the `atlas`
/// composition root.
public enum AuthModule {
    /// The prefix of every table this module owns (ARCHITECTURE.md, rule 3).
    public static let tablePrefix = "auth_"
}
