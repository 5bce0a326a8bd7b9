// SPDX-License-Identifier: GPL-2.0-only
/*
 * netacct: per-interface, per-direction fragment, MTU and PMTU accounting
 * (bpf/netacct.bpf.c, bpf/netacct_xdp.bpf.c, bpf/netacct.bpf.h).
 *
 * Per interface:
 *   ingress  chosen by --ingress (auto by default, see ingress_attach()):
 *            the XDP program, one program of libxdp's multiprog dispatcher
 *            (native mode where the driver has it, generic (skb) otherwise;
 *            always generic on lo), so other XDP programs keep running;
 *            or a cls_bpf filter on the clsact ingress hook: on veth
 *            devices, where XDP costs the peer its GSO, and where no XDP
 *            program can be added (another owner attached one without
 *            libxdp's dispatcher);
 *   egress   a cls_bpf filter on the clsact egress hook.
 *
 * Neither tc filters nor libxdp's dispatcher links are bpf_links accelctl
 * can pin, so what was attached (tc priority/handle/program id, libxdp
 * program id and mode, whether accelctl created the clsact qdisc) is
 * recorded in <state-dir>/netacct, one line per interface, rewritten after
 * every step; detach removes exactly those objects after checking that they
 * are still the ones accelctl attached.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "accel.h"
#include "accel_abi.h"
#include "bpfutil.h"
#include "log.h"
#include "opts.h"
#include "state.h"
#include "status_model.h"
#include "sysenv.h"

#ifdef __clang_analyzer__
/* `make check`: the analyzer cannot see into libbpf and reports the
 * generated skeleton's error path as a leak; model what libbpf frees. */
static inline void analyzer_destroy_skeleton(struct bpf_object_skeleton *s)
{
	if (s) {
		free(s->maps);
		free(s->progs);
		free(s);
	}
}
#define bpf_object__destroy_skeleton analyzer_destroy_skeleton
#endif

#include "netacct.skel.h"
#include "netacct_xdp.skel.h"

#define STATE_FILE	"netacct"
_Static_assert(ACCEL_MAX_IFACES <= NETACCT_MAX_IFACES, "every --iface needs a counters slot");
/* Our cls_bpf filters: priority 1 (first, so the accounting sees a packet
 * before a later filter drops or redirects it) or the next free one. */
#define TC_PRIO_FIRST	1
#define TC_PRIO_LAST	32
#define TC_HANDLE	0xacce1
/* libxdp run priority: before programs at the default (50) for the same
 * reason; we always return XDP_PASS, which chain-calls the next program. */
#define XDP_RUN_PRIO	10

enum ingress_hook {
	HOOK_NONE = 0,
	HOOK_XDP_NATIVE,
	HOOK_XDP_SKB,
	HOOK_TC,
};

static const char *const hook_names[] = { "none", "xdp-native", "xdp-generic", "tc" };

/* Why an interface's ingress hook is what it is (recorded, shown by status). */
enum ingress_why {
	WHY_NONE = 0,
	WHY_OPTION,		/* --ingress xdp / --ingress tc */
	WHY_AUTO_XDP,		/* auto: XDP could be added */
	WHY_AUTO_VETH,		/* auto: veth, XDP would turn GSO off on the peer */
	WHY_AUTO_NO_XDP,	/* auto: no XDP program could be added */
};

static const char *const why_names[] = { "none", "requested", "auto", "auto-veth", "auto-no-xdp" };

/* How the programs follow MTU changes after attach (rodata live_mtu and
 * mtu_from_dev, see netacct.bpf.h). */
enum live_mtu {
	LIVE_MTU_OFF = 0,	/* the MTU read at attach, kept */
	LIVE_MTU_HELPER,	/* bpf_check_mtu() per packet */
	LIVE_MTU_DEV,		/* the device's mtu field, through bpf_cast_to_kern_ctx() */
};

static void set_live_mtu(bool *live, bool *from_dev, enum live_mtu how)
{
	*live = how != LIVE_MTU_OFF;
	*from_dev = how == LIVE_MTU_DEV;
}

struct tc_rec {
	__u32 prio, handle, prog_id;
};

struct iface_rec {
	char name[IF_NAMESIZE];
	__u32 ifindex;
	__u32 mtu;
	enum ingress_hook ingress;
	enum ingress_why why;
	__u32 xdp_prog_id;
	struct tc_rec tc_egress, tc_ingress;
	bool clsact_created;
	__u32 slot;		/* index in netacct_ifaces/_counters; not recorded */
};

struct netacct_state {
	int n;
	struct iface_rec ifs[ACCEL_MAX_IFACES];
};

static const struct accel_feature *self(void)
{
	return feature_by_name("netacct");
}

/* ---- state record ----------------------------------------------------- */

static int state_path(const struct accel_ctx *ctx, char *buf, size_t len)
{
	return path_join(buf, len, ctx->state_dir, STATE_FILE);
}

#define IF_FIELD_U32(k, m) STATE_F_U64(k, struct iface_rec, m, STATE_REQUIRED, 0, 0)
static const struct state_field iface_fields[] = {
	STATE_F_STR("iface", struct iface_rec, name, STATE_REQUIRED),
	STATE_F_U64("ifindex", struct iface_rec, ifindex, STATE_REQUIRED, 1, UINT32_MAX),
	IF_FIELD_U32("mtu", mtu),
	STATE_F_ENUM("ingress", struct iface_rec, ingress, STATE_REQUIRED, hook_names),
	STATE_F_ENUM("ingress_reason", struct iface_rec, why, STATE_REQUIRED, why_names),
	IF_FIELD_U32("xdp_prog", xdp_prog_id),
	IF_FIELD_U32("tc_egress_prio", tc_egress.prio),
	IF_FIELD_U32("tc_egress_handle", tc_egress.handle),
	IF_FIELD_U32("tc_egress_prog", tc_egress.prog_id),
	IF_FIELD_U32("tc_ingress_prio", tc_ingress.prio),
	IF_FIELD_U32("tc_ingress_handle", tc_ingress.handle),
	IF_FIELD_U32("tc_ingress_prog", tc_ingress.prog_id),
	STATE_F_BOOL("clsact_created", struct iface_rec, clsact_created, STATE_REQUIRED),
};

static const struct state_group iface_group = {
	.fields = iface_fields, .nfields = ARRAY_SIZE(iface_fields),
	.off = offsetof(struct netacct_state, ifs), .size = sizeof(struct iface_rec),
	.max = ACCEL_MAX_IFACES, .count_off = offsetof(struct netacct_state, n),
};

