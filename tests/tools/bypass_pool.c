// SPDX-License-Identifier: GPL-2.0-only
/*
 * bypass_pool - a pool of long-lived TCP connections over loopback for the
 * bypass lifecycle tests: the connections stay open while the sockmap
 * bypass is detached and attached again and again, requests flow now and
 * then, and every reply is checked.  Event-driven on both ends: nonblocking
 * sockets, one level-triggered epoll loop, one thread, signals through a
 * signalfd in the same loop.
 *
 * Protocol: the client sends a 16-byte request header (network byte
 * order) { u32 magic 0x504f4f4c "POOL", u32 reply_len, u64 seed }; the
 * server answers with reply_len bytes of the stream S(seed), where bytes
 * 8k..8k+7 of S are splitmix64(seed + (k + 1) * 0x9e3779b97f4a7c15) in
 * little-endian order: random access, so neither end keeps a buffer per
 * connection.  Requests may arrive split and pipelined; the client sends
 * at most one per connection at a time.
 *
 * Server:
 *   bypass_pool -s [-6] [-p PORT] [-f READYFILE] [-t SECONDS] [-q]
 *   -p  port on 127.0.0.1 (or ::1 with -6); 0, the default, lets the
 *       kernel choose: read it from READYFILE
 *   -f  once listening, write "ready PORT\n" to READYFILE (else stdout)
 *   -t  exit after SECONDS as on SIGTERM (a safety net; default: never)
 *   Exits on SIGTERM/SIGINT and prints "served R requests" (replies sent
 *   in full).  Any connection error other than a clean EOF between
 *   requests (reset, EOF in a request or a reply, bad magic, length 0 or
 *   above 64 MiB, accept failure) is reported on stderr and counted.
 *
 * Client:
 *   bypass_pool -c [-6] -p PORT -n CONNS [-i MS] [-S MAXLEN] [-r SEED]
 *               [-f READYFILE] [-t SECONDS] [-q]
 *   -n  connections to open and keep (1..19000, within RLIMIT_NOFILE)
 *   -i  issue one request every MS ms (default 20; 0: one per loop turn)
 *   -S  largest reply, K/M suffixes (default 256K, at most 64M); lengths
 *       are log-uniform in [1, MAXLEN]
 *   -r  seed of the client's choices (default 1): same seed, same run
 *   -f  when all CONNS are connected write "ready N\n" to READYFILE (else
 *       stdout); SIGUSR1 stats go to READYFILE.stats (else stdout).  Both
 *       files are replaced atomically (write + rename), never seen half
 *       written.
 *   -t  run SECONDS after "ready", then stop as on SIGTERM (default:
 *       until SIGTERM/SIGINT)
 *   -q  no informational lines, and no stderr copy of the SIGUSR1 line
 *   The client picks a random idle connection per tick, sends a request
 *   and hashes the reply as it arrives (SHA-256 over the received bytes
 *   against SHA-256 over the expected stream, both incremental; the first
 *   differing offset is reported too).  A request unanswered after 10 s,
 *   bytes on an idle connection, EOF or a reset are errors; a connection
 *   that fails is closed and no longer counts as open.
 *   SIGUSR1: "conns N open O requests R bytes B mismatches M errors E" to
 *   stderr and READYFILE.stats (or stdout).  requests: replies received
 *   in full and checked (the server's "served" count once all is done),
 *   mismatches among them; bytes: reply bytes received.
 *   SIGTERM/SIGINT (or -t): stop issuing, wait up to 10 s for the replies
 *   in flight, close every connection, print the same line on stdout.
 *   Connect phase: at most 256 connects in flight, 10 s each; a failed
 *   connect ends the run (no "ready").
 *
 * Test hook: BYPASS_POOL_TEST_CORRUPT=K in the server's environment flips
 * the low bit of the middle byte of the K-th reply it sends (K >= 1,
 * counted over all connections), so a test can prove that a wrong byte is
 * seen: the client must then report "mismatches 1" and exit 1.
 *
 * RLIMIT_NOFILE's soft limit is raised to the hard one at start.
 * Exit: 0 when every reply matched, no error happened and (client) all
 * CONNS stayed open to the end; 1 otherwise; 2 on a usage error.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_net.h"
#include "sha256.h"
#include "rnd.h"

#define POOL_MAGIC	0x504f4f4cu	/* "POOL" */
#define HDR_LEN		16
#define MAX_REPLY	(64u << 20)
#define CHUNK		(256u << 10)	/* scratch buffers; one recv/send at most */
#define SRV_RXCAP	(16 * HDR_LEN)	/* pipelined headers buffered per connection */
#define REQ_TIMEOUT	10.0
#define DRAIN_TIMEOUT	10.0
#define CONN_TIMEOUT	10.0
#define CONN_PAR	256
#define SIG_TOKEN	UINT64_MAX	/* epoll data of the signalfd */
#define LSN_TOKEN	(UINT64_MAX - 1)	/* epoll data of the listener */

