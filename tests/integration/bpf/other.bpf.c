// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stand-ins for "somebody else's" XDP program and tc filter in the netacct
 * coexistence tests: each counts every frame in its own map and lets it
 * go on.  Compiled by the test itself; the XDP program is attached through
 * libxdp (tests/tools/xdp_other.c) or with `ip link set ... xdpgeneric obj`,
 * the tc one with `tc filter add ... bpf da obj`.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} other_xdp_count SEC(".maps");

SEC("xdp")
int other_xdp(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&other_xdp_count, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} other_tc_count SEC(".maps");

SEC("tc")
int other_tc(struct __sk_buff *skb)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&other_tc_count, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	return -1;	/* TC_ACT_UNSPEC: on to the next filter */
}

char LICENSE[] SEC("license") = "GPL";
