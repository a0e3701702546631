// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import Auth
import Core
import Foundation
import HTTPTypes
import Testing

@Suite struct ThrottleTests {
    @Test(arguments: Backend.all)
    func locksAnAccountAfterTenFailures_WithRetryAfter(backend: Backend) async throws {
        let clock = TestClock()
        try await withApp(backend, clock: clock) { app in
            let victim = try await app.makeMember("acme", role: .member)
            for attempt in 1...10 {
                let response = try await app.send(
                    .post, "/auth/token", json: ["username": victim.email, "password": "guess-\(attempt)"], from: "203.0.113.7")
                #expect(response.status == 401, "attempt \(attempt)")
                clock.advance(by: 1)
            }
            // Even the right password is refused while locked, from an unknown address: the lock
            // must not become an oracle for correct guesses.
            let locked = try await app.send(.post, "/auth/token", json: ["username": victim.email, "password": victim.password], from: "198.51.100.9")
            #expect(locked.status == 429)
            let retryAfter = try #require(Int(locked.header("Retry-After") ?? ""))
            #expect((1...900).contains(retryAfter))
            #expect(locked.code == "too_many_login_attempts")

            // The owner's usual address (a successful login in the last 30 days) passes.
            let trusted = try await app.send(.post, "/auth/token", json: ["username": victim.email, "password": victim.password], from: "127.0.0.1")
            #expect(trusted.status == 200)

            // The lock ends by itself: hammering does not extend it.
            clock.advance(by: TimeInterval(retryAfter) + 1)
            let later = try await app.send(.post, "/auth/token", json: ["username": victim.email, "password": victim.password], from: "198.51.100.9")
            #expect(later.status == 200)
        }
    }

    @Test(arguments: Backend.all)
    func blocksAnAddressAfterFiftyFailures_WithoutBlockingOthers(backend: Backend) async throws {
        let clock = TestClock()
        try await withApp(backend, clock: clock) { app in
            for attempt in 1...50 {
                let response = try await app.send(
                    .post, "/auth/token", json: ["username": "user\(attempt % 7)@nowhere.test", "password": "x"], from: "192.0.2.66")
                #expect(response.status == 401, "attempt \(attempt)")
            }
            let blocked = try await app.send(.post, "/auth/token", json: ["username": "admin@atlas", "password": "atlas"], from: "192.0.2.66")
            #expect(blocked.status == 429)
            #expect(blocked.header("Retry-After") != nil)
            let elsewhere = try await app.send(.post, "/auth/token", json: ["username": "admin@atlas", "password": "atlas"], from: "192.0.2.67")
            #expect(elsewhere.status == 200)
            clock.advance(by: 15 * 60 + 1)
            let afterWindow = try await app.send(.post, "/auth/token", json: ["username": "admin@atlas", "password": "atlas"], from: "192.0.2.66")
            #expect(afterWindow.status == 200)
        }
    }

    @Test(arguments: Backend.all)
    func successResetsTheAccountCount(backend: Backend) async throws {
        try await withApp(backend) { app in
            let user = try await app.makeMember("acme", role: .viewer)
            for _ in 1...9 {
                #expect(try await app.send(.post, "/auth/token", json: ["username": user.email, "password": "bad"], from: "198.51.100.1").status == 401)
            }
            #expect(try await app.send(.post, "/auth/token", json: ["username": user.email, "password": user.password], from: "198.51.100.1").status == 200)
            for _ in 1...9 {
                #expect(try await app.send(.post, "/auth/token", json: ["username": user.email, "password": "bad"], from: "198.51.100.2").status == 401)
            }
            #expect(try await app.send(.post, "/auth/token", json: ["username": user.email, "password": user.password], from: "198.51.100.3").status == 200)
        }
    }

    @Test(arguments: Backend.all)
    func recordsFailedLoginsInTheAuditLog(backend: Backend) async throws {
        try await withApp(backend) { app in
            let user = try await app.makeMember("acme", role: .viewer)
            _ = try await app.send(.post, "/auth/token", json: ["username": user.email, "password": "bad"], from: "198.51.100.4")
            let admin = try await app.login()
            let audit = try await app.send(.get, "/tenants/acme/audit", token: admin)
            let failed = (audit["items"] as? [[String: Any]] ?? []).first { $0["action"] as? String == "auth.login_failed" }
            #expect(failed?["target"] as? String == user.id)
            #expect(failed?["client_address"] as? String == "198.51.100.4")
            #expect(audit.text.contains("bad") == false)
        }
    }
}
