// Atlas — AtlasTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// Files and processes the API-document tests share.
enum APIDocs {
    /// The repository root, from this file's place in Tests/AtlasTests/.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let openAPIFile = root.appendingPathComponent("docs/api/openapi.json")

    static let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

    /// A served `atlas` on a temporary SQLite file with the debug routes on, so every documented
    /// route exists. The caller removes `directory`.
    static func serve(_ extra: [String: String] = [:]) async throws -> (atlas: AtlasProcess, directory: URL) {
        let directory = try AtlasProcess.temporaryDirectory()
        var environment = [
            "ATLAS_DATABASE_URL": "sqlite:///\(directory.path)/atlas.db",
            "ATLAS_ENABLE_DEBUG_ROUTES": "true",
            // The lowest cost the configuration accepts keeps the logins the tests make fast.
            "ATLAS_AUTH_SCRYPT_LOG_N": "10",
        ]
        environment.merge(extra) { _, new in new }
        let atlas = try AtlasProcess(arguments: ["serve"], environment: environment)
        try await atlas.waitUntilServing()
        return (atlas, directory)
    }

    /// The document's operations as "METHOD /template".
    static func operations(of document: [String: Any]) -> Set<String> {
        let paths = document["paths"] as? [String: [String: Any]] ?? [:]
        return Set(paths.flatMap { path, item in
            item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" }
        })
    }

