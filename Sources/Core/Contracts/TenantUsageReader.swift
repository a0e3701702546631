// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

/// Usage a tenant accrued outside its own counters, e.g. metered usage events. The tenant summary
/// (`{tenant, usage:{tokens,requests,plan}, refreshed_at}`, SPEC §3) adds it to the tenant's
/// `tokens_delta`/`requests_delta` counters. Implemented by the module that meters usage and
/// wired in by the composition root; without one, the summary shows the counters alone.
public protocol TenantUsageReader: Sendable {
    /// Tokens and requests metered for `tenant` in its current billing period.
    func meteredUsage(for tenant: TenantID) async throws -> (tokens: Int, requests: Int)
}
