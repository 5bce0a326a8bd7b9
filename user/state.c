// SPDX-License-Identifier: GPL-2.0-only
/*
 * The state dir's records: one versioned key=value format, one strict
 * parser driven by a field table per kind, one atomic writer (state.h
 * describes the format).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

#define STATE_MAGIC	"accelctl-"
#define STATE_MAX_FILE	(4u << 20)

/* ---- errors --------------------------------------------------------- */

int state_fail(struct state_err *err, int line, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	err->line = line;
	if (line)
		n = snprintf(err->msg, sizeof(err->msg), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void state_err_file(struct state_err *err, const char *file)
{
	size_t fl = strnlen(file, sizeof(err->msg) / 2), ml = strlen(err->msg);

	if (fl + 2 + ml >= sizeof(err->msg))
		ml = sizeof(err->msg) - fl - 3;
	memmove(err->msg + fl + 2, err->msg, ml);
	memcpy(err->msg, file, fl);
	memcpy(err->msg + fl, ": ", 2);
	err->msg[fl + 2 + ml] = '\0';
}

/* ---- escaping --------------------------------------------------------- */

int state_escape(const char *in, size_t len, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = in[i];
		char e[4];
		size_t n;

		if (c == '\\' || c == '\n') {
			e[0] = '\\';
			e[1] = c == '\n' ? 'n' : '\\';
			n = 2;
		} else if (c < 0x20 || c > 0x7e) {
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[c >> 4];
			e[3] = hex[c & 15];
			n = 4;
		} else {
			e[0] = c;
			n = 1;
		}
		if (o + n >= outlen)
			return -ENOSPC;
		memcpy(out + o, e, n);
		o += n;
	}
	if (o >= outlen)
		return -ENOSPC;
	out[o] = '\0';
	return (int)o;
}

static int hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int state_unescape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *in; in++) {
		char c = *in;

		if (c == '\\') {
			if (in[1] == '\\' || in[1] == 'n') {
				c = in[1] == 'n' ? '\n' : '\\';
				in++;
			} else if (in[1] == 'x' && hexdigit(in[2]) >= 0 && hexdigit(in[3]) >= 0) {
				c = (char)(hexdigit(in[2]) << 4 | hexdigit(in[3]));
				in += 3;
			} else {
				return -EINVAL;
			}
		}
		if (o + 1 >= outlen)
			return -ENOSPC;
		out[o++] = c;
	}
	if (!outlen)
		return -ENOSPC;
	out[o] = '\0';
	return (int)o;
}

/* ---- typed values ----------------------------------------------------- */

static uint64_t get_uint(const void *p, size_t size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (size) {
	case 1: memcpy(&u8, p, 1); return u8;
	case 2: memcpy(&u16, p, 2); return u16;
	case 4: memcpy(&u32, p, 4); return u32;
	default: memcpy(&u64, p, 8); return u64;
	}
}

static void put_uint(void *p, size_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (size) {
	case 1: memcpy(p, &u8, 1); break;
	case 2: memcpy(p, &u16, 2); break;
	case 4: memcpy(p, &u32, 4); break;
	default: memcpy(p, &v, 8); break;
	}
}

static int64_t get_int(const void *p, size_t size)
{
	int32_t i32;
	int64_t i64;

	if (size == 4) {
		memcpy(&i32, p, 4);
		return i32;
	}
	memcpy(&i64, p, 8);
	return i64;
}

static uint64_t field_max(const struct state_field *f)
{
	if (f->max)
		return f->max;
	return f->size >= 8 ? UINT64_MAX : (1ull << (8 * f->size)) - 1;
}

