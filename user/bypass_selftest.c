// SPDX-License-Identifier: GPL-2.0-only
/*
 * bypass_selftest: attach's built-in check of how the running kernel's
 * sockmap treats a socket's bytes, one probe per behaviour that differs
 * from plain TCP and that no BPF-side design can hide (docs/bypass.md,
 * "Kernel behaviours found").  Another behaviour is one more row in
 * bypass_probes[] and one more ACCEL_BYPASS_KB_* bit.
 *
 * Each probe builds what it needs from scratch in the current network
 * namespace (a loopback connection, a two-entry sockhash filled from
 * userspace with bpf_map_update_elem(), and for probes that need bytes on a
 * psock ingress queue the sk_msg program of bpf/bypass_probe.bpf.c) and
 * frees it all before returning: no pins, no cgroup, nothing left behind.
 * Waits are polls on the condition with a bound, not sleeps.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "accel_abi.h"
#include "bypass.h"
#include "bypass_probe.skel.h"
#include "util.h"

/* ---- a loopback connection in a scratch sockhash ----------------------- */

struct probe_conn {
	struct bypass_probe_bpf *skel;	/* redirecting probes only */
	int map_fd;
	int lfd;
	int tx;		/* connecting end: the sender */
	int rx;		/* accepted end: the receiver */
};

static void probe_conn_close(struct probe_conn *pc)
{
	/* Sockets first: they leave the sockhash as they close. */
	if (pc->rx >= 0)
		close(pc->rx);
	if (pc->tx >= 0)
		close(pc->tx);
	if (pc->lfd >= 0)
		close(pc->lfd);
	if (pc->skel)
		bypass_probe_bpf__destroy(pc->skel);
	else if (pc->map_fd >= 0)
		close(pc->map_fd);
	pc->rx = pc->tx = pc->lfd = pc->map_fd = -1;
	pc->skel = NULL;
}

