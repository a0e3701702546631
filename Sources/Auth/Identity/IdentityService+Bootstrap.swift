// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Logging
import Storage

extension IdentityService {
    /// The seed data of SPEC §3.
    static let seedTenants: [(id: String, plan: TenantPlan, tokens: Int, requests: Int)] = [
        ("demo", .scale, 120_000, 540),
        ("acme", .growth, 42_000, 210),
    ]

    func bootstrap() async throws {
        let now = clock()
        let email = UserStore.normalize(email: configuration.adminUsername)
        let exists = try await database.read(tenant: nil) { conn in try UserStore.find(email: email, conn) != nil }
        // Start-up allocates no 32 MiB scrypt block: see `bootstrapAlgorithm(for:)`.
        let hasher = PasswordHasher(algorithm: PasswordHasher.bootstrapAlgorithm(for: passwords.algorithm))
        let password = configuration.adminPassword
        let hash = exists ? nil : try await kdf.run { try hasher.hash(password) }
        let fallback = configuration.defaultTenant
        try await database.transaction(tenant: Scope.platform) { conn in
            var seeded: [TenantID] = []
            for seed in Self.seedTenants {
                let tenant = TenantID(seed.id)!
                if try TenantStore.insert(tenant, plan: seed.plan, tokens: seed.tokens, requests: seed.requests, now: now, conn) {
                    seeded.append(tenant)
                }
            }
            let admin: UserRecord
            if let existing = try UserStore.find(email: email, conn) {
                admin = existing
                if !existing.isPlatformAdmin { try UserStore.setPlatformAdmin(true, for: existing.id, now: now, conn) }
            } else {
                admin = UserRecord(
                    id: UserStore.newID(), email: email, displayName: "Platform administrator", passwordHash: hash,
                    isPlatformAdmin: true, defaultTenant: fallback, createdAt: now)
                try UserStore.insert(admin, conn)
                try AuditStore.append(
                    AuditEvent(tenant: nil, actor: "system", action: "users.bootstrap_admin_created", target: admin.id.rawValue, occurredAt: now), conn)
            }
            for seed in Self.seedTenants {
                let tenant = TenantID(seed.id)!
                try MembershipStore.ensure(tenant, user: admin.id, atLeast: .owner, now: now, conn)
            }
            for tenant in seeded {
                try AuditStore.append(
                    AuditEvent(tenant: tenant, actor: "system", action: "tenants.seeded", target: tenant.rawValue, occurredAt: now), conn)
            }
        }
        // The seed usage is also in the tenants' own counters, which summaries show when no usage
        // ledger is connected; a connected ledger seeds its own period (Billing's migration 0013).
        accessCache.removeAll()
        if exists == false {
            logger.info("auth.bootstrap_admin_created", metadata: ["user.email": "\(email)"])
        }
    }
}
