// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpffs and the pin root.
 *
 * Pins must outlive the controller, so they live in the host's bpffs.  On
 * hosts that boot without it (this Debian image does) we mount it at
 * /sys/fs/bpf ourselves.  Note that `ip netns exec` remounts /sys in a new
 * mount namespace, hiding bpffs: accelctl's --netns enters only the network
 * namespace, so pins stay where every later command finds them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "accel.h"
#include "log.h"
#include "pin.h"

bool is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

int bpffs_ensure(const char *path)
{
	char probe[PATH_MAX];
	size_t blen = strlen(ACCEL_BPFFS_DEFAULT);
	int err;

	/* Walk up to the nearest existing ancestor: that is the fs the
	 * pin root will be created on. */
	snprintf(probe, sizeof(probe), "%s", path);
	while (access(probe, F_OK)) {
		char *slash = strrchr(probe, '/');

		if (!slash || slash == probe)
			break;
		*slash = '\0';
	}
	if (is_bpffs(probe))
		return 0;
	if (strncmp(path, ACCEL_BPFFS_DEFAULT, blen) ||
	    (path[blen] != '/' && path[blen] != '\0')) {
		pr_err("%s is not on a BPF file system (bpffs); choose a pin root under a bpffs mount, e.g. %s/accel\n",
			path, ACCEL_BPFFS_DEFAULT);
		return -EINVAL;
	}
	if (is_bpffs(ACCEL_BPFFS_DEFAULT))
		return 0;
	err = mkdir_p(ACCEL_BPFFS_DEFAULT, 0700);
	if (err) {
		pr_err("cannot create %s: %s\n", ACCEL_BPFFS_DEFAULT, strerror(-err));
		return err;
	}
	if (mount("bpf", ACCEL_BPFFS_DEFAULT, "bpf", 0, "mode=0700")) {
		err = -errno;
		pr_err("cannot mount bpffs on %s: %s%s\n", ACCEL_BPFFS_DEFAULT, strerror(-err),
			err == -EPERM ? " (run as root, with CAP_SYS_ADMIN)" : "");
		return err;
	}
	pr_debug("mounted bpffs on %s\n", ACCEL_BPFFS_DEFAULT);
	return 0;
}

static int lock_wait_ms(void)
{
	const char *e = getenv("ACCELCTL_LOCK_WAIT");
	uint64_t v;

	if (e && !parse_u64(e, 0, 600, &v))
		return (int)v * 1000;
	return 10 * 1000;
}

int pin_root_lock(const char *root, bool create, int *fd)
{
	int err, wait_ms;

	*fd = -1;
	if (create) {
		err = mkdir_p(root, 0700);
		if (err) {
			pr_err("cannot create pin root %s: %s\n", root, strerror(-err));
			return err;
		}
	}
	*fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	/* Mutating commands are short (autotune holds the lock for a step of
	 * milliseconds): wait a little before giving up, polling so that the
	 * wait is bounded. ACCELCTL_LOCK_WAIT=seconds (0-600) overrides. */
	wait_ms = lock_wait_ms();
	for (int waited = 0; flock(*fd, LOCK_EX | LOCK_NB); waited += 50) {
		err = -errno;
		if (err != -EWOULDBLOCK || waited >= wait_ms) {
			close(*fd);
			*fd = -1;
			if (err == -EWOULDBLOCK)
				pr_err("%s is locked by another accelctl command (waited %d s); wait for it to finish and retry\n",
					root, wait_ms / 1000);
			return err;
		}
		if (!waited)
			pr_debug("waiting for the lock on %s\n", root);
		usleep(50 * 1000);
	}
	return 0;
}

int pin_root_trylock(const char *root, int *fd)
{
	*fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	if (flock(*fd, LOCK_EX | LOCK_NB)) {
		int err = -errno;

		close(*fd);
		*fd = -1;
		return err;
	}
	return 0;
}

void pin_root_unlock(int *fd)
{
	if (*fd >= 0) {
		flock(*fd, LOCK_UN);
		close(*fd);
	}
	*fd = -1;
}
