// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
import Core
import Foundation
import HTTP
import HTTPTypes
import Instrumentation
import Synchronization
import Testing
import Tracing
import W3CTraceContext
@testable import Telemetry


@Suite(.serialized) struct TracingTests {
    func appRouter(_ telemetry: TelemetryModule) -> Router {
        let router = Router()
        router.useStandardMiddleware(configuration: HTTPServer.Configuration(), accessLog: nil,
                                     metrics: telemetry.metricsRecorder, compression: false)
        telemetry.installMiddleware(on: router)
        let tracer = telemetry.tracer!
        _ = router.get("/tenants/{tenant}/report") { _, context in
            context.tenant = "acme"
            tracer.withSpan("storage.query", context: context.instrumentationContext, ofKind: .client) { span in
                span.attributes["db.system"] = "sqlite"
                tracer.withSpan("graph.node", context: span.context) { node in
                    node.addEvent("cache.miss")
                }
            }
            return Response.text("ok")
        }
        return router
    }

    @Test func exportsRequestSpanAndChildren_AsOTLPProtobuf_ContinuingIncomingTrace() async throws {
        let collector = Collector()
        let endpoint = try await collector.start()
        defer { collector.stop() }
        let telemetry = try TelemetryModule(environment: EnvironmentReader(["ATLAS_OTLP_ENDPOINT": endpoint.absoluteString]))
        let router = appRouter(telemetry)
        let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let response = await router.respond(to: try Request(
            method: .get, target: "/tenants/acme/report",
            headers: [HTTPField.Name("traceparent")!: incoming, HTTPField.Name("tracestate")!: "congo=t61rcWkgMzE"]))
        #expect(response.status == .ok)
        await telemetry.traceExporter!.flush()

        #expect(collector.contentTypes == ["application/x-protobuf"])
        let spans = try collector.decoded()
        try #require(spans.count == 3)
        let server = try #require(spans.first { $0.kind == 2 })
        let query = try #require(spans.first { $0.name == "storage.query" })
        let node = try #require(spans.first { $0.name == "graph.node" })
        #expect(Set(spans.map(\.traceID)) == ["4bf92f3577b34da6a3ce929d0e0e4736"])
        #expect(Set(spans.map(\.traceState)) == ["congo=t61rcWkgMzE"])
        #expect(server.parentID == "00f067aa0ba902b7")
        #expect(server.name == "GET /tenants/{tenant}/report")
        #expect(server.attributes["http.request.method"] == "GET")
        #expect(server.attributes["http.route"] == "/tenants/{tenant}/report")
        #expect(server.attributes["http.response.status_code"] == "200")
        #expect(server.attributes["atlas.tenant"] == "acme")
        #expect(server.service == "atlas")
        #expect(response.headers[HTTPField.Name("X-Request-ID")!] != nil)
        #expect(server.attributes["atlas.request_id"] == response.headers[HTTPField.Name("X-Request-ID")!])
        #expect(query.parentID == server.spanID && query.kind == 3 && query.attributes["db.system"] == "sqlite")
        #expect(node.parentID == query.spanID && node.events == ["cache.miss"])
        #expect(spans.allSatisfy { $0.ordered })
    }

