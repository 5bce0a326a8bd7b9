// SPDX-License-Identifier: GPL-2.0-only
/*
 * bypass_stream - TCP integrity and throughput over loopback, for the
 * bypass tests and benchmarks.
 *
 * Verify mode (default): N connections, P at a time.  On every connection
 * both ends send a random amount (log-uniform in [-s, -S] bytes) of
 * pseudo-random data in random-sized writes, while a second thread on the
 * same socket reads it in random-sized reads: four threads per connection
 * (reader + writer on each socket).  Each direction's SHA-256 is computed
 * by the writer over what it wrote and by the reader over what it read;
 * any difference is a failure.
 *
 *   bypass_stream [-6|-M] [-p PORT] [-n N] [-P PAR] [-s MIN] [-S MAX]
 *                 [-r SEED] [-B] [-L SECONDS] [-U] [-H FILE] [-v]
 *   -6  IPv6 (::1)   -M  v4-mapped: AF_INET6 client to an AF_INET server
 *   -p  first listening port; worker i listens on PORT+i (default 47000)
 *   -B  blocking sockets (default: nonblocking + poll)
 *   -L  each connection streams for SECONDS instead of a random size
 *   -U  each connection streams until SIGUSR1 instead of a random size
 *       (needs -n <= -P: every connection runs at once)
 *   -H  hold on SIGUSR2: the readers stop reading (the writers go on until
 *       their peers' queues are full); FILE is created once every reader
 *       holds and at least one direction has bytes sent but not read.
 *       SIGUSR1 lets them read again.  A test freezes a stream mid-way
 *       with this, on a state and not on a clock.
 *   -c  chunk limit for random reads/writes (default 262144)
 *   -u  one direction only (client -> server; the server sends nothing)
 *   -C  client source port (to build identical 4-tuples in two netns)
 *   Prints: "connections N bytes B seconds S mismatches M errors E"
 *
 * Throughput mode: -m MSGSIZE -t SECONDS: one connection, client writes
 * MSGSIZE-byte messages for SECONDS, server reads; prints
 *   "msgsize M bytes B seconds S MBps R"
 *
 * Request/response mode: -R MSGSIZE -t SECONDS: one connection, the
 * client sends MSGSIZE bytes, the server (another process) answers with
 * MSGSIZE bytes, repeat; prints
 *   "rr_msgsize M transactions N seconds S p50_us A p99_us B"
 *
 * Sockets are nonblocking (poll on EAGAIN) unless -B, so the same code
 * runs with and without the bypass.  Exit 0 when every byte arrived
 * intact, 1 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"
#include "rnd.h"

enum fam { FAM_4, FAM_6, FAM_MAPPED };

static enum fam fam = FAM_4;
static int base_port = 47000, nconns = 100, par = 4, verbose;
static long min_size = 1, max_size = 2 << 20, chunk_max = 256 << 10;
static unsigned long long seed = 1;
static bool blocking, unidir;
static int src_port;
static double stream_secs;
static bool until_usr1;
static const char *hold_file;
static atomic_bool stop_writing, holding, hold_said;
static atomic_int readers_live, readers_held, held_loaded;
static atomic_int next_conn;
static atomic_llong total_bytes;
static atomic_int mismatches, errors;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void warnx_(const char *what, int conn)
{
	fprintf(stderr, "bypass_stream: conn %d: %s: %s\n", conn, what, strerror(errno));
	atomic_fetch_add(&errors, 1);
}

/* SIGUSR1: end the -U streams and let held readers read again. */
static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(&stop_writing, true);
	atomic_store(&holding, false);
}

/* SIGUSR2 (with -H): the readers hold. */
static void on_usr2(int sig)
{
	(void)sig;
	atomic_store(&holding, true);
}

/* Ready within 30 s, or -1.  With -H in slices: a reader waiting for
 * bytes returns to hold, and while the readers hold a writer's wait for
 * room does not count (its peer stays full on purpose). */
static int wait_fd(int fd, short ev)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int slice = hold_file ? 100 : 30000, waited = 0;

	while (waited < 30000) {
		int r = poll(&p, 1, slice);

		if (r == 1)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (atomic_load(&holding)) {
			if (ev & POLLIN)
				return 0;
			continue;
		}
		if (!r)
			waited += slice;
	}
	return -1;
}

static int listen_on(int port)
{
	int one = 1, fd;

	if (fam == FAM_6) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port),
					  .sin6_addr = IN6ADDR_LOOPBACK_INIT };

		fd = socket(AF_INET6, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
			return -1;
	} else {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
			return -1;
	}
	return listen(fd, 128) ? -1 : fd;
}

