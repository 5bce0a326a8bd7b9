// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "sysenv.h"
#include "util.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static int origin_fd = -1;

int netns_origin_fd(void)
{
	return origin_fd;
}

int netns_open(const char *name)
{
	static const char *const dirs[] = { "/run/netns", "/var/run/netns" };
	char path[PATH_MAX];
	int fd = -ENOENT;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(dirs) && fd < 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
	}
	return fd;
}

int netns_enter(const char *name)
{
	int fd, err;

	fd = netns_open(name);
	if (fd == -EINVAL) {
		pr_err("invalid network namespace name '%s'\n", name);
		return fd;
	}
	if (fd < 0) {
		pr_err("network namespace '%s' not found in /run/netns (see `ip netns list`)\n", name);
		return -ENOENT;
	}
	/* Keep a handle on the namespace we started in: host-wide sysctls
	 * are checked there (tune). */
	if (origin_fd < 0)
		origin_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	err = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	if (err)
		pr_err("cannot enter network namespace '%s': %s%s\n", name, strerror(-err),
		       err == -EPERM ? " (it takes CAP_SYS_ADMIN: run as root)" : "");
	return err;
}

int netns_cookie(uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len))
		err = -errno;
	close(fd);
	return err;
}

int cgroup2_mount(const char *state_dir, char *buf, size_t len, bool *mounted)
{
	struct mntent *me;
	FILE *f = setmntent("/proc/mounts", "r");
	int err = -ENOENT;

	*mounted = false;
	if (f) {
		while ((me = getmntent(f))) {
			if (!strcmp(me->mnt_type, "cgroup2")) {
				snprintf(buf, len, "%s", me->mnt_dir);
				err = 0;
				break;
			}
		}
		endmntent(f);
	}
	if (!err)
		return 0;
	/* No cgroup2 anywhere (pure v1 host): mount our own. */
	if (path_join(buf, len, state_dir, "cgroup2"))
		return -ENAMETOOLONG;
	err = mkdir_p(buf, 0700);
	if (err)
		return err;
	if (mount("cgroup2", buf, "cgroup2", 0, NULL)) {
		err = -errno;
		pr_err("no cgroup2 mounted and mounting one on %s failed: %s\n", buf, strerror(errno));
		return err;
	}
	pr_debug("no cgroup2 mounted: mounted one on %s\n", buf);
	*mounted = true;
	return 0;
}

void cgroup2_unmount(const char *mnt)
{
	if (umount2(mnt, MNT_DETACH))
		pr_warn("cannot unmount %s: %s\n", mnt, strerror(errno));
	else
		(void)rmdir(mnt);
}

int cgroup2_resolve(const char *mnt, const char *path, char *buf, size_t len)
{
	char real[PATH_MAX], realmnt[PATH_MAX];
	struct stat st;
	size_t mlen;
	int n;

	if (!path || !*path)
		n = snprintf(buf, len, "%s", mnt);
	else if (path[0] == '/')
		n = snprintf(buf, len, "%s", path);
	else
		n = snprintf(buf, len, "%s/%s", mnt, path);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (!realpath(buf, real) || stat(real, &st) || !S_ISDIR(st.st_mode)) {
		pr_err("cgroup %s does not exist\n", buf);
		return -ENOENT;
	}
	if (!realpath(mnt, realmnt))
		return -errno;
	mlen = strlen(realmnt);
	if (strncmp(real, realmnt, mlen) || (real[mlen] != '/' && real[mlen] != '\0')) {
		pr_err("%s is not inside the cgroup2 mount %s\n", buf, realmnt);
		return -EINVAL;
	}
	snprintf(buf, len, "%s", real);
	return 0;
}

const char *kernel_release(void)
{
	static struct utsname u;

	if (!u.release[0] && uname(&u))
		return "unknown";
	return u.release;
}

const char *libbpf_version(void)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "%u.%u", libbpf_major_version(), libbpf_minor_version());
	return buf;
}

int kernel_check_bpf(char *why, size_t len)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(why, len, "kernel BTF (/sys/kernel/btf/vmlinux) is missing: "
			 "accelctl's CO-RE programs need a kernel built with CONFIG_DEBUG_INFO_BTF=y");
		return -EOPNOTSUPP;
	}
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SOCKET_FILTER, NULL) <= 0) {
		snprintf(why, len, "the bpf(2) system call is not usable here "
			 "(needs root/CAP_BPF+CAP_NET_ADMIN, and a kernel with CONFIG_BPF_SYSCALL=y)");
		return -EPERM;
	}
	return 0;
}
