// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Storage

/// A message of `billing_outbox`.
struct OutboxMessage: Sendable, Hashable {
    enum Kind: String, Sendable {
        /// A budget alert for the alert webhook; payload: ``BudgetAlert`` in the generic JSON form.
        case budgetAlert = "budget.alert"
        /// A Stripe-driven plan change for the tenant registry; payload: ``PlanSync``.
        case planSync = "tenant.plan"
        /// An ``OperatorNotice`` for the alert webhook; payload: the notice's generic JSON form.
        case operatorNotice = "operator.notice"
    }

    var id: Int64
    var kind: String
    var tenant: String?
    var payload: [UInt8]
    /// Delivery attempts so far, this one included.
    var attempts: Int
    var createdAt: Int64
}

/// The payload of a ``OutboxMessage/Kind/planSync`` message.
struct PlanSync: Codable, Sendable, Hashable {
    var tenant: String
    var plan: String
    var eventID: String
}

/// The SQL of the billing outbox: enqueue inside the causing transaction, claim with a lease,
/// settle after delivery.
enum OutboxStore {
    static func enqueue(kind: OutboxMessage.Kind, tenant: String?, payload: [UInt8], now: Int64, on conn: any Connection) throws {
        try conn.execute("""
            INSERT INTO billing_outbox (kind, tenant_id, payload, created_at, next_attempt_at, attempts)
            VALUES (\(kind.rawValue), \(tenant), \(String(decoding: payload, as: UTF8.self)), \(now), \(now), 0)
            """)
    }

    /// Enqueues a message unless one with the same `dedupeKey` exists; returns whether it was stored.
    static func enqueue(kind: OutboxMessage.Kind, tenant: String?, payload: [UInt8], dedupeKey: String, now: Int64,
                        on conn: any Connection) throws -> Bool {
        let rows = try conn.query("""
            INSERT INTO billing_outbox (kind, tenant_id, payload, created_at, next_attempt_at, attempts, dedupe_key)
            VALUES (\(kind.rawValue), \(tenant), \(String(decoding: payload, as: UTF8.self)), \(now), \(now), 0, \(dedupeKey))
            ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
            RETURNING id
            """)
        return !rows.isEmpty
    }

    /// Claims up to `limit` due messages for `worker` until `now + lease`, counting the attempt.
    ///
    /// On PostgreSQL the candidate rows are locked with `FOR UPDATE SKIP LOCKED`, so two instances
    /// claiming at once take disjoint sets, and the lease (`claimed_until`) keeps a claimed message
    /// away from every other worker while it is being delivered, after the claiming transaction
    /// has committed. On SQLite the single writer serialises claimers. A worker that dies
    /// mid-delivery loses its lease when it expires, and the message is delivered again then.
    static func claim(worker: String, limit: Int, lease: Int64, now: Int64, on conn: any Connection) throws -> [OutboxMessage] {
        let rows = try conn.query("""
            UPDATE billing_outbox SET claimed_by = \(worker), claimed_until = \(now + lease), attempts = attempts + 1
            WHERE id IN (
                SELECT id FROM billing_outbox
                WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= \(now)
                AND (claimed_until IS NULL OR claimed_until < \(now))
                ORDER BY next_attempt_at, id LIMIT \(limit) \(conn.dialect.forUpdateSkipLocked))
            RETURNING id, kind, tenant_id, payload, attempts, created_at
            """)
        return try rows.map { row in
            OutboxMessage(
                id: try row.decode("id"), kind: try row.decode("kind"), tenant: try row.decode("tenant_id", as: String?.self),
                payload: Array(try row.decode("payload", as: String.self).utf8), attempts: try row.decode("attempts"),
                createdAt: try row.decode("created_at"))
        }.sorted { $0.id < $1.id }
    }

    /// Messages neither delivered nor given up: due, leased or waiting for a retry.
    static func pendingCount(on conn: any Connection) throws -> Int {
        try conn.queryScalar("SELECT COUNT(*) FROM billing_outbox WHERE delivered_at IS NULL AND failed_at IS NULL",
                             as: Int.self) ?? 0
    }

    /// Marks a message delivered; `false` when the lease was lost (another worker took it over).
    @discardableResult
    static func markDelivered(id: Int64, worker: String, now: Int64, on conn: any Connection) throws -> Bool {
        try conn.execute("""
            UPDATE billing_outbox SET delivered_at = \(now), claimed_until = NULL, last_error = NULL
            WHERE id = \(id) AND claimed_by = \(worker) AND delivered_at IS NULL
            """) == 1
    }

    /// Schedules another attempt at `retryAt`, or gives up (`retryAt == nil`).
    static func markFailed(id: Int64, worker: String, error: String, retryAt: Int64?, now: Int64, on conn: any Connection) throws {
        let reason = String(error.prefix(500))
        if let retryAt {
            try conn.execute("""
                UPDATE billing_outbox SET next_attempt_at = \(retryAt), claimed_until = NULL, last_error = \(reason)
                WHERE id = \(id) AND claimed_by = \(worker) AND delivered_at IS NULL
                """)
        } else {
            try conn.execute("""
                UPDATE billing_outbox SET failed_at = \(now), claimed_until = NULL, last_error = \(reason)
                WHERE id = \(id) AND claimed_by = \(worker) AND delivered_at IS NULL
                """)
        }
    }
}
