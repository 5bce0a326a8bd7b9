/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * state.h - the files accelctl keeps in its state dir, read and written by
 * one module (user/state.c) with a field table per record kind.
 *
 * A record is text:
 *
 *   accelctl-<kind> <version>
 *   key=value
 *   ...
 *
 * Values are escaped (\\ \n \xHH for every byte outside printable ASCII),
 * so any byte string survives and a line is always one field.  A kind may
 * have one repeated group (netacct: one per interface); its first field
 * begins an entry, and entries come after the record's own fields.
 *
 * Reading is strict and all-or-nothing: the file is parsed into a scratch
 * copy, and only a file that is complete and valid is copied out.  Files of
 * older versions (0: no header line, the format before this module) go to
 * the kind's legacy parser; a newer version is refused, never guessed at.
 * Writing is atomic: temp file in the same directory, fsync, rename, fsync
 * of the directory.
 */
#ifndef ACCEL_STATE_H
#define ACCEL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

enum state_type {
	STATE_STR,	/* char[size], NUL-terminated; longer values are an error */
	STATE_U64,	/* unsigned integer of size 1, 2, 4 or 8, in [min, max] */
	STATE_I64,	/* signed integer of size 4 or 8 */
	STATE_BOOL,	/* bool; written 0/1 */
	STATE_ENUM,	/* unsigned int (or enum) stored by its name in names[] */
};

#define STATE_REQUIRED	1u

struct state_field {
	const char *key;
	enum state_type type;
	unsigned int flags;
	size_t off, size;		/* the member in the record struct */
	uint64_t min, max;		/* STATE_U64; both 0: the member's range */
	const char *const *names;	/* STATE_ENUM */
	size_t nnames;
};

#define STATE_MEMBER(st, m) .off = offsetof(st, m), .size = sizeof(((st *)0)->m)
#define STATE_F_STR(k, st, m, fl) \
	{ .key = (k), .type = STATE_STR, .flags = (fl), STATE_MEMBER(st, m) }
#define STATE_F_U64(k, st, m, fl, lo, hi) \
	{ .key = (k), .type = STATE_U64, .flags = (fl), STATE_MEMBER(st, m), .min = (lo), .max = (hi) }
#define STATE_F_I64(k, st, m, fl) \
	{ .key = (k), .type = STATE_I64, .flags = (fl), STATE_MEMBER(st, m) }
#define STATE_F_BOOL(k, st, m, fl) \
	{ .key = (k), .type = STATE_BOOL, .flags = (fl), STATE_MEMBER(st, m) }
#define STATE_F_ENUM(k, st, m, fl, tbl) \
	{ .key = (k), .type = STATE_ENUM, .flags = (fl), STATE_MEMBER(st, m), \
	  .names = (tbl), .nnames = ARRAY_SIZE(tbl) }

/* Where a file went wrong: "<file>: line N: what" (line 0: the whole file). */
struct state_err {
	int line;
	char msg[512];
};

struct state_kind;
/* Parse text of an older version (0: no header) into rec (zeroed, the
 * kind's size); 0 or -EINVAL with err set (state_fail()). */
typedef int (*state_legacy_fn)(char *text, unsigned int version, void *rec, struct state_err *err);

struct state_group {
	const struct state_field *fields;	/* fields[0] begins an entry */
	size_t nfields;
	size_t off, size, max;			/* the array in the record, its element, capacity */
	size_t count_off;			/* the int counting entries */
};

struct state_kind {
	const char *name;		/* header "accelctl-<name> <version>", file messages */
	unsigned int version;		/* what is written; newer ones are refused */
	const struct state_field *fields;
	size_t nfields;
	const struct state_group *group;	/* NULL: no repeated entries */
	size_t size;			/* sizeof the record struct */
	state_legacy_fn legacy;		/* NULL: older versions are refused */
};

/* Escape in (len bytes) into out: \\ \n and \xHH for bytes outside
 * 0x20..0x7e.  -ENOSPC when out (outlen bytes, with the NUL) is too small. */
int state_escape(const char *in, size_t len, char *out, size_t outlen);
/* The reverse; returns the decoded length or -EINVAL (a bad escape) or
 * -ENOSPC.  out is NUL-terminated. */
int state_unescape(const char *in, char *out, size_t outlen);

/* One field, for a file whose lines are not key=value (the tune
 * journal): find it by key (NULL and *idx -1 when not in fs), parse
 * value v into rec (0 or -EINVAL with err set), format it into buf (its
 * length, -ENOSPC; strings escaped as above). */
const struct state_field *state_field_find(const struct state_field *fs, size_t n, const char *key,
					   int *idx);
int state_value_parse(const struct state_field *f, void *rec, const char *v, int line,
		      struct state_err *err);
int state_value_format(const struct state_field *f, const void *rec, char *buf, size_t len);

/* Record → text; returns its length or -ENOSPC. */
int state_format(const struct state_kind *k, const void *rec, char *buf, size_t len);
/* Text → record (modified in place); 0 or -EINVAL with err set.  rec is
 * only written when the whole text is valid.  file names the text in
 * err (NULL: "<kind> record"). */
int state_parse(const struct state_kind *k, const char *file, char *text, void *rec,
		struct state_err *err);

/* The header line of a kind: 0 and *version, or -EINVAL with err set for
 * "no header" (*version 0 and return 1 instead when legacy_ok), another
 * kind, or a version above max ("written by a newer accelctl"). */
int state_header(const char *kind, unsigned int max, const char *line, bool legacy_ok,
		 unsigned int *version, struct state_err *err);
/* err = "<file>: line N: <fmt...>" (line 0: no line part); returns -EINVAL. */
int state_fail(struct state_err *err, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Put "<file>: " in front of err's message. */
void state_err_file(struct state_err *err, const char *file);

/* Read path whole (at most max bytes) into a malloc'd NUL-terminated
 * buffer; returns its length or -errno (-EFBIG when larger than max,
 * -EILSEQ when it holds a NUL byte).  state_strerror() says which. */
ssize_t state_slurp(const char *path, size_t max, char **text);
const char *state_strerror(int err);
/* Atomic write of len bytes: path.tmp.<pid> in the same directory,
 * fsync, rename over path, fsync the directory.  On any failure the old
 * file is untouched and the temp file is removed. */
int state_write_file(const char *path, const char *data, size_t len);

/* state_format + state_write_file; state_slurp + state_parse.  read
 * returns -ENOENT when there is no file (err untouched), -EINVAL for a
 * malformed one (a NUL byte included), another -errno when it cannot be
 * read. */
int state_write(const struct state_kind *k, const char *path, const void *rec);
int state_read(const struct state_kind *k, const char *path, void *rec, struct state_err *err);

#endif
