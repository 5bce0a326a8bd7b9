// SPDX-License-Identifier: GPL-2.0-only
/*
 * `accelctl doctor`: read the kernel's own counters of a network namespace
 * and say what is wrong, with the evidence, the cause and the fix.
 *
 * Nothing needs to be attached.  Sources: /proc/net/snmp, netstat, snmp6
 * and sockstat of the namespace (main() has entered --netns, as for every
 * command), /proc/net/softnet_stat (host-wide: softnet_data is per CPU,
 * whichever namespace reads it), the namespace's sysctls (the host-wide
 * net.core.netdev_* in the namespace accelctl started in) and its TCP
 * sockets from sock_diag, the listeners' owners from /proc/PID/fd.  The
 * devices, and netacct's and tcpstate's counters when they are attached
 * in the namespace, are read by doctor_iface.c; the judging helpers every
 * finding uses are in doctor_judge.c.
 *
 * Without --since the counters count from the namespace's creation (from
 * boot in the initial one); with --since S two samples S seconds apart are
 * compared and the evidence says "over S s".  Gauges (sockets, queues)
 * are always the last sample's.  A source that cannot be read removes the
 * checks that need it, which are listed as not checked with the reason;
 * it never fails the run.  Exit 0 whenever the run completes, findings or
 * not (scripts read `--json`: .summary, .findings[].severity); 1 only when
 * no source at all could be read.
 *
 * Each finding's rules, thresholds and background: docs/doctor.md.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "accel.h"
#include "cli.h"
#include "bypass.h"
#include "doctor.h"
#include "doctor_judge.h"
#include "json.h"
#include "log.h"
#include "procnet.h"
#include "sysctl.h"
#include "sysenv.h"
#include "tune_item.h"
#include "util.h"

const char *const doctor_sysctl_keys[DS_MAX] = {
	[DS_PORT_RANGE] = "net.ipv4.ip_local_port_range",
	[DS_TW_REUSE] = "net.ipv4.tcp_tw_reuse",
	[DS_TIMESTAMPS] = "net.ipv4.tcp_timestamps",
	[DS_SOMAXCONN] = "net.core.somaxconn",
	[DS_MAX_SYN_BACKLOG] = "net.ipv4.tcp_max_syn_backlog",
	[DS_SYNCOOKIES] = "net.ipv4.tcp_syncookies",
	[DS_MAX_TW_BUCKETS] = "net.ipv4.tcp_max_tw_buckets",
	[DS_IPFRAG_HIGH] = "net.ipv4.ipfrag_high_thresh",
	[DS_IPFRAG_LOW] = "net.ipv4.ipfrag_low_thresh",
	[DS_IPFRAG_TIME] = "net.ipv4.ipfrag_time",
	[DS_IP6FRAG_HIGH] = "net.ipv6.ip6frag_high_thresh",
	[DS_IP6FRAG_LOW] = "net.ipv6.ip6frag_low_thresh",
	[DS_IP6FRAG_TIME] = "net.ipv6.ip6frag_time",
	[DS_SYNACK_RETRIES] = "net.ipv4.tcp_synack_retries",
	[DS_TCP_MTU_PROBING] = "net.ipv4.tcp_mtu_probing",
	[DS_NETDEV_MAX_BACKLOG] = "net.core.netdev_max_backlog",
	[DS_NETDEV_BUDGET] = "net.core.netdev_budget",
	[DS_NETDEV_BUDGET_USECS] = "net.core.netdev_budget_usecs",
	[DS_TCP_MAX_ORPHANS] = "net.ipv4.tcp_max_orphans",
};

const char *const doctor_source_names[SRC_MAX] = {
	[SRC_SNMP] = "/proc/net/snmp",
	[SRC_NETSTAT] = "/proc/net/netstat",
	[SRC_SNMP6] = "/proc/net/snmp6",
	[SRC_SOCKSTAT] = "/proc/net/sockstat",
	[SRC_SOFTNET] = "/proc/net/softnet_stat",
	[SRC_SOCKS] = "sock_diag (TCP sockets)",
	[SRC_PROCS] = "/proc/PID/fd and limits",
	[SRC_BYPASS] = "the attached bypass (pinned maps)",
	[SRC_LINKS] = "rtnetlink and ethtool netlink (devices)",
	[SRC_NETACCT] = "the attached netacct (pinned maps)",
	[SRC_IRQS] = "/proc/interrupts",
	[SRC_TCPSTATE] = "the attached tcpstate (pinned maps)",
};

static const char *const sev_names[] = { "info", "warning", "critical" };

/* ---- parsers ------------------------------------------------------------ */

static int counter_add(struct doctor_counters *c, const char *prefix, const char *name, uint64_t v)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		void *p = realloc(c->c, cap * sizeof(*c->c));

		if (!p)
			return -ENOMEM;
		c->c = p;
		c->cap = cap;
	}
	snprintf(c->c[c->n].name, sizeof(c->c[c->n].name), "%s%s", prefix, name);
	c->c[c->n++].value = v;
	return 0;
}

/* Next line of *p into a malloc'd copy; NULL at the end. */
static char *next_line(const char **p)
{
	const char *s = *p, *e;
	char *l;

	if (!s || !*s)
		return NULL;
	e = strchr(s, '\n');
	if (!e)
		e = s + strlen(s);
	l = strndup(s, e - s);
	*p = *e ? e + 1 : e;
	return l;
}

int doctor_parse_snmp(const char *text, struct doctor_counters *c)
{
	const char *p = text;
	char *hdr, *val;
	int err = 0, pairs = 0;

	while (!err && (hdr = next_line(&p))) {
		char *hs = NULL, *vs = NULL, *h, *v, *colon = strchr(hdr, ':');

		val = colon ? next_line(&p) : NULL;
		if (!colon || !val || strncmp(hdr, val, colon - hdr + 1)) {
			free(hdr);
			free(val);
			err = -EINVAL;
			break;
		}
		*colon = '\0';		/* the prefix: "TcpExt" */
		(void)strtok_r(val, " ", &vs);
		for (h = strtok_r(colon + 1, " ", &hs), v = strtok_r(NULL, " ", &vs); h && v && !err;
		     h = strtok_r(NULL, " ", &hs), v = strtok_r(NULL, " ", &vs))
			/* signed fields (Tcp: MaxConn -1) read as their two's complement */
			err = counter_add(c, hdr, h, strtoull(v, NULL, 10));
		pairs++;
		free(hdr);
		free(val);
	}
	return err ? err : pairs ? 0 : -EINVAL;
}

int doctor_parse_snmp6(const char *text, struct doctor_counters *c)
{
	const char *p = text;
	char *l;
	int err = 0, n = 0;

	while (!err && (l = next_line(&p))) {
		char k[DOCTOR_NAME_LEN];
		unsigned long long v;

		if (sscanf(l, "%47s %llu", k, &v) == 2) {
			err = counter_add(c, "", k, v);
			n++;
		}
		free(l);
	}
	return err ? err : n ? 0 : -EINVAL;
}

int doctor_parse_softnet(const char *text, struct doctor_softnet *s)
{
	const char *p = text;
	char *l;
	unsigned int line = 0;

	s->n = 0;
	while ((l = next_line(&p))) {
		uint64_t f[16] = { 0 };
		char *save = NULL, *tok;
		int nf = 0;
		void *q;

		for (tok = strtok_r(l, " \t", &save); tok && nf < 16; tok = strtok_r(NULL, " \t", &save))
			f[nf++] = strtoull(tok, NULL, 16);
		free(l);
		if (!nf)
			continue;
		if (nf < 3)
			return -EINVAL;
		q = realloc(s->cpu, (s->n + 1) * sizeof(*s->cpu));
		if (!q)
			return -ENOMEM;
		s->cpu = q;
		/* column 13 is the CPU (5.10+); lines skip offline CPUs */
		s->cpu[s->n++] = (struct doctor_softnet_cpu){
			.cpu = nf >= 13 ? (unsigned int)f[12] : line,
			.processed = f[0], .dropped = f[1], .squeezed = f[2],
		};
		line++;
	}
	return s->n ? 0 : -EINVAL;
}

int doctor_parse_sockstat_tw(const char *text, uint64_t *tw)
{
	const char *t = strstr(text, "TCP: ");
	const char *w = t ? strstr(t, " tw ") : NULL;

	if (!w)
		return -EINVAL;
	*tw = strtoull(w + 4, NULL, 10);
	return 0;
}

/* ---- reading ------------------------------------------------------------ */

/* Whole file into a malloc'd string (proc files have no size). */
int doctor_slurp(const char *path, char **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	size_t len = 0, cap = 16384;
	char *buf = NULL;

	*out = NULL;
	if (fd < 0) {
		err = errno;
		return err ? -err : -EIO;
	}
	for (;;) {
		ssize_t n;

		if (!buf || len + 1 >= cap) {
			char *p;

			cap = buf ? cap * 2 : cap;
			p = realloc(buf, cap);
			if (!p) {
				err = -ENOMEM;
				break;
			}
			buf = p;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

void doctor_source_fail(struct doctor_sample *s, enum doctor_source src, int err)
{
	s->have[src] = false;
	snprintf(s->err[src], sizeof(s->err[src]), "cannot read %s: %s", doctor_source_names[src],
		 err == -EINVAL ? "unexpected format" : strerror(-err));
}

static void read_proc(struct doctor_sample *s, enum doctor_source src)
{
	char *text = NULL;
	int err = doctor_slurp(doctor_source_names[src], &text);

	if (!err && !text)
		err = -EIO;
	if (!err) {
		switch (src) {
		case SRC_SNMP:
		case SRC_NETSTAT:
			err = doctor_parse_snmp(text, &s->ctr);
			break;
		case SRC_SNMP6:
			err = doctor_parse_snmp6(text, &s->ctr);
			break;
		case SRC_SOCKSTAT:
			err = doctor_parse_sockstat_tw(text, &s->sockstat_tw);
			break;
		case SRC_SOFTNET:
			err = doctor_parse_softnet(text, &s->softnet);
			break;
		default:
			err = -EINVAL;
		}
	}
	free(text);
	if (err)
		doctor_source_fail(s, src, err);
	else
		s->have[src] = true;
}

static int socks_add(struct doctor_socks *ss, const struct inet_diag_msg *m)
{
	struct doctor_sock *d;

	if (ss->n == ss->cap) {
		size_t cap = ss->cap ? ss->cap * 2 : 256;
		void *p = realloc(ss->s, cap * sizeof(*ss->s));

		if (!p)
			return -ENOMEM;
		ss->s = p;
		ss->cap = cap;
	}
	d = &ss->s[ss->n++];
	memset(d, 0, sizeof(*d));
	d->family = m->idiag_family;
	d->state = m->idiag_state;
	d->sport = ntohs(m->id.idiag_sport);
	d->dport = ntohs(m->id.idiag_dport);
	d->rqueue = m->idiag_rqueue;
	d->wqueue = m->idiag_wqueue;
	d->inode = m->idiag_inode;
	memcpy(d->saddr, m->id.idiag_src, 16);
	memcpy(d->daddr, m->id.idiag_dst, 16);
	/* a dual-stack socket talking IPv4: fold ::ffff:a.b.c.d to a.b.c.d */
	if (d->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)d->daddr) &&
	    (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)d->saddr) ||
	     IN6_IS_ADDR_UNSPECIFIED((struct in6_addr *)d->saddr)) && d->state != TCP_LISTEN) {
		d->family = AF_INET;
		memmove(d->saddr, d->saddr + 12, 4);
		memmove(d->daddr, d->daddr + 12, 4);
		memset(d->saddr + 4, 0, 12);
		memset(d->daddr + 4, 0, 12);
	}
	return 0;
}

