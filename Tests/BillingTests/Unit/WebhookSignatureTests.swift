// Atlas — BillingTests
// SPDX-License-Identifier: Apache-2.0

@testable import Billing
import Foundation
import Testing

@Suite struct WebhookSignatureTests {
    static let secret = "whsec_test_3b9f2c"
    static let payload = Array(#"{"id":"evt_1","object":"event","type":"invoice.paid","created":1700000000,"data":{"object":{}}}"#.utf8)
    static let now = Date(timeIntervalSince1970: 1_700_000_100)

    @Test func acceptsSignature_ComputedIndependentlyWithPythonHMAC() throws {
        let timestamp: Int64 = 1_700_000_000
        let expected = try StripeFixtures.pythonSignature(secret: Self.secret, timestamp: timestamp, payload: Self.payload)
        #expect(expected.count == 64)
        // Our signer agrees with Python byte for byte…
        #expect(WebhookSigner(secret: Self.secret).signature(payload: Self.payload, timestamp: timestamp) == expected)
        // …and the verifier accepts the header Stripe would send.
        let verifier = WebhookSignatureVerifier(secrets: [Self.secret])
        #expect(try verifier.verify(payload: Self.payload, header: "t=\(timestamp),v1=\(expected)", now: Self.now) == timestamp)
        // Upper-case hex and a v0 scheme (ignored) are tolerated.
        #expect(try verifier.verify(payload: Self.payload, header: "t=\(timestamp),v0=abc,v1=\(expected.uppercased())", now: Self.now) == timestamp)
    }

    @Test func acceptsAnyV1UnderAnySecret_DuringARotation() throws {
        let timestamp: Int64 = 1_700_000_050
        let old = try StripeFixtures.pythonSignature(secret: "whsec_old", timestamp: timestamp, payload: Self.payload)
        let new = try StripeFixtures.pythonSignature(secret: "whsec_new", timestamp: timestamp, payload: Self.payload)
        let bogus = String(repeating: "ab", count: 32)
        let verifier = WebhookSignatureVerifier(secrets: ["whsec_new", "whsec_old"])
        #expect(try verifier.verify(payload: Self.payload, header: "t=\(timestamp),v1=\(bogus),v1=\(old)", now: Self.now) == timestamp)
        #expect(try verifier.verify(payload: Self.payload, header: "t=\(timestamp),v1=\(new)", now: Self.now) == timestamp)
        let onlyNew = WebhookSignatureVerifier(secrets: ["whsec_new"])
        #expect(throws: SignatureFailure.mismatch) {
            try onlyNew.verify(payload: Self.payload, header: "t=\(timestamp),v1=\(old)", now: Self.now)
        }
    }

    @Test func rejectsStaleOrFutureTimestamps_BeyondTheTolerance() throws {
        let verifier = WebhookSignatureVerifier(secrets: [Self.secret], tolerance: 300)
        let signer = WebhookSigner(secret: Self.secret)
        let now: Int64 = 1_700_000_100
        for (timestamp, accepted) in [(now - 300, true), (now - 301, false), (now + 300, true), (now + 301, false)] {
            let header = signer.header(payload: Self.payload, timestamp: timestamp)
            if accepted {
                #expect(try verifier.verify(payload: Self.payload, header: header, now: Self.now) == timestamp)
            } else {
                #expect(throws: SignatureFailure.stale) { try verifier.verify(payload: Self.payload, header: header, now: Self.now) }
            }
        }
    }

    @Test func rejectsForgedTamperedOrMalformedHeaders() throws {
        let verifier = WebhookSignatureVerifier(secrets: [Self.secret])
        let timestamp: Int64 = 1_700_000_000
        let good = WebhookSigner(secret: Self.secret).signature(payload: Self.payload, timestamp: timestamp)
        var tampered = Self.payload
        tampered[10] ^= 0x01
        let cases: [(String?, [UInt8], SignatureFailure)] = [
            (nil, Self.payload, .missingHeader),
            ("", Self.payload, .missingHeader),
            ("v1=\(good)", Self.payload, .malformed),
            ("t=abc,v1=\(good)", Self.payload, .malformed),
            ("t=\(timestamp),t=\(timestamp + 1),v1=\(good)", Self.payload, .malformed),
            ("t=\(timestamp)", Self.payload, .noSignature),
            ("t=\(timestamp),v1=zz\(good.dropFirst(2))", Self.payload, .noSignature),
            ("t=\(timestamp),v1=\(good)", tampered, .mismatch),
            ("t=\(timestamp + 1),v1=\(good)", Self.payload, .mismatch),
            ("t=\(timestamp),v1=\(WebhookSigner(secret: "whsec_other").signature(payload: Self.payload, timestamp: timestamp))", Self.payload, .mismatch),
        ]
        for (header, payload, failure) in cases {
            #expect(throws: failure) { try verifier.verify(payload: payload, header: header, now: Self.now) }
        }
    }
}
