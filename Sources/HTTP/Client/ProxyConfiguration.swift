// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation

/// The forward proxies ``HTTPClient`` goes through, read from the environment as libcurl reads
/// them: `https_proxy` / `HTTPS_PROXY` for `https` origins (reached through a CONNECT tunnel,
/// TLS end to end with the origin), `http_proxy` / `HTTP_PROXY` for `http` ones (requests in
/// absolute form), `no_proxy` / `NO_PROXY` for the hosts reached directly. The lower-case name
/// wins when both are set. Only `http://` proxies are supported; a proxy URL of another scheme
/// makes requests fail rather than bypass it.
public struct ProxyConfiguration: Sendable, Equatable {
    /// Proxy URL for `http` origins, e.g. `http://user:pass@proxy:3128`.
    public var httpProxy: String?
    /// Proxy URL for `https` origins.
    public var httpsProxy: String?
    /// `NO_PROXY` entries: host names (matching the name and its subdomains; a leading dot is
    /// ignored), literal addresses, or `*` for every host.
    public var noProxy: [String]

    public init(httpProxy: String? = nil, httpsProxy: String? = nil, noProxy: [String] = []) {
        self.httpProxy = httpProxy
        self.httpsProxy = httpsProxy
        self.noProxy = noProxy
    }

    /// Direct connections only.
    public static let none = ProxyConfiguration()

    /// The configuration in the process environment.
    public static func environment() -> ProxyConfiguration {
        environment(ProcessInfo.processInfo.environment)
    }

    /// The configuration in `variables`.
    public static func environment(_ variables: [String: String]) -> ProxyConfiguration {
        func value(_ name: String) -> String? {
            for key in [name.lowercased(), name.uppercased()] {
                if let text = variables[key]?.trimmingBlanks, !text.isEmpty { return text }
            }
            return nil
        }
        let exclusions = value("no_proxy")?.split(separator: ",").map { String($0).trimmingBlanks }.filter { !$0.isEmpty } ?? []
        return ProxyConfiguration(httpProxy: value("http_proxy"), httpsProxy: value("https_proxy"), noProxy: exclusions)
    }

    /// Whether `host` is reached directly by `NO_PROXY`.
    public func bypasses(_ host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]."))
        for entry in noProxy {
            var name = entry.lowercased()
            if name == "*" { return true }
            if name.hasPrefix("[") {
                name = String(name.dropFirst().prefix { $0 != "]" })
            } else if name.filter({ $0 == ":" }).count == 1 {
                // A port after a name or IPv4 address: libcurl matches the host part.
                name = String(name.prefix { $0 != ":" })
            }
            while name.hasPrefix(".") { name.removeFirst() }
            while name.hasSuffix(".") { name.removeLast() }
            guard !name.isEmpty else { continue }
            if host == name || host.hasSuffix("." + name) { return true }
        }
        return false
    }

    /// Where requests to this origin go, nil for a direct connection.
    func endpoint(scheme: HTTPClient.Scheme, host: String) -> ProxyEndpoint? {
        guard let url = scheme == .https ? httpsProxy : httpProxy, !bypasses(host) else { return nil }
        return ProxyEndpoint(url: url)
    }
}

/// A parsed proxy URL.
struct ProxyEndpoint: Sendable, Equatable {
    var host = ""
    var port = 1080
    /// `Basic …` from the URL's user information.
    var authorization: String?
    /// Why requests cannot go through this proxy, when they cannot.
    var unsupported: String?

    init(url: String) {
        var rest = Substring(url)
        if let schemeEnd = rest.firstRange(of: "://") {
            let scheme = rest[..<schemeEnd.lowerBound].lowercased()
            rest = rest[schemeEnd.upperBound...]
            guard scheme == "http" else {
                unsupported = "\(scheme) proxies are not supported (only http://)"
                return
            }
        }
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") {
            let user = authority[..<at].removingPercentEncoding ?? String(authority[..<at])
            authority = authority[authority.index(after: at)...]
            authorization = "Basic " + Data(user.utf8).base64EncodedString()
        }
        guard let origin = Origin(url: "http://\(authority)"), !authority.isEmpty else {
            unsupported = "the proxy URL is malformed"
            return
        }
        host = origin.host
        // libcurl's default proxy port when the URL names none.
        port = authority.hasSuffix("]") || !authority.contains(":") ? 1080 : origin.port
    }
}