    /// Request spans of every shape the compact encoder writes (with and without a remote parent,
    /// route, tenant; long paths; 2xx, 4xx and 5xx) decode with the reference decoder.
    @Test func requestSpansOfEveryShape_DecodeWithTheReferenceDecoder() async throws {
        let queue = SpanQueue(capacity: 64, batchSize: 64)
        let tracer = AtlasTracer(queue: queue)
        let router = Router()
        router.use(RequestIDMiddleware())
        router.use(TracingMiddleware(tracer: tracer))
        _ = router.get("/tenants/{tenant}/items/{id}") { _, context in
            context.tenant = try context.parameters.require("tenant")
            let id = try context.parameters.require("id")
            if id == "boom" { return .problem(status: .internalServerError, code: "boom", detail: "failed", requestID: nil) }
            if id == "gone" { return .problem(status: .notFound, code: "gone", detail: "no such item", requestID: nil) }
            return Response.text("ok")
        }
        let long = String(repeating: "x", count: 300)
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        _ = await router.respond(to: try Request(method: .get, target: "/tenants/acme/items/1"))
        _ = await router.respond(to: try Request(method: .get, target: "/tenants/acme/items/\(long)",
                                                 headers: [HTTPField.Name("traceparent")!: parent]))
        _ = await router.respond(to: try Request(method: .get, target: "/tenants/acme/items/boom"))
        _ = await router.respond(to: try Request(method: .get, target: "/tenants/acme/items/gone"))
        _ = await router.respond(to: try Request(method: .delete, target: "/nowhere"))
        // A method without a static name takes the general encoder.
        _ = await router.respond(to: try Request(method: try #require(HTTPRequest.Method("PURGE")), target: "/nowhere"))
        let spans = try decoded(queue.take())
        try #require(spans.count == 6)
        #expect(spans.map(\.name) == ["GET /tenants/{tenant}/items/{id}", "GET /tenants/{tenant}/items/{id}",
                                       "GET /tenants/{tenant}/items/{id}", "GET /tenants/{tenant}/items/{id}", "DELETE", "PURGE"])
        #expect(spans.map(\.status) == [0, 0, 2, 0, 0, 0])
        #expect(spans.map { $0.attributes["http.response.status_code"] } == ["200", "200", "500", "404", "404", "404"])
        #expect(spans[5].attributes["http.request.method"] == "PURGE" && spans[5].attributes["url.path"] == "/nowhere")
        #expect(spans[1].attributes["url.path"] == "/tenants/acme/items/\(long)")
        #expect(spans[1].traceID == "4bf92f3577b34da6a3ce929d0e0e4736" && spans[1].parentID == "00f067aa0ba902b7")
        #expect(spans[0].parentID == "" && spans[0].attributes["atlas.tenant"] == "acme")
        #expect(spans[4].attributes["http.route"] == nil && spans[4].attributes["atlas.tenant"] == nil)
        #expect(spans.allSatisfy { $0.kind == 2 && $0.ordered && $0.attributes["atlas.request_id"]?.count == 13 })
    }

    @Test func aiSpansGoToTheirOwnCollector_WhenATLAS_AI_OTLP_ENDPOINTIsSet() async throws {
        let general = Collector()
        let ai = Collector()
        let generalURL = try await general.start()
        let aiURL = try await ai.start()
        defer { general.stop(); ai.stop() }
        let telemetry = try TelemetryModule(environment: EnvironmentReader([
            "ATLAS_OTLP_ENDPOINT": generalURL.absoluteString, "ATLAS_AI_OTLP_ENDPOINT": aiURL.absoluteString]))
        let tracer = try #require(telemetry.tracer)
        let router = Router()
        telemetry.installMiddleware(on: router)
        _ = router.get("/ask") { _, context in
            tracer.withSpan("ai.llm.call", context: context.instrumentationContext, ofKind: .client) { _ in }
            return Response.text("ok")
        }
        _ = await router.respond(to: try Request(method: .get, target: "/ask"))
        await telemetry.traceExporter!.flush()
        await telemetry.aiTraceExporter!.flush()
        let generalSpans = try general.decoded()
        let aiSpans = try ai.decoded()
        #expect(generalSpans.map(\.name) == ["GET /ask"])
        #expect(aiSpans.map(\.name) == ["ai.llm.call"])
        // One trace across both collectors: the AI span is the request span's child.
        #expect(aiSpans.first?.parentID == generalSpans.first?.spanID)
        #expect(aiSpans.first?.traceID == generalSpans.first?.traceID)
    }

    @Test func onlyAISpansLeave_WhenOnlyTheAIEndpointIsSet() async throws {
        let ai = Collector()
        let aiURL = try await ai.start()
        defer { ai.stop() }
        let telemetry = try TelemetryModule(environment: EnvironmentReader(["ATLAS_AI_OTLP_ENDPOINT": aiURL.absoluteString]))
        let tracer = try #require(telemetry.tracer)
        #expect(telemetry.traceExporter == nil)
        let router = Router()
        telemetry.installMiddleware(on: router)
        _ = router.get("/ask") { _, context in
            tracer.withSpan("ai.graph.node", context: context.instrumentationContext) { _ in }
            return Response.text("ok")
        }
        _ = await router.respond(to: try Request(method: .get, target: "/ask"))
        await telemetry.aiTraceExporter!.flush()
        #expect(try ai.decoded().map(\.name) == ["ai.graph.node"])
        #expect(tracer.queue.count == 0 && tracer.queue.dropped == 0)
    }

