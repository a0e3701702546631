// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

/// A Swift property name as the `snake_case` key Foundation's `JSONEncoder` writes with
/// `.convertToSnakeCase`: `createdAt` → `created_at`, `userID` → `user_id`,
/// `httpURLValue` → `http_url_value`.
///
/// The word boundaries are Foundation's, quirks included (`ID` alone becomes `i_d`, `URL` becomes
/// `u_rl`), so a response encoded by the fast encoder and one encoded by `JSONEncoder` carry the
/// same keys. A key without upper-case letters is returned as is, without allocating.
public func snakeCased(_ key: String) -> String {
    let bytes = key.utf8
    guard bytes.allSatisfy({ $0 < 0x80 }) else { return snakeCasedScalars(key) }
    guard bytes.contains(where: { $0 &- 0x41 < 26 }) else { return key }
    return bytes.withContiguousStorageIfAvailable { snakeCasedASCII($0) }
        ?? Array(bytes).withUnsafeBufferPointer { snakeCasedASCII($0) }
}

private func snakeCasedASCII(_ text: UnsafeBufferPointer<UInt8>) -> String {
    let words = snakeCaseWords(count: text.count, isUpper: { text[$0] &- 0x41 < 26 }, isLower: { text[$0] &- 0x61 < 26 })
    var result: [UInt8] = []
    result.reserveCapacity(text.count + words.count)
    for (index, word) in words.enumerated() {
        if index > 0 { result.append(UInt8(ascii: "_")) }
        for position in word {
            let byte = text[position]
            result.append(byte &- 0x41 < 26 ? byte + 0x20 : byte)
        }
    }
    return String(decoding: result, as: UTF8.self)
}

private func snakeCasedScalars(_ key: String) -> String {
    let scalars = Array(key.unicodeScalars)
    guard scalars.count > 1 else { return key }
    let words = snakeCaseWords(
        count: scalars.count,
        isUpper: { [.uppercaseLetter, .titlecaseLetter].contains(scalars[$0].properties.generalCategory) },
        isLower: { scalars[$0].properties.generalCategory == .lowercaseLetter })
    return words.map { word in
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars[word])
        return String(text).lowercased()
    }.joined(separator: "_")
}

/// The words of a camelCase key: a word ends before an upper-case letter, and a run of upper-case
/// letters followed by a lower-case one is a word of its own up to the last capital.
private func snakeCaseWords(count: Int, isUpper: (Int) -> Bool, isLower: (Int) -> Bool) -> [Range<Int>] {
    guard count > 0 else { return [] }
    var words: [Range<Int>] = []
    var wordStart = 0
    var searchFrom = 1
    while let upper = (searchFrom..<count).first(where: isUpper) {
        words.append(wordStart..<upper)
        guard let lower = (upper..<count).first(where: isLower) else {
            wordStart = upper
            break
        }
        if lower == upper + 1 {
            wordStart = upper
        } else {
            words.append(upper..<(lower - 1))
            wordStart = lower - 1
        }
        searchFrom = lower + 1
    }
    words.append(wordStart..<count)
    return words
}
