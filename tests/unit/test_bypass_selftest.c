// SPDX-License-Identifier: GPL-2.0-only
/* bypass: the kernel self-test's table, result masks and the messages
 * attach, `status` and `bypass selftest` print from them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bypass.h"

static void results(struct bypass_selftest *st, enum bypass_verdict b, enum bypass_verdict c,
		    enum bypass_verdict s)
{
	memset(st, 0, sizeof(*st));
	st->r[ACCEL_BYPASS_KB_BLOCKING_EAGAIN].verdict = b;
	st->r[ACCEL_BYPASS_KB_CLOSE_UNREAD_FIN].verdict = c;
	st->r[ACCEL_BYPASS_KB_SPLICE_MISSES].verdict = s;
	for (int i = 0; i < ACCEL_BYPASS_KB_COUNT; i++)
		snprintf(st->r[i].detail, sizeof(st->r[i].detail), "detail %d", i);
	bypass_selftest_tally(st);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_table_rows_are_complete_and_unique(void **state)
{
	(void)state;
	assert_int_equal(ACCEL_BYPASS_KB_COUNT, 3);
	assert_string_equal(bypass_probes[ACCEL_BYPASS_KB_BLOCKING_EAGAIN].name, "blocking_eagain");
	assert_string_equal(bypass_probes[ACCEL_BYPASS_KB_CLOSE_UNREAD_FIN].name, "close_unread_fin");
	assert_string_equal(bypass_probes[ACCEL_BYPASS_KB_SPLICE_MISSES].name, "splice_misses");
	for (int i = 0; i < ACCEL_BYPASS_KB_COUNT; i++) {
		const struct bypass_probe *p = &bypass_probes[i];

		assert_non_null(p->name);
		assert_non_null(p->checks);
		assert_non_null(p->consequence);
		assert_non_null(p->run);
		assert_int_equal(strspn(p->name, "abcdefghijklmnopqrstuvwxyz_"), strlen(p->name));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(p->name, bypass_probes[j].name);
	}
	/* restricted mode avoids blocking_eagain; the others are accepted
	 * with each --event-ports port */
	assert_false(bypass_probes[ACCEL_BYPASS_KB_BLOCKING_EAGAIN].event_ports_accept);
	assert_true(bypass_probes[ACCEL_BYPASS_KB_CLOSE_UNREAD_FIN].event_ports_accept);
	assert_true(bypass_probes[ACCEL_BYPASS_KB_SPLICE_MISSES].event_ports_accept);
	/* the masks must fit the config fields */
	assert_true(ACCEL_BYPASS_KB_COUNT <= 32);
	assert_int_equal(offsetof(struct accel_bypass_config, kernel_affected), 16);
	assert_int_equal(offsetof(struct accel_bypass_config, kernel_unchecked), 20);
}

static void test_tally(void **state)
{
	struct bypass_selftest st;

	(void)state;
	results(&st, BYPASS_PROBE_OK, BYPASS_PROBE_OK, BYPASS_PROBE_OK);
	assert_int_equal(st.affected, 0);
	assert_int_equal(st.unchecked, 0);
	results(&st, BYPASS_PROBE_AFFECTED, BYPASS_PROBE_OK, BYPASS_PROBE_FAILED);
	assert_int_equal(st.affected, 1u << ACCEL_BYPASS_KB_BLOCKING_EAGAIN);
	assert_int_equal(st.unchecked, 1u << ACCEL_BYPASS_KB_SPLICE_MISSES);
}

static void test_names_and_lines(void **state)
{
	struct bypass_selftest st;
	char buf[128], tiny[8];

	(void)state;
	assert_string_equal(bypass_kb_names(0, buf, sizeof(buf)), "none");
	assert_string_equal(bypass_kb_names(5, buf, sizeof(buf)), "blocking_eagain, splice_misses");
	assert_string_equal(bypass_kb_names(7, buf, sizeof(buf)),
			    "blocking_eagain, close_unread_fin, splice_misses");
	assert_string_equal(bypass_kb_names(1u << 31, buf, sizeof(buf)), "none");	/* unknown bits */
	bypass_kb_names(7, tiny, sizeof(tiny));	/* no half name, never "none" */
	assert_string_equal(tiny, "");

	results(&st, BYPASS_PROBE_OK, BYPASS_PROBE_AFFECTED, BYPASS_PROBE_FAILED);
	assert_string_equal(bypass_selftest_line(&st, 0, buf, sizeof(buf)), "blocking_eagain: ok: detail 0");
	assert_string_equal(bypass_selftest_line(&st, 1, buf, sizeof(buf)),
			    "close_unread_fin: affected: detail 1");
	assert_string_equal(bypass_selftest_line(&st, 2, buf, sizeof(buf)),
			    "splice_misses: could-not-run: detail 2");
}

