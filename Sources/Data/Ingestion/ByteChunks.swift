// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Byte chunks already in memory, as an async sequence: today's request bodies arrive whole and
/// are fed to the incremental parsers as one chunk.
public struct ByteChunks: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    let chunks: [[UInt8]]

    public init(_ chunks: [[UInt8]]) { self.chunks = chunks }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: IndexingIterator<[[UInt8]]>
        public mutating func next() async -> [UInt8]? { base.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: chunks.makeIterator()) }
}

/// A file read in fixed-size chunks, so a large file is never held in memory whole.
public struct FileChunks: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    let path: String
    let chunkSize: Int

    public init(path: String, chunkSize: Int = 1 << 20) {
        self.path = path
        self.chunkSize = chunkSize
    }

    public final class AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?
        let chunkSize: Int
        var failure: (any Error)?

        init(path: String, chunkSize: Int) {
            self.chunkSize = chunkSize
            do {
                handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            } catch {
                handle = nil
                failure = error
            }
        }

        deinit { try? handle?.close() }

        public func next() async throws -> [UInt8]? {
            if let failure { throw failure }
            guard let handle, let data = try handle.read(upToCount: chunkSize), !data.isEmpty else { return nil }
            return [UInt8](data)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(path: path, chunkSize: chunkSize) }
}
