// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

/// Byte classes of RFC 9110 / RFC 9112 grammar as bit masks (no table lookups through globals).
enum ByteClass {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let percent: UInt8 = 0x25
    static let question: UInt8 = 0x3F
    static let slash: UInt8 = 0x2F

    /// `tchar` (RFC 9110 §5.6.2): ALPHA, DIGIT and ``!#$%&'*+-.^_`|~``.
    @inline(__always) static func isToken(_ byte: UInt8) -> Bool {
        byte < 64 ? (0x03FF_6CFA_0000_0000 as UInt64) >> UInt64(byte) & 1 == 1
            : byte < 128 ? (0x57FF_FFFF_C7FF_FFFE as UInt64) >> UInt64(byte - 64) & 1 == 1 : false
    }

    /// Bytes allowed in a request-target: the visible ASCII of RFC 3986 (unreserved, reserved,
    /// `%`), which excludes `"` `<` `>` `\` `^` `` ` `` `{` `|` `}` and `#` (a fragment is never sent).
    @inline(__always) static func isTarget(_ byte: UInt8) -> Bool {
        byte < 64 ? (0xAFFF_FFF2_0000_0000 as UInt64) >> UInt64(byte) & 1 == 1
            : byte < 128 ? (0x47FF_FFFE_AFFF_FFFF as UInt64) >> UInt64(byte - 64) & 1 == 1 : false
    }

    /// `field-vchar / SP / HTAB` including obs-text (RFC 9110 §5.5); excludes CTLs and DEL.
    @inline(__always) static func isFieldValue(_ byte: UInt8) -> Bool {
        (byte >= 0x20 && byte != 0x7F) || byte == tab
    }

    @inline(__always) static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == tab
    }

    @inline(__always) static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x37
        case 0x61...0x66: return byte - 0x57
        default: return nil
        }
    }

    @inline(__always) static func lowercased(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }

    /// Compares `count` bytes case-insensitively against an all-lowercase ASCII `lowercase`.
    @inline(__always)
    static func equalsLowercase(_ bytes: UnsafeRawPointer, _ count: Int, _ lowercase: StaticString) -> Bool {
        guard count == lowercase.utf8CodeUnitCount else { return false }
        let expected = lowercase.utf8Start
        for index in 0..<count where lowercased(bytes.load(fromByteOffset: index, as: UInt8.self)) != expected[index] {
            return false
        }
        return true
    }
}
