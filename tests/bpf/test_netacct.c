// SPDX-License-Identifier: GPL-2.0-only
/*
 * netacct BPF program tests: crafted frames through bpf_prog_test_run_opts
 * on the XDP program (ingress) and the tc program (egress), exact counters
 * asserted; then a fuzz loop of random and truncated frames held counter for
 * counter against the userspace reference parser (netacct_ref.h).
 *
 * bpf_prog_test_run runs on lo of the current namespace: the programs are
 * loaded for slot SLOT, whose configuration names lo (ifindex 1), and the
 * MTU comes from the map (live_mtu off), except in the test that checks the
 * live MTU refresh.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "accel_abi.h"
#include "netacct.skel.h"
#include "netacct_xdp.skel.h"
#include "netacct_ref.h"

#define LO 1
#define SLOT 5		/* not 0: the index arithmetic is part of the test */
#define MTU 1500

static struct netacct_bpf *tc;
static struct netacct_xdp_bpf *xdp;
static int nfail;
static int ncpu;

static void fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	nfail++;
}

/* ---- packet builder ------------------------------------------------- */

struct pkt {
	uint8_t b[4096];
	size_t len;
};

static void put(struct pkt *p, const void *d, size_t n)
{
	memcpy(p->b + p->len, d, n);
	p->len += n;
}

static void put16(struct pkt *p, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v & 0xff };

	put(p, b, 2);
}

static void put_eth(struct pkt *p, int ntags, uint16_t type)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

	p->len = 0;
	put(p, macs, 12);
	for (int i = 0; i < ntags; i++) {
		put16(p, i == 0 && ntags > 1 ? 0x88a8 : 0x8100);
		put16(p, 100 + i);
	}
	put16(p, type);
}

/* IPv4 header; returns its offset. payload bytes follow (zero-filled). */
static size_t put_ipv4(struct pkt *p, int ihl, uint16_t tot, uint16_t frag, uint8_t proto)
{
	size_t at = p->len;
	uint8_t h[60] = { 0 };

	h[0] = 0x40 | ihl;
	h[2] = tot >> 8;
	h[3] = tot & 0xff;
	h[6] = frag >> 8;
	h[7] = frag & 0xff;
	h[8] = 64;
	h[9] = proto;
	h[12] = 10; h[15] = 1;
	h[16] = 10; h[19] = 2;
	put(p, h, ihl * 4 < 20 ? 20 : ihl * 4);
	return at;
}

static size_t put_ipv6(struct pkt *p, uint16_t plen, uint8_t nh)
{
	size_t at = p->len;
	uint8_t h[40] = { 0x60 };

	h[4] = plen >> 8;
	h[5] = plen & 0xff;
	h[6] = nh;
	h[7] = 64;
	h[23] = 1;
	h[39] = 2;
	put(p, h, 40);
	return at;
}

static void put_zero(struct pkt *p, size_t n)
{
	memset(p->b + p->len, 0, n);
	p->len += n;
}

/* ---- harness -------------------------------------------------------- */

static int reset_counters(void)
{
	struct netacct_counters *zero = calloc(ncpu, sizeof(*zero));
	int fd = bpf_map__fd(tc->maps.netacct_counters), err = 0;

	if (!zero)
		return -ENOMEM;
	for (__u32 d = 0; d < NETACCT_DIR_MAX && !err; d++) {
		__u32 k = NETACCT_COUNTERS_INDEX(SLOT, d);

		err = bpf_map_update_elem(fd, &k, zero, BPF_ANY);
	}
	free(zero);
	return err;
}

static int set_mtu(__u32 mtu, __u32 flags)
{
	struct netacct_ifcfg cfg = { .mtu = mtu, .flags = flags, .ifindex = LO };

	strcpy(cfg.name, "lo");
	return bpf_map_update_elem(bpf_map__fd(tc->maps.netacct_ifaces), &(__u32){ SLOT }, &cfg,
				   BPF_ANY);
}

static int read_counters(__u32 dir, struct netacct_counters *sum)
{
	struct netacct_counters *v = calloc(ncpu, sizeof(*v));
	__u32 k = NETACCT_COUNTERS_INDEX(SLOT, dir);
	int err;

	if (!v)
		return -ENOMEM;
	memset(sum, 0, sizeof(*sum));
	err = bpf_map_lookup_elem(bpf_map__fd(tc->maps.netacct_counters), &k, v);
	for (int c = 0; !err && c < ncpu; c++) {
		const __u64 *a = (const __u64 *)&v[c];
		__u64 *s = (__u64 *)sum;

		for (size_t i = 0; i < sizeof(*sum) / 8; i++)
			s[i] += a[i];
	}
	free(v);
	return err;
}

static int run_xdp(const struct pkt *p)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = p->len);
	int err = bpf_prog_test_run_opts(bpf_program__fd(xdp->progs.netacct_xdp), &o);

	if (err)
		return -errno;
	return o.retval == XDP_PASS ? 0 : -EPROTO;
}

