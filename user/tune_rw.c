// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading and writing one tuning setting (a sysctl or a NIC setting) in
 * the current network namespace, and entering the namespace a journal
 * was written in: what the tune feature (tune.c) and autotune
 * (autotune.c) both do, so neither needs the other's module.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "nic.h"
#include "sysctl.h"
#include "sysenv.h"
#include "tune_rw.h"

/* Where one setting lives: a /proc/sys file for a sysctl (with its
 * canonical name, for messages), a NIC item for nic_read()/nic_write(). */
struct tune_target {
	struct tune_item it;
	char canon[TUNE_KEY_LEN];
	char path[PATH_MAX];
};

static int tune_resolve(enum tune_kind kind, const char *ifname, const char *key,
			struct tune_target *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	t->it.kind = kind;
	if (kind == TK_SYSCTL)
		return sysctl_key_parse(key, t->canon, sizeof(t->canon), t->path, sizeof(t->path),
					err, errlen);
	snprintf(t->it.ifname, sizeof(t->it.ifname), "%s", ifname);
	snprintf(t->it.key, sizeof(t->it.key), "%s", key);
	return 0;
}

int tune_read(struct nic *nic, enum tune_kind kind, const char *ifname, const char *key,
	      char *buf, size_t len, char *err, size_t errlen)
{
	struct tune_target t;
	int e;

	e = tune_resolve(kind, ifname, key, &t, err, errlen);
	if (e)
		return e;
	if (kind != TK_SYSCTL)
		return nic_read(nic, &t.it, buf, len, err, errlen);
	e = sysctl_read(t.path, buf, len);
	if (e)
		snprintf(err, errlen, "%s: %s", t.canon, e == -ENOENT ?
			 "no such sysctl in this kernel and network namespace" : strerror(-e));
	return e;
}

int tune_write(struct nic *nic, enum tune_kind kind, const char *ifname, const char *key,
	       const char *val, char *err, size_t errlen)
{
	struct tune_target t;
	int e;

	e = tune_resolve(kind, ifname, key, &t, err, errlen);
	if (e)
		return e;
	if (kind != TK_SYSCTL)
		return nic_write(nic, &t.it, val, err, errlen);
	e = sysctl_write(t.path, val);
	if (e)
		snprintf(err, errlen, "%s = %s: the kernel refused it: %s", t.canon, val, strerror(-e));
	return e;
}

/* ---- network namespace of the journal ---- */

_Static_assert(sizeof(((struct journal *)0)->netns) >= NETNS_SPEC_MAX,
	       "the journal keeps any --netns");

int tune_enter_journal_netns(const struct journal *j, int *saved_fd)
{
	uint64_t cookie = 0;
	int fd;

	*saved_fd = -1;
	if (!j->netns[0] || (!netns_cookie(&cookie) && cookie == j->netns_cookie))
		return 0;
	*saved_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved_fd < 0)
		return -errno;
	fd = netns_open(j->netns);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		if (fd >= 0)
			close(fd);
		close(*saved_fd);
		*saved_fd = -1;
		return -ENOENT;
	}
	close(fd);
	if (netns_cookie(&cookie) || cookie != j->netns_cookie) {
		/* Same name, another namespace: the one we tuned is gone. */
		tune_leave_netns(saved_fd);
		return -ESTALE;
	}
	return 0;
}

void tune_leave_netns(int *saved_fd)
{
	if (*saved_fd < 0)
		return;
	if (setns(*saved_fd, CLONE_NEWNET)) {
		perror("accelctl: returning to the original network namespace");
		abort();
	}
	close(*saved_fd);
	*saved_fd = -1;
}
