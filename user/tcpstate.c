// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcpstate: TCP lifecycle accounting (bpf/tcpstate.bpf.c).
 *
 * Events (pinned maps, summed at read time): state transitions, TIME_WAIT
 * entries, listen drops per listener split into SYN-queue and accept-queue
 * overflows, SYN-ACK retransmits, resets sent by reason.
 * Gauges (iter/tcp, run by every collect in the namespace accelctl entered):
 * TIME_WAIT sockets in total and per destination, local port use per
 * destination against ip_local_port_range, per-listener queue lengths.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "accel.h"
#include "accel_abi.h"
#include "bpfutil.h"
#include "log.h"
#include "sysenv.h"
#include "tcpstate.h"
#include "tcpstate.skel.h"

#define TCPSTATE_TOP_N		10
/* The kernel's request-socket state; <netinet/tcp.h> stops at TCP_CLOSING. */
#define TCP_NEW_SYN_RECV_	12

/* The one table of TCP state names (metric labels, `status`). */
static const char *const tcp_state_names[ACCEL_TCP_NSTATES] = {
	[TCP_ESTABLISHED] = "established", [TCP_SYN_SENT] = "syn_sent",
	[TCP_SYN_RECV] = "syn_recv", [TCP_FIN_WAIT1] = "fin_wait1",
	[TCP_FIN_WAIT2] = "fin_wait2", [TCP_TIME_WAIT] = "time_wait",
	[TCP_CLOSE] = "close", [TCP_CLOSE_WAIT] = "close_wait",
	[TCP_LAST_ACK] = "last_ack", [TCP_LISTEN] = "listen",
	[TCP_CLOSING] = "closing", [TCP_NEW_SYN_RECV_] = "new_syn_recv",
};

static const char *const family_names[ACCEL_FAM_MAX] = { "inet", "inet6" };

/* Event programs attached and pinned as link_<name>; the iterator is
 * attached separately (it has no event to wait for). */
#define TCPSTATE_ITER_LINK "tcpstate_iter"

/* ---- kernel symbols ------------------------------------------------- */

struct ksym_want {
	const char *name;
	uint64_t start, end;	/* end: the next symbol's address */
};

/* Resolve text symbols from /proc/kallsyms: start of each, and the first
 * address above it (its end).  -ENOENT names the first one missing. */
static int ksyms_resolve(struct ksym_want *w, int n, char *why, size_t len)
{
	char line[512], name[256], type;
	unsigned long long addr;
	FILE *f = fopen("/proc/kallsyms", "re");
	int err = 0;

	if (!f) {
		snprintf(why, len, "cannot read /proc/kallsyms: %s", strerror(errno));
		return -errno;
	}
	for (int pass = 0; pass < 2; pass++) {
		rewind(f);
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
				continue;
			for (int i = 0; i < n; i++) {
				if (pass == 0 && !w[i].start && (type == 't' || type == 'T') &&
				    !strcmp(name, w[i].name))
					w[i].start = addr;
				else if (pass == 1 && addr > w[i].start && (!w[i].end || addr < w[i].end))
					w[i].end = addr;
			}
		}
		if (pass)
			break;
		for (int i = 0; i < n; i++) {
			if (w[i].start)
				continue;
			snprintf(why, len, "kernel symbol %s not found in /proc/kallsyms%s", w[i].name,
				 geteuid() ? " (run as root)" : " (kptr_restrict hides addresses?)");
			err = -ENOENT;
			goto out;
		}
	}
out:
	fclose(f);
	return err;
}

static int tcpstate_probe(struct accel_ctx *ctx, char *why, size_t len)
{
	static const char *const tps[] = {
		"btf_trace_inet_sock_set_state", "btf_trace_consume_skb", "btf_trace_kfree_skb",
		"btf_trace_timer_start", "btf_trace_tcp_retransmit_synack", "btf_trace_tcp_send_reset",
	};
	struct ksym_want w[] = { { "tcp_rcv_state_process" }, { "tw_timer_handler" } };
	struct btf *btf = btf__load_vmlinux_btf();
	int err = 0;

	(void)ctx;
	if (!btf) {
		snprintf(why, len, "kernel BTF is not available (CONFIG_DEBUG_INFO_BTF)");
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tps); i++) {
		if (btf__find_by_name_kind(btf, tps[i], BTF_KIND_TYPEDEF) >= 0)
			continue;
		snprintf(why, len, "the kernel has no %s tracepoint (needs 6.10+ with BTF)",
			 tps[i] + strlen("btf_trace_"));
		err = -EOPNOTSUPP;
		goto out;
	}
	if (btf__find_by_name_kind(btf, "this_cpu_off", BTF_KIND_VAR) < 0 ||
	    btf__find_by_name_kind(btf, "bpf_iter__tcp", BTF_KIND_STRUCT) < 0) {
		snprintf(why, len, "the kernel lacks this_cpu_off or the tcp BPF iterator (x86-64, 5.9+)");
		err = -EOPNOTSUPP;
		goto out;
	}
	err = ksyms_resolve(w, ARRAY_SIZE(w), why, len);
out:
	btf__free(btf);
	return err;
}

/* ---- attach --------------------------------------------------------- */

/*
 * Prime the per-CPU SNMP snapshots of our namespace on every CPU we may
 * run on, so that the first event on each CPU books only what happened
 * after attach.  The program runs in our own context (we are pinned to
 * the CPU it is asked to run on), which gives it our namespace.
 */
static int tcpstate_prime(struct tcpstate_bpf *skel, uint64_t cookie)
{
	__u64 args[1] = { cookie };
	int err, primed = 0;

	err = prog_run_on_each_cpu(bpf_program__fd(skel->progs.tcpstate_prime), args,
				   sizeof(args), &primed);
	if (err)
		pr_warn("priming SNMP snapshots failed: %s\n", strerror(-err));
	pr_debug("tcpstate: primed SNMP snapshots on %d CPUs\n", primed);
	return err;
}

