// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTP
import Synchronization
import Testing

/// A throw-away certificate authority and the certificates the tests serve, made with the
/// `openssl` command at test time (EC P-256, valid two days): `server` for localhost and
/// 127.0.0.1 signed by the CA, `other` signed by the CA for another name, `selfSigned` for
/// localhost signed by nobody the client trusts.
struct TestPKI: Sendable {
    let directory: String
    var ca: String { directory + "/ca.pem" }

    func certificate(_ name: String) -> (certificate: String, key: String) {
        (directory + "/\(name).pem", directory + "/\(name).key")
    }

    static let shared: Result<TestPKI, TestProcessFailure> = Result { try TestPKI() }.mapError { $0 as? TestProcessFailure ?? TestProcessFailure(message: "\($0)") }

    private init() throws {
        directory = NSTemporaryDirectory() + "atlas-tls-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try runTool("openssl", ["req", "-x509"] + ec + ["-keyout", "\(directory)/ca.key", "-out", "\(directory)/ca.pem",
                    "-days", "2", "-subj", "/CN=Atlas Test CA",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        for (name, names) in [("server", "DNS:localhost,IP:127.0.0.1"), ("other", "DNS:other.example")] {
            try runTool("openssl", ["req", "-new"] + ec + ["-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).csr",
                        "-subj", "/CN=\(name)"])
            let extensions = "\(directory)/\(name).ext"
            try "subjectAltName=\(names)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                .write(toFile: extensions, atomically: true, encoding: .utf8)
            try runTool("openssl", ["x509", "-req", "-in", "\(directory)/\(name).csr", "-CA", "\(directory)/ca.pem",
                        "-CAkey", "\(directory)/ca.key", "-CAcreateserial", "-days", "2",
                        "-out", "\(directory)/\(name).pem", "-extfile", extensions])
        }
        try runTool("openssl", ["req", "-x509"] + ec + ["-keyout", "\(directory)/selfsigned.key", "-out", "\(directory)/selfsigned.pem",
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
    }
}

struct TestProcessFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Runs a command found on PATH and waits for it; throws when it fails.
func runTool(_ name: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [name] + arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw TestProcessFailure(message: "\(name) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
    }
}

/// A Python helper on a loopback port: an HTTPS server (`http.server` wrapped with `ssl`) that
/// answers each request with JSON naming the path, the client's port (so keep-alive is
/// visible), the body and the Host field; or a forward proxy that logs each request line and
/// `Proxy-Authorization`, tunnels CONNECT and answers absolute-form requests itself.
final class PythonPeer: @unchecked Sendable {
    // @unchecked: both properties are set once in init.
    let process: Process
    let port: Int

    static let script = #"""
import json, signal, socket, socketserver, ssl, sys, threading, time
# The test runner may ignore SIGTERM (and its children inherit that); stopping must still work.
signal.signal(signal.SIGTERM, signal.SIG_DFL)
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

mode = sys.argv[1]
if mode == "https":
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_GET(self): self.answer(b"")
        def do_POST(self): self.answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        def answer(self, body):
            if self.path.startswith("/slow"): time.sleep(5)
            payload = json.dumps({"path": self.path, "peer": self.client_address[1], "body": body.decode(),
                                  "host": self.headers.get("Host")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        def log_message(self, *args): pass
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
    server.socket = context.wrap_socket(server.socket, server_side=True)
else:
    log = sys.argv[2]
    def pipe(source, target):
        try:
            while True:
                data = source.recv(65536)
                if not data: break
                target.sendall(data)
        except OSError: pass
        for s in (source, target):
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass
    class Proxy(socketserver.StreamRequestHandler):
        def handle(self):
            while True:
                line = self.rfile.readline()
                if not line: return
                fields = []
                while True:
                    field = self.rfile.readline()
                    if field in (b"\r\n", b"\n", b""): break
                    fields.append(field.decode().strip())
                auth = next((f.split(":", 1)[1].strip() for f in fields if f.lower().startswith("proxy-authorization:")), "-")
                with open(log, "a") as f: f.write(line.decode().strip() + " | " + auth + "\n")
                method, target, _ = line.decode().split(" ", 2)
                if method == "CONNECT":
                    host, port = target.rsplit(":", 1)
                    upstream = socket.create_connection((host, int(port)))
                    self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    self.wfile.flush()
                    threading.Thread(target=pipe, args=(upstream, self.connection), daemon=True).start()
                    pipe(self.connection, upstream)
                    return
                length = next((int(f.split(":", 1)[1]) for f in fields if f.lower().startswith("content-length:")), 0)
                self.rfile.read(length)
                body = line.strip()
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                self.wfile.flush()
    socketserver.ThreadingTCPServer.daemon_threads = True
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Proxy)
print(server.server_address[1], flush=True)
server.serve_forever()
"""#

    init(_ arguments: [String]) throws {
        let path = NSTemporaryDirectory() + "atlas-test-peer.py"
        try Self.script.write(toFile: path, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", path] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw TestProcessFailure(message: "the Python peer exited before naming its port") }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestProcessFailure(message: "the Python peer printed no port")
        }
        self.port = port
    }

    static func https(_ pki: TestPKI, serving name: String) throws -> PythonPeer {
        let (certificate, key) = pki.certificate(name)
        return try PythonPeer(["https", certificate, key])
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite(.serialized) struct HTTPClientTLSTests {
    struct Echo: Decodable {
        var path: String
        var peer: Int
        var body: String
        var host: String?
    }

    static func echo(_ response: HTTPClientResponse) throws -> Echo {
        try JSONDecoder().decode(Echo.self, from: Data(response.body))
    }

    @Test func trustsTheTestCA_AndKeepsOneConnectionAliveOverTLS() async throws {
        let pki = try TestPKI.shared.get()
        let server = try PythonPeer.https(pki, serving: "server")
        defer { server.stop() }
        let client = try #require(HTTPClient(url: "https://localhost:\(server.port)/base", trust: TLSTrust(additionalCAFile: pki.ca),
                                             proxy: .none))
        var peers: Set<Int> = []
        for index in 0..<3 {
            let response = try client.send("POST", "/base/v1/x?n=\(index)", headers: [("Content-Type", "text/plain")],
                                           body: Array("batch \(index)".utf8), timeout: .seconds(5))
            #expect(response.status == 200)
            let echo = try Self.echo(response)
            #expect(echo.path == "/base/v1/x?n=\(index)" && echo.body == "batch \(index)")
            #expect(echo.host == "localhost:\(server.port)")
            peers.insert(echo.peer)
        }
        let awaited = try await client.perform("GET", "/after", timeout: .seconds(5))
        peers.insert(try Self.echo(awaited).peer)
        #expect(peers.count == 1, "one TLS connection carried all four requests: \(peers)")
    }

    @Test func verifiesALiteralIPAddressAgainstTheCertificate() throws {
        let pki = try TestPKI.shared.get()
        let server = try PythonPeer.https(pki, serving: "server")
        defer { server.stop() }
        let client = try #require(HTTPClient(url: "https://127.0.0.1:\(server.port)", trust: TLSTrust(additionalCAFile: pki.ca), proxy: .none))
        #expect(try client.send("GET", "/ip", timeout: .seconds(5)).status == 200)
    }

    /// A certificate for another name, and a self-signed one, are refused with OpenSSL's reason.
    @Test(arguments: [("other", "hostname mismatch"), ("selfsigned", "certificate verify failed")])
    func refusesCertificatesThatDoNotProveTheName(certificate: String, reason: String) throws {
        let pki = try TestPKI.shared.get()
        let server = try PythonPeer.https(pki, serving: certificate)
        defer { server.stop() }
        let client = try #require(HTTPClient(url: "https://localhost:\(server.port)", trust: TLSTrust(additionalCAFile: pki.ca), proxy: .none))
        #expect {
            _ = try client.send("GET", "/", timeout: .seconds(5))
        } throws: { error in
            guard let error = error as? HTTPClientError else { return false }
            return error.kind == .tls && error.detail.contains(reason)
        }
    }

    @Test func refusesTheTestCAWhenOnlyTheSystemStoreIsTrusted() throws {
        let pki = try TestPKI.shared.get()
        let server = try PythonPeer.https(pki, serving: "server")
        defer { server.stop() }
        let client = try #require(HTTPClient(url: "https://localhost:\(server.port)", proxy: .none))
        #expect { _ = try client.send("GET", "/", timeout: .seconds(5)) } throws: { ($0 as? HTTPClientError)?.kind == .tls }
    }

    @Test func aHangingTLSPeerCostsOnlyTheTimeout() throws {
        // A peer that accepts the connection and never answers the ClientHello.
        let silent = try ScriptedPeer(connections: [[]])
        defer { silent.stop() }
        let client = try #require(HTTPClient(url: "https://127.0.0.1:\(silent.port)", proxy: .none))
        var start = ContinuousClock.now
        #expect { _ = try client.send("GET", "/", timeout: .milliseconds(300)) } throws: { ($0 as? HTTPClientError)?.kind == .timeout }
        #expect(ContinuousClock.now - start < .seconds(2))

        // A peer that completes the handshake and then takes too long to answer.
        let pki = try TestPKI.shared.get()
        let server = try PythonPeer.https(pki, serving: "server")
        defer { server.stop() }
        let slow = try #require(HTTPClient(url: "https://localhost:\(server.port)", trust: TLSTrust(additionalCAFile: pki.ca), proxy: .none))
        start = ContinuousClock.now
        #expect { _ = try slow.send("GET", "/slow", timeout: .milliseconds(500)) } throws: { ($0 as? HTTPClientError)?.kind == .timeout }
        #expect(ContinuousClock.now - start < .seconds(3))
        // The connection that timed out is not reused: the next request gets a fresh one.
        #expect(try slow.send("GET", "/fast", timeout: .seconds(5)).status == 200)
    }

    @Test func tunnelsHTTPSThroughAProxyWithCONNECT() throws {
        let pki = try TestPKI.shared.get()
        let server = try PythonPeer.https(pki, serving: "server")
        defer { server.stop() }
        let log = NSTemporaryDirectory() + "atlas-proxy-\(UUID().uuidString.prefix(8)).log"
        let proxy = try PythonPeer(["proxy", log])
        defer { proxy.stop() }
        let settings = ProxyConfiguration(httpsProxy: "http://user:s%40cret@127.0.0.1:\(proxy.port)")
        let client = try #require(HTTPClient(url: "https://localhost:\(server.port)", trust: TLSTrust(additionalCAFile: pki.ca), proxy: settings))
        for _ in 0..<2 {
            let response = try client.send("GET", "/through", timeout: .seconds(5))
            #expect(try Self.echo(response).path == "/through")
        }
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        // user:s@cret in base64; one tunnel carried both requests.
        #expect(lines == ["CONNECT localhost:\(server.port) HTTP/1.1 | Basic dXNlcjpzQGNyZXQ="])
    }

    @Test func sendsPlainRequestsToTheProxyInAbsoluteForm() throws {
        let log = NSTemporaryDirectory() + "atlas-proxy-\(UUID().uuidString.prefix(8)).log"
        let proxy = try PythonPeer(["proxy", log])
        defer { proxy.stop() }
        let settings = ProxyConfiguration.environment(["http_proxy": "127.0.0.1:\(proxy.port)", "NO_PROXY": "bypassed.example"])
        let client = try #require(HTTPClient(url: "http://origin.invalid:8080", proxy: settings))
        let response = try client.send("GET", "/x?y=1", timeout: .seconds(5))
        #expect(String(decoding: response.body, as: UTF8.self) == "GET http://origin.invalid:8080/x?y=1 HTTP/1.1")
        // NO_PROXY sends this one directly, where the name does not resolve.
        let direct = try #require(HTTPClient(url: "http://api.bypassed.example", proxy: settings))
        #expect { _ = try direct.send("GET", "/", timeout: .seconds(2)) } throws: { ($0 as? HTTPClientError)?.kind == .connect }
    }

    @Test func readsProxySettingsAsLibcurlDoes() {
        let settings = ProxyConfiguration.environment([
            "HTTPS_PROXY": "http://upper:3128", "https_proxy": "http://lower:3128", "HTTP_PROXY": "http://plain:8080",
            "no_proxy": " .internal.example, localhost:8080 ,10.0.0.1,[::1]",
        ])
        #expect(settings.httpsProxy == "http://lower:3128" && settings.httpProxy == "http://plain:8080")
        #expect(settings.bypasses("internal.example") && settings.bypasses("api.internal.example"))
        #expect(settings.bypasses("localhost") && settings.bypasses("10.0.0.1") && settings.bypasses("::1"))
        #expect(!settings.bypasses("notinternal.example") && !settings.bypasses("api.openai.com"))
        #expect(ProxyConfiguration(noProxy: ["*"]).bypasses("anything.example"))
        #expect(ProxyConfiguration.environment([:]) == .none)
    }

    @Test func anUnsupportedProxySchemeFailsInsteadOfGoingDirect() throws {
        let client = try #require(HTTPClient(url: "https://localhost:1", proxy: ProxyConfiguration(httpsProxy: "socks5://127.0.0.1:1080")))
        #expect { _ = try client.send("GET", "/", timeout: .seconds(2)) } throws: { error in
            guard let error = error as? HTTPClientError else { return false }
            return error.kind == .connect && error.detail.contains("socks5")
        }
    }
}
