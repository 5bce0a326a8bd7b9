// SPDX-License-Identifier: GPL-2.0-only
/*
 * Option parsing.  Every option is described once (name, argument, help);
 * each command lists which it takes, and help text is generated from the
 * same table, so `--help` can never drift from what is parsed.  Global
 * options are accepted before and after the command name.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "accel_abi.h"
#include "cli.h"
#include "log.h"
#include "serve.h"
#include "sysenv.h"

struct opt_spec {
	int id;
	const char *name;
	int has_arg;
	const char *argname;
	const char *help;
	const char *only;		/* the one command that takes it, for the error elsewhere */
};

static const struct opt_spec specs[] = {
	{ OPT_VERBOSE, "verbose", no_argument, NULL,
	  "more detail; repeat (-vv) for libbpf's own messages" },
	{ OPT_HELP, "help", no_argument, NULL, "show this help" },
	{ OPT_PIN_ROOT, "pin-root", required_argument, "DIR",
	  "bpffs directory for pinned maps and links (env ACCELCTL_PIN_ROOT; default " ACCEL_DEFAULT_PIN_ROOT ")" },
	{ OPT_STATE_DIR, "state-dir", required_argument, "DIR",
	  "directory for the instance record and tuning journal (env ACCELCTL_STATE_DIR; default " ACCEL_DEFAULT_STATE_DIR ")" },
	{ OPT_NETNS, "netns", required_argument, "NS",
	  "operate inside network namespace NS: an ip netns NAME, a netns file PATH "
	  "(/proc/PID/ns/net, /run/docker/netns/ID) or pid:PID; pins stay in the host's bpffs" },
	{ OPT_JSON, "json", no_argument, NULL, "machine-readable JSON output" },
	{ OPT_FEATURES, "features", required_argument, "LIST",
	  "comma-separated subset of bypass,netacct,tcpstate,tune (default: all this host supports)" },
	{ OPT_CGROUP, "cgroup", required_argument, "PATH",
	  "bypass: cgroup2 whose sockets are accelerated (default: the cgroup2 root)" },
	{ OPT_PORTS, "ports", required_argument, "LIST",
	  "bypass: accelerate only connections with either end on these ports, e.g. 6379,8080-8090" },
	{ OPT_EXCLUDE_PORTS, "exclude-ports", required_argument, "LIST",
	  "bypass: never accelerate connections with either end on these ports" },
	{ OPT_EVENT_PORTS, "event-ports", required_argument, "LIST",
	  "bypass: listening ports of event-driven servers (nonblocking sockets); on kernels whose sockmap differs from TCP (bypass selftest) only these are accelerated" },
	{ OPT_LEARN, "learn", required_argument, "on|off",
	  "bypass: learn which listening ports serve nonblocking recvmsg readers and accelerate those "
	  "(default on where the bypass selftest finds differences from TCP)" },
	{ OPT_LEARN_CONNS, "learn-conns", required_argument, "N",
	  "bypass: consistent connections (1-10000, default " ACCEL_STR(ACCEL_BYPASS_LEARN_CONNS) ") before a port is accelerated" },
	{ OPT_LEARN_WINDOW, "learn-window", required_argument, "SECONDS",
	  "bypass: the --learn-conns must fall within SECONDS (1-86400, default " ACCEL_STR(ACCEL_BYPASS_LEARN_WINDOW_S) ")" },
	{ OPT_MAX_CONNECTIONS, "max-connections", required_argument, "N",
	  "bypass: accelerated connections the tables hold (" ACCEL_STR(ACCEL_BYPASS_CONNS_MIN) "-2097152; "
	  "default: 131072, less on hosts under 16 GiB of memory)" },
	{ OPT_IFACE, "iface", required_argument, "IF",
	  "netacct: interface to account (repeatable or comma-separated; default lo and the default-route interfaces)" },
	{ OPT_INGRESS, "ingress", required_argument, "HOOK",
	  "netacct: ingress hook: auto (default: tc on veth and where no XDP program can be added, "
	  "XDP elsewhere), xdp (fail if XDP cannot be attached) or tc" },
	{ OPT_CONFIG, "config", required_argument, "FILE", "tune: INI profile to apply" },
	{ OPT_PROFILE, "profile", required_argument, "NAME", "tune: built-in profile to apply (default: loopback)" },
	{ OPT_NO_TUNE, "no-tune", no_argument, NULL, "do not apply any tuning profile" },
	{ OPT_DRY_RUN, "dry-run", no_argument, NULL,
	  "tune: print key, current and new value; change nothing" },
	{ OPT_AUTO, "auto", no_argument, NULL,
	  "tune: adjust limits from observed counters, within the profile's bounds" },
	{ OPT_FORCE, "force", no_argument, NULL,
	  "detach now even if it drops queued bypass data or overrides operator changes" },
	{ OPT_TIMEOUT, "timeout", required_argument, "SECONDS",
	  "detach: wait up to SECONDS (0-600, default " ACCEL_STR(ACCEL_DETACH_TIMEOUT_S) ") for bypassed bytes "
	  "still unread to be read; what is left stays pinned until read" },
	{ OPT_HANDOVER, "handover", required_argument, "SECONDS",
	  "bypass: keep accelerated connections accelerated for the next attach to adopt "
	  "(a restart); if none does within SECONDS (1-600) they drain by themselves",
	  "detach" },
	{ OPT_KEEP_TUNING, "keep-tuning", no_argument, NULL,
	  "leave the tuning applied, its journal (the originals) marked kept; detach the rest",
	  "detach" },
	{ OPT_PROMETHEUS, "prometheus", no_argument, NULL,
	  "Prometheus text exposition format (for node_exporter's textfile collector)" },
	{ OPT_WATCH, "watch", required_argument, "SECONDS", "refresh every SECONDS (1-3600) with rates" },
	{ OPT_LISTEN, "listen", required_argument, "ADDR:PORT", "address to serve on (default " ACCEL_SERVE_DEFAULT_LISTEN ")" },
	{ OPT_ONCE, "once", no_argument, NULL, "autotune: observe and act once, then exit (for timers)" },
	{ OPT_INTERVAL, "interval", required_argument, "SECONDS",
	  "autotune: seconds between observations (1-3600; default: the profile's [auto] interval)" },
	{ OPT_SINCE, "since", required_argument, "SECONDS",
	  "take two samples SECONDS (1-3600) apart and judge the counters' growth in between",
	  "doctor" },
	{ OPT_PROFILE_OUT, "profile-out", required_argument, "FILE",
	  "also write the suggested sysctl changes as an INI profile, each under its finding, "
	  "for review and `attach --config FILE`", "doctor" },
};

