// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import Auth
import Core
import Foundation
import HTTPTypes
import Storage
import Testing

@Suite struct TenantRoutesTests {
    @Test(arguments: Backend.all)
    func platformAdminCreatesTenants_AndBecomesOwner(backend: Backend) async throws {
        try await withApp(backend) { app in
            let admin = try await app.login()
            let created = try await app.send(.post, "/tenants", token: admin, json: ["tenant": "globex", "plan": "growth"])
            #expect(created.status == 200)
            #expect(created["tenant"] as? String == "globex")
            #expect((created["usage"] as? [String: Any])?["plan"] as? String == "growth")
            #expect((created["usage"] as? [String: Any])?["tokens"] as? Int == 0)
            let members = try await app.send(.get, "/tenants/globex/members", token: admin)
            #expect(members.array.first?["email"] as? String == "admin@atlas")
            #expect(members.array.first?["role"] as? String == "owner")
            let updated = try await app.send(.post, "/tenants", token: admin, json: ["tenant": "globex", "plan": "scale"])
            #expect((updated["usage"] as? [String: Any])?["plan"] as? String == "scale")
            let all = try await app.send(.get, "/tenants", token: admin)
            #expect(Set(all.array.compactMap { $0["tenant"] as? String }) == ["acme", "demo", "globex"])
        }
    }

    @Test(arguments: Backend.all)
    func onlyOwnersChangePlans_AndOthersLearnNothing(backend: Backend) async throws {
        try await withApp(backend) { app in
            let owner = try await app.makeMember("acme", role: .owner)
            let admin = try await app.makeMember("acme", role: .admin)
            let byOwner = try await app.send(.post, "/tenants", token: owner.token, json: ["tenant": "acme", "plan": "scale"])
            #expect(byOwner.status == 200)
            #expect((byOwner["usage"] as? [String: Any])?["plan"] as? String == "scale")
            let byAdmin = try await app.send(.post, "/tenants", token: admin.token, json: ["tenant": "acme", "plan": "trial"])
            #expect(byAdmin.status == 403)
            // A non-administrator gets the same answer for another tenant and for a new one.
            let other = try await app.send(.post, "/tenants", token: owner.token, json: ["tenant": "demo", "plan": "trial"])
            let new = try await app.send(.post, "/tenants", token: owner.token, json: ["tenant": "brand-new", "plan": "trial"])
            #expect(other.status == 403)
            #expect(new.status == 403)
            #expect(other["detail"] as? String == new["detail"] as? String)
            // Reads take plan and status from the cached membership check; a change forgets it.
            let current = try await app.send(.get, "/tenants/current", token: owner.token, headers: ["X-Atlas-Tenant": "acme"])
            #expect((current["usage"] as? [String: Any])?["plan"] as? String == "scale")
            let patch = try await app.send(.patch, "/tenants/acme", token: owner.token, json: ["plan": "growth"])
            #expect(patch.status == 200)
            #expect(patch["plan"] as? String == "growth")
            let after = try await app.send(.get, "/tenants/current", token: owner.token, headers: ["X-Atlas-Tenant": "acme"])
            #expect((after["usage"] as? [String: Any])?["plan"] as? String == "growth")
            #expect(try await app.send(.get, "/tenants/acme", token: owner.token)["plan"] as? String == "growth")
            #expect(try await app.send(.patch, "/tenants/acme", token: admin.token, json: ["plan": "trial"]).status == 403)
        }
    }

