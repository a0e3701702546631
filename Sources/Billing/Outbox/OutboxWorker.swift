// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core
import CoreMetrics
import Foundation
import HTTP
import Logging
import ServiceLifecycle
import Storage
import Tracing

/// Delivers `billing_outbox` messages: budget alerts to the alert webhook, Stripe-driven plan
/// changes to the tenant registry (``TenantPlanWriter``).
///
/// Several workers (in one process or in several `atlas` instances on one PostgreSQL) never send
/// one message twice while they run: a message is claimed with a lease in one statement
/// (`FOR UPDATE SKIP LOCKED`, see ``OutboxStore/claim(worker:limit:lease:now:on:)``) and settled
/// only by the worker holding the lease. A failed delivery is retried after
/// `backoff × 2^(attempt−1)` (capped at one hour, plus up to 10% jitter so a recovering receiver
/// is not hit by every instance at once), until `maxAttempts`.
final class OutboxWorker: Service, Sendable {
    let id: String
    private let service: BillingService
    private let planWriter: (any TenantPlanWriter)?
    /// Kept-alive connections to the alert webhook's origin; nil when no webhook is configured
    /// (or its URL is neither http nor https).
    private let client: HTTPClient?
    /// How long a claim lasts: well above one delivery's timeout.
    private let lease: Int64
    private let batchSize: Int

    init(service: BillingService, planWriter: (any TenantPlanWriter)?, id: String = "outbox-\(UUID().uuidString.prefix(8).lowercased())",
         batchSize: Int = 16) {
        self.id = id
        self.service = service
        self.planWriter = planWriter
        self.client = service.configuration.alertWebhookURL.flatMap { HTTPClient(url: $0.absoluteString) }
        self.lease = Int64(max(60, service.configuration.alertWebhookTimeout * 6) * 1000)
        self.batchSize = batchSize
    }