/* attach's options: its feature options (attach_keys) among them. */
const int cli_attach_opts[] = { OPT_FEATURES, OPT_CGROUP, OPT_PORTS, OPT_EXCLUDE_PORTS,
				OPT_EVENT_PORTS, OPT_LEARN, OPT_LEARN_CONNS, OPT_LEARN_WINDOW, OPT_MAX_CONNECTIONS,
				OPT_IFACE, OPT_INGRESS, OPT_CONFIG, OPT_PROFILE, OPT_NO_TUNE, OPT_DRY_RUN,
				OPT_AUTO, 0 };

/* Accepted by every command. */
static const int global_opts[] = { OPT_VERBOSE, OPT_HELP, OPT_PIN_ROOT, OPT_STATE_DIR, OPT_NETNS, 0 };

static const struct opt_spec *spec_of(int id)
{
	for (size_t i = 0; i < ARRAY_SIZE(specs); i++)
		if (specs[i].id == id)
			return &specs[i];
	return NULL;
}

int cli_opt_by_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(specs); i++)
		if (!strcmp(specs[i].name, name))
			return specs[i].id;
	return -1;
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

static void print_opt(const struct opt_spec *s, FILE *out)
{
	char left[64];

	if (s->id < 256)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", s->id, s->name, s->argname ? " " : "",
			 s->argname ? s->argname : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", s->name, s->argname ? " " : "",
			 s->argname ? s->argname : "");
	fprintf(out, "  %-28s %s\n", left, s->help);
}

