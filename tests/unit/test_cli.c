// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: option parsing (cli.c) and feature lists (feature.c). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "accel.h"
#include "cli.h"

static const char attach_like[] = "features cgroup ports exclude-ports iface config profile no-tune dry-run";
static const char stats_like[] = "json prometheus watch";
static const struct command attach_cmd = { "attach", NULL, "test", NULL, attach_like, NULL };
static const struct command stats_cmd = { "stats", NULL, "test", NULL, stats_like, NULL };
static const char detach_like[] = "force keep-tuning";
static const struct command detach_cmd = { "detach", NULL, "test", NULL, detach_like, NULL };
static const char doctor_like[] = "json since";
static const struct command doctor_cmd = { "doctor", NULL, "test", NULL, doctor_like, NULL };

static int parse(const struct command *cmd, struct accel_ctx *ctx, struct cli_opts *o, ...)
{
	char *argv[32] = { "accelctl" };
	int argc = 1;
	va_list ap;

	memset(ctx, 0, sizeof(*ctx));
	memset(o, 0, sizeof(*o));
	va_start(ap, o);
	for (char *a; (a = va_arg(ap, char *)) && argc < 31;)
		argv[argc++] = a;
	va_end(ap);
	/* cli_parse prints usage errors: keep them out of the test log */
	fflush(stderr);
	int saved = dup(2), null = open("/dev/null", O_WRONLY);
	dup2(null, 2);
	int ret = cli_parse(cmd, argc, argv, ctx, o);
	dup2(saved, 2);
	close(saved);
	close(null);
	return ret;
}

static void test_attach_options(void **state)
{
	struct accel_ctx ctx;
	struct cli_opts o;

	assert_int_equal(parse(&attach_cmd, &ctx, &o, "--features", "bypass,tcpstate",
			       "--ports", "6379", "--iface", "lo", "--iface", "lo",
			       "-v", "-v", "--pin-root", "/sys/fs/bpf/x", "--cgroup", "a/b", NULL), 0);
	assert_true(ctx.attach.features_explicit);
	assert_int_equal(ctx.attach.features,
			 (1u << feature_index(feature_by_name("bypass"))) |
			 (1u << feature_index(feature_by_name("tcpstate"))));
	assert_int_equal(ctx.attach.ports.n, 1);
	assert_int_equal(ctx.attach.nifaces, 2);
	assert_string_equal(ctx.attach.ifaces[0], "lo");
	assert_int_equal(o.verbose, 2);
	assert_string_equal(ctx.pin_root, "/sys/fs/bpf/x");
	assert_string_equal(ctx.attach.cgroup, "a/b");
}

static void test_attach_rejects(void **state)
{
	struct accel_ctx ctx;
	struct cli_opts o;

	assert_int_equal(parse(&attach_cmd, &ctx, &o, "--bogus", NULL), EXIT_USAGE);
	assert_int_equal(parse(&attach_cmd, &ctx, &o, "--features", "frob", NULL), EXIT_USAGE);
	assert_int_equal(parse(&attach_cmd, &ctx, &o, "--features", NULL), EXIT_USAGE);
	assert_int_equal(parse(&attach_cmd, &ctx, &o, "--ports", "70000", NULL), EXIT_USAGE);
	assert_int_equal(parse(&attach_cmd, &ctx, &o, "--iface", "bad/name", NULL), EXIT_USAGE);
	assert_int_equal(parse(&attach_cmd, &ctx, &o, "--pin-root", "relative", NULL), EXIT_USAGE);
	assert_int_equal(parse(&attach_cmd, &ctx, &o, "--config", "a", "--profile", "b", NULL), EXIT_USAGE);
	assert_int_equal(parse(&attach_cmd, &ctx, &o, "--no-tune", "--profile", "b", NULL), EXIT_USAGE);
	/* an option of another command */
	assert_int_equal(parse(&attach_cmd, &ctx, &o, "--prometheus", NULL), EXIT_USAGE);
}

