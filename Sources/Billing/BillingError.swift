// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

public import Core

/// An error of the Billing module, rendered as RFC 9457 problem+json by the HTTP layer.
///
/// `detail` is written for the client: it never contains a webhook secret, a signature or another
/// tenant's data.
public struct BillingError: ProblemError, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let detail: String
    public let headers: [(name: String, value: String)]

    init(status: Int, code: String, detail: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    public var description: String { "\(status) \(code): \(detail)" }

    static func badRequest(_ detail: String, code: String = "bad_request") -> BillingError {
        BillingError(status: 400, code: code, detail: detail)
    }
    static func unprocessable(_ detail: String, code: String = "validation_failed") -> BillingError {
        BillingError(status: 422, code: code, detail: detail)
    }
    static func notFound(_ detail: String) -> BillingError {
        BillingError(status: 404, code: "not_found", detail: detail)
    }
    static func conflict(_ detail: String, code: String = "conflict") -> BillingError {
        BillingError(status: 409, code: code, detail: detail)
    }
    /// One detail for every signature failure: which check failed is logged, never told to the
    /// sender, so a forger learns nothing from the answer.
    static let invalidSignature = BillingError(
        status: 400, code: "invalid_signature",
        detail: "the Stripe-Signature header is missing, malformed, stale or does not match the payload")
    static func budgetExhausted(_ detail: String) -> BillingError {
        BillingError(status: 402, code: "budget_exhausted", detail: detail)
    }
    static func paymentRequired(_ detail: String) -> BillingError {
        BillingError(status: 402, code: "payment_required", detail: detail)
    }
    static let unavailable = BillingError(
        status: 503, code: "usage_writer_unavailable", detail: "usage recording is shutting down; retry shortly",
        headers: [("Retry-After", "1")])
}
