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

    /// Validates `text` without generic dispatch (the common case, on every request).
    public init?(_ text: String) {
        guard Self.isValid(text) else { return nil }
        rawValue = text
    }

    /// The `String` case of validating, without generic dispatch.
    public init(validating text: String) throws {
        guard let value = TenantID(text) else { throw Self.invalid }
        self = value
    }

    private static var invalid: AtlasError {
        AtlasError.badRequest(
            "tenant ids are 1-63 lowercase letters, digits or hyphens, not starting or ending with a hyphen",
            code: "invalid_tenant")
    }

    /// Validates `text` and throws a 400 ``AtlasError`` with code `invalid_tenant` when it is not a slug.
    public init(validating text: some StringProtocol) throws {
        guard let value = TenantID(text) else { throw Self.invalid }
        self = value
    }

    /// Whether `text` is a valid tenant slug.
    public static func isValid(_ text: some StringProtocol) -> Bool {
        isValid(utf8: text.utf8)
    }

    /// The same check on a `String`, specialised: it runs on every tenant-scoped request.
    public static func isValid(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isValid(utf8: $0) }
    }

    @inline(__always)
    private static func isValid(utf8: some Collection<UInt8>) -> Bool {
        var count = 0
        var last: UInt8 = 0
        for byte in utf8 {
            guard byte &- 0x61 < 26 || byte &- 0x30 < 10 || (byte == UInt8(ascii: "-") && count > 0) else { return false }
            count += 1
            last = byte
            if count > 63 { return false }
        }
        return count > 0 && last != UInt8(ascii: "-")
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
