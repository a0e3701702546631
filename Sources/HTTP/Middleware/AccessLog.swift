// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

public import HTTPTypes
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where access-log entries go. The Telemetry module may replace the default with its own.
///
/// Entries arrive as plain arguments (no per-request record is built), on event-loop or worker
/// threads, possibly concurrently.
public protocol AccessLogSink: AnyObject, Sendable {
    /// Records one request. `duration` runs from the complete request head to the response.
    func log(_ request: Request, context: RequestContext, status: HTTPResponse.Status, duration: Duration)
    /// Writes out what is buffered; each event loop calls it after a batch of events.
    func flush()
}

/// Writes one access-log line per request to the access-log sink:
/// `{"event":"api_request","path":…,"method":…,"status_code":…,"duration_ms":…,"tenant":…,"request_id":…,"trace_id":…,"span_id":…}`.
public struct AccessLogMiddleware: Middleware {
    let sink: any AccessLogSink

    public init(sink: any AccessLogSink = StandardOutputAccessLog.shared) {
        self.sink = sink
    }

    public func after(_ request: Request, context: RequestContext, response: inout Response) {
        sink.log(request, context: context, status: response.status, duration: context.elapsed)
    }

    public func flush() {
        sink.flush()
    }
}

/// The default access-log sink: JSON lines buffered in memory and written to a file descriptor
/// (stdout) once per event-loop batch, not once per request.
public final class StandardOutputAccessLog: AccessLogSink {
    /// The process's sink for standard output.
    public static let shared = StandardOutputAccessLog(fileDescriptor: 1)

    private let fileDescriptor: Int32
    private let pending = Mutex<[UInt8]>([])
    // Holds the spare buffer and serialises writers, so lines from two loops never interleave
    // and neither buffer is reallocated in steady state.
    private let writer = Mutex<[UInt8]>([])

    /// A sink writing to `fileDescriptor` (1 = stdout).
    public init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
        pending.withLock { $0.reserveCapacity(64 * 1024) }
        writer.withLock { $0.reserveCapacity(64 * 1024) }
    }

    public func log(_ request: Request, context: RequestContext, status: HTTPResponse.Status, duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let micros = UInt64(max(0, seconds)) &* 1_000_000 &+ UInt64(max(0, attoseconds) / 1_000_000_000_000)
        let size = pending.withLock { buffer in
            Self.format(request, context, status.code, micros, into: &buffer)
            return buffer.count
        }
        if size > 1 << 20 { flush() }
    }

    public func flush() {
        writer.withLock { spare in
            pending.withLock { swap(&$0, &spare) }
            guard !spare.isEmpty else { return }
            spare.withUnsafeBytes { bytes in
                var offset = 0
                var attempts = 0
                while offset < bytes.count, attempts < 100 {
                    let written = Glibc.write(fileDescriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0, errno == EINTR || errno == EAGAIN {
                        attempts += 1
                    } else {
                        break
                    }
                }
            }
            spare.removeAll(keepingCapacity: true)
        }
    }

    static func format(_ request: Request, _ context: RequestContext, _ status: Int, _ micros: UInt64,
                       into buffer: inout [UInt8]) {
        let storage = request.storage
        append(#"{"event":"api_request","path":"#, to: &buffer)
        if storage.pathCount == 0 {
            append(#""/""#, to: &buffer)
        } else {
            JSONEscaping.appendString(storage.pathBytes, to: &buffer)
        }
        append(#","method":"#, to: &buffer)
        JSONEscaping.appendString(storage.method.rawValue, to: &buffer)
        append(#","status_code":"#, to: &buffer)
        JSONEscaping.appendDecimal(UInt64(max(0, status)), to: &buffer)
        append(#","duration_ms":"#, to: &buffer)
        JSONEscaping.appendDecimal(micros / 1000, to: &buffer)
        let fraction = micros % 1000
        buffer.append(0x2E)
        buffer.append(UInt8(truncatingIfNeeded: 0x30 + fraction / 100))
        buffer.append(UInt8(truncatingIfNeeded: 0x30 + fraction / 10 % 10))
        buffer.append(UInt8(truncatingIfNeeded: 0x30 + fraction % 10))
        append(#","tenant":"#, to: &buffer)
        if let tenant = context.tenant {
            JSONEscaping.appendString(tenant, to: &buffer)
        } else {
            append("null", to: &buffer)
        }
        append(#","request_id":"#, to: &buffer)
        if let id = context.requestID {
            JSONEscaping.appendString(id, to: &buffer)
        } else {
            append("null", to: &buffer)
        }
        append(#","trace_id":"#, to: &buffer)
        if let trace = context.traceIDText {
            JSONEscaping.appendString(trace, to: &buffer)
        } else if let trace = context.trace {
            buffer.append(0x22)
            HexText.append(trace.traceHigh, trace.traceLow, to: &buffer)
            buffer.append(0x22)
        } else {
            append("null", to: &buffer)
        }
        append(#","span_id":"#, to: &buffer)
        if let span = context.spanIDText {
            JSONEscaping.appendString(span, to: &buffer)
        } else if let trace = context.trace {
            buffer.append(0x22)
            HexText.append(trace.spanID, to: &buffer)
            buffer.append(0x22)
        } else {
            append("null", to: &buffer)
        }
        append("}\n", to: &buffer)
    }

    @inline(__always) private static func append(_ text: StaticString, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
