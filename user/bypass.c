// SPDX-License-Identifier: GPL-2.0-only
/*
 * bypass: local IO bypass (bpf/bypass.bpf.c): sockops on a cgroup fills a
 * sockhash with local TCP sockets; an sk_msg program on the sockhash
 * redirects each send to the peer's ingress queue.
 *
 * Pins under <pin-root>/bypass/: link_bypass_sockops (the cgroup link),
 * prog_bypass_sk_msg (attached to the sockhash with BPF_PROG_ATTACH, which
 * has no link on this libbpf), and the maps by name.
 *
 * Detach never drops bytes: it raises DRAINING in the config map first
 * (no new insertions, no new redirects, redirected directions fall back to
 * the stack at their next send), detaches sockops, and then keeps the
 * sockhash pinned while sockets are still in it: removing a socket from a
 * sockhash, or freeing the map, purges whatever waits in its psock queue.
 * The sockets leave the sockhash when they close; a later `detach` (or
 * `detach --force`, which says what it risks) releases the rest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "accel.h"
#include "accel_abi.h"
#include "bpfutil.h"
#include "bypass.h"
#include "bypass.skel.h"
#include "log.h"
#include "pin.h"
#include "sysenv.h"

#define SK_MSG_PIN "prog_bypass_sk_msg"

static const char *const fallback_names[] = {
	[ACCEL_BYPASS_FB_PEER_MISSING] = "peer_missing",
	[ACCEL_BYPASS_FB_POLICY] = "policy",
	[ACCEL_BYPASS_FB_DEMOTED] = "demoted",
	[ACCEL_BYPASS_FB_REDIRECT_ERROR] = "redirect_error",
	[ACCEL_BYPASS_FB_KERNEL_UNSAFE] = "kernel_unsafe",
	[ACCEL_BYPASS_FB_DISABLED] = "disabled",
	[ACCEL_BYPASS_FB_STACK_STARTED] = "stack_started",
	[ACCEL_BYPASS_FB_NO_SLOT] = "no_slot",
};
_Static_assert(ARRAY_SIZE(fallback_names) == ACCEL_BYPASS_FB_END, "a name for every fallback reason");

static const struct accel_feature *self(void)
{
	return feature_by_name("bypass");
}

static int pin_dir(const struct accel_ctx *ctx, char *dir, size_t len)
{
	return feature_pin_dir(ctx, self(), dir, len);
}

/* ---- keys ------------------------------------------------------------ */

void bypass_key_mirror(const struct accel_bypass_key *k, struct accel_bypass_key *peer)
{
	memset(peer, 0, sizeof(*peer));
	peer->netns_cookie = k->netns_cookie;
	memcpy(peer->local_ip, k->remote_ip, sizeof(peer->local_ip));
	memcpy(peer->remote_ip, k->local_ip, sizeof(peer->remote_ip));
	peer->local_port = k->remote_port;
	peer->remote_port = k->local_port;
	peer->family = k->family;
}

static void addr_str(const uint8_t *a, uint8_t fam, char *buf, size_t len)
{
	if (fam == ACCEL_FAM_INET)
		inet_ntop(AF_INET, a + 12, buf, len);
	else
		inet_ntop(AF_INET6, a, buf, len);
}

const char *bypass_key_str(const struct accel_bypass_key *k, char *buf, size_t len)
{
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	bool v6 = k->family == ACCEL_FAM_INET6;

	addr_str(k->local_ip, k->family, l, sizeof(l));
	addr_str(k->remote_ip, k->family, r, sizeof(r));
	snprintf(buf, len, "%s %s%s%s:%u -> %s%s%s:%u netns %llu", v6 ? "inet6" : "inet",
		 v6 ? "[" : "", l, v6 ? "]" : "", k->local_port, v6 ? "[" : "", r, v6 ? "]" : "",
		 k->remote_port, (unsigned long long)k->netns_cookie);
	return buf;
}

void bypass_ports_bitmap(const struct port_list *pl, uint64_t *words)
{
	memset(words, 0, ACCEL_BYPASS_PORT_WORDS * sizeof(*words));
	for (int i = 0; i < pl->n; i++)
		for (uint32_t p = pl->r[i].lo; p <= pl->r[i].hi; p++)
			words[p >> 6] |= 1ULL << (p & 63);
}

static int ports_write(int fd, enum accel_bypass_port_list list, const struct port_list *pl)
{
	uint64_t words[ACCEL_BYPASS_PORT_WORDS];

	bypass_ports_bitmap(pl, words);
	for (uint32_t w = 0; w < ACCEL_BYPASS_PORT_WORDS; w++) {
		uint32_t idx = list * ACCEL_BYPASS_PORT_WORDS + w;

		if (bpf_map_update_elem(fd, &idx, &words[w], BPF_ANY))
			return -errno;
	}
	return 0;
}

