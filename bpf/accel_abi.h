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

/* netacct: end of section */

#endif /* ACCEL_ABI_H */
