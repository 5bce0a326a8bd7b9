// SPDX-License-Identifier: GPL-2.0-only
/*
 * NIC settings through the kernel's ethtool netlink interface (the one
 * ethtool(8) itself uses) and the MTU through rtnetlink, with libmnl.
 *
 *   rx-ring / tx-ring        ETHTOOL_MSG_RINGS_GET / _SET
 *   combined / rx / tx       ETHTOOL_MSG_CHANNELS_GET / _SET
 *   gro / gso / tso / lro    ETHTOOL_MSG_FEATURES_GET / _SET
 *   rx-usecs / tx-usecs      ETHTOOL_MSG_COALESCE_GET / _SET (interrupt
 *   rx-frames / tx-frames    coalescing; a parameter the driver does not
 *   adaptive-rx / -tx        list in its reply is one it does not have)
 *   mtu                      RTM_GETLINK / RTM_SETLINK (IFLA_MTU)
 *   rps-cpus / xps-cpus /    sysfs queues/{rx,tx}-N/ (nic_queue.c)
 *   rps-flow-cnt
 *
 * Sockets are opened in the calling thread's network namespace, so with
 * --netns the namespace's devices are seen.  A device that lacks a setting
 * (veth has no rings; lro is fixed off on most virtual devices) gives
 * -EOPNOTSUPP with a reason, never a failure of the other settings.
 *
 * Features are read and restored bit by bit: "tso" is a group of kernel
 * feature bits (tx-tcp-segmentation, tx-tcp6-segmentation, ...); the value
 * kept in the journal is "bit=on,bit=off,..." of the device's changeable
 * bits of the group, so a restore gives back exactly what `ethtool -k`
 * showed before.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "log.h"
#include "nic.h"
#include "nic_queue.h"
#include "util.h"

#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif

struct nic {
	struct mnl_socket *gen, *rt;
	uint16_t ethtool_family;	/* 0: the kernel has no ethtool netlink */
	unsigned int seq;
	int sysfs;			/* the namespace's sysfs (queue settings), or -1 */
};

#define FEAT_MAX_BITS 8
struct feat_group {
	enum tune_kind kind;
	const char *bits[FEAT_MAX_BITS];	/* NULL-terminated */
};

/* The kernel feature bits behind ethtool's short names (ethtool's own
 * grouping: "tso" toggles every TCP segmentation offload). */
static const struct feat_group feat_groups[] = {
	{ TK_FEAT_GRO, { "rx-gro" } },
	{ TK_FEAT_GSO, { "tx-generic-segmentation" } },
	{ TK_FEAT_TSO, { "tx-tcp-segmentation", "tx-tcp-ecn-segmentation",
			 "tx-tcp-mangleid-segmentation", "tx-tcp6-segmentation",
			 "tx-tcp-accecn-segmentation" } },
	{ TK_FEAT_LRO, { "rx-lro" } },
};

static const struct feat_group *feat_group_of(enum tune_kind k)
{
	for (size_t i = 0; i < ARRAY_SIZE(feat_groups); i++)
		if (feat_groups[i].kind == k)
			return &feat_groups[i];
	return NULL;
}

/* ---- reply parsing ----
 *
 * Nothing of a reply is read before it is checked: a policy gives, per
 * attribute type, the shape its payload must have (libmnl's
 * mnl_attr_validate(): exact size for u8/u16/u32/u64, a NUL at the end of
 * a string, a nest of whole attributes), and an attribute cut short by the
 * end of its message or nest rejects the whole reply.  Types the policy
 * leaves at MNL_TYPE_UNSPEC are not read, and types past the policy's end
 * (newer kernels) are skipped.  tb has as many slots as the policy.
 */
#define NL_TB_MAX 32	/* enough for the genetlink and ethtool types read here */

static const char *const mnl_type_names[MNL_TYPE_MAX] = {
	[MNL_TYPE_U8] = "u8", [MNL_TYPE_U16] = "u16", [MNL_TYPE_U32] = "u32",
	[MNL_TYPE_U64] = "u64", [MNL_TYPE_STRING] = "string", [MNL_TYPE_FLAG] = "flag",
	[MNL_TYPE_MSECS] = "msecs", [MNL_TYPE_NESTED] = "nest",
	[MNL_TYPE_NESTED_COMPAT] = "nest", [MNL_TYPE_NUL_STRING] = "string",
	[MNL_TYPE_BINARY] = "binary",
};

static int nl_attrs_parse(const void *start, size_t len, const enum mnl_attr_data_type *policy,
			  uint16_t ntypes, const struct nlattr **tb, const char *what, char *err,
			  size_t errlen)
{
	const struct nlattr *a = start;

	memset(tb, 0, ntypes * sizeof(*tb));
	while (len) {
		size_t step;
		uint16_t t;

		if (!mnl_attr_ok(a, len > INT_MAX ? INT_MAX : (int)len)) {
			if (len < sizeof(*a))
				snprintf(err, errlen, "%s: %zu stray bytes after the last attribute",
					 what, len);
			else
				snprintf(err, errlen, "%s: attribute %u claims %u bytes, %zu are left",
					 what, mnl_attr_get_type(a), a->nla_len, len);
			return -EBADMSG;
		}
		t = mnl_attr_get_type(a);
		if (mnl_attr_type_valid(a, ntypes - 1) > 0 && policy[t] != MNL_TYPE_UNSPEC) {
			if (mnl_attr_validate(a, policy[t]) < 0) {
				snprintf(err, errlen, "%s: attribute %u is not a valid %s (%u payload bytes)",
					 what, t, mnl_type_names[policy[t]] ?: "attribute",
					 mnl_attr_get_payload_len(a));
				return -EBADMSG;
			}
			tb[t] = a;
		}
		/* the last attribute need not be padded to the alignment */
		step = MNL_ALIGN(a->nla_len);
		if (step >= len)
			break;
		len -= step;
		a = (const struct nlattr *)((const char *)a + step);
	}
	return 0;
}

