// Atlas — AtlasTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Storage
import Testing

/// Files and tools the delivery checks share.
enum Delivery {
    static let root = APIDocs.root

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// Runs a program to completion from the repository root.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = root
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }

    /// An executable from the tools venv (`scripts/install-tools.sh`) or the PATH, if installed.
    static func tool(_ name: String) -> String? {
        let candidates = [root.appendingPathComponent(".build-tools/venv/bin/\(name)").path]
            + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/\(name)" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A YAML file as JSON objects, read by PyYAML (python3-yaml, installed by `make test`).
    static func yaml(_ path: String) throws -> Any {
        // Debian's python3 first: a python3 earlier on the PATH may lack the yaml module.
        let pythons = ["/usr/bin/python3", tool("python3")].compactMap { $0 }.filter { FileManager.default.isExecutableFile(atPath: $0) }
        var failure = "no python3 found"
        for python in pythons {
            let result = try run(python, ["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", path])
            if result.status == 0 { return try JSONSerialization.jsonObject(with: Foundation.Data(result.stdout.utf8)) }
            failure = result.stderr
        }
        throw AtlasProcessError(message: "cannot read \(path) as YAML: \(failure)")
    }

    /// The `ATLAS_*` names in README.md's configuration tables.
    static func readmeVariables() throws -> Set<String> {
        let readme = try text("README.md")
        var names = Set<String>()
        for line in readme.split(separator: "\n") where line.hasPrefix("| `ATLAS_") {
            let cell = line.split(separator: "|").first ?? ""
            for match in cell.matches(of: /`(ATLAS_[A-Z0-9_]+)`/) { names.insert(String(match.1)) }
        }
        return names
    }
}

/// The container image, the compose demo, the Terraform module and the CI workflow, checked with
/// what runs on this machine (no Docker engine, no AWS): their own linters and parsers when
/// installed, and the rules below always.
@Suite struct DeliveryTests {
    // MARK: Dockerfile

