// Atlas — AtlasTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// Runs docs/api/atlas.postman_collection.json against a real server with scripts/postman-run.py
/// (newman's registry is unreachable here); see docs/api/README.md for what the runner checks.
@Suite(.serialized)
struct PostmanTests {
    static let collection = APIDocs.root.appendingPathComponent("docs/api/atlas.postman_collection.json")
    static let environment = APIDocs.root.appendingPathComponent("docs/api/atlas.postman_environment.json")
    static let runner = APIDocs.root.appendingPathComponent("scripts/postman-run.py").path

    /// The environment file's values, so the server is configured with the same secret and login.
    static func environmentValues() throws -> [String: String] {
        let object = try APIDocs.jsonObject(try Foundation.Data(contentsOf: environment))
        let values = object["values"] as? [[String: Any]] ?? []
        return Dictionary(values.compactMap { entry in
            (entry["key"] as? String).map { ($0, entry["value"] as? String ?? "") }
        }) { first, _ in first }
    }

    @Test func everyRequestSucceeds_AgainstARunningServer() async throws {
        let values = try Self.environmentValues()
        let secret = try #require(values["stripeSecret"])
        let (atlas, directory) = try await APIDocs.serve([
            "ATLAS_STRIPE_WEBHOOK_SECRET": secret,
            "ATLAS_AUTH_USERNAME": try #require(values["authUsername"]),
            "ATLAS_AUTH_PASSWORD": try #require(values["authPassword"]),
        ])
        defer { try? FileManager.default.removeItem(at: directory) }
        let base = "http://127.0.0.1:\(atlas.port)"
        let first = try APIDocs.run("python3", [
            Self.runner, "--base-url", base, "--openapi", APIDocs.openAPIFile.path, "--check-scripts",
        ])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("0 failures"))
        // A second run against the same data must pass too: the collection is meant to be rerun.
        let second = try APIDocs.run("python3", [Self.runner, "--base-url", base])
        #expect(second.status == 0, "\(second.output)")
    }

    @Test func runnerFails_WhenTheStripeSecretDiffers() async throws {
        let (atlas, directory) = try await APIDocs.serve(["ATLAS_STRIPE_WEBHOOK_SECRET": "whsec_other"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try APIDocs.run("python3", [Self.runner, "--base-url", "http://127.0.0.1:\(atlas.port)"])
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("Stripe Webhook: status 200"))
    }

    @Test func collectionCoversEveryDocumentedOperation_AndUsesTheReferenceVariables() throws {
        let collection = try String(contentsOf: Self.collection, encoding: .utf8)
        for name in ["baseUrl", "tenant", "authUsername", "authPassword", "authToken", "stripeSignature", "stripeSecret"] {
            #expect(collection.contains("{{\(name)}}") || collection.contains("\"\(name)\""), "\(name) unused")
            #expect(try Self.environmentValues()[name] != nil, "\(name) missing from the environment")
        }
        let object = try APIDocs.jsonObject(Foundation.Data(collection.utf8))
        let schema = (object["info"] as? [String: Any])?["schema"] as? String
        #expect(schema == "https://schema.getpostman.com/json/collection/v2.1.0/collection.json")
        let check = """
            import importlib.util, json, sys
            spec = importlib.util.spec_from_file_location("runner", sys.argv[1])
            runner = importlib.util.module_from_spec(spec); spec.loader.exec_module(runner)
            missing, extra = runner.coverage(json.load(open(sys.argv[2])), sys.argv[3])
            print(json.dumps({"missing": missing, "extra": extra}))
            """
        let result = try APIDocs.run("python3", ["-c", check, Self.runner, Self.collection.path, APIDocs.openAPIFile.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains(#"{"missing": [], "extra": []}"#), "\(result.output)")
    }
}