/* The attributes of a message after its fixed header of hdrlen bytes. */
static int nl_msg_parse(const struct nlmsghdr *nlh, size_t hdrlen,
			const enum mnl_attr_data_type *policy, uint16_t ntypes,
			const struct nlattr **tb, const char *what, char *err, size_t errlen)
{
	const char *start;

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(hdrlen)) {
		snprintf(err, errlen, "%s: %u bytes, shorter than its header", what, nlh->nlmsg_len);
		return -EBADMSG;
	}
	start = mnl_nlmsg_get_payload_offset(nlh, hdrlen);
	return nl_attrs_parse(start, (const char *)nlh + nlh->nlmsg_len - start, policy, ntypes, tb,
			      what, err, errlen);
}

static int nl_nest_parse(const struct nlattr *nest, const enum mnl_attr_data_type *policy,
			 uint16_t ntypes, const struct nlattr **tb, const char *what, char *err,
			 size_t errlen)
{
	return nl_attrs_parse(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest), policy,
			      ntypes, tb, what, err, errlen);
}

/* A callback's way out on a malformed reply: say so, stop the exchange. */
static int nl_bad_reply(const char *err)
{
	pr_err("malformed netlink reply from the kernel: %s\n", err);
	return -EBADMSG;
}

static struct mnl_socket *nl_open(int proto)
{
	struct mnl_socket *s = mnl_socket_open2(proto, SOCK_CLOEXEC);
	int one = 1;

	if (!s)
		return NULL;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID)) {
		mnl_socket_close(s);
		return NULL;
	}
	/* Extended ACK: the kernel's own words for why a value is refused. */
	(void)mnl_socket_setsockopt(s, NETLINK_EXT_ACK, &one, sizeof(one));
	return s;
}

/* Send a request and process replies until the ACK.  cb (optional) sees
 * every data message.  Returns 0 or -errno; the kernel's extended-ack
 * message, if any, lands in msg. */
static int nl_talk(struct nic *n, struct mnl_socket *s, struct nlmsghdr *req,
		   int (*cb)(const struct nlmsghdr *, void *), void *data, char *msg, size_t msglen)
{
	/* A verbose FEATURES_GET reply (every bit with its name) is ~20 KiB:
	 * more than MNL_SOCKET_BUFFER_SIZE.  Single-threaded, not reentrant. */
	static char buf[65536];
	unsigned int portid = mnl_socket_get_portid(s);
	ssize_t len;

	if (msg && msglen)
		msg[0] = '\0';
	req->nlmsg_seq = ++n->seq;
	req->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(s, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		const struct nlmsghdr *nlh;
		int rem;

		len = mnl_socket_recvfrom(s, buf, sizeof(buf));
		if (len < 0)
			return -errno;
		rem = (int)len;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, rem);
		     nlh = mnl_nlmsg_next(nlh, &rem)) {
			if (nlh->nlmsg_seq != n->seq || nlh->nlmsg_pid != portid)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				static const enum mnl_attr_data_type ack_policy[NL_TB_MAX] = {
					[NLMSGERR_ATTR_MSG] = MNL_TYPE_NUL_STRING,
				};
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
				const struct nlattr *tb[NL_TB_MAX];
				size_t off = sizeof(*e);
				char why[160];

				if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
					return nl_bad_reply("netlink error message shorter than struct nlmsgerr");
				if (!e->error)
					return 0;
				if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
					off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
				/* The kernel's words are a bonus: a malformed extended
				 * ack loses them, never the error itself. */
				if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && msg &&
				    e->msg.nlmsg_len >= sizeof(struct nlmsghdr) &&
				    !nl_msg_parse(nlh, off, ack_policy, NL_TB_MAX, tb, "extended ack", why, sizeof(why)) &&
				    tb[NLMSGERR_ATTR_MSG])
					snprintf(msg, msglen, "%s", mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]));
				return e->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (cb) {
				int r = cb(nlh, data);

				if (r < 0)
					return r;
			}
		}
	}
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	static const enum mnl_attr_data_type policy[NL_TB_MAX] = {
		[CTRL_ATTR_FAMILY_ID] = MNL_TYPE_U16,
	};
	const struct nlattr *tb[NL_TB_MAX];
	char err[160];

	if (nl_msg_parse(nlh, sizeof(struct genlmsghdr), policy, NL_TB_MAX, tb, "CTRL_CMD_GETFAMILY", err,
			 sizeof(err)))
		return nl_bad_reply(err);
	if (tb[CTRL_ATTR_FAMILY_ID])
		*(uint16_t *)data = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	return 0;
}

int nic_open(struct nic **out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct genlmsghdr *g;
	struct nlmsghdr *nlh;
	struct nic *n = calloc(1, sizeof(*n));
	int err;

	if (!n)
		return -ENOMEM;
	n->seq = (unsigned int)time(NULL);
	n->sysfs = -1;
	n->gen = nl_open(NETLINK_GENERIC);
	n->rt = nl_open(NETLINK_ROUTE);
	if (!n->gen || !n->rt) {
		err = -errno;
		nic_close(n);
		return err ? err : -EIO;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, ETHTOOL_GENL_NAME);
	/* No ethtool family (kernel < 5.6): every ethtool setting reports
	 * "not supported"; the MTU still works. */
	(void)nl_talk(n, n->gen, nlh, family_cb, &n->ethtool_family, NULL, 0);
	*out = n;
	return 0;
}

void nic_close(struct nic *n)
{
	if (!n)
		return;
	if (n->gen)
		mnl_socket_close(n->gen);
	if (n->rt)
		mnl_socket_close(n->rt);
	if (n->sysfs >= 0)
		close(n->sysfs);
	free(n);
}

static struct nlmsghdr *ethtool_req(struct nic *n, char *buf, uint8_t cmd, const char *ifname)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;
	struct nlattr *nest;

	nlh->nlmsg_type = n->ethtool_family;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = ETHTOOL_GENL_VERSION;
	/* Every ethtool message has its header nest as attribute 1. */
	nest = mnl_attr_nest_start(nlh, 1);
	mnl_attr_put_strz(nlh, ETHTOOL_A_HEADER_DEV_NAME, ifname);
	mnl_attr_nest_end(nlh, nest);
	return nlh;
}

