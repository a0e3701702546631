// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import Auth
import Core
import Foundation
import HTTPTypes
import Storage
import Testing

/// PostgreSQL's row-level security as a second wall: even SQL that forgets its tenant filter sees
/// and changes only the transaction's tenant. The application connects as an ordinary role, as
/// it must in production (a superuser or BYPASSRLS role would skip the policies).
@Suite struct RowLevelSecurityTests {
    static func seed(_ app: TestApp) async throws -> (alphaKey: String, betaKey: String) {
        try await app.makeTenant("alpha")
        try await app.makeTenant("beta")
        _ = try await app.makeMember("alpha", role: .member)
        _ = try await app.makeMember("beta", role: .member)
        let alphaKey = try await app.makeKey("alpha", role: .viewer).id
        let betaKey = try await app.makeKey("beta", role: .viewer).id
        return (alphaKey, betaKey)
    }

    @Test(arguments: Backend.postgresOnly)
    func runsAsAnOrdinaryRole_WithPoliciesForced(backend: Backend) async throws {
        try await withApp(backend) { app in
            let role = try await app.database.read { conn in
                try conn.queryFirst("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            }
            #expect(try role?["rolsuper", as: Bool.self] == false)
            #expect(try role?["rolbypassrls", as: Bool.self] == false)
            for table in ["auth_memberships", "auth_api_keys", "auth_audit_log"] {
                let forced = try await app.database.read { conn in
                    try conn.queryFirst("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = \(table)")
                }
                #expect(try forced?["relrowsecurity", as: Bool.self] == true, "\(table)")
                #expect(try forced?["relforcerowsecurity", as: Bool.self] == true, "\(table)")
            }
        }
    }

    @Test(arguments: Backend.postgresOnly)
    func unfilteredReadsSeeOnlyTheTransactionsTenant(backend: Backend) async throws {
        try await withApp(backend) { app in
            _ = try await Self.seed(app)
            for table in ["auth_memberships", "auth_api_keys", "auth_audit_log"] {
                let alpha = try await app.database.read(tenant: "alpha") { conn in
                    try conn.query(SQLQuery(unsafeSQL: "SELECT DISTINCT tenant_id FROM \(table)")).map { try $0["tenant_id", as: String?.self] }
                }
                #expect(alpha == ["alpha"], "\(table): \(alpha)")
                let none = try await app.database.read { conn in
                    try conn.queryScalar(SQLQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table)"), as: Int.self)
                }
                #expect(none == 0, "\(table) without a tenant")
                let platform = try await app.database.read(tenant: "*") { conn in
                    try conn.query(SQLQuery(unsafeSQL: "SELECT DISTINCT tenant_id FROM \(table) WHERE tenant_id IS NOT NULL"))
                        .map { try $0["tenant_id", as: String.self] }
                }
                #expect(Set(platform).isSuperset(of: ["alpha", "beta"]), "\(table) in platform scope")
            }
        }
    }

    @Test(arguments: Backend.postgresOnly)
    func unfilteredWritesTouchOnlyTheTransactionsTenant(backend: Backend) async throws {
        try await withApp(backend) { app in
            let keys = try await Self.seed(app)
            let changed = try await app.database.transaction(tenant: "alpha") { conn in
                try conn.execute("UPDATE auth_api_keys SET name = 'renamed'")
            }
            #expect(changed == 1)
            let beta = try await app.database.read(tenant: "beta") { conn in
                try conn.queryScalar("SELECT name FROM auth_api_keys WHERE id = \(keys.betaKey)", as: String.self)
            }
            #expect(beta == "test key")
            let deleted = try await app.database.transaction(tenant: "alpha") { conn in
                try conn.execute("DELETE FROM auth_api_keys WHERE id = \(keys.betaKey)")
            }
            #expect(deleted == 0)
            // Writing a row for another tenant is refused by the policy's WITH CHECK.
            await #expect(throws: StorageError.self) {
                try await app.database.transaction(tenant: "alpha") { conn in
                    let user = try #require(try conn.queryScalar("SELECT user_id FROM auth_memberships LIMIT 1", as: String.self))
                    try conn.execute(
                        "INSERT INTO auth_memberships (tenant_id, user_id, role, created_at, updated_at) VALUES ('beta', \(user), 'owner', 0, 0)")
                }
            }
            await #expect(throws: StorageError.self) {
                try await app.database.transaction(tenant: "alpha") { conn in
                    try conn.execute("UPDATE auth_api_keys SET tenant_id = 'beta' WHERE id = \(keys.alphaKey)")
                }
            }
        }
    }

    @Test(arguments: Backend.all)
    func auditLogIsAppendOnly(backend: Backend) async throws {
        try await withApp(backend) { app in
            _ = try await app.login()
            let count = try await app.database.read(tenant: "*") { try $0.queryScalar("SELECT COUNT(*) FROM auth_audit_log", as: Int.self) }
            #expect((count ?? 0) > 0)
            await #expect(throws: StorageError.self) {
                try await app.database.transaction(tenant: "*") { try $0.execute("UPDATE auth_audit_log SET actor = 'someone else'") }
            }
            await #expect(throws: StorageError.self) {
                try await app.database.transaction(tenant: "*") { try $0.execute("DELETE FROM auth_audit_log") }
            }
            let after = try await app.database.read(tenant: "*") { try $0.queryScalar("SELECT COUNT(*) FROM auth_audit_log", as: Int.self) }
            #expect(after == count)
        }
    }
}