/* Every TCP socket of one family, every state (TIME_WAIT and request
 * sockets included, as `ss -tan`). */
static int diag_dump(int family, struct doctor_socks *ss)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.r = { .sdiag_family = (uint8_t)family, .sdiag_protocol = IPPROTO_TCP,
		       .idiag_states = ~0u },
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	static char buf[65536] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG), err = 0;
	bool done = false;

	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	while (!done && !err) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n ? -errno : -EIO;
			break;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n) && !err; h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				err = e->error ? e->error : -EIO;
				break;
			}
			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				err = socks_add(ss, NLMSG_DATA(h));
		}
	}
out:
	close(fd);
	return err;
}

struct owners_find {
	struct doctor_socks *ss;
	size_t want;		/* listeners without an owner yet */
};

static bool owner_of_listener(int pid, unsigned long ino, void *arg)
{
	struct owners_find *of = arg;
	char path[64], comm[64];

	for (size_t i = 0; i < of->ss->n; i++) {
		struct doctor_sock *d = &of->ss->s[i];

		if (d->state != TCP_LISTEN || d->inode != ino || d->pid)
			continue;
		d->pid = pid;
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		if (read_file(path, comm, sizeof(comm)) > 0)
			snprintf(d->comm, sizeof(d->comm), "%s", strtrim(comm));
		of->want--;
	}
	return !of->want;
}

/* Who holds the listeners: one pass over /proc/PID/fd. */
static void listener_owners(struct doctor_socks *ss)
{
	struct owners_find of = { .ss = ss };

	for (size_t i = 0; i < ss->n; i++)
		of.want += ss->s[i].state == TCP_LISTEN && ss->s[i].inode;
	if (of.want)
		procnet_socket_fds(owner_of_listener, &of);
}

static void read_sysctl(struct doctor_sample *s, enum doctor_sysctl k)
{
	char canon[TUNE_KEY_LEN], path[PATH_MAX], err[128], buf[TUNE_VAL_LEN];

	s->sysctl[k][0] = '\0';
	if (sysctl_key_parse(doctor_sysctl_keys[k], canon, sizeof(canon), path, sizeof(path), err,
			     sizeof(err)) || sysctl_read(path, buf, sizeof(buf)))
		return;
	if (strlen(buf) < sizeof(s->sysctl[k]))
		memcpy(s->sysctl[k], buf, strlen(buf) + 1);
}

/* net.core.netdev_* exist in the initial namespace only. */
static void read_host_sysctls(struct doctor_sample *s)
{
	int self = -1;

	if (netns_origin_fd() >= 0) {
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0 || setns(netns_origin_fd(), CLONE_NEWNET)) {
			if (self >= 0)
				close(self);
			return;
		}
	}
	read_sysctl(s, DS_NETDEV_MAX_BACKLOG);
	read_sysctl(s, DS_NETDEV_BUDGET);
	read_sysctl(s, DS_NETDEV_BUDGET_USECS);
	read_sysctl(s, DS_TCP_MAX_ORPHANS);
	if (self >= 0) {
		if (setns(self, CLONE_NEWNET)) {
			/* never go on reading the wrong namespace */
			perror("accelctl: returning to the target network namespace");
			abort();
		}
		close(self);
	}
}

void doctor_sample_read(struct doctor_sample *s, bool socks)
{
	memset(s, 0, sizeof(*s));
	s->mono = mono_now();
	for (int src = SRC_SNMP; src <= SRC_SOFTNET; src++)
		read_proc(s, src);
	if (socks) {
		int err = diag_dump(AF_INET, &s->socks);

		if (!err)
			err = diag_dump(AF_INET6, &s->socks);
		if (err == -EAFNOSUPPORT || err == -ENOENT)
			err = 0;	/* no IPv6 here: the IPv4 dump is all */
		if (err) {
			doctor_source_fail(s, SRC_SOCKS, err);
		} else {
			s->have[SRC_SOCKS] = true;
			listener_owners(&s->socks);
		}
		err = doctor_procs_read(&s->procs);
		if (err)
			doctor_source_fail(s, SRC_PROCS, err);
		else
			s->have[SRC_PROCS] = true;
	}
	doctor_links_read(s);
	for (int k = 0; k < DS_MAX; k++)
		if (k < DS_NETDEV_MAX_BACKLOG)
			read_sysctl(s, k);
	read_host_sysctls(s);
}

void doctor_bypass_read(const struct accel_ctx *ctx, struct doctor_sample *s)
{
	struct doctor_bypass *b = &s->bypass;

	memset(b, 0, sizeof(*b));
	if (!s->have[SRC_SOCKS]) {
		doctor_source_fail(s, SRC_BYPASS, -ENODATA);
		return;
	}
	s->have[SRC_BYPASS] = true;
	for (size_t i = 0; i < s->socks.n; i++) {
		const struct doctor_sock *d = &s->socks.s[i];
		struct bypass_port_view v;
		bool dup = false;
		int err;

		if (d->state != TCP_LISTEN)
			continue;
		for (int k = 0; k < b->n; k++)
			dup |= b->p[k].port == d->sport;
		if (dup)
			continue;
		err = bypass_port_view(ctx, d->sport, &v);
		if (err == -ENOENT)
			return;		/* no bypass attached */
		if (err) {
			doctor_source_fail(s, SRC_BYPASS, err);
			return;
		}
		b->attached = true;
		b->total++;
		if (b->n < DOCTOR_MAX_BYPASS_PORTS)
			b->p[b->n++] = (struct doctor_bypass_port){ .port = d->sport, .state = v.state,
								    .seen = v.seen, .need = v.need,
								    .listener = d };
	}
}

void doctor_sample_free(struct doctor_sample *s)
{
	free(s->ctr.c);
	free(s->softnet.cpu);
	free(s->socks.s);
	memset(s, 0, sizeof(*s));
}

/* ---- judging ------------------------------------------------------------ */

static void fmt_addr(const struct doctor_sock *d, bool local, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(d->family, local ? d->saddr : d->daddr, a, sizeof(a));
	if (d->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, (unsigned int)(local ? d->sport : d->dport));
	else
		snprintf(buf, len, "%s:%u", a, (unsigned int)(local ? d->sport : d->dport));
}

static void endpoint(struct doctor_finding *f, const char *role, const struct doctor_sock *d, bool local)
{
	f->endpoint.role = role;
	if (!inet_ntop(d->family, local ? d->saddr : d->daddr, f->endpoint.addr, sizeof(f->endpoint.addr)))
		snprintf(f->endpoint.addr, sizeof(f->endpoint.addr), "?");
	f->endpoint.port = local ? d->sport : d->dport;
	f->endpoint.pid = d->pid;
	snprintf(f->endpoint.comm, sizeof(f->endpoint.comm), "%s", d->comm);
}

/* The finding is about listener d (its address in la), or, without one,
 * about the namespace. */
static void listener_subject(struct doctor_finding *f, const struct doctor_sock *d, char *la, size_t len)
{
	if (d) {
		fmt_addr(d, true, la, len);
		endpoint(f, "listener", d, true);
	}
	snprintf(f->subject, sizeof(f->subject), "%s%s", d ? "listener " : "namespace", la);
}

static bool is_loopback(const struct doctor_sock *d)
{
	if (d->family == AF_INET)
		return d->daddr[0] == 127;
	return IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)d->daddr);
}

static int dest_cmp(const void *x, const void *y)
{
	const struct doctor_sock *a = *(const struct doctor_sock *const *)x;
	const struct doctor_sock *b = *(const struct doctor_sock *const *)y;
	int c = (int)a->family - (int)b->family;

	if (!c)
		c = memcmp(a->daddr, b->daddr, 16);
	if (!c)
		c = (int)a->dport - (int)b->dport;
	return c;
}

struct dest {
	const struct doctor_sock *d;	/* one socket to it (address, port) */
	unsigned int total, tw, est;
};

static int dest_by_total(const void *x, const void *y)
{
	const struct dest *a = x, *b = y;

	return a->total < b->total ? 1 : a->total > b->total ? -1 : 0;
}

/* The namespace's port range and reuse settings, for judge_ports(). */
struct port_env {
	unsigned int lo, hi, width;
	uint64_t reuse, ts;
	bool have_reuse, have_ts;
};

/* Sockets on local ports of the range, grouped by destination, the
 * busiest first; how many destinations (dests has room for every socket). */
static size_t group_dests(const struct doctor_sample *s, const struct port_env *e,
			  const struct doctor_sock **v, size_t *nv, struct dest *dests)
{
	size_t nd = 0;

	*nv = 0;
	for (size_t i = 0; i < s->socks.n; i++) {
		const struct doctor_sock *d = &s->socks.s[i];

		if (d->state != TCP_LISTEN && d->state != TCP_CLOSE && d->sport >= e->lo && d->sport <= e->hi)
			v[(*nv)++] = d;
	}
	qsort(v, *nv, sizeof(*v), dest_cmp);
	for (size_t i = 0; i < *nv; i++) {
		if (!nd || dest_cmp(&v[i], &dests[nd - 1].d))
			dests[nd++] = (struct dest){ .d = v[i] };
		dests[nd - 1].total++;
		dests[nd - 1].tw += v[i]->state == TCP_TIME_WAIT;
		dests[nd - 1].est += v[i]->state == TCP_ESTABLISHED;
	}
	qsort(dests, nd, sizeof(*dests), dest_by_total);
	return nd;
}

static void ports_fixes(struct doctor_finding *f, const struct doctor_sample *s, const struct port_env *e,
			bool reuses, const char *dst)
{
	unsigned int nlo = e->lo < 16384 ? e->lo : 16384, nhi = 65535;
	char range[32];

	if (nlo != e->lo || nhi != e->hi) {
		snprintf(range, sizeof(range), "%u %u", nlo, nhi);
		dj_fix_sysctl(f, doctor_sysctl_keys[DS_PORT_RANGE], range, s->sysctl[DS_PORT_RANGE],
			      "%u ports instead of %u (even start, odd end keep connect()/bind() parity); "
			      "list servers listening in the range in net.ipv4.ip_local_reserved_ports",
			      nhi - nlo + 1, e->width);
	}
	if (!reuses)
		dj_fix_sysctl(f, doctor_sysctl_keys[DS_TW_REUSE], "1", s->sysctl[DS_TW_REUSE],
			      "lets connect() take a TIME_WAIT port to the same destination once it is 1 s old "
			      "(the connecting side only; %s)",
			      e->reuse == 2 ? "2 does so for loopback destinations only" : "0 never does");
	else
		dj_fix_text(f, "net.ipv4.tcp_tw_reuse %llu already reuses TIME_WAIT ports to %s after 1 s; "
			    "more reuse needs fewer connections", (unsigned long long)e->reuse, dst);
	if (e->have_ts && !e->ts)
		dj_fix_sysctl(f, doctor_sysctl_keys[DS_TIMESTAMPS], "1", s->sysctl[DS_TIMESTAMPS],
			      "tcp_tw_reuse needs timestamps (PAWS) at both ends");
	dj_fix_text(f, "application: keep connections to %s open and reuse them (HTTP keep-alive, a "
		    "connection pool) instead of one connection per request", dst);
}