static uint32_t u32_or0(const struct nlattr *a)
{
	return a ? mnl_attr_get_u32(a) : 0;
}

/* Replies are copied: tb points into the receive buffer of nl_talk, so
 * values are taken inside the callback. */
struct rings_reply {
	int seen;
	uint32_t rx_max, tx_max, rx, tx;
};

static int rings_cb(const struct nlmsghdr *nlh, void *data)
{
	static const enum mnl_attr_data_type policy[NL_TB_MAX] = {
		[ETHTOOL_A_RINGS_RX_MAX] = MNL_TYPE_U32, [ETHTOOL_A_RINGS_TX_MAX] = MNL_TYPE_U32,
		[ETHTOOL_A_RINGS_RX] = MNL_TYPE_U32, [ETHTOOL_A_RINGS_TX] = MNL_TYPE_U32,
	};
	const struct nlattr *tb[NL_TB_MAX];
	struct rings_reply *r = data;
	char err[160];

	if (nl_msg_parse(nlh, sizeof(struct genlmsghdr), policy, NL_TB_MAX, tb, "ETHTOOL_MSG_RINGS_GET", err,
			 sizeof(err)))
		return nl_bad_reply(err);
	r->seen = 1;
	r->rx_max = u32_or0(tb[ETHTOOL_A_RINGS_RX_MAX]);
	r->tx_max = u32_or0(tb[ETHTOOL_A_RINGS_TX_MAX]);
	r->rx = u32_or0(tb[ETHTOOL_A_RINGS_RX]);
	r->tx = u32_or0(tb[ETHTOOL_A_RINGS_TX]);
	return 0;
}

struct channels_reply {
	int seen;
	uint32_t rx_max, tx_max, comb_max, rx, tx, comb;
};

static int channels_cb(const struct nlmsghdr *nlh, void *data)
{
	static const enum mnl_attr_data_type policy[NL_TB_MAX] = {
		[ETHTOOL_A_CHANNELS_RX_MAX] = MNL_TYPE_U32,
		[ETHTOOL_A_CHANNELS_TX_MAX] = MNL_TYPE_U32,
		[ETHTOOL_A_CHANNELS_COMBINED_MAX] = MNL_TYPE_U32,
		[ETHTOOL_A_CHANNELS_RX_COUNT] = MNL_TYPE_U32,
		[ETHTOOL_A_CHANNELS_TX_COUNT] = MNL_TYPE_U32,
		[ETHTOOL_A_CHANNELS_COMBINED_COUNT] = MNL_TYPE_U32,
	};
	const struct nlattr *tb[NL_TB_MAX];
	struct channels_reply *c = data;
	char err[160];

	if (nl_msg_parse(nlh, sizeof(struct genlmsghdr), policy, NL_TB_MAX, tb, "ETHTOOL_MSG_CHANNELS_GET", err,
			 sizeof(err)))
		return nl_bad_reply(err);
	c->seen = 1;
	c->rx_max = u32_or0(tb[ETHTOOL_A_CHANNELS_RX_MAX]);
	c->tx_max = u32_or0(tb[ETHTOOL_A_CHANNELS_TX_MAX]);
	c->comb_max = u32_or0(tb[ETHTOOL_A_CHANNELS_COMBINED_MAX]);
	c->rx = u32_or0(tb[ETHTOOL_A_CHANNELS_RX_COUNT]);
	c->tx = u32_or0(tb[ETHTOOL_A_CHANNELS_TX_COUNT]);
	c->comb = u32_or0(tb[ETHTOOL_A_CHANNELS_COMBINED_COUNT]);
	return 0;
}

struct link_reply {
	int seen;
	uint32_t mtu, min_mtu, max_mtu;
};

int nic_link_parse(const struct nlmsghdr *nlh, uint32_t *mtu, uint32_t *min_mtu,
		   uint32_t *max_mtu, char *err, size_t errlen)
{
	static const enum mnl_attr_data_type policy[IFLA_MAX_MTU + 1] = {
		[IFLA_MTU] = MNL_TYPE_U32, [IFLA_MIN_MTU] = MNL_TYPE_U32,
		[IFLA_MAX_MTU] = MNL_TYPE_U32,
	};
	const struct nlattr *tb[IFLA_MAX_MTU + 1];
	int e;

	e = nl_msg_parse(nlh, sizeof(struct ifinfomsg), policy, ARRAY_SIZE(policy), tb,
			 "RTM_GETLINK", err, errlen);
	if (e)
		return e;
	*mtu = tb[IFLA_MTU] ? mnl_attr_get_u32(tb[IFLA_MTU]) : 0;
	*min_mtu = tb[IFLA_MIN_MTU] ? mnl_attr_get_u32(tb[IFLA_MIN_MTU]) : 0;
	*max_mtu = tb[IFLA_MAX_MTU] ? mnl_attr_get_u32(tb[IFLA_MAX_MTU]) : 0;
	return 0;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_reply *l = data;
	char err[160];

	if (nic_link_parse(nlh, &l->mtu, &l->min_mtu, &l->max_mtu, err, sizeof(err)))
		return nl_bad_reply(err);
	l->seen = 1;
	return 0;
}

static int link_get(struct nic *n, unsigned int ifindex, struct link_reply *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	memset(l, 0, sizeof(*l));
	return nl_talk(n, n->rt, nlh, link_cb, l, NULL, 0);
}

