// Atlas — AtlasTestSupport
// SPDX-License-Identifier: Apache-2.0

public import Foundation
public import HTTP
public import HTTPTypes
import Synchronization

/// Decodes an `ExportTraceServiceRequest` with the opentelemetry-proto package and prints its
/// spans as JSON.
let otlpTraceDecodeScript = """
import sys, json
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
request = ExportTraceServiceRequest()
request.ParseFromString(sys.stdin.buffer.read())
def value(v):
    kind = v.WhichOneof("value")
    return str(getattr(v, kind)) if kind else ""
out = []
for rs in request.resource_spans:
    resource = {kv.key: value(kv.value) for kv in rs.resource.attributes}
    for ss in rs.scope_spans:
        for s in ss.spans:
            out.append({"traceID": s.trace_id.hex(), "spanID": s.span_id.hex(), "parentID": s.parent_span_id.hex(),
                        "traceState": s.trace_state, "name": s.name, "kind": s.kind, "status": s.status.code, "service": resource.get("service.name", ""),
                        "attributes": {kv.key: value(kv.value) for kv in s.attributes},
                        "events": [e.name for e in s.events], "ordered": s.end_time_unix_nano >= s.start_time_unix_nano > 0})
print(json.dumps(out))
"""

public struct DecodedSpan: Decodable, Sendable {
    public var traceID: String
    public var spanID: String
    public var parentID: String
    public var traceState: String
    public var name: String
    public var kind: Int
    public var status: Int
    public var service: String
    public var attributes: [String: String]
    public var events: [String]
    public var ordered: Bool
}

/// A stand-in OTLP/HTTP collector on 127.0.0.1 that keeps every body posted to `/v1/traces`
/// and answers with the statuses in `script` first, then 200.
public final class Collector: Sendable {
    final class State: Sendable {
        let bodies = Mutex<[[UInt8]]>([])
        let contentTypes = Mutex<[String]>([])
        let received = Atomic<Int>(0)
        let script: Mutex<[HTTPResponse.Status]>
        init(script: [HTTPResponse.Status]) { self.script = Mutex(script) }
    }
    let state: State
    let server: HTTPServer

    public init(script: [HTTPResponse.Status] = [], delay: Duration? = nil, path: String = "/v1/traces") {
        let state = State(script: script)
        self.state = state
        let router = Router()
        server = HTTPServer(router: router, configuration: .init(host: "127.0.0.1", port: 0, eventLoops: 1, workerThreads: 0,
                                                                  shutdownTimeout: .milliseconds(200)))
        _ = router.post(path, maxBodyBytes: 8 << 20) { request, _ in
            state.received.add(1, ordering: .relaxed)
            if let delay { try? await Task.sleep(for: delay) }
            let status = state.script.withLock { $0.isEmpty ? HTTPResponse.Status.ok : $0.removeFirst() }
            if status == .ok {
                state.bodies.withLock { $0.append(request.body) }
                state.contentTypes.withLock { $0.append(request.headers["Content-Type"] ?? "") }
            }
            return Response.empty(status: status)
        }
    }

    public var contentTypes: [String] { state.contentTypes.withLock { $0 } }
    public var bodies: [[UInt8]] { state.bodies.withLock { $0 } }
    public var received: Int { state.received.load(ordering: .relaxed) }
    public var scriptDone: Bool { state.script.withLock { $0.isEmpty } }

    public func start() async throws -> URL {
        let server = self.server
        Task { try await server.run() }
        return URL(string: "http://127.0.0.1:\(try await server.listeningPort)")!
    }

    public func stop() { server.shutdownGracefully() }

    public func decoded() throws -> [DecodedSpan] {
        try bodies.flatMap(decodeOTLPTraces)
    }
}

/// The spans of one protobuf `ExportTraceServiceRequest`, decoded by opentelemetry-proto.
public func decodeOTLPTraces(_ body: [UInt8]) throws -> [DecodedSpan] {
    try JSONDecoder().decode([DecodedSpan].self, from: Data(try runPython(otlpTraceDecodeScript, input: Data(body)).utf8))
}

/// Runs `python3 -c script` with `input` on stdin and returns stdout; throws with stderr on failure.
public func runPython(_ script: String, input: Data) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    stdin.fileHandleForWriting.write(input)
    try stdin.fileHandleForWriting.close()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    let errors = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw PythonFailure(message: String(decoding: errors, as: UTF8.self))
    }
    return String(decoding: output, as: UTF8.self)
}

public struct PythonFailure: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}
