// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// An opaque page cursor: base64url of `<occurred_at>.<id>` of the last event of a page.
struct EventCursor: Hashable {
    var occurredAt: Int64
    var id: String

    init(occurredAt: Int64, id: String) {
        self.occurredAt = occurredAt
        self.id = id
    }

    init(encoded: String) throws {
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard encoded.count <= 128, let data = Foundation.Data(base64Encoded: base64),
              let text = String(data: data, encoding: .utf8), let dot = text.firstIndex(of: "."),
              let millis = Int64(text[..<dot]) else {
            throw BillingError.badRequest("cursor is not a cursor this API returned", code: "invalid_cursor")
        }
        let id = String(text[text.index(after: dot)...])
        guard id.hasPrefix(UsageEventID.prefix), id.count <= 64 else {
            throw BillingError.badRequest("cursor is not a cursor this API returned", code: "invalid_cursor")
        }
        self.occurredAt = millis
        self.id = id
    }

    var encoded: String {
        Foundation.Data("\(occurredAt).\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