/* One field's value as text (escaped) into buf. */
static int field_format(const struct state_field *f, const char *base, char *buf, size_t len)
{
	const char *p = base + f->off;
	uint64_t u;
	int n;

	switch (f->type) {
	case STATE_STR:
		return state_escape(p, strnlen(p, f->size), buf, len);
	case STATE_U64:
		n = snprintf(buf, len, "%llu", (unsigned long long)get_uint(p, f->size));
		break;
	case STATE_I64:
		n = snprintf(buf, len, "%lld", (long long)get_int(p, f->size));
		break;
	case STATE_BOOL:
		n = snprintf(buf, len, "%d", *(const bool *)p ? 1 : 0);
		break;
	case STATE_ENUM:
		u = get_uint(p, f->size);
		if (u >= f->nnames || !f->names[u])
			return -EINVAL;
		n = snprintf(buf, len, "%s", f->names[u]);
		break;
	default:
		return -EINVAL;
	}
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

static int parse_int(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(v, &end, 10);
	if (!*v || *end || errno || x < lo || x > hi)
		return -EINVAL;
	*out = x;
	return 0;
}

/* Decoded value v into the field; err says why not. */
static int field_parse(const struct state_field *f, char *base, const char *v, int line,
		       struct state_err *err)
{
	char *p = base + f->off;
	uint64_t u;
	int64_t i;

	switch (f->type) {
	case STATE_STR:
		if (strlen(v) >= f->size)
			return state_fail(err, line, "%s: value longer than %zu bytes", f->key, f->size - 1);
		strcpy(p, v);
		return 0;
	case STATE_U64:
		/* decimal only: what state_format writes */
		if (!*v || v[0] == '-' || v[0] == '+' || (v[0] == '0' && v[1]) ||
		    parse_u64(v, f->min, field_max(f), &u))
			return state_fail(err, line, "%s: '%s' is not a number in [%llu, %llu]", f->key, v,
					  (unsigned long long)f->min, (unsigned long long)field_max(f));
		put_uint(p, f->size, u);
		return 0;
	case STATE_I64:
		if (parse_int(v, f->size == 4 ? INT32_MIN : INT64_MIN, f->size == 4 ? INT32_MAX : INT64_MAX,
			      &i))
			return state_fail(err, line, "%s: '%s' is not a signed %zu-bit number", f->key, v,
					  8 * f->size);
		if (f->size == 4) {
			int32_t i32 = (int32_t)i;

			memcpy(p, &i32, 4);
		} else {
			memcpy(p, &i, 8);
		}
		return 0;
	case STATE_BOOL:
		if (strcmp(v, "0") && strcmp(v, "1"))
			return state_fail(err, line, "%s: '%s' is not 0 or 1", f->key, v);
		*(bool *)p = v[0] == '1';
		return 0;
	case STATE_ENUM:
		for (size_t n = 0; n < f->nnames; n++) {
			if (f->names[n] && !strcmp(v, f->names[n])) {
				put_uint(p, f->size, n);
				return 0;
			}
		}
		return state_fail(err, line, "%s: unknown value '%s'", f->key, v);
	}
	return state_fail(err, line, "%s: field of unknown type", f->key);
}

const struct state_field *state_field_find(const struct state_field *fs, size_t n, const char *key,
					   int *idx)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(fs[i].key, key)) {
			*idx = (int)i;
			return &fs[i];
		}
	}
	*idx = -1;
	return NULL;
}

int state_value_parse(const struct state_field *f, void *rec, const char *v, int line,
		      struct state_err *err)
{
	return field_parse(f, rec, v, line, err);
}

int state_value_format(const struct state_field *f, const void *rec, char *buf, size_t len)
{
	return field_format(f, rec, buf, len);
}

/* ---- format --------------------------------------------------------- */

static int format_fields(const struct state_field *fs, size_t nf, const char *base, char *buf,
			 size_t len, size_t *off)
{
	for (size_t i = 0; i < nf; i++) {
		int n, err = str_appendf(buf, len, off, "%s=", fs[i].key);

		if (err)
			return err;
		n = field_format(&fs[i], base, buf + *off, len - *off);
		if (n < 0)
			return n;
		*off += n;
		err = str_appendf(buf, len, off, "\n");
		if (err)
			return err;
	}
	return 0;
}

int state_format(const struct state_kind *k, const void *rec, char *buf, size_t len)
{
	const struct state_group *g = k->group;
	const char *base = rec;
	size_t off = 0;
	int err, n = 0;

	if (!len)
		return -ENOSPC;
	buf[0] = '\0';
	err = str_appendf(buf, len, &off, STATE_MAGIC "%s %u\n", k->name, k->version);
	if (!err)
		err = format_fields(k->fields, k->nfields, base, buf, len, &off);
	if (g && !err) {
		memcpy(&n, base + g->count_off, sizeof(n));
		if (n < 0 || (size_t)n > g->max)
			return -EINVAL;
	}
	for (int i = 0; g && !err && i < n; i++)
		err = format_fields(g->fields, g->nfields, base + g->off + i * g->size, buf, len, &off);
	return err ? err : (int)off;
}

/* ---- parse ---------------------------------------------------------- */

