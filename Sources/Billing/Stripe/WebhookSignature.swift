// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Crypto
import Foundation

/// Why a signature header was refused. Logged and counted, never told to the sender.
enum SignatureFailure: String, Error, Sendable {
    case missingHeader = "missing_header"
    case malformed = "malformed_header"
    case noSignature = "no_v1_signature"
    case stale = "timestamp_outside_tolerance"
    case mismatch = "no_matching_signature"
}

/// Verifies `Stripe-Signature` headers as Stripe documents them ("Verify webhook signatures
/// manually", docs.stripe.com/webhooks#verify-manually):
///
/// - the header is a comma-separated list of `key=value` pairs: one `t` (Unix seconds) and one or
///   more `v1` (lower-case hex HMAC-SHA256); other schemes such as `v0` are ignored;
/// - the signed payload is `"<t>.<raw request body>"`, the body exactly as received;
/// - the expected signature is HMAC-SHA256 of it keyed with the endpoint secret (`whsec_…`, used
///   as is, as Stripe's libraries do);
/// - a delivery is accepted when any `v1` matches under any configured secret (several during a
///   secret rotation), compared in constant time, and `t` is within the tolerance of now.
struct WebhookSignatureVerifier: Sendable {
    let secrets: [SymmetricKey]
    /// Seconds `t` may differ from now, either way (Stripe's libraries default to 300).
    let tolerance: Int64

    init(secrets: [String], tolerance: Int64 = 300) {
        self.secrets = secrets.map { SymmetricKey(data: Array($0.utf8)) }
        self.tolerance = tolerance
    }

    /// Returns the header's timestamp when the signature is valid.
    func verify(payload: [UInt8], header: String?, now: Date) throws(SignatureFailure) -> Int64 {
        guard let header, !header.isEmpty else { throw .missingHeader }
        let parsed = try Self.parse(header)
        guard !parsed.signatures.isEmpty else { throw .noSignature }
        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        guard abs(nowSeconds - parsed.timestamp) <= tolerance else { throw .stale }
        var signed = Array(String(parsed.timestamp).utf8)
        signed.append(UInt8(ascii: "."))
        signed.append(contentsOf: payload)
        // Every candidate is checked, with no early exit, so timing does not tell which matched.
        var matched = false
        for secret in secrets {
            for signature in parsed.signatures {
                if HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: secret) {
                    matched = true
                }
            }
        }
        guard matched else { throw .mismatch }
        return parsed.timestamp
    }

    /// Splits the header. A `v1` value that is not 64 hex digits cannot match and is dropped;
    /// a missing or non-numeric `t`, or two different `t`, make the header malformed.
    static func parse(_ header: String) throws(SignatureFailure) -> (timestamp: Int64, signatures: [[UInt8]]) {
        var timestamp: Int64?
        var signatures: [[UInt8]] = []
        for item in header.split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else { throw .malformed }
            let key = pair[0].trimmingCharacters(in: .whitespaces)
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            switch key {
            case "t":
                guard let seconds = Int64(value), seconds >= 0 else { throw .malformed }
                if let timestamp, timestamp != seconds { throw .malformed }
                timestamp = seconds
            case "v1":
                if let bytes = Hex.decode(value), bytes.count == SHA256.byteCount { signatures.append(bytes) }
            default:
                continue
            }
        }
        guard let timestamp else { throw .malformed }
        return (timestamp, signatures)
    }
}

/// Produces the same `t=…,v1=…` scheme, for Atlas's own outbound webhooks
/// (`X-Atlas-Signature`) and for tests.
struct WebhookSigner: Sendable {
    let secret: SymmetricKey

    init(secret: String) {
        self.secret = SymmetricKey(data: Array(secret.utf8))
    }

    func signature(payload: [UInt8], timestamp: Int64) -> String {
        var signed = Array(String(timestamp).utf8)
        signed.append(UInt8(ascii: "."))
        signed.append(contentsOf: payload)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: secret)
        return Hex.encode(Array(mac))
    }

    func header(payload: [UInt8], timestamp: Int64) -> String {
        "t=\(timestamp),v1=\(signature(payload: payload, timestamp: timestamp))"
    }
}

enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex digits of either case; `nil` for anything else or an odd length.
    static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = value(chars[index]), let low = value(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func value(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
