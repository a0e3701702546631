// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Core
import HTTP
import Testing

@Suite("Server configuration")
struct ConfigurationTests {
    @Test func usesDefaults_WhenNothingIsSet() throws {
        let configuration = try HTTPServer.Configuration(environment: EnvironmentReader([:]))
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 8000)
        #expect(configuration.limits == RequestLimits(maxHeaderBytes: 65536, maxHeaderCount: 100, maxBodyBytes: 10 << 20))
        #expect(configuration.maxConnections == 10_000)
        #expect(configuration.idleTimeout == .seconds(60))
        #expect(configuration.headerTimeout == .seconds(30))
        #expect(configuration.bodyTimeout == .seconds(60))
        #expect(configuration.shutdownTimeout == .seconds(10))
        #expect(configuration.allowOrigins == ["*"])
        #expect(configuration.eventLoops == max(1, HTTPServer.Configuration.processorCount - 1))
        #expect(configuration.workerThreads == max(1, HTTPServer.Configuration.processorCount / 2))
    }

    @Test func readsEveryVariable() throws {
        let configuration = try HTTPServer.Configuration(environment: EnvironmentReader([
            "ATLAS_HOST": "127.0.0.1", "ATLAS_PORT": "0", "ATLAS_HTTP_EVENT_LOOPS": "3", "ATLAS_HTTP_WORKERS": "0",
            "ATLAS_HTTP_MAX_HEADER_BYTES": "8192", "ATLAS_HTTP_MAX_HEADERS": "20", "ATLAS_HTTP_MAX_BODY_BYTES": "1000",
            "ATLAS_HTTP_MAX_CONNECTIONS": "50", "ATLAS_HTTP_IDLE_TIMEOUT": "1.5", "ATLAS_HTTP_HEADER_TIMEOUT": "2",
            "ATLAS_HTTP_BODY_TIMEOUT": "3", "ATLAS_HTTP_SHUTDOWN_TIMEOUT": "4", "ATLAS_HTTP_MAX_PIPELINE": "8",
            "ATLAS_ALLOW_ORIGINS": "https://a.example, https://b.example",
        ]))
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 0)
        #expect(configuration.eventLoops == 3)
        #expect(configuration.workerThreads == 0)
        #expect(configuration.limits == RequestLimits(maxHeaderBytes: 8192, maxHeaderCount: 20, maxBodyBytes: 1000))
        #expect(configuration.maxConnections == 50)
        #expect(configuration.maxPipelinedRequests == 8)
        #expect(configuration.idleTimeout == .milliseconds(1500))
        #expect(configuration.headerTimeout == .seconds(2))
        #expect(configuration.bodyTimeout == .seconds(3))
        #expect(configuration.shutdownTimeout == .seconds(4))
        #expect(configuration.allowOrigins == ["https://a.example", "https://b.example"])
    }

    @Test(arguments: [
        ("ATLAS_PORT", "70000"), ("ATLAS_PORT", "http"), ("ATLAS_HTTP_MAX_HEADERS", "0"),
        ("ATLAS_HTTP_IDLE_TIMEOUT", "-1"), ("ATLAS_HOST", "example.com"), ("ATLAS_HTTP_EVENT_LOOPS", "0"),
    ])
    func rejectsUnusableValues_NamingTheVariable(_ variable: String, _ value: String) {
        #expect {
            _ = try HTTPServer.Configuration(environment: EnvironmentReader([variable: value]))
        } throws: { error in
            (error as? ConfigurationError)?.variable == variable
        }
    }

    @Test func acceptsLocalhostAsTheLoopbackAddress() throws {
        #expect(try HTTPServer.Configuration(environment: EnvironmentReader(["ATLAS_HOST": "localhost"])).host == "127.0.0.1")
    }
}
