// SPDX-License-Identifier: GPL-2.0-only
/*
 * Auto-tune: observe → act, within the bounds of the profile's [auto]
 * section, only after `attach --auto`.
 *
 * `accelctl autotune` runs the loop (every [auto] interval seconds, until
 * SIGTERM or detach; a systemd service next to accelctl-attach); with
 * --once it takes one step and exits (a systemd timer, cron, tests).
 * Each step, under the pin-root lock:
 *
 *   TcpExtListenOverflows grew and a listener's accept queue is at the
 *     net.core.somaxconn cap       → double somaxconn, up to somaxconn-max
 *   ephemeral ports in use ≥ port-pressure-pct of ip_local_port_range
 *                                  → tcp_tw_reuse = 1 (if tw-reuse = on),
 *                                    then lower the range start step by
 *                                    step, down to port-low-min
 *   Ip6ReasmFails grew             → double ip6frag_high_thresh, up to
 *                                    ip6frag-high-max
 *
 * The rules are the table rules[] below (condition, action within the
 * bound, cause).  Listener queues and ports in use come from tcpstate's
 * iterator when tcpstate is attached (exact, no text parsing), else from
 * /proc/net/tcp{,6}; the counters from /proc/net/netstat and snmp6.
 *
 * Every action is journaled (fsync'd) before the write, so detach restores
 * the value the host had before attach, and logged with the counter that
 * caused it (also kept in the journal entry's source, shown by status).
 * Counter baselines live in <state-dir>/autotune.state.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/tcp.h>

#include "autotune.h"
#include "cli.h"
#include "journal.h"
#include "log.h"
#include "pin.h"
#include "state.h"
#include "sysctl.h"
#include "tcpstate.h"
#include "tune_rw.h"
#include "util.h"

struct observation {
	uint64_t listen_overflows;	/* TcpExt: ListenOverflows */
	uint64_t reasm_fails6;		/* Ip6ReasmFails */
	/* the fullest listener */
	unsigned int lq_len;
	char lq_name[64];
	/* ephemeral ports */
	unsigned int ports_used, ports_tw, range_lo, range_hi;
	const char *sockets_from;	/* "tcpstate" (its iterator) or "/proc" */
	/* the limits the rules move, as they are now; have_*: read */
	uint64_t somaxconn, tw_reuse, ip6frag_high;
	bool have_somaxconn, have_tw_reuse, have_ip6frag_high;
};

static int snmp_field(const char *file, const char *prefix, const char *name, uint64_t *out)
{
	FILE *f = fopen(file, "re");
	char hdr[4096], val[4096];
	bool two_line = strcmp(file, "/proc/net/snmp6");
	int err = -ENOENT;

	if (!f)
		return -errno;
	if (!two_line) {
		/* snmp6: "Name value" lines */
		while (fgets(hdr, sizeof(hdr), f)) {
			char k[128];
			unsigned long long v;

			if (sscanf(hdr, "%127s %llu", k, &v) == 2 && !strcmp(k, name)) {
				*out = v;
				err = 0;
				break;
			}
		}
		fclose(f);
		return err;
	}
	/* netstat/snmp: a header line and a value line per prefix */
	while (fgets(hdr, sizeof(hdr), f) && fgets(val, sizeof(val), f)) {
		char *hs = NULL, *vs = NULL, *h, *v;

		if (strncmp(hdr, prefix, strlen(prefix)))
			continue;
		/* skip the "TcpExt:" labels */
		(void)strtok_r(hdr, " \n", &hs);
		(void)strtok_r(val, " \n", &vs);
		while ((h = strtok_r(NULL, " \n", &hs)) && (v = strtok_r(NULL, " \n", &vs))) {
			if (!strcmp(h, name)) {
				*out = strtoull(v, NULL, 10);
				err = 0;
				break;
			}
		}
		break;
	}
	fclose(f);
	return err;
}

/* Ports of the ephemeral range seen, so each counts once however many
 * sockets share it. */