static int parse_tc_rec(const char *v, struct tc_rec *t)
{
	return sscanf(v, "%u:%x:%u", &t->prio, &t->handle, &t->prog_id) == 3 ? 0 : -EINVAL;
}

/* One version-0 interface line: "iface=NAME ifindex=N ... clsact_created=0|1". */
static void legacy_iface(char *line, struct iface_rec *r, bool *ok)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *v = strchr(tok, '=');

		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(tok, "iface")) {
			snprintf(r->name, sizeof(r->name), "%s", v);
			*ok = true;
		} else if (!strcmp(tok, "ifindex")) {
			r->ifindex = strtoul(v, NULL, 10);
		} else if (!strcmp(tok, "mtu")) {
			r->mtu = strtoul(v, NULL, 10);
		} else if (!strcmp(tok, "ingress")) {
			for (size_t h = 0; h < ARRAY_SIZE(hook_names); h++)
				if (!strcmp(v, hook_names[h]))
					r->ingress = h;
		} else if (!strcmp(tok, "ingress_reason")) {
			for (size_t w = 0; w < ARRAY_SIZE(why_names); w++)
				if (!strcmp(v, why_names[w]))
					r->why = w;
		} else if (!strcmp(tok, "xdp_prog")) {
			r->xdp_prog_id = strtoul(v, NULL, 10);
		} else if (!strcmp(tok, "tc_egress")) {
			parse_tc_rec(v, &r->tc_egress);
		} else if (!strcmp(tok, "tc_ingress")) {
			parse_tc_rec(v, &r->tc_ingress);
		} else if (!strcmp(tok, "clsact_created")) {
			r->clsact_created = atoi(v);
		}
	}
}

/* Version 0, before user/state.c: a comment line, then one line per
 * interface, read as leniently as it always was. */
static int record_legacy(char *text, unsigned int version, void *rec, struct state_err *err)
{
	struct netacct_state *st = rec;
	char *line, *save = NULL;

	if (version)
		return state_fail(err, 1, "netacct record version %u was never written", version);
	for (line = strtok_r(text, "\n", &save); line && st->n < ACCEL_MAX_IFACES;
	     line = strtok_r(NULL, "\n", &save)) {
		struct iface_rec *r = &st->ifs[st->n];
		bool ok = false;

		if (line[0] == '#')
			continue;
		memset(r, 0, sizeof(*r));
		legacy_iface(line, r, &ok);
		if (ok && r->ifindex)
			st->n++;
	}
	return 0;
}

const struct state_kind netacct_record_kind = {
	.name = "netacct", .version = 1,
	.group = &iface_group, .size = sizeof(struct netacct_state), .legacy = record_legacy,
};

static int record_write(const struct accel_ctx *ctx, const struct netacct_state *st)
{
	char path[PATH_MAX];
	int err;

	err = mkdir_p(ctx->state_dir, 0700);
	if (err)
		return err;
	if (state_path(ctx, path, sizeof(path)))
		return -ENAMETOOLONG;
	err = state_write(&netacct_record_kind, path, st);
	if (err)
		pr_err("netacct: cannot write the state record %s: %s\n", path, strerror(-err));
	return err;
}

/* 0, -ENOENT (nothing recorded) or another -errno with err set. */
static int record_read(const struct accel_ctx *ctx, struct netacct_state *st, struct state_err *err)
{
	char path[PATH_MAX];

	memset(st, 0, sizeof(*st));
	if (state_path(ctx, path, sizeof(path))) {
		state_fail(err, 0, "the state dir path is too long");
		return -ENAMETOOLONG;
	}
	return state_read(&netacct_record_kind, path, st, err);
}

static void record_remove(const struct accel_ctx *ctx)
{
	char path[PATH_MAX];

	if (!state_path(ctx, path, sizeof(path)))
		unlink(path);
}

/* ---- interfaces --------------------------------------------------------- */

static int iface_mtu(const char *name, __u32 *mtu)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		err = -errno;
	else
		*mtu = ifr.ifr_mtu;
	close(fd);
	return err;
}

/*
 * The device's driver name ("veth", "ixgbe", ...) as ethtool -i reports it,
 * asked through the ETHTOOL_GDRVINFO ioctl on a socket of the current (that
 * is, the target) network namespace.  Not /sys/class/net/X/device/driver:
 * after setns() the /sys mounted by the caller still shows the namespace it
 * was mounted in.  Devices without drvinfo (lo) give -EOPNOTSUPP.
 */
static int iface_driver(const char *name, char *drv, size_t len)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&info;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = -errno;
	else
		snprintf(drv, len, "%.*s", (int)sizeof(info.driver), info.driver);
	close(fd);
	return err;
}

static bool have_iface(const struct netacct_state *st, const char *name)
{
	for (int i = 0; i < st->n; i++)
		if (!strcmp(st->ifs[i].name, name))
			return true;
	return false;
}

static void add_iface(struct netacct_state *st, const char *name)
{
	if (st->n < ACCEL_MAX_IFACES && !have_iface(st, name) && strlen(name) < IF_NAMESIZE)
		snprintf(st->ifs[st->n++].name, IF_NAMESIZE, "%s", name);
}

/*
 * The interfaces that hold default routes in this namespace.  The kernel's
 * /proc views (per network namespace) are enough: IPv4 lists each default
 * route with its device, IPv6 lists every nexthop of a multipath route as
 * its own line.  Unreachable/blackhole defaults (RTF_REJECT) do not count.
 */
static void default_route_ifaces(struct netacct_state *st)
{
	char line[512], dev[64], dst[64], mask[64], plen[8];
	unsigned int flags;
	FILE *f;

	f = fopen("/proc/net/route", "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%63s %63s %*s %x %*s %*s %*s %63s", dev, dst, &flags, mask) == 4 &&
			    !strcmp(dst, "00000000") && !strcmp(mask, "00000000") &&
			    (flags & 0x1) && !(flags & 0x200))
				add_iface(st, dev);
		fclose(f);
	}
	f = fopen("/proc/net/ipv6_route", "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%63s %7s %*s %*s %*s %*s %*s %*s %x %63s", dst, plen, &flags, dev) == 4 &&
			    !strcmp(dst, "00000000000000000000000000000000") && !strcmp(plen, "00") &&
			    (flags & 0x1) && !(flags & 0x200))
				add_iface(st, dev);
		fclose(f);
	}
}

/* Resolve --iface (or the default set) inside the target namespace; any
 * bad name is a configuration error before anything is attached. */