static int run_tc(const struct pkt *p, __u32 gso_size)
{
	struct __sk_buff skb = { .gso_size = gso_size, .gso_segs = gso_size ? 2 : 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = p->len,
		    .ctx_in = &skb, .ctx_size_in = sizeof(skb));
	int err = bpf_prog_test_run_opts(bpf_program__fd(tc->progs.netacct_tc_egress), &o);

	if (err)
		return -errno;
	return (int)o.retval == -1 /* TC_ACT_UNSPEC */ ? 0 : -EPROTO;
}

static const char *const ctr_names[NETACCT_CTR_MAX] = {
	"packets", "bytes", "frag_first", "frag_nonfirst", "frag_atomic",
	"mtu_exceeded", "mtu_exceeded_df", "pmtu_msgs", "malformed",
};

/* Compare two counter sets; describe the first difference in why. */
static bool counters_equal(const struct netacct_counters *a, const struct netacct_counters *b,
			   char *why, size_t len)
{
	for (int f = 0; f < NETACCT_FAM_MAX; f++)
		for (int i = 0; i < NETACCT_CTR_MAX; i++)
			if (a->ctr[f][i] != b->ctr[f][i]) {
				snprintf(why, len, "family %d %s: bpf %llu, expected %llu", f,
					 ctr_names[i], (unsigned long long)a->ctr[f][i],
					 (unsigned long long)b->ctr[f][i]);
				return false;
			}
	for (int f = 0; f < ACCEL_FAM_MAX; f++) {
		for (int i = 0; i < NETACCT_PMTU_BUCKETS; i++)
			if (a->pmtu_bucket[f][i] != b->pmtu_bucket[f][i]) {
				snprintf(why, len, "family %d pmtu bucket %d: bpf %llu, expected %llu",
					 f, i, (unsigned long long)a->pmtu_bucket[f][i],
					 (unsigned long long)b->pmtu_bucket[f][i]);
				return false;
			}
		if (a->pmtu_sum[f] != b->pmtu_sum[f]) {
			snprintf(why, len, "family %d pmtu sum: bpf %llu, expected %llu", f,
				 (unsigned long long)a->pmtu_sum[f], (unsigned long long)b->pmtu_sum[f]);
			return false;
		}
	}
	return true;
}

/*
 * One crafted case: the frame goes through XDP (ingress) and tc (egress,
 * with gso_size); expect lists counter=value pairs that must hold in both
 * directions for family fam, every other counter must be 0.
 */
struct expect {
	int fam;
	__u64 ctr[NETACCT_CTR_MAX];
	int bucket;		/* pmtu bucket that must hold ctr[PMTU_MSGS]... */
	bool pmtu;		/* ... when set */
	__u64 pmtu_sum;
	bool egress_only_mtu;	/* MTU expectations apply to egress only */
	bool xdp_only;		/* bpf_prog_test_run_skb refuses the frame (an
				 * IP EtherType with less than an IP header) */
};

static void check_case(const char *name, const struct pkt *p, __u32 gso, const struct expect *e)
{
	struct netacct_counters got, want;
	char why[160];
	int err;

	if (reset_counters()) {
		fail(name, "cannot reset counters");
		return;
	}
	err = run_xdp(p);
	if (!err && !e->xdp_only)
		err = run_tc(p, gso);
	if (err) {
		fail(name, "test run failed: %s", strerror(-err));
		return;
	}
	for (__u32 d = 0; d < (e->xdp_only ? 1u : NETACCT_DIR_MAX); d++) {
		memset(&want, 0, sizeof(want));
		memcpy(want.ctr[e->fam], e->ctr, sizeof(e->ctr));
		want.ctr[e->fam][NETACCT_PACKETS] = 1;
		want.ctr[e->fam][NETACCT_BYTES] = p->len;
		if (d == NETACCT_DIR_INGRESS && e->egress_only_mtu) {
			want.ctr[e->fam][NETACCT_MTU_EXCEEDED] = 0;
			want.ctr[e->fam][NETACCT_MTU_EXCEEDED_DF] = 0;
		}
		if (e->pmtu && e->fam < ACCEL_FAM_MAX) {
			want.pmtu_bucket[e->fam][e->bucket] = e->ctr[NETACCT_PMTU_MSGS];
			want.pmtu_sum[e->fam] = e->pmtu_sum;
		}
		if (read_counters(d, &got)) {
			fail(name, "cannot read counters");
			return;
		}
		if (!counters_equal(&got, &want, why, sizeof(why))) {
			fail(name, "%s: %s", d ? "egress (tc)" : "ingress (xdp)", why);
			return;
		}
	}
	printf("PASS %s\n", name);
}

#define EXPECT(f, ...) (&(struct expect){ .fam = (f), __VA_ARGS__ })
#define C(x) [NETACCT_##x]

/* ---- crafted cases -------------------------------------------------- */