/*
 * Can this kernel load fentry/fexit programs on func?  Load a two-insn
 * fexit program against the function's BTF id: a feature probe, not a
 * version check (fentry needs the BPF trampoline, which some kernels lack
 * or forbid: this project's CI machine refuses it with EPERM).
 */
static bool fentry_probe(const char *func)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	struct btf *btf = btf__load_vmlinux_btf();
	int id, fd;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
	btf__free(btf);
	if (id <= 0)
		return false;
	opts.expected_attach_type = BPF_TRACE_FEXIT;
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "accel_probe", "GPL", insns, ARRAY_SIZE(insns), &opts);
	if (fd < 0) {
		pr_debug("tcpstate: fexit on %s does not load (%s): using tracepoints\n", func,
			 strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

/* One event program: its pin name is link_<prog name>. */
static int pin_prog_link(struct bpf_program *prog, struct bpf_link *link, const char *dir)
{
	if (!bpf_program__autoload(prog))
		return 0;
	return link_pin(link, dir, bpf_program__name(prog));
}

/*
 * Namespace cookies come from per-CPU batches: create a namespace on each
 * CPU (a child pinned there) and record its cookie.  A namespace the BPF
 * side meets later is younger than this attach if it is above the mark of
 * its batch, or in a newer batch.  Returns the number of marks.
 */
static int netns_cookie_marks(__u64 *marks, int max)
{
	int ncpu = sysconf(_SC_NPROCESSORS_CONF), n = 0;

	for (int cpu = 0; cpu < ncpu && cpu < CPU_SETSIZE && n < max; cpu++) {
		uint64_t cookie = 0;
		int p[2], status;
		pid_t pid;

		if (pipe(p))
			break;
		pid = fork();
		if (pid == 0) {
			cpu_set_t one;

			close(p[0]);
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			if (sched_setaffinity(0, sizeof(one), &one) || unshare(CLONE_NEWNET) ||
			    netns_cookie(&cookie))
				cookie = 0;
			_exit(write(p[1], &cookie, sizeof(cookie)) == sizeof(cookie) ? 0 : 1);
		}
		close(p[1]);
		if (pid < 0 || read(p[0], &cookie, sizeof(cookie)) != sizeof(cookie))
			cookie = 0;
		close(p[0]);
		if (pid > 0)
			waitpid(pid, &status, 0);
		if (cookie)
			marks[n++] = cookie;
	}
	return n;
}

struct ns_seen {
	dev_t dev;
	ino_t ino;
};

/* Prime the namespace behind fd (an nsfs file) unless already done. */
static int prime_ns_fd(struct tcpstate_bpf *skel, int fd, struct ns_seen **seen, int *nseen)
{
	struct stat st;
	uint64_t cookie;
	void *p;
	int err;

	if (fstat(fd, &st))
		return -errno;
	for (int i = 0; i < *nseen; i++)
		if ((*seen)[i].dev == st.st_dev && (*seen)[i].ino == st.st_ino)
			return 0;
	p = realloc(*seen, (*nseen + 1) * sizeof(**seen));
	if (!p)
		return -ENOMEM;
	*seen = p;
	(*seen)[(*nseen)++] = (struct ns_seen){ st.st_dev, st.st_ino };
	if (setns(fd, CLONE_NEWNET))
		return -errno;
	err = netns_cookie(&cookie);
	return err ?: tcpstate_prime(skel, cookie);
}

/*
 * Attached for every namespace: prime each one we can reach (named ones in
 * /run/netns, every process's), so that none loses its first event on a
 * CPU.  We come back to our own namespace whatever happens.
 */
static int tcpstate_prime_all(struct tcpstate_bpf *skel)
{
	/* directory, and the namespace file below each of its entries */
	static const char *const where[][2] = {
		{ "/run/netns", "" }, { "/var/run/netns", "" }, { "/proc", "/ns/net" },
	};
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), nseen = 0, n = 0, err;
	struct ns_seen *seen = NULL;
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (self < 0)
		return -errno;
	err = prime_ns_fd(skel, self, &seen, &nseen);
	for (size_t k = 0; !err && k < ARRAY_SIZE(where); k++) {
		bool proc = *where[k][1];

		d = opendir(where[k][0]);
		while (!err && d && (de = readdir(d))) {
			int fd;

			if (de->d_name[0] == '.' || (proc && !isdigit((unsigned char)de->d_name[0])))
				continue;
			snprintf(path, sizeof(path), "%s/%s%s", where[k][0], de->d_name, where[k][1]);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;	/* gone, or not a namespace */
			err = prime_ns_fd(skel, fd, &seen, &nseen);
			if (err == -EINVAL || err == -EPERM)
				err = 0;	/* not a network namespace file */
			close(fd);
		}
		if (d)
			closedir(d);
	}
	n = nseen;
	if (setns(self, CLONE_NEWNET)) {
		pr_err("cannot return to accelctl's network namespace: %s\n", strerror(errno));
		err = err ?: -errno;
	}
	close(self);
	free(seen);
	pr_debug("tcpstate: primed %d network namespaces\n", n);
	return err;
}

static int tcpstate_attach_once(struct accel_ctx *ctx, const char *dir, const struct ksym_want *w,
				bool fentry)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	struct tcpstate_bpf *skel = NULL;
	struct bpf_link *iter = NULL;
	int err;

	oopts.pin_root_path = dir;
	skel = tcpstate_bpf__open_opts(&oopts);
	if (!skel) {
		err = -errno;
		pr_err("tcpstate: cannot open the BPF object: %s (run with -v for libbpf's reason)\n",
			strerror(-err));
		return err;
	}
	skel->rodata->target_netns_cookie = ctx->netns ? ctx->netns_cookie : 0;
	skel->rodata->tcp_rsp_start = w[0].start;
	skel->rodata->tcp_rsp_end = w[0].end;
	skel->rodata->tw_timer_fn = w[1].start;
	if (!ctx->netns)
		skel->rodata->n_cookie_marks = netns_cookie_marks(skel->rodata->cookie_marks,
								  ACCEL_TCP_COOKIE_MARKS);
	/* fexit where it loads, else the tracepoint that does the same job */
	bpf_program__set_autoload(skel->progs.tcpstate_conn_request, fentry);
	bpf_program__set_autoload(skel->progs.tcpstate_tw_created, fentry);
	bpf_program__set_autoload(skel->progs.tcpstate_syn_consumed, !fentry);
	bpf_program__set_autoload(skel->progs.tcpstate_tw_timer, !fentry);
	bpf_program__set_autoattach(skel->progs.tcpstate_prime, false);
	bpf_program__set_autoattach(skel->progs.tcpstate_iter, false);
	err = tcpstate_bpf__load(skel);
	if (err) {
		pr_err("loading tcpstate programs failed: %s (run with -v for the verifier log)\n",
			strerror(-err));
		goto cleanup;
	}
	err = ctx->netns ? tcpstate_prime(skel, ctx->netns_cookie) : tcpstate_prime_all(skel);
	if (err)
		goto cleanup;
	err = tcpstate_bpf__attach(skel);
	if (err) {
		pr_err("attaching tcpstate %s failed: %s\n", fentry ? "fexit programs" : "tracepoints",
			strerror(-err));
		goto cleanup;
	}
	iter = bpf_program__attach_iter(skel->progs.tcpstate_iter, NULL);
	if (!iter) {
		err = -errno;
		pr_err("attaching the tcp iterator failed: %s\n", strerror(-err));
		goto cleanup;
	}
	if ((err = pin_prog_link(skel->progs.tcpstate_set_state, skel->links.tcpstate_set_state, dir)) ||
	    (err = pin_prog_link(skel->progs.tcpstate_syn_consumed, skel->links.tcpstate_syn_consumed, dir)) ||
	    (err = pin_prog_link(skel->progs.tcpstate_conn_request, skel->links.tcpstate_conn_request, dir)) ||
	    (err = pin_prog_link(skel->progs.tcpstate_drop, skel->links.tcpstate_drop, dir)) ||
	    (err = pin_prog_link(skel->progs.tcpstate_tw_timer, skel->links.tcpstate_tw_timer, dir)) ||
	    (err = pin_prog_link(skel->progs.tcpstate_tw_created, skel->links.tcpstate_tw_created, dir)) ||
	    (err = pin_prog_link(skel->progs.tcpstate_synack_rtx, skel->links.tcpstate_synack_rtx, dir)) ||
	    (err = pin_prog_link(skel->progs.tcpstate_rst, skel->links.tcpstate_rst, dir)) ||
	    (err = link_pin(iter, dir, TCPSTATE_ITER_LINK)))
		goto cleanup;
cleanup:
	bpf_link__destroy(iter);
	tcpstate_bpf__destroy(skel);
	return err;
}

