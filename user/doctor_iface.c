// SPDX-License-Identifier: GPL-2.0-only
/*
 * doctor: the namespace's network devices.  Sources: one rtnetlink
 * RTM_GETLINK dump (names, MTU, IFLA_STATS64, kind), ethtool netlink rings
 * and channels (nic.c), a device's IRQs from sysfs (msi_irqs, irq) or
 * else the /proc/interrupts lines naming it, and /proc/irq/N/ for where
 * they land (host-wide), and netacct's per-interface and tcpstate's
 * per-listener counters when they are attached in this namespace (their
 * metrics, as `stats` reads them).  Netlink sockets
 * are opened after main() entered --netns, so they see the namespace's
 * devices; the host's /sys/class/net would show the namespace sysfs was
 * mounted in, so sysfs is one mounted for this namespace (nicq_sysfs_open()).
 *
 * The parsers of /proc/interrupts and CPU lists and the judges take text
 * and filled structs, and the IRQ lookup a sysfs directory fd, so that
 * unit tests feed them made-up devices.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accel.h"
#include "doctor.h"
#include "doctor_judge.h"
#include "metrics.h"
#include "nic.h"
#include "nic_queue.h"
#include "util.h"

/* ---- parsers ------------------------------------------------------------ */

/* Does an IRQ's name belong to dev: "eth0", "eth0-TxRx-3", "i40e-eth0-TxRx-0",
 * "eth0@pci:0000:01:00.0"? */
static bool irq_names(const char *name, size_t nlen, const char *dev)
{
	size_t dlen = strlen(dev);

	for (size_t at = 0; dlen && at + dlen <= nlen; at++) {
		char after = at + dlen < nlen ? name[at + dlen] : '\0';

		if ((at == 0 || name[at - 1] == '-') && !strncmp(name + at, dev, dlen) &&
		    (after == '\0' || after == '-' || after == '@'))
			return true;
	}
	return false;
}

/* One line of /proc/interrupts, l up to e: an IRQ number's line ("24: ...
 * eth0-TxRx-0") gives its number and its name (the line's last word);
 * the CPU header, NMI:, LOC: ... give false. */
static bool interrupts_line(const char *l, const char *e, long *irq, const char **name)
{
	char *end;

	while (l < e && isspace((unsigned char)*l))
		l++;
	if (l == e)
		return false;	/* strtol would go on into the next line */
	*irq = strtol(l, &end, 10);
	if (end == l || *end != ':' || *irq < 0)
		return false;
	for (*name = e; *name > end && !isspace((unsigned char)(*name)[-1]); (*name)--)
		;
	return true;
}

/* The end of the line at l. */
static const char *line_end(const char *l)
{
	const char *e = strchr(l, '\n');

	return e ? e : l + strlen(l);
}

int doctor_parse_interrupts(const char *text, const char *dev, int *irqs, int max)
{
	int n = 0;

	for (const char *l = text; l && *l && n < max; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *e = line_end(l), *name;
		long irq;

		if (interrupts_line(l, e, &irq, &name) && irq_names(name, (size_t)(e - name), dev))
			irqs[n++] = (int)irq;
	}
	return n;
}

/* Is irq, by the name /proc/interrupts gives it, a device's control
 * vector rather than a queue's: virtio's "virtio0-config", mlx5's
 * "mlx5_async0@pci:0000:3b:00.0"? */