static void test_ipv4_fragments(void)
{
	struct pkt p;

	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 5, 1500, 0x2000, 17);		/* MF, offset 0 */
	put_zero(&p, 1480);
	check_case("ipv4_first_fragment", &p, 0, EXPECT(0, .ctr = { C(FRAG_FIRST) = 1 }));

	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 5, 1500, 0x2000 | 185, 17);	/* MF, offset 1480 */
	put_zero(&p, 1480);
	check_case("ipv4_middle_fragment", &p, 0, EXPECT(0, .ctr = { C(FRAG_NONFIRST) = 1 }));

	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 5, 1068, 370, 17);			/* last: offset 2960 */
	put_zero(&p, 1048);
	check_case("ipv4_last_fragment", &p, 0, EXPECT(0, .ctr = { C(FRAG_NONFIRST) = 1 }));

	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 5, 100, 0x1fff, 17);		/* 65528 + 80 > 65535 */
	put_zero(&p, 80);
	check_case("ipv4_fragment_past_64k_malformed", &p, 0, EXPECT(0, .ctr = { C(MALFORMED) = 1 }));

	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 5, 28, 0x4000, 17);		/* DF, not a fragment */
	put_zero(&p, 8);
	check_case("ipv4_unfragmented", &p, 0, EXPECT(0));
}

static void test_ipv4_malformed(void)
{
	struct pkt p;

	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 4, 40, 0, 17);			/* IHL 4 */
	put_zero(&p, 20);
	check_case("ipv4_ihl_too_small", &p, 0, EXPECT(0, .ctr = { C(MALFORMED) = 1 }));

	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 15, 40, 0, 17);			/* IHL 60 > tot_len 40 */
	check_case("ipv4_ihl_beyond_total", &p, 0, EXPECT(0, .ctr = { C(MALFORMED) = 1 }));

	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 5, 1000, 0, 17);			/* claims 1000, has 28 */
	put_zero(&p, 8);
	check_case("ipv4_truncated", &p, 0, EXPECT(0, .ctr = { C(MALFORMED) = 1 }));

	put_eth(&p, 0, 0x0800);
	put_zero(&p, 10);				/* half an IPv4 header */
	check_case("ipv4_header_truncated", &p, 0,
		   EXPECT(0, .ctr = { C(MALFORMED) = 1 }, .xdp_only = true));

	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 5, 30, 0, 6);			/* TCP, 10 bytes of header */
	put_zero(&p, 10);
	check_case("ipv4_tcp_header_truncated", &p, 0, EXPECT(0, .ctr = { C(MALFORMED) = 1 }));

	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 5, 40, 0, 17);
	p.b[14] = 0x65;					/* version 6 in an IPv4 frame */
	put_zero(&p, 20);
	check_case("ipv4_wrong_version", &p, 0, EXPECT(0, .ctr = { C(MALFORMED) = 1 }));
}

static void test_vlan(void)
{
	struct pkt p;

	put_eth(&p, 1, 0x0800);
	put_ipv4(&p, 5, 1500, 0x2000, 17);
	put_zero(&p, 1480);
	check_case("vlan_8021q_ipv4_fragment", &p, 0, EXPECT(0, .ctr = { C(FRAG_FIRST) = 1 }));

	put_eth(&p, 2, 0x86dd);
	put_ipv6(&p, 16, 44);
	put(&p, (uint8_t[]){ 17, 0, 0x05, 0xc8, 0, 0, 0, 1 }, 8);	/* offset 1480 */
	put_zero(&p, 8);
	check_case("qinq_ipv6_fragment", &p, 0, EXPECT(1, .ctr = { C(FRAG_NONFIRST) = 1 }));

	put_eth(&p, 3, 0x0800);
	put_ipv4(&p, 5, 28, 0, 17);
	put_zero(&p, 8);
	check_case("three_vlan_tags_malformed", &p, 0, EXPECT(2, .ctr = { C(MALFORMED) = 1 }));

	put_eth(&p, 0, 0x8100);
	put16(&p, 100);					/* tag without its EtherType */
	check_case("vlan_tag_truncated", &p, 0, EXPECT(2, .ctr = { C(MALFORMED) = 1 }));

	put_eth(&p, 1, 0x0806);				/* ARP: other, not malformed */
	put_zero(&p, 28);
	check_case("vlan_arp_other", &p, 0, EXPECT(2));
}

static void put_ext(struct pkt *p, uint8_t nh, uint8_t hdrlen_field, size_t bytes)
{
	uint8_t h[2] = { nh, hdrlen_field };

	put(p, h, 2);
	put_zero(p, bytes - 2);
}

