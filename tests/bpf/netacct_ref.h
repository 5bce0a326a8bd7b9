/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netacct_ref.h - a userspace reference for what netacct's BPF programs
 * count, written from the rules in docs/netacct.md and not from the BPF
 * code: a byte cursor over a flat buffer, one function per header.  The fuzz
 * test feeds the same packets to both and requires identical counters.
 */
#ifndef NETACCT_REF_H
#define NETACCT_REF_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "accel_abi.h"

struct ref_cursor {
	const uint8_t *buf;
	size_t len;	/* whole packet */
};

/* Result of classifying one packet. */
struct ref_result {
	int fam;		/* 0 inet, 1 inet6, 2 other */
	bool bad;		/* malformed */
	int frag;		/* 0 none, 1 first, 2 non-first, 3 atomic */
	bool df;
	bool ptb;
	uint32_t ptb_mtu;
	uint32_t ip_len;	/* L3 length from the header */
	uint32_t hdrs_len;	/* L3 header(s) up to the upper-layer header */
	uint32_t l4_len;	/* TCP/UDP header length (0 otherwise) */
};

static inline bool ref_have(const struct ref_cursor *c, size_t at, size_t n)
{
	return at <= c->len && n <= c->len - at;
}

static inline uint16_t ref_be16(const struct ref_cursor *c, size_t at)
{
	return (uint16_t)(c->buf[at] << 8 | c->buf[at + 1]);
}

static inline uint32_t ref_be32(const struct ref_cursor *c, size_t at)
{
	return (uint32_t)c->buf[at] << 24 | (uint32_t)c->buf[at + 1] << 16 |
	       (uint32_t)c->buf[at + 2] << 8 | c->buf[at + 3];
}

/* Upper layer at byte `at`, `room` bytes left by the IP length. */
static bool ref_upper(const struct ref_cursor *c, size_t at, uint32_t room, int proto,
		      bool six, struct ref_result *r)
{
	if (proto == 6) {			/* TCP */
		unsigned int thl;

		if (room < 20 || !ref_have(c, at, 20))
			return false;
		thl = 4u * (c->buf[at + 12] >> 4);
		if (thl < 20 || thl > room)
			return false;
		r->l4_len = thl;
	} else if (proto == 17) {		/* UDP */
		if (room < 8 || !ref_have(c, at, 8))
			return false;
		r->l4_len = 8;
	} else if ((proto == 1 && !six) || (proto == 58 && six)) {
		if (room < 8 || !ref_have(c, at, 8))
			return false;
		if (!six && c->buf[at] == 3 && c->buf[at + 1] == 4) {
			r->ptb = true;
			r->ptb_mtu = ref_be16(c, at + 6);
		}
		if (six && c->buf[at] == 2) {
			r->ptb = true;
			r->ptb_mtu = ref_be32(c, at + 4);
		}
	}
	return true;
}

static bool ref_ipv4(const struct ref_cursor *c, size_t at, uint32_t gso, struct ref_result *r)
{
	uint32_t room = (uint32_t)(c->len - at), hl, total, fo;
	uint16_t fl;

	if (!ref_have(c, at, 20) || (c->buf[at] & 0xf0) != 0x40)
		return false;
	hl = (c->buf[at] & 0x0f) << 2;
	if (hl < 20 || hl > room)
		return false;
	total = ref_be16(c, at + 2);
	if (total == 0 && gso)
		total = room;
	if (total < hl || total > room)
		return false;
	fl = ref_be16(c, at + 6);
	fo = (uint32_t)(fl & 0x1fff) << 3;
	if (fo + total - hl > 0xffff)
		return false;
	r->ip_len = total;
	r->hdrs_len = hl;
	r->df = fl & 0x4000;
	if (fo) {
		r->frag = 2;
		return true;
	}
	if (fl & 0x2000)
		r->frag = 1;
	return ref_upper(c, at + hl, total - hl, c->buf[at + 9], false, r);
}

