// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

/// The AI module's public entry point. Its routes and services are wired by the `atlas`
/// composition root.
public enum AIModule {
    /// The prefix of every table this module owns (ARCHITECTURE.md, rule 3).
    public static let tablePrefix = "ai_"
}
