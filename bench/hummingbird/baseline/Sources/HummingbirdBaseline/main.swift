// Atlas — Bench
// SPDX-License-Identifier: Apache-2.0
//
// The Hummingbird 2 baseline for bench/run.sh: the same two routes the benchmark drives on atlas
// (`GET /health/live`, `POST /debug/echo`), written the way a Hummingbird user would, with Codable.
// Usage: hummingbird-baseline [port]   (listens on 127.0.0.1 only)

import Hummingbird
import HTTPTypes

/// The body `POST /debug/echo` takes and returns; the limits mirror the atlas debug route.
struct EchoBody: Codable, ResponseEncodable {
    var name: String
    var count: Int
    var tags: [String]

    /// Why the body is unacceptable, or nil when it is within the limits.
    var violation: String? {
        if name.isEmpty || name.count > 100 { return "name must be 1...100 characters" }
        if !(0...1000).contains(count) { return "count must be an integer in 0...1000" }
        if tags.count > 20 { return "tags must hold at most 20 strings" }
        return nil
    }
}

struct Status: ResponseEncodable {
    var status: String
}

let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 8081

let router = Router()
router.get("/health/live") { _, _ in
    Status(status: "ok")
}
router.post("/debug/echo") { request, context -> EchoBody in
    let body: EchoBody
    do {
        // The context's decoder directly (what `request.decode` calls) so the DecodingError arrives
        // unmapped: Hummingbird would turn every one into 400.
        body = try await context.requestDecoder.decode(EchoBody.self, from: request, context: context)
    } catch DecodingError.dataCorrupted {
        // Foundation's decoder reports a syntax error and a number that does not fit `Int` (3.5) alike.
        throw HTTPError(.badRequest, message: "body is not JSON of the expected shape")
    } catch let failure as DecodingError {
        // Valid JSON of the wrong shape is a validation failure, as on atlas.
        throw HTTPError(.unprocessableContent, message: "invalid body: \(failure)")
    }
    if let violation = body.violation {
        throw HTTPError(.unprocessableContent, message: violation)
    }
    return body
}

let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "hummingbird-baseline")
)
try await app.runService()
