/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests: run cli_parse() on a fresh context with its stderr
 * captured, for the tests that compare the command line's messages with
 * a profile's (test_opts.c, test_profile.c).
 */
#ifndef ACCEL_TEST_CLI_CAPTURE_H
#define ACCEL_TEST_CLI_CAPTURE_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* cli_parse(cmd, argc, argv) on a zeroed ctx (learn unset, as main()
 * leaves it): its exit code, what it wrote to stderr in msg. */
static inline int cli_parse_captured(const struct command *cmd, int argc, char **argv, struct accel_ctx *ctx,
				     char *msg, size_t len)
{
	struct cli_opts o = { 0 };
	FILE *f = tmpfile();
	int saved = dup(2), ret;
	size_t n;

	memset(ctx, 0, sizeof(*ctx));
	ctx->attach.learn = -1;
	fflush(stderr);
	dup2(fileno(f), 2);
	ret = cli_parse(cmd, argc, argv, ctx, &o);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(msg, 1, len - 1, f);
	msg[n] = '\0';
	fclose(f);
	return ret;
}

#endif