static int tcpstate_attach(struct accel_ctx *ctx)
{
	const struct accel_feature *self = feature_by_name("tcpstate");
	struct ksym_want w[] = { { "tcp_rcv_state_process" }, { "tw_timer_handler" } };
	const char *no_fentry = getenv("ACCELCTL_TCPSTATE_NO_FENTRY");
	bool fentry = !(no_fentry && *no_fentry && strcmp(no_fentry, "0"));
	char dir[PATH_MAX], why[256];
	int err;

	err = ksyms_resolve(w, ARRAY_SIZE(w), why, sizeof(why));
	if (err) {
		pr_warn("tcpstate: %s\n", why);
		return err;
	}
	err = feature_pin_dir(ctx, self, dir, sizeof(dir));
	if (err)
		return err;
	fentry = fentry && fentry_probe("tcp_conn_request") &&
		 fentry_probe("inet_twsk_hashdance_schedule");
	for (;;) {
		err = mkdir_p(dir, 0700);
		if (err)
			return err;
		err = tcpstate_attach_once(ctx, dir, w, fentry);
		if (!err)
			break;
		feature_unpin_all(ctx, self);
		if (!fentry)
			break;
		/* The probe passed but the real programs did not make it:
		 * the tracepoints count the same, use them. */
		pr_info("tcpstate: fexit programs failed (%s); using tracepoints instead\n",
			strerror(-err));
		fentry = false;
	}
	pr_debug("tcpstate: %s\n", fentry ? "fexit on tcp_conn_request and inet_twsk_hashdance_schedule"
					   : "tracepoints consume_skb and timer_start");
	return err;
}

static int tcpstate_detach(struct accel_ctx *ctx)
{
	return feature_unpin_all(ctx, feature_by_name("tcpstate"));
}

static bool tcpstate_attached(struct accel_ctx *ctx)
{
	return feature_pins_exist(ctx, feature_by_name("tcpstate"));
}

/* ---- read side: the iterator ---------------------------------------- */

struct tcp_addr {
	uint8_t family;		/* enum accel_family */
	uint8_t addr[16];
	uint16_t port;
};

static bool addr_is_any(const struct tcp_addr *a)
{
	static const uint8_t zero[16];

	return !memcmp(a->addr, zero, a->family == ACCEL_FAM_INET ? 4 : 16);
}

static void addr_fmt(const struct tcp_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (a->family == ACCEL_FAM_INET6) {
		inet_ntop(AF_INET6, a->addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, a->port);
	} else {
		inet_ntop(AF_INET, a->addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, a->port);
	}
}

struct listener {
	struct tcp_addr a;
	char label[64];
	bool live;		/* seen by the iterator now */
	uint64_t accept_len, accept_max, syn_len;
	uint64_t c[ACCEL_LQ_MAX];
};

/* Destinations of connected and TIME_WAIT sockets, open addressing. */
struct dest {
	struct tcp_addr a;
	bool used;
	uint64_t tw, ports;	/* TIME_WAIT sockets; sockets on a port of the local range */
};