static void ports_read(int fd, enum accel_bypass_port_list list, char *buf, size_t len)
{
	uint64_t words[ACCEL_BYPASS_PORT_WORDS] = { 0 };
	size_t off = 0;
	int start = -1;

	for (uint32_t w = 0; w < ACCEL_BYPASS_PORT_WORDS; w++) {
		uint32_t idx = list * ACCEL_BYPASS_PORT_WORDS + w;

		if (bpf_map_lookup_elem(fd, &idx, &words[w]))
			words[w] = 0;
	}
	buf[0] = '\0';
	for (uint32_t p = 0; p <= 65536; p++) {
		bool on = p < 65536 && (words[p >> 6] & (1ULL << (p & 63)));

		if (on && start < 0)
			start = (int)p;
		if (!on && start >= 0) {
			if (off < len)
				off += snprintf(buf + off, len - off, (int)p - 1 == start ? "%s%d" : "%s%d-%d",
						off ? "," : "", start, (int)p - 1);
			start = -1;
		}
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

/* ---- probe / attach / detach ----------------------------------------- */

static int bypass_probe(struct accel_ctx *ctx, char *why, size_t len)
{
	(void)ctx;
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_SOCKHASH, NULL) <= 0) {
		snprintf(why, len, "the kernel has no BPF sockhash (CONFIG_BPF_STREAM_PARSER / CONFIG_NET_SOCK_MSG)");
		return -EOPNOTSUPP;
	}
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SK_MSG, NULL) <= 0 ||
	    libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SOCK_OPS, NULL) <= 0) {
		snprintf(why, len, "the kernel cannot load sk_msg or sockops programs");
		return -EOPNOTSUPP;
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_SK_STORAGE, NULL) <= 0) {
		snprintf(why, len, "the kernel has no socket local storage (BPF_MAP_TYPE_SK_STORAGE, 5.2+)");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* One of the bypass's pinned maps; -errno (-ENOENT: not attached). */
static int map_fd(const struct accel_ctx *ctx, const char *name)
{
	char dir[PATH_MAX];

	if (pin_dir(ctx, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	return pinned_obj_get(dir, name);
}

static int config_fd(const struct accel_ctx *ctx)
{
	return map_fd(ctx, ACCEL_BYPASS_MAP_CONFIG);
}

static int config_read(int fd, struct accel_bypass_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(fd, &zero, cfg) ? -errno : 0;
}

static int config_write(int fd, const struct accel_bypass_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_update_elem(fd, &zero, cfg, BPF_ANY) ? -errno : 0;
}

/* Sockets still in the pinned sockhash, and the connections they make up
 * (a socket and its mirror count once).  -errno when there is no map. */
static int sockhash_count(const struct accel_ctx *ctx, unsigned int *socks, unsigned int *conns)
{
	struct accel_bypass_key k, next, peer;
	__u64 cookie;
	void *prev = NULL;
	int fd;

	*socks = *conns = 0;
	fd = map_fd(ctx, ACCEL_BYPASS_MAP_SOCKS);
	if (fd < 0)
		return fd;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		(*socks)++;
		bypass_key_mirror(&k, &peer);
		/* count a pair once: at the key that sorts first */
		if (bpf_map_lookup_elem(fd, &peer, &cookie) || memcmp(&k, &peer, sizeof(k)) < 0)
			(*conns)++;
	}
	close(fd);
	return 0;
}

/* --event-ports ports whose accepted sockets were caught blocking,
 * summed over namespaces, in port order. */
struct blocking_port {
	uint16_t port;
	uint64_t sockets;
	double secs_ago;
};

static int blocking_ports_read(const struct accel_ctx *ctx, struct blocking_port *bp, int max)
{
	struct accel_bypass_port_key k, next;
	struct accel_bypass_port_seen seen;
	struct timespec now;
	void *prev = NULL;
	int fd, n = 0, i;
	double ago;

	fd = map_fd(ctx, ACCEL_BYPASS_MAP_BLOCKING_PORTS);
	if (fd < 0)
		return fd;
	clock_gettime(CLOCK_BOOTTIME, &now);
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &seen))
			continue;	/* evicted meanwhile */
		ago = now.tv_sec + now.tv_nsec / 1e9 - seen.last_boot_ns / 1e9;

		for (i = 0; i < n && bp[i].port < k.port; i++)
			;
		if (i < n && bp[i].port == k.port) {
			bp[i].sockets += seen.sockets;
			if (ago < bp[i].secs_ago)
				bp[i].secs_ago = ago;
			continue;
		}
		if (n == max)
			break;
		memmove(&bp[i + 1], &bp[i], (size_t)(n - i) * sizeof(*bp));
		bp[i] = (struct blocking_port){ .port = k.port, .sockets = seen.sockets,
						.secs_ago = ago < 0 ? 0 : ago };
		n++;
	}
	close(fd);
	return n;
}