int state_header(const char *kind, unsigned int max, const char *line, bool legacy_ok,
		 unsigned int *version, struct state_err *err)
{
	size_t kl = strlen(kind), ml = strlen(STATE_MAGIC);
	const char *v = line + ml + kl + 1;
	uint64_t ver;

	*version = 0;
	if (strncmp(line, STATE_MAGIC, ml)) {
		if (legacy_ok)
			return 0;
		return state_fail(err, 1, "not an accelctl %s record (the first line is not '%s%s <version>')",
				  kind, STATE_MAGIC, kind);
	}
	if (strncmp(line + ml, kind, kl) || line[ml + kl] != ' ')
		return state_fail(err, 1, "'%.64s' is not the header of an accelctl %s record", line, kind);
	if (!*v || *v == '0' || strspn(v, "0123456789") != strlen(v) || strlen(v) > 9 ||
	    parse_u64(v, 1, UINT32_MAX, &ver))
		return state_fail(err, 1, "bad version '%.16s' in the header", v);
	if (ver > max)
		return state_fail(err, 1, "written by a newer accelctl (version %llu); this one reads versions up to %u",
				  (unsigned long long)ver, max);
	*version = (unsigned int)ver;
	return 0;
}

struct parse {
	const struct state_kind *k;
	char *rec;		/* scratch copy */
	char *entry;		/* the current group entry, NULL before the first */
	int n, entry_line;
	uint64_t seen, eseen;	/* fields seen, of the record and of the entry */
	char *val;		/* decoded value, as long as the text */
};

static int missing(const struct state_field *fs, size_t nf, uint64_t seen, int line,
		   struct state_err *err, const char *where)
{
	for (size_t i = 0; i < nf; i++)
		if ((fs[i].flags & STATE_REQUIRED) && !(seen & (1ull << i)))
			return state_fail(err, line, "%smissing required key '%s'", where, fs[i].key);
	return 0;
}

static int close_entry(struct parse *p, struct state_err *err)
{
	const struct state_group *g = p->k->group;
	char where[96];

	if (!p->entry)
		return 0;
	snprintf(where, sizeof(where), "the %s entry of line %d: ", g->fields[0].key, p->entry_line);
	return missing(g->fields, g->nfields, p->eseen, 0, err, where);
}

static int find(const struct state_field *fs, size_t nf, const char *key)
{
	for (size_t i = 0; i < nf; i++)
		if (!strcmp(fs[i].key, key))
			return (int)i;
	return -1;
}

static int parse_line(struct parse *p, char *line, int lineno, struct state_err *err)
{
	const struct state_group *g = p->k->group;
	char *eq = strchr(line, '='), *base;
	const struct state_field *f;
	uint64_t *seen;
	int i, e;

	if (!eq)
		return state_fail(err, lineno, "not a key=value line");
	*eq = '\0';
	i = find(p->k->fields, p->k->nfields, line);
	if (i >= 0) {
		if (p->entry)
			return state_fail(err, lineno, "'%s' after the first '%s' entry", line, g->fields[0].key);
		f = &p->k->fields[i];
		base = p->rec;
		seen = &p->seen;
	} else if (g && (i = find(g->fields, g->nfields, line)) >= 0) {
		if (!i) {
			e = close_entry(p, err);
			if (e)
				return e;
			if ((size_t)p->n >= g->max)
				return state_fail(err, lineno, "more than %zu '%s' entries", g->max, line);
			p->entry = p->rec + g->off + (size_t)p->n++ * g->size;
			p->entry_line = lineno;
			p->eseen = 0;
		} else if (!p->entry) {
			return state_fail(err, lineno, "'%s' before the first '%s' line", line, g->fields[0].key);
		}
		f = &g->fields[i];
		base = p->entry;
		seen = &p->eseen;
	} else {
		return state_fail(err, lineno, "unknown key '%.64s'", line);
	}
	if (*seen & (1ull << i))
		return state_fail(err, lineno, "'%s' given twice", line);
	*seen |= 1ull << i;
	if (state_unescape(eq + 1, p->val, strlen(eq + 1) + 1) < 0)
		return state_fail(err, lineno, "%s: bad escape in the value", line);
	if (f->type != STATE_STR && strlen(p->val) != strlen(eq + 1))
		return state_fail(err, lineno, "%s: escaped bytes in a value that is not a string", line);
	return field_parse(f, base, p->val, lineno, err);
}

