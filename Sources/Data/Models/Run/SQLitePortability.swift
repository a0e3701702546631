// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

/// Rewrites the few PostgreSQL/DuckDB spellings SQLite cannot parse. `LEFT` and `RIGHT` are
/// keywords in SQLite's grammar (`LEFT JOIN`), so `left(title, 50)` is a syntax error there even
/// with a function of that name: a call `left(` / `right(` becomes `atlas_left(` / `atlas_right(`,
/// functions the Storage SQLite driver registers with PostgreSQL's semantics. String literals,
/// quoted identifiers and comments are left alone.
enum SQLitePortability {
    static func rewrite(_ sql: String) -> String {
        let bytes = Array(sql.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 16)
        var index = 0
        func isWord(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F || byte >= 0x80
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`"):
                // A quoted literal or identifier; a doubled quote stays inside it.
                var end = index + 1
                while end < bytes.count {
                    if bytes[end] == byte {
                        if end + 1 < bytes.count && bytes[end + 1] == byte { end += 2; continue }
                        break
                    }
                    end += 1
                }
                let stop = min(end + 1, bytes.count)
                output += bytes[index..<stop]
                index = stop
            case UInt8(ascii: "-") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "-"):
                var end = index
                while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
                output += bytes[index..<end]
                index = end
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*"):
                var end = index + 2
                while end + 1 < bytes.count && !(bytes[end] == UInt8(ascii: "*") && bytes[end + 1] == UInt8(ascii: "/")) { end += 1 }
                let stop = min(end + 2, bytes.count)
                output += bytes[index..<stop]
                index = stop
            default:
                guard isWord(byte), index == 0 || !isWord(bytes[index - 1]) else {
                    output.append(byte)
                    index += 1
                    continue
                }
                var end = index
                while end < bytes.count && isWord(bytes[end]) { end += 1 }
                let word = String(decoding: bytes[index..<end], as: UTF8.self).lowercased()
                var next = end
                while next < bytes.count && (bytes[next] == 0x20 || bytes[next] == 0x09 || bytes[next] == 0x0A || bytes[next] == 0x0D) { next += 1 }
                if (word == "left" || word == "right") && next < bytes.count && bytes[next] == UInt8(ascii: "(") {
                    output += Array("atlas_\(word)".utf8)
                } else {
                    output += bytes[index..<end]
                }
                index = end
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