struct port_scan {
	struct observation *o;
	unsigned char used[65536 / 8];
};

/* One socket: a listener's accept queue, or a local port in use (and
 * whether it is in TIME_WAIT). */
static void scan_one(struct port_scan *ps, bool listen, bool inet6, unsigned int port,
		     unsigned int accept_len, bool time_wait)
{
	struct observation *o = ps->o;

	if (listen) {
		if (accept_len > o->lq_len) {
			o->lq_len = accept_len;
			snprintf(o->lq_name, sizeof(o->lq_name), "%s port %u", inet6 ? "inet6" : "inet",
				 port);
		}
		return;
	}
	if (port >= o->range_lo && port <= o->range_hi && port < 65536) {
		if (!(ps->used[port / 8] & (1u << (port % 8)))) {
			ps->used[port / 8] |= 1u << (port % 8);
			o->ports_used++;
		}
		o->ports_tw += time_wait;
	}
}

/* /proc/net/tcp{,6}: listeners' accept queues and local ports in use. */
static void scan_proc(struct port_scan *ps)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	char line[512];

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		FILE *f = fopen(files[i], "re");

		if (!f)
			continue;
		if (!fgets(line, sizeof(line), f)) {	/* header */
			fclose(f);
			continue;
		}
		while (fgets(line, sizeof(line), f)) {
			char local[64], remote[64];
			unsigned int st, txq, rxq;
			char *colon;

			if (sscanf(line, "%*d: %63s %63s %x %x:%x", local, remote, &st, &txq, &rxq) != 5)
				continue;
			colon = strrchr(local, ':');
			if (!colon)
				continue;
			/* LISTEN: rx_queue is the accept queue; a TIME_WAIT
			 * socket shows its substate (0x06 TIME_WAIT) */
			scan_one(ps, st == 0x0A, i, (unsigned int)strtoul(colon + 1, NULL, 16), rxq,
				 st == 0x06);
		}
		fclose(f);
	}
}

/* A record of tcpstate's iterator: the same accounting, exact. */
static int scan_rec(const struct accel_tcp_iter_rec *r, void *data)
{
	scan_one(data, r->kind == ACCEL_REC_LISTEN, r->family == ACCEL_FAM_INET6, r->lport,
		 r->accept_len, r->kind == ACCEL_REC_TIMEWAIT && r->state == TCP_TIME_WAIT);
	return 0;
}

/* The sockets from tcpstate's iterator when tcpstate is attached (it
 * reads the kernel's socket tables directly), else from /proc. */
static void scan_sockets(const struct accel_ctx *ctx, struct observation *o)
{
	struct port_scan *ps = calloc(1, sizeof(*ps));
	struct observation keep = *o;
	int e;

	if (!ps)
		return;
	ps->o = o;
	e = tcpstate_for_each_sock(ctx, scan_rec, ps);
	if (!e) {
		o->sockets_from = "tcpstate";
	} else {
		if (e != -ENOENT)
			pr_debug("autotune: tcpstate's iterator failed (%s); reading /proc\n",
				 strerror(-e));
		*o = keep;
		memset(ps->used, 0, sizeof(ps->used));
		scan_proc(ps);
		o->sockets_from = "/proc";
	}
	free(ps);
}

static int read_u64_sysctl(const char *key, uint64_t *v)
{
	char buf[TUNE_VAL_LEN], err[128];
	int64_t f[2];

	if (tune_read(NULL, TK_SYSCTL, "", key, buf, sizeof(buf), err, sizeof(err)) ||
	    sysctl_fields(buf, f, 2) < 1)
		return -EINVAL;
	*v = (uint64_t)f[0];
	return 0;
}

