// Atlas — CTLSShims
// SPDX-License-Identifier: Apache-2.0
#include "CTLSShims.h"

#include <openssl/opensslv.h>
#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "Atlas needs OpenSSL 3.0 or newer"
#endif
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct atlas_tls_session {
    SSL *ssl;
    int failed;
    int sys_errno;
    char error[256];
};

// MARK: A socket BIO that sends with MSG_NOSIGNAL
// OpenSSL's own socket BIO writes with write(2), which raises SIGPIPE when the peer has gone;
// a process that has not ignored SIGPIPE (a CLI command, a test runner) would die of it.

static int bio_write(BIO *bio, const char *data, int length) {
    int fd = (int)(intptr_t)BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    ssize_t sent = send(fd, data, (size_t)length, MSG_NOSIGNAL);
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(bio);
    return (int)sent;
}

static int bio_read(BIO *bio, char *out, int length) {
    int fd = (int)(intptr_t)BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    ssize_t received = recv(fd, out, (size_t)length, 0);
    if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(bio);
    return (int)received;
}

static int bio_puts(BIO *bio, const char *text) { return bio_write(bio, text, (int)strlen(text)); }

static long bio_ctrl(BIO *bio, int command, long number, void *pointer) {
    (void)bio; (void)number; (void)pointer;
    return command == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *bio) {
    BIO_set_init(bio, 1);
    return 1;
}

static BIO_METHOD *socket_method;
static pthread_once_t socket_method_once = PTHREAD_ONCE_INIT;

static void make_socket_method(void) {
    BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "atlas socket");
    if (method == NULL) return;
    BIO_meth_set_write(method, bio_write);
    BIO_meth_set_read(method, bio_read);
    BIO_meth_set_puts(method, bio_puts);
    BIO_meth_set_ctrl(method, bio_ctrl);
    BIO_meth_set_create(method, bio_create);
    socket_method = method;
}

// MARK: Context

static void copy_error(char *error, size_t length, const char *prefix) {
    if (error == NULL || length == 0) return;
    unsigned long code = ERR_peek_last_error();
    if (code != 0) {
        char reason[200];
        ERR_error_string_n(code, reason, sizeof(reason));
        snprintf(error, length, "%s: %s", prefix, reason);
    } else {
        snprintf(error, length, "%s", prefix);
    }
    ERR_clear_error();
}

