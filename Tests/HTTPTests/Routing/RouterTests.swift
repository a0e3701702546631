// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
@testable import HTTP
import HTTPTypes
import Synchronization
import Testing

private func request(_ method: HTTPRequest.Method, _ target: String, headers: HTTPFields = [:], body: String? = nil) throws -> Request {
    try Request(method: method, target: target, headers: headers, body: body.map { Array($0.utf8) } ?? [])
}

private func json(_ response: Response) throws -> [String: Any] {
    let bytes = try #require(response.body.bytes)
    return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
}

private func text(_ response: Response) -> String {
    String(decoding: response.body.bytes ?? [], as: UTF8.self)
}

private struct UsageDelta: Decodable {
    var tokensDelta: Int
    var requestsDelta: Int
}

private struct Teapot: ProblemError {
    var status: Int { 418 }
    var code: String { "teapot" }
    var detail: String { "short and stout" }
    var headers: [(name: String, value: String)] { [("Retry-After", "7")] }
}

private struct Secret: Error {
    let password = "hunter2"
}

/// A context that exists only for tenants other than `forbidden`, like a membership check.
private struct TenantContext: ChildRequestContext {
    var requestContext: RequestContext
    let tenant: String

    init(request: Request, parent: RequestContext) async throws {
        let tenant = try parent.parameters.require("tenant")
        guard tenant != "forbidden" else { throw AtlasError.forbidden("not a member of \(tenant)") }
        requestContext = parent
        requestContext.tenant = tenant
        self.tenant = tenant
    }
}

