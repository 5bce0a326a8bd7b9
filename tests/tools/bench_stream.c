// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_stream - one-way stream throughput over TCP or a Unix socket.
 *
 * Usage: bench_stream [-f tcp|tcp6|unix] [-a ADDR] [-p PORT] [-m SIZE] [-t SECONDS]
 *                     [-r SIZE] [-N] [-V] [-C CPU] [-S CPU]
 *   -f  transport (default tcp: 127.0.0.1; tcp6: ::1; unix: abstract name)
 *   -a  address to listen on and connect to (TCP; default loopback)
 *   -p  TCP port to listen on (default: one the kernel picks)
 *   -m  message size: the size of each send() (default 64K; K/M suffixes)
 *   -t  seconds to send for (default 2)
 *   -r  receive buffer size per recv() (default max(message size, 64K))
 *   -N  nonblocking sockets (from socket()/accept4() on) driven by epoll
 *       (default blocking)
 *   -V  verify every received byte (default: one byte per 4 KiB plus the
 *       first and last byte of every recv, and the exact byte count)
 *   -C  pin the sender to CPU;  -S  pin the receiver to CPU
 *
 * The process listens (on -p PORT or a port the kernel picks), forks the
 * receiver, connects, and sends messages of the given size for the given
 * time; then it shuts down its write side and tells the receiver how many
 * bytes it sent.  The
 * receiver checks the count and the pattern and reports back; any mismatch
 * is an error (exit 1).  Throughput is bytes / (first send .. receiver saw
 * EOF), so data still queued when the sender stops is counted in full.
 *
 * Output (one line):
 *   stream <family> msg <bytes> mode <block|epoll> bytes <N> msgs <N>
 *   seconds <S> MBps <MiB/s> Gbps <Gbit/s> verified <sampled|full>
 */
#include <getopt.h>
#include <signal.h>
#include <sys/wait.h>

#include "bench_net.h"

struct report {
	uint64_t bytes;
	uint64_t bad_at;	/* stream position of the first bad byte + 1, or 0 */
	int32_t ok;
	int32_t pad;
};

static void usage(void)
{
	fprintf(stderr, "usage: bench_stream [-f tcp|tcp6|unix] [-a ADDR] [-p PORT] [-m SIZE] [-t SECONDS] "
			"[-r SIZE] [-N] [-V] [-C CPU] [-S CPU]\n");
	exit(2);
}

static int receiver(int lfd, size_t rsize, bool nonblock, bool full, int rd, int wr)
{
	unsigned char *buf = malloc(rsize), *ref = malloc(BN_PERIOD + rsize);
	struct report rep = { 0 };
	struct bn_poll poll, *p = NULL;
	uint64_t expect;
	int fd;

	if (!buf || !ref)
		bn_die("malloc");
	bn_pattern_fill(ref, BN_PERIOD + rsize);
	fd = bn_accept(lfd, nonblock);
	if (nonblock) {
		bn_poll_init(&poll, fd, EPOLLIN);
		p = &poll;
	}
	for (;;) {
		ssize_t r = bn_recv(p, fd, buf, rsize);

		if (r == 0)
			break;
		if (!rep.bad_at && !bn_pattern_ok(ref, buf, r, rep.bytes, full))
			rep.bad_at = rep.bytes + 1;
		rep.bytes += r;
	}
	if (!bn_pipe_read(rd, &expect, sizeof(expect)))
		bn_die("sender vanished");
	rep.ok = rep.bytes == expect && !rep.bad_at;
	if (rep.bytes != expect)
		fprintf(stderr, "bench_stream: receiver: got %llu bytes, sender sent %llu\n",
			(unsigned long long)rep.bytes, (unsigned long long)expect);
	if (rep.bad_at)
		fprintf(stderr, "bench_stream: receiver: wrong data in the recv() at stream byte %llu\n",
			(unsigned long long)rep.bad_at - 1);
	bn_pipe_write(wr, &rep, sizeof(rep));
	close(fd);
	free(buf);
	free(ref);
	return rep.ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *kind = "tcp", *addr = NULL;
	int port = 0;
	long msg = 64 << 10, rsize = 0;
	double secs = 2, t0, t1;
	bool nonblock = false, full = false;
	int p2c[2], c2p[2], lfd, fd, c, status, cpu_tx = -1, cpu_rx = -1;
	struct bn_poll poll, *p = NULL;
	struct bn_endpoint ep;
	struct report rep;
	unsigned char *buf;
	uint64_t pos = 0, msgs = 0;
	pid_t pid;

	while ((c = getopt(argc, argv, "f:a:p:m:t:r:NVC:S:h")) != -1) {
		switch (c) {
		case 'f': kind = optarg; break;
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'm': msg = bn_size(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'r': rsize = bn_size(optarg); break;
		case 'N': nonblock = true; break;
		case 'V': full = true; break;
		case 'C': cpu_tx = atoi(optarg); break;
		case 'S': cpu_rx = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind != argc || msg <= 0 || rsize < 0 || !(secs > 0 && secs <= 3600))
		usage();
	if (!rsize)
		rsize = msg > 65536 ? msg : 65536;
	if (port < 0 || port > 65535 || bn_endpoint_init(&ep, kind, addr, port)) {
		errno = 0;
		bn_die("bad transport '%s' or address", kind);
	}
	signal(SIGPIPE, SIG_IGN);

	lfd = bn_listen(&ep);
	if (pipe2(p2c, O_CLOEXEC) || pipe2(c2p, O_CLOEXEC))
		bn_die("pipe");
	pid = fork();
	if (pid < 0)
		bn_die("fork");
	if (pid == 0) {
		close(p2c[1]);
		close(c2p[0]);
		bn_pin(cpu_rx);
		_exit(receiver(lfd, rsize, nonblock, full, p2c[0], c2p[1]));
	}
	close(p2c[0]);
	close(c2p[1]);
	close(lfd);
	bn_pin(cpu_tx);

	buf = malloc(BN_PERIOD + msg);
	if (!buf)
		bn_die("malloc");
	bn_pattern_fill(buf, BN_PERIOD + msg);
	fd = bn_connect(&ep, nonblock);
	if (nonblock) {
		bn_poll_init(&poll, fd, EPOLLOUT);
		p = &poll;
	}

	t0 = bn_now();
	do {
		bn_send_all(p, fd, buf + pos % BN_PERIOD, msg);
		pos += msg;
		msgs++;
	} while (bn_now() - t0 < secs);
	if (shutdown(fd, SHUT_WR))
		bn_die("shutdown");
	bn_pipe_write(p2c[1], &pos, sizeof(pos));
	if (!bn_pipe_read(c2p[0], &rep, sizeof(rep))) {
		errno = 0;
		bn_die("receiver died without a report");
	}
	t1 = bn_now();
	close(fd);
	if (waitpid(pid, &status, 0) < 0)
		bn_die("waitpid");
	if (!rep.ok || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "bench_stream: FAILED: sent %llu bytes, receiver got %llu%s\n",
			(unsigned long long)pos, (unsigned long long)rep.bytes,
			rep.bad_at ? " with corrupted data" : "");
		return 1;
	}
	printf("stream %s msg %ld mode %s bytes %llu msgs %llu seconds %.3f MBps %.1f Gbps %.3f verified %s\n",
	       kind, msg, nonblock ? "epoll" : "block", (unsigned long long)pos,
	       (unsigned long long)msgs, t1 - t0, pos / (t1 - t0) / (1 << 20),
	       pos * 8 / (t1 - t0) / 1e9, full ? "full" : "sampled");
	free(buf);
	return 0;
}
