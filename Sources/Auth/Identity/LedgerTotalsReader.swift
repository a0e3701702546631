// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

public import Core
public import Foundation
public import Storage

/// The usage ledger's period totals, read on a connection Auth already holds.
///
/// The ledger (the Billing module's, through Core's ``UsageLedger``) and the tenant table live in
/// one database, so `GET /tenants/current` reads the totals on Auth's own connection, in the
/// tenant's scope, in one short read. The composition root connects an adapter over the
/// metering module; without one, summaries ask ``UsageLedger`` in a transaction of its own.
///
/// ```swift
/// auth.connect(usageLedger: billing.usageLedger, planChangeRecorder: billing.planChangeRecorder,
///              ledgerTotals: BillingTotals(billing: billing))
/// ```
public protocol LedgerTotalsReader: Sendable {
    /// The tenant's totals for the billing period containing `date`, read with `connection`
    /// (inside the caller's transaction; the implementation must not begin or end one).
    func periodTotals(for tenant: TenantID, at date: Date, on connection: any Connection) throws -> UsagePeriodTotals
}
