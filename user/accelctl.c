// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelctl - eBPF accelerator for loopback-heavy Linux hosts.
 *
 * main(): global options, the command table, network namespace entry.
 * Everything a command does lives in feature.c and user/<feature>.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accel_commit.h"
#include "accel.h"
#include "cli.h"
#include "log.h"
#include "bypass.h"
#include "doctor.h"
#include "serve.h"
#include "stats.h"
#include "sysenv.h"
#include "profile.h"

static int exit_code(int err)
{
	return cli_exit_code(err);
}

static int cmd_attach(struct accel_ctx *ctx, struct cli_opts *o)
{
	(void)o;
	/* The profile also configures the other features: read it first. */
	if (!ctx->attach.no_tune) {
		struct tune_profile *p = calloc(1, sizeof(*p));
		int err = p ? profile_load_for_attach(ctx, p) : -ENOMEM;

		if (!err)
			err = profile_merge_attach_opts(ctx, p);
		free(p);
		if (err)
			return exit_code(err);
	}
	if (ctx->attach.dry_run)
		return exit_code(accel_dry_run(ctx));
	return exit_code(accel_attach(ctx));
}

static int cmd_detach(struct accel_ctx *ctx, struct cli_opts *o)
{
	(void)o;
	return exit_code(accel_detach(ctx));
}

static int cmd_status(struct accel_ctx *ctx, struct cli_opts *o)
{
	bool attached = false;
	int err;

	(void)o;
	err = accel_status(ctx, &attached);
	if (err)
		return exit_code(err);
	return attached ? EXIT_OK : EXIT_NOT_ATTACHED;
}

static int cmd_stats(struct accel_ctx *ctx, struct cli_opts *o)
{
	return exit_code(stats_run(ctx, o));
}

static int cmd_serve(struct accel_ctx *ctx, struct cli_opts *o)
{
	return exit_code(serve_run(ctx, o));
}

static int cmd_check(struct accel_ctx *ctx, struct cli_opts *o)
{
	(void)o;
	return exit_code(accel_check(ctx));
}

static int cmd_version(struct accel_ctx *ctx, struct cli_opts *o)
{
	(void)o;
	if (ctx->json) {
		struct json_writer jw;

		jw_init(&jw, stdout, false);
		jw_start_object(&jw);
		jw_kv_string(&jw, "version", ACCELCTL_VERSION);
		jw_kv_string(&jw, "commit", ACCELCTL_COMMIT);
		jw_kv_string(&jw, "libbpf", libbpf_version());
		jw_kv_string(&jw, "kernel", kernel_release());
		jw_end_object(&jw);
		jw_finish(&jw);
	} else {
		printf("accelctl %s (commit %s; libbpf %s, kernel %s)\n", ACCELCTL_VERSION, ACCELCTL_COMMIT,
		       libbpf_version(), kernel_release());
	}
	return EXIT_OK;
}

static int cmd_help(struct accel_ctx *ctx, struct cli_opts *o);

static const char detach_opts[] = "force timeout keep-tuning handover";
static const char json_opts[] = "json";
static const char stats_opts[] = "json prometheus watch";
static const char serve_opts[] = "listen";
static const char doctor_opts[] = "json since profile-out";