/* false: below the threshold (and so is every later destination). */
static bool ports_finding(struct judge *j, const struct port_env *e, const struct dest *x)
{
	const struct doctor_sample *s = j->b;
	unsigned int pct = (unsigned int)((uint64_t)x->total * 100 / e->width);
	bool lb = is_loopback(x->d), reuses = e->have_reuse && (e->reuse == 1 || (e->reuse == 2 && lb));
	struct doctor_finding *f;
	char dst[64];

	if (pct < DOCTOR_PORTS_WARN_PCT)
		return false;
	f = dj_finding(j, "ephemeral-ports", pct >= DOCTOR_PORTS_CRIT_PCT ? SEV_CRITICAL : SEV_WARNING);
	if (!f)
		return false;
	fmt_addr(x->d, false, dst, sizeof(dst));
	endpoint(f, "destination", x->d, false);
	snprintf(f->subject, sizeof(f->subject), "destination %s", dst);
	snprintf(f->evidence, sizeof(f->evidence),
		 "%u sockets to %s hold %u%% of the %u local ports of ip_local_port_range %u-%u: "
		 "%u TIME_WAIT, %u established, %u other (now); net.ipv4.tcp_tw_reuse %s, "
		 "net.ipv4.tcp_timestamps %s",
		 x->total, dst, pct, e->width, e->lo, e->hi, x->tw, x->est, x->total - x->tw - x->est,
		 dj_sysctl_or(s, DS_TW_REUSE), dj_sysctl_or(s, DS_TIMESTAMPS));
	dj_value(f, "sockets", x->total);
	dj_value(f, "time_wait", x->tw);
	dj_value(f, "established", x->est);
	dj_value(f, "range_size", e->width);
	dj_value(f, "used_pct", pct);
	if (reuses)
		snprintf(f->cause, sizeof(f->cause),
			 "connections to %s are opened and closed faster than TIME_WAIT (60 s) gives their local "
			 "ports back, and tcp_tw_reuse %llu reuses a TIME_WAIT port only once it is 1 s old: "
			 "new connections to it fail with EADDRNOTAVAIL once the range is used up", dst,
			 (unsigned long long)e->reuse);
	else
		snprintf(f->cause, sizeof(f->cause),
			 "short connections to %s leave their local port in TIME_WAIT for 60 s and tcp_tw_reuse "
			 "%s does not reuse them for this destination: past %u new connections a minute to it, "
			 "connect() fails with EADDRNOTAVAIL", dst, dj_sysctl_or(s, DS_TW_REUSE), e->width);
	ports_fixes(f, s, e, reuses, dst);
	return true;
}

/* (1) ephemeral-port pressure per destination. */
static void judge_ports(struct judge *j)
{
	const struct doctor_sample *s = j->b;
	const struct doctor_sock **v = NULL;
	struct dest *dests = NULL;
	struct port_env e = { .ts = 1 };
	size_t nv = 0, nd;

	if (!s->have[SRC_SOCKS]) {
		dj_check(j, "ephemeral-ports", false, "%s", s->err[SRC_SOCKS]);
		return;
	}
	if (sscanf(s->sysctl[DS_PORT_RANGE], "%u %u", &e.lo, &e.hi) != 2 || e.lo > e.hi) {
		dj_check(j, "ephemeral-ports", false, "cannot read net.ipv4.ip_local_port_range");
		return;
	}
	e.width = e.hi - e.lo + 1;
	e.have_reuse = dj_sysctl_u64(s, DS_TW_REUSE, &e.reuse);
	e.have_ts = dj_sysctl_u64(s, DS_TIMESTAMPS, &e.ts);
	v = calloc(s->socks.n + 1, sizeof(*v));
	dests = calloc(s->socks.n + 1, sizeof(*dests));
	if (!v || !dests) {
		dj_check(j, "ephemeral-ports", false, "out of memory");
		goto out;
	}
	nd = group_dests(s, &e, v, &nv, dests);
	dj_check(j, "ephemeral-ports", true,
		 "%zu TCP sockets, %zu on local ports of ip_local_port_range %u-%u (%u ports) to %zu destination(s)",
		 s->socks.n, nv, e.lo, e.hi, e.width, nd);
	for (size_t i = 0; i < nd && i < 5; i++)
		if (!ports_finding(j, &e, &dests[i]))
			break;
out:
	free(v);
	free(dests);
}

/* Does listener l own local address/port of socket d (same address, or a
 * wildcard listener)? */
static bool listener_owns(const struct doctor_sock *l, const struct doctor_sock *d)
{
	static const uint8_t zero[16];
	size_t alen;

	if (l->sport != d->sport)
		return false;
	if (l->family == d->family) {
		alen = l->family == AF_INET ? 4 : 16;
		return !memcmp(l->saddr, d->saddr, alen) || !memcmp(l->saddr, zero, alen);
	}
	/* a dual-stack [::] listener owns IPv4 requests */
	return l->family == AF_INET6 && d->family == AF_INET && !memcmp(l->saddr, zero, 16);
}

static void owner_phrase(const struct doctor_sock *l, char *buf, size_t len)
{
	if (l->pid)
		snprintf(buf, len, "pid %d (%s)", l->pid, l->comm[0] ? l->comm : "?");
	else
		snprintf(buf, len, "the process holding socket inode %u (not found in /proc/*/fd: "
			 "not root, or it has exited)", l->inode);
}

/* (1b) connections closed without TIME_WAIT: tcp_max_tw_buckets reached
 * (tcp_time_wait() counts TCPTimeWaitOverflow when inet_twsk_alloc()
 * finds the namespace's TIME_WAIT count at the limit). */
static void judge_timewait(struct judge *j)
{
	const struct doctor_sample *s = j->b;
	uint64_t ovf, max = 0;
	bool have_max = dj_sysctl_u64(s, DS_MAX_TW_BUCKETS, &max), have_tw = s->have[SRC_SOCKSTAT], now;
	struct doctor_finding *f;
	char tw[32], val[32];

	if (!dj_have(j, SRC_NETSTAT) || !dj_delta(j, "TcpExtTCPTimeWaitOverflow", &ovf)) {
		dj_check(j, "timewait-overflow", false, "%s",
		      dj_have(j, SRC_NETSTAT) ? "no TcpExtTCPTimeWaitOverflow in /proc/net/netstat" :
		      dj_src_err(j, SRC_NETSTAT));
		return;
	}
	snprintf(tw, sizeof(tw), "%llu", (unsigned long long)s->sockstat_tw);
	dj_check(j, "timewait-overflow", true, "TcpExtTCPTimeWaitOverflow +%llu %s; TIME_WAIT now %s of "
	      "net.ipv4.tcp_max_tw_buckets %s", (unsigned long long)ovf, j->when,
	      have_tw ? tw : "unknown", dj_sysctl_or(s, DS_MAX_TW_BUCKETS));
	if (!ovf)
		return;
	now = have_tw && have_max && s->sockstat_tw >= max;
	f = dj_finding(j, "timewait-overflow", dj_history(j, SEV_WARNING, now));
	if (!f)
		return;
	snprintf(f->subject, sizeof(f->subject), "namespace");
	snprintf(f->evidence, sizeof(f->evidence),
		 "TcpExtTCPTimeWaitOverflow +%llu %s; /proc/net/sockstat tw %s now%s; "
		 "net.ipv4.tcp_max_tw_buckets %s",
		 (unsigned long long)ovf, j->when, have_tw ? tw : "unknown", now ? " (at the limit)" : "",
		 dj_sysctl_or(s, DS_MAX_TW_BUCKETS));
	dj_value(f, "TCPTimeWaitOverflow", ovf);
	if (have_tw)
		dj_value(f, "time_wait", s->sockstat_tw);
	if (have_max)
		dj_value(f, "max_tw_buckets", max);
	snprintf(f->cause, sizeof(f->cause),
		 "the namespace held net.ipv4.tcp_max_tw_buckets (%s) TIME_WAIT sockets, so %llu connections "
		 "were closed without TIME_WAIT: a late segment of one of them can be taken for part of a new "
		 "connection with the same addresses and ports (a reset, rarely wrong data); the kernel logs "
		 "\"time wait bucket table overflow\"", dj_sysctl_or(s, DS_MAX_TW_BUCKETS), (unsigned long long)ovf);
	if (have_max) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)(max * 2 > 65536 ? max * 2 : 65536));
		dj_fix_sysctl(f, doctor_sysctl_keys[DS_MAX_TW_BUCKETS], val, s->sysctl[DS_MAX_TW_BUCKETS],
			   "room for the TIME_WAIT sockets of a minute of closes (a few hundred bytes each, "
			   "no file descriptor)");
	}
	dj_fix_text(f, "a low tcp_max_tw_buckets is no cure for port exhaustion: it drops TIME_WAIT's protection; "
		 "reuse connections (keep-alive, pools) or use net.ipv4.tcp_tw_reuse on the connecting side");
}

/* (2) accept-queue overflow per listener. */
struct accept_ovf {
	uint64_t ovf, drops;		/* namespace-wide */
	bool exact;			/* tcpstate's own count for this listener: */
	uint64_t lovf;
};

static void accept_evidence(struct judge *j, struct doctor_finding *f, const struct doctor_sock *l,
			    const struct accept_ovf *o, const char *la, const char *who)
{
	const char *state = l->rqueue > l->wqueue ? "full" : l->rqueue == l->wqueue ? "at its limit" : "not full";

	if (o->exact)
		snprintf(f->evidence, sizeof(f->evidence),
			 "accel_tcp_accept_queue_overflows_total +%llu for %s %s, exact (tcpstate); namespace-wide "
			 "TcpExtListenOverflows +%llu, TcpExtListenDrops +%llu; accept queue %u/%u now (%s); "
			 "held by %s; net.core.somaxconn %s", (unsigned long long)o->lovf, la, j->when,
			 (unsigned long long)o->ovf, (unsigned long long)o->drops, l->rqueue, l->wqueue, state,
			 who, dj_sysctl_or(j->b, DS_SOMAXCONN));
	else
		snprintf(f->evidence, sizeof(f->evidence),
			 "TcpExtListenOverflows +%llu, TcpExtListenDrops +%llu %s; accept queue of %s %u/%u now "
			 "(%s); held by %s; net.core.somaxconn %s",
			 (unsigned long long)o->ovf, (unsigned long long)o->drops, j->when, la, l->rqueue,
			 l->wqueue, state, who, dj_sysctl_or(j->b, DS_SOMAXCONN));
	dj_value(f, "ListenOverflows", o->ovf);
	dj_value(f, "ListenDrops", o->drops);
	if (o->exact)
		dj_value(f, "accept_queue_overflows", o->lovf);
	dj_value(f, "accept_queue_len", l->rqueue);
	dj_value(f, "accept_queue_max", l->wqueue);
	if (l->pid)
		dj_value(f, "pid", (uint64_t)l->pid);
}