/* `bypass policy --event-ports`: the operator re-declared the list. */
static int blocking_ports_clear(const char *dir)
{
	struct accel_bypass_port_key k;
	int fd = pinned_obj_get(dir, ACCEL_BYPASS_MAP_BLOCKING_PORTS), err = 0;

	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	while (!bpf_map_get_next_key(fd, NULL, &k)) {
		if (bpf_map_delete_elem(fd, &k)) {
			err = -errno;
			break;
		}
	}
	close(fd);
	return err;
}

static int attach_sk_msg(struct bypass_bpf *skel, const char *dir)
{
	char path[PATH_MAX];
	int prog_fd = bpf_program__fd(skel->progs.bypass_sk_msg);
	int map_fd = bpf_map__fd(skel->maps.bypass_socks);

	if (bpf_prog_attach(prog_fd, map_fd, BPF_SK_MSG_VERDICT, 0)) {
		int err = -errno;

		pr_warn("bypass: cannot attach sk_msg to the sockhash: %s\n", strerror(-err));
		return err;
	}
	if (path_join(path, sizeof(path), dir, SK_MSG_PIN))
		return -ENAMETOOLONG;
	if (bpf_obj_pin(prog_fd, path)) {
		int err = -errno;

		pr_warn("bypass: cannot pin %s: %s\n", path, strerror(-err));
		return err;
	}
	return 0;
}

#ifdef ACCEL_TEST_HOOKS
/* Test build only (tests/accelctl-testhooks): ACCELCTL_TEST_CONN_SLOTS=N
 * (a power of two) shrinks bypass_conns to N slots, so that a test can
 * wear slots out: reuse after close, and a full table. */
static void test_conn_slots(struct bypass_bpf *skel)
{
	const char *e = getenv("ACCELCTL_TEST_CONN_SLOTS");
	unsigned long n = e ? strtoul(e, NULL, 10) : 0;

	if (!n || (n & (n - 1)) || n > ACCEL_BYPASS_MAX_CONNS)
		return;
	fprintf(stderr, "accelctl: TEST HOOK: %lu connection slots\n", n);
	skel->rodata->conn_slot_mask = n - 1;
	bpf_map__set_max_entries(skel->maps.bypass_conns, n);
}
#else
static inline void test_conn_slots(struct bypass_bpf *skel)
{
	(void)skel;
}
#endif

