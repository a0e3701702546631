// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
@testable import HTTP
import HTTPTypes
import Testing

/// The response encoder must write what `JSONCoding.makeEncoder()` writes: same keys, same values,
/// same number and date text. Objects are compared parsed (JSONEncoder's key order is a hash order);
/// single-member documents byte for byte.
@Suite("Streaming JSON encoder")
struct StreamingJSONEncoderTests {
    struct Usage: Codable, Equatable {
        var tokens: Int
        var requests: Int64
        var plan: String
    }

    enum Status: String, Codable { case active, suspended }

    struct Summary: Codable, Equatable {
        var tenant: String
        var usage: Usage
        var refreshedAt: Date
        var status: Status
        var userID: String
        var httpURLValue: URL
        var maybe: String?
        var gone: Int?
        var ratios: [Double?]
        var tags: [String: Int]
        var byNumber: [Int: String]
        var nested: [[Usage]]
        var blob: Data
        var price: Decimal
        var flag: Bool
        var small: Float
        var metadata: JSONValue
    }

    static let sample = Summary(
        tenant: "demo", usage: Usage(tokens: 120_000, requests: -540, plan: "scale"),
        refreshedAt: Date(timeIntervalSince1970: 1_795_742_844.75), status: .suspended, userID: "usr_abc",
        httpURLValue: URL(string: "https://example.com/a/b?c=1&d=é")!, maybe: "x", gone: nil,
        ratios: [0.1, nil, 1.0, -0.0, 1e20, 1e-7, 123_456_789_012_345.0, 1e15, 2.5e-300, -42],
        tags: ["camelKey": 1, "snake_key": 2, "with space": 3], byNumber: [1: "one", 20: "twenty"],
        nested: [[], [Usage(tokens: 0, requests: 0, plan: "")]], blob: Data([0, 1, 2, 254, 255]),
        price: Decimal(string: "12.50")!, flag: true, small: 1.1,
        metadata: .object(["keepCase": .array([.null, .bool(false), .number(3), .string("q\"uote")])]))