int nic_get(struct nic *n, const char *ifname, struct nic_state *st)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct rings_reply r = { 0 };
	struct channels_reply c = { 0 };
	struct link_reply l;
	unsigned int idx;
	int err;

	memset(st, 0, sizeof(*st));
	err = ifname_to_index(ifname, &idx);
	if (err)
		return err;
	err = link_get(n, idx, &l);
	if (err)
		return err;
	st->have_mtu = true;
	st->mtu = l.mtu;
	st->min_mtu = l.min_mtu;
	st->max_mtu = l.max_mtu;
	if (!n->ethtool_family) {
		st->rings_err = st->channels_err = -EOPNOTSUPP;
		return 0;
	}
	st->rings_err = nl_talk(n, n->gen, ethtool_req(n, buf, ETHTOOL_MSG_RINGS_GET, ifname),
				rings_cb, &r, NULL, 0);
	if (!st->rings_err && r.seen) {
		st->have_rings = true;
		st->rx_max = r.rx_max;
		st->tx_max = r.tx_max;
		st->rx = r.rx;
		st->tx = r.tx;
	}
	st->channels_err = nl_talk(n, n->gen, ethtool_req(n, buf, ETHTOOL_MSG_CHANNELS_GET, ifname),
				   channels_cb, &c, NULL, 0);
	if (!st->channels_err && c.seen) {
		st->have_channels = true;
		st->ch_rx_max = c.rx_max;
		st->ch_tx_max = c.tx_max;
		st->ch_comb_max = c.comb_max;
		st->ch_rx = c.rx;
		st->ch_tx = c.tx;
		st->ch_comb = c.comb;
	}
	return 0;
}

/* ---- every link of the namespace ---- */

struct links_dump {
	nic_link_cb cb;
	void *data;
};

static void link_kind(const struct nlattr *info, struct nic_link *l)
{
	static const enum mnl_attr_data_type policy[IFLA_INFO_KIND + 1] = {
		[IFLA_INFO_KIND] = MNL_TYPE_NUL_STRING,
	};
	const struct nlattr *tb[IFLA_INFO_KIND + 1];
	char err[160];

	/* a malformed kind loses the kind, not the link */
	if (!nl_nest_parse(info, policy, ARRAY_SIZE(policy), tb, "IFLA_LINKINFO", err, sizeof(err)) &&
	    tb[IFLA_INFO_KIND])
		snprintf(l->kind, sizeof(l->kind), "%s", mnl_attr_get_str(tb[IFLA_INFO_KIND]));
}