/* The generic commands: attach's life cycle and its readers first. */
static const struct command commands[] = {
	{ "attach", NULL, "load, attach and pin the BPF programs; apply tuning",
	  "Load accelctl's BPF programs, attach them, pin them under the pin root and\n"
	  "exit; they stay attached until `accelctl detach`.  All or nothing: if any\n"
	  "feature fails, what was attached is undone.  Attaching again while attached\n"
	  "says so and changes nothing.",
	  "features", cmd_attach, .feature_opts = true },
	{ "detach", NULL, "detach everything attach did and restore tuned settings",
	  "Detach and unpin every program and map under the pin root, restore what\n"
	  "tuning changed, and remove the pin root and instance record.  Bypassed\n"
	  "connections with nothing left unread are released to the TCP stack at\n"
	  "once; those whose reader has not read yet are waited for --timeout\n"
	  "seconds, then kept as a draining generation that the next accelctl\n"
	  "command or `accelctl serve` releases once read (`status` lists it).\n"
	  "With --keep-tuning (for a restart or an upgrade) the tuned settings stay\n"
	  "as they are and the journal with their original values stays in the state\n"
	  "dir, marked kept: the next attach with tuning adopts it (the originals stay\n"
	  "the journal's; only values that differ are written, settings the profile\n"
	  "no longer has go back to their originals), an attach without tuning\n"
	  "restores it first, and a plain detach restores the true originals.\n"
	  "--keep-tuning does not keep the leftover of an interrupted attach.\n"
	  "With --handover SECONDS (a restart: the systemd unit's stop) the bypass is\n"
	  "not detached: it keeps running and the next attach adopts its accelerated\n"
	  "connections; without one within SECONDS it goes back to the stack by\n"
	  "itself and drains.  A plain detach ends a handover at once.",
	  detach_opts, cmd_detach },
	{ "status", NULL, "show what is attached, where and since when",
	  "Show the attached features, each pinned program with its hook and target,\n"
	  "the pin root, state dir, and the libbpf and kernel versions.  Exits 0 when\n"
	  "something is attached (also kept tuning, a handover, a draining generation\n"
	  "or an interrupted attach's leftovers), 3 when nothing is, so that scripts\n"
	  "can test it like `systemctl is-active`.  Fails (exit 1) when it cannot read\n"
	  "the pins or records (not root) or the instance record: it never guesses.",
	  json_opts, cmd_status },
	{ "stats", NULL, "show counters (tables, --json or --prometheus)",
	  "Read the pinned maps and print every counter: human tables by default,\n"
	  "JSON with --json, the Prometheus text format with --prometheus.  Fails\n"
	  "(exit 1) when it cannot read the pins or records (not root): no zeros.",
	  stats_opts, cmd_stats },
	{ "serve", NULL, "serve /metrics over HTTP for Prometheus",
	  "Serve the counters at http://ADDR:PORT/metrics in the Prometheus text\n"
	  "format (and /healthz), reading the pinned maps on each scrape, until\n"
	  "SIGINT or SIGTERM.  Runs independently of attach: with nothing attached\n"
	  "it serves accel_feature_attached 0.  It listens in the network namespace\n"
	  "it starts in and reads counters in the one attach used (or --netns).",
	  serve_opts, cmd_serve },
};

