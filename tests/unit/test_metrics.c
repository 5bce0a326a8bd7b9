// SPDX-License-Identifier: GPL-2.0-only
/*
 * The metrics model and its renderings: Prometheus text exposition format
 * 0.0.4 (escaping, histogram layout, numbers) and JSON.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "metrics.h"

__attribute__((noinline)) static char *render_prom(const struct metrics *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	metrics_write_prometheus(m, f);
	fclose(f);
	return buf;
}

__attribute__((noinline)) static char *render_json(const struct metrics *m)
{
	struct json_writer jw;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	jw_init(&jw, f, false);
	metrics_write_json(m, &jw);
	fclose(f);
	return buf;
}

static void test_counter_and_gauge(void **state)
{
	struct metrics *m = metrics_new();
	struct metric_family *c, *g;
	char *out;

	c = metrics_family(m, "accel_bypass_bytes_total", METRIC_COUNTER, "Bytes redirected");
	g = metrics_family(m, "accel_bypass_connections_active", METRIC_GAUGE, "Open now");
	assert_int_equal(metric_add(c, 12345, NULL), 0);
	assert_int_equal(metric_add(g, 3, NULL), 0);
	/* find-or-create returns the same family */
	assert_ptr_equal(metrics_family(m, "accel_bypass_bytes_total", METRIC_COUNTER, "x"), c);
	out = render_prom(m);
	assert_string_equal(out,
		"# HELP accel_bypass_bytes_total Bytes redirected\n"
		"# TYPE accel_bypass_bytes_total counter\n"
		"accel_bypass_bytes_total 12345\n"
		"# HELP accel_bypass_connections_active Open now\n"
		"# TYPE accel_bypass_connections_active gauge\n"
		"accel_bypass_connections_active 3\n");
	free(out);
	metrics_free(m);
}

static void test_label_value_escaping(void **state)
{
	struct metrics *m = metrics_new();
	struct metric_family *f;
	char *out;

	f = metrics_family(m, "accel_tcp_accept_queue_overflows_total", METRIC_COUNTER, "h");
	/* backslash, double quote and newline are escaped; others are not */
	assert_int_equal(metric_add(f, 1, "listener", "a\\b\"c\nd'e{f}=,g", NULL), 0);
	assert_int_equal(metric_add(f, 2, "listener", "[::1]:80", "family", "", NULL), 0);
	out = render_prom(m);
	assert_non_null(strstr(out,
		"accel_tcp_accept_queue_overflows_total{listener=\"a\\\\b\\\"c\\nd'e{f}=,g\"} 1\n"));
	assert_non_null(strstr(out,
		"accel_tcp_accept_queue_overflows_total{listener=\"[::1]:80\",family=\"\"} 2\n"));
	free(out);
	metrics_free(m);
}

static void test_help_escaping(void **state)
{
	struct metrics *m = metrics_new();
	struct metric_family *f;
	char *out;

	/* HELP escapes backslash and newline, but not double quotes */
	f = metrics_family(m, "accel_x_total", METRIC_COUNTER, "line one\nC:\\path \"quoted\"");
	metric_add(f, 0, NULL);
	out = render_prom(m);
	assert_string_equal(out,
		"# HELP accel_x_total line one\\nC:\\\\path \"quoted\"\n"
		"# TYPE accel_x_total counter\n"
		"accel_x_total 0\n");
	free(out);
	metrics_free(m);
}