static bool ref_ipv6(const struct ref_cursor *c, size_t at, uint32_t gso, struct ref_result *r)
{
	uint32_t room = (uint32_t)(c->len - at), total, cur = 40;
	int next, seen = 0;

	if (!ref_have(c, at, 40) || (c->buf[at] >> 4) != 6)
		return false;
	total = 40u + ref_be16(c, at + 4);
	if (total == 40) {
		if (!gso)
			return false;
		total = room;
	}
	if (total > room)
		return false;
	r->ip_len = total;
	next = c->buf[at + 6];
	for (;;) {
		uint32_t size;

		if (next != 0 && next != 43 && next != 60 && next != 51 && next != 44)
			break;				/* upper layer */
		if (seen == 8)
			return false;			/* chain too long */
		if (next == 0 && seen)
			return false;			/* hop-by-hop not first */
		if (next == 44) {
			uint16_t fw;

			if (r->frag || cur + 8 > total)
				return false;
			fw = ref_be16(c, at + cur + 2);
			cur += 8;
			if ((uint32_t)(fw & 0xfff8) + (total - cur) > 0xffff)
				return false;
			if (fw & 0xfff8) {
				r->frag = 2;
				r->hdrs_len = cur;
				return true;
			}
			r->frag = (fw & 1) ? 1 : 3;
			next = c->buf[at + cur - 8];
		} else {
			if (cur + 2 > total)
				return false;
			size = next == 51 ? 4u * (c->buf[at + cur + 1] + 2u)
					  : 8u * (c->buf[at + cur + 1] + 1u);
			next = c->buf[at + cur];
			cur += size;
			if (cur > total)
				return false;
		}
		seen++;
	}
	r->hdrs_len = cur;
	return ref_upper(c, at + cur, total - cur, next, true, r);
}

static inline void ref_classify(const uint8_t *pkt, size_t len, uint32_t gso,
				struct ref_result *r)
{
	struct ref_cursor c = { pkt, len };
	size_t at = 14;
	int tags = 0;
	uint16_t type;

	memset(r, 0, sizeof(*r));
	r->fam = 2;
	if (len < 14) {
		r->bad = true;
		return;
	}
	type = ref_be16(&c, 12);
	while (type == 0x8100 || type == 0x88a8) {
		if (++tags > 2 || !ref_have(&c, at, 4)) {
			r->bad = true;
			return;
		}
		type = ref_be16(&c, at + 2);
		at += 4;
	}
	if (type == 0x0800) {
		r->fam = 0;
		r->bad = !ref_ipv4(&c, at, gso, r);
	} else if (type == 0x86dd) {
		r->fam = 1;
		r->bad = !ref_ipv6(&c, at, gso, r);
	}
}

static inline int ref_bucket(uint32_t mtu)
{
	static const uint32_t le[] = { NETACCT_PMTU_BOUNDS };
	int i = 0;

	while (i < NETACCT_PMTU_NBOUNDS && mtu > le[i])
		i++;
	return i;
}

/* Add one packet to the expected counters. */
static inline void ref_account(struct netacct_counters *e, const uint8_t *pkt, size_t len,
			       uint32_t gso, uint32_t mtu, bool check_mtu)
{
	struct ref_result r;
	__u64 *v;

	ref_classify(pkt, len, gso, &r);
	v = e->ctr[r.fam];
	v[NETACCT_PACKETS] += 1;
	v[NETACCT_BYTES] += len;
	if (r.bad) {
		v[NETACCT_MALFORMED] += 1;
		return;
	}
	if (r.fam == 2)
		return;
	if (r.frag)
		v[r.frag == 1 ? NETACCT_FRAG_FIRST : r.frag == 2 ? NETACCT_FRAG_NONFIRST
								: NETACCT_FRAG_ATOMIC] += 1;
	if (r.ptb) {
		v[NETACCT_PMTU_MSGS] += 1;
		e->pmtu_bucket[r.fam][ref_bucket(r.ptb_mtu)] += 1;
		e->pmtu_sum[r.fam] += r.ptb_mtu;
	}
	if (check_mtu && mtu) {
		uint32_t l3 = gso ? r.hdrs_len + r.l4_len + gso : r.ip_len;

		if (l3 > mtu) {
			v[NETACCT_MTU_EXCEEDED] += 1;
			if (r.df)
				v[NETACCT_MTU_EXCEEDED_DF] += 1;
		}
	}
}

#endif
