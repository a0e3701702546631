// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

public import HTTP
import HTTPTypes

/// Who may read `GET /metrics`, which reveals tenant ids: loopback peers always; others with
/// `Authorization: Bearer <ATLAS_METRICS_TOKEN>`, or when `authorize` (e.g. a platform-admin
/// check the composition root supplies) says yes.
public struct MetricsAccess: Sendable {
    public var token: String?
    public var authorize: (@Sendable (Request) -> Bool)?

    public init(token: String?, authorize: (@Sendable (Request) -> Bool)? = nil) {
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.authorize = authorize
    }

    func allows(_ request: Request, context: RequestContext) -> Bool {
        if context.remoteAddress?.isLoopback == true { return true }
        if let token, let header = request.headers["Authorization"] {
            let prefix = "bearer "
            if header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix,
               Self.equal(Array(header.utf8.dropFirst(prefix.count)), Array(token.utf8)) {
                return true
            }
        }
        return authorize?(request) ?? false
    }

    /// Compares without an early exit so response time does not reveal a matching prefix.
    static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(lhs.count == rhs.count ? 0 : 1)
        for index in 0..<max(lhs.count, rhs.count) {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }
}

extension Router {
    /// Registers `GET /metrics` in the Prometheus text format 0.0.4. Refused callers get 403
    /// (401 with `WWW-Authenticate` when they sent no credentials).
    public func registerMetricsRoute(registry: MetricsRegistry, access: MetricsAccess,
                                     contributors: @escaping @Sendable () -> [MetricsContributor]) {
        _ = inline.get("/metrics") { request, context in
            guard access.allows(request, context: context) else {
                if request.headers["Authorization"] == nil {
                    var response = Response.text("{\"type\":\"about:blank\",\"title\":\"Unauthorized\",\"status\":401,"
                                                 + "\"code\":\"metrics_unauthorized\",\"detail\":\"a bearer token is required\"}",
                                                 status: .unauthorized, contentType: "application/problem+json")
                    response.headers[.wwwAuthenticate] = "Bearer realm=\"metrics\""
                    return response
                }
                return Response.text("{\"type\":\"about:blank\",\"title\":\"Forbidden\",\"status\":403,"
                                     + "\"code\":\"metrics_forbidden\",\"detail\":\"not allowed to read metrics\"}",
                                     status: .forbidden, contentType: "application/problem+json")
            }
            let samples = contributors().flatMap { $0() }
            return Response.text(PrometheusRenderer.render(registry, contributed: samples),
                                 contentType: PrometheusRenderer.contentType)
        }
    }
}
