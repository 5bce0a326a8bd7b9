/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nic_queue.h - per-queue NIC settings in sysfs (nic_queue.c): RPS and
 * XPS CPU masks and RFS flow counts, under
 * /sys/class/net/IFNAME/queues/{rx,tx}-N/.  nic.c dispatches to it.
 *
 * A value is either one for every queue ("3": each RX queue's rps_cpus is
 * 3) or one per queue, by index, separated by spaces ("0=1 1=2").  Reading
 * gives the first form when every queue agrees, the second otherwise, so
 * the journal restores exactly what each queue had.  Masks are kept in
 * one canonical spelling (lower-case hex, no commas, no leading zeros) so
 * that the kernel's zero-padded, comma-grouped form compares equal.
 */
#ifndef ACCEL_NIC_QUEUE_H
#define ACCEL_NIC_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include "tune_item.h"

bool nicq_kind(enum tune_kind k);
/* A sysfs of the calling thread's network namespace (the host's /sys
 * shows the devices of the namespace it was mounted in): a detached
 * mount, never visible in any mount table.  0 with *fd, or -errno with
 * the reason in err. */
int nicq_sysfs_open(int *fd, char *err, size_t errlen);
/* The four operations of nic.h, for a queue kind; sysfs from
 * nicq_sysfs_open().  The same return values. */
int nicq_read(int sysfs, const struct tune_item *it, char *buf, size_t len, char *err,
	      size_t errlen);
int nicq_check(int sysfs, const struct tune_item *it, char *err, size_t errlen);
int nicq_write(int sysfs, const struct tune_item *it, const char *val, char *err, size_t errlen);
/* The value the device will read back once it->value is written: a
 * per-queue list leaves the queues it does not name as they are now. */
int nicq_target(int sysfs, const struct tune_item *it, char *out, size_t len, char *err,
		size_t errlen);

/* Pure helpers (unit-tested). */
/* A profile's value in canonical form; -EINVAL with the reason in err
 * (a mask that is not hex, a flow count not 0 or a power of two, a queue
 * index that is not a number or given twice). */
int nicq_value_norm(enum tune_kind k, const char *in, char *out, size_t len, char *err,
		    size_t errlen);
/* The highest CPU a canonical mask names, -1 when it names none. */
int nicq_mask_top_cpu(const char *mask);
/* Number of possible CPUs (highest in /sys/devices/system/cpu/possible + 1). */
int nicq_ncpus(void);

#endif
