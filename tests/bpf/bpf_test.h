/* SPDX-License-Identifier: GPL-2.0-only */
/* Tiny harness for BPF program tests: PASS/FAIL/SKIP lines for tests/run.sh. */
#ifndef ACCEL_BPF_TEST_H
#define ACCEL_BPF_TEST_H

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "sysenv.h"

static int bt_failed;

#define BT_CHECK(cond, name, fmt, ...)						\
	do {									\
		if (!(cond)) {							\
			printf("FAIL %s: " fmt "\n", name, ##__VA_ARGS__);	\
			bt_failed++;						\
			goto out;						\
		}								\
	} while (0)

#define BT_PASS(name) printf("PASS %s\n", name)
#define BT_SKIP(name, why) printf("SKIP %s: %s\n", name, why)

/* Enter a private network namespace with lo up, so the test sees only its
 * own traffic, and return its cookie (what the programs' netns filter
 * compares).  Returns 0 or -errno. */
static inline int bt_private_netns(uint64_t *cookie)
{
	struct ifreq ifr = { 0 };
	int fd, err = 0;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
	close(fd);
	return err ?: netns_cookie(cookie);
}

/* A test object must never pin into the host's bpffs: drop pin paths. */
static inline void bt_unpin_maps(struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj)
		bpf_map__set_pin_path(map, NULL);
}

static inline int bt_silent_print(enum libbpf_print_level l, const char *f, va_list ap)
{
	if (l == LIBBPF_WARN && getenv("BT_VERBOSE"))
		return vfprintf(stderr, f, ap);
	return 0;
}

#endif