static const char *fam_kind = "tcp";
static bool quiet;
static const char *readyfile;
static uint8_t scratch[CHUNK], expect[CHUNK];

static void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void info(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	fputs("bypass_pool: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Bytes [off, off + n) of the stream S(seed). */
static void stream_fill(uint64_t seed, uint64_t off, uint8_t *buf, size_t n)
{
	while (n) {
		uint64_t k = off / 8, w = htole64(mix64(seed + (k + 1) * 0x9e3779b97f4a7c15ULL));
		size_t skip = off % 8, take = 8 - skip < n ? 8 - skip : n;

		memcpy(buf, (uint8_t *)&w + skip, take);
		buf += take;
		off += take;
		n -= take;
	}
}


static long parse_num(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "bypass_pool: %s: '%s' is not a number in [%ld, %ld]\n", what, s, lo, hi);
		exit(2);
	}
	return v;
}

/* Replace path with line atomically: a poller sees all of it or nothing. */
static int write_atomic(const char *path, const char *line)
{
	char tmp[4096];
	size_t len = strlen(line);
	int fd, n = snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());

	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		fprintf(stderr, "bypass_pool: %s: path too long\n", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, len) != (ssize_t)len || close(fd) || rename(tmp, path)) {
		fprintf(stderr, "bypass_pool: write %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
		return -1;
	}
	return 0;
}

/* Raise RLIMIT_NOFILE's soft limit to the hard one; return the new limit. */
static long raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl)) {
		perror("bypass_pool: getrlimit(RLIMIT_NOFILE)");
		return 1024;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			perror("bypass_pool: setrlimit(RLIMIT_NOFILE)");
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur > 1 << 20 ? 1 << 20 : (long)rl.rlim_cur;
}

/* Block the signals we handle and return a signalfd for them. */
static int signals_fd(void)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd;
}

/* Next pending signal number, 0 if none. */
static int signal_next(int sfd)
{
	struct signalfd_siginfo si;

	return read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) ? (int)si.ssi_signo : 0;
}

static int ep_add(int epfd, int fd, uint32_t events, uint64_t token)
{
	struct epoll_event ev = { .events = events, .data.u64 = token };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int ep_mod(int epfd, int fd, uint32_t events, uint64_t token)
{
	struct epoll_event ev = { .events = events, .data.u64 = token };

	return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

static void nodelay(int fd)
{
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
}

/* The local (or, peer: the remote) port of fd, -1 if unknown. */
static int sock_port(int fd, bool peer)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	socklen_t len = sizeof(u);

	memset(&u, 0, sizeof(u));
	if ((peer ? getpeername : getsockname)(fd, &u.sa, &len))
		return -1;
	return ntohs(u.sa.sa_family == AF_INET6 ? u.in6.sin6_port : u.in.sin_port);
}

/* ---------------------------------------------------------------- server */

struct sconn {
	int fd, port;		/* port: the client's, for messages */
	uint32_t events;
	uint8_t rx[SRV_RXCAP];
	size_t rx_n;
	bool busy;		/* a reply is being sent */
	uint32_t len, off;
	uint64_t seed, reply_no;	/* reply_no: 1-based, over all connections */
};

struct server {
	int epfd, lfd;
	struct sconn **by_fd;
	long nfd;
	unsigned long long served, replies_started, corrupt_at;
	int errors;
};

static void srv_close(struct server *s, struct sconn *c)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	s->by_fd[c->fd] = NULL;
	free(c);
}