private final class HookLog: Sendable {
    let entries = Mutex<[String]>([])
    func append(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

/// Records hook order into a shared log.
private struct Recorder: Middleware {
    let name: String
    let log: HookLog

    func before(_ request: Request, context: inout RequestContext) throws -> Response? {
        log.append("before \(name)")
        return nil
    }

    func after(_ request: Request, context: RequestContext, response: inout Response) {
        log.append("after \(name)")
        response.headers[HTTPField.Name("X-Seen-\(name)")!] = "1"
    }
}

@Suite("Router")
struct RouterTests {
    static func makeRouter() -> Router {
        let router = Router()
        router.use(RequestIDMiddleware())
        router.inline.get("/health/live") { _, _ in .json(rawJSON: #"{"status":"ok"}"#) }
        router.get("/tenants/current") { _, _ in .text("current") }
        router.get("/tenants/{tenant}/usage") { _, context in
            .text("usage of \(try context.parameters.require("tenant"))")
        }
        router.post("/tenants/{tenant}/usage") { request, context in
            let delta = try request.decode(UsageDelta.self)
            return try .json(["tenant": try context.parameters.require("tenant"), "tokens": "\(delta.tokensDelta)"])
        }
        router.get("/items/{id}") { _, context in .text("item \(try context.parameters.require("id", as: Int.self))") }
        router.get("/search") { request, _ in .text("q=\(request.query["q"] ?? "-") n=\(try request.query.get("n", as: Int.self) ?? 0)") }
        router.get("/teapot") { _, _ in throw Teapot() }
        router.get("/secret") { _, _ in throw Secret() }
        return router
    }

    @Test func matchesTemplatesAndDecodesParameters() async throws {
        let router = Self.makeRouter()
        let response = await router.respond(to: try request(.get, "/tenants/ac%20me/usage"))
        #expect(response.status == .ok)
        #expect(text(response) == "usage of ac me")
    }

    @Test func prefersLiteralSegmentsAndBacktracksToParameters() async throws {
        let router = Self.makeRouter()
        #expect(text(await router.respond(to: try request(.get, "/tenants/current"))) == "current")
        #expect(text(await router.respond(to: try request(.get, "/tenants/current/usage"))) == "usage of current")
    }

    @Test func convertsTypedParameters_AndAnswers400WhenNotConvertible() async throws {
        let router = Self.makeRouter()
        #expect(text(await router.respond(to: try request(.get, "/items/42"))) == "item 42")
        let bad = await router.respond(to: try request(.get, "/items/abc"))
        #expect(bad.status == .badRequest)
        #expect(try json(bad)["detail"] as? String == "path parameter `id` must be an integer")
    }

    @Test func parsesQueryParameters() async throws {
        let router = Self.makeRouter()
        #expect(text(await router.respond(to: try request(.get, "/search?q=a+b%26c&n=3"))) == "q=a b&c n=3")
        #expect(await router.respond(to: try request(.get, "/search?n=x")).status == .badRequest)
    }

    @Test func answers404ForUnknownPaths_WithProblemJSON() async throws {
        let router = Self.makeRouter()
        for target in ["/nope", "/health/live/", "/health//live", "/health%2Flive", "/tenants"] {
            let response = await router.respond(to: try request(.get, target))
            #expect(response.status == .notFound, "\(target)")
            #expect(response.headers[.contentType] == "application/problem+json")
            let body = try json(response)
            #expect(body["status"] as? Int == 404)
            #expect(body["code"] as? String == "not_found")
            #expect(body["request_id"] as? String == response.headers[HTTPField.Name("X-Request-ID")!])
        }
    }

    @Test func answers405WithAllow_ForKnownPathAndOtherMethod() async throws {
        let router = Self.makeRouter()
        let response = await router.respond(to: try request(.delete, "/tenants/acme/usage"))
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers[.allow] == "GET, HEAD, POST, OPTIONS")
        #expect(try json(response)["code"] as? String == "method_not_allowed")
    }

    @Test func answersHeadThroughGet_WithoutBody() async throws {
        let router = Self.makeRouter()
        let get = await router.respond(to: try request(.get, "/health/live"))
        let head = await router.respond(to: try request(.head, "/health/live"))
        #expect(head.status == .ok)
        #expect(head.body.bytes == [])
        #expect(head.headers[.contentType] == get.headers[.contentType])
    }

    @Test func answersOptionsWithAllow() async throws {
        let router = Self.makeRouter()
        let response = await router.respond(to: try request(.options, "/items/1"))
        #expect(response.status == .noContent)
        #expect(response.headers[.allow] == "GET, HEAD, OPTIONS")
    }

    @Test func answersOptionsAsteriskForTheServer() async throws {
        let response = await Self.makeRouter().respond(to: try request(.options, "*"))
        #expect(response.status == .noContent)
        #expect(response.headers[.allow]?.contains("POST") == true)
    }

    @Test func answersCORSPreflight_ForAnyOrigin() async throws {
        let router = Router()
        router.use(CORSMiddleware(allowOrigins: ["*"]))
        router.post("/tenants") { _, _ in .text("created") }
        let preflight = await router.respond(to: try request(.options, "/tenants", headers: [
            .origin: "https://app.example", .accessControlRequestMethod: "POST",
            .accessControlRequestHeaders: "content-type"]))
        #expect(preflight.status == .noContent)
        #expect(preflight.headers[.accessControlAllowOrigin] == "*")
        #expect(preflight.headers[.accessControlAllowMethods]?.contains("POST") == true)
        #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Content-Type") == true)
        #expect(preflight.headers[.accessControlMaxAge] == "600")
        #expect(preflight.headers[.vary] == nil)
        let simple = await router.respond(to: try request(.post, "/tenants", headers: [.origin: "https://app.example"]))
        #expect(simple.headers[.accessControlAllowOrigin] == "*")
        #expect(simple.headers[.accessControlExposeHeaders] == "X-Request-ID")
    }

    @Test func answersCORSOnlyForListedOrigins_WithVaryOrigin() async throws {
        let router = Router()
        router.use(CORSMiddleware(allowOrigins: ["https://good.example"]))
        router.get("/x") { _, _ in .text("x") }
        let good = await router.respond(to: try request(.options, "/x", headers: [
            .origin: "https://good.example", .accessControlRequestMethod: "GET"]))
        #expect(good.status == .noContent)
        #expect(good.headers[.accessControlAllowOrigin] == "https://good.example")
        #expect(good.headers[.vary] == "Origin")
        let evil = await router.respond(to: try request(.get, "/x", headers: [.origin: "https://evil.example"]))
        #expect(evil.headers[.accessControlAllowOrigin] == nil)
        #expect(evil.headers[.vary] == "Origin")
    }

    @Test func mapsProblemErrors_WithTheirStatusCodeAndHeaders() async throws {
        let router = Self.makeRouter()
        let response = await router.respond(to: try request(.get, "/teapot"))
        #expect(response.status.code == 418)
        #expect(response.headers[HTTPField.Name("Retry-After")!] == "7")
        let body = try json(response)
        #expect(body["type"] as? String == "urn:atlas:problem:teapot")
        #expect(body["title"] as? String == "Client Error")
        #expect(body["detail"] as? String == "short and stout")
        #expect(body["code"] as? String == "teapot")
        #expect(body["status"] as? Int == 418)
        #expect((body["request_id"] as? String)?.count == 13)
    }

    @Test func mapsUnexpectedErrorsTo500_WithoutLeakingThem() async throws {
        let router = Self.makeRouter()
        let response = await router.respond(to: try request(.get, "/secret"))
        #expect(response.status == .internalServerError)
        #expect(!text(response).contains("hunter2"))
        #expect(!text(response).contains("Secret"))
        #expect(try json(response)["request_id"] as? String != nil)
    }

    @Test func decodesSnakeCaseJSON() async throws {
        let router = Self.makeRouter()
        let response = await router.respond(to: try request(.post, "/tenants/acme/usage", headers: [.contentType: "application/json; charset=utf-8"],
                                                             body: #"{"tokens_delta": 5, "requests_delta": 1}"#))
        #expect(response.status == .ok)
        #expect(try json(response)["tokens"] as? String == "5")
    }

    @Test(arguments: [
        (#"{"tokens_delta": 5,"#, 400, "malformed_json", "the request body is not valid JSON"),
        (#"{"tokens_delta": "five", "requests_delta": 1}"#, 422, "invalid_field", "tokens_delta: expected an integer"),
        (#"{"requests_delta": 1}"#, 422, "missing_field", "tokens_delta: required field is missing"),
        (#"{"tokens_delta": null, "requests_delta": 1}"#, 422, "invalid_field", "tokens_delta: expected an integer, got null"),
        (#"[1, 2]"#, 422, "invalid_field", "body: expected an object"),
        ("", 400, "malformed_json", "the request body is empty; a JSON document is required"),
    ])
    func rejectsBadJSON_NamingTheField(_ body: String, _ status: Int, _ code: String, _ detail: String) async throws {
        let router = Self.makeRouter()
        let response = await router.respond(to: try request(.post, "/tenants/acme/usage", body: body))
        #expect(response.status.code == status)
        let problem = try json(response)
        #expect(problem["code"] as? String == code)
        #expect(problem["detail"] as? String == detail)
    }

    @Test func rejectsNonJSONContentType_With415() async throws {
        let router = Self.makeRouter()
        let response = await router.respond(to: try request(.post, "/tenants/acme/usage", headers: [.contentType: "text/plain"],
                                                             body: #"{"tokens_delta": 5, "requests_delta": 1}"#))
        #expect(response.status.code == 415)
    }

    @Test func honoursSaneIncomingRequestID_AndReplacesOthers() async throws {
        let router = Self.makeRouter()
        let kept = await router.respond(to: try request(.get, "/health/live", headers: [HTTPField.Name("X-Request-ID")!: "abc-123.DEF:9"]))
        #expect(kept.headers[HTTPField.Name("X-Request-ID")!] == "abc-123.DEF:9")
        let replaced = await router.respond(to: try request(.get, "/health/live", headers: [HTTPField.Name("X-Request-ID")!: "<script>"]))
        let id = try #require(replaced.headers[HTTPField.Name("X-Request-ID")!])
        #expect(id != "<script>" && id.count == 13)
        let other = await router.respond(to: try request(.get, "/health/live"))
        #expect(other.headers[HTTPField.Name("X-Request-ID")!] != id)
    }

    @Test func buildsChildContexts_AndPropagatesTheirChanges() async throws {
        let router = Router()
        router.use(RequestIDMiddleware())
        router.group("/tenants/{tenant}", context: TenantContext.self).get("/catalog") { _, context in
            .text("catalog of \(context.tenant)")
        }
        var context = RequestContext()
        let allowed = await router.respondWithContext(to: try request(.get, "/tenants/acme/catalog"), context: &context)
        #expect(text(allowed) == "catalog of acme")
        #expect(context.tenant == "acme")
        #expect(context.route == "/tenants/{tenant}/catalog")
        let denied = await router.respond(to: try request(.get, "/tenants/forbidden/catalog"))
        #expect(denied.status == .forbidden)
    }

    @Test func runsBeforeHooksInOrder_AndAfterHooksInReverse() async throws {
        let log = HookLog()
        let router = Router()
        router.use(Recorder(name: "a", log: log))
        router.use(Recorder(name: "b", log: log))
        router.inline.get("/x") { _, _ in .text("x") }
        let found = await router.respond(to: try request(.get, "/x"))
        let missing = await router.respond(to: try request(.get, "/y"))
        #expect(log.all == ["before a", "before b", "after b", "after a", "before a", "before b", "after b", "after a"])
        #expect(found.headers[HTTPField.Name("X-Seen-a")!] == "1")
        #expect(missing.headers[HTTPField.Name("X-Seen-b")!] == "1")
    }

    @Test func writesOneAccessLogLinePerRequest() async throws {
        let sink = try MemoryAccessLog()
        let router = Router()
        router.use(RequestIDMiddleware())
        router.use(AccessLogMiddleware(sink: sink))
        router.get("/tenants/{tenant}/usage") { _, context in
            context.tenant = try context.parameters.require("tenant")
            context.traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
            context.spanID = "00f067aa0ba902b7"
            return .text("ok")
        }
        _ = await router.respond(to: try request(.get, "/tenants/acme/usage?secret=1"))
        _ = await router.respond(to: try request(.post, "/nope", headers: [HTTPField.Name("X-Request-ID")!: "given-id"]))
        let lines = try sink.lines()
        #expect(lines.count == 2)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["event"] as? String == "api_request")
        #expect(first["path"] as? String == "/tenants/acme/usage")
        #expect(first["method"] as? String == "GET")
        #expect(first["status_code"] as? Int == 200)
        #expect(first["duration_ms"] is Double)
        #expect(first["tenant"] as? String == "acme")
        #expect((first["request_id"] as? String)?.count == 13)
        #expect(first["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(first["span_id"] as? String == "00f067aa0ba902b7")
        let second = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(second["status_code"] as? Int == 404)
        #expect(second["tenant"] is NSNull)
        #expect(second["trace_id"] is NSNull)
        #expect(second["span_id"] is NSNull)
        #expect(second["request_id"] as? String == "given-id")
    }

    @Test func accessLogWritesSpanIdentifiersSetAsWords() async throws {
        let sink = try MemoryAccessLog()
        let router = Router()
        router.use(AccessLogMiddleware(sink: sink))
        router.get("/traced") { _, context in
            context.setSpanIdentifiers(traceHigh: 0x4bf9_2f35_77b3_4da6, traceLow: 0xa3ce_929d_0e0e_4736, span: 0x00f0_67aa_0ba9_02b7)
            return .text("ok")
        }
        _ = await router.respond(to: try request(.get, "/traced"))
        let line = try #require(try JSONSerialization.jsonObject(with: Data(try sink.lines()[0].utf8)) as? [String: Any])
        #expect(line["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(line["span_id"] as? String == "00f067aa0ba902b7")
    }

    @Test func hexTextMatchesStringRadix() {
        var generator = SystemRandomNumberGenerator()
        let words: [UInt64] = [0, 1, 0xF, 0xA, 0x9, .max, 0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210]
            + (0..<200).map { _ in generator.next() }
        for word in words {
            let expected = String(repeating: "0", count: 16 - String(word, radix: 16).count) + String(word, radix: 16)
            #expect(HexText.string(word) == expected)
            var bytes: [UInt8] = []
            HexText.append(word, word, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == expected + expected)
        }
    }

    @Test func countsRequestsPerRouteTemplate() async throws {
        let metrics = InMemoryHTTPMetrics()
        let router = Router()
        router.use(MetricsMiddleware(recorder: metrics))
        router.get("/items/{id}") { _, _ in .text("x") }
        for id in 1...3 { _ = await router.respond(to: try request(.get, "/items/\(id)")) }
        _ = await router.respond(to: try request(.get, "/missing"))
        let snapshot = metrics.snapshot()
        #expect(snapshot[.init(route: "/items/{id}", method: "GET", status: 200)]?.count == 3)
        #expect(snapshot[.init(route: "unmatched", method: "GET", status: 404)]?.count == 1)
    }

    @Test func compressesLargeCompressibleBodies_WhenAccepted() async throws {
        let payload = String(repeating: #"{"name":"tenant","plan":"growth"},"#, count: 100)
        let router = Router()
        router.use(CompressionMiddleware())
        router.get("/big") { _, _ in .text(payload, contentType: "application/json") }
        router.get("/small") { _, _ in .text("tiny", contentType: "application/json") }
        let gzipped = await router.respond(to: try request(.get, "/big", headers: [.acceptEncoding: "br;q=1, gzip;q=0.5"]))
        #expect(gzipped.headers[.contentEncoding] == "gzip")
        #expect(gzipped.headers[.vary] == "Accept-Encoding")
        let bytes = try #require(gzipped.body.bytes)
        #expect(bytes.count < payload.utf8.count / 4)
        #expect(try Gzip.decompress(bytes) == Array(payload.utf8))
        let refused = await router.respond(to: try request(.get, "/big", headers: [.acceptEncoding: "gzip;q=0, identity"]))
        #expect(refused.headers[.contentEncoding] == nil)
        #expect(refused.headers[.vary] == "Accept-Encoding")
        let small = await router.respond(to: try request(.get, "/small", headers: [.acceptEncoding: "gzip"]))
        #expect(small.headers[.contentEncoding] == nil)
    }

    @Test func rejectsDuplicateRouteRegistration() {
        #expect(RoutePath.sameShape("/a/{x}/b", "/a/{y}/b"))
        #expect(!RoutePath.sameShape("/a/{x}/b", "/a/c/b"))
        #expect(RoutePath.join("/tenants/", "/{tenant}/") == "/tenants/{tenant}")
        #expect(RoutePath.join("/tenants", "") == "/tenants")
    }
}
