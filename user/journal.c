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

#include "journal.h"
#include "state.h"
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

/* The lines "KEY VALUE" of the journal, typed by user/state.c. */
static const struct state_field head_fields[] = {
	STATE_F_STR("netns", struct journal, netns, STATE_REQUIRED),
	STATE_F_U64("netns_cookie", struct journal, netns_cookie, STATE_REQUIRED, 0, 0),
	STATE_F_STR("profile", struct journal, profile, STATE_REQUIRED),
	STATE_F_I64("since", struct journal, since, STATE_REQUIRED),
	STATE_F_BOOL("auto", struct journal, auto_tune, STATE_REQUIRED),
};

static const struct state_field kept_field =
	STATE_F_I64("kept", struct journal, kept, 0);

/* "bound KEY VALUE": the [auto] bounds, in the order they are written. */
static const struct state_field bound_fields[] = {
	STATE_F_U64("somaxconn-max", struct tune_bounds, somaxconn_max, 0, 0, 0),
	STATE_F_U64("port-low-min", struct tune_bounds, port_low_min, 0, 0, 0),
	STATE_F_U64("ip6frag-high-max", struct tune_bounds, ip6frag_high_max, 0, 0, 0),
	STATE_F_BOOL("tw-reuse", struct tune_bounds, tw_reuse, 0),
	STATE_F_U64("port-pressure-pct", struct tune_bounds, port_pressure_pct, 0, 0, 0),
	STATE_F_U64("interval", struct tune_bounds, interval, 0, 0, 0),
};

/* "KEY VALUE\n" (prefix "bound "): strings %XX-escaped, numbers as the
 * state module writes them. */
static int format_field(const struct state_field *f, const void *rec, const char *prefix,
			char *buf, size_t len, size_t *off)
{
	char v[3 * TUNE_VAL_LEN];

	if (f->type == STATE_STR) {
		const char *s = (const char *)rec + f->off;

		/* an empty netns is "-": the namespace accelctl ran in */
		journal_escape(!*s && !strcmp(f->key, "netns") ? "-" : s, v, sizeof(v));
	} else if (state_value_format(f, rec, v, sizeof(v)) < 0) {
		return -E2BIG;
	}
	return str_appendf(buf, len, off, "%s%s %s\n", prefix, f->key, v) ? -E2BIG : 0;
}

static int format_item(const struct journal_entry *e, char *buf, size_t len, size_t *off)
{
	char k[3 * TUNE_KEY_LEN], o[3 * TUNE_VAL_LEN], nv[3 * TUNE_VAL_LEN], pv[3 * TUNE_VAL_LEN];
	char src[3 * 200];

	journal_escape(e->key, k, sizeof(k));
	journal_escape(e->orig, o, sizeof(o));
	journal_escape(e->new_val, nv, sizeof(nv));
	journal_escape(e->prev, pv, sizeof(pv));
	journal_escape(e->source, src, sizeof(src));
	return str_appendf(buf, len, off, "item %s %s %s %d %s %s %s %s\n", tune_kind_name(e->kind),
			   e->ifname[0] ? e->ifname : "-", k, e->global, o, nv, pv, src) ? -E2BIG : 0;
}

int journal_format(const struct journal *j, char *buf, size_t len)
{
	size_t off = 0;
	int err;

	if (!len)
		return -E2BIG;
	buf[0] = '\0';
	err = str_appendf(buf, len, &off, JOURNAL_MAGIC "%d\n", j->kept ? 2 : 1) ? -E2BIG : 0;
	for (size_t i = 0; !err && i < ARRAY_SIZE(head_fields); i++)
		err = format_field(&head_fields[i], j, "", buf, len, &off);
	for (size_t i = 0; !err && i < ARRAY_SIZE(bound_fields); i++)
		err = format_field(&bound_fields[i], &j->bounds, "bound ", buf, len, &off);
	if (!err && j->kept)
		err = format_field(&kept_field, j, "", buf, len, &off);
	for (int i = 0; !err && i < j->n; i++)
		err = format_item(&j->e[i], buf, len, &off);
	return err ? err : (int)off;
}

/* "item KIND IFNAME|- KEY GLOBAL ORIG NEW PREV SOURCE" (t[0] is "item") */
static int parse_item(struct journal *j, char **t, int line, struct state_err *err)
{
	static const struct state_field global =
		STATE_F_BOOL("global", struct journal_entry, global, 0);
	struct journal_entry *e;
	int kind = tune_kind_from_name(t[1]);

	if (kind < 0)
		return state_fail(err, line, "item: unknown kind '%.32s'", t[1]);
	if (j->n >= TUNE_MAX_ITEMS)
		return state_fail(err, line, "more than %d items", TUNE_MAX_ITEMS);
	e = &j->e[j->n++];
	e->kind = kind;
	if (strlen(t[2]) >= sizeof(e->ifname))
		return state_fail(err, line, "item: interface name '%.32s' too long", t[2]);
	strcpy(e->ifname, strcmp(t[2], "-") ? t[2] : "");
	journal_unescape(t[3], e->key, sizeof(e->key));
	journal_unescape(t[5], e->orig, sizeof(e->orig));
	journal_unescape(t[6], e->new_val, sizeof(e->new_val));
	journal_unescape(t[7], e->prev, sizeof(e->prev));
	journal_unescape(t[8], e->source, sizeof(e->source));
	return state_value_parse(&global, e, t[4], line, err);
}

