/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bench_net.h - shared plumbing of the socket benchmark tools (bench_stream,
 * bench_rr): endpoint parsing, listener/connector, the verification pattern,
 * timing, and the parent/child report pipe.
 *
 * Every tool runs both ends itself: it listens on an ephemeral port (TCP) or
 * a unique abstract address (Unix), forks the peer, and exchanges the counts
 * each side saw over a pipe, so that a run whose two ends disagree fails.
 */
#ifndef BENCH_NET_H
#define BENCH_NET_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum bn_family { BN_TCP4, BN_TCP6, BN_UNIX };

struct bn_endpoint {
	enum bn_family fam;
	struct sockaddr_storage ss;
	socklen_t len;
};

__attribute__((noreturn, format(printf, 1, 2)))
static inline void bn_die(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
	exit(1);
}

static inline double bn_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline uint64_t bn_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Parse a size with an optional K/M suffix (binary units). */
static inline long bn_size(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || v <= 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	return *end || v > (64l << 20) ? -1 : v;
}

/*
 * Endpoint from "tcp", "tcp6" or "unix" plus an optional address and port.
 * TCP listens on the port given, or on port 0 (the kernel picks a free
 * one); Unix uses an abstract name unique to this process, so nothing is
 * left in the file system.
 */
static inline int bn_endpoint_init(struct bn_endpoint *ep, const char *kind, const char *addr,
				   int port)
{
	memset(ep, 0, sizeof(*ep));
	if (!strcmp(kind, "tcp") || !strcmp(kind, "tcp4")) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ep->ss;

		ep->fam = BN_TCP4;
		s4->sin_family = AF_INET;
		if (inet_pton(AF_INET, addr ? addr : "127.0.0.1", &s4->sin_addr) != 1)
			return -EINVAL;
		s4->sin_port = htons(port);
		ep->len = sizeof(*s4);
	} else if (!strcmp(kind, "tcp6")) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ep->ss;

		ep->fam = BN_TCP6;
		s6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, addr ? addr : "::1", &s6->sin6_addr) != 1)
			return -EINVAL;
		s6->sin6_port = htons(port);
		ep->len = sizeof(*s6);
	} else if (!strcmp(kind, "unix")) {
		struct sockaddr_un *su = (struct sockaddr_un *)&ep->ss;
		int n;

		ep->fam = BN_UNIX;
		su->sun_family = AF_UNIX;
		/* sun_path[0] = 0: abstract namespace. */
		n = snprintf(su->sun_path + 1, sizeof(su->sun_path) - 1, "%s-%d-%ld",
			     addr ? addr : "accel-bench", (int)getpid(), (long)bn_now_ns());
		if (n < 0 || (size_t)n >= sizeof(su->sun_path) - 1)
			return -EINVAL;
		ep->len = offsetof(struct sockaddr_un, sun_path) + 1 + n;
	} else {
		return -EINVAL;
	}
	return 0;
}

static inline int bn_domain(const struct bn_endpoint *ep)
{
	return ep->ss.ss_family;
}

/* Listen on ep; for TCP, ep is updated with the port the kernel chose. */
static inline int bn_listen(struct bn_endpoint *ep)
{
	int fd = socket(bn_domain(ep), SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		bn_die("socket");
	if (ep->fam != BN_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	if (bind(fd, (struct sockaddr *)&ep->ss, ep->len))
		bn_die("bind");
	if (listen(fd, 16))
		bn_die("listen");
	if (ep->fam != BN_UNIX && getsockname(fd, (struct sockaddr *)&ep->ss, &ep->len))
		bn_die("getsockname");
	return fd;
}

/*
 * Connect; nonblock: the socket is nonblocking from creation on, as an
 * event-driven client's is (a nonblocking connect, waited for with poll),
 * so whatever looks at the socket while it connects sees it nonblocking.
 */
static inline int bn_connect(const struct bn_endpoint *ep, bool nonblock)
{
	int fd = socket(bn_domain(ep), SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);

	if (fd < 0)
		bn_die("socket");
	if (!connect(fd, (const struct sockaddr *)&ep->ss, ep->len))
		return fd;
	if (!nonblock || (errno != EINPROGRESS && errno != EAGAIN))
		bn_die("connect");
	/* Unix sockets return EAGAIN when the backlog is full: not here (one
	 * connection), but poll covers it as well as EINPROGRESS. */
	while (poll(&pfd, 1, -1) < 0)
		if (errno != EINTR)
			bn_die("poll");
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		bn_die("SO_ERROR");
	if (err) {
		errno = err;
		bn_die("connect");
	}
	return fd;
}

/* Accept the one connection; nonblock: the accepted socket is nonblocking. */
static inline int bn_accept(int lfd, bool nonblock)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0));

	if (fd < 0)
		bn_die("accept");
	close(lfd);
	return fd;
}