    static func jsonObject(_ data: Foundation.Data) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw AtlasProcessError(message: "not a JSON object")
        }
        return object
    }

    /// A canonical form (sorted keys) so two documents compare equal exactly when their JSON values do.
    static func canonical(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Runs a program to completion; output is drained before waiting so a full pipe cannot stall it.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws
        -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.currentDirectoryURL = root
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// A concrete path for a template: the default tenant for `{tenant}`, a placeholder elsewhere.
    static func concrete(_ template: String) -> String {
        template.replacingOccurrences(of: "{tenant}", with: "demo")
            .replacing(#/\{[A-Za-z_]+\}/#, with: "probe-id")
    }

    /// Whether the router has a route for `method path`: anything but its own 404 (`no route matches
    /// this path`) or 405 means a handler ran.
    static func isServed(method: String, path: String, port: Int) async throws -> (served: Bool, status: Int) {
        let body = ["POST", "PUT", "PATCH"].contains(method) ? "{}" : ""
        let raw = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        let response = try await HTTPClient.request(port: port, raw: raw)
        if response.status == 405 { return (false, 405) }
        if response.status == 404, let problem = response.json as? [String: Any],
           (problem["detail"] as? String) == "no route matches this path" {
            return (false, 404)
        }
        return (true, response.status)
    }
}

@Suite(.serialized)
struct OpenAPITests {
    @Test func servesTheDocumentInDocsAPI_WhenRunning() async throws {
        let (atlas, directory) = try await APIDocs.serve()
        defer { try? FileManager.default.removeItem(at: directory) }
        let response = try await HTTPClient.get(port: atlas.port, path: "/openapi.json")
        #expect(response.status == 200)
        #expect(response.header("Content-Type")?.hasPrefix("application/json") == true)
        let served = try APIDocs.jsonObject(Foundation.Data(response.body))
        let file = try APIDocs.jsonObject(try Foundation.Data(contentsOf: APIDocs.openAPIFile))
        #expect(try APIDocs.canonical(served) == APIDocs.canonical(file), "rebuild atlas after editing docs/api/openapi.json")
        #expect(served["openapi"] as? String == "3.1.0")
    }

    @Test func documentIsValidOpenAPI31_PerOpenAPISpecValidator() throws {
        var environment: [String: String] = [:]
        if try APIDocs.run("python3", ["-c", "import openapi_spec_validator"]).status != 0 {
            // Installed into a throw-away folder so the machine's Python stays as it was.
            let target = try AtlasProcess.temporaryDirectory()
            let install = try APIDocs.run(
                "python3", ["-m", "pip", "install", "--quiet", "--target", target.path, "openapi-spec-validator"])
            try #require(install.status == 0, "pip install openapi-spec-validator failed: \(install.output)")
            environment["PYTHONPATH"] = target.path
        }
        let result = try APIDocs.run("python3", ["-m", "openapi_spec_validator", APIDocs.openAPIFile.path], environment: environment)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("OK"))
    }

    @Test func everyDocumentedOperationIsServed_AndDeclaresItsSecurity() async throws {
        let document = try APIDocs.jsonObject(try Foundation.Data(contentsOf: APIDocs.openAPIFile))
        let operations = APIDocs.operations(of: document)
        #expect(operations.count >= 30)
        let (atlas, directory) = try await APIDocs.serve()
        defer { try? FileManager.default.removeItem(at: directory) }
        for operation in operations.sorted() {
            let parts = operation.split(separator: " ", maxSplits: 1).map(String.init)
            let probe = try await APIDocs.isServed(method: parts[0], path: APIDocs.concrete(parts[1]), port: atlas.port)
            #expect(probe.served, "documented but not served: \(operation) (\(probe.status))")
            #expect(probe.status < 500, "\(operation) answered \(probe.status) to a bare request")
        }
        let paths = document["paths"] as? [String: [String: Any]] ?? [:]
        for (path, item) in paths {
            for (method, value) in item where APIDocs.methods.contains(method) {
                let operation = value as? [String: Any] ?? [:]
                #expect(operation["security"] is [Any], "\(method.uppercased()) \(path) has no security requirement")
                #expect(operation["operationId"] is String, "\(method.uppercased()) \(path) has no operationId")
            }
        }
    }

    /// The router does not list its routes over HTTP, so the registrations are read from the source:
    /// every `.get("/…")`-style call (and `.on(.get, "/…")`) with a literal absolute path. Each one the
    /// running server answers must be documented; candidates it does not answer (modules not mounted,
    /// examples in comments) are ignored. Paths built at run time or under a group prefix escape this
    /// reading.
    @Test func everyServedRegistrationIsDocumented() async throws {
        let document = try APIDocs.jsonObject(try Foundation.Data(contentsOf: APIDocs.openAPIFile))
        let documented = APIDocs.operations(of: document)
        var candidates = Set<String>()
        let sources = APIDocs.root.appendingPathComponent("Sources")
        let walker = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)
        let call = #/\.(get|post|put|patch|delete)\(\s*"(/[^"]*)"/#
        let on = #/\.on\(\s*\.(get|post|put|patch|delete)\s*,\s*"(/[^"]*)"/#
        while let url = walker?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            let text = try String(contentsOf: url, encoding: .utf8)
            for match in text.matches(of: call) { candidates.insert("\(match.1.uppercased()) \(match.2)") }
            for match in text.matches(of: on) { candidates.insert("\(match.1.uppercased()) \(match.2)") }
        }
        #expect(candidates.count >= documented.count, "the source scan found too few registrations to be trusted")

        let (atlas, directory) = try await APIDocs.serve()
        defer { try? FileManager.default.removeItem(at: directory) }
        var served = Set<String>()
        for candidate in candidates.sorted() {
            let parts = candidate.split(separator: " ", maxSplits: 1).map(String.init)
            if try await APIDocs.isServed(method: parts[0], path: APIDocs.concrete(parts[1]), port: atlas.port).served {
                served.insert(candidate)
            }
        }
        #expect(served.subtracting(documented).isEmpty, "served but undocumented: \(served.subtracting(documented).sorted())")
        #expect(documented.subtracting(served).isEmpty, "documented but not found in the source: \(documented.subtracting(served).sorted())")
    }

    @Test func debugEcho_IsMarkedAndAbsentWithoutTheFlag() async throws {
        let document = try APIDocs.jsonObject(try Foundation.Data(contentsOf: APIDocs.openAPIFile))
        let echo = ((document["paths"] as? [String: Any])?["/debug/echo"] as? [String: Any])?["post"] as? [String: Any]
        #expect(echo?["x-atlas-debug"] as? Bool == true)
        let (atlas, directory) = try await APIDocs.serve(["ATLAS_ENABLE_DEBUG_ROUTES": "false"])
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try await !APIDocs.isServed(method: "POST", path: "/debug/echo", port: atlas.port).served)
        #expect(try await APIDocs.isServed(method: "GET", path: "/openapi.json", port: atlas.port).served)
    }

    /// `x-atlas-permission` must be the raw value of the `requires:` each registration names.
    @Test func documentedPermissions_MatchTheRegistrations() throws {
        let document = try APIDocs.jsonObject(try Foundation.Data(contentsOf: APIDocs.openAPIFile))
        let source = try String(
            contentsOf: APIDocs.root.appendingPathComponent("Sources/Core/Identity/Permission.swift"), encoding: .utf8)
        let rawValues = Dictionary(source.matches(of: #/case (\w+) = "([a-z.]+)"/#).map { (String($0.1), String($0.2)) }) { first, _ in first }
        #expect(rawValues["billingRead"] == "billing.read")
        let paths = document["paths"] as? [String: [String: Any]] ?? [:]
        let registration = #/\.(get|post|put|patch|delete)\(\s*"(/[^"]*)"\s*,\s*requires:\s*\.(\w+)/#
        var checked = 0
        let walker = FileManager.default.enumerator(at: APIDocs.root.appendingPathComponent("Sources"), includingPropertiesForKeys: nil)
        while let url = walker?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            for match in try String(contentsOf: url, encoding: .utf8).matches(of: registration) {
                guard let operation = paths[String(match.2)]?[String(match.1)] as? [String: Any] else { continue }
                checked += 1
                #expect(operation["x-atlas-permission"] as? String == rawValues[String(match.3)],
                        "\(match.1.uppercased()) \(match.2) requires \(match.3)")
            }
        }
        #expect(checked >= 15)
        for (path, item) in paths {
            for (method, value) in item where APIDocs.methods.contains(method) {
                guard let permission = (value as? [String: Any])?["x-atlas-permission"] as? String else { continue }
                #expect(Set(rawValues.values).contains(permission), "\(method.uppercased()) \(path): unknown permission \(permission)")
            }
        }
    }
}
