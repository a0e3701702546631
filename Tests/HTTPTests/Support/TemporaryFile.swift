// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real file in the temporary directory, removed on deinit.
final class TemporaryFile: @unchecked Sendable {
    let path: String
    let fd: Int32

    init() throws {
        path = NSTemporaryDirectory() + "atlas-http-\(UUID().uuidString)"
        fd = open(path, O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TestClientError(description: "open \(path): errno \(errno)") }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    func contents() throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }
}
