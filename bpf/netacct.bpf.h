/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netacct.bpf.h - the packet parser and the accounting step shared by the
 * XDP program (netacct_xdp.bpf.c) and the tc programs (netacct.bpf.c).
 *
 * Both objects include this file, so both define the same two maps; they
 * are pinned by name in the same directory, so every object loaded after
 * the first reuses its maps.  Userspace loads the programs once per
 * interface, with the interface's slot in netacct_slot.
 *
 * The parser is deliberately conservative: every length field is checked
 * against the bytes that are really there, and whatever it cannot trust
 * (truncated or inconsistent headers, more VLAN tags or IPv6 extension
 * headers than it walks, a second Fragment header, an IPv4 fragment that
 * would reassemble past 64 KiB) is counted as malformed and nothing more is
 * read from it.  tests/bpf/netacct_ref.h is an independent userspace
 * implementation of the same rules; the fuzz test holds the two to the same
 * counters.
 */
#ifndef NETACCT_BPF_H
#define NETACCT_BPF_H

#include "accel_common.bpf.h"

#define ETH_HLEN_		14
#define ETH_P_IP_		0x0800
#define ETH_P_IPV6_		0x86DD
#define ETH_P_8021Q_		0x8100
#define ETH_P_8021AD_		0x88A8
#define NETACCT_MAX_VLAN	2	/* 802.1Q, or QinQ (802.1ad + 802.1Q) */
#define NETACCT_MAX_EXTHDR	8	/* IPv6 extension headers walked */

#define IPPROTO_HOPOPTS_	0
#define IPPROTO_ICMP_		1
#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17
#define IPPROTO_ROUTING_	43
#define IPPROTO_FRAGMENT_	44
#define IPPROTO_AH_		51
#define IPPROTO_ICMPV6_		58
#define IPPROTO_DSTOPTS_	60

#define IP_DF_			0x4000
#define IP_MF_			0x2000
#define IP_OFFMASK_		0x1fff

/*
 * Load-time knob: take the MTU from the device on every packet (through
 * bpf_check_mtu()) and write it back to netacct_ifaces when it changed, so
 * `ip link set mtu` after attach is followed without a daemon.  Off only in
 * tests, where bpf_prog_test_run runs on lo and the MTU comes from the map.
 */
const volatile bool live_mtu = true;

/*
 * Load-time knob: where live_mtu reads the device MTU.  Set: from the
 * device itself (skb->dev->mtu, or xdp_buff->rxq->dev->mtu), two loads
 * through the bpf_cast_to_kern_ctx() kfunc.  Clear: bpf_check_mtu(), which
 * reports the MTU whatever its verdict, through a helper call per packet.
 * (The kfunc saves the call, a few ns; most of what reading the MTU costs
 * per packet, ~15 ns on a veth under iperf3, is a cache miss on the
 * device's line, which both ways take: docs/netacct.md "Cost".)
 * Userspace sets it where vmlinux BTF has the kfunc (Linux 6.3 and later).
 * The kfunc is weak: where libbpf cannot resolve it, it leaves a call the
 * verifier accepts only as dead code, which it is with the knob clear.
 */
const volatile bool mtu_from_dev = false;

/* Load-time: the slot of the interface this copy of the programs is
 * attached to (accel_abi.h: the index of its configuration and counters). */
const volatile __u32 netacct_slot_id = 0;

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NETACCT_COUNTERS_MAX);
	__type(key, __u32);
	__type(value, struct netacct_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} netacct_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NETACCT_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct netacct_ifcfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} netacct_ifaces SEC(".maps");

enum {
	FRAG_NONE = 0,
	FRAG_FIRST,
	FRAG_NONFIRST,
	FRAG_ATOMIC,
};

struct netacct_pkt {
	__u32 fam;		/* ACCEL_FAM_* or NETACCT_FAM_OTHER */
	__u32 l3_len;		/* IP packet length the header claims */
	__u32 l4_off;		/* L3 header(s) length: IPv4 IHL, IPv6 40 + ext */
	__u32 l4_hlen;		/* TCP data offset, UDP 8, else 0 */
	__u32 pmtu_mtu;
	__u8 malformed;
	__u8 frag;
	__u8 df;
	__u8 pmtu;
};

/*
 * A pointer to len bytes at off, or NULL when they are not in the linear
 * packet.  The off bound is for the verifier: packet pointer arithmetic
 * needs a bounded offset (MAX_PACKET_OFF is 0xffff).
 */
static __always_inline void *pkt_at(void *data, void *data_end, __u32 off, __u32 len)
{
	void *p;

	if (off > 0xffff)
		return NULL;
	p = data + off;
	if (p + len > data_end)
		return NULL;
	return p;
}

