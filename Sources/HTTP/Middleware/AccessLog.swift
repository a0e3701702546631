// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

public import HTTPTypes
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What the server knows about a request once its response exists; given to access-log sinks
/// and metrics recorders.
public struct CompletedRequest: Sendable {
    /// The request.
    public let request: Request
    /// Its context after the handler (request id, route template, tenant, extension values).
    public let context: RequestContext
    /// The response status.
    public let status: HTTPResponse.Status
    /// From the complete request head to the response being ready.
    public var duration: Duration { .nanoseconds(Int64(durationNanos)) }
    let durationNanos: UInt64

    init(request: Request, context: RequestContext, status: HTTPResponse.Status) {
        self.request = request
        self.context = context
        self.status = status
        self.durationNanos = SystemClock.monotonicNanos() &- context.startNanos
    }

    /// The route template for grouping, or `"unmatched"` when no route matched.
    public var route: String { context.route ?? "unmatched" }
}

/// Where access-log entries go. The Telemetry module may replace the default with its own.
public protocol AccessLogSink: Sendable {
    /// Records one request; called on event-loop or worker threads, possibly concurrently.
    func log(_ entry: CompletedRequest)
    /// Writes out what is buffered; each event loop calls it after a batch of events.
    func flush()
}

/// Writes one access-log line per request to the access-log sink:
/// `{"event":"api_request","path":…,"method":…,"status_code":…,"duration_ms":…,"tenant":…,"request_id":…}`.
public struct AccessLogMiddleware: Middleware {
    let sink: any AccessLogSink

    public init(sink: any AccessLogSink = StandardOutputAccessLog.shared) {
        self.sink = sink
    }

    public func after(_ request: Request, context: RequestContext, response: inout Response) {
        sink.log(CompletedRequest(request: request, context: context, status: response.status))
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

    public func log(_ entry: CompletedRequest) {
        let size = pending.withLock { buffer in
            Self.format(entry, into: &buffer)
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

    static func format(_ entry: CompletedRequest, into buffer: inout [UInt8]) {
        let storage = entry.request.storage
        append(#"{"event":"api_request","path":"#, to: &buffer)
        if storage.pathCount == 0 {
            append(#""/""#, to: &buffer)
        } else {
            JSONEscaping.appendString(storage.pathBytes, to: &buffer)
        }
        append(#","method":""#, to: &buffer)
        buffer.append(contentsOf: storage.method.rawValue.utf8)
        append(#"","status_code":"#, to: &buffer)
        appendDecimal(UInt64(entry.status.code), to: &buffer)
        append(#","duration_ms":"#, to: &buffer)
        let micros = entry.durationNanos / 1000
        appendDecimal(micros / 1000, to: &buffer)
        buffer.append(0x2E)
        let fraction = micros % 1000
        buffer.append(UInt8(0x30 + fraction / 100))
        buffer.append(UInt8(0x30 + fraction / 10 % 10))
        buffer.append(UInt8(0x30 + fraction % 10))
        append(#","tenant":"#, to: &buffer)
        if let tenant = entry.context.tenant {
            JSONEscaping.appendString(tenant.utf8, to: &buffer)
        } else {
            append("null", to: &buffer)
        }
        append(#","request_id":"#, to: &buffer)
        if let id = entry.context.requestID {
            JSONEscaping.appendString(id.utf8, to: &buffer)
        } else {
            append("null", to: &buffer)
        }
        append("}\n", to: &buffer)
    }

    @inline(__always) private static func append(_ text: StaticString, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private static func appendDecimal(_ value: UInt64, to buffer: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &buffer) }
        buffer.append(UInt8(0x30 + value % 10))
    }
}
