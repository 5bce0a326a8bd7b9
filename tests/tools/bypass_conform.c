// SPDX-License-Identifier: GPL-2.0-only
/*
 * bypass_conform - what an application observes on a loopback TCP
 * connection, scenario by scenario, printed as one deterministic line
 * each.  The A/B test runs it without and with the bypass and requires
 * identical output: the bypass must not change what applications see.
 *
 *   bypass_conform [-p PORT] [-6] [-l] [-r ROUNDS] [SCENARIO...]
 *   -p  listening port (default 47500)   -6  IPv6   -l  list scenarios
 *   -r  run the scenarios ROUNDS times on the same listener (default 1):
 *       bypass learning judges a port by its listener's connections, so a
 *       first round teaches it and the later ones show the verdict
 *
 * Output: "SCENARIO: observation" per scenario; exit 1 if a scenario
 * could not run at all (setup failure), 0 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "sha256.h"

static int port = 47500, v6;
static int lfd = -1;

#define OUT(...) do { printf(__VA_ARGS__); fflush(stdout); } while (0)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

static int wait_ev(int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };

	return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

/* A connected pair: *c client, *s server side. */
/* Connect fd to the listener; a nonblocking fd until it is connected. */
static int connect_fd(int fd, bool nb)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;

	if (v6) {
		struct sockaddr_in6 *a = (void *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (void *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	}
	if (connect(fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS)
		return -1;
	if (nb && !(wait_ev(fd, POLLOUT, 5000) & POLLOUT))
		return -1;
	return 0;
}

static int pair(int *c, int *s, bool nb_client, bool nb_server)
{
	*c = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | (nb_client ? SOCK_NONBLOCK : 0), 0);
	if (*c < 0 || connect_fd(*c, nb_client))
		return -1;
	*s = accept4(lfd, NULL, NULL, nb_server ? SOCK_NONBLOCK : 0);
	return *s < 0 ? -1 : 0;
}

/* Write all of buf, waiting for POLLOUT on a nonblocking socket. */
static int write_all(int fd, const void *buf, size_t n, int flags)
{
	const char *p = buf;

	while (n) {
		ssize_t w = send(fd, p, n, flags | MSG_NOSIGNAL);

		if (w < 0 && errno == EAGAIN) {
			wait_ev(fd, POLLOUT, 5000);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

/* Read exactly n (or to EOF), polling on EAGAIN if nonblocking; returns
 * bytes read or -errno. */
static long read_n(int fd, void *buf, size_t n)
{
	char *p = buf;
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(fd, p + got, n - got, 0);

		if (r < 0 && errno == EAGAIN) {
			/* a blocking socket must never see EAGAIN (what an
			 * affected kernel's tcp_bpf_recvmsg does) */
			if (!(fcntl(fd, F_GETFL) & O_NONBLOCK))
				return -EAGAIN;
			if (!(wait_ev(fd, POLLIN, 5000)))
				return -ETIMEDOUT;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += r;
	}
	return (long)got;
}

static void fill(char *buf, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245 + 12345;
		buf[i] = (char)(seed >> 16);
	}
}

static const char *hex8(const void *data, size_t n, char out[17])
{
	struct sha256 s;
	uint8_t d[32];
	char full[65];

	sha256_init(&s);
	sha256_update(&s, data, n);
	sha256_final(&s, d);
	sha256_hex(d, full);
	memcpy(out, full, 16);
	out[16] = '\0';
	return out;
}

/* ---- full duplex: reader and writer threads on each socket ----------- */

struct duplex {
	int fd;
	size_t n;
	unsigned int seed;
	char *buf;
	long got;
	int err;
};

static void *duplex_write(void *arg)
{
	struct duplex *d = arg;
	size_t off = 0;

	while (off < d->n) {
		size_t k = 1 + (size_t)rand_r(&d->seed) % 65536;

		if (k > d->n - off)
			k = d->n - off;
		if (write_all(d->fd, d->buf + off, k, 0)) {
			d->err = errno;
			return NULL;
		}
		off += k;
	}
	shutdown(d->fd, SHUT_WR);
	return NULL;
}

static void *duplex_read(void *arg)
{
	struct duplex *d = arg;
	size_t cap = d->n + 1;

	d->got = 0;
	for (;;) {
		size_t k = 1 + (size_t)rand_r(&d->seed) % 65536;
		ssize_t r;

		if (k > cap - d->got)
			k = cap - d->got;
		r = recv(d->fd, d->buf + d->got, k, 0);
		if (r < 0 && errno == EAGAIN && (fcntl(d->fd, F_GETFL) & O_NONBLOCK)) {
			wait_ev(d->fd, POLLIN, 5000);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			d->err = errno;	/* a blocking socket must never see EAGAIN */
			return NULL;
		}
		if (r == 0)
			return NULL;
		d->got += r;
	}
}

static void sc_duplex(const char *name, bool nb)
{
	const size_t n = 4 << 20;
	struct duplex w[2], r[2];
	pthread_t tw[2], tr[2];
	char h1[17], h2[17], h3[17], h4[17];
	int c, s;

	if (pair(&c, &s, nb, nb)) {
		OUT("%s: setup failed: %s\n", name, strerror(errno));
		return;
	}
	for (int i = 0; i < 2; i++) {
		w[i] = (struct duplex){ .fd = i ? s : c, .n = n, .seed = 7 + i, .buf = malloc(n) };
		r[i] = (struct duplex){ .fd = i ? c : s, .n = n, .seed = 99 + i, .buf = malloc(n + 1) };
		fill(w[i].buf, n, 1234 + i);
		pthread_create(&tr[i], NULL, duplex_read, &r[i]);
		pthread_create(&tw[i], NULL, duplex_write, &w[i]);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(tw[i], NULL);
		pthread_join(tr[i], NULL);
	}
	OUT("%s: c->s %ld bytes %s (sent %s) err %s; s->c %ld bytes %s (sent %s) err %s\n", name,
	    r[0].got, hex8(r[0].buf, r[0].got, h1), hex8(w[0].buf, n, h2),
	    r[0].err ? strerror(r[0].err) : "none",
	    r[1].got, hex8(r[1].buf, r[1].got, h3), hex8(w[1].buf, n, h4),
	    r[1].err ? strerror(r[1].err) : "none");
	for (int i = 0; i < 2; i++) {
		free(w[i].buf);
		free(r[i].buf);
	}
	close(c);
	close(s);
}

static void sc_blocking_duplex(void) { sc_duplex("blocking_duplex", false); }
static void sc_nonblocking_duplex(void) { sc_duplex("nonblocking_duplex", true); }

/* ---- request/response ------------------------------------------------ */

struct rr {
	int fd, rounds, qsize, asize;
};

static void *rr_server(void *arg)
{
	struct rr *rr = arg;
	char q[4096], a[4096];

	fill(a, sizeof(a), 5);
	for (int i = 0; i < rr->rounds; i++) {
		if (read_n(rr->fd, q, rr->qsize) != rr->qsize || write_all(rr->fd, a, rr->asize, 0))
			break;
	}
	return NULL;
}

static void sc_rr(const char *name, bool nb, bool hiredis, bool blocking_server)
{
	struct rr rr = { .rounds = 2000, .qsize = 100, .asize = 1000 };
	char q[100], a[1000], h[17];
	struct sha256 sh;
	uint8_t d[32];
	char full[65];
	pthread_t t;
	int c, s, done = 0;
	long err = 0;

	/* hiredis: connect nonblocking, then switch the client to blocking;
	 * the server is event-driven (nonblocking) */
	if (pair(&c, &s, nb || hiredis, (nb || hiredis) && !blocking_server)) {
		OUT("%s: setup failed: %s\n", name, strerror(errno));
		return;
	}
	if (hiredis)
		set_nonblock(c, false);
	rr.fd = s;
	fill(q, sizeof(q), 3);
	sha256_init(&sh);
	pthread_create(&t, NULL, rr_server, &rr);
	for (; done < rr.rounds; done++) {
		long got;

		if (write_all(c, q, sizeof(q), 0)) {
			err = -errno;
			break;
		}
		if (hiredis) {
			ssize_t r = recv(c, a, sizeof(a), MSG_WAITALL);

			got = r < 0 ? -errno : r;
		} else {
			got = read_n(c, a, sizeof(a));
		}
		if (got != (long)sizeof(a)) {
			err = got;
			break;
		}
		sha256_update(&sh, a, sizeof(a));
	}
	pthread_join(t, NULL);
	sha256_final(&sh, d);
	sha256_hex(d, full);
	memcpy(h, full, 16);
	h[16] = 0;
	OUT("%s: %d rounds, replies %s, error %s\n", name, done, h, err ? strerror((int)-err) : "none");
	close(c);
	close(s);
}

static void sc_blocking_rr(void) { sc_rr("blocking_rr", false, false, false); }
static void sc_nonblocking_rr(void) { sc_rr("nonblocking_rr", true, false, false); }
static void sc_hiredis_rr(void) { sc_rr("connect_nonblocking_then_blocking_rr", false, true, false); }
/* an event-driven client, a blocking (thread-per-connection) server */
static void sc_blocking_server_rr(void) { sc_rr("nonblocking_client_blocking_server_rr", true, false, true); }

/* ---- epoll ------------------------------------------------------------ */

static void sc_epoll(const char *name, bool edge)
{
	const size_t n = 2 << 20;
	char *buf = malloc(n), *in = malloc(n), h1[17], h2[17];
	struct epoll_event ev = { .events = EPOLLIN | (edge ? EPOLLET : 0) }, out;
	size_t got = 0, sent = 0;
	int c, s, ep = epoll_create1(0), waits_empty = 0;

	if (pair(&c, &s, true, true)) {
		OUT("%s: setup failed: %s\n", name, strerror(errno));
		return;
	}
	fill(buf, n, 11);
	ev.data.fd = s;
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	/* nothing sent yet: not readable */
	waits_empty = epoll_wait(ep, &out, 1, 50);
	while (got < n) {
		int k;

		if (sent < n) {
			size_t chunk = n - sent < 100000 ? n - sent : 100000;
			ssize_t w = send(c, buf + sent, chunk, MSG_NOSIGNAL);

			if (w > 0)
				sent += w;
		}
		k = epoll_wait(ep, &out, 1, 2000);
		if (k <= 0)
			break;
		/* level: one read per event; edge: drain to EAGAIN */
		do {
			ssize_t r = recv(s, in + got, 65536 < n - got ? 65536 : n - got, 0);

			if (r <= 0)
				break;
			got += r;
		} while (edge);
	}
	OUT("%s: empty wait %d, received %zu bytes %s (sent %s)\n", name, waits_empty, got,
	    hex8(in, got, h1), hex8(buf, n, h2));
	close(ep);
	close(c);
	close(s);
	free(buf);
	free(in);
}

static void sc_epoll_level(void) { sc_epoll("epoll_level", false); }
static void sc_epoll_edge(void) { sc_epoll("epoll_edge", true); }

/* ---- readiness ------------------------------------------------------- */

static void sc_poll_select(void)
{
	struct timeval tv0 = { 0 }, tv1 = { .tv_sec = 2 };
	fd_set rs, ws;
	int c, s, r0, r1, w0, sel_r, sel_w;
	char b[10];

	if (pair(&c, &s, true, true)) {
		OUT("poll_select: setup failed\n");
		return;
	}
	r0 = wait_ev(s, POLLIN, 0);
	w0 = wait_ev(c, POLLOUT, 0);
	write_all(c, "0123456789", 10, 0);
	r1 = wait_ev(s, POLLIN, 2000);
	FD_ZERO(&rs);
	FD_SET(s, &rs);
	FD_ZERO(&ws);
	FD_SET(c, &ws);
	sel_r = select(s + 1, &rs, NULL, NULL, &tv1);
	sel_w = select(c + 1, NULL, &ws, NULL, &tv0);
	read_n(s, b, 10);
	OUT("poll_select: before POLLIN=%d POLLOUT=%d; after POLLIN=%d select_r=%d select_w=%d; "
	    "drained POLLIN=%d\n", !!(r0 & POLLIN), !!(w0 & POLLOUT), !!(r1 & POLLIN), sel_r, sel_w,
	    !!(wait_ev(s, POLLIN, 0) & POLLIN));
	close(c);
	close(s);
}

/* ---- MSG_PEEK, MSG_WAITALL, SO_RCVTIMEO, FIONREAD --------------------- */

static void sc_msg_peek(void)
{
	char a[32] = { 0 }, b[32] = { 0 }, d[32] = { 0 };
	int c, s;
	ssize_t n1, n2, n3;

	if (pair(&c, &s, true, true)) {
		OUT("msg_peek: setup failed\n");
		return;
	}
	write_all(c, "hello world", 11, 0);
	wait_ev(s, POLLIN, 2000);
	n1 = recv(s, a, 5, MSG_PEEK);
	n2 = recv(s, b, 5, MSG_PEEK);
	n3 = read_n(s, d, 11);
	OUT("msg_peek: peek %zd '%s', peek again %zd '%s', read %zd '%s'\n", n1, a, n2, b, n3, d);
	close(c);
	close(s);
}

struct delayed {
	int fd;
};

static void *send_three(void *arg)
{
	struct delayed *d = arg;
	char buf[1000];

	fill(buf, sizeof(buf), 9);
	for (int i = 0; i < 3; i++) {
		usleep(30000);
		write_all(d->fd, buf, sizeof(buf), 0);
	}
	return NULL;
}

static void sc_msg_waitall(const char *name, bool nb)
{
	struct delayed d;
	char buf[3000];
	pthread_t t;
	ssize_t r;
	int c, s, err;

	if (pair(&c, &s, nb, nb)) {
		OUT("%s: setup failed\n", name);
		return;
	}
	d.fd = c;
	pthread_create(&t, NULL, send_three, &d);
	if (nb) {
		/* nonblocking: WAITALL cannot wait; poll, then a WAITALL read
		 * once everything is there returns all of it */
		pthread_join(t, NULL);
		while (1) {
			int q = 0;

			wait_ev(s, POLLIN, 2000);
			usleep(10000);
			if (ioctl(s, FIONREAD, &q) || q >= 3000 || q == 0)
				break;
		}
		r = recv(s, buf, sizeof(buf), MSG_WAITALL);
	} else {
		r = recv(s, buf, sizeof(buf), MSG_WAITALL);
		pthread_join(t, NULL);
	}
	err = r < 0 ? errno : 0;
	OUT("%s: recv(3000, MSG_WAITALL) = %zd%s%s\n", name, r, err ? " " : "", err ? strerror(err) : "");
	close(c);
	close(s);
}

static void sc_msg_waitall_blocking(void) { sc_msg_waitall("msg_waitall", false); }

static void sc_rcvtimeo(void)
{
	struct timeval tv = { .tv_usec = 200000 };
	char b[8];
	double t0, dt;
	ssize_t r;
	int c, s, err;

	if (pair(&c, &s, false, false)) {
		OUT("so_rcvtimeo: setup failed\n");
		return;
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	t0 = now();
	r = recv(s, b, sizeof(b), 0);
	err = errno;
	dt = now() - t0;
	write_all(c, "abc", 3, 0);
	OUT("so_rcvtimeo: no data: %zd %s after >=190ms: %s; data: %zd\n", r, r < 0 ? strerror(err) : "",
	    dt >= 0.19 ? "yes" : "no", recv(s, b, sizeof(b), 0));
	close(c);
	close(s);
}

static void sc_fionread(void)
{
	char buf[4096];
	int c, s, q1 = -1, q2 = -1, q3 = -1;

	if (pair(&c, &s, true, true)) {
		OUT("fionread: setup failed\n");
		return;
	}
	fill(buf, sizeof(buf), 1);
	ioctl(s, FIONREAD, &q1);
	write_all(c, buf, 1234, 0);
	wait_ev(s, POLLIN, 2000);
	usleep(20000);
	ioctl(s, FIONREAD, &q2);
	read_n(s, buf, 1000);
	ioctl(s, SIOCINQ, &q3);
	OUT("fionread: empty %d, after 1234 bytes %d, after reading 1000 SIOCINQ %d\n", q1, q2, q3);
	close(c);
	close(s);
}

/* ---- half-close, close with unread data, RST -------------------------- */

static void sc_shutdown_wr(void)
{
	char buf[8192], h[17];
	long got, got2, eof;
	int c, s, late_err;
	ssize_t late;

	if (pair(&c, &s, true, true)) {
		OUT("shutdown_wr: setup failed\n");
		return;
	}
	fill(buf, sizeof(buf), 2);
	write_all(c, buf, 5000, 0);
	shutdown(c, SHUT_WR);
	late = send(c, "late", 4, MSG_NOSIGNAL | MSG_DONTWAIT);	/* EPIPE */
	late_err = late < 0 ? errno : 0;
	got = read_n(s, buf, sizeof(buf));	/* to EOF */
	hex8(buf, got > 0 ? got : 0, h);
	write_all(s, "reply after half-close", 22, 0);
	close(s);
	got2 = read_n(c, buf, 22);
	eof = read_n(c, buf, 1);
	OUT("shutdown_wr: send after it %zd (%s); server read %ld bytes %s then EOF; "
	    "client read %ld '%.*s' then %ld\n", late, strerror(late_err), got, h,
	    got2, (int)(got2 > 0 ? got2 : 0), buf, eof);
	close(c);
}

/* The client leaves bytes unread, disconnects (connect(AF_UNSPEC)) and
 * connects again: its new connection must not read the old one's bytes. */
static void sc_reconnect_unread(void)
{
	struct sockaddr_storage ss = { .ss_family = AF_UNSPEC };
	char buf[64] = "";
	int c, s, s2;
	long r;

	if (pair(&c, &s, true, true)) {
		OUT("reconnect_unread: setup failed\n");
		return;
	}
	write_all(s, "stale", 5, 0);
	wait_ev(c, POLLIN, 2000);
	if (connect(c, (struct sockaddr *)&ss, sizeof(ss))) {
		OUT("reconnect_unread: disconnect: %s\n", strerror(errno));
		close(c);
		close(s);
		return;
	}
	close(s);
	if (connect_fd(c, true) || (s2 = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) < 0) {
		OUT("reconnect_unread: reconnect failed: %s\n", strerror(errno));
		close(c);
		return;
	}
	write_all(s2, "fresh", 5, 0);
	r = read_n(c, buf, 5);
	OUT("reconnect_unread: new connection read %ld '%.*s'\n", r, (int)(r > 0 ? r : 0), buf);
	close(c);
	close(s2);
}

static void sc_close_unread(void)
{
	char buf[2048];
	long r;
	int c, s;

	if (pair(&c, &s, true, true)) {
		OUT("close_unread: setup failed\n");
		return;
	}
	fill(buf, sizeof(buf), 4);
	write_all(c, buf, 2000, 0);
	wait_ev(s, POLLIN, 2000);
	usleep(20000);
	close(s);	/* 2000 bytes never read */
	wait_ev(c, POLLIN, 2000);
	usleep(20000);
	r = read_n(c, buf, 1);
	OUT("close_unread: peer closed with unread data; client read -> %s\n",
	    r < 0 ? strerror((int)-r) : r == 0 ? "EOF" : "data");
	close(c);
}

static void sc_rst(void)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char buf[64];
	long r;
	int c, s;

	if (pair(&c, &s, true, true)) {
		OUT("rst: setup failed\n");
		return;
	}
	write_all(c, "x", 1, 0);
	read_n(s, buf, 1);
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s);
	wait_ev(c, POLLIN, 2000);
	r = read_n(c, buf, 1);
	OUT("rst: linger-0 close; client read -> %s; then send -> %s\n",
	    r < 0 ? strerror((int)-r) : r == 0 ? "EOF" : "data",
	    send(c, "y", 1, MSG_NOSIGNAL) < 0 ? strerror(errno) : "ok");
	close(c);
}

/* ---- sendfile / splice ------------------------------------------------- */

static void sc_sendfile_splice(void)
{
	const size_t n = 1 << 20;
	char path[] = "/tmp/bypass_conform.XXXXXX", *buf = malloc(n), *in = malloc(2 * n);
	char h1[17], h2[17];
	off_t off = 0;
	int fd = mkstemp(path), c, s, p[2];
	long got, sent = 0;

	if (fd < 0 || pair(&c, &s, true, true) || pipe(p)) {
		OUT("sendfile_splice: setup failed\n");
		return;
	}
	unlink(path);
	fill(buf, n, 8);
	if (write(fd, buf, n) != (ssize_t)n)
		return;
	while ((size_t)off < n) {
		ssize_t w = sendfile(c, fd, &off, n - off);

		if (w < 0 && errno == EAGAIN) {
			wait_ev(c, POLLOUT, 2000);
			/* keep the reader going so the sender never stalls */
			got = recv(s, in + sent, 2 * n - sent, 0);
			if (got > 0)
				sent += got;
			continue;
		}
		if (w <= 0)
			break;
	}
	/* then splice: pipe -> socket */
	if (write(p[1], buf, 65536) == 65536)
		splice(p[0], NULL, c, NULL, 65536, SPLICE_F_MORE);
	shutdown(c, SHUT_WR);
	got = read_n(s, in + sent, 2 * n - sent);
	if (got > 0)
		sent += got;
	{
		char *exp = malloc(n + 65536);

		memcpy(exp, buf, n);
		memcpy(exp + n, buf, 65536);
		OUT("sendfile_splice: received %ld bytes %s (expected %zu %s)\n", sent, hex8(in, sent, h1),
		    n + 65536, hex8(exp, n + 65536, h2));
		free(exp);
	}
	close(fd);
	close(p[0]);
	close(p[1]);
	close(c);
	close(s);
	free(buf);
	free(in);
}

/* splice(2) socket -> pipe on the receiving side */
static void sc_splice_read(void)
{
	char buf[4096], h1[17], h2[17];
	int c, s, p[2];
	ssize_t k;
	long got = 0;

	if (pair(&c, &s, true, true) || pipe(p)) {
		OUT("splice_read: setup failed\n");
		return;
	}
	fill(buf, sizeof(buf), 12);
	write_all(c, buf, sizeof(buf), 0);
	shutdown(c, SHUT_WR);
	for (int i = 0; i < 50 && got < (long)sizeof(buf); i++) {
		wait_ev(s, POLLIN, 100);
		k = splice(s, NULL, p[1], NULL, sizeof(buf), SPLICE_F_NONBLOCK);
		if (k > 0)
			got += k;
		if (k == 0)
			break;
	}
	k = got > 0 ? read(p[0], buf, got) : 0;
	{
		char exp[4096];

		fill(exp, sizeof(exp), 12);
		OUT("splice_read: spliced %ld bytes %s (sent 4096 %s)\n", got, hex8(buf, k > 0 ? k : 0, h1),
		    hex8(exp, sizeof(exp), h2));
	}
	close(p[0]);
	close(p[1]);
	close(c);
	close(s);
}

/* ---- MSG_MORE / TCP_CORK, large and tiny writes ------------------------ */

static void sc_cork(void)
{
	char buf[3000], in[3000], h1[17], h2[17];
	int c, s, one = 1, zero = 0;
	long got;

	if (pair(&c, &s, true, true)) {
		OUT("msg_more_cork: setup failed\n");
		return;
	}
	fill(buf, sizeof(buf), 6);
	write_all(c, buf, 500, MSG_MORE);
	write_all(c, buf + 500, 500, 0);
	setsockopt(c, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	write_all(c, buf + 1000, 1000, 0);
	write_all(c, buf + 2000, 1000, 0);
	setsockopt(c, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero));
	got = read_n(s, in, sizeof(in));
	OUT("msg_more_cork: received %ld bytes %s (sent 3000 %s)\n", got, hex8(in, got, h1),
	    hex8(buf, sizeof(buf), h2));
	close(c);
	close(s);
}

struct bulk {
	int fd;
	char *buf;
	size_t n, chunk;
};

static void *bulk_write(void *arg)
{
	struct bulk *b = arg;

	for (size_t off = 0; off < b->n; off += b->chunk)
		write_all(b->fd, b->buf + off, b->chunk < b->n - off ? b->chunk : b->n - off, 0);
	shutdown(b->fd, SHUT_WR);
	return NULL;
}

static void sc_bulk(const char *name, size_t n, size_t chunk)
{
	char *buf = malloc(n), *in = malloc(n + 1), h1[17], h2[17];
	struct bulk b;
	pthread_t t;
	long got;
	int c, s;

	if (pair(&c, &s, true, true)) {
		OUT("%s: setup failed\n", name);
		return;
	}
	fill(buf, n, 13);
	b = (struct bulk){ .fd = c, .buf = buf, .n = n, .chunk = chunk };
	pthread_create(&t, NULL, bulk_write, &b);
	got = read_n(s, in, n + 1);
	pthread_join(t, NULL);
	OUT("%s: received %ld bytes %s (sent %zu %s)\n", name, got, hex8(in, got > 0 ? got : 0, h1), n,
	    hex8(buf, n, h2));
	close(c);
	close(s);
	free(buf);
	free(in);
}

static void sc_big_writes(void) { sc_bulk("big_writes", 8 << 20, 4 << 20); }
static void sc_tiny_writes(void) { sc_bulk("tiny_writes", 20000, 1); }

static const struct {
	const char *name;
	void (*fn)(void);
} scenarios[] = {
	{ "blocking_duplex", sc_blocking_duplex },
	{ "nonblocking_duplex", sc_nonblocking_duplex },
	{ "blocking_rr", sc_blocking_rr },
	{ "nonblocking_rr", sc_nonblocking_rr },
	{ "connect_nonblocking_then_blocking_rr", sc_hiredis_rr },
	{ "nonblocking_client_blocking_server_rr", sc_blocking_server_rr },
	{ "epoll_level", sc_epoll_level },
	{ "epoll_edge", sc_epoll_edge },
	{ "poll_select", sc_poll_select },
	{ "msg_peek", sc_msg_peek },
	{ "msg_waitall", sc_msg_waitall_blocking },
	{ "so_rcvtimeo", sc_rcvtimeo },
	{ "fionread", sc_fionread },
	{ "shutdown_wr", sc_shutdown_wr },
	{ "reconnect_unread", sc_reconnect_unread },
	{ "close_unread", sc_close_unread },
	{ "rst", sc_rst },
	{ "sendfile_splice", sc_sendfile_splice },
	{ "splice_read", sc_splice_read },
	{ "msg_more_cork", sc_cork },
	{ "big_writes", sc_big_writes },
	{ "tiny_writes", sc_tiny_writes },
};

int main(int argc, char **argv)
{
	int one = 1, c, ran = 0, rounds = 1;

	while ((c = getopt(argc, argv, "p:6lr:")) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case '6': v6 = 1; break;
		case 'l':
			for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
				printf("%s\n", scenarios[i].name);
			return 0;
		default:
			return 2;
		}
	}
	lfd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port),
					  .sin6_addr = IN6ADDR_LOOPBACK_INIT };

		if (bind(lfd, (struct sockaddr *)&a, sizeof(a)))
			return perror("bind"), 1;
	} else {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		if (bind(lfd, (struct sockaddr *)&a, sizeof(a)))
			return perror("bind"), 1;
	}
	listen(lfd, 16);
	signal(SIGPIPE, SIG_IGN);
	if (rounds < 1)
		return 2;
	for (int r = 0; r < rounds; r++)
		for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
			bool want = optind >= argc;

			for (int j = optind; j < argc; j++)
				want |= !strcmp(argv[j], scenarios[i].name);
			if (!want)
				continue;
			scenarios[i].fn();
			ran++;
		}
	return ran ? 0 : 2;
}
