// Atlas — CSystemShims
// SPDX-License-Identifier: Apache-2.0
#ifndef ATLAS_CSYSTEMSHIMS_H
#define ATLAS_CSYSTEMSHIMS_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __linux__

// Glibc's Swift module exposes neither epoll, eventfd nor accept4, and `struct epoll_event` is
// packed on x86_64, so Swift sees these calls only through the plain wrappers below.

/// Interest flags for `atlas_epoll_ctl`, combined with bitwise or.
#define ATLAS_EPOLL_IN 0x001u
#define ATLAS_EPOLL_OUT 0x004u
#define ATLAS_EPOLL_ERR 0x008u
#define ATLAS_EPOLL_HUP 0x010u
#define ATLAS_EPOLL_RDHUP 0x2000u
#define ATLAS_EPOLL_ET 0x80000000u

/// `epoll_create1(EPOLL_CLOEXEC)`; -1 and errno on failure.
int atlas_epoll_create(void);
/// Adds (`op` 1), modifies (3) or removes (2) `fd`; `token` comes back from `atlas_epoll_wait`.
int atlas_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token);
/// Waits for at most `capacity` events and unpacks them into `tokens` and `events`.
int atlas_epoll_wait(int epfd, uint64_t *tokens, uint32_t *events, int capacity, int timeout_ms);

/// `eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)`.
int atlas_eventfd(void);
/// Adds one to the counter; returns 0, or -1 with errno.
int atlas_eventfd_signal(int fd);
/// Resets the counter; returns 0 when it was zero already.
int atlas_eventfd_drain(int fd);

/// `accept4` with `SOCK_NONBLOCK | SOCK_CLOEXEC`; the peer address goes to `address`
/// (at least 28 bytes, a `sockaddr_in` or `sockaddr_in6`) and its length to `*address_length`.
int atlas_accept(int fd, void *address, uint32_t *address_length);

/// `send` with `MSG_NOSIGNAL`, so a peer that went away yields EPIPE instead of SIGPIPE.
ssize_t atlas_send(int fd, const void *buffer, size_t length);

/// Creates a socket of `family` (AF_INET or AF_INET6) with `SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC`.
int atlas_socket_stream(int family, int nonblocking);
/// Sets an integer socket option at SOL_SOCKET level: 1 SO_REUSEADDR, 2 SO_REUSEPORT,
/// 3 SO_RCVBUF, 4 SO_SNDBUF; or at IPPROTO_TCP: 10 TCP_NODELAY.
int atlas_setsockopt_int(int fd, int option, int value);
/// Binds and listens on an IPv4 or IPv6 textual address; returns 0, -1 with errno, or -2 when
/// `host` is not a numeric address.
int atlas_bind_listen(int fd, int family, const char *host, int port, int backlog);
/// The locally bound port of a socket, or -1 with errno.
int atlas_local_port(int fd);
/// Connects a blocking socket to a numeric address (used by tests and tooling).
int atlas_connect(int fd, int family, const char *host, int port);

/// Ignores SIGPIPE for the whole process; a server must never die writing to a closed peer.
void atlas_ignore_sigpipe(void);
/// Raises the soft RLIMIT_NOFILE to at least `wanted` (bounded by the hard limit) and returns
/// the resulting soft limit, or -1 with errno.
long atlas_raise_nofile_limit(long wanted);

/// `clock_gettime(CLOCK_MONOTONIC)` in nanoseconds.
uint64_t atlas_monotonic_nanos(void);
/// Wall clock seconds from `CLOCK_REALTIME_COARSE` (cheap enough to read once per loop round).
int64_t atlas_realtime_seconds(void);
/// Formats an IMF-fixdate (RFC 9110 §5.6.7) for `seconds` into `out` (29 bytes, not terminated).
void atlas_format_http_date(int64_t seconds, char out[29]);

/// One pointer per thread; an event loop parks its job batch here so that tasks it starts are
/// handed to the worker pool in one batch per loop round.
extern __thread void *atlas_thread_context;
static inline void *atlas_get_thread_context(void) { return atlas_thread_context; }
static inline void atlas_set_thread_context(void *context) { atlas_thread_context = context; }

/// Names the calling thread (at most 15 bytes are kept).
void atlas_set_thread_name(const char *name);

/// The number of online processors.
int atlas_cpu_count(void);

/// Resolves `host` (a name or a numeric address) and connects a non-blocking TCP socket to the
/// first address that answers within `timeout_ms`, with TCP_NODELAY on. Returns the descriptor,
/// or -1 with errno set (EHOSTUNREACH when the name does not resolve, ETIMEDOUT on timeout).
int atlas_connect_host(const char *host, int port, int timeout_ms);
/// Waits up to `timeout_ms` for `fd` to become readable (`for_write` 0) or writable (1):
/// 1 ready (or an error or hang-up to be read), 0 timed out, -1 with errno.
int atlas_poll_one(int fd, int for_write, int timeout_ms);
/// `recv` without flags; -1 with errno (EAGAIN when nothing is waiting).
ssize_t atlas_recv(int fd, void *buffer, size_t length);

#endif // __linux__
#endif // ATLAS_CSYSTEMSHIMS_H