static void test_ipv6_ext_headers(void)
{
	struct pkt p;

	/* HBH, routing, dstopts, AH, fragment(first), UDP */
	put_eth(&p, 0, 0x86dd);
	put_ipv6(&p, 8 + 24 + 16 + 16 + 8 + 8 + 100, 0);
	put_ext(&p, 43, 0, 8);
	put_ext(&p, 60, 2, 24);
	put_ext(&p, 51, 1, 16);
	put_ext(&p, 44, 2, 16);				/* AH: (2+2)*4 = 16 */
	put(&p, (uint8_t[]){ 17, 0, 0, 1, 0, 0, 0, 7 }, 8);	/* offset 0, M */
	put_zero(&p, 108);
	check_case("ipv6_ext_chain_first_fragment", &p, 0, EXPECT(1, .ctr = { C(FRAG_FIRST) = 1 }));

	/* atomic fragment: offset 0, M clear */
	put_eth(&p, 0, 0x86dd);
	put_ipv6(&p, 16, 44);
	put(&p, (uint8_t[]){ 17, 0, 0, 0, 0, 0, 0, 9 }, 8);
	put_zero(&p, 8);
	check_case("ipv6_atomic_fragment", &p, 0, EXPECT(1, .ctr = { C(FRAG_ATOMIC) = 1 }));

	/* 8 destination-options headers then UDP: at the bound, accepted */
	put_eth(&p, 0, 0x86dd);
	put_ipv6(&p, 8 * 8 + 8, 60);
	for (int i = 0; i < 8; i++)
		put_ext(&p, i == 7 ? 17 : 60, 0, 8);
	put_zero(&p, 8);
	check_case("ipv6_eight_ext_headers", &p, 0, EXPECT(1));

	/* 9: one more than the walk takes */
	put_eth(&p, 0, 0x86dd);
	put_ipv6(&p, 9 * 8 + 8, 60);
	for (int i = 0; i < 9; i++)
		put_ext(&p, i == 8 ? 17 : 60, 0, 8);
	put_zero(&p, 8);
	check_case("ipv6_nine_ext_headers_malformed", &p, 0, EXPECT(1, .ctr = { C(MALFORMED) = 1 }));

	/* an ext header whose length runs past the packet */
	put_eth(&p, 0, 0x86dd);
	put_ipv6(&p, 16, 60);
	put_ext(&p, 17, 200, 16);
	check_case("ipv6_ext_header_past_end", &p, 0, EXPECT(1, .ctr = { C(MALFORMED) = 1 }));

	/* hop-by-hop after a routing header */
	put_eth(&p, 0, 0x86dd);
	put_ipv6(&p, 24, 43);
	put_ext(&p, 0, 0, 8);
	put_ext(&p, 17, 0, 8);
	put_zero(&p, 8);
	check_case("ipv6_hbh_not_first_malformed", &p, 0, EXPECT(1, .ctr = { C(MALFORMED) = 1 }));

	/* two fragment headers */
	put_eth(&p, 0, 0x86dd);
	put_ipv6(&p, 24, 44);
	put(&p, (uint8_t[]){ 44, 0, 0, 1, 0, 0, 0, 1 }, 8);
	put(&p, (uint8_t[]){ 17, 0, 0, 1, 0, 0, 0, 1 }, 8);
	put_zero(&p, 8);
	check_case("ipv6_two_fragment_headers_malformed", &p, 0,
		   EXPECT(1, .ctr = { C(MALFORMED) = 1 }));

	/* payload length larger than the frame */
	put_eth(&p, 0, 0x86dd);
	put_ipv6(&p, 1000, 17);
	put_zero(&p, 8);
	check_case("ipv6_truncated", &p, 0, EXPECT(1, .ctr = { C(MALFORMED) = 1 }));
}

static void test_pmtu_messages(void)
{
	struct pkt p;
	size_t at;

	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 5, 56, 0, 1);
	at = p.len;
	put_zero(&p, 36);
	p.b[at] = 3; p.b[at + 1] = 4; p.b[at + 6] = 1280 >> 8; p.b[at + 7] = 1280 & 0xff;
	check_case("icmp_frag_needed_1280", &p, 0,
		   EXPECT(0, .ctr = { C(PMTU_MSGS) = 1 }, .pmtu = true, .bucket = 0, .pmtu_sum = 1280));

	p.b[at + 6] = 1492 >> 8; p.b[at + 7] = 1492 & 0xff;
	check_case("icmp_frag_needed_1492", &p, 0,
		   EXPECT(0, .ctr = { C(PMTU_MSGS) = 1 }, .pmtu = true, .bucket = 4, .pmtu_sum = 1492));

	p.b[at + 1] = 3;				/* port unreachable: not PMTU */
	check_case("icmp_port_unreachable_ignored", &p, 0, EXPECT(0));

	put_eth(&p, 0, 0x86dd);
	put_ipv6(&p, 48, 58);
	at = p.len;
	put_zero(&p, 48);
	p.b[at] = 2; p.b[at + 6] = 0x05; p.b[at + 7] = 0xdc;	/* 1500 */
	check_case("icmpv6_ptb_1500", &p, 0,
		   EXPECT(1, .ctr = { C(PMTU_MSGS) = 1 }, .pmtu = true, .bucket = 5, .pmtu_sum = 1500));

	p.b[at + 5] = 0x01; p.b[at + 6] = 0; p.b[at + 7] = 0;		/* 65536 */
	check_case("icmpv6_ptb_65536_overflow_bucket", &p, 0,
		   EXPECT(1, .ctr = { C(PMTU_MSGS) = 1 }, .pmtu = true, .bucket = 7, .pmtu_sum = 65536));

	/* PTB behind a destination-options header */
	put_eth(&p, 0, 0x86dd);
	put_ipv6(&p, 8 + 48, 60);
	put_ext(&p, 58, 0, 8);
	at = p.len;
	put_zero(&p, 48);
	p.b[at] = 2; p.b[at + 6] = 0x05; p.b[at + 7] = 0x00;	/* 1280 */
	check_case("icmpv6_ptb_after_dstopts", &p, 0,
		   EXPECT(1, .ctr = { C(PMTU_MSGS) = 1 }, .pmtu = true, .bucket = 0, .pmtu_sum = 1280));

	/* truncated ICMPv6 header */
	put_eth(&p, 0, 0x86dd);
	put_ipv6(&p, 4, 58);
	put(&p, (uint8_t[]){ 2, 0, 0, 0 }, 4);
	check_case("icmpv6_truncated_malformed", &p, 0, EXPECT(1, .ctr = { C(MALFORMED) = 1 }));
}