static int bypass_attach_cgroup(struct accel_ctx *ctx, const char *mnt)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	struct accel_bypass_config cfg = {
		.enabled = 1,
		.small_msg_bytes = ACCEL_BYPASS_SMALL_MSG_BYTES,
		.small_msg_run = ACCEL_BYPASS_SMALL_MSG_RUN,
	};
	const struct attach_opts *ao = &ctx->attach;
	struct bypass_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	struct bypass_selftest st;
	char dir[PATH_MAX], cg[PATH_MAX], detail[512];
	int err, cg_fd = -1, ports_fd;
	bool made = false;

	err = cgroup2_resolve(mnt, ao->cgroup, cg, sizeof(cg));
	if (err) {
		pr_warn("bypass: --cgroup %s: use a cgroup2 directory below %s\n",
			ao->cgroup ? ao->cgroup : "(root)", mnt);
		return err;
	}
	err = pin_dir(ctx, dir, sizeof(dir));
	if (err)
		return err;
	if (!access(dir, F_OK)) {
		unsigned int socks, conns;

		if (!sockhash_count(ctx, &socks, &conns) && socks) {
			pr_warn("bypass: %u connections of an earlier attach are still draining in %s; "
				"wait until they close, or run `accelctl detach --force`\n", conns, dir);
			return -EBUSY;
		}
	}

	/* Probe the kernel before anything is pinned: restricted mode is
	 * decided once, here, and recorded in the config for `status`. */
	bypass_selftest_run(&st);
	cfg.kernel_affected = st.affected;
	cfg.kernel_unchecked = st.unchecked;
	if (st.affected | st.unchecked) {
		char msg[2048];

		cfg.flags |= ACCEL_BYPASS_F_BLOCKING_UNSAFE;
		bypass_selftest_explain(&st, ao->event_ports.n, msg, sizeof(msg));
		pr_info("%s", msg);
	}
	for (int i = 0; i < ACCEL_BYPASS_KB_COUNT; i++)
		pr_debug("bypass: self-test %s (%.1f ms)\n", bypass_selftest_line(&st, i, detail, sizeof(detail)),
			 st.r[i].ms);
	if (ao->ports.n)
		cfg.flags |= ACCEL_BYPASS_F_PORTS_ONLY;

	err = mkdir_p(dir, 0700);
	if (err)
		return err;
	made = true;
	oopts.pin_root_path = dir;
	skel = bypass_bpf__open_opts(&oopts);
	if (!skel) {
		err = -errno;
		pr_warn("bypass: cannot open the BPF object: %s (run with -v for libbpf's reason)\n",
			strerror(-err));
		goto cleanup;
	}
	skel->rodata->target_netns_cookie = ctx->netns ? ctx->netns_cookie : 0;
	test_conn_slots(skel);
	err = bypass_bpf__load(skel);
	if (err) {
		pr_warn("bypass: loading the programs failed: %s (run with -v for the verifier log)\n",
			strerror(-err));
		goto cleanup;
	}
	ports_fd = bpf_map__fd(skel->maps.bypass_ports);
	err = ports_write(ports_fd, ACCEL_BYPASS_PORTS_INCLUDE, &ao->ports);
	if (!err)
		err = ports_write(ports_fd, ACCEL_BYPASS_PORTS_EXCLUDE, &ao->exclude_ports);
	if (!err)
		err = ports_write(ports_fd, ACCEL_BYPASS_PORTS_EVENT, &ao->event_ports);
	if (!err)
		err = config_write(bpf_map__fd(skel->maps.bypass_config), &cfg);
	if (err) {
		pr_warn("bypass: cannot write the policy maps: %s\n", strerror(-err));
		goto cleanup;
	}
	/* sk_msg first: every socket sockops inserts gets it from the start. */
	err = attach_sk_msg(skel, dir);
	if (err)
		goto cleanup;
	cg_fd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		err = -errno;
		pr_warn("bypass: cannot open cgroup %s: %s\n", cg, strerror(-err));
		goto cleanup;
	}
	link = bpf_program__attach_cgroup(skel->progs.bypass_sockops, cg_fd);
	if (!link) {
		err = -errno;
		pr_warn("bypass: cannot attach sockops to %s: %s\n", cg, strerror(-err));
		goto cleanup;
	}
	err = link_pin(link, dir, "bypass_sockops");
	if (!err)
		pr_info("bypass: accelerating local TCP connections of cgroup %s\n", cg);
cleanup:
	bpf_link__destroy(link);	/* the pin keeps it */
	if (cg_fd >= 0)
		close(cg_fd);
	if (err && skel && bpf_map__fd(skel->maps.bypass_socks) >= 0)
		bpf_prog_detach2(bpf_program__fd(skel->progs.bypass_sk_msg),
				 bpf_map__fd(skel->maps.bypass_socks), BPF_SK_MSG_VERDICT);
	bypass_bpf__destroy(skel);
	if (err && made)
		feature_unpin_all(ctx, self());
	return err;
}

static int bypass_attach(struct accel_ctx *ctx)
{
	char mnt[PATH_MAX];
	bool mounted = false;
	int err;

	err = cgroup2_mount(ctx->state_dir, mnt, sizeof(mnt), &mounted);
	if (err)
		return err;
	err = bypass_attach_cgroup(ctx, mnt);
	/* A cgroup2 mount of our own (pure cgroup-v1 host) was only needed
	 * to open the cgroup: the link holds it from here on. */
	if (mounted)
		cgroup2_unmount(mnt);
	return err;
}

static bool bypass_attached(struct accel_ctx *ctx)
{
	return feature_pins_exist(ctx, self());
}

/* Stop new insertions and redirects at once: DRAINING in the config map.
 * The sockops link stays while draining: it no longer inserts, but it is
 * what takes drained sockets out of the sockhash (bypass_hdr_opt_len). */
static void bypass_quiesce(struct accel_ctx *ctx)
{
	struct accel_bypass_config cfg;
	int fd = config_fd(ctx);

	if (fd < 0)
		return;
	if (!config_read(fd, &cfg) && !(cfg.flags & ACCEL_BYPASS_F_DRAINING)) {
		cfg.flags |= ACCEL_BYPASS_F_DRAINING;
		if (config_write(fd, &cfg))
			pr_warn("bypass: cannot switch the bypass off: %s\n", strerror(errno));
	}
	close(fd);
}