static int bind_src(int fd)
{
	int one = 1;

	if (!src_port)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fam == FAM_4) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(src_port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		return bind(fd, (struct sockaddr *)&a, sizeof(a));
	} else {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(src_port) };

		return bind(fd, (struct sockaddr *)&a, sizeof(a));
	}
}

static int connect_to(int port)
{
	int fd;

	if (fam == FAM_4) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		fd = socket(AF_INET, SOCK_STREAM | (blocking ? 0 : SOCK_NONBLOCK), 0);
		if (bind_src(fd))
			goto fail;
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS)
			goto fail;
	} else {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port),
					  .sin6_addr = IN6ADDR_LOOPBACK_INIT };

		if (fam == FAM_MAPPED)
			inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.sin6_addr);
		fd = socket(AF_INET6, SOCK_STREAM | (blocking ? 0 : SOCK_NONBLOCK), 0);
		if (bind_src(fd))
			goto fail;
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS)
			goto fail;
	}
	if (!blocking) {
		int e = 0;
		socklen_t l = sizeof(e);

		if (wait_fd(fd, POLLOUT) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) || e)
			goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

struct half {
	int fd, conn, dir;
	uint64_t rng;
	long size;		/* bytes to write (verify mode) */
	uint8_t digest[32];
	long long bytes;
	atomic_llong sent;	/* writer: bytes send() took so far */
	struct half *peer;	/* reader: the writer of its direction */
	int err;
};

static void *writer(void *arg)
{
	struct half *h = arg;
	uint64_t data_rng = h->rng ^ 0x5bd1e995ULL, chunk_rng = h->rng * 31 + 7;
	uint8_t *buf = malloc(chunk_max + 8);
	struct sha256 s;
	double end = stream_secs && h->size ? now() + stream_secs : 0;
	bool until = until_usr1 && h->size;
	long left = h->size;

	sha256_init(&s);
	while (until ? !atomic_load(&stop_writing) : end ? now() < end : left > 0) {
		long n = rnd_size(&chunk_rng, 1, chunk_max), off = 0;

		if (!until && !end && n > left)
			n = left;
		for (long i = 0; i < n; i += 8) {
			uint64_t v = rnd(&data_rng);

			memcpy(buf + i, &v, 8);
		}
		while (off < n) {
			ssize_t w = send(h->fd, buf + off, n - off, MSG_NOSIGNAL);

			if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
				if (errno == EAGAIN && wait_fd(h->fd, POLLOUT))
					goto fail;
				continue;
			}
			if (w <= 0)
				goto fail;
			off += w;
			atomic_fetch_add(&h->sent, w);
		}
		sha256_update(&s, buf, n);
		h->bytes += n;
		left -= n;
	}
	if (shutdown(h->fd, SHUT_WR))
		goto fail;
	sha256_final(&s, h->digest);
	free(buf);
	return NULL;
fail:
	warnx_("write", h->conn);
	h->err = 1;
	free(buf);
	return NULL;
}

/* -H: a reader holds (reads nothing) while the process is told to; the
 * first one to see every reader holding with bytes in flight says so. */
static void hold(struct half *h)
{
	bool loaded = false;

	atomic_fetch_add(&readers_held, 1);
	while (atomic_load(&holding)) {
		if (!loaded && atomic_load(&h->peer->sent) > h->bytes) {
			loaded = true;
			atomic_fetch_add(&held_loaded, 1);
		}
		if (atomic_load(&readers_held) == atomic_load(&readers_live) &&
		    atomic_load(&held_loaded) > 0 && !atomic_exchange(&hold_said, true)) {
			FILE *f = fopen(hold_file, "w");

			if (f) {
				fprintf(f, "held readers %d with bytes in flight %d\n",
					atomic_load(&readers_held), atomic_load(&held_loaded));
				fclose(f);
			}
		}
		usleep(10000);
	}
	if (loaded)
		atomic_fetch_sub(&held_loaded, 1);
	atomic_fetch_sub(&readers_held, 1);
}

static void *reader(void *arg)
{
	struct half *h = arg;
	uint64_t chunk_rng = h->rng * 17 + 3;
	uint8_t *buf = malloc(chunk_max);
	struct sha256 s;

	sha256_init(&s);
	for (;;) {
		long n = rnd_size(&chunk_rng, 1, chunk_max);
		ssize_t r;

		if (atomic_load(&holding))
			hold(h);
		r = recv(h->fd, buf, n, 0);

		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (!blocking && errno == EAGAIN) {
				if (wait_fd(h->fd, POLLIN))
					goto fail;
				continue;
			}
			if (blocking && errno == EAGAIN) {
				/* a blocking socket must never say EAGAIN */
				errno = EAGAIN;
				goto fail;
			}
			continue;
		}
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		sha256_update(&s, buf, r);
		h->bytes += r;
	}
	sha256_final(&s, h->digest);
	free(buf);
	atomic_fetch_sub(&readers_live, 1);
	return NULL;