/* The tools: after every feature's own commands in `accelctl help`. */
static const struct command tools[] = {
	{ "doctor", NULL, "find what is wrong from the kernel's counters, with the fix",
	  "Read the network namespace's own counters (/proc/net/snmp, snmp6, netstat,\n"
	  "sockstat), its sysctls and TCP sockets (sock_diag, with the process holding\n"
	  "each listener), and the host's /proc/net/softnet_stat, and print findings:\n"
	  "ephemeral-port pressure per destination, TIME_WAIT bucket overflow,\n"
	  "accept-queue overflows per listener, SYN-queue overflows and syncookies,\n"
	  "SYN-ACK retransmits, IPv4/IPv6 reassembly timeouts and failures, resets\n"
	  "sent by reason, processes near their descriptor limit (RLIMIT_NOFILE),\n"
	  "the local servers the attached bypass accelerates and why not the others,\n"
	  "and (with --since) softnet backlog drops and time squeezes.  Each has a\n"
	  "severity, the evidence, the cause, the fix (sysctl key and value, or the\n"
	  "application change) and its section in docs/doctor.md.  --profile-out FILE\n"
	  "writes the sysctl fixes as a profile.  Nothing needs to be attached; nothing is\n"
	  "changed.  Without --since the counters count from the namespace's creation\n"
	  "(boot), and growth that nothing shows now is info, not a warning; with\n"
	  "--since S two samples S seconds apart are compared.  What cannot be read is\n"
	  "listed as not checked, with the reason.  Exit 0 when it ran, findings or not\n"
	  "(scripts read --json: .summary, .findings[].severity); 1 when no source\n"
	  "could be read at all.",
	  doctor_opts, cmd_doctor },
	{ "check", NULL, "report what this host supports, and why not (nothing changes)",
	  "Probe the running kernel and mounts for everything attach needs: the bpf(2)\n"
	  "syscall and kernel BTF, bpffs, cgroup2, each feature's program and map\n"
	  "types, helpers and tracepoints (the probes attach runs), bypass learning's\n"
	  "tracepoint, the sockmap self-test (does the bypass run in learning mode),\n"
	  "and whether XDP shares interfaces through libxdp's dispatcher or runs\n"
	  "exclusive (probed by a real attach on the loopback device of a scratch\n"
	  "network namespace that disappears with it).  One line per check with the\n"
	  "reason; --json for scripts.  Exit 0 when `attach` with the default\n"
	  "features would succeed, 1 when it would not.",
	  json_opts, cmd_check },
	{ "version", NULL, "print accelctl's version and git commit, libbpf and kernel versions", NULL, json_opts, cmd_version },
	{ "help", "[COMMAND]", "show help for accelctl or a command", NULL, NULL, cmd_help },
};

/* commands[], every feature's (features[] backwards: bypass's, then
 * tune's profile and autotune), tools[]. */
static const struct command *cmds[ARRAY_SIZE(commands) + ARRAY_SIZE(tools) + 16];
static int ncmds;

static void commands_init(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		cmds[ncmds++] = &commands[i];
	for (int f = nfeatures - 1; f >= 0; f--)
		for (const struct command *c = features[f]->commands; c && c->name; c++)
			if (ncmds < (int)ARRAY_SIZE(cmds) - (int)ARRAY_SIZE(tools))
				cmds[ncmds++] = c;
	for (size_t i = 0; i < ARRAY_SIZE(tools); i++)
		cmds[ncmds++] = &tools[i];
}

static const struct command *command_by_name(const char *name)
{
	for (int i = 0; i < ncmds; i++)
		if (!strcmp(cmds[i]->name, name))
			return cmds[i];
	return NULL;
}

static int cmd_help(struct accel_ctx *ctx, struct cli_opts *o)
{
	const struct command *c;

	(void)ctx;
	if (!o->nargs) {
		cli_main_help(cmds, ncmds, stdout);
		return EXIT_OK;
	}
	c = command_by_name(o->args[0]);
	if (!c) {
		pr_err("unknown command '%s'; see `accelctl help`\n", o->args[0]);
		return EXIT_USAGE;
	}
	cli_command_help(c, stdout);
	return EXIT_OK;
}

static void ctx_init(struct accel_ctx *ctx)
{
	const char *e;

	memset(ctx, 0, sizeof(*ctx));
	ctx->lock_fd = -1;
	ctx->timeout_ms = ACCEL_DETACH_TIMEOUT_MS;
	ctx->attach.learn = -1;
	e = getenv("ACCELCTL_PIN_ROOT");
	snprintf(ctx->pin_root, sizeof(ctx->pin_root), "%s", e && *e ? e : ACCEL_DEFAULT_PIN_ROOT);
	e = getenv("ACCELCTL_STATE_DIR");
	snprintf(ctx->state_dir, sizeof(ctx->state_dir), "%s", e && *e ? e : ACCEL_DEFAULT_STATE_DIR);
}

/* Global options may come before the command: the command, at
 * argv[*at]; NULL when there is none to run, with the exit status. */
