/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tune.h - the tune feature: validate -> journal -> write -> roll back /
 * restore (tune.c).  The pieces have their own headers:
 *
 *   tune_item.h  the setting and bounds types, the settings' names
 *   profile.h    INI profiles and the built-in ones; `profile` command
 *   sysctl.h     sysctl keys: names, paths, scope, values
 *   nic.h        ethtool netlink (rings, channels, features) and MTU
 *   journal.h    the on-disk record of original values
 *   tune_rw.h    read/write one setting; enter the journal's namespace
 *   autotune.h   observe counters, act within the profile's bounds
 */
#ifndef ACCEL_TUNE_H
#define ACCEL_TUNE_H

#include <stddef.h>

#include "tune_item.h"
#include "tune_rw.h"

struct journal;
struct nic;
struct tune_profile;
struct accel_ctx;

/* `profile check`: validate against this kernel, namespace and devices. */
int tune_check_profile(struct accel_ctx *ctx, const struct tune_profile *p);

#endif
