// Atlas — CoreTests
// SPDX-License-Identifier: Apache-2.0

import Core
import Testing

@Suite struct EnvironmentReaderTests {
    @Test func returnsDefaults_WhenUnsetOrBlank() throws {
        let env = EnvironmentReader(["ATLAS_PORT": "  "])
        #expect(try env.int("ATLAS_PORT", default: 8000, in: 1...65535) == 8000)
        #expect(env.string("ATLAS_HOST", default: "0.0.0.0") == "0.0.0.0")
        #expect(try env.bool("ATLAS_X", default: true))
        #expect(env.list("ATLAS_ALLOW_ORIGINS", default: ["*"]) == ["*"])
    }

    @Test func parsesSetValues() throws {
        let env = EnvironmentReader([
            "ATLAS_PORT": "9000", "ATLAS_FLAG": "off", "ATLAS_ALLOW_ORIGINS": "https://a.example, ,https://b.example",
            "ATLAS_TIMEOUT": "1.5",
        ])
        #expect(try env.int("ATLAS_PORT", default: 8000, in: 1...65535) == 9000)
        #expect(try env.bool("ATLAS_FLAG", default: true) == false)
        #expect(env.list("ATLAS_ALLOW_ORIGINS", default: []) == ["https://a.example", "https://b.example"])
        #expect(try env.seconds("ATLAS_TIMEOUT", default: .seconds(30)) == .milliseconds(1500))
    }

    @Test(arguments: ["abc", "0", "70000", "-1", "8000.5"])
    func rejectsBadPort_NamingTheVariable(value: String) {
        let env = EnvironmentReader(["ATLAS_PORT": value])
        #expect(throws: ConfigurationError(variable: "ATLAS_PORT", reason: "must be an integer between 1 and 65535")) {
            _ = try env.int("ATLAS_PORT", default: 8000, in: 1...65535)
        }
    }

    @Test func errorDescriptionNamesVariableButNotValue() {
        let env = EnvironmentReader(["ATLAS_SECRET_COUNT": "hunter2"])
        do {
            _ = try env.int("ATLAS_SECRET_COUNT", default: 1)
            Issue.record("expected a ConfigurationError")
        } catch let error as ConfigurationError {
            #expect(error.description.hasPrefix("ATLAS_SECRET_COUNT:"))
            #expect(!error.description.contains("hunter2"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    enum Provider: String, CaseIterable { case local, openai }

    @Test func choiceAcceptsKnownValuesCaseInsensitively() throws {
        #expect(try EnvironmentReader(["P": "OpenAI"]).choice("P", default: Provider.local) == .openai)
        #expect(throws: ConfigurationError.self) { try EnvironmentReader(["P": "bogus"]).choice("P", default: Provider.local) }
    }

    @Test func rejectsNonFiniteAndOutOfRangeSeconds() {
        #expect(throws: ConfigurationError.self) { try EnvironmentReader(["T": "nan"]).seconds("T", default: .seconds(1)) }
        #expect(throws: ConfigurationError.self) { try EnvironmentReader(["T": "-3"]).seconds("T", default: .seconds(1)) }
    }
}
