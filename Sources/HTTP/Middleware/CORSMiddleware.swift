// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import HTTPTypes

/// Cross-origin resource sharing (Fetch Standard §3.2) from `ATLAS_ALLOW_ORIGINS`.
///
/// A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) from an allowed
/// origin is answered 204 with the allowed methods and headers and a max age, before routing.
/// Other responses to an allowed origin get `Access-Control-Allow-Origin` and expose
/// `X-Request-ID`. With an origin list (not `*`) every response carries `Vary: Origin`, since it
/// differs by origin. Requests without `Origin` are left alone.
public struct CORSMiddleware: Middleware {
    /// `["*"]` or exact origins (`https://app.example.com`).
    public let allowOrigins: [String]
    public let allowMethods: String
    public let allowHeaders: String
    public let maxAge: Int
    private let anyOrigin: Bool

    public init(allowOrigins: [String] = ["*"],
                allowMethods: String = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
                allowHeaders: String = "Authorization, Content-Type, X-API-Key, X-Atlas-Tenant, X-Request-ID, Stripe-Signature",
                maxAge: Int = 600) {
        self.allowOrigins = allowOrigins
        self.allowMethods = allowMethods
        self.allowHeaders = allowHeaders
        self.maxAge = maxAge
        self.anyOrigin = allowOrigins.contains("*")
    }

    public func before(_ request: Request, context: inout RequestContext) throws -> Response? {
        guard request.storage.methodIndex == .options,
              let origin = origin(of: request),
              request.storage.firstField("access-control-request-method") != nil
        else { return nil }
        guard let allowed = allowedOrigin(origin) else { return nil }
        var headers: HTTPFields = [
            .accessControlAllowOrigin: allowed,
            .accessControlAllowMethods: allowMethods,
            .accessControlAllowHeaders: allowHeaders,
            .accessControlMaxAge: String(maxAge),
        ]
        if !anyOrigin { headers[.vary] = "Origin" }
        return Response(status: .noContent, headers: headers)
    }

    public func after(_ request: Request, context: RequestContext, response: inout Response) {
        if !anyOrigin { Self.addVary("Origin", to: &response) }
        guard let origin = origin(of: request), let allowed = allowedOrigin(origin),
              response.headers[.accessControlAllowOrigin] == nil
        else { return }
        response.headers[.accessControlAllowOrigin] = allowed
        response.headers[.accessControlExposeHeaders] = "X-Request-ID"
    }

    private func origin(of request: Request) -> String? {
        guard let field = request.storage.firstField("origin") else { return nil }
        return String(decoding: request.storage.value(field), as: UTF8.self)
    }

    private func allowedOrigin(_ origin: String) -> String? {
        if anyOrigin { return "*" }
        return allowOrigins.contains(origin) ? origin : nil
    }

    static func addVary(_ name: String, to response: inout Response) {
        guard let vary = response.headers[.vary] else {
            response.headers[.vary] = name
            return
        }
        if !vary.lowercased().contains(name.lowercased()) { response.headers[.vary] = vary + ", " + name }
    }
}
