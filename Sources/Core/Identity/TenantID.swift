// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

/// A tenant's identifier: a DNS-label-like slug of 1–63 lowercase letters, digits or hyphens that
/// neither starts nor ends with a hyphen, so it is safe in paths, headers, logs and SQL alike.
///
/// The only way to get one is through validation, so code that holds a `TenantID` never needs to
/// check it again:
///
/// ```swift
/// guard let tenant = TenantID("acme") else { throw AtlasError.badRequest("invalid tenant id") }
/// ```
public struct TenantID: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The slug itself.
    public let rawValue: String

    /// Validates `text`; `nil` when it is not a slug (upper case is refused, not folded, so one
    /// tenant has exactly one spelling).
    public init?(_ text: some StringProtocol) {
        guard Self.isValid(text) else { return nil }
        rawValue = String(text)
    }

    /// Validates `text` and throws a 400 ``AtlasError`` with code `invalid_tenant` when it is not a slug.
    public init(validating text: some StringProtocol) throws {
        guard let value = TenantID(text) else {
            throw AtlasError.badRequest(
                "tenant ids are 1-63 lowercase letters, digits or hyphens, not starting or ending with a hyphen",
                code: "invalid_tenant")
        }
        self = value
    }

    /// Whether `text` is a valid tenant slug.
    public static func isValid(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else {
            return false
        }
        return bytes.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") }
    }

    public var description: String { rawValue }

    public static func < (lhs: TenantID, rhs: TenantID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = TenantID(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a valid tenant id")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
