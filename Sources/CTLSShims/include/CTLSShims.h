// Atlas — CTLSShims
// SPDX-License-Identifier: Apache-2.0
#ifndef ATLAS_CTLS_SHIMS_H
#define ATLAS_CTLS_SHIMS_H

#include <stddef.h>
#include <sys/types.h>

/// Client-side TLS over a non-blocking socket, by OpenSSL's libssl. The types are opaque so that
/// no OpenSSL declaration reaches Swift: the HTTP module sees two pointers and a few integers.

/// One shared client configuration (an `SSL_CTX`): TLS 1.2 or newer, peers verified against the
/// system's trust store (which `SSL_CERT_FILE` / `SSL_CERT_DIR` override) plus an optional
/// extra CA file. Thread-safe once made; never mutated afterwards.
typedef struct atlas_tls_context atlas_tls_context;
/// One TLS connection over a socket the caller owns (the session never closes it).
typedef struct atlas_tls_session atlas_tls_session;

/// Results of the handshake, read and write calls besides byte counts.
enum {
    ATLAS_TLS_ERROR = -1,
    ATLAS_TLS_WANT_READ = -2,
    ATLAS_TLS_WANT_WRITE = -3,
};

/// A new context, or NULL with a reason written to `error`.
atlas_tls_context *atlas_tls_context_new(const char *extra_ca_file, char *error, size_t error_length);
void atlas_tls_context_free(atlas_tls_context *context);

/// A client session on `fd` for `host`: SNI and name verification for a DNS name, address
/// verification for a literal IPv4/IPv6 address. NULL with a reason in `error` on failure.
atlas_tls_session *atlas_tls_session_new(atlas_tls_context *context, int fd, const char *host,
                                         char *error, size_t error_length);
/// 1 when the handshake is complete, ATLAS_TLS_WANT_READ/WRITE when the socket must become
/// readable/writable first, ATLAS_TLS_ERROR on failure (see `atlas_tls_session_error`).
int atlas_tls_handshake(atlas_tls_session *session);
/// Bytes read (> 0), 0 at the end of the stream, or one of the negative results above.
ssize_t atlas_tls_read(atlas_tls_session *session, void *buffer, size_t length);
/// Bytes written (> 0) or one of the negative results above.
ssize_t atlas_tls_write(atlas_tls_session *session, const void *buffer, size_t length);
/// Decrypted bytes buffered inside the session, readable without touching the socket.
int atlas_tls_pending(atlas_tls_session *session);
/// Why the last call failed: a verification error or OpenSSL's reason.
const char *atlas_tls_session_error(atlas_tls_session *session);
/// The `errno` of a failed socket call under the last failure, 0 when none.
int atlas_tls_session_errno(atlas_tls_session *session);
/// Sends close_notify when the session is healthy (without waiting for the peer's) and frees it.
void atlas_tls_session_free(atlas_tls_session *session);

#endif