    /// Dockerfile instructions with continuation lines joined and comments dropped.
    static func dockerInstructions() throws -> [(keyword: String, arguments: String)] {
        var instructions: [(String, String)] = []
        var pending = ""
        for raw in try Delivery.text("Dockerfile").split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if pending.isEmpty && (line.isEmpty || line.hasPrefix("#")) { continue }
            if line.hasPrefix("#") { continue }
            if line.hasSuffix("\\") {
                pending += line.dropLast() + " "
                continue
            }
            let full = pending + line
            pending = ""
            let keyword = full.prefix { !$0.isWhitespace }.uppercased()
            instructions.append((keyword, full.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces)))
        }
        return instructions
    }

    @Test func dockerfileFollowsTheImageRules() throws {
        let instructions = try Self.dockerInstructions()
        var arguments: [String: String] = [:]
        for instruction in instructions where instruction.keyword == "ARG" {
            let parts = instruction.arguments.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { arguments[parts[0]] = parts[1] }
        }
        let stages = instructions.filter { $0.keyword == "FROM" }.map { instruction -> String in
            var image = String(instruction.arguments.split(separator: " ").first ?? "")
            for (name, value) in arguments { image = image.replacingOccurrences(of: "${\(name)}", with: value) }
            return image
        }
        #expect(stages.count == 2, "a build stage and a runtime stage")
        for image in stages {
            let tag = image.split(separator: ":").dropFirst().first.map(String.init) ?? ""
            #expect(!tag.isEmpty && tag != "latest", "\(image) must name a tag, not latest")
        }
        #expect(stages.first?.hasPrefix("swift:6.") == true, "build with the official Swift 6 image")
        #expect(stages.last == "debian:bookworm-slim", "run on slim Debian 12")

        let runtime = instructions.split { $0.keyword == "FROM" }.last ?? []
        let users = runtime.filter { $0.keyword == "USER" }.map(\.arguments)
        #expect(users.count == 1 && !["root", "0", "0:0"].contains(users[0]), "the runtime runs as a non-root user")
        let health = try #require(runtime.first { $0.keyword == "HEALTHCHECK" }?.arguments)
        #expect(health.contains("healthcheck") || health.contains("/health/live"))
        #expect(runtime.contains { $0.keyword == "EXPOSE" && $0.arguments == "8000" })
        #expect(runtime.contains { $0.keyword == "ENTRYPOINT" && $0.arguments.hasPrefix("[") }, "exec form, so SIGTERM reaches atlas")

        for instruction in instructions {
            if instruction.keyword == "ADD" {
                #expect(!instruction.arguments.contains("://"), "no ADD of URLs: \(instruction.arguments)")
            }
            guard instruction.keyword == "RUN", instruction.arguments.contains("apt-get install") else { continue }
            #expect(instruction.arguments.contains("--no-install-recommends"))
            #expect(instruction.arguments.contains("rm -rf /var/lib/apt/lists/*"), "apt lists are removed in the same layer")
            #expect(instruction.arguments.contains("apt-get update"), "update and install in one layer")
        }
        // The runtime carries the C libraries atlas links and nothing to build or fetch with.
        let runtimeInstall = runtime.first { $0.keyword == "RUN" && $0.arguments.contains("apt-get install") }?.arguments ?? ""
        for library in ["libsqlite3-0", "libpq5", "libssl3", "zlib1g", "ca-certificates", "tzdata"] {
            #expect(runtimeInstall.contains(" \(library) ") || runtimeInstall.contains(" \(library)\n"), "runtime lacks \(library)")
        }
        for unwanted in ["-dev", " curl ", " wget ", " gcc", " git ", "libcurl"] {
            #expect(!runtimeInstall.contains(unwanted), "runtime installs \(unwanted)")
        }
        let build = instructions.first { $0.keyword == "RUN" && $0.arguments.contains("swift build") }?.arguments ?? ""
        #expect(build.contains("--static-swift-stdlib") && build.contains("-c release"))

        // Everything the manifest and its build plugins read is copied, and .dockerignore keeps it.
        let copied = instructions.filter { $0.keyword == "COPY" }.map(\.arguments)
        let ignored = try Delivery.text(".dockerignore").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        for path in ["Package.swift", "Plugins", "Sources", "Tests", "Migrations", "docs/api"] {
            #expect(copied.contains { $0.hasPrefix(path + " ") }, "COPY \(path) is missing")
            #expect(!ignored.contains(path) && !ignored.contains(path.split(separator: "/").first.map(String.init) ?? path),
                    ".dockerignore drops \(path)")
        }
    }

    @Test func hadolintAcceptsTheDockerfile() throws {
        guard let hadolint = Delivery.tool("hadolint") else { return }
        let result = try Delivery.run(hadolint, ["--no-color", "Dockerfile"])
        #expect(result.status == 0, "hadolint: \(result.stdout)\(result.stderr)")
    }

    // MARK: Compose

    @Test func composeRunsAtlasOnPostgreSQLWithTheObservabilityStack() throws {
        let compose = try #require(Delivery.yaml("docker-compose.yml") as? [String: Any])
        let services = try #require(compose["services"] as? [String: [String: Any]])
        #expect(Set(services.keys) == ["postgres", "atlas", "otel-collector", "prometheus", "grafana"])
        let atlas = try #require(services["atlas"])
        let environment = try #require(atlas["environment"] as? [String: String])

        // The reference design's URL, exactly, and Atlas parses it as PostgreSQL on the postgres service.
        let url = try #require(environment["ATLAS_DATABASE_URL"])
        #expect(url == "postgresql+psycopg://atlas:atlas@postgres:5432/atlas")
        guard case .postgres(let parameters) = try DatabaseLocation(url: url) else {
            Issue.record("\(url) is not read as PostgreSQL")
            return
        }
        #expect(parameters.host == "postgres" && parameters.port == "5432" && parameters.database == "atlas" && parameters.user == "atlas")

        let dependsOn = try #require(atlas["depends_on"] as? [String: [String: String]])
        #expect(dependsOn["postgres"]?["condition"] == "service_healthy")
        let postgresHealth = try #require(services["postgres"]?["healthcheck"] as? [String: Any])
        #expect("\(postgresHealth["test"] ?? "")".contains("pg_isready"))
        #expect((atlas["command"] as? [String]) == ["serve"], "atlas serve migrates before it listens")

        // Every ATLAS_* setting is a documented one; telemetry goes to the collector service.
        let documented = try Delivery.readmeVariables()
        for name in environment.keys where name.hasPrefix("ATLAS_") {
            #expect(documented.contains(name), "\(name) is set in docker-compose.yml but not in README.md's table")
        }
        #expect(environment["ATLAS_OTLP_ENDPOINT"] == "http://otel-collector:4318")
        #expect(try Delivery.text("docker-compose.yml").contains("${CORE_API_BEARER_TOKEN"))

        // Prometheus presents the bearer token atlas expects, from the file its config names.
        let token = try Delivery.text("infra/compose/atlas-metrics-token").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(environment["ATLAS_METRICS_TOKEN"] == token)
        let prometheus = try #require(Delivery.yaml("infra/observability/prometheus.yml") as? [String: Any])
        let scrape = try #require((prometheus["scrape_configs"] as? [[String: Any]])?.first { $0["job_name"] as? String == "atlas" })
        let credentials = (scrape["authorization"] as? [String: String])?["credentials_file"]
        let prometheusVolumes = services["prometheus"]?["volumes"] as? [String] ?? []
        #expect(prometheusVolumes.contains { $0.hasSuffix(":\(credentials ?? "-"):ro") })
        #expect("\(scrape["static_configs"] ?? "")".contains("atlas:8000"))

        // Every file the services mount is in the repository.
        for (name, service) in services {
            for volume in service["volumes"] as? [String] ?? [] where volume.hasPrefix("./") {
                let source = String(volume.split(separator: ":")[0].dropFirst(2))
                #expect(FileManager.default.fileExists(atPath: Delivery.root.appendingPathComponent(source).path), "\(name) mounts missing \(source)")
            }
        }
        let grafanaVolumes = services["grafana"]?["volumes"] as? [String] ?? []
        #expect(grafanaVolumes.contains { $0.hasPrefix("./infra/observability/grafana-dashboard.json:") })
        let dashboard = try JSONSerialization.jsonObject(with: Foundation.Data(contentsOf: Delivery.root.appendingPathComponent("infra/observability/grafana-dashboard.json")))
        #expect((dashboard as? [String: Any])?["panels"] != nil)
    }

    @Test func dockerComposeConfigAcceptsTheFile() throws {
        guard let tool = Delivery.tool("docker-compose") else { return }
        let result = try Delivery.run(tool, ["-f", "docker-compose.yml", "config", "--quiet"])
        #expect(result.status == 0, "docker-compose config: \(result.stderr)")
    }

    // MARK: Terraform

    static func terraformFiles() throws -> [String: String] {
        let directory = Delivery.root.appendingPathComponent("infra/terraform")
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".tf") {
            files[name] = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        }
        return files
    }

    @Test func terraformIsFormattedAndNamesOnlyDocumentedVariables() throws {
        if let terraform = Delivery.tool("terraform") {
            let result = try Delivery.run(terraform, ["fmt", "-check", "-recursive", "-no-color"])
            #expect(result.status == 0, "terraform fmt -check: \(result.stdout)")
        }
        let files = try Self.terraformFiles()
        let all = files.values.joined(separator: "\n")
        let documented = try Delivery.readmeVariables()
        let named = Set(all.matches(of: /\b(ATLAS_[A-Z0-9_]+)\b/).map { String($0.1) })
        #expect(named.count >= 10)
        for name in named {
            #expect(documented.contains(name), "\(name) is in the task definition but not in README.md's table")
        }
        // The secrets reach the task as secrets, never as plain environment values.
        for secret in ["ATLAS_DATABASE_URL", "ATLAS_AUTH_SECRET", "ATLAS_AUTH_PASSWORD", "ATLAS_STRIPE_WEBHOOK_SECRET", "ATLAS_METRICS_TOKEN"] {
            #expect(files["secrets.tf"]?.contains("\"\(secret)\"") == true, "\(secret) is not a Secrets Manager secret")
            #expect(files["service.tf"]?.contains("\(secret) ") != true, "\(secret) is set as a plain environment value")
        }
        let service = try #require(files["service.tf"])
        #expect(service.contains("path                = \"/health/live\""))
        #expect(service.contains("ECSServiceAverageCPUUtilization") && service.contains("ALBRequestCountPerTarget"))
        #expect(service.contains("ATLAS_ENVIRONMENT          = \"production\""))
        let database = try #require(files["database.tf"])
        #expect(database.contains("storage_encrypted     = true"))
        #expect(database.contains("backup_retention_period   = var.db_backup_retention_days"))
        #expect(database.contains("multi_az               = var.db_multi_az"))

        // Every variable says what it is for.
        let variables = try #require(files["variables.tf"])
        let blocks = variables.components(separatedBy: "\nvariable \"").dropFirst()
        #expect(blocks.count >= 20)
        for block in blocks {
            let name = block.prefix { $0 != "\"" }
            #expect(block.contains("description ="), "variable \(name) has no description")
        }
        #expect(variables.components(separatedBy: "validation {").count - 1 >= 20)
        // Every output is described too.
        let outputs = try #require(files["outputs.tf"])
        #expect(outputs.components(separatedBy: "output \"").count - 1 == outputs.components(separatedBy: "description =").count - 1)
    }

    // MARK: CI

    @Test func ciWorkflowBuildsTestsValidatesAndBuildsTheImage() throws {
        let workflow = try #require(Delivery.yaml(".github/workflows/ci.yml") as? [String: Any])
        let jobs = try #require(workflow["jobs"] as? [String: [String: Any]])
        func commands(_ job: String) -> String {
            ((jobs[job]?["steps"] as? [[String: Any]]) ?? []).compactMap { $0["run"] as? String }.joined(separator: "\n")
        }
        func uses(_ job: String) -> [String] {
            ((jobs[job]?["steps"] as? [[String: Any]]) ?? []).compactMap { $0["uses"] as? String }
        }
        #expect(commands("test").contains("make test"))
        let container = "\(jobs["test"]?["container"] ?? "")"
        #expect(container.contains("swift:6."))
        #expect(commands("terraform").contains("terraform fmt -check -recursive"))
        #expect(commands("terraform").contains("terraform init -backend=false"))
        #expect(commands("terraform").contains("terraform validate"))
        #expect(uses("image").contains { $0.hasPrefix("docker/build-push-action@") })
        #expect(uses("image").contains { $0.hasPrefix("hadolint/hadolint-action@") })
        for job in jobs.keys {
            for action in uses(job) {
                #expect(action.contains("@v"), "\(action) is not pinned to a version")
            }
        }
        // `make test` is what CI and the README promise to run: the Makefile target must exist.
        #expect(try Delivery.text("Makefile").contains("\ntest:"))
    }
}

