// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// Gives every request an id: a sane incoming `X-Request-ID` (1–128 characters of
/// `A-Z a-z 0-9 - _ . :`) is kept, anything else is replaced by a fresh one.
///
/// The server writes `X-Request-ID` on every response from ``RequestContext/requestID``,
/// error responses included, and problem bodies carry it as `request_id`.
public struct RequestIDMiddleware: Middleware {
    public init() {}

    public func before(_ request: Request, context: inout RequestContext) throws -> Response? {
        if let field = request.storage.firstField("x-request-id") {
            let value = request.storage.value(field)
            if Self.isSane(value) {
                context.requestID = String(decoding: value, as: UTF8.self)
                return nil
            }
        }
        context.requestID = RequestIDGenerator.next()
        return nil
    }

    static func isSane(_ value: UnsafeRawBufferPointer) -> Bool {
        guard (1...128).contains(value.count) else { return false }
        for byte in value {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x5F, 0x2E, 0x3A: continue
            default: return false
            }
        }
        return true
    }
}

/// Request ids: 13 lowercase base-32 characters (Crockford's alphabet) of a 64-bit value.
///
/// A process-wide counter starting at a random value is passed through the SplitMix64 finaliser,
/// a bijection, so ids never repeat within a process and do not reveal request counts. Thirteen
/// characters fit Swift's inline small-string storage, so making one does not allocate.
enum RequestIDGenerator {
    private static let counter = Atomic<UInt64>(UInt64.random(in: .min ... .max))

    static func next() -> String {
        var value = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        value ^= value >> 31
        return String(unsafeUninitializedCapacity: 13) { buffer in
            let alphabet: StaticString = "0123456789abcdefghjkmnpqrstvwxyz"
            let letters = alphabet.utf8Start
            var remaining = value
            for index in 0..<13 {
                buffer[12 - index] = letters[Int(remaining & 31)]
                remaining >>= 5
            }
            return 13
        }
    }
}
