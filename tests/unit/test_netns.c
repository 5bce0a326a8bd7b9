// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: --netns forms (NAME, PATH, pid:PID), the netns file check
 * and the messages for what is wrong. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sysenv.h"

static void test_spec_forms(void **state)
{
	struct netns_spec ns;
	char err[160];

	assert_int_equal(netns_spec_parse("blue", &ns, err, sizeof(err)), 0);
	assert_int_equal(ns.kind, NETNS_NAME);
	assert_string_equal(ns.path, "/run/netns/blue");
	assert_int_equal(netns_spec_parse("cni-3f1b2c4d-0000-4000-8000-00000000abcd", &ns, err, sizeof(err)), 0);
	assert_int_equal(ns.kind, NETNS_NAME);

	assert_int_equal(netns_spec_parse("/proc/123/ns/net", &ns, err, sizeof(err)), 0);
	assert_int_equal(ns.kind, NETNS_PATH);
	assert_string_equal(ns.path, "/proc/123/ns/net");
	assert_int_equal(netns_spec_parse("/run/docker/netns/0123456789ab", &ns, err, sizeof(err)), 0);
	assert_int_equal(ns.kind, NETNS_PATH);
	assert_string_equal(ns.path, "/run/docker/netns/0123456789ab");

	assert_int_equal(netns_spec_parse("pid:1", &ns, err, sizeof(err)), 0);
	assert_int_equal(ns.kind, NETNS_PID);
	assert_int_equal(ns.pid, 1);
	assert_string_equal(ns.path, "/proc/1/ns/net");
	assert_int_equal(netns_spec_parse("pid:2147483647", &ns, err, sizeof(err)), 0);
	assert_int_equal(ns.pid, 2147483647);
	assert_string_equal(ns.path, "/proc/2147483647/ns/net");
}

static void test_spec_rejects(void **state)
{
	static const char *const bad[] = {
		"", ".", "..", "pid:", "pid:0", "pid:-1", "pid:+1", "pid:0x10", "pid:12a",
		"pid: 1", "pid:2147483648", "pid:99999999999999999999", "relative/path",
		"./x", "../run/netns/blue",
		/* 64 characters: more than the instance record keeps */
		"/run/netns/01234567890123456789012345678901234567890123456789012",
	};
	struct netns_spec ns;
	char err[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (netns_spec_parse(bad[i], &ns, err, sizeof(err)) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(netns_spec_parse(NULL, &ns, err, sizeof(err)), -EINVAL);
	netns_spec_parse("pid:abc", &ns, err, sizeof(err));
	assert_non_null(strstr(err, "not pid:PID"));
	netns_spec_parse("ns/x", &ns, err, sizeof(err));
	assert_non_null(strstr(err, "absolute path"));
	/* 63 is the longest the record keeps */
	assert_int_equal(netns_spec_parse("/run/netns/0123456789012345678901234567890123456789012345678901",
					  &ns, err, sizeof(err)), 0);
}

/* Our own namespace is open to any user: by path and by pid. */
static void test_open_checks_the_file(void **state)
{
	char spec[32], msg[256];
	struct stat a, b;
	int fd;

	fd = netns_open("/proc/self/ns/net");
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &a), 0);
	close(fd);
	snprintf(spec, sizeof(spec), "pid:%d", getpid());
	fd = netns_open(spec);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &b), 0);
	close(fd);
	assert_true(a.st_ino == b.st_ino);
	assert_true(netns_ino() == (unsigned long long)a.st_ino);

	/* not nsfs; nsfs but not a network namespace */
	assert_int_equal(netns_open("/etc/hostname"), -ENOTTY);
	assert_int_equal(netns_open("/proc/self/ns/mnt"), -ENOTTY);
	assert_int_equal(netns_open("/proc/self/ns/uts"), -ENOTTY);
	netns_strerror("/proc/self/ns/mnt", -ENOTTY, msg, sizeof(msg));
	assert_non_null(strstr(msg, "/proc/self/ns/mnt is not a network namespace file"));

	assert_int_equal(netns_open("/nonexistent/accel-test/net"), -ENOENT);
	netns_strerror("/nonexistent/accel-test/net", -ENOENT, msg, sizeof(msg));
	assert_string_equal(msg, "network namespace file /nonexistent/accel-test/net not found");
	assert_int_equal(netns_open("accel-test-no-such-netns"), -ENOENT);
	netns_strerror("accel-test-no-such-netns", -ENOENT, msg, sizeof(msg));
	assert_string_equal(msg, "network namespace 'accel-test-no-such-netns' not found in /run/netns "
			    "(see `ip netns list`)");
	/* pid_max is at most 2^22: no such process */
	assert_int_equal(netns_open("pid:2147483647"), -ENOENT);
	netns_strerror("pid:2147483647", -ENOENT, msg, sizeof(msg));
	assert_string_equal(msg, "network namespace of process 2147483647 not found: no such process");
	assert_int_equal(netns_open("pid:x"), -EINVAL);
	netns_strerror("pid:x", -EINVAL, msg, sizeof(msg));
	assert_non_null(strstr(msg, "invalid --netns: 'pid:x' is not pid:PID"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_forms),
		cmocka_unit_test(test_spec_rejects),
		cmocka_unit_test(test_open_checks_the_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