static void observe(const struct accel_ctx *ctx, struct observation *o)
{
	char buf[TUNE_VAL_LEN], err[128];
	int64_t r[2];

	memset(o, 0, sizeof(*o));
	(void)snmp_field("/proc/net/netstat", "TcpExt:", "ListenOverflows", &o->listen_overflows);
	(void)snmp_field("/proc/net/snmp6", "", "Ip6ReasmFails", &o->reasm_fails6);
	if (!tune_read(NULL, TK_SYSCTL, "", "net.ipv4.ip_local_port_range", buf, sizeof(buf), err,
		       sizeof(err)) && sysctl_fields(buf, r, 2) == 2) {
		o->range_lo = (unsigned int)r[0];
		o->range_hi = (unsigned int)r[1];
	}
	o->have_somaxconn = !read_u64_sysctl("net.core.somaxconn", &o->somaxconn);
	o->have_tw_reuse = !read_u64_sysctl("net.ipv4.tcp_tw_reuse", &o->tw_reuse);
	o->have_ip6frag_high = !read_u64_sysctl("net.ipv6.ip6frag_high_thresh", &o->ip6frag_high);
	scan_sockets(ctx, o);
}

static int state_path(const struct accel_ctx *ctx, char *buf, size_t len)
{
	return path_join(buf, len, ctx->state_dir, "autotune.state");
}

/* Version 0, before user/state.c: "ListenOverflows N\nIp6ReasmFails N\n". */
static int baseline_legacy(char *text, unsigned int version, void *rec, struct state_err *err)
{
	struct autotune_baseline *b = rec;
	unsigned long long a, r;

	if (version || sscanf(text, "ListenOverflows %llu\nIp6ReasmFails %llu", &a, &r) != 2)
		return state_fail(err, 1, "not an autotune baseline");
	b->listen_overflows = a;
	b->reasm_fails6 = r;
	return 0;
}

static const struct state_field baseline_fields[] = {
	STATE_F_U64("ListenOverflows", struct autotune_baseline, listen_overflows, STATE_REQUIRED, 0, 0),
	STATE_F_U64("Ip6ReasmFails", struct autotune_baseline, reasm_fails6, STATE_REQUIRED, 0, 0),
};

const struct state_kind autotune_baseline_kind = {
	.name = "autotune", .version = 1,
	.fields = baseline_fields, .nfields = ARRAY_SIZE(baseline_fields),
	.size = sizeof(struct autotune_baseline), .legacy = baseline_legacy,
};

static int state_save(const struct accel_ctx *ctx, const struct observation *o)
{
	struct autotune_baseline b = {
		.listen_overflows = o->listen_overflows, .reasm_fails6 = o->reasm_fails6,
	};
	char path[PATH_MAX];

	if (state_path(ctx, path, sizeof(path)))
		return -ENAMETOOLONG;
	return state_write(&autotune_baseline_kind, path, &b);
}

/* 0, -ENOENT (no baseline yet) or -EINVAL (unreadable: said, and the
 * next save replaces it). */
static int state_load(const struct accel_ctx *ctx, struct observation *o)
{
	struct autotune_baseline b;
	struct state_err err;
	char path[PATH_MAX];
	int e;

	if (state_path(ctx, path, sizeof(path)))
		return -ENOENT;
	e = state_read(&autotune_baseline_kind, path, &b, &err);
	if (e == -EINVAL)
		pr_warn("autotune: ignoring the counter baselines: %s; this step starts a new baseline\n",
			err.msg);
	if (e)
		return e;
	o->listen_overflows = b.listen_overflows;
	o->reasm_fails6 = b.reasm_fails6;
	return 0;
}

void autotune_state_remove(struct accel_ctx *ctx)
{
	char path[PATH_MAX];

	if (!state_path(ctx, path, sizeof(path)))
		unlink(path);
}

int autotune_baseline(struct accel_ctx *ctx)
{
	struct observation o;

	observe(ctx, &o);
	return state_save(ctx, &o);
}

