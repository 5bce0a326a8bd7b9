// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: number, port-list and interface-name parsing, paths, JSON. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "json.h"
#include "util.h"

static void test_parse_u64_accepts_ranges(void **state)
{
	uint64_t v = 0;

	assert_int_equal(parse_u64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(parse_u64("0x10", 0, 100, &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
}

static void test_parse_u64_rejects_garbage(void **state)
{
	uint64_t v = 42;

	assert_int_equal(parse_u64("", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u64(NULL, 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u64("-1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u64("+1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u64(" 1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u64("1 ", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u64("1x", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u64("11", 0, 10, &v), -ERANGE);
	assert_int_equal(parse_u64("0", 1, 10, &v), -ERANGE);
	assert_int_equal(parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(v, 42);	/* untouched on error */
}

static void test_port_list_parse(void **state)
{
	struct port_list pl;
	char err[128];

	assert_int_equal(port_list_parse("6379,8080-8090", &pl, err, sizeof(err)), 0);
	assert_int_equal(pl.n, 2);
	assert_true(port_list_has(&pl, 6379));
	assert_true(port_list_has(&pl, 8080));
	assert_true(port_list_has(&pl, 8085));
	assert_true(port_list_has(&pl, 8090));
	assert_false(port_list_has(&pl, 8091));
	assert_false(port_list_has(&pl, 6378));
	assert_int_equal(port_list_parse("1,65535", &pl, err, sizeof(err)), 0);
	assert_true(port_list_has(&pl, 65535));
}

static void test_port_list_rejects(void **state)
{
	static const char *const bad[] = {
		"", "0", "65536", "80-", "-80", "90-80", "a", "80,,", "80;81", "1-2-3", ",", "80, 81",
	};
	struct port_list pl;
	char err[128];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		if (port_list_parse(bad[i], &pl, err, sizeof(err)) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(err[0] != '\0');
	}
}

static void test_ifname_to_index(void **state)
{
	unsigned int idx = 0;

	assert_int_equal(ifname_to_index("lo", &idx), 0);
	assert_true(idx > 0);
	assert_int_equal(ifname_to_index("", &idx), -EINVAL);
	assert_int_equal(ifname_to_index("a/b", &idx), -EINVAL);
	assert_int_equal(ifname_to_index("eth0:1", &idx), -EINVAL);
	assert_int_equal(ifname_to_index("has space", &idx), -EINVAL);
	assert_int_equal(ifname_to_index("0123456789abcdef", &idx), -EINVAL);	/* 16 > IFNAMSIZ-1 */
	assert_int_equal(ifname_to_index("accelnosuchif0", &idx), -ENODEV);
}

static void test_path_helpers(void **state)
{
	char buf[16], dir[] = "/tmp/accel-unit-XXXXXX", sub[256], data[64];

	assert_int_equal(path_join(buf, sizeof(buf), "/a", "b"), 0);
	assert_string_equal(buf, "/a/b");
	assert_int_equal(path_join(buf, sizeof(buf), "/aaaaaaaaaa", "bbbbbb"), -ENAMETOOLONG);

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/x/y/z", dir);
	assert_int_equal(mkdir_p(sub, 0700), 0);
	assert_int_equal(mkdir_p(sub, 0700), 0);	/* idempotent */
	assert_int_equal(access(sub, F_OK), 0);
	snprintf(sub, sizeof(sub), "%s/x/y/z/f", dir);
	assert_int_equal(write_file_atomic(sub, "hello\n", 6, 0600), 0);
	assert_int_equal(read_file(sub, data, sizeof(data)), 6);
	assert_string_equal(strtrim(data), "hello");
	assert_int_equal(read_file("/nonexistent/accel", data, sizeof(data)), -ENOENT);
	snprintf(sub, sizeof(sub), "rm -rf %s", dir);
	assert_int_equal(system(sub), 0);
}

static void test_json_writer_escapes(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json_writer jw;

	jw_init(&jw, f, false);
	jw_start_object(&jw);
	jw_kv_string(&jw, "s", "a\"b\\c\nd\x01");
	jw_kv_uint(&jw, "u", 18446744073709551615ULL);
	jw_kv_int(&jw, "i", -5);
	jw_key(&jw, "a");
	jw_start_array(&jw);
	jw_bool(&jw, true);
	jw_null(&jw);
	jw_double(&jw, 1.5);
	jw_double(&jw, 3);
	jw_end_array(&jw);
	jw_key(&jw, "e");
	jw_start_object(&jw);
	jw_end_object(&jw);
	jw_end_object(&jw);
	fclose(f);
	assert_string_equal(buf, "{\"s\":\"a\\\"b\\\\c\\nd\\u0001\",\"u\":18446744073709551615,"
				 "\"i\":-5,\"a\":[true,null,1.5,3],\"e\":{}}");
	free(buf);
}

static void test_fmt_helpers(void **state)
{
	char buf[32];

	assert_string_equal(fmt_bytes(512, buf, sizeof(buf)), "512 B");
	assert_string_equal(fmt_bytes(1536, buf, sizeof(buf)), "1.5 KiB");
	assert_string_equal(fmt_time(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
}

static void test_str_appendf(void **state)
{
	char buf[8];
	size_t off = 0;

	(void)state;
	assert_int_equal(str_appendf(buf, sizeof(buf), &off, "%s", "abc"), 0);
	assert_int_equal(off, 3);
	assert_int_equal(str_appendf(buf, sizeof(buf), &off, ",%d", 42), 0);
	assert_string_equal(buf, "abc,42");
	/* "xy" needs 3 bytes, 2 are left: refused, nothing of it kept */
	assert_int_equal(str_appendf(buf, sizeof(buf), &off, "xy"), -ENOSPC);
	assert_string_equal(buf, "abc,42");
	assert_int_equal(off, 6);
	assert_int_equal(str_appendf(buf, sizeof(buf), &off, "z"), 0);
	assert_string_equal(buf, "abc,42z");
	assert_int_equal(str_appendf(buf, sizeof(buf), &off, "%s", ""), 0);	/* only the NUL: fits */
	assert_int_equal(str_appendf(buf, sizeof(buf), &off, "q"), -ENOSPC);
	assert_int_equal(off, 7);
	off = sizeof(buf) + 5;	/* a caller's bad offset never writes */
	assert_int_equal(str_appendf(buf, sizeof(buf), &off, "q"), -ENOSPC);
	assert_string_equal(buf, "abc,42z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64_accepts_ranges),
		cmocka_unit_test(test_parse_u64_rejects_garbage),
		cmocka_unit_test(test_port_list_parse),
		cmocka_unit_test(test_port_list_rejects),
		cmocka_unit_test(test_ifname_to_index),
		cmocka_unit_test(test_path_helpers),
		cmocka_unit_test(test_json_writer_escapes),
		cmocka_unit_test(test_fmt_helpers),
		cmocka_unit_test(test_str_appendf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