static int resolve_ifaces(struct accel_ctx *ctx, struct netacct_state *st)
{
	const char *where = ctx->netns ? ctx->netns : "the current namespace";

	memset(st, 0, sizeof(*st));
	if (ctx->attach.nifaces) {
		for (int i = 0; i < ctx->attach.nifaces; i++)
			add_iface(st, ctx->attach.ifaces[i]);
	} else {
		add_iface(st, "lo");
		default_route_ifaces(st);
	}
	for (int i = 0; i < st->n; i++) {
		struct iface_rec *r = &st->ifs[i];
		int err = ifname_to_index(r->name, &r->ifindex);

		if (err == -EINVAL) {
			pr_err("netacct: '%s' is not a valid interface name\n", r->name);
			return -ACCEL_ECONFIG;
		}
		if (err) {
			struct netns_spec ns;
			char why[160], see[128];

			/* ip -n takes names only; nsenter any netns file */
			if (!ctx->netns)
				snprintf(see, sizeof(see), "ip link");
			else if (netns_spec_parse(ctx->netns, &ns, why, sizeof(why)) || ns.kind == NETNS_NAME)
				snprintf(see, sizeof(see), "ip -n %s link", ctx->netns);
			else
				snprintf(see, sizeof(see), "nsenter --net=%s ip link", ns.path);
			pr_err("netacct: no interface '%s' in %s (see `%s`)\n", r->name, where, see);
			return -ACCEL_ECONFIG;
		}
		err = iface_mtu(r->name, &r->mtu);
		if (err) {
			pr_err("netacct: cannot read the MTU of %s: %s\n", r->name, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* ---- tc ------------------------------------------------------------------ */

struct filter_count {
	int n;
};

static int count_filter_cb(const struct nlmsghdr *nlh, void *data)
{
	struct filter_count *fc = data;

	if (nlh->nlmsg_type == RTM_NEWTFILTER)
		fc->n++;
	return MNL_CB_OK;
}

/* Number of filters (any owner) on a clsact hook; -errno on failure. */
static int tc_filters_on(__u32 ifindex, __u32 parent_min)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct filter_count fc = { 0 };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	unsigned int seq = time(NULL), portid;
	int ret;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETTFILTER;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = TC_H_MAKE(TC_H_CLSACT, parent_min);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret <= 0) {
			ret = -1;
			break;
		}
		ret = mnl_cb_run(buf, ret, seq, portid, count_filter_cb, &fc);
		if (ret <= MNL_CB_STOP)
			break;
	}
	/* no clsact qdisc (any more): no filters */
	if (ret < 0)
		ret = errno == EINVAL || errno == ENOENT ? 0 : -errno;
	else
		ret = fc.n;
out:
	mnl_socket_close(nl);
	return ret;
}

static int tc_attach_one(__u32 ifindex, enum bpf_tc_attach_point where, int prog_fd,
			 struct tc_rec *rec)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	int err = -EEXIST;

	for (__u32 prio = TC_PRIO_FIRST; prio <= TC_PRIO_LAST; prio++) {
		LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = TC_HANDLE,
			    .priority = prio);

		/* EEXIST: a filter with this priority and handle exists;
		 * EINVAL: the priority holds filters of another kind or
		 * protocol.  Either way, the next priority. */
		err = bpf_tc_attach(&hook, &opts);
		if (err == -EEXIST || err == -EINVAL)
			continue;
		if (err)
			return err;
		rec->prio = opts.priority;
		rec->handle = opts.handle;
		rec->prog_id = opts.prog_id;
		return 0;
	}
	return err;
}

static int tc_detach_one(const struct iface_rec *r, enum bpf_tc_attach_point where,
			 const struct tc_rec *rec)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = r->ifindex, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = rec->handle, .priority = rec->prio);
	int err;

	if (!rec->prog_id)
		return 0;
	err = bpf_tc_query(&hook, &q);
	if (err == -ENOENT || err == -EINVAL)
		return 0;	/* gone already (qdisc deleted, device reset) */
	if (err)
		return err;
	if (q.prog_id != rec->prog_id) {
		pr_warn("netacct: %s: the tc filter at priority %u handle %#x runs program %u, not ours (%u); left in place\n",
			r->name, rec->prio, rec->handle, q.prog_id, rec->prog_id);
		return 0;
	}
	q.prog_fd = q.prog_id = q.flags = 0;
	return bpf_tc_detach(&hook, &q);
}

/* ---- XDP ----------------------------------------------------------------- */

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list args)
{
	log_lib(level == LIBXDP_WARN, level == LIBXDP_INFO, "libxdp: ", fmt, args);
	return 0;
}

static int xdp_attach_one(const char *pin_dir, enum live_mtu live_mtu, struct iface_rec *r)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = pin_dir);
	static const enum xdp_attach_mode modes[] = { XDP_MODE_NATIVE, XDP_MODE_SKB };
	struct netacct_xdp_bpf *skel;
	struct xdp_program *prog;
	int err = -EOPNOTSUPP;

	for (size_t m = strcmp(r->name, "lo") ? 0 : 1; m < ARRAY_SIZE(modes); m++) {
		/* A fresh object per attempt: a failed libxdp attach may have
		 * loaded it already, and each dispatcher gets its own copy. */
		skel = netacct_xdp_bpf__open_opts(&oopts);
		if (!skel) {
			err = -errno;
			pr_err("netacct: cannot open the XDP BPF object: %s (run with -v for libbpf's reason)\n",
				strerror(-err));
			return err;
		}
		set_live_mtu(&skel->rodata->live_mtu, &skel->rodata->mtu_from_dev, live_mtu);
		skel->rodata->netacct_slot_id = r->slot;
		prog = xdp_program__from_bpf_obj(skel->obj, "xdp");
		err = libxdp_get_error(prog);
		if (err) {
			netacct_xdp_bpf__destroy(skel);
			return err;
		}
		xdp_program__set_run_prio(prog, XDP_RUN_PRIO);
		xdp_program__set_chain_call_enabled(prog, XDP_PASS, true);
		err = xdp_program__attach(prog, r->ifindex, modes[m], 0);
		if (!err) {
			r->xdp_prog_id = xdp_program__id(prog);
			r->ingress = modes[m] == XDP_MODE_NATIVE ? HOOK_XDP_NATIVE : HOOK_XDP_SKB;
		}
		xdp_program__close(prog);
		netacct_xdp_bpf__destroy(skel);
		if (!err)
			return 0;
		pr_debug("netacct: %s: XDP %s mode: %s\n", r->name,
			 modes[m] == XDP_MODE_NATIVE ? "native" : "generic", strerror(-err));
	}
	return err;
}