static void srv_fail(struct server *s, struct sconn *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void srv_fail(struct server *s, struct sconn *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bypass_pool: server: fd %d client port %d: ", c->fd, c->port);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	s->errors++;
	srv_close(s, c);
}

/* Start the next buffered request if idle; -1 if the header was bad (c freed). */
static int srv_next(struct server *s, struct sconn *c)
{
	uint32_t magic, len;
	uint64_t seed;

	if (c->busy || c->rx_n < HDR_LEN)
		return 0;
	memcpy(&magic, c->rx, 4);
	memcpy(&len, c->rx + 4, 4);
	memcpy(&seed, c->rx + 8, 8);
	magic = be32toh(magic);
	len = be32toh(len);
	seed = be64toh(seed);
	if (magic != POOL_MAGIC || !len || len > MAX_REPLY) {
		srv_fail(s, c, "bad request header: magic 0x%08x (expected 0x%08x) reply_len %u (expected 1..%u)",
			 magic, POOL_MAGIC, len, MAX_REPLY);
		return -1;
	}
	c->rx_n -= HDR_LEN;
	memmove(c->rx, c->rx + HDR_LEN, c->rx_n);
	c->busy = true;
	c->len = len;
	c->off = 0;
	c->seed = seed;
	c->reply_no = ++s->replies_started;
	return 0;
}

/* Send what the socket takes (at most 1 MiB a turn, to be fair); -1: c freed. */
static int srv_write(struct server *s, struct sconn *c)
{
	size_t budget = 4 * CHUNK;

	while (c->busy && budget) {
		size_t n = c->len - c->off < CHUNK ? c->len - c->off : CHUNK;
		ssize_t w;

		stream_fill(c->seed, c->off, scratch, n);
		if (c->reply_no == s->corrupt_at && c->len / 2 >= c->off && c->len / 2 < c->off + n)
			scratch[c->len / 2 - c->off] ^= 1;
		w = send(c->fd, scratch, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (w < 0) {
			srv_fail(s, c, "send (reply %u/%u bytes sent, seed 0x%llx): %s", c->off, c->len,
				 (unsigned long long)c->seed, strerror(errno));
			return -1;
		}
		c->off += w;
		budget -= (size_t)w < budget ? (size_t)w : budget;
		if (c->off == c->len) {
			c->busy = false;
			s->served++;
			if (srv_next(s, c))
				return -1;
		}
	}
	return 0;
}

/* Read what fits; -1: c freed (EOF or error). */
static int srv_read(struct server *s, struct sconn *c)
{
	while (c->rx_n < SRV_RXCAP) {
		ssize_t r = recv(c->fd, c->rx + c->rx_n, SRV_RXCAP - c->rx_n, 0);

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (r < 0) {
			srv_fail(s, c, "recv: %s", strerror(errno));
			return -1;
		}
		if (r == 0) {
			if (!c->busy && !c->rx_n) {	/* clean EOF between requests */
				srv_close(s, c);
				return -1;
			}
			srv_fail(s, c, "EOF with %zu header bytes buffered and %s", c->rx_n,
				 c->busy ? "a reply in progress" : "no reply in progress");
			return -1;
		}
		c->rx_n += r;
		if (srv_next(s, c))
			return -1;
	}
	return 0;
}

static int srv_rearm(struct server *s, struct sconn *c)
{
	uint32_t want = (c->rx_n < SRV_RXCAP ? EPOLLIN : 0) | (c->busy ? EPOLLOUT : 0);

	if (want == c->events)
		return 0;
	if (ep_mod(s->epfd, c->fd, want, (uint64_t)c->fd)) {
		srv_fail(s, c, "epoll_ctl: %s", strerror(errno));
		return -1;
	}
	c->events = want;
	return 0;
}

static void srv_accept(struct server *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct sconn *c;

		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return;
			fprintf(stderr, "bypass_pool: server: accept4: %s\n", strerror(errno));
			s->errors++;
			return;
		}
		c = fd < s->nfd ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			fprintf(stderr, "bypass_pool: server: no room for fd %d (table %ld)\n", fd, s->nfd);
			s->errors++;
			close(fd);
			continue;
		}
		c->fd = fd;
		c->port = sock_port(fd, true);
		c->events = EPOLLIN;
		nodelay(fd);
		s->by_fd[fd] = c;
		if (ep_add(s->epfd, fd, EPOLLIN, (uint64_t)fd))
			srv_fail(s, c, "epoll_ctl add: %s", strerror(errno));
	}
}

