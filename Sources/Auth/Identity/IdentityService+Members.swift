// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Storage

/// A member as the API shows it.
struct MemberView: Sendable, Encodable, Equatable {
    var userId: String
    var email: String
    var displayName: String
    var role: String
    var joinedAt: Date

    init(_ record: MemberRecord) {
        userId = record.userID.rawValue
        email = record.email
        displayName = record.displayName
        role = record.role.rawValue
        joinedAt = record.joinedAt
    }
}

/// Who is changing memberships, and how high they stand in the tenant.
struct MemberActor: Sendable {
    var principal: Principal
    var role: Role?
    var origin: RequestOrigin

    /// Platform administrators may grant and change any role; members only up to their own, so
    /// an admin can neither create an owner nor touch one.
    func mayGrant(_ role: Role) -> Bool {
        principal.isPlatformAdmin || (self.role.map { role <= $0 } ?? false)
    }
}

extension IdentityService {
    static let minimumPasswordLength = 8

    func listMembers(_ tenant: TenantID) async throws -> [MemberView] {
        try await database.read(tenant: Scope.tenant(tenant)) { conn in try MembershipStore.list(tenant, conn) }
            .map(MemberView.init)
    }

    /// `POST /tenants/{tenant}/members {email, role, password?, display_name?}`: adds an existing
    /// user, or creates the user when the email is unknown (with the password, if given; without
    /// one the account cannot log in until a password is set).
    func addMember(
        _ tenant: TenantID, email: String, role: Role, password: String?, displayName: String?, actor: MemberActor
    ) async throws -> (MemberView, createdUser: Bool) {
        let email = UserStore.normalize(email: email)
        guard UserStore.isPlausible(email: email) else {
            throw AuthError.unprocessable("email must look like name@domain", code: "invalid_email")
        }
        guard actor.mayGrant(role) else {
            throw AuthError.forbidden("you cannot grant the role '\(role.rawValue)', which is above your own", code: "role_too_high")
        }
        var hash: String?
        if let password {
            guard password.count >= Self.minimumPasswordLength, password.utf8.count <= Self.maximumPasswordBytes else {
                throw AuthError.unprocessable(
                    "password must be \(Self.minimumPasswordLength) to \(Self.maximumPasswordBytes) bytes long", code: "invalid_password")
            }
            let hasher = passwords
            do {
                hash = try await kdf.run { try hasher.hash(password) }
            } catch is KDFExecutor.Busy {
                throw AuthError.busy
            }
        }
        let passwordHash = hash
        let name = displayName?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard name.count <= 200 else { throw AuthError.unprocessable("display_name is longer than 200 characters") }
        let now = clock()
        defer { forget(tenant: tenant) }
        enum Outcome: Sendable { case added(MemberRecord, Bool), alreadyMember }
        let outcome = try await database.transaction(tenant: Scope.tenant(tenant)) { conn -> Outcome in
            var created = false
            let user: UserRecord
            if let existing = try UserStore.find(email: email, conn) {
                user = existing
            } else {
                user = UserRecord(id: UserStore.newID(), email: email, displayName: name, passwordHash: passwordHash, createdAt: now)
                try UserStore.insert(user, conn)
                created = true
            }
            if try MembershipStore.role(tenant, user: user.id, conn) != nil { return .alreadyMember }
            try MembershipStore.insert(tenant, user: user.id, role: role, now: now, conn)
            try AuditStore.append(
                AuditEvent(
                    tenant: tenant, actor: actor.principal.actor, action: "members.added", target: user.id.rawValue,
                    requestID: actor.origin.requestID, clientAddress: actor.origin.clientAddress,
                    details: ["role": role.rawValue, "user_created": created ? "true" : "false"], occurredAt: now), conn)
            return .added(try MembershipStore.member(tenant, user: user.id, conn)!, created)
        }
        switch outcome {
        case .alreadyMember:
            throw AuthError.conflict("\(email) is already a member of '\(tenant.rawValue)'; change the role with PATCH", code: "already_member")
        case .added(let record, let created):
            return (MemberView(record), created)
        }
    }

    /// Finds the member a path's `{user}` names: a user id or an email. A user of another tenant
    /// is "not found", exactly like an unknown one.
    private static func member(_ tenant: TenantID, named reference: String, _ conn: any Connection) throws -> MemberRecord {
        let members = try MembershipStore.list(tenant, conn)
        let found: MemberRecord?
        if let id = UserID(reference) {
            found = members.first { $0.userID == id }
        } else {
            let email = UserStore.normalize(email: reference)
            found = members.first { $0.email == email }
        }
        guard let found else { throw AuthError.notFound("tenant '\(tenant.rawValue)' has no such member", code: "member_not_found") }
        return found
    }

    /// `PATCH /tenants/{tenant}/members/{user} {role}`.
    func changeRole(_ tenant: TenantID, member reference: String, to role: Role, actor: MemberActor) async throws -> MemberView {
        guard actor.mayGrant(role) else {
            throw AuthError.forbidden("you cannot grant the role '\(role.rawValue)', which is above your own", code: "role_too_high")
        }
        let now = clock()
        defer { forget(tenant: tenant) }
        let record = try await database.transaction(tenant: Scope.tenant(tenant)) { conn -> MemberRecord in
            let member = try Self.member(tenant, named: reference, conn)
            guard actor.mayGrant(member.role) else {
                throw AuthError.forbidden("you cannot change the role of a member above your own role", code: "role_too_high")
            }
            guard member.role != role else { return member }
            if member.role == .owner, try MembershipStore.ownerCount(tenant, conn) <= 1 {
                throw AuthError.conflict("'\(member.email)' is the last owner of '\(tenant.rawValue)'; make another member owner first", code: "last_owner")
            }
            try MembershipStore.setRole(tenant, user: member.userID, role: role, now: now, conn)
            try AuditStore.append(
                AuditEvent(
                    tenant: tenant, actor: actor.principal.actor, action: "members.role_changed", target: member.userID.rawValue,
                    requestID: actor.origin.requestID, clientAddress: actor.origin.clientAddress,
                    details: ["from": member.role.rawValue, "to": role.rawValue], occurredAt: now), conn)
            return try MembershipStore.member(tenant, user: member.userID, conn)!
        }
        return MemberView(record)
    }

    /// `DELETE /tenants/{tenant}/members/{user}`.
    func removeMember(_ tenant: TenantID, member reference: String, actor: MemberActor) async throws {
        let now = clock()
        defer { forget(tenant: tenant) }
        try await database.transaction(tenant: Scope.tenant(tenant)) { conn in
            let member = try Self.member(tenant, named: reference, conn)
            guard actor.mayGrant(member.role) else {
                throw AuthError.forbidden("you cannot remove a member above your own role", code: "role_too_high")
            }
            if member.role == .owner, try MembershipStore.ownerCount(tenant, conn) <= 1 {
                throw AuthError.conflict("'\(member.email)' is the last owner of '\(tenant.rawValue)' and cannot be removed", code: "last_owner")
            }
            try MembershipStore.delete(tenant, user: member.userID, conn)
            try AuditStore.append(
                AuditEvent(
                    tenant: tenant, actor: actor.principal.actor, action: "members.removed", target: member.userID.rawValue,
                    requestID: actor.origin.requestID, clientAddress: actor.origin.clientAddress,
                    details: ["role": member.role.rawValue], occurredAt: now), conn)
        }
    }
}