static int bypass_detach(struct accel_ctx *ctx)
{
	unsigned int socks = 0, conns = 0;
	char dir[PATH_MAX];
	int err;

	err = pin_dir(ctx, dir, sizeof(dir));
	if (err)
		return err;
	if (access(dir, F_OK))
		return 0;
	bypass_quiesce(ctx);
	if (!sockhash_count(ctx, &socks, &conns) && socks) {
		if (!ctx->force) {
			pr_info("bypass: off; draining: %u connections keep %s pinned until they close\n"
				"bypass: (their bypassed bytes are still being read; `accelctl status` shows them,\n"
				"bypass: `accelctl detach` again releases what has drained, `detach --force` drops it)\n",
				conns, dir);
			return 0;
		}
		pr_warn("bypass: --force: releasing the sockhash with %u connections (%u sockets) in it; "
			"bytes they have not read yet from the bypass are lost and their readers see a short stream\n",
			conns, socks);
	}
	return feature_unpin_all(ctx, self());
}

/* ---- metrics ---------------------------------------------------------- */

static int bypass_collect(struct accel_ctx *ctx, struct metrics *m)
{
	uint64_t c[ACCEL_BYPASS_NCOUNTERS];
	struct accel_bypass_config cfg = { 0 };
	unsigned int socks = 0, conns = 0;
	struct blocking_port bp[64];
	struct metric_family *f;
	char dir[PATH_MAX];
	double active;
	int err, fd, n;

	err = pin_dir(ctx, dir, sizeof(dir));
	if (err)
		return err;
	err = percpu_array_sum(dir, ACCEL_BYPASS_MAP_COUNTERS, c, ACCEL_BYPASS_NCOUNTERS);
	if (err)
		return err;
	fd = config_fd(ctx);
	if (fd >= 0) {
		config_read(fd, &cfg);
		close(fd);
	}
	sockhash_count(ctx, &socks, &conns);

	active = (double)c[ACCEL_BYPASS_CONN_INET] + c[ACCEL_BYPASS_CONN_INET6] - c[ACCEL_BYPASS_CONN_CLOSED];
	f = metrics_family(m, "accel_bypass_connections_active", METRIC_GAUGE,
			   "Connections with a direction on the bypass that have not closed yet");
	metric_add(f, active < 0 ? 0 : active, NULL);
	f = metrics_family(m, "accel_bypass_connections_total", METRIC_COUNTER,
			   "Connections accelerated (a direction redirected from its first byte), by wire family");
	metric_add(f, c[ACCEL_BYPASS_CONN_INET], "family", "inet", NULL);
	metric_add(f, c[ACCEL_BYPASS_CONN_INET6], "family", "inet6", NULL);
	f = metrics_family(m, "accel_bypass_bytes_total", METRIC_COUNTER,
			   "Bytes sk_msg redirected to a peer socket instead of the TCP/IP stack");
	metric_add(f, c[ACCEL_BYPASS_BYTES], NULL);
	f = metrics_family(m, "accel_bypass_messages_total", METRIC_COUNTER,
			   "sk_msg verdicts (sendmsg chunks) redirected to a peer socket");
	metric_add(f, c[ACCEL_BYPASS_MSGS], NULL);
	f = metrics_family(m, "accel_bypass_fallback_total", METRIC_COUNTER,
			   "Directions (policy: sockets) left on or moved back to the TCP/IP stack, by reason");
	for (int i = ACCEL_BYPASS_FB_PEER_MISSING; i < ACCEL_BYPASS_FB_END; i++)
		metric_add(f, c[i], "reason", fallback_names[i], NULL);
	f = metrics_family(m, "accel_bypass_sockets_total", METRIC_COUNTER,
			   "Sockets sockops put into the sockhash");
	metric_add(f, c[ACCEL_BYPASS_SOCKS], NULL);
	f = metrics_family(m, "accel_bypass_evicted_total", METRIC_COUNTER,
			   "Sockets taken out of the sockhash again once nothing could be lost (own direction on the stack, psock drained)");
	metric_add(f, c[ACCEL_BYPASS_EVICTED], NULL);
	f = metrics_family(m, "accel_bypass_sockets", METRIC_GAUGE,
			   "Sockets in the sockhash now");
	metric_add(f, socks, NULL);
	f = metrics_family(m, "accel_bypass_connection_slots", METRIC_GAUGE,
			   "Sockets holding a slot of per-connection state shared with their peer "
			   "(bypass_conns); 0 once every accelerated socket has closed");
	metric_add(f, c[ACCEL_BYPASS_SLOT_TAKEN] >= c[ACCEL_BYPASS_SLOT_RELEASED] ?
		   (double)(c[ACCEL_BYPASS_SLOT_TAKEN] - c[ACCEL_BYPASS_SLOT_RELEASED]) : 0, NULL);
	f = metrics_family(m, "accel_bypass_draining_connections", METRIC_GAUGE,
			   "Connections still in the sockhash after detach, kept until they close");
	metric_add(f, (cfg.flags & ACCEL_BYPASS_F_DRAINING) ? conns : 0, NULL);
	n = blocking_ports_read(ctx, bp, ARRAY_SIZE(bp));
	if (n >= 0) {
		f = metrics_family(m, "accel_bypass_blocking_server_sockets_total", METRIC_COUNTER,
				   "Accepted sockets of an --event-ports port found blocking at their first send, "
				   "by port; new connections to such a port stay on the stack");
		for (int i = 0; i < n; i++) {
			char port[8];

			snprintf(port, sizeof(port), "%u", bp[i].port);
			metric_add(f, (double)bp[i].sockets, "port", port, NULL);
		}
	}
	f = metrics_family(m, "accel_bypass_enabled", METRIC_GAUGE,
			   "1 when new connections are accelerated (`accelctl bypass on`), else 0");
	metric_add(f, cfg.enabled && !(cfg.flags & ACCEL_BYPASS_F_DRAINING), NULL);
	return 0;
}

