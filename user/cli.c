// SPDX-License-Identifier: GPL-2.0-only
/*
 * Option parsing.  Every option is one line of an option table (opts.h):
 * the generic ones below, each feature's in its user/<feature>.c.  Each
 * command names the options it takes (attach: every feature's too); the
 * getopt table and help text are built from the same lines, so `--help`
 * can never drift from what is parsed.  Global options are accepted before
 * and after the command name.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "accel_abi.h"
#include "cli.h"
#include "log.h"
#include "serve_addr.h"
#include "sysenv.h"

#define CTX(f) AO_FIELD_OF(struct accel_ctx, f), .in = AO_CTX
#define CLI(f) AO_FIELD_OF(struct cli_opts, f), .in = AO_CLI

static int set_verbose(const struct accel_opt *opt, void *base, const char *value, char *err, size_t len)
{
	(void)opt, (void)value, (void)err, (void)len;
	((struct cli_opts *)base)->verbose++;
	return 0;
}

/* --pin-root, --state-dir: char[PATH_MAX] in the context */
static int set_abs_path(const struct accel_opt *opt, void *base, const char *value, char *err, size_t len)
{
	if (value[0] != '/' || strlen(value) >= PATH_MAX) {
		snprintf(err, len, "must be an absolute path, got '%s'", value);
		return -EINVAL;
	}
	snprintf((char *)base + opt->off, PATH_MAX, "%s", value);
	return 0;
}

static int set_netns(const struct accel_opt *opt, void *base, const char *value, char *err, size_t len)
{
	struct netns_spec ns;

	(void)opt;
	/* that it is a netns file is checked when entered (main) */
	if (netns_spec_parse(value, &ns, err, len))
		return -EINVAL;
	((struct accel_ctx *)base)->netns = value;
	return 0;
}

static int set_features(const struct accel_opt *opt, void *base, const char *value, char *err, size_t len)
{
	struct attach_opts *a = base;

	(void)opt;
	if (features_parse(value, &a->features, err, len))
		return -EINVAL;
	a->features_explicit = true;
	return 0;
}

/* --timeout: seconds with a fraction, kept in milliseconds */
static int set_timeout(const struct accel_opt *opt, void *base, const char *value, char *err, size_t len)
{
	double t;
	char *end;

	errno = 0;
	t = strtod(value, &end);
	if (errno || end == value || *end || !(t >= opt->lo && t <= opt->hi)) {
		snprintf(err, len, "'%s' is not a number of %s (%llu-%llu)", value, opt->unit,
			 (unsigned long long)opt->lo, (unsigned long long)opt->hi);
		return -EINVAL;
	}
	((struct accel_ctx *)base)->timeout_ms = (unsigned int)(t * 1000 + 0.5);
	return 0;
}