static int run_server(int port, double secs)
{
	struct server s = { .epfd = -1, .lfd = -1 };
	struct bn_endpoint ep;
	struct epoll_event evs[256];
	const char *corrupt = getenv("BYPASS_POOL_TEST_CORRUPT");
	double end = secs > 0 ? bn_now() + secs : 0;
	char line[64];
	int sfd, ret = 1;
	bool stop = false;

	s.nfd = raise_nofile();
	s.by_fd = calloc(s.nfd, sizeof(*s.by_fd));
	sfd = signals_fd();
	if (corrupt && *corrupt)
		s.corrupt_at = strtoull(corrupt, NULL, 0);
	if (!s.by_fd || sfd < 0 || bn_endpoint_init(&ep, fam_kind, NULL, port)) {
		perror("bypass_pool: server setup");
		goto cleanup;
	}
	s.lfd = socket(bn_domain(&ep), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s.lfd < 0 || setsockopt(s.lfd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int)) ||
	    bind(s.lfd, (struct sockaddr *)&ep.ss, ep.len) || listen(s.lfd, SOMAXCONN) ||
	    getsockname(s.lfd, (struct sockaddr *)&ep.ss, &ep.len)) {
		fprintf(stderr, "bypass_pool: server: listen on %s port %d: %s\n",
			ep.fam == BN_TCP6 ? "::1" : "127.0.0.1", port, strerror(errno));
		goto cleanup;
	}
	s.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s.epfd < 0 || ep_add(s.epfd, s.lfd, EPOLLIN, LSN_TOKEN) || ep_add(s.epfd, sfd, EPOLLIN, SIG_TOKEN)) {
		perror("bypass_pool: server: epoll");
		goto cleanup;
	}
	port = sock_port(s.lfd, false);
	if (s.corrupt_at)
		info("server: BYPASS_POOL_TEST_CORRUPT: reply %llu will be corrupted\n", s.corrupt_at);
	snprintf(line, sizeof(line), "ready %d\n", port);
	if (readyfile) {
		if (write_atomic(readyfile, line))
			goto cleanup;
	} else {
		fputs(line, stdout);
		fflush(stdout);
	}
	info("server: listening on %s port %d, up to %ld fds\n", ep.fam == BN_TCP6 ? "::1" : "127.0.0.1",
	     port, s.nfd);

	while (!stop) {
		int timeout = end ? (int)((end - bn_now()) * 1000) + 1 : -1;
		int n;

		if (end && timeout <= 0)
			break;
		n = epoll_wait(s.epfd, evs, 256, timeout);
		if (n < 0 && errno != EINTR) {
			perror("bypass_pool: server: epoll_wait");
			s.errors++;
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tok = evs[i].data.u64;
			struct sconn *c;

			if (tok == SIG_TOKEN) {
				int sig;

				while ((sig = signal_next(sfd)))
					if (sig != SIGUSR1)
						stop = true;
				continue;
			}
			if (tok == LSN_TOKEN) {
				srv_accept(&s);
				continue;
			}
			c = s.by_fd[tok];
			if (!c)		/* closed earlier in this batch */
				continue;
			if ((evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && srv_read(&s, c))
				continue;
			/* A reply just started is written at once, without waiting
			 * for EPOLLOUT; send says EAGAIN if there is no room. */
			if (c->busy && srv_write(&s, c))
				continue;
			srv_rearm(&s, c);
		}
	}
	printf("served %llu requests\n", s.served);
	if (s.errors)
		fprintf(stderr, "bypass_pool: server: %d connection error(s)\n", s.errors);
	ret = s.errors ? 1 : 0;
cleanup:
	for (long fd = 0; s.by_fd && fd < s.nfd; fd++)
		if (s.by_fd[fd]) {
			close(s.by_fd[fd]->fd);
			free(s.by_fd[fd]);
		}
	free(s.by_fd);
	if (s.epfd >= 0)
		close(s.epfd);
	if (s.lfd >= 0)
		close(s.lfd);
	if (sfd >= 0)
		close(sfd);
	return ret;
}

/* ---------------------------------------------------------------- client */

enum cstate { C_NEW, C_CONNECTING, C_IDLE, C_BUSY, C_CLOSED };