static double mval(const struct metrics *m, const char *name, const char *lk, const char *lv)
{
	const struct metric_sample *s = lk ? metrics_find(m, name, lk, lv, NULL) : metrics_find(m, name, NULL);

	return s ? s->value : 0;
}

static void bypass_show(struct accel_ctx *ctx, const struct metrics *m, FILE *out)
{
	char b[32];

	(void)ctx;
	if (!metrics_find_family(m, "accel_bypass_bytes_total"))
		return;
	fprintf(out, "Local IO bypass%s\n", mval(m, "accel_bypass_enabled", NULL, NULL) ? "" : " (off)");
	fprintf(out, "  %-28s %14.0f\n", "connections active", mval(m, "accel_bypass_connections_active", NULL, NULL));
	fprintf(out, "  %-28s %14.0f\n", "connections total inet",
		mval(m, "accel_bypass_connections_total", "family", "inet"));
	fprintf(out, "  %-28s %14.0f\n", "connections total inet6",
		mval(m, "accel_bypass_connections_total", "family", "inet6"));
	fprintf(out, "  %-28s %14.0f  (%s)\n", "bytes redirected", mval(m, "accel_bypass_bytes_total", NULL, NULL),
		fmt_bytes(mval(m, "accel_bypass_bytes_total", NULL, NULL), b, sizeof(b)));
	fprintf(out, "  %-28s %14.0f\n", "messages redirected", mval(m, "accel_bypass_messages_total", NULL, NULL));
	fprintf(out, "  %-28s %14.0f\n", "sockets in sockhash", mval(m, "accel_bypass_sockets", NULL, NULL));
	fprintf(out, "  %-28s %14.0f\n", "draining connections",
		mval(m, "accel_bypass_draining_connections", NULL, NULL));
	fprintf(out, "  fallbacks to the stack\n");
	for (int i = ACCEL_BYPASS_FB_PEER_MISSING; i < ACCEL_BYPASS_FB_END; i++)
		fprintf(out, "    %-26s %14.0f\n", fallback_names[i],
			mval(m, "accel_bypass_fallback_total", "reason", fallback_names[i]));
}

/* A JSON array of the probe names in mask. */
static void jw_kb_list(struct json_writer *jw, const char *key, uint32_t mask)
{
	jw_key(jw, key);
	jw_start_array(jw);
	for (int i = 0; i < ACCEL_BYPASS_KB_COUNT; i++)
		if (mask & (1u << i))
			jw_string(jw, bypass_probes[i].name);
	jw_end_array(jw);
}