fail:
	warnx_("read", h->conn);
	h->err = 1;
	free(buf);
	atomic_fetch_sub(&readers_live, 1);
	return NULL;
}

static void run_conn(int lfd, int port, int conn)
{
	uint64_t rng = seed * 0x9E3779B97F4A7C15ULL + (uint64_t)conn * 0xD1B54A32D192ED03ULL + 1;
	struct half w[2] = { 0 }, r[2] = { 0 };
	pthread_t tw[2], tr[2];
	int c, s;

	c = connect_to(port);
	if (c < 0) {
		warnx_("connect", conn);
		return;
	}
	s = accept4(lfd, NULL, NULL, blocking ? 0 : SOCK_NONBLOCK);
	if (s < 0) {
		warnx_("accept", conn);
		close(c);
		return;
	}
	for (int d = 0; d < 2; d++) {
		rnd(&rng);
		w[d] = (struct half){ .fd = d ? s : c, .conn = conn, .dir = d, .rng = rng,
				      .size = rnd_size(&rng, min_size, max_size) };
		if (d && unidir)
			w[d].size = 0;
		r[d] = (struct half){ .fd = d ? c : s, .conn = conn, .dir = d, .rng = rng ^ 0xabcdef,
				      .peer = &w[d] };
	}
	for (int d = 0; d < 2; d++) {
		atomic_fetch_add(&readers_live, 1);
		pthread_create(&tr[d], NULL, reader, &r[d]);
		pthread_create(&tw[d], NULL, writer, &w[d]);
	}
	for (int d = 0; d < 2; d++) {
		pthread_join(tw[d], NULL);
		pthread_join(tr[d], NULL);
		if (w[d].err || r[d].err)
			continue;
		if (w[d].bytes != r[d].bytes || memcmp(w[d].digest, r[d].digest, 32)) {
			char a[65], b[65];

			sha256_hex(w[d].digest, a);
			sha256_hex(r[d].digest, b);
			fprintf(stderr, "bypass_stream: conn %d dir %d: wrote %lld bytes sha256 %s, read %lld bytes sha256 %s\n",
				conn, d, w[d].bytes, a, r[d].bytes, b);
			atomic_fetch_add(&mismatches, 1);
		} else if (verbose) {
			char a[65];

			sha256_hex(w[d].digest, a);
			printf("conn %d dir %d bytes %lld sha256 %s\n", conn, d, w[d].bytes, a);
		}
		atomic_fetch_add(&total_bytes, w[d].bytes);
	}
	close(c);
	close(s);
}

static void *worker(void *arg)
{
	int port = base_port + (int)(long)arg, lfd = listen_on(port), conn;

	if (lfd < 0) {
		fprintf(stderr, "bypass_stream: listen on port %d: %s\n", port, strerror(errno));
		atomic_fetch_add(&errors, 1);
		return NULL;
	}
	while ((conn = atomic_fetch_add(&next_conn, 1)) < nconns)
		run_conn(lfd, port, conn);
	close(lfd);
	return NULL;
}

