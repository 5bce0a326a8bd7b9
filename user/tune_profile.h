/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tune_profile.h - the parsed profile, struct tune_profile: what
 * profile.c fills and profile_io.c writes out as sysctl.d.  Its own
 * header so that profile_io.c needs no part of profile.c: profile.c uses
 * profile_io.c, not the other way round.
 */
#ifndef ACCEL_TUNE_PROFILE_H
#define ACCEL_TUNE_PROFILE_H

#include <limits.h>
#include <stdbool.h>

#include "accel.h"
#include "opts.h"
#include "tune_item.h"

/* Tri-state for "feature on/off" in a profile section. */
enum { PROFILE_UNSET = -1, PROFILE_OFF = 0, PROFILE_ON = 1 };

struct tune_profile {
	char name[64];
	char source[PATH_MAX];		/* file path, or "built-in" */
	bool builtin;
	int n;
	struct tune_item items[TUNE_MAX_ITEMS];
	/* sections for the other features ([bypass], [netacct], [tcpstate]) */
	int enable_bypass, enable_netacct, enable_tcpstate, enable_tune;
	struct attach_opts attach;	/* their options (attach.set says which were given) */
	char raw[ACCEL_OPT_MAX][512];	/* by accel_opt_bit, as written (iface lines joined by commas) */
	struct tune_bounds bounds;
	bool has_auto;
	/* first parse error, for messages */
	char err[PATH_MAX + 512];
};

#endif