/* One listener's finding: full now (sock_diag), or counted by tcpstate. */
static void accept_finding(struct judge *j, const struct doctor_sock *l, const struct accept_ovf *o)
{
	const struct doctor_sample *s = j->b;
	bool full = l->rqueue && l->rqueue >= l->wqueue, capped;
	struct doctor_finding *f = dj_finding(j, "accept-queue-overflow",
					      o->exact ? dj_history(j, SEV_WARNING, full) : SEV_WARNING);
	char la[64], who[96], val[32];
	uint64_t smc = 0;

	if (!f)
		return;
	fmt_addr(l, true, la, sizeof(la));
	owner_phrase(l, who, sizeof(who));
	endpoint(f, "listener", l, true);
	capped = dj_sysctl_u64(s, DS_SOMAXCONN, &smc) && l->wqueue >= smc;
	snprintf(f->subject, sizeof(f->subject), "listener %s", la);
	accept_evidence(j, f, l, o, la, who);
	snprintf(f->cause, sizeof(f->cause),
		 "%s accepts connections slower than they arrive and its accept queue (min(listen backlog, "
		 "somaxconn) = %u) %s, so the kernel drops the SYNs and completed handshakes that "
		 "do not fit, and clients wait for retransmits (1 s, 3 s, ...)", who, l->wqueue,
		 full ? "is full" : "was full");
	if (capped) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)(smc * 2 > 4096 ? smc * 2 : 4096));
		dj_fix_sysctl(f, doctor_sysctl_keys[DS_SOMAXCONN], val, s->sysctl[DS_SOMAXCONN],
			      "the accept queue of %s is capped by somaxconn; the listener takes the new limit "
			      "at its next listen() (restart or reload %s)", la, who);
		dj_fix_text(f, "application: %s must pass a backlog of at least %s to listen(), and accept "
			    "faster (more accepting threads)", who, val);
	} else {
		dj_fix_text(f, "application: listen(..., %u) in %s caps the accept queue below "
			    "net.core.somaxconn %s: raise the backlog it passes to listen() (its configuration), "
			    "or accept faster (more accepting threads)", l->wqueue, who, dj_sysctl_or(s, DS_SOMAXCONN));
	}
}

/* The live listener tcpstate labels la ("127.0.0.1:7301", "[::1]:80"). */
static const struct doctor_sock *listener_by_label(const struct doctor_sample *s, const char *la)
{
	char x[64];

	for (size_t i = 0; s->have[SRC_SOCKS] && i < s->socks.n; i++) {
		if (s->socks.s[i].state != TCP_LISTEN)
			continue;
		fmt_addr(&s->socks.s[i], true, x, sizeof(x));
		if (!strcmp(x, la))
			return &s->socks.s[i];
	}
	return NULL;
}

/* With tcpstate attached: its per-listener counts, exact; how many found. */
static int accept_exact(struct judge *j, struct accept_ovf o)
{
	const struct doctor_sample *b = j->b, *a = j->a;
	int n = 0;

	if (!b->tcpstate.attached || (a && !a->tcpstate.attached))
		return 0;
	for (int i = 0; i < b->tcpstate.n && n < 8; i++) {
		const struct doctor_tcpl *x = &b->tcpstate.l[i];
		const struct doctor_sock *l = listener_by_label(b, x->label);
		uint64_t before = 0;

		for (int k = 0; a && k < a->tcpstate.n; k++)
			if (!strcmp(a->tcpstate.l[k].label, x->label))
				before = a->tcpstate.l[k].accept_ovf;
		o.exact = true;
		o.lovf = x->accept_ovf > before ? x->accept_ovf - before : 0;
		if (!o.lovf || !l)
			continue;
		accept_finding(j, l, &o);
		n++;
	}
	return n;
}

static void judge_accept(struct judge *j)
{
	const struct doctor_sample *s = j->b;
	struct accept_ovf o = { 0 };
	int nfull = 0;

	if (!dj_have(j, SRC_NETSTAT) || !dj_delta(j, "TcpExtListenOverflows", &o.ovf)) {
		dj_check(j, "accept-queue-overflow", false, "%s",
			 dj_have(j, SRC_NETSTAT) ? "no TcpExtListenOverflows in /proc/net/netstat" :
			 dj_src_err(j, SRC_NETSTAT));
		return;
	}
	(void)dj_delta(j, "TcpExtListenDrops", &o.drops);
	dj_check(j, "accept-queue-overflow", true, "TcpExtListenOverflows +%llu %s%s%s",
		 (unsigned long long)o.ovf, j->when,
		 s->have[SRC_SOCKS] ? ", listeners' accept queues (sock_diag)" : "",
		 s->tcpstate.attached ? ", per-listener overflows, exact (tcpstate)" : "");
	if (!o.ovf)
		return;
	nfull = accept_exact(j, o);
	for (size_t i = 0; !nfull && s->have[SRC_SOCKS] && i < s->socks.n; i++) {
		const struct doctor_sock *l = &s->socks.s[i];

		/* full is more than the backlog (sk_acceptq_is_full()); at the
		 * backlog, the next completed handshake still fits */
		if (l->state != TCP_LISTEN || !l->rqueue || l->rqueue < l->wqueue)
			continue;
		accept_finding(j, l, &o);
		if (++nfull >= 8)
			break;
	}
	if (!nfull) {
		struct doctor_finding *f = dj_finding(j, "accept-queue-overflow", dj_history(j, SEV_WARNING, false));

		if (!f)
			return;
		snprintf(f->subject, sizeof(f->subject), "namespace");
		snprintf(f->evidence, sizeof(f->evidence),
			 "TcpExtListenOverflows +%llu, TcpExtListenDrops +%llu %s; %s; net.core.somaxconn %s",
			 (unsigned long long)o.ovf, (unsigned long long)o.drops, j->when,
			 s->have[SRC_SOCKS] ? "no listener's accept queue is at its limit now" : s->err[SRC_SOCKS],
			 dj_sysctl_or(s, DS_SOMAXCONN));
		dj_value(f, "ListenOverflows", o.ovf);
		dj_value(f, "ListenDrops", o.drops);
		snprintf(f->cause, sizeof(f->cause),
			 "a listener's accept queue was full at some time %s, so completed handshakes were dropped",
			 j->when);
		dj_fix_text(f, "run `accelctl doctor --since 10` while it happens to name the listener, or attach "
			 "tcpstate (`accelctl attach --features tcpstate`) for per-listener overflow counters");
	}
}

/* (3) SYN-queue overflow, and syncookies sent. */
struct syn_view {
	uint64_t qfull, cookies, syn_drops, cookie_mode, msb;
	bool have_cm, have_msb;
	const struct doctor_sock *top[3];	/* the fullest SYN queues now */
	unsigned int topq[3];
	char lst[256];				/* them, as text */
};

static void syn_top(const struct doctor_sample *s, struct syn_view *v)
{
	size_t off = 0;

	/* the fullest SYN queues: request sockets per listener */
	for (size_t i = 0; s->have[SRC_SOCKS] && i < s->socks.n; i++) {
		const struct doctor_sock *l = &s->socks.s[i];
		unsigned int q = 0;

		if (l->state != TCP_LISTEN)
			continue;
		for (size_t k = 0; k < s->socks.n; k++)
			q += s->socks.s[k].state == TCP_SYN_RECV && listener_owns(l, &s->socks.s[k]);
		for (int t = 0; t < 3; t++) {
			if (q > v->topq[t]) {
				memmove(&v->top[t + 1], &v->top[t], (2 - t) * sizeof(v->top[0]));
				memmove(&v->topq[t + 1], &v->topq[t], (2 - t) * sizeof(v->topq[0]));
				v->top[t] = l;
				v->topq[t] = q;
				break;
			}
		}
	}
	for (int t = 0; t < 3 && v->top[t]; t++) {
		char la[64], who[96];

		fmt_addr(v->top[t], true, la, sizeof(la));
		owner_phrase(v->top[t], who, sizeof(who));
		(void)str_appendf(v->lst, sizeof(v->lst), &off, "%s%s %u/%u (%s)", t ? ", " : "", la, v->topq[t],
				  v->top[t]->wqueue, who);
	}
	if (!off)
		(void)str_appendf(v->lst, sizeof(v->lst), &off, "%s", s->have[SRC_SOCKS] ?
				  "no listener has requests queued now" : s->err[SRC_SOCKS]);
}

static void syn_queue_finding(struct judge *j, const struct syn_view *v)
{
	const struct doctor_sample *s = j->b;
	bool now = v->top[0] && v->topq[0] >= v->top[0]->wqueue;
	struct doctor_finding *f = dj_finding(j, "syn-queue-overflow", dj_history(j, SEV_WARNING, now));
	char val[32], la[64] = "";

	if (!f)
		return;
	listener_subject(f, v->top[0], la, sizeof(la));
	snprintf(f->evidence, sizeof(f->evidence),
		 "TcpExtTCPReqQFullDrop +%llu, TcpExtListenDrops - TcpExtListenOverflows +%llu %s; "
		 "SYN queues now (requests/limit): %s; net.ipv4.tcp_syncookies %s, "
		 "net.ipv4.tcp_max_syn_backlog %s",
		 (unsigned long long)v->qfull, (unsigned long long)v->syn_drops, j->when, v->lst,
		 dj_sysctl_or(s, DS_SYNCOOKIES), dj_sysctl_or(s, DS_MAX_SYN_BACKLOG));
	dj_value(f, "TCPReqQFullDrop", v->qfull);
	dj_value(f, "syn_drops", v->syn_drops);
	if (v->top[0])
		dj_value(f, "syn_queue_len", v->topq[0]);
	/* tcp_syn_flood_action() counts TCPReqQFullDrop only with
	 * syncookies off; every such drop is also a ListenDrop */
	if (v->qfull)
		snprintf(f->cause, sizeof(f->cause),
			 "SYNs arrived while a listener's SYN queue (as long as its accept backlog) was full "
			 "and syncookies were off%s, so the kernel dropped them: clients retry after 1 s, "
			 "3 s, ...", v->have_cm && v->cookie_mode ? " when it happened (on now)" : "");
	else if (v->have_cm && !v->cookie_mode)
		snprintf(f->cause, sizeof(f->cause),
			 "listeners dropped SYNs while their SYN queues were not full: with syncookies off, "
			 "the kernel keeps the last quarter of net.ipv4.tcp_max_syn_backlog (%s) for peers "
			 "it has talked to before, the likeliest cause (the counters do not separate it from "
			 "drops for memory or a missing route)", dj_sysctl_or(s, DS_MAX_SYN_BACKLOG));
	else
		snprintf(f->cause, sizeof(f->cause),
			 "listeners dropped SYNs or completed handshakes for a reason these counters do not "
			 "name (no memory, no route back, a child socket that could not be created); the "
			 "queues were not full, and with syncookies on tcp_max_syn_backlog does not drop");
	if (v->have_cm && !v->cookie_mode)
		dj_fix_sysctl(f, doctor_sysctl_keys[DS_SYNCOOKIES], "1", s->sysctl[DS_SYNCOOKIES],
			   "answer with a cookie when the SYN queue is full: connections still succeed "
			   "(cookie connections lose some TCP options); 2 would use cookies always");
	if (v->syn_drops > v->qfull && v->have_msb && v->have_cm && !v->cookie_mode) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)(v->msb * 2 > 4096 ? v->msb * 2 : 4096));
		dj_fix_sysctl(f, doctor_sysctl_keys[DS_MAX_SYN_BACKLOG], val, s->sysctl[DS_MAX_SYN_BACKLOG],
			   "more room before the kernel keeps the SYN queue's last quarter for known peers");
	}
	if (v->qfull)
		dj_fix_text(f, "application: a larger listen() backlog (with net.core.somaxconn %s as its cap) "
			 "is a larger SYN queue%s%s", dj_sysctl_or(s, DS_SOMAXCONN), v->top[0] ? " for " : "",
			 la);
	dj_fix_text(f, "if the SYNs come from spoofed sources (a SYN flood), syncookies are the defence; "
		 "the SYN-ACK retries (net.ipv4.tcp_synack_retries) hold each request up to ~63 s");
}