/*
 * Variable-offset reads go through the load-bytes helper into the stack
 * rather than through packet pointers: an offset that only feeds a helper
 * argument is not tracked precisely by the verifier, so the states of the
 * extension-header walk can be pruned (with packet pointers the walk's
 * paths multiply past the one-million-instruction limit).  The helpers also
 * read non-linear skbs, so nothing needs pulling in.
 */
#ifdef NETACCT_XDP
#define netacct_load_bytes(ctx, off, buf, len) bpf_xdp_load_bytes(ctx, off, buf, len)
#else
#define netacct_load_bytes(ctx, off, buf, len) bpf_skb_load_bytes(ctx, off, buf, len)
#endif

/* Upper-layer header: TCP/UDP lengths for GSO, ICMP(v6) PMTU messages.
 * Only called for unfragmented packets and first fragments; rem is what the
 * L3 length leaves for it.  in_place (a constant at each call): the TCP
 * header may be read through the packet pointer, which saves a helper call
 * per packet.  Not from the IPv6 extension-header walk: there the variable
 * offset in a packet pointer multiplies the verifier's states (see
 * netacct_load_bytes), and loading took seven times as long. */
static __always_inline int parse_l4(void *ctx, void *data, void *data_end, __u32 off, __u32 rem,
				    __u8 proto, bool v6, bool in_place, struct netacct_pkt *p)
{
	__u8 h[20], *th;

	switch (proto) {
	case IPPROTO_TCP_: {
		__u32 doff;

		if (rem < 20)
			return -1;
		/* In place where allowed and the header is all in the linear
		 * part (the common case); else through the helper. */
		th = in_place ? pkt_at(data, data_end, off, 20) : NULL;
		if (!th) {
			if (netacct_load_bytes(ctx, off, h, 20))
				return -1;
			th = h;
		}
		doff = (th[12] >> 4) * 4;
		if (doff < 20 || doff > rem)
			return -1;
		p->l4_hlen = doff;
		return 0;
	}
	case IPPROTO_UDP_:
		if (rem < 8)
			return -1;
		p->l4_hlen = 8;
		return 0;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		if ((proto == IPPROTO_ICMPV6_) != v6)
			return 0;	/* ICMP inside IPv6 or v.v.: just payload */
		if (rem < 8 || netacct_load_bytes(ctx, off, h, 8))
			return -1;
		if (!v6 && h[0] == 3 && h[1] == 4) {
			p->pmtu = 1;
			p->pmtu_mtu = (__u32)h[6] << 8 | h[7];
		} else if (v6 && h[0] == 2) {
			p->pmtu = 1;
			p->pmtu_mtu = (__u32)h[4] << 24 | (__u32)h[5] << 16 | (__u32)h[6] << 8 | h[7];
		}
		return 0;
	}
	return 0;
}

static __always_inline int parse_ipv4(void *ctx, void *data, void *data_end, __u32 off, __u32 avail,
				      __u32 gso_size, struct netacct_pkt *p)
{
	__u32 ihl, tot, foff;
	__u16 frag;
	__u8 *h;

	if (avail < 20)
		return -1;
	if (!(h = pkt_at(data, data_end, off, 20)))
		return -2;
	if ((h[0] >> 4) != 4)
		return -1;
	ihl = (h[0] & 0xf) * 4;
	if (ihl < 20 || ihl > avail)
		return -1;
	tot = (__u32)h[2] << 8 | h[3];
	/* BIG TCP leaves tot_len 0 on GSO packets above 64 KiB */
	if (!tot && gso_size)
		tot = avail;
	if (tot < ihl || tot > avail)
		return -1;
	frag = (__u16)h[6] << 8 | h[7];
	foff = (frag & IP_OFFMASK_) * 8;
	if (foff + (tot - ihl) > 65535)
		return -1;	/* would reassemble past the largest datagram */
	p->l3_len = tot;
	p->l4_off = ihl;
	p->df = !!(frag & IP_DF_);
	if (foff)
		p->frag = FRAG_NONFIRST;
	else if (frag & IP_MF_)
		p->frag = FRAG_FIRST;
	if (foff)
		return 0;
	return parse_l4(ctx, data, data_end, off + ihl, tot - ihl, h[9], false, true, p);
}

