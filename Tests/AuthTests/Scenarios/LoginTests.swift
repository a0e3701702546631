// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import Auth
import Core
import Foundation
import HTTPTypes
import Storage
import Testing

@Suite struct LoginTests {
    @Test(arguments: Backend.all)
    func issuesBearerTokens_ForTheReferenceJSONLogin(backend: Backend) async throws {
        try await withApp(backend) { app in
            let response = try await app.send(.post, "/auth/token", json: ["username": "admin@atlas", "password": "atlas"])
            #expect(response.status == 200)
            #expect(response["token_type"] as? String == "bearer")
            #expect(response["expires_in"] as? Int == 3600)
            #expect((response["access_token"] as? String)?.split(separator: ".").count == 3)
            #expect((response["refresh_token"] as? String)?.count == 43)
            #expect(response.header("Cache-Control") == "no-store")
        }
    }

    /// The default scrypt cost needs a 32 MiB block; start-up hashes the bootstrap admin's
    /// password with PBKDF2 instead, and the first login stores the configured scrypt hash.
    @Test(arguments: Backend.all)
    func bootstrapHashTakesNoScryptBlock_AndTheFirstLoginUpgradesIt(backend: Backend) async throws {
        try await withApp(backend, environment: ["ATLAS_AUTH_SCRYPT_LOG_N": "15"]) { app in
            let read = { @Sendable (conn: any Connection) throws -> String in
                try UserStore.find(email: "admin@atlas", conn)?.passwordHash ?? ""
            }
            let bootstrapped = try await app.database.read(tenant: nil, read)
            #expect(bootstrapped.hasPrefix("$pbkdf2-sha256$i=600000$"))
            let first = try await app.send(.post, "/auth/token", json: ["username": "admin@atlas", "password": "atlas"])
            #expect(first.status == 200)
            let upgraded = try await app.database.read(tenant: nil, read)
            #expect(upgraded.hasPrefix("$scrypt$ln=15,r=8,p=1$"))
            let second = try await app.send(.post, "/auth/token", json: ["username": "admin@atlas", "password": "atlas"])
            #expect(second.status == 200)
        }
        // A cheap configured cost is used as it is.
        #expect(PasswordHasher.bootstrapAlgorithm(for: .scrypt(logN: 10, r: 8, p: 1)) == .scrypt(logN: 10, r: 8, p: 1))
        #expect(PasswordHasher.bootstrapAlgorithm(for: .pbkdf2SHA256(iterations: 310_000)) == .pbkdf2SHA256(iterations: 310_000))
    }

    @Test(arguments: Backend.all)
    func acceptsOAuth2PasswordForm_AndRefreshGrant(backend: Backend) async throws {
        try await withApp(backend) { app in
            let response = try await app.send(.post, "/auth/token", form: "grant_type=password&username=admin%40atlas&password=atlas")
            #expect(response.status == 200)
            let refresh = try #require(response["refresh_token"] as? String)
            let again = try await app.send(.post, "/auth/token", form: "grant_type=refresh_token&refresh_token=\(refresh)")
            #expect(again.status == 200)
            let bad = try await app.send(.post, "/auth/token", form: "grant_type=client_credentials")
            #expect(bad.status == 400)
            #expect(bad.code == "unsupported_grant_type")
        }
    }

    @Test(arguments: Backend.all)
    func refusesWrongPasswordAndUnknownUser_WithTheSame401(backend: Backend) async throws {
        try await withApp(backend) { app in
            let wrong = try await app.send(.post, "/auth/token", json: ["username": "admin@atlas", "password": "nope"])
            let unknown = try await app.send(.post, "/auth/token", json: ["username": "ghost@atlas", "password": "nope"])
            #expect(wrong.status == 401)
            #expect(unknown.status == 401)
            #expect(wrong["detail"] as? String == unknown["detail"] as? String)
            #expect(wrong.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            #expect(wrong.header("Content-Type")?.hasPrefix("application/problem+json") == true)
        }
    }

    @Test(arguments: Backend.all)
    func answersBadLoginInputWith4xx(backend: Backend) async throws {
        try await withApp(backend) { app in
            #expect(try await app.send(.post, "/auth/token", json: ["username": "admin@atlas"]).status == 422)
            #expect(try await app.send(.post, "/auth/token", json: ["username": 1, "password": 2]).status == 422)
            #expect(try await app.send(.post, "/auth/token", json: "not an object").status == 422)
            let long = try await app.send(.post, "/auth/token", json: ["username": "admin@atlas", "password": String(repeating: "x", count: 2000)])
            #expect(long.status == 400)
            #expect(try await app.send(.post, "/auth/token", form: "username=admin%40atlas").status == 422)
        }
    }