static int parse_body(struct parse *p, char *text, struct state_err *err)
{
	const struct state_group *g = p->k->group;
	int lineno = 1, e = 0;

	while (*text && !e) {
		char *nl = strchr(text, '\n');

		*nl = '\0';
		e = parse_line(p, text, ++lineno, err);
		text = nl + 1;
	}
	if (!e)
		e = close_entry(p, err);
	if (!e)
		e = missing(p->k->fields, p->k->nfields, p->seen, 0, err, "");
	if (!e && g)
		memcpy(p->rec + g->count_off, &p->n, sizeof(p->n));
	return e;
}

int state_parse(const struct state_kind *k, const char *file, char *text, void *rec,
		struct state_err *err)
{
	struct parse p = { .k = k };
	size_t len = strlen(text);
	char first[128], *body = strchr(text, '\n');
	unsigned int version = 0;
	int e;

	err->line = 0;
	err->msg[0] = '\0';
	if (k->nfields > 64 || (k->group && k->group->nfields > 64))
		e = state_fail(err, 0, "more than 64 fields in the table of %s records", k->name);
	else if (!len)
		e = state_fail(err, 0, "empty file");
	else if (text[len - 1] != '\n')
		e = state_fail(err, 0, "truncated (the last line has no newline)");
	else
		e = 0;
	if (!e) {
		snprintf(first, sizeof(first), "%.*s", (int)(body - text), text);
		e = state_header(k->name, k->version, first, k->legacy != NULL, &version, err);
	}
	p.rec = e ? NULL : calloc(1, k->size);
	p.val = e ? NULL : malloc(len + 1);
	if (!e && (!p.rec || !p.val))
		e = -ENOMEM;
	if (!e && version < k->version)
		e = k->legacy ? k->legacy(text, version, p.rec, err)
			      : state_fail(err, 1, "version %u is no longer read", version);
	else if (!e)
		e = parse_body(&p, body + 1, err);
	if (!e)
		memcpy(rec, p.rec, k->size);
	else if (e == -EINVAL)
		state_err_file(err, file ? file : k->name);
	free(p.val);
	free(p.rec);
	return e;
}

/* ---- files ---------------------------------------------------------- */

ssize_t state_slurp(const char *path, size_t max, char **text)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	size_t off = 0, cap;
	struct stat st;
	char *buf;

	*text = NULL;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	cap = (size_t)st.st_size + 2;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (off + 1 < cap) {
		ssize_t n = read(fd, buf + off, cap - 1 - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : 0;
			break;
		}
		off += (size_t)n;
	}
	close(fd);
	if (!err && off + 1 >= cap)
		err = -EFBIG;	/* grew while read */
	if (!err && memchr(buf, '\0', off))
		err = -EILSEQ;	/* not text: no parser would see past the NUL */
	if (err) {
		free(buf);
		return err;
	}
	buf[off] = '\0';
	*text = buf;
	return (ssize_t)off;
}

const char *state_strerror(int err)
{
	if (err == -EILSEQ)
		return "a NUL byte in the file: not a text record";
	if (err == -EFBIG)
		return "too large for a state record";
	return strerror(-err);
}

int state_write_file(const char *path, const char *data, size_t len)
{
	return write_file_atomic(path, data, len, 0600);
}

int state_write(const struct state_kind *k, const char *path, const void *rec)
{
	size_t cap = 4096;
	char *buf = NULL;
	int n = -ENOSPC;

	while (n == -ENOSPC && cap <= STATE_MAX_FILE) {
		char *nb = realloc(buf, cap);

		if (!nb) {
			n = -ENOMEM;
			break;
		}
		buf = nb;
		n = state_format(k, rec, buf, cap);
		cap *= 2;
	}
	if (n >= 0)
		n = state_write_file(path, buf, (size_t)n);
	free(buf);
	return n;
}

int state_read(const struct state_kind *k, const char *path, void *rec, struct state_err *err)
{
	char *text;
	ssize_t n = state_slurp(path, STATE_MAX_FILE, &text);
	int e;

	if (n == -ENOENT)
		return -ENOENT;
	if (n < 0 || !text) {
		n = n < 0 ? n : -EIO;
		state_fail(err, 0, "cannot read: %s", state_strerror((int)n));
		state_err_file(err, path);
		/* a file that is not text is a malformed record, not a read error */
		return n == -EILSEQ ? -EINVAL : (int)n;
	}
	e = state_parse(k, path, text, rec, err);
	free(text);
	return e;
}
