// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

/// The text of an API key: `atl_<id>_<secret>`, where `id` is 12 and `secret` 52 lower-case
/// base-32 characters (60 and 256 random bits).
///
/// The id is public — it names the key in listings and logs and is how a presented key is found
/// in storage — while only the SHA-256 of the secret is stored. A key has 256 random bits, so a
/// fast hash suffices (no password KDF per request) and a stolen table gives nothing to guess at.
struct APIKeySecret: Sendable, Equatable {
    static let prefix = "atl_"
    static let idLength = 12
    static let secretLength = 52

    /// The public id part.
    let id: String
    /// The secret part.
    let secret: String

    /// A new random key.
    static func generate() -> APIKeySecret {
        let id = String(Encoding.base32(SystemCrypto.randomBytes(8)).prefix(idLength))
        let secret = Encoding.base32(SystemCrypto.randomBytes(32))
        return APIKeySecret(id: id, secret: secret)
    }

    /// Splits a presented key; `nil` when it does not have the exact shape, so malformed input is
    /// refused before any storage access.
    init?(parsing text: String) {
        let utf8 = Array(text.utf8)
        let expected = Self.prefix.utf8.count + Self.idLength + 1 + Self.secretLength
        guard utf8.count == expected, text.hasPrefix(Self.prefix) else { return nil }
        let idStart = Self.prefix.utf8.count
        let idBytes = utf8[idStart..<(idStart + Self.idLength)]
        guard utf8[idStart + Self.idLength] == UInt8(ascii: "_") else { return nil }
        let secretBytes = utf8[(idStart + Self.idLength + 1)...]
        guard Encoding.isBase32(bytes: idBytes), Encoding.isBase32(bytes: secretBytes) else { return nil }
        self.id = String(decoding: idBytes, as: UTF8.self)
        self.secret = String(decoding: secretBytes, as: UTF8.self)
    }

    init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// The whole key, shown once to its creator.
    var text: String { "\(Self.prefix)\(id)_\(secret)" }

    /// What listings show: enough to recognise the key, nothing to use it.
    var displayPrefix: String { "\(Self.prefix)\(id)_…" }

    /// The stored digest of the secret.
    var secretDigest: [UInt8] { SystemCrypto.sha256(secret) }

    /// Whether the stored digest matches this key's secret, compared in constant time.
    func matches(digest stored: [UInt8]) -> Bool {
        OpenSSL.constantTimeEquals(secretDigest, stored)
    }
}
