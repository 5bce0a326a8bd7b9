// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcp_churn - open and close N TCP connections to a listener of its own.
 *
 * Usage: tcp_churn [-6] [-n COUNT] [-t SECONDS] [-a ADDR] [-s BYTES]
 *   -n  connections (default 100); with -t, the most to make
 *   -t  stop after SECONDS instead (benchmark mode); prints the rate
 *   -s  bytes sent client → server on each connection (default 1)
 *   -c  the client closes first (TIME_WAIT on the client side; default)
 *   -S  the server closes first (TIME_WAIT on the server side)
 * Output: "connections N seconds S rate R"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *addr = NULL;
	long n = 100, done = 0, bytes = 1;
	double secs = 0, t0, t1;
	int v6 = 0, server_first = 0, c;
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	char buf[65536];
	int lfd;

	while ((c = getopt(argc, argv, "6n:t:a:s:cS")) != -1) {
		switch (c) {
		case '6': v6 = 1; break;
		case 'n': n = atol(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'a': addr = optarg; break;
		case 's': bytes = atol(optarg); break;
		case 'c': server_first = 0; break;
		case 'S': server_first = 1; break;
		default:
			fprintf(stderr, "usage: tcp_churn [-6] [-n N] [-t SECONDS] [-a ADDR] [-s BYTES] [-c|-S]\n");
			return 2;
		}
	}
	if (bytes < 0 || bytes > (long)sizeof(buf))
		bytes = 1;
	memset(buf, 'x', sizeof(buf));
	if (v6) {
		struct sockaddr_in6 *s6 = (void *)&ss;

		s6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, addr ? addr : "::1", &s6->sin6_addr) != 1)
			die("address");
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		if (inet_pton(AF_INET, addr ? addr : "127.0.0.1", &s4->sin_addr) != 1)
			die("address");
		sl = sizeof(*s4);
	}
	lfd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	if (bind(lfd, (void *)&ss, sl) || listen(lfd, 1024) || getsockname(lfd, (void *)&ss, &sl))
		die("listen");

	t0 = now();
	while (done < n || (secs > 0 && !n)) {
		int cfd = socket(ss.ss_family, SOCK_STREAM, 0), afd;

		if (cfd < 0)
			die("socket");
		if (connect(cfd, (void *)&ss, sl))
			die("connect");
		afd = accept(lfd, NULL, NULL);
		if (afd < 0)
			die("accept");
		if (bytes && (write(cfd, buf, bytes) != bytes || recv(afd, buf, bytes, MSG_WAITALL) != bytes))
			die("transfer");
		if (server_first) {
			close(afd);
			(void)read(cfd, buf, 1);	/* wait for the FIN */
			close(cfd);
		} else {
			close(cfd);
			(void)read(afd, buf, 1);
			close(afd);
		}
		done++;
		if (secs > 0 && now() - t0 >= secs)
			break;
	}
	t1 = now();
	printf("connections %ld seconds %.3f rate %.1f\n", done, t1 - t0, done / (t1 - t0));
	close(lfd);
	return 0;
}