static void test_mtu(void)
{
	struct pkt p;

	/* 1600-byte IPv4 with DF, MTU 1500: exceeded both ways */
	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 5, 1600, 0x4000, 17);
	put_zero(&p, 1580);
	check_case("ipv4_df_over_mtu", &p, 0,
		   EXPECT(0, .ctr = { C(MTU_EXCEEDED) = 1, C(MTU_EXCEEDED_DF) = 1 }));

	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 5, 1500, 0x4000, 17);
	put_zero(&p, 1480);
	check_case("ipv4_exactly_mtu", &p, 0, EXPECT(0));

	put_eth(&p, 0, 0x86dd);
	put_ipv6(&p, 1500 - 40 + 1, 17);
	put_zero(&p, 1461);
	check_case("ipv6_over_mtu_by_one", &p, 0, EXPECT(1, .ctr = { C(MTU_EXCEEDED) = 1 }));

	/* TCP GSO super-packet (3000 bytes), gso_size 1448 + 20 + 32 = 1500:
	 * not a violation on egress; ingress (no GSO in XDP) counts it. */
	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 5, 3000, 0x4000, 6);
	put_zero(&p, 2980);
	p.b[14 + 20 + 12] = 8 << 4;			/* doff 8: 32 bytes */
	{
		/* egress with gso_size 1448: fits; ingress: exceeded */
		struct netacct_counters got;

		if (reset_counters() || run_xdp(&p) || run_tc(&p, 1448)) {
			fail("tcp_gso_fits_mtu", "test run failed");
		} else if (read_counters(NETACCT_DIR_EGRESS, &got)) {
			fail("tcp_gso_fits_mtu", "read failed");
		} else if (got.ctr[0][NETACCT_MTU_EXCEEDED] || got.ctr[0][NETACCT_PACKETS] != 1) {
			fail("tcp_gso_fits_mtu", "egress: exceeded %llu packets %llu",
			     (unsigned long long)got.ctr[0][NETACCT_MTU_EXCEEDED],
			     (unsigned long long)got.ctr[0][NETACCT_PACKETS]);
		} else if (read_counters(NETACCT_DIR_INGRESS, &got) ||
			   got.ctr[0][NETACCT_MTU_EXCEEDED] != 1) {
			fail("tcp_gso_fits_mtu", "ingress did not count the 3000-byte frame");
		} else {
			printf("PASS tcp_gso_fits_mtu\n");
		}
		/* gso_size 1449: every full segment is one byte too big */
		if (reset_counters() || run_tc(&p, 1449) ||
		    read_counters(NETACCT_DIR_EGRESS, &got))
			fail("tcp_gso_segment_over_mtu", "test run failed");
		else if (got.ctr[0][NETACCT_MTU_EXCEEDED] != 1 ||
			 got.ctr[0][NETACCT_MTU_EXCEEDED_DF] != 1)
			fail("tcp_gso_segment_over_mtu", "exceeded %llu df %llu, want 1 1",
			     (unsigned long long)got.ctr[0][NETACCT_MTU_EXCEEDED],
			     (unsigned long long)got.ctr[0][NETACCT_MTU_EXCEEDED_DF]);
		else
			printf("PASS tcp_gso_segment_over_mtu\n");
	}

	/* generic-mode XDP (NO_RX_MTU): ingress skips the MTU check */
	if (set_mtu(MTU, NETACCT_IF_XDP | NETACCT_IF_XDP_SKB | NETACCT_IF_NO_RX_MTU)) {
		fail("no_rx_mtu_flag", "cannot set flags");
		return;
	}
	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 5, 1600, 0x4000, 17);
	put_zero(&p, 1580);
	check_case("no_rx_mtu_flag", &p, 0,
		   EXPECT(0, .ctr = { C(MTU_EXCEEDED) = 1, C(MTU_EXCEEDED_DF) = 1 },
			  .egress_only_mtu = true));
	set_mtu(MTU, NETACCT_IF_XDP);
}

/* With live_mtu on, the programs take the MTU from the device (lo here)
 * and write it back to netacct_ifaces; ingress does not where its MTU
 * check is off (NETACCT_IF_NO_RX_MTU), egress always does.  from_dev picks
 * how they read it (mtu_from_dev: the device's field through the kfunc, or
 * bpf_check_mtu()); the test names say which. */