    @Test(arguments: Backend.all)
    func validatesTenantIdsPlansAndBodies(backend: Backend) async throws {
        try await withApp(backend) { app in
            let admin = try await app.login()
            for bad in ["Acme", "-acme", "acme-", "a b", String(repeating: "a", count: 64), "ac/me", "'; DROP TABLE core_tenants; --"] {
                let response = try await app.send(.post, "/tenants", token: admin, json: ["tenant": bad, "plan": "trial"])
                #expect(response.status == 400, "\(bad)")
                #expect(response.code == "invalid_tenant")
            }
            #expect(try await app.send(.post, "/tenants", token: admin, json: ["tenant": "current", "plan": "trial"]).status == 422)
            #expect(try await app.send(.post, "/tenants", token: admin, json: ["tenant": "ok", "plan": "platinum"]).status == 422)
            #expect(try await app.send(.post, "/tenants", token: admin, json: ["tenant": "ok"]).status == 422)
            #expect(try await app.send(.get, "/tenants/NOPE", token: admin).status == 400)
            #expect(try await app.send(.get, "/tenants/current", token: admin, headers: ["X-Atlas-Tenant": "NOPE!"]).status == 400)
            #expect(try await app.send(.get, "/tenants/unknown", token: admin).status == 404)
            #expect(try await app.send(.patch, "/tenants/acme", token: admin, json: [:] as [String: String]).status == 422)
            #expect(try await app.send(.patch, "/tenants/acme", token: admin, json: ["status": "deleted"]).status == 422)
            let count = try await app.database.read { try $0.queryScalar("SELECT COUNT(*) FROM core_tenants", as: Int.self) }
            #expect(count == 2)
        }
    }

    @Test(arguments: Backend.all)
    func resolvesTheCurrentTenant_FromHeaderTokenThenDefault(backend: Backend) async throws {
        try await withApp(backend) { app in
            let admin = try await app.login()
            #expect(try await app.send(.get, "/tenants/current", token: admin)["tenant"] as? String == "demo")
            #expect(try await app.send(.get, "/tenants/current", token: admin, headers: ["X-Atlas-Tenant": "acme"])["tenant"] as? String == "acme")
            let member = try await app.makeMember("acme", role: .viewer)
            #expect(try await app.send(.get, "/tenants/current", token: member.token)["tenant"] as? String == "acme")
            #expect(try await app.send(.get, "/tenants/current", token: member.token, headers: ["X-Atlas-Tenant": "demo"]).status == 404)
            #expect(try await app.send(.get, "/tenants/current").status == 401)
        }
    }

    @Test(arguments: Backend.all)
    func suspendedTenantsAnswer403_UntilAPlatformAdminReactivatesThem(backend: Backend) async throws {
        try await withApp(backend) { app in
            let admin = try await app.login()
            let owner = try await app.makeMember("acme", role: .owner)
            let (_, key) = try await app.makeKey("acme", role: .admin)
            let byOwner = try await app.send(.patch, "/tenants/acme", token: owner.token, json: ["status": "suspended"])
            #expect(byOwner.status == 403)
            let suspend = try await app.send(.patch, "/tenants/acme", token: admin, json: ["status": "suspended"])
            #expect(suspend.status == 200)
            #expect(suspend["status"] as? String == "suspended")
            for token in [owner.token, key] {
                let refused = try await app.send(.get, "/tenants/acme/members", token: token)
                #expect(refused.status == 403)
                #expect(refused.code == "tenant_suspended")
                #expect((refused["detail"] as? String)?.contains("suspended") == true)
            }
            #expect(try await app.send(.post, "/tenants", token: owner.token, json: ["tenant": "acme", "plan": "trial"]).status == 403)
            #expect(try await app.send(.patch, "/tenants/acme", token: admin, json: ["status": "active"]).status == 200)
            #expect(try await app.send(.get, "/tenants/acme/members", token: owner.token).status == 200)
        }
    }

    @Test(arguments: Backend.all)
    func adjustsUsageCounters(backend: Backend) async throws {
        try await withApp(backend) { app in
            let admin = try await app.login()
            let response = try await app.send(.post, "/tenants/demo/usage", token: admin, json: ["tokens_delta": 5000, "requests_delta": 50])
            #expect(response.status == 200)
            #expect((response["usage"] as? [String: Any])?["tokens"] as? Int == 125_000)
            #expect((response["usage"] as? [String: Any])?["requests"] as? Int == 590)
            let clamped = try await app.send(.post, "/tenants/demo/usage", token: admin, json: ["tokens_delta": -10_000_000, "requests_delta": 0])
            #expect((clamped["usage"] as? [String: Any])?["tokens"] as? Int == 0)
            #expect(try await app.send(.post, "/tenants/demo/usage", token: admin, json: ["tokens_delta": "many"]).status == 422)
            #expect(try await app.send(.post, "/tenants/demo/usage", token: admin, json: ["tokens_delta": 1e15]).status == 422)
        }
    }

