/* SPDX-License-Identifier: GPL-2.0-only */
/* The host around us: network namespaces, cgroup2, kernel facts. */
#ifndef ACCEL_SYSENV_H
#define ACCEL_SYSENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --netns: an ip-netns(8) NAME (/run/netns/NAME), a PATH to a netns file
 * (anything with a '/': /proc/PID/ns/net, /run/docker/netns/ID, any
 * bind-mounted nsfs file; absolute) or pid:PID (/proc/PID/ns/net).  The
 * instance record and the journal keep it as given, so it is at most
 * NETNS_SPEC_MAX - 1 characters. */
#define NETNS_SPEC_MAX 64
enum netns_kind { NETNS_NAME, NETNS_PATH, NETNS_PID };
struct netns_spec {
	enum netns_kind kind;
	unsigned int pid;		/* NETNS_PID */
	char path[80];			/* the file to open; a name: under /run/netns */
};
/* 0, or -EINVAL with why in err. */
int netns_spec_parse(const char *spec, struct netns_spec *ns, char *err, size_t errlen);
/* Open a network namespace (any --netns form) and check that the file is
 * one: fd, or -EINVAL (malformed), -ENOENT (no such name, file or process),
 * -ENOTTY (not a network namespace file: statfs magic NSFS_MAGIC and
 * NS_GET_NSTYPE), another -errno from open(2). */
int netns_open(const char *spec);
/* The message for netns_open()'s err on spec, e.g. "network namespace
 * 'blue' not found in /run/netns (see `ip netns list`)". */
void netns_strerror(const char *spec, int err, char *buf, size_t len);
/* Enter a network namespace (any --netns form), saying why not on failure
 * (-errno as netns_open(), or setns(2)'s).  Only the network namespace
 * changes: mounts, bpffs pins and cgroups stay. */
int netns_enter(const char *spec);
/* Inode of the current network namespace (as readlink /proc/PID/ns/net
 * shows it: net:[INO]); 0 when unknown. */
unsigned long long netns_ino(void);
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