static void test_stats_options(void **state)
{
	struct accel_ctx ctx;
	struct cli_opts o;

	assert_int_equal(parse(&stats_cmd, &ctx, &o, "--watch", "5", "--json", NULL), 0);
	assert_int_equal(o.watch, 5);
	assert_true(ctx.json);
	assert_int_equal(parse(&stats_cmd, &ctx, &o, "--watch", "0", NULL), EXIT_USAGE);
	assert_int_equal(parse(&stats_cmd, &ctx, &o, "--watch", "3601", NULL), EXIT_USAGE);
	assert_int_equal(parse(&stats_cmd, &ctx, &o, "--json", "--prometheus", NULL), EXIT_USAGE);
	assert_int_equal(parse(&stats_cmd, &ctx, &o, "extra", NULL), 0);
	assert_int_equal(o.nargs, 1);
}

/* --keep-tuning: detach only; elsewhere a usage error (exit 2). */
static void test_keep_tuning_detach_only(void **state)
{
	struct accel_ctx ctx;
	struct cli_opts o;

	(void)state;
	assert_int_equal(parse(&detach_cmd, &ctx, &o, NULL), 0);
	assert_false(ctx.keep_tuning);
	assert_int_equal(parse(&detach_cmd, &ctx, &o, "--keep-tuning", "--force", NULL), 0);
	assert_true(ctx.keep_tuning);
	assert_true(ctx.force);
	assert_int_equal(parse(&attach_cmd, &ctx, &o, "--keep-tuning", NULL), EXIT_USAGE);
	assert_int_equal(parse(&stats_cmd, &ctx, &o, "--keep-tuning", NULL), EXIT_USAGE);
}

/* doctor --since: seconds between two samples, 1-3600; doctor only. */
static void test_doctor_since(void **state)
{
	struct accel_ctx ctx;
	struct cli_opts o;

	assert_int_equal(parse(&doctor_cmd, &ctx, &o, NULL), 0);
	assert_int_equal(o.since, 0);
	assert_false(ctx.json);
	assert_int_equal(parse(&doctor_cmd, &ctx, &o, "--since", "10", "--json", "--netns", "blue", NULL), 0);
	assert_int_equal(o.since, 10);
	assert_true(ctx.json);
	assert_string_equal(ctx.netns, "blue");
	assert_int_equal(parse(&doctor_cmd, &ctx, &o, "--since", "3600", NULL), 0);
	assert_int_equal(parse(&doctor_cmd, &ctx, &o, "--since", "0", NULL), EXIT_USAGE);
	assert_int_equal(parse(&doctor_cmd, &ctx, &o, "--since", "3601", NULL), EXIT_USAGE);
	assert_int_equal(parse(&doctor_cmd, &ctx, &o, "--since", "5s", NULL), EXIT_USAGE);
	assert_int_equal(parse(&doctor_cmd, &ctx, &o, "--since", NULL), EXIT_USAGE);
	assert_int_equal(parse(&doctor_cmd, &ctx, &o, "--watch", "5", NULL), EXIT_USAGE);
	assert_int_equal(parse(&stats_cmd, &ctx, &o, "--since", "5", NULL), EXIT_USAGE);
}

static void test_features_parse(void **state)
{
	unsigned int mask;
	char err[128];

	assert_int_equal(features_parse("all", &mask, err, sizeof(err)), 0);
	assert_int_equal(mask, (1u << nfeatures) - 1);
	assert_int_equal(features_parse("tune", &mask, err, sizeof(err)), 0);
	assert_int_equal(mask, 1u << feature_index(feature_by_name("tune")));
	assert_int_equal(features_parse("tune,nope", &mask, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "nope"));
	assert_int_equal(features_parse("", &mask, err, sizeof(err)), -EINVAL);
	assert_null(feature_by_name("nope"));
	for (int i = 0; i < nfeatures; i++)
		assert_int_equal(feature_index(features[i]), i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_options),
		cmocka_unit_test(test_attach_rejects),
		cmocka_unit_test(test_stats_options),
		cmocka_unit_test(test_keep_tuning_detach_only),
		cmocka_unit_test(test_doctor_since),
		cmocka_unit_test(test_features_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
