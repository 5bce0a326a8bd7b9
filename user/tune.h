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
 *   autotune.h   observe counters, act within the profile's bounds
 */
#ifndef ACCEL_TUNE_H
#define ACCEL_TUNE_H

#include <stddef.h>

#include "tune_item.h"

struct journal;
struct nic;
struct tune_profile;
struct accel_ctx;

/* Read and write one setting in the current netns (sysctl or NIC). */
int tune_read(struct nic *nic, enum tune_kind kind, const char *ifname, const char *key,
	      char *buf, size_t len, char *err, size_t errlen);
int tune_write(struct nic *nic, enum tune_kind kind, const char *ifname, const char *key,
	       const char *val, char *err, size_t errlen);
/* `profile check`: validate against this kernel, namespace and devices. */
int tune_check_profile(struct accel_ctx *ctx, const struct tune_profile *p);
/* Enter the journal's network namespace when it differs from ours (the
 * one to go back to in *saved_fd); tune_leave_netns() returns there. */
int tune_enter_journal_netns(const struct journal *j, int *saved_fd);
void tune_leave_netns(int *saved_fd);

#endif
