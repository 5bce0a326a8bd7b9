// SPDX-License-Identifier: GPL-2.0-only
/* bypass learning: the state file (user/bypass_learn.c) is read back
 * exactly, and anything else is refused, never half-used. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bypass.h"

#define BOOT "0b5d4c1e-1111-2222-3333-444455556666"

static void test_verdict_names(void **state)
{
	(void)state;
	assert_string_equal(bypass_learned_verdict_name(ACCEL_BYPASS_V_LEARNING), "learning");
	assert_string_equal(bypass_learned_verdict_name(ACCEL_BYPASS_V_EVENT), "event_driven");
	assert_string_equal(bypass_learned_verdict_name(ACCEL_BYPASS_V_BLOCKING), "blocking");
	assert_string_equal(bypass_learned_verdict_name(ACCEL_BYPASS_V_SPLICE), "splice");
	assert_string_equal(bypass_learned_verdict_name(ACCEL_BYPASS_V_COUNT), "unknown");
}

static void test_roundtrip(void **state)
{
	struct learned_port in[3] = {
		{ .k = { .netns_cookie = 4096, .port = 6379 },
		  .v = { .verdict = ACCEL_BYPASS_V_EVENT, .conns = 8, .reopened = 2, .since_ns = 123456789012ull,
			 .last_ns = 223456789012ull, .listener_cookie = 77 } },
		{ .k = { .netns_cookie = 8192, .port = 6379 }, .v = { .verdict = ACCEL_BYPASS_V_BLOCKING } },
		{ .k = { .netns_cookie = UINT64_MAX, .port = 65535 },
		  .v = { .verdict = ACCEL_BYPASS_V_SPLICE, .conns = UINT32_MAX } },
	}, out[4];
	char buf[4096], err[256];
	int len, n;

	(void)state;
	len = bypass_learn_format(in, 3, BOOT, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(strlen(buf), len);
	n = bypass_learn_parse(buf, BOOT, out, 4, err, sizeof(err));
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		assert_memory_equal(&in[i].k, &out[i].k, sizeof(in[i].k));
		assert_memory_equal(&in[i].v, &out[i].v, sizeof(in[i].v));
	}
	/* a buffer too small is an error, not a cut file */
	assert_int_equal(bypass_learn_format(in, 3, BOOT, buf, 100), -ENOSPC);
}

/* parse TEXT, expect -errno E and a reason containing WHY */
static void refused(const char *text, int e, const char *why)
{
	struct learned_port out[2];
	char buf[1024], err[256] = "";

	snprintf(buf, sizeof(buf), "%s", text);
	assert_int_equal(bypass_learn_parse(buf, BOOT, out, 2, err, sizeof(err)), e);
	if (!strstr(err, why))
		fail_msg("reason '%s' lacks '%s'", err, why);
}

#define LINE "port netns=1 port=80 verdict=event_driven conns=8 reopened=0 since_ns=1 last_ns=2 listener=3\n"

static void test_refuses_what_it_did_not_write(void **state)
{
	(void)state;
	refused("", -EINVAL, "not an accelctl learned-ports file");
	refused("accelctl-bypass-learned 2\nboot_id " BOOT "\n", -EINVAL, "not an accelctl");
	refused("accelctl-bypass-learned 1\n" LINE, -EINVAL, "line 2: no boot_id");
	refused("accelctl-bypass-learned 1\nboot_id other\n" LINE, -ESTALE, "another boot");
	refused("accelctl-bypass-learned 1\nboot_id " BOOT "\nport netns=1 port=80 verdict=event_driven\n",
		-EINVAL, "line 3: not a port record");
	refused("accelctl-bypass-learned 1\nboot_id " BOOT "\n" LINE
		"port netns=1 port=0 verdict=blocking conns=0 reopened=0 since_ns=1 last_ns=2 listener=3\n",
		-EINVAL, "line 4");
	refused("accelctl-bypass-learned 1\nboot_id " BOOT "\n"
		"port netns=1 port=80 verdict=fast conns=0 reopened=0 since_ns=1 last_ns=2 listener=3\n",
		-EINVAL, "line 3");
	refused("accelctl-bypass-learned 1\nboot_id " BOOT "\n"
		"port netns=1 port=65536 verdict=blocking conns=0 reopened=0 since_ns=1 last_ns=2 listener=3\n",
		-EINVAL, "line 3");
	refused("accelctl-bypass-learned 1\nboot_id " BOOT "\n"
		"port netns=1 port=80 verdict=blocking conns=0 reopened=0 since_ns=1 last_ns=2 listener=3 x=1\n",
		-EINVAL, "line 3");
	refused("accelctl-bypass-learned 1\nboot_id " BOOT "\n" LINE LINE LINE, -E2BIG, "more than 2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict_names),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refuses_what_it_did_not_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
