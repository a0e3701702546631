// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
import Core
import Foundation
import HTTP
import HTTPTypes
import Instrumentation
import Storage
import Testing
import Tracing
import W3CTraceContext
@testable import Telemetry

/// Storage's query spans recorded by the tracer, as the composition root wires them.
private struct TracerQuerySpanRecorder: QuerySpanRecorder {
    let tracer: AtlasTracer
    func startQuery(_ name: StaticString, system: StaticString, operation: StaticString, tenant: String?) -> QuerySpan {
        tracer.startQuerySpan(name, system: system, operation: operation, tenant: tenant)
    }
    func endQuery(_ span: QuerySpan, error: (any Error)?) {
        tracer.endQuerySpan(span, error: error)
    }
}

@Suite struct QuerySpanTests {
    /// Reads and transactions on a real database, inside a request's handler and outside any,
    /// decoded with the reference decoder.
    @Test(arguments: TestBackend.all)
    func queriesAreClientSpansUnderTheRequestSpan_AndFailuresAreErrors(_ backend: TestBackend) async throws {
        try await withIsolatedDatabase(backend, prefix: "queryspans") { database, _ in
            let queue = SpanQueue(capacity: 64, batchSize: 64)
            let tracer = AtlasTracer(queue: queue)
            let traced = TracedDatabase(database, spans: TracerQuerySpanRecorder(tracer: tracer))
            let router = Router()
            let tracing = TracingMiddleware(tracer: tracer)
            router.use(tracing)
            router.scope(tracing)
            _ = router.get("/tenants/{tenant}/count") { _, context in
                let tenant = try context.parameters.require("tenant")
                let one = try await traced.read(tenant: tenant) { try $0.query(SQLQuery("SELECT 1 AS one")).count }
                await #expect(throws: (any Error).self) {
                    try await traced.transaction(tenant: nil) { _ = try $0.execute(SQLQuery("UPDATE no_such_table SET x = 1")) }
                }
                return Response.text("\(one)")
            }
            let response = await router.respond(to: try Request(method: .get, target: "/tenants/acme/count", headers: [
                HTTPField.Name("traceparent")!: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                HTTPField.Name("tracestate")!: "congo=t61rcWkgMzE",
            ]))
            #expect(response.status == .ok)
            // Outside any request: the root of a trace of its own.
            _ = try await traced.read(tenant: nil) { try $0.query(SQLQuery("SELECT 1 AS one")).count }

            let batch = try #require(queue.take())
            let spans = try decodeOTLPTraces(OTLPTraceEncoder.protobuf(batch, resource: []))
            try #require(spans.count == 4)
            let (read, failed, server, root) = (spans[0], spans[1], spans[2], spans[3])
            let system = backend == .postgres ? "postgresql" : "sqlite"
            #expect(server.kind == 2 && server.name == "GET /tenants/{tenant}/count")
            #expect(read.name == "db.read" && read.kind == 3 && read.status == 0 && read.events.isEmpty)
            #expect(read.attributes == ["db.system.name": system, "db.operation.name": "read", "atlas.tenant": "acme"])
            #expect(failed.name == "db.transaction" && failed.kind == 3 && failed.status == 2 && failed.events == ["exception"])
            #expect(failed.attributes["atlas.tenant"] == nil && failed.attributes["db.operation.name"] == "transaction")
            for child in [read, failed] {
                #expect(child.traceID == "4bf92f3577b34da6a3ce929d0e0e4736" && child.parentID == server.spanID)
                #expect(child.traceState == "congo=t61rcWkgMzE" && child.ordered && child.spanID != server.spanID)
            }
            #expect(root.name == "db.read" && root.parentID == "" && root.traceState == "")
            #expect(root.traceID != "4bf92f3577b34da6a3ce929d0e0e4736" && root.traceID.count == 32 && root.ordered)
        }
    }

    /// Inside a `withSpan`, a query is that span's child; under an unsampled trace it records nothing.
    @Test func queriesFollowTheCurrentSpan_AndTheirTracesSamplingDecision() throws {
        let queue = SpanQueue(capacity: 64, batchSize: 64)
        let tracer = AtlasTracer(queue: queue)
        let recorder = TracerQuerySpanRecorder(tracer: tracer)
        let parentID = tracer.withSpan("graph.node", context: .topLevel) { span in
            InstrumentationContext.$current.withValue(span.context) {
                recorder.endQuery(recorder.startQuery("db.read", system: "sqlite", operation: "read", tenant: nil), error: nil)
            }
            return span.traceContext.spanID.description
        }
        var unsampled = InstrumentationContext.topLevel
        unsampled.traceContext = try TraceContext(traceParentHeaderValue: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
        InstrumentationContext.$current.withValue(unsampled) {
            recorder.endQuery(recorder.startQuery("db.read", system: "sqlite", operation: "read", tenant: nil), error: nil)
        }
        let spans = try decodeOTLPTraces(OTLPTraceEncoder.protobuf(try #require(queue.take()), resource: []))
        #expect(spans.map(\.name) == ["db.read", "graph.node"])
        #expect(spans[0].parentID == parentID && spans[0].traceID == spans[1].traceID)
    }
}