static void test_histogram_cumulative(void **state)
{
	static const double bounds[] = { 1280, 1400, 1500, 9000 };
	static const uint64_t counts[] = { 2, 0, 5, 1, 3 };	/* last: above 9000 */
	struct metrics *m = metrics_new();
	struct metric_family *f;
	const struct metric_sample *s;
	char *out;

	f = metrics_family(m, "accel_netacct_pmtu_advertised_mtu_bytes", METRIC_HISTOGRAM,
			   "MTU advertised by PMTU messages");
	assert_int_equal(metric_add_histogram(f, bounds, counts, 4, 20000.5,
					      "ifname", "veth0", "family", "inet6", NULL), 0);
	out = render_prom(m);
	assert_string_equal(out,
		"# HELP accel_netacct_pmtu_advertised_mtu_bytes MTU advertised by PMTU messages\n"
		"# TYPE accel_netacct_pmtu_advertised_mtu_bytes histogram\n"
		"accel_netacct_pmtu_advertised_mtu_bytes_bucket{ifname=\"veth0\",family=\"inet6\",le=\"1280\"} 2\n"
		"accel_netacct_pmtu_advertised_mtu_bytes_bucket{ifname=\"veth0\",family=\"inet6\",le=\"1400\"} 2\n"
		"accel_netacct_pmtu_advertised_mtu_bytes_bucket{ifname=\"veth0\",family=\"inet6\",le=\"1500\"} 7\n"
		"accel_netacct_pmtu_advertised_mtu_bytes_bucket{ifname=\"veth0\",family=\"inet6\",le=\"9000\"} 8\n"
		"accel_netacct_pmtu_advertised_mtu_bytes_bucket{ifname=\"veth0\",family=\"inet6\",le=\"+Inf\"} 11\n"
		"accel_netacct_pmtu_advertised_mtu_bytes_sum{ifname=\"veth0\",family=\"inet6\"} 20000.5\n"
		"accel_netacct_pmtu_advertised_mtu_bytes_count{ifname=\"veth0\",family=\"inet6\"} 11\n");
	s = metrics_find(m, "accel_netacct_pmtu_advertised_mtu_bytes", "family", "inet6", "ifname", "veth0", NULL);
	assert_non_null(s);
	assert_int_equal(metric_hist_count(s), 11);
	free(out);
	metrics_free(m);
}

static void test_histogram_without_labels(void **state)
{
	static const double bounds[] = { 0.25 };
	static const uint64_t counts[] = { 0, 0 };
	struct metrics *m = metrics_new();
	char *out;

	metric_add_histogram(metrics_family(m, "accel_h_seconds", METRIC_HISTOGRAM, "h"),
			     bounds, counts, 1, 0, NULL);
	out = render_prom(m);
	assert_non_null(strstr(out, "accel_h_seconds_bucket{le=\"0.25\"} 0\n"
				    "accel_h_seconds_bucket{le=\"+Inf\"} 0\n"
				    "accel_h_seconds_sum 0\n"
				    "accel_h_seconds_count 0\n"));
	free(out);
	metrics_free(m);
}

static void test_numbers(void **state)
{
	struct metrics *m = metrics_new();
	struct metric_family *f = metrics_family(m, "accel_n", METRIC_GAUGE, "n");
	const char *third;
	char *out;

	metric_add(f, 0.1, "k", "a", NULL);
	metric_add(f, 1e20, "k", "b", NULL);
	metric_add(f, -3, "k", "c", NULL);
	metric_add(f, 9007199254740991.0, "k", "d", NULL);
	metric_add(f, NAN, "k", "e", NULL);
	metric_add(f, INFINITY, "k", "f", NULL);
	metric_add(f, -INFINITY, "k", "g", NULL);
	metric_add(f, 4.6542e-05, "k", "h", NULL);
	metric_add(f, 1.0 / 3, "k", "i", NULL);
	out = render_prom(m);
	assert_non_null(strstr(out, "accel_n{k=\"a\"} 0.1\n"));
	assert_non_null(strstr(out, "accel_n{k=\"b\"} 1e+20\n"));
	assert_non_null(strstr(out, "accel_n{k=\"c\"} -3\n"));
	assert_non_null(strstr(out, "accel_n{k=\"d\"} 9007199254740991\n"));
	assert_non_null(strstr(out, "accel_n{k=\"e\"} NaN\n"));
	assert_non_null(strstr(out, "accel_n{k=\"f\"} +Inf\n"));
	assert_non_null(strstr(out, "accel_n{k=\"g\"} -Inf\n"));
	/* the shortest form that reads back exactly */
	assert_non_null(strstr(out, "accel_n{k=\"h\"} 4.6542e-05\n"));
	assert_non_null(strstr(out, "accel_n{k=\"i\"} 0.3333333333333333\n"));
	third = strstr(out, "accel_n{k=\"i\"} ");
	assert_non_null(third);
	assert_true(strtod(third + strlen("accel_n{k=\"i\"} "), NULL) == 1.0 / 3);
	free(out);
	metrics_free(m);
}

