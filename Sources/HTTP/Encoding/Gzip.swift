// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

internal import CZlib

/// gzip (RFC 1952) through zlib, for response compression and for modules that read or write
/// `.gz` data.
public enum Gzip {
    /// A zlib failure, with zlib's return code.
    public struct Failure: Error, CustomStringConvertible {
        public let code: Int32
        public let operation: String
        public var description: String { "\(operation) failed (zlib \(code))" }
    }

    /// Compresses `bytes` into a gzip member. `level` 1 (fast) … 9 (small); 6 is zlib's default.
    public static func compress(_ bytes: [UInt8], level: Int32 = 6) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16 selects the gzip wrapper instead of zlib's (zlib.h, deflateInit2).
        let status = atlas_deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
        guard status == Z_OK else { throw Failure(code: status, operation: "deflateInit2") }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(bytes.count)))
        var output = [UInt8](repeating: 0, count: bound)
        var result: Int32 = Z_OK
        let produced = bytes.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(out.count)
                result = deflate(&stream, Z_FINISH)
                return out.count - Int(stream.avail_out)
            }
        }
        guard result == Z_STREAM_END else { throw Failure(code: result, operation: "deflate") }
        output.removeSubrange(produced...)
        return output
    }

    /// Decompresses gzip (or zlib) data, refusing to produce more than `maxBytes` (a guard against
    /// decompression bombs).
    public static func decompress(_ bytes: [UInt8], maxBytes: Int = 64 << 20) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 32 detects a gzip or zlib header automatically.
        let status = atlas_inflateInit2(&stream, 15 + 32)
        guard status == Z_OK else { throw Failure(code: status, operation: "inflateInit2") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var result: Int32 = Z_OK
        var failure: Failure?
        bytes.withUnsafeBytes { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            repeat {
                let produced = chunk.withUnsafeMutableBytes { out in
                    stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
                    stream.avail_out = uInt(out.count)
                    result = inflate(&stream, Z_NO_FLUSH)
                    return out.count - Int(stream.avail_out)
                }
                guard result == Z_OK || result == Z_STREAM_END else {
                    failure = Failure(code: result, operation: "inflate")
                    return
                }
                guard output.count + produced <= maxBytes else {
                    failure = Failure(code: Z_BUF_ERROR, operation: "inflate (size limit)")
                    return
                }
                output.append(contentsOf: chunk[0..<produced])
                if result == Z_OK, produced == 0, stream.avail_in == 0 {
                    failure = Failure(code: Z_DATA_ERROR, operation: "inflate (truncated input)")
                    return
                }
            } while result != Z_STREAM_END
        }
        if let failure { throw failure }
        return output
    }
}