void cli_command_help(const struct command *cmd, FILE *out)
{
	cli_usage_line(cmd, out);
	fprintf(out, "\n%s\n", cmd->description ? cmd->description : cmd->summary);
	if (cmd->opts && cmd->opts[0]) {
		fprintf(out, "\nOptions:\n");
		for (const int *id = cmd->opts; *id; id++)
			print_opt(spec_of(*id), out);
	}
	fprintf(out, "\nGlobal options:\n");
	for (const int *id = global_opts; *id; id++)
		print_opt(spec_of(*id), out);
	fprintf(out, "\nExit status: 0 ok, 1 failure, 2 bad usage or configuration.\n");
}

void cli_main_help(const struct command *cmds, int ncmds, FILE *out)
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
		fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(out, "\nGlobal options:\n");
	for (const int *id = global_opts; *id; id++)
		print_opt(spec_of(*id), out);
	fprintf(out,
		"\n`accelctl help COMMAND` or `accelctl COMMAND --help` explains a command.\n"
		"Exit status: 0 ok, 1 failure, 2 bad usage or configuration.\n");
}

static int usage_error(const struct command *cmd, const char *fmt, const char *a, const char *b)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, a, b);
	pr_err_raw("accelctl %s: %s\n", cmd->name, msg);
	cli_usage_line(cmd, NULL);
	pr_err_raw("Try 'accelctl %s --help' for more information.\n", cmd->name);
	return EXIT_USAGE;
}

static void set_path(char *dst, const char *src)
{
	snprintf(dst, PATH_MAX, "%s", src);
}

int cli_parse(const struct command *cmd, int argc, char **argv,
	      struct accel_ctx *ctx, struct cli_opts *o)
{
	struct option lopts[ARRAY_SIZE(specs) + 1];
	char shorts[32] = ":", err[160];
	int n = 0, c;
	uint64_t v;

	/* Build the getopt table from this command's and the global options. */
	for (int pass = 0; pass < 2; pass++) {
		const int *ids = pass ? cmd->opts : global_opts;

		for (; ids && *ids; ids++) {
			const struct opt_spec *s = spec_of(*ids);

			lopts[n++] = (struct option){ s->name, s->has_arg, NULL, s->id };
			if (s->id < 256) {
				size_t l = strlen(shorts);

				shorts[l] = (char)s->id;
				shorts[l + 1] = '\0';
				if (s->has_arg)
					strcat(shorts, ":");
			}
		}
	}
	lopts[n] = (struct option){ 0 };

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		const struct opt_spec *sp = spec_of(c);
		int ak = sp ? attach_key_by_name(NULL, sp->name) : -1;

