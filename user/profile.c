// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tuning profiles: INI files parsed with libinih, and the built-in ones
 * (written in the same INI, so they go through the same parser and checks).
 *
 *   [profile]            name = NAME
 *   [sysctl]             net.core.somaxconn = 8192     (dots or slashes)
 *                        net.core.somaxconn = >=8192   (raise only, never lower)
 *   [nic "IFNAME"]       mtu, rx-ring, tx-ring, combined, rx, tx = N
 *                        gro, gso, tso, lro = on|off
 *                        rx-usecs, tx-usecs, rx-frames, tx-frames = N (0 too)
 *                        adaptive-rx, adaptive-tx = on|off
 *                        rps-cpus, xps-cpus = MASK, rps-flow-cnt = N, or
 *                        per queue "0=MASK 1=MASK" (nic_queue.h)
 *   [bypass]             enable = on|off, and every option of bypass's
 *                        table (cgroup, ports, learn, ...)
 *   [netacct]            enable = on|off, and netacct's (iface, ingress):
 *                        the attach options of the same name, found in the
 *                        features' option tables, one parser (user/opts.c)
 *   [tcpstate]           enable = on|off
 *   [auto]               bounds for auto-tune (see docs/tuning.md)
 *
 * Precedence with the command line: an option given on the command line
 * wins; the profile fills in what the command line left unset.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ini.h>

#include "cli.h"
#include "log.h"
#include "nic.h"
#include "profile.h"
#include "profile_io.h"
#include "sysctl.h"
#include "util.h"

/* ---- built-in profiles ---- */

static const char loopback_ini[] =
"# loopback: accelctl's default profile for loopback-heavy, connection-heavy\n"
"# hosts.  Conservative: \">=\" values only raise a limit (never lower what an\n"
"# operator set higher), nothing trades safety for speed, and NIC settings\n"
"# are never touched.  Host-wide keys are skipped inside a network namespace.\n"
"[profile]\n"
"name = loopback\n"
"\n"
"[sysctl]\n"
"# Accept-queue cap: listen(fd, backlog) gets min(backlog, somaxconn).  Servers\n"
"# passing a large backlog (nginx, redis: 511; Go: somaxconn) overflow under\n"
"# connection bursts when it is lower.  Costs memory only while queues fill.\n"
"net.core.somaxconn = >=8192\n"
"# SYN (half-open) queue per listener.  Same reasoning; syncookies cover the\n"
"# rest.  Costs a request sock per pending handshake.\n"
"net.ipv4.tcp_max_syn_backlog = >=8192\n"
"# SYN cookies only when the SYN queue overflows (the kernel default, pinned\n"
"# here): connections still succeed in a burst.  2 (always) would drop TCP\n"
"# options for every connection.\n"
"net.ipv4.tcp_syncookies = 1\n"
"# Timestamps: PAWS makes tcp_tw_reuse safe, and RTT sampling needs them.\n"
"# The kernel default, pinned because tcp_tw_reuse depends on it.\n"
"net.ipv4.tcp_timestamps = 1\n"
"# Ephemeral ports: 32768-60999 gives 28232.  Each closed connection keeps\n"
"# its port in TIME_WAIT for 60 s, so one client past ~470 conn/s to one\n"
"# destination runs out.  16384-65535 gives 49152.  Trade-off: a service\n"
"# listening inside the range may find its port taken by an outgoing\n"
"# connection: list such ports in net.ipv4.ip_local_reserved_ports.  Even\n"
"# start, odd end keep the kernel's connect()/bind() parity split.\n"
"net.ipv4.ip_local_port_range = 16384 65535\n"
"# FIN_WAIT2 lifetime of orphaned sockets: 60 -> 30 s.  Not the TIME_WAIT\n"
"# length (fixed at 60 s).  Trade-off: a peer slower than 30 s to close its\n"
"# side gets a RST instead of a FIN.\n"
"net.ipv4.tcp_fin_timeout = 30\n"
"# Keep the congestion window of idle keep-alive connections (pools, redis\n"
"# clients).  Trade-off: on lossy WAN paths a burst after idle can cause\n"
"# loss; loopback has no path to protect.\n"
"net.ipv4.tcp_slow_start_after_idle = 0\n"
"# Loopback delivery goes through the per-CPU backlog (netif_rx), capped by\n"
"# this (default 1000); drops show in /proc/net/softnet_stat column 2.\n"
"# Costs up to N queued skbs per CPU.  Host-wide key.\n"
"net.core.netdev_max_backlog = >=4096\n"
"# Cap for applications that size SO_RCVBUF/SO_SNDBUF themselves (TCP\n"
"# autotuning uses tcp_rmem/tcp_wmem instead).  4 MiB lets a loopback\n"
"# stream keep ~4 MiB in flight.  Costs memory only for sockets that ask.\n"
"net.core.rmem_max = >=4194304\n"
"# The same cap for send buffers (SO_SNDBUF); same cost, only on request.\n"
"net.core.wmem_max = >=4194304\n"
"# Not written, on purpose:\n"
"#  tcp_tw_recycle: removed in Linux 4.12 (broke clients behind NAT).\n"
"#  tcp_tw_reuse: the default 2 already reuses TIME_WAIT ports for loopback;\n"
"#   1 extends it to all outgoing connections and helps only the connecting\n"
"#   side; auto-tune sets it when ports run out (tw-reuse below).\n"
"#  tcp_max_tw_buckets, tcp_max_orphans: lowering them kills TIME_WAIT and\n"
"#   FIN protection; the defaults scale with memory.\n"
"#  tcp_syn_retries, tcp_synack_retries, tcp_orphan_retries: loopback does\n"
"#   not lose packets; fewer retries only hurt real networks.\n"
"#  tcp_fastopen: needs application support (the default 1 enables clients).\n"
"#  tcp_mtu_probing: loopback's MTU is 65536 with no black holes.\n"
"#  tcp_rmem, tcp_wmem: autotuning already reaches 6 MiB / 4 MiB.\n"
"#  ipfrag_*, ip6frag_*: auto-tune raises ip6frag_high_thresh on drops.\n"
"#  fs.file-max, fs.nr_open: already huge on 64-bit kernels; ulimit -n is\n"
"#   the usual limit, and it belongs to the service manager.\n"
"\n"
"[auto]\n"
"# Bounds for `accelctl autotune` after `attach --auto`.\n"
"somaxconn-max = 65535\n"
"port-low-min = 10240\n"
"tw-reuse = on\n"
"port-pressure-pct = 80\n"
"ip6frag-high-max = 16777216\n"
"interval = 10\n";

