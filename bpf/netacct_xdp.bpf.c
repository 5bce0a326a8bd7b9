// SPDX-License-Identifier: GPL-2.0-only
/*
 * netacct_xdp.bpf.c - XDP (ingress) half of the fragment / MTU / PMTU
 * accounting.  Loaded through libxdp as one program of the interface's
 * multiprog dispatcher, so it coexists with other XDP programs: it always
 * returns XDP_PASS and userspace enables chain calls on XDP_PASS, so the
 * programs behind it run as if it were not there.
 *
 * A separate object from the tc programs because libxdp loads this one
 * itself (as an freplace extension of the dispatcher); the maps are shared
 * through their pins (netacct.bpf.h).
 */
#define NETACCT_XDP
#include "netacct.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int netacct_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct netacct_ifcfg *cfg = netacct_ifcfg(ctx, NETACCT_DIR_INGRESS);
	struct netacct_counters *c = netacct_slot(NETACCT_DIR_INGRESS);
	struct netacct_pkt p;

	if (!cfg || !c)
		return XDP_PASS;
	/* Single-buffer XDP: the frame is all linear, -2 cannot happen. */
	if (netacct_parse(ctx, data, data_end, data_end - data, 0, &p))
		return XDP_PASS;
	netacct_count(c, &p, NETACCT_DIR_INGRESS, data_end - data, 0, cfg);
	return XDP_PASS;
}