static int fail(int err, char *detail, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(int err, char *detail, size_t len, const char *fmt, ...)
{
	va_list ap;
	size_t off;

	va_start(ap, fmt);
	vsnprintf(detail, len, fmt, ap);
	va_end(ap);
	off = strlen(detail);
	snprintf(detail + off, len - off, ": %s", strerror(-err));
	return err;
}

/*
 * A loopback TCP connection whose receiver sits in a scratch sockhash.
 * redirect: also the sender, with probe_sk_msg on the map, so that every
 * send lands on the receiver's psock ingress queue as the bypass's do;
 * otherwise a bare sockhash without programs (the receiver only reads
 * through tcp_bpf).  control: no sockhash at all, plain TCP (what every
 * probe must report "ok" on).  0 or -errno with detail set.
 */
static int probe_conn_open(struct probe_conn *pc, bool redirect, bool control, char *detail, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t salen = sizeof(sa);
	__u32 key, fd;
	int err;

	*pc = (struct probe_conn){ .map_fd = -1, .lfd = -1, .tx = -1, .rx = -1 };
	if (control) {
		/* plain TCP */
	} else if (redirect) {
		pc->skel = bypass_probe_bpf__open_and_load();
		if (!pc->skel)
			return fail(-errno, detail, len, "cannot load the probe's sk_msg program");
		pc->map_fd = bpf_map__fd(pc->skel->maps.probe_socks);
		if (bpf_prog_attach(bpf_program__fd(pc->skel->progs.probe_sk_msg), pc->map_fd,
				    BPF_SK_MSG_VERDICT, 0)) {
			err = fail(-errno, detail, len, "cannot attach sk_msg to the probe's sockhash");
			goto cleanup;
		}
	} else {
		pc->map_fd = bpf_map_create(BPF_MAP_TYPE_SOCKHASH, "accel_selftest", sizeof(key), sizeof(fd), 2,
					    NULL);
		if (pc->map_fd < 0)
			return fail(-errno, detail, len, "cannot create a sockhash");
	}
	pc->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pc->tx = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (pc->lfd < 0 || pc->tx < 0 || bind(pc->lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(pc->lfd, 1) || getsockname(pc->lfd, (struct sockaddr *)&sa, &salen) ||
	    connect(pc->tx, (struct sockaddr *)&sa, sizeof(sa))) {
		err = fail(-errno, detail, len, "cannot open a loopback connection (is lo up?)");
		goto cleanup;
	}
	pc->rx = accept4(pc->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (pc->rx < 0) {
		err = fail(-errno, detail, len, "accept");
		goto cleanup;
	}
	if (control)
		return 0;
	key = ACCEL_BYPASS_PROBE_RX;
	fd = (__u32)pc->rx;
	if (bpf_map_update_elem(pc->map_fd, &key, &fd, BPF_ANY)) {
		err = fail(-errno, detail, len, "cannot put a socket into a sockhash");
		goto cleanup;
	}
	key = ACCEL_BYPASS_PROBE_TX;
	fd = (__u32)pc->tx;
	if (redirect && bpf_map_update_elem(pc->map_fd, &key, &fd, BPF_ANY)) {
		err = fail(-errno, detail, len, "cannot put a socket into a sockhash");
		goto cleanup;
	}
	return 0;
cleanup:
	probe_conn_close(pc);
	return err;
}

/* Send n bytes from the sender and make sure all of them took the redirect
 * and reached the receiver (which has not read them). */
static int probe_conn_redirect(struct probe_conn *pc, const char *buf, size_t n, char *detail, size_t len)
{
	struct pollfd p = { .fd = pc->rx, .events = POLLIN };
	ssize_t w = send(pc->tx, buf, n, MSG_NOSIGNAL);
	__u64 redirected;

	if (w != (ssize_t)n)
		return fail(w < 0 ? -errno : -EIO, detail, len, "send on the probe connection");
	if (!pc->skel)
		goto arrived;	/* control: over the stack */
	redirected = __atomic_load_n(&pc->skel->bss->redirected_bytes, __ATOMIC_ACQUIRE);
	if (redirected != n) {
		snprintf(detail, len, "the probe's sk_msg program redirected %llu of %zu bytes",
			 (unsigned long long)redirected, n);
		return -EPROTO;
	}
arrived:
	if (poll(&p, 1, 1000) != 1)
		return fail(-ETIMEDOUT, detail, len, "the redirected bytes did not reach the receiver");
	return 0;
}

/* ---- blocking_eagain --------------------------------------------------- */

struct blocked_reader {
	int fd;
	pid_t tid;
	ssize_t ret;
	int err;
	double secs;
	int done;
};

static void *blocked_read(void *arg)
{
	struct blocked_reader *r = arg;
	char c;
	double t0;

	__atomic_store_n(&r->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	t0 = mono_now();
	r->ret = recv(r->fd, &c, 1, 0);
	r->err = errno;
	r->secs = mono_now() - t0;
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Is thread tid asleep ('S' in /proc/self/task/TID/stat)? */
static bool thread_sleeping(pid_t tid)
{
	char path[64], buf[256], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return false;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

static bool reader_done(struct blocked_reader *r, int ms)
{
	for (int i = 0; i < ms && !__atomic_load_n(&r->done, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	return __atomic_load_n(&r->done, __ATOMIC_ACQUIRE);
}

/*
 * Put an accepted socket into a sockhash (no programs: only its proto
 * changes to tcp_bpf), block a thread in recv() on it, wake it without
 * data, then send one byte from the peer over the normal stack.  A correct
 * kernel hands the reader the byte; an affected one returns -EAGAIN from
 * tcp_bpf_recvmsg() because the psock queue is empty.
 */
int bypass_probe_blocking_eagain(bool control, char *detail, size_t len)
{
	struct blocked_reader r = { .fd = -1 };
	struct timeval tv = { .tv_sec = 3 };
	struct probe_conn pc;
	bool started = false;
	pthread_t th;
	int err, val;

	err = probe_conn_open(&pc, false, control, detail, len);
	if (err)
		return err;
	r.fd = pc.rx;
	if (setsockopt(r.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		err = fail(-errno, detail, len, "setsockopt(SO_RCVTIMEO)");
		goto cleanup;
	}
	err = -pthread_create(&th, NULL, blocked_read, &r);
	if (err) {
		fail(err, detail, len, "pthread_create");
		goto cleanup;
	}
	started = true;
	/* Wait (up to 2 s) until the reader sleeps inside recv(): 'S' is set
	 * by wait_woken() after the reader joined the socket's wait queue. */
	for (int i = 0; i < 2000; i++) {
		pid_t tid = __atomic_load_n(&r.tid, __ATOMIC_ACQUIRE);

		if (tid && thread_sleeping(tid))
			break;
		usleep(1000);
	}
	if (__atomic_load_n(&r.done, __ATOMIC_ACQUIRE)) {
		pthread_join(th, NULL);
		started = false;
		snprintf(detail, len, "a blocking recv() on a sockhash socket returned %zd (%s) before any "
			 "wakeup, after %.1f ms", r.ret, r.ret < 0 ? strerror(r.err) : "data", r.secs * 1000);
		err = 1;
		goto cleanup;
	}
	/* A wakeup that brings no data: SO_SNDBUF calls sk_write_space(),
	 * which wakes everything sleeping on the socket (what a writer thread
	 * on the same socket causes all the time in a full-duplex program). */
	val = 1 << 20;
	if (setsockopt(r.fd, SOL_SOCKET, SO_SNDBUF, &val, sizeof(val))) {
		err = fail(-errno, detail, len, "setsockopt(SO_SNDBUF)");
		goto cleanup;
	}
	/* An affected reader returns within microseconds; a correct one
	 * sleeps on, and the byte wakes it. */
	if (!reader_done(&r, 200) && send(pc.tx, "x", 1, MSG_NOSIGNAL) != 1) {
		err = fail(-errno, detail, len, "send");
		goto cleanup;
	}
	pthread_join(th, NULL);
	started = false;
	if (r.ret == 1) {
		snprintf(detail, len, "a blocking reader of a sockhash socket slept through a wakeup without data "
			 "and got the byte");
		err = 0;
	} else if (r.ret < 0 && (r.err == EAGAIN || r.err == EWOULDBLOCK) && r.secs < 2.5) {
		snprintf(detail, len, "a blocking recv() on a sockhash socket returned EAGAIN after %.1f ms, "
			 "on a wakeup that brought no data (tcp_bpf_recvmsg)", r.secs * 1000);
		err = 1;
	} else {
		snprintf(detail, len, "a blocking recv() on a sockhash socket returned %zd (%s) after %.0f ms",
			 r.ret, r.ret < 0 ? strerror(r.err) : "unexpected", r.secs * 1000);
		err = 1;	/* anything but the byte breaks a blocking reader */
	}
cleanup:
	if (started) {
		shutdown(r.fd, SHUT_RDWR);	/* wakes the reader */
		pthread_join(th, NULL);
	}
	probe_conn_close(&pc);
	return err;
}

/* ---- close_unread_fin -------------------------------------------------- */

#define CLOSE_UNREAD_BYTES 2000

/*
 * Redirect bytes to the receiver, close it without reading them, and see
 * what its peer reads.  TCP answers unread data at close with a RST
 * (ECONNRESET); an affected kernel purges the psock queue in
 * sock_map_close() before tcp_close() looks at sk_receive_queue, which is
 * empty, so the peer gets a FIN and reads EOF.
 */
int bypass_probe_close_unread_fin(bool control, char *detail, size_t len)
{
	char buf[CLOSE_UNREAD_BYTES] = { 0 };
	struct pollfd p;
	struct probe_conn pc;
	ssize_t r;
	int err;

	err = probe_conn_open(&pc, true, control, detail, len);
	if (err)
		return err;
	err = probe_conn_redirect(&pc, buf, sizeof(buf), detail, len);
	if (err)
		goto cleanup;
	close(pc.rx);	/* CLOSE_UNREAD_BYTES never read */
	pc.rx = -1;
	p = (struct pollfd){ .fd = pc.tx, .events = POLLIN | POLLRDHUP };
	if (poll(&p, 1, 1000) != 1) {
		err = fail(-ETIMEDOUT, detail, len, "no FIN or RST within 1 s after the receiver closed");
		goto cleanup;
	}
	r = recv(pc.tx, buf, 1, MSG_DONTWAIT);
	if (r < 0 && errno == ECONNRESET) {
		snprintf(detail, len, "closing a socket with %d unread bypassed bytes sent a RST: its peer read "
			 "ECONNRESET, as on TCP", CLOSE_UNREAD_BYTES);
		err = 0;
	} else if (r == 0) {
		snprintf(detail, len, "closing a socket with %d unread bypassed bytes sent a FIN, not a RST: its "
			 "peer read EOF (sock_map_close() purged them before tcp_close() looked)",
			 CLOSE_UNREAD_BYTES);
		err = 1;
	} else {
		err = r < 0 ? fail(-errno, detail, len, "the peer's recv() after the close")
			    : fail(-EPROTO, detail, len, "the peer read data after the close");
	}
cleanup:
	probe_conn_close(&pc);
	return err;
}

/* ---- splice_misses ----------------------------------------------------- */

#define SPLICE_BYTES 4096

/*
 * Redirect bytes to a nonblocking receiver and splice() them into a pipe.
 * TCP moves them; an affected kernel's tcp_splice_read() reads
 * sk_receive_queue only and answers EAGAIN, while recv() returns them.
 */
int bypass_probe_splice_misses(bool control, char *detail, size_t len)
{
	char buf[SPLICE_BYTES], in[SPLICE_BYTES];
	struct probe_conn pc;
	int err, pfd[2] = { -1, -1 };
	ssize_t k, r;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 1);
	err = probe_conn_open(&pc, true, control, detail, len);
	if (err)
		return err;
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) || fcntl(pc.rx, F_SETFL, O_NONBLOCK)) {
		err = fail(-errno, detail, len, "pipe2 / O_NONBLOCK");
		goto cleanup;
	}
	err = probe_conn_redirect(&pc, buf, sizeof(buf), detail, len);
	if (err)
		goto cleanup;
	k = splice(pc.rx, NULL, pfd[1], NULL, sizeof(buf), SPLICE_F_NONBLOCK);
	if (k > 0) {
		r = read(pfd[0], in, sizeof(in));
		if (r != k || memcmp(in, buf, (size_t)k)) {
			err = fail(-EPROTO, detail, len, "splice() moved %zd bytes that differ from those sent", k);
			goto cleanup;
		}
		snprintf(detail, len, "splice() from a socket moved %zd of %d bypassed bytes, as on TCP", k,
			 SPLICE_BYTES);
		err = 0;
		goto cleanup;
	}
	if (k < 0 && errno != EAGAIN) {
		err = fail(-errno, detail, len, "splice() from the probe socket");
		goto cleanup;
	}
	r = recv(pc.rx, in, sizeof(in), MSG_DONTWAIT);
	if (r != SPLICE_BYTES || memcmp(in, buf, sizeof(in))) {
		err = fail(r < 0 ? -errno : -EPROTO, detail, len,
			   "splice() returned %zd and recv() %zd of %d redirected bytes", k, r, SPLICE_BYTES);
		goto cleanup;
	}
	snprintf(detail, len, "splice() from a socket returned %s while recv() returned the %d bypassed bytes "
		 "(tcp_splice_read() reads sk_receive_queue only)", k < 0 ? "EAGAIN" : "EOF", SPLICE_BYTES);
	err = 1;
cleanup:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	probe_conn_close(&pc);
	return err;
}

/* ---- the table and its results ----------------------------------------- */

const struct bypass_probe bypass_probes[ACCEL_BYPASS_KB_COUNT] = {
	[ACCEL_BYPASS_KB_BLOCKING_EAGAIN] = {
		.name = "blocking_eagain",
		.checks = "a blocking recv() on a sockhash socket woken without data keeps waiting",
		.consequence = "breaks blocking readers: recv() returns EAGAIN after a wakeup without data "
			       "(a thread writing on the same socket is enough)",
		.run = bypass_probe_blocking_eagain,
	},
	[ACCEL_BYPASS_KB_CLOSE_UNREAD_FIN] = {
		.name = "close_unread_fin",
		.checks = "closing a socket with unread bypassed bytes resets the connection (RST)",
		.consequence = "close() with unread bypassed bytes sends FIN, not RST: the peer reads EOF, "
			       "not ECONNRESET",
		.run = bypass_probe_close_unread_fin,
		.event_ports_accept = true,
	},
	[ACCEL_BYPASS_KB_SPLICE_MISSES] = {
		.name = "splice_misses",
		.checks = "splice() from a socket returns bytes that arrived over the bypass",
		.consequence = "splice() from a socket does not see bypassed bytes: splice-reading proxies stall",
		.run = bypass_probe_splice_misses,
		.event_ports_accept = true,
	},
};

const char *bypass_verdict_name(enum bypass_verdict v)
{
	switch (v) {
	case BYPASS_PROBE_OK: return "ok";
	case BYPASS_PROBE_AFFECTED: return "affected";
	default: return "could-not-run";
	}
}

void bypass_selftest_tally(struct bypass_selftest *st)
{
	st->affected = st->unchecked = 0;
	for (int i = 0; i < ACCEL_BYPASS_KB_COUNT; i++) {
		if (st->r[i].verdict == BYPASS_PROBE_AFFECTED)
			st->affected |= 1u << i;
		else if (st->r[i].verdict != BYPASS_PROBE_OK)
			st->unchecked |= 1u << i;
	}
}

void bypass_selftest_run(struct bypass_selftest *st)
{
	double t0 = mono_now();

	memset(st, 0, sizeof(*st));
	for (int i = 0; i < ACCEL_BYPASS_KB_COUNT; i++) {
		struct bypass_probe_result *r = &st->r[i];
		double t = mono_now();
		int ret = bypass_probes[i].run(false, r->detail, sizeof(r->detail));

		r->ms = (mono_now() - t) * 1000;
		r->err = ret < 0 ? ret : 0;
		r->verdict = ret < 0 ? BYPASS_PROBE_FAILED : ret ? BYPASS_PROBE_AFFECTED : BYPASS_PROBE_OK;
	}
	st->ms = (mono_now() - t0) * 1000;
	bypass_selftest_tally(st);
}

const char *bypass_kb_names(uint32_t mask, char *buf, size_t len)
{
	size_t off = 0;
	bool any = false;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (int i = 0; i < ACCEL_BYPASS_KB_COUNT; i++) {
		if (!(mask & (1u << i)))
			continue;
		str_appendf(buf, len, &off, "%s%s", any ? ", " : "", bypass_probes[i].name);
		any = true;
	}
	if (!any)
		snprintf(buf, len, "none");
	return buf;
}

const char *bypass_selftest_line(const struct bypass_selftest *st, int i, char *buf, size_t len)
{
	snprintf(buf, len, "%s: %s: %s", bypass_probes[i].name, bypass_verdict_name(st->r[i].verdict),
		 st->r[i].detail);
	return buf;
}

size_t bypass_selftest_explain(const struct bypass_selftest *st, bool event_ports, unsigned int learn_conns,
			       char *buf, size_t len)
{
	uint32_t restrict_mask = st->affected | st->unchecked, accepted = 0;
	char names[256];
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	if (!restrict_mask)
		return 0;
	str_appendf(buf, len, &off, "bypass: the kernel self-test found sockmap behaviours that differ from TCP "
	    "(docs/bypass.md):\n");
	for (int i = 0; i < ACCEL_BYPASS_KB_COUNT; i++) {
		const struct bypass_probe *p = &bypass_probes[i];

		if (st->affected & (1u << i))
			str_appendf(buf, len, &off, "bypass:   %s: %s\n", p->name, p->consequence);
		else if (st->unchecked & (1u << i))
			str_appendf(buf, len, &off, "bypass:   %s: could not run (%s); assumed affected: %s\n", p->name,
			    st->r[i].detail, p->consequence);
		if ((restrict_mask & (1u << i)) && p->event_ports_accept)
			accepted |= 1u << i;
	}
	if (learn_conns) {
		str_appendf(buf, len, &off, "bypass: learning: connections to a listening port stay on the stack until %u of them\n"
		    "bypass: have been read to the end only nonblocking, by recvmsg; then the port's new connections\n"
		    "bypass: from nonblocking clients are accelerated (`accelctl status` lists the ports).\n",
		    learn_conns);
		if (event_ports)
			str_appendf(buf, len, &off, "bypass: --event-ports are accelerated without learning.\n");
	} else {
		str_appendf(buf, len, &off, "bypass: only connections to --event-ports (servers with nonblocking sockets) from\n"
		    "bypass: nonblocking clients are accelerated.\n");
	}
	if (accepted)
		str_appendf(buf, len, &off, "bypass: an event-driven port (learned or --event-ports) accepts %s for its connections:\n"
		    "bypass: keep servers that rely on them (RST on unread requests) off --event-ports, --exclude-ports them.\n",
		    bypass_kb_names(accepted, names, sizeof(names)));
	if (!event_ports && !learn_conns)
		str_appendf(buf, len, &off, "bypass: no --event-ports given and --learn off: the bypass is attached but accelerates nothing.\n");
	return off;
}
