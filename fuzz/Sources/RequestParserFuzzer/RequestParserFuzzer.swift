// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import HTTP

/// libFuzzer entry point: parses the input as a request stream twice — in one piece and split at a
/// position chosen by the input — and traps when the two disagree. Any crash, hang, leak or
/// disagreement is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = RequestLimits(maxHeaderBytes: 2048, maxHeaderCount: 16, maxBodyBytes: 4096)

    let whole = summarize([bytes[...]], limits: limits)
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    let pieces = summarize([bytes[0..<split], bytes[split...]], limits: limits)
    let bytewise = size <= 512 ? summarize(bytes.map { [$0][...] }, limits: limits) : whole
    if whole != pieces || whole != bytewise {
        fatalError("parse results depend on how the input was split:\n\(whole)\n\(pieces)\n\(bytewise)")
    }
    return 0
}

/// Feeds `pieces` in order and describes every request (and the final error) in a comparable form.
private func summarize(_ pieces: [ArraySlice<UInt8>], limits: RequestLimits) -> [String] {
    var parser = RequestStreamParser(limits: limits)
    var summary: [String] = []
    for piece in pieces {
        parser.append(piece)
        do {
            while let request = try parser.next() {
                var line = "\(request.method.rawValue) \(request.target) \(request.path) \(request.keepAlive) \(request.body.count)"
                for (name, value) in request.headers { line += " \(name)=\(value)" }
                for (name, value) in request.query { line += " ?\(name)=\(value)" }
                _ = request.headers["content-type"]
                _ = request.isFormEncoded ? request.formFields().count : 0
                summary.append(line)
            }
        } catch {
            summary.append("error \(error.status) \(error.code)")
            return summary
        }
    }
    return summary
}