static int xdp_detach_one(const struct iface_rec *r)
{
	enum xdp_attach_mode mode = r->ingress == HOOK_XDP_NATIVE ? XDP_MODE_NATIVE : XDP_MODE_SKB;
	struct xdp_program *p = NULL;
	struct xdp_multiprog *mp;
	int err;

	mp = xdp_multiprog__get_from_ifindex(r->ifindex);
	err = libxdp_get_error(mp);
	if (err || !mp)
		return err == -ENOENT ? 0 : err;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && xdp_program__id(p) == r->xdp_prog_id)
			err = xdp_multiprog__detach(mp);
		else
			p = NULL;
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
			if (xdp_program__id(p) == r->xdp_prog_id)
				break;
		if (p)
			err = xdp_program__detach(p, r->ifindex, mode, 0);
	}
	if (!p)
		pr_debug("netacct: %s: XDP program %u is not attached any more\n", r->name,
			 r->xdp_prog_id);
	xdp_multiprog__close(mp);
	return err;
}

/* ---- attach / detach ------------------------------------------------------ */

/* Undo one interface; what is already gone is not an error. */
static int iface_detach(struct iface_rec *r)
{
	unsigned int idx;
	int err = 0, e;

	/* The device went away (and took its hooks) or the index now names
	 * another device: nothing of ours is left to remove. */
	if (ifname_to_index(r->name, &idx) || idx != r->ifindex) {
		pr_debug("netacct: %s (ifindex %u) is gone; nothing to detach there\n", r->name,
			 r->ifindex);
		return 0;
	}
	if (r->ingress == HOOK_XDP_NATIVE || r->ingress == HOOK_XDP_SKB) {
		e = xdp_detach_one(r);
		if (e) {
			pr_err("netacct: %s: removing XDP program %u failed: %s\n", r->name,
				r->xdp_prog_id, strerror(-e));
			err = e;
		} else {
			r->ingress = HOOK_NONE;
		}
	}
	e = tc_detach_one(r, BPF_TC_INGRESS, &r->tc_ingress);
	if (!e)
		memset(&r->tc_ingress, 0, sizeof(r->tc_ingress));
	err = err ?: e;
	e = tc_detach_one(r, BPF_TC_EGRESS, &r->tc_egress);
	if (!e)
		memset(&r->tc_egress, 0, sizeof(r->tc_egress));
	err = err ?: e;
	if (e)
		pr_err("netacct: %s: removing the tc filter failed: %s\n", r->name, strerror(-e));
	/* The clsact qdisc goes only if accelctl created it and nobody else
	 * put a filter on it meanwhile: deleting it would delete theirs. */
	if (!err && r->clsact_created && tc_filters_on(r->ifindex, TC_H_MIN_INGRESS) == 0 &&
	    tc_filters_on(r->ifindex, TC_H_MIN_EGRESS) == 0) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = r->ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		e = bpf_tc_hook_destroy(&hook);
		if (e && e != -ENOENT && e != -EINVAL)
			pr_err("netacct: %s: removing the clsact qdisc failed: %s\n", r->name,
				strerror(-e));
		r->clsact_created = false;
	}
	return err;
}

static int detach_recorded(struct accel_ctx *ctx, struct netacct_state *st)
{
	int err = 0;

	for (int i = st->n - 1; i >= 0; i--) {
		int e = iface_detach(&st->ifs[i]);

		if (e)
			err = err ?: e;
	}
	if (err)
		record_write(ctx, st);	/* keep what is left for the next detach */
	return err;
}

/*
 * The interface's slot (accel_abi.h): the one whose configuration already
 * names it (maps reused from an earlier attach's pins keep their counts),
 * else the lowest free one (*fresh: its counters must be zeroed before its
 * configuration is written).  No maps pinned yet: slot 0 of new, zeroed
 * maps.
 */
static int slot_pick(const char *pin_dir, struct iface_rec *r, bool *fresh)
{
	int fd = pinned_obj_get(pin_dir, NETACCT_IFACES_MAP), err = 0;
	__u32 slot, free_slot = NETACCT_MAX_IFACES;
	struct netacct_ifcfg cfg;

	*fresh = true;
	r->slot = 0;
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	for (slot = 0; slot < NETACCT_MAX_IFACES; slot++) {
		if (bpf_map_lookup_elem(fd, &slot, &cfg)) {
			err = -errno;
			goto out;
		}
		if (cfg.ifindex == r->ifindex) {
			r->slot = slot;
			*fresh = false;
			goto out;
		}
		if (!cfg.ifindex && free_slot == NETACCT_MAX_IFACES)
			free_slot = slot;
	}
	if (free_slot == NETACCT_MAX_IFACES)
		err = -ENOSPC;
	r->slot = free_slot;
out:
	close(fd);
	return err;
}

static int slot_zero(int counters_fd, __u32 slot)
{
	void *zero = calloc(ncpus(), sizeof(struct netacct_counters));
	int err = 0;

	if (!zero)
		return -ENOMEM;
	for (__u32 d = 0; d < NETACCT_DIR_MAX && !err; d++) {
		__u32 idx = NETACCT_COUNTERS_INDEX(slot, d);

		if (bpf_map_update_elem(counters_fd, &idx, zero, BPF_ANY))
			err = -errno;
	}
	free(zero);
	return err;
}

static int ifcfg_set(int fd, const struct iface_rec *r)
{
	struct netacct_ifcfg cfg = { .mtu = r->mtu, .ifindex = r->ifindex };

	switch (r->ingress) {
	case HOOK_XDP_NATIVE:
		cfg.flags = NETACCT_IF_XDP;
		break;
	case HOOK_XDP_SKB:
		/* Generic XDP runs after GRO, on skbs whose gso_size XDP
		 * cannot see: a 64 KiB aggregate is not an MTU violation. */
		cfg.flags = NETACCT_IF_XDP | NETACCT_IF_XDP_SKB | NETACCT_IF_NO_RX_MTU;
		break;
	case HOOK_TC:
		cfg.flags = NETACCT_IF_TC_INGRESS;
		break;
	default:
		/* hook not chosen yet: no ingress MTU check until it is */
		cfg.flags = NETACCT_IF_NO_RX_MTU;
		break;
	}
	snprintf(cfg.name, sizeof(cfg.name), "%s", r->name);
	return bpf_map_update_elem(fd, &r->slot, &cfg, BPF_ANY) ? -errno : 0;
}

/* The cheapest way this kernel lets the programs read the device MTU: the
 * bpf_cast_to_kern_ctx() kfunc (in vmlinux BTF from Linux 6.3, for every
 * program type), else the bpf_check_mtu() helper (5.12), else none. */
