// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Synchronization

/// Encodes `Encodable` values to JSON bytes with the conventions of ``JSONCoding/makeEncoder()``
/// (snake_case keys, ISO 8601 dates, base64 data, `/` unescaped, dictionary keys kept as given),
/// writing straight into one byte buffer.
///
/// `JSONEncoder` builds a tree of boxed values, converts every key and then serialises the tree;
/// for the small documents most routes answer with that costs more than the rest of the request.
/// Here a value is written as it is encoded: each open object or array is a frame on a stack, and
/// a frame is closed when its parent writes its next element or when encoding ends. Objects keep
/// the order in which their keys were encoded.
///
/// Unlike `JSONEncoder`, a key encoded twice in one object is written twice; Atlas's types never
/// do that.
final class StreamingJSONEncoder {
    enum Kind {
        case object
        case array
        /// The place of one value that has not yet said how it encodes itself.
        case slot
    }

    struct Frame {
        var kind: Kind
        /// Elements written (for a slot: 1 once its value has begun).
        var count: Int
    }

    fileprivate(set) var bytes: [UInt8] = []
    private var frames: [Frame] = []
    private var misuse: String?

    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// The JSON text of `value`.
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = StreamingJSONEncoder()
        try encoder.encodeValue(value)
        encoder.settle(above: -1)
        if let misuse = encoder.misuse {
            throw EncodingError.invalidValue(value, EncodingError.Context(codingPath: [], debugDescription: misuse))
        }
        return encoder.bytes
    }

    // MARK: Frames

    /// Closes every frame above `index`; a slot left without a value becomes `{}`, as `JSONEncoder`
    /// writes for a value that encodes nothing.
    fileprivate func settle(above index: Int) {
        while frames.count - 1 > index {
            let frame = frames.removeLast()
            switch frame.kind {
            case .object: bytes.append(UInt8(ascii: "}"))
            case .array: bytes.append(UInt8(ascii: "]"))
            case .slot: if frame.count == 0 { bytes.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")]) }
            }
        }
    }

    /// Starts the next element of the container at `index`.
    fileprivate func beginElement(in index: Int) {
        settle(above: index)
        if frames[index].count > 0 { bytes.append(UInt8(ascii: ",")) }
        frames[index].count += 1
    }

    fileprivate func beginMember(_ key: some CodingKey, in index: Int) {
        beginElement(in: index)
        writeKey(key.stringValue)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Writes a member name in snake_case. A name without capitals or characters to escape (most
    /// of them) is copied as it is; the others are converted once and remembered.
    private func writeKey(_ name: String) {
        var name = name
        let copied = name.withUTF8 { raw -> Bool in
            for byte in raw where byte &- 0x41 < 26 || byte < 0x20 || byte == 0x22 || byte == 0x5C || byte >= 0x80 {
                return false
            }
            bytes.append(0x22)
            bytes.append(contentsOf: raw)
            bytes.append(0x22)
            return true
        }
        if !copied { bytes.append(contentsOf: Self.convertedKey(name)) }
    }

    /// Converted member names, quoted and escaped; types have a bounded set of keys, so the table
    /// stops growing at its capacity rather than evicting.
    private static let convertedKeys = Mutex<[String: [UInt8]]>([:])
    private static let convertedKeysCapacity = 4096

    private static func convertedKey(_ name: String) -> [UInt8] {
        if let known = convertedKeys.withLock({ $0[name] }) { return known }
        var quoted: [UInt8] = []
        JSONEscaping.appendString(snakeCased(name), to: &quoted)
        convertedKeys.withLock { table in
            if table.count < convertedKeysCapacity { table[name] = quoted }
        }
        return quoted
    }

    /// Opens an object or array as the value of the innermost slot, or returns the one this value
    /// already opened (a type may ask for its container more than once).
    fileprivate func open(_ kind: Kind) -> Int {
        guard let slot = frames.lastIndex(where: { $0.kind == .slot }) else {
            return push(kind)
        }
        if frames[slot].count == 0 {
            settle(above: slot)
            frames[slot].count = 1
            return push(kind)
        }
        if slot + 1 < frames.count, frames[slot + 1].kind == kind {
            settle(above: slot + 1)
            return slot + 1
        }
        misuse = "a value asked for a second, different container"
        return push(kind)
    }

    fileprivate func push(_ kind: Kind) -> Int {
        bytes.append(kind == .object ? UInt8(ascii: "{") : UInt8(ascii: "["))
        frames.append(Frame(kind: kind, count: 0))
        return frames.count - 1
    }

    /// Claims the innermost slot for a single value.
    fileprivate func claimSlot() {
        guard let slot = frames.lastIndex(where: { $0.kind == .slot }) else { return }
        if frames[slot].count != 0 { misuse = "a single-value container encoded two values" }
        settle(above: slot)
        frames[slot].count = 1
    }

    fileprivate func pushSlot() -> StreamingJSONEncoder {
        frames.append(Frame(kind: .slot, count: 0))
        return self
    }

    // MARK: Values

    func encodeValue<T: Encodable>(_ value: T) throws {
        // Exact type checks first: a metatype comparison costs less than a dynamic cast.
        if T.self == String.self { return writeString(unsafeBitCast(value, to: String.self)) }
        if T.self == Int.self { return writeInteger(Int64(unsafeBitCast(value, to: Int.self))) }
        if T.self == Bool.self { return writeBool(unsafeBitCast(value, to: Bool.self)) }
        if T.self == Double.self { return try writeDouble(unsafeBitCast(value, to: Double.self)) }
        if T.self == Int64.self { return writeInteger(unsafeBitCast(value, to: Int64.self)) }
        if T.self == Date.self { return writeDate(unsafeBitCast(value, to: Date.self)) }
        if T.self == Data.self { return writeString(unsafeBitCast(value, to: Data.self).base64EncodedString()) }
        if T.self == URL.self { return writeString(unsafeBitCast(value, to: URL.self).absoluteString) }
        if T.self == Decimal.self { return bytes.append(contentsOf: Array(unsafeBitCast(value, to: Decimal.self).description.utf8)) }
        if let object = value as? any StringKeyedJSONObject {
            return try object.writeMembers(to: self)
        }
        frames.append(Frame(kind: .slot, count: 0))
        let slot = frames.count - 1
        try value.encode(to: self)
        settle(above: slot - 1)
    }

    func writeNull() {
        bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
    }

    func writeBool(_ value: Bool) {
        bytes.append(contentsOf: value ? [0x74, 0x72, 0x75, 0x65] : [0x66, 0x61, 0x6C, 0x73, 0x65])
    }

    func writeInteger(_ value: Int64) {
        JSONEscaping.appendInteger(value, to: &bytes)
    }

    func writeUnsigned(_ value: UInt64) {
        JSONEscaping.appendDecimal(value, to: &bytes)
    }

    /// Shortest round-tripping text, without the `.0` of a whole number (as `JSONEncoder`).
    func writeDouble(_ value: Double) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, EncodingError.Context(codingPath: [], debugDescription: "\(value) is not a valid JSON number"))
        }
        if value.rounded(.towardZero) == value, abs(value) < 1e15 {
            if value == 0, value.sign == .minus { bytes.append(contentsOf: [UInt8(ascii: "-"), UInt8(ascii: "0")]) } else { writeInteger(Int64(value)) }
            return
        }
        writeNumberText(value.description)
    }

    func writeFloat(_ value: Float) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, EncodingError.Context(codingPath: [], debugDescription: "\(value) is not a valid JSON number"))
        }
        writeNumberText(value.description)
    }

    private func writeNumberText(_ text: String) {
        var utf8 = Array(text.utf8)
        if utf8.count > 2, utf8[utf8.count - 2] == UInt8(ascii: "."), utf8[utf8.count - 1] == UInt8(ascii: "0") { utf8.removeLast(2) }
        bytes.append(contentsOf: utf8)
    }

    func writeDate(_ date: Date) {
        JSONEscaping.appendDate(date, to: &bytes)
    }

    /// A JSON string, escaped as `JSONEncoder` escapes it.
    func writeString(_ text: String) {
        JSONEscaping.appendString(text, to: &bytes)
    }
}

