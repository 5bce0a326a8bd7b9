// SPDX-License-Identifier: GPL-2.0-only
/*
 * tune: sysctl and NIC tuning profiles, applied transactionally and
 * restored exactly, even after a crash.
 *
 *   1. validate every setting of the profile (the key exists in this kernel
 *      and namespace, the value parses and is in range, relations hold, the
 *      device has the setting) -- any error: exit 2, nothing changed;
 *   2. write the journal with every original value, fsync'd;
 *   3. write the values; on any failure put back what was written and
 *      exit 1 naming the setting;
 *   detach: put back every original value that is still ours, report the
 *   operator's later changes as conflicts (kept unless --force), remove the
 *   journal.  A journal without an instance record is an interrupted
 *   attach: the generic code sees attached() and detaches first.
 *
 *   detach --keep-tuning marks the journal kept (keep) and changes no
 *   value.  The next attach adopts it: the plan starts from the journal's
 *   originals, so the result is exactly what restoring then attaching
 *   would give, without the round trip: a setting already journaled keeps
 *   its original, is written only when its value now differs from the
 *   target, and a journaled setting the profile no longer changes goes
 *   back to its original.  While it runs, the journal (format 1, not
 *   kept) holds every original and both the value before this attach and
 *   the target: a kill -9 leaves an interrupted attach that detach
 *   restores to the true originals.  A failure writes back the values from
 *   before this attach and the kept journal (rollback: not past it).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accel.h"
#include "autotune.h"
#include "cli.h"
#include "journal.h"
#include "log.h"
#include "nic.h"
#include "opts.h"
#include "profile.h"
#include "state.h"
#include "status_model.h"
#include "sysctl.h"
#include "sysenv.h"
#include "profile_io.h"
#include "tune.h"

/* Metric label: sysctl name, or "nic:IF:setting". */
static const char *metric_key(const struct journal_entry *e, char *buf, size_t len)
{
	if (e->kind == TK_SYSCTL)
		snprintf(buf, len, "%s", e->key);
	else
		snprintf(buf, len, "nic:%s:%s", e->ifname, tune_kind_name(e->kind));
	return buf;
}

/* Feature groups are kept bit by bit ("tx-tcp-segmentation=on,..."); shown
 * as plain "on"/"off" when every bit agrees.  Other lists ("0=3 1=c", one
 * value per queue) as they are. */
static const char *show(const char *v, char *buf, size_t len)
{
	bool on = false, off = false;

	if (!strchr(v, '='))
		return v;
	for (const char *p = strchr(v, '='); p; p = strchr(p + 1, '=')) {
		on |= !strncmp(p + 1, "on", 2);
		off |= !strncmp(p + 1, "off", 3);
		if (strncmp(p + 1, "on", 2) && strncmp(p + 1, "off", 3))
			return v;
	}
	snprintf(buf, len, "%s", on && off ? v : on ? "on" : "off");
	return buf;
}

/* ---- the plan: validation ---- */

struct tune_change {
	const struct tune_item *it;
	const struct journal_entry *base;	/* the kept journal's entry, or NULL */
	char label[TUNE_KEY_LEN + 32];
	char cur[TUNE_VAL_LEN];		/* before any tuning: base's original, else now */
	char now[TUNE_VAL_LEN];		/* the value now (what a rollback writes back) */
	char new_val[TUNE_VAL_LEN];
	char skip[3 * TUNE_VAL_LEN + 256];	/* non-empty: not applied, and why */
	bool global;
	bool written;
	bool restore;			/* a kept setting this profile does not change:
					 * new_val is its original */
};

struct tune_plan {
	const struct tune_profile *p;
	const struct journal *base;	/* kept journal being adopted, or NULL */
	int n, errors, warnings;
	struct tune_change c[TUNE_MAX_ITEMS];
	struct tune_item extra[TUNE_MAX_ITEMS];	/* kept settings not in the profile */
	int nextra;
};

static struct tune_change *plan_find(struct tune_plan *pl, const char *key)
{
	for (int i = 0; i < pl->n; i++)
		if (pl->c[i].it->kind == TK_SYSCTL && !strcmp(pl->c[i].it->key, key))
			return &pl->c[i];
	return NULL;
}

/* The value a key will have after the apply (new if in the plan, else
 * the kept journal's original, which a skipped kept setting goes back to,
 * else the current one); "" when unknown. */
static void effective(struct tune_plan *pl, const char *key, char *buf, size_t len)
{
	struct tune_change *c = plan_find(pl, key);
	const struct journal_entry *e = pl->base ?
		journal_find((struct journal *)pl->base, TK_SYSCTL, "", key) : NULL;
	char path[PATH_MAX], canon[TUNE_KEY_LEN], err[64];

	buf[0] = '\0';
	if (c && !c->skip[0]) {
		snprintf(buf, len, "%s", c->new_val);
		return;
	}
	if (e) {
		snprintf(buf, len, "%s", e->orig);
		return;
	}
	if (!sysctl_key_parse(key, canon, sizeof(canon), path, sizeof(path), err, sizeof(err)))
		(void)sysctl_read(path, buf, len);
}

static void plan_error(struct tune_plan *pl, const struct tune_item *it, const char *msg)
{
	char where[PATH_MAX + 16] = "";

	if (it && it->line)
		snprintf(where, sizeof(where), "%s:%d: ", pl->p->source, it->line);
	pr_warn("%s%s\n", where, msg);
	pl->errors++;
}

static int64_t field(const char *v, int i)
{
	int64_t f[4] = { 0 };

	return sysctl_fields(v, f, 4) > i ? f[i] : -1;
}