struct cconn {
	int fd, port;		/* port: our local port, for messages and ss */
	enum cstate state;
	uint32_t events;
	int idle_pos;		/* index in idle[] while C_IDLE */
	double deadline;	/* connect or request deadline */
	unsigned long nreq;	/* requests issued on this connection */
	uint8_t hdr[HDR_LEN];
	uint32_t hdr_off, len, off;
	uint64_t seed;
	int64_t first_diff;	/* first differing offset of this reply, -1 */
	struct sha256 got, want;
};

struct client {
	int epfd, nconns, open, errors, mismatches, inflight, connecting, next_new;
	int *idle, nidle;
	struct cconn *c;
	unsigned long long requests, bytes;
};

static void idle_push(struct client *cl, int i)
{
	cl->c[i].state = C_IDLE;
	cl->c[i].idle_pos = cl->nidle;
	cl->idle[cl->nidle++] = i;
}

static void idle_remove(struct client *cl, int i)
{
	int pos = cl->c[i].idle_pos, last = cl->idle[--cl->nidle];

	cl->idle[pos] = last;
	cl->c[last].idle_pos = pos;
	cl->c[i].idle_pos = -1;
}

static void cli_close(struct client *cl, int i)
{
	struct cconn *c = &cl->c[i];

	if (c->state == C_CLOSED || c->state == C_NEW)
		return;
	if (c->state == C_IDLE)
		idle_remove(cl, i);
	if (c->state == C_BUSY)
		cl->inflight--;
	if (c->state == C_CONNECTING)
		cl->connecting--;
	else
		cl->open--;
	close(c->fd);
	c->fd = -1;
	c->state = C_CLOSED;
}

