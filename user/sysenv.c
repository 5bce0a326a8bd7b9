// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
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

int netns_spec_parse(const char *spec, struct netns_spec *ns, char *err, size_t errlen)
{
	size_t n = spec ? strlen(spec) : 0;

	memset(ns, 0, sizeof(*ns));
	if (!n) {
		snprintf(err, errlen, "empty; give an ip netns NAME, a netns file PATH or pid:PID");
		return -EINVAL;
	}
	if (n >= NETNS_SPEC_MAX) {
		snprintf(err, errlen, "longer than %d characters (bind-mount the file under /run/netns "
			 "and give its name)", NETNS_SPEC_MAX - 1);
		return -EINVAL;
	}
	if (!strncmp(spec, "pid:", 4)) {
		const char *p = spec + 4;
		uint64_t v;

		/* digits only: parse_u64 would take 0x10 */
		if (!*p || strspn(p, "0123456789") != strlen(p) || parse_u64(p, 1, INT32_MAX, &v)) {
			snprintf(err, errlen, "'%s' is not pid:PID with a process id (1-%d)", spec, INT32_MAX);
			return -EINVAL;
		}
		ns->kind = NETNS_PID;
		ns->pid = (unsigned int)v;
		snprintf(ns->path, sizeof(ns->path), "/proc/%u/ns/net", ns->pid);
		return 0;
	}
	if (strchr(spec, '/')) {
		/* later commands re-open it from wherever they run */
		if (spec[0] != '/') {
			snprintf(err, errlen, "'%s' is a relative path; give the netns file's absolute path", spec);
			return -EINVAL;
		}
		ns->kind = NETNS_PATH;
		snprintf(ns->path, sizeof(ns->path), "%s", spec);
		return 0;
	}
	if (!strcmp(spec, ".") || !strcmp(spec, "..")) {
		snprintf(err, errlen, "'%s' is not a network namespace name", spec);
		return -EINVAL;
	}
	ns->kind = NETNS_NAME;
	snprintf(ns->path, sizeof(ns->path), "/run/netns/%s", spec);
	return 0;
}

/* 0 when fd is a network namespace: an nsfs file (a bind mount of one
 * included) whose namespace type is CLONE_NEWNET; -ENOTTY otherwise. */
static int netns_check_fd(int fd)
{
	struct statfs sfs;
	int type;

	if (fstatfs(fd, &sfs))
		return -errno;
	if ((unsigned long)sfs.f_type != NSFS_MAGIC)
		return -ENOTTY;
	type = ioctl(fd, NS_GET_NSTYPE);
	/* NS_GET_NSTYPE is Linux 4.11; before it, nsfs is all we can tell */
	if (type < 0 && errno == ENOTTY)
		return 0;
	return type == CLONE_NEWNET ? 0 : -ENOTTY;
}

int netns_open(const char *spec)
{
	struct netns_spec ns;
	char why[160];
	int fd, err;

	if (netns_spec_parse(spec, &ns, why, sizeof(why)))
		return -EINVAL;
	fd = open(ns.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && ns.kind == NETNS_NAME) {
		char var[sizeof(ns.path) + 4];

		snprintf(var, sizeof(var), "/var%s", ns.path);
		fd = open(var, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	err = netns_check_fd(fd);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

void netns_strerror(const char *spec, int err, char *buf, size_t len)
{
	struct netns_spec ns;
	char why[160];

	if (netns_spec_parse(spec, &ns, why, sizeof(why))) {
		snprintf(buf, len, "invalid --netns: %s", why);
		return;
	}
	if (err == -ENOENT && ns.kind == NETNS_NAME)
		snprintf(buf, len, "network namespace '%s' not found in /run/netns (see `ip netns list`)", spec);
	else if (err == -ENOENT && ns.kind == NETNS_PID)
		snprintf(buf, len, "network namespace of process %u not found: no such process", ns.pid);
	else if (err == -ENOENT)
		snprintf(buf, len, "network namespace file %s not found", spec);
	else if (err == -ENOTTY)
		snprintf(buf, len, "%s is not a network namespace file (nsfs, of type net); give an ip netns NAME, "
			 "a netns file such as /proc/PID/ns/net or /run/docker/netns/ID, or pid:PID",
			 ns.kind == NETNS_NAME ? ns.path : spec);
	else
		snprintf(buf, len, "cannot open network namespace '%s' (%s): %s", spec, ns.path,
			 strerror(-err));
}

int netns_enter(const char *spec)
{
	char why[PATH_MAX];
	int fd, err;

	fd = netns_open(spec);
	if (fd < 0) {
		netns_strerror(spec, fd, why, sizeof(why));
		pr_err("%s\n", why);
		return fd;
	}
	/* Keep a handle on the namespace we started in: host-wide sysctls
	 * are checked there (tune). */
	if (origin_fd < 0)
		origin_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	err = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	if (err)
		pr_err("cannot enter network namespace '%s': %s%s\n", spec, strerror(-err),
		       err == -EPERM ? " (it takes CAP_SYS_ADMIN: run as root)" : "");
	return err;
}

unsigned long long netns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (unsigned long long)st.st_ino;
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