static const struct {
	const char *name;
	const char *text;
} builtins[] = {
	{ "loopback", loopback_ini },
};

static const char *builtin_text(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(builtins); i++)
		if (!strcmp(builtins[i].name, name))
			return builtins[i].text;
	return NULL;
}

const char *profile_builtin_reason(const char *profile, const char *key)
{
	/* The comment block right above "key =" in the built-in text. */
	static char buf[1024];
	const char *t = builtin_text(profile), *hit, *start;
	size_t klen = strlen(key);

	if (!t)
		return NULL;
	for (hit = strstr(t, key); hit; hit = strstr(hit + 1, key)) {
		if ((hit == t || hit[-1] == '\n') && !strncmp(hit + klen, " =", 2))
			break;
	}
	if (!hit)
		return NULL;
	start = hit;
	while (start > t) {
		const char *prev = start - 1;

		while (prev > t && prev[-1] != '\n')
			prev--;
		if (*prev != '#')
			break;
		start = prev;
	}
	snprintf(buf, sizeof(buf), "%.*s", (int)(hit - start), start);
	return buf;
}

/* ---- parsing ---- */

void profile_init(struct tune_profile *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->enable_bypass = p->enable_netacct = p->enable_tcpstate = p->enable_tune = PROFILE_UNSET;
	p->attach.learn = -1;
	p->bounds.port_pressure_pct = 80;
	p->bounds.interval = 10;
}

struct parse_state {
	struct tune_profile *p;
	const char *text;		/* string input */
	FILE *f;			/* file input */
	int line;
	bool failed;
};

static int perr(struct parse_state *ps, const char *fmt, const char *a, const char *b)
{
	if (!ps->failed) {
		int n = snprintf(ps->p->err, sizeof(ps->p->err), "%s:%d: ", ps->p->source, ps->line);

		snprintf(ps->p->err + n, sizeof(ps->p->err) - n, fmt, a, b);
		ps->failed = true;
	}
	return 0;
}

