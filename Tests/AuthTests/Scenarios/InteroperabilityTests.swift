// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import Auth
import Core
import Foundation
import HTTPTypes
import Testing

/// Atlas tokens against PyJWT, an independent JWT implementation.
@Suite(.serialized) struct InteroperabilityTests {
    @Test func atlasTokensVerifyWithPyJWT_UnderTheDefaultSecret() async throws {
        try await withApp(.sqlite) { app in
            let token = try await app.login()
            let claims = try PyJWT.decode(token, secret: "atlas-secret")
            let me = try await app.send(.get, "/auth/me", token: token)
            #expect(claims["sub"] as? String == me["id"] as? String)
            #expect(claims["iss"] as? String == "atlas")
            #expect(claims["tenant"] as? String == "demo")
            #expect((claims["jti"] as? String)?.isEmpty == false)
            let exp = try #require(claims["exp"] as? Int)
            let iat = try #require(claims["iat"] as? Int)
            #expect(exp - iat == 3600)
            #expect(throws: PyJWT.Failure.self) { try PyJWT.decode(token, secret: "another-secret") }
        }
    }

    @Test func pyJWTTokensVerifyInAtlas_AndOtherAlgorithmsDoNot() async throws {
        try await withApp(.sqlite) { app in
            let me = try await app.send(.get, "/auth/me", token: try await app.login())
            let user = try #require(me["id"] as? String)
            let now = Int(Date().timeIntervalSince1970)
            let claims: [String: Any] = ["sub": user, "iss": "atlas", "jti": UUID().uuidString, "iat": now, "exp": now + 300, "tenant": "demo"]
            let good = try PyJWT.encode(claims, secret: "atlas-secret")
            #expect(try await app.send(.get, "/auth/me", token: good).status == 200)
            let hs512 = try PyJWT.encode(claims, secret: "atlas-secret", algorithm: "HS512")
            #expect(try await app.send(.get, "/auth/me", token: hs512).status == 401)
            let foreign = try PyJWT.encode(claims, secret: "not-atlas-secret")
            #expect(try await app.send(.get, "/auth/me", token: foreign).status == 401)
            var expiredClaims = claims
            expiredClaims["exp"] = now - 10
            #expect(try await app.send(.get, "/auth/me", token: try PyJWT.encode(expiredClaims, secret: "atlas-secret")).status == 401)
            var otherIssuer = claims
            otherIssuer["iss"] = "someone-else"
            #expect(try await app.send(.get, "/auth/me", token: try PyJWT.encode(otherIssuer, secret: "atlas-secret")).status == 401)
        }
    }

    @Test func rotatedSecrets_NewestSignsAndAllVerify() async throws {
        let newest = "a-fresh-secret-of-at-least-thirty-two-bytes"
        try await withApp(.sqlite, environment: ["ATLAS_AUTH_SECRET": "\(newest), atlas-secret"]) { app in
            let token = try await app.login()
            _ = try PyJWT.decode(token, secret: newest)
            #expect(throws: PyJWT.Failure.self) { try PyJWT.decode(token, secret: "atlas-secret") }
            let me = try await app.send(.get, "/auth/me", token: token)
            let now = Int(Date().timeIntervalSince1970)
            let old = try PyJWT.encode(
                ["sub": try #require(me["id"] as? String), "iss": "atlas", "jti": "j1", "iat": now, "exp": now + 60], secret: "atlas-secret")
            #expect(try await app.send(.get, "/auth/me", token: old).status == 200)
        }
    }
}
