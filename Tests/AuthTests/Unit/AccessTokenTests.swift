// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

@testable import Auth
import Core
import Foundation
import JWTKit
import Testing

@Suite struct AccessTokenTests {
    static let user = UserID("usr_" + String(repeating: "a", count: 26))!

    static func make(_ secrets: [String] = ["atlas-secret"], minutes: Int64 = 60) async -> AccessTokens {
        await AccessTokens(secrets: secrets, lifetime: .seconds(minutes * 60))
    }

    @Test func roundTripsClaims() async throws {
        let tokens = await Self.make()
        let now = Date()
        let (token, claims) = try await tokens.issue(user: Self.user, tenant: TenantID("demo"), session: "ses_1", now: now)
        let verified = try await tokens.verify(token, now: now)
        #expect(verified == claims)
        #expect(verified.iss.value == "atlas")
        #expect(verified.tenant == "demo")
        #expect(verified.sid == "ses_1")
        #expect(verified.exp.value.timeIntervalSince(verified.iat.value) == 3600)
        #expect(!verified.jti.value.isEmpty)
    }

    @Test func writesHS256HeaderWithoutKeyID_AndIntegerTimes() async throws {
        let tokens = await Self.make()
        let (token, _) = try await tokens.issue(user: Self.user, tenant: nil, session: nil)
        let parts = token.split(separator: ".")
        let header = try JSONSerialization.jsonObject(with: Data(try #require(Encoding.decodeBase64URL(parts[0])))) as? [String: Any]
        #expect(header?["alg"] as? String == "HS256")
        #expect(header?["kid"] == nil)
        let payload = String(decoding: try #require(Encoding.decodeBase64URL(parts[1])), as: UTF8.self)
        #expect(payload.range(of: #""exp":[0-9]+[,}]"#, options: .regularExpression) != nil)
    }

    @Test func rejectsExpiredToken() async throws {
        let tokens = await Self.make(minutes: 1)
        let issued = Date().addingTimeInterval(-120)
        let (token, _) = try await tokens.issue(user: Self.user, tenant: nil, session: nil, now: issued)
        await #expect(throws: AuthError.self) { try await tokens.verify(token) }
    }

    @Test func rejectsTokenSignedWithAnotherKey() async throws {
        let ours = await Self.make(["our-secret-that-is-long-enough-for-hs256"])
        let theirs = await Self.make(["their-secret-that-is-long-enough-for-hs256"])
        let (token, _) = try await theirs.issue(user: Self.user, tenant: nil, session: nil)
        await #expect(throws: AuthError.self) { try await ours.verify(token) }
    }

    @Test func rejectsAlgNone_EvenWithoutSignature() async throws {
        let tokens = await Self.make()
        let (token, _) = try await tokens.issue(user: Self.user, tenant: nil, session: nil)
        let payload = token.split(separator: ".")[1]
        let header = Encoding.base64URL(Array(#"{"alg":"none","typ":"JWT"}"#.utf8))
        for forged in ["\(header).\(payload).", "\(header).\(payload)", "\(header).\(payload).\(token.split(separator: ".")[2])"] {
            await #expect(throws: AuthError.self) { try await tokens.verify(forged) }
        }
    }

    @Test func rejectsOtherHMACAlgorithms_WithTheSameKey() async throws {
        let tokens = await Self.make(["a-secret-that-is-long-enough-for-hs512-0123456789abcdef0123456789"])
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: "a-secret-that-is-long-enough-for-hs512-0123456789abcdef0123456789"), digestAlgorithm: .sha512)
        let now = Date()
        let claims = AccessTokenClaims(
            sub: .init(value: Self.user.rawValue), exp: .init(value: now.addingTimeInterval(600)), iat: .init(value: now),
            iss: .init(value: "atlas"), jti: .init(value: "x"), tenant: nil, sid: nil)
        let token = try await keys.sign(claims)
        let header = String(decoding: try #require(Encoding.decodeBase64URL(token.split(separator: ".")[0])), as: UTF8.self)
        #expect(header.contains(#""HS512""#))
        await #expect(throws: AuthError.self) { try await tokens.verify(token) }
    }

    @Test func rejectsEditedPayload() async throws {
        let tokens = await Self.make()
        let (token, _) = try await tokens.issue(user: Self.user, tenant: TenantID("demo"), session: nil)
        let parts = token.split(separator: ".").map(String.init)
        var payload = String(decoding: Encoding.decodeBase64URL(parts[1])!, as: UTF8.self)
        payload = payload.replacingOccurrences(of: "\"demo\"", with: "\"acme\"")
        let forged = [parts[0], Encoding.base64URL(Array(payload.utf8)), parts[2]].joined(separator: ".")
        await #expect(throws: AuthError.self) { try await tokens.verify(forged) }
    }

    @Test(arguments: ["", "a.b", "a.b.c.d", "not-a-token", "....", String(repeating: "x", count: 5000)])
    func rejectsMalformedTokens(token: String) async {
        let tokens = await Self.make()
        await #expect(throws: AuthError.self) { try await tokens.verify(token) }
    }

    @Test func verifiesWithEveryConfiguredSecret_AndSignsWithTheFirst() async throws {
        let old = await Self.make(["old-secret-0123456789abcdef0123456789"])
        let rotated = await Self.make(["new-secret-0123456789abcdef0123456789", "old-secret-0123456789abcdef0123456789"])
        let newOnly = await Self.make(["new-secret-0123456789abcdef0123456789"])
        let (oldToken, _) = try await old.issue(user: Self.user, tenant: nil, session: nil)
        _ = try await rotated.verify(oldToken)
        let (newToken, _) = try await rotated.issue(user: Self.user, tenant: nil, session: nil)
        _ = try await newOnly.verify(newToken)
        await #expect(throws: AuthError.self) { try await old.verify(newToken) }
    }

    @Test func padsShortSecretsWithoutChangingTheMAC() {
        // RFC 2104 §2: K shorter than the block is zero-padded, so K and K‖0… are the same key.
        #expect(AccessTokens.keyBytes("atlas-secret") == Array("atlas-secret".utf8) + [UInt8](repeating: 0, count: 20))
        let long = String(repeating: "k", count: 40)
        #expect(AccessTokens.keyBytes(long) == Array(long.utf8))
    }
}