static int links_cb(const struct nlmsghdr *nlh, void *data)
{
	static const enum mnl_attr_data_type policy[IFLA_NUM_RX_QUEUES + 1] = {
		[IFLA_IFNAME] = MNL_TYPE_NUL_STRING, [IFLA_MTU] = MNL_TYPE_U32,
		[IFLA_LINKINFO] = MNL_TYPE_NESTED, [IFLA_STATS64] = MNL_TYPE_BINARY,
		[IFLA_NUM_RX_QUEUES] = MNL_TYPE_U32,
	};
	const struct nlattr *tb[IFLA_NUM_RX_QUEUES + 1];
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct links_dump *d = data;
	struct rtnl_link_stats64 st = { 0 };
	struct nic_link l = { 0 };
	char err[160];

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	if (nl_msg_parse(nlh, sizeof(*ifi), policy, ARRAY_SIZE(policy), tb, "RTM_GETLINK dump", err,
			 sizeof(err)))
		return nl_bad_reply(err);
	if (!tb[IFLA_IFNAME])
		return 0;
	snprintf(l.name, sizeof(l.name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	l.ifindex = (unsigned int)ifi->ifi_index;
	l.loopback = ifi->ifi_flags & IFF_LOOPBACK;
	l.mtu = tb[IFLA_MTU] ? mnl_attr_get_u32(tb[IFLA_MTU]) : 0;
	l.rx_queues = tb[IFLA_NUM_RX_QUEUES] ? mnl_attr_get_u32(tb[IFLA_NUM_RX_QUEUES]) : 0;
	if (tb[IFLA_LINKINFO])
		link_kind(tb[IFLA_LINKINFO], &l);
	if (tb[IFLA_STATS64]) {
		/* an older kernel's struct is a prefix of ours */
		size_t len = mnl_attr_get_payload_len(tb[IFLA_STATS64]);

		memcpy(&st, mnl_attr_get_payload(tb[IFLA_STATS64]), len < sizeof(st) ? len : sizeof(st));
		l.have_stats = true;
	}
	l.rx_packets = st.rx_packets;
	l.rx_dropped = st.rx_dropped;
	l.rx_missed = st.rx_missed_errors;
	l.rx_fifo = st.rx_fifo_errors;
	return d->cb(&l, d->data);
}

int nic_links(struct nic *n, nic_link_cb cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct links_dump d = { .cb = cb, .data = data };
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	return nl_talk(n, n->rt, nlh, links_cb, &d, NULL, 0);
}

/* ---- features ---- */

struct feat_reply {
	const struct feat_group *g;
	bool hw[FEAT_MAX_BITS], wanted[FEAT_MAX_BITS], active[FEAT_MAX_BITS];
	bool seen;
};

static int group_index(const struct feat_group *g, const char *name)
{
	for (int i = 0; i < FEAT_MAX_BITS && g->bits[i]; i++)
		if (!strcmp(g->bits[i], name))
			return i;
	return -1;
}

/* A verbose bitset: BITS { BIT { INDEX, NAME, VALUE? } ... }.  With NOMASK
 * the listed bits are the set ones; otherwise VALUE says. */
static int bitset_parse(const struct nlattr *set, const struct feat_group *g, bool *out,
			char *err, size_t errlen)
{
	static const enum mnl_attr_data_type set_policy[NL_TB_MAX] = {
		[ETHTOOL_A_BITSET_NOMASK] = MNL_TYPE_FLAG,
		[ETHTOOL_A_BITSET_BITS] = MNL_TYPE_NESTED,
	};
	static const enum mnl_attr_data_type bits_policy[NL_TB_MAX] = {
		[ETHTOOL_A_BITSET_BITS_BIT] = MNL_TYPE_NESTED,
	};
	static const enum mnl_attr_data_type bit_policy[NL_TB_MAX] = {
		[ETHTOOL_A_BITSET_BIT_INDEX] = MNL_TYPE_U32,
		[ETHTOOL_A_BITSET_BIT_NAME] = MNL_TYPE_NUL_STRING,
		[ETHTOOL_A_BITSET_BIT_VALUE] = MNL_TYPE_FLAG,
	};
	const struct nlattr *tb[NL_TB_MAX], *tbits[NL_TB_MAX], *tbit[NL_TB_MAX], *b;
	int e;

	e = nl_nest_parse(set, set_policy, NL_TB_MAX, tb, "feature bitset", err, errlen);
	if (e || !tb[ETHTOOL_A_BITSET_BITS])
		return e;
	/* Checks every BIT of the list (tbits keeps only the last of them)... */
	e = nl_nest_parse(tb[ETHTOOL_A_BITSET_BITS], bits_policy, NL_TB_MAX, tbits,
			  "feature bitset bits", err, errlen);
	if (e)
		return e;
	/* ...so that walking the list reads only checked attributes. */
	mnl_attr_for_each_nested(b, tb[ETHTOOL_A_BITSET_BITS]) {
		int i;

		if (mnl_attr_get_type(b) != ETHTOOL_A_BITSET_BITS_BIT)
			continue;
		e = nl_nest_parse(b, bit_policy, NL_TB_MAX, tbit, "feature bit", err, errlen);
		if (e)
			return e;
		if (!tbit[ETHTOOL_A_BITSET_BIT_NAME])
			continue;
		i = group_index(g, mnl_attr_get_str(tbit[ETHTOOL_A_BITSET_BIT_NAME]));
		if (i >= 0)
			out[i] = tb[ETHTOOL_A_BITSET_NOMASK] || tbit[ETHTOOL_A_BITSET_BIT_VALUE];
	}
	return 0;
}

static int feat_cb(const struct nlmsghdr *nlh, void *data)
{
	static const enum mnl_attr_data_type policy[NL_TB_MAX] = {
		[ETHTOOL_A_FEATURES_HW] = MNL_TYPE_NESTED,
		[ETHTOOL_A_FEATURES_WANTED] = MNL_TYPE_NESTED,
		[ETHTOOL_A_FEATURES_ACTIVE] = MNL_TYPE_NESTED,
	};
	const struct nlattr *tb[NL_TB_MAX];
	struct feat_reply *r = data;
	char err[160];

	if (nl_msg_parse(nlh, sizeof(struct genlmsghdr), policy, NL_TB_MAX, tb,
			 "ETHTOOL_MSG_FEATURES_GET", err, sizeof(err)) ||
	    (tb[ETHTOOL_A_FEATURES_HW] &&
	     bitset_parse(tb[ETHTOOL_A_FEATURES_HW], r->g, r->hw, err, sizeof(err))) ||
	    (tb[ETHTOOL_A_FEATURES_WANTED] &&
	     bitset_parse(tb[ETHTOOL_A_FEATURES_WANTED], r->g, r->wanted, err, sizeof(err))) ||
	    (tb[ETHTOOL_A_FEATURES_ACTIVE] &&
	     bitset_parse(tb[ETHTOOL_A_FEATURES_ACTIVE], r->g, r->active, err, sizeof(err))))
		return nl_bad_reply(err);
	r->seen = true;
	return 0;
}

static int feat_get(struct nic *n, const char *ifname, const struct feat_group *g,
		    struct feat_reply *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	memset(r, 0, sizeof(*r));
	r->g = g;
	if (!n->ethtool_family)
		return -EOPNOTSUPP;
	return nl_talk(n, n->gen, ethtool_req(n, buf, ETHTOOL_MSG_FEATURES_GET, ifname),
		       feat_cb, r, NULL, 0);
}

/* "bit=on,bit=off" of the changeable bits. */
static int feat_format(const struct feat_reply *r, const bool *state, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < FEAT_MAX_BITS && r->g->bits[i]; i++) {
		int k;

		if (!r->hw[i])
			continue;
		k = snprintf(buf + off, len - off, "%s%s=%s", off ? "," : "", r->g->bits[i],
			     state[i] ? "on" : "off");
		if (k < 0 || (size_t)k >= len - off)
			return -E2BIG;
		off += k;
	}
	return off ? 0 : -EOPNOTSUPP;
}

/* ---- interrupt coalescing ---- */

static const struct coal_param {
	enum tune_kind kind;
	uint16_t attr;
	bool flag;		/* u8 on/off; else a u32 */
} coal_params[] = {
	{ TK_COAL_RX_USECS, ETHTOOL_A_COALESCE_RX_USECS, false },
	{ TK_COAL_TX_USECS, ETHTOOL_A_COALESCE_TX_USECS, false },
	{ TK_COAL_RX_FRAMES, ETHTOOL_A_COALESCE_RX_MAX_FRAMES, false },
	{ TK_COAL_TX_FRAMES, ETHTOOL_A_COALESCE_TX_MAX_FRAMES, false },
	{ TK_COAL_ADAPTIVE_RX, ETHTOOL_A_COALESCE_USE_ADAPTIVE_RX, true },
	{ TK_COAL_ADAPTIVE_TX, ETHTOOL_A_COALESCE_USE_ADAPTIVE_TX, true },
};

static const struct coal_param *coal_param_of(enum tune_kind k)
{
	for (size_t i = 0; i < ARRAY_SIZE(coal_params); i++)
		if (coal_params[i].kind == k)
			return &coal_params[i];
	return NULL;
}

struct coal_reply {
	const struct coal_param *p;
	bool seen, has;
	uint32_t v;
};

static int coal_cb(const struct nlmsghdr *nlh, void *data)
{
	static const enum mnl_attr_data_type policy[NL_TB_MAX] = {
		[ETHTOOL_A_COALESCE_RX_USECS] = MNL_TYPE_U32,
		[ETHTOOL_A_COALESCE_TX_USECS] = MNL_TYPE_U32,
		[ETHTOOL_A_COALESCE_RX_MAX_FRAMES] = MNL_TYPE_U32,
		[ETHTOOL_A_COALESCE_TX_MAX_FRAMES] = MNL_TYPE_U32,
		[ETHTOOL_A_COALESCE_USE_ADAPTIVE_RX] = MNL_TYPE_U8,
		[ETHTOOL_A_COALESCE_USE_ADAPTIVE_TX] = MNL_TYPE_U8,
	};
	const struct nlattr *tb[NL_TB_MAX];
	struct coal_reply *r = data;
	char err[160];

	if (nl_msg_parse(nlh, sizeof(struct genlmsghdr), policy, NL_TB_MAX, tb,
			 "ETHTOOL_MSG_COALESCE_GET", err, sizeof(err)))
		return nl_bad_reply(err);
	r->seen = true;
	/* The kernel leaves out a parameter the driver does not support
	 * (unless it is non-zero): absent is "not supported". */
	if (tb[r->p->attr]) {
		r->has = true;
		r->v = r->p->flag ? mnl_attr_get_u8(tb[r->p->attr]) : mnl_attr_get_u32(tb[r->p->attr]);
	}
	return 0;
}

static int not_supported(const char *ifname, const char *what, int e, char *err, size_t errlen);

static int coal_read(struct nic *n, const struct tune_item *it, const struct coal_param *p,
		     char *buf, size_t len, char *err, size_t errlen)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct coal_reply r = { .p = p };
	int e;

	if (!n->ethtool_family)
		return not_supported(it->ifname, tune_kind_name(it->kind), -EOPNOTSUPP, err, errlen);
	e = nl_talk(n, n->gen, ethtool_req(n, req, ETHTOOL_MSG_COALESCE_GET, it->ifname), coal_cb,
		    &r, NULL, 0);
	if (e == -ENODEV) {
		snprintf(err, errlen, "%s: no such interface in this network namespace", it->ifname);
		return e;
	}
	if (e)
		return not_supported(it->ifname, tune_kind_name(it->kind), e, err, errlen);
	if (!r.has) {
		snprintf(err, errlen, "%s: %s not supported by this device (the driver does not "
			 "report it)", it->ifname, tune_kind_name(it->kind));
		return -EOPNOTSUPP;
	}
	if (p->flag)
		snprintf(buf, len, "%s", r.v ? "on" : "off");
	else
		snprintf(buf, len, "%u", r.v);
	return 0;
}

