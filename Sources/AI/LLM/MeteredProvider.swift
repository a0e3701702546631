// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
import Foundation
import Tracing

/// Wraps a provider so that every call is paid for by a tenant (SPEC §4 "Metering", "Budgets"):
/// before the call, ``BudgetGuard/check(_:)`` may refuse it with a 402 and the provider is never
/// reached; after it, one ``UsageRecord`` (input plus output tokens, latency) is recorded under
/// the source `ai.assistant:<model>`.
///
/// ```swift
/// let metered = MeteredProvider(provider, budgetGuard: billing.budgetGuard, usageMeter: billing.usageMeter)
/// let completion = try await metered.complete(request, tenant: tenant, idempotencyKey: "run_1:llm:3")
/// ```
public struct MeteredProvider: Sendable {
    /// The usage source prefix of assistant calls; the model follows after a colon.
    public static let sourcePrefix = "ai.assistant"

    public let provider: any LLMProvider
    public let budgetGuard: (any BudgetGuard)?
    public let usageMeter: (any UsageMeter)?
    /// Per-tenant token (and, for the assistant, cache) counters, if any.
    public let usageMetrics: AIUsageMetrics?

    public init(_ provider: any LLMProvider, budgetGuard: (any BudgetGuard)?, usageMeter: (any UsageMeter)?,
                usageMetrics: AIUsageMetrics? = nil) {
        self.provider = provider
        self.budgetGuard = budgetGuard
        self.usageMeter = usageMeter
        self.usageMetrics = usageMetrics
    }

    /// The usage source recorded for `model`: `ai.assistant:<model>`, printable ASCII without
    /// spaces, at most 64 bytes (Billing's limits).
    public static func source(model: String) -> String {
        let cleaned = String(model.unicodeScalars.map { $0.value > 0x20 && $0.value < 0x7F ? Character($0) : "_" })
        return String("\(sourcePrefix):\(cleaned)".prefix(64))
    }

    /// Throws the guard's 402 when `tenant` may not spend now; calls nothing else.
    public func checkBudget(_ tenant: TenantID) async throws {
        try await budgetGuard?.check(tenant)
    }

    /// Checks the budget, calls the provider, records the usage. `idempotencyKey` makes a retried
    /// step (a run resumed after a crash) record its call once.
    public func complete(_ request: LLMRequest, tenant: TenantID, idempotencyKey: String? = nil) async throws -> LLMCompletion {
        try await checkBudget(tenant)
        // A client span per model call (OpenTelemetry's GenAI conventions), under the task's
        // current span: the request's, or the graph node's that made the call.
        let provider = self.provider
        let completion = try await withSpan("llm.chat", ofKind: .client) { span in
            if span.isRecording {
                span.attributes["gen_ai.operation.name"] = "chat"
                span.attributes["gen_ai.system"] = provider.name
                span.attributes["gen_ai.request.model"] = provider.model
                span.attributes["atlas.tenant"] = tenant.rawValue
            }
            let completion = try await provider.complete(request)
            if span.isRecording {
                span.attributes["gen_ai.response.model"] = completion.model
                span.attributes["gen_ai.usage.input_tokens"] = completion.usage.inputTokens
                span.attributes["gen_ai.usage.output_tokens"] = completion.usage.outputTokens
            }
            return completion
        }
        usageMetrics?.recordTokens(tenant: tenant, input: completion.usage.inputTokens, output: completion.usage.outputTokens)
        try await usageMeter?.record(UsageRecord(
            tenant: tenant, source: Self.source(model: completion.model), tokens: Int64(completion.usage.totalTokens),
            latencyMs: completion.latencyMs, idempotencyKey: idempotencyKey))
        return completion
    }
}