static void syncookies_finding(struct judge *j, const struct syn_view *v)
{
	const struct doctor_sample *s = j->b;
	struct doctor_finding *f = dj_finding(j, "syncookies-sent", SEV_INFO);
	char la[64] = "";

	if (!f)
		return;
	listener_subject(f, v->top[0], la, sizeof(la));
	snprintf(f->evidence, sizeof(f->evidence),
		 "TcpExtTCPReqQFullDoCookies +%llu %s; SYN queues now (requests/limit): %s; "
		 "net.ipv4.tcp_syncookies %s",
		 (unsigned long long)v->cookies, j->when, v->lst, dj_sysctl_or(s, DS_SYNCOOKIES));
	dj_value(f, "TCPReqQFullDoCookies", v->cookies);
	if (v->have_cm && v->cookie_mode == 2) {
		snprintf(f->cause, sizeof(f->cause),
			 "net.ipv4.tcp_syncookies 2 answers every SYN with a syncookie, queue full or not "
			 "(%llu so far): those connections succeed, but without the TCP options a cookie "
			 "cannot carry (window scaling and SACK need timestamps)", (unsigned long long)v->cookies);
		dj_fix_sysctl(f, doctor_sysctl_keys[DS_SYNCOOKIES], "1", s->sysctl[DS_SYNCOOKIES],
			   "cookies only when a SYN queue is full (the kernel's default); 2 is for testing");
	} else {
		snprintf(f->cause, sizeof(f->cause),
			 "a listener's SYN queue was full, so the kernel answered %llu SYNs with a syncookie "
			 "instead of queueing them: those connections succeed, but without the TCP options a "
			 "cookie cannot carry (window scaling and SACK need timestamps)",
			 (unsigned long long)v->cookies);
		dj_fix_text(f, "legitimate bursts: raise the listener's listen() backlog and net.core.somaxconn "
			 "(now %s) so the SYN queue holds them; a SYN flood: nothing, cookies are the defence",
			 dj_sysctl_or(s, DS_SOMAXCONN));
	}
}

static void judge_syn(struct judge *j)
{
	const struct doctor_sample *s = j->b;
	struct syn_view v = { 0 };
	uint64_t ldrops = 0, lovf = 0;

	v.have_cm = dj_sysctl_u64(s, DS_SYNCOOKIES, &v.cookie_mode);
	v.have_msb = dj_sysctl_u64(s, DS_MAX_SYN_BACKLOG, &v.msb);
	if (!dj_have(j, SRC_NETSTAT) || !dj_delta(j, "TcpExtListenDrops", &ldrops) ||
	    !dj_delta(j, "TcpExtListenOverflows", &lovf)) {
		const char *why = dj_have(j, SRC_NETSTAT) ? "no TcpExtListenDrops in /proc/net/netstat" :
			dj_src_err(j, SRC_NETSTAT);

		dj_check(j, "syn-queue-overflow", false, "%s", why);
		dj_check(j, "syncookies-sent", false, "%s", why);
		return;
	}
	(void)dj_delta(j, "TcpExtTCPReqQFullDrop", &v.qfull);
	(void)dj_delta(j, "TcpExtTCPReqQFullDoCookies", &v.cookies);
	v.syn_drops = ldrops > lovf ? ldrops - lovf : 0;
	dj_check(j, "syn-queue-overflow", true, "TcpExtTCPReqQFullDrop +%llu, ListenDrops - ListenOverflows +%llu %s",
		 (unsigned long long)v.qfull, (unsigned long long)v.syn_drops, j->when);
	dj_check(j, "syncookies-sent", true, "TcpExtTCPReqQFullDoCookies +%llu %s", (unsigned long long)v.cookies,
		 j->when);
	if (!v.qfull && !v.syn_drops && !v.cookies)
		return;
	syn_top(s, &v);
	if (v.qfull || v.syn_drops)
		syn_queue_finding(j, &v);
	if (v.cookies)
		syncookies_finding(j, &v);
}

/* (5) reassembly timeouts and failures, IPv4 and IPv6. */
struct frag_view {
	bool v6;
	enum doctor_sysctl khigh, klow, ktime;
	const char *id_t, *id_f;
	/* literals: a finding's values keep the name pointers */
	const char *n_fail, *n_tmo, *n_req, *n_ok;
	uint64_t fails, tmo, reqds, oks, other, ovl, high, ftime;
};

static void frag_timeout_finding(struct judge *j, const struct frag_view *v)
{
	const struct doctor_sample *s = j->b;
	struct doctor_finding *f = dj_finding(j, v->id_t, dj_history(j, SEV_WARNING, false));

	if (!f)
		return;
	snprintf(f->subject, sizeof(f->subject), "%s reassembly", v->v6 ? "IPv6" : "IPv4");
	snprintf(f->evidence, sizeof(f->evidence),
		 "%s +%llu, %s +%llu, %s +%llu, %s +%llu %s; %s %s s",
		 v->n_tmo, (unsigned long long)v->tmo, v->n_fail, (unsigned long long)v->fails, v->n_req,
		 (unsigned long long)v->reqds, v->n_ok, (unsigned long long)v->oks, j->when,
		 doctor_sysctl_keys[v->ktime], dj_sysctl_or(s, v->ktime));
	dj_value(f, v->n_tmo, v->tmo);
	dj_value(f, v->n_fail, v->fails);
	dj_value(f, v->n_req, v->reqds);
	snprintf(f->cause, sizeof(f->cause),
		 "%llu fragmented datagrams were still missing a fragment after %s %s s, and the fragments "
		 "that had arrived were dropped with them: a fragment was lost on the way (loss, a firewall "
		 "dropping non-first fragments, a path MTU below the sender's) or came too late",
		 (unsigned long long)v->tmo, doctor_sysctl_keys[v->ktime], dj_sysctl_or(s, v->ktime));
	if (s->sysctl[v->ktime][0] && v->ftime < 30)
		dj_fix_sysctl(f, doctor_sysctl_keys[v->ktime], "30", s->sysctl[v->ktime],
			   "the kernel's default: fragments that arrive later than %s s are dropped with the "
			   "rest", dj_sysctl_or(s, v->ktime));
	else
		dj_fix_text(f, "%s %s s is not the problem: waiting longer does not bring a lost fragment back",
			 doctor_sysctl_keys[v->ktime], dj_sysctl_or(s, v->ktime));
	dj_fix_text(f, "application/sender: send datagrams that fit the path MTU (UDP payload <= MTU - %d "
		 "bytes), so that nothing is fragmented; one lost fragment loses the whole datagram",
		 v->v6 ? 48 : 28);
}

static void frag_fail_finding(struct judge *j, const struct frag_view *v)
{
	const struct doctor_sample *s = j->b;
	struct doctor_finding *f = dj_finding(j, v->id_f, dj_history(j, SEV_WARNING, false));
	char val[32];

	if (!f)
		return;
	snprintf(f->subject, sizeof(f->subject), "%s reassembly", v->v6 ? "IPv6" : "IPv4");
	snprintf(f->evidence, sizeof(f->evidence),
		 "%s +%llu of which %s +%llu, %s +%llu%s%s %s; %s %s, %s %s",
		 v->n_fail, (unsigned long long)v->fails, v->n_tmo, (unsigned long long)v->tmo, v->n_req,
		 (unsigned long long)v->reqds, v->v6 ? "" : ", IpExtReasmOverlaps +",
		 v->v6 ? "" : (snprintf(val, sizeof(val), "%llu", (unsigned long long)v->ovl), val), j->when,
		 doctor_sysctl_keys[v->khigh], dj_sysctl_or(s, v->khigh), doctor_sysctl_keys[v->klow],
		 dj_sysctl_or(s, v->klow));
	dj_value(f, v->n_fail, v->fails);
	dj_value(f, "not_timeout", v->other);
	if (!v->v6)
		dj_value(f, "IpExtReasmOverlaps", v->ovl);
	snprintf(f->cause, sizeof(f->cause),
		 "%llu fragments were dropped on arrival, not by the timeout: the memory for incomplete "
		 "datagrams had reached %s (%s bytes)%s", (unsigned long long)v->other,
		 doctor_sysctl_keys[v->khigh], dj_sysctl_or(s, v->khigh),
		 v->ovl ? ", or fragments overlapped (a sender or middlebox bug, or an attack)" : "");
	snprintf(val, sizeof(val), "%llu", (unsigned long long)(v->high * 2 > 4194304 ? v->high * 2 : 4194304));
	dj_fix_sysctl(f, doctor_sysctl_keys[v->khigh], val, s->sysctl[v->khigh],
		   "more memory for datagrams being reassembled; %s (now %s) must stay below it",
		   doctor_sysctl_keys[v->klow], dj_sysctl_or(s, v->klow));
	dj_fix_text(f, "application/sender: datagrams that fit the path MTU need no reassembly at all");
}

