// Atlas — AtlasTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
import Foundation
import HTTP
import Synchronization
import Testing

/// `atlas serve` exporting to a collector on loopback: the spans of real requests, decoded with
/// the opentelemetry-proto package, form one tree per request under the caller's trace.
@Suite(.serialized) struct TracingEndToEndTests {
    static func call(_ port: Int, _ method: String, _ path: String, headers: [String: String] = [:],
                     body: String? = nil) async throws -> HTTPClient.Response {
        var raw = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers { raw += "\(name): \(value)\r\n" }
        if let body { raw += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        raw += "\r\n" + (body ?? "")
        return try await HTTPClient.request(port: port, raw: raw)
    }

    @Test func storageAndModelSpansAreChildrenOfTheRequestSpan_InTheCallersTrace() async throws {
        let collector = Collector()
        let endpoint = try await collector.start()
        defer { collector.stop() }
        let directory = try AtlasProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let atlas = try AtlasProcess(arguments: ["serve"], environment: [
            "ATLAS_DATABASE_URL": "sqlite:///\(directory.path)/atlas.db",
            "ATLAS_OTLP_ENDPOINT": endpoint.absoluteString,
            "ATLAS_AUTH_SCRYPT_LOG_N": "10",
        ])
        try await atlas.waitUntilServing()

        let login = try await Self.call(atlas.port, "POST", "/auth/token", body: #"{"username":"admin@atlas","password":"atlas"}"#)
        let token = try #require((login.json as? [String: Any])?["access_token"] as? String)
        let readTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
        let runTrace = "0af7651916cd43dd8448eb211c80319c"
        let current = try await Self.call(atlas.port, "GET", "/tenants/current", headers: [
            "Authorization": "Bearer \(token)", "X-Atlas-Tenant": "demo",
            "traceparent": "00-\(readTrace)-00f067aa0ba902b7-01"])
        #expect(current.status == 200)
        let run = try await Self.call(atlas.port, "POST", "/ai/runs?wait=true", headers: [
            "Authorization": "Bearer \(token)", "X-Atlas-Tenant": "demo",
            "traceparent": "00-\(runTrace)-b7ad6b7169203331-01"], body: #"{"question":"How are refunds handled?"}"#)
        #expect(run.status == 201, "\(String(decoding: run.body, as: UTF8.self))")

        // A graceful stop flushes what is queued.
        atlas.signal(SIGTERM)
        #expect(try await atlas.waitForExit() == 0)
        let spans = try collector.decoded()

        let read = try #require(spans.first { $0.traceID == readTrace && $0.kind == 2 })
        #expect(read.name == "GET /tenants/current" && read.parentID == "00f067aa0ba902b7")
        let queries = spans.filter { $0.traceID == readTrace && $0.parentID == read.spanID }
        #expect(!queries.isEmpty)
        #expect(queries.allSatisfy { $0.name.hasPrefix("db.") && $0.kind == 3 && $0.attributes["db.system.name"] == "sqlite" })
        #expect(queries.contains { $0.attributes["atlas.tenant"] == "demo" })

        let runSpans = spans.filter { $0.traceID == runTrace }
        let post = try #require(runSpans.first { $0.kind == 2 })
        #expect(post.name == "POST /ai/runs" && post.parentID == "b7ad6b7169203331")
        let ids = Set(runSpans.map(\.spanID))
        // Every span of the run's trace hangs off another span of it, up to the request span.
        #expect(runSpans.allSatisfy { $0.spanID == post.spanID || ids.contains($0.parentID) })
        let nodes = runSpans.filter { $0.name == "graph.node" }
        #expect(!nodes.isEmpty)
        let model = try #require(runSpans.first { $0.name == "llm.chat" })
        #expect(nodes.contains { $0.spanID == model.parentID }, "the model call is a child of the node that made it")
        #expect(model.kind == 3 && model.attributes["gen_ai.system"] == "local" && model.attributes["atlas.tenant"] == "demo")
        #expect(Int(model.attributes["gen_ai.usage.output_tokens"] ?? "") ?? 0 > 0)
        #expect(runSpans.contains { $0.name.hasPrefix("db.") && $0.parentID != post.spanID }, "checkpoints are written under the nodes' run")
    }

    /// A model call made under a request carries that request's trace to the provider.
    @Test func modelCallsCarryTheRequestsTraceparentToTheProvider() async throws {
        let seen = Mutex<[String]>([])
        let provider = Router()
        _ = provider.post("/v1/chat/completions") { request, _ in
            seen.withLock { $0.append(request.headers["traceparent"] ?? "") }
            return .json(rawJSON: """
                {"id":"chatcmpl-1","object":"chat.completion","model":"gpt-test","choices":[{"index":0,\
                "message":{"role":"assistant","content":"Refunds take five days."},"finish_reason":"stop"}],\
                "usage":{"prompt_tokens":12,"completion_tokens":6,"total_tokens":18}}
                """)
        }
        try await withLocalServer(provider) { providerPort in
            let directory = try AtlasProcess.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let collector = Collector()
            let endpoint = try await collector.start()
            defer { collector.stop() }
            let atlas = try AtlasProcess(arguments: ["serve"], environment: [
                "ATLAS_DATABASE_URL": "sqlite:///\(directory.path)/atlas.db",
                "ATLAS_OTLP_ENDPOINT": endpoint.absoluteString,
                "ATLAS_AUTH_SCRYPT_LOG_N": "10",
                "ATLAS_AI_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test",
                "ATLAS_AI_OPENAI_BASE_URL": "http://127.0.0.1:\(providerPort)/v1",
            ])
            try await atlas.waitUntilServing()
            let login = try await Self.call(atlas.port, "POST", "/auth/token", body: #"{"username":"admin@atlas","password":"atlas"}"#)
            let token = try #require((login.json as? [String: Any])?["access_token"] as? String)
            let trace = "5bf92f3577b34da6a3ce929d0e0e4737"
            let run = try await Self.call(atlas.port, "POST", "/ai/runs?wait=true", headers: [
                "Authorization": "Bearer \(token)", "X-Atlas-Tenant": "demo",
                "traceparent": "00-\(trace)-00f067aa0ba902b8-01"], body: #"{"question":"How long do refunds take?"}"#)
            #expect(run.status == 201, "\(String(decoding: run.body, as: UTF8.self))")
            atlas.signal(SIGTERM)
            #expect(try await atlas.waitForExit() == 0)

            let received = seen.withLock { $0 }
            try #require(!received.isEmpty, "the provider was called")
            let parts = received[0].split(separator: "-")
            #expect(parts.count == 4 && parts[1] == Substring(trace), "\(received)")
            // The span the provider saw as its parent is the llm.chat span Atlas exported.
            let model = try #require(try collector.decoded().first { $0.name == "llm.chat" })
            #expect(model.traceID == trace && parts.count == 4 && model.spanID == String(parts[2]))
            #expect(model.attributes["gen_ai.system"] == "openai" && model.attributes["gen_ai.response.model"] == "gpt-test")
        }
    }
}
