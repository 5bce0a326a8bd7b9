/* SPDX-License-Identifier: GPL-2.0-only */
/* Command-line parsing: global options, the command table, help text. */
#ifndef ACCEL_CLI_H
#define ACCEL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "accel.h"
#include "opts.h"

struct cli_opts {
	int verbose;
	bool help;
	bool prometheus;
	unsigned int watch;		/* seconds, 0 = once */
	const char *listen;
	bool once;			/* autotune: one step */
	unsigned int interval;		/* autotune: seconds, 0 = the profile's */
	unsigned int since;		/* doctor: seconds between two samples, 0 = one */
	const char *profile_out;	/* doctor: write the suggested sysctls as a profile */
	bool sysctl_d;			/* profile export: sysctl.d syntax */
	int nargs;			/* positional arguments after the command */
	char **args;
};

struct command {
	const char *name;
	const char *args;		/* positional synopsis, e.g. "[COMMAND]" */
	const char *summary;
	const char *description;
	const char *opts;		/* the options it takes by name, space-separated */
	int (*run)(struct accel_ctx *ctx, struct cli_opts *o);
	bool feature_opts;		/* and every feature's (attach) */
};

/* Parse argv (after the command name) into ctx and o.  Returns 0, or
 * EXIT_USAGE after printing what is wrong and the usage line. */
int cli_parse(const struct command *cmd, int argc, char **argv,
	      struct accel_ctx *ctx, struct cli_opts *o);
/* out NULL: to stderr through the log, as an error (log.h). */
void cli_usage_line(const struct command *cmd, FILE *out);
/* The options every command may name (--pin-root, --json, ...); the
 * features' are in their tables (accel_opt_for_each). */
extern const struct accel_opt cli_generic_opts[];
/* The option --NAME (a generic one or a feature's), or NULL. */
const struct accel_opt *cli_opt_by_name(const char *name);
void cli_command_help(const struct command *cmd, FILE *out);
void cli_main_help(const struct command *const *cmds, int ncmds, FILE *out);
/* A command's exit code for a feature's 0 / -errno: -ACCEL_ECONFIG is bad
 * usage or configuration (2), any other error a failure (1). */
int cli_exit_code(int err);

#endif