/* Journal first (fsync'd), then write; log with the cause. */
static int act(struct accel_ctx *ctx, struct journal *j, const char *key, const char *cur,
	       const char *val, const char *cause)
{
	struct journal_entry *e = journal_find(j, TK_SYSCTL, "", key);
	char err[256], canon[TUNE_KEY_LEN], path[PATH_MAX];
	int rc;

	if (!e) {
		if (j->n >= TUNE_MAX_ITEMS)
			return -ENOSPC;
		e = &j->e[j->n++];
		memset(e, 0, sizeof(*e));
		e->kind = TK_SYSCTL;
		snprintf(e->key, sizeof(e->key), "%s", key);
		snprintf(e->orig, sizeof(e->orig), "%s", cur);
		if (!sysctl_key_parse(key, canon, sizeof(canon), path, sizeof(path), err, sizeof(err)))
			e->global = !sysctl_key_is_net(canon);
	} else {
		snprintf(e->prev, sizeof(e->prev), "%s", e->new_val);
	}
	snprintf(e->new_val, sizeof(e->new_val), "%s", val);
	snprintf(e->source, sizeof(e->source), "auto: %s", cause);
	rc = journal_write(ctx, j);
	if (rc) {
		pr_err("autotune: cannot journal %s: %s; not changed\n", key, strerror(-rc));
		return rc;
	}
	rc = tune_write(NULL, TK_SYSCTL, "", key, val, err, sizeof(err));
	if (rc) {
		pr_warn("autotune: %s\n", err);
		return rc;
	}
	pr_info("autotune: %s: %s -> %s (cause: %s)\n", key, cur, val, cause);
	return 0;
}

/* Is a sysctl's current value ours to move?  An operator's later change
 * is left alone. */
static bool operator_owned(struct journal *j, const char *key, const char *cur)
{
	struct journal_entry *e = journal_find(j, TK_SYSCTL, "", key);

	return e && strcmp(cur, e->new_val) && strcmp(cur, e->orig);
}

/* ---- the rules ----
 *
 * A rule: a condition over this step's observation (and the baseline's,
 * for counters that must have grown), and an action that names the
 * sysctl's current and new value within the profile's bound -- or says
 * why it does not move it.  The engine (step) leaves a value an operator
 * changed alone, journals, writes and logs with the rule's cause.  Rules
 * see the observation as it was before any of them acted.
 */
struct rule_in {
	const struct observation *now, *base;	/* base: NULL without a baseline */
	const struct tune_bounds *b;
};

struct autotune_rule {
	const char *name;
	const char *key;		/* the sysctl it moves */
	const char *why;		/* what it answers, for the debug log */
	bool (*when)(const struct rule_in *in);
	/* 0: act, cur and val filled; 1: no change (said why) */
	int (*action)(const struct rule_in *in, char *cur, char *val, size_t len);
	void (*cause)(const struct rule_in *in, char *buf, size_t len);
};

static bool accept_overflows(const struct rule_in *in)
{
	return in->base && in->now->listen_overflows > in->base->listen_overflows &&
	       in->b->somaxconn_max && in->now->have_somaxconn;
}

/* Double somaxconn up to somaxconn-max, when a listener's queue is at
 * the cap (else its own listen() backlog is the limit). */
static int raise_somaxconn(const struct rule_in *in, char *cur, char *val, size_t len)
{
	const struct observation *o = in->now;
	uint64_t v = o->somaxconn, max = in->b->somaxconn_max;
	unsigned long long delta = o->listen_overflows - in->base->listen_overflows;

	snprintf(cur, len, "%llu", (unsigned long long)v);
	if (o->lq_len < v) {
		pr_info("autotune: TcpExtListenOverflows +%llu, but the fullest listener (%s) queues %u "
			"< somaxconn %llu: its listen() backlog is the limit; not changing somaxconn\n",
			delta, o->lq_name[0] ? o->lq_name : "none", o->lq_len, (unsigned long long)v);
		return 1;
	}
	if (v >= max) {
		pr_info("autotune: TcpExtListenOverflows +%llu at somaxconn %llu: already at the "
			"profile's bound somaxconn-max %llu\n", delta, (unsigned long long)v,
			(unsigned long long)max);
		return 1;
	}
	snprintf(val, len, "%llu", (unsigned long long)(v * 2 > max ? max : v * 2));
	return 0;
}

