// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

public import Foundation

/// A tenant's subscription plan (SPEC §3: `trial` $0, `growth` $249, `scale` $999 a month). Prices
/// belong to the Billing module; the names are shared.
public enum TenantPlan: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case trial
    case growth
    case scale

    /// Parses a plan name case-insensitively; `nil` for anything else.
    public init?(name: some StringProtocol) {
        guard let plan = TenantPlan(rawValue: name.lowercased()) else { return nil }
        self = plan
    }

    public var description: String { rawValue }
}

/// Whether a tenant may use Atlas. A suspended tenant's requests are refused with 403.
public enum TenantStatus: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case active
    case suspended

    public var description: String { rawValue }
}

/// What every module may know about a tenant.
public struct Tenant: Sendable, Hashable {
    public var id: TenantID
    public var plan: TenantPlan
    public var status: TenantStatus
    public var createdAt: Date

    public init(id: TenantID, plan: TenantPlan, status: TenantStatus, createdAt: Date) {
        self.id = id
        self.plan = plan
        self.status = status
        self.createdAt = createdAt
    }
}
