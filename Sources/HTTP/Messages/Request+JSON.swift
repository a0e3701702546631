// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation

extension Request {
    /// Decodes the JSON body into `T`, mapping snake_case keys to camelCase properties.
    ///
    /// Throws problems the error mapping renders directly: 415 when `Content-Type` is present and
    /// not JSON (`application/json` or `application/*+json`), 400 for malformed JSON, 422 naming
    /// the field for a missing or mistyped one (`tokens_delta: expected an integer`).
    ///
    /// ```swift
    /// struct UsageDelta: Decodable { var tokensDelta: Int; var requestsDelta: Int }
    /// let delta = try request.decode(UsageDelta.self)
    /// ```
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        if let field = storage.firstField("content-type") {
            let value = storage.value(field)
            guard Self.isJSONMediaType(value) else {
                throw AtlasError(status: 415, code: "unsupported_media_type",
                                 detail: "the request body must be JSON (Content-Type: application/json)")
            }
        }
        guard !storage.body.isEmpty else {
            throw AtlasError.badRequest("the request body is empty; a JSON document is required", code: "malformed_json")
        }
        do {
            return try JSONCoding.makeDecoder().decode(T.self, from: Data(storage.body))
        } catch let error as DecodingError {
            let mapped = JSONErrors.problem(for: error)
            throw AtlasError(status: mapped.status, code: mapped.code, detail: mapped.detail)
        }
    }

    /// Whether the request declares a form body (`application/x-www-form-urlencoded`).
    public var isFormEncoded: Bool {
        guard let field = storage.firstField("content-type") else { return false }
        let value = storage.value(field)
        let essence = Self.mediaTypeEssence(value)
        return ByteClass.equalsLowercase(essence.baseAddress!, essence.count, "application/x-www-form-urlencoded")
    }

    /// The body parsed as `application/x-www-form-urlencoded` fields (OAuth2 token requests).
    public func formFields() -> Parameters {
        Parameters(formEncoded: storage.body)
    }

    /// The media type without parameters and surrounding whitespace (RFC 9110 §8.3.1).
    static func mediaTypeEssence(_ value: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var end = 0
        while end < value.count, value[end] != 0x3B { end += 1 }
        while end > 0, ByteClass.isWhitespace(value[end - 1]) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: value[0..<end])
    }

    static func isJSONMediaType(_ value: UnsafeRawBufferPointer) -> Bool {
        let essence = mediaTypeEssence(value)
        guard let base = essence.baseAddress, essence.count > 0 else { return false }
        if ByteClass.equalsLowercase(base, essence.count, "application/json") { return true }
        // Structured syntax suffix (RFC 6839 §3.1), e.g. application/merge-patch+json.
        return essence.count > 17 && ByteClass.equalsLowercase(base, 12, "application/")
            && ByteClass.equalsLowercase(base + essence.count - 5, 5, "+json")
    }
}