static int parse_onoff(const char *v)
{
	if (!strcasecmp(v, "on") || !strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
		return PROFILE_ON;
	if (!strcasecmp(v, "off") || !strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
		return PROFILE_OFF;
	return PROFILE_UNSET;
}

/* "nic \"eth0\"", "nic eth0" → eth0 */
static int nic_section(const char *section, char *ifname, size_t len)
{
	const char *s = section + 3;
	size_t n;

	if (strncmp(section, "nic", 3) || !isspace((unsigned char)*s))
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if (!n || n >= len)
		return -EINVAL;
	snprintf(ifname, len, "%.*s", (int)n, s);
	for (size_t i = 0; i < n; i++)
		if (isspace((unsigned char)ifname[i]) || ifname[i] == '/' || ifname[i] == '"')
			return -EINVAL;
	return 0;
}

static struct tune_item *add_item(struct parse_state *ps, enum tune_kind kind, const char *ifname,
				  const char *key, const char *value)
{
	struct tune_profile *p = ps->p;
	struct tune_item *it;

	for (int i = 0; i < p->n; i++) {
		if (p->items[i].kind == kind && !strcmp(p->items[i].key, key) &&
		    !strcmp(p->items[i].ifname, ifname)) {
			char l[16];

			snprintf(l, sizeof(l), "%d", p->items[i].line);
			perr(ps, "'%s' is set twice (first on line %s)", key, l);
			return NULL;
		}
	}
	if (p->n >= TUNE_MAX_ITEMS) {
		perr(ps, "too many settings (at most %s)%s", "128", "");
		return NULL;
	}
	it = &p->items[p->n++];
	it->kind = kind;
	it->line = ps->line;
	it->host_only = p->builtin;
	snprintf(it->key, sizeof(it->key), "%s", key);
	snprintf(it->ifname, sizeof(it->ifname), "%s", ifname);
	if (strlen(value) >= sizeof(it->value)) {
		perr(ps, "value of '%s' is too long%s", key, "");
		p->n--;
		return NULL;
	}
	snprintf(it->value, sizeof(it->value), "%s", value);
	sysctl_norm(it->value);
	return it;
}

static int h_sysctl(struct parse_state *ps, const char *name, const char *value)
{
	char canon[TUNE_KEY_LEN], path[PATH_MAX], err[200];
	struct tune_item *it;
	bool at_least = false;

	if (sysctl_key_parse(name, canon, sizeof(canon), path, sizeof(path), err, sizeof(err)))
		return perr(ps, "%s%s", err, "");
	while (isspace((unsigned char)*value))
		value++;
	if (!strncmp(value, ">=", 2)) {
		uint64_t v;

		at_least = true;
		value += 2;
		while (isspace((unsigned char)*value))
			value++;
		if (parse_u64(value, 0, INT64_MAX, &v))
			return perr(ps, "%s: '>=' takes one number, got '%s'", canon, value);
	}
	if (!*value)
		return perr(ps, "%s: empty value%s", canon, "");
	it = add_item(ps, TK_SYSCTL, "", canon, value);
	if (!it)
		return 0;
	it->at_least = at_least;
	return 1;
}

static int h_nic(struct parse_state *ps, const char *ifname, const char *name, const char *value)
{
	int kind = tune_kind_from_name(name);
	char norm[TUNE_VAL_LEN], why[200];

	if (kind <= TK_SYSCTL)
		return perr(ps, "unknown NIC setting '%s' (known: %s)", name, nic_setting_names());
	if (nic_value_norm(kind, value, norm, sizeof(norm), why, sizeof(why)))
		return perr(ps, "%s: %s", name, why);
	return add_item(ps, kind, ifname, name, norm) ? 1 : 0;
}

static int h_bound(struct parse_state *ps, const char *name, const char *value)
{
	struct tune_bounds *b = &ps->p->bounds;
	uint64_t v;

	ps->p->has_auto = true;
	if (!strcmp(name, "tw-reuse")) {
		int o = parse_onoff(value);

		if (o == PROFILE_UNSET)
			return perr(ps, "tw-reuse: '%s' is not on or off%s", value, "");
		b->tw_reuse = o;
		return 1;
	}
	if (!strcmp(name, "somaxconn-max")) {
		if (parse_u64(value, 0, 2147483647, &v))
			return perr(ps, "somaxconn-max: '%s' is not a number (0-2147483647)%s", value, "");
		b->somaxconn_max = v;
	} else if (!strcmp(name, "port-low-min")) {
		if (parse_u64(value, 0, 65535, &v) || (v && v < 1024))
			return perr(ps, "port-low-min: '%s' is not 0 (off) or a port 1024-65535%s", value, "");
		b->port_low_min = v;
	} else if (!strcmp(name, "port-pressure-pct")) {
		if (parse_u64(value, 1, 100, &v))
			return perr(ps, "port-pressure-pct: '%s' is not 1-100%s", value, "");
		b->port_pressure_pct = (unsigned int)v;
	} else if (!strcmp(name, "ip6frag-high-max")) {
		if (parse_u64(value, 0, 2147483647, &v))
			return perr(ps, "ip6frag-high-max: '%s' is not a number of bytes%s", value, "");
		b->ip6frag_high_max = v;
	} else if (!strcmp(name, "interval")) {
		if (parse_u64(value, 1, 3600, &v))
			return perr(ps, "interval: '%s' is not 1-3600 seconds%s", value, "");
		b->interval = (unsigned int)v;
	} else {
		return perr(ps, "unknown [auto] key '%s' (known: somaxconn-max, port-low-min, tw-reuse, "
			    "port-pressure-pct, ip6frag-high-max, interval)%s", name, "");
	}
	return 1;
}

static int set_str(struct parse_state *ps, char *dst, size_t len, const char *name, const char *value)
{
	if (strlen(value) >= len)
		return perr(ps, "%s: value too long%s", name, "");
	snprintf(dst, len, "%s", value);
	return 1;
}

static int h_feature(struct parse_state *ps, const char *section, const char *name, const char *value)
{
	struct tune_profile *p = ps->p;
	const struct accel_opt *opt;
	char err[160];

	if (!strcmp(name, "enable")) {
		int o = parse_onoff(value);

		if (o == PROFILE_UNSET)
			return perr(ps, "enable: '%s' is not on or off%s", value, "");
		if (!strcmp(section, "bypass"))
			p->enable_bypass = o;
		else if (!strcmp(section, "netacct"))
			p->enable_netacct = o;
		else if (!strcmp(section, "tcpstate"))
			p->enable_tcpstate = o;
		else
			return perr(ps, "unknown key '%s' in [%s]", name, section);
		return 1;
	}
	opt = accel_opt_find(section, name);
	if (opt && accel_opt_bit(opt) >= 0) {
		char *raw = p->raw[accel_opt_bit(opt)];
		size_t n = opt->type == AOT_IFNAMES ? strlen(raw) : 0;
		int e;

		if (n + strlen(value) + 2 >= sizeof(p->raw[0]))
			return perr(ps, "%s: value too long%s", name, "");
		e = accel_opt_parse(opt, &p->attach, value, err, sizeof(err));
		if (e == -ENOMEM)
			return 0;
		if (e)
			return perr(ps, "%s: %s", name, err);
		/* a repeatable option (iface): the lines add up */
		snprintf(raw + n, sizeof(p->raw[0]) - n, "%s%s", n ? "," : "", value);
		return 1;
	}
	return perr(ps, "unknown key '%s' in [%s]", name, section);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;
	char ifname[TUNE_IFNAMSIZ];
	int r;

	if (!strcmp(section, "sysctl"))
		return h_sysctl(ps, name, value);
	r = nic_section(section, ifname, sizeof(ifname));
	if (r == 0)
		return h_nic(ps, ifname, name, value);
	if (r == -EINVAL)
		return perr(ps, "[%s]: not a valid interface name%s", section, "");
	if (!strcmp(section, "profile")) {
		if (!strcmp(name, "name"))
			return set_str(ps, ps->p->name, sizeof(ps->p->name), name, value);
		if (!strcmp(name, "description"))
			return 1;
		return perr(ps, "unknown key '%s' in [profile]%s", name, "");
	}
	if (!strcmp(section, "auto"))
		return h_bound(ps, name, value);
	if (!strcmp(section, "bypass") || !strcmp(section, "netacct") || !strcmp(section, "tcpstate") ||
	    accel_opt_section(section))
		return h_feature(ps, section, name, value);
	if (!*section)
		return perr(ps, "'%s' is outside any section%s", name, "");
	return perr(ps, "unknown section [%s] (known: profile, sysctl, nic \"IFNAME\", bypass, netacct, "
		    "tcpstate, auto)%s", section, "");
}

/* Line-counting readers: inih calls them once per line, so ps->line is the
 * line the handler is looking at. */
static char *read_text(char *str, int num, void *stream)
{
	struct parse_state *ps = stream;
	const char *nl;
	size_t n;

	if (!*ps->text)
		return NULL;
	nl = strchr(ps->text, '\n');
	n = nl ? (size_t)(nl - ps->text) + 1 : strlen(ps->text);
	if (n > (size_t)num - 1)
		n = num - 1;
	memcpy(str, ps->text, n);
	str[n] = '\0';
	ps->text += n;
	ps->line++;
	return str;
}

static char *read_file_line(char *str, int num, void *stream)
{
	struct parse_state *ps = stream;
	char *r = fgets(str, num, ps->f);

	if (r)
		ps->line++;
	return r;
}

static int finish(struct parse_state *ps, int r)
{
	if (r > 0 && !ps->failed) {
		ps->line = r;
		perr(ps, "malformed line (expected [section] or key = value)%s%s", "", "");
	}
	if (r < 0 && !ps->failed)
		snprintf(ps->p->err, sizeof(ps->p->err), "%s: %s", ps->p->source,
			 r == -1 ? "cannot open" : "out of memory");
	return ps->failed || r ? -ACCEL_ECONFIG : 0;
}

int profile_parse_string(struct tune_profile *p, const char *name, const char *text)
{
	struct parse_state ps = { .p = p, .text = text };

	if (!p->name[0])
		snprintf(p->name, sizeof(p->name), "%s", name);
	if (!p->source[0])
		snprintf(p->source, sizeof(p->source), "%s", name);
	return finish(&ps, ini_parse_stream(read_text, &ps, handler, &ps));
}

int profile_parse_file(struct tune_profile *p, const char *path)
{
	struct parse_state ps = { .p = p };
	const char *base = strrchr(path, '/');
	int r;

	profile_init(p, base ? base + 1 : path);
	/* "/etc/accelctl/redis.ini" is profile "redis" unless [profile] names it */
	for (const char *ext = strrchr(p->name, '.'); ext && (!strcmp(ext, ".ini") || !strcmp(ext, ".conf"));
	     ext = NULL)
		p->name[ext - p->name] = '\0';
	snprintf(p->source, sizeof(p->source), "%s", path);
	ps.f = fopen(path, "re");
	if (!ps.f) {
		snprintf(p->err, sizeof(p->err), "%s: %s", path, strerror(errno));
		return -ACCEL_ECONFIG;
	}
	r = ini_parse_stream(read_file_line, &ps, handler, &ps);
	fclose(ps.f);
	return finish(&ps, r);
}

int profile_builtin(struct tune_profile *p, const char *name)
{
	const char *t = builtin_text(name);
	int err;

	profile_init(p, name);
	if (!t) {
		snprintf(p->err, sizeof(p->err), "no built-in profile '%s' (built-in: loopback); "
			 "use --config FILE for a profile file", name);
		return -ACCEL_ECONFIG;
	}
	p->builtin = true;
	snprintf(p->source, sizeof(p->source), "built-in");
	err = profile_parse_string(p, name, t);
	snprintf(p->source, sizeof(p->source), "built-in");
	return err;
}

/* A name, not a path: letters, digits, '.', '_', '-', not starting with '.'. */
static bool profile_name_ok(const char *name)
{
	if (!*name || *name == '.' || strlen(name) > 60)
		return false;
	for (const char *c = name; *c; c++)
		if (!(isalnum((unsigned char)*c) || *c == '.' || *c == '_' || *c == '-'))
			return false;
	return true;
}

int profile_by_name(struct tune_profile *p, const char *name)
{
	char path[PATH_MAX];
	int err;

	if (profile_name_ok(name) &&
	    snprintf(path, sizeof(path), "%s/%s.ini", profile_dir(), name) < (int)sizeof(path) &&
	    !access(path, F_OK))
		return profile_parse_file(p, path);
	err = profile_builtin(p, name);
	if (err)
		snprintf(p->err, sizeof(p->err), "no profile '%s': neither %s/%s.ini nor a built-in "
			 "(built-in: loopback; `accelctl profile list`); use --config FILE for a file elsewhere",
			 name, profile_dir(), name);
	return err;
}

int profile_load_for_attach(const struct accel_ctx *ctx, struct tune_profile *p)
{
	int err;

	if (ctx->attach.config)
		err = profile_parse_file(p, ctx->attach.config);
	else
		err = profile_by_name(p, ctx->attach.profile ? ctx->attach.profile : "loopback");
	if (err)
		pr_err("profile: %s\n", p->err);
	return err;
}

int profile_merge_attach_opts(struct accel_ctx *ctx, const struct tune_profile *p)
{
	struct attach_opts *a = &ctx->attach;
	static const struct {
		const char *name;
		size_t off;
	} en[] = {
		{ "bypass", offsetof(struct tune_profile, enable_bypass) },
		{ "netacct", offsetof(struct tune_profile, enable_netacct) },
		{ "tcpstate", offsetof(struct tune_profile, enable_tcpstate) },
	};
	bool any = false;

	if (!a->features_explicit) {
		unsigned int mask = (1u << nfeatures) - 1;

		for (size_t i = 0; i < ARRAY_SIZE(en); i++) {
			int v = *(const int *)((const char *)p + en[i].off);
			const struct accel_feature *f = feature_by_name(en[i].name);

			if (v == PROFILE_UNSET || !f)
				continue;
			any = true;
			if (v == PROFILE_OFF)
				mask &= ~(1u << feature_index(f));
		}
		/* enable = on makes a feature required (like --features); a
		 * feature the profile does not name stays optional: skipped,
		 * as without a profile, when this host cannot run it. */
		for (int i = 0; any && i < nfeatures; i++) {
			const struct accel_feature *f = features[i];
			bool named = false;
			char why[256] = "";

			for (size_t k = 0; k < ARRAY_SIZE(en); k++)
				named |= !strcmp(en[k].name, f->name) &&
					 *(const int *)((const char *)p + en[k].off) != PROFILE_UNSET;
			if (named || !(mask & (1u << i)) || !f->probe(ctx, why, sizeof(why)))
				continue;
			pr_info("skipping %s: %s\n", f->name, why);
			mask &= ~(1u << i);
		}
		if (any) {
			a->features = mask;
			a->features_explicit = true;
		}
	}
	/* what the command line left unset */
	accel_opt_for_each(i, o)
		if (accel_opt_is_given(&p->attach, o) && !accel_opt_is_given(a, o))
			accel_opt_copy(o, a, &p->attach);
	return 0;
}

/* ---- `accelctl profile` ---- */

static void profile_print(const struct tune_profile *p, FILE *out)
{
	static const char *const ens[] = { "off", "on" };
	static const struct {
		const char *name;
		size_t off;
	} secs[] = {
		{ "bypass", offsetof(struct tune_profile, enable_bypass) },
		{ "netacct", offsetof(struct tune_profile, enable_netacct) },
		{ "tcpstate", offsetof(struct tune_profile, enable_tcpstate) },
	};

	fprintf(out, "# profile %s (%s)\n[profile]\nname = %s\n", p->name, p->source, p->name);
	fprintf(out, "\n[sysctl]\n");
	for (int i = 0; i < p->n; i++)
		if (p->items[i].kind == TK_SYSCTL)
			fprintf(out, "%s = %s%s\n", p->items[i].key, p->items[i].at_least ? ">=" : "",
				p->items[i].value);
	for (int i = 0; i < p->n; i++) {
		const struct tune_item *it = &p->items[i];
		bool first = true;

		if (it->kind == TK_SYSCTL)
			continue;
		for (int k = 0; k < i; k++)
			if (p->items[k].kind != TK_SYSCTL && !strcmp(p->items[k].ifname, it->ifname))
				first = false;
		if (!first)
			continue;
		fprintf(out, "\n[nic \"%s\"]\n", it->ifname);
		for (int k = i; k < p->n; k++)
			if (p->items[k].kind != TK_SYSCTL && !strcmp(p->items[k].ifname, it->ifname))
				fprintf(out, "%s = %s\n", p->items[k].key, p->items[k].value);
	}
	for (size_t sec = 0; sec < ARRAY_SIZE(secs); sec++) {
		const char *name = secs[sec].name;
		int en = *(const int *)((const char *)p + secs[sec].off);
		bool any = en != PROFILE_UNSET;

		accel_opt_for_each(i, o)
			any |= o->section && !strcmp(o->section, name) && accel_opt_is_given(&p->attach, o);
		if (!any)
			continue;
		fprintf(out, "\n[%s]\n", name);
		if (en != PROFILE_UNSET)
			fprintf(out, "enable = %s\n", ens[en]);
		accel_opt_for_each(i, o)
			if (o->section && !strcmp(o->section, name) && accel_opt_is_given(&p->attach, o))
				fprintf(out, "%s = %s\n", o->name, p->raw[accel_opt_bit(o)]);
	}
	if (p->has_auto) {
		const struct tune_bounds *b = &p->bounds;

		fprintf(out, "\n[auto]\nsomaxconn-max = %llu\nport-low-min = %llu\ntw-reuse = %s\n"
			"port-pressure-pct = %u\nip6frag-high-max = %llu\ninterval = %u\n",
			(unsigned long long)b->somaxconn_max, (unsigned long long)b->port_low_min,
			ens[b->tw_reuse], b->port_pressure_pct, (unsigned long long)b->ip6frag_high_max,
			b->interval);
	}
}

static bool looks_like_file(const char *arg)
{
	struct stat st;

	return strchr(arg, '/') || strchr(arg, '.') || !stat(arg, &st);
}

int profile_command(struct accel_ctx *ctx, struct cli_opts *o, profile_check_fn check)
{
	struct tune_profile *p = calloc(1, sizeof(*p));
	const char *verb = o->nargs ? o->args[0] : "show";
	const char *arg = o->nargs > 1 ? o->args[1] : NULL;
	int err = 0;

	if (!p)
		return EXIT_FAIL;
	if (o->nargs > 2 || (strcmp(verb, "show") && strcmp(verb, "check") && strcmp(verb, "list") &&
			     strcmp(verb, "import") && strcmp(verb, "export"))) {
		pr_err_raw("usage: accelctl profile list | show [NAME|FILE] | check FILE | import FILE | "
			   "export --sysctl-d [NAME|FILE]\n");
		err = EXIT_USAGE;
		goto cleanup;
	}
	if (!strcmp(verb, "list")) {
		profile_list(stdout);
		goto cleanup;
	}
	if (!strcmp(verb, "import")) {
		char why[PATH_MAX + 256];

		if (!arg) {
			pr_err_raw("accelctl profile import: which sysctl.d FILE?\n");
			err = EXIT_USAGE;
		} else if (profile_import_sysctl_d(arg, stdout, why, sizeof(why))) {
			pr_err("profile import: %s\n", why);
			err = EXIT_USAGE;
		}
		goto cleanup;
	}
	if (!strcmp(verb, "export") && !o->sysctl_d) {
		pr_err_raw("accelctl profile export: in which syntax? --sysctl-d (the one there is)\n");
		err = EXIT_USAGE;
		goto cleanup;
	}
	if (!strcmp(verb, "check") && !arg) {
		pr_err_raw("accelctl profile check: which FILE?\n");
		err = EXIT_USAGE;
		goto cleanup;
	}
	if (!arg)
		arg = ctx->attach.profile ? ctx->attach.profile : "loopback";
	if (looks_like_file(arg) || !strcmp(verb, "check")) {
		if (profile_parse_file(p, arg)) {
			pr_err("%s\n", p->err);
			err = EXIT_USAGE;
			goto cleanup;
		}
	} else if (profile_by_name(p, arg)) {
		pr_err("%s\n", p->err);
		err = EXIT_USAGE;
		goto cleanup;
	}
	if (!strcmp(verb, "export")) {
		profile_export_sysctl_d(p, stdout);
		goto cleanup;
	}
	if (!strcmp(verb, "show")) {
		/* Built-ins print as written: every value with its reason. */
		if (p->builtin)
			fputs(builtin_text(arg), stdout);
		else
			profile_print(p, stdout);
		goto cleanup;
	}
	/* check: parsed; now against this kernel, namespace and devices. */
	err = check(ctx, p);
	err = !err ? EXIT_OK : err == -ACCEL_ECONFIG ? EXIT_USAGE : EXIT_FAIL;
	if (!err)
		printf("%s: ok\n", p->source);
cleanup:
	free(p);
	return err;
}