static bool irq_is_control(const char *interrupts, int irq)
{
	for (const char *l = interrupts; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *e = line_end(l), *name;
		size_t len;
		long n;

		if (!interrupts_line(l, e, &n, &name) || n != irq)
			continue;
		len = (size_t)(e - name);
		if (len >= 7 && !strncmp(e - 7, "-config", 7))
			return true;
		for (size_t i = 0; i + 5 <= len; i++)
			if (!strncmp(name + i, "async", 5))
				return true;
		return false;
	}
	return false;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The MSI/MSI-X vectors of the device at dir (one file per vector in
 * msi_irqs/), ascending; 0 when it has none. */
static int msi_irqs(int dir, int *irqs, int max)
{
	int fd = openat(dir, "msi_irqs", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
	struct dirent *de;
	DIR *dp;

	if (fd < 0)
		return 0;
	dp = fdopendir(fd);
	if (!dp) {
		close(fd);
		return 0;
	}
	/* more vectors than max (a 256-CPU mlx5): the first max read */
	while (n < max && (de = readdir(dp))) {
		char *end;
		long v = strtol(de->d_name, &end, 10);

		if (end != de->d_name && !*end && v > 0 && v <= INT32_MAX)
			irqs[n++] = (int)v;
	}
	closedir(dp);
	qsort(irqs, (size_t)n, sizeof(*irqs), cmp_int);
	return n;
}

/* The device at dir's legacy (INTx) IRQ, from its irq file: 0 for none. */
static int legacy_irq(int dir)
{
	int fd = openat(dir, "irq", O_RDONLY | O_CLOEXEC);
	char buf[32];
	ssize_t len;
	long v;

	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	v = strtol(buf, NULL, 10);
	return v > 0 && v <= INT32_MAX ? (int)v : 0;
}

/* Is the device at dir a PCI device (its subsystem link ends in "/pci")? */
static bool is_pci(int dir)
{
	char link[256];
	ssize_t len = readlinkat(dir, "subsystem", link, sizeof(link) - 1);
	const char *base;

	if (len <= 0)
		return false;
	link[len] = '\0';
	base = strrchr(link, '/');
	return !strcmp(base ? base + 1 : link, "pci");
}

#define IRQ_CHAIN 3	/* the netdev's device and at most two parents */

int doctor_dev_irqs(int sysfs, const char *interrupts, struct doctor_iface *d, int *irqs, int max)
{
	int chain[IRQ_CHAIN], nchain = 0, n = 0;
	char path[64];

	d->irq_src = DOCTOR_IRQ_NAMES;
	d->irq_up = 0;
	snprintf(path, sizeof(path), "class/net/%s/device", d->name);
	if (sysfs >= 0 && max > 0)
		chain[0] = openat(sysfs, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else
		chain[0] = -1;
	/* The device, then its parents while they are PCI devices, up to the
	 * first PCI device: the PCI function (for virtio-net, the virtio
	 * device's parent).  Above it are bridges and root ports, whose own
	 * vectors (AER, PME) are not the NIC's. */
	if (chain[0] >= 0) {
		nchain = 1;
		while (nchain < IRQ_CHAIN && !is_pci(chain[nchain - 1])) {
			int up = openat(chain[nchain - 1], "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (up < 0)
				break;
			if (!is_pci(up)) {
				close(up);
				break;
			}
			chain[nchain++] = up;
		}
	}
	for (int i = 0; i < nchain && !n; i++) {
		int all = msi_irqs(chain[i], irqs, max);

		/* Leave out the control vectors whose /proc/interrupts name
		 * says so (virtio's "-config", mlx5's "async").  Every other
		 * vector is kept, unnamed ones too: msi_irqs does not say
		 * which vector serves a queue, names are each driver's own,
		 * and most of a NIC's vectors are its queues'.  Guessing
		 * further would drop the queue vectors of drivers not known
		 * here; the cost of keeping is that a control vector on
		 * another CPU can make a pile-up look spread. */
		for (int k = 0; k < all; k++)
			if (!interrupts || !irq_is_control(interrupts, irqs[k]))
				irqs[n++] = irqs[k];
		if (all) {
			d->irq_src = DOCTOR_IRQ_MSI;
			d->irq_up = i;
			break;
		}
	}
	for (int i = 0; i < nchain && d->irq_src == DOCTOR_IRQ_NAMES; i++) {
		int irq = legacy_irq(chain[i]);

		if (irq) {
			irqs[n++] = irq;
			d->irq_src = DOCTOR_IRQ_LEGACY;
			d->irq_up = i;
		}
	}
	for (int i = 0; i < nchain; i++)
		close(chain[i]);
	if (d->irq_src == DOCTOR_IRQ_NAMES && interrupts)
		n = doctor_parse_interrupts(interrupts, d->name, irqs, max);
	d->nirqs = n;
	return n;
}

int doctor_parse_cpulist(const char *text, uint64_t *mask, int nwords)
{
	const char *p = text;
	int n = 0;

	memset(mask, 0, (size_t)nwords * sizeof(*mask));
	while (*p && *p != '\n') {
		char *end;
		long lo = strtol(p, &end, 10), hi;

		if (end == p || lo < 0)
			return -EINVAL;
		hi = lo;
		if (*end == '-') {
			p = end + 1;
			hi = strtol(p, &end, 10);
			if (end == p || hi < lo)
				return -EINVAL;
		}
		for (long c = lo; c <= hi; c++) {
			if (c / 64 < nwords && !(mask[c / 64] & (1ull << (c % 64)))) {
				mask[c / 64] |= 1ull << (c % 64);
				n++;
			}
		}
		p = end;
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	return n ? n : -EINVAL;
}

/* ---- reading ------------------------------------------------------------ */

static int link_add(const struct nic_link *l, void *data)
{
	struct doctor_links *L = data;
	struct doctor_iface *d;

	if (L->n >= DOCTOR_MAX_IFACES)
		return 0;
	d = &L->i[L->n++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", l->name);
	snprintf(d->kind, sizeof(d->kind), "%s", l->kind);
	d->ifindex = l->ifindex;
	d->loopback = l->loopback;
	d->mtu = l->mtu;
	d->rx_queues = l->rx_queues;
	d->rx_packets = l->rx_packets;
	d->rx_dropped = l->rx_dropped;
	d->rx_missed = l->rx_missed;
	d->rx_fifo = l->rx_fifo;
	d->rings_err = d->channels_err = -EOPNOTSUPP;
	return 0;
}

/* A device of a driver's own (not loopback, not a veth/bridge/tunnel). */
static bool is_hw(const struct doctor_iface *d)
{
	return !d->loopback && !d->kind[0];
}

static void read_ethtool(struct nic *n, struct doctor_iface *d)
{
	struct nic_state st;
	int err = nic_get(n, d->name, &st);

	if (err) {
		d->rings_err = d->channels_err = err;
		return;
	}
	d->rings_err = st.have_rings ? 0 : st.rings_err ? st.rings_err : -EOPNOTSUPP;
	d->rx_ring = st.rx;
	d->rx_ring_max = st.rx_max;
	d->channels_err = st.have_channels ? 0 : st.channels_err ? st.channels_err : -EOPNOTSUPP;
	d->ch_rx = st.ch_rx;
	d->ch_comb = st.ch_comb;
	d->ch_rx_max = st.ch_rx_max;
	d->ch_comb_max = st.ch_comb_max;
}

#define CPU_WORDS 16	/* 1024 CPUs */

/* The CPUs an IRQ's interrupts go to: the effective affinity where the
 * kernel has it (x86: one CPU), else the allowed one. */
static int irq_affinity(int irq, uint64_t *mask)
{
	char path[64], text[4096];

	snprintf(path, sizeof(path), "/proc/irq/%d/effective_affinity_list", irq);
	if (read_file(path, text, sizeof(text)) <= 0 || doctor_parse_cpulist(text, mask, CPU_WORDS) <= 0) {
		snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", irq);
		if (read_file(path, text, sizeof(text)) <= 0)
			return -ENOENT;
		return doctor_parse_cpulist(text, mask, CPU_WORDS);
	}
	return 0;
}

static void read_irqs(struct doctor_sample *s)
{
	struct doctor_links *L = &s->links;
	char *text = NULL, why[160];
	int err = doctor_slurp("/proc/interrupts", &text), sysfs;

	if (err || !text) {
		doctor_source_fail(s, SRC_IRQS, err ? err : -EIO);
		return;
	}
	s->have[SRC_IRQS] = true;
	/* this namespace's class/net; without one, the name match only */
	if (nicq_sysfs_open(&sysfs, why, sizeof(why)))
		sysfs = -1;
	for (int i = 0; i < L->n; i++) {
		struct doctor_iface *d = &L->i[i];
		uint64_t all[CPU_WORDS] = { 0 }, one[CPU_WORDS];
		int irqs[256];

		if (!is_hw(d))
			continue;
		doctor_dev_irqs(sysfs, text, d, irqs, (int)ARRAY_SIZE(irqs));
		d->irq_cpu = -1;
		for (int k = 0; k < d->nirqs; k++)
			if (irq_affinity(irqs[k], one) >= 0)
				for (int w = 0; w < CPU_WORDS; w++)
					all[w] |= one[w];
		for (int c = CPU_WORDS * 64 - 1; c >= 0; c--) {
			if (all[c / 64] & (1ull << (c % 64))) {
				d->irq_cpus++;
				d->irq_cpu = c;
			}
		}
	}
	if (sysfs >= 0)
		close(sysfs);
	free(text);
}

void doctor_links_read(struct doctor_sample *s)
{
	struct doctor_links *L = &s->links;
	struct nic *n = NULL;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int err;

	L->n = 0;
	L->ncpus = cpus > 0 ? (unsigned int)cpus : 1;
	err = nic_open(&n);
	if (!err)
		err = nic_links(n, link_add, L);
	if (err) {
		doctor_source_fail(s, SRC_LINKS, err);
		nic_close(n);
		return;
	}
	s->have[SRC_LINKS] = true;
	for (int i = 0; i < L->n; i++)
		if (is_hw(&L->i[i]))
			read_ethtool(n, &L->i[i]);
	nic_close(n);
	read_irqs(s);
}

static double mval(const struct metrics *m, const char *name, const char *ifname, const char *dir,
		   const char *fam)
{
	const struct metric_sample *x = fam ?
		metrics_find(m, name, "ifname", ifname, "direction", dir, "family", fam, METRIC_END) :
		metrics_find(m, name, "ifname", ifname, "direction", dir, METRIC_END);

	return x ? x->value : 0;
}

/* PMTU messages received on ifname advertising less than mtu; the lowest
 * bucket with any. */
static void acct_pmtu(const struct metrics *m, const char *ifname, struct doctor_acct *a)
{
	static const char *const fams[] = { "inet", "inet6" };

	for (size_t f = 0; f < ARRAY_SIZE(fams); f++) {
		const struct metric_sample *h = metrics_find(m, "accel_netacct_pmtu_advertised_mtu_bytes",
							     "ifname", ifname, "direction", "ingress",
							     "family", fams[f], METRIC_END);

		for (int k = 0; h && h->counts && k < h->nbuckets; k++) {
			uint32_t le = (uint32_t)h->bounds[k];

			if (!h->counts[k])
				continue;
			if (le < a->mtu)
				a->pmtu_below += h->counts[k];
			if (!a->pmtu_min || le < a->pmtu_min)
				a->pmtu_min = le;
		}
	}
}

/* Is ifname a device of this namespace (when the devices could be read)? */
static bool link_here(const struct doctor_links *L, const char *ifname)
{
	for (int i = 0; i < L->n; i++)
		if (!strcmp(L->i[i].name, ifname))
			return true;
	return !L->n;
}

static void acct_fill(const struct metrics *m, struct doctor_links *L)
{
	static const char *const dirs[] = { "ingress", "egress" }, *const fams[] = { "inet", "inet6" };
	const struct metric_family *mf = metrics_find_family(m, "accel_netacct_interface_mtu_bytes");

	for (int i = 0; mf && i < mf->n && L->nacct < DOCTOR_MAX_IFACES; i++) {
		const char *ifname = metric_label(&mf->s[i], "ifname");
		struct doctor_acct *a;

		if (!ifname || !link_here(L, ifname))
			continue;
		a = &L->acct[L->nacct++];
		memset(a, 0, sizeof(*a));
		snprintf(a->name, sizeof(a->name), "%s", ifname);
		a->mtu = (uint32_t)mf->s[i].value;
		for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
			for (size_t f = 0; f < ARRAY_SIZE(fams); f++)
				a->over_mtu += (uint64_t)mval(m, "accel_netacct_mtu_exceeded_total", ifname,
							      dirs[d], fams[f]);
			a->over_mtu_df += (uint64_t)mval(m, "accel_netacct_mtu_exceeded_df_total", ifname,
							 dirs[d], NULL);
		}
		for (size_t f = 0; f < ARRAY_SIZE(fams); f++)
			a->pmtu_in += (uint64_t)mval(m, "accel_netacct_pmtu_messages_total", ifname, "ingress",
						     fams[f]);
		acct_pmtu(m, ifname, a);
	}
}

bool doctor_feature_here(struct accel_ctx *ctx, const struct accel_feature *f)
{
	struct instance_info ii;

	/* the instance's pins count the namespace it was attached in only */
	return f && f->attached(ctx) && f->collect &&
	       (instance_read(ctx, &ii) || !ii.netns_cookie || !ctx->netns_cookie ||
		ii.netns_cookie == ctx->netns_cookie);
}

void doctor_acct_read(struct accel_ctx *ctx, struct doctor_sample *s)
{
	const struct accel_feature *f = feature_by_name("netacct");
	struct metrics *m;
	int err;


	s->links.nacct = 0;
	s->links.acct_attached = false;
	if (!doctor_feature_here(ctx, f)) {
		s->have[SRC_NETACCT] = true;
		return;
	}
	m = metrics_new();
	if (!m) {
		doctor_source_fail(s, SRC_NETACCT, -ENOMEM);
		return;
	}
	err = f->collect(ctx, m);
	if (err) {
		doctor_source_fail(s, SRC_NETACCT, err);
	} else {
		s->have[SRC_NETACCT] = true;
		s->links.acct_attached = true;
		acct_fill(m, &s->links);
	}
	metrics_free(m);
}

/* ---- judging ------------------------------------------------------------ */

static uint64_t grew(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : 0;
}

/* The same device in the first sample (NULL without --since, or new). */
static const struct doctor_iface *iface_before(const struct judge *j, const struct doctor_iface *d)
{
	for (int i = 0; j->a && i < j->a->links.n; i++)
		if (j->a->links.i[i].ifindex == d->ifindex && !strcmp(j->a->links.i[i].name, d->name))
			return &j->a->links.i[i];
	return NULL;
}

static const struct doctor_acct *acct_before(const struct judge *j, const struct doctor_acct *x)
{
	for (int i = 0; j->a && i < j->a->links.nacct; i++)
		if (!strcmp(j->a->links.acct[i].name, x->name))
			return &j->a->links.acct[i];
	return NULL;
}

/* Why a device has nothing to check, appended to buf as "NAME (why)". */
static void skip_dev(char *buf, size_t len, size_t *off, const struct doctor_iface *d, const char *what)
{
	const char *why = d->loopback ? "loopback" : d->kind[0] ? d->kind : what;

	(void)str_appendf(buf, len, off, "%s%s (%s)", *off ? ", " : "", d->name, why);
}

/* The check line of a per-device judge: n devices checked (what fmt
 * says of them), the others listed in skipped (off: its length), none
 * what no device had when n is 0. */
static void devs_check(struct judge *j, const char *id, int n, const char *none, const char *skipped,
		       size_t off, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void devs_check(struct judge *j, const char *id, int n, const char *none, const char *skipped,
		       size_t off, const char *fmt, ...)
{
	char what[sizeof(((struct doctor_check *)0)->detail)];
	va_list ap;

	if (!n) {
		dj_check(j, id, true, "nothing to check: no device with %s (%s)", none,
			 off ? skipped : "no devices");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	dj_check(j, id, true, "%s%s%s", what, off ? "; not checkable: " : "", skipped);
}

static void fix_mtu_probing(struct judge *j, struct doctor_finding *f)
{
	const struct doctor_sample *s = j->b;
	uint64_t probing = 1;

	if (dj_sysctl_u64(s, DS_TCP_MTU_PROBING, &probing) && !probing)
		dj_fix_sysctl(f, doctor_sysctl_keys[DS_TCP_MTU_PROBING], "1", s->sysctl[DS_TCP_MTU_PROBING],
			      "TCP then finds the path MTU itself (RFC 4821) once a connection stalls on "
			      "full-sized segments, without waiting for ICMP; 2 would probe always");
}

static void narrowed_fixes(struct judge *j, struct doctor_finding *f)
{
	dj_fix_text(f, "none needed while the messages keep arriving: PMTU discovery works, each new "
		    "destination loses its first full-sized packet and a round trip");
	dj_fix_text(f, "if the narrow hop is a tunnel or VPN of yours: give its interface the path MTU, or "
		    "clamp TCP's MSS to it (`iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN "
		    "-j TCPMSS --clamp-mss-to-pmtu`); for one known path `ip route change DEST via GW mtu N`");
	fix_mtu_probing(j, f);
}

/* netacct's exact per-interface counters. */
static void pmtu_acct_one(struct judge *j, const struct doctor_acct *x, const struct doctor_acct *p)
{
	uint64_t over = grew(x->over_mtu, p ? p->over_mtu : 0), df = grew(x->over_mtu_df, p ? p->over_mtu_df : 0);
	uint64_t in = grew(x->pmtu_in, p ? p->pmtu_in : 0), below = grew(x->pmtu_below, p ? p->pmtu_below : 0);
	struct doctor_finding *f;

	if (below && (f = dj_finding(j, "pmtu-narrowed", SEV_INFO))) {
		snprintf(f->subject, sizeof(f->subject), "interface %s", x->name);
		snprintf(f->evidence, sizeof(f->evidence),
			 "netacct on %s (exact): %llu PMTU messages received %s, %llu of them advertising an MTU "
			 "below %s's %u (the lowest: <= %u bytes)", x->name, (unsigned long long)in, j->when,
			 (unsigned long long)below, x->name, x->mtu, x->pmtu_min);
		dj_value(f, "pmtu_messages", in);
		dj_value(f, "pmtu_below_mtu", below);
		dj_value(f, "advertised_mtu_le", x->pmtu_min);
		dj_value(f, "interface_mtu", x->mtu);
		snprintf(f->cause, sizeof(f->cause),
			 "a hop on the path from %s is narrower than its MTU %u: routers there answer packets "
			 "with Don't Fragment set with ICMP frag-needed / Packet Too Big, and the kernel lowers "
			 "its path MTU for that destination (`ip route get DEST` shows it)", x->name, x->mtu);
		narrowed_fixes(j, f);
	}
	if (df && !in && (f = dj_finding(j, "pmtu-blackhole", dj_history(j, SEV_WARNING, false)))) {
		snprintf(f->subject, sizeof(f->subject), "interface %s", x->name);
		snprintf(f->evidence, sizeof(f->evidence),
			 "netacct on %s (exact): %llu packets above its MTU %u %s, %llu of them IPv4 with DF set; "
			 "0 PMTU messages received", x->name, (unsigned long long)over, x->mtu, j->when,
			 (unsigned long long)df);
		dj_value(f, "over_mtu", over);
		dj_value(f, "over_mtu_df", df);
		dj_value(f, "interface_mtu", x->mtu);
		snprintf(f->cause, sizeof(f->cause),
			 "packets too large for %s with Don't Fragment set cannot go on as they are, and no ICMP "
			 "frag-needed came back: the hop that cannot carry them drops them silently (ICMP "
			 "filtered, or MTUs that differ between the two ends of a link), so connections "
			 "stall once they send a full-sized segment", x->name);
		fix_mtu_probing(j, f);
		dj_fix_text(f, "give both ends of every link the same MTU (`ip link set DEV mtu N`), and let "
			    "ICMP type 3 code 4 and ICMPv6 type 2 through every firewall on the path");
	}
}

static void judge_pmtu_acct(struct judge *j)
{
	const struct doctor_links *L = &j->b->links;
	uint64_t over = 0, df = 0, in = 0, below = 0;

	for (int i = 0; i < L->nacct; i++) {
		const struct doctor_acct *x = &L->acct[i], *p = acct_before(j, x);

		over += grew(x->over_mtu, p ? p->over_mtu : 0);
		df += grew(x->over_mtu_df, p ? p->over_mtu_df : 0);
		in += grew(x->pmtu_in, p ? p->pmtu_in : 0);
		below += grew(x->pmtu_below, p ? p->pmtu_below : 0);
	}
	dj_check(j, "pmtu", true, "netacct on %d interface(s), exact: over-MTU packets +%llu (DF +%llu), PMTU "
		 "messages received +%llu (+%llu below the interface MTU) %s", L->nacct,
		 (unsigned long long)over, (unsigned long long)df, (unsigned long long)in,
		 (unsigned long long)below, j->when);
	for (int i = 0; i < L->nacct; i++)
		pmtu_acct_one(j, &L->acct[i], acct_before(j, &L->acct[i]));
}

/* Without netacct: the namespace's ICMP counters, no interface, no MTU. */
static void judge_pmtu_kernel(struct judge *j)
{
	uint64_t ptb6 = 0, du4 = 0;
	bool have6, have4;
	struct doctor_finding *f;

	if (!dj_have(j, SRC_SNMP) && !dj_have(j, SRC_SNMP6)) {
		dj_check(j, "pmtu", false, "%s", dj_src_err(j, SRC_SNMP));
		return;
	}
	have6 = dj_have(j, SRC_SNMP6) && dj_delta(j, "Icmp6InPktTooBigs", &ptb6);
	have4 = dj_have(j, SRC_SNMP) && dj_delta(j, "IcmpInDestUnreachs", &du4);
	dj_check(j, "pmtu", true, "netacct not attached: the kernel's counters only, coarser (no interface, no "
		 "advertised MTU, no over-MTU packets): Icmp6InPktTooBigs +%llu%s, IcmpInDestUnreachs +%llu%s "
		 "(every kind of unreachable) %s", (unsigned long long)ptb6, have6 ? "" : " (absent)",
		 (unsigned long long)du4, have4 ? "" : " (absent)", j->when);
	if (!ptb6 || !(f = dj_finding(j, "pmtu-narrowed", SEV_INFO)))
		return;
	snprintf(f->subject, sizeof(f->subject), "namespace");
	snprintf(f->evidence, sizeof(f->evidence),
		 "Icmp6InPktTooBigs +%llu %s (ICMPv6 Packet Too Big received); IcmpInDestUnreachs +%llu counts "
		 "IPv4 frag-needed with every other unreachable; coarse: netacct is not attached, so no "
		 "interface and no advertised MTU", (unsigned long long)ptb6, j->when, (unsigned long long)du4);
	dj_value(f, "Icmp6InPktTooBigs", ptb6);
	dj_value(f, "IcmpInDestUnreachs", du4);
	snprintf(f->cause, sizeof(f->cause),
		 "a hop on a path from this namespace is narrower than the sending interface's MTU: routers "
		 "there answered full-sized packets with Packet Too Big and the kernel lowered its path MTU "
		 "for those destinations (`ip -6 route show cache` lists them)");
	narrowed_fixes(j, f);
	dj_fix_text(f, "for per-interface evidence (the advertised MTU, over-MTU packets, black holes): "
		    "`accelctl attach --features netacct --iface DEV`");
}

void judge_pmtu(struct judge *j)
{
	const struct doctor_links *L = &j->b->links;

	if (dj_have(j, SRC_NETACCT) && L->acct_attached && (!j->a || j->a->links.acct_attached))
		judge_pmtu_acct(j);
	else
		judge_pmtu_kernel(j);
}

/* The ring-drop finding of one device with rings; drops: missed + fifo. */
static void rings_finding(struct judge *j, const struct doctor_iface *d, const struct doctor_iface *p)
{
	uint64_t missed = grew(d->rx_missed, p ? p->rx_missed : 0), fifo = grew(d->rx_fifo, p ? p->rx_fifo : 0);
	uint64_t dropped = grew(d->rx_dropped, p ? p->rx_dropped : 0);
	uint64_t pkts = grew(d->rx_packets, p ? p->rx_packets : 0);
	struct doctor_finding *f = dj_finding(j, "nic-ring-drops", dj_history(j, SEV_WARNING, false));
	char val[16], cur[16];

	if (!f)
		return;
	snprintf(f->subject, sizeof(f->subject), "interface %s", d->name);
	snprintf(f->evidence, sizeof(f->evidence),
		 "%s: rx_missed_errors +%llu, rx_fifo_errors +%llu, rx_dropped +%llu of rx_packets +%llu %s "
		 "(rtnetlink link stats); RX ring %u of at most %u descriptors (ethtool -g %s)", d->name,
		 (unsigned long long)missed, (unsigned long long)fifo, (unsigned long long)dropped,
		 (unsigned long long)pkts, j->when, d->rx_ring, d->rx_ring_max, d->name);
	dj_value(f, "rx_missed_errors", missed);
	dj_value(f, "rx_fifo_errors", fifo);
	dj_value(f, "rx_dropped", dropped);
	dj_value(f, "rx_packets", pkts);
	dj_value(f, "rx_ring", d->rx_ring);
	dj_value(f, "rx_ring_max", d->rx_ring_max);
	snprintf(f->cause, sizeof(f->cause),
		 "packets arrived while %s's RX ring had no free descriptor (the driver's NAPI poll did not "
		 "refill it as fast as they came: a burst, interrupts on a busy CPU, a budget used up), so the "
		 "NIC dropped them before the kernel saw them", d->name);
	snprintf(val, sizeof(val), "%u", d->rx_ring_max);
	snprintf(cur, sizeof(cur), "%u", d->rx_ring);
	if (d->rx_ring < d->rx_ring_max)
		dj_fix_nic(f, d->name, "rx-ring", val, cur, "`ethtool -G %s rx %u` (its maximum; memory only), "
			   "or in a profile [nic \"%s\"] rx-ring = %u, which `attach --features tune --config "
			   "FILE` applies and detach restores", d->name, d->rx_ring_max, d->name, d->rx_ring_max);
	else
		dj_fix_text(f, "the ring is at its maximum (%u): spread the load over more queues and CPUs "
			    "(see rx-queues and irq-spread), or let each poll take more (net.core.netdev_budget)",
			    d->rx_ring_max);
}

void judge_nic_rings(struct judge *j)
{
	const struct doctor_links *L = &j->b->links;
	char skipped[200] = "";
	size_t off = 0;
	uint64_t drops = 0;
	int n = 0;

	if (!dj_have(j, SRC_LINKS)) {
		dj_check(j, "nic-ring-drops", false, "%s", dj_src_err(j, SRC_LINKS));
		return;
	}
	for (int i = 0; i < L->n; i++) {
		const struct doctor_iface *d = &L->i[i], *p = iface_before(j, d);

		if (!is_hw(d) || d->rings_err || !d->rx_ring_max || (j->a && !p)) {
			skip_dev(skipped, sizeof(skipped), &off, d, j->a && !p ? "new" : "no rings");
			continue;
		}
		n++;
		drops += grew(d->rx_missed + d->rx_fifo, p ? p->rx_missed + p->rx_fifo : 0);
	}
	devs_check(j, "nic-ring-drops", n, "rings", skipped, off,
		   "%d device(s) with rings: rx_missed + rx_fifo +%llu %s", n, (unsigned long long)drops, j->when);
	for (int i = 0; i < L->n; i++) {
		const struct doctor_iface *d = &L->i[i], *p = iface_before(j, d);

		if (is_hw(d) && !d->rings_err && d->rx_ring_max && (!j->a || p) &&
		    grew(d->rx_missed + d->rx_fifo, p ? p->rx_missed + p->rx_fifo : 0))
			rings_finding(j, d, p);
	}
}

/* Channels: RX queues in use, and how many the device could have. */
static void rx_channels(const struct doctor_iface *d, uint32_t *cur, uint32_t *max, const char **key)
{
	if (d->ch_comb_max) {
		*cur = d->ch_comb + d->ch_rx;
		*max = d->ch_comb_max + d->ch_rx;
		*key = "combined";
	} else {
		*cur = d->ch_rx;
		*max = d->ch_rx_max;
		*key = "rx";
	}
}

static void rx_queues_finding(struct judge *j, const struct doctor_iface *d, unsigned int ncpus)
{
	uint32_t cur, max, want;
	const char *key;
	struct doctor_finding *f = dj_finding(j, "rx-queues", SEV_INFO);
	char val[16], now[16];

	if (!f)
		return;
	rx_channels(d, &cur, &max, &key);
	want = max < ncpus ? max : ncpus;
	snprintf(f->subject, sizeof(f->subject), "interface %s", d->name);
	snprintf(f->evidence, sizeof(f->evidence),
		 "%s receives on %u queue(s) (ethtool -l %s: %s %u, at most %u) for %u online CPUs now",
		 d->name, cur, d->name, key, strcmp(key, "rx") ? d->ch_comb : d->ch_rx,
		 strcmp(key, "rx") ? d->ch_comb_max : d->ch_rx_max, ncpus);
	dj_value(f, "rx_queues", cur);
	dj_value(f, "rx_queues_max", max);
	dj_value(f, "cpus", ncpus);
	snprintf(f->cause, sizeof(f->cause),
		 "each RX queue is served by one CPU at a time (its IRQ and NAPI poll): with %u queue(s) for %u "
		 "CPUs, receive processing cannot use the others, and one busy queue drops while CPUs idle",
		 cur, ncpus);
	want -= strcmp(key, "rx") ? d->ch_rx : 0;
	snprintf(val, sizeof(val), "%u", want);
	snprintf(now, sizeof(now), "%u", strcmp(key, "rx") ? d->ch_comb : d->ch_rx);
	dj_fix_nic(f, d->name, key, val, now, "`ethtool -L %s %s %u`, or in a profile [nic \"%s\"] %s = %u "
		   "(journaled and restored by attach/detach); then spread the queue IRQs over the CPUs",
		   d->name, key, want, d->name, key, want);
	dj_fix_text(f, "no more queues possible: RPS (/sys/class/net/%s/queues/rx-N/rps_cpus) spreads "
		    "protocol processing in software", d->name);
}

void judge_rx_queues(struct judge *j)
{
	const struct doctor_links *L = &j->b->links;
	char skipped[200] = "";
	size_t off = 0;
	int n = 0;

	if (!j->b->have[SRC_LINKS]) {
		dj_check(j, "rx-queues", false, "%s", j->b->err[SRC_LINKS]);
		return;
	}
	for (int i = 0; i < L->n; i++) {
		const struct doctor_iface *d = &L->i[i];
		uint32_t cur, max;
		const char *key;

		if (!is_hw(d) || d->channels_err) {
			skip_dev(skipped, sizeof(skipped), &off, d, "no channels");
			continue;
		}
		n++;
		rx_channels(d, &cur, &max, &key);
		if (cur && cur < L->ncpus && max > cur)
			rx_queues_finding(j, d, L->ncpus);
	}
	devs_check(j, "rx-queues", n, "hardware queues", skipped, off,
		   "%d device(s) with channels against %u online CPUs", n, L->ncpus);
}

/* Where d's IRQs were found, for the evidence ("/sys/class/net/eth0/
 * device/../msi_irqs") and the command that lists them ("ls ..."). */
static void irq_where(const struct doctor_iface *d, char *where, size_t wlen, char *cmd, size_t clen)
{
	const char *up = d->irq_up >= 2 ? "/../.." : d->irq_up == 1 ? "/.." : "";

	switch (d->irq_src) {
	case DOCTOR_IRQ_MSI:
		snprintf(where, wlen, "/sys/class/net/%s/device%s/msi_irqs, less the vectors "
			 "/proc/interrupts names -config or async", d->name, up);
		snprintf(cmd, clen, "ls /sys/class/net/%s/device%s/msi_irqs", d->name, up);
		break;
	case DOCTOR_IRQ_LEGACY:
		snprintf(where, wlen, "/sys/class/net/%s/device%s/irq", d->name, up);
		snprintf(cmd, clen, "cat /sys/class/net/%s/device%s/irq", d->name, up);
		break;
	default:
		snprintf(where, wlen, "the /proc/interrupts lines naming %s", d->name);
		snprintf(cmd, clen, "grep %s /proc/interrupts", d->name);
		break;
	}
}

static void irq_finding(struct judge *j, const struct doctor_iface *d, unsigned int ncpus)
{
	struct doctor_finding *f = dj_finding(j, "irq-spread", SEV_WARNING);
	char where[128], cmd[80];

	if (!f)
		return;
	irq_where(d, where, sizeof(where), cmd, sizeof(cmd));
	snprintf(f->subject, sizeof(f->subject), "interface %s", d->name);
	snprintf(f->evidence, sizeof(f->evidence),
		 "the %d IRQs of %s (%s) all go to CPU %d "
		 "(/proc/irq/N/effective_affinity_list) of %u online CPUs now", d->nirqs, d->name, where,
		 d->irq_cpu, ncpus);
	dj_value(f, "irqs", (uint64_t)d->nirqs);
	dj_value(f, "cpu", (uint64_t)d->irq_cpu);
	dj_value(f, "cpus", ncpus);
	snprintf(f->cause, sizeof(f->cause),
		 "%s has several queues but every queue's interrupt, and so its NAPI polling, lands on CPU %d: "
		 "that CPU does all of the device's receive work and becomes the limit (drops, time "
		 "squeezes) while the other CPUs idle", d->name, d->irq_cpu);
	dj_fix_text(f, "give each queue IRQ its own CPU: `echo CPU > /proc/irq/N/smp_affinity_list` for the "
		    "IRQs of %s (`%s`), or run irqbalance; keep them there by "
		    "disabling irqbalance for these IRQs if you set them by hand", d->name, cmd);
}

void judge_irq_spread(struct judge *j)
{
	const struct doctor_links *L = &j->b->links;
	char skipped[200] = "";
	size_t off = 0;
	int n = 0;

	if (!j->b->have[SRC_LINKS] || !j->b->have[SRC_IRQS]) {
		dj_check(j, "irq-spread", false, "%s", j->b->err[j->b->have[SRC_LINKS] ? SRC_IRQS : SRC_LINKS]);
		return;
	}
	for (int i = 0; i < L->n; i++) {
		const struct doctor_iface *d = &L->i[i];

		if (!is_hw(d) || d->nirqs < 2) {
			skip_dev(skipped, sizeof(skipped), &off, d, d->nirqs ? "one IRQ" : "no IRQ found");
			continue;
		}
		n++;
		if (d->irq_cpus == 1 && L->ncpus > 1)
			irq_finding(j, d, L->ncpus);
	}
	devs_check(j, "irq-spread", n, "several IRQs", skipped, off,
		   "%d device(s) with queue IRQs over %u online CPUs", n, L->ncpus);
}

void doctor_tcpstate_read(struct accel_ctx *ctx, struct doctor_sample *s)
{
	const struct accel_feature *f = feature_by_name("tcpstate");
	const struct metric_family *mf;
	struct doctor_tcpstate *t = &s->tcpstate;
	struct metrics *m;
	int err;

	memset(t, 0, sizeof(*t));
	s->have[SRC_TCPSTATE] = true;
	if (!doctor_feature_here(ctx, f))
		return;
	m = metrics_new();
	err = m ? f->collect(ctx, m) : -ENOMEM;
	if (err) {
		doctor_source_fail(s, SRC_TCPSTATE, err);
		metrics_free(m);
		return;
	}
	t->attached = true;
	mf = metrics_find_family(m, "accel_tcp_accept_queue_overflows_total");
	for (int i = 0; mf && i < mf->n && t->n < DOCTOR_MAX_TCPL; i++) {
		const char *label = metric_label(&mf->s[i], "listener");

		if (!label)
			continue;
		snprintf(t->l[t->n].label, sizeof(t->l[0].label), "%s", label);
		t->l[t->n++].accept_ovf = (uint64_t)mf->s[i].value;
	}
	metrics_free(m);
}
