// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_rr - request/response (ping-pong) latency over TCP or a Unix socket.
 *
 * Usage: bench_rr [-f tcp|tcp6|unix] [-a ADDR] [-p PORT] [-m SIZE] [-t SECONDS]
 *                 [-w SECONDS] [-N] [-C CPU] [-S CPU]
 *   -f  transport (default tcp: 127.0.0.1; tcp6: ::1; unix: abstract name)
 *   -a  address (TCP; default loopback)
 *   -p  TCP port to listen on (default: one the kernel picks)
 *   -m  request and response size (default 64; at least 8; K/M suffixes)
 *   -t  seconds to measure for (default 2)
 *   -w  warm-up seconds before measuring (default 0.2)
 *   -N  nonblocking sockets (from socket()/accept4() on) driven by epoll
 *       (default blocking)
 *   -C  pin the client to CPU;  -S  pin the server to CPU
 *
 * One connection, one request in flight, TCP_NODELAY on both ends (as
 * request/response servers set it).  The forked server echoes each request;
 * the first 8 bytes carry a sequence number both ends check, the rest a
 * pattern checked at every 4 KiB and at the end.  At the end the server
 * reports how many requests it answered and the client requires that this
 * equals what it sent.  Latency is the round trip as the client sees it.
 *
 * Output (one line; requests includes the warm-up, count only measured ones):
 *   rr <family> msg <bytes> mode <block|epoll> requests <N> count <N> seconds <S>
 *   rate <RT/s> avg_us <A> p50_us <P> p90_us <P> p99_us <P> p999_us <P>
 *   max_us <M>
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <sys/wait.h>

#include "bench_net.h"

struct report {
	uint64_t requests;
	int32_t ok;
	int32_t pad;
};

static void usage(void)
{
	fprintf(stderr, "usage: bench_rr [-f tcp|tcp6|unix] [-a ADDR] [-p PORT] [-m SIZE] [-t SECONDS] "
			"[-w SECONDS] [-N] [-C CPU] [-S CPU]\n");
	exit(2);
}

/* Stamp request seq into buf, whose other bytes hold the pattern. */
static void stamp(unsigned char *buf, uint64_t seq)
{
	memcpy(buf, &seq, sizeof(seq));
}

static bool check(const unsigned char *ref, const unsigned char *buf, size_t m, uint64_t seq)
{
	uint64_t got;

	memcpy(&got, buf, sizeof(got));
	return got == seq && bn_pattern_ok(ref + 8, buf + 8, m - 8, 0, false);
}

