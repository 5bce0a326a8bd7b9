/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nic.h - NIC settings over ethtool netlink (rings, channels, features,
 * interrupt coalescing), the MTU over rtnetlink and the per-queue RPS,
 * XPS and RFS settings in sysfs (nic.c, nic_queue.c).
 */
#ifndef ACCEL_NIC_H
#define ACCEL_NIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tune_item.h"

struct nic_state {
	bool have_rings, have_channels, have_mtu;
	uint32_t rx_max, tx_max, rx, tx;			/* rings */
	uint32_t ch_rx_max, ch_tx_max, ch_comb_max, ch_rx, ch_tx, ch_comb;
	uint32_t mtu, min_mtu, max_mtu;
	int rings_err, channels_err;				/* -errno when not available */
};
struct nic;
int nic_open(struct nic **out);
void nic_close(struct nic *n);
int nic_get(struct nic *n, const char *ifname, struct nic_state *st);
/* Every link of the current network namespace (one RTM_GETLINK dump):
 * cb sees each; a negative return stops the dump and is returned. */
struct nic_link {
	char name[16];
	unsigned int ifindex;
	char kind[16];			/* IFLA_INFO_KIND: "veth", "bridge"; "" for a driver's device */
	bool loopback, have_stats;
	uint32_t mtu, rx_queues;	/* IFLA_NUM_RX_QUEUES */
	uint64_t rx_packets, rx_dropped, rx_missed, rx_fifo;	/* IFLA_STATS64 */
};
typedef int (*nic_link_cb)(const struct nic_link *l, void *data);
int nic_links(struct nic *n, nic_link_cb cb, void *data);
/* Read one setting as text ("1500", "on", "tx-tcp-segmentation=on,...").
 * -EOPNOTSUPP when the device does not have it. */
int nic_read(struct nic *n, const struct tune_item *it, char *buf, size_t len, char *err, size_t errlen);
/* Check a requested value: 0, -EOPNOTSUPP (device lacks it, reason in err),
 * -ERANGE / -EINVAL (bad value, reason in err). */
int nic_check(struct nic *n, const struct tune_item *it, char *err, size_t errlen);
/* Write a value in the form nic_read returns (or the profile's). */
int nic_write(struct nic *n, const struct tune_item *it, const char *val, char *err, size_t errlen);
/* The value nic_read gives once it->value is written (a per-queue list
 * leaves the queues it does not name as they are); it->value itself for
 * every setting but the queue ones.  Feature groups are expanded by the
 * caller (tune.c). */
int nic_target(struct nic *n, const struct tune_item *it, char *out, size_t len, char *err,
	       size_t errlen);
/* A profile's value for setting k in canonical form ("on", "9000",
 * "0=3 1=c"); -EINVAL with the reason in err ("'x' is not on or off"). */
int nic_value_norm(enum tune_kind k, const char *in, char *out, size_t len, char *err,
		   size_t errlen);
/* Whether k is a group of feature bits (gro, gso, tso, lro). */
bool nic_kind_is_feature(enum tune_kind k);
/* "mtu, rx-ring, ..., rps-flow-cnt": every NIC setting, for messages. */
const char *nic_setting_names(void);
/* RTM_NEWLINK reply → MTU and its limits (0 when absent), every attribute
 * read checked first: -EBADMSG with the reason in err for a malformed or
 * cut reply.  Exposed for unit tests of the reply parser. */
struct nlmsghdr;
int nic_link_parse(const struct nlmsghdr *nlh, uint32_t *mtu, uint32_t *min_mtu,
		   uint32_t *max_mtu, char *err, size_t errlen);
/* Pure helper (unit-tested): value v against a device maximum. */
int nic_check_count(const char *what, uint64_t v, uint32_t max, char *err, size_t errlen);

#endif
