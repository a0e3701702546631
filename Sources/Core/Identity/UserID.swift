// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

/// A user's stable identifier, `usr_` followed by 26 lowercase base-32 characters (128 random bits).
///
/// Emails can change; this cannot, so memberships, tokens and audit entries refer to users by it.
public struct UserID: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The identifier's text, e.g. `usr_3n5k…`.
    public let rawValue: String

    /// The prefix every user id starts with.
    public static let prefix = "usr_"

    /// Accepts a well-formed id; `nil` otherwise.
    public init?(_ text: some StringProtocol) {
        guard Self.isValid(text) else { return nil }
        rawValue = String(text)
    }

    /// Validates `text` without generic dispatch (the common case, on every request).
    public init?(_ text: String) {
        guard Self.isValid(text) else { return nil }
        rawValue = text
    }

    /// Whether `text` has the shape of a user id (prefix, then 1–64 characters of `[a-z0-9]`).
    public static func isValid(_ text: some StringProtocol) -> Bool {
        isValid(utf8: text.utf8)
    }

    /// The same check on a `String`, specialised: it runs on every authenticated request.
    public static func isValid(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isValid(utf8: $0) }
    }

    @inline(__always)
    private static func isValid(utf8: some Collection<UInt8>) -> Bool {
        // "usr_" then 1–64 of [a-z0-9]
        var index = 0
        var valid = true
        for byte in utf8 {
            switch index {
            case 0: valid = byte == UInt8(ascii: "u")
            case 1: valid = byte == UInt8(ascii: "s")
            case 2: valid = byte == UInt8(ascii: "r")
            case 3: valid = byte == UInt8(ascii: "_")
            default: valid = byte &- 0x61 < 26 || byte &- 0x30 < 10
            }
            if !valid { return false }
            index += 1
            if index > 68 { return false }
        }
        return index > 4
    }

    public var description: String { rawValue }

    public static func < (lhs: UserID, rhs: UserID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = UserID(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a valid user id")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