static void test_live_mtu(bool from_dev)
{
	const char *how = from_dev ? "dev" : "helper";
	struct netacct_bpf *live = netacct_bpf__open();
	struct netacct_xdp_bpf *live_xdp = netacct_xdp_bpf__open();
	struct netacct_ifcfg cfg = { .mtu = 1234, .flags = NETACCT_IF_NO_RX_MTU, .ifindex = LO };
	unsigned int want = 0;
	struct pkt p;
	char buf[32];
	FILE *f;
	int fd;

	f = fopen("/sys/class/net/lo/mtu", "r");
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			want = strtoul(buf, NULL, 10);
		fclose(f);
	}
	if (!live || !live_xdp || !want) {
		fail("live_mtu_refresh", "%s: setup failed", how);
		goto out;
	}
	bpf_map__set_pin_path(live->maps.netacct_counters, NULL);
	bpf_map__set_pin_path(live->maps.netacct_ifaces, NULL);
	bpf_map__reuse_fd(live->maps.netacct_counters, bpf_map__fd(tc->maps.netacct_counters));
	live->rodata->mtu_from_dev = from_dev;
	live->rodata->netacct_slot_id = SLOT;
	if (netacct_bpf__load(live)) {
		fail("live_mtu_refresh", "%s: load failed", how);
		goto out;
	}
	fd = bpf_map__fd(live->maps.netacct_ifaces);
	bpf_map__set_pin_path(live_xdp->maps.netacct_counters, NULL);
	bpf_map__set_pin_path(live_xdp->maps.netacct_ifaces, NULL);
	bpf_map__reuse_fd(live_xdp->maps.netacct_counters, bpf_map__fd(tc->maps.netacct_counters));
	bpf_map__reuse_fd(live_xdp->maps.netacct_ifaces, fd);
	live_xdp->rodata->mtu_from_dev = from_dev;
	live_xdp->rodata->netacct_slot_id = SLOT;
	if (netacct_xdp_bpf__load(live_xdp)) {
		fail("live_mtu_refresh_xdp", "%s: load failed", how);
		goto out;
	}
	bpf_map_update_elem(fd, &(__u32){ SLOT }, &cfg, BPF_ANY);
	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 5, 28, 0, 17);
	put_zero(&p, 8);
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p.b, .data_size_in = p.len);

		if (bpf_prog_test_run_opts(bpf_program__fd(live->progs.netacct_tc_ingress), &o) ||
		    bpf_map_lookup_elem(fd, &(__u32){ SLOT }, &cfg))
			fail("live_mtu_no_rx_check_skips_refresh", "%s: run failed: %s", how, strerror(errno));
		else if (cfg.mtu != 1234)
			fail("live_mtu_no_rx_check_skips_refresh", "%s: ingress refreshed the map mtu to %u",
			     how, cfg.mtu);
		else
			printf("PASS live_mtu_no_rx_check_skips_refresh (%s)\n", how);
		if (bpf_prog_test_run_opts(bpf_program__fd(live->progs.netacct_tc_egress), &o) ||
		    bpf_map_lookup_elem(fd, &(__u32){ SLOT }, &cfg))
			fail("live_mtu_refresh", "%s: run failed: %s", how, strerror(errno));
		else if (cfg.mtu != want)
			fail("live_mtu_refresh", "%s: map mtu %u, lo has %u", how, cfg.mtu, want);
		else
			printf("PASS live_mtu_refresh (%s)\n", how);
		/* XDP ingress with its MTU check on (native mode) */
		cfg.mtu = 1234;
		cfg.flags = NETACCT_IF_XDP;
		bpf_map_update_elem(fd, &(__u32){ SLOT }, &cfg, BPF_ANY);
		if (bpf_prog_test_run_opts(bpf_program__fd(live_xdp->progs.netacct_xdp), &o) ||
		    bpf_map_lookup_elem(fd, &(__u32){ SLOT }, &cfg))
			fail("live_mtu_refresh_xdp", "%s: run failed: %s", how, strerror(errno));
		else if (cfg.mtu != want)
			fail("live_mtu_refresh_xdp", "%s: map mtu %u, lo has %u", how, cfg.mtu, want);
		else
			printf("PASS live_mtu_refresh_xdp (%s)\n", how);
	}
out:
	netacct_xdp_bpf__destroy(live_xdp);
	netacct_bpf__destroy(live);
}

/* A copy of the programs loaded for a slot without a configuration
 * (ifindex 0: free, or not written yet) counts nothing, in its own slot or
 * any other. */
static void test_unconfigured_slot(void)
{
	struct netacct_bpf *other = netacct_bpf__open();
	struct netacct_counters *v = calloc(ncpu, sizeof(*v));
	struct netacct_counters got;
	__u32 k = NETACCT_COUNTERS_INDEX(SLOT + 1, NETACCT_DIR_EGRESS);
	struct pkt p;
	bool zero = true;

	if (!other || !v || reset_counters()) {
		fail("unconfigured_slot_counts_nothing", "setup failed");
		goto out;
	}
	bpf_map__set_pin_path(other->maps.netacct_counters, NULL);
	bpf_map__set_pin_path(other->maps.netacct_ifaces, NULL);
	bpf_map__reuse_fd(other->maps.netacct_counters, bpf_map__fd(tc->maps.netacct_counters));
	bpf_map__reuse_fd(other->maps.netacct_ifaces, bpf_map__fd(tc->maps.netacct_ifaces));
	other->rodata->live_mtu = false;
	other->rodata->netacct_slot_id = SLOT + 1;
	if (netacct_bpf__load(other)) {
		fail("unconfigured_slot_counts_nothing", "load failed");
		goto out;
	}
	put_eth(&p, 0, 0x0800);
	put_ipv4(&p, 5, 28, 0, 17);
	put_zero(&p, 8);
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p.b, .data_size_in = p.len);

		if (bpf_prog_test_run_opts(bpf_program__fd(other->progs.netacct_tc_egress), &o) ||
		    bpf_map_lookup_elem(bpf_map__fd(tc->maps.netacct_counters), &k, v) ||
		    read_counters(NETACCT_DIR_EGRESS, &got)) {
			fail("unconfigured_slot_counts_nothing", "run failed: %s", strerror(errno));
			goto out;
		}
	}
	for (int c = 0; c < ncpu; c++)
		zero = zero && !v[c].ctr[ACCEL_FAM_INET][NETACCT_PACKETS];
	if (!zero || got.ctr[ACCEL_FAM_INET][NETACCT_PACKETS])
		fail("unconfigured_slot_counts_nothing", "counted: own slot %s, configured slot %llu",
		     zero ? "0" : "> 0", (unsigned long long)got.ctr[ACCEL_FAM_INET][NETACCT_PACKETS]);
	else
		printf("PASS unconfigured_slot_counts_nothing\n");