static void accept_cause(const struct rule_in *in, char *buf, size_t len)
{
	snprintf(buf, len, "TcpExtListenOverflows +%llu, %s accept queue %u/%llu",
		 (unsigned long long)(in->now->listen_overflows - in->base->listen_overflows),
		 in->now->lq_name, in->now->lq_len, (unsigned long long)in->now->somaxconn);
}

static bool port_pressure(const struct rule_in *in)
{
	const struct observation *o = in->now;
	unsigned int size = o->range_hi - o->range_lo + 1;

	return o->range_hi > o->range_lo &&
	       (unsigned int)((uint64_t)o->ports_used * 100 / size) >= in->b->port_pressure_pct;
}

/* tw-reuse comes first; the range moves only when tcp_tw_reuse is not
 * the answer (off in the bounds, unreadable, or already 1). */
static bool tw_reuse_applies(const struct rule_in *in)
{
	return in->b->tw_reuse && in->now->have_tw_reuse && in->now->tw_reuse != 1;
}

static bool ports_tw_reuse(const struct rule_in *in)
{
	return port_pressure(in) && tw_reuse_applies(in);
}

static int set_tw_reuse(const struct rule_in *in, char *cur, char *val, size_t len)
{
	snprintf(cur, len, "%llu", (unsigned long long)in->now->tw_reuse);
	snprintf(val, len, "1");
	return 0;
}

static bool ports_range(const struct rule_in *in)
{
	return port_pressure(in) && !tw_reuse_applies(in) && in->b->port_low_min &&
	       in->now->range_lo > in->b->port_low_min;
}

/* Lower the range's start by a quarter of its size, down to port-low-min. */
static int widen_range(const struct rule_in *in, char *cur, char *val, size_t len)
{
	const struct observation *o = in->now;
	unsigned int size = o->range_hi - o->range_lo + 1, lo = o->range_lo - size / 4;

	if (lo < in->b->port_low_min || lo > o->range_lo)
		lo = (unsigned int)in->b->port_low_min;
	lo &= ~1u;	/* even start: keeps the connect/bind parity split */
	if (lo < 1024)
		lo = 1024;
	snprintf(cur, len, "%u %u", o->range_lo, o->range_hi);
	snprintf(val, len, "%u %u", lo, o->range_hi);
	return 0;
}

static void ports_cause(const struct rule_in *in, char *buf, size_t len)
{
	const struct observation *o = in->now;
	unsigned int size = o->range_hi - o->range_lo + 1;

	snprintf(buf, len, "ephemeral ports in use %u/%u (%u%%, %u TIME_WAIT)", o->ports_used, size,
		 (unsigned int)((uint64_t)o->ports_used * 100 / size), o->ports_tw);
}

static bool reasm_fails(const struct rule_in *in)
{
	return in->base && in->now->reasm_fails6 > in->base->reasm_fails6 &&
	       in->b->ip6frag_high_max && in->now->have_ip6frag_high &&
	       in->now->ip6frag_high < in->b->ip6frag_high_max;
}

static int raise_ip6frag(const struct rule_in *in, char *cur, char *val, size_t len)
{
	uint64_t v = in->now->ip6frag_high, max = in->b->ip6frag_high_max;

	snprintf(cur, len, "%llu", (unsigned long long)v);
	snprintf(val, len, "%llu", (unsigned long long)(v * 2 > max ? max : v * 2));
	return 0;
}

static void reasm_cause(const struct rule_in *in, char *buf, size_t len)
{
	snprintf(buf, len, "Ip6ReasmFails +%llu",
		 (unsigned long long)(in->now->reasm_fails6 - in->base->reasm_fails6));
}

