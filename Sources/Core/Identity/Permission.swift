// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

/// Everything a route may require, and — in ``roles`` — the one table saying which tenant roles
/// hold it. Every route declares one of these where it is registered, so this switch is the
/// whole authorisation policy of Atlas; tests walk every route and role against it.
///
/// Platform administrators hold every permission in every tenant. Permissions whose `roles` are
/// empty belong to platform administrators alone.
public enum Permission: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    // Tenants
    /// Read a tenant's summary (`GET /tenants/current`, `GET /tenants/{tenant}`).
    case tenantsRead = "tenants.read"
    /// Change a tenant's plan (`POST /tenants` on an existing tenant, `PATCH /tenants/{tenant}` plan).
    case tenantsWrite = "tenants.write"
    /// Create tenants, list every tenant, suspend and reactivate them.
    case tenantsAdminister = "tenants.administer"
    /// Adjust a tenant's usage counters (`POST /tenants/{tenant}/usage`).
    case tenantsUsageWrite = "tenants.usage.write"

    // Members, keys, audit
    /// List members and their roles.
    case membersRead = "members.read"
    /// Add members, change roles, remove members.
    case membersManage = "members.manage"
    /// List, create and revoke API keys.
    case apiKeysManage = "apikeys.manage"
    /// Read the tenant's audit log.
    case auditRead = "audit.read"

    // Billing and metering
    /// Read the billing preview, the subscription and the budget.
    case billingRead = "billing.read"
    /// Change the budget and billing settings.
    case billingManage = "billing.manage"
    /// Read usage events and summaries.
    case usageRead = "usage.read"
    /// Record usage events (`POST /metrics/usage`).
    case usageWrite = "usage.write"

    // AI
    /// Read runs, checkpoints, graphs and documents; search.
    case aiRead = "ai.read"
    /// Start and resume graph runs.
    case aiRun = "ai.run"
    /// Add and delete the tenant's documents.
    case aiDocumentsWrite = "ai.documents.write"

    // Data
    /// Read the catalog, models, runs and features.
    case dataRead = "data.read"
    /// Push records into a source.
    case dataWrite = "data.write"
    /// Run and test models.
    case dataRun = "data.run"

    // Platform
    /// Read platform metrics (`GET /metrics` from a non-loopback client).
    case platformMetricsRead = "platform.metrics.read"

    /// The least privileged tenant role holding this permission (roles are ordered viewer <
    /// member < admin < owner, and each holds what the ones below it hold), or `nil` when only
    /// platform administrators hold it. This switch is the permission table.
    public var minimumRole: Role? {
        switch self {
        case .tenantsRead, .membersRead, .usageRead, .aiRead, .dataRead: .viewer
        case .usageWrite, .aiRun, .aiDocumentsWrite, .dataWrite, .dataRun: .member
        case .membersManage, .apiKeysManage, .auditRead, .billingRead, .billingManage, .tenantsUsageWrite: .admin
        case .tenantsWrite: .owner
        case .tenantsAdminister, .platformMetricsRead: nil
        }
    }

    /// The tenant roles that hold this permission.
    public var roles: Set<Role> { Set(Role.allCases.filter(isGranted(to:))) }

    /// Whether a member with `role` holds this permission (checked on every request, so without
    /// building ``roles``).
    public func isGranted(to role: Role) -> Bool {
        guard let minimum = minimumRole else { return false }
        return role.rank >= minimum.rank
    }

    public var description: String { rawValue }
}

extension Principal {
    /// Whether this principal holds `permission` in a tenant where its role is `role` (`nil` when
    /// it is not a member). Platform administrators hold every permission.
    public func holds(_ permission: Permission, role: Role?) -> Bool {
        if isPlatformAdmin { return true }
        guard let role else { return false }
        return permission.isGranted(to: role)
    }
}