/* "KEY VALUE" of the head, or "kept T" (format 2 only). */
static int parse_head(struct journal *j, int version, char **t, int line, uint64_t *seen,
		      struct state_err *err)
{
	char v[3 * TUNE_VAL_LEN];
	const struct state_field *f;
	int i, e;

	if (!strcmp(t[0], "kept")) {
		if (version < 2)
			return state_fail(err, line, "'kept' in a format 1 journal");
		e = state_value_parse(&kept_field, j, t[1], line, err);
		if (!e && j->kept <= 0)
			return state_fail(err, line, "kept: '%s' is not a time", t[1]);
		return e;
	}
	f = state_field_find(head_fields, ARRAY_SIZE(head_fields), t[0], &i);
	if (!f)
		return state_fail(err, line, "unknown line '%.32s'", t[0]);
	if (*seen & (1ull << i))
		return state_fail(err, line, "'%s' given twice", t[0]);
	*seen |= 1ull << i;
	journal_unescape(t[1], v, sizeof(v));
	if (!strcmp(t[0], "netns") && !strcmp(v, "-"))
		v[0] = '\0';
	return state_value_parse(f, j, f->type == STATE_STR ? v : t[1], line, err);
}

static int parse_line(struct journal *j, int version, char *line, int lineno, uint64_t *seen,
		      struct state_err *err)
{
	const struct state_field *f;
	char *t[10], *save = NULL;
	int nf = 0, i;

	for (char *tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (nf == 10)
			return state_fail(err, lineno, "too many fields");
		t[nf++] = tok;
	}
	if (nf >= 1 && !strcmp(t[0], "item"))
		return nf == 9 ? parse_item(j, t, lineno, err)
			       : state_fail(err, lineno, "item: %d fields instead of 9", nf);
	if (nf >= 1 && !strcmp(t[0], "bound")) {
		if (nf != 3)
			return state_fail(err, lineno, "bound: %d fields instead of 3", nf);
		f = state_field_find(bound_fields, ARRAY_SIZE(bound_fields), t[1], &i);
		/* a bound this accelctl does not know (a newer one wrote format 1
		 * so that this one can restore): not needed to restore */
		return f ? state_value_parse(f, &j->bounds, t[2], lineno, err) : 0;
	}
	if (nf != 2)
		return state_fail(err, lineno, "not a 'KEY VALUE' line");
	return parse_head(j, version, t, lineno, seen, err);
}

int journal_parse_err(struct journal *j, char *text, const char *file, struct state_err *err)
{
	struct journal *tmp;
	char *line, *nl;
	uint64_t seen = 0;
	unsigned int version;
	int lineno = 1, e;

	err->msg[0] = '\0';
	nl = strchr(text, '\n');
	if (!*text || text[strlen(text) - 1] != '\n') {
		e = state_fail(err, 0, *text ? "truncated (the last line has no newline)" : "empty file");
		goto out;
	}
	*nl = '\0';
	e = state_header("tune-journal", JOURNAL_VERSION_MAX, text, false, &version, err);
	if (e)
		goto out;
	tmp = calloc(1, sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	for (line = nl + 1; *line && !e; line = nl + 1) {
		nl = strchr(line, '\n');
		*nl = '\0';
		e = parse_line(tmp, version, line, ++lineno, &seen, err);
	}
	for (size_t i = 0; !e && i < ARRAY_SIZE(head_fields); i++)
		if (!(seen & (1ull << i)))
			e = state_fail(err, 0, "missing required line '%s'", head_fields[i].key);
	if (!e)
		memcpy(j, tmp, sizeof(*j));
	free(tmp);
out:
	if (e == -EINVAL)
		state_err_file(err, file ? file : "tune.journal");
	return e;
}

int journal_parse(struct journal *j, char *text)
{
	struct state_err err;

	return journal_parse_err(j, text, NULL, &err);
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
	err = state_write_file(path, buf, n);
cleanup:
	free(buf);
	return err;
}

int journal_load(const struct accel_ctx *ctx, struct journal *j, struct state_err *err)
{
	char path[PATH_MAX], *text;
	ssize_t n;
	int e;

	err->msg[0] = '\0';
	if (journal_path(ctx, path, sizeof(path))) {
		state_fail(err, 0, "the state dir path is too long");
		return -ENAMETOOLONG;
	}
	n = state_slurp(path, 4096 + (size_t)TUNE_MAX_ITEMS * 4 * 3 * TUNE_VAL_LEN, &text);
	if (n < 0 || !text) {
		e = n < 0 ? (int)n : -EIO;
		state_fail(err, 0, "%s: %s", path, state_strerror(e));
		return e == -EILSEQ ? -EINVAL : e;
	}
	e = journal_parse_err(j, text, path, err);
	free(text);
	return e;
}

int journal_read(const struct accel_ctx *ctx, struct journal *j)
{
	struct state_err err;

	return journal_load(ctx, j, &err);
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
