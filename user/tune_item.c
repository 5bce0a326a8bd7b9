// SPDX-License-Identifier: GPL-2.0-only
/*
 * The names of the tuning settings (tune_item.h): what profiles, the
 * journal, messages and metric labels call each kind.
 */
#include <stdio.h>
#include <string.h>

#include "tune_item.h"

static const char *const kind_names[TK_MAX] = {
	[TK_SYSCTL] = "sysctl", [TK_MTU] = "mtu", [TK_RING_RX] = "rx-ring",
	[TK_RING_TX] = "tx-ring", [TK_CH_COMBINED] = "combined", [TK_CH_RX] = "rx",
	[TK_CH_TX] = "tx", [TK_FEAT_GRO] = "gro", [TK_FEAT_GSO] = "gso",
	[TK_FEAT_TSO] = "tso", [TK_FEAT_LRO] = "lro",
	[TK_COAL_RX_USECS] = "rx-usecs", [TK_COAL_TX_USECS] = "tx-usecs",
	[TK_COAL_RX_FRAMES] = "rx-frames", [TK_COAL_TX_FRAMES] = "tx-frames",
	[TK_COAL_ADAPTIVE_RX] = "adaptive-rx", [TK_COAL_ADAPTIVE_TX] = "adaptive-tx",
	[TK_RPS_CPUS] = "rps-cpus", [TK_XPS_CPUS] = "xps-cpus", [TK_RPS_FLOW_CNT] = "rps-flow-cnt",
};

const char *tune_kind_name(enum tune_kind k)
{
	return k < TK_MAX ? kind_names[k] : "?";
}

int tune_kind_from_name(const char *name)
{
	for (int k = 0; k < TK_MAX; k++)
		if (!strcmp(kind_names[k], name))
			return k;
	return -1;
}

const char *tune_item_label(enum tune_kind kind, const char *ifname, const char *key,
			    char *buf, size_t len)
{
	if (kind == TK_SYSCTL)
		snprintf(buf, len, "%s", key);
	else
		snprintf(buf, len, "nic %s %s", ifname, tune_kind_name(kind));
	return buf;
}
