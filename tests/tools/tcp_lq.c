// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcp_lq - drive a TCP listener's queues for the tcpstate tests.
 *
 *   tcp_lq listen  -a ADDR -p PORT -b BACKLOG
 *        listen and never accept; print "ready" once listening, then wait
 *        until killed (SIGTERM), or until EOF when stdin is a pipe
 *   tcp_lq connect -a ADDR -p PORT -n N
 *        start N non-blocking connects, print "started N", hold the sockets
 *        until killed or EOF on a piped stdin, then close them (RST with -r)
 *   tcp_lq syn     -s SRC -a DST -p PORT -n N [-P FIRST_SRC_PORT]
 *        send N bare SYNs from SRC (any address the route accepts; IPv4)
 *        through a raw socket, one source port each, and exit
 *
 * Exit status 0 on success, 1 on a system error, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "tcp_lq: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int sockaddr_of(const char *addr, unsigned int port, struct sockaddr_storage *ss,
		       socklen_t *sl)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*sl = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*sl = sizeof(*s6);
		return 0;
	}
	return -1;
}

/* Wait for SIGTERM/SIGINT, or EOF when stdin is a pipe. */
static void hold(void)
{
	struct sigaction sa = { .sa_handler = on_term };
	struct stat st;
	bool pipe_in = !fstat(0, &st) && S_ISFIFO(st.st_mode);
	char c;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop) {
		ssize_t n = pipe_in ? read(0, &c, 1) : (pause(), -1);

		if (n == 0)
			break;
	}
}

static int do_listen(const char *addr, unsigned int port, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	if (sockaddr_of(addr, port, &ss, &sl))
		return 2;
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	if (bind(fd, (void *)&ss, sl) || listen(fd, backlog))
		die("listen");
	printf("ready\n");
	fflush(stdout);
	hold();
	close(fd);
	return 0;
}

static int do_connect(const char *addr, unsigned int port, int n, int rst)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int *fds = calloc(n, sizeof(int));

	if (!fds || sockaddr_of(addr, port, &ss, &sl))
		return 2;
	for (int i = 0; i < n; i++) {
		fds[i] = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fds[i] < 0)
			die("socket");
		if (connect(fds[i], (void *)&ss, sl) && errno != EINPROGRESS)
			die("connect");
	}
	printf("started %d\n", n);
	fflush(stdout);
	hold();
	for (int i = 0; i < n; i++) {
		if (rst)
			setsockopt(fds[i], SOL_SOCKET, SO_LINGER,
				   &(struct linger){ .l_onoff = 1, .l_linger = 0 }, sizeof(struct linger));
		close(fds[i]);
	}
	free(fds);
	return 0;
}

static uint16_t csum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static int do_syn(const char *src, const char *dst, unsigned int port, int n, unsigned int sport0)
{
	struct {
		struct iphdr ip;
		struct tcphdr tcp;
	} __attribute__((packed)) pkt;
	struct {
		uint32_t saddr, daddr;
		uint8_t zero, proto;
		uint16_t len;
		struct tcphdr tcp;
	} __attribute__((packed)) ph;
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint32_t saddr, daddr;
	int fd;

	if (inet_pton(AF_INET, src, &saddr) != 1 || inet_pton(AF_INET, dst, &daddr) != 1)
		return 2;
	to.sin_addr.s_addr = daddr;
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);	/* IP_HDRINCL implied */
	if (fd < 0)
		die("raw socket");
	for (int i = 0; i < n; i++) {
		memset(&pkt, 0, sizeof(pkt));
		pkt.ip.version = 4;
		pkt.ip.ihl = 5;
		pkt.ip.ttl = 64;
		pkt.ip.protocol = IPPROTO_TCP;
		pkt.ip.tot_len = htons(sizeof(pkt));
		pkt.ip.id = htons(i);
		pkt.ip.saddr = saddr;
		pkt.ip.daddr = daddr;
		pkt.tcp.source = htons(sport0 + i);
		pkt.tcp.dest = htons(port);
		pkt.tcp.seq = htonl(0x10000000u + i * 7919u);
		pkt.tcp.doff = 5;
		pkt.tcp.syn = 1;
		pkt.tcp.window = htons(65535);
		ph.saddr = saddr;
		ph.daddr = daddr;
		ph.zero = 0;
		ph.proto = IPPROTO_TCP;
		ph.len = htons(sizeof(pkt.tcp));
		ph.tcp = pkt.tcp;
		pkt.tcp.check = htons(csum(&ph, sizeof(ph), 0));
		/* the kernel fills the IP checksum */
		if (sendto(fd, &pkt, sizeof(pkt), 0, (void *)&to, sizeof(to)) != sizeof(pkt))
			die("sendto");
	}
	close(fd);
	printf("sent %d\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *src = NULL, *cmd;
	unsigned int port = 0, sport0 = 20000;
	int n = 1, backlog = 4, rst = 0, c;

	if (argc < 2)
		goto usage;
	cmd = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "a:p:b:n:s:P:r")) != -1) {
		switch (c) {
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'b': backlog = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 's': src = optarg; break;
		case 'P': sport0 = atoi(optarg); break;
		case 'r': rst = 1; break;
		default: goto usage;
		}
	}
	if (!port || port > 65535 || n < 1)
		goto usage;
	if (!strcmp(cmd, "listen"))
		return do_listen(addr, port, backlog);
	if (!strcmp(cmd, "connect"))
		return do_connect(addr, port, n, rst);
	if (!strcmp(cmd, "syn") && src && sport0 + n <= 65536)
		return do_syn(src, addr, port, n, sport0);
usage:
	fprintf(stderr, "usage: tcp_lq listen|connect|syn -a ADDR -p PORT [-b BACKLOG] [-n N] [-s SRC] [-P SPORT] [-r]\n");
	return 2;
}
