// SPDX-License-Identifier: GPL-2.0-only
/*
 * netacct.bpf.c - tc (clsact) half of the fragment / MTU / PMTU accounting.
 *
 * netacct_tc_egress runs on every interface accelctl accounts;
 * netacct_tc_ingress only where the XDP program could not be attached (see
 * docs/netacct.md).  Both are observers: they return TC_ACT_UNSPEC, which
 * makes cls_bpf continue with the next filter, so filters of other owners
 * behind ours still run and decide the packet's fate.
 */
#include "netacct.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define TC_ACT_UNSPEC_		(-1)
/* Bytes pulled into the linear part when a header read through packet
 * pointers is outside it: Ethernet, two VLAN tags and the IPv6 fixed header
 * (everything further in is read with bpf_skb_load_bytes()). */
#define NETACCT_PULL_LEN	64

static __always_inline int tc_account(struct __sk_buff *skb, __u32 dir)
{
	__u32 len = skb->len, gso = skb->gso_size;
	struct netacct_ifcfg *cfg = netacct_ifcfg(skb, dir);
	struct netacct_counters *c = netacct_slot(dir);
	struct netacct_pkt p;
	int err;

	if (!cfg || !c)
		return TC_ACT_UNSPEC_;
	err = netacct_parse(skb, (void *)(long)skb->data, (void *)(long)skb->data_end, len, gso, &p);
	if (err == -2) {
		/* Headers beyond the linear part: rare (the stack keeps them
		 * linear), and pulling may copy a cloned head, so only now. */
		bpf_skb_pull_data(skb, len < NETACCT_PULL_LEN ? len : NETACCT_PULL_LEN);
		err = netacct_parse(skb, (void *)(long)skb->data, (void *)(long)skb->data_end, len,
				    gso, &p);
		if (err) {
			p.fam = p.fam < NETACCT_FAM_MAX ? p.fam : NETACCT_FAM_OTHER;
			p.malformed = 1;
		}
	}
	netacct_count(c, &p, dir, len, gso, cfg);
	return TC_ACT_UNSPEC_;
}

SEC("tc")
int netacct_tc_egress(struct __sk_buff *skb)
{
	return tc_account(skb, NETACCT_DIR_EGRESS);
}

SEC("tc")
int netacct_tc_ingress(struct __sk_buff *skb)
{
	return tc_account(skb, NETACCT_DIR_INGRESS);
}
