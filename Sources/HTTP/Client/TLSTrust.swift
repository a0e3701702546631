// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

internal import CTLSShims
import Synchronization

/// Which certificate authorities an `https` peer may chain to: always the system's trust store
/// (which `SSL_CERT_FILE` / `SSL_CERT_DIR` override, as with libcurl and OpenSSL's tools), plus
/// an optional PEM file of further CAs, for a private CA or a test's throw-away one.
public struct TLSTrust: Sendable, Hashable {
    /// A PEM file of CA certificates trusted besides the system's.
    public var additionalCAFile: String?

    public init(additionalCAFile: String? = nil) {
        self.additionalCAFile = additionalCAFile
    }

    /// The system's trust store alone.
    public static let system = TLSTrust()
}

/// One OpenSSL client context per ``TLSTrust``, made on the first `https` connection that needs
/// it (so an idle server without `https` peers never loads the trust store) and shared by every
/// client from then on.
///
/// `@unchecked Sendable`: an `SSL_CTX` may be used from several threads at once once it is
/// configured, and this one is never changed after ``init(trust:)``.
final class TLSContext: @unchecked Sendable {
    let pointer: OpaquePointer

    private static let contexts = Mutex<[TLSTrust: TLSContext]>([:])

    static func shared(_ trust: TLSTrust) throws(HTTPClientError) -> TLSContext {
        try contexts.withLock { (contexts: inout [TLSTrust: TLSContext]) throws(HTTPClientError) -> TLSContext in
            if let context = contexts[trust] { return context }
            let context = try TLSContext(trust: trust)
            contexts[trust] = context
            return context
        }
    }

    private init(trust: TLSTrust) throws(HTTPClientError) {
        var reason = [CChar](repeating: 0, count: 256)
        let made: OpaquePointer? = if let file = trust.additionalCAFile {
            atlas_tls_context_new(file, &reason, reason.count)
        } else {
            atlas_tls_context_new(nil, &reason, reason.count)
        }
        guard let made else { throw HTTPClientError(.tls, nulTerminated(reason)) }
        pointer = made
    }

    deinit { atlas_tls_context_free(pointer) }
}
