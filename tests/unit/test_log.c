// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: journal detection (JOURNAL_STREAM), "<N>" line prefixes,
 * and libbpf/libxdp messages with one prefix each. */
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
#include <bpf/libbpf.h>

#include "log.h"

static void test_journal_stream_match(void **state)
{
	struct stat st = { .st_dev = 64769, .st_ino = 123456 };

	assert_true(log_is_journal_stream("64769:123456", &st));
	assert_false(log_is_journal_stream("64769:123457", &st));
	assert_false(log_is_journal_stream("64768:123456", &st));
	assert_false(log_is_journal_stream(NULL, &st));
	assert_false(log_is_journal_stream("", &st));
	assert_false(log_is_journal_stream("64769", &st));
	assert_false(log_is_journal_stream("64769:", &st));
	assert_false(log_is_journal_stream(":123456", &st));
	assert_false(log_is_journal_stream(" 64769:123456", &st));
	assert_false(log_is_journal_stream("64769:123456 ", &st));
	assert_false(log_is_journal_stream("64769:-1", &st));
	assert_false(log_is_journal_stream("0x1:0x2", &st));
	assert_false(log_is_journal_stream("99999999999999999999999:1", &st));
}

static void test_format_plain_unchanged(void **state)
{
	char buf[128];
	bool bol = true;

	assert_int_equal(log_format(buf, sizeof(buf), false, PRIO_WARNING, "accelctl: ",
				    "cannot x\nFix: y\n", &bol), strlen("accelctl: cannot x\nFix: y\n"));
	assert_string_equal(buf, "accelctl: cannot x\nFix: y\n");
	assert_true(bol);
}

static void test_format_journal_every_line(void **state)
{
	char buf[128];
	bool bol = true;

	log_format(buf, sizeof(buf), true, PRIO_ERR, "accelctl: ", "cannot x\nFix: y\n", &bol);
	assert_string_equal(buf, "<3>accelctl: cannot x\n<3>Fix: y\n");
	assert_true(bol);
	log_format(buf, sizeof(buf), true, PRIO_INFO, "", "attached: tcpstate\n", &bol);
	assert_string_equal(buf, "<6>attached: tcpstate\n");
	log_format(buf, sizeof(buf), true, PRIO_DEBUG, "debug: ", "a\n\nb\n", &bol);
	assert_string_equal(buf, "<7>debug: a\n<7>\n<7>b\n");
	log_format(buf, sizeof(buf), true, PRIO_WARNING, "accelctl: ", "w\n", &bol);
	assert_string_equal(buf, "<4>accelctl: w\n");
}

/* A line written in pieces gets its prefixes once, at its start. */
static void test_format_partial_lines(void **state)
{
	char buf[128];
	bool bol = true;

	log_format(buf, sizeof(buf), true, PRIO_INFO, "x: ", "one ", &bol);
	assert_string_equal(buf, "<6>x: one ");
	assert_false(bol);
	log_format(buf, sizeof(buf), true, PRIO_INFO, "x: ", "two\nthree", &bol);
	assert_string_equal(buf, "two\n<6>three");
	assert_false(bol);
	log_format(buf, sizeof(buf), true, PRIO_INFO, "x: ", "\n", &bol);
	assert_string_equal(buf, "\n");
	assert_true(bol);
}

static void test_format_truncates_and_says_how_much(void **state)
{
	char buf[8];
	bool bol = true;
	size_t n;

	n = log_format(buf, sizeof(buf), true, PRIO_ERR, "accelctl: ", "long message\n", &bol);
	assert_int_equal(n, strlen("<3>accelctl: long message\n"));
	assert_string_equal(buf, "<3>acce");
	assert_true(bol);
}

static int call_print(libbpf_print_fn_t fn, enum libbpf_print_level l, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = fn(l, fmt, ap);
	va_end(ap);
	return r;
}

static void call_lib(bool warn, bool info, const char *lp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_lib(warn, info, lp, fmt, ap);
	va_end(ap);
}

/* The real path: stderr is a file JOURNAL_STREAM names; pr_*, libbpf's
 * callback and libxdp's messages, as they come out. */
static void test_stderr_journal_end_to_end(void **state)
{
	char path[] = "/tmp/accel-test-log.XXXXXX", env[64], out[2048];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	libbpf_print_fn_t fn;
	struct stat st;
	FILE *f;
	size_t n;

	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	fflush(stderr);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);

	log_init(2);
	pr_err("e\n");
	pr_warn("w\nFix: f\n");
	pr_info("i\n");
	pr_debug("d\n");
	fn = libbpf_set_print(NULL);	/* ours, set by log_init() */
	assert_non_null(fn);
	call_print(fn, LIBBPF_WARN, "libbpf: %s\n", "prog 'x': failed");
	call_print(fn, LIBBPF_DEBUG, "libbpf: %s\n", "loaded");
	call_print(fn, LIBBPF_INFO, "%s\n", "no prefix of its own");
	call_print(fn, LIBBPF_WARN, "libbpf: -- BEGIN --\n%s-- END --\n", "0: r0 = 0\n1: exit\n");
	call_lib(false, false, "libxdp: ", "libxdp: %s\n", "dispatcher");
	log_init(0);
	pr_debug("hidden at verbosity 0\n");
	call_print(fn, LIBBPF_DEBUG, "libbpf: %s\n", "hidden too");
	fflush(stderr);

	dup2(saved, STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	f = fdopen(fd, "r");
	assert_non_null(f);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	unlink(path);
	assert_string_equal(out,
			    "<3>accelctl: e\n"
			    "<4>accelctl: w\n<4>Fix: f\n"
			    "<6>i\n"
			    "<7>debug: d\n"
			    "<4>libbpf: prog 'x': failed\n"
			    "<7>libbpf: loaded\n"
			    "<6>libbpf: no prefix of its own\n"
			    "<4>libbpf: -- BEGIN --\n<4>0: r0 = 0\n<4>1: exit\n<4>-- END --\n"
			    "<7>libxdp: dispatcher\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_stream_match),
		cmocka_unit_test(test_format_plain_unchanged),
		cmocka_unit_test(test_format_journal_every_line),
		cmocka_unit_test(test_format_partial_lines),
		cmocka_unit_test(test_format_truncates_and_says_how_much),
		cmocka_unit_test(test_stderr_journal_end_to_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