static void bypass_status(struct accel_ctx *ctx, struct json_writer *jw, FILE *out)
{
	struct accel_bypass_config cfg = { 0 };
	unsigned int socks = 0, conns = 0;
	char inc[256] = "none", exc[256] = "none", ev[256] = "none";
	struct blocking_port bp[64];
	bool draining;
	int fd = config_fd(ctx), pfd, nbp;

	if (fd >= 0) {
		config_read(fd, &cfg);
		close(fd);
	}
	pfd = map_fd(ctx, ACCEL_BYPASS_MAP_PORTS);
	if (pfd >= 0) {
		ports_read(pfd, ACCEL_BYPASS_PORTS_INCLUDE, inc, sizeof(inc));
		ports_read(pfd, ACCEL_BYPASS_PORTS_EXCLUDE, exc, sizeof(exc));
		ports_read(pfd, ACCEL_BYPASS_PORTS_EVENT, ev, sizeof(ev));
		close(pfd);
	}
	sockhash_count(ctx, &socks, &conns);
	nbp = blocking_ports_read(ctx, bp, ARRAY_SIZE(bp));
	draining = cfg.flags & ACCEL_BYPASS_F_DRAINING;
	if (jw) {
		jw_key(jw, "blocking_event_ports");
		jw_start_array(jw);
		for (int i = 0; i < nbp; i++) {
			jw_start_object(jw);
			jw_kv_uint(jw, "port", bp[i].port);
			jw_kv_uint(jw, "sockets", bp[i].sockets);
			jw_key(jw, "seconds_ago");
			jw_double(jw, bp[i].secs_ago);
			jw_end_object(jw);
		}
		jw_end_array(jw);
		jw_kv_bool(jw, "enabled", cfg.enabled && !draining);
		jw_kv_bool(jw, "blocking_readers_unsafe", cfg.flags & ACCEL_BYPASS_F_BLOCKING_UNSAFE);
		jw_kb_list(jw, "kernel_affected", cfg.kernel_affected);
		jw_kb_list(jw, "kernel_unchecked", cfg.kernel_unchecked);
		jw_kv_string(jw, "ports", (cfg.flags & ACCEL_BYPASS_F_PORTS_ONLY) ? inc : "all");
		jw_kv_string(jw, "exclude_ports", exc);
		jw_kv_string(jw, "event_ports", ev);
		jw_kv_uint(jw, "sockets", socks);
		jw_kv_uint(jw, "draining", draining ? conns : 0);
		return;
	}
	fprintf(out, "    bypass:   %s\n", draining ? "detached, draining" : cfg.enabled ? "on" : "off");
	fprintf(out, "    policy:   ports %s, exclude %s, event-ports %s\n",
		(cfg.flags & ACCEL_BYPASS_F_PORTS_ONLY) ? inc : "all", exc, ev);
	if (cfg.flags & ACCEL_BYPASS_F_BLOCKING_UNSAFE) {
		char names[256];

		/* an attach without the masks (older accelctl) found blocking_eagain */
		if (!(cfg.kernel_affected | cfg.kernel_unchecked))
			cfg.kernel_affected = 1u << ACCEL_BYPASS_KB_BLOCKING_EAGAIN;
		if (cfg.kernel_affected)
			fprintf(out, "    kernel:   sockmap differs from TCP: %s\n",
				bypass_kb_names(cfg.kernel_affected, names, sizeof(names)));
		if (cfg.kernel_unchecked)
			fprintf(out, "    kernel:   self-test could not run: %s (assumed affected)\n",
				bypass_kb_names(cfg.kernel_unchecked, names, sizeof(names)));
		fprintf(out, "    kernel:   only --event-ports servers and nonblocking clients are accelerated "
			"(`accelctl bypass selftest`, docs/bypass.md)\n");
	}
	for (int i = 0; i < nbp; i++)
		fprintf(out, "    warning:  --event-ports %u has a blocking server (%llu sockets, latest %.0f s ago): "
			"its new connections stay on the stack; make the server nonblocking or drop the port "
			"(`accelctl bypass policy --event-ports ...`)\n",
			bp[i].port, (unsigned long long)bp[i].sockets, bp[i].secs_ago);
	fprintf(out, "    sockets:  %u in the sockhash (%u connections)\n", socks, conns);
	if (draining)
		fprintf(out, "    draining: %u connections\n", conns);
}

/* `accelctl bypass selftest [--json]`: 0 when every probe ran (affected
 * is a finding, not a failure), -EAGAIN when one could not. */
static int selftest_print(const struct accel_ctx *ctx)
{
	struct bypass_selftest st;
	char line[512];

	bypass_selftest_run(&st);
	if (ctx->json) {
		struct json_writer jw;

		jw_init(&jw, stdout, true);
		jw_start_object(&jw);
		jw_key(&jw, "probes");
		jw_start_array(&jw);
		for (int i = 0; i < ACCEL_BYPASS_KB_COUNT; i++) {
			jw_start_object(&jw);
			jw_kv_string(&jw, "name", bypass_probes[i].name);
			jw_kv_string(&jw, "checks", bypass_probes[i].checks);
			jw_kv_string(&jw, "verdict", bypass_verdict_name(st.r[i].verdict));
			jw_kv_string(&jw, "detail", st.r[i].detail);
			jw_kv_uint(&jw, "us", (uint64_t)(st.r[i].ms * 1000));
			jw_end_object(&jw);
		}
		jw_end_array(&jw);
		jw_kb_list(&jw, "affected", st.affected);
		jw_kb_list(&jw, "could_not_run", st.unchecked);
		jw_kv_bool(&jw, "restricted", st.affected | st.unchecked);
		jw_kv_uint(&jw, "us", (uint64_t)(st.ms * 1000));
		jw_end_object(&jw);
		jw_finish(&jw);
	} else {
		for (int i = 0; i < ACCEL_BYPASS_KB_COUNT; i++)
			printf("%s\n", bypass_selftest_line(&st, i, line, sizeof(line)));
	}
	if (st.unchecked) {
		pr_warn("bypass selftest: %s could not run; attach would assume affected\n",
			bypass_kb_names(st.unchecked, line, sizeof(line)));
		return -EAGAIN;
	}
	return 0;
}

