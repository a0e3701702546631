// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import HTTP
import HTTPTypes

/// `/auth/*`: token, refresh, logout, me.
struct AuthRoutes: Sendable {
    let service: IdentityService

    /// Token responses must not be cached (RFC 6749 §5.1).
    static let noStore: HTTPFields = [.cacheControl: "no-store", HTTPField.Name("Pragma")!: "no-cache"]

    func register(_ routes: SecuredRoutes) {
        let service = self.service
        routes.post("/auth/token", access: .open, maxBodyBytes: 16 * 1024) { request, context in
            let origin = RequestOrigin(requestID: context.requestID, clientAddress: context.remoteAddress?.host)
            let form = try TokenForm(request)
            let grant: TokenGrant
            switch form {
            case .password(let username, let password):
                grant = try await service.login(username: username, password: password, origin: origin)
            case .refresh(let token):
                grant = try await service.refresh(token, origin: origin)
            }
            var response = try Response.json(grant)
            response.headers.append(contentsOf: Self.noStore)
            return response
        }
        routes.post("/auth/refresh", access: .open, maxBodyBytes: 16 * 1024) { request, context in
            let origin = RequestOrigin(requestID: context.requestID, clientAddress: context.remoteAddress?.host)
            let token: String
            if request.isFormEncoded {
                guard let value = request.formFields()["refresh_token"] else {
                    throw AuthError.unprocessable("refresh_token is required", code: "missing_field")
                }
                token = value
            } else {
                token = try request.decode(RefreshBody.self).refreshToken
            }
            var response = try Response.json(try await service.refresh(token, origin: origin))
            response.headers.append(contentsOf: Self.noStore)
            return response
        }
        routes.post("/auth/logout", maxBodyBytes: 16 * 1024) { request, context in
            let origin = RequestOrigin(requestID: context.requestID, clientAddress: context.clientAddress)
            var refresh: String?
            if request.isFormEncoded {
                refresh = request.formFields()["refresh_token"]
            } else if !request.body.isEmpty {
                refresh = try request.decode(LogoutBody.self).refreshToken
            }
            try await service.logout(context.principal, refreshToken: refresh, origin: origin)
            return .empty()
        }
        routes.get("/auth/me") { _, context in
            try .json(try await service.me(context.principal))
        }
    }

    struct RefreshBody: Decodable { var refreshToken: String }
    struct LogoutBody: Decodable { var refreshToken: String? }

    /// `POST /auth/token` input: JSON `{username, password}` (the reference design) or an OAuth2
    /// form, `grant_type=password` (RFC 6749 §4.3.2) or `grant_type=refresh_token` (§6).
    enum TokenForm {
        case password(username: String, password: String)
        case refresh(String)

        struct JSONBody: Decodable {
            var username: String
            var password: String
        }

        init(_ request: Request) throws {
            guard request.isFormEncoded else {
                let body = try request.decode(JSONBody.self)
                self = .password(username: body.username, password: body.password)
                return
            }
            let fields = request.formFields()
            switch fields["grant_type"] ?? "password" {
            case "password":
                guard let username = fields["username"], let password = fields["password"] else {
                    throw AuthError.unprocessable("username and password are required", code: "missing_field")
                }
                self = .password(username: username, password: password)
            case "refresh_token":
                guard let token = fields["refresh_token"] else {
                    throw AuthError.unprocessable("refresh_token is required", code: "missing_field")
                }
                self = .refresh(token)
            default:
                throw AuthError.badRequest("grant_type must be password or refresh_token", code: "unsupported_grant_type")
            }
        }
    }
}