// MARK: Encoder

extension StreamingJSONEncoder: Encoder {
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedContainer<Key>(encoder: self, index: open(.object)))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        UnkeyedContainer(encoder: self, index: open(.array))
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueContainer(encoder: self)
    }
}

/// `[String: V]` is written as an object whose keys are kept as given, as `JSONEncoder` does.
protocol StringKeyedJSONObject {
    func writeMembers(to encoder: StreamingJSONEncoder) throws
}

extension Dictionary: StringKeyedJSONObject where Key == String, Value: Encodable {
    func writeMembers(to encoder: StreamingJSONEncoder) throws {
        // The caller has placed this value (a slot claimed, a key or a comma written).
        let index = encoder.push(.object)
        for (key, value) in self {
            encoder.beginElement(in: index)
            encoder.writeString(key)
            encoder.bytes.append(UInt8(ascii: ":"))
            try encoder.encodeValue(value)
        }
        encoder.settle(above: index - 1)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: StreamingJSONEncoder
    let index: Int
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws {
        encoder.beginMember(key, in: index)
        encoder.writeNull()
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        encoder.beginMember(key, in: index)
        encoder.writeBool(value)
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        encoder.beginMember(key, in: index)
        encoder.writeString(value)
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        encoder.beginMember(key, in: index)
        try encoder.writeDouble(value)
    }

    mutating func encode(_ value: Float, forKey key: Key) throws {
        encoder.beginMember(key, in: index)
        try encoder.writeFloat(value)
    }

    mutating func encode(_ value: Int, forKey key: Key) throws { try integer(Int64(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try integer(Int64(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try integer(Int64(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try integer(Int64(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try unsigned(UInt64(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try unsigned(UInt64(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try unsigned(UInt64(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try unsigned(UInt64(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try unsigned(value, key) }

    private func integer(_ value: Int64, _ key: Key) throws {
        encoder.beginMember(key, in: index)
        encoder.writeInteger(value)
    }

    private func unsigned(_ value: UInt64, _ key: Key) throws {
        encoder.beginMember(key, in: index)
        encoder.writeUnsigned(value)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        encoder.beginMember(key, in: index)
        try encoder.encodeValue(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        encoder.beginMember(key, in: index)
        return encoder.pushSlot().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        encoder.beginMember(key, in: index)
        return encoder.pushSlot().unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        encoder.beginMember(SuperKey.super, in: index)
        return encoder.pushSlot()
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        encoder.beginMember(key, in: index)
        return encoder.pushSlot()
    }
}

private enum SuperKey: String, CodingKey {
    case `super`
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: StreamingJSONEncoder
    let index: Int
    private(set) var count = 0
    var codingPath: [any CodingKey] { [] }

    init(encoder: StreamingJSONEncoder, index: Int) {
        self.encoder = encoder
        self.index = index
    }

    private mutating func next() {
        encoder.beginElement(in: index)
        count += 1
    }

    mutating func encodeNil() throws {
        next()
        encoder.writeNull()
    }

    mutating func encode(_ value: Bool) throws {
        next()
        encoder.writeBool(value)
    }

    mutating func encode(_ value: String) throws {
        next()
        encoder.writeString(value)
    }

    mutating func encode(_ value: Double) throws {
        next()
        try encoder.writeDouble(value)
    }

    mutating func encode(_ value: Float) throws {
        next()
        try encoder.writeFloat(value)
    }

    mutating func encode(_ value: Int) throws { next(); encoder.writeInteger(Int64(value)) }
    mutating func encode(_ value: Int8) throws { next(); encoder.writeInteger(Int64(value)) }
    mutating func encode(_ value: Int16) throws { next(); encoder.writeInteger(Int64(value)) }
    mutating func encode(_ value: Int32) throws { next(); encoder.writeInteger(Int64(value)) }
    mutating func encode(_ value: Int64) throws { next(); encoder.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { next(); encoder.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { next(); encoder.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { next(); encoder.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { next(); encoder.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { next(); encoder.writeUnsigned(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        next()
        try encoder.encodeValue(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        next()
        return encoder.pushSlot().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        next()
        return encoder.pushSlot().unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        next()
        return encoder.pushSlot()
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let encoder: StreamingJSONEncoder
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws {
        encoder.claimSlot()
        encoder.writeNull()
    }

    mutating func encode(_ value: Bool) throws {
        encoder.claimSlot()
        encoder.writeBool(value)
    }

    mutating func encode(_ value: String) throws {
        encoder.claimSlot()
        encoder.writeString(value)
    }

    mutating func encode(_ value: Double) throws {
        encoder.claimSlot()
        try encoder.writeDouble(value)
    }

    mutating func encode(_ value: Float) throws {
        encoder.claimSlot()
        try encoder.writeFloat(value)
    }

    mutating func encode(_ value: Int) throws { encoder.claimSlot(); encoder.writeInteger(Int64(value)) }
    mutating func encode(_ value: Int8) throws { encoder.claimSlot(); encoder.writeInteger(Int64(value)) }
    mutating func encode(_ value: Int16) throws { encoder.claimSlot(); encoder.writeInteger(Int64(value)) }
    mutating func encode(_ value: Int32) throws { encoder.claimSlot(); encoder.writeInteger(Int64(value)) }
    mutating func encode(_ value: Int64) throws { encoder.claimSlot(); encoder.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { encoder.claimSlot(); encoder.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { encoder.claimSlot(); encoder.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { encoder.claimSlot(); encoder.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { encoder.claimSlot(); encoder.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { encoder.claimSlot(); encoder.writeUnsigned(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.claimSlot()
        try encoder.encodeValue(value)
    }
}
