/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * opts.h - options as data.
 *
 * Every option is one struct accel_opt: its name (--NAME on the command
 * line, NAME = VALUE in a profile section), the type of its value, its
 * help, where the value goes and which profile section takes it.  A
 * feature's options are a table in its own user/<feature>.c
 * (accel_feature.opts); the generic ones (--pin-root, --json, ...) are in
 * user/cli.c.  One parser, accel_opt_parse(), serves the command line and
 * the profile, so both accept the same values and say the same thing
 * about a bad one; cli.c builds getopt's table and --help from the
 * tables, profile.c finds its keys in them.
 *
 * Adding an option to a feature: one line in that feature's table (and
 * the field in struct attach_opts it fills).  tests/unit/test_opts.c then
 * checks it parses alike both ways and is in --help, the man page and
 * the bash completion.
 */
#ifndef ACCEL_OPTS_H
#define ACCEL_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accel.h"

enum accel_opt_type {
	AOT_FLAG,		/* no value; sets a bool */
	AOT_STRING,		/* const char * (a copy), any text */
	AOT_PATH,		/* const char * (a copy), not empty */
	AOT_PORTS,		/* struct port_list; "none" empties it */
	AOT_IFNAMES,		/* struct ifname_list; comma-separated, repeatable: adds up */
	AOT_ENUM,		/* int: the index of the value in .names */
	AOT_BOOL,		/* int: on 1, off 0 */
	AOT_NUMBER,		/* unsigned int in lo..hi, a number of .unit */
};

/* Which struct .off is into. */
enum accel_opt_in {
	AO_ATTACH = 0,		/* struct attach_opts (every feature option) */
	AO_CTX,			/* struct accel_ctx (generic options, cli.c) */
	AO_CLI,			/* struct cli_opts (generic options, cli.c) */
};

struct accel_opt {
	const char *name;	/* --NAME and the profile key; NULL ends a table */
	enum accel_opt_type type;
	const char *metavar;	/* the value in --help, e.g. "LIST", "on|off" */
	const char *help;	/* one line of --help */
	const char *defval;	/* the default as help and man page say it; NULL: none */
	const char *const *names;	/* AOT_ENUM, NULL-terminated (AO_NAMES) */
	uint64_t lo, hi;	/* AOT_NUMBER: the accepted range */
	const char *unit;	/* AOT_NUMBER: "seconds", "connections" */
	size_t off, size;	/* the target field (AO_FIELD) */
	enum accel_opt_in in;
	/* Instead of the type's parser (the type still says whether a value
	 * is taken): 0, or -EINVAL with the reason in err, -ENOMEM. */
	int (*set)(const struct accel_opt *o, void *base, const char *value, char *err, size_t len);
	const char *section;	/* profile section taking it; NULL: command line only */
	char shortopt;		/* -X, or 0 */
	const char *only;	/* the one command that takes it, for the error elsewhere */
};

#define AO_FIELD_OF(type, field) \
	.off = offsetof(type, field), .size = sizeof(((type *)0)->field)
#define AO_FIELD(field) AO_FIELD_OF(struct attach_opts, field)
#define AO_NAMES(...) .names = (const char *const[]){ __VA_ARGS__, NULL }

/* At most this many feature options: attach_opts.set has a bit each. */
#define ACCEL_OPT_MAX 32

/* Every feature's option, features[] backwards: attach --help and the man
 * page list bypass's first, tune's (the profile) last. */
#define accel_opt_for_each(i, o)					\
	for (int i = nfeatures - 1; i >= 0; i--)			\
		for (const struct accel_opt *o = features[i]->opts; o && o->name; o++)

/*
 * Parse VALUE (NULL for a flag) into a, and mark the option given in
 * a->set.  0; -EINVAL with the reason in err: what is wrong with the value,
 * to follow the option's name and accel_opt_sep() ("--ports: 'x' is not a
 * port ...", "ports: ..."); -ENOMEM.
 */
int accel_opt_parse(const struct accel_opt *o, struct attach_opts *a, const char *value,
		    char *err, size_t len) __attribute__((nonnull(1, 2, 4)));
/* The same into base, the struct o->in names; sets no bit. */
int accel_opt_parse_into(const struct accel_opt *o, void *base, const char *value,
			 char *err, size_t len) __attribute__((nonnull(1, 2, 4)));
/* ": ", or " " for a reason that reads on from the name ("must be ..."). */
const char *accel_opt_sep(const char *err);
/* The feature option NAME (taken in SECTION unless NULL), or NULL. */
const struct accel_opt *accel_opt_find(const char *section, const char *name);
/* A feature option's bit in attach_opts.set (its place among all of
 * them), or -1 for one in no feature's table. */
int accel_opt_bit(const struct accel_opt *o);
/* Whether the feature option o / NAME was given (command line or profile). */
bool accel_opt_is_given(const struct attach_opts *a, const struct accel_opt *o);
bool accel_opt_given(const struct attach_opts *a, const char *name);
/* Copy the option's field from src to dst and mark it given in dst. */
void accel_opt_copy(const struct accel_opt *o, struct attach_opts *dst,
		    const struct attach_opts *src);
/* Whether any feature option names SECTION. */
bool accel_opt_section(const char *section);

#endif
