// Atlas — ArchitectureTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// SwiftPM lets a target import any module it can see transitively, so the dependency rule of
/// ARCHITECTURE.md is checked here, on the `import` lines themselves.
@Suite struct DependencyRuleTests {
    /// Folder under Sources/ → the Atlas and C modules it may import.
    static let allowed: [String: Set<String>] = [
        "Core": [],
        "HTTP": ["Core", "CSystemShims", "CTLSShims", "CZlib"],
        "Storage": ["Core", "CSQLite", "CLibPQ", "CLibPQLoader"],
        "Telemetry": ["Core", "HTTP"],
        "Auth": ["Core", "HTTP", "Storage", "Telemetry", "COpenSSL"],
        "Billing": ["Core", "HTTP", "Storage", "Telemetry"],
        "AI": ["Core", "HTTP", "Storage", "Telemetry"],
        "Data": ["Core", "HTTP", "Storage", "Telemetry"],
        "atlas": ["Core", "HTTP", "Storage", "Telemetry", "Auth", "Billing", "AI", "DataPlatform"],
    ]

    /// Every Atlas-owned module name; imports of anything else (Foundation, Logging…) are not policed here.
    static let atlasModules: Set<String> = [
        "Core", "HTTP", "Storage", "Telemetry", "Auth", "Billing", "AI", "DataPlatform",
        "CSystemShims", "CTLSShims", "CZlib", "CSQLite", "CLibPQ", "CLibPQLoader", "COpenSSL",
    ]

    /// Packages the product must never depend on (ADR-001).
    static let forbidden: Set<String> = [
        "NIO", "NIOCore", "NIOPosix", "NIOHTTP1", "NIOSSL", "Vapor", "Hummingbird", "AsyncHTTPClient", "PostgresNIO",
    ]

    static var sourcesRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
    }

    static func imports(in folder: String) throws -> [(file: String, module: String)] {
        let root = sourcesRoot.appendingPathComponent(folder)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        var found: [(String, String)] = []
        for case let url as URL in walker where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.trimmingCharacters(in: .whitespaces).split(separator: " ")
                guard let importIndex = words.firstIndex(of: "import"), importIndex + 1 < words.count else { continue }
                // Only access modifiers and attributes may precede `import`.
                let prefix = words[..<importIndex]
                guard prefix.allSatisfy({ ["public", "internal", "package", "private", "fileprivate"].contains($0) || $0.hasPrefix("@") }) else { continue }
                var module = String(words[importIndex + 1])
                if ["struct", "class", "enum", "func", "var", "let", "protocol", "typealias"].contains(module), importIndex + 2 < words.count {
                    module = String(words[importIndex + 2])
                }
                found.append((url.lastPathComponent, String(module.split(separator: ".").first ?? "")))
            }
        }
        return found
    }

    @Test(arguments: allowed.keys.sorted())
    func importsFollowTheLayerTable(folder: String) throws {
        let permitted = Self.allowed[folder]!
        for (file, module) in try Self.imports(in: folder) where Self.atlasModules.contains(module) && module != folder {
            #expect(permitted.contains(module), "\(folder)/\(file) imports \(module), which layer rule forbids")
        }
    }

    @Test(arguments: allowed.keys.sorted())
    func noModuleImportsSwiftNIO(folder: String) throws {
        for (file, module) in try Self.imports(in: folder) {
            #expect(!Self.forbidden.contains(module), "\(folder)/\(file) imports \(module)")
        }
    }

    /// FoundationNetworking brings libcurl and its TLS, HTTP/2, SSH and LDAP libraries into the
    /// process (some 3 MB resident when idle); outbound HTTP goes through `HTTP.HTTPClient` (ADR-014).
    @Test(arguments: allowed.keys.sorted())
    func noSourceImportsFoundationNetworking(folder: String) throws {
        for (file, module) in try Self.imports(in: folder) {
            #expect(module != "FoundationNetworking", "\(folder)/\(file) imports FoundationNetworking")
        }
    }

    @Test func packageManifestNamesNoNIOPackage() throws {
        let manifest = try String(contentsOf: Self.sourcesRoot.deletingLastPathComponent().appendingPathComponent("Package.swift"), encoding: .utf8)
        for name in ["swift-nio", "vapor/vapor", "hummingbird", "async-http-client", "postgres-nio", "swift-otel/swift-otel.git"] {
            #expect(!manifest.lowercased().contains(name), "Package.swift names \(name)")
        }
    }

    @Test func everySourceFolderIsInTheTable() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.sourcesRoot.path)
            .filter { !$0.hasPrefix(".") && !["CSystemShims", "CTLSShims", "CZlib", "CSQLite", "CLibPQ", "CLibPQLoader", "COpenSSL"].contains($0) }
        for folder in folders {
            #expect(Self.allowed[folder] != nil, "Sources/\(folder) has no row in the dependency table")
        }
    }
}
