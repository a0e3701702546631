// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import Auth
import Core
import Foundation
import HTTP
import HTTPTypes
import Logging
import Storage
import Testing

/// The real server on a real socket (port 0), driven by curl as the reference README does.
@Suite(.serialized) struct LiveServerTests {
    /// Serves `app`'s router on 127.0.0.1 with an ephemeral port for the duration of `body`.
    static func withServer(_ app: TestApp, _ body: (Int) async throws -> Void) async throws {
        let server = HTTPServer(
            router: app.router,
            configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0, eventLoops: 1, workerThreads: 2),
            logger: Logger(label: "atlas.auth.test.server"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            do {
                let port = try await server.listeningPort
                try await body(port)
            } catch {
                server.shutdownGracefully()
                throw error
            }
            server.shutdownGracefully()
            try await group.waitForAll()
        }
    }

    static func shell(_ command: String) throws -> String {
        try PyJWT.run("bash", ["-c", command])
    }

    @Test(arguments: Backend.all)
    func referenceReadmeCurlWorksVerbatim(backend: Backend) async throws {
        try await withApp(backend) { app in
            try await Self.withServer(app) { port in
                let base = "http://localhost:\(port)"
                // The reference README, with its host and port substituted.
                let token = try Self.shell(
                    """
                    curl -s -X POST \(base)/auth/token -H 'Content-Type: application/json' -d '{"username":"admin@atlas","password":"atlas"}' | jq -r .access_token
                    """)
                #expect(token.split(separator: ".").count == 3)
                _ = try PyJWT.decode(token, secret: "atlas-secret")
                let current = try Self.shell("curl -s -H 'Authorization: Bearer \(token)' -H 'X-Atlas-Tenant: demo' \(base)/tenants/current")
                let summary = try JSONSerialization.jsonObject(with: Data(current.utf8)) as? [String: Any]
                #expect(summary?["tenant"] as? String == "demo")
                #expect((summary?["usage"] as? [String: Any])?["plan"] as? String == "scale")
                // The Postman collection's writes, with the token.
                let created = try Self.shell(
                    """
                    curl -s -o /dev/null -w '%{http_code}' -X POST \(base)/tenants -H 'Authorization: Bearer \(token)' \
                      -H 'Content-Type: application/json' -d '{"tenant":"acme","plan":"growth"}'
                    """)
                #expect(created == "200")
                let usage = try Self.shell(
                    """
                    curl -s -X POST \(base)/tenants/demo/usage -H 'Authorization: Bearer \(token)' \
                      -H 'Content-Type: application/json' -d '{"tokens_delta":5000,"requests_delta":50}' | jq -r .usage.tokens
                    """)
                #expect(usage == "125000")
                // OAuth2 form login, as FastAPI's OAuth2PasswordRequestForm clients send it.
                let form = try Self.shell("curl -s -X POST \(base)/auth/token -d 'username=admin%40atlas&password=atlas' | jq -r .token_type")
                #expect(form == "bearer")
                let unauthorized = try Self.shell("curl -s -i \(base)/tenants/current | tr -d '\\r' | grep -i -E '^(HTTP|www-authenticate|content-type|x-request-id)'")
                #expect(unauthorized.contains("401"))
                #expect(unauthorized.lowercased().contains("www-authenticate: bearer"))
                #expect(unauthorized.lowercased().contains("application/problem+json"))
                #expect(unauthorized.lowercased().contains("x-request-id"))
            }
        }
    }

    @Test func throttlingSeesTheRealClientAddress() async throws {
        try await withApp(.sqlite) { app in
            try await Self.withServer(app) { port in
                for _ in 1...10 {
                    _ = try Self.shell(
                        "curl -s -o /dev/null -X POST http://127.0.0.1:\(port)/auth/token -H 'Content-Type: application/json' -d '{\"username\":\"nobody@x.test\",\"password\":\"x\"}'")
                }
                let headers = try Self.shell(
                    "curl -s -i -X POST http://127.0.0.1:\(port)/auth/token -H 'Content-Type: application/json' -d '{\"username\":\"nobody@x.test\",\"password\":\"x\"}' | tr -d '\\r'")
                #expect(headers.hasPrefix("HTTP/1.1 429"))
                #expect(headers.lowercased().contains("retry-after: "))
                let recorded = try await app.database.read { conn in
                    try conn.queryScalar("SELECT COUNT(*) FROM auth_login_attempts WHERE address = '127.0.0.1'", as: Int.self)
                }
                #expect(recorded == 10)
            }
        }
    }
}
