// Atlas — ArchitectureTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// Operators learn the configuration from the README: every `ATLAS_*` variable the code reads must
/// be in one of its tables, and every variable there must still be read somewhere.
@Suite struct ConfigurationDocumentationTests {
    static var root: URL { DependencyRuleTests.sourcesRoot.deletingLastPathComponent() }

    static func variables(in text: String, quotedBy quote: Character) -> Set<String> {
        var found: Set<String> = []
        var rest = Substring(text)
        while let start = rest.range(of: "\(quote)ATLAS_") {
            let name = rest[rest.index(after: start.lowerBound)...].prefix { $0.isUppercase || $0.isNumber || $0 == "_" }
            if rest[rest.index(after: start.lowerBound)...].dropFirst(name.count).first == quote {
                found.insert(String(name))
            }
            rest = rest[start.upperBound...]
        }
        return found
    }

    static func variablesReadByCode() throws -> Set<String> {
        var found: Set<String> = []
        let walker = FileManager.default.enumerator(at: DependencyRuleTests.sourcesRoot, includingPropertiesForKeys: nil)
        while let url = walker?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            found.formUnion(variables(in: try String(contentsOf: url, encoding: .utf8), quotedBy: "\""))
        }
        return found
    }

    @Test func everyVariableTheCodeReadsIsInTheREADME() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let documented = Self.variables(in: readme, quotedBy: "`")
        let missing = try Self.variablesReadByCode().subtracting(documented)
        #expect(missing.isEmpty, "README.md does not document: \(missing.sorted().joined(separator: ", "))")
    }

    @Test func everyDocumentedVariableIsStillRead() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let documented = Self.variables(in: readme, quotedBy: "`")
        // Kept from the reference design for compatibility; read by nothing yet on purpose.
        let compatibilityOnly: Set<String> = ["ATLAS_AI_CORE_API_TOKEN"]
        let stale = documented.subtracting(try Self.variablesReadByCode()).subtracting(compatibilityOnly)
        #expect(stale.isEmpty, "README.md documents variables no code reads: \(stale.sorted().joined(separator: ", "))")
    }
}
