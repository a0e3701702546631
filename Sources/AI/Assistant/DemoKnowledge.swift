// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Core

/// A small knowledge base about operating Atlas, loaded by `atlas ai run` and `atlas ai eval`
/// into a tenant that has no documents yet, so a fresh database answers its demo questions
/// from real passages.
public enum DemoKnowledge {
    public static let documents: [DocumentInput] = [
        DocumentInput(id: "demo_escalations", title: "Routing escalations to humans", text: """
        Escalations are routed to humans through the assistant's review step. When an answer is poorly grounded, or the \
        evaluation mode is strict and the customer sounds upset, the run stops in the hitl route and waits for a reviewer.

        The reviewer gets a notice in Slack or n8n with the question, the draft answer, its evaluation and a link to the run. \
        The reviewer approves the draft, edits it, or rejects it so that a support agent follows up with the customer. \
        Approved and edited answers are stored in the semantic cache, so the same question is answered at once next time.
        """, metadata: .object(["team": .string("support")])),
        DocumentInput(id: "demo_budgets", title: "Token budgets and billing", text: """
        Every tenant has a monthly token budget with alert thresholds, 80 percent by default. Crossing a threshold sends one \
        alert to the operations webhook. When the budget is exhausted, assistant runs are refused with HTTP 402 until the next \
        billing period or until an administrator raises the budget. Each model call records a usage event with its tokens \
        and latency.
        """, metadata: .object(["team": .string("finance")])),
        DocumentInput(id: "demo_cache", title: "Semantic cache", text: """
        The semantic cache answers a repeated or paraphrased question from a stored answer without calling the model. \
        Cached answers expire after an hour and are dropped whenever the tenant's documents change.
        """, metadata: .object(["team": .string("platform")])),
        DocumentInput(id: "demo_api_keys", title: "API keys", text: """
        Tenant owners and admins create API keys from the tenant settings. A key is shown once when it is created, is \
        stored hashed, and can be revoked at any time. Send it as a bearer token or in the X-API-Key header.
        """, metadata: .object(["team": .string("platform")])),
        DocumentInput(id: "demo_refunds", title: "Refunds", text: """
        Refunds are issued within five business days to the original payment method. Plan downgrades take effect at the \
        end of the billing period, and unused tokens do not carry over.
        """, metadata: .object(["team": .string("finance")])),
        DocumentInput(id: "demo_data", title: "Data catalog and features", text: """
        The data catalog lists each tenant's datasets with their freshness. Feature views such as tenant_context serve the \
        latest feature values online, and the assistant reads them when it answers questions about a tenant's usage.
        """, metadata: .object(["team": .string("data")])),
    ]
}
