/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef ACCEL_PIN_H
#define ACCEL_PIN_H

#include <stdbool.h>
#include <stddef.h>

/* Make sure the file system holding path is bpffs, mounting bpffs on
 * /sys/fs/bpf when nothing is mounted there (and path is below it). */
int bpffs_ensure(const char *path);
bool is_bpffs(const char *path);

/* Create (0700) and flock the pin root.  Fails with -EWOULDBLOCK when
 * another accelctl holds it; fills holder with what we know of it. */
int pin_root_lock(const char *root, bool create, int *fd);
/* The lock if nobody holds it: -EWOULDBLOCK (at once) when someone does. */
int pin_root_trylock(const char *root, int *fd);
void pin_root_unlock(int *fd);

#endif
