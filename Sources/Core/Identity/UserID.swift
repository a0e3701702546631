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

    /// Whether `text` has the shape of a user id (prefix, then 1–64 characters of `[a-z0-9]`).
    public static func isValid(_ text: some StringProtocol) -> Bool {
        guard text.hasPrefix(prefix) else { return false }
        let body = text.utf8.dropFirst(prefix.utf8.count)
        guard (1...64).contains(body.count) else { return false }
        return body.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }
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
