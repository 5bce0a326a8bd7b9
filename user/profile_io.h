/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The profile directory and its listing, profiles in sysctl.d(5) syntax
 * (user/profile_io.c).  Below profile.h: needs only struct tune_profile.
 */
#ifndef ACCEL_PROFILE_IO_H
#define ACCEL_PROFILE_IO_H

#include <stdio.h>

struct tune_profile;

#define ACCEL_PROFILE_DIR "/etc/accelctl/profiles"

/* Where --profile NAME looks first: $ACCELCTL_PROFILE_DIR or
 * ACCEL_PROFILE_DIR. */
const char *profile_dir(void);
/* `profile list`: the files of profile_dir() and the built-ins. */
void profile_list(FILE *out);
/* `profile import FILE`: a sysctl.d file as an INI profile on out.  0,
 * or -ACCEL_ECONFIG with the file, line and reason in err (nothing
 * written then). */
int profile_import_sysctl_d(const char *path, FILE *out, char *err, size_t len);
/* `profile export --sysctl-d`: p's sysctls in sysctl.d syntax. */
void profile_export_sysctl_d(const struct tune_profile *p, FILE *out);

#endif
