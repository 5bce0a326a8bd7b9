/* SPDX-License-Identifier: GPL-2.0-only */
/* BPF-side helpers shared by accelctl's programs. */
#ifndef ACCEL_COMMON_BPF_H
#define ACCEL_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "accel_abi.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif
/* errno values helpers return negated (uapi asm-generic/errno-base.h:
 * macros, so not in vmlinux.h) */
#define ACCEL_ENOMEM 12
#define ACCEL_E2BIG 7

/*
 * Network-namespace filter, set by userspace before load: 0 accounts every
 * namespace, anything else only the namespace with that cookie (what
 * SO_NETNS_COOKIE returns for a socket created inside it).
 */
const volatile __u64 target_netns_cookie = 0;

static __always_inline __u64 accel_sk_netns_cookie(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, net_cookie);
}

static __always_inline bool accel_netns_wanted(__u64 cookie)
{
	return !target_netns_cookie || cookie == target_netns_cookie;
}

static __always_inline int accel_family_idx(__u16 family)
{
	if (family == AF_INET)
		return ACCEL_FAM_INET;
	if (family == AF_INET6)
		return ACCEL_FAM_INET6;
	return -1;
}

/* Add to slot idx of a per-CPU __u64 array map. */
static __always_inline void accel_count(void *map, __u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(map, &idx);

	if (v)
		*v += n;
}

#endif /* ACCEL_COMMON_BPF_H */
