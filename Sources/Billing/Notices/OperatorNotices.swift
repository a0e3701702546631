// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Storage

/// Stores ``OperatorNotice``s in the billing outbox, which delivers them to the alert webhook with
/// the budget alerts' retries, signature and format (`ATLAS_ALERT_WEBHOOK_*`).
struct OutboxNotifier: Notifier {
    let service: BillingService

    func notify(_ notice: OperatorNotice) async throws -> Bool {
        let payload = try NoticeBody.genericJSON(notice)
        let stamp = BillingPeriod.millis(service.now())
        let stored = try await service.database.transaction { conn in
            try OutboxStore.enqueue(kind: .operatorNotice, tenant: notice.tenant.rawValue, payload: payload,
                                    dedupeKey: "\(notice.type):\(notice.id)", now: stamp, on: conn)
        }
        if stored {
            service.metrics.increment("operator_notices_total", label: notice.type)
            service.outboxSignal.signal()
        }
        return stored
    }
}

/// The wire forms of a notice. The generic form is one flat object so n8n expressions read
/// `$json.body.run_id` directly; the notice's own keys win over nothing: `fields` never
/// overwrite `type`, `id`, `tenant`, `summary` or `occurred_at`.
enum NoticeBody {
    static func genericJSON(_ notice: OperatorNotice) throws -> [UInt8] {
        var object = notice.fields
        object["type"] = .string(notice.type)
        object["id"] = .string(notice.id)
        object["tenant"] = .string(notice.tenant.rawValue)
        object["summary"] = .string(notice.summary)
        object["occurred_at"] = .string(iso8601(notice.occurredAt))
        return try encode(JSONValue.object(object))
    }

    /// A Slack incoming-webhook message: `text` is required; the notice follows for workflows.
    static func slackJSON(fromGeneric body: [UInt8]) throws -> [UInt8] {
        let notice = try JSONDecoder().decode(JSONValue.self, from: Foundation.Data(body))
        let text = ":bell: Atlas: " + (notice["summary"]?.string ?? "operator notice")
        return try encode(JSONValue.object(["text": .string(text), "notice": notice]))
    }

    private static func encode(_ value: JSONValue) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    private static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