static enum live_mtu probe_live_mtu(void)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	bool kfunc = false;

	if (vmlinux) {
		kfunc = btf__find_by_name_kind(vmlinux, "bpf_cast_to_kern_ctx", BTF_KIND_FUNC) > 0;
		btf__free(vmlinux);
	}
	if (kfunc)
		return LIVE_MTU_DEV;
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_check_mtu, NULL) > 0 &&
	    libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_check_mtu, NULL) > 0)
		return LIVE_MTU_HELPER;
	return LIVE_MTU_OFF;
}

static int netacct_probe(struct accel_ctx *ctx, char *why, size_t len)
{
	(void)ctx;
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL) <= 0 ||
	    libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) <= 0) {
		snprintf(why, len, "the kernel cannot load tc (sched_cls) or XDP programs (CONFIG_NET_CLS_BPF, CONFIG_BPF_SYSCALL)");
		return -EOPNOTSUPP;
	}
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_load_bytes, NULL) <= 0 ||
	    libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_skb_load_bytes, NULL) <= 0) {
		snprintf(why, len, "the kernel has no bpf_xdp_load_bytes() helper (needs Linux 5.18 or later)");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* attach --dry-run: the interfaces and the ingress hook each would get. */
static int netacct_plan(struct accel_ctx *ctx, FILE *out)
{
	char drv[sizeof(((struct ethtool_drvinfo *)0)->driver) + 1];
	enum accel_ingress want = ctx->attach.ingress;
	struct netacct_state *st = calloc(1, sizeof(*st));
	int err;

	if (!st)
		return -ENOMEM;
	err = resolve_ifaces(ctx, st);
	for (int i = 0; !err && i < st->n; i++) {
		const char *hook;

		drv[0] = '\0';
		if (want == ACCEL_INGRESS_TC)
			hook = "tc (as requested by --ingress)";
		else if (want == ACCEL_INGRESS_XDP)
			hook = "xdp (as requested by --ingress: attach fails if no XDP program can be added)";
		else if (!iface_driver(st->ifs[i].name, drv, sizeof(drv)) && !strcmp(drv, "veth"))
			hook = "tc (auto: veth device, where XDP would turn GSO off on its peer)";
		else
			hook = "xdp, or tc where no XDP program can be added (auto; `accelctl check` says "
			       "whether XDP is shared here)";
		fprintf(out, "netacct: %s: ingress %s, egress tc\n", st->ifs[i].name, hook);
	}
	free(st);
	return err;
}

static const char *why_text(enum ingress_why why)
{
	switch (why) {
	case WHY_OPTION:
		return "as requested by --ingress";
	case WHY_AUTO_XDP:
		return "auto: XDP can be added";
	case WHY_AUTO_VETH:
		return "auto: veth device, where XDP would turn GSO off on its peer";
	case WHY_AUTO_NO_XDP:
		return "auto: no XDP program can be added";
	default:
		return "unknown";
	}
}

/*
 * The ingress hook of one interface.  XDP is the earliest point and sees
 * frames as they came off the wire, but on a veth it is not free: as soon
 * as any XDP program is attached there, the veth driver turns GSO off on the
 * peer device, so TCP into the veth falls back to MTU-sized segments
 * (iperf3: 0.35x throughput with netacct's program and with an empty one,
 * while the tc ingress filter costs under 1 % of a CPU; docs/netacct.md).
 * So auto counts at tc on veth and wherever no XDP program can be added
 * (an owner without libxdp's dispatcher), at XDP elsewhere (lo, NICs).
 * The driver is asked in the target namespace (see iface_driver()).
 */
static int ingress_attach(enum accel_ingress want, const char *pin_dir, enum live_mtu live_mtu,
			  int tc_fd, struct iface_rec *r)
{
	char drv[sizeof(((struct ethtool_drvinfo *)0)->driver) + 1] = "";
	int err;

	if (want == ACCEL_INGRESS_TC) {
		r->why = WHY_OPTION;
	} else if (want == ACCEL_INGRESS_AUTO && !iface_driver(r->name, drv, sizeof(drv)) &&
		   !strcmp(drv, "veth")) {
		r->why = WHY_AUTO_VETH;
	} else {
		err = xdp_attach_one(pin_dir, live_mtu, r);
		if (!err) {
			r->why = want == ACCEL_INGRESS_XDP ? WHY_OPTION : WHY_AUTO_XDP;
			return 0;
		}
		if (want == ACCEL_INGRESS_XDP) {
			/* EEXIST/EBUSY: typically a program attached without
			 * libxdp's dispatcher, which is not ours to replace. */
			pr_err("netacct: %s: --ingress xdp: no XDP program can be added (%s)%s; "
				"use --ingress auto or tc to count ingress at tc\n", r->name, strerror(-err),
				err == -EEXIST || err == -EBUSY ?
				", another XDP program owns the hook without libxdp's dispatcher" : "");
			return err;
		}
		pr_info("netacct: %s: cannot add an XDP program (%s); counting ingress with tc instead\n",
			r->name, strerror(-err));
		r->why = WHY_AUTO_NO_XDP;
	}
	err = tc_attach_one(r->ifindex, BPF_TC_INGRESS, tc_fd, &r->tc_ingress);
	if (err) {
		pr_err("netacct: %s: attaching the tc ingress filter failed: %s\n", r->name,
			strerror(-err));
		return err;
	}
	r->ingress = HOOK_TC;
	return 0;
}

/*
 * The tc programs of one interface: a copy per interface, with its slot in
 * the rodata, so that the data path indexes arrays instead of looking the
 * interface up (accel_abi.h).  The maps are pinned in pin_dir, shared by
 * every copy.
 */
static struct netacct_bpf *tc_load(const char *pin_dir, enum live_mtu live_mtu, __u32 slot, int *err)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = pin_dir);
	struct netacct_bpf *skel = netacct_bpf__open_opts(&oopts);

	if (!skel) {
		*err = -errno;
		pr_err("netacct: cannot open the tc BPF object: %s (run with -v for libbpf's reason)\n",
			strerror(-*err));
		return NULL;
	}
	set_live_mtu(&skel->rodata->live_mtu, &skel->rodata->mtu_from_dev, live_mtu);
	skel->rodata->netacct_slot_id = slot;
	*err = netacct_bpf__load(skel);
	if (*err) {
		pr_err("netacct: loading the tc programs failed: %s (run with -vv for the verifier log)\n",
			strerror(-*err));
		netacct_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/* One interface: its slot, its maps, the clsact qdisc, the egress filter
 * and the ingress hook, recorded at each step (st->n counts it from the
 * qdisc on) so that a rollback undoes exactly what was done. */
static int attach_iface(struct accel_ctx *ctx, struct netacct_state *st, const char *dir,
			enum live_mtu live_mtu, const struct iface_rec *want)
{
	struct iface_rec *r = &st->ifs[st->n];
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = want->ifindex, .attach_point = BPF_TC_EGRESS);
	struct netacct_bpf *skel;
	int err, ifaces_fd;
	bool fresh;

	*r = *want;
	err = slot_pick(dir, r, &fresh);
	if (err) {
		pr_err("netacct: %s: no slot in the pinned maps: %s\n", r->name, strerror(-err));
		return err;
	}
	skel = tc_load(dir, live_mtu, r->slot, &err);
	if (!skel)
		return err;
	/* Map entries first: a program that runs before they exist counts
	 * nothing rather than counting against a wrong MTU. */
	ifaces_fd = bpf_map__fd(skel->maps.netacct_ifaces);
	if (fresh)
		err = slot_zero(bpf_map__fd(skel->maps.netacct_counters), r->slot);
	if (!err)
		err = ifcfg_set(ifaces_fd, r);
	if (err) {
		pr_err("netacct: %s: cannot set up the maps: %s\n", r->name, strerror(-err));
		goto out;
	}
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_err("netacct: %s: cannot create the clsact qdisc: %s\n", r->name, strerror(-err));
		goto out;
	}
	r->clsact_created = !err;
	st->n++;	/* recorded from here on: rollback undoes it */
	err = record_write(ctx, st);
	if (err)
		goto out;
	err = tc_attach_one(r->ifindex, BPF_TC_EGRESS, bpf_program__fd(skel->progs.netacct_tc_egress),
			    &r->tc_egress);
	if (err) {
		pr_err("netacct: %s: attaching the tc egress filter failed: %s\n", r->name, strerror(-err));
		goto out;
	}
	record_write(ctx, st);
	err = ingress_attach(ctx->attach.ingress, dir, live_mtu,
			     bpf_program__fd(skel->progs.netacct_tc_ingress), r);
	if (!err)
		err = ifcfg_set(ifaces_fd, r);
	if (!err)
		err = record_write(ctx, st);
	if (!err)
		pr_info("netacct: %s: ingress %s (%s), egress tc (priority %u), mtu %u\n", r->name,
			hook_names[r->ingress], why_text(r->why), r->tc_egress.prio, r->mtu);
