// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Crypto
import CryptoExtras

/// Random bytes, SHA-256 and PBKDF2 without OpenSSL: none needs it, and leaving OpenSSL alone
/// until a request does (scrypt at a login) keeps the megabytes of its set-up out of an idle
/// server and of a first start (ADR-013).
enum SystemCrypto {
    /// Cryptographically secure random bytes from the kernel (`getrandom(2)`, through the
    /// standard library's `SystemRandomNumberGenerator`), the source OpenSSL's generator seeds
    /// from.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = generator.next()
            for _ in 0..<min(8, count - index) {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return bytes
    }

    /// SHA-256 of a string's UTF-8 (swift-crypto): API-key secrets and refresh tokens, on every
    /// request that presents one. OpenSSL's `EVP_Digest` looked its SHA-256 implementation up
    /// under a lock on each call.
    static func sha256(_ text: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(text.utf8)))
    }

    /// PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) from swift-crypto (BoringSSL inside the binary). The
    /// iteration count is checked by the caller against ``PasswordHasher/pbkdf2IterationRange``,
    /// which admits hashes older than swift-crypto's own floor.
    static func pbkdf2SHA256(password: [UInt8], salt: [UInt8], iterations: Int, length: Int) throws(KDFError) -> [UInt8] {
        do {
            let key = try KDF.Insecure.PBKDF2.deriveKey(from: password, salt: salt, using: .sha256, outputByteCount: length,
                                                        unsafeUncheckedRounds: iterations)
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw KDFError(reason: "PBKDF2 derivation failed")
        }
    }
}
