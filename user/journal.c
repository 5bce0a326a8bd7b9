// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tuning journal: <state-dir>/tune.journal.
 *
 * Written (tmp + fsync + rename + fsync of the directory) BEFORE any value
 * is changed, with every original value, so that whatever happens to
 * accelctl afterwards -- kill -9, power loss -- the next attach or detach
 * knows what to restore.  One line per setting; values are %XX-escaped so
 * a tab-separated sysctl (tcp_rmem) stays one token:
 *
 *   accelctl-tune-journal 1|2
 *   netns NAME|-          netns_cookie N   profile NAME   since T   auto 0|1
 *   kept T                (format 2 only: `detach --keep-tuning` at time T)
 *   bound KEY VALUE       (auto-tune bounds)
 *   item KIND IFNAME|- KEY GLOBAL ORIG NEW PREV SOURCE
 *
 * Restore rule: a value equal to ORIG needs nothing, equal to NEW or PREV
 * (what accelctl wrote) is put back to ORIG, anything else was changed by
 * the operator after us: a conflict, kept unless --force.
 *
 * Format 2 differs from 1 only by the kept line.  A journal that is not
 * kept is still written as format 1, so that an older accelctl (say, after
 * a package downgrade) can restore it; a kept one is format 2, which an
 * older accelctl refuses as unreadable instead of mistaking it for an
 * interrupted attach.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tune.h"
#include "util.h"

#define JOURNAL_MAGIC "accelctl-tune-journal "
#define JOURNAL_VERSION_MAX 2

int journal_path(const struct accel_ctx *ctx, char *buf, size_t len)
{
	return path_join(buf, len, ctx->state_dir, "tune.journal");
}

bool journal_exists(const struct accel_ctx *ctx)
{
	char p[PATH_MAX];

	return !journal_path(ctx, p, sizeof(p)) && path_exists(p);
}

