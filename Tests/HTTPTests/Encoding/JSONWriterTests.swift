// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Foundation
import HTTP
import Testing

@Suite("JSONWriter")
struct JSONWriterTests {
    struct Inner: Encodable, JSONWritable {
        var count: Int
        var on: Bool
        func write(to json: inout JSONWriter) {
            json.beginObject()
            json.member("count", count)
            json.member("on", on)
            json.endObject()
        }
    }

    struct Outer: Encodable, JSONWritable {
        var name: String
        var note: String?
        var inner: Inner
        var createdAt: Date
        var last: Inner
        func write(to json: inout JSONWriter) {
            json.beginObject()
            json.member("name", name)
            json.member("note", note)
            json.key("inner")
            inner.write(to: &json)
            json.member("created_at", createdAt)
            json.key("last")
            last.write(to: &json)
            json.endObject()
        }
    }

    /// The same value through the `Encodable` overload (a context that only knows `Encodable`).
    func encoded<T: Encodable>(_ value: T) throws -> [UInt8] {
        try #require(try Response.json(value).body.bytes)
    }

    @Test func writesWhatTheEncodableFormWrites() throws {
        let date = Date(timeIntervalSince1970: 1_790_000_000.5)
        for value in [
            Outer(name: "plain", note: nil, inner: Inner(count: 0, on: false), createdAt: date, last: Inner(count: -42, on: true)),
            Outer(name: "quote \" back\\slash\nline é 🚀", note: "tab\there", inner: Inner(count: Int.min, on: true),
                  createdAt: Date(timeIntervalSince1970: 0), last: Inner(count: Int.max, on: false)),
        ] {
            let written = try #require(try Response.json(value).body.bytes)
            #expect(String(decoding: written, as: UTF8.self) == String(decoding: try encoded(value), as: UTF8.self))
            #expect(try JSONSerialization.jsonObject(with: Data(written)) is [String: Any])
        }
    }

    @Test func separatesMembersOfNestedObjects() {
        var json = JSONWriter()
        json.beginObject()
        json.key("a")
        json.beginObject()
        json.endObject()
        json.key("b")
        json.beginObject()
        json.member("c", 1)
        json.member("d", "x")
        json.endObject()
        json.member("e", true)
        json.endObject()
        #expect(String(decoding: json.bytes, as: UTF8.self) == #"{"a":{},"b":{"c":1,"d":"x"},"e":true}"#)
    }
}
