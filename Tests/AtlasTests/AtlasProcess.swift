// Atlas — AtlasTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// A real `atlas` child process, started from the binary SwiftPM built next to the test bundle.
final class AtlasProcess: @unchecked Sendable {
    // @unchecked: `process` and the pipes are only touched from the test that owns this object.
    let process = Process()
    let stdout = Pipe()
    let stderr = Pipe()
    /// Where a server's output goes: files, not pipes, since a pipe nobody reads fills up (64 KiB)
    /// and then blocks the server's next log write, access log included.
    let logDirectory: URL
    let port: Int

    static var binary: URL {
        // The test bundle lives in .build/<config>/; the `atlas` executable is built beside it.
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("atlas").path),
              directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("atlas")
    }

    /// A temporary folder removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A port that was free a moment ago.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    init(arguments: [String], environment: [String: String] = [:], port: Int = AtlasProcess.freePort(),
         capturesOutput: Bool = false) throws {
        self.port = port
        logDirectory = try Self.temporaryDirectory()
        process.executableURL = Self.binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ATLAS_") }
        env["ATLAS_HOST"] = "127.0.0.1"
        env["ATLAS_PORT"] = String(port)
        env.merge(environment) { _, new in new }
        process.environment = env
        if capturesOutput {
            process.standardOutput = stdout
            process.standardError = stderr
        } else {
            FileManager.default.createFile(atPath: logDirectory.appendingPathComponent("stdout.log").path, contents: nil)
            FileManager.default.createFile(atPath: logDirectory.appendingPathComponent("stderr.log").path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: logDirectory.appendingPathComponent("stdout.log"))
            process.standardError = try FileHandle(forWritingTo: logDirectory.appendingPathComponent("stderr.log"))
        }
        try process.run()
    }

    /// Runs `atlas` to completion and returns its exit code and output.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try AtlasProcess(arguments: arguments, environment: environment, capturesOutput: true)
        let out = child.stdout.fileHandleForReading.readDataToEndOfFile()
        let err = child.stderr.fileHandleForReading.readDataToEndOfFile()
        child.process.waitUntilExit()
        return (child.process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// Polls `path` until it answers or `timeout` passes; returns the time it took.
    @discardableResult
    func waitUntilServing(path: String = "/health/live", timeout: Duration = .seconds(20)) async throws -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < timeout {
            if !process.isRunning {
                let err = standardErrorText
                throw AtlasProcessError(message: "atlas exited with \(process.terminationStatus): \(err)")
            }
            if let response = try? await HTTPClient.get(port: port, path: path), response.status > 0 {
                return clock.now - start
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw AtlasProcessError(message: "atlas did not answer \(path) within \(timeout)")
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// What the server wrote to standard error so far.
    var standardErrorText: String {
        (try? String(contentsOf: logDirectory.appendingPathComponent("stderr.log"), encoding: .utf8)) ?? ""
    }

    /// Resident memory high-water mark in KiB, from /proc.
    func peakResidentKiB() throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let value = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) else {
            throw AtlasProcessError(message: "no VmHWM in /proc status")
        }
        return value
    }

    /// Waits for the child to end and returns its exit status (-1 when it ended by a signal that
    /// Foundation has not reported yet). Reads /proc as well as `Process.isRunning`: under heavy
    /// load Foundation's child monitoring has been seen to lag far behind the child's death.
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let clock = ContinuousClock()
        let start = clock.now
        while process.isRunning {
            if !Self.isAlive(process.processIdentifier) {
                // Dead (a zombie or gone): give Foundation a moment to collect the status.
                for _ in 0..<50 where process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
                return process.isRunning ? -1 : process.terminationStatus
            }
            if clock.now - start > timeout { throw AtlasProcessError(message: "atlas did not exit within \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Whether `pid` is a live process (not a zombie awaiting collection).
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: logDirectory)
    }
}

struct AtlasProcessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A deliberately plain HTTP/1.1 client over a blocking socket, so the tests exercise the server
/// exactly as an external client would.
enum HTTPClient {
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        var json: Any? { try? JSONSerialization.jsonObject(with: Foundation.Data(body)) }
    }

    static func get(port: Int, path: String) async throws -> Response {
        try await request(port: port, raw: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    }

    static func request(port: Int, raw: String) async throws -> Response {
        try await Task.detached {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw AtlasProcessError(message: "socket failed") }
            defer { close(fd) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw AtlasProcessError(message: "connect failed") }
            let bytes = Array(raw.utf8)
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                received.append(contentsOf: buffer[0..<n])
            }
            return try parse(received)
        }.value
    }

    static func parse(_ bytes: [UInt8]) throws -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0...(max(0, bytes.count - 4))).first(where: { Array(bytes[$0..<min($0 + 4, bytes.count)]) == separator }) else {
            throw AtlasProcessError(message: "no complete response head")
        }
        let head = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw AtlasProcessError(message: "bad status line") }
        let headers = head.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var body = Array(bytes[(end + 4)...])
        if headers.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased() == "chunked" }) {
            body = dechunk(body)
        }
        return Response(status: status, headers: headers, body: body)
    }

    static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard let lineEnd = (index..<bytes.count - 1).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }) else { break }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText, radix: 16), size > 0 else { break }
            let start = lineEnd + 2
            output.append(contentsOf: bytes[start..<min(start + size, bytes.count)])
            index = start + size + 2
        }
        return output
    }
}