atlas_tls_context *atlas_tls_context_new(const char *extra_ca_file, char *error, size_t error_length) {
    ERR_clear_error();
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    if (context == NULL) {
        copy_error(error, error_length, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
    // A peer that closes without close_notify ends a close-delimited body, as with libcurl;
    // renegotiation is refused.
    SSL_CTX_set_options(context, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    // The Swift caller's buffer may move between a write that wanted to wait and its retry.
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // The system's store, or SSL_CERT_FILE / SSL_CERT_DIR when set.
    if (SSL_CTX_set_default_verify_paths(context) != 1) {
        copy_error(error, error_length, "cannot load the system's trusted certificates");
        SSL_CTX_free(context);
        return NULL;
    }
    if (extra_ca_file != NULL && SSL_CTX_load_verify_locations(context, extra_ca_file, NULL) != 1) {
        copy_error(error, error_length, "cannot load the extra CA file");
        SSL_CTX_free(context);
        return NULL;
    }
    return (atlas_tls_context *)context;
}

void atlas_tls_context_free(atlas_tls_context *context) {
    SSL_CTX_free((SSL_CTX *)context);
}

// MARK: Session

atlas_tls_session *atlas_tls_session_new(atlas_tls_context *context, int fd, const char *host,
                                         char *error, size_t error_length) {
    pthread_once(&socket_method_once, make_socket_method);
    ERR_clear_error();
    if (socket_method == NULL) {
        copy_error(error, error_length, "cannot create the socket BIO method");
        return NULL;
    }
    atlas_tls_session *session = calloc(1, sizeof(*session));
    if (session == NULL) {
        copy_error(error, error_length, "out of memory");
        return NULL;
    }
    SSL *ssl = SSL_new((SSL_CTX *)context);
    BIO *bio = BIO_new(socket_method);
    if (ssl == NULL || bio == NULL) {
        copy_error(error, error_length, "cannot create a TLS session");
        if (bio != NULL) BIO_free(bio);
        SSL_free(ssl);
        free(session);
        return NULL;
    }
    BIO_set_data(bio, (void *)(intptr_t)fd);
    SSL_set_bio(ssl, bio, bio);
    unsigned char address[16];
    int literal = inet_pton(AF_INET, host, address) == 1 || inet_pton(AF_INET6, host, address) == 1;
    int configured;
    if (literal) {
        // RFC 6066 §3: no SNI for a literal address; the certificate must name it in an iPAddress SAN.
        configured = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
    } else {
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        configured = SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
    }
    if (!configured) {
        copy_error(error, error_length, "cannot set the name to verify");
        SSL_free(ssl);
        free(session);
        return NULL;
    }
    SSL_set_connect_state(ssl);
    session->ssl = ssl;
    return session;
}

/// Maps an SSL_* result to ours, keeping a reason for a failure.
static ssize_t settle(atlas_tls_session *session, int result, int handshake) {
    int saved_errno = errno;
    int code = SSL_get_error(session->ssl, result);
    switch (code) {
    case SSL_ERROR_WANT_READ:
        return ATLAS_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return ATLAS_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        if (!handshake) return 0;
        snprintf(session->error, sizeof(session->error), "the peer closed the connection during the handshake");
        break;
    case SSL_ERROR_SYSCALL:
        session->sys_errno = saved_errno;
        if (ERR_peek_last_error() != 0) {
            copy_error(session->error, sizeof(session->error), "TLS failure");
        } else if (saved_errno != 0) {
            snprintf(session->error, sizeof(session->error), "socket failure: %s", strerror(saved_errno));
        } else {
            snprintf(session->error, sizeof(session->error), "the peer closed the connection");
        }
        break;
    default: {
        long verified = SSL_get_verify_result(session->ssl);
        if (handshake && verified != X509_V_OK) {
            snprintf(session->error, sizeof(session->error), "certificate verify failed: %s",
                     X509_verify_cert_error_string(verified));
            ERR_clear_error();
        } else {
            copy_error(session->error, sizeof(session->error), "TLS failure");
        }
    }
    }
    ERR_clear_error();
    session->failed = 1;
    return ATLAS_TLS_ERROR;
}

int atlas_tls_handshake(atlas_tls_session *session) {
    ERR_clear_error();
    errno = 0;
    int result = SSL_do_handshake(session->ssl);
    if (result == 1) return 1;
    return (int)settle(session, result, 1);
}

ssize_t atlas_tls_read(atlas_tls_session *session, void *buffer, size_t length) {
    ERR_clear_error();
    errno = 0;
    size_t read = 0;
    int result = SSL_read_ex(session->ssl, buffer, length, &read);
    if (result == 1) return (ssize_t)read;
    return settle(session, result, 0);
}

ssize_t atlas_tls_write(atlas_tls_session *session, const void *buffer, size_t length) {
    ERR_clear_error();
    errno = 0;
    size_t written = 0;
    int result = SSL_write_ex(session->ssl, buffer, length, &written);
    if (result == 1) return (ssize_t)written;
    return settle(session, result, 0);
}

int atlas_tls_pending(atlas_tls_session *session) {
    return SSL_pending(session->ssl);
}

const char *atlas_tls_session_error(atlas_tls_session *session) {
    return session->error;
}

int atlas_tls_session_errno(atlas_tls_session *session) {
    return session->sys_errno;
}

void atlas_tls_session_free(atlas_tls_session *session) {
    if (session == NULL) return;
    if (!session->failed && SSL_is_init_finished(session->ssl)) {
        // One non-blocking attempt at close_notify; the peer's answer is not awaited (RFC 8446 §6.1
        // lets a client close its side without reading further).
        ERR_clear_error();
        (void)SSL_shutdown(session->ssl);
        ERR_clear_error();
    }
    SSL_free(session->ssl);
    free(session);
}
