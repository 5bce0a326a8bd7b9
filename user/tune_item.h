/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tune_item.h - one tuning setting (sysctl or NIC) and auto-tune bounds:
 * the types profile.c, journal.c, nic.c, tune.c and autotune.c share, and
 * their names (tune_item.c).
 */
#ifndef ACCEL_TUNE_ITEM_H
#define ACCEL_TUNE_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TUNE_MAX_ITEMS	128
#define TUNE_KEY_LEN	128
#define TUNE_VAL_LEN	256
#define TUNE_IFNAMSIZ	16

/* What a setting is.  Keep in sync with kind_names[] (tune_item.c). */
enum tune_kind {
	TK_SYSCTL = 0,
	TK_MTU,
	TK_RING_RX,
	TK_RING_TX,
	TK_CH_COMBINED,
	TK_CH_RX,
	TK_CH_TX,
	TK_FEAT_GRO,
	TK_FEAT_GSO,
	TK_FEAT_TSO,
	TK_FEAT_LRO,
	TK_COAL_RX_USECS,	/* interrupt coalescing (ethtool COALESCE) */
	TK_COAL_TX_USECS,
	TK_COAL_RX_FRAMES,
	TK_COAL_TX_FRAMES,
	TK_COAL_ADAPTIVE_RX,
	TK_COAL_ADAPTIVE_TX,
	TK_RPS_CPUS,		/* per queue, sysfs: queues/rx-N/rps_cpus */
	TK_XPS_CPUS,		/* queues/tx-N/xps_cpus */
	TK_RPS_FLOW_CNT,	/* queues/rx-N/rps_flow_cnt (RFS) */
	TK_MAX,
};

/* One requested setting, as a profile states it. */
struct tune_item {
	enum tune_kind kind;
	char key[TUNE_KEY_LEN];		/* sysctl: canonical dotted name; NIC: "mtu", "rx-ring", ... */
	char ifname[TUNE_IFNAMSIZ];	/* NIC settings only */
	char value[TUNE_VAL_LEN];	/* normalised: fields separated by one space */
	bool at_least;			/* ">= N": raise only, never lower */
	bool host_only;			/* built-in profiles: skipped inside a netns */
	int line;			/* profile line, 0 for built-ins */
};

/* Bounds for auto-tuning ([auto] section); 0 = that action is off. */
struct tune_bounds {
	uint64_t somaxconn_max;		/* raise net.core.somaxconn up to this */
	uint64_t port_low_min;		/* lower ip_local_port_range's start down to this */
	bool tw_reuse;			/* may set tcp_tw_reuse = 1 near port exhaustion */
	unsigned int port_pressure_pct;	/* "near exhaustion": ports in use ≥ this % of the range */
	uint64_t ip6frag_high_max;	/* raise ip6frag_high_thresh up to this */
	unsigned int interval;		/* seconds between observations (autotune loop) */
};

/* The kind's name in profiles and the journal ("mtu", "rx-ring"; "sysctl"),
 * and back (-1: none). */
const char *tune_kind_name(enum tune_kind k);
int tune_kind_from_name(const char *name);
/* "net.core.somaxconn" / "nic veth0 mtu" for messages. */
const char *tune_item_label(enum tune_kind kind, const char *ifname, const char *key,
			    char *buf, size_t len);

#endif
