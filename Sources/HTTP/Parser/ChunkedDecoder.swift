// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

/// Decodes a chunked request body (RFC 9112 §7.1) incrementally, appending data to `body`.
///
/// Chunk extensions are checked for legal bytes and skipped (§7.1.1 lets a recipient ignore
/// unrecognised ones); trailer fields are validated as field lines and discarded (RFC 9110 §6.5.1).
/// Extension and trailer bytes together count against the header size limit so that a body
/// cannot carry unbounded framing.
struct ChunkedDecoder {
    private enum Phase {
        case size, sizeWhitespace, extensions, sizeLF
        case data, dataCR, dataLF
        case trailerLineStart, trailerName, trailerValue, trailerLF, finalLF
        case done
    }

    private var phase = Phase.size
    private var chunkSize: UInt64 = 0
    private var digits = 0
    private var overheadBytes = 0
    private var trailerCount = 0
    /// Data bytes decoded so far; the body buffer may have been drained by a streaming consumer.
    private var decodedBytes = 0

    enum Result { case needMore, done, failure(HTTPParseError) }

    /// Consumes as much of `input` as belongs to the body; returns how much and the state reached.
    mutating func decode(_ input: UnsafeRawBufferPointer, into body: inout [UInt8],
                         limits: RequestLimits, maxBody: Int) -> (consumed: Int, result: Result) {
        var i = 0
        let count = input.count
        while i < count {
            let byte = input[i]
            switch phase {
            case .size:
                if let nibble = ByteClass.hexValue(byte) {
                    // 16 significant hex digits fill a UInt64; anything past that overflows.
                    guard chunkSize >> 60 == 0, digits < 64 else { return (i, .failure(.invalidChunkSize)) }
                    chunkSize = chunkSize << 4 | UInt64(nibble)
                    digits += 1
                    i += 1
                    continue
                }
                guard digits > 0 else { return (i, .failure(.invalidChunkSize)) }
                if chunkSize > UInt64(maxBody - decodedBytes) { return (i, .failure(.bodyTooLarge)) }
                switch byte {
                case 0x3B: phase = .extensions
                case ByteClass.space, ByteClass.tab: phase = .sizeWhitespace
                case ByteClass.cr: phase = .sizeLF
                default: return (i, .failure(.invalidChunkSize))
                }
                i += 1
            case .sizeWhitespace:
                // chunk-ext = *( BWS ";" ... ): only whitespace may precede the semicolon.
                switch byte {
                case 0x3B: phase = .extensions
                case ByteClass.space, ByteClass.tab: break
                default: return (i, .failure(.invalidChunkSize))
                }
                i += 1
            case .extensions:
                if byte == ByteClass.cr {
                    phase = .sizeLF
                } else if !ByteClass.isFieldValue(byte) {
                    return (i, .failure(.invalidChunk))
                }
                overheadBytes += 1
                if overheadBytes > limits.maxHeaderBytes { return (i, .failure(.headerTooLarge)) }
                i += 1
            case .sizeLF:
                guard byte == ByteClass.lf else { return (i, .failure(.invalidChunk)) }
                i += 1
                if chunkSize == 0 {
                    phase = .trailerLineStart
                } else {
                    phase = .data
                    let take = Int(Swift.min(chunkSize, UInt64(count - i)))
                    if take > 0 {
                        body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[i..<(i + take)]))
                        decodedBytes += take
                        chunkSize -= UInt64(take)
                        i += take
                    }
                    if chunkSize == 0 { phase = .dataCR }
                }
            case .data:
                let take = Int(Swift.min(chunkSize, UInt64(count - i)))
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[i..<(i + take)]))
                decodedBytes += take
                chunkSize -= UInt64(take)
                i += take
                if chunkSize == 0 { phase = .dataCR }
            case .dataCR:
                guard byte == ByteClass.cr else { return (i, .failure(.invalidChunk)) }
                phase = .dataLF
                i += 1
            case .dataLF:
                guard byte == ByteClass.lf else { return (i, .failure(.invalidChunk)) }
                phase = .size
                digits = 0
                i += 1
            case .trailerLineStart:
                if byte == ByteClass.cr {
                    phase = .finalLF
                } else if ByteClass.isToken(byte) {
                    phase = .trailerName
                } else {
                    // Leading whitespace would be obs-fold (RFC 9112 §5.2); anything else is not a field.
                    return (i, .failure(.invalidTrailer))
                }
                overheadBytes += 1
                i += 1
            case .trailerName:
                if byte == ByteClass.colon {
                    trailerCount += 1
                    if trailerCount > limits.maxHeaderCount { return (i, .failure(.tooManyHeaders)) }
                    phase = .trailerValue
                } else if !ByteClass.isToken(byte) {
                    return (i, .failure(.invalidTrailer))
                }
                overheadBytes += 1
                i += 1
            case .trailerValue:
                if byte == ByteClass.cr {
                    phase = .trailerLF
                } else if !ByteClass.isFieldValue(byte) {
                    return (i, .failure(.invalidTrailer))
                }
                overheadBytes += 1
                i += 1
            case .trailerLF:
                guard byte == ByteClass.lf else { return (i, .failure(.invalidTrailer)) }
                phase = .trailerLineStart
                overheadBytes += 1
                i += 1
            case .finalLF:
                guard byte == ByteClass.lf else { return (i, .failure(.invalidChunk)) }
                phase = .done
                return (i + 1, .done)
            case .done:
                return (i, .done)
            }
            if overheadBytes > limits.maxHeaderBytes { return (i, .failure(.headerTooLarge)) }
        }
        return (i, phase == .done ? .done : .needMore)
    }
}
