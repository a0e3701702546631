// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// The login throttling rules of SPEC §4, as a pure decision over recent failures so they are
/// tested without storage or clocks.
///
/// - **Per account:** 10 failures since the account's last successful login and within 15
///   minutes lock the account for password attempts — except from a client address that has
///   logged in to this account successfully within the last 30 days. An attacker elsewhere
///   therefore cannot lock the owner out from their usual address.
/// - **Per client address:** 50 failures within 15 minutes, whatever the accounts, block that
///   address. Other addresses are unaffected.
///
/// Attempts refused by the throttle are not recorded as failures, so a lock ends by itself 15
/// minutes after the failures that caused it: hammering a locked account does not extend the lock.
struct LoginThrottle: Sendable, Equatable {
    var accountLimit = 10
    var addressLimit = 50
    var window: TimeInterval = 15 * 60
    /// How long a successful login makes its address trusted for the account.
    var trustedAddressPeriod: TimeInterval = 30 * 24 * 3600

    enum Decision: Equatable {
        case allow
        case deny(retryAfter: Int, reason: String)
    }

    /// The recent history the decision needs, newest first, each list already limited to the window.
    struct History: Equatable {
        /// Failures of the account after its last success, newest first (at most `accountLimit`).
        var accountFailures: [Date]
        /// Failures from the client address, newest first (at most `addressLimit`).
        var addressFailures: [Date]
        /// Whether the client address logged in to this account within the trusted period.
        var addressIsTrusted: Bool
    }

    func decide(_ history: History, now: Date) -> Decision {
        let windowStart = now.addingTimeInterval(-window)
        let address = history.addressFailures.filter { $0 > windowStart }.sorted(by: >)
        if address.count >= addressLimit {
            return .deny(
                retryAfter: retryAfter(oldestCounted: address[addressLimit - 1], now: now),
                reason: "too many failed logins from this address; retry later")
        }
        let account = history.accountFailures.filter { $0 > windowStart }.sorted(by: >)
        if !history.addressIsTrusted, account.count >= accountLimit {
            return .deny(
                retryAfter: retryAfter(oldestCounted: account[accountLimit - 1], now: now),
                reason: "too many failed logins for this account; retry later")
        }
        return .allow
    }

    /// Seconds until the oldest failure that keeps the count at its limit leaves the window,
    /// rounded up, at least 1 (RFC 9110 §10.2.3 delay-seconds).
    private func retryAfter(oldestCounted: Date, now: Date) -> Int {
        let seconds = oldestCounted.addingTimeInterval(window).timeIntervalSince(now)
        return max(1, Int(seconds.rounded(.up)))
    }
}
