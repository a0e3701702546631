// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Text encodings for random identifiers, digests and hash strings. Encodings only: nothing here
/// is cryptographic.
enum Encoding {
    private static let base32Alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Lower-case RFC 4648 §6 base 32 without padding: safe in URLs, headers and file names, and
    /// free of `_` and `-`, so it can sit between `_` separators unambiguously.
    static func base32(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                output.append(base32Alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { output.append(base32Alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: output, as: UTF8.self)
    }

    /// Whether every character of `text` belongs to the lower-case base-32 alphabet.
    static func isBase32(_ text: some StringProtocol) -> Bool {
        isBase32(bytes: text.utf8)
    }

    /// The same check on bytes (an API key's parts, on every request that presents one).
    static func isBase32(bytes: some Sequence<UInt8>) -> Bool {
        bytes.allSatisfy { $0 &- 0x61 < 26 || $0 &- 0x32 < 6 }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            output.append(hexDigits[Int(byte >> 4)])
            output.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// RFC 4648 §5 base64url without padding.
    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes base64url with or without padding; `nil` on any other character.
    static func decodeBase64URL(_ text: some StringProtocol) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !standard.contains("=") || standard.hasSuffix("=") else { return nil }
        standard = standard.replacingOccurrences(of: "=", with: "")
        switch standard.utf8.count % 4 {
        case 2: standard += "=="
        case 3: standard += "="
        case 1: return nil
        default: break
        }
        guard let data = Data(base64Encoded: standard) else { return nil }
        return [UInt8](data)
    }

    /// Standard base64 without padding, as the PHC string format uses.
    static func base64NoPad(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64NoPad(_ text: some StringProtocol) -> [UInt8]? {
        guard !text.contains("="), !text.contains("-"), !text.contains("_") else { return nil }
        var padded = String(text)
        switch padded.utf8.count % 4 {
        case 2: padded += "=="
        case 3: padded += "="
        case 1: return nil
        default: break
        }
        guard let data = Data(base64Encoded: padded) else { return nil }
        return [UInt8](data)
    }

    /// A random identifier: `prefix` followed by `bytes` random bytes in base 32.
    static func randomID(prefix: String, bytes: Int) -> String {
        prefix + base32(SystemCrypto.randomBytes(bytes))
    }
}
