// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core

/// The value of `atlas.tenant` a transaction is opened with, which PostgreSQL's row-level
/// security policies compare with each row's `tenant_id` (Migrations/postgres/0007).
///
/// Every database call of this module names its scope explicitly: a tenant, or ``platform`` for
/// the few reads and writes that must span tenants (authentication look-ups, `/auth/me`, a
/// platform administrator's listings, seeding). A call that names no scope sees no
/// tenant-scoped row on PostgreSQL.
enum Scope {
    /// Every tenant's rows. `*` can never be a ``TenantID``, so it cannot be confused with one.
    static let platform = "*"

    /// One tenant's rows.
    static func tenant(_ id: TenantID) -> String { id.rawValue }
}
