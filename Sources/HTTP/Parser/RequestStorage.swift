// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import HTTPTypes
#if canImport(Glibc)
import Glibc
#endif

/// Methods the router dispatches through a small table instead of string comparison.
enum MethodIndex: UInt8 {
    case get, head, post, put, delete, patch, options, other

    static let tableCount = 7

    init(_ method: HTTPRequest.Method) {
        switch method.rawValue {
        case "GET": self = .get
        case "HEAD": self = .head
        case "POST": self = .post
        case "PUT": self = .put
        case "DELETE": self = .delete
        case "PATCH": self = .patch
        case "OPTIONS": self = .options
        default: self = .other
        }
    }

    /// The method's name; `nil` for ``other``.
    var name: StaticString? {
        switch self {
        case .get: "GET"
        case .head: "HEAD"
        case .post: "POST"
        case .put: "PUT"
        case .delete: "DELETE"
        case .patch: "PATCH"
        case .options: "OPTIONS"
        case .other: nil
        }
    }
}

/// Where one header field sits inside ``RequestStorage/head``.
struct FieldIndex {
    var nameStart: UInt32
    var nameCount: UInt32
    var valueStart: UInt32
    var valueCount: UInt32
}

/// The parsed head and body of one request: the head's bytes, where each field sits in them,
/// and the framing facts the connection needs.
///
/// A connection keeps one and parses each next request into it while no ``Request`` refers to it
/// (checked with `isKnownUniquelyReferenced`), so inline requests cost no allocation; a request
/// handed to an async handler keeps its storage and the connection starts a fresh one.
/// Its properties skip dynamic exclusivity checks: they are written only by the owning parser
/// on one thread while no `Request` shares the storage, never re-entrantly.
final class RequestStorage: @unchecked Sendable {
    // @unchecked: mutated only by the owning connection, and only while no `Request` shares it;
    // once published inside a `Request` it is never written again.
    @exclusivity(unchecked) private(set) var head: UnsafeMutableRawPointer
    @exclusivity(unchecked) private(set) var headCapacity: Int
    @exclusivity(unchecked) private(set) var headCount = 0
    @exclusivity(unchecked) var fields: [FieldIndex] = []

    @exclusivity(unchecked) var method: HTTPRequest.Method = .get
    @exclusivity(unchecked) var methodIndex: MethodIndex = .get
    @exclusivity(unchecked) var targetStart = 0
    @exclusivity(unchecked) var targetCount = 0
    @exclusivity(unchecked) var pathStart = 0
    @exclusivity(unchecked) var pathCount = 0
    @exclusivity(unchecked) var queryStart = 0
    /// -1 when the target has no `?`.
    @exclusivity(unchecked) var queryCount = -1
    @exclusivity(unchecked) var minorVersion: UInt8 = 1
    @exclusivity(unchecked) var contentLength = -1
    @exclusivity(unchecked) var isChunked = false
    @exclusivity(unchecked) var keepAlive = true
    @exclusivity(unchecked) var expectsContinue = false
    @exclusivity(unchecked) var body: [UInt8] = []
    /// Set before the request is published when its route streams the body: from then on the
    /// loop keeps parsing into ``body`` and moves the bytes into the stream, so readers of the
    /// published request use the stream, never ``body``.
    @exclusivity(unchecked) var bodyStream: RequestBodyStream?

    init(capacity: Int = 1024) {
        headCapacity = capacity
        head = .allocate(byteCount: capacity, alignment: 16)
        fields.reserveCapacity(16)
    }

    deinit {
        head.deallocate()
    }

    var hasBody: Bool { isChunked || contentLength > 0 }

    /// Copies a complete head in and clears the previous request's facts.
    func load(_ bytes: UnsafeRawPointer, count: Int) {
        if count > headCapacity {
            head.deallocate()
            var capacity = headCapacity
            while capacity < count { capacity *= 2 }
            head = .allocate(byteCount: capacity, alignment: 16)
            headCapacity = capacity
        }
        head.copyMemory(from: bytes, byteCount: count)
        headCount = count
        fields.removeAll(keepingCapacity: true)
        contentLength = -1
        isChunked = false
        keepAlive = true
        expectsContinue = false
        queryCount = -1
        if !body.isEmpty { body.removeAll(keepingCapacity: true) }
        bodyStream = nil
    }

    @inline(__always) func bytes(_ start: Int, _ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: head + start, count: count)
    }

    @inline(__always) func string(_ start: Int, _ count: Int) -> String {
        String(decoding: bytes(start, count), as: UTF8.self)
    }

    /// The index of the first field whose name equals `lowercaseName` (ASCII, lowercase).
    @inline(__always) func firstField(_ lowercaseName: StaticString) -> FieldIndex? {
        let length = UInt32(lowercaseName.utf8CodeUnitCount)
        for field in fields where field.nameCount == length {
            if ByteClass.equalsLowercase(head + Int(field.nameStart), Int(length), lowercaseName) { return field }
        }
        return nil
    }

    /// Whether `field`'s name equals `name` case-insensitively.
    func fieldName(_ field: FieldIndex, equals name: String) -> Bool {
        var name = name
        return name.withUTF8 { expected in
            guard expected.count == Int(field.nameCount) else { return false }
            let actual = head + Int(field.nameStart)
            for index in 0..<expected.count
            where ByteClass.lowercased(actual.load(fromByteOffset: index, as: UInt8.self)) != ByteClass.lowercased(expected[index]) {
                return false
            }
            return true
        }
    }

    @inline(__always) func value(_ field: FieldIndex) -> UnsafeRawBufferPointer {
        bytes(Int(field.valueStart), Int(field.valueCount))
    }

    @inline(__always) var pathBytes: UnsafeRawBufferPointer { bytes(pathStart, pathCount) }
}
