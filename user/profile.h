/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * profile.h - tuning profiles: INI files (libinih) and the built-in
 * ones, the `profile` command (profile.c).
 */
#ifndef ACCEL_PROFILE_H
#define ACCEL_PROFILE_H

#include "tune_profile.h"

struct cli_opts;

void profile_init(struct tune_profile *p, const char *name);
/* Parse an INI file or an in-memory INI text.  0, or -ACCEL_ECONFIG with
 * p->err naming the line and the problem. */
int profile_parse_file(struct tune_profile *p, const char *path);
int profile_parse_string(struct tune_profile *p, const char *name, const char *text);
/* Built-in profile by name (-ENOENT) */
int profile_builtin(struct tune_profile *p, const char *name);
/* --profile NAME: <profile_dir()>/NAME.ini when it exists, else the
 * built-in of that name.  0, or -ACCEL_ECONFIG with p->err. */
int profile_by_name(struct tune_profile *p, const char *name);
/* The profile attach uses: --config FILE, --profile NAME, else "loopback". */
int profile_load_for_attach(const struct accel_ctx *ctx, struct tune_profile *p);
/* Fill attach options the command line left unset from the profile's
 * [bypass]/[netacct]/[tcpstate] sections.  Command line wins. */
int profile_merge_attach_opts(struct accel_ctx *ctx, const struct tune_profile *p);
/* Documentation of a built-in key ("why" and trade-off); NULL if none. */
const char *profile_builtin_reason(const char *profile, const char *key);
/* `accelctl profile`.  check validates a parsed profile against this
 * kernel, namespace and devices (the tune feature's plan, which tune.c
 * passes in: this module does not depend on it). */
typedef int (*profile_check_fn)(struct accel_ctx *ctx, const struct tune_profile *p);
int profile_command(struct accel_ctx *ctx, struct cli_opts *o, profile_check_fn check);

#endif
