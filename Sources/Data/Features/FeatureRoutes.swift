// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import HTTP

/// `GET /features/{view}/{entity}` (SPEC §3): online values with their age; `?as_of=` (ISO-8601)
/// reads the offline table point-in-time instead.
struct FeatureRoutes: Sendable {
    let store: FeatureStore
    let resolver: TenantResolver

    func register(_ routes: SecuredRoutes) {
        let store = self.store
        let resolver = self.resolver
        routes.get("/features/{view}/{entity}", requires: .dataRead, tenant: .request) { request, context in
            let name = try context.requestContext.parameters.require("view")
            let entity = try context.requestContext.parameters.require("entity")
            guard let view = store.view(name) else {
                throw FeatureError(status: 404, code: "feature_view_not_found", detail: "feature view \(SourceNames.quoted(name)) does not exist")
            }
            var tenant = context.tenantID
            if view.entityIsTenant, entity != tenant.rawValue {
                // A tenant's values belong to that tenant: resolve it as the route's tenant, which
                // checks membership (a platform admin passes) and answers 404 otherwise.
                guard TenantID.isValid(entity) else { throw Self.notFound(view, entity) }
                var requestContext = context.requestContext
                tenant = try await resolver.resolve(request, context: &requestContext, permission: .dataRead, selector: .path("entity")).tenantID
            }
            if let asOf = request.query["as_of"] {
                guard let millis = Timestamps.parse(asOf) else {
                    throw AtlasError.badRequest("query parameter `as_of` must be an ISO-8601 timestamp", code: "invalid_parameter")
                }
                let time = Date(timeIntervalSince1970: Double(millis) / 1000)
                guard let found = try await store.values(view: name, entity: entity, tenant: tenant, asOf: time) else {
                    throw FeatureError(status: 404, code: "feature_values_not_found",
                                       detail: "feature view \(name) has no values for \(SourceNames.quoted(entity)) as of \(Timestamps.format(time)) (within its ttl)")
                }
                return try Response.json(FeatureAnswer(found, view: view, age: time.timeIntervalSince(found.eventTime), asOf: time))
            }
            guard let found = try await store.online(view: name, entity: entity, tenant: tenant) else { throw Self.notFound(view, entity) }
            return try Response.json(FeatureAnswer(found.values, view: view, age: found.age, asOf: nil))
        }
    }

    static func notFound(_ view: FeatureView, _ entity: String) -> FeatureError {
        FeatureError(status: 404, code: "feature_values_not_found",
                     detail: "feature view \(view.name) has no values for \(view.entity) \(SourceNames.quoted(entity))")
    }
}

struct FeatureAnswer: Encodable {
    var view: String
    var entity: String
    var values: [String: JSONValue]
    var eventTime: Date
    var ageSeconds: Double
    var ttlSeconds: Double
    var asOf: Date?

    init(_ values: FeatureValues, view: FeatureView, age: TimeInterval, asOf: Date?) {
        self.view = values.view
        entity = values.entity
        self.values = values.values
        eventTime = values.eventTime
        ageSeconds = (age * 1000).rounded() / 1000
        ttlSeconds = view.ttl
        self.asOf = asOf
    }
}