static void test_invalid_names_refused(void **state)
{
	struct metrics *m = metrics_new();
	struct metric_family *f;
	char *out;

	assert_null(metrics_family(m, "accel-bad", METRIC_COUNTER, "h"));
	assert_null(metrics_family(m, "9accel", METRIC_COUNTER, "h"));
	assert_null(metrics_family(m, "", METRIC_COUNTER, "h"));
	assert_non_null(metrics_family(m, "ns:accel_ok_total", METRIC_COUNTER, "h"));
	f = metrics_family(m, "accel_ok_total", METRIC_COUNTER, "h");
	/* label names: no ':' and not the histogram's "le" */
	assert_int_not_equal(metric_add(f, 1, "a:b", "x", NULL), 0);
	assert_int_not_equal(metric_add(f, 1, "le", "x", NULL), 0);
	assert_int_not_equal(metric_add(f, 1, "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", NULL), 0);
	assert_int_not_equal(metric_add(NULL, 1, NULL), 0);
	assert_int_equal(f->n, 0);
	assert_int_equal(metric_add(f, 7, "a_b", "x", NULL), 0);
	out = render_prom(m);
	assert_non_null(strstr(out, "accel_ok_total{a_b=\"x\"} 7\n"));
	assert_null(strstr(out, "accel-bad"));
	assert_true(metrics_name_valid("_x", true));
	assert_false(metrics_name_valid("x y", false));
	free(out);
	metrics_free(m);
}

static void test_empty_family_has_help_and_type(void **state)
{
	struct metrics *m = metrics_new();
	char *out;

	metrics_family(m, "accel_tcp_timewait_sockets", METRIC_GAUGE, "TIME_WAIT now");
	out = render_prom(m);
	assert_string_equal(out, "# HELP accel_tcp_timewait_sockets TIME_WAIT now\n"
				 "# TYPE accel_tcp_timewait_sockets gauge\n");
	free(out);
	metrics_free(m);
	/* NULL and empty models render nothing */
	out = render_prom(NULL);
	assert_string_equal(out, "");
	free(out);
}

static void test_json(void **state)
{
	static const double bounds[] = { 1280, 1500 };
	static const uint64_t counts[] = { 1, 2, 3 };
	struct metrics *m = metrics_new();
	struct metric_family *f;
	char *out;

	f = metrics_family(m, "accel_bypass_connections_total", METRIC_COUNTER, "Conns \"all\"");
	metric_add(f, 42, "family", "inet", NULL);
	metric_add(f, 0.5, "family", "in\"et6\n", NULL);
	f = metrics_family(m, "accel_mtu", METRIC_HISTOGRAM, "h");
	metric_add_histogram(f, bounds, counts, 2, 9000, NULL);
	out = render_json(m);
	assert_string_equal(out,
		"{\"accel_bypass_connections_total\":{\"type\":\"counter\",\"help\":\"Conns \\\"all\\\"\","
		"\"samples\":[{\"labels\":{\"family\":\"inet\"},\"value\":42},"
		"{\"labels\":{\"family\":\"in\\\"et6\\n\"},\"value\":0.5}]},"
		"\"accel_mtu\":{\"type\":\"histogram\",\"help\":\"h\",\"samples\":[{\"labels\":{},"
		"\"buckets\":[{\"le\":1280,\"count\":1},{\"le\":1500,\"count\":2},{\"le\":\"+Inf\",\"count\":3}],"
		"\"count\":6,\"sum\":9000}]}}");
	free(out);
	metrics_free(m);
}