static void test_explain_nothing_when_all_ok(void **state)
{
	struct bypass_selftest st;
	char buf[2048] = "junk";

	(void)state;
	results(&st, BYPASS_PROBE_OK, BYPASS_PROBE_OK, BYPASS_PROBE_OK);
	assert_int_equal(bypass_selftest_explain(&st, false, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void test_explain_names_each_affected_probe_on_one_line(void **state)
{
	struct bypass_selftest st;
	char buf[4096], line[512];

	(void)state;
	results(&st, BYPASS_PROBE_AFFECTED, BYPASS_PROBE_AFFECTED, BYPASS_PROBE_AFFECTED);
	assert_true(bypass_selftest_explain(&st, true, 0, buf, sizeof(buf)) > 0);
	for (int i = 0; i < ACCEL_BYPASS_KB_COUNT; i++) {
		snprintf(line, sizeof(line), "bypass:   %s: %s\n", bypass_probes[i].name,
			 bypass_probes[i].consequence);
		assert_non_null(strstr(buf, line));
	}
	assert_non_null(strstr(buf, "breaks blocking readers"));
	assert_non_null(strstr(buf, "only connections to --event-ports"));
	assert_non_null(strstr(buf, "accepts close_unread_fin, splice_misses for its connections"));
	assert_null(strstr(buf, "learning"));
	assert_null(strstr(buf, "accelerates nothing"));	/* --event-ports given */
	/* every line is a "bypass: " line, and the text ends with a newline */
	for (const char *l = buf; *l; l = strchr(l, '\n') + 1) {
		assert_memory_equal(l, "bypass: ", 8);
		assert_non_null(strchr(l, '\n'));
	}
	assert_int_equal(count(buf, "\nbypass: ") + 1, count(buf, "\n"));
}

static void test_explain_blocking_only_accepts_nothing(void **state)
{
	struct bypass_selftest st;
	char buf[4096];

	(void)state;
	results(&st, BYPASS_PROBE_AFFECTED, BYPASS_PROBE_OK, BYPASS_PROBE_OK);
	bypass_selftest_explain(&st, false, 0, buf, sizeof(buf));
	assert_non_null(strstr(buf, "blocking_eagain: "));
	assert_null(strstr(buf, "close_unread_fin"));
	assert_null(strstr(buf, "accepts"));
	assert_non_null(strstr(buf, "no --event-ports given and --learn off: the bypass is attached but accelerates nothing"));
}

static void test_explain_learning_says_what_it_will_do(void **state)
{
	struct bypass_selftest st;
	char buf[4096];

	(void)state;
	results(&st, BYPASS_PROBE_AFFECTED, BYPASS_PROBE_AFFECTED, BYPASS_PROBE_OK);
	bypass_selftest_explain(&st, false, 8, buf, sizeof(buf));
	assert_non_null(strstr(buf, "until 8 of them"));
	assert_null(strstr(buf, "accelerates nothing"));
	assert_null(strstr(buf, "without learning"));
	bypass_selftest_explain(&st, true, 3, buf, sizeof(buf));
	assert_non_null(strstr(buf, "until 3 of them"));
	assert_non_null(strstr(buf, "--event-ports are accelerated without learning"));
	for (const char *l = buf; *l; l = strchr(l, '\n') + 1)
		assert_memory_equal(l, "bypass: ", 8);
}

static void test_explain_could_not_run_is_assumed_affected(void **state)
{
	struct bypass_selftest st;
	char buf[4096], small[100];
	size_t n;

	(void)state;
	results(&st, BYPASS_PROBE_OK, BYPASS_PROBE_OK, BYPASS_PROBE_FAILED);
	bypass_selftest_explain(&st, true, 0, buf, sizeof(buf));
	assert_non_null(strstr(buf, "bypass:   splice_misses: could not run (detail 2); assumed affected: "));
	assert_non_null(strstr(buf, "accepts splice_misses for its connections"));
	/* a short buffer keeps whole lines only, and the length says so */
	n = bypass_selftest_explain(&st, true, 0, small, sizeof(small));
	assert_int_equal(strlen(small), n);
	assert_true(n > 0 && n < sizeof(small));
	assert_int_equal(small[n - 1], '\n');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_rows_are_complete_and_unique),
		cmocka_unit_test(test_tally),
		cmocka_unit_test(test_names_and_lines),
		cmocka_unit_test(test_explain_nothing_when_all_ok),
		cmocka_unit_test(test_explain_names_each_affected_probe_on_one_line),
		cmocka_unit_test(test_explain_blocking_only_accepts_nothing),
		cmocka_unit_test(test_explain_learning_says_what_it_will_do),
		cmocka_unit_test(test_explain_could_not_run_is_assumed_affected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
