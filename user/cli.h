/* SPDX-License-Identifier: GPL-2.0-only */
/* Command-line parsing: global options, the command table, help text. */
#ifndef ACCEL_CLI_H
#define ACCEL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "accel.h"

/* Option identifiers (getopt_long return values for long-only options). */
enum opt_id {
	OPT_VERBOSE = 'v',
	OPT_HELP = 'h',
	OPT_JSON = 'j',
	OPT_PIN_ROOT = 256,
	OPT_STATE_DIR,
	OPT_NETNS,
	OPT_FEATURES,
	OPT_CGROUP,
	OPT_PORTS,
	OPT_EXCLUDE_PORTS,
	OPT_IFACE,
	OPT_CONFIG,
	OPT_PROFILE,
	OPT_NO_TUNE,
	OPT_DRY_RUN,
	OPT_AUTO,
	OPT_FORCE,
	OPT_PROMETHEUS,
	OPT_WATCH,
	OPT_LISTEN,
	OPT_ONCE,
	OPT_INTERVAL,
	OPT_INGRESS,
	OPT_EVENT_PORTS,
	OPT_TIMEOUT,
	OPT_KEEP_TUNING,
	OPT_LEARN,
	OPT_LEARN_CONNS,
	OPT_LEARN_WINDOW,
	OPT_SINCE,
	OPT_HANDOVER,
	OPT_MAX_CONNECTIONS,
	OPT_PROFILE_OUT,
};

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
	int nargs;			/* positional arguments after the command */
	char **args;
};

struct command {
	const char *name;
	const char *args;		/* positional synopsis, e.g. "[COMMAND]" */
	const char *summary;
	const char *description;
	const int *opts;		/* 0-terminated list of enum opt_id */
	int (*run)(struct accel_ctx *ctx, struct cli_opts *o);
};

/* Parse argv (after the command name) into ctx and o.  Returns 0, or
 * EXIT_USAGE after printing what is wrong and the usage line. */
int cli_parse(const struct command *cmd, int argc, char **argv,
	      struct accel_ctx *ctx, struct cli_opts *o);
/* out NULL: to stderr through the log, as an error (log.h). */
void cli_usage_line(const struct command *cmd, FILE *out);
/* The option id of --NAME, or -1. */
int cli_opt_by_name(const char *name);
/* attach's option list (0-terminated). */
extern const int cli_attach_opts[];
void cli_command_help(const struct command *cmd, FILE *out);
void cli_main_help(const struct command *cmds, int ncmds, FILE *out);

#endif