struct tcp_view {
	struct listener *l;
	int nl, capl;
	struct dest *d;
	size_t capd, nd;
	uint64_t tw_total, tw_fin_wait2;
	uint32_t port_lo, port_hi;
};

static void view_free(struct tcp_view *v)
{
	free(v->l);
	free(v->d);
	memset(v, 0, sizeof(*v));
}

static struct listener *view_listener(struct tcp_view *v, const char *label)
{
	for (int i = 0; i < v->nl; i++)
		if (!strcmp(v->l[i].label, label))
			return &v->l[i];
	if (v->nl == v->capl) {
		int cap = v->capl ? v->capl * 2 : 16;
		void *p = realloc(v->l, cap * sizeof(*v->l));

		if (!p)
			return NULL;
		v->l = p;
		v->capl = cap;
	}
	memset(&v->l[v->nl], 0, sizeof(v->l[0]));
	snprintf(v->l[v->nl].label, sizeof(v->l[0].label), "%s", label);
	return &v->l[v->nl++];
}

static size_t dest_hash(const struct tcp_addr *a)
{
	size_t h = 1469598103934665603ull ^ a->family ^ ((size_t)a->port << 8);

	for (int i = 0; i < 16; i++)
		h = (h ^ a->addr[i]) * 1099511628211ull;
	return h;
}

static struct dest *view_dest(struct tcp_view *v, const struct tcp_addr *a)
{
	size_t i;

	if ((v->nd + 1) * 2 > v->capd) {
		size_t cap = v->capd ? v->capd * 2 : 256;
		struct dest *nd = calloc(cap, sizeof(*nd));

		if (!nd)
			return NULL;
		for (size_t j = 0; j < v->capd; j++) {
			if (!v->d[j].used)
				continue;
			for (i = dest_hash(&v->d[j].a) & (cap - 1); nd[i].used; i = (i + 1) & (cap - 1))
				;
			nd[i] = v->d[j];
		}
		free(v->d);
		v->d = nd;
		v->capd = cap;
	}
	for (i = dest_hash(a) & (v->capd - 1); v->d[i].used; i = (i + 1) & (v->capd - 1))
		if (!memcmp(&v->d[i].a, a, sizeof(*a)))
			return &v->d[i];
	v->d[i].used = true;
	v->d[i].a = *a;
	v->nd++;
	return &v->d[i];
}

static void rec_addr(const struct accel_tcp_iter_rec *r, bool local, struct tcp_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = r->family;
	memcpy(a->addr, local ? r->laddr : r->daddr, r->family == ACCEL_FAM_INET ? 4 : 16);
	a->port = local ? r->lport : r->dport;
}

static int view_add_rec(struct tcp_view *v, const struct accel_tcp_iter_rec *r)
{
	struct tcp_addr a;
	struct listener *l;
	struct dest *d;
	char label[64];

	if (r->family >= ACCEL_FAM_MAX)
		return 0;
	switch (r->kind) {
	case ACCEL_REC_LISTEN:
		rec_addr(r, true, &a);
		addr_fmt(&a, label, sizeof(label));
		l = view_listener(v, label);	/* SO_REUSEPORT groups share a label */
		if (!l)
			return -ENOMEM;
		l->a = a;
		l->live = true;
		l->accept_len += r->accept_len;
		l->accept_max += r->accept_max;
		l->syn_len += r->syn_len;
		return 0;
	case ACCEL_REC_TIMEWAIT:
	case ACCEL_REC_CONN:
		rec_addr(r, false, &a);
		d = view_dest(v, &a);
		if (!d)
			return -ENOMEM;
		if (r->kind == ACCEL_REC_TIMEWAIT) {
			/* ss(8) shows the FIN_WAIT2 substate as FIN-WAIT-2;
			 * sockstat's tw counts both */
			v->tw_total++;
			if (r->state == TCP_TIME_WAIT)
				d->tw++;
			else
				v->tw_fin_wait2++;
		}
		if (r->lport >= v->port_lo && r->lport <= v->port_hi)
			d->ports++;
		return 0;
	}
	return 0;
}

/* Run the pinned iterator of dir (in the namespace we are in), each
 * record to cb. */
static int iter_walk(const char *dir, int (*cb)(const struct accel_tcp_iter_rec *r, void *data),
		     void *data)
{
	char name[64];
	size_t have = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	int lfd, ifd = -1, err = 0;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	snprintf(name, sizeof(name), ACCEL_PIN_LINK_PREFIX "%s", TCPSTATE_ITER_LINK);
	lfd = pinned_obj_get(dir, name);
	if (lfd < 0) {
		err = lfd;
		goto cleanup;
	}
	ifd = bpf_iter_create(lfd);
	if (ifd < 0) {
		err = -errno;
		goto cleanup;
	}
	for (;;) {
		size_t off = 0;

		n = read(ifd, buf + have, cap - have);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			err = -errno;
			goto cleanup;
		}
		if (n == 0)
			break;
		have += n;
		for (; have - off >= sizeof(struct accel_tcp_iter_rec);
		     off += sizeof(struct accel_tcp_iter_rec)) {
			struct accel_tcp_iter_rec r;

			memcpy(&r, buf + off, sizeof(r));
			err = cb(&r, data);
			if (err)
				goto cleanup;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
cleanup:
	if (ifd >= 0)
		close(ifd);
	if (lfd >= 0)
		close(lfd);
	free(buf);
	return err;
}

static int view_add_cb(const struct accel_tcp_iter_rec *r, void *data)
{
	return view_add_rec(data, r);
}

/* Fold the iterator's records into v. */
static int view_read_iter(const char *dir, struct tcp_view *v)
{
	return iter_walk(dir, view_add_cb, v);
}

int tcpstate_for_each_sock(const struct accel_ctx *ctx,
			   int (*cb)(const struct accel_tcp_iter_rec *r, void *data), void *data)
{
	const struct accel_feature *f = feature_by_name("tcpstate");
	char dir[PATH_MAX];
	int err;

	if (!f || !feature_pins_exist(ctx, f))
		return -ENOENT;
	err = feature_pin_dir(ctx, f, dir, sizeof(dir));
	return err ? err : iter_walk(dir, cb, data);
}

/* The listener owning an event key: the exact address, the wildcard, a
 * dual-stack IPv6 listener for an IPv4 key.  NULL: none here now. */
static struct listener *view_owner(struct tcp_view *v, const struct tcp_addr *k)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct listener *any = NULL, *any6 = NULL, *mapped6 = NULL;

	for (int i = 0; i < v->nl; i++) {
		struct listener *l = &v->l[i];

		if (!l->live || l->a.port != k->port)
			continue;
		if (l->a.family == k->family) {
			if (!memcmp(l->a.addr, k->addr, sizeof(k->addr)))
				return l;
			if (addr_is_any(&l->a))
				any = l;
		} else if (k->family == ACCEL_FAM_INET && l->a.family == ACCEL_FAM_INET6) {
			if (addr_is_any(&l->a))
				any6 = l;
			else if (!memcmp(l->a.addr, mapped, 12) && !memcmp(l->a.addr + 12, k->addr, 4))
				mapped6 = l;
		}
	}
	return any ?: mapped6 ?: any6;
}