    @Test(arguments: Backend.all)
    func describesTheCaller_OnAuthMe(backend: Backend) async throws {
        try await withApp(backend) { app in
            let token = try await app.login()
            let me = try await app.send(.get, "/auth/me", token: token)
            #expect(me.status == 200)
            #expect(me["email"] as? String == "admin@atlas")
            #expect(me["is_platform_admin"] as? Bool == true)
            #expect(me["default_tenant"] as? String == "demo")
            let memberships = me["memberships"] as? [[String: Any]] ?? []
            #expect(Set(memberships.compactMap { $0["tenant"] as? String }) == ["demo", "acme"])
            #expect(memberships.allSatisfy { $0["role"] as? String == "owner" })
            let anonymous = try await app.send(.get, "/auth/me")
            #expect(anonymous.status == 401)
            #expect(anonymous.code == "authentication_required")
        }
    }

    @Test(arguments: Backend.all)
    func rotatesRefreshTokens_AndRevokesTheFamilyOnReuse(backend: Backend) async throws {
        try await withApp(backend) { app in
            let first = try await app.grant("admin@atlas", "atlas")
            let rotated = try await app.send(.post, "/auth/refresh", json: ["refresh_token": first.refresh])
            #expect(rotated.status == 200)
            let second = try #require(rotated["refresh_token"] as? String)
            let secondAccess = try #require(rotated["access_token"] as? String)
            #expect(second != first.refresh)
            #expect(try await app.send(.get, "/auth/me", token: secondAccess).status == 200)

            // The spent token comes back: a thief or a replay. The family dies, and so do the
            // session's access tokens.
            let reuse = try await app.send(.post, "/auth/refresh", json: ["refresh_token": first.refresh])
            #expect(reuse.status == 401)
            #expect((reuse["detail"] as? String)?.contains("already used") == true)
            #expect(try await app.send(.post, "/auth/refresh", json: ["refresh_token": second]).status == 401)
            #expect(try await app.send(.get, "/auth/me", token: secondAccess).status == 401)
            #expect(try await app.send(.get, "/auth/me", token: first.access).status == 401)

            // Another session of the same user is unaffected.
            let other = try await app.login()
            #expect(try await app.send(.get, "/auth/me", token: other).status == 200)

            let audit = try await app.send(.get, "/tenants/demo/audit", token: other)
            #expect(audit.status == 200)
            let actions = (audit["items"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            #expect(actions.contains("auth.refresh_reuse_detected"))
        }
    }

    @Test(arguments: Backend.all)
    func refusesExpiredAndMalformedRefreshTokens(backend: Backend) async throws {
        let clock = TestClock()
        try await withApp(backend, environment: ["ATLAS_AUTH_REFRESH_TOKEN_DAYS": "1"], clock: clock) { app in
            let grant = try await app.grant("admin@atlas", "atlas")
            clock.advance(by: 86_400 + 1)
            #expect(try await app.send(.post, "/auth/refresh", json: ["refresh_token": grant.refresh]).status == 401)
            #expect(try await app.send(.post, "/auth/refresh", json: ["refresh_token": "short"]).status == 401)
            #expect(try await app.send(.post, "/auth/refresh", json: ["refresh_token": String(repeating: "A", count: 43)]).status == 401)
            #expect(try await app.send(.post, "/auth/refresh", json: [:] as [String: String]).status == 422)
        }
    }

    @Test(arguments: Backend.all)
    func logoutRevokesThePresentedTokenAndItsSession(backend: Backend) async throws {
        try await withApp(backend) { app in
            let session = try await app.grant("admin@atlas", "atlas")
            let other = try await app.login()
            let logout = try await app.send(.post, "/auth/logout", token: session.access, json: ["refresh_token": session.refresh])
            #expect(logout.status == 204)
            #expect(try await app.send(.get, "/auth/me", token: session.access).status == 401)
            #expect(try await app.send(.post, "/auth/refresh", json: ["refresh_token": session.refresh]).status == 401)
            #expect(try await app.send(.get, "/auth/me", token: other).status == 200)
            // Logging out twice is a 401: the token is gone.
            #expect(try await app.send(.post, "/auth/logout", token: session.access).status == 401)
        }
    }

    @Test(arguments: Backend.all)
    func refusesForgedAccessTokens_Over401(backend: Backend) async throws {
        try await withApp(backend) { app in
            let token = try await app.login()
            let parts = token.split(separator: ".").map(String.init)
            let none = Encoding.base64URL(Array(#"{"alg":"none","typ":"JWT"}"#.utf8)) + ".\(parts[1])."
            var payload = String(decoding: Encoding.decodeBase64URL(parts[1])!, as: UTF8.self)
            payload = payload.replacingOccurrences(of: "\"demo\"", with: "\"acme\"")
            let edited = "\(parts[0]).\(Encoding.base64URL(Array(payload.utf8))).\(parts[2])"
            let otherKey = await AccessTokens(secrets: ["not-the-atlas-secret-0123456789abcdef"], lifetime: .seconds(3600))
            let user = try #require(UserID(String(decoding: Encoding.decodeBase64URL(parts[1])!, as: UTF8.self)
                .split(separator: "\"").first { $0.hasPrefix("usr_") }.map(String.init) ?? ""))
            let foreign = try await otherKey.issue(user: user, tenant: TenantID("demo"), session: nil).token
            let expired = try await app.service.tokens.issue(user: user, tenant: nil, session: nil, now: Date().addingTimeInterval(-7200)).token
            for forged in [none, edited, foreign, expired, "garbage", token + "x"] {
                let response = try await app.send(.get, "/auth/me", token: forged)
                #expect(response.status == 401, "\(forged.prefix(20))… answered \(response.status)")
                #expect(response.code == "invalid_token")
            }
            #expect(try await app.send(.get, "/auth/me", token: token).status == 200)
        }
    }

    @Test(arguments: Backend.all)
    func bootstrapSeedsSpecData_AndIsIdempotent(backend: Backend) async throws {
        try await withApp(backend) { app in
            try await app.module.bootstrap()
            let token = try await app.login()
            let demo = try await app.send(.get, "/tenants/current", token: token, headers: ["X-Atlas-Tenant": "demo"])
            #expect(demo.status == 200)
            let usage = demo["usage"] as? [String: Any]
            #expect(demo["tenant"] as? String == "demo")
            #expect(usage?["plan"] as? String == "scale")
            #expect(usage?["tokens"] as? Int == 120_000)
            #expect(usage?["requests"] as? Int == 540)
            #expect(demo["refreshed_at"] is String)
            let acme = try await app.send(.get, "/tenants/current", token: token, headers: ["X-Atlas-Tenant": "acme"])
            #expect((acme["usage"] as? [String: Any])?["plan"] as? String == "growth")
            #expect((acme["usage"] as? [String: Any])?["tokens"] as? Int == 42_000)
            #expect((acme["usage"] as? [String: Any])?["requests"] as? Int == 210)
            let users = try await app.database.read { try $0.queryScalar("SELECT COUNT(*) FROM auth_users", as: Int.self) }
            #expect(users == 1)
        }
    }

    @Test func productionRefusesDefaultSecretAndPassword() throws {
        #expect(throws: ConfigurationError.self) {
            try AuthModule.Configuration(environment: .init(["ATLAS_ENVIRONMENT": "production", "ATLAS_AUTH_PASSWORD": "a-real-password"]))
        }
        #expect(throws: ConfigurationError.self) {
            try AuthModule.Configuration(environment: .init([
                "ATLAS_ENVIRONMENT": "production", "ATLAS_AUTH_SECRET": String(repeating: "s", count: 40),
            ]))
        }
        #expect(throws: ConfigurationError.self) {
            try AuthModule.Configuration(environment: .init(["ATLAS_AUTH_SCRYPT_LOG_N": "40"]))
        }
        let ok = try AuthModule.Configuration(environment: .init([
            "ATLAS_ENVIRONMENT": "production", "ATLAS_AUTH_SECRET": String(repeating: "s", count: 40) + ",old-secret-" + String(repeating: "o", count: 30),
            "ATLAS_AUTH_PASSWORD": "a-real-password",
        ]))
        #expect(ok.secrets.count == 2)
        #expect(!ok.description.contains("sss"))
    }
}
