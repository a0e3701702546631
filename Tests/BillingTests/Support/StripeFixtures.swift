// Atlas — BillingTests
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Stripe event bodies shaped like the API's (docs.stripe.com/api/events/object), trimmed to the
/// fields Atlas reads plus a few it must ignore.
enum StripeFixtures {
    static func event(id: String, type: String, created: Int64, object: [String: Any]) -> [UInt8] {
        let document: [String: Any] = [
            "id": id, "object": "event", "api_version": "2024-06-20", "created": created, "livemode": false,
            "pending_webhooks": 1, "type": type, "data": ["object": object],
        ]
        return Array(try! JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]))
    }

    static func subscription(id: String, customer: String, status: String, lookupKey: String?, tenant: String?,
                             planMetadata: String? = nil, periodEnd: Int64 = 1_767_225_600) -> [String: Any] {
        var metadata: [String: Any] = [:]
        if let tenant { metadata["tenant"] = tenant }
        if let planMetadata { metadata["plan"] = planMetadata }
        var price: [String: Any] = ["id": "price_123", "object": "price", "currency": "usd", "unit_amount": 99_900]
        price["lookup_key"] = lookupKey ?? NSNull()
        return [
            "id": id, "object": "subscription", "customer": customer, "status": status, "metadata": metadata,
            "current_period_end": periodEnd,
            "items": ["object": "list", "data": [["id": "si_1", "object": "subscription_item", "price": price]]],
        ]
    }

    static func invoice(id: String, customer: String, subscription: String?) -> [String: Any] {
        var object: [String: Any] = ["id": id, "object": "invoice", "customer": customer, "amount_due": 24_900, "currency": "usd"]
        object["subscription"] = subscription ?? NSNull()
        return object
    }

    static func checkout(id: String, customer: String, subscription: String?, tenant: String) -> [String: Any] {
        var object: [String: Any] = ["id": id, "object": "checkout.session", "customer": customer, "client_reference_id": tenant,
                                     "mode": "subscription"]
        object["subscription"] = subscription ?? NSNull()
        return object
    }

    /// The signature Python's standard library computes for `payload` — an implementation
    /// independent of Atlas's — exactly as Stripe documents the scheme.
    static func pythonSignature(secret: String, timestamp: Int64, payload: [UInt8]) throws -> String {
        let script = """
            import hashlib, hmac, sys
            secret, timestamp = sys.argv[1].encode(), sys.argv[2].encode()
            payload = sys.stdin.buffer.read()
            print(hmac.new(secret, timestamp + b"." + payload, hashlib.sha256).hexdigest())
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, secret, String(timestamp)]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(payload))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw PythonFailed() }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct PythonFailed: Error {}
}