/* Throughput: one connection, client writes msgsize messages for secs. */
static int throughput(long msgsize, double secs)
{
	int lfd = listen_on(base_port), c, s;
	long long bytes = 0;
	double t0, t;
	char *buf;
	size_t rbuf = 256 << 10;
	pid_t pid;
	int pfd[2];

	if (lfd < 0 || pipe(pfd)) {
		perror("listen");
		return 1;
	}
	c = connect_to(base_port);
	s = accept4(lfd, NULL, NULL, blocking ? 0 : SOCK_NONBLOCK);
	if (c < 0 || s < 0) {
		perror("connect/accept");
		return 1;
	}
	buf = calloc(1, rbuf > (size_t)msgsize ? rbuf : (size_t)msgsize);
	pid = fork();
	if (pid == 0) {	/* writer process: its own CPU, like a real client */
		double end = now() + secs;

		close(s);
		while (now() < end) {
			for (int i = 0; i < 64; i++) {
				long off = 0;

				while (off < msgsize) {
					ssize_t w = send(c, buf + off, msgsize - off, MSG_NOSIGNAL);

					if (w < 0 && errno == EAGAIN) {
						wait_fd(c, POLLOUT);
						continue;
					}
					if (w <= 0)
						_exit(1);
					off += w;
				}
			}
		}
		shutdown(c, SHUT_WR);
		_exit(0);
	}
	close(c);
	t0 = now();
	for (;;) {
		ssize_t r = recv(s, buf, rbuf, 0);

		if (r < 0 && errno == EAGAIN) {
			wait_fd(s, POLLIN);
			continue;
		}
		if (r <= 0)
			break;
		bytes += r;
	}
	t = now() - t0;
	printf("msgsize %ld bytes %lld seconds %.3f MBps %.1f\n", msgsize, bytes, t, bytes / t / 1e6);
	close(s);
	close(lfd);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int io_full(int fd, char *buf, long n, bool wr)
{
	long off = 0;

	while (off < n) {
		ssize_t k = wr ? send(fd, buf + off, n - off, MSG_NOSIGNAL) : recv(fd, buf + off, n - off, 0);

		if (k < 0 && errno == EAGAIN) {
			wait_fd(fd, wr ? POLLOUT : POLLIN);
			continue;
		}
		if (k <= 0)
			return -1;
		off += k;
	}
	return 0;
}

/* Request/response latency: one connection, server in a child process. */
static int request_response(long msgsize, double secs)
{
	int lfd = listen_on(base_port), c, s;
	size_t cap = 1 << 22, n = 0;
	double *lat = malloc(cap * sizeof(*lat)), end, t0, start;
	char *buf = calloc(1, msgsize);
	pid_t pid;

	c = connect_to(base_port);
	s = accept4(lfd, NULL, NULL, blocking ? 0 : SOCK_NONBLOCK);
	if (lfd < 0 || c < 0 || s < 0 || !lat || !buf) {
		perror("setup");
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		close(c);
		while (!io_full(s, buf, msgsize, false))
			if (io_full(s, buf, msgsize, true))
				break;
		_exit(0);
	}
	close(s);
	start = now();
	end = start + secs;
	while ((t0 = now()) < end && n < cap) {
		if (io_full(c, buf, msgsize, true) || io_full(c, buf, msgsize, false)) {
			perror("request/response");
			return 1;
		}
		lat[n++] = (now() - t0) * 1e6;
	}
	shutdown(c, SHUT_WR);
	waitpid(pid, NULL, 0);
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("rr_msgsize %ld transactions %zu seconds %.3f p50_us %.1f p99_us %.1f\n", msgsize, n,
	       now() - start, n ? lat[n / 2] : 0, n ? lat[n * 99 / 100] : 0);
	return 0;
}

int main(int argc, char **argv)
{
	long msgsize = 0, rrsize = 0;
	double secs = 0, t0;
	pthread_t *th;
	int c;

	while ((c = getopt(argc, argv, "6Mp:n:P:s:S:r:BL:UH:c:m:t:vuC:R:")) != -1) {
		switch (c) {
		case '6': fam = FAM_6; break;
		case 'M': fam = FAM_MAPPED; break;
		case 'p': base_port = atoi(optarg); break;
		case 'n': nconns = atoi(optarg); break;
		case 'P': par = atoi(optarg); break;
		case 's': min_size = atol(optarg); break;
		case 'S': max_size = atol(optarg); break;
		case 'r': seed = strtoull(optarg, NULL, 0); break;
		case 'B': blocking = true; break;
		case 'L': stream_secs = atof(optarg); break;
		case 'U': until_usr1 = true; break;
		case 'H': hold_file = optarg; break;
		case 'c': chunk_max = atol(optarg); break;
		case 'm': msgsize = atol(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'v': verbose = 1; break;
		case 'u': unidir = true; break;
		case 'C': src_port = atoi(optarg); break;
		case 'R': rrsize = atol(optarg); break;
		default:
			fprintf(stderr, "usage: see the comment at the top of bypass_stream.c\n");
			return 2;
		}
	}
	if (min_size < 1 || max_size < min_size || chunk_max < 8 || par < 1 || par > 256) {
		fprintf(stderr, "bypass_stream: bad sizes or parallelism\n");
		return 2;
	}
	if (until_usr1 && nconns > par) {
		fprintf(stderr, "bypass_stream: -U needs -n <= -P (a stream ends only on SIGUSR1)\n");
		return 2;
	}
	if (until_usr1 || hold_file) {
		struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
		if (hold_file) {
			sa.sa_handler = on_usr2;
			sigaction(SIGUSR2, &sa, NULL);
		}
	}
	if (msgsize)
		return throughput(msgsize, secs > 0 ? secs : 2);
	if (rrsize > 0)
		return request_response(rrsize, secs > 0 ? secs : 2);
	th = calloc(par, sizeof(*th));
	t0 = now();
	for (long i = 0; i < par; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (int i = 0; i < par; i++)
		pthread_join(th[i], NULL);
	free(th);
	printf("connections %d bytes %lld seconds %.2f mismatches %d errors %d\n", nconns,
	       (long long)atomic_load(&total_bytes), now() - t0, atomic_load(&mismatches),
	       atomic_load(&errors));
	return atomic_load(&mismatches) || atomic_load(&errors) ? 1 : 0;
}