/* Relations between keys, on the values they will have. */
static void plan_relations(struct tune_plan *pl)
{
	char a[TUNE_VAL_LEN], b[TUNE_VAL_LEN];
	static const char *const mem[][2] = {
		{ "net.ipv4.tcp_rmem", "net.core.rmem_max" },
		{ "net.ipv4.tcp_wmem", "net.core.wmem_max" },
	};
	static const char *const frag[][2] = {
		{ "net.ipv4.ipfrag_low_thresh", "net.ipv4.ipfrag_high_thresh" },
		{ "net.ipv6.ip6frag_low_thresh", "net.ipv6.ip6frag_high_thresh" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(mem); i++) {
		if (!plan_find(pl, mem[i][0]) && !plan_find(pl, mem[i][1]))
			continue;
		effective(pl, mem[i][0], a, sizeof(a));
		effective(pl, mem[i][1], b, sizeof(b));
		if (field(a, 2) > 0 && field(b, 0) > 0 && field(a, 2) > field(b, 0)) {
			pr_warn("warning: %s max %lld > %s %lld: autotuned buffers grow to %lld, but an "
				"application setting SO_%sBUF is capped at %lld\n", mem[i][0],
				(long long)field(a, 2), mem[i][1], (long long)field(b, 0),
				(long long)field(a, 2), i ? "SND" : "RCV", (long long)field(b, 0));
			pl->warnings++;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(frag); i++) {
		if (!plan_find(pl, frag[i][0]) && !plan_find(pl, frag[i][1]))
			continue;
		effective(pl, frag[i][0], a, sizeof(a));
		effective(pl, frag[i][1], b, sizeof(b));
		if (field(a, 0) >= 0 && field(b, 0) >= 0 && field(a, 0) > field(b, 0)) {
			char msg[256];

			snprintf(msg, sizeof(msg), "%s %lld is above %s %lld; the kernel refuses that",
				 frag[i][0], (long long)field(a, 0), frag[i][1], (long long)field(b, 0));
			plan_error(pl, plan_find(pl, frag[i][0]) ? plan_find(pl, frag[i][0])->it : NULL,
				   msg);
		}
	}
	effective(pl, "net.ipv4.ip_local_port_range", a, sizeof(a));
	if (plan_find(pl, "net.ipv4.ip_local_port_range") && field(a, 0) >= 0) {
		if (field(a, 0) < 1024) {
			pr_warn("warning: net.ipv4.ip_local_port_range starts at %lld: ephemeral ports below "
				"1024 collide with privileged services' ports\n", (long long)field(a, 0));
			pl->warnings++;
		}
		if (field(a, 1) - field(a, 0) < 1000) {
			pr_warn("warning: net.ipv4.ip_local_port_range '%s' leaves fewer than 1000 ephemeral "
				"ports\n", a);
			pl->warnings++;
		}
	}
	effective(pl, "net.ipv4.tcp_tw_reuse", a, sizeof(a));
	effective(pl, "net.ipv4.tcp_timestamps", b, sizeof(b));
	if ((plan_find(pl, "net.ipv4.tcp_tw_reuse") || plan_find(pl, "net.ipv4.tcp_timestamps")) &&
	    field(a, 0) >= 1 && field(b, 0) == 0) {
		pr_warn("warning: net.ipv4.tcp_tw_reuse needs net.ipv4.tcp_timestamps (PAWS) to take effect\n");
		pl->warnings++;
	}
}

/* RFS steers a flow to the CPU its application runs on only with both
 * tables: the host-wide socket flow table and a queue's flow table. */
static void plan_rfs(struct tune_plan *pl)
{
	char v[TUNE_VAL_LEN];
	bool queues = false;

	for (int i = 0; i < pl->n; i++)
		queues |= pl->c[i].it->kind == TK_RPS_FLOW_CNT && !pl->c[i].skip[0] &&
			  strcmp(pl->c[i].new_val, "0");
	if (!queues)
		return;
	effective(pl, "net.core.rps_sock_flow_entries", v, sizeof(v));
	if (field(v, 0) == 0) {
		pr_warn("warning: rps-flow-cnt sizes the queues' RFS tables, but "
			"net.core.rps_sock_flow_entries is 0: RFS stays off until it is set (host-wide)\n");
		pl->warnings++;
	}
}

static void check_sysctl(struct accel_ctx *ctx, struct tune_plan *pl, struct tune_change *c)
{
	const struct tune_item *it = c->it;
	char path[PATH_MAX], canon[TUNE_KEY_LEN], err[256], msg[512];
	bool in_ns = !netns_is_initial();
	int e;

	if (sysctl_key_parse(it->key, canon, sizeof(canon), path, sizeof(path), err, sizeof(err))) {
		plan_error(pl, it, err);
		return;
	}
	c->global = !sysctl_key_is_net(canon);
	if (in_ns && c->global) {
		if (it->host_only) {
			snprintf(c->skip, sizeof(c->skip), "host-wide key: not changed from inside a network namespace");
			return;
		}
		snprintf(msg, sizeof(msg), "%s is host-wide, not per network namespace: refusing to change "
			 "the host from --netns %s (apply it without --netns)", canon,
			 ctx->netns ? ctx->netns : "");
		plan_error(pl, it, msg);
		return;
	}
	if (access(path, F_OK)) {
		if (in_ns && sysctl_key_is_net(canon) && sysctl_exists_in_initial_netns(path)) {
			if (it->host_only) {
				snprintf(c->skip, sizeof(c->skip),
					 "host-wide key: exists only in the initial network namespace");
				return;
			}
			snprintf(msg, sizeof(msg), "%s is not writable in a network namespace: the kernel "
				 "keeps one host-wide value, settable only from the initial namespace "
				 "(apply it without --netns)", canon);
		} else {
			snprintf(msg, sizeof(msg), "%s: no such sysctl in this kernel%s", canon,
				 in_ns ? " and network namespace" : "");
		}
		plan_error(pl, it, msg);
		return;
	}
	if (access(path, W_OK)) {
		if (in_ns && it->host_only) {
			snprintf(c->skip, sizeof(c->skip), "read-only in a network namespace (host-wide setting)");
			return;
		}
		snprintf(msg, sizeof(msg), in_ns ? "%s is not writable in a network namespace: the kernel "
			 "makes it read-only outside the initial namespace (apply it without --netns)" :
			 "%s is read-only", canon);
		plan_error(pl, it, msg);
		return;
	}
	e = sysctl_read(path, c->now, sizeof(c->now));
	if (e) {
		snprintf(msg, sizeof(msg), "%s: cannot read the current value: %s", canon, strerror(-e));
		plan_error(pl, it, msg);
		return;
	}
	snprintf(c->cur, sizeof(c->cur), "%s", c->base ? c->base->orig : c->now);
	if (sysctl_check_value(canon, c->now, it->value, err, sizeof(err))) {
		plan_error(pl, it, err);
		return;
	}
	snprintf(c->new_val, sizeof(c->new_val), "%s", it->value);
	if (it->at_least) {
		int64_t cur[1], want[1];

		if (sysctl_fields(c->cur, cur, 1) == 1 && sysctl_fields(it->value, want, 1) == 1 &&
		    cur[0] >= want[0]) {
			snprintf(c->skip, sizeof(c->skip), "already %lld (profile asks for at least %lld)",
				 (long long)cur[0], (long long)want[0]);
			return;
		}
	}
}

/* e of one step of check_nic(): -EOPNOTSUPP skips the change (err says
 * why), another error is the plan's; true for both. */
static bool nic_step_failed(struct tune_plan *pl, struct tune_change *c, int e, const char *err)
{
	if (e == -EOPNOTSUPP)
		snprintf(c->skip, sizeof(c->skip), "%s", err);
	else if (e)
		plan_error(pl, c->it, err);
	return e != 0;
}

static void check_nic(struct tune_plan *pl, struct tune_change *c, struct nic *nic)
{
	const struct tune_item *it = c->it;
	char err[256];

	if (nic_step_failed(pl, c, nic_check(nic, it, err, sizeof(err)), err) ||
	    nic_step_failed(pl, c, nic_read(nic, it, c->now, sizeof(c->now), err, sizeof(err)), err))
		return;
	snprintf(c->cur, sizeof(c->cur), "%s", c->base ? c->base->orig : c->now);
	if (nic_kind_is_feature(it->kind)) {
		/* every changeable bit of the group to the requested state */
		const char *want = it->value;
		size_t o = 0;

		for (const char *p = c->cur; *p; ) {
			const char *eq = strchr(p, '='), *comma;

			if (!eq)
				break;
			comma = strchr(eq, ',');
			if (str_appendf(c->new_val, sizeof(c->new_val), &o, "%s%.*s=%s", o ? "," : "",
					(int)(eq - p), p, want)) {
				/* a half list would leave bits unset unnoticed */
				plan_error(pl, it, "the device's feature bits do not fit the value buffer");
				return;
			}
			if (!comma)
				break;
			p = comma + 1;
		}
	} else if (nic_target(nic, it, c->new_val, sizeof(c->new_val), err, sizeof(err))) {
		plan_error(pl, it, err);
	}
}

/* Is v a value accelctl wrote for this kept entry? */
static bool base_owns(const struct journal_entry *e, const char *v)
{
	return !strcmp(v, e->new_val) || (e->prev[0] && !strcmp(v, e->prev));
}

/* Adopting a kept journal: a kept setting the profile does not change
 * (absent, skipped, or asking for its original) goes back to its
 * original -- unless the operator changed it since (a conflict, kept
 * unless --force, as detach does). */
static void plan_restore(struct accel_ctx *ctx, struct tune_change *c, struct nic *nic)
{
	const struct journal_entry *e = c->base;
	char err[256];

	c->restore = true;
	c->skip[0] = '\0';
	c->global = e->global;
	snprintf(c->cur, sizeof(c->cur), "%s", e->orig);
	snprintf(c->new_val, sizeof(c->new_val), "%s", e->orig);
	if (tune_read(nic, e->kind, e->ifname, e->key, c->now, sizeof(c->now), err, sizeof(err))) {
		snprintf(c->skip, sizeof(c->skip), "kept setting gone (%s): nothing to restore", err);
		return;
	}
	if (!strcmp(c->now, e->orig)) {
		snprintf(c->skip, sizeof(c->skip), "unchanged");
		return;
	}
	if (!base_owns(e, c->now) && !ctx->force)
		snprintf(c->skip, sizeof(c->skip), "changed after detach --keep-tuning (now '%s', accelctl "
			 "set '%s'): keeping the operator's value; --force restores the original '%s'",
			 c->now, e->new_val, e->orig);
}

/* Validate the whole profile; returns 0 or -ACCEL_ECONFIG (messages
 * printed, one per problem, each naming the key).  base: a kept journal
 * to adopt, or NULL. */
static int plan_build(struct accel_ctx *ctx, const struct tune_profile *p, struct tune_plan *pl,
		      struct nic *nic, const struct journal *base)
{
	memset(pl, 0, sizeof(*pl));
	pl->p = p;
	pl->base = base;
	for (int i = 0; i < p->n; i++) {
		struct tune_change *c = &pl->c[pl->n++];

		c->it = &p->items[i];
		if (base)
			c->base = journal_find((struct journal *)base, c->it->kind, c->it->ifname, c->it->key);
		tune_item_label(c->it->kind, c->it->ifname, c->it->key, c->label, sizeof(c->label));
		if (c->it->kind == TK_SYSCTL)
			check_sysctl(ctx, pl, c);
		else
			check_nic(pl, c, nic);
		if (!c->skip[0] && !pl->errors && c->cur[0] && !strcmp(c->cur, c->new_val))
			snprintf(c->skip, sizeof(c->skip), "unchanged");
		if (c->base && c->skip[0] && !pl->errors)
			plan_restore(ctx, c, nic);
		else if (c->base && !pl->errors && strcmp(c->now, c->cur) && !base_owns(c->base, c->now))
			pr_warn("tune: %s: changed after detach --keep-tuning (now '%s', accelctl set '%s'); "
				"the original stays '%s'\n", c->label, c->now, c->base->new_val, c->base->orig);
	}
	for (int i = 0; base && i < base->n && !pl->errors; i++) {
		const struct journal_entry *e = &base->e[i];
		struct tune_item *it;
		struct tune_change *c;
		bool found = false;

		for (int k = 0; k < pl->n && !found; k++)
			found = pl->c[k].base == e;
		if (found)
			continue;
		if (pl->n >= TUNE_MAX_ITEMS) {
			plan_error(pl, NULL, "the profile and the kept journal together have too many "
				   "settings; run `accelctl detach` first");
			break;
		}
		it = &pl->extra[pl->nextra++];
		it->kind = e->kind;
		snprintf(it->key, sizeof(it->key), "%s", e->key);
		snprintf(it->ifname, sizeof(it->ifname), "%s", e->ifname);
		snprintf(it->value, sizeof(it->value), "%s", e->orig);
		c = &pl->c[pl->n++];
		c->it = it;
		c->base = e;
		tune_item_label(e->kind, e->ifname, e->key, c->label, sizeof(c->label));
		plan_restore(ctx, c, nic);
	}
	plan_relations(pl);
	plan_rfs(pl);
	if (pl->errors) {
		pr_err("profile %s: %d error%s; nothing was changed\n", p->name, pl->errors,
			pl->errors > 1 ? "s" : "");
		return -ACCEL_ECONFIG;
	}
	return 0;
}

static void plan_print(const struct tune_plan *pl, FILE *out)
{
	fprintf(out, "profile %s (%s)\n", pl->p->name, pl->p->source);
	fprintf(out, "  %-40s %-24s %-24s %s\n", "KEY", "CURRENT", "NEW", "NOTE");
	for (int i = 0; i < pl->n; i++) {
		const struct tune_change *c = &pl->c[i];

		char a[TUNE_VAL_LEN], b[TUNE_VAL_LEN];

		fprintf(out, "  %-40s %-24s %-24s %s\n", c->label, c->now[0] ? show(c->now, a, sizeof(a)) : "-",
			c->skip[0] && strcmp(c->skip, "unchanged") ? "-" : show(c->new_val, b, sizeof(b)),
			c->skip[0] ? c->skip : c->restore ? "restore (kept; the profile leaves it at its original)" :
			!strcmp(c->now, c->new_val) ? "kept (already set)" : "change");
	}
}

#ifdef ACCEL_TEST_HOOKS
/* Test build only (make builds it as tests/accelctl-testhooks; accelctl
 * itself has no such code): ACCELCTL_TEST_TUNE_CRASH_AFTER=N dies by
 * SIGKILL after N writes, to prove that the journal makes an interrupted
 * apply recoverable. */
static void test_crash_hook(int written)
{
	const char *e = getenv("ACCELCTL_TEST_TUNE_CRASH_AFTER");

	if (e && *e && atoi(e) == written) {
		pr_warn("TEST HOOK: SIGKILL after %d tuning writes\n", written);
		kill(getpid(), SIGKILL);
	}
}
#else
static inline void test_crash_hook(int written)
{
	(void)written;
}
#endif

/* A value is written only when it differs from the one in effect (an
 * adopted kept setting may already have it). */
static bool needs_write(const struct tune_change *c)
{
	return !c->skip[0] && strcmp(c->now, c->new_val);
}

/* Write pending values in passes: a value the kernel refuses because of
 * another one not yet written (ipfrag low above high) goes in the next
 * pass.  Stops when a pass makes no progress.  Returns the index of the
 * first change that could not be written, or -1. */
static int plan_write(struct tune_plan *pl, struct nic *nic, char *err, size_t errlen)
{
	int left = 0, written = 0, failed = -1;

	for (int i = 0; i < pl->n; i++)
		left += needs_write(&pl->c[i]);
	while (left) {
		int progress = 0;

		failed = -1;
		for (int i = 0; i < pl->n; i++) {
			struct tune_change *c = &pl->c[i];
			char e[256];

			if (!needs_write(c) || c->written)
				continue;
			if (tune_write(nic, c->it->kind, c->it->ifname, c->it->key, c->new_val, e, sizeof(e))) {
				if (failed < 0) {
					failed = i;
					snprintf(err, errlen, "%s", e);
				}
				continue;
			}
			c->written = true;
			progress++;
			left--;
			pr_debug("set %s: %s -> %s\n", c->label, c->now, c->new_val);
			test_crash_hook(++written);
		}
		if (!progress)
			return failed;
	}
	return -1;
}

static void plan_rollback(struct tune_plan *pl, struct nic *nic)
{
	for (int pass = 0; pass < 3; pass++) {
		bool left = false;

		for (int i = pl->n - 1; i >= 0; i--) {
			struct tune_change *c = &pl->c[i];
			char e[256];

			if (!c->written)
				continue;
			if (tune_write(nic, c->it->kind, c->it->ifname, c->it->key, c->now, e, sizeof(e))) {
				if (pass == 2)
					pr_err("rollback of %s failed: %s\n", c->label, e);
				left = true;
				continue;
			}
			c->written = false;
		}
		if (!left)
			break;
	}
}

/* ---- the feature ---- */

static int tune_probe(struct accel_ctx *ctx, char *why, size_t len)
{
	(void)ctx;
	if (access("/proc/sys/net/core/somaxconn", W_OK)) {
		snprintf(why, len, "/proc/sys/net/core/somaxconn is not writable (needs root, and /proc/sys mounted read-write)");
		return -EPERM;
	}
	return 0;
}

static int load_profile(struct accel_ctx *ctx, struct tune_profile **out)
{
	struct tune_profile *p = calloc(1, sizeof(*p));
	int err;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	err = profile_load_for_attach(ctx, p);
	if (err) {
		free(p);
		return err;
	}
	*out = p;
	return 0;
}

int tune_check_profile(struct accel_ctx *ctx, const struct tune_profile *p)
{
	struct tune_plan *pl = calloc(1, sizeof(*pl));
	struct nic *nic = NULL;
	int err;

	if (!pl)
		return -ENOMEM;
	err = nic_open(&nic);
	if (!err) {
		err = plan_build(ctx, p, pl, nic, NULL);
		plan_print(pl, stdout);
	}
	nic_close(nic);
	free(pl);
	return err;
}

static int tune_plan(struct accel_ctx *ctx, FILE *out)
{
	struct tune_profile *p = NULL;
	struct tune_plan *pl = calloc(1, sizeof(*pl));
	struct journal *base = calloc(1, sizeof(*base));
	struct nic *nic = NULL;
	bool adopt;
	int err;

	if (!pl || !base) {
		free(pl);
		free(base);
		return -ENOMEM;
	}
	/* the plan an attach would make: against a kept journal, its originals */
	adopt = !journal_read(ctx, base) && base->kept && base->netns_cookie == ctx->netns_cookie;
	if (ctx->attach.no_tune) {
		fprintf(out, "tune: --no-tune: no tuning profile%s\n", adopt ?
			" (attach would restore the kept tuning's originals)" : "");
		err = 0;
		goto cleanup;
	}
	err = load_profile(ctx, &p);
	if (err)
		goto cleanup;
	err = nic_open(&nic);
	if (err)
		goto cleanup;
	err = plan_build(ctx, p, pl, nic, adopt ? base : NULL);
	plan_print(pl, out);
	if (!err && adopt)
		fprintf(out, "tune: attach would adopt the tuning kept by `detach --keep-tuning` (originals from "
			"its journal)\n");
	if (!err && ctx->attach.auto_tune)
		fprintf(out, "tune: --auto would let `accelctl autotune` act within the profile's [auto] bounds\n");
cleanup:
	nic_close(nic);
	free(p);
	free(pl);
	free(base);
	return err;
}

static int tune_detach(struct accel_ctx *ctx);

/* The kept journal this process adopted, and the plan that did it (what
 * was written, the values before, the profile its items point into): for
 * tune_rollback, when a later feature's attach fails. */
static struct {
	struct journal *base;
	struct tune_plan *pl;
	struct tune_profile *p;
} adopted;

/* A journal left by `detach --keep-tuning`: adopted (*out) by a tuning
 * attach in the same namespace, else restored first.  Any other journal
 * (an attach is in place, or was interrupted) stops the attach. */
static int attach_take_base(struct accel_ctx *ctx, struct journal **out)
{
	struct journal *base;
	int err;

	*out = NULL;
	if (!journal_exists(ctx))
		return 0;
	base = calloc(1, sizeof(*base));
	err = base ? journal_read(ctx, base) : -ENOMEM;
	if (err || !base->kept) {
		pr_err("tune: a tuning journal exists in %s; run `accelctl detach` first\n",
			ctx->state_dir);
		free(base);
		return err ? err : -EEXIST;
	}
	/* Adopted only by a tuning attach in the same namespace. */
	if (ctx->attach.no_tune || base->netns_cookie != ctx->netns_cookie) {
		pr_info("tune: %s: restoring the tuning kept by `detach --keep-tuning` (profile %s) first\n",
			ctx->attach.no_tune ? "--no-tune" : "another network namespace than the kept tuning's",
			base->profile);
		free(base);
		return tune_detach(ctx);
	}
	*out = base;
	return 0;
}

/* The journal first, on disk, before the first write.  Adopting, it is
 * not kept any more (a crash from here on is an interrupted attach) and
 * holds, per setting, the true original, the target and the value before
 * this attach: whichever a crash leaves, detach restores it.  n: settings
 * changed, already set, restored. */
static void journal_from_plan(const struct accel_ctx *ctx, const struct tune_profile *p,
			      const struct tune_plan *pl, struct journal *j, int n[3])
{
	snprintf(j->netns, sizeof(j->netns), "%s", ctx->netns ? ctx->netns : "");
	j->netns_cookie = ctx->netns_cookie;
	snprintf(j->profile, sizeof(j->profile), "%s", p->name);
	j->since = time(NULL);
	j->auto_tune = ctx->attach.auto_tune;
	j->bounds = p->bounds;
	for (int i = 0; i < pl->n; i++) {
		const struct tune_change *c = &pl->c[i];
		struct journal_entry *e;

		if (c->skip[0])
			continue;
		e = &j->e[j->n++];
		e->kind = c->it->kind;
		snprintf(e->key, sizeof(e->key), "%s", c->it->key);
		snprintf(e->ifname, sizeof(e->ifname), "%s", c->it->ifname);
		e->global = c->global;
		snprintf(e->orig, sizeof(e->orig), "%s", c->cur);
		snprintf(e->new_val, sizeof(e->new_val), "%s", c->new_val);
		if (c->base && needs_write(c) && base_owns(c->base, c->now))
			snprintf(e->prev, sizeof(e->prev), "%s", c->now);
		if (c->restore)
			snprintf(e->source, sizeof(e->source), "%s", c->base->source);
		else
			snprintf(e->source, sizeof(e->source), "profile %s", p->name);
		if (c->restore)
			n[2]++;
		else if (needs_write(c))
			n[0]++;
		else
			n[1]++;
	}
}

/* Write the plan; when a value cannot be written, put back what was
 * (and the kept journal, adopting) and say so: -EIO. */
static int attach_write(struct accel_ctx *ctx, struct tune_plan *pl, struct nic *nic,
			const struct journal *base)
{
	char err_msg[512];
	int failed = plan_write(pl, nic, err_msg, sizeof(err_msg));

	if (failed < 0)
		return 0;
	pr_err("tune: applying %s failed: %s\n", pl->c[failed].label, err_msg);
	plan_rollback(pl, nic);
	if (base && journal_write(ctx, base))
		pr_err("tune: cannot put the kept journal back; `accelctl detach` restores the originals\n");
	else if (!base)
		journal_remove(ctx);
	pr_warn("tune: rolled back; every value is as before%s\n",
		base ? " (the tuning kept by `detach --keep-tuning`)" : "");
	return -EIO;
}

/* Adopted: the restored settings leave the journal, and what stood
 * before this attach is no longer ours. */
static void journal_tidy(struct accel_ctx *ctx, const struct tune_plan *pl, struct journal *j)
{
	int k = 0;

	for (int i = 0; i < j->n; i++) {
		const struct tune_change *c = NULL;

		for (int m = 0; m < pl->n && !c; m++)
			if (!pl->c[m].skip[0] && pl->c[m].it->kind == j->e[i].kind &&
			    !strcmp(pl->c[m].it->key, j->e[i].key) &&
			    !strcmp(pl->c[m].it->ifname, j->e[i].ifname))
				c = &pl->c[m];
		if (c && c->restore)
			continue;
		j->e[k] = j->e[i];
		j->e[k++].prev[0] = '\0';
	}
	j->n = k;
	if (journal_write(ctx, j))
		pr_warn("tune: cannot tidy the journal; it still restores the originals\n");
}

/* One line per setting: what attach did with it. */
static void plan_log(const struct tune_plan *pl)
{
	for (int i = 0; i < pl->n; i++) {
		const struct tune_change *c = &pl->c[i];
		char a[TUNE_VAL_LEN], b[TUNE_VAL_LEN], o[TUNE_VAL_LEN];

		if (c->restore && !c->skip[0])
			pr_info("tune: %s: %s -> %s (restored: the profile no longer changes it)\n", c->label,
				show(c->now, a, sizeof(a)), show(c->new_val, b, sizeof(b)));
		else if (c->restore && strcmp(c->skip, "unchanged"))
			pr_warn("tune: %s: %s\n", c->label, c->skip);
		else if (!c->skip[0] && needs_write(c))
			pr_info("tune: %s: %s -> %s%s%s%s\n", c->label, show(c->now, a, sizeof(a)),
				show(c->new_val, b, sizeof(b)), c->base ? " (original " : "",
				c->base ? show(c->cur, o, sizeof(o)) : "", c->base ? ")" : "");
		else if (!c->skip[0])
			pr_info("tune: %s: %s kept as applied (original %s)\n", c->label,
				show(c->now, a, sizeof(a)), show(c->cur, o, sizeof(o)));
		else if (strcmp(c->skip, "unchanged"))
			pr_info("tune: %s: skipped: %s\n", c->label, c->skip);
	}
}

static void attach_summary(struct accel_ctx *ctx, const struct tune_profile *p,
			   const struct journal *j, bool adopting, const int n[3])
{
	if (j->auto_tune && autotune_baseline(ctx))
		pr_warn("tune: cannot record auto-tune counter baselines\n");
	if (adopting)
		pr_info("tune: profile %s: adopted the tuning kept by `detach --keep-tuning`: %d setting%s "
			"changed, %d already set, %d restored; journal %s/tune.journal%s\n", p->name, n[0],
			n[0] == 1 ? "" : "s", n[1], n[2], ctx->state_dir,
			j->auto_tune ? "; auto-tune enabled (run `accelctl autotune`)" : "");
	else
		pr_info("tune: profile %s: %d setting%s changed, journal %s/tune.journal%s\n", p->name,
			n[0], n[0] == 1 ? "" : "s", ctx->state_dir,
			j->auto_tune ? "; auto-tune enabled (run `accelctl autotune`)" : "");
}

static int tune_attach(struct accel_ctx *ctx)
{
	struct tune_profile *p = NULL;
	struct tune_plan *pl = calloc(1, sizeof(*pl));
	struct journal *j = calloc(1, sizeof(*j)), *base = NULL;
	struct nic *nic = NULL;
	int err, n[3] = { 0 };

	if (!pl || !j) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = attach_take_base(ctx, &base);
	if (err)
		goto cleanup;
	if (ctx->attach.no_tune) {
		pr_info("tune: --no-tune, no profile applied\n");
		err = 0;
		goto cleanup;
	}
	err = load_profile(ctx, &p);
	if (err)
		goto cleanup;
	err = nic_open(&nic);
	if (err) {
		pr_err("tune: cannot open netlink sockets: %s\n", strerror(-err));
		goto cleanup;
	}
	err = plan_build(ctx, p, pl, nic, base);
	if (err)
		goto cleanup;
	journal_from_plan(ctx, p, pl, j, n);
	err = journal_write(ctx, j);
	if (err) {
		pr_err("tune: cannot write the journal in %s: %s; nothing was changed\n", ctx->state_dir,
			strerror(-err));
		goto cleanup;
	}
	err = attach_write(ctx, pl, nic, base);
	if (err)
		goto cleanup;
	if (base)
		journal_tidy(ctx, pl, j);
	plan_log(pl);
	attach_summary(ctx, p, j, base != NULL, n);
	if (base) {
		/* kept for tune_rollback */
		adopted.base = base;
		adopted.pl = pl;
		adopted.p = p;
		base = NULL;
		pl = NULL;
		p = NULL;
	}
cleanup:
	nic_close(nic);
	free(p);
	free(pl);
	free(j);
	free(base);
	return err;
}


/* Attach rollback: an adopting attach goes back to the kept tuning (the
 * values before it and the kept journal), any other to the originals. */
static int tune_rollback(struct accel_ctx *ctx)
{
	struct nic *nic = NULL;
	int err;

	if (!adopted.base)
		return tune_detach(ctx);
	err = nic_open(&nic);
	if (!err) {
		plan_rollback(adopted.pl, nic);
		err = journal_write(ctx, adopted.base);
		if (!err)
			pr_warn("tune: back to the tuning kept by `detach --keep-tuning`\n");
	}
	nic_close(nic);
	free(adopted.base);
	free(adopted.pl);
	free(adopted.p);
	memset(&adopted, 0, sizeof(adopted));
	return err;
}

/* detach --keep-tuning: no value changes, the journal is marked kept. */
static int tune_keep(struct accel_ctx *ctx)
{
	struct journal *j = calloc(1, sizeof(*j));
	int err;

	if (!j)
		return -ENOMEM;
	err = journal_read(ctx, j);
	if (err == -ENOENT) {
		err = 0;
		goto cleanup;
	}
	if (err || j->kept)
		goto cleanup;
	j->kept = time(NULL);
	err = journal_write(ctx, j);
	if (err)
		goto cleanup;
	/* autotune stops on a kept journal; an adopting --auto starts over */
	autotune_state_remove(ctx);
	pr_info("tune: kept %d setting%s as applied; the originals stay in %s/tune.journal\n", j->n,
		j->n == 1 ? "" : "s", ctx->state_dir);
cleanup:
	free(j);
	return err;
}

static bool tune_kept(struct accel_ctx *ctx)
{
	struct journal *j = calloc(1, sizeof(*j));
	bool kept = j && !journal_read(ctx, j) && j->kept;

	free(j);
	return kept;
}

enum restore_result { R_SAME, R_RESTORED, R_CONFLICT, R_GONE, R_FAILED };

/* Put one journal entry back.  force: overwrite an operator's value. */
static enum restore_result restore_one(struct accel_ctx *ctx, struct nic *nic,
				       const struct journal_entry *e, bool write_now, char *msg, size_t len)
{
	char cur[TUNE_VAL_LEN], err[256], label[TUNE_KEY_LEN + 32];

	tune_item_label(e->kind, e->ifname, e->key, label, sizeof(label));
	if (tune_read(nic, e->kind, e->ifname, e->key, cur, sizeof(cur), err, sizeof(err))) {
		snprintf(msg, len, "%s: cannot read it (%s): nothing to restore", label, err);
		return R_GONE;
	}
	if (!strcmp(cur, e->orig))
		return R_SAME;
	if (strcmp(cur, e->new_val) && (!e->prev[0] || strcmp(cur, e->prev)) && !ctx->force) {
		snprintf(msg, len, "%s: changed after attach (now '%s', accelctl set '%s'); keeping the "
			 "operator's value; `accelctl detach --force` restores the original '%s'",
			 label, cur, e->new_val, e->orig);
		return R_CONFLICT;
	}
	if (!write_now)
		return R_RESTORED;
	if (tune_write(nic, e->kind, e->ifname, e->key, e->orig, err, sizeof(err))) {
		snprintf(msg, len, "%s: restoring '%s' failed: %s", label, e->orig, err);
		return R_FAILED;
	}
	snprintf(msg, len, "%s: %s -> %s (restored)", label, cur, e->orig);
	return R_RESTORED;
}

/* Every entry back, in reverse order and in passes (a refused value may
 * depend on another one restored later in the same pass).  done[i]: dealt
 * with; n: restored, conflicts.  -EIO when some could not be written.
 * netns_gone: only the host-wide entries are left to restore. */
static int restore_passes(struct accel_ctx *ctx, struct nic *nic, const struct journal *j,
			  bool netns_gone, bool *done, int n[2])
{
	char msg[768];
	int left = j->n, err = 0;

	for (int pass = 0; left && pass < 4; pass++) {
		int progress = 0;

		for (int i = j->n - 1; i >= 0; i--) {
			const struct journal_entry *e = &j->e[i];
			enum restore_result r;

			if (done[i])
				continue;
			if (netns_gone && !e->global) {
				done[i] = true;
				left--;
				continue;
			}
			r = restore_one(ctx, nic, e, true, msg, sizeof(msg));
			if (r == R_FAILED && pass < 3)
				continue;
			done[i] = true;
			left--;
			progress++;
			switch (r) {
			case R_RESTORED: n[0]++; pr_debug("tune: %s\n", msg); break;
			case R_CONFLICT: n[1]++; pr_warn("tune: conflict: %s\n", msg); break;
			case R_GONE: pr_warn("tune: %s\n", msg); break;
			case R_FAILED:
				pr_warn("tune: %s\n", msg);
				done[i] = false;
				left++;
				err = -EIO;
				break;
			default: break;
			}
		}
		if (!progress)
			break;
	}
	return err;
}

/* Keep only what is still to restore, so detach can be retried. */
static void journal_keep_left(struct accel_ctx *ctx, struct journal *j, const bool *done)
{
	int k = 0;

	for (int i = 0; i < j->n; i++)
		if (!done[i])
			j->e[k++] = j->e[i];
	j->n = k;
	if (journal_write(ctx, j))
		pr_err("tune: cannot update the journal\n");
	pr_err("tune: %d setting%s could not be restored; fix the cause and run detach again\n",
		k, k == 1 ? "" : "s");
}

static int tune_detach(struct accel_ctx *ctx)
{
	struct journal *j = calloc(1, sizeof(*j));
	bool *done = NULL;
	struct nic *nic = NULL;
	int err, saved = -1, ns_err, n[2] = { 0 };
	struct state_err serr;

	if (!j)
		return -ENOMEM;
	err = journal_load(ctx, j, &serr);
	if (err == -ENOENT) {
		err = 0;
		goto cleanup;
	}
	if (err) {
		pr_err("tune: the journal in %s is unreadable (%s); move it away to detach without "
			"restoring\n", ctx->state_dir, serr.msg[0] ? serr.msg : strerror(-err));
		goto cleanup;
	}
	if (j->kept)
		pr_info("tune: restoring the %d setting%s kept by `detach --keep-tuning`\n", j->n,
			j->n == 1 ? "" : "s");
	ns_err = tune_enter_journal_netns(j, &saved);
	if (ns_err)
		pr_warn("tune: network namespace '%s' is gone; its settings went with it, only host-wide "
			"keys are restored\n", j->netns);
	err = nic_open(&nic);
	if (err)
		goto cleanup;
	done = calloc(j->n ? j->n : 1, sizeof(bool));
	if (!done) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = restore_passes(ctx, nic, j, ns_err != 0, done, n);
	if (err) {
		journal_keep_left(ctx, j, done);
		goto cleanup;
	}
	err = journal_remove(ctx);
	autotune_state_remove(ctx);
	pr_info("tune: restored %d setting%s%s\n", n[0], n[0] == 1 ? "" : "s",
		n[1] ? " (operator changes kept, see above)" : "");
cleanup:
	nic_close(nic);
	tune_leave_netns(&saved);
	free(done);
	free(j);
	return err;
}

static bool tune_attached(struct accel_ctx *ctx)
{
	return journal_exists(ctx);
}

/* One journal entry: what it was, what tune set, what it is now. */
static void tune_setting(const struct journal_entry *e, const char *cur, struct sm_node *settings)
{
	char label[TUNE_KEY_LEN + 32], a[TUNE_VAL_LEN], b[TUNE_VAL_LEN], c[TUNE_VAL_LEN];
	struct sm_node *o = sm_object(settings, NULL);

	tune_item_label(e->kind, e->ifname, e->key, label, sizeof(label));
	sm_show(o, NULL, "%-40s %-22s %-22s %-22s %s%s", label, show(e->orig, a, sizeof(a)),
		show(e->new_val, b, sizeof(b)), show(cur, c, sizeof(c)),
		e->source, strcmp(cur, e->new_val) ? "  (changed since: conflict)" : "");
	sm_str(o, "key", label);
	sm_str(o, "original", e->orig);
	sm_str(o, "set", e->new_val);
	sm_str(o, "now", cur);
	sm_bool(o, "in_effect", !strcmp(cur, e->new_val));
	sm_str(o, "source", e->source);
}

static void tune_status(struct accel_ctx *ctx, struct sm_node *sec)
{
	struct journal *j = calloc(1, sizeof(*j));
	struct nic *nic = NULL;
	struct sm_node *settings;
	char cur[TUNE_VAL_LEN], err[256], when[32];
	int saved = -1, ns_err;

	if (!j || journal_read(ctx, j)) {
		free(j);
		return;
	}
	ns_err = tune_enter_journal_netns(j, &saved);
	if (nic_open(&nic))
		nic = NULL;
	if (j->kept) {
		sm_indent(sm_note(sec, NULL, "tune: kept (%d setting%s, originals in the journal; accelctl detach "
				  "restores them)", j->n, j->n == 1 ? "" : "s"), 2);
		sm_note(sec, NULL, "kept by `detach --keep-tuning` since %s; the next attach with tuning adopts them",
			fmt_time(j->kept, when, sizeof(when)));
	}
	sm_show(sm_str(sec, "profile", j->profile), NULL, "profile %s since %s, auto-tune %s; detach restores:",
		j->profile, fmt_time(j->since, when, sizeof(when)), j->auto_tune ? "on" : "off");
	sm_str(sec, "since", fmt_time(j->since, when, sizeof(when)));
	sm_bool(sec, "auto", j->auto_tune);
	if (j->kept)
		sm_str(sec, "kept_since", fmt_time(j->kept, when, sizeof(when)));
	settings = sm_array(sec, "settings");
	sm_show(settings, NULL, "%-40s %-22s %-22s %-22s %s", "KEY", "ORIGINAL", "SET", "NOW", "SOURCE");
	for (int i = 0; i < j->n; i++) {
		const struct journal_entry *e = &j->e[i];

		if (ns_err && !e->global)
			snprintf(cur, sizeof(cur), "(netns gone)");
		else if (!nic || tune_read(nic, e->kind, e->ifname, e->key, cur, sizeof(cur), err, sizeof(err)))
			snprintf(cur, sizeof(cur), "?");
		tune_setting(e, cur, settings);
	}
	nic_close(nic);
	tune_leave_netns(&saved);
	free(j);
}

/* Every metric tune exports (docs/metrics.md "tune"). */
enum tune_metric {
	TUM_APPLIED,
	TUM_AUTO_ADJUSTED_SETTINGS,
	TUM_AUTO_ENABLED,
	TUM_KEPT,
	TUM_COUNT
};

static const struct metric_desc tune_metrics[TUM_COUNT] = {
	[TUM_APPLIED] = { "accel_tune_applied", METRIC_GAUGE, "",
		"1 when a setting accelctl changed still has the value it set, 0 when it was "
		"changed since (detach keeps it unless --force)", { "key" } },
	[TUM_AUTO_ADJUSTED_SETTINGS] = { "accel_tune_auto_adjusted_settings", METRIC_GAUGE, "",
		"settings auto-tune has changed since attach (each logged with its cause)" },
	[TUM_AUTO_ENABLED] = { "accel_tune_auto_enabled", METRIC_GAUGE, "",
		"1 when attach enabled auto-tuning (--auto)" },
	[TUM_KEPT] = { "accel_tune_kept", METRIC_GAUGE, "",
		"1 when `detach --keep-tuning` left the tuning applied (nothing else attached)" },
};

static int tune_collect(struct accel_ctx *ctx, struct metrics *m)
{
	struct journal *j = calloc(1, sizeof(*j));
	struct metric_family *f;
	struct nic *nic = NULL;
	char cur[TUNE_VAL_LEN], err[256], key[TUNE_KEY_LEN + 32];
	int saved = -1, ns_err, autos = 0, e;

	if (!j)
		return -ENOMEM;
	e = journal_read(ctx, j);
	if (e) {
		free(j);
		return e == -ENOENT ? 0 : e;
	}
	ns_err = tune_enter_journal_netns(j, &saved);
	if (nic_open(&nic))
		nic = NULL;
	f = metrics_family_of(m, &tune_metrics[TUM_APPLIED]);
	for (int i = 0; i < j->n; i++) {
		const struct journal_entry *je = &j->e[i];
		bool on = !(ns_err && !je->global) && nic &&
			  !tune_read(nic, je->kind, je->ifname, je->key, cur, sizeof(cur), err, sizeof(err)) &&
			  !strcmp(cur, je->new_val);

		metric_put(f, on, metric_key(je, key, sizeof(key)));
		autos += !strncmp(je->source, "auto", 4);
	}
	metric_put(metrics_family_of(m, &tune_metrics[TUM_AUTO_ADJUSTED_SETTINGS]), autos);
	metric_put(metrics_family_of(m, &tune_metrics[TUM_AUTO_ENABLED]), j->auto_tune);
	metric_put(metrics_family_of(m, &tune_metrics[TUM_KEPT]), j->kept != 0);
	nic_close(nic);
	tune_leave_netns(&saved);
	free(j);
	return 0;
}

static void tune_show(struct accel_ctx *ctx, const struct metrics *m, FILE *out)
{
	const struct metric_family *f = metrics_get(m, &tune_metrics[TUM_APPLIED]);

	(void)ctx;
	if (!f)
		return;
	fprintf(out, "Tuning (%d setting%s)\n  %-44s %s\n", f->n, f->n == 1 ? "" : "s", "key", "in effect");
	for (int i = 0; i < f->n; i++)
		fprintf(out, "  %-44s %s\n", metric_lvalue(&f->s[i], 0), f->s[i].value ? "yes" : "no (changed)");
}

/* attach --NAME; command line only: they choose the profile, or none. */
static const struct accel_opt tune_opts[] = {
	{ "config", AOT_STRING, "FILE", "tune: INI profile to apply", AO_FIELD(config) },
	{ "profile", AOT_STRING, "NAME",
	  "tune: profile to apply: " ACCEL_PROFILE_DIR "/NAME.ini, else the built-in NAME (default: loopback)",
	  .defval = "loopback", AO_FIELD(profile) },
	{ "no-tune", AOT_FLAG, NULL, "do not apply any tuning profile", AO_FIELD(no_tune) },
	{ "dry-run", AOT_FLAG, NULL, "print what attach would do, feature by feature (tune: key, current and new value); change nothing", AO_FIELD(dry_run) },
	{ "auto", AOT_FLAG, NULL, "tune: adjust limits from observed counters, within the profile's bounds",
	  AO_FIELD(auto_tune) },
	{ 0 }
};

/* `accelctl profile`: profile.c's, with this feature's plan for `check`. */
static int cmd_profile(struct accel_ctx *ctx, struct cli_opts *o)
{
	return profile_command(ctx, o, tune_check_profile);
}

/* `accelctl profile` (profile.c), `accelctl autotune` (autotune.c) */
static const struct command tune_commands[] = {
	{ "profile", "list | show [NAME|FILE] | check FILE | import FILE | export --sysctl-d [NAME|FILE]",
	  "show, check, import and export tuning profiles",
	  "list: the profiles of " ACCEL_PROFILE_DIR " ($ACCELCTL_PROFILE_DIR) and the\n"
	  "built-ins.  show: a built-in profile with the reason for every value, or how\n"
	  "a profile was understood.  check: parse FILE and validate it against this\n"
	  "kernel, network namespace (--netns) and devices, printing key, current and\n"
	  "new value; exit 2 naming every problem.  import: a sysctl.d(5) FILE as a\n"
	  "profile on stdout (for attach --config).  export --sysctl-d: a profile's\n"
	  "sysctls in sysctl.d syntax on stdout (NIC settings are left out, said so).",
	  "profile sysctl-d", cmd_profile },
	{ "autotune", NULL, "adjust limits from observed counters (after attach --auto)",
	  "Observe TcpExtListenOverflows, ephemeral port use and Ip6ReasmFails and\n"
	  "raise the matching limits within the profile's [auto] bounds; every action\n"
	  "is journaled (detach undoes it) and logged with its cause.  Runs until\n"
	  "SIGTERM or detach; --once takes one step (for a systemd timer).",
	  "once interval", cmd_autotune },
	{ 0 }
};

const struct accel_feature feature_tune = {
	.name = "tune",
	.summary = "sysctl and NIC tuning profiles, journaled and restored exactly",
	.opts = tune_opts,
	.commands = tune_commands,
	.probe = tune_probe,
	.attach = tune_attach,
	.plan = tune_plan,
	.detach = tune_detach,
	.attached = tune_attached,
	.keep = tune_keep,
	.kept = tune_kept,
	.rollback = tune_rollback,
	.metrics = tune_metrics,
	.nmetrics = TUM_COUNT,
	.collect = tune_collect,
	.show = tune_show,
	.status = tune_status,
};
