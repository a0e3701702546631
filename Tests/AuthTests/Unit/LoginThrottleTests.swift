// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

@testable import Auth
import Foundation
import Testing

@Suite struct LoginThrottleTests {
    let policy = LoginThrottle()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func failures(_ count: Int, every seconds: TimeInterval = 1, endingAgo: TimeInterval = 0) -> [Date] {
        (0..<count).map { now.addingTimeInterval(-endingAgo - Double($0) * seconds) }
    }

    @Test func allowsNineAccountFailures_AndDeniesTheTenth() {
        #expect(policy.decide(.init(accountFailures: failures(9), addressFailures: failures(9), addressIsTrusted: false), now: now) == .allow)
        let decision = policy.decide(.init(accountFailures: failures(10), addressFailures: failures(10), addressIsTrusted: false), now: now)
        guard case .deny(let retryAfter, _) = decision else {
            Issue.record("expected a denial, got \(decision)")
            return
        }
        // The tenth most recent failure was 9 s ago: it leaves the 15-minute window in 891 s.
        #expect(retryAfter == 900 - 9)
    }

    @Test func liftsTheAccountLock_WhenTheWindowPasses() {
        let old = failures(10, endingAgo: 15 * 60 + 1)
        #expect(policy.decide(.init(accountFailures: old, addressFailures: old, addressIsTrusted: false), now: now) == .allow)
    }

    @Test func letsATrustedAddressThrough_AnAccountLockCausedElsewhere() {
        let history = LoginThrottle.History(accountFailures: failures(10), addressFailures: [], addressIsTrusted: true)
        #expect(policy.decide(history, now: now) == .allow)
    }

    @Test func blocksAnAddressAfterFiftyFailures_WhateverTheAccounts() {
        #expect(policy.decide(.init(accountFailures: [], addressFailures: failures(49), addressIsTrusted: true), now: now) == .allow)
        let decision = policy.decide(.init(accountFailures: [], addressFailures: failures(50), addressIsTrusted: true), now: now)
        guard case .deny(let retryAfter, let reason) = decision else {
            Issue.record("expected a denial, got \(decision)")
            return
        }
        #expect(retryAfter == 900 - 49)
        #expect(reason.contains("address"))
    }

    @Test func retryAfterIsAlwaysAtLeastOneSecond() {
        let edge = [now.addingTimeInterval(-899.9)] + failures(9)
        guard case .deny(let retryAfter, _) = policy.decide(.init(accountFailures: edge, addressFailures: [], addressIsTrusted: false), now: now) else {
            Issue.record("expected a denial")
            return
        }
        #expect(retryAfter >= 1)
    }
}