/// A one-route HTTP receiver on loopback standing in for n8n: it records every delivery.
final class WebhookReceiver: @unchecked Sendable {
    struct Delivery {
        var headers: [String: String]
        var body: [UInt8]
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Foundation.Data(body)) as? [String: Any] }
    }

    // @unchecked: `received` is guarded by `lock`; `fd` is written once before the thread starts.
    private let lock = NSLock()
    private var received: [Delivery] = []
    private let fd: Int32
    let port: Int

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw AtlasProcessError(message: "cannot listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        fd = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                self.serve(client)
            }
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headers: [String: String]?
        var headEnd = 0
        var sentContinue = false
        while true {
            if headers == nil, let end = Self.find([13, 10, 13, 10], in: bytes) {
                headEnd = end + 4
                var parsed: [String: String] = [:]
                for line in String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n").dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    parsed[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                headers = parsed
            }
            if let headers {
                if headers["expect"]?.lowercased() == "100-continue", !sentContinue {
                    sentContinue = true
                    _ = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8).withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
                let length = Int(headers["content-length"] ?? "0") ?? 0
                if bytes.count - headEnd >= length {
                    lock.withLock { received.append(Delivery(headers: headers, body: Array(bytes[headEnd..<headEnd + length]))) }
                    _ = Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8).withUnsafeBytes {
                        send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                    }
                    return
                }
            }
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            bytes.append(contentsOf: buffer[0..<n])
        }
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        return (0...(bytes.count - needle.count)).first { Array(bytes[$0..<$0 + needle.count]) == needle }
    }

    var deliveries: [Delivery] { lock.withLock { received } }

    /// Waits until a delivery of each `types` arrived; returns the first of each.
    func wait(for types: Set<String>, timeout: Duration) async throws -> [String: Delivery] {
        let clock = ContinuousClock()
        let start = clock.now
        while true {
            var found: [String: Delivery] = [:]
            for delivery in deliveries {
                if let type = delivery.json?["type"] as? String, types.contains(type), found[type] == nil { found[type] = delivery }
            }
            if Set(found.keys) == types { return found }
            if clock.now - start > timeout {
                throw AtlasProcessError(message: "only \(found.keys.sorted()) of \(types.sorted()) arrived within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

/// The n8n recipes in automation/n8n/ against the webhooks a real `atlas` sends, and the
/// runbooks in automation/playbooks/ against the binary's commands, routes and metrics.
@Suite(.serialized) struct AutomationTests {
    static let workflows = ["automation/n8n/atlas-human-review.json", "automation/n8n/atlas-cost-alerts.json"]

    static func workflow(_ path: String) throws -> [String: Any] {
        let data = try Foundation.Data(contentsOf: Delivery.root.appendingPathComponent(path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Every string inside a JSON value.
    static func strings(_ value: Any) -> [String] {
        switch value {
        case let text as String: return [text]
        case let array as [Any]: return array.flatMap(strings)
        case let object as [String: Any]: return object.values.flatMap(strings)
        default: return []
        }
    }

    /// `$json.body.a.b` paths an n8n expression reads, as ["a", "b"].
    static func bodyReferences(_ text: String) -> [[String]] {
        text.matches(of: /\$json\.body\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)/).map {
            $0.1.split(separator: ".").map(String.init)
        }
    }

    @Test func workflowsAreImportableGraphsThatVerifyTheSignature() throws {
        let known: Set<String> = ["n8n-nodes-base.webhook", "n8n-nodes-base.code", "n8n-nodes-base.if",
                                  "n8n-nodes-base.httpRequest", "n8n-nodes-base.executeWorkflow",
                                  "n8n-nodes-base.executeWorkflowTrigger", "n8n-nodes-base.noOp"]
        for path in Self.workflows {
            let workflow = try Self.workflow(path)
            #expect(workflow["name"] is String)
            let nodes = try #require(workflow["nodes"] as? [[String: Any]])
            let names = Set(nodes.compactMap { $0["name"] as? String })
            #expect(names.count == nodes.count, "\(path): node names must be unique")
            for node in nodes {
                #expect(known.contains(node["type"] as? String ?? ""), "\(path): unexpected node type \(node["type"] ?? "")")
                #expect(node["parameters"] is [String: Any] && node["position"] is [Any] && node["typeVersion"] != nil)
            }
            let connections = try #require(workflow["connections"] as? [String: [String: [[[String: Any]]]]])
            for (source, outputs) in connections {
                #expect(names.contains(source), "\(path): connection from unknown node \(source)")
                for target in (outputs["main"] ?? []).flatMap({ $0 }) {
                    #expect(names.contains(target["node"] as? String ?? ""), "\(path): connection to unknown node")
                }
            }
            let webhook = try #require(nodes.first { $0["type"] as? String == "n8n-nodes-base.webhook" })
            let parameters = try #require(webhook["parameters"] as? [String: Any])
            #expect(parameters["httpMethod"] as? String == "POST")
            #expect((parameters["options"] as? [String: Any])?["rawBody"] as? Bool == true, "the signature covers the raw body")
            let code = Self.strings(nodes.filter { $0["type"] as? String == "n8n-nodes-base.code" }.map { $0["parameters"] ?? [:] }).joined()
            for fragment in ["x-atlas-signature", "createHmac('sha256'", "timingSafeEqual", "> 300", "ATLAS_ALERT_WEBHOOK_SECRET"] {
                #expect(code.contains(fragment), "\(path): the signature check lacks \(fragment)")
            }
        }
    }

    static func signatureIsValid(_ delivery: WebhookReceiver.Delivery, secret: String) throws -> Bool {
        let header = try #require(delivery.headers["x-atlas-signature"])
        let fields = Dictionary(header.split(separator: ",").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }
            .filter { $0.count == 2 }.map { ($0[0], $0[1]) }, uniquingKeysWith: { first, _ in first })
        let timestamp = try #require(fields["t"])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-signed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Foundation.Data(Array("\(timestamp).".utf8) + delivery.body).write(to: file)
        let openssl = try #require(Delivery.tool("openssl"))
        let result = try Delivery.run(openssl, ["dgst", "-sha256", "-hmac", secret, "-r", file.path])
        return result.stdout.split(separator: " ").first.map(String.init) == fields["v1"]
    }

    /// Atlas's own deliveries: a budget alert and a cost anomaly from a real `atlas` with real
    /// usage, and a review request from a real assistant run where the runs route is served.
    @Test func workflowExpressionsReadOnlyFieldsAtlasSends() async throws {
        let receiver = try WebhookReceiver()
        let secret = "n8n-shared-secret"
        let (atlas, directory) = try await APIDocs.serve([
            "ATLAS_ALERT_WEBHOOK_URL": "http://127.0.0.1:\(receiver.port)/webhook/atlas-notices",
            "ATLAS_ALERT_WEBHOOK_SECRET": secret,
            "ATLAS_OUTBOX_POLL_INTERVAL": "1",
            "ATLAS_COST_ANOMALY_INTERVAL": "1",
            "ATLAS_COST_ANOMALY_MIN_TOKENS": "1000",
            "ATLAS_AI_EVALUATION_MODE": "strict",
        ])
        defer { try? FileManager.default.removeItem(at: directory) }
        let token = try await UsageDurabilityTests.token(port: atlas.port)
        func send(_ method: String, _ path: String, _ body: String) async throws -> HTTPClient.Response {
            try await HTTPClient.request(port: atlas.port, raw: "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nX-Atlas-Tenant: demo\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        }
        let budget = try await send("PUT", "/tenants/demo/budget", #"{"monthly_tokens":4000000,"alert_thresholds":[50],"enforce":false}"#)
        #expect(budget.status == 200, "\(String(decoding: budget.body, as: UTF8.self))")
        let usage = try await UsageDurabilityTests.postUsage(port: atlas.port, token: token, tokens: 2_500_000, key: "n8n-1")
        #expect(usage.status == 202)
        var expected: Set<String> = ["budget.threshold_crossed", "usage.cost_anomaly"]
        let run = try await send("POST", "/ai/runs?wait=true", #"{"question":"This is terrible, escalations are broken: how do I route escalations to humans?"}"#)
        if run.status != 404 { expected.insert("ai.review_requested") }
        let deliveries = try await receiver.wait(for: expected, timeout: .seconds(60))
        atlas.signal(SIGTERM)
        _ = try await atlas.waitForExit()

        var payloads: [String: [String: Any]] = [:]
        for (type, delivery) in deliveries {
            #expect(try Self.signatureIsValid(delivery, secret: secret), "\(type): X-Atlas-Signature does not verify")
            payloads[type] = try #require(delivery.json)
        }
        if payloads["ai.review_requested"] == nil {
            // The runs route is not served by this build: the notice as the assistant builds it.
            let evaluation: [String: Any] = ["needs_review": true, "hallucination_risk": 0.4, "sentiment": "negative"]
            payloads["ai.review_requested"] = [
                "type": "ai.review_requested", "id": "run_1:review:4", "tenant": "demo", "summary": "An assistant answer waits for review",
                "occurred_at": "2026-11-26T10:00:00Z", "run_id": "run_1", "question": "q", "response": "a",
                "evaluation": evaluation, "review_url": "/ai/runs/run_1", "runbook": "automation/playbooks/human-review.md",
            ]
        }

        var checked = 0
        for path in Self.workflows {
            for node in try #require(Self.workflow(path)["nodes"] as? [[String: Any]]) {
                let notes = node["notes"] as? String ?? ""
                let types = notes.hasPrefix("payload: ") ? [String(notes.dropFirst("payload: ".count))] : Array(payloads.keys)
                for reference in Self.strings(node["parameters"] ?? [:]).flatMap(Self.bodyReferences) {
                    for type in types {
                        let payload = try #require(payloads[type], "\(path): node \(node["name"] ?? "") names unknown payload \(type)")
                        var value: Any? = payload
                        for key in reference { value = (value as? [String: Any])?[key] }
                        #expect(value != nil, "\(path): \(node["name"] ?? "") reads $json.body.\(reference.joined(separator: ".")), which \(type) does not carry")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked >= 20)
        // The runbook each notice names is in the repository.
        for (type, payload) in payloads {
            if let runbook = payload["runbook"] as? String {
                #expect(FileManager.default.fileExists(atPath: Delivery.root.appendingPathComponent(runbook).path), "\(type) names missing \(runbook)")
            }
        }
    }

    static let playbooks = ["human-review.md", "cost-anomaly.md", "incident-response.md", "secret-rotation.md", "restore-from-backup.md"]

    static func playbook(_ name: String) throws -> String {
        try Delivery.text("automation/playbooks/\(name)")
    }

    @Test func playbooksNameRealMetricsAndVariables() throws {
        // Metric names: the literal ones and the module counters exported under their prefixes.
        let sources = Delivery.root.appendingPathComponent("Sources")
        var metricNames = Set<String>()
        let enumerator = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)
        while let file = enumerator?.nextObject() as? URL {
            guard file.pathExtension == "swift", let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
            for match in text.matches(of: /"(atlas_[a-z0-9_]+)"/) { metricNames.insert(String(match.1)) }
            let prefix = file.path.contains("/Sources/Billing/") ? "atlas_billing_" : file.path.contains("/Sources/AI/") ? "atlas_ai_" : nil
            if let prefix {
                // Counter names are literals passed to `increment`, sometimes through a conditional.
                for match in text.matches(of: /"([a-z0-9_]+_total)"/) { metricNames.insert(prefix + match.1) }
            }
        }
        let documented = try Delivery.readmeVariables()
        var variablesInCode = Set<String>()
        let codeEnumerator = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)
        while let file = codeEnumerator?.nextObject() as? URL {
            guard file.pathExtension == "swift", let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
            for match in text.matches(of: /"(ATLAS_[A-Z0-9_]+)"/) { variablesInCode.insert(String(match.1)) }
        }
        for name in Self.playbooks {
            let text = try Self.playbook(name)
            for match in text.matches(of: /\b(atlas_[a-z0-9_]+)\b/) {
                var metric = String(match.1)
                if metric == "atlas_schema_migrations" { continue }
                for suffix in ["_bucket", "_sum", "_count"] where metric.hasSuffix(suffix) && !metricNames.contains(metric) {
                    metric = String(metric.dropLast(suffix.count))
                }
                #expect(metricNames.contains(metric), "\(name) names metric \(match.1), which Atlas does not export")
            }
            for match in text.matches(of: /\b(ATLAS_[A-Z0-9_]+)\b/) {
                let variable = String(match.1)
                #expect(documented.contains(variable) || variablesInCode.contains(variable), "\(name) names \(variable), which Atlas does not read")
            }
        }
    }

    @Test func playbooksNameRealCommandsAndRoutes() async throws {
        // Commands: every `atlas <word>` is a subcommand the binary lists.
        let help = try AtlasProcess.run(["--help"])
        let subcommands = Set(help.stdout.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("  "), let word = trimmed.split(separator: " ").first else { return nil }
            return String(word)
        })
        #expect(subcommands.isSuperset(of: ["serve", "migrate", "backup", "restore", "healthcheck"]))
        var routes = Set<String>()
        for name in Self.playbooks {
            let text = try Self.playbook(name)
            for match in text.matches(of: /(?:^|[\s`(])atlas ([a-z][a-z-]*)/) {
                #expect(subcommands.contains(String(match.1)), "\(name): atlas \(match.1) is not a command")
            }
            // Routes: `GET /x/{y}` in prose and `"$ATLAS_URL/x/..."` in commands.
            for match in text.matches(of: /\b(GET|POST|PUT|PATCH|DELETE) (\/[A-Za-z0-9_\/{}.-]*)/) {
                routes.insert("\(match.1) \(match.2)")
            }
            for line in text.split(separator: "\n") {
                guard let url = line.firstMatch(of: /"\$BASE_URL(\/[^"?\s]*)/) else { continue }
                let method = line.firstMatch(of: /-X (GET|POST|PUT|PATCH|DELETE)/).map { String($0.1) } ?? "GET"
                routes.insert("\(method) \(url.1.replacing(/\$[A-Z_]+/, with: "{x}"))")
            }
        }
        #expect(routes.count >= 10)
        // Each route answers something other than 404/405 on a real server: protected routes say 401.
        let (atlas, directory) = try await APIDocs.serve()
        defer { try? FileManager.default.removeItem(at: directory) }
        for route in routes.sorted() {
            let parts = route.split(separator: " ")
            let path = String(parts[1]).replacing(/\{[a-z_]+\}/, with: "demo").replacing(/\/$/, with: "")
            let response = try await HTTPClient.request(port: atlas.port, raw: "\(parts[0]) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            #expect(response.status != 404 && response.status != 405, "playbooks name \(route), which atlas does not serve (\(response.status))")
        }
        atlas.signal(SIGTERM)
        _ = try await atlas.waitForExit()
    }
}

/// docs/api/openapi.yaml is the document `GET /openapi.json` serves, in YAML.
@Suite struct OpenAPIYAMLTests {
    @Test func yamlDocumentIsWhatTheServerServes() async throws {
        let yaml = try #require(Delivery.yaml("docs/api/openapi.yaml") as? NSDictionary)
        let (atlas, directory) = try await APIDocs.serve()
        defer { try? FileManager.default.removeItem(at: directory) }
        let served = try await HTTPClient.get(port: atlas.port, path: "/openapi.json")
        atlas.signal(SIGTERM)
        _ = try await atlas.waitForExit()
        #expect(served.status == 200)
        let document = try #require(try JSONSerialization.jsonObject(with: Foundation.Data(served.body)) as? NSDictionary)
        #expect(yaml.isEqual(document), "docs/api/openapi.yaml differs from GET /openapi.json: run make openapi-yaml")
        let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : try #require(Delivery.tool("python3"))
        let check = try Delivery.run(python, ["scripts/openapi-yaml.py", "--check"])
        #expect(check.status == 0, "\(check.stderr)")
    }
}
