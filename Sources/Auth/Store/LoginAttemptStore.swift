// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Storage

/// SQL over `auth_login_attempts`, the history ``LoginThrottle`` decides on.
enum LoginAttemptStore {
    static func history(
        account: String, address: String, policy: LoginThrottle, now: Date, _ conn: any Connection
    ) throws -> LoginThrottle.History {
        let windowStart = now.addingTimeInterval(-policy.window)
        // "Since the last success" goes by id, not time, so a failure in the same millisecond as
        // the success is still ordered correctly.
        let lastSuccess = try conn.queryScalar(
            "SELECT MAX(id) FROM auth_login_attempts WHERE account = \(account) AND succeeded = \(true)", as: Int64.self) ?? 0
        let accountFailures = try conn.query(
            """
            SELECT attempted_at FROM auth_login_attempts
            WHERE account = \(account) AND succeeded = \(false) AND attempted_at > \(windowStart) AND id > \(lastSuccess)
            ORDER BY attempted_at DESC LIMIT \(policy.accountLimit)
            """
        ).map { try $0["attempted_at", as: Date.self] }
        let addressFailures = try conn.query(
            """
            SELECT attempted_at FROM auth_login_attempts
            WHERE address = \(address) AND succeeded = \(false) AND attempted_at > \(windowStart)
            ORDER BY attempted_at DESC LIMIT \(policy.addressLimit)
            """
        ).map { try $0["attempted_at", as: Date.self] }
        let trusted = try conn.queryScalar(
            """
            SELECT COUNT(*) FROM auth_login_attempts
            WHERE account = \(account) AND address = \(address) AND succeeded = \(true)
              AND attempted_at > \(now.addingTimeInterval(-policy.trustedAddressPeriod))
            """, as: Int.self) ?? 0
        return LoginThrottle.History(
            accountFailures: accountFailures, addressFailures: addressFailures, addressIsTrusted: trusted > 0)
    }

    static func record(account: String, address: String, succeeded: Bool, now: Date, _ conn: any Connection) throws {
        try conn.execute(
            """
            INSERT INTO auth_login_attempts (account, address, succeeded, attempted_at)
            VALUES (\(account), \(address), \(succeeded), \(now))
            """)
    }

    /// Failures matter for one window, successes for the trusted-address period.
    static func prune(policy: LoginThrottle, now: Date, _ conn: any Connection) throws {
        try conn.execute(
            """
            DELETE FROM auth_login_attempts
            WHERE (succeeded = \(false) AND attempted_at < \(now.addingTimeInterval(-policy.window)))
               OR attempted_at < \(now.addingTimeInterval(-policy.trustedAddressPeriod))
            """)
    }
}