    @Test func sampleRatioZero_RecordsNothingNew_ButFollowsASampledCaller() async throws {
        let collector = Collector()
        let endpoint = try await collector.start()
        defer { collector.stop() }
        let telemetry = try TelemetryModule(environment: EnvironmentReader([
            "ATLAS_OTLP_ENDPOINT": endpoint.absoluteString, "ATLAS_OTLP_SAMPLE_RATIO": "0"]))
        let router = appRouter(telemetry)
        // A new trace is not sampled: ids exist (logs, propagation), nothing is exported.
        _ = await router.respond(to: try Request(method: .get, target: "/tenants/acme/report"))
        #expect(telemetry.tracer!.queue.count == 0)
        // A caller that sampled its trace gets the whole trace recorded.
        _ = await router.respond(to: try Request(
            method: .get, target: "/tenants/acme/report",
            headers: [HTTPField.Name("traceparent")!: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]))
        await telemetry.traceExporter!.flush()
        let spans = try collector.decoded()
        #expect(spans.count == 3)
        #expect(Set(spans.map(\.traceID)) == ["4bf92f3577b34da6a3ce929d0e0e4736"])
        #expect(throws: ConfigurationError.self) {
            try TelemetryModule(environment: EnvironmentReader(["ATLAS_OTLP_ENDPOINT": "http://x:4318", "ATLAS_OTLP_SAMPLE_RATIO": "2"]))
        }
    }

    @Test func unsampledSpanPropagatesFlagsZero() throws {
        let tracer = AtlasTracer(queue: SpanQueue(capacity: 4), sampleRatio: 0)
        let span = tracer.startSpan("llm.call", context: .topLevel, ofKind: .client, at: DefaultTracerClock.now,
                                    function: #function, file: #fileID, line: #line)
        var headers: [String: String] = [:]
        tracer.inject(span.context, into: &headers, using: DictionaryInjector())
        #expect(try #require(headers["traceparent"]).hasSuffix("-00"))
        #expect(!span.isRecording)
        span.end()
        #expect(tracer.queue.count == 0)
    }

    @Test func accessLogSeesTraceAndSpanID_OfTheRequestSpan() async throws {
        final class Sink: AccessLogSink {
            let traceIDs = Mutex<[String?]>([])
            let spanIDs = Mutex<[String?]>([])
            func log(_ request: Request, context: RequestContext, status: HTTPResponse.Status, duration: Duration) {
                traceIDs.withLock { $0.append(context.traceID) }
                spanIDs.withLock { $0.append(context.spanID) }
            }
            func flush() {}
        }
        let sink = Sink()
        let telemetry = try TelemetryModule(environment: EnvironmentReader(["ATLAS_OTLP_ENDPOINT": "http://127.0.0.1:9"]))
        let router = Router()
        router.useStandardMiddleware(configuration: HTTPServer.Configuration(), accessLog: sink,
                                     metrics: telemetry.metricsRecorder, compression: false)
        telemetry.installMiddleware(on: router)
        _ = router.get("/health/live") { _, _ in Response.text("ok") }
        _ = await router.respond(to: try Request(
            method: .get, target: "/health/live",
            headers: [HTTPField.Name("traceparent")!: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]))
        #expect(sink.traceIDs.withLock { $0 } == ["4bf92f3577b34da6a3ce929d0e0e4736"])
        // The server span is a child of the caller's span: a new id, not the incoming one.
        let spanID = try #require(sink.spanIDs.withLock { $0 }.first ?? nil)
        #expect(spanID.count == 16 && spanID != "00f067aa0ba902b7")
    }

    /// The spans of a batch taken from a queue, decoded as the collector would.
    func decoded(_ batch: SpanBatch?) throws -> [DecodedSpan] {
        guard let batch else { return [] }
        return try decodeOTLPTraces(OTLPTraceEncoder.protobuf(batch, resource: []))
    }

    /// Starts and ends a root span named `name`, with a `payload` attribute of that many bytes.
    func recordSpan(_ tracer: AtlasTracer, _ name: String, payload: Int = 0) {
        let span = tracer.startSpan(name, context: .topLevel, ofKind: .internal, at: DefaultTracerClock.now,
                                    function: #function, file: #fileID, line: #line)
        if payload > 0 { span.attributes["payload"] = String(repeating: "x", count: payload) }
        span.end(at: DefaultTracerClock.now)
    }

    /// Generators reserve steps of one shared counter: draws from many generators on many
    /// threads at once, some using fewer steps than they reserved, are all distinct.
    @Test func spanIDGeneratorsNeverDrawTheSameValue() async {
        let draws = await withTaskGroup(of: [UInt64].self) { group in
            for task in 0..<4 {
                group.addTask {
                    var values: [UInt64] = []
                    for round in 0..<5_000 {
                        var ids = SpanIDGenerator()
                        for _ in 0...((task + round) % 5) { values.append(ids.next()) }
                    }
                    return values
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(draws.count == 4 * 5_000 * 3 && Set(draws).count == draws.count)
    }

    @Test func spanQueueSealsBatchesInArrivalOrder_AndDropsWhenFull() throws {
        let queue = SpanQueue(capacity: 8, batchSize: 3)
        let sealed = Atomic<Int>(0)
        queue.notify { sealed.add(1, ordering: .relaxed) }
        let tracer = AtlasTracer(queue: queue)
        func record(_ names: [String]) { for name in names { recordSpan(tracer, name) } }
        record((0..<10).map { "s\($0)" })
        #expect(queue.count == 8 && queue.dropped == 2 && queue.enqueued == 8)
        #expect(sealed.load(ordering: .relaxed) == 2 && queue.hasFullBatch)
        #expect(try decoded(queue.take()).map(\.name) == ["s0", "s1", "s2"])
        #expect(try decoded(queue.take()).map(\.name) == ["s3", "s4", "s5"])
        #expect(!queue.hasFullBatch && queue.count == 2)
        record((0..<8).map { "t\($0)" })
        #expect(queue.count == 8 && queue.dropped == 4)
        #expect(try decoded(queue.take()).map(\.name) == ["s6", "s7", "t0"])
        #expect(try decoded(queue.take()).map(\.name) == ["t1", "t2", "t3"])
        // The batch still filling goes out as it is.
        #expect(try decoded(queue.take()).map(\.name) == ["t4", "t5"])
        #expect(queue.count == 0 && queue.take() == nil)
    }

    @Test func spanQueueSealsABatchEarly_WhenItsBytesReachTheLimit() throws {
        let queue = SpanQueue(capacity: 100, batchSize: 50, maxBatchBytes: 1024)
        let tracer = AtlasTracer(queue: queue)
        for index in 0..<3 { recordSpan(tracer, "big\(index)", payload: 600) }
        #expect(try decoded(queue.take()).map(\.name) == ["big0", "big1"])
        #expect(try decoded(queue.take()).map(\.name) == ["big2"])
    }

    @Test func spanQueueDropsSpans_WhileItsSealedBatchesHoldTheByteLimit() throws {
        let queue = SpanQueue(capacity: 1_000, batchSize: 50, maxBatchBytes: 4096, maxQueuedBytes: 8192)
        let tracer = AtlasTracer(queue: queue)
        for index in 0..<40 { recordSpan(tracer, "big\(index)", payload: 1_000) }
        // Each batch seals at 4 KiB (four or five spans); once two sealed batches hold 8 KiB,
        // spans are dropped, whatever the span count allows.
        #expect(queue.dropped > 25 && queue.enqueued + queue.dropped == 40)
        var taken = 0
        while let batch = queue.take() { taken += try decoded(batch).count }
        #expect(taken == queue.enqueued)
        recordSpan(tracer, "after")
        #expect(try decoded(queue.take()).map(\.name) == ["after"])
    }

    @Test func injectsTraceparent_ForOutgoingCalls() throws {
        let tracer = AtlasTracer(queue: SpanQueue(capacity: 4))
        let span = tracer.startSpan("llm.call", context: .topLevel, ofKind: .client, at: DefaultTracerClock.now,
                                    function: #function, file: #fileID, line: #line)
        var headers: [String: String] = [:]
        tracer.inject(span.context, into: &headers, using: DictionaryInjector())
        let parsed = try TraceContext(traceParentHeaderValue: try #require(headers["traceparent"]))
        #expect(parsed.spanID == span.traceContext.spanID)
        #expect(parsed.traceID == span.traceContext.traceID)
    }

    @Test func ignoresMalformedTraceparent_AndStartsANewTrace() async throws {
        let telemetry = try TelemetryModule(environment: EnvironmentReader(["ATLAS_OTLP_ENDPOINT": "http://127.0.0.1:9"]))
        let router = appRouter(telemetry)
        let response = await router.respond(to: try Request(
            method: .get, target: "/tenants/acme/report", headers: [HTTPField.Name("traceparent")!: "00-zzzz-01"]))
        #expect(response.status == .ok)
        let spans = try decoded(telemetry.tracer!.queue.take())
        #expect(spans.count == 3)
        #expect(spans.first { $0.kind == 2 }?.parentID == "")
    }

    @Test func retriesOn503_ThenDelivers() async throws {
        let collector = Collector(script: [.serviceUnavailable, .tooManyRequests])
        let endpoint = try await collector.start()
        defer { collector.stop() }
        let queue = SpanQueue(capacity: 16, batchSize: 1)
        let exporter = OTLPTraceExporter(endpoint: endpoint, queue: queue, interval: .milliseconds(100),
                                         initialBackoff: .milliseconds(50))
        #expect(exporter.poster.client?.scheme == .http, "a plain-http collector is reached over the kept-alive socket client")
        let tracer = AtlasTracer(queue: queue)
        tracer.startSpan("job", context: .topLevel, ofKind: .internal, at: DefaultTracerClock.now,
                         function: #function, file: #fileID, line: #line).end(at: DefaultTracerClock.now)
        let running = Task { try await exporter.run() }
        let deadline = ContinuousClock.now + .seconds(10)
        while exporter.exported == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        running.cancel()
        _ = try? await running.value
        #expect(exporter.exported == 1)
        #expect(collector.scriptDone)
        #expect(try collector.decoded().map(\.name) == ["job"])
    }

    @Test func httpsCollectorsGoThroughTheSameClientOverTLS() {
        let exporter = OTLPTraceExporter(endpoint: URL(string: "https://collector.example:4318")!, queue: SpanQueue(capacity: 1))
        #expect(exporter.poster.client?.scheme == .https)
        #expect(exporter.poster.client?.port == 4318)
        #expect(exporter.url.absoluteString == "https://collector.example:4318/v1/traces")
    }

    /// Full batches leave back to back: waiting between them would cap export at a batch per
    /// wake-up (here 60 batches would need 6 s at one per 100 ms).
    @Test func fullBatchesAreExportedWithoutWaitingBetweenThem() async throws {
        let collector = Collector()
        let endpoint = try await collector.start()
        defer { collector.stop() }
        let queue = SpanQueue(capacity: 1_000, batchSize: 10)
        let exporter = OTLPTraceExporter(endpoint: endpoint, queue: queue, interval: .seconds(60))
        let tracer = AtlasTracer(queue: queue)
        for _ in 0..<600 {
            tracer.startSpan("job", context: .topLevel, ofKind: .internal, at: DefaultTracerClock.now,
                             function: #function, file: #fileID, line: #line).end(at: DefaultTracerClock.now)
        }
        let clock = ContinuousClock()
        let started = clock.now
        let running = Task { try await exporter.run() }
        let deadline = started + .seconds(20)
        while exporter.exported < 600, clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let elapsed = clock.now - started
        running.cancel()
        _ = try? await running.value
        #expect(exporter.exported == 600)
        #expect(collector.received == 60)
        #expect(elapsed < .seconds(4), "60 batches took \(elapsed)")
    }

    @Test func deadCollector_NeverBlocksRecording_AndQueueStaysBounded() async throws {
        // Port 9 (discard) on loopback has no listener here: connections are refused.
        let queue = SpanQueue(capacity: 100, batchSize: 10)
        let exporter = OTLPTraceExporter(endpoint: URL(string: "http://127.0.0.1:9")!, queue: queue,
                                         interval: .milliseconds(50), initialBackoff: .milliseconds(10), timeout: 1)
        let tracer = AtlasTracer(queue: queue)
        let running = Task { try await exporter.run() }
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for index in 0..<20_000 {
                let span = tracer.startSpan("work", context: .topLevel, ofKind: .internal, at: DefaultTracerClock.now,
                                            function: #function, file: #fileID, line: #line)
                span.attributes["index"] = index
                span.end(at: DefaultTracerClock.now)
            }
        }
        #expect(queue.count <= 100)
        #expect(queue.dropped >= 19_000)
        #expect(elapsed < .seconds(5))
        let deadline = clock.now + .seconds(10)
        while exporter.failedBatches == 0, clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(exporter.failedBatches > 0)
        running.cancel()
        let stopped = clock.now
        _ = try? await running.value
        #expect(clock.now - stopped < .seconds(8))
        #expect(exporter.exported == 0)
    }

    @Test func hangingCollector_LeavesRequestLatencyAlone() async throws {
        let collector = Collector(delay: .seconds(5))
        let endpoint = try await collector.start()
        defer { collector.stop() }
        let queue = SpanQueue(capacity: 256, batchSize: 8)
        let tracer = AtlasTracer(queue: queue)
        let exporter = OTLPTraceExporter(endpoint: endpoint, queue: queue, interval: .milliseconds(50), timeout: 10)
        func router(traced: Bool) -> Router {
            let router = Router()
            if traced { router.use(TracingMiddleware(tracer: tracer)) }
            _ = router.get("/tenants/{tenant}/report") { _, context in
                tracer.withSpan("storage.query", context: context.instrumentationContext) { _ in }
                return Response.text("ok")
            }
            return router
        }
        let plain = router(traced: false), traced = router(traced: true)
        let running = Task { try await exporter.run() }
        defer { running.cancel() }
        // Wait until the exporter is stuck inside a request the collector does not answer.
        for _ in 0..<8 { _ = await traced.respond(to: try Request(method: .get, target: "/tenants/acme/report")) }
        let deadline = ContinuousClock.now + .seconds(5)
        while collector.received == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        try #require(collector.received == 1)

        let clock = ContinuousClock()
        func run(_ router: Router) async throws -> Duration {
            try await clock.measure {
                for _ in 0..<1_000 {
                    let response = await router.respond(to: try Request(method: .get, target: "/tenants/acme/report"))
                    #expect(response.status == .ok)
                }
            }
        }
        let withoutTracing = try await run(plain)
        let withTracing = try await run(traced)
        #expect(withTracing < withoutTracing * 3 + .milliseconds(500))
        #expect(queue.count <= 256)
        #expect(queue.dropped > 1_000)
        #expect(collector.received == 1)
    }

    @Test func exportsOTLPJSON_WhenConfigured() async throws {
        let collector = Collector()
        let endpoint = try await collector.start()
        defer { collector.stop() }
        let telemetry = try TelemetryModule(environment: EnvironmentReader([
            "ATLAS_OTLP_ENDPOINT": endpoint.absoluteString + "/", "ATLAS_OTLP_PROTOCOL": "http/json"]))
        let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        _ = await appRouter(telemetry).respond(to: try Request(method: .get, target: "/tenants/acme/report",
                                                                headers: [HTTPField.Name("traceparent")!: incoming]))
        await telemetry.traceExporter!.flush()
        #expect(collector.contentTypes == ["application/json"])
        let body = try #require(collector.bodies.first)
        let names = try runPython("""
            import sys, json
            doc = json.load(sys.stdin)
            spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
            assert all(s["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736" and len(s["spanId"]) == 16 for s in spans)
            server = next(s for s in spans if s["kind"] == 2)
            query = next(s for s in spans if s["name"] == "storage.query")
            assert server["parentSpanId"] == "00f067aa0ba902b7" and query["parentSpanId"] == server["spanId"], spans
            attributes = {a["key"]: a["value"] for a in server["attributes"]}
            assert attributes["http.route"] == {"stringValue": "/tenants/{tenant}/report"}, attributes
            assert attributes["http.response.status_code"] == {"intValue": "200"}, attributes
            assert attributes["atlas.tenant"] == {"stringValue": "acme"}, attributes
            assert int(server["endTimeUnixNano"]) >= int(server["startTimeUnixNano"]) > 0
            print(",".join(sorted(s["name"] for s in spans)))
            """, input: Data(body))
        #expect(names.trimmingCharacters(in: .whitespacesAndNewlines) == "GET /tenants/{tenant}/report,graph.node,storage.query")
    }

    @Test func rejectsBadEndpointAndProtocol_WithConfigurationError() {
        #expect(throws: ConfigurationError.self) {
            try TelemetryModule(environment: EnvironmentReader(["ATLAS_OTLP_ENDPOINT": "not a url"]))
        }
        #expect(throws: ConfigurationError.self) {
            try TelemetryModule(environment: EnvironmentReader(["ATLAS_OTLP_ENDPOINT": "http://x:4318", "ATLAS_OTLP_PROTOCOL": "grpc"]))
        }
    }
}

struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}
