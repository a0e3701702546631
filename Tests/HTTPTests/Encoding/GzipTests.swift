// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import HTTP
import Testing

@Suite("Gzip")
struct GzipTests {
    @Test func roundTripsBytes() throws {
        let input = Array((0..<50_000).map { UInt8(truncatingIfNeeded: $0 % 251) })
        let compressed = try Gzip.compress(input)
        #expect(compressed.starts(with: [0x1F, 0x8B]))
        #expect(try Gzip.decompress(compressed) == input)
        #expect(try Gzip.decompress(try Gzip.compress([])) == [])
    }

    @Test func refusesToInflatePastTheLimit() throws {
        let bomb = try Gzip.compress([UInt8](repeating: 0, count: 1 << 20))
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(bomb, maxBytes: 1000) }
    }

    @Test func rejectsCorruptOrTruncatedInput() throws {
        let valid = try Gzip.compress(Array("hello hello hello".utf8))
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(Array(valid.prefix(valid.count / 2))) }
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress([0x1F, 0x8B, 0x08, 0x00, 0xFF, 0xFF]) }
    }
}
