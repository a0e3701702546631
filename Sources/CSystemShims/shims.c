// Atlas — CSystemShims
// SPDX-License-Identifier: Apache-2.0
#ifdef __linux__
#define _GNU_SOURCE
#include "CSystemShims.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

__thread void *atlas_thread_context = 0;

int atlas_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int atlas_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token) {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = events;
    event.data.u64 = token;
    return epoll_ctl(epfd, op, fd, &event);
}

int atlas_epoll_wait(int epfd, uint64_t *tokens, uint32_t *events, int capacity, int timeout_ms) {
    enum { chunk = 256 };
    struct epoll_event ready[chunk];
    if (capacity > chunk) capacity = chunk;
    int count = epoll_wait(epfd, ready, capacity, timeout_ms);
    for (int i = 0; i < count; i++) {
        tokens[i] = ready[i].data.u64;
        events[i] = ready[i].events;
    }
    return count;
}

int atlas_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int atlas_eventfd_signal(int fd) {
    uint64_t one = 1;
    for (;;) {
        ssize_t written = write(fd, &one, sizeof(one));
        if (written == sizeof(one)) return 0;
        if (written < 0 && errno == EINTR) continue;
        // EAGAIN means the counter is saturated: a wake-up is pending anyway.
        if (written < 0 && errno == EAGAIN) return 0;
        return -1;
    }
}

int atlas_eventfd_drain(int fd) {
    uint64_t value = 0;
    ssize_t got = read(fd, &value, sizeof(value));
    return got == sizeof(value) && value > 0;
}

int atlas_accept(int fd, void *address, uint32_t *address_length) {
    socklen_t length = (socklen_t)*address_length;
    int client = accept4(fd, (struct sockaddr *)address, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    *address_length = (uint32_t)length;
    return client;
}

ssize_t atlas_send(int fd, const void *buffer, size_t length) {
    return send(fd, buffer, length, MSG_NOSIGNAL);
}

int atlas_socket_stream(int family, int nonblocking) {
    int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
    return socket(family == 6 ? AF_INET6 : AF_INET, type, 0);
}

int atlas_setsockopt_int(int fd, int option, int value) {
    int level = SOL_SOCKET, name;
    switch (option) {
    case 1: name = SO_REUSEADDR; break;
    case 2: name = SO_REUSEPORT; break;
    case 3: name = SO_RCVBUF; break;
    case 4: name = SO_SNDBUF; break;
    case 10: level = IPPROTO_TCP; name = TCP_NODELAY; break;
    default: errno = EINVAL; return -1;
    }
    return setsockopt(fd, level, name, &value, sizeof(value));
}

static int fill_address(int family, const char *host, int port, struct sockaddr_storage *storage,
                        socklen_t *length) {
    memset(storage, 0, sizeof(*storage));
    if (family == 6) {
        struct sockaddr_in6 *address = (struct sockaddr_in6 *)storage;
        address->sin6_family = AF_INET6;
        address->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &address->sin6_addr) != 1) return -2;
        *length = sizeof(*address);
    } else {
        struct sockaddr_in *address = (struct sockaddr_in *)storage;
        address->sin_family = AF_INET;
        address->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &address->sin_addr) != 1) return -2;
        *length = sizeof(*address);
    }
    return 0;
}

int atlas_bind_listen(int fd, int family, const char *host, int port, int backlog) {
    struct sockaddr_storage storage;
    socklen_t length = 0;
    int filled = fill_address(family, host, port, &storage, &length);
    if (filled != 0) return filled;
    if (bind(fd, (struct sockaddr *)&storage, length) != 0) return -1;
    return listen(fd, backlog);
}

int atlas_connect(int fd, int family, const char *host, int port) {
    struct sockaddr_storage storage;
    socklen_t length = 0;
    int filled = fill_address(family, host, port, &storage, &length);
    if (filled != 0) return filled;
    for (;;) {
        int result = connect(fd, (struct sockaddr *)&storage, length);
        if (result == 0 || errno != EINTR) return result;
    }
}

int atlas_local_port(int fd) {
    struct sockaddr_storage storage;
    socklen_t length = sizeof(storage);
    if (getsockname(fd, (struct sockaddr *)&storage, &length) != 0) return -1;
    if (storage.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&storage)->sin6_port);
    return ntohs(((struct sockaddr_in *)&storage)->sin_port);
}

void atlas_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