void journal_escape(const char *in, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (!*in) {	/* an empty value still needs a token */
		snprintf(out, len, "%%");
		return;
	}
	for (; *in && o + 4 < len; in++) {
		unsigned char c = *in;

		if (c <= ' ' || c == '%' || c >= 0x7f) {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void journal_unescape(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in && o + 1 < len; in++) {
		if (*in == '%') {
			int h = in[1] ? hexval(in[1]) : -1, l = h >= 0 && in[2] ? hexval(in[2]) : -1;

			if (h < 0 || l < 0)
				continue;	/* lone "%": the empty value */
			out[o++] = (char)(h << 4 | l);
			in += 2;
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

static const struct {
	const char *name;
	size_t off;
} bound_keys[] = {
	{ "somaxconn-max", offsetof(struct tune_bounds, somaxconn_max) },
	{ "port-low-min", offsetof(struct tune_bounds, port_low_min) },
	{ "ip6frag-high-max", offsetof(struct tune_bounds, ip6frag_high_max) },
};

int journal_format(const struct journal *j, char *buf, size_t len)
{
	char k[3 * TUNE_KEY_LEN], o[3 * TUNE_VAL_LEN], nv[3 * TUNE_VAL_LEN], pv[3 * TUNE_VAL_LEN];
	char src[3 * 200], ns[3 * 64], prof[3 * 64];
	size_t off = 0;
	int n;

	journal_escape(j->netns[0] ? j->netns : "-", ns, sizeof(ns));
	journal_escape(j->profile, prof, sizeof(prof));
	n = snprintf(buf, len, JOURNAL_MAGIC "%d\nnetns %s\nnetns_cookie %llu\nprofile %s\nsince %lld\nauto %d\n"
		     "bound somaxconn-max %llu\nbound port-low-min %llu\nbound ip6frag-high-max %llu\n"
		     "bound tw-reuse %d\nbound port-pressure-pct %u\nbound interval %u\n",
		     j->kept ? 2 : 1, ns, (unsigned long long)j->netns_cookie, prof, j->since, j->auto_tune,
		     (unsigned long long)j->bounds.somaxconn_max,
		     (unsigned long long)j->bounds.port_low_min,
		     (unsigned long long)j->bounds.ip6frag_high_max, j->bounds.tw_reuse,
		     j->bounds.port_pressure_pct, j->bounds.interval);
	if (n < 0 || (size_t)n >= len)
		return -E2BIG;
	off = n;
	if (j->kept) {
		n = snprintf(buf + off, len - off, "kept %lld\n", j->kept);
		if (n < 0 || (size_t)n >= len - off)
			return -E2BIG;
		off += n;
	}
	for (int i = 0; i < j->n; i++) {
		const struct journal_entry *e = &j->e[i];

		journal_escape(e->key, k, sizeof(k));
		journal_escape(e->orig, o, sizeof(o));
		journal_escape(e->new_val, nv, sizeof(nv));
		journal_escape(e->prev, pv, sizeof(pv));
		journal_escape(e->source, src, sizeof(src));
		n = snprintf(buf + off, len - off, "item %s %s %s %d %s %s %s %s\n",
			     tune_kind_name(e->kind), e->ifname[0] ? e->ifname : "-", k, e->global,
			     o, nv, pv, src);
		if (n < 0 || (size_t)n >= len - off)
			return -E2BIG;
		off += n;
	}
	return (int)off;
}

int journal_parse(struct journal *j, char *text)
{
	char *line, *save = NULL;
	int version = 0;

	memset(j, 0, sizeof(*j));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char f[9][3 * TUNE_VAL_LEN];
		int nf;

		if (!version) {
			if (strncmp(line, JOURNAL_MAGIC, strlen(JOURNAL_MAGIC)))
				return -EINVAL;
			line += strlen(JOURNAL_MAGIC);
			if (line[0] < '1' || line[0] > '0' + JOURNAL_VERSION_MAX || line[1])
				return -EINVAL;	/* a newer format: never half-read */
			version = line[0] - '0';
			continue;
		}
		nf = sscanf(line, "%767s %767s %767s %767s %767s %767s %767s %767s %767s",
			    f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]);
		if (nf < 2)
			return -EINVAL;
		if (!strcmp(f[0], "netns")) {
			journal_unescape(f[1], j->netns, sizeof(j->netns));
			if (!strcmp(j->netns, "-"))
				j->netns[0] = '\0';
		} else if (!strcmp(f[0], "netns_cookie")) {
			j->netns_cookie = strtoull(f[1], NULL, 10);
		} else if (!strcmp(f[0], "profile")) {
			journal_unescape(f[1], j->profile, sizeof(j->profile));
		} else if (!strcmp(f[0], "since")) {
			j->since = strtoll(f[1], NULL, 10);
		} else if (!strcmp(f[0], "kept") && version >= 2) {
			j->kept = strtoll(f[1], NULL, 10);
			if (j->kept <= 0)
				return -EINVAL;
		} else if (!strcmp(f[0], "auto")) {
			j->auto_tune = atoi(f[1]) != 0;
		} else if (!strcmp(f[0], "bound") && nf == 3) {
			uint64_t v = strtoull(f[2], NULL, 10);

			for (size_t i = 0; i < ARRAY_SIZE(bound_keys); i++)
				if (!strcmp(f[1], bound_keys[i].name))
					*(uint64_t *)((char *)&j->bounds + bound_keys[i].off) = v;
			if (!strcmp(f[1], "tw-reuse"))
				j->bounds.tw_reuse = v != 0;
			else if (!strcmp(f[1], "port-pressure-pct"))
				j->bounds.port_pressure_pct = (unsigned int)v;
			else if (!strcmp(f[1], "interval"))
				j->bounds.interval = (unsigned int)v;
		} else if (!strcmp(f[0], "item") && nf == 9) {
			struct journal_entry *e;
			int kind = tune_kind_from_name(f[1]);

			if (kind < 0 || j->n >= TUNE_MAX_ITEMS)
				return -EINVAL;
			e = &j->e[j->n++];
			e->kind = kind;
			if (strlen(f[2]) >= sizeof(e->ifname))
				return -EINVAL;
			strcpy(e->ifname, strcmp(f[2], "-") ? f[2] : "");
			journal_unescape(f[3], e->key, sizeof(e->key));
			e->global = atoi(f[4]) != 0;
			journal_unescape(f[5], e->orig, sizeof(e->orig));
			journal_unescape(f[6], e->new_val, sizeof(e->new_val));
			journal_unescape(f[7], e->prev, sizeof(e->prev));
			journal_unescape(f[8], e->source, sizeof(e->source));
		} else {
			return -EINVAL;
		}
	}
	return version ? 0 : -EINVAL;
}

struct journal_entry *journal_find(struct journal *j, enum tune_kind kind, const char *ifname,
				   const char *key)
{
	for (int i = 0; i < j->n; i++) {
		struct journal_entry *e = &j->e[i];

		if (e->kind == kind && !strcmp(e->key, key) && !strcmp(e->ifname, ifname ? ifname : ""))
			return e;
	}
	return NULL;
}

int journal_write(const struct accel_ctx *ctx, const struct journal *j)
{
	char path[PATH_MAX];
	size_t cap = 4096 + (size_t)j->n * 4 * 3 * TUNE_VAL_LEN;
	char *buf = malloc(cap);
	int n, err;

	if (!buf)
		return -ENOMEM;
	err = mkdir_p(ctx->state_dir, 0700);
	if (err)
		goto cleanup;
	err = journal_path(ctx, path, sizeof(path));
	if (err)
		goto cleanup;
	n = journal_format(j, buf, cap);
	if (n < 0) {
		err = n;
		goto cleanup;
	}
	err = write_file_atomic(path, buf, n, 0600);
cleanup:
	free(buf);
	return err;
}

int journal_read(const struct accel_ctx *ctx, struct journal *j)
{
	char path[PATH_MAX];
	size_t cap = 4096 + (size_t)TUNE_MAX_ITEMS * 4 * 3 * TUNE_VAL_LEN;
	char *buf = malloc(cap);
	int n, err;

	if (!buf)
		return -ENOMEM;
	err = journal_path(ctx, path, sizeof(path));
	if (err)
		goto cleanup;
	n = read_file(path, buf, cap);
	if (n < 0) {
		err = n;
		goto cleanup;
	}
	err = journal_parse(j, buf);
cleanup:
	free(buf);
	return err;
}

int journal_remove(const struct accel_ctx *ctx)
{
	char path[PATH_MAX];

	if (journal_path(ctx, path, sizeof(path)))
		return -ENAMETOOLONG;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}
