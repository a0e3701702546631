// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
public import CoreMetrics
import Synchronization

/// Per-tenant AI metrics, as swift-metrics counters:
///
/// - `atlas_ai_tokens_total{tenant, direction}`: model tokens of metered calls, `direction`
///   `input` (prompt) or `output` (completion), as the provider reported them;
/// - `atlas_ai_semantic_cache_lookups_total{tenant, result}`: the assistant's cache lookups before
///   answering, `result` `hit` or `miss`.
///
/// Tenant ids are labels on purpose (SPEC §4 asks for tokens and cache hits per tenant); a
/// tenant's handles are made on its first call and kept.
public final class AIUsageMetrics: Sendable {
    private struct Handles: Sendable {
        var input: Counter
        var output: Counter
        var hits: Counter
        var misses: Counter
    }

    private let factory: any MetricsFactory
    private let tenants = Mutex<[String: Handles]>([:])

    /// - Parameter factory: where the counters go (the composition root passes Telemetry's).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// Adds one metered call's input and output tokens to `tenant`.
    public func recordTokens(tenant: TenantID, input: Int, output: Int) {
        let handles = handles(tenant.rawValue)
        if input > 0 { handles.input.increment(by: input) }
        if output > 0 { handles.output.increment(by: output) }
    }

    /// Counts one semantic-cache lookup of `tenant`.
    public func recordCacheLookup(tenant: TenantID, hit: Bool) {
        let handles = handles(tenant.rawValue)
        (hit ? handles.hits : handles.misses).increment()
    }

    private func handles(_ tenant: String) -> Handles {
        if let found = tenants.withLock({ $0[tenant] }) { return found }
        func counter(_ label: String, _ name: String, _ value: String) -> Counter {
            Counter(label: label, dimensions: [("tenant", tenant), (name, value)], factory: factory)
        }
        let made = Handles(
            input: counter("atlas_ai_tokens_total", "direction", "input"),
            output: counter("atlas_ai_tokens_total", "direction", "output"),
            hits: counter("atlas_ai_semantic_cache_lookups_total", "result", "hit"),
            misses: counter("atlas_ai_semantic_cache_lookups_total", "result", "miss"))
        return tenants.withLock { tenants in
            if let raced = tenants[tenant] { return raced }
            tenants[tenant] = made
            return made
        }
    }
}