static __always_inline int parse_ipv6(void *ctx, void *data, void *data_end, __u32 off, __u32 avail,
				      __u32 gso_size, struct netacct_pkt *p)
{
	__u32 tot, pos = 40, hlen;
	__u8 *h, nh;
	int i;

	if (avail < 40)
		return -1;
	if (!(h = pkt_at(data, data_end, off, 40)))
		return -2;
	if ((h[0] >> 4) != 6)
		return -1;
	tot = 40 + ((__u32)h[4] << 8 | h[5]);
	if (tot == 40 && gso_size)
		tot = avail;	/* BIG TCP: payload_len 0 on GSO packets */
	else if (tot == 40)
		return -1;	/* jumbograms (RFC 2675) are not parsed */
	if (tot > avail)
		return -1;
	p->l3_len = tot;
	nh = h[6];
	/* The common case, no extension header, outside the walk: the TCP
	 * header can then be read in place. */
	if (nh == IPPROTO_TCP_ || nh == IPPROTO_UDP_) {
		p->l4_off = pos;
		return parse_l4(ctx, data, data_end, off + pos, tot - pos, nh, true, true, p);
	}
	/* Bounded walk: at most NETACCT_MAX_EXTHDR headers, each one checked
	 * against the L3 length before it is read; a chain that does not
	 * reach an upper-layer header within the bound is malformed. */
	for (i = 0; i < NETACCT_MAX_EXTHDR + 1; i++) {
		__u8 e[8];

		switch (nh) {
		case IPPROTO_HOPOPTS_:
			if (i)
				return -1;	/* only right after the fixed header */
			/* fallthrough */
		case IPPROTO_ROUTING_:
		case IPPROTO_DSTOPTS_:
		case IPPROTO_AH_:
			if (i == NETACCT_MAX_EXTHDR)
				return -1;
			if (pos + 2 > tot || netacct_load_bytes(ctx, off + pos, e, 2))
				return -1;
			hlen = nh == IPPROTO_AH_ ? ((__u32)e[1] + 2) * 4 : ((__u32)e[1] + 1) * 8;
			nh = e[0];
			pos += hlen;
			if (pos > tot)
				return -1;
			break;
		case IPPROTO_FRAGMENT_: {
			__u32 foff;

			if (i == NETACCT_MAX_EXTHDR || p->frag)
				return -1;	/* too deep, or a second Fragment header */
			if (pos + 8 > tot || netacct_load_bytes(ctx, off + pos, e, 8))
				return -1;
			foff = ((__u32)e[2] << 8 | e[3]) & ~7u;
			pos += 8;
			if (foff + (tot - pos) > 65535)
				return -1;
			if (foff) {
				p->frag = FRAG_NONFIRST;
				p->l4_off = pos;
				return 0;	/* the rest is payload */
			}
			p->frag = (e[3] & 1) ? FRAG_FIRST : FRAG_ATOMIC;
			nh = e[0];
			break;
		}
		default:
			p->l4_off = pos;
			return parse_l4(ctx, data, data_end, off + pos, tot - pos, nh, true, false, p);
		}
	}
	return -1;
}

/*
 * Parse one frame.  data/data_end is the linear part; pkt_len the whole
 * packet.  Lengths are checked against pkt_len (-1: malformed); a header
 * that is there but outside the linear part gives -2, on which the tc
 * programs pull it in and parse again (XDP buffers are always linear).
 */
static __always_inline int netacct_parse(void *ctx, void *data, void *data_end, __u32 pkt_len,
					 __u32 gso_size, struct netacct_pkt *p)
{
	__u32 off = ETH_HLEN_;
	__u16 proto;
	__u8 *h;
	int i, err;

	__builtin_memset(p, 0, sizeof(*p));
	p->fam = NETACCT_FAM_OTHER;
	if (pkt_len < ETH_HLEN_)
		goto malformed;
	if (!(h = pkt_at(data, data_end, 0, ETH_HLEN_)))
		return -2;
	proto = (__u16)h[12] << 8 | h[13];
	for (i = 0; i < NETACCT_MAX_VLAN + 1; i++) {
		if (proto != ETH_P_8021Q_ && proto != ETH_P_8021AD_)
			break;
		if (i == NETACCT_MAX_VLAN)
			goto malformed;	/* more tags than QinQ */
		if (off + 4 > pkt_len)
			goto malformed;
		if (!(h = pkt_at(data, data_end, off, 4)))
			return -2;
		proto = (__u16)h[2] << 8 | h[3];
		off += 4;
	}
	if (proto == ETH_P_IP_) {
		p->fam = ACCEL_FAM_INET;
		err = parse_ipv4(ctx, data, data_end, off, pkt_len - off, gso_size, p);
	} else if (proto == ETH_P_IPV6_) {
		p->fam = ACCEL_FAM_INET6;
		err = parse_ipv6(ctx, data, data_end, off, pkt_len - off, gso_size, p);
	} else {
		return 0;
	}
	if (err != -1)
		return err;
malformed:
	p->malformed = 1;
	return 0;
}