/* ---- `accelctl bypass on|off|policy|selftest` ------------------------- */

int bypass_command(struct accel_ctx *ctx, const char *verb)
{
	struct accel_bypass_config cfg;
	char dir[PATH_MAX];
	int err, fd = -1, pfd = -1;

	if (!strcmp(verb, "selftest")) {
		if (ctx->attach.lists_set) {
			pr_warn("bypass selftest: port lists go with `accelctl bypass policy`\n");
			return -ACCEL_ECONFIG;
		}
		return selftest_print(ctx);
	}
	if (ctx->json) {
		pr_warn("bypass %s: --json goes with `accelctl bypass selftest`\n", verb);
		return -ACCEL_ECONFIG;
	}
	if (strcmp(verb, "on") && strcmp(verb, "off") && strcmp(verb, "policy")) {
		pr_warn("bypass: unknown action '%s' (on, off, policy, selftest)\n", verb);
		return -ACCEL_ECONFIG;
	}
	if ((ctx->attach.lists_set) && strcmp(verb, "policy")) {
		pr_warn("bypass %s: port lists go with `accelctl bypass policy`\n", verb);
		return -ACCEL_ECONFIG;
	}
	err = pin_root_lock(ctx->pin_root, false, &ctx->lock_fd);
	if (err == -ENOENT)
		pr_warn("bypass is not attached (pin root %s); run `accelctl attach --features bypass`\n",
			ctx->pin_root);
	if (err)
		return err;
	fd = config_fd(ctx);
	if (fd < 0 || config_read(fd, &cfg)) {
		pr_warn("bypass is not attached (pin root %s); run `accelctl attach --features bypass`\n",
			ctx->pin_root);
		err = -ENOENT;
		goto cleanup;
	}
	if (cfg.flags & ACCEL_BYPASS_F_DRAINING) {
		pr_warn("bypass is detached and draining; attach it again to change it\n");
		err = -ENOENT;
		goto cleanup;
	}
	if (!strcmp(verb, "on") || !strcmp(verb, "off")) {
		cfg.enabled = !strcmp(verb, "on");
		err = config_write(fd, &cfg);
		if (!err)
			pr_info("bypass %s\n", verb);
		goto cleanup;
	}
	err = pin_dir(ctx, dir, sizeof(dir));
	if (err)
		goto cleanup;
	pfd = pinned_obj_get(dir, ACCEL_BYPASS_MAP_PORTS);
	if (pfd < 0) {
		err = pfd;
		goto cleanup;
	}
	if (ctx->attach.lists_set & 1) {
		err = ports_write(pfd, ACCEL_BYPASS_PORTS_INCLUDE, &ctx->attach.ports);
		if (ctx->attach.ports.n)
			cfg.flags |= ACCEL_BYPASS_F_PORTS_ONLY;
		else
			cfg.flags &= ~ACCEL_BYPASS_F_PORTS_ONLY;
	}
	if (!err && (ctx->attach.lists_set & 2))
		err = ports_write(pfd, ACCEL_BYPASS_PORTS_EXCLUDE, &ctx->attach.exclude_ports);
	if (!err && (ctx->attach.lists_set & 4)) {
		err = ports_write(pfd, ACCEL_BYPASS_PORTS_EVENT, &ctx->attach.event_ports);
		if (!err)
			err = blocking_ports_clear(dir);
	}
	if (!err)
		err = config_write(fd, &cfg);
	if (err) {
		pr_warn("bypass: cannot update the policy: %s\n", strerror(-err));
		goto cleanup;
	}
	{
		char inc[256], exc[256], ev[256];

		ports_read(pfd, ACCEL_BYPASS_PORTS_INCLUDE, inc, sizeof(inc));
		ports_read(pfd, ACCEL_BYPASS_PORTS_EXCLUDE, exc, sizeof(exc));
		ports_read(pfd, ACCEL_BYPASS_PORTS_EVENT, ev, sizeof(ev));
		printf("ports %s\nexclude-ports %s\nevent-ports %s\n",
		       (cfg.flags & ACCEL_BYPASS_F_PORTS_ONLY) ? inc : "all", exc, ev);
	}
cleanup:
	if (pfd >= 0)
		close(pfd);
	if (fd >= 0)
		close(fd);
	pin_root_unlock(&ctx->lock_fd);
	return err;
}

const struct accel_feature feature_bypass = {
	.name = "bypass",
	.summary = "local IO bypass (sockops + sockhash + sk_msg)",
	.probe = bypass_probe,
	.attach = bypass_attach,
	.detach = bypass_detach,
	.attached = bypass_attached,
	.collect = bypass_collect,
	.show = bypass_show,
	.status = bypass_status,
};
