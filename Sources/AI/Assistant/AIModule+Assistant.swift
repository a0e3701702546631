// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
public import Logging

extension AIModule {
    /// Builds the `assistant` graph over this module's retrieval and semantic cache, with the
    /// settings of ``Configuration/assistant``, and registers it in ``graphs``.
    ///
    /// ```swift
    /// let assistant = try ai.installAssistant(budgetGuard: billing.budgetGuard, usageMeter: billing.usageMeter,
    ///                                         notifier: billing.notifier, logger: logger)
    /// try await assistant.checkBudget(tenant)                  // 402 before a run starts
    /// let run = try await ai.runs.invoke(graph: "assistant", input: ["question": .string(q)], tenant: tenant)
    /// ```
    @discardableResult
    public func installAssistant(provider: (any LLMProvider)? = nil, budgetGuard: (any BudgetGuard)?, usageMeter: (any UsageMeter)?,
                                 notifier: (any Notifier)?, dataCatalog: (any TenantDataCatalog)? = nil,
                                 logger: Logger) throws -> Assistant {
        let assistant = Assistant(retriever: retriever, semanticCache: semanticCache, configuration: configuration.assistant,
                                  provider: provider, budgetGuard: budgetGuard, usageMeter: usageMeter, notifier: notifier,
                                  dataCatalog: dataCatalog, logger: logger, usageMetrics: usageMetrics)
        graphs.register(try assistant.makeGraph()) { tenant, input in
            _ = try assistant.validatedQuestion(input)
            try await assistant.checkBudget(tenant)
        }
        return assistant
    }
}