/* The generic options; the features' are in their own tables. */
const struct accel_opt cli_generic_opts[] = {
	{ "verbose", AOT_FLAG, NULL, "more detail; repeat (-vv) for libbpf's own messages",
	  CLI(verbose), .set = set_verbose, .shortopt = 'v' },
	{ "help", AOT_FLAG, NULL, "show this help", CLI(help), .shortopt = 'h' },
	{ "pin-root", AOT_PATH, "DIR",
	  "bpffs directory for pinned maps and links (env ACCELCTL_PIN_ROOT; default " ACCEL_DEFAULT_PIN_ROOT ")",
	  .defval = ACCEL_DEFAULT_PIN_ROOT, CTX(pin_root), .set = set_abs_path },
	{ "state-dir", AOT_PATH, "DIR",
	  "directory for the instance record and tuning journal (env ACCELCTL_STATE_DIR; default " ACCEL_DEFAULT_STATE_DIR ")",
	  .defval = ACCEL_DEFAULT_STATE_DIR, CTX(state_dir), .set = set_abs_path },
	{ "netns", AOT_STRING, "NS",
	  "operate inside network namespace NS: an ip netns NAME, a netns file PATH "
	  "(/proc/PID/ns/net, /run/docker/netns/ID) or pid:PID; pins stay in the host's bpffs",
	  CTX(netns), .set = set_netns },
	{ "json", AOT_FLAG, NULL, "machine-readable JSON output", CTX(json), .shortopt = 'j' },
	{ "features", AOT_STRING, "LIST",
	  "comma-separated subset of bypass,netacct,tcpstate,tune (default: all this host supports)",
	  AO_FIELD(features), .set = set_features },
	{ "force", AOT_FLAG, NULL, "detach now even if it drops queued bypass data or overrides operator changes",
	  CTX(force) },
	{ "timeout", AOT_NUMBER, "SECONDS",
	  "detach: wait up to SECONDS (0-600, default " ACCEL_STR(ACCEL_DETACH_TIMEOUT_S) ") for bypassed bytes "
	  "still unread to be read; what is left stays pinned until read",
	  .defval = ACCEL_STR(ACCEL_DETACH_TIMEOUT_S), .lo = 0, .hi = 600, .unit = "seconds",
	  CTX(timeout_ms), .set = set_timeout },
	{ "handover", AOT_NUMBER, "SECONDS",
	  "bypass: keep accelerated connections accelerated for the next attach to adopt "
	  "(a restart); if none does within SECONDS (1-600) they drain by themselves",
	  .lo = 1, .hi = 600, .unit = "seconds", CTX(handover_s), .only = "detach" },
	{ "keep-tuning", AOT_FLAG, NULL,
	  "leave the tuning applied, its journal (the originals) marked kept; detach the rest",
	  CTX(keep_tuning), .only = "detach" },
	{ "prometheus", AOT_FLAG, NULL,
	  "Prometheus text exposition format (for node_exporter's textfile collector)", CLI(prometheus) },
	{ "watch", AOT_NUMBER, "SECONDS", "refresh every SECONDS (1-3600) with rates",
	  .lo = 1, .hi = 3600, .unit = "seconds", CLI(watch) },
	{ "listen", AOT_STRING, "ADDR:PORT", "address to serve on (default " ACCEL_SERVE_DEFAULT_LISTEN ")",
	  .defval = ACCEL_SERVE_DEFAULT_LISTEN, CLI(listen) },
	{ "once", AOT_FLAG, NULL, "autotune: observe and act once, then exit (for timers)", CLI(once) },
	{ "interval", AOT_NUMBER, "SECONDS",
	  "autotune: seconds between observations (1-3600; default: the profile's [auto] interval)",
	  .lo = 1, .hi = 3600, .unit = "seconds", CLI(interval) },
	{ "since", AOT_NUMBER, "SECONDS",
	  "take two samples SECONDS (1-3600) apart and judge the counters' growth in between",
	  .lo = 1, .hi = 3600, .unit = "seconds", CLI(since), .only = "doctor" },
	{ "sysctl-d", AOT_FLAG, NULL, "profile export: write sysctl.d(5) syntax (KEY = VALUE)",
	  CLI(sysctl_d), .only = "profile" },
	{ "profile-out", AOT_PATH, "FILE",
	  "also write the suggested sysctl changes as an INI profile, each under its finding, "
	  "for review and `attach --config FILE`", CLI(profile_out), .only = "doctor" },
	{ 0 }
};

/* Accepted by every command. */
static const char global_opts[] = "verbose help pin-root state-dir netns";

/* Upper bound on the options one command takes. */
#define CLI_MAX_OPTS (ARRAY_SIZE(cli_generic_opts) + ACCEL_OPT_MAX)