static int coal_write(struct nic *n, const struct tune_item *it, const struct coal_param *p,
		      const char *val, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], msg[256];
	struct nlmsghdr *nlh;
	uint64_t v;
	int e;

	if (p->flag && (!strcmp(val, "on") || !strcmp(val, "off"))) {
		v = !strcmp(val, "on");
	} else if (p->flag || parse_u64(val, 0, UINT32_MAX, &v)) {
		snprintf(err, errlen, "%s %s: '%s' is not %s", it->ifname, tune_kind_name(it->kind), val,
			 p->flag ? "on or off" : "a number of 0-4294967295");
		return -EINVAL;
	}
	if (!n->ethtool_family)
		return not_supported(it->ifname, tune_kind_name(it->kind), -EOPNOTSUPP, err, errlen);
	nlh = ethtool_req(n, buf, ETHTOOL_MSG_COALESCE_SET, it->ifname);
	if (p->flag)
		mnl_attr_put_u8(nlh, p->attr, (uint8_t)v);
	else
		mnl_attr_put_u32(nlh, p->attr, (uint32_t)v);
	e = nl_talk(n, n->gen, nlh, NULL, NULL, msg, sizeof(msg));
	if (e)
		snprintf(err, errlen, "%s %s = %s: %s%s%s", it->ifname, tune_kind_name(it->kind), val,
			 strerror(-e), msg[0] ? ": " : "", msg);
	return e;
}

/* ---- what each setting's value is ---- */

enum nic_vtype { NV_COUNT, NV_U32, NV_ONOFF, NV_QUEUE };

static enum nic_vtype vtype_of(enum tune_kind k)
{
	const struct coal_param *p = coal_param_of(k);

	if (feat_group_of(k) || (p && p->flag))
		return NV_ONOFF;
	if (p)
		return NV_U32;
	if (nicq_kind(k))
		return NV_QUEUE;
	return NV_COUNT;
}

bool nic_kind_is_feature(enum tune_kind k)
{
	return feat_group_of(k) != NULL;
}

const char *nic_setting_names(void)
{
	static char names[256];
	size_t off = 0;

	if (!names[0])
		for (int k = TK_SYSCTL + 1; k < TK_MAX; k++)
			(void)str_appendf(names, sizeof(names), &off, "%s%s", off ? ", " : "",
					  tune_kind_name(k));
	return names;
}

int nic_value_norm(enum tune_kind k, const char *in, char *out, size_t len, char *err,
		   size_t errlen)
{
	static const char *const on[] = { "on", "yes", "true", "1" }, *const off[] = { "off", "no", "false", "0" };
	uint64_t v;

	switch (vtype_of(k)) {
	case NV_ONOFF:
		for (size_t i = 0; i < ARRAY_SIZE(on); i++) {
			if (!strcasecmp(in, on[i]) || !strcasecmp(in, off[i])) {
				snprintf(out, len, "%s", !strcasecmp(in, on[i]) ? "on" : "off");
				return 0;
			}
		}
		snprintf(err, errlen, "'%s' is not on or off", in);
		return -EINVAL;
	case NV_U32:
		if (parse_u64(in, 0, UINT32_MAX, &v)) {
			snprintf(err, errlen, "'%s' is not a number of 0-4294967295", in);
			return -EINVAL;
		}
		snprintf(out, len, "%llu", (unsigned long long)v);
		return 0;
	case NV_QUEUE:
		out[0] = '\0';
		return nicq_value_norm(k, in, out, len, err, errlen);
	default:
		if (parse_u64(in, 1, UINT32_MAX, &v)) {
			snprintf(err, errlen, "'%s' is not a positive number", in);
			return -EINVAL;
		}
		snprintf(out, len, "%s", in);
		return 0;
	}
}

/* The namespace's sysfs, opened on first use (nic_open runs in the
 * namespace the settings are in). */
static int nic_sysfs(struct nic *n, char *err, size_t errlen)
{
	if (n->sysfs < 0)
		return nicq_sysfs_open(&n->sysfs, err, errlen);
	return 0;
}

int nic_target(struct nic *n, const struct tune_item *it, char *out, size_t len, char *err,
	       size_t errlen)
{
	int e;

	if (!nicq_kind(it->kind)) {
		snprintf(out, len, "%s", it->value);
		return 0;
	}
	e = nic_sysfs(n, err, errlen);
	return e ? e : nicq_target(n->sysfs, it, out, len, err, errlen);
}