static const struct command *find_command(struct accel_ctx *ctx, struct cli_opts *o, int argc, char **argv,
					  int *at, int *ret)
{
	const struct command *cmd;
	int i;

	*ret = EXIT_OK;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			cli_main_help(cmds, ncmds, stdout);
			return NULL;
		}
		if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			*ret = cmd_version(ctx, o);
			return NULL;
		}
		if (!strcmp(argv[i], "--pin-root") || !strcmp(argv[i], "--state-dir") ||
		    !strcmp(argv[i], "--netns"))
			i++;	/* skip the value; parsed with the command's options */
	}
	*ret = EXIT_USAGE;
	if (i >= argc) {
		cli_main_help(cmds, ncmds, NULL);
		return NULL;
	}
	cmd = command_by_name(argv[i]);
	if (!cmd)
		pr_err("unknown command '%s'; see `accelctl help`\n", argv[i]);
	*at = i;
	return cmd;
}

/* Commands after attach run in the namespace attach used (or --netns). */
static int run_in_netns(struct accel_ctx *ctx, const struct command *cmd, struct cli_opts *o)
{
	struct instance_info ii;
	char *netns = NULL;
	int ret;

	if (!ctx->netns && !instance_read(ctx, &ii) && ii.netns[0])
		ctx->netns = netns = strdup(ii.netns);
	if (ctx->netns) {
		int err = netns_enter(ctx->netns);

		/* --netns that can never be right (not a netns file) is bad
		 * usage; one that is not there (now) is a failure */
		if (err) {
			ret = !netns && (err == -ENOTTY || err == -EINVAL) ? EXIT_USAGE : EXIT_FAIL;
			free(netns);
			return ret;
		}
	}
	if (netns_cookie(&ctx->netns_cookie))
		ctx->netns_cookie = 0;
	/* pid:PID and /proc paths name whatever that process is in now */
	if (netns && ii.netns_cookie && ctx->netns_cookie && ii.netns_cookie != ctx->netns_cookie)
		pr_warn("network namespace '%s' is not the one attach used (cookie %llu, attach's %llu): "
			"that one is gone or no longer reachable by this name; give it with --netns\n",
			netns, (unsigned long long)ctx->netns_cookie, (unsigned long long)ii.netns_cookie);
	ret = cmd->run(ctx, o);
	free(netns);
	return ret;
}

int main(int argc, char **argv)
{
	static struct accel_ctx ctx;
	struct cli_opts o = { 0 };
	const struct command *cmd;
	char **av = NULL;
	int i = 0, n = 0, ret;

	accel_build_commit = ACCELCTL_COMMIT;
	ctx_init(&ctx);
	commands_init();
	cmd = find_command(&ctx, &o, argc, argv, &i, &ret);
	if (!cmd)
		return ret;
	/* Parse the leading globals and the command's options in one go. */
	av = calloc(argc + 1, sizeof(char *));
	if (!av)
		return EXIT_FAIL;
	av[n++] = argv[0];
	for (int j = 1; j < argc; j++)
		if (j != i)
			av[n++] = argv[j];
	ret = cli_parse(cmd, n, av, &ctx, &o);
	if (ret)
		goto cleanup;
	if (o.help) {
		cli_command_help(cmd, stdout);
		goto cleanup;
	}
	ret = EXIT_USAGE;
	if (!cmd->args && o.nargs) {
		pr_err_raw("accelctl %s: unexpected argument '%s'\n", cmd->name, o.args[0]);
		cli_usage_line(cmd, NULL);
		goto cleanup;
	}
	log_init(o.verbose);
	if (cmd->run == cmd_help || cmd->run == cmd_version) {
		ret = cmd->run(&ctx, &o);
		goto cleanup;
	}
	signal(SIGPIPE, SIG_IGN);
	/* serve listens here and enters the namespace per scrape (serve.c). */
	if (cmd->run == cmd_serve)
		ret = cmd->run(&ctx, &o);
	else
		ret = run_in_netns(&ctx, cmd, &o);
cleanup:
	free(av);
	return ret;
}
