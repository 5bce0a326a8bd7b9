// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: /proc/net/tcp{,6} lines as procnet reads them (address
 * bytes, port, state, inode), and the owner of a socket of this process. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "procnet.h"

static void test_parse_tcp4(void **state)
{
	struct procnet_sock s;
	struct in_addr lo;

	assert_int_equal(procnet_parse_line("  sl  local_address rem_address   st tx_queue rx_queue tr "
					    "tm->when retrnsmt   uid  timeout inode", AF_INET, &s), -EINVAL);
	assert_int_equal(procnet_parse_line("   3: 0100007F:1D0B 00000000:0000 0A 00000000:00000000 "
					    "00:00000000 00000000     0        0 48213 1 0000000000000000 "
					    "100 0 0 10 0", AF_INET, &s), 0);
	inet_pton(AF_INET, "127.0.0.1", &lo);
	/* the kernel prints the __be32 as a native word: bytes as in memory */
	assert_memory_equal(s.addr, &lo, 4);
	assert_int_equal(s.family, AF_INET);
	assert_int_equal(s.port, 7435);
	assert_int_equal(s.state, 10);
	assert_int_equal(s.inode, 48213);
	assert_int_equal(procnet_parse_line("   3: 0100007F:1D0B", AF_INET, &s), -EINVAL);
	/* a v6 address in the v4 file */
	assert_int_equal(procnet_parse_line("   0: 00000000000000000000000001000000:1D0B "
					    "00000000000000000000000000000000:0000 0A 00000000:00000000 "
					    "00:00000000 00000000     0        0 7 1", AF_INET, &s), -EINVAL);
}

static void test_parse_tcp6(void **state)
{
	struct procnet_sock s;
	struct in6_addr a;

	assert_int_equal(procnet_parse_line("   0: 00000000000000000000000001000000:24DB "
					    "00000000000000000000000000000000:0000 0A 00000000:00000000 "
					    "00:00000000 00000000     0        0 9001 1 0000000000000000 "
					    "100 0 0 10 0", AF_INET6, &s), 0);
	inet_pton(AF_INET6, "::1", &a);
	assert_memory_equal(s.addr, &a, 16);
	assert_int_equal(s.port, 9435);
	assert_int_equal(s.inode, 9001);
}

/* A listener of this process: found by its address, and by the wildcard
 * (which conflicts with it), and owned by this pid. */
static void test_own_listener(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct stat st;
	char comm[64];
	int fd, pid;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(procnet_port_inode((struct sockaddr *)&sa), st.st_ino);
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	assert_int_equal(procnet_port_inode((struct sockaddr *)&sa), st.st_ino);
	assert_int_equal(procnet_inode_owner(st.st_ino, &pid, comm, sizeof(comm)), 0);
	assert_int_equal(pid, getpid());
	assert_string_equal(comm, "test_procnet");
	close(fd);
	assert_int_equal(procnet_inode_owner(0, &pid, comm, sizeof(comm)), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_tcp4),
		cmocka_unit_test(test_parse_tcp6),
		cmocka_unit_test(test_own_listener),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