		/* a feature option: the parser profiles use too */
		if (ak >= 0) {
			int e = attach_opt_set(&ctx->attach, ak, optarg, err, sizeof(err));

			if (e == -ENOMEM)
				return EXIT_FAIL;
			if (e)
				return usage_error(cmd, "--%s: %s", sp->name, err);
			continue;
		}
		switch (c) {
		case OPT_VERBOSE: o->verbose++; break;
		case OPT_HELP: o->help = true; break;
		case OPT_JSON: ctx->json = true; break;
		case OPT_PIN_ROOT:
			if (optarg[0] != '/' || strlen(optarg) >= PATH_MAX)
				return usage_error(cmd, "--pin-root must be an absolute path, got '%s'%s", optarg, "");
			set_path(ctx->pin_root, optarg);
			break;
		case OPT_STATE_DIR:
			if (optarg[0] != '/' || strlen(optarg) >= PATH_MAX)
				return usage_error(cmd, "--state-dir must be an absolute path, got '%s'%s", optarg, "");
			set_path(ctx->state_dir, optarg);
			break;
		case OPT_NETNS: {
			struct netns_spec ns;

			/* that it is a netns file is checked when entered (main) */
			if (netns_spec_parse(optarg, &ns, err, sizeof(err)))
				return usage_error(cmd, "--netns: %s%s", err, "");
			ctx->netns = optarg;
			break;
		}
		case OPT_FEATURES:
			if (features_parse(optarg, &ctx->attach.features, err, sizeof(err)))
				return usage_error(cmd, "--features: %s%s", err, "");
			ctx->attach.features_explicit = true;
			break;
		case OPT_CONFIG: ctx->attach.config = optarg; break;
		case OPT_PROFILE: ctx->attach.profile = optarg; break;
		case OPT_NO_TUNE: ctx->attach.no_tune = true; break;
		case OPT_DRY_RUN: ctx->attach.dry_run = true; break;
		case OPT_AUTO: ctx->attach.auto_tune = true; break;
		case OPT_FORCE: ctx->force = true; break;
		case OPT_TIMEOUT: {
			double t;
			char *end;

			errno = 0;
			t = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(t >= 0 && t <= 600))
				return usage_error(cmd, "--timeout: '%s' is not a number of seconds (0-600)%s", optarg, "");
			ctx->timeout_ms = (unsigned int)(t * 1000 + 0.5);
			break;
		}
		case OPT_KEEP_TUNING: ctx->keep_tuning = true; break;
		case OPT_HANDOVER:
			if (parse_u64(optarg, 1, 600, &v))
				return usage_error(cmd, "--handover: '%s' is not a number of seconds (1-600)%s",
						   optarg, "");
			ctx->handover_s = (unsigned int)v;
			break;
		case OPT_PROMETHEUS: o->prometheus = true; break;
		case OPT_WATCH:
			if (parse_u64(optarg, 1, 3600, &v))
				return usage_error(cmd, "--watch: '%s' is not a number of seconds (1-3600)%s", optarg, "");
			o->watch = (unsigned int)v;
			break;
		case OPT_LISTEN: o->listen = optarg; break;
		case OPT_ONCE: o->once = true; break;
		case OPT_INTERVAL:
			if (parse_u64(optarg, 1, 3600, &v))
				return usage_error(cmd, "--interval: '%s' is not a number of seconds (1-3600)%s", optarg, "");
			o->interval = (unsigned int)v;
			break;
		case OPT_PROFILE_OUT:
			if (!*optarg)
				return usage_error(cmd, "--profile-out: empty path%s%s", "", "");
			o->profile_out = optarg;
			break;
		case OPT_SINCE:
			if (parse_u64(optarg, 1, 3600, &v))
				return usage_error(cmd, "--since: '%s' is not a number of seconds (1-3600)%s", optarg, "");
			o->since = (unsigned int)v;
			break;
		case ':':
			return usage_error(cmd, "option '%s' needs an argument%s", argv[optind - 1], "");
		default: {
			/* an option of another command: say which */
			const char *a = argv[optind - 1];
			size_t l = strcspn(a + 2, "=");

			for (size_t i = 0; !strncmp(a, "--", 2) && i < ARRAY_SIZE(specs); i++)
				if (specs[i].only && strlen(specs[i].name) == l &&
				    !strncmp(specs[i].name, a + 2, l))
					return usage_error(cmd, "--%s is only valid for `accelctl %s`",
							   specs[i].name, specs[i].only);
			return usage_error(cmd, "unknown option '%s'%s", a, "");
		}
		}
	}
	o->nargs = argc - optind;
	o->args = argv + optind;
	if (ctx->json && o->prometheus)
		return usage_error(cmd, "--json and --prometheus exclude each other%s%s", "", "");
	if (ctx->attach.config && ctx->attach.profile)
		return usage_error(cmd, "--config and --profile exclude each other%s%s", "", "");
	if (ctx->attach.no_tune && (ctx->attach.config || ctx->attach.profile))
		return usage_error(cmd, "--no-tune excludes --config and --profile%s%s", "", "");
	return 0;
}