static void test_find_and_text(void **state)
{
	struct metrics *m = metrics_new();
	struct metric_family *f = metrics_family(m, "accel_tcp_x_total", METRIC_COUNTER, "h");
	const struct metric_sample *s;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	metric_add(f, 1, "family", "inet", "state", "listen", NULL);
	metric_add(f, 2, "family", "inet6", "state", "listen", NULL);
	metric_add(metrics_family(m, "accel_bypass_y_total", METRIC_COUNTER, "h"), 3, NULL);
	/* label order does not matter; the label count does */
	s = metrics_find(m, "accel_tcp_x_total", "state", "listen", "family", "inet6", NULL);
	assert_non_null(s);
	assert_true(s->value == 2);
	assert_string_equal(metric_label(s, "family"), "inet6");
	assert_null(metric_label(s, "nope"));
	assert_null(metrics_find(m, "accel_tcp_x_total", "family", "inet", NULL));
	assert_null(metrics_find(m, "accel_none", NULL));
	out = open_memstream(&buf, &len);
	metrics_write_text(m, "accel_tcp_", out);
	fclose(out);
	assert_string_equal(buf, "  accel_tcp_x_total{family=\"inet\",state=\"listen\"} 1\n"
				 "  accel_tcp_x_total{family=\"inet6\",state=\"listen\"} 2\n");
	free(buf);
	metrics_free(m);
}

/* The real parser agrees: promtool (Debian prometheus, in the test
 * dependencies) lints a model with every feature of the format. */
static void test_promtool_accepts_rendering(void **state)
{
	static const double bounds[] = { 1280, 1400, 1450, 1480, 1492, 1500, 9000 };
	static const uint64_t counts[] = { 1, 0, 2, 0, 0, 7, 1, 4 };
	struct metrics *m;
	struct metric_family *f;
	char cmd[128], out[4096] = "", path[] = "/tmp/accel-test-metrics-XXXXXX";
	FILE *p, *fp;
	size_t n;
	int rc, fd;

	if (access("/usr/bin/promtool", X_OK)) {
		skip();
		return;
	}
	m = metrics_new();
	f = metrics_family(m, "accel_tcp_accept_queue_overflows_total", METRIC_COUNTER,
			   "Drops for a full \"accept\" queue\nper listener; C:\\x");
	metric_add(f, 3, "listener", "[::1]:6379", METRIC_END);
	metric_add(f, 1e15, "listener", "weird \"\\\n name", METRIC_END);
	f = metrics_family(m, "accel_netacct_pmtu_advertised_mtu_bytes", METRIC_HISTOGRAM,
			   "MTU advertised by ICMP frag-needed and ICMPv6 Packet Too Big");
	metric_add_histogram(f, bounds, counts, 7, 1500.0 * 15, "ifname", "veth0", "family", "inet",
			     METRIC_END);
	metric_add_histogram(f, bounds, counts, 7, 0.25, "ifname", "lo", "family", "inet6", METRIC_END);
	f = metrics_family(m, "accel_exporter_collect_duration_seconds", METRIC_GAUGE, "t");
	metric_add(f, 4.6542e-05, METRIC_END);
	f = metrics_family(m, "accel_x_ratio", METRIC_GAUGE, "r");
	metric_add(f, NAN, "k", "nan", METRIC_END);
	metric_add(f, INFINITY, "k", "inf", METRIC_END);
	metrics_family(m, "accel_empty_total", METRIC_COUNTER, "no samples yet");

	/* render to a file, promtool reads it on stdin */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	metrics_write_prometheus(m, fp);
	fclose(fp);
	metrics_free(m);
	snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics <%s 2>&1", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	rc = pclose(p);
	unlink(path);
	if (rc != 0 || n)
		fail_msg("promtool check metrics (status %d): %s", rc, out);
}