static int server(int lfd, const struct bn_endpoint *ep, size_t m, bool nonblock, int wr)
{
	unsigned char *buf = malloc(m), *ref = malloc(BN_PERIOD + m);
	struct report rep = { .ok = 1 };
	struct bn_poll poll, *p = NULL;
	int fd;

	if (!buf || !ref)
		bn_die("malloc");
	bn_pattern_fill(ref, BN_PERIOD + m);
	fd = bn_accept(lfd, nonblock);
	bn_nodelay(ep, fd);
	if (nonblock) {
		bn_poll_init(&poll, fd, EPOLLIN);
		p = &poll;
	}
	while (bn_recv_all(p, fd, buf, m)) {
		if (rep.ok && !check(ref, buf, m, rep.requests)) {
			fprintf(stderr, "bench_rr: server: request %llu is corrupted\n",
				(unsigned long long)rep.requests);
			rep.ok = 0;
		}
		bn_send_all(p, fd, buf, m);
		rep.requests++;
	}
	bn_pipe_write(wr, &rep, sizeof(rep));
	close(fd);
	free(buf);
	free(ref);
	return rep.ok ? 0 : 1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(const uint32_t *v, size_t n, double q)
{
	size_t i = (size_t)ceil(q * n);

	return v[i ? i - 1 : 0] / 1e3;
}

int main(int argc, char **argv)
{
	const char *kind = "tcp", *addr = NULL;
	int port = 0;
	double secs = 2, warm = 0.2, t0, tm = 0;
	bool nonblock = false, measuring = false;
	int c2p[2], lfd, fd, status, cpu_cl = -1, cpu_sv = -1;
	struct bn_poll poll, *p = NULL;
	struct bn_endpoint ep;
	struct report rep;
	unsigned char *req, *rsp, *ref;
	uint32_t *lat = NULL;
	size_t nlat = 0, cap = 0;
	uint64_t seq = 0, sum = 0;
	long m = 64;
	pid_t pid;
	int c_opt;

	while ((c_opt = getopt(argc, argv, "f:a:p:m:t:w:NC:S:h")) != -1) {
		switch (c_opt) {
		case 'f': kind = optarg; break;
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'm': m = bn_size(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'w': warm = atof(optarg); break;
		case 'N': nonblock = true; break;
		case 'C': cpu_cl = atoi(optarg); break;
		case 'S': cpu_sv = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind != argc || m < 8 || !(secs > 0 && secs <= 3600) || !(warm >= 0 && warm <= 60))
		usage();
	if (port < 0 || port > 65535 || bn_endpoint_init(&ep, kind, addr, port)) {
		errno = 0;
		bn_die("bad transport '%s' or address", kind);
	}
	signal(SIGPIPE, SIG_IGN);

	lfd = bn_listen(&ep);
	if (pipe2(c2p, O_CLOEXEC))
		bn_die("pipe");
	pid = fork();
	if (pid < 0)
		bn_die("fork");
	if (pid == 0) {
		close(c2p[0]);
		bn_pin(cpu_sv);
		_exit(server(lfd, &ep, m, nonblock, c2p[1]));
	}
	close(c2p[1]);
	close(lfd);
	bn_pin(cpu_cl);

	req = malloc(m);
	rsp = malloc(m);
	ref = malloc(BN_PERIOD + m);
	if (!req || !rsp || !ref)
		bn_die("malloc");
	bn_pattern_fill(ref, BN_PERIOD + m);
	memcpy(req + 8, ref + 8, m - 8);
	fd = bn_connect(&ep, nonblock);
	bn_nodelay(&ep, fd);
	if (nonblock) {
		bn_poll_init(&poll, fd, EPOLLIN);
		p = &poll;
	}

	t0 = bn_now();
	for (;;) {
		uint64_t a, b;

		stamp(req, seq);
		a = bn_now_ns();
		bn_send_all(p, fd, req, m);
		if (!bn_recv_all(p, fd, rsp, m)) {
			errno = 0;
			bn_die("server closed the connection after %llu requests",
			       (unsigned long long)seq);
		}
		b = bn_now_ns();
		if (!check(ref, rsp, m, seq)) {
			errno = 0;
			bn_die("response %llu is corrupted", (unsigned long long)seq);
		}
		seq++;
		if (measuring) {
			if (nlat == cap) {
				cap = cap ? cap * 2 : 1 << 16;
				lat = realloc(lat, cap * sizeof(*lat));
				if (!lat)
					bn_die("realloc");
			}
			lat[nlat++] = b - a > UINT32_MAX ? UINT32_MAX : (uint32_t)(b - a);
			sum += b - a;
			if (b / 1e9 - tm >= secs)
				break;
		} else if (b / 1e9 - t0 >= warm) {
			measuring = true;
			tm = b / 1e9;
		}
	}
	if (shutdown(fd, SHUT_WR))
		bn_die("shutdown");
	if (!bn_pipe_read(c2p[0], &rep, sizeof(rep))) {
		errno = 0;
		bn_die("server died without a report");
	}
	close(fd);
	if (waitpid(pid, &status, 0) < 0)
		bn_die("waitpid");
	if (!rep.ok || rep.requests != seq || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "bench_rr: FAILED: client sent %llu requests, server answered %llu%s\n",
			(unsigned long long)seq, (unsigned long long)rep.requests,
			rep.ok ? "" : ", some corrupted");
		return 1;
	}
	qsort(lat, nlat, sizeof(*lat), cmp_u32);
	printf("rr %s msg %ld mode %s requests %llu count %zu seconds %.3f rate %.0f avg_us %.2f "
	       "p50_us %.2f p90_us %.2f p99_us %.2f p999_us %.2f max_us %.2f\n",
	       kind, m, nonblock ? "epoll" : "block", (unsigned long long)seq, nlat, sum / 1e9,
	       nlat / (sum / 1e9),
	       sum / 1e3 / nlat, pct(lat, nlat, 0.5), pct(lat, nlat, 0.9), pct(lat, nlat, 0.99),
	       pct(lat, nlat, 0.999), lat[nlat - 1] / 1e3);
	free(lat);
	free(req);
	free(rsp);
	free(ref);
	return 0;
}