static void judge_frag(struct judge *j, bool v6)
{
	const struct doctor_sample *s = j->b;
	enum doctor_source src = v6 ? SRC_SNMP6 : SRC_SNMP;
	struct frag_view v = {
		.v6 = v6,
		.khigh = v6 ? DS_IP6FRAG_HIGH : DS_IPFRAG_HIGH,
		.klow = v6 ? DS_IP6FRAG_LOW : DS_IPFRAG_LOW,
		.ktime = v6 ? DS_IP6FRAG_TIME : DS_IPFRAG_TIME,
		.id_t = v6 ? "frag6-reasm-timeout" : "frag-reasm-timeout",
		.id_f = v6 ? "frag6-reasm-fail" : "frag-reasm-fail",
		.n_fail = v6 ? "Ip6ReasmFails" : "IpReasmFails",
		.n_tmo = v6 ? "Ip6ReasmTimeout" : "IpReasmTimeout",
		.n_req = v6 ? "Ip6ReasmReqds" : "IpReasmReqds",
		.n_ok = v6 ? "Ip6ReasmOKs" : "IpReasmOKs",
	};

	if (!dj_have(j, src) || !dj_delta(j, v.n_fail, &v.fails)) {
		const char *why = dj_have(j, src) ? "no reassembly counters" : dj_src_err(j, src);

		dj_check(j, v.id_t, false, "%s", why);
		dj_check(j, v.id_f, false, "%s", why);
		return;
	}
	(void)dj_delta(j, v.n_tmo, &v.tmo);
	(void)dj_delta(j, v.n_req, &v.reqds);
	(void)dj_delta(j, v.n_ok, &v.oks);
	if (!v6)
		(void)dj_delta(j, "IpExtReasmOverlaps", &v.ovl);
	v.other = v.fails > v.tmo ? v.fails - v.tmo : 0;
	dj_check(j, v.id_t, true, "%s +%llu %s", v.n_tmo, (unsigned long long)v.tmo, j->when);
	dj_check(j, v.id_f, true, "%s - %s +%llu %s", v.n_fail, v.n_tmo, (unsigned long long)v.other, j->when);
	(void)dj_sysctl_u64(s, v.khigh, &v.high);
	(void)dj_sysctl_u64(s, v.ktime, &v.ftime);
	if (v.tmo)
		frag_timeout_finding(j, &v);
	if (v.other)
		frag_fail_finding(j, &v);
}

static void softnet_drop_finding(struct judge *j, uint64_t drop, const char *dl)
{
	const struct doctor_sample *b = j->b;
	char val[32];
	uint64_t cur;
	struct doctor_finding *f = dj_finding(j, "softnet-drops", SEV_WARNING);

	if (!f)
		return;
	f->host = true;
	snprintf(f->subject, sizeof(f->subject), "host");
	snprintf(f->evidence, sizeof(f->evidence),
		 "softnet_stat dropped +%llu %s (%s); net.core.netdev_max_backlog %s",
		 (unsigned long long)drop, j->when, dl, dj_sysctl_or(b, DS_NETDEV_MAX_BACKLOG));
	dj_value(f, "dropped", drop);
	snprintf(f->cause, sizeof(f->cause),
		 "packets arrived at a CPU's input backlog (loopback, veth, RPS and non-NAPI drivers queue "
		 "there) faster than its softirq processed them, and the backlog was full at "
		 "netdev_max_backlog, so they were dropped before any protocol saw them");
	if (dj_sysctl_u64(b, DS_NETDEV_MAX_BACKLOG, &cur)) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)(cur * 2 > 2000 ? cur * 2 : 2000));
		dj_fix_sysctl(f, doctor_sysctl_keys[DS_NETDEV_MAX_BACKLOG], val, b->sysctl[DS_NETDEV_MAX_BACKLOG],
			   "a longer backlog per CPU (host-wide key; memory only while it fills)");
	}
	dj_fix_text(f, "if one CPU takes all the drops: spread receive processing (RPS: "
		 "/sys/class/net/DEV/queues/rx-N/rps_cpus, or more NIC queues)");
}

static void softnet_squeeze_finding(struct judge *j, uint64_t sq, const char *sl)
{
	const struct doctor_sample *b = j->b;
	char val[32];
	uint64_t cur;
	struct doctor_finding *f = dj_finding(j, "softnet-squeeze", SEV_INFO);

	if (!f)
		return;
	f->host = true;
	snprintf(f->subject, sizeof(f->subject), "host");
	snprintf(f->evidence, sizeof(f->evidence),
		 "softnet_stat time_squeeze +%llu %s (%s); net.core.netdev_budget %s, "
		 "net.core.netdev_budget_usecs %s",
		 (unsigned long long)sq, j->when, sl, dj_sysctl_or(b, DS_NETDEV_BUDGET),
		 dj_sysctl_or(b, DS_NETDEV_BUDGET_USECS));
	dj_value(f, "time_squeeze", sq);
	snprintf(f->cause, sizeof(f->cause),
		 "the receive softirq stopped with packets still waiting because it had used its budget "
		 "(netdev_budget packets or netdev_budget_usecs): the rest waits for the next round or "
		 "ksoftirqd, adding latency");
	if (dj_sysctl_u64(b, DS_NETDEV_BUDGET, &cur)) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)cur * 2);
		dj_fix_sysctl(f, doctor_sysctl_keys[DS_NETDEV_BUDGET], val, b->sysctl[DS_NETDEV_BUDGET],
			   "more packets per softirq round (host-wide; other tasks on that CPU wait longer)");
	}
	if (dj_sysctl_u64(b, DS_NETDEV_BUDGET_USECS, &cur)) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)cur * 2);
		dj_fix_sysctl(f, doctor_sysctl_keys[DS_NETDEV_BUDGET_USECS], val,
			   b->sysctl[DS_NETDEV_BUDGET_USECS], "more time per softirq round (host-wide)");
	}
}

/* (4) softnet backlog drops and time squeezes, host-wide, interval only. */
static void judge_softnet(struct judge *j)
{
	const struct doctor_sample *a = j->a, *b = j->b;
	uint64_t drop = 0, sq = 0, tdrop = 0, tsq = 0;
	char dl[200] = "", sl[200] = "";
	size_t doff = 0, soff = 0;

	if (!b->have[SRC_SOFTNET] || (a && !a->have[SRC_SOFTNET])) {
		dj_check(j, "softnet-drops", false, "%s", dj_src_err(j, SRC_SOFTNET));
		dj_check(j, "softnet-squeeze", false, "%s", dj_src_err(j, SRC_SOFTNET));
		return;
	}
	for (size_t i = 0; i < b->softnet.n; i++) {
		tdrop += b->softnet.cpu[i].dropped;
		tsq += b->softnet.cpu[i].squeezed;
	}
	if (!a) {
		dj_check(j, "softnet-drops", false,
		      "host-wide counters since boot (dropped %llu, time_squeeze %llu over %zu CPUs) say nothing "
		      "about now: use --since SECONDS", (unsigned long long)tdrop, (unsigned long long)tsq,
		      b->softnet.n);
		dj_check(j, "softnet-squeeze", false, "needs --since SECONDS, as softnet-drops");
		return;
	}
	for (size_t i = 0; i < b->softnet.n; i++) {
		const struct doctor_softnet_cpu *c1 = &b->softnet.cpu[i], *c0 = NULL;
		uint64_t d, q;

		for (size_t k = 0; k < a->softnet.n && !c0; k++)
			if (a->softnet.cpu[k].cpu == c1->cpu)
				c0 = &a->softnet.cpu[k];
		if (!c0)
			continue;	/* came online in between */
		d = c1->dropped >= c0->dropped ? c1->dropped - c0->dropped : 0;
		q = c1->squeezed >= c0->squeezed ? c1->squeezed - c0->squeezed : 0;
		drop += d;
		sq += q;
		if (d)
			(void)str_appendf(dl, sizeof(dl), &doff, "%sCPU %u +%llu", doff ? ", " : "", c1->cpu,
					  (unsigned long long)d);
		if (q)
			(void)str_appendf(sl, sizeof(sl), &soff, "%sCPU %u +%llu", soff ? ", " : "", c1->cpu,
					  (unsigned long long)q);
	}
	dj_check(j, "softnet-drops", true, "softnet_stat dropped +%llu on %zu CPUs %s (host-wide)",
	      (unsigned long long)drop, b->softnet.n, j->when);
	dj_check(j, "softnet-squeeze", true, "softnet_stat time_squeeze +%llu %s (host-wide)",
	      (unsigned long long)sq, j->when);
	if (drop)
		softnet_drop_finding(j, drop, dl);
	if (sq)
		softnet_squeeze_finding(j, sq, sl);
}

/* (9) resets sent, by the reason the kernel counts.  Resets at close
 * with unread data are the application's choice as often as a bug:
 * info; the kernel giving up (memory, timeouts) is a warning. */
static const struct reset_reason {
	const char *counter, *subject;
	enum doctor_severity sev;
	const char *cause, *fix;
} reset_reasons[] = {
	{ "TcpExtTCPAbortOnClose", "reason close-unread", SEV_INFO,
	  "applications closed sockets that still held received data they had not read: the kernel "
	  "sends a reset instead of a FIN, and the peer may lose a response it has not read yet "
	  "(\"connection reset by peer\")",
	  "application: read what the peer sent to its end (or shutdown(SHUT_WR) and drain) before "
	  "close(); HTTP servers call this a lingering close" },
	{ "TcpExtTCPAbortOnData", "reason data-after-close", SEV_INFO,
	  "data arrived on sockets the application had already closed: the kernel resets them",
	  "application: the peer still sends after the close: a request timeout shorter than the "
	  "client's, or a client pipelining after the server said it closes" },
	{ "TcpExtTCPAbortOnMemory", "reason memory", SEV_WARNING,
	  "closed sockets still sending (orphans) were reset because TCP ran short of memory "
	  "(net.ipv4.tcp_mem) or more than net.ipv4.tcp_max_orphans were pending; the kernel logs "
	  "\"too many orphaned sockets\" or \"out of memory -- consider tuning tcp_mem\"",
	  NULL },
	{ "TcpExtTCPAbortOnTimeout", "reason timeout", SEV_WARNING,
	  "connections were given up after their retransmissions went unanswered "
	  "(net.ipv4.tcp_retries2, tcp_syn_retries, keepalive probes): peers vanished or the path drops",
	  "find the peers (`ss -ti` shows retransmits): a path that drops packets or a peer that died; "
	  "lowering tcp_retries2 only gives up sooner" },
	{ "TcpExtTCPAbortOnLinger", "reason linger", SEV_INFO,
	  "connections closed with TCP_LINGER2 below 0 were reset in FIN_WAIT2 instead of waiting "
	  "for the peer's FIN",
	  "application: a negative TCP_LINGER2 trades the peer's last bytes for a quick close" },
	{ "TcpExtTCPAbortFailed", "reason send-failed", SEV_INFO,
	  "the kernel meant to reset connections but could not send the reset (no memory for it)",
	  "see the memory reason above: the same pressure" },
};

