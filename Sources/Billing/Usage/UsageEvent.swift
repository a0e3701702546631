// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation

/// A validated usage event waiting to be written.
struct UsageEventInput: Sendable, Hashable {
    var tenant: TenantID
    var source: String
    var tokens: Int64
    var latencyMs: Double?
    var idempotencyKey: String?

    /// Longest accepted `source`.
    static let maxSourceLength = 64
    /// Longest accepted idempotency key (Stripe accepts 255 characters).
    static let maxKeyLength = 255
    /// A ceiling far above any single model call, so a typo cannot bill a tenant for 10^18 tokens.
    static let maxTokens: Int64 = 1_000_000_000
    /// One hour.
    static let maxLatencyMs: Double = 3_600_000

    /// Validates a record; throws a 422 naming the field.
    init(tenant: TenantID, source: String, tokens: Int64, latencyMs: Double?, idempotencyKey: String?) throws {
        guard !source.isEmpty, source.utf8.count <= Self.maxSourceLength,
              source.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw BillingError.unprocessable("source must be 1-\(Self.maxSourceLength) printable ASCII characters without spaces")
        }
        guard (0...Self.maxTokens).contains(tokens) else {
            throw BillingError.unprocessable("tokens must be an integer between 0 and \(Self.maxTokens)")
        }
        if let latencyMs {
            guard latencyMs.isFinite, (0...Self.maxLatencyMs).contains(latencyMs) else {
                throw BillingError.unprocessable("latency_ms must be a number between 0 and \(Int(Self.maxLatencyMs))")
            }
        }
        if let idempotencyKey {
            guard !idempotencyKey.isEmpty, idempotencyKey.utf8.count <= Self.maxKeyLength,
                  idempotencyKey.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                throw BillingError.badRequest(
                    "an idempotency key is 1-\(Self.maxKeyLength) printable ASCII characters", code: "invalid_idempotency_key")
            }
        }
        self.tenant = tenant
        self.source = source
        self.tokens = tokens
        self.latencyMs = latencyMs
        self.idempotencyKey = idempotencyKey
    }

    init(_ record: UsageRecord) throws {
        try self.init(tenant: record.tenant, source: record.source, tokens: record.tokens, latencyMs: record.latencyMs,
                      idempotencyKey: record.idempotencyKey)
    }

    /// Whether a stored event with the same key describes the same usage (a true retry).
    func matches(_ stored: StoredUsageEvent) -> Bool {
        stored.source == source && stored.tokens == tokens && stored.latencyMs == latencyMs
    }
}

/// What became of one submitted event.
enum UsageReceipt: Sendable, Hashable {
    /// Stored now, with this id.
    case accepted(id: String)
    /// An event with the same idempotency key and the same content was stored before: its id.
    case duplicate(id: String)
    /// An event with the same idempotency key but different content exists: nothing was stored.
    case conflict(id: String)

    var id: String {
        switch self {
        case .accepted(let id), .duplicate(let id), .conflict(let id): id
        }
    }
}

/// A stored event, as listed by `GET /tenants/{tenant}/usage/events`.
struct StoredUsageEvent: Sendable, Hashable {
    var id: String
    var tenant: String
    var source: String
    var tokens: Int64
    var latencyMs: Double?
    var idempotencyKey: String?
    var occurredAt: Int64
}

/// Event ids: `use_` and 26 characters of Crockford base-32 (lower case) encoding 48 bits of
/// milliseconds and 80 random bits, the ULID layout: unique without coordination between
/// instances, and roughly time-ordered so inserts append to the primary-key index.
enum UsageEventID {
    static let prefix = "use_"
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    static func make(millis: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(millis: millis, random: (generator.next(), generator.next()))
    }

    static func make(millis: Int64, random: (UInt64, UInt64)) -> String {
        // 128 bits: time in the top 48, randomness in the low 80.
        let high = (UInt64(truncatingIfNeeded: millis) << 16) | (random.0 & 0xFFFF)
        let low = random.1
        var out = [UInt8](repeating: 0, count: 26)
        for index in 0..<26 {
            // Character `index` holds bits [128 - 5*(index+1) + 2 …] of the 130-bit padded value.
            let shift = 125 - 5 * index
            let value: UInt64
            if shift >= 64 {
                value = high >> UInt64(shift - 64)
            } else if shift > 59 {
                value = (high << UInt64(64 - shift)) | (low >> UInt64(shift))
            } else {
                value = low >> UInt64(shift)
            }
            out[index] = alphabet[Int(value & 0x1F)]
        }
        return prefix + String(decoding: out, as: UTF8.self)
    }
}
