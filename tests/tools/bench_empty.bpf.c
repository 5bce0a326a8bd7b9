// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_empty.bpf.c - BENCHMARK REFERENCE ONLY: programs that do nothing,
 * for scripts/bench-netacct.sh's reference rows.  Attached with iproute2
 * (`tc filter add ... bpf da obj`, `ip link set ... xdpdrv obj`) to the same
 * hooks as netacct's programs, they show what the hook itself costs (on a
 * veth: the clsact hook's classifier run, or XDP turning the peer's GSO
 * off) apart from what netacct's programs add, and the floor of the
 * ns/pkt column (bpf_stats times an empty program too).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int bench_empty_tc(struct __sk_buff *skb)
{
	return -1;	/* TC_ACT_UNSPEC: on to the next filter, as netacct's */
}

SEC("xdp")
int bench_empty_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}