static void judge_resets(struct judge *j)
{
	const struct doctor_sample *s = j->b;
	uint64_t d[ARRAY_SIZE(reset_reasons)], rsts = 0, total = 0, orphans = 0;
	bool have_rsts = dj_delta(j, "TcpOutRsts", &rsts);
	char val[32];
	int seen = 0;

	for (size_t i = 0; i < ARRAY_SIZE(reset_reasons); i++) {
		if (dj_delta(j, reset_reasons[i].counter, &d[i]))
			seen++;
		else
			d[i] = 0;
		total += d[i];
	}
	if (!dj_have(j, SRC_NETSTAT) || !seen) {
		dj_check(j, "resets-sent", false, "%s", dj_have(j, SRC_NETSTAT) ?
		      "no TcpExtTCPAbortOn* in /proc/net/netstat" : dj_src_err(j, SRC_NETSTAT));
		return;
	}
	dj_check(j, "resets-sent", true, "TcpExtTCPAbortOn* +%llu %s (TcpOutRsts +%llu, every reset sent)",
	      (unsigned long long)total, j->when, (unsigned long long)rsts);
	for (size_t i = 0; i < ARRAY_SIZE(reset_reasons); i++) {
		const struct reset_reason *rr = &reset_reasons[i];
		struct doctor_finding *f;

		if (!d[i] || !(f = dj_finding(j, "resets-sent", dj_history(j, rr->sev, false))))
			continue;
		snprintf(f->subject, sizeof(f->subject), "%s", rr->subject);
		if (have_rsts)
			snprintf(f->evidence, sizeof(f->evidence), "%s +%llu %s (TcpOutRsts +%llu, every reset sent)",
				 rr->counter, (unsigned long long)d[i], j->when, (unsigned long long)rsts);
		else
			snprintf(f->evidence, sizeof(f->evidence), "%s +%llu %s", rr->counter,
				 (unsigned long long)d[i], j->when);
		dj_value(f, rr->counter + strlen("TcpExt"), d[i]);
		if (have_rsts)
			dj_value(f, "OutRsts", rsts);
		snprintf(f->cause, sizeof(f->cause), "%s", rr->cause);
		if (rr->fix) {
			dj_fix_text(f, "%s", rr->fix);
		} else if (dj_sysctl_u64(s, DS_TCP_MAX_ORPHANS, &orphans)) {
			snprintf(val, sizeof(val), ">=%llu", (unsigned long long)(orphans * 2));
			dj_fix_sysctl(f, doctor_sysctl_keys[DS_TCP_MAX_ORPHANS], val, s->sysctl[DS_TCP_MAX_ORPHANS],
				   "room for twice the orphans (about 64 KiB of memory each at worst; host-wide)");
			dj_fix_text(f, "and check net.ipv4.tcp_mem against /proc/net/sockstat's TCP mem (pages)");
		} else {
			dj_fix_text(f, "raise net.ipv4.tcp_max_orphans and check net.ipv4.tcp_mem against "
				 "/proc/net/sockstat's TCP mem (pages)");
		}
	}
}

/* (12) handshake retransmits.  The kernel counts SYN and SYN-ACK
 * retransmits in one counter; the half-open sockets now tell which side. */
static void judge_synretrans(struct judge *j)
{
	const struct doctor_sample *s = j->b;
	uint64_t d, synrecv = 0;
	struct doctor_finding *f;

	if (!dj_have(j, SRC_NETSTAT) || !dj_delta(j, "TcpExtTCPSynRetrans", &d)) {
		dj_check(j, "syn-retransmits", false, "%s", dj_have(j, SRC_NETSTAT) ?
		      "no TcpExtTCPSynRetrans in /proc/net/netstat" : dj_src_err(j, SRC_NETSTAT));
		return;
	}
	for (size_t i = 0; s->have[SRC_SOCKS] && i < s->socks.n; i++)
		synrecv += s->socks.s[i].state == TCP_SYN_RECV;
	dj_check(j, "syn-retransmits", true, "TcpExtTCPSynRetrans +%llu %s; %llu half-open (SYN_RECV) sockets now",
	      (unsigned long long)d, j->when, (unsigned long long)synrecv);
	if (!d || !(f = dj_finding(j, "syn-retransmits", dj_history(j, SEV_WARNING, synrecv > 0))))
		return;
	snprintf(f->subject, sizeof(f->subject), "namespace");
	snprintf(f->evidence, sizeof(f->evidence), "TcpExtTCPSynRetrans +%llu %s (SYN and SYN-ACK "
		 "retransmits together); %llu SYN_RECV sockets now; net.ipv4.tcp_synack_retries %s",
		 (unsigned long long)d, j->when, (unsigned long long)synrecv, dj_sysctl_or(s, DS_SYNACK_RETRIES));
	dj_value(f, "TCPSynRetrans", d);
	if (s->have[SRC_SOCKS])
		dj_value(f, "syn_recv", synrecv);
	snprintf(f->cause, sizeof(f->cause),
		 "handshakes were retransmitted: a SYN-ACK%s went unanswered (clients behind a lossy path, "
		 "a SYN flood from spoofed addresses, a middlebox dropping the last ACK); each retry doubles "
		 "the wait (1 s, 2 s, 4 s, ...), so a client sees seconds of connect time",
		 synrecv ? "" : " (or a SYN of this host's)");
	dj_fix_text(f, "find the peers (`ss -tn state syn-recv`); against a spoofed flood keep "
		 "net.ipv4.tcp_syncookies = 1 and lower net.ipv4.tcp_synack_retries from %s to 2 (half-open "
		 "entries leave after ~7 s instead of ~63 s; genuine clients on lossy paths get fewer tries)",
		 dj_sysctl_or(s, DS_SYNACK_RETRIES));
	dj_fix_text(f, "with tcpstate attached, accel_tcp_synack_retransmits_total separates SYN-ACK "
		 "retransmits per listener");
}

/* (11) the bypass: which local servers it accelerates, and why not. */
static const struct {
	const char *cause, *fix;
} bypass_why[] = {
	[BPS_LEARNING] = { "learning: its connections stay on the stack while the bypass watches how "
			   "its server reads",
			   "nothing to do: it is accelerated once enough connections were read nonblocking "
			   "(or, for a server known to be event-driven: `accelctl bypass policy --event-ports "
			   "PORT`)" },
	[BPS_BLOCKING] = { "its server reads with blocking sockets, which this kernel's sockmap breaks "
			   "(blocking_eagain: `accelctl bypass selftest`), so it stays on the stack",
			   "application: an event-driven server (nonblocking sockets and epoll) would be "
			   "accelerated; after changing it, `accelctl bypass forget PORT` learns it again" },
	[BPS_SPLICE] = { "its server reads with splice(), which does not see bypassed bytes on this "
			 "kernel (splice_misses), so it stays on the stack", "none needed: this is the safe outcome" },
	[BPS_EXCLUDED] = { "--exclude-ports lists it", "`accelctl bypass policy --exclude-ports LIST` to change it" },
	[BPS_NOT_LISTED] = { "--ports is given and does not list it",
			     "`accelctl bypass policy --ports LIST` with it, if its server is event-driven" },
	[BPS_NOT_DECLARED] = { "this kernel's sockmap differs from TCP, learning is off and it is not in "
			       "--event-ports", "list it under --event-ports if its server is event-driven, or "
			       "attach with --learn on" },
	[BPS_EVENT_PORT_BLOCKING] = { "it is in --event-ports, but its server was caught reading with a "
				      "blocking socket: its new connections stay on the stack",
				      "make the server event-driven, or drop the port from --event-ports "
				      "(`accelctl bypass policy --event-ports LIST`)" },
	[BPS_OFF] = { "the bypass is switched off (`accelctl bypass off`) or detaching",
		      "`accelctl bypass on`" },
};

static void judge_bypass(struct judge *j)
{
	const struct doctor_bypass *b = &j->b->bypass;
	char acc[160] = "";
	int nacc = 0;

	if (!j->b->have[SRC_BYPASS]) {
		dj_check(j, "bypass-servers", false, "%s", j->b->err[SRC_BYPASS]);
		return;
	}
	if (!b->attached) {
		dj_check(j, "bypass-servers", true, "no bypass attached: no local server is accelerated");
		return;
	}
	for (int i = 0; i < b->n; i++)
		if (b->p[i].state == BPS_ACCELERATED && nacc++ < 12)
			snprintf(acc + strlen(acc), sizeof(acc) - strlen(acc), "%s%u", nacc > 1 ? "," : "",
				 b->p[i].port);
	dj_check(j, "bypass-servers", true, "%d listening ports: %d accelerated%s%s%s, %d on the stack",
	      b->total, nacc, nacc ? " (" : "", acc, nacc ? ")" : "", b->n - nacc);
	for (int i = 0; i < b->n; i++) {
		const struct doctor_bypass_port *p = &b->p[i];
		struct doctor_finding *f;
		char la[64];

		if (p->state == BPS_ACCELERATED || p->state >= (int)ARRAY_SIZE(bypass_why) ||
		    !bypass_why[p->state].cause || !(f = dj_finding(j, "bypass-servers", SEV_INFO)))
			continue;
		listener_subject(f, p->listener, la, sizeof(la));
		if (p->state == BPS_LEARNING) {
			snprintf(f->evidence, sizeof(f->evidence), "port %u: learning, %u of %u connections read "
				 "nonblocking so far", p->port, p->seen, p->need);
			dj_value(f, "connections_seen", p->seen);
			dj_value(f, "connections_needed", p->need);
		} else {
			snprintf(f->evidence, sizeof(f->evidence), "port %u: %s", p->port,
				 bypass_port_state_name(p->state));
		}
		snprintf(f->cause, sizeof(f->cause), "%s", bypass_why[p->state].cause);
		dj_fix_text(f, "%s", bypass_why[p->state].fix);
	}
}

/* (10) processes near their descriptor limit. */
static void judge_fdlimit(struct judge *j)
{
	const struct doctor_procs *p = &j->b->procs;

	if (!j->b->have[SRC_PROCS]) {
		dj_check(j, "fd-limit", false, "%s", j->b->err[SRC_PROCS][0] ? j->b->err[SRC_PROCS] :
		      "processes not read");
		return;
	}
	if (p->fullest.pid)
		dj_check(j, "fd-limit", true, "%zu processes of the namespace; the nearest its limit pid %d (%s) "
		      "%llu of %llu descriptors", p->scanned, p->fullest.pid, p->fullest.comm,
		      (unsigned long long)p->fullest.fds, (unsigned long long)p->fullest.soft);
	else
		dj_check(j, "fd-limit", true, "no process of the namespace could be read");
	for (size_t i = 0; i < p->n; i++) {
		const struct doctor_proc *pr = &p->p[i];
		bool crit = pr->fds * 100 >= pr->soft * DOCTOR_FD_CRIT_PCT;
		struct doctor_finding *f = dj_finding(j, "fd-limit", crit ? SEV_CRITICAL : SEV_WARNING);
		char hard[32];

		if (!f)
			return;
		if (pr->hard == UINT64_MAX)
			snprintf(hard, sizeof(hard), "unlimited");
		else
			snprintf(hard, sizeof(hard), "%llu", (unsigned long long)pr->hard);
		snprintf(f->subject, sizeof(f->subject), "pid %d (%s)", pr->pid, pr->comm);
		snprintf(f->evidence, sizeof(f->evidence),
			 "pid %d (%s) holds %llu descriptors now; RLIMIT_NOFILE soft %llu, hard %s "
			 "(/proc/%d/limits)", pr->pid, pr->comm, (unsigned long long)pr->fds,
			 (unsigned long long)pr->soft, hard, pr->pid);
		dj_value(f, "fds", pr->fds);
		dj_value(f, "soft_limit", pr->soft);
		snprintf(f->cause, sizeof(f->cause),
			 "at its soft limit every accept(), socket() and open() of pid %d fails with EMFILE: a "
			 "server stops taking connections while the kernel completes their handshakes (its "
			 "accept queue fills and overflows), a client cannot connect", pr->pid);
		if (pr->soft < pr->hard)
			dj_fix_text(f, "raise its soft limit to the hard one: LimitNOFILE=%s in its systemd unit "
				 "(or `ulimit -n %s` where it is started; `prlimit --pid %d --nofile=%s:%s` now); "
				 "a process may also raise it itself (setrlimit)", hard, hard, pr->pid, hard, hard);
		else
			dj_fix_text(f, "raise both limits: LimitNOFILE=%llu in its systemd unit (or `ulimit -n` "
				 "where it is started; above fs.nr_open that needs fs.nr_open raised first)",
				 (unsigned long long)pr->soft * 4);
		dj_fix_text(f, "or find what holds the descriptors (`ls -l /proc/%d/fd`): a leak grows back "
			 "to any limit", pr->pid);
	}
}

