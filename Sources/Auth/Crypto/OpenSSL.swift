// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

internal import COpenSSL

/// The few OpenSSL primitives Auth needs, behind Swift signatures. No OpenSSL type leaves this file
/// (ARCHITECTURE.md rule 2); every primitive is OpenSSL's own, none is re-implemented here.
enum OpenSSL {
    /// Compares two byte strings in time that depends only on their length (`CRYPTO_memcmp(3)`).
    /// Different lengths compare unequal at once: lengths are public here (digests, derived keys).
    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard !lhs.isEmpty else { return true }
        return lhs.withUnsafeBytes { a in
            rhs.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
        }
    }

    /// scrypt (RFC 7914) through `EVP_PBE_scrypt(3)`.
    ///
    /// - Parameters:
    ///   - cost: N, a power of two.
    ///   - blockSize: r.
    ///   - parallelism: p.
    static func scrypt(
        password: [UInt8], salt: [UInt8], cost: UInt64, blockSize: UInt64, parallelism: UInt64, length: Int
    ) throws(KDFError) -> [UInt8] {
        // RFC 7914 §6: ROMix needs 128·r·N bytes and the blocks 128·r·p; allow that plus headroom
        // instead of OpenSSL's 32 MiB default, which N = 2^15, r = 8 just exceeds.
        let memory = 128 * blockSize * (cost + parallelism) + (1 << 20)
        var key = [UInt8](repeating: 0, count: length)
        let status = password.withUnsafeBytes { pass in
            salt.withUnsafeBytes { saltBytes in
                key.withUnsafeMutableBufferPointer { out in
                    EVP_PBE_scrypt(
                        pass.baseAddress?.assumingMemoryBound(to: CChar.self), pass.count,
                        saltBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), saltBytes.count,
                        cost, blockSize, parallelism, memory, out.baseAddress, length)
                }
            }
        }
        guard status == 1 else { throw KDFError(reason: "scrypt derivation failed (parameters out of range)") }
        return key
    }
}

/// A key derivation that was refused.
struct KDFError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