out:
	free(v);
	netacct_bpf__destroy(other);
}

/* ---- fuzz ----------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

/* A frame that is plausible enough to reach deep into the parser, then
 * damaged: lengths, truncation, random bytes. */
static void fuzz_packet(struct pkt *p, uint32_t *gso)
{
	static const uint8_t exts[] = { 0, 43, 60, 51, 44, 17, 6, 58, 59 };
	int kind = rnd(10), tags = rnd(8) == 0 ? rnd(4) : 0;
	size_t at, body;

	*gso = 0;
	put_eth(p, tags, kind < 5 ? 0x0800 : kind < 9 ? 0x86dd : (uint16_t)rnd(65536));
	if (kind < 5) {
		static const uint8_t protos[] = { 1, 6, 17, 47 };
		int ihl = rnd(6) == 0 ? rnd(16) : 5 + rnd(3);
		uint16_t frag = rnd(3) == 0 ? (uint16_t)rnd(65536) : rnd(2) ? 0x4000 : 0x2000;

		body = rnd(1600);
		at = put_ipv4(p, ihl, 0, frag, protos[rnd(4)]);
		put_zero(p, body);
		for (size_t i = at + 20; i < p->len; i += 1 + rnd(16))
			p->b[i] = rnd(256);
		if (p->b[at + 9] == 1 && rnd(2)) {
			p->b[at + ihl * 4] = 3;
			p->b[at + ihl * 4 + 1] = 4;
		}
		{
			uint16_t tot = rnd(8) ? (uint16_t)(p->len - at) : (uint16_t)rnd(65536);

			p->b[at + 2] = tot >> 8;
			p->b[at + 3] = tot & 0xff;
		}
		if (rnd(4) == 0)
			*gso = rnd(2000);
	} else if (kind < 9) {
		int n = rnd(11);

		at = put_ipv6(p, 0, exts[rnd(sizeof(exts))]);
		for (int i = 0; i < n; i++) {
			uint8_t nh = exts[rnd(sizeof(exts))];

			if (p->b[at + 6] == 44 && i == 0)
				put(p, (uint8_t[]){ nh, 0, (uint8_t)rnd(256), (uint8_t)rnd(256), 1, 2, 3, 4 }, 8);
			else
				put_ext(p, nh, rnd(4) ? rnd(3) : rnd(256), 8 * (1 + rnd(3)));
		}
		body = rnd(200);
		put_zero(p, body);
		for (size_t i = at + 40; i < p->len; i += 1 + rnd(24))
			if (rnd(3) == 0)
				p->b[i] = rnd(2) ? exts[rnd(sizeof(exts))] : rnd(256);
		if (rnd(3) == 0 && p->len - at > 48)
			p->b[p->len - 8] = 2;	/* PTB-looking byte near the end */
		{
			uint16_t plen = rnd(8) ? (uint16_t)(p->len - at - 40) : (uint16_t)rnd(65536);

			p->b[at + 4] = plen >> 8;
			p->b[at + 5] = plen & 0xff;
		}
		if (rnd(4) == 0)
			*gso = rnd(2000);
	} else {
		put_zero(p, rnd(100));
	}
	/* truncate half of the frames somewhere */
	if (rnd(2) && p->len > 14)
		p->len = 14 + rnd(p->len - 14 + 1);
	/* a few random bytes anywhere */
	for (int i = rnd(3); i > 0; i--)
		p->b[rnd(p->len)] = rnd(256);
	if (p->len < 14)
		p->len = 14;	/* bpf_prog_test_run needs a full Ethernet header */
}