/* Report an error on connection i, count it and close the connection. */
static void cli_fail(struct client *cl, int i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cli_fail(struct client *cl, int i, const char *fmt, ...)
{
	struct cconn *c = &cl->c[i];
	va_list ap;

	fprintf(stderr, "bypass_pool: client: conn %d (fd %d port %d, request %lu", i, c->fd, c->port, c->nreq);
	if (c->state == C_BUSY)
		fprintf(stderr, " len %u seed 0x%llx, %u bytes received", c->len,
			(unsigned long long)c->seed, c->off);
	fputs("): ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cl->errors++;
	cli_close(cl, i);
}

static void stats_line(const struct client *cl, char *buf, size_t len)
{
	snprintf(buf, len, "conns %d open %d requests %llu bytes %llu mismatches %d errors %d\n",
		 cl->nconns, cl->open, cl->requests, cl->bytes, cl->mismatches, cl->errors);
}

static void cli_stats(const struct client *cl)
{
	char line[256], path[4096];

	stats_line(cl, line, sizeof(line));
	if (!quiet)
		fputs(line, stderr);
	if (!readyfile) {
		fputs(line, stdout);
		fflush(stdout);
	} else if (snprintf(path, sizeof(path), "%s.stats", readyfile) < (int)sizeof(path)) {
		write_atomic(path, line);
	}
}

/* Start the nonblocking connect of connection i; -1 on failure (reported). */
static int cli_connect(struct client *cl, const struct bn_endpoint *ep, int i)
{
	struct cconn *c = &cl->c[i];
	int fd = socket(bn_domain(ep), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		fprintf(stderr, "bypass_pool: client: conn %d: socket: %s\n", i, strerror(errno));
		return -1;
	}
	/* Our ports end in TIME_WAIT (we close first); with SO_REUSEADDR on
	 * both sides they do not keep a later server from binding them. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	c->fd = fd;
	c->port = -1;
	c->idle_pos = -1;
	c->state = C_CONNECTING;
	c->deadline = bn_now() + CONN_TIMEOUT;
	c->events = EPOLLOUT;
	cl->connecting++;
	if (connect(fd, (const struct sockaddr *)&ep->ss, ep->len) && errno != EINPROGRESS) {
		fprintf(stderr, "bypass_pool: client: conn %d: connect: %s\n", i, strerror(errno));
		cli_close(cl, i);
		return -1;
	}
	c->port = sock_port(fd, false);
	if (ep_add(cl->epfd, fd, EPOLLOUT, (uint64_t)i)) {
		fprintf(stderr, "bypass_pool: client: conn %d: epoll_ctl add: %s\n", i, strerror(errno));
		cli_close(cl, i);
		return -1;
	}
	return 0;
}

static int cli_events(struct client *cl, int i, uint32_t want)
{
	struct cconn *c = &cl->c[i];

	if (c->events == want)
		return 0;
	if (ep_mod(cl->epfd, c->fd, want, (uint64_t)i)) {
		cli_fail(cl, i, "epoll_ctl: %s", strerror(errno));
		return -1;
	}
	c->events = want;
	return 0;
}

/* Connection i signalled writable while connecting: done or failed. */
static int cli_connected(struct client *cl, int i)
{
	struct cconn *c = &cl->c[i];
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (err) {
		fprintf(stderr, "bypass_pool: client: conn %d (port %d): connect: %s\n", i, c->port, strerror(err));
		cl->errors++;
		cli_close(cl, i);
		return -1;
	}
	cl->connecting--;
	cl->open++;
	nodelay(c->fd);
	idle_push(cl, i);
	return cli_events(cl, i, EPOLLIN);
}

/* Send (the rest of) the request header of connection i. */
static void cli_send_hdr(struct client *cl, int i)
{
	struct cconn *c = &cl->c[i];

	while (c->hdr_off < HDR_LEN) {
		ssize_t w = send(c->fd, c->hdr + c->hdr_off, HDR_LEN - c->hdr_off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0) {
			cli_fail(cl, i, "send request header (%u of %d bytes sent): %s", c->hdr_off, HDR_LEN,
				 strerror(errno));
			return;
		}
		c->hdr_off += w;
	}
	cli_events(cl, i, EPOLLIN | (c->hdr_off < HDR_LEN ? EPOLLOUT : 0));
}

static void cli_issue(struct client *cl, uint64_t *rng, long maxlen)
{
	int i = cl->idle[rnd(rng) % cl->nidle];
	struct cconn *c = &cl->c[i];
	uint32_t v;
	uint64_t s;

	idle_remove(cl, i);
	c->state = C_BUSY;
	c->nreq++;
	c->len = (uint32_t)rnd_size(rng, 1, maxlen);
	c->seed = rnd(rng);
	c->off = 0;
	c->hdr_off = 0;
	c->first_diff = -1;
	c->deadline = bn_now() + REQ_TIMEOUT;
	sha256_init(&c->got);
	sha256_init(&c->want);
	v = htobe32(POOL_MAGIC);
	memcpy(c->hdr, &v, 4);
	v = htobe32(c->len);
	memcpy(c->hdr + 4, &v, 4);
	s = htobe64(c->seed);
	memcpy(c->hdr + 8, &s, 8);
	cl->inflight++;
	cli_send_hdr(cl, i);
}

static void cli_complete(struct client *cl, int i)
{
	struct cconn *c = &cl->c[i];
	uint8_t got[32], want[32];

	sha256_final(&c->got, got);
	sha256_final(&c->want, want);
	cl->inflight--;
	if (memcmp(got, want, 32)) {
		char a[65], b[65];

		sha256_hex(got, a);
		sha256_hex(want, b);
		fprintf(stderr, "bypass_pool: client: conn %d (fd %d port %d, request %lu len %u seed 0x%llx): MISMATCH: received sha256 %s, expected %s; first difference at byte %lld\n",
			i, c->fd, c->port, c->nreq, c->len, (unsigned long long)c->seed, a, b,
			(long long)c->first_diff);
		cl->mismatches++;
	}
	cl->requests++;
	idle_push(cl, i);
}

static void cli_read(struct client *cl, int i)
{
	struct cconn *c = &cl->c[i];

	for (;;) {
		size_t room = c->state == C_BUSY ? c->len - c->off : 1;
		ssize_t r;

		if (room > CHUNK)
			room = CHUNK;
		r = recv(c->fd, scratch, room, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r < 0) {
			cli_fail(cl, i, "recv: %s", strerror(errno));
			return;
		}
		if (r == 0) {
			cli_fail(cl, i, "unexpected EOF from the server");
			return;
		}
		if (c->state != C_BUSY) {
			cli_fail(cl, i, "unexpected data on an idle connection (byte 0x%02x)", scratch[0]);
			return;
		}
		stream_fill(c->seed, c->off, expect, r);
		if (c->first_diff < 0 && memcmp(scratch, expect, r)) {
			for (ssize_t k = 0; k < r; k++)
				if (scratch[k] != expect[k]) {
					c->first_diff = c->off + k;
					fprintf(stderr, "bypass_pool: client: conn %d (port %d, request %lu len %u): byte %lld is 0x%02x, expected 0x%02x\n",
						i, c->port, c->nreq, c->len, (long long)c->first_diff,
						scratch[k], expect[k]);
					break;
				}
		}
		sha256_update(&c->got, scratch, r);
		sha256_update(&c->want, expect, r);
		c->off += r;
		cl->bytes += r;
		if (c->off == c->len)
			cli_complete(cl, i);
	}
}

/* Fail connects and requests past their deadline. */
static void cli_timeouts(struct client *cl, double now)
{
	for (int i = 0; i < cl->nconns; i++) {
		struct cconn *c = &cl->c[i];

		if (c->state == C_CONNECTING && now > c->deadline) {
			fprintf(stderr, "bypass_pool: client: conn %d (port %d): connect timed out after %.0f s\n",
				i, c->port, CONN_TIMEOUT);
			cl->errors++;
			cli_close(cl, i);
		} else if (c->state == C_BUSY && now > c->deadline) {
			cli_fail(cl, i, "no complete reply after %.0f s", REQ_TIMEOUT);
		}
	}
}

static void cli_dispatch(struct client *cl, struct epoll_event *ev)
{
	int i = (int)ev->data.u64;
	struct cconn *c = &cl->c[i];

	if (c->state == C_CLOSED)
		return;
	if (c->state == C_CONNECTING) {
		if (ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			cli_connected(cl, i);
		return;
	}
	if (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		cli_read(cl, i);
	if (c->state == C_BUSY && (ev->events & EPOLLOUT))
		cli_send_hdr(cl, i);
}

static int run_client(int port, int nconns, long interval_ms, long maxlen, uint64_t rng, double secs)
{
	struct client cl = { .epfd = -1, .nconns = nconns };
	struct bn_endpoint ep;
	struct epoll_event evs[256];
	double now, t0, next_issue = 0, next_scan = 0, end = 0, drain_end = 0;
	bool ready = false, draining = false, failed = false;
	long nofile = raise_nofile();
	char line[256];
	int sfd = signals_fd(), ret = 1;

	if (nconns + 32 > nofile) {
		fprintf(stderr, "bypass_pool: client: %d connections need more than RLIMIT_NOFILE %ld fds\n",
			nconns, nofile);
		goto cleanup;
	}
	cl.c = calloc(nconns, sizeof(*cl.c));
	cl.idle = calloc(nconns, sizeof(*cl.idle));
	if (!cl.c || !cl.idle || sfd < 0 || bn_endpoint_init(&ep, fam_kind, NULL, port)) {
		perror("bypass_pool: client setup");
		goto cleanup;
	}
	cl.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (cl.epfd < 0 || ep_add(cl.epfd, sfd, EPOLLIN, SIG_TOKEN)) {
		perror("bypass_pool: client: epoll");
		goto cleanup;
	}
	t0 = bn_now();

	for (;;) {
		int timeout = 100, n;

		now = bn_now();
		/* Connect phase: keep CONN_PAR connects in flight. */
		while (!ready && !failed && cl.next_new < nconns && cl.connecting < CONN_PAR)
			if (cli_connect(&cl, &ep, cl.next_new++))
				failed = true;
		if (!ready && !failed && cl.open == nconns) {
			ready = true;
			snprintf(line, sizeof(line), "ready %d\n", nconns);
			if (readyfile) {
				if (write_atomic(readyfile, line))
					failed = true;
			} else {
				fputs(line, stdout);
				fflush(stdout);
			}
			info("client: %d connections to port %d in %.2f s\n", nconns, port, now - t0);
			if (secs > 0)
				end = now + secs;
			next_issue = now;
		}
		if (!ready && (failed || cl.errors)) {
			fprintf(stderr, "bypass_pool: client: %s after %d of %d connections\n",
				failed && !cl.errors ? "stopped in the connect phase" : "connect phase failed",
				cl.open, nconns);
			break;
		}
		if (ready && !draining && end && now >= end)
			draining = true;
		if (draining && !drain_end) {
			drain_end = now + DRAIN_TIMEOUT;
			info("client: stopping, %d request(s) in flight\n", cl.inflight);
		}
		if (draining && (!cl.inflight || now >= drain_end)) {
			if (cl.inflight) {
				fprintf(stderr, "bypass_pool: client: %d request(s) still unanswered %.0f s after stop\n",
					cl.inflight, DRAIN_TIMEOUT);
				for (int i = 0; i < nconns; i++)
					if (cl.c[i].state == C_BUSY)
						cli_fail(&cl, i, "unanswered at exit");
			}
			break;
		}
		if (ready && !draining && now >= next_issue) {
			if (cl.nidle)
				cli_issue(&cl, &rng, maxlen);
			next_issue = interval_ms ? next_issue + interval_ms / 1000.0 : now;
			if (next_issue < now - 1)	/* fell far behind: do not burst */
				next_issue = now;
		}
		if (now >= next_scan) {
			cli_timeouts(&cl, now);
			next_scan = now + 0.1;
		}
		if (ready && !draining) {
			double until = next_issue - bn_now();

			timeout = until <= 0 ? 0 : until < 0.1 ? (int)(until * 1000) + 1 : 100;
		}
		n = epoll_wait(cl.epfd, evs, 256, timeout);
		if (n < 0 && errno != EINTR) {
			perror("bypass_pool: client: epoll_wait");
			cl.errors++;
			break;
		}
		for (int k = 0; k < n; k++) {
			if (evs[k].data.u64 == SIG_TOKEN) {
				int sig;

				while ((sig = signal_next(sfd))) {
					if (sig == SIGUSR1) {
						cli_stats(&cl);
					} else {
						draining = true;
						if (!ready)
							failed = true;
					}
				}
				continue;
			}
			cli_dispatch(&cl, &evs[k]);
		}
	}
	stats_line(&cl, line, sizeof(line));
	for (int i = 0; i < nconns; i++)
		if (cl.c[i].state != C_CLOSED && cl.c[i].state != C_NEW) {
			close(cl.c[i].fd);
			cl.c[i].state = C_CLOSED;
		}
	fputs(line, stdout);
	ret = ready && !cl.mismatches && !cl.errors && cl.open == nconns ? 0 : 1;
cleanup:
	free(cl.c);
	free(cl.idle);
	if (cl.epfd >= 0)
		close(cl.epfd);
	if (sfd >= 0)
		close(sfd);
	return ret;
}

int main(int argc, char **argv)
{
	int mode = 0, port = -1, nconns = 0;
	long interval = 20, maxlen = 256 << 10;
	uint64_t seed = 1;
	double secs = 0;
	int opt;

	while ((opt = getopt(argc, argv, "scp:n:6i:S:r:f:t:q")) != -1) {
		switch (opt) {
		case 's': mode = 's'; break;
		case 'c': mode = 'c'; break;
		case 'p': port = (int)parse_num(optarg, 0, 65535, "-p"); break;
		case 'n': nconns = (int)parse_num(optarg, 1, 19000, "-n"); break;
		case '6': fam_kind = "tcp6"; break;
		case 'i': interval = parse_num(optarg, 0, 3600000, "-i"); break;
		case 'S':
			maxlen = bn_size(optarg);
			if (maxlen < 1 || maxlen > (long)MAX_REPLY) {
				fprintf(stderr, "bypass_pool: -S: '%s' is not a size in [1, 64M]\n", optarg);
				return 2;
			}
			break;
		case 'r': seed = (uint64_t)parse_num(optarg, 0, LONG_MAX, "-r"); break;
		case 'f': readyfile = optarg; break;
		case 't': secs = (double)parse_num(optarg, 1, 86400, "-t"); break;
		case 'q': quiet = true; break;
		default:
			fprintf(stderr, "usage: bypass_pool -s [-6] [-p PORT] [-f READYFILE] [-t SECONDS] [-q]\n"
					"       bypass_pool -c [-6] -p PORT -n CONNS [-i MS] [-S MAXLEN] [-r SEED]\n"
					"                   [-f READYFILE] [-t SECONDS] [-q]\n"
					"(see the comment at the top of tests/tools/bypass_pool.c)\n");
			return 2;
		}
	}
	if (optind != argc || !mode || (mode == 'c' && (port < 1 || !nconns))) {
		fprintf(stderr, "bypass_pool: need -s, or -c with -p PORT and -n CONNS (try -h)\n");
		return 2;
	}
	seed = mix64(seed + 0x9e3779b97f4a7c15ULL) | 1;	/* xorshift needs a nonzero state */
	if (mode == 's')
		return run_server(port < 0 ? 0 : port, secs);
	return run_client(port, nconns, interval, maxlen, seed, secs);
}