static __always_inline __u32 pmtu_bucket(__u32 mtu)
{
	if (mtu <= 1280) return 0;
	if (mtu <= 1400) return 1;
	if (mtu <= 1450) return 2;
	if (mtu <= 1480) return 3;
	if (mtu <= 1492) return 4;
	if (mtu <= 1500) return 5;
	if (mtu <= 9000) return 6;
	return 7;
}

/*
 * Count one parsed packet.  cfg->mtu is the device MTU (0: unknown, no MTU
 * check); gso_size as in skb_shinfo (0 for XDP and non-GSO skbs).
 */
static __always_inline void netacct_count(struct netacct_counters *c, const struct netacct_pkt *p,
					  __u32 dir, __u32 pkt_len, __u32 gso_size,
					  const struct netacct_ifcfg *cfg)
{
	__u64 *ctr;
	__u32 mtu;

	if (p->fam >= NETACCT_FAM_MAX)
		return;
	ctr = c->ctr[p->fam];
	ctr[NETACCT_PACKETS]++;
	ctr[NETACCT_BYTES] += pkt_len;
	if (p->malformed) {
		ctr[NETACCT_MALFORMED]++;
		return;
	}
	if (p->fam == NETACCT_FAM_OTHER)
		return;
	if (p->frag == FRAG_FIRST)
		ctr[NETACCT_FRAG_FIRST]++;
	else if (p->frag == FRAG_NONFIRST)
		ctr[NETACCT_FRAG_NONFIRST]++;
	else if (p->frag == FRAG_ATOMIC)
		ctr[NETACCT_FRAG_ATOMIC]++;
	if (p->pmtu) {
		ctr[NETACCT_PMTU_MSGS]++;
		c->pmtu_bucket[p->fam & 1][pmtu_bucket(p->pmtu_mtu)]++;
		c->pmtu_sum[p->fam & 1] += p->pmtu_mtu;
	}
	mtu = cfg->mtu;
	if (!mtu || (dir == NETACCT_DIR_INGRESS && (cfg->flags & NETACCT_IF_NO_RX_MTU)))
		return;
	/* A GSO packet leaves as segments of headers + gso_size bytes: that,
	 * not the super-packet, is what must fit the MTU. */
	if (gso_size ? p->l4_off + p->l4_hlen + gso_size > mtu : p->l3_len > mtu) {
		ctr[NETACCT_MTU_EXCEEDED]++;
		if (p->df)
			ctr[NETACCT_MTU_EXCEEDED_DF]++;
	}
}

/* The counters of this copy's interface for dir (array lookups are
 * inlined by the verifier; the index is bounds-checked there). */
static __always_inline struct netacct_counters *netacct_slot(__u32 dir)
{
	__u32 idx = NETACCT_COUNTERS_INDEX(netacct_slot_id, dir);

	return bpf_map_lookup_elem(&netacct_counters, &idx);
}

/* The device's MTU through the kfunc (mtu_from_dev): two loads, the
 * device pointer and its mtu.  The verifier types the kfunc's result as the
 * kernel's context (trusted); the device pointer read from it may only be
 * read through (a faulting read gives 0, an MTU the callers ignore). */
static __always_inline __u32 netacct_dev_mtu(void *ctx)
{
#ifdef NETACCT_XDP
	struct xdp_buff *xdp = bpf_cast_to_kern_ctx(ctx);

	return xdp->rxq->dev->mtu;
#else
	struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);

	return skb->dev->mtu;
#endif
}

/* The interface's configuration (NULL while it has none), with the MTU
 * refreshed from the device.
 * The MTU serves only the MTU check, so ingress does not refresh it where
 * that check is off (NETACCT_IF_NO_RX_MTU: generic XDP, frames may be
 * aggregates); the egress program, on every accounted interface, keeps
 * cfg->mtu (and the mtu gauge) current there. */
static __always_inline struct netacct_ifcfg *netacct_ifcfg(void *ctx, __u32 dir)
{
	__u32 slot = netacct_slot_id;
	struct netacct_ifcfg *cfg = bpf_map_lookup_elem(&netacct_ifaces, &slot);
	__u32 mtu = 0;

	if (!cfg || !cfg->ifindex)
		return NULL;	/* not configured (yet) */
	if (!live_mtu)
		return cfg;
	if (dir == NETACCT_DIR_INGRESS && (cfg->flags & NETACCT_IF_NO_RX_MTU))
		return cfg;
	if (mtu_from_dev)
		mtu = netacct_dev_mtu(ctx);
	else	/* reports the MTU in mtu_len whatever its verdict */
		bpf_check_mtu(ctx, 0, &mtu, 0, 0);
	if (mtu && mtu != cfg->mtu)
		cfg->mtu = mtu;
	return cfg;
}

#endif /* NETACCT_BPF_H */