const struct accel_opt *cli_opt_by_name(const char *name)
{
	for (const struct accel_opt *o = cli_generic_opts; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return accel_opt_find(NULL, name);
}

static size_t add_named(const char *names, const struct accel_opt **out, size_t n)
{
	char buf[512], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", names ? names : "");
	for (tok = strtok_r(buf, " ", &save); tok && n < CLI_MAX_OPTS; tok = strtok_r(NULL, " ", &save)) {
		const struct accel_opt *o = cli_opt_by_name(tok);

		if (o)
			out[n++] = o;
		else
			pr_warn("internal: no option '%s' for the command table\n", tok);
	}
	return n;
}

/* The command's options (globals with_globals), in help order. */
static size_t cmd_opts(const struct command *cmd, bool with_globals, const struct accel_opt **out)
{
	size_t n = with_globals ? add_named(global_opts, out, 0) : 0;

	n = add_named(cmd->opts, out, n);
	if (cmd->feature_opts)
		accel_opt_for_each(i, o)
			if (n < CLI_MAX_OPTS)
				out[n++] = o;
	return n;
}

void cli_usage_line(const struct command *cmd, FILE *out)
{
	if (!out)
		pr_err_raw("usage: accelctl %s [OPTIONS]%s%s\n", cmd->name, cmd->args ? " " : "",
			   cmd->args ? cmd->args : "");
	else
		fprintf(out, "usage: accelctl %s [OPTIONS]%s%s\n", cmd->name, cmd->args ? " " : "",
			cmd->args ? cmd->args : "");
}

static void print_opt(const struct accel_opt *s, FILE *out)
{
	char left[64];
	const char *mv = s->type == AOT_FLAG ? NULL : s->metavar;

	if (s->shortopt)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", s->shortopt, s->name, mv ? " " : "", mv ? mv : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", s->name, mv ? " " : "", mv ? mv : "");
	fprintf(out, "  %-28s %s\n", left, s->help);
}

static void print_named(const char *names, FILE *out)
{
	const struct accel_opt *opts[CLI_MAX_OPTS];
	size_t n = add_named(names, opts, 0);

	for (size_t i = 0; i < n; i++)
		print_opt(opts[i], out);
}

void cli_command_help(const struct command *cmd, FILE *out)
{
	const struct accel_opt *opts[CLI_MAX_OPTS];
	size_t n = cmd_opts(cmd, false, opts);

	cli_usage_line(cmd, out);
	fprintf(out, "\n%s\n", cmd->description ? cmd->description : cmd->summary);
	if (n) {
		fprintf(out, "\nOptions:\n");
		for (size_t i = 0; i < n; i++)
			print_opt(opts[i], out);
	}
	fprintf(out, "\nGlobal options:\n");
	print_named(global_opts, out);
	fprintf(out, "\nExit status: 0 ok, 1 failure, 2 bad usage or configuration%s.\n",
		strcmp(cmd->name, "status") ? "" : ", 3 nothing attached");
}

int cli_exit_code(int err)
{
	if (!err)
		return EXIT_OK;
	return err == -ACCEL_ECONFIG ? EXIT_USAGE : EXIT_FAIL;
}

void cli_main_help(const struct command *const *cmds, int ncmds, FILE *out)
{
	char *buf = NULL;
	size_t len = 0;

	/* NULL: as a usage error, through the log (journal priorities) */
	if (!out) {
		FILE *f = open_memstream(&buf, &len);

		if (!f)
			return;
		cli_main_help(cmds, ncmds, f);
		fclose(f);
		pr_err_raw("%s", buf);
		free(buf);
		return;
	}
	fprintf(out,
		"usage: accelctl [GLOBAL OPTIONS] COMMAND [OPTIONS]\n\n"
		"accelctl attaches eBPF programs that accelerate and account same-host TCP:\n"
		"a sockmap bypass for local connections, fragment/MTU/PMTU accounting,\n"
		"TCP lifecycle counters and transactional sysctl/NIC tuning.\n\n"
		"Commands:\n");
	for (int i = 0; i < ncmds; i++)
		fprintf(out, "  %-10s %s\n", cmds[i]->name, cmds[i]->summary);
	fprintf(out, "\nGlobal options:\n");
	print_named(global_opts, out);
	fprintf(out,
		"\n`accelctl help COMMAND` or `accelctl COMMAND --help` explains a command.\n"
		"Exit status: 0 ok, 1 failure, 2 bad usage or configuration;\n"
		"`status` 3 when nothing is attached.\n");
}