static const struct autotune_rule rules[] = {
	{ "accept-queue", "net.core.somaxconn",
	  "accept-queue overflows with a listener at the somaxconn cap",
	  accept_overflows, raise_somaxconn, accept_cause },
	{ "tw-reuse", "net.ipv4.tcp_tw_reuse",
	  "ephemeral ports near exhaustion: reuse TIME_WAIT ports for outgoing connections",
	  ports_tw_reuse, set_tw_reuse, ports_cause },
	{ "port-range", "net.ipv4.ip_local_port_range",
	  "ephemeral ports near exhaustion with tcp_tw_reuse already on: a wider range",
	  ports_range, widen_range, ports_cause },
	{ "ip6frag", "net.ipv6.ip6frag_high_thresh",
	  "IPv6 reassembly failures: more memory for fragments being reassembled",
	  reasm_fails, raise_ip6frag, reasm_cause },
};

static int step(struct accel_ctx *ctx, struct journal *j)
{
	struct observation now, base = { 0 };
	struct rule_in in = { .now = &now, .b = &j->bounds };
	char cur[TUNE_VAL_LEN], val[TUNE_VAL_LEN], cause[192];
	int acted = 0, rc;

	if (!state_load(ctx, &base))
		in.base = &base;
	observe(ctx, &now);
	pr_debug("autotune: sockets from %s\n", now.sockets_from);
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		const struct autotune_rule *r = &rules[i];

		if (!r->when(&in) || r->action(&in, cur, val, sizeof(cur)) ||
		    operator_owned(j, r->key, cur))
			continue;
		r->cause(&in, cause, sizeof(cause));
		pr_debug("autotune: rule %s: %s\n", r->name, r->why);
		rc = act(ctx, j, r->key, cur, val, cause);
		if (rc)
			return rc;
		acted++;
	}
	if (state_save(ctx, &now))
		pr_warn("autotune: cannot save counter baselines in %s\n", ctx->state_dir);
	pr_debug("autotune: step done, %d action%s\n", acted, acted == 1 ? "" : "s");
	return acted;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int cmd_autotune(struct accel_ctx *ctx, struct cli_opts *o)
{
	struct journal *j = calloc(1, sizeof(*j));
	int rc = EXIT_OK, saved = -1;
	unsigned int interval = 0;
	bool ran = false;

	if (!j)
		return EXIT_FAIL;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	while (!stop) {
		int lock = -1, e;

		e = pin_root_lock(ctx->pin_root, false, &lock);
		if (e == -EWOULDBLOCK) {
			pr_debug("autotune: pin root busy, skipping this round\n");
		} else {
			e = journal_read(ctx, j);
			if (e == -ENOENT && ran) {
				pin_root_unlock(&lock);
				pr_info("autotune: detached; stopping\n");
				break;
			}
			if (!e && j->kept) {
				pin_root_unlock(&lock);
				pr_info("autotune: the tuning is kept by `detach --keep-tuning`, not attached; %s\n",
					ran ? "stopping" : "attach with `accelctl attach --auto` first");
				rc = ran ? EXIT_OK : EXIT_USAGE;
				break;
			}
			if (e || !j->auto_tune) {
				pin_root_unlock(&lock);
				if (e == -ENOENT || !e)
					pr_err("autotune: %s; attach with `accelctl attach --auto` first\n",
						e ? "nothing is attached (no tuning journal)" :
						"auto-tune was not enabled at attach");
				else
					pr_err("autotune: cannot read the journal: %s\n", strerror(-e));
				rc = e && e != -ENOENT ? EXIT_FAIL : EXIT_USAGE;
				break;
			}
			if (tune_enter_journal_netns(j, &saved)) {
				pin_root_unlock(&lock);
				pr_err("autotune: the tuned network namespace '%s' is gone\n", j->netns);
				rc = EXIT_FAIL;
				break;
			}
			e = step(ctx, j);
			ran = true;
			tune_leave_netns(&saved);
			pin_root_unlock(&lock);
			if (e < 0) {
				rc = EXIT_FAIL;
				if (o->once)
					break;
			}
		}
		if (o->once)
			break;
		interval = o->interval ? o->interval : j->bounds.interval ? j->bounds.interval : 10;
		for (unsigned int s = 0; s < interval && !stop; s++)
			sleep(1);
	}
	free(j);
	return rc;
}