long atlas_raise_nofile_limit(long wanted) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    if ((rlim_t)wanted > limit.rlim_cur) {
        rlim_t target = (rlim_t)wanted;
        if (limit.rlim_max != RLIM_INFINITY && target > limit.rlim_max) target = limit.rlim_max;
        if (target > limit.rlim_cur) {
            limit.rlim_cur = target;
            if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
        }
    }
    return (long)limit.rlim_cur;
}

uint64_t atlas_monotonic_nanos(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

int64_t atlas_realtime_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME_COARSE, &now);
    return (int64_t)now.tv_sec;
}

void atlas_format_http_date(int64_t seconds, char out[29]) {
    static const char days[7][3] = {{'S','u','n'},{'M','o','n'},{'T','u','e'},{'W','e','d'},
                                    {'T','h','u'},{'F','r','i'},{'S','a','t'}};
    static const char months[12][3] = {{'J','a','n'},{'F','e','b'},{'M','a','r'},{'A','p','r'},
                                       {'M','a','y'},{'J','u','n'},{'J','u','l'},{'A','u','g'},
                                       {'S','e','p'},{'O','c','t'},{'N','o','v'},{'D','e','c'}};
    time_t t = (time_t)seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    char *p = out;
    memcpy(p, days[tm.tm_wday], 3); p += 3;
    *p++ = ','; *p++ = ' ';
    *p++ = (char)('0' + tm.tm_mday / 10); *p++ = (char)('0' + tm.tm_mday % 10);
    *p++ = ' ';
    memcpy(p, months[tm.tm_mon], 3); p += 3;
    *p++ = ' ';
    int year = tm.tm_year + 1900;
    *p++ = (char)('0' + (year / 1000) % 10); *p++ = (char)('0' + (year / 100) % 10);
    *p++ = (char)('0' + (year / 10) % 10); *p++ = (char)('0' + year % 10);
    *p++ = ' ';
    *p++ = (char)('0' + tm.tm_hour / 10); *p++ = (char)('0' + tm.tm_hour % 10); *p++ = ':';
    *p++ = (char)('0' + tm.tm_min / 10); *p++ = (char)('0' + tm.tm_min % 10); *p++ = ':';
    *p++ = (char)('0' + tm.tm_sec / 10); *p++ = (char)('0' + tm.tm_sec % 10);
    memcpy(p, " GMT", 4);
}

void atlas_set_thread_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof(truncated) - 1);
    truncated[sizeof(truncated) - 1] = 0;
    pthread_setname_np(pthread_self(), truncated);
}

int atlas_cpu_count(void) {
    long count = sysconf(_SC_NPROCESSORS_ONLN);
    return count > 0 ? (int)count : 1;
}

int atlas_poll_one(int fd, int for_write, int timeout_ms) {
    struct pollfd entry = { .fd = fd, .events = for_write ? POLLOUT : POLLIN, .revents = 0 };
    for (;;) {
        int result = poll(&entry, 1, timeout_ms);
        if (result >= 0 || errno != EINTR) return result;
    }
}

ssize_t atlas_recv(int fd, void *buffer, size_t length) {
    for (;;) {
        ssize_t result = recv(fd, buffer, length, 0);
        if (result >= 0 || errno != EINTR) return result;
    }
}

static int connect_one(const struct addrinfo *address, int timeout_ms) {
    int fd = socket(address->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int result = connect(fd, address->ai_addr, address->ai_addrlen);
    if (result != 0 && errno == EINPROGRESS) {
        int ready = atlas_poll_one(fd, 1, timeout_ms);
        if (ready == 0) errno = ETIMEDOUT;
        if (ready == 1) {
            int failure = 0;
            socklen_t length = sizeof(failure);
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length) == 0 && failure == 0) result = 0;
            else errno = failure ? failure : errno;
        }
    }
    if (result != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    return fd;
}

int atlas_connect_host(const char *host, int port, int timeout_ms) {
    struct addrinfo hints, *found = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    char service[8];
    snprintf(service, sizeof(service), "%d", port);
    if (getaddrinfo(host, service, &hints, &found) != 0 || found == NULL) {
        errno = EHOSTUNREACH;
        return -1;
    }
    int fd = -1;
    for (const struct addrinfo *address = found; address != NULL && fd < 0; address = address->ai_next) {
        fd = connect_one(address, timeout_ms);
    }
    int saved = errno;
    freeaddrinfo(found);
    errno = saved;
    return fd;
}
#endif // __linux__