static int usage_error(const struct command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(const struct command *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err_raw("accelctl %s: %s\n", cmd->name, msg);
	cli_usage_line(cmd, NULL);
	pr_err_raw("Try 'accelctl %s --help' for more information.\n", cmd->name);
	return EXIT_USAGE;
}

/* An option of no table or of another command: say which. */
static int unknown_option(const struct command *cmd, const char *a)
{
	size_t l = strcspn(a + 2, "=");

	for (const struct accel_opt *o = cli_generic_opts; !strncmp(a, "--", 2) && o->name; o++)
		if (o->only && strlen(o->name) == l && !strncmp(o->name, a + 2, l))
			return usage_error(cmd, "--%s is only valid for `accelctl %s`", o->name, o->only);
	return usage_error(cmd, "unknown option '%s'", a);
}

/* getopt's table for opts; shorts gets the -X letters. */
static void getopt_table(const struct accel_opt **opts, size_t n, struct option *lopts, char *shorts)
{
	for (size_t i = 0; i < n; i++) {
		int has_arg = opts[i]->type == AOT_FLAG ? no_argument : required_argument;

		lopts[i] = (struct option){ opts[i]->name, has_arg, NULL, 256 + (int)i };
		if (opts[i]->shortopt) {
			size_t l = strlen(shorts);

			shorts[l] = opts[i]->shortopt;
			shorts[l + 1] = '\0';
			if (has_arg)
				strcat(shorts, ":");
		}
	}
	lopts[n] = (struct option){ 0 };
}

static const struct accel_opt *opt_of(const struct accel_opt **opts, size_t n, int c)
{
	for (size_t i = 0; i < n; i++)
		if (c == 256 + (int)i || (c < 256 && c == opts[i]->shortopt))
			return opts[i];
	return NULL;
}

int cli_parse(const struct command *cmd, int argc, char **argv,
	      struct accel_ctx *ctx, struct cli_opts *o)
{
	const struct accel_opt *opts[CLI_MAX_OPTS];
	struct option lopts[CLI_MAX_OPTS + 1];
	char shorts[32] = ":", err[160];
	size_t n = cmd_opts(cmd, true, opts);
	int c;

	getopt_table(opts, n, lopts, shorts);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		const struct accel_opt *op = opt_of(opts, n, c);
		int e;

		if (c == ':')
			return usage_error(cmd, "option '%s' needs an argument", argv[optind - 1]);
		if (!op)
			return unknown_option(cmd, argv[optind - 1]);
		/* feature options: the parser profiles use too */
		if (op->in == AO_ATTACH)
			e = accel_opt_parse(op, &ctx->attach, optarg, err, sizeof(err));
		else
			e = accel_opt_parse_into(op, op->in == AO_CTX ? (void *)ctx : (void *)o, optarg,
						 err, sizeof(err));
		if (e == -ENOMEM)
			return EXIT_FAIL;
		if (e)
			return usage_error(cmd, "--%s%s%s", op->name, accel_opt_sep(err), err);
	}
	o->nargs = argc - optind;
	o->args = argv + optind;
	if (ctx->json && o->prometheus)
		return usage_error(cmd, "--json and --prometheus exclude each other");
	if (ctx->attach.config && ctx->attach.profile)
		return usage_error(cmd, "--config and --profile exclude each other");
	if (ctx->attach.no_tune && (ctx->attach.config || ctx->attach.profile))
		return usage_error(cmd, "--no-tune excludes --config and --profile");
	return 0;
}