    func run() async throws {
        let signal = service.outboxSignal
        let interval = service.configuration.outboxPollInterval
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let delivered = await self.runOnce()
                if delivered == 0 { await signal.wait(timeout: interval) }
            }
        }
    }

    /// Claims and delivers one batch; returns the number of messages handled.
    @discardableResult
    func runOnce() async -> Int {
        let worker = id
        let lease = self.lease
        let limit = batchSize
        let stamp = BillingPeriod.millis(service.now())
        let messages: [OutboxMessage]
        do {
            messages = try await service.database.transaction { conn in
                try OutboxStore.claim(worker: worker, limit: limit, lease: lease, now: stamp, on: conn)
            }
        } catch {
            service.logger.warning("outbox.claim_failed", metadata: ["error": "\(String(describing: error))"])
            return 0
        }
        for message in messages {
            await deliver(message)
        }
        await refreshBacklog()
        return messages.count
    }

    /// Sets `atlas_billing_outbox_pending` from the table, so it counts every instance's messages.
    private func refreshBacklog() async {
        do {
            let pending = try await service.database.read { try OutboxStore.pendingCount(on: $0) }
            service.outboxPending.record(pending)
        } catch {
            service.logger.debug("outbox.backlog_unread", metadata: ["error": "\(String(describing: error))"])
        }
    }

    private func deliver(_ message: OutboxMessage) async {
        // A producer span per delivery: the webhook request carries its traceparent, so the
        // receiving workflow (n8n, Slack's logs) can be tied to this attempt.
        let outcome: Result<Void, DeliveryError> = await withSpan("outbox.deliver", ofKind: .producer) { span in
            if span.isRecording {
                span.attributes["messaging.operation.type"] = "send"
                span.attributes["atlas.outbox.kind"] = message.kind
                span.attributes["atlas.outbox.attempt"] = message.attempts
            }
            let outcome: Result<Void, DeliveryError>
            switch message.kind {
            case OutboxMessage.Kind.budgetAlert.rawValue, OutboxMessage.Kind.operatorNotice.rawValue:
                outcome = await sendAlert(message)
            case OutboxMessage.Kind.planSync.rawValue:
                outcome = await syncPlan(message)
            default:
                outcome = .failure(DeliveryError(reason: "unknown message kind", permanent: true))
            }
            if case .failure(let error) = outcome { span.setStatus(SpanStatus(code: .error, message: error.reason)) }
            return outcome
        }
        let worker = id
        let stamp = BillingPeriod.millis(service.now())
        do {
            switch outcome {
            case .success:
                service.metrics.increment("outbox_delivered_total", label: message.kind)
                try await service.database.transaction { conn in
                    _ = try OutboxStore.markDelivered(id: message.id, worker: worker, now: stamp, on: conn)
                }
            case .failure(let error):
                let retryAt = error.permanent || message.attempts >= service.configuration.alertMaxAttempts
                    ? nil : stamp + backoffMillis(attempt: message.attempts)
                service.metrics.increment(retryAt == nil ? "outbox_failed_total" : "outbox_retries_total", label: message.kind)
                service.logger.warning("outbox.delivery_failed", metadata: [
                    "outbox.id": "\(message.id)", "outbox.kind": "\(message.kind)", "outbox.attempt": "\(message.attempts)",
                    "outbox.gave_up": "\(retryAt == nil)", "error": "\(error.reason)",
                ])
                try await service.database.transaction { conn in
                    try OutboxStore.markFailed(id: message.id, worker: worker, error: error.reason, retryAt: retryAt, now: stamp, on: conn)
                }
            }
        } catch {
            // The lease expires and the message is retried then.
            service.logger.warning("outbox.settle_failed", metadata: ["outbox.id": "\(message.id)", "error": "\(String(describing: error))"])
        }
    }

    /// `backoff × 2^(attempt−1)`, capped at one hour, plus up to 10% jitter.
    func backoffMillis(attempt: Int) -> Int64 {
        let base = service.configuration.alertBackoff * 1000
        let exponential = min(base * pow(2, Double(max(0, attempt - 1))), 3_600_000)
        return Int64(exponential + Double.random(in: 0..<max(1, exponential * 0.1)))
    }

    private struct DeliveryError: Error {
        var reason: String
        var permanent = false
    }

    private func sendAlert(_ message: OutboxMessage) async -> Result<Void, DeliveryError> {
        let configuration = service.configuration
        guard let url = configuration.alertWebhookURL else {
            return .failure(DeliveryError(reason: "ATLAS_ALERT_WEBHOOK_URL is not set", permanent: true))
        }
        guard let client else {
            return .failure(DeliveryError(reason: "ATLAS_ALERT_WEBHOOK_URL is not an http or https URL", permanent: true))
        }
        let body: [UInt8]
        do {
            if message.kind == OutboxMessage.Kind.operatorNotice.rawValue {
                body = configuration.alertWebhookFormat == .slack ? try NoticeBody.slackJSON(fromGeneric: message.payload) : message.payload
            } else {
                let alert = try Self.decoder.decode(BudgetAlert.self, from: Foundation.Data(message.payload))
                body = configuration.alertWebhookFormat == .slack ? try alert.slackJSON() : try alert.genericJSON()
            }
        } catch {
            return .failure(DeliveryError(reason: "the stored alert does not decode", permanent: true))
        }
        var fields: [(name: String, value: String)] = [("Content-Type", "application/json"), ("X-Atlas-Delivery", "atlas-outbox/\(message.id)")]
        if let secret = configuration.alertWebhookSecret {
            let timestamp = Int64(service.now().timeIntervalSince1970)
            fields.append(("X-Atlas-Signature", WebhookSigner(secret: secret).header(payload: body, timestamp: timestamp)))
        }
        do {
            let response = try await client.perform("POST", HTTPClient.requestTarget(of: url.absoluteString), headers: fields, body: body,
                                                    timeout: .milliseconds(Int64(configuration.alertWebhookTimeout * 1000)))
            guard (200..<300).contains(response.status) else {
                return .failure(DeliveryError(reason: "the receiver answered \(response.status)"))
            }
            return .success(())
        } catch {
            // The kind and the detail name the host and the failure, never the payload or the secret.
            return .failure(DeliveryError(reason: "request failed: \(error.kind): \(error.detail.prefix(200))"))
        }
    }

    private func syncPlan(_ message: OutboxMessage) async -> Result<Void, DeliveryError> {
        guard let sync = try? JSONDecoder().decode(PlanSync.self, from: Foundation.Data(message.payload)),
              let tenant = TenantID(sync.tenant), let plan = TenantPlan(name: sync.plan) else {
            return .failure(DeliveryError(reason: "the stored plan change does not decode", permanent: true))
        }
        guard let planWriter else {
            // Nothing to keep in sync: Billing's own plan history already holds the change.
            return .success(())
        }
        do {
            try await planWriter.setPlan(plan, for: tenant, actor: "stripe:\(sync.eventID)")
            return .success(())
        } catch {
            return .failure(DeliveryError(reason: "the tenant registry refused: \(String(describing: error).prefix(200))"))
        }
    }

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
