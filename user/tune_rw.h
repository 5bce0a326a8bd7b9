/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tune_rw.h - read and write one setting in the current network
 * namespace; enter a journal's namespace (tune_rw.c).
 */
#ifndef ACCEL_TUNE_RW_H
#define ACCEL_TUNE_RW_H

#include <stddef.h>

#include "tune_item.h"

struct journal;
struct nic;

/* Read and write one setting in the current netns (sysctl or NIC; nic
 * may be NULL for a sysctl). */
int tune_read(struct nic *nic, enum tune_kind kind, const char *ifname, const char *key,
	      char *buf, size_t len, char *err, size_t errlen);
int tune_write(struct nic *nic, enum tune_kind kind, const char *ifname, const char *key,
	       const char *val, char *err, size_t errlen);
/* Enter the journal's network namespace when it differs from ours (the
 * one to go back to in *saved_fd); tune_leave_netns() returns there. */
int tune_enter_journal_netns(const struct journal *j, int *saved_fd);
void tune_leave_netns(int *saved_fd);

#endif