void doctor_judge(const struct doctor_sample *first, const struct doctor_sample *last,
		  double interval, struct doctor_report *r)
{
	struct judge j = { .a = first, .b = last, .r = r };

	r->interval = first ? interval : 0;
	if (first)
		snprintf(j.when, sizeof(j.when), "over %.0f s", interval);
	else
		snprintf(j.when, sizeof(j.when), "%s", r->baseline ? r->baseline : "since boot");
	judge_ports(&j);
	judge_timewait(&j);
	judge_accept(&j);
	judge_syn(&j);
	judge_softnet(&j);
	judge_frag(&j, false);
	judge_frag(&j, true);
	judge_resets(&j);
	judge_fdlimit(&j);
	judge_bypass(&j);
	judge_synretrans(&j);
	judge_pmtu(&j);
	judge_nic_rings(&j);
	judge_rx_queues(&j);
	judge_irq_spread(&j);
}

/* ---- output ------------------------------------------------------------- */

int doctor_report_checked(const struct doctor_report *r)
{
	int n = 0;

	for (int i = 0; i < r->nchecks; i++)
		n += r->checks[i].checked;
	return n;
}

static void print_human(const struct doctor_report *r, const char *ns, FILE *out)
{
	int count[3] = { 0 }, nnot = 0;

	fprintf(out, "accelctl doctor: network namespace %s; ", ns ? ns : "of this process");
	if (r->interval > 0)
		fprintf(out, "counters over %.0f s (two samples), sockets now\n", r->interval);
	else
		fprintf(out, "counters %s (no --since), sockets now\n", r->baseline);
	for (int i = 0; i < r->n; i++) {
		const struct doctor_finding *f = &r->f[i];
		char up[16];

		count[f->severity]++;
		snprintf(up, sizeof(up), "%s", sev_names[f->severity]);
		for (char *c = up; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		fprintf(out, "\n%-8s %s: %s%s\n", up, f->id, f->subject, f->host ? " (host-wide)" : "");
		fprintf(out, "  evidence: %s\n", f->evidence);
		fprintf(out, "  cause:    %s\n", f->cause);
		for (int k = 0; k < f->nfix; k++) {
			const struct doctor_fix *x = &f->fix[k];

			if (x->key[0] && !x->dev[0])
				fprintf(out, "  fix:      sysctl -w %s=\"%s\"   (now %s): %s\n", x->key, x->value,
					x->current[0] ? x->current : "unknown", x->text);
			else
				fprintf(out, "  fix:      %s\n", x->text);
		}
		fprintf(out, "  doc:      docs/doctor.md#%s\n", f->id);
	}
	fprintf(out, "\nchecked:\n");
	for (int i = 0; i < r->nchecks; i++)
		if (r->checks[i].checked)
			fprintf(out, "  %-22s %s\n", r->checks[i].id, r->checks[i].detail);
		else
			nnot++;
	if (nnot) {
		fprintf(out, "not checked:\n");
		for (int i = 0; i < r->nchecks; i++)
			if (!r->checks[i].checked)
				fprintf(out, "  %-22s %s\n", r->checks[i].id, r->checks[i].detail);
	}
	if (!r->n)
		fprintf(out, "\nno findings\n");
	else
		fprintf(out, "\n%d finding%s: %d critical, %d warning, %d info\n", r->n, r->n == 1 ? "" : "s",
			count[SEV_CRITICAL], count[SEV_WARNING], count[SEV_INFO]);
}

/* One finding as a JSON object (docs/doctor.md "JSON"). */
static void json_finding(struct json_writer *jw, const struct doctor_finding *f, double interval)
{
	jw_start_object(jw);
	jw_kv_string(jw, "id", f->id);
	jw_kv_string(jw, "severity", sev_names[f->severity]);
	jw_kv_string(jw, "scope", f->host ? "host" : "namespace");
	jw_kv_string(jw, "subject", f->subject);
	jw_key(jw, "endpoint");
	if (f->endpoint.role) {
		jw_start_object(jw);
		jw_kv_string(jw, "role", f->endpoint.role);
		jw_kv_string(jw, "address", f->endpoint.addr);
		jw_kv_uint(jw, "port", f->endpoint.port);
		jw_key(jw, "pid");
		if (f->endpoint.pid)
			jw_uint(jw, (uint64_t)f->endpoint.pid);
		else
			jw_null(jw);
		jw_key(jw, "comm");
		if (f->endpoint.pid)
			jw_string(jw, f->endpoint.comm);
		else
			jw_null(jw);
		jw_end_object(jw);
	} else {
		jw_null(jw);
	}
	jw_key(jw, "evidence");
	jw_start_object(jw);
	jw_kv_string(jw, "text", f->evidence);
	jw_key(jw, "interval_s");
	if (interval > 0)
		jw_double(jw, interval);
	else
		jw_null(jw);
	jw_key(jw, "values");
	jw_start_object(jw);
	for (int k = 0; k < f->nvalues; k++)
		jw_kv_uint(jw, f->values[k].name, f->values[k].value);
	jw_end_object(jw);
	jw_end_object(jw);
	jw_kv_string(jw, "cause", f->cause);
	jw_key(jw, "fix");
	jw_start_array(jw);
	for (int k = 0; k < f->nfix; k++) {
		const struct doctor_fix *x = &f->fix[k];

		jw_start_object(jw);
		if (x->dev[0]) {
			jw_kv_string(jw, "nic", x->dev);
			jw_kv_string(jw, "setting", x->key);
			jw_kv_string(jw, "value", x->value);
			jw_kv_string(jw, "current", x->current);
		} else if (x->key[0]) {
			jw_kv_string(jw, "sysctl", x->key);
			jw_kv_string(jw, "value", x->value);
			jw_kv_string(jw, "current", x->current);
		}
		jw_kv_string(jw, "text", x->text);
		jw_end_object(jw);
	}
	jw_end_array(jw);
	{
		char doc[96];

		snprintf(doc, sizeof(doc), "docs/doctor.md#%s", f->id);
		jw_kv_string(jw, "doc", doc);
	}
	jw_end_object(jw);
}

static void print_json(const struct doctor_report *r, const char *ns, FILE *out)
{
	struct json_writer jw;
	int count[3] = { 0 };

	jw_init(&jw, out, true);
	jw_start_object(&jw);
	jw_key(&jw, "netns");
	if (ns)
		jw_string(&jw, ns);
	else
		jw_null(&jw);
	jw_kv_string(&jw, "counters", r->interval > 0 ? "interval" : "since-creation");
	jw_key(&jw, "interval_s");
	if (r->interval > 0)
		jw_double(&jw, r->interval);
	else
		jw_null(&jw);
	if (r->interval <= 0)
		jw_kv_string(&jw, "baseline", r->baseline);
	jw_key(&jw, "findings");
	jw_start_array(&jw);
	for (int i = 0; i < r->n; i++) {
		count[r->f[i].severity]++;
		json_finding(&jw, &r->f[i], r->interval);
	}
	jw_end_array(&jw);
	jw_key(&jw, "summary");
	jw_start_object(&jw);
	for (int s = SEV_CRITICAL; s >= SEV_INFO; s--)
		jw_kv_uint(&jw, sev_names[s], count[s]);
	jw_end_object(&jw);
	for (int pass = 0; pass < 2; pass++) {
		jw_key(&jw, pass ? "not_checked" : "checked");
		jw_start_array(&jw);
		for (int i = 0; i < r->nchecks; i++) {
			if (r->checks[i].checked == !!pass)
				continue;
			jw_start_object(&jw);
			jw_kv_string(&jw, "check", r->checks[i].id);
			jw_kv_string(&jw, pass ? "reason" : "detail", r->checks[i].detail);
			jw_end_object(&jw);
		}
		jw_end_array(&jw);
	}
	jw_end_object(&jw);
	jw_finish(&jw);
}

static bool report_has_nic(const struct doctor_report *r)
{
	for (int i = 0; i < r->n; i++)
		for (int k = 0; k < r->f[i].nfix; k++)
			if (r->f[i].fix[k].dev[0])
				return true;
	return false;
}

int cmd_doctor(struct accel_ctx *ctx, struct cli_opts *o)
{
	struct doctor_sample *a = NULL, *b = calloc(1, sizeof(*b));
	struct doctor_report *r = calloc(1, sizeof(*r));
	int rc = EXIT_FAIL;

	if (!b || !r)
		goto out;
	r->baseline = netns_is_initial() ? "since boot" : "since the namespace was created";
	if (o->since) {
		a = calloc(1, sizeof(*a));
		if (!a)
			goto out;
		doctor_sample_read(a, false);
		doctor_acct_read(ctx, a);
		doctor_tcpstate_read(ctx, a);
		if (!ctx->json)
			fprintf(stderr, "accelctl doctor: first sample taken; the second in %u s\n", o->since);
		else
			fprintf(stderr, "accelctl doctor: first sample taken\n");
		/* the interval is the measurement: sleep it out, restarting on signals */
		for (double end = a->mono + o->since, now = mono_now(); now < end; now = mono_now()) {
			struct timespec ts = { .tv_sec = (time_t)(end - now),
					       .tv_nsec = (long)((end - now - (time_t)(end - now)) * 1e9) };

			nanosleep(&ts, NULL);
		}
	}
	doctor_sample_read(b, true);
	doctor_bypass_read(ctx, b);
	doctor_acct_read(ctx, b);
	doctor_tcpstate_read(ctx, b);
	doctor_judge(a, b, a ? b->mono - a->mono : 0, r);
	if (ctx->json)
		print_json(r, ctx->netns, stdout);
	else
		print_human(r, ctx->netns, stdout);
	rc = fflush(stdout) ? EXIT_FAIL : EXIT_OK;
	if (rc == EXIT_OK && o->profile_out) {
		int n = 0, err = doctor_profile_write(r, ctx->netns, o->profile_out, &n);

		if (err) {
			pr_err("doctor: cannot write %s: %s\n", o->profile_out, strerror(-err));
			rc = EXIT_FAIL;
		} else {
			fprintf(stderr, "accelctl doctor: %s: %d sysctl setting%s%s (review it, then "
				"`attach --features tune --config %s --dry-run`)\n", o->profile_out, n,
				n == 1 ? "" : "s", report_has_nic(r) ? " and NIC settings" : "", o->profile_out);
		}
	}
	/* a run that could check nothing at all did not run */
	if (rc == EXIT_OK && !doctor_report_checked(r)) {
		fprintf(stderr, "accelctl doctor: none of the sources could be read; nothing was checked\n");
		rc = EXIT_FAIL;
	}
out:
	if (a)
		doctor_sample_free(a);
	if (b)
		doctor_sample_free(b);
	free(a);
	free(b);
	free(r);
	return rc;
}
