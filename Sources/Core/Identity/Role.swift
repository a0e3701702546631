// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

/// A member's role inside one tenant, ordered from least to most privileged:
/// `viewer < member < admin < owner`. Platform administrators stand above tenants and are not a
/// role (see ``Principal/isPlatformAdmin``).
public enum Role: String, CaseIterable, Comparable, Sendable, Codable {
    /// Reads the tenant's data.
    case viewer
    /// Uses the product: runs AI, pushes data, records usage.
    case member
    /// Manages members (up to admin), API keys and billing settings; reads the audit log.
    case admin
    /// Everything in the tenant, including its plan and its owners.
    case owner

    /// Rank used for ordering; higher is more privileged.
    public var rank: Int {
        switch self {
        case .viewer: 0
        case .member: 1
        case .admin: 2
        case .owner: 3
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

    /// Parses a role name case-insensitively; `nil` for anything else.
    public init?(name: some StringProtocol) {
        guard let role = Role(rawValue: name.lowercased()) else { return nil }
        self = role
    }
}
