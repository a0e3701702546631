// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

/// The Billing module's public entry point. Its routes and services are wired by the `atlas`
/// composition root.
public enum BillingModule {
    /// The prefix of every table this module owns (ARCHITECTURE.md, rule 3).
    public static let tablePrefix = "billing_"
}