static void test_fuzz(int n)
{
	struct netacct_counters want[NETACCT_DIR_MAX] = { 0 }, got;
	int refused = 0;
	char why[160];
	struct pkt p;

	if (reset_counters() || set_mtu(MTU, NETACCT_IF_XDP)) {
		fail("fuzz_vs_reference", "setup failed");
		return;
	}
	for (int i = 0; i < n; i++) {
		uint32_t gso;
		int err;

		fuzz_packet(&p, &gso);
		err = run_xdp(&p);
		if (err) {
			fail("fuzz_vs_reference", "packet %d (%zu bytes): XDP test run failed: %s",
			     i, p.len, strerror(-err));
			return;
		}
		ref_account(&want[NETACCT_DIR_INGRESS], p.b, p.len, 0, MTU, true);
		err = run_tc(&p, gso);
		if (err == -EINVAL) {
			/* bpf_prog_test_run_skb refuses some frames whose IP
			 * header is shorter than the EtherType promises:
			 * they never reach the program, so not counted. */
			refused++;
		} else if (err) {
			fail("fuzz_vs_reference", "packet %d (%zu bytes, gso %u): tc test run failed: %s",
			     i, p.len, gso, strerror(-err));
			return;
		} else {
			ref_account(&want[NETACCT_DIR_EGRESS], p.b, p.len, gso, MTU, true);
		}
		/* compare often enough to name the packet that disagrees */
		if (i % 97 && i != n - 1)
			continue;
		for (__u32 d = 0; d < NETACCT_DIR_MAX; d++) {
			if (read_counters(d, &got)) {
				fail("fuzz_vs_reference", "read failed");
				return;
			}
			if (!counters_equal(&got, &want[d], why, sizeof(why))) {
				fail("fuzz_vs_reference", "by packet %d, %s: %s (last frame %zu bytes, gso %u)",
				     i, d ? "egress" : "ingress", why, p.len, gso);
				for (size_t j = 0; j < p.len && j < 96; j++)
					fprintf(stderr, "%02x%s", p.b[j], j % 16 == 15 ? "\n" : " ");
				fputc('\n', stderr);
				return;
			}
		}
	}
	if (refused > n / 10) {
		fail("fuzz_vs_reference", "the kernel refused %d of %d frames for tc", refused, n);
		return;
	}
	{
		const struct netacct_counters *e = &want[NETACCT_DIR_EGRESS];
		__u64 sum[NETACCT_CTR_MAX] = { 0 };

		for (int f = 0; f < NETACCT_FAM_MAX; f++)
			for (int c = 0; c < NETACCT_CTR_MAX; c++)
				sum[c] += e->ctr[f][c];
		printf("PASS fuzz_vs_reference (%d frames through XDP, %d through tc; egress: malformed %llu, "
		       "fragments %llu/%llu/%llu, mtu exceeded %llu (df %llu), pmtu %llu)\n",
		       n, n - refused, (unsigned long long)sum[NETACCT_MALFORMED],
		       (unsigned long long)sum[NETACCT_FRAG_FIRST], (unsigned long long)sum[NETACCT_FRAG_NONFIRST],
		       (unsigned long long)sum[NETACCT_FRAG_ATOMIC], (unsigned long long)sum[NETACCT_MTU_EXCEEDED],
		       (unsigned long long)sum[NETACCT_MTU_EXCEEDED_DF], (unsigned long long)sum[NETACCT_PMTU_MSGS]);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100000;

	if (geteuid()) {
		printf("SKIP netacct: needs root for bpf_prog_test_run\n");
		return 0;
	}
	ncpu = libbpf_num_possible_cpus();
	tc = netacct_bpf__open();
	xdp = netacct_xdp_bpf__open();
	if (!tc || !xdp) {
		printf("FAIL netacct_open: %s\n", strerror(errno));
		return 1;
	}
	/* private, unpinned maps shared by the two objects */
	bpf_map__set_pin_path(tc->maps.netacct_counters, NULL);
	bpf_map__set_pin_path(tc->maps.netacct_ifaces, NULL);
	bpf_map__set_pin_path(xdp->maps.netacct_counters, NULL);
	bpf_map__set_pin_path(xdp->maps.netacct_ifaces, NULL);
	tc->rodata->live_mtu = false;
	xdp->rodata->live_mtu = false;
	tc->rodata->netacct_slot_id = SLOT;
	xdp->rodata->netacct_slot_id = SLOT;
	if (netacct_bpf__load(tc)) {
		printf("FAIL netacct_load_tc: %s\n", strerror(errno));
		return 1;
	}
	bpf_map__reuse_fd(xdp->maps.netacct_counters, bpf_map__fd(tc->maps.netacct_counters));
	bpf_map__reuse_fd(xdp->maps.netacct_ifaces, bpf_map__fd(tc->maps.netacct_ifaces));
	if (netacct_xdp_bpf__load(xdp)) {
		printf("FAIL netacct_load_xdp: %s\n", strerror(errno));
		return 1;
	}
	printf("PASS netacct_load (verifier accepts XDP and tc programs)\n");
	if (set_mtu(MTU, NETACCT_IF_XDP)) {
		printf("FAIL netacct_setup: %s\n", strerror(errno));
		return 1;
	}
	test_ipv4_fragments();
	test_ipv4_malformed();
	test_vlan();
	test_ipv6_ext_headers();
	test_pmtu_messages();
	test_mtu();
	test_live_mtu(false);
	test_live_mtu(true);
	test_unconfigured_slot();
	test_fuzz(n);
	netacct_xdp_bpf__destroy(xdp);
	netacct_bpf__destroy(tc);
	return nfail ? 1 : 0;
}