    static func parsed(_ bytes: some Sequence<UInt8>) throws -> NSObject {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? NSObject)
    }

    static func foundation<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try JSONCoding.makeEncoder().encode(value))
    }

    @Test func writesWhatJSONEncoderWrites_ForARichDocument() throws {
        let fast = try StreamingJSONEncoder.encode(Self.sample)
        let reference = try Self.foundation(Self.sample)
        #expect(try Self.parsed(fast) == Self.parsed(reference), "\(String(decoding: fast, as: UTF8.self))")
        // And the part without acronyms decodes back with the matching decoder (`convertFromSnakeCase`
        // reads `user_id` as `userId`, not `userID`, whoever encoded it).
        let usage = try JSONSerialization.data(withJSONObject: try #require((Self.parsed(fast) as? [String: Any])?["usage"]))
        #expect(try JSONCoding.makeDecoder().decode(Usage.self, from: usage) == Self.sample.usage)
    }

    @Test(arguments: [0.1, 1.0, -0.0, 1e20, 1e-7, 123_456_789_012_345.0, 1e15, 1e16, 2.5e-300, -42, 3.14159, Double.greatestFiniteMagnitude])
    func numbersAreTheSameText(value: Double) throws {
        #expect(try StreamingJSONEncoder.encode([value]) == Self.foundation([value]))
        #expect(try StreamingJSONEncoder.encode(["n": value]) == Self.foundation(["n": value]))
    }

    @Test func integersAtTheirLimitsAndFloats() throws {
        for value in [Int64.min, Int64.max, 0, -1, 9] {
            #expect(try StreamingJSONEncoder.encode([value]) == Self.foundation([value]))
        }
        #expect(try StreamingJSONEncoder.encode([UInt64.max]) == Self.foundation([UInt64.max]))
        #expect(try StreamingJSONEncoder.encode([Float(1.1), Float(2), Float(-0.5)]) == Self.foundation([Float(1.1), Float(2), Float(-0.5)]))
    }

    @Test(arguments: ["plain", "a/b", "quote\" and \\ backslash", "\n\r\t\u{08}\u{0C}", "\u{01}\u{1F}\u{7F}", "é 日本 🎉", "\u{2028}", ""])
    func stringsAreEscapedTheSameWay(text: String) throws {
        #expect(try StreamingJSONEncoder.encode([text]) == Self.foundation([text]))
        #expect(try StreamingJSONEncoder.encode(text) == Self.foundation(text))
    }

    @Test func keysFollowFoundationsSnakeCase() throws {
        struct Keys: Encodable {
            let keys: [String]
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: AnyKey.self)
                for key in keys { try container.encode(1, forKey: AnyKey(stringValue: key)) }
            }
        }
        for key in ["ID", "URL", "userID", "httpURLValue", "createdAt", "v2Name", "a", "aB", "ABc", "already_snake", "_private",
                    "camelCase_with", "x1y2Z", "myHTTPServer2Go", "ÉtéVal", "tokensDelta", "AB", "aBC", "aBCd", ""] {
            #expect(try StreamingJSONEncoder.encode(Keys(keys: [key])) == Self.foundation(Keys(keys: [key])), "key \(key)")
        }
    }

    @Test func datesAreWholeSecondISO8601InUTC() throws {
        for seconds in [0, 1_795_742_844.999, -1.5, 951_782_400, 4_102_444_800, -62_135_596_800] as [Double] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(try StreamingJSONEncoder.encode([date]) == Self.foundation([date]), "\(seconds)")
        }
    }

    @Test func valuesThatEncodeNothingOrOnlyNilMatch() throws {
        struct Empty: Encodable {}
        struct OnlyNil: Encodable { var a: Int? }
        #expect(try StreamingJSONEncoder.encode([Empty()]) == Self.foundation([Empty()]))
        #expect(try StreamingJSONEncoder.encode(OnlyNil()) == Self.foundation(OnlyNil()))
        #expect(try StreamingJSONEncoder.encode([Int?.none, 1]) == Self.foundation([Int?.none, 1]))
    }

    @Test func nestedContainersAndSuperEncodersClose() throws {
        final class Base: Encodable {
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: AnyKey.self)
                try container.encode("base", forKey: AnyKey(stringValue: "kind"))
            }
        }
        struct Custom: Encodable {
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: AnyKey.self)
                var inner = container.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey(stringValue: "innerObject"))
                try inner.encode(1, forKey: AnyKey(stringValue: "x"))
                var list = container.nestedUnkeyedContainer(forKey: AnyKey(stringValue: "list"))
                try list.encode(true)
                var deeper = list.nestedContainer(keyedBy: AnyKey.self)
                try deeper.encodeNil(forKey: AnyKey(stringValue: "y"))
                try list.encode("after")
                try Base().encode(to: container.superEncoder())
                _ = container.superEncoder(forKey: AnyKey(stringValue: "unused"))
                try container.encode(2, forKey: AnyKey(stringValue: "last"))
                // Asking again for the same container continues it.
                var again = encoder.container(keyedBy: AnyKey.self)
                try again.encode(3, forKey: AnyKey(stringValue: "again"))
            }
        }
        let fast = try StreamingJSONEncoder.encode([Custom()])
        #expect(try Self.parsed(fast) == Self.parsed(Self.foundation([Custom()])), "\(String(decoding: fast, as: UTF8.self))")
    }

    @Test func nonFiniteNumbersAreRefusedLikeJSONEncoder() {
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder.encode([Double.nan]) }
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder.encode(["x": Double.infinity]) }
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder.encode([Float.infinity]) }
    }

    @Test func aResponseCarriesTheEncodedBody() throws {
        let response = try Response.json(Self.sample)
        let body = try #require(response.body.bytes)
        #expect(response.headers[.contentType] == "application/json")
        #expect(try Self.parsed(body) == Self.parsed(Self.foundation(Self.sample)))
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