/* ---- the tune_item interface ---- */

static const char *kind_word(enum tune_kind k)
{
	return tune_kind_name(k);
}

int nic_check_count(const char *what, uint64_t v, uint32_t max, char *err, size_t errlen)
{
	if (!max) {
		snprintf(err, errlen, "%s: not supported by this device (maximum 0)", what);
		return -EOPNOTSUPP;
	}
	if (!v || v > max) {
		snprintf(err, errlen, "%s: %llu is over the device maximum %u%s", what,
			 (unsigned long long)v, max, v ? "" : " (0 is not allowed)");
		return -ERANGE;
	}
	return 0;
}

static int not_supported(const char *ifname, const char *what, int e, char *err, size_t errlen)
{
	if (e == -EBADMSG) {	/* not the device's doing: an error, not a skip */
		snprintf(err, errlen, "%s: %s: the kernel's reply could not be parsed (see the warning above)",
			 ifname, what);
		return e;
	}
	snprintf(err, errlen, "%s: %s not supported by this device (%s)", ifname, what,
		 e == -EOPNOTSUPP ? "the driver does not implement it" : strerror(-e));
	return -EOPNOTSUPP;
}

int nic_read(struct nic *n, const struct tune_item *it, char *buf, size_t len, char *err, size_t errlen)
{
	const struct feat_group *g = feat_group_of(it->kind);
	const struct coal_param *cp = coal_param_of(it->kind);
	struct nic_state st;
	uint32_t v = 0;
	int e;

	if (cp)
		return coal_read(n, it, cp, buf, len, err, errlen);
	if (nicq_kind(it->kind)) {
		e = nic_sysfs(n, err, errlen);
		return e ? e : nicq_read(n->sysfs, it, buf, len, err, errlen);
	}
	if (g) {
		struct feat_reply r;

		e = feat_get(n, it->ifname, g, &r);
		if (e)
			return not_supported(it->ifname, kind_word(it->kind), e, err, errlen);
		e = feat_format(&r, r.wanted, buf, len);
		if (e == -EOPNOTSUPP) {
			snprintf(err, errlen, "%s: %s not supported by this device (fixed: not changeable)",
				 it->ifname, kind_word(it->kind));
		}
		return e;
	}
	e = nic_get(n, it->ifname, &st);
	if (e) {
		snprintf(err, errlen, "%s: %s", it->ifname, e == -ENODEV ?
			 "no such interface in this network namespace" : strerror(-e));
		return e;
	}
	switch (it->kind) {
	case TK_MTU: v = st.mtu; break;
	case TK_RING_RX:
	case TK_RING_TX:
		if (!st.have_rings)
			return not_supported(it->ifname, "rings", st.rings_err, err, errlen);
		v = it->kind == TK_RING_RX ? st.rx : st.tx;
		break;
	case TK_CH_COMBINED:
	case TK_CH_RX:
	case TK_CH_TX:
		if (!st.have_channels)
			return not_supported(it->ifname, "channels", st.channels_err, err, errlen);
		v = it->kind == TK_CH_RX ? st.ch_rx : it->kind == TK_CH_TX ? st.ch_tx : st.ch_comb;
		break;
	default:
		return -EINVAL;
	}
	snprintf(buf, len, "%u", v);
	return 0;
}

int nic_check(struct nic *n, const struct tune_item *it, char *err, size_t errlen)
{
	const struct feat_group *g = feat_group_of(it->kind);
	char what[64], cur[TUNE_VAL_LEN];
	struct nic_state st;
	uint64_t v;
	int e;

	snprintf(what, sizeof(what), "%s %s", it->ifname, kind_word(it->kind));
	if (nicq_kind(it->kind)) {
		e = nic_sysfs(n, err, errlen);
		return e ? e : nicq_check(n->sysfs, it, err, errlen);
	}
	if (coal_param_of(it->kind)) {
		char why[160];

		if (nic_value_norm(it->kind, it->value, cur, sizeof(cur), why, sizeof(why))) {
			snprintf(err, errlen, "%s: %s", what, why);
			return -EINVAL;
		}
		return nic_read(n, it, cur, sizeof(cur), err, errlen);
	}
	if (g) {
		if (strcmp(it->value, "on") && strcmp(it->value, "off")) {
			snprintf(err, errlen, "%s: '%s' is not on or off", what, it->value);
			return -EINVAL;
		}
		return nic_read(n, it, cur, sizeof(cur), err, errlen);
	}
	if (parse_u64(it->value, 0, UINT32_MAX, &v)) {
		snprintf(err, errlen, "%s: '%s' is not a number", what, it->value);
		return -EINVAL;
	}
	e = nic_get(n, it->ifname, &st);
	if (e) {
		snprintf(err, errlen, "%s: %s", it->ifname, e == -ENODEV ?
			 "no such interface in this network namespace" : strerror(-e));
		return e == -ENODEV ? -ENODEV : e;
	}
	switch (it->kind) {
	case TK_MTU:
		if (v < st.min_mtu || (st.max_mtu && v > st.max_mtu)) {
			snprintf(err, errlen, "%s: %llu is outside the device's range %u-%u", what,
				 (unsigned long long)v, st.min_mtu, st.max_mtu);
			return -ERANGE;
		}
		return 0;
	case TK_RING_RX:
	case TK_RING_TX:
		if (!st.have_rings)
			return not_supported(it->ifname, "rings", st.rings_err, err, errlen);
		return nic_check_count(what, v, it->kind == TK_RING_RX ? st.rx_max : st.tx_max,
				       err, errlen);
	case TK_CH_COMBINED:
	case TK_CH_RX:
	case TK_CH_TX:
		if (!st.have_channels)
			return not_supported(it->ifname, "channels", st.channels_err, err, errlen);
		return nic_check_count(what, v, it->kind == TK_CH_RX ? st.ch_rx_max :
				       it->kind == TK_CH_TX ? st.ch_tx_max : st.ch_comb_max, err, errlen);
	default:
		return -EINVAL;
	}
}