out:
	/* the filters hold the programs */
	netacct_bpf__destroy(skel);
	return err;
}

static int netacct_attach(struct accel_ctx *ctx)
{
	struct netacct_state want, *st = NULL;
	char dir[PATH_MAX];
	enum live_mtu live_mtu;
	int err;

	err = resolve_ifaces(ctx, &want);
	if (err)
		return err;
	err = feature_pin_dir(ctx, self(), dir, sizeof(dir));
	if (err)
		return err;
	err = mkdir_p(dir, 0700);
	if (err)
		return err;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	libxdp_set_print(libxdp_print);
	live_mtu = probe_live_mtu();
	if (live_mtu == LIVE_MTU_OFF)
		pr_info("netacct: neither bpf_cast_to_kern_ctx() nor bpf_check_mtu(); MTUs are read at attach only (re-attach after changing one)\n");
	for (int i = 0; i < want.n && !err; i++)
		err = attach_iface(ctx, st, dir, live_mtu, &want.ifs[i]);
	if (err) {
		detach_recorded(ctx, st);
		record_remove(ctx);
		feature_unpin_all(ctx, self());
	}
	free(st);
	return err;
}

static int netacct_detach(struct accel_ctx *ctx)
{
	struct netacct_state st;
	struct state_err serr;
	int err;

	libxdp_set_print(libxdp_print);
	err = record_read(ctx, &st, &serr);
	if (err && err != -ENOENT) {
		/* what it lists is unknown: removing nothing is the safe side */
		if (!ctx->force) {
			pr_err("netacct: cannot read the state record: %s\n"
			       "Fix: remove accelctl's tc filters and XDP program from the interfaces by hand, then `accelctl detach --force`\n",
			       serr.msg);
			return err;
		}
		pr_warn("netacct: --force: dropping the unreadable state record (%s); its hooks stay attached\n",
			serr.msg);
		record_remove(ctx);
	} else if (!err) {
		err = detach_recorded(ctx, &st);
		if (err) {
			pr_err("netacct: some hooks could not be removed; they are listed in %s/%s\n",
				ctx->state_dir, STATE_FILE);
			return err;
		}
		record_remove(ctx);
	}
	return feature_unpin_all(ctx, self());
}

static bool netacct_attached(struct accel_ctx *ctx)
{
	char path[PATH_MAX];

	return feature_pins_exist(ctx, self()) ||
	       (!state_path(ctx, path, sizeof(path)) && path_exists(path));
}

/* ---- status --------------------------------------------------------------- */

/* How an interface's XDP hook is held: "dispatcher" (libxdp's, shared
 * with other XDP programs), "exclusive" (libxdp fell back to a single
 * program: another XDP program there is refused), NULL when unknown. */
static const char *xdp_mode(unsigned int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex((int)ifindex);
	const char *mode;

	if (libxdp_get_error(mp))
		return NULL;
	mode = xdp_multiprog__is_legacy(mp) ? "exclusive" : "dispatcher";
	xdp_multiprog__close(mp);
	return mode;
}

/* One interface's hooks: ingress (XDP or tc) and why, egress tc. */
static void iface_status(const struct iface_rec *r, struct sm_node *ifaces)
{
	bool xdp = r->ingress == HOOK_XDP_NATIVE || r->ingress == HOOK_XDP_SKB;
	const char *mode = xdp ? xdp_mode(r->ifindex) : NULL;
	struct sm_node *o = sm_object(ifaces, NULL);
	__u32 mtu = r->mtu;
	char in[64];

	iface_mtu(r->name, &mtu);
	if (r->ingress == HOOK_TC)
		snprintf(in, sizeof(in), "tc prio %u prog %u", r->tc_ingress.prio, r->tc_ingress.prog_id);
	else
		snprintf(in, sizeof(in), "%s prog %u", hook_names[r->ingress], r->xdp_prog_id);
	sm_show(o, NULL, "iface %-12s ifindex %-4u mtu %-6u ingress %s (%s); egress tc prio %u handle %#x prog %u",
		r->name, r->ifindex, mtu, in, why_names[r->why], r->tc_egress.prio,
		r->tc_egress.handle, r->tc_egress.prog_id);
	if (mode && !strcmp(mode, "exclusive"))
		sm_note(o, "note", "%s: XDP exclusive: libxdp's dispatcher cannot run here, so another "
			"XDP program on %s is refused while netacct holds it (`--ingress tc` leaves XDP "
			"to it; `accelctl check`)", r->name, r->name);
	sm_str(o, "ifname", r->name);
	sm_uint(o, "ifindex", r->ifindex);
	sm_uint(o, "mtu", mtu);
	sm_str(o, "ingress", hook_names[r->ingress]);
	sm_str(o, "ingress_reason", why_names[r->why]);
	if (r->xdp_prog_id)
		sm_uint(o, "xdp_prog_id", r->xdp_prog_id);
	if (mode)
		sm_str(o, "xdp_mode", mode);
	if (r->tc_ingress.prog_id) {
		sm_uint(o, "tc_ingress_priority", r->tc_ingress.prio);
		sm_uint(o, "tc_ingress_handle", r->tc_ingress.handle);
		sm_uint(o, "tc_ingress_prog_id", r->tc_ingress.prog_id);
	}
	sm_uint(o, "tc_egress_priority", r->tc_egress.prio);
	sm_uint(o, "tc_egress_handle", r->tc_egress.handle);
	sm_uint(o, "tc_egress_prog_id", r->tc_egress.prog_id);
	sm_bool(o, "clsact_created", r->clsact_created);
}

