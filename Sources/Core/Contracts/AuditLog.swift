// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

public import Foundation

/// One security-relevant event to append to a tenant's audit log.
public struct AuditEvent: Sendable, Hashable {
    /// The tenant whose log receives the event; `nil` for platform-level events (e.g. a failed
    /// login for an unknown account).
    public var tenant: TenantID?
    /// Who did it: ``Principal/actor``, `anonymous`, or `system`.
    public var actor: String
    /// A dotted verb such as `auth.login`, `members.role_changed`, `apikeys.created`, `tenants.plan_changed`.
    public var action: String
    /// What it was done to (a user id, a key id, a tenant id), if anything.
    public var target: String?
    /// The request that caused it, for correlation with logs.
    public var requestID: String?
    /// The client address, when the event came from a request.
    public var clientAddress: String?
    /// Extra facts (old and new role, plan…). Never secrets.
    public var details: [String: String]
    /// When it happened.
    public var occurredAt: Date

    public init(
        tenant: TenantID?, actor: String, action: String, target: String? = nil, requestID: String? = nil,
        clientAddress: String? = nil, details: [String: String] = [:], occurredAt: Date = Date()
    ) {
        self.tenant = tenant
        self.actor = actor
        self.action = action
        self.target = target
        self.requestID = requestID
        self.clientAddress = clientAddress
        self.details = details
        self.occurredAt = occurredAt
    }
}

/// The append-only audit log, implemented by the Auth module, for modules that record
/// security-relevant events of their own (a plan changed by a Stripe event, a budget changed).
public protocol AuditLog: Sendable {
    func record(_ event: AuditEvent) async throws
}