static int view_read_listeners(const char *dir, struct tcp_view *v, uint64_t netns_cookie)
{
	struct accel_tcp_listener_key key, next, *prev = NULL;
	struct accel_tcp_listener_val val;
	int fd = pinned_obj_get(dir, "tcp_listeners"), err = 0;

	if (fd < 0)
		return fd;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct listener *l = NULL;
		struct tcp_addr a = { 0 };
		char label[64];

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &val) || key.family >= ACCEL_FAM_MAX)
			continue;
		a.family = key.family;
		memcpy(a.addr, key.addr, sizeof(a.addr));
		a.port = key.port;
		/* Keys of other namespaces (attached without --netns) cannot
		 * be matched with listeners we cannot see: keep their address. */
		if (key.netns_cookie == netns_cookie)
			l = view_owner(v, &a);
		if (!l) {
			addr_fmt(&a, label, sizeof(label));
			l = view_listener(v, label);
			if (!l) {
				err = -ENOMEM;
				break;
			}
			if (!l->live)
				l->a = a;
		}
		for (int i = 0; i < ACCEL_LQ_MAX; i++)
			l->c[i] += val.c[i];
	}
	close(fd);
	return err;
}

static void port_range(struct tcp_view *v)
{
	char buf[64];
	unsigned int lo, hi;

	v->port_lo = 32768;
	v->port_hi = 60999;
	if (read_file("/proc/sys/net/ipv4/ip_local_port_range", buf, sizeof(buf)) > 0 &&
	    sscanf(buf, "%u %u", &lo, &hi) == 2 && lo <= hi && hi <= 65535) {
		v->port_lo = lo;
		v->port_hi = hi;
	}
}