static void netacct_status(struct accel_ctx *ctx, struct sm_node *sec)
{
	struct netacct_state st;
	struct state_err serr;
	struct sm_node *ifaces;
	int err = record_read(ctx, &st, &serr);

	if (err)
		st.n = 0;
	if (err && err != -ENOENT)
		sm_note(sec, NULL, "state record unreadable: %s", serr.msg);
	ifaces = sm_array(sec, "interfaces");
	for (int i = 0; i < st.n; i++)
		iface_status(&st.ifs[i], ifaces);
}

/* ---- metrics -------------------------------------------------------------- */

static const char *const fam_names[NETACCT_FAM_MAX] = { "inet", "inet6", "other" };
static const char *const dir_names[NETACCT_DIR_MAX] = { "ingress", "egress" };

/* Every metric netacct exports (docs/metrics.md "netacct"), in the order
 * the families are written. */
enum netacct_metric {
	NM_PACKETS,
	NM_BYTES,
	NM_FRAGMENTS,
	NM_MTU_EXCEEDED,
	NM_MTU_EXCEEDED_DF,
	NM_PMTU_MESSAGES,
	NM_PMTU_ADVERTISED_MTU,
	NM_MALFORMED,
	NM_INTERFACE_MTU,
	NM_COUNT
};

#define NETACCT_LABELS { "ifname", "direction", "family" }
static const struct metric_desc netacct_metrics[NM_COUNT] = {
	[NM_PACKETS] = { "accel_netacct_packets_total", METRIC_COUNTER, "",
		"Packets seen by netacct's XDP/tc hooks, by interface, direction and EtherType family",
		NETACCT_LABELS },
	[NM_BYTES] = { "accel_netacct_bytes_total", METRIC_COUNTER, "bytes",
		"Bytes (L2 header included) seen by netacct's XDP/tc hooks", NETACCT_LABELS },
	[NM_FRAGMENTS] = { "accel_netacct_fragments_total", METRIC_COUNTER, "",
		"IP fragments: kind first (offset 0, more-fragments), non_first (offset > 0), atomic (IPv6 Fragment header, offset 0, M clear)",
		{ "ifname", "direction", "family", "kind" } },
	[NM_MTU_EXCEEDED] = { "accel_netacct_mtu_exceeded_total", METRIC_COUNTER, "",
		"Packets whose L3 length (GSO: segment length) exceeds the interface MTU", NETACCT_LABELS },
	[NM_MTU_EXCEEDED_DF] = { "accel_netacct_mtu_exceeded_df_total", METRIC_COUNTER, "",
		"IPv4 packets with DF set whose length exceeds the interface MTU", { "ifname", "direction" } },
	[NM_PMTU_MESSAGES] = { "accel_netacct_pmtu_messages_total", METRIC_COUNTER, "",
		"ICMP fragmentation-needed (type 3 code 4) and ICMPv6 Packet Too Big (type 2) messages",
		NETACCT_LABELS },
	[NM_PMTU_ADVERTISED_MTU] = { "accel_netacct_pmtu_advertised_mtu_bytes", METRIC_HISTOGRAM, "bytes",
		"MTU advertised by ICMP frag-needed / ICMPv6 Packet Too Big messages, in bytes", NETACCT_LABELS },
	[NM_MALFORMED] = { "accel_netacct_malformed_total", METRIC_COUNTER, "",
		"Packets the parser could not trust (truncated or inconsistent headers, too many VLAN tags or extension headers)",
		NETACCT_LABELS },
	[NM_INTERFACE_MTU] = { "accel_netacct_interface_mtu_bytes", METRIC_GAUGE, "bytes",
		"MTU of the interface as the netacct programs last saw it", { "ifname" } },
};

static int read_slot(int fd, __u32 slot, __u32 dir, struct netacct_counters *sum)
{
	__u32 k = NETACCT_COUNTERS_INDEX(slot, dir);
	int n = ncpus();
	struct netacct_counters *v = calloc(n, sizeof(*v));
	int err = 0;

	if (!v)
		return -ENOMEM;
	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(fd, &k, v)) {
		err = -errno;
		goto out;
	}
	for (int c = 0; c < n; c++) {
		const __u64 *a = (const __u64 *)&v[c];
		__u64 *s = (__u64 *)sum;

		for (size_t i = 0; i < sizeof(*sum) / sizeof(__u64); i++)
			s[i] += a[i];
	}
out:
	free(v);
	return err;
}

