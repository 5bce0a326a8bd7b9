/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * accel_abi.h - the contract between accelctl's BPF programs and userspace.
 *
 * Everything a map holds or a pin is called is defined here, once.  Fixed
 * width types only, explicit padding, and a _Static_assert on every struct
 * that crosses the boundary, so that a BPF object built on one host and a
 * controller built on another agree byte for byte.  No vmlinux.h here: this
 * header is included by both sides.
 *
 * Each feature owns one section below; keep additions inside your section.
 */
#ifndef ACCEL_ABI_H
#define ACCEL_ABI_H

#ifndef __VMLINUX_H__	/* BPF side: vmlinux.h already has the __uN types */
#include <linux/types.h>
#endif

#define ACCEL_ABI_VERSION 1

/* Pinned objects live under <pin-root>/<feature>/; maps keep their BTF names
 * (LIBBPF_PIN_BY_NAME), links are pinned as link_<program>. */
#define ACCEL_PIN_LINK_PREFIX "link_"

/* Address families as small indices, for counter arrays. */
enum accel_family {
	ACCEL_FAM_INET = 0,
	ACCEL_FAM_INET6,
	ACCEL_FAM_MAX,
};

/* ------------------------------------------------------------------ */
/* tcpstate: TCP lifecycle (TIME_WAIT, queues, state transitions)       */
/* ------------------------------------------------------------------ */

/* TCP states as the kernel numbers them (include/net/tcp_states.h). */
#define ACCEL_TCP_NSTATES 13

/* tcp_state_transitions: per-CPU array, index family * NSTATES + new state */
#define ACCEL_TCPSTATE_TRANS_SLOTS (ACCEL_FAM_MAX * ACCEL_TCP_NSTATES)

/* tcpstate: end of section */

/* ------------------------------------------------------------------ */
/* bypass: local IO bypass (sockops + sockhash + sk_msg)                */
/* ------------------------------------------------------------------ */

/* bypass: end of section */

/* ------------------------------------------------------------------ */
/* netacct: fragment / MTU / PMTU accounting (XDP + tc)                 */
/* ------------------------------------------------------------------ */

/*
 * Counters live in a per-CPU hash keyed by (ifindex, direction); userspace
 * creates one entry per attached interface and direction before it attaches
 * a program, so the data path only ever looks entries up.
 */
#define NETACCT_COUNTERS_MAP	"netacct_counters"
#define NETACCT_IFACES_MAP	"netacct_ifaces"
#define NETACCT_MAX_ENTRIES	128	/* (ifindex, dir) pairs */

enum netacct_dir {
	NETACCT_DIR_INGRESS = 0,
	NETACCT_DIR_EGRESS,
	NETACCT_DIR_MAX,
};

/* ACCEL_FAM_INET, ACCEL_FAM_INET6, then everything that is not IP (or whose
 * L2 header could not be read): packets, bytes and malformed only. */
#define NETACCT_FAM_OTHER	ACCEL_FAM_MAX
#define NETACCT_FAM_MAX		(ACCEL_FAM_MAX + 1)

enum netacct_ctr {
	NETACCT_PACKETS = 0,	/* every packet seen, by EtherType family */
	NETACCT_BYTES,		/* packet length at the hook, L2 header included */
	NETACCT_FRAG_FIRST,	/* offset 0, more-fragments set */
	NETACCT_FRAG_NONFIRST,	/* offset != 0 */
	NETACCT_FRAG_ATOMIC,	/* IPv6 Fragment header with offset 0 and M clear */
	NETACCT_MTU_EXCEEDED,	/* L3 length (or GSO segment) above the MTU */
	NETACCT_MTU_EXCEEDED_DF,/* ... and IPv4 DF set */
	NETACCT_PMTU_MSGS,	/* ICMP frag-needed (3/4), ICMPv6 Packet Too Big (2) */
	NETACCT_MALFORMED,	/* anything the parser could not trust */
	NETACCT_CTR_MAX,
};

/* Histogram of the MTU advertised by PMTU messages: upper bounds (le) of the
 * finite buckets; one more bucket holds everything above the last. */
#define NETACCT_PMTU_BOUNDS	1280, 1400, 1450, 1480, 1492, 1500, 9000
#define NETACCT_PMTU_NBOUNDS	7
#define NETACCT_PMTU_BUCKETS	(NETACCT_PMTU_NBOUNDS + 1)

struct netacct_key {
	__u32 ifindex;
	__u32 dir;		/* enum netacct_dir */
};

struct netacct_counters {
	__u64 ctr[NETACCT_FAM_MAX][NETACCT_CTR_MAX];
	__u64 pmtu_bucket[ACCEL_FAM_MAX][NETACCT_PMTU_BUCKETS];	/* not cumulative */
	__u64 pmtu_sum[ACCEL_FAM_MAX];				/* Σ advertised MTU */
};

/* netacct_ifaces value flags */
#define NETACCT_IF_XDP		(1u << 0)	/* ingress counted by XDP */
#define NETACCT_IF_XDP_SKB	(1u << 1)	/* ... in generic (skb) mode */
#define NETACCT_IF_TC_INGRESS	(1u << 2)	/* ingress counted by tc */
#define NETACCT_IF_NO_RX_MTU	(1u << 3)	/* ingress frames may be GRO/GSO
						 * aggregates: no ingress MTU check */

/* netacct_ifaces: ifindex -> configuration, written by userspace at attach;
 * the programs refresh mtu from the device when the rodata knob live_mtu is
 * set, so an MTU change after attach is picked up by the next packet. */
struct netacct_ifcfg {
	__u32 mtu;
	__u32 flags;
	char name[16];
};

_Static_assert(sizeof(struct netacct_key) == 8, "netacct_key layout");
_Static_assert(sizeof(struct netacct_counters) ==
	       8 * (NETACCT_FAM_MAX * NETACCT_CTR_MAX + ACCEL_FAM_MAX * (NETACCT_PMTU_BUCKETS + 1)),
	       "netacct_counters layout");
_Static_assert(sizeof(struct netacct_ifcfg) == 24, "netacct_ifcfg layout");

/* netacct: end of section */

#endif /* ACCEL_ABI_H */