enum { TM_CONNS, TM_BYTES, TM_MTU, TM_COUNT };
static const struct metric_desc test_metrics[TM_COUNT] = {
	[TM_CONNS] = { "accel_t_connections_total", METRIC_COUNTER, "", "Conns", { "family", "state" } },
	[TM_BYTES] = { "accel_t_bytes_total", METRIC_COUNTER, "bytes", "Bytes" },
	[TM_MTU] = { "accel_t_mtu", METRIC_HISTOGRAM, "bytes", "MTU", { "ifname" } },
};

static void test_by_descriptor(void **state)
{
	static const double bounds[] = { 1500 };
	static const uint64_t counts[] = { 1, 2 };
	struct metrics *m = metrics_new();
	struct metric_family *c = metrics_family_of(m, &test_metrics[TM_CONNS]);
	struct metric_family *b = metrics_family_of(m, &test_metrics[TM_BYTES]);
	struct metric_family *h = metrics_family_of(m, &test_metrics[TM_MTU]);
	char *out;

	assert_int_equal(metric_desc_nlabels(&test_metrics[TM_CONNS]), 2);
	assert_int_equal(metric_desc_nlabels(&test_metrics[TM_BYTES]), 0);
	assert_int_equal(metric_put(c, 4, "inet", "established"), 0);
	assert_int_equal(metric_put(c, 6, "inet6", "established"), 0);
	assert_int_equal(metric_put(b, 1e6), 0);
	assert_int_equal(metric_put_histogram(h, bounds, counts, 1, 3000, "lo"), 0);
	/* the label values the descriptor names, no more, no fewer */
	assert_int_equal(metric_put(c, 1, "inet"), -EINVAL);
	assert_int_equal(metric_put(b, 1, "x"), -EINVAL);
	assert_int_equal(metric_put(NULL, 1), -EINVAL);
	assert_int_equal(c->n, 2);
	assert_int_equal(b->n, 1);
	/* same family as by name, same rendering */
	assert_ptr_equal(metrics_family(m, "accel_t_bytes_total", METRIC_COUNTER, "x"), b);
	assert_ptr_equal(metrics_family_of(m, &test_metrics[TM_BYTES]), b);
	out = render_prom(m);
	assert_non_null(strstr(out, "accel_t_connections_total{family=\"inet6\",state=\"established\"} 6\n"
				    "# HELP accel_t_bytes_total Bytes\n# TYPE accel_t_bytes_total counter\n"
				    "accel_t_bytes_total 1000000\n"));
	assert_non_null(strstr(out, "accel_t_mtu_bucket{ifname=\"lo\",le=\"+Inf\"} 3\n"));
	free(out);
	/* readers */
	assert_ptr_equal(metrics_get(m, &test_metrics[TM_CONNS]), c);
	assert_true(metric_value(metrics_get(m, &test_metrics[TM_CONNS]), "inet6", "established") == 6);
	assert_true(metric_value(metrics_get(m, &test_metrics[TM_BYTES])) == 1e6);
	assert_null(metric_get(c, "inet", "listen"));
	assert_null(metric_get(c, "inet"));
	assert_true(metric_value(c, "inet", "listen") == 0);
	assert_string_equal(metric_lvalue(metric_get(c, "inet", "established"), 1), "established");
	assert_null(metric_lvalue(metric_get(c, "inet", "established"), 2));
	assert_int_equal(metric_hist_count(metric_get(h, "lo")), 3);
	metrics_free(m);
	/* not collected: no family, every value 0 */
	m = metrics_new();
	assert_null(metrics_get(m, &test_metrics[TM_CONNS]));
	assert_true(metric_value(metrics_get(m, &test_metrics[TM_BYTES])) == 0);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_and_gauge),
		cmocka_unit_test(test_label_value_escaping),
		cmocka_unit_test(test_help_escaping),
		cmocka_unit_test(test_histogram_cumulative),
		cmocka_unit_test(test_histogram_without_labels),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_invalid_names_refused),
		cmocka_unit_test(test_empty_family_has_help_and_type),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_find_and_text),
		cmocka_unit_test(test_promtool_accepts_rendering),
		cmocka_unit_test(test_by_descriptor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
