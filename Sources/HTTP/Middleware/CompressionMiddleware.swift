// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import HTTPTypes

/// gzip-compresses response bodies when the client accepts it and it is worth it: at least
/// ``minimumBytes``, a compressible content type (text, JSON, XML, JavaScript, SVG), no
/// `Content-Encoding` yet, and not a stream (an event stream must reach the client unbuffered).
/// Such responses also carry `Vary: Accept-Encoding` (RFC 9110 §12.5.5), compressed or not.
public struct CompressionMiddleware: Middleware {
    /// Bodies below this size are sent as they are.
    public let minimumBytes: Int
    /// zlib level, 1…9.
    public let level: Int32

    public init(minimumBytes: Int = 1024, level: Int32 = 5) {
        self.minimumBytes = minimumBytes
        self.level = level
    }

    public func after(_ request: Request, context: RequestContext, response: inout Response) {
        guard let bytes = response.body.bytes, bytes.count >= minimumBytes,
              response.status.code != 204, response.status.code != 304,
              response.headers[.contentEncoding] == nil,
              let contentType = response.headers[.contentType], Self.isCompressible(contentType)
        else { return }
        if let vary = response.headers[.vary] {
            if !vary.lowercased().contains("accept-encoding") { response.headers[.vary] = vary + ", Accept-Encoding" }
        } else {
            response.headers[.vary] = "Accept-Encoding"
        }
        guard let field = request.storage.firstField("accept-encoding"),
              Self.acceptsGzip(String(decoding: request.storage.value(field), as: UTF8.self)),
              let compressed = try? Gzip.compress(bytes, level: level), compressed.count < bytes.count
        else { return }
        response.body = .bytes(compressed)
        response.headers[.contentEncoding] = "gzip"
    }

    static func isCompressible(_ contentType: String) -> Bool {
        let type = contentType.lowercased()
        return type.hasPrefix("text/") || type.contains("json") || type.contains("xml")
            || type.contains("javascript") || type.hasPrefix("image/svg")
    }

    /// RFC 9110 §12.5.3: `gzip` (or `x-gzip`, or `*`) with a non-zero weight.
    static func acceptsGzip(_ header: String) -> Bool {
        var wildcard: Bool?
        for element in header.split(separator: ",") {
            let parts = element.split(separator: ";").map { trimmed($0).lowercased() }
            guard let coding = parts.first else { continue }
            var weight = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                weight = Double(parameter.dropFirst(2)) ?? 0
            }
            if coding == "gzip" || coding == "x-gzip" { return weight > 0 }
            if coding == "*" { wildcard = weight > 0 }
        }
        return wildcard ?? false
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var slice = text
        while slice.first == " " || slice.first == "\t" { slice = slice.dropFirst() }
        while slice.last == " " || slice.last == "\t" { slice = slice.dropLast() }
        return slice
    }
}