/* One interface's counters in one direction, by family. */
static void collect_dir(struct metric_family *const *f, const struct netacct_counters *c,
			const char *ifname, const char *dn)
{
	static const double bounds[] = { NETACCT_PMTU_BOUNDS };

	for (int fam = 0; fam < NETACCT_FAM_MAX; fam++) {
		const __u64 *v = c->ctr[fam];
		const char *fn = fam_names[fam];
		uint64_t counts[NETACCT_PMTU_BUCKETS];

		metric_put(f[NM_PACKETS], v[NETACCT_PACKETS], ifname, dn, fn);
		metric_put(f[NM_BYTES], v[NETACCT_BYTES], ifname, dn, fn);
		metric_put(f[NM_MALFORMED], v[NETACCT_MALFORMED], ifname, dn, fn);
		if (fam == NETACCT_FAM_OTHER)
			continue;
		metric_put(f[NM_FRAGMENTS], v[NETACCT_FRAG_FIRST], ifname, dn, fn, "first");
		metric_put(f[NM_FRAGMENTS], v[NETACCT_FRAG_NONFIRST], ifname, dn, fn, "non_first");
		if (fam == ACCEL_FAM_INET6)
			metric_put(f[NM_FRAGMENTS], v[NETACCT_FRAG_ATOMIC], ifname, dn, fn, "atomic");
		metric_put(f[NM_MTU_EXCEEDED], v[NETACCT_MTU_EXCEEDED], ifname, dn, fn);
		if (fam == ACCEL_FAM_INET)
			metric_put(f[NM_MTU_EXCEEDED_DF], v[NETACCT_MTU_EXCEEDED_DF], ifname, dn);
		metric_put(f[NM_PMTU_MESSAGES], v[NETACCT_PMTU_MSGS], ifname, dn, fn);
		for (int k = 0; k < NETACCT_PMTU_BUCKETS; k++)
			counts[k] = c->pmtu_bucket[fam][k];
		metric_put_histogram(f[NM_PMTU_ADVERTISED_MTU], bounds, counts, NETACCT_PMTU_NBOUNDS,
				     c->pmtu_sum[fam], ifname, dn, fn);
	}
}

static int netacct_collect(struct accel_ctx *ctx, struct metrics *m)
{
	struct metric_family *f[NM_COUNT];
	int ifaces_fd = -1, counters_fd = -1, err = 0;
	char dir[PATH_MAX];

	err = feature_pin_dir(ctx, self(), dir, sizeof(dir));
	if (err)
		return err;
	ifaces_fd = pinned_obj_get(dir, NETACCT_IFACES_MAP);
	counters_fd = pinned_obj_get(dir, NETACCT_COUNTERS_MAP);
	if (ifaces_fd < 0 || counters_fd < 0) {
		err = ifaces_fd < 0 ? ifaces_fd : counters_fd;
		goto cleanup;
	}
	for (int i = 0; i < NM_COUNT; i++) {
		f[i] = metrics_family_of(m, &netacct_metrics[i]);
		if (!f[i]) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
	for (__u32 slot = 0; slot < NETACCT_MAX_IFACES; slot++) {
		struct netacct_ifcfg cfg;
		char ifname[sizeof(cfg.name) + 1];

		if (bpf_map_lookup_elem(ifaces_fd, &slot, &cfg) || !cfg.ifindex)
			continue;
		snprintf(ifname, sizeof(ifname), "%.*s", (int)sizeof(cfg.name), cfg.name);
		metric_put(f[NM_INTERFACE_MTU], cfg.mtu, ifname);
		for (__u32 d = 0; d < NETACCT_DIR_MAX; d++) {
			struct netacct_counters c;

			if (!read_slot(counters_fd, slot, d, &c))
				collect_dir(f, &c, ifname, dir_names[d]);
		}
	}
cleanup:
	if (ifaces_fd >= 0)
		close(ifaces_fd);
	if (counters_fd >= 0)
		close(counters_fd);
	return err;
}

static void netacct_show(struct accel_ctx *ctx, const struct metrics *m, FILE *out)
{
	const struct metric_family *f[NM_COUNT];
	char b[32];

	(void)ctx;
	for (int i = 0; i < NM_COUNT; i++)
		f[i] = metrics_get(m, &netacct_metrics[i]);
	fprintf(out, "Fragments, MTU and PMTU by interface\n");
	fprintf(out, "  %-12s %-7s %-5s %12s %10s %9s %9s %9s %9s %8s %7s %9s\n", "iface", "dir",
		"fam", "packets", "bytes", "frag1st", "fragrest", "atomic", ">mtu", ">mtu+DF",
		"pmtu", "malformed");
	for (int i = 0; f[NM_INTERFACE_MTU] && i < f[NM_INTERFACE_MTU]->n; i++) {
		const struct metric_sample *mtu = &f[NM_INTERFACE_MTU]->s[i];
		const char *ifname = metric_lvalue(mtu, 0);

		if (!ifname)
			continue;
		fprintf(out, "  %s (mtu %.0f)\n", ifname, mtu->value);
		for (int d = 0; d < NETACCT_DIR_MAX; d++)
			for (int fam = 0; fam < NETACCT_FAM_MAX; fam++) {
				const char *dn = dir_names[d], *fn = fam_names[fam];
				double pk = metric_value(f[NM_PACKETS], ifname, dn, fn);

				if (!pk && fam == NETACCT_FAM_OTHER)
					continue;
				fprintf(out, "  %-12s %-7s %-5s %12.0f %10s %9.0f %9.0f %9.0f %9.0f %8.0f %7.0f %9.0f\n",
					"", dn, fn, pk,
					fmt_bytes(metric_value(f[NM_BYTES], ifname, dn, fn), b, sizeof(b)),
					metric_value(f[NM_FRAGMENTS], ifname, dn, fn, "first"),
					metric_value(f[NM_FRAGMENTS], ifname, dn, fn, "non_first"),
					metric_value(f[NM_FRAGMENTS], ifname, dn, fn, "atomic"),
					metric_value(f[NM_MTU_EXCEEDED], ifname, dn, fn),
					fam == ACCEL_FAM_INET ? metric_value(f[NM_MTU_EXCEEDED_DF], ifname, dn) : 0,
					metric_value(f[NM_PMTU_MESSAGES], ifname, dn, fn),
					metric_value(f[NM_MALFORMED], ifname, dn, fn));
			}
	}
}

/* attach --NAME and [netacct] NAME = (opts.h) */
static const struct accel_opt netacct_opts[] = {
	{ "iface", AOT_IFNAMES, "IF",
	  "netacct: interface to account (repeatable or comma-separated; default lo and the default-route interfaces)",
	  .defval = "lo", AO_FIELD(iface_list), .section = "netacct" },
	{ "ingress", AOT_ENUM, "HOOK",
	  "netacct: ingress hook: auto (default: tc on veth and where no XDP program can be added, "
	  "XDP elsewhere), xdp (fail if XDP cannot be attached) or tc",
	  .defval = "auto", AO_NAMES("auto", "xdp", "tc"), AO_FIELD(ingress), .section = "netacct" },
	{ 0 }
};

const struct accel_feature feature_netacct = {
	.name = "netacct",
	.summary = "fragment, MTU and PMTU accounting (XDP + tc)",
	.opts = netacct_opts,
	.probe = netacct_probe,
	.attach = netacct_attach,
	.plan = netacct_plan,
	.detach = netacct_detach,
	.attached = netacct_attached,
	.metrics = netacct_metrics,
	.nmetrics = NM_COUNT,
	.collect = netacct_collect,
	.show = netacct_show,
	.status = netacct_status,
};