static int feat_write(struct nic *n, const struct tune_item *it, const struct feat_group *g,
		      const char *val, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], msg[256], want[TUNE_VAL_LEN];
	bool target[FEAT_MAX_BITS] = { 0 }, all = false, on = false;
	struct feat_reply r;
	struct nlmsghdr *nlh;
	struct nlattr *set, *bits, *bit;
	int e;

	e = feat_get(n, it->ifname, g, &r);
	if (e)
		return not_supported(it->ifname, kind_word(it->kind), e, err, errlen);
	if (!strcmp(val, "on") || !strcmp(val, "off")) {
		all = true;
		on = !strcmp(val, "on");
	}
	for (int i = 0; i < FEAT_MAX_BITS && g->bits[i]; i++) {
		char pat[64];
		const char *p;

		if (all) {
			target[i] = on;
			continue;
		}
		snprintf(pat, sizeof(pat), "%s=", g->bits[i]);
		p = strstr(val, pat);
		target[i] = p ? !strncmp(p + strlen(pat), "on", 2) : r.wanted[i];
	}
	nlh = ethtool_req(n, buf, ETHTOOL_MSG_FEATURES_SET, it->ifname);
	set = mnl_attr_nest_start(nlh, ETHTOOL_A_FEATURES_WANTED);
	bits = mnl_attr_nest_start(nlh, ETHTOOL_A_BITSET_BITS);
	for (int i = 0; i < FEAT_MAX_BITS && g->bits[i]; i++) {
		if (!r.hw[i])
			continue;	/* fixed bits cannot be asked for */
		bit = mnl_attr_nest_start(nlh, ETHTOOL_A_BITSET_BITS_BIT);
		mnl_attr_put_strz(nlh, ETHTOOL_A_BITSET_BIT_NAME, g->bits[i]);
		if (target[i])
			mnl_attr_put(nlh, ETHTOOL_A_BITSET_BIT_VALUE, 0, NULL);
		mnl_attr_nest_end(nlh, bit);
	}
	mnl_attr_nest_end(nlh, bits);
	mnl_attr_nest_end(nlh, set);
	e = nl_talk(n, n->gen, nlh, NULL, NULL, msg, sizeof(msg));
	if (e) {
		snprintf(err, errlen, "%s %s: %s%s%s", it->ifname, kind_word(it->kind), strerror(-e),
			 msg[0] ? ": " : "", msg);
		return e;
	}
	/* The kernel accepts what it cannot honour (dependencies between
	 * features); check that the device really does what was asked. */
	e = feat_get(n, it->ifname, g, &r);
	if (e)
		return e;
	for (int i = 0; i < FEAT_MAX_BITS && g->bits[i]; i++) {
		if (r.hw[i] && r.active[i] != target[i]) {
			feat_format(&r, r.active, want, sizeof(want));
			snprintf(err, errlen, "%s %s: the device did not take %s=%s (active: %s)",
				 it->ifname, kind_word(it->kind), g->bits[i], target[i] ? "on" : "off", want);
			return -EIO;
		}
	}
	return 0;
}

int nic_write(struct nic *n, const struct tune_item *it, const char *val, char *err, size_t errlen)
{
	const struct feat_group *g = feat_group_of(it->kind);
	char buf[MNL_SOCKET_BUFFER_SIZE], msg[256];
	struct nlmsghdr *nlh;
	unsigned int idx;
	uint64_t v;
	int e, attr;

	if (g)
		return feat_write(n, it, g, val, err, errlen);
	if (coal_param_of(it->kind))
		return coal_write(n, it, coal_param_of(it->kind), val, err, errlen);
	if (nicq_kind(it->kind)) {
		e = nic_sysfs(n, err, errlen);
		return e ? e : nicq_write(n->sysfs, it, val, err, errlen);
	}
	if (parse_u64(val, 0, UINT32_MAX, &v)) {
		snprintf(err, errlen, "%s %s: '%s' is not a number", it->ifname, kind_word(it->kind), val);
		return -EINVAL;
	}
	e = ifname_to_index(it->ifname, &idx);
	if (e) {
		snprintf(err, errlen, "%s: no such interface in this network namespace", it->ifname);
		return e;
	}
	if (it->kind == TK_MTU) {
		struct ifinfomsg *ifi;

		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_SETLINK;
		nlh->nlmsg_flags = NLM_F_REQUEST;
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_family = AF_UNSPEC;
		ifi->ifi_index = (int)idx;
		mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)v);
		e = nl_talk(n, n->rt, nlh, NULL, NULL, msg, sizeof(msg));
	} else {
		uint8_t cmd;

		switch (it->kind) {
		case TK_RING_RX: cmd = ETHTOOL_MSG_RINGS_SET; attr = ETHTOOL_A_RINGS_RX; break;
		case TK_RING_TX: cmd = ETHTOOL_MSG_RINGS_SET; attr = ETHTOOL_A_RINGS_TX; break;
		case TK_CH_RX: cmd = ETHTOOL_MSG_CHANNELS_SET; attr = ETHTOOL_A_CHANNELS_RX_COUNT; break;
		case TK_CH_TX: cmd = ETHTOOL_MSG_CHANNELS_SET; attr = ETHTOOL_A_CHANNELS_TX_COUNT; break;
		case TK_CH_COMBINED:
			cmd = ETHTOOL_MSG_CHANNELS_SET;
			attr = ETHTOOL_A_CHANNELS_COMBINED_COUNT;
			break;
		default:
			return -EINVAL;
		}
		if (!n->ethtool_family)
			return not_supported(it->ifname, kind_word(it->kind), -EOPNOTSUPP, err, errlen);
		nlh = ethtool_req(n, buf, cmd, it->ifname);
		mnl_attr_put_u32(nlh, attr, (uint32_t)v);
		e = nl_talk(n, n->gen, nlh, NULL, NULL, msg, sizeof(msg));
	}
	if (e)
		snprintf(err, errlen, "%s %s = %s: %s%s%s", it->ifname, kind_word(it->kind), val,
			 strerror(-e), msg[0] ? ": " : "", msg);
	return e;
}
