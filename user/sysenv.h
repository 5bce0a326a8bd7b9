/* SPDX-License-Identifier: GPL-2.0-only */
/* The host around us: network namespaces, cgroup2, kernel facts. */
#ifndef ACCEL_SYSENV_H
#define ACCEL_SYSENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Open the named network namespace (/run/netns/NAME): fd or -errno. */
int netns_open(const char *name);
/* Enter the named network namespace (ip-netns(8) names).  Only the
 * network namespace changes: mounts, bpffs pins and cgroups stay. */
int netns_enter(const char *name);
/* The namespace accelctl started in, kept by netns_enter(); -1 when no
 * namespace was entered. */
int netns_origin_fd(void);
/* Cookie of the current network namespace (SO_NETNS_COOKIE). */
int netns_cookie(uint64_t *cookie);

/* cgroup2 mount point from /proc/mounts; when none is mounted, mount one
 * under <state_dir>/cgroup2 and set *mounted (undo with cgroup2_unmount()
 * once done with it).  Returns 0 or -errno. */
int cgroup2_mount(const char *state_dir, char *buf, size_t len, bool *mounted);
void cgroup2_unmount(const char *mnt);
/* Resolve a cgroup path: absolute paths must be inside the cgroup2 mount;
 * relative ones are taken below it.  Checks that it is a directory. */
int cgroup2_resolve(const char *mnt, const char *path, char *buf, size_t len);

/* Kernel release, e.g. "6.18.44". */
const char *kernel_release(void);
/* libbpf version string, e.g. "1.1". */
const char *libbpf_version(void);

/* 0 when the kernel has BTF and bpf(2) works; -errno + reason otherwise. */
int kernel_check_bpf(char *why, size_t len);

#endif