static inline void bn_nodelay(const struct bn_endpoint *ep, int fd)
{
	if (ep->fam != BN_UNIX &&
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int)))
		bn_die("TCP_NODELAY");
}

/*
 * Verification pattern: byte i of the stream is pat[i % BN_PERIOD].  The
 * period is prime, so it never lines up with power-of-two message sizes:
 * a lost, duplicated or reordered message shifts the pattern and is seen.
 * A sender keeps BN_PERIOD + msgsize bytes of the pattern and sends from
 * offset (stream position % BN_PERIOD), so it never computes anything.
 */
#define BN_PERIOD 4093u

static inline void bn_pattern_fill(unsigned char *buf, size_t len)
{
	uint32_t x = 2463534242u;	/* xorshift32, fixed seed: both ends agree */
	unsigned char pat[BN_PERIOD];

	for (size_t i = 0; i < BN_PERIOD; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pat[i] = (unsigned char)x;
	}
	for (size_t i = 0; i < len; i++)
		buf[i] = pat[i % BN_PERIOD];
}

/*
 * Check n received bytes that start at stream position pos against the
 * pattern ref (filled with bn_pattern_fill, at least BN_PERIOD + n bytes).
 * full: compare every byte; otherwise the first and last byte and one byte
 * per 4 KiB, which costs nothing next to the copy and still catches shifts.
 */
static inline bool bn_pattern_ok(const unsigned char *ref, const unsigned char *p, size_t n,
				 uint64_t pos, bool full)
{
	const unsigned char *r = ref + pos % BN_PERIOD;

	if (!n)
		return true;
	if (full)
		return !memcmp(r, p, n);
	for (size_t i = 0; i < n; i += 4096)
		if (r[i] != p[i])
			return false;
	return r[n - 1] == p[n - 1];
}

/* Pin the calling process to one CPU (cpu < 0: leave it alone). */
static inline void bn_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		bn_die("pin to CPU %d", cpu);
}

/* Write/read all of a fixed-size record over a pipe (reports between ends). */
static inline void bn_pipe_write(int fd, const void *buf, size_t len)
{
	if (write(fd, buf, len) != (ssize_t)len)
		bn_die("report pipe write");
}

static inline bool bn_pipe_read(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += r;
	}
	return true;
}

/*
 * Nonblocking mode: one epoll set per socket, level-triggered, interested
 * in one direction at a time; re-armed only when the direction changes.
 */
struct bn_poll {
	int epfd, fd;
	uint32_t events;
};

static inline void bn_poll_init(struct bn_poll *p, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	p->fd = fd;
	p->events = events;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev))
		bn_die("epoll");
}

static inline void bn_poll_wait(struct bn_poll *p, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = p->fd };

	if (events != p->events) {
		if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, p->fd, &ev))
			bn_die("epoll_ctl");
		p->events = events;
	}
	while (epoll_wait(p->epfd, &ev, 1, -1) < 0)
		if (errno != EINTR)
			bn_die("epoll_wait");
}

/*
 * send()/recv() that behave the same in both modes: in nonblocking mode
 * (p != NULL) wait in epoll on EAGAIN.  Return what the syscall returned
 * (> 0 bytes, 0 at EOF); die on errors.
 */
static inline ssize_t bn_send(struct bn_poll *p, int fd, const void *buf, size_t len)
{
	for (;;) {
		ssize_t r = send(fd, buf, len, MSG_NOSIGNAL);

		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (p && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			bn_poll_wait(p, EPOLLOUT);
			continue;
		}
		bn_die("send");
	}
}

static inline ssize_t bn_recv(struct bn_poll *p, int fd, void *buf, size_t len)
{
	for (;;) {
		ssize_t r = recv(fd, buf, len, 0);

		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (p && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			bn_poll_wait(p, EPOLLIN);
			continue;
		}
		bn_die("recv");
	}
}

static inline void bn_send_all(struct bn_poll *p, int fd, const void *buf, size_t len)
{
	while (len) {
		ssize_t r = bn_send(p, fd, buf, len);

		buf = (const char *)buf + r;
		len -= r;
	}
}

/* Read exactly len bytes; false on EOF before the first byte, die on a
 * short record (EOF in the middle). */
static inline bool bn_recv_all(struct bn_poll *p, int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = bn_recv(p, fd, (char *)buf + got, len - got);

		if (r == 0) {
			if (!got)
				return false;
			errno = 0;
			bn_die("EOF after %zu of %zu bytes of a record", got, len);
		}
		got += r;
	}
	return true;
}

#endif /* BENCH_NET_H */
