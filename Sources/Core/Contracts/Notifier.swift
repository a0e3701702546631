// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

public import Foundation

/// One outbound notice to an operator's webhook (Slack or n8n): a run waiting for human review, a
/// cost anomaly. The receiver gets one JSON object (`json` format) with `type`, `id`, `tenant`,
/// `summary`, `occurred_at` and every entry of ``fields``; in the `slack` format it gets
/// `{"text": summary}` plus the same fields as blocks.
public struct OperatorNotice: Sendable, Hashable {
    /// What happened, dotted: `ai.review_requested`, `usage.cost_anomaly`.
    public var type: String
    /// Stable across retries and repeats of the same episode, so a receiver (and the outbox)
    /// can drop a duplicate: e.g. `run_abc:review:3`.
    public var id: String
    public var tenant: TenantID
    /// One human sentence, the Slack text.
    public var summary: String
    /// The notice's own fields (snake_case keys), e.g. `run_id`, `question`, `review_url`, `runbook`.
    public var fields: [String: JSONValue]
    public var occurredAt: Date

    public init(type: String, id: String, tenant: TenantID, summary: String, fields: [String: JSONValue] = [:],
                occurredAt: Date = Date()) {
        self.type = type
        self.id = id
        self.tenant = tenant
        self.summary = summary
        self.fields = fields
        self.occurredAt = occurredAt
    }
}

/// Sends ``OperatorNotice``s through a durable outbox with retries. Implemented by the Billing
/// module (its outbox); called by the AI runtime (human review) and Telemetry (cost anomalies).
///
/// ```swift
/// try await notifier.notify(OperatorNotice(type: "ai.review_requested", id: "\(run):review:\(step)",
///                                          tenant: tenant, summary: "Run \(run) waits for review"))
/// ```
public protocol Notifier: Sendable {
    /// Stores the notice durably and returns; delivery happens afterwards. A notice whose `id`
    /// was already stored is not stored again. Returns `false` for such a duplicate.
    @discardableResult
    func notify(_ notice: OperatorNotice) async throws -> Bool
}

/// What a tenant's data platform offers the AI runtime: its dataset catalog and its latest feature
/// values. Implemented by the Data module; the `assistant` graph's retrieve node reads it.
public protocol TenantDataCatalog: Sendable {
    /// Models and sources visible to the tenant, with the time of their last successful run.
    func catalog(for tenant: TenantID) async throws -> [DatasetDescriptor]
    /// The tenant's latest online feature values, keyed `view.feature` (e.g.
    /// `tenant_context.usage_tokens`); values past their view's ttl are left out.
    func features(for tenant: TenantID) async throws -> [String: JSONValue]
}

/// One entry of a tenant's data catalog (`GET /tenants/{tenant}/catalog`).
public struct DatasetDescriptor: Sendable, Hashable, Codable {
    public var name: String
    public var description: String
    /// When the dataset was last built or loaded successfully; `nil` when never.
    public var freshness: Date?

    public init(name: String, description: String, freshness: Date?) {
        self.name = name
        self.description = description
        self.freshness = freshness
    }
}