/* Names of enum sk_rst_reason from kernel BTF, "no_socket" style. */
static const char *rst_reason_name(unsigned int r)
{
	static char names[ACCEL_TCP_RST_REASONS][48];
	static bool loaded;

	if (!loaded) {
		struct btf *btf = btf__load_vmlinux_btf();
		int id = btf ? btf__find_by_name_kind(btf, "sk_rst_reason", BTF_KIND_ENUM) : -1;

		loaded = true;
		if (id > 0) {
			const struct btf_type *t = btf__type_by_id(btf, id);
			const struct btf_enum *e = btf_enum(t);

			for (int i = 0; i < btf_vlen(t); i++, e++) {
				const char *n = btf__name_by_offset(btf, e->name_off);

				if (e->val < 0 || e->val >= ACCEL_TCP_RST_REASONS - 1 || !n)
					continue;
				if (!strncmp(n, "SK_RST_REASON_", 14))
					n += 14;
				snprintf(names[e->val], sizeof(names[0]), "%s", n);
				for (char *p = names[e->val]; *p; p++)
					*p = (*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p;
			}
		}
		btf__free(btf);
	}
	if (r < ACCEL_TCP_RST_REASONS && names[r][0])
		return names[r];
	return NULL;
}

/* ---- collect -------------------------------------------------------- */

/* Every metric tcpstate exports (docs/metrics.md "tcpstate"). */
enum tcpstate_metric {
	TM_STATE_TRANSITIONS,
	TM_LISTEN_DROPS_UNATTRIBUTED,
	TM_RESETS_SENT,
	TM_ACCEPT_QUEUE_LENGTH,
	TM_ACCEPT_QUEUE_MAX,
	TM_SYN_QUEUE_LENGTH,
	TM_SYN_QUEUE_MAX,
	TM_SYN_RECEIVED,
	TM_SYN_QUEUE_OVERFLOWS,
	TM_ACCEPT_QUEUE_OVERFLOWS,
	TM_LISTEN_DROPS,
	TM_SYNCOOKIES_SENT,
	TM_SYNACK_RETRANSMITS,
	TM_TIMEWAIT_SOCKETS,
	TM_TIMEWAIT_ENTRIES,
	TM_LOCAL_PORT_RANGE_SIZE,
	TM_TIMEWAIT_DESTINATION_SOCKETS,
	TM_LOCAL_PORTS_IN_USE,
	TM_LOCAL_PORT_RANGE_USED_RATIO,
	TM_COUNT
};

static const struct metric_desc tcpstate_metrics[TM_COUNT] = {
	[TM_STATE_TRANSITIONS] = { "accel_tcp_state_transitions_total", METRIC_COUNTER, "",
		"TCP socket state changes seen by tp_btf/inet_sock_set_state, by new state",
		{ "family", "state" } },
	[TM_LISTEN_DROPS_UNATTRIBUTED] = { "accel_tcp_listen_drops_unattributed_total", METRIC_COUNTER, "",
		"Listen drops seen with no room left to record their listener (tcp_listeners map full)" },
	[TM_RESETS_SENT] = { "accel_tcp_resets_sent_total", METRIC_COUNTER, "",
		"TCP resets sent (tcp/tcp_send_reset) by reason; all reasons sum to TcpOutRsts", { "reason" } },
	[TM_ACCEPT_QUEUE_LENGTH] = { "accel_tcp_accept_queue_length", METRIC_GAUGE, "",
		"Connections waiting in the listener's accept queue (iter/tcp, at read time)", { "listener" } },
	[TM_ACCEPT_QUEUE_MAX] = { "accel_tcp_accept_queue_max", METRIC_GAUGE, "",
		"Accept queue limit: min(listen backlog, net.core.somaxconn); full above it", { "listener" } },
	[TM_SYN_QUEUE_LENGTH] = { "accel_tcp_syn_queue_length", METRIC_GAUGE, "",
		"Request sockets (SYN received, handshake unfinished) of the listener, at read time",
		{ "listener" } },
	[TM_SYN_QUEUE_MAX] = { "accel_tcp_syn_queue_max", METRIC_GAUGE, "",
		"SYN queue limit of the listener (the accept backlog; without syncookies also 3/4 of tcp_max_syn_backlog for unproven peers)",
		{ "listener" } },
	[TM_SYN_RECEIVED] = { "accel_tcp_syn_received_total", METRIC_COUNTER, "",
		"SYNs the listener processed (skb/consume_skb in tcp_rcv_state_process)", { "listener" } },
	[TM_SYN_QUEUE_OVERFLOWS] = { "accel_tcp_syn_queue_overflows_total", METRIC_COUNTER, "",
		"SYNs dropped by the listener for a full SYN queue (TcpExtListenDrops - TcpExtListenOverflows on the SYN path)",
		{ "listener" } },
	[TM_ACCEPT_QUEUE_OVERFLOWS] = { "accel_tcp_accept_queue_overflows_total", METRIC_COUNTER, "",
		"SYNs and handshake ACKs dropped for a full accept queue (TcpExtListenOverflows)",
		{ "listener" } },
	[TM_LISTEN_DROPS] = { "accel_tcp_listen_drops_total", METRIC_COUNTER, "",
		"Every SYN or handshake ACK the listener dropped (TcpExtListenDrops)", { "listener" } },
	[TM_SYNCOOKIES_SENT] = { "accel_tcp_syncookies_sent_total", METRIC_COUNTER, "",
		"SYNs answered with a syncookie because the SYN queue was full (TcpExtTCPReqQFullDoCookies)",
		{ "listener" } },
	[TM_SYNACK_RETRANSMITS] = { "accel_tcp_synack_retransmits_total", METRIC_COUNTER, "",
		"SYN-ACKs retransmitted by the listener (tcp/tcp_retransmit_synack)", { "listener" } },
	[TM_TIMEWAIT_SOCKETS] = { "accel_tcp_timewait_sockets", METRIC_GAUGE, "",
		"TIME_WAIT mini-sockets now, FIN_WAIT2 substate included, as /proc/net/sockstat tw (iter/tcp)" },
	[TM_TIMEWAIT_ENTRIES] = { "accel_tcp_timewait_entries_total", METRIC_COUNTER, "",
		"TIME_WAIT mini-sockets created (TcpExtTW + TcpExtTWKilled; timer/timer_start on tw_timer)" },
	[TM_LOCAL_PORT_RANGE_SIZE] = { "accel_tcp_local_port_range_size", METRIC_GAUGE, "",
		"Ports in net.ipv4.ip_local_port_range" },
	[TM_TIMEWAIT_DESTINATION_SOCKETS] = { "accel_tcp_timewait_destination_sockets", METRIC_GAUGE, "",
		"TIME_WAIT sockets per remote address:port, top 10 destinations", { "destination" } },
	[TM_LOCAL_PORTS_IN_USE] = { "accel_tcp_local_ports_in_use", METRIC_GAUGE, "",
		"Sockets (TIME_WAIT included) on a port of ip_local_port_range per remote address:port, top 10",
		{ "destination" } },
	[TM_LOCAL_PORT_RANGE_USED_RATIO] = { "accel_tcp_local_port_range_used_ratio", METRIC_GAUGE, "ratio",
		"Share of ip_local_port_range in use towards a remote address:port (1 = exhausted), top 10",
		{ "destination" } },
};

static struct metric_family *tcp_family(struct metrics *m, enum tcpstate_metric id)
{
	return metrics_family_of(m, &tcpstate_metrics[id]);
}

static const struct metric_family *tcp_get(const struct metrics *m, enum tcpstate_metric id)
{
	return metrics_get(m, &tcpstate_metrics[id]);
}

static int cmp_dest_tw(const void *a, const void *b)
{
	const struct dest *x = a, *y = b;

	return x->tw != y->tw ? (x->tw < y->tw ? 1 : -1) : (x->ports < y->ports) - (x->ports > y->ports);
}

static int cmp_dest_ports(const void *a, const void *b)
{
	const struct dest *x = a, *y = b;

	return x->ports != y->ports ? (x->ports < y->ports ? 1 : -1) : (x->tw < y->tw) - (x->tw > y->tw);
}

static void collect_listeners(struct metrics *m, const struct tcp_view *v)
{
	struct metric_family *f[TM_COUNT];

	/* the listener families, in their table order */
	for (int id = TM_ACCEPT_QUEUE_LENGTH; id <= TM_SYNACK_RETRANSMITS; id++) {
		f[id] = tcp_family(m, id);
		if (!f[id])
			return;
	}
	for (int i = 0; i < v->nl; i++) {
		const struct listener *l = &v->l[i];
		const uint64_t *c = l->c;

		if (l->live) {
			metric_put(f[TM_ACCEPT_QUEUE_LENGTH], l->accept_len, l->label);
			metric_put(f[TM_ACCEPT_QUEUE_MAX], l->accept_max, l->label);
			metric_put(f[TM_SYN_QUEUE_LENGTH], l->syn_len, l->label);
			metric_put(f[TM_SYN_QUEUE_MAX], l->accept_max, l->label);
		}
		metric_put(f[TM_SYN_RECEIVED], c[ACCEL_LQ_SYN_RECEIVED], l->label);
		metric_put(f[TM_SYN_QUEUE_OVERFLOWS], c[ACCEL_LQ_SYN_QUEUE_FULL] + c[ACCEL_LQ_SYN_DROP_OTHER],
			   l->label);
		metric_put(f[TM_ACCEPT_QUEUE_OVERFLOWS],
			   c[ACCEL_LQ_ACCEPT_FULL_SYN] + c[ACCEL_LQ_ACCEPT_FULL_ACK], l->label);
		metric_put(f[TM_LISTEN_DROPS], c[ACCEL_LQ_SYN_QUEUE_FULL] + c[ACCEL_LQ_SYN_DROP_OTHER] +
			   c[ACCEL_LQ_ACCEPT_FULL_SYN] + c[ACCEL_LQ_ACCEPT_FULL_ACK] +
			   c[ACCEL_LQ_ACK_DROP_OTHER], l->label);
		metric_put(f[TM_SYNCOOKIES_SENT], c[ACCEL_LQ_SYNCOOKIES], l->label);
		metric_put(f[TM_SYNACK_RETRANSMITS], c[ACCEL_LQ_SYNACK_RETRANS], l->label);
	}
}

static void collect_timewait(struct metrics *m, struct tcp_view *v, const uint64_t *ctr)
{
	struct metric_family *f;
	size_t n = 0;
	char label[64];

	metric_put(tcp_family(m, TM_TIMEWAIT_SOCKETS), v->tw_total);
	metric_put(tcp_family(m, TM_TIMEWAIT_ENTRIES), ctr[ACCEL_TCP_TW_ENTRIES]);
	metric_put(tcp_family(m, TM_LOCAL_PORT_RANGE_SIZE), v->port_hi - v->port_lo + 1);

	/* Compact the destination table, then the top N by TIME_WAIT and by
	 * local ports in use. */
	for (size_t i = 0; i < v->capd; i++)
		if (v->d[i].used)
			v->d[n++] = v->d[i];
	if (n)
		qsort(v->d, n, sizeof(*v->d), cmp_dest_tw);
	f = tcp_family(m, TM_TIMEWAIT_DESTINATION_SOCKETS);
	for (size_t i = 0; f && i < n && i < TCPSTATE_TOP_N && v->d[i].tw; i++) {
		addr_fmt(&v->d[i].a, label, sizeof(label));
		metric_put(f, v->d[i].tw, label);
	}
	if (n)
		qsort(v->d, n, sizeof(*v->d), cmp_dest_ports);
	f = tcp_family(m, TM_LOCAL_PORTS_IN_USE);
	for (size_t i = 0; f && i < n && i < TCPSTATE_TOP_N && v->d[i].ports; i++) {
		addr_fmt(&v->d[i].a, label, sizeof(label));
		metric_put(f, v->d[i].ports, label);
	}
	f = tcp_family(m, TM_LOCAL_PORT_RANGE_USED_RATIO);
	for (size_t i = 0; f && i < n && i < TCPSTATE_TOP_N && v->d[i].ports; i++) {
		addr_fmt(&v->d[i].a, label, sizeof(label));
		metric_put(f, (double)v->d[i].ports / (v->port_hi - v->port_lo + 1), label);
	}
	v->nd = n;	/* the hash is no longer usable; keep count for show() */
}

static int tcpstate_collect(struct accel_ctx *ctx, struct metrics *m)
{
	uint64_t trans[ACCEL_TCPSTATE_TRANS_SLOTS], ctr[ACCEL_TCP_CTR_MAX], rst[ACCEL_TCP_RST_REASONS];
	struct tcp_view v = { 0 };
	struct metric_family *f;
	char dir[PATH_MAX];
	int err;

	err = feature_pin_dir(ctx, feature_by_name("tcpstate"), dir, sizeof(dir));
	if (err)
		return err;
	if ((err = percpu_array_sum(dir, "tcp_state_transitions", trans, ACCEL_TCPSTATE_TRANS_SLOTS)) ||
	    (err = percpu_array_sum(dir, "tcp_counters", ctr, ACCEL_TCP_CTR_MAX)) ||
	    (err = percpu_array_sum(dir, "tcp_rst_reasons", rst, ACCEL_TCP_RST_REASONS)))
		return err;
	f = tcp_family(m, TM_STATE_TRANSITIONS);
	for (int fam = 0; f && fam < ACCEL_FAM_MAX; fam++)
		for (int s = 1; s < ACCEL_TCP_NSTATES; s++)
			if (tcp_state_names[s] && s != TCP_TIME_WAIT /* never seen: mini-socket */)
				metric_put(f, trans[fam * ACCEL_TCP_NSTATES + s], family_names[fam],
					   tcp_state_names[s]);

	metric_put(tcp_family(m, TM_LISTEN_DROPS_UNATTRIBUTED), ctr[ACCEL_TCP_LISTEN_UNMATCHED]);
	f = tcp_family(m, TM_RESETS_SENT);
	for (unsigned int r = 0; f && r < ACCEL_TCP_RST_REASONS; r++) {
		const char *name = rst_reason_name(r);
		char other[16];

		if (!rst[r] && r != 1 /* always show no_socket */)
			continue;
		if (!name) {
			snprintf(other, sizeof(other), "reason_%u", r);
			name = other;
		}
		metric_put(f, rst[r], name);
	}

	port_range(&v);
	err = view_read_iter(dir, &v);
	if (err) {
		pr_err("reading the tcp iterator failed: %s\n", strerror(-err));
		goto cleanup;
	}
	err = view_read_listeners(dir, &v, ctx->netns_cookie);
	if (err)
		goto cleanup;
	collect_listeners(m, &v);
	collect_timewait(m, &v, ctr);
cleanup:
	view_free(&v);
	return err;
}

/* ---- show ----------------------------------------------------------- */

static void show_listeners(const struct metrics *m, FILE *out)
{
	const struct metric_family *f = tcp_get(m, TM_SYN_RECEIVED);
	char aq[32], sq[32];

	fprintf(out, "TCP listeners\n  %-26s %11s %11s %9s %9s %9s %9s %9s\n", "listener",
		"accept q", "syn q", "syns", "accept", "syn q", "synack", "cookies");
	fprintf(out, "  %-26s %11s %11s %9s %9s %9s %9s %9s\n", "", "len/max", "len/max", "",
		"overflow", "overflow", "retrans", "");
	if (!f || !f->n) {
		fprintf(out, "  (none)\n");
		return;
	}
	for (int i = 0; i < f->n; i++) {
		const char *l = metric_lvalue(&f->s[i], 0);

		if (!l)
			continue;
		if (metric_get(tcp_get(m, TM_ACCEPT_QUEUE_LENGTH), l)) {
			snprintf(aq, sizeof(aq), "%.0f/%.0f", metric_value(tcp_get(m, TM_ACCEPT_QUEUE_LENGTH), l),
				 metric_value(tcp_get(m, TM_ACCEPT_QUEUE_MAX), l));
			snprintf(sq, sizeof(sq), "%.0f/%.0f", metric_value(tcp_get(m, TM_SYN_QUEUE_LENGTH), l),
				 metric_value(tcp_get(m, TM_SYN_QUEUE_MAX), l));
		} else {
			snprintf(aq, sizeof(aq), "closed");
			snprintf(sq, sizeof(sq), "-");
		}
		fprintf(out, "  %-26s %11s %11s %9.0f %9.0f %9.0f %9.0f %9.0f\n", l, aq, sq, f->s[i].value,
			metric_value(tcp_get(m, TM_ACCEPT_QUEUE_OVERFLOWS), l),
			metric_value(tcp_get(m, TM_SYN_QUEUE_OVERFLOWS), l),
			metric_value(tcp_get(m, TM_SYNACK_RETRANSMITS), l),
			metric_value(tcp_get(m, TM_SYNCOOKIES_SENT), l));
	}
}

static void show_timewait(const struct metrics *m, FILE *out)
{
	const struct metric_family *f = tcp_get(m, TM_LOCAL_PORTS_IN_USE);
	const struct metric_family *rs = tcp_get(m, TM_RESETS_SENT);
	double range = metric_value(tcp_get(m, TM_LOCAL_PORT_RANGE_SIZE));

	fprintf(out, "\nTIME_WAIT: %.0f sockets now, %.0f entered since attach; local port range %.0f ports\n",
		metric_value(tcp_get(m, TM_TIMEWAIT_SOCKETS)),
		metric_value(tcp_get(m, TM_TIMEWAIT_ENTRIES)), range);
	if (f && f->n) {
		fprintf(out, "  %-40s %10s %10s %8s\n", "destination", "time_wait", "ports", "of range");
		for (int i = 0; i < f->n; i++) {
			const char *d = metric_lvalue(&f->s[i], 0);

			fprintf(out, "  %-40s %10.0f %10.0f %7.2f%%\n", d ? d : "?",
				d ? metric_value(tcp_get(m, TM_TIMEWAIT_DESTINATION_SOCKETS), d) : 0,
				f->s[i].value, range ? 100.0 * f->s[i].value / range : 0);
		}
	}
	if (rs) {
		double total = 0;

		for (int i = 0; i < rs->n; i++)
			total += rs->s[i].value;
		fprintf(out, "\nResets sent: %.0f", total);
		for (int i = 0; i < rs->n; i++)
			if (rs->s[i].value)
				fprintf(out, "%s%s %.0f", i ? ", " : " (", metric_lvalue(&rs->s[i], 0),
					rs->s[i].value);
		fprintf(out, "%s\n", total ? ")" : "");
	}
}

static void tcpstate_show(struct accel_ctx *ctx, const struct metrics *m, FILE *out)
{
	const struct metric_family *f = tcp_get(m, TM_STATE_TRANSITIONS);

	(void)ctx;
	show_listeners(m, out);
	show_timewait(m, out);
	if (!f)
		return;
	fprintf(out, "\nTCP state transitions\n  %-14s %14s %14s\n", "state", "inet", "inet6");
	for (int s = 1; s < ACCEL_TCP_NSTATES; s++) {
		if (!tcp_state_names[s] || s == TCP_TIME_WAIT)
			continue;
		fprintf(out, "  %-14s %14.0f %14.0f\n", tcp_state_names[s],
			metric_value(f, "inet", tcp_state_names[s]),
			metric_value(f, "inet6", tcp_state_names[s]));
	}
}

/* attach --dry-run: tcpstate has nothing to choose; it says what it adds. */
static int tcpstate_plan(struct accel_ctx *ctx, FILE *out)
{
	(void)ctx;
	fprintf(out, "tcpstate: would attach tracepoints (inet_sock_set_state, tcp_retransmit_synack, "
		"tcp_send_reset, kfree_skb, consume_skb, timer_start) and the iter/tcp iterator: TCP states, "
		"per-listener queues, TIME_WAIT; nothing of the host's settings changes\n");
	return 0;
}

const struct accel_feature feature_tcpstate = {
	.name = "tcpstate",
	.summary = "TCP lifecycle: TIME_WAIT, SYN and accept queues per listener, resets",
	.probe = tcpstate_probe,
	.attach = tcpstate_attach,
	.plan = tcpstate_plan,
	.detach = tcpstate_detach,
	.attached = tcpstate_attached,
	.metrics = tcpstate_metrics,
	.nmetrics = TM_COUNT,
	.collect = tcpstate_collect,
	.show = tcpstate_show,
};