    @Test(arguments: Backend.all)
    func keepsAnOwner_AndRolesBelowTheActor(backend: Backend) async throws {
        try await withApp(backend) { app in
            let admin = try await app.login()
            try await app.makeTenant("solo")
            let adminID = try #require(try await app.send(.get, "/auth/me", token: admin)["id"] as? String)
            let demote = try await app.send(.patch, "/tenants/solo/members/\(adminID)", token: admin, json: ["role": "admin"])
            #expect(demote.status == 409)
            #expect(demote.code == "last_owner")
            let remove = try await app.send(.delete, "/tenants/solo/members/admin@atlas", token: admin)
            #expect(remove.status == 409)

            let tenantAdmin = try await app.makeMember("solo", role: .admin)
            let viewer = try await app.makeMember("solo", role: .viewer)
            #expect(try await app.send(.patch, "/tenants/solo/members/\(viewer.id)", token: tenantAdmin.token, json: ["role": "owner"]).status == 403)
            #expect(try await app.send(.patch, "/tenants/solo/members/\(adminID)", token: tenantAdmin.token, json: ["role": "viewer"]).status == 403)
            #expect(try await app.send(.delete, "/tenants/solo/members/\(adminID)", token: tenantAdmin.token).status == 403)
            let promote = try await app.send(.patch, "/tenants/solo/members/\(viewer.email)", token: tenantAdmin.token, json: ["role": "member"])
            #expect(promote.status == 200)
            #expect(promote["role"] as? String == "member")

            // With a second owner, the first may step down.
            #expect(try await app.send(.patch, "/tenants/solo/members/\(viewer.id)", token: admin, json: ["role": "owner"]).status == 200)
            #expect(try await app.send(.patch, "/tenants/solo/members/\(adminID)", token: admin, json: ["role": "admin"]).status == 200)
            #expect(try await app.send(.delete, "/tenants/solo/members/\(viewer.id)", token: admin).status == 409)
            #expect(try await app.send(.delete, "/tenants/solo/members/usr_doesnotexist", token: admin).status == 404)
            #expect(try await app.send(.delete, "/tenants/solo/members/\(tenantAdmin.id)", token: admin).status == 204)
            #expect(try await app.send(.get, "/tenants/solo", token: tenantAdmin.token).status == 404)
        }
    }

    @Test(arguments: Backend.all)
    func addsExistingUsersToMoreTenants_AndRefusesDuplicates(backend: Backend) async throws {
        try await withApp(backend) { app in
            let admin = try await app.login()
            let member = try await app.makeMember("acme", role: .member)
            let add = try await app.send(.post, "/tenants/demo/members", token: admin, json: ["email": member.email.uppercased(), "role": "viewer"])
            #expect(add.status == 201)
            #expect(add["user_id"] as? String == member.id)
            let duplicate = try await app.send(.post, "/tenants/demo/members", token: admin, json: ["email": member.email, "role": "viewer"])
            #expect(duplicate.status == 409)
            let tenants = try await app.send(.get, "/tenants", token: member.token)
            #expect(Set(tenants.array.compactMap { $0["tenant"] as? String }) == ["acme", "demo"])
            #expect(try await app.send(.post, "/tenants/demo/members", token: admin, json: ["email": "not-an-email", "role": "viewer"]).status == 422)
            #expect(try await app.send(.post, "/tenants/demo/members", token: admin, json: ["email": "a@b.c", "role": "viewer", "password": "short"]).status == 422)
            // A user created without a password cannot log in.
            #expect(try await app.send(.post, "/tenants/demo/members", token: admin, json: ["email": "nopass@demo.test", "role": "viewer"]).status == 201)
            #expect(try await app.send(.post, "/auth/token", json: ["username": "nopass@demo.test", "password": ""]).status == 401)
        }
    }
}
