// SPDX-License-Identifier: GPL-2.0-only
/*
 * bypass: local IO bypass (bpf/bypass.bpf.c): sockops on a cgroup fills a
 * sockhash with local TCP sockets; an sk_msg program on the sockhash
 * redirects each send to the peer's ingress queue.
 *
 * Pins under <pin-root>/bypass/: link_bypass_sockops (the cgroup link),
 * link_bypass_learn_recv (learning's tracepoint, when it learns),
 * link_bypass_count (the iterator that reads the sockhash's size),
 * prog_bypass_sk_msg (attached to the sockhash with BPF_PROG_ATTACH, which
 * has no link on this libbpf), and the maps by name.
 *
 * Detach never drops bytes: it raises DRAINING in the config map first
 * (no new insertions, no new redirects, redirected directions fall back to
 * the stack at their next send), saves what learning knows and unpins its
 * tracepoint, releases every socket with nothing queued, and keeps a
 * sockhash that still holds unread bytes as a draining generation (see
 * "generations" below) until they are read.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <sys/stat.h>
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
#include "bypass_count.skel.h"
#include "bypass_drain.skel.h"
#include "cli.h"
#include "log.h"
#include "opts.h"
#include "pin.h"
#include "status_model.h"
#include "sysenv.h"

#define SK_MSG_PIN "prog_bypass_sk_msg"
#define LEARN_LINK "bypass_learn_recv"
#define COUNT_LINK "bypass_count"

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

static const char *const demoted_names[] = {
	[ACCEL_BYPASS_DEMOTED_SMALL] = "small_messages",
	[ACCEL_BYPASS_DEMOTED_BUSY] = "busy_reader",
};
_Static_assert(ARRAY_SIZE(demoted_names) == ACCEL_BYPASS_DEMOTED_CAUSES, "a name for every demotion cause");

/* Every metric the bypass exports (docs/metrics.md "bypass"). */
enum bypass_metric {
	BM_DRAINING_GENERATIONS,
	BM_DRAINING_CONNECTIONS,
	BM_DRAINING_UNREAD_BYTES,
	BM_CONNECTIONS_ACTIVE,
	BM_CONNECTIONS,
	BM_BYTES,
	BM_MESSAGES,
	BM_FALLBACK,
	BM_DEMOTED,
	BM_SOCKETS_ADDED,
	BM_EVICTED,
	BM_SOCKETS,
	BM_CAPACITY_SOCKETS,
	BM_MAP_MEMORY_BYTES,
	BM_CONNECTION_SLOTS,
	BM_BLOCKING_SERVER_SOCKETS,
	BM_ENABLED,
	BM_LEARNED_PORTS,
	BM_LEARNING_KEPT,
	BM_LEARNING_OBSERVED,
	BM_LEARNING_VERDICTS,
	BM_LEARNING_REOPENED,
	BM_LEARNING_TABLE_FULL,
	BM_COUNT
};

static const struct metric_desc bypass_metrics[BM_COUNT] = {
	[BM_DRAINING_GENERATIONS] = { "accel_bypass_draining_generations", METRIC_GAUGE, "",
		"Detached bypasses whose sockhash is kept for bytes not read yet" },
	[BM_DRAINING_CONNECTIONS] = { "accel_bypass_draining_connections", METRIC_GAUGE, "",
		"Connections of detached bypasses still holding bypassed bytes not read yet" },
	[BM_DRAINING_UNREAD_BYTES] = { "accel_bypass_draining_unread_bytes", METRIC_GAUGE, "bytes",
		"Bypassed bytes that detached bypasses hold for their readers" },
	[BM_CONNECTIONS_ACTIVE] = { "accel_bypass_connections_active", METRIC_GAUGE, "",
		"Connections with a direction on the bypass that have not closed yet" },
	[BM_CONNECTIONS] = { "accel_bypass_connections_total", METRIC_COUNTER, "",
		"Connections accelerated (a direction redirected from its first byte), by wire family",
		{ "family" } },
	[BM_BYTES] = { "accel_bypass_bytes_total", METRIC_COUNTER, "bytes",
		"Bytes sk_msg redirected to a peer socket instead of the TCP/IP stack" },
	[BM_MESSAGES] = { "accel_bypass_messages_total", METRIC_COUNTER, "",
		"sk_msg verdicts (sendmsg chunks) redirected to a peer socket" },
	[BM_FALLBACK] = { "accel_bypass_fallback_total", METRIC_COUNTER, "",
		"Directions (policy: sockets) left on or moved back to the TCP/IP stack, by reason",
		{ "reason" } },
	[BM_DEMOTED] = { "accel_bypass_demoted_total", METRIC_COUNTER, "",
		"Directions demoted from the bypass to the stack (fallback reason demoted), by cause: "
		"small_messages, busy_reader (a reader on another CPU holding its socket)",
		{ "cause" } },
	[BM_SOCKETS_ADDED] = { "accel_bypass_inserted_total", METRIC_COUNTER, "",
		"Sockets sockops put into the sockhash" },
	[BM_EVICTED] = { "accel_bypass_evicted_total", METRIC_COUNTER, "",
		"Sockets taken out of the sockhash again once nothing could be lost (own direction on the stack, psock drained)" },
	[BM_SOCKETS] = { "accel_bypass_sockets", METRIC_GAUGE, "",
		"Sockets in the sockhash now" },
	[BM_CAPACITY_SOCKETS] = { "accel_bypass_capacity_sockets", METRIC_GAUGE, "",
		"Sockets the sockhash holds at most (2 x --max-connections); when "
		"accel_bypass_sockets reaches it new connections stay on the stack (fallback no_slot)" },
	[BM_MAP_MEMORY_BYTES] = { "accel_bypass_map_memory_bytes", METRIC_GAUGE, "bytes",
		"Memory the kernel charges the bypass's maps (preallocated tables and the "
		"elements allocated so far)" },
	[BM_CONNECTION_SLOTS] = { "accel_bypass_connection_slots", METRIC_GAUGE, "",
		"Sockets holding a slot of per-connection state shared with their peer "
		"(bypass_conns); 0 once every accelerated socket has closed" },
	[BM_BLOCKING_SERVER_SOCKETS] = { "accel_bypass_blocking_server_sockets_total", METRIC_COUNTER, "",
		"Accepted sockets of an --event-ports port found blocking at their first send, "
		"by port; new connections to such a port stay on the stack", { "port" } },
	[BM_ENABLED] = { "accel_bypass_enabled", METRIC_GAUGE, "",
		"1 when new connections are accelerated (`accelctl bypass on`), else 0" },
	[BM_LEARNED_PORTS] = { "accel_bypass_learned_ports", METRIC_GAUGE, "",
		"Listening ports (per network namespace) learning knows, by verdict; "
		"event_driven ones are accelerated", { "verdict" } },
	[BM_LEARNING_KEPT] = { "accel_bypass_learning_kept_total", METRIC_COUNTER, "",
		"Accepted connections of ports not learned event-driven, kept on the TCP/IP stack" },
	[BM_LEARNING_OBSERVED] = { "accel_bypass_learning_observed_total", METRIC_COUNTER, "",
		"Accepted connections of learning ports whose reads were observed" },
	[BM_LEARNING_VERDICTS] = { "accel_bypass_learning_verdicts_total", METRIC_COUNTER, "",
		"Verdicts learning reached, by verdict", { "verdict" } },
	[BM_LEARNING_REOPENED] = { "accel_bypass_learning_reopened_total", METRIC_COUNTER, "",
		"Ports sent back to learning: a new listener, or an event-driven port's server found blocking" },
	[BM_LEARNING_TABLE_FULL] = { "accel_bypass_learning_table_full_total", METRIC_COUNTER, "",
		"Ports left unknown (on the stack) because the learned-ports table was full" },
};

static struct metric_family *bypass_family(struct metrics *m, enum bypass_metric id)
{
	return metrics_family_of(m, &bypass_metrics[id]);
}

/* A sample of a metric without labels, 0 when it was not collected. */
static double bypass_value(const struct metrics *m, enum bypass_metric id)
{
	return metric_value(metrics_get(m, &bypass_metrics[id]));
}

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

static void ports_words(int fd, enum accel_bypass_port_list list, uint64_t *words)
{
	for (uint32_t w = 0; w < ACCEL_BYPASS_PORT_WORDS; w++) {
		uint32_t idx = list * ACCEL_BYPASS_PORT_WORDS + w;

		if (fd < 0 || bpf_map_lookup_elem(fd, &idx, &words[w]))
			words[w] = 0;
	}
}

static bool port_on(const uint64_t *words, uint16_t p)
{
	return words[p >> 6] & (1ULL << (p & 63));
}

/* "a,b-c" for the ports set in words, "none" for an empty list. */
static void ports_format(const uint64_t *words, char *buf, size_t len)
{
	size_t off = 0;
	int start = -1;

	buf[0] = '\0';
	for (uint32_t p = 0; p <= 65536; p++) {
		bool on = p < 65536 && port_on(words, (uint16_t)p);

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

/* The operator's port lists as the BPF side sees them. */
struct port_policy {
	uint64_t inc[ACCEL_BYPASS_PORT_WORDS];
	uint64_t exc[ACCEL_BYPASS_PORT_WORDS];
	uint64_t ev[ACCEL_BYPASS_PORT_WORDS];
	bool only;			/* --ports given: other ports never */
	char inc_s[256], exc_s[256], ev_s[256];
};

static void policy_read(int fd, uint32_t cfg_flags, struct port_policy *pp)
{
	ports_words(fd, ACCEL_BYPASS_PORTS_INCLUDE, pp->inc);
	ports_words(fd, ACCEL_BYPASS_PORTS_EXCLUDE, pp->exc);
	ports_words(fd, ACCEL_BYPASS_PORTS_EVENT, pp->ev);
	pp->only = cfg_flags & ACCEL_BYPASS_F_PORTS_ONLY;
	ports_format(pp->inc, pp->inc_s, sizeof(pp->inc_s));
	ports_format(pp->exc, pp->exc_s, sizeof(pp->exc_s));
	ports_format(pp->ev, pp->ev_s, sizeof(pp->ev_s));
	if (!pp->only)
		snprintf(pp->inc_s, sizeof(pp->inc_s), "all");
}

/* What the operator's lists decide for a port, before anything learned
 * (the order bypass.bpf.c applies them in), or NULL: learning decides. */
static const char *policy_override(const struct port_policy *pp, uint16_t port)
{
	if (port_on(pp->exc, port))
		return "excluded";
	if (pp->only && !port_on(pp->inc, port))
		return "not_listed";
	if (port_on(pp->ev, port))
		return "operator_listed";
	return NULL;
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

/* The kernel's count of the sockets in the sockhash whose map id is id,
 * read through the iterator pinned in dir (bpf/bypass_count.bpf.c).
 * 0, -ENOENT when no record names the map, or -errno. */
static int count_read(const char *dir, uint32_t id, unsigned int *socks)
{
	struct accel_bypass_count_rec rec;
	char buf[64 * sizeof(rec)];
	size_t have = 0, off;
	int lfd, ifd, err = -ENOENT;
	ssize_t n;

	lfd = pinned_obj_get(dir, ACCEL_PIN_LINK_PREFIX COUNT_LINK);
	if (lfd < 0)
		return lfd;
	ifd = bpf_iter_create(lfd);
	close(lfd);
	if (ifd < 0)
		return -errno;
	for (;;) {
		n = read(ifd, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		for (off = 0; have - off >= sizeof(rec); off += sizeof(rec)) {
			memcpy(&rec, buf + off, sizeof(rec));
			if (rec.map_id == id) {
				*socks = rec.count;
				err = 0;
			}
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	if (n < 0)
		err = -errno;
	close(ifd);
	return err;
}

/* The sockets in the sockhash: what the kernel counts, or, without the
 * iterator (an attach by an older accelctl, a kernel without
 * iter/bpf_map), a walk of its keys: one syscall per socket. */
static int sockhash_sockets(const struct accel_ctx *ctx, unsigned int *socks)
{
	struct accel_bypass_key k, next;
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	char dir[PATH_MAX];
	void *prev = NULL;
	int fd;

	*socks = 0;
	fd = map_fd(ctx, ACCEL_BYPASS_MAP_SOCKS);
	if (fd < 0)
		return fd;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !pin_dir(ctx, dir, sizeof(dir)) &&
	    !count_read(dir, info.id, socks)) {
		close(fd);
		return 0;
	}
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		(*socks)++;
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

static const char *const port_state_names[] = {
	[BPS_ACCELERATED] = "accelerated", [BPS_LEARNING] = "learning", [BPS_BLOCKING] = "blocking",
	[BPS_SPLICE] = "splice", [BPS_EXCLUDED] = "excluded", [BPS_NOT_LISTED] = "not_listed",
	[BPS_NOT_DECLARED] = "not_declared", [BPS_EVENT_PORT_BLOCKING] = "event_port_blocking",
	[BPS_OFF] = "off",
};

const char *bypass_port_state_name(enum bypass_port_state s)
{
	return s < ARRAY_SIZE(port_state_names) ? port_state_names[s] : "unknown";
}

/* The learned verdict of port in this namespace: 0, or -ENOENT. */
static int learned_lookup(const struct accel_ctx *ctx, uint16_t port, struct accel_bypass_learned *v)
{
	struct accel_bypass_port_key k = { .netns_cookie = ctx->netns_cookie, .port = port };
	int fd = map_fd(ctx, ACCEL_BYPASS_MAP_LEARNED), err;

	if (fd < 0)
		return fd;
	err = bpf_map_lookup_elem(fd, &k, v) ? -errno : 0;
	close(fd);
	return err;
}

/* The order of the programs' own decision (bypass_decide): off, the
 * operator's lists, a blocking --event-ports server, then learning. */
int bypass_port_view(const struct accel_ctx *ctx, uint16_t port, struct bypass_port_view *v)
{
	struct accel_bypass_config cfg = { 0 };
	struct accel_bypass_learned lv;
	struct blocking_port bp[64];
	struct port_policy pp;
	int fd = config_fd(ctx), pfd, nbp;

	memset(v, 0, sizeof(*v));
	if (fd < 0)
		return fd == -ENOENT ? -ENOENT : fd;
	config_read(fd, &cfg);
	close(fd);
	pfd = map_fd(ctx, ACCEL_BYPASS_MAP_PORTS);
	policy_read(pfd, cfg.flags, &pp);
	if (pfd >= 0)
		close(pfd);
	nbp = blocking_ports_read(ctx, bp, ARRAY_SIZE(bp));
	if (!cfg.enabled || (cfg.flags & ACCEL_BYPASS_F_DRAINING))
		v->state = BPS_OFF;
	else if (port_on(pp.exc, port))
		v->state = BPS_EXCLUDED;
	else if (pp.only && !port_on(pp.inc, port))
		v->state = BPS_NOT_LISTED;
	else if (!(cfg.flags & ACCEL_BYPASS_F_BLOCKING_UNSAFE))
		v->state = BPS_ACCELERATED;	/* a clean kernel: everything local */
	else if (port_on(pp.ev, port))
		v->state = BPS_ACCELERATED;
	else if (!(cfg.flags & ACCEL_BYPASS_F_LEARN))
		v->state = BPS_NOT_DECLARED;
	else if (learned_lookup(ctx, port, &lv))
		v->state = BPS_LEARNING;	/* no connection seen yet */
	else if (lv.verdict == ACCEL_BYPASS_V_EVENT)
		v->state = BPS_ACCELERATED;
	else if (lv.verdict == ACCEL_BYPASS_V_BLOCKING)
		v->state = BPS_BLOCKING;
	else if (lv.verdict == ACCEL_BYPASS_V_SPLICE)
		v->state = BPS_SPLICE;
	else
		v->state = BPS_LEARNING;
	if (v->state == BPS_LEARNING && !learned_lookup(ctx, port, &lv))
		v->seen = lv.conns;
	if (v->state == BPS_ACCELERATED && port_on(pp.ev, port))
		for (int i = 0; i < nbp; i++)
			if (bp[i].port == port)
				v->state = BPS_EVENT_PORT_BLOCKING;
	if (v->state == BPS_LEARNING)
		v->need = cfg.learn_conns;
	return 0;
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

		pr_err("bypass: cannot attach sk_msg to the sockhash: %s\n", strerror(-err));
		return err;
	}
	if (path_join(path, sizeof(path), dir, SK_MSG_PIN))
		return -ENAMETOOLONG;
	if (bpf_obj_pin(prog_fd, path)) {
		int err = -errno;

		pr_err("bypass: cannot pin %s: %s\n", path, strerror(-err));
		return err;
	}
	return 0;
}

/* ---- capacity (--max-connections) ---------------------------------- */

/* Map memory one connection takes at a full table: its share of the
 * preallocated slots and hash buckets plus two sockhash elements and the
 * per-socket state (measured: docs/bypass.md "Capacity"). */
#define BYPASS_CONN_BYTES 1024

struct bypass_capacity {
	uint32_t conns;			/* accelerated connections: socks / 2 */
	uint32_t socks;			/* sockhash entries */
	uint32_t slots;			/* bypass_conns entries, a power of two */
	uint32_t pending;		/* bypass_pending entries */
};

/* ACCEL_BYPASS_CONNS_DEFAULT, or what fills 1/128 of the host's memory at
 * BYPASS_CONN_BYTES a connection where that is less (16 GiB and more get
 * the default): a full table never costs a small host much. */
static uint32_t capacity_default(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	uint64_t n;

	if (pages <= 0 || psz <= 0)
		return ACCEL_BYPASS_CONNS_DEFAULT;
	n = (uint64_t)pages * (uint64_t)psz / 128 / BYPASS_CONN_BYTES;
	if (n < ACCEL_BYPASS_CONNS_MIN)
		return ACCEL_BYPASS_CONNS_MIN;
	return n > ACCEL_BYPASS_CONNS_DEFAULT ? ACCEL_BYPASS_CONNS_DEFAULT : (uint32_t)n;
}

static void capacity_for(uint32_t conns, struct bypass_capacity *c)
{
	c->conns = conns;
	c->socks = 2 * conns;
	c->pending = c->socks;
	c->slots = 1;
	while (c->slots < 2 * c->socks)
		c->slots <<= 1;
}

/* The sizes of the maps pinned in dir; -errno when one is missing. */
static int capacity_pinned(const char *dir, struct bypass_capacity *c)
{
	static const char *const names[] = { ACCEL_BYPASS_MAP_SOCKS, ACCEL_BYPASS_MAP_CONNS,
					     ACCEL_BYPASS_MAP_PENDING };
	uint32_t *out[] = { &c->socks, &c->slots, &c->pending };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		int err, fd = pinned_obj_get(dir, names[i]);

		if (fd < 0)
			return fd;
		err = map_fd_size(fd, out[i], NULL);
		close(fd);
		if (err)
			return err;
	}
	c->conns = c->socks / 2;
	return 0;
}

/* Size the maps before they are loaded.  A handover's maps are reused by
 * name, and libbpf refuses a pinned map whose definition differs: an
 * adopting attach takes the sizes they were made with (--max-connections
 * applies from the next attach that does not adopt). */
static int capacity_apply(struct bypass_bpf *skel, const char *dir, bool adopt, uint32_t want)
{
	struct bypass_capacity c;
	int err;

	if (adopt) {
		err = capacity_pinned(dir, &c);
		if (err)
			return err;
		if (c.slots & (c.slots - 1))
			return -EINVAL;
		if (want && want != c.conns)
			pr_warn("bypass: the handed-over tables hold %u connections: --max-connections %u applies "
				"from the next attach that does not adopt them (`accelctl detach` first)\n",
				c.conns, want);
	} else {
		capacity_for(want ? want : capacity_default(), &c);
	}
	err = bpf_map__set_max_entries(skel->maps.bypass_socks, c.socks);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.bypass_conns, c.slots);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.bypass_sk_addrs,
					       c.slots * ACCEL_BYPASS_SK_ADDRS_PER_SLOT);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.bypass_pending, c.pending);
	if (err)
		return err;
	skel->rodata->conn_slot_mask = c.slots - 1;
	pr_debug("bypass: capacity %u connections (%u sockets, %u slots)\n", c.conns, c.socks, c.slots);
	return 0;
}

/* The attached bypass's capacity and the memory its maps take now (every
 * map pinned in its directory).  0 or -errno. */
static int capacity_read(const struct accel_ctx *ctx, struct bypass_capacity *c, uint64_t *bytes)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int err;

	*bytes = 0;
	err = pin_dir(ctx, dir, sizeof(dir));
	if (!err)
		err = capacity_pinned(dir, c);
	if (err)
		return err;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		uint64_t mem = 0;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = pinned_obj_get(dir, de->d_name);
		if (fd < 0)
			continue;
		if (bpf_fd_kind(fd) == BPF_FD_MAP && !map_fd_size(fd, NULL, &mem))
			*bytes += mem;
		close(fd);
	}
	closedir(d);
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

	if (!n || (n & (n - 1)) || n > bpf_map__max_entries(skel->maps.bypass_conns))
		return;
	pr_warn("TEST HOOK: %lu connection slots\n", n);
	skel->rodata->conn_slot_mask = n - 1;
	bpf_map__set_max_entries(skel->maps.bypass_conns, n);
}

/* ACCELCTL_TEST_BYPASS_CRASH=POINT dies by SIGKILL at that point of
 * detach (quiesced: DRAINING raised; released: idle sockets out, the
 * rest not moved yet), to prove the next command repairs it. */
static void test_crash(const char *point)
{
	const char *e = getenv("ACCELCTL_TEST_BYPASS_CRASH");

	if (e && !strcmp(e, point)) {
		pr_warn("TEST HOOK: SIGKILL at detach %s\n", point);
		kill(getpid(), SIGKILL);
	}
}
#else
static inline void test_conn_slots(struct bypass_bpf *skel)
{
	(void)skel;
}

static inline void test_crash(const char *point)
{
	(void)point;
}
#endif

/* handover (below, with the generations) */
static int handover_dir(const struct accel_ctx *ctx, char *buf, size_t len);
static int handover_drain(struct accel_ctx *ctx, const char *from, const char *why);
static int handover_adoptable(const char *hdir, const char *cg, char *why, size_t len);
static void handover_claim(const char *hdir);

static void unlink_pin(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (!path_join(path, sizeof(path), dir, name) && unlink(path) && errno != ENOENT)
		pr_warn("bypass: cannot unpin %s: %s\n", path, strerror(errno));
}

/* Pin the iterator that reads the sockhash's own count of its sockets
 * (bpf/bypass_count.bpf.c), unless an adopted handover brought one.
 * Without it `stats` walks the sockhash instead: the same number, slower
 * at many connections, so a failure here only warns. */
static void count_pin(const char *dir)
{
	struct bypass_count_bpf *skel;
	struct bpf_link *link = NULL;
	char path[PATH_MAX];
	int err = 0;

	if (path_join(path, sizeof(path), dir, ACCEL_PIN_LINK_PREFIX COUNT_LINK) || path_exists(path))
		return;
	skel = bypass_count_bpf__open_and_load();
	if (!skel)
		err = -errno;
	if (!err) {
		link = bpf_program__attach_iter(skel->progs.bypass_count_iter, NULL);
		if (!link)
			err = -errno;
	}
	if (!err)
		err = link_pin(link, dir, COUNT_LINK);
	if (err)
		pr_warn("bypass: no sockhash count iterator (%s): `stats` walks the sockhash to count its "
			"sockets, which takes longer with many connections\n", strerror(-err));
	bpf_link__destroy(link);
	bypass_count_bpf__destroy(skel);
}

/* The adopted cgroup link runs prog_fd from now on: one atomic swap,
 * never a moment without a sockops program. */
static int sockops_swap(const char *dir, int prog_fd)
{
	char path[PATH_MAX];
	int fd, err = 0;

	if (snprintf(path, sizeof(path), "%s/" ACCEL_PIN_LINK_PREFIX "bypass_sockops", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0 || bpf_link_update(fd, prog_fd, NULL)) {
		err = -errno;
		pr_err("bypass: cannot swap the sockops program of %s: %s\n", path, strerror(-err));
	}
	if (fd >= 0)
		close(fd);
	return err;
}

/* What one attach decides and holds until it is done. */
struct bypass_attach {
	struct accel_bypass_config cfg;
	char cg[PATH_MAX];		/* the cgroup, resolved */
	char dir[PATH_MAX];		/* our pins */
	char hdir[PATH_MAX];		/* a handover's */
	unsigned int learn_conns;
	bool learn;			/* restricted mode learns */
	bool adopt;			/* adopts the handover in hdir */
	bool made;			/* made dir (unpinned on failure) */
	struct bypass_bpf *skel;
	struct bpf_link *link;		/* sockops, once pinned */
	struct bpf_link *learn_link;
};

/* Where to attach, and whether a handover is there to adopt (claimed
 * then) or to drain first. */
static int attach_where(struct accel_ctx *ctx, const char *mnt, struct bypass_attach *a)
{
	const struct attach_opts *ao = &ctx->attach;
	char why[256];
	int err;

	err = cgroup2_resolve(mnt, ao->cgroup, a->cg, sizeof(a->cg));
	if (err) {
		pr_err("bypass: --cgroup %s: use a cgroup2 directory below %s\n",
			ao->cgroup ? ao->cgroup : "(root)", mnt);
		return err;
	}
	err = pin_dir(ctx, a->dir, sizeof(a->dir));
	if (err)
		return err;
	if (path_exists(a->dir)) {
		/* reap moved an interrupted detach's pins away: anything here
		 * is another attach's */
		pr_err("bypass: %s exists: attached already (`accelctl status`)\n", a->dir);
		return -EEXIST;
	}
	err = handover_dir(ctx, a->hdir, sizeof(a->hdir));
	if (err || !path_exists(a->hdir))
		return err;
	if (handover_adoptable(a->hdir, a->cg, why, sizeof(why)))
		return handover_drain(ctx, a->hdir, why);
	a->adopt = true;
	/* claimed: its deadline must not pass while this attach runs the
	 * self-test and loads (a failure drains it) */
	handover_claim(a->hdir);
	return 0;
}

/* Probe the kernel before anything is pinned: restricted mode (and
 * learning in it) is decided once, here, and recorded in the config for
 * `status`. */
static int attach_mode(const struct attach_opts *ao, struct bypass_attach *a)
{
	struct accel_bypass_config *cfg = &a->cfg;
	struct bypass_selftest st;
	char detail[512];

	bypass_selftest_run(&st);
	cfg->kernel_affected = st.affected;
	cfg->kernel_unchecked = st.unchecked;
	if (st.affected | st.unchecked) {
		char msg[2048];

		cfg->flags |= ACCEL_BYPASS_F_BLOCKING_UNSAFE;
		a->learn = ao->learn != 0;
		if (a->learn && bypass_learn_probe(detail, sizeof(detail))) {
			if (ao->learn == 1) {
				pr_err("bypass: --learn on: %s; nothing was attached\n", detail);
				return -EOPNOTSUPP;
			}
			pr_warn("bypass: learning is off: %s\n", detail);
			a->learn = false;
		}
		if (a->learn) {
			cfg->flags |= ACCEL_BYPASS_F_LEARN;
			cfg->learn_conns = a->learn_conns;
			cfg->learn_window_s = ao->learn_window_s ? ao->learn_window_s : ACCEL_BYPASS_LEARN_WINDOW_S;
		}
		bypass_selftest_explain(&st, ao->event_ports.n, a->learn ? a->learn_conns : 0, msg, sizeof(msg));
		pr_info("%s", msg);
	}
	for (int i = 0; i < ACCEL_BYPASS_KB_COUNT; i++)
		pr_debug("bypass: self-test %s (%.1f ms)\n", bypass_selftest_line(&st, i, detail, sizeof(detail)),
			 st.r[i].ms);
	if (ao->ports.n)
		cfg->flags |= ACCEL_BYPASS_F_PORTS_ONLY;
	return 0;
}

/* Our pin directory: the handover's, taken over (its maps are reused by
 * name), or a new one. */
static int attach_pin_dir(struct bypass_attach *a)
{
	int err;

	if (a->adopt) {
		if (rename(a->hdir, a->dir)) {
			err = -errno;
			pr_err("bypass: cannot take over %s: %s\n", a->hdir, strerror(-err));
			return err;
		}
		return 0;
	}
	err = mkdir_p(a->dir, 0700);
	if (!err)
		a->made = true;
	return err;
}

/* Open, size and load the programs; write the port lists and the config. */
static int attach_load(struct accel_ctx *ctx, struct bypass_attach *a)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	const struct attach_opts *ao = &ctx->attach;
	int err, ports_fd;

	oopts.pin_root_path = a->dir;
	a->skel = bypass_bpf__open_opts(&oopts);
	if (!a->skel) {
		err = -errno;
		pr_err("bypass: cannot open the BPF object: %s (run with -v for libbpf's reason)\n",
			strerror(-err));
		return err;
	}
	a->skel->rodata->target_netns_cookie = ctx->netns ? ctx->netns_cookie : 0;
	/* unloaded unless it observes: a tracepoint of every recvmsg */
	bpf_program__set_autoload(a->skel->progs.bypass_learn_recv, a->learn);
	err = capacity_apply(a->skel, a->dir, a->adopt, ao->max_conns);
	if (err) {
		pr_err("bypass: cannot size the maps: %s\n", strerror(-err));
		return err;
	}
	if (!a->adopt)
		test_conn_slots(a->skel);
	err = bypass_bpf__load(a->skel);
	if (err) {
		pr_err("bypass: loading the programs failed: %s (run with -v for the verifier log)\n",
			strerror(-err));
		return err;
	}
	ports_fd = bpf_map__fd(a->skel->maps.bypass_ports);
	err = ports_write(ports_fd, ACCEL_BYPASS_PORTS_INCLUDE, &ao->ports);
	if (!err)
		err = ports_write(ports_fd, ACCEL_BYPASS_PORTS_EXCLUDE, &ao->exclude_ports);
	if (!err)
		err = ports_write(ports_fd, ACCEL_BYPASS_PORTS_EVENT, &ao->event_ports);
	if (!err)
		err = config_write(bpf_map__fd(a->skel->maps.bypass_config), &a->cfg);
	if (err)
		pr_err("bypass: cannot write the policy maps: %s\n", strerror(-err));
	return err;
}

/* Learning's tracepoint, with the verdicts the last detach saved. */
static int attach_learning(struct accel_ctx *ctx, struct bypass_attach *a)
{
	/* an adopted table is live: nothing to restore */
	int err, n = a->adopt ? 0 : bypass_learn_restore(bpf_map__fd(a->skel->maps.bypass_learned),
							 ctx->state_dir, a->learn_conns);

	if (n > 0)
		pr_info("bypass: %d learned ports restored from %s (event-driven ones re-validated "
			"by their next connection)\n", n, ctx->state_dir);
	a->learn_link = bpf_program__attach(a->skel->progs.bypass_learn_recv);
	if (!a->learn_link) {
		err = -errno;
		pr_warn("bypass: cannot attach the sock_recv_length tracepoint: %s\n", strerror(-err));
		return err;
	}
	return link_pin(a->learn_link, a->dir, LEARN_LINK);
}

/* sockops on the cgroup last: from here on connections are inserted.  An
 * adopting attach swaps the program of the handed-over link instead. */
static int attach_sockops(struct accel_ctx *ctx, struct bypass_attach *a)
{
	unsigned int socks = 0, conns = 0;
	int err, cg_fd;

	cg_fd = open(a->cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		err = -errno;
		pr_err("bypass: cannot open cgroup %s: %s\n", a->cg, strerror(-err));
		return err;
	}
	if (a->adopt) {
		err = sockops_swap(a->dir, bpf_program__fd(a->skel->progs.bypass_sockops));
		close(cg_fd);
		if (err)
			return err;
		sockhash_count(ctx, &socks, &conns);
		pr_info("bypass: adopted the handed-over bypass: %u connections stay accelerated\n", conns);
		pr_info("bypass: accelerating local TCP connections of cgroup %s\n", a->cg);
		return 0;
	}
	a->link = bpf_program__attach_cgroup(a->skel->progs.bypass_sockops, cg_fd);
	close(cg_fd);
	if (!a->link) {
		err = -errno;
		pr_err("bypass: cannot attach sockops to %s: %s\n", a->cg, strerror(-err));
		return err;
	}
	err = link_pin(a->link, a->dir, "bypass_sockops");
	if (!err)
		pr_info("bypass: accelerating local TCP connections of cgroup %s\n", a->cg);
	return err;
}

/* The pins keep what attached; on failure nothing of ours stays, and a
 * handover that could not be adopted is drained (its sockets may hold
 * bytes: never unpinned), the caller then attaches afresh (-EAGAIN). */
static int attach_finish(struct accel_ctx *ctx, struct bypass_attach *a, int err)
{
	struct bypass_bpf *skel = a->skel;
	char why[256];

	bpf_link__destroy(a->link);	/* the pin keeps it */
	bpf_link__destroy(a->learn_link);
	if (err && !a->adopt && skel && bpf_map__fd(skel->maps.bypass_socks) >= 0)
		bpf_prog_detach2(bpf_program__fd(skel->progs.bypass_sk_msg),
				 bpf_map__fd(skel->maps.bypass_socks), BPF_SK_MSG_VERDICT);
	bypass_bpf__destroy(skel);
	if (err && a->made)
		feature_unpin_all(ctx, self());
	if (err && a->adopt) {
		snprintf(why, sizeof(why), "it could not be adopted (%s)", strerror(-err));
		if (!handover_drain(ctx, a->dir, why))
			err = -EAGAIN;
	}
	return err;
}

static int bypass_attach_cgroup(struct accel_ctx *ctx, const char *mnt)
{
	const struct attach_opts *ao = &ctx->attach;
	struct bypass_attach a = {
		.cfg = {
			.enabled = 1,
			.small_msg_bytes = ACCEL_BYPASS_SMALL_MSG_BYTES,
			.small_msg_run = ACCEL_BYPASS_SMALL_MSG_RUN,
			.busy_msg_bytes = ACCEL_BYPASS_BUSY_MSG_BYTES,
			.abi = ACCEL_ABI_VERSION,
		},
		.learn_conns = ao->learn_conns ? ao->learn_conns : ACCEL_BYPASS_LEARN_CONNS,
	};
	int err;

	err = attach_where(ctx, mnt, &a);
	if (!err)
		err = attach_mode(ao, &a);
	if (!err)
		err = attach_pin_dir(&a);
	if (err)
		return err;	/* nothing of ours yet (a claimed handover expires) */
	err = attach_load(ctx, &a);
	if (!err && a.adopt) {
		/* the new pins replace the old ones (sockets keep the sk_msg
		 * program they were inserted with; the old tracepoint goes) */
		unlink_pin(a.dir, SK_MSG_PIN);
		unlink_pin(a.dir, ACCEL_PIN_LINK_PREFIX LEARN_LINK);
	}
	/* sk_msg first: every socket sockops inserts gets it from the start. */
	if (!err)
		err = attach_sk_msg(a.skel, a.dir);
	if (!err && a.learn)
		err = attach_learning(ctx, &a);
	if (!err) {
		count_pin(a.dir);
		err = attach_sockops(ctx, &a);
	}
	return attach_finish(ctx, &a, err);
}

/* attach --dry-run: the cgroup, the mode the kernel self-test leads to,
 * the port lists, the capacity and a handover it would adopt. */
static int plan_cgroup(struct accel_ctx *ctx, FILE *out)
{
	const struct attach_opts *ao = &ctx->attach;
	char mnt[PATH_MAX], cg[PATH_MAX], hdir[PATH_MAX], why[256];
	bool mounted = false;
	int err = cgroup2_mount(ctx->state_dir, mnt, sizeof(mnt), &mounted);

	if (err)
		return err;
	err = cgroup2_resolve(mnt, ao->cgroup, cg, sizeof(cg));
	if (err)
		pr_err("bypass: --cgroup %s: use a cgroup2 directory below %s\n",
		       ao->cgroup ? ao->cgroup : "(root)", mnt);
	else
		fprintf(out, "bypass: would accelerate local TCP connections of cgroup %s\n", cg);
	if (!err && !handover_dir(ctx, hdir, sizeof(hdir)) && path_exists(hdir)) {
		if (handover_adoptable(hdir, cg, why, sizeof(why)))
			fprintf(out, "bypass: would drain the handover in %s (%s) and start afresh\n", hdir, why);
		else
			fprintf(out, "bypass: would adopt the handover in %s: its connections stay accelerated, "
				"its tables keep their size\n", hdir);
	}
	if (mounted)
		cgroup2_unmount(mnt);
	return err;
}

static void plan_ports(FILE *out, const char *name, const struct port_list *pl)
{
	if (!pl->n)
		return;
	fprintf(out, "bypass: --%s", name);
	for (int i = 0; i < pl->n; i++)
		if (pl->r[i].lo == pl->r[i].hi)
			fprintf(out, "%s%u", i ? "," : " ", pl->r[i].lo);
		else
			fprintf(out, "%s%u-%u", i ? "," : " ", pl->r[i].lo, pl->r[i].hi);
	fputc('\n', out);
}

static int bypass_plan(struct accel_ctx *ctx, FILE *out)
{
	const struct attach_opts *ao = &ctx->attach;
	unsigned int learn_conns = ao->learn_conns ? ao->learn_conns : ACCEL_BYPASS_LEARN_CONNS;
	struct bypass_selftest st;
	struct bypass_capacity c;
	char detail[512], msg[2048];
	bool learn = false;
	int err = plan_cgroup(ctx, out);

	if (err)
		return err;
	bypass_selftest_run(&st);
	if (st.affected | st.unchecked) {
		learn = ao->learn != 0 && !bypass_learn_probe(detail, sizeof(detail));
		if (!learn && ao->learn == 1) {
			pr_err("bypass: --learn on: %s; attach would fail\n", detail);
			return -EOPNOTSUPP;
		}
		bypass_selftest_explain(&st, ao->event_ports.n, learn ? learn_conns : 0, msg, sizeof(msg));
		fputs(msg, out);
	} else {
		fprintf(out, "bypass: the kernel self-test found sockmap behaving as TCP: every local "
			"connection of the cgroup would be accelerated\n");
	}
	plan_ports(out, "ports", &ao->ports);
	plan_ports(out, "exclude-ports", &ao->exclude_ports);
	plan_ports(out, "event-ports", &ao->event_ports);
	capacity_for(ao->max_conns ? ao->max_conns : capacity_default(), &c);
	fprintf(out, "bypass: capacity %u connections (%u sockets, %u slots%s): about %.0f MiB of maps "
		"preallocated (measured: 24.2 MiB for 131072), more per live connection\n", c.conns, c.socks,
		c.slots, ao->max_conns ? "" : "; sized from memory", c.conns * 194.0 / (1 << 20));
	return 0;
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
	if (err == -EAGAIN)	/* a handover it could not adopt, drained */
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

/* What was learned outlives the attach (the next one starts from it);
 * the tracepoint goes with the attach: a draining generation observes
 * nothing. */
static void learn_stop(struct accel_ctx *ctx)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct accel_bypass_config cfg;
	int fd = config_fd(ctx), err;
	bool learned = fd >= 0 && !config_read(fd, &cfg) && (cfg.flags & ACCEL_BYPASS_F_LEARN);

	if (fd >= 0)
		close(fd);
	/* an attach that did not learn leaves the saved state alone */
	fd = learned ? map_fd(ctx, ACCEL_BYPASS_MAP_LEARNED) : -1;
	if (fd >= 0) {
		err = bypass_learn_save(fd, ctx->state_dir);
		if (err)
			pr_warn("bypass: cannot save the learned ports in %s: %s; the next attach learns them again\n",
				ctx->state_dir, strerror(-err));
		close(fd);
	}
	if (pin_dir(ctx, dir, sizeof(dir)) ||
	    snprintf(path, sizeof(path), "%s/" ACCEL_PIN_LINK_PREFIX LEARN_LINK, dir) >= (int)sizeof(path))
		return;
	if (unlink(path) && errno != ENOENT)
		pr_warn("bypass: cannot unpin %s: %s\n", path, strerror(errno));
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
			pr_err("bypass: cannot switch the bypass off: %s\n", strerror(errno));
	}
	close(fd);
	learn_stop(ctx);
}

/* ---- generations: detach, drain, reap --------------------------------- */

/*
 * A detach releases every socket it can at once and waits --timeout for
 * the rest; a sockhash that still holds bytes nobody has read yet (a
 * removal would purge them) outlives it as a draining generation:
 * <pin-root>/bypass-draining-<ms>, the pins of the detached bypass moved
 * there (rename(2) on bpffs), named after the CLOCK_BOOTTIME millisecond
 * DRAINING was raised.  A new attach gets a fresh <pin-root>/bypass, so
 * the two coexist: every socket is in one sockhash only and keeps the
 * sk_msg program it was inserted with.
 *
 * Releasing a socket is safe once nothing can be queued on it any more
 * and its queue is empty.  After DRAINING every sk_msg verdict of that
 * generation takes the stack; a redirect decided just before may still be
 * on its way (tcp_bpf_send_verdict() drops the sender's lock before it
 * queues), so nothing is released before DRAIN_GRACE_MS, twice the grace
 * the programs give themselves (BYPASS_STACK_GRACE_MS).  From then on a
 * psock queue only shrinks: the drain iterator (bpf/bypass_drain.bpf.c)
 * says which are empty, and those sockets leave the sockhash, going on
 * over the plain stack.  The sockops link stays while anything is left:
 * it still takes sockets out as their traffic moves (bypass_hdr_opt_len)
 * and releases their slots when they close.
 *
 * What is left goes away without an operator: every accelctl command that
 * takes the lock (attach, detach, status) reaps, and so does `accelctl
 * serve` once a second while a generation drains; a generation whose
 * sockhash is empty is unpinned (link first), which frees it.
 */
#define DRAIN_PREFIX		"bypass-draining-"
#define DRAIN_GRACE_MS		100
#define DRAIN_POLL_MS		20
#define MAX_GENERATIONS		64

static uint64_t boot_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- handover: a restart that keeps connections accelerated ---------- */

/*
 * `detach --handover S` leaves the bypass running: DRAINING is not
 * raised, no socket is released, and the pins move to
 * <pin-root>/bypass-handover with ACCEL_BYPASS_F_HANDOVER, the ABI and a
 * deadline in the config map.  The next attach adopts them: it loads its
 * programs on the same maps (libbpf reuses the pinned maps by name, and
 * refuses ones whose definition differs), swaps the sockops program in
 * the cgroup link (bpf_link_update: no moment without one), attaches its
 * sk_msg program to the same sockhash (for sockets inserted from then
 * on: a socket keeps the sk_msg program it was inserted with, which reads
 * the same maps) and writes its config.  Nothing of a connection changes.
 * No attach within S seconds (stopped for good): the programs see the
 * deadline and act as DRAINING by themselves (bypass_active()), and the
 * next accelctl command or `accelctl serve` turns the pins into a
 * draining generation, released as it is read.  A plain `detach` finishes
 * a handover at once: it drains it as it drains an attached bypass.
 * Another ABI, another cgroup, or maps that do not match: drained too,
 * and attach starts afresh.
 */
#define HANDOVER_NAME	"bypass-handover"

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int handover_dir(const struct accel_ctx *ctx, char *buf, size_t len)
{
	return path_join(buf, len, ctx->pin_root, HANDOVER_NAME);
}

static int dir_config(const char *dir, struct accel_bypass_config *cfg)
{
	struct bpf_map_info info = { 0 };
	__u32 ilen = sizeof(info);
	int fd = pinned_obj_get(dir, ACCEL_BYPASS_MAP_CONFIG), err;

	if (fd < 0)
		return fd;
	/* another ABI's config may be larger or smaller than ours */
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen) || info.value_size != sizeof(*cfg)) {
		close(fd);
		return -EPROTO;
	}
	err = config_read(fd, cfg);
	close(fd);
	return err;
}

/* Drain the bypass whose pins are in from (a handover nobody adopts):
 * DRAINING, and the pins move to a draining generation. */
static int handover_drain(struct accel_ctx *ctx, const char *from, const char *why)
{
	struct accel_bypass_config cfg;
	char to[PATH_MAX], name[64];
	int fd = pinned_obj_get(from, ACCEL_BYPASS_MAP_CONFIG);

	if (fd >= 0) {
		if (!config_read(fd, &cfg)) {
			cfg.flags |= ACCEL_BYPASS_F_DRAINING;
			cfg.flags &= ~ACCEL_BYPASS_F_HANDOVER;
			if (config_write(fd, &cfg))
				pr_warn("bypass: cannot switch the handed-over bypass off: %s\n", strerror(errno));
		}
		close(fd);
	}
	unlink_pin(from, ACCEL_PIN_LINK_PREFIX LEARN_LINK);	/* a draining generation observes nothing */
	snprintf(name, sizeof(name), DRAIN_PREFIX "%llu", (unsigned long long)boot_ms());
	if (path_join(to, sizeof(to), ctx->pin_root, name))
		return -ENAMETOOLONG;
	if (rename(from, to)) {
		int err = -errno;

		pr_err("bypass: cannot move %s to %s: %s\n", from, to, strerror(-err));
		return err;
	}
	pr_info("bypass: %s: its connections drain as %s\n", why, name);
	return 0;
}

/* Reap's part: finish an interrupted `detach --handover`, drain a
 * handover past its deadline, and hand a handover to a plain detach. */
static void handover_reap(struct accel_ctx *ctx)
{
	struct accel_bypass_config cfg;
	char dir[PATH_MAX], hdir[PATH_MAX];

	if (pin_dir(ctx, dir, sizeof(dir)) || handover_dir(ctx, hdir, sizeof(hdir)))
		return;
	if (!dir_config(dir, &cfg) && (cfg.flags & ACCEL_BYPASS_F_HANDOVER) &&
	    !(cfg.flags & ACCEL_BYPASS_F_DRAINING) && !path_exists(hdir)) {
		if (rename(dir, hdir))
			pr_err("bypass: cannot finish the interrupted handover (%s): %s\n", dir, strerror(errno));
		else
			pr_info("bypass: an earlier detach --handover was interrupted: finished\n");
	}
	if (!path_exists(hdir))
		return;
	if (dir_config(hdir, &cfg) || !(cfg.flags & ACCEL_BYPASS_F_HANDOVER)) {
		handover_drain(ctx, hdir, "a handover without its record");
		return;
	}
	if (ctx->detaching && !ctx->handover_s) {
		/* detach drains it as an attached bypass */
		if (path_exists(dir))
			handover_drain(ctx, hdir, "detach");
		else if (rename(hdir, dir))
			pr_err("bypass: cannot take back %s: %s\n", hdir, strerror(errno));
		return;
	}
	if (boot_ns() > cfg.handover_deadline_ns)
		handover_drain(ctx, hdir, "the handover was not adopted in time");
}

static void handover_claim(const char *hdir)
{
	struct accel_bypass_config cfg;
	int fd = pinned_obj_get(hdir, ACCEL_BYPASS_MAP_CONFIG);

	if (fd < 0)
		return;
	if (!config_read(fd, &cfg)) {
		cfg.handover_deadline_ns = boot_ns() + 60 * 1000000000ull;
		config_write(fd, &cfg);
	}
	close(fd);
}

/* 0 when the handover in hdir can be adopted by an attach to cgroup cg;
 * else -errno and why. */
static int handover_adoptable(const char *hdir, const char *cg, char *why, size_t len)
{
	struct bpf_link_info info = { 0 };
	__u32 ilen = sizeof(info);
	struct accel_bypass_config cfg;
	char path[PATH_MAX];
	struct stat st;
	int fd, err;

	if (dir_config(hdir, &cfg)) {
		snprintf(why, len, "its config map cannot be read, or is of another layout (another ABI)");
		return -ENOENT;
	}
	if (cfg.abi != ACCEL_ABI_VERSION) {
		snprintf(why, len, "it is of BPF ABI version %u, this accelctl's is %u", cfg.abi, ACCEL_ABI_VERSION);
		return -EPROTO;
	}
	if (boot_ns() > cfg.handover_deadline_ns) {
		snprintf(why, len, "its deadline has passed");
		return -ETIME;
	}
	if (snprintf(path, sizeof(path), "%s/" ACCEL_PIN_LINK_PREFIX "bypass_sockops", hdir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		snprintf(why, len, "its sockops link is gone");
		return -ENOENT;
	}
	err = bpf_obj_get_info_by_fd(fd, &info, &ilen);
	close(fd);
	if (err || stat(cg, &st) || info.cgroup.cgroup_id != (uint64_t)st.st_ino) {
		snprintf(why, len, "it accelerates another cgroup than %.180s", cg);
		return -EXDEV;
	}
	return 0;
}

/* The drain iterator, loaded once per process (serve reaps every second). */
static pthread_mutex_t drain_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bypass_drain_bpf *drain_skel;
static struct bpf_link *drain_link;

static struct bypass_drain_bpf *drain_prog(void)
{
	if (!drain_skel) {
		drain_skel = bypass_drain_bpf__open_and_load();
		if (!drain_skel)
			pr_err("bypass: cannot load the drain iterator: %s (run with -v for the verifier log)\n",
				strerror(errno));
	}
	return drain_skel;
}

struct drain_scan {
	unsigned int socks;		/* left in the sockhash */
	unsigned int conns;		/* ... as connections (a pair counts once) */
	unsigned int released;		/* taken out by this scan */
	unsigned int unseen;		/* left: no namespace of theirs found */
	uint64_t unread;		/* bytes queued on the sockets left */
};

struct sock_ent {
	struct accel_bypass_key key;
	__u64 cookie;			/* the socket's (the sockhash's value) */
	int state;			/* 0 unseen, 1 queue empty, 2 holds bytes, 3 released */
	__u32 unread;
};

static int rec_cmp(const void *a, const void *b)
{
	const struct accel_bypass_drain_rec *x = a, *y = b;

	return x->cookie < y->cookie ? -1 : x->cookie > y->cookie;
}

struct ns_walk {
	struct sock_ent *e;
	size_t n;
	int link_fd;
	int err;
};

/* Read the iterator in the namespace this thread is in; fold its records
 * into the sockets of w.  -errno when it cannot run. */
static int ns_read(struct ns_walk *w)
{
	struct accel_bypass_drain_rec *recs = NULL;
	size_t got = 0, cap = 0, nr;
	int ifd = bpf_iter_create(w->link_fd), err = 0;

	if (ifd < 0)
		return -errno;
	for (;;) {
		ssize_t r;

		if (got + sizeof(*recs) * 256 > cap) {
			size_t ncap = cap ? cap * 2 : sizeof(*recs) * 4096;
			void *p = realloc(recs, ncap);

			if (!p) {
				err = -ENOMEM;
				goto out;
			}
			recs = p;
			cap = ncap;
		}
		r = read(ifd, (char *)recs + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto out;
		}
		if (!r)
			break;
		got += (size_t)r;
	}
	nr = got / sizeof(*recs);
	if (nr > 1)
		qsort(recs, nr, sizeof(*recs), rec_cmp);
	for (size_t i = 0; i < w->n; i++) {
		struct accel_bypass_drain_rec k = { .cookie = w->e[i].cookie }, *r;

		if (w->e[i].state || !nr)
			continue;
		r = bsearch(&k, recs, nr, sizeof(*recs), rec_cmp);
		if (!r)
			continue;
		w->e[i].state = r->queued ? 2 : 1;
		w->e[i].unread = r->unread_bytes;
	}
out:
	free(recs);
	close(ifd);
	return err;
}

static bool ns_wanted(const struct ns_walk *w, uint64_t cookie)
{
	for (size_t i = 0; i < w->n; i++)
		if (!w->e[i].state && w->e[i].key.netns_cookie == cookie)
			return true;
	return false;
}

static bool all_seen(const struct ns_walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		if (!w->e[i].state)
			return false;
	return true;
}

struct ns_seen {
	ino_t ino[4096];
	int n;
	int self;			/* this thread's own namespace */
};

/* One namespace (path NULL: the one we are in): enter it, read it if
 * sockets of the sockhash live there, come back. */
static void ns_visit(struct ns_walk *w, struct ns_seen *s, const char *path)
{
	struct stat st;
	uint64_t cookie;
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : dup(s->self);

	if (fd < 0)
		return;
	for (int i = 0; i < s->n; i++)
		if (!fstat(fd, &st) && s->ino[i] == st.st_ino) {
			close(fd);
			return;
		}
	if (fstat(fd, &st) || (path && setns(fd, CLONE_NEWNET))) {
		close(fd);
		return;
	}
	close(fd);
	if (s->n < (int)ARRAY_SIZE(s->ino))
		s->ino[s->n++] = st.st_ino;
	if (!netns_cookie(&cookie) && ns_wanted(w, cookie)) {
		int e = ns_read(w);

		if (e && !w->err)
			w->err = e;
	}
	if (path && setns(s->self, CLONE_NEWNET) && !w->err)
		w->err = -errno;
}

/*
 * In a thread of its own (setns changes only the calling thread): visit
 * our namespace, those named in /run/netns and those of every process,
 * and read the sockets of each that sockets of the sockhash live in,
 * until every socket is found.  A namespace that nothing but sockets
 * holds cannot be entered: its sockets stay unseen (kept) until they
 * close.
 */
static void *ns_walk_thread(void *arg)
{
	static const char *const dirs[] = { "/run/netns", "/proc" };
	struct ns_walk *w = arg;
	struct ns_seen *s = calloc(1, sizeof(*s));

	if (!s) {
		w->err = -ENOMEM;
		return NULL;
	}
	s->self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (s->self < 0) {
		w->err = -errno;
		free(s);
		return NULL;
	}
	ns_visit(w, s, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(dirs) && !all_seen(w) && !w->err; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *de;
		char path[PATH_MAX];

		while (d && (de = readdir(d)) && !all_seen(w) && !w->err) {
			if (de->d_name[0] == '.' || (i == 1 && (de->d_name[0] < '0' || de->d_name[0] > '9')))
				continue;
			snprintf(path, sizeof(path), i ? "/proc/%s/ns/net" : "/run/netns/%s", de->d_name);
			ns_visit(w, s, path);
		}
		if (d)
			closedir(d);
	}
	close(s->self);
	free(s);
	return NULL;
}

/*
 * Read what every socket of the sockhash in dir has queued; with release,
 * take those with an empty queue out.  Only for a generation past its
 * grace: see above.  -errno when the sockhash is not there (-ENOENT) or
 * the iterator cannot run.
 */
/* Every socket of the sockhash, with its cookie, into w. */
static int drain_collect(int socks_fd, struct ns_walk *w)
{
	struct accel_bypass_key k, next;
	void *prev = NULL;
	size_t cap = 0;

	while (!bpf_map_get_next_key(socks_fd, prev, &next)) {
		k = next;
		prev = &k;
		if (w->n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			void *p = realloc(w->e, ncap * sizeof(*w->e));

			if (!p)
				return -ENOMEM;
			w->e = p;
			cap = ncap;
		}
		memset(&w->e[w->n], 0, sizeof(w->e[w->n]));
		w->e[w->n].key = k;
		if (bpf_map_lookup_elem(socks_fd, &k, &w->e[w->n].cookie))
			continue;	/* left meanwhile */
		w->n++;
	}
	return 0;
}

/* The drain iterator over the sockets of w, in each of their namespaces
 * (a thread of its own: it enters them). */
static int drain_walk(struct ns_walk *w)
{
	struct bypass_drain_bpf *skel;
	pthread_t th;
	int err = 0;

	pthread_mutex_lock(&drain_lock);
	skel = drain_prog();
	if (!skel) {
		err = -EOPNOTSUPP;
		goto out;
	}
	if (!drain_link)
		drain_link = bpf_program__attach_iter(skel->progs.bypass_drain_iter, NULL);
	if (!drain_link) {
		err = -errno;
		pr_err("bypass: cannot attach the drain iterator: %s\n", strerror(-err));
		goto out;
	}
	w->link_fd = bpf_link__fd(drain_link);
	if (pthread_create(&th, NULL, ns_walk_thread, w))
		err = -EAGAIN;
	else
		pthread_join(th, NULL);
	if (!err)
		err = w->err;
out:
	pthread_mutex_unlock(&drain_lock);
	return err;
}

static int drain_scan(const char *dir, bool release, struct drain_scan *ds)
{
	struct ns_walk w = { .link_fd = -1 };
	int socks_fd, err;

	memset(ds, 0, sizeof(*ds));
	socks_fd = pinned_obj_get(dir, ACCEL_BYPASS_MAP_SOCKS);
	if (socks_fd < 0)
		return socks_fd;
	err = drain_collect(socks_fd, &w);
	if (err)
		goto out_close;
	/* what the walk found is right, but whatever it did not reach is
	 * unknown: then release nothing, count everything */
	if (w.n && (err = drain_walk(&w)))
		release = false;
	for (size_t i = 0; i < w.n; i++) {
		if (release && w.e[i].state == 1 &&
		    (!bpf_map_delete_elem(socks_fd, &w.e[i].key) || errno == ENOENT)) {
			w.e[i].state = 3;
			ds->released++;
			continue;
		}
		ds->socks++;
		ds->unread += w.e[i].unread;
		if (!w.e[i].state)
			ds->unseen++;
	}
	/* count a pair once: at the key that sorts first, or alone */
	for (size_t i = 0; i < w.n; i++) {
		struct accel_bypass_key peer;
		__u64 cookie;

		if (w.e[i].state == 3)
			continue;
		bypass_key_mirror(&w.e[i].key, &peer);
		if (bpf_map_lookup_elem(socks_fd, &peer, &cookie) || memcmp(&w.e[i].key, &peer, sizeof(peer)) < 0)
			ds->conns++;
	}
out_close:
	free(w.e);
	close(socks_fd);
	return err;
}

struct generation {
	char name[64];
	uint64_t drain_ms;		/* CLOCK_BOOTTIME ms DRAINING was raised */
};

/* The draining generations under the pin root, oldest first. */
static int generations_list(const struct accel_ctx *ctx, struct generation *g, int max)
{
	struct dirent *de;
	DIR *d = opendir(ctx->pin_root);
	int n = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) && n < max) {
		uint64_t ms;

		if (strncmp(de->d_name, DRAIN_PREFIX, strlen(DRAIN_PREFIX)) ||
		    strlen(de->d_name) >= sizeof(g[n].name) ||
		    parse_u64(de->d_name + strlen(DRAIN_PREFIX), 0, UINT64_MAX, &ms))
			continue;
		memcpy(g[n].name, de->d_name, strlen(de->d_name) + 1);
		g[n].drain_ms = ms;
		n++;
	}
	closedir(d);
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && g[j].drain_ms < g[j - 1].drain_ms; j--) {
			struct generation t = g[j];

			g[j] = g[j - 1];
			g[j - 1] = t;
		}
	return n;
}

/* Release what has drained in the generation in dir (past its grace) and
 * unpin it once its sockhash is empty: 1 when it is gone. */
static int generation_reap(const char *dir, uint64_t drain_ms, struct drain_scan *ds)
{
	int err;

	memset(ds, 0, sizeof(*ds));
	err = drain_scan(dir, boot_ms() >= drain_ms + DRAIN_GRACE_MS, ds);
	if (err == -ENOENT) {
		/* no sockhash left (an interrupted unpin): the rest goes */
		return pin_dir_remove(dir) ? 0 : 1;
	}
	if (ds->socks)
		return 0;
	err = pin_dir_remove(dir);
	if (err) {
		pr_err("bypass: cannot remove the drained generation %s: %s\n", dir, strerror(-err));
		return 0;
	}
	return 1;
}

/* A detach killed after raising DRAINING left <pin-root>/bypass: it is a
 * draining generation (its grace starts again from now). */
static void adopt_interrupted_detach(struct accel_ctx *ctx)
{
	struct accel_bypass_config cfg;
	char dir[PATH_MAX], to[PATH_MAX], name[64];
	int fd = config_fd(ctx);

	if (fd < 0)
		return;
	if (config_read(fd, &cfg) || !(cfg.flags & ACCEL_BYPASS_F_DRAINING)) {
		close(fd);
		return;
	}
	close(fd);
	snprintf(name, sizeof(name), DRAIN_PREFIX "%llu", (unsigned long long)boot_ms());
	if (pin_dir(ctx, dir, sizeof(dir)) || path_join(to, sizeof(to), ctx->pin_root, name))
		return;
	if (rename(dir, to))
		pr_err("bypass: cannot move the interrupted detach's pins %s to %s: %s\n", dir, to,
			strerror(errno));
	else
		pr_info("bypass: an earlier detach was interrupted; its connections drain as %s\n", name);
}

static void bypass_reap(struct accel_ctx *ctx)
{
	struct generation g[MAX_GENERATIONS];
	char dir[PATH_MAX];
	struct drain_scan ds;
	int n;

	adopt_interrupted_detach(ctx);
	handover_reap(ctx);
	n = generations_list(ctx, g, ARRAY_SIZE(g));
	for (int i = 0; i < n; i++) {
		if (path_join(dir, sizeof(dir), ctx->pin_root, g[i].name))
			continue;
		if (generation_reap(dir, g[i].drain_ms, &ds) > 0)
			pr_info("bypass: %s has drained: released\n", g[i].name);
		else	/* every round, for -v (a test counts the rounds) */
			pr_debug("bypass: %s: released %u sockets, %u connections left, %llu bytes unread\n",
				 g[i].name, ds.released, ds.conns, (unsigned long long)ds.unread);
	}
}

/* `status`: a handover waiting for its attach; 1 when there is one. */
static int handover_lingering(struct accel_ctx *ctx, struct sm_node *sec)
{
	struct accel_bypass_config cfg;
	struct drain_scan ds;
	struct sm_node *o;
	char hdir[PATH_MAX];
	uint64_t now = boot_ns();
	double left;
	bool have = !handover_dir(ctx, hdir, sizeof(hdir)) && path_exists(hdir) && !dir_config(hdir, &cfg);

	if (!have) {
		sm_null(sec, "handover");
		return 0;
	}
	if (drain_scan(hdir, false, &ds))
		memset(&ds, 0, sizeof(ds));
	left = cfg.handover_deadline_ns > now ? (cfg.handover_deadline_ns - now) / 1e9 : 0;
	o = sm_indent(sm_object(sec, "handover"), 0);
	sm_show(o, "handover", "%s: %u connections accelerated, waiting for the next attach to adopt them "
		"(back to the stack by themselves in %.0f s)", HANDOVER_NAME, ds.conns, left);
	sm_str(o, "path", hdir);
	sm_uint(o, "connections", ds.conns);
	sm_uint(o, "sockets", ds.socks);
	sm_double(o, "expires_in_seconds", left);
	return 1;
}

/* `status`: the draining generations, with what each still holds. */
static int bypass_lingering(struct accel_ctx *ctx, struct sm_node *sec)
{
	struct generation g[MAX_GENERATIONS];
	char dir[PATH_MAX];
	struct drain_scan ds;
	struct sm_node *arr;
	uint64_t now = boot_ms();
	int n = generations_list(ctx, g, ARRAY_SIZE(g)), handover;

	if (n < 0)
		n = 0;
	handover = handover_lingering(ctx, sec);
	arr = sm_indent(sm_array(sec, "draining"), 0);
	for (int i = 0; i < n; i++) {
		double ago = now > g[i].drain_ms ? (now - g[i].drain_ms) / 1000.0 : 0;
		struct sm_node *o = sm_object(arr, NULL);

		if (path_join(dir, sizeof(dir), ctx->pin_root, g[i].name) || drain_scan(dir, false, &ds))
			memset(&ds, 0, sizeof(ds));
		sm_show(o, "draining", "%s: %u connections with %llu bytes unread, detached %.0f s ago "
			"(released as they are read)", g[i].name, ds.conns, (unsigned long long)ds.unread, ago);
		sm_str(o, "name", g[i].name);
		sm_str(o, "path", dir);
		sm_uint(o, "connections", ds.conns);
		sm_uint(o, "sockets", ds.socks);
		sm_uint(o, "unread_bytes", ds.unread);
		sm_double(o, "detached_seconds_ago", ago);
	}
	return n + handover;
}

static int bypass_collect_lingering(struct accel_ctx *ctx, struct metrics *m)
{
	struct generation g[MAX_GENERATIONS];
	unsigned int conns = 0;
	uint64_t unread = 0;
	char dir[PATH_MAX];
	struct drain_scan ds;
	int n = generations_list(ctx, g, ARRAY_SIZE(g));

	for (int i = 0; i < n; i++) {
		if (path_join(dir, sizeof(dir), ctx->pin_root, g[i].name) || drain_scan(dir, false, &ds))
			continue;
		conns += ds.conns;
		unread += ds.unread;
	}
	metric_put(bypass_family(m, BM_DRAINING_GENERATIONS), n > 0 ? n : 0);
	metric_put(bypass_family(m, BM_DRAINING_CONNECTIONS), conns);
	metric_put(bypass_family(m, BM_DRAINING_UNREAD_BYTES), (double)unread);
	return 0;
}

/* `detach --handover`: everything stays as it is for the next attach.
 * 0 when handed over, 1 when it cannot be (the caller detaches). */
static int bypass_handover(struct accel_ctx *ctx, const char *dir)
{
	struct accel_bypass_config cfg;
	unsigned int socks = 0, conns = 0;
	char hdir[PATH_MAX];
	int fd, err;

	err = handover_dir(ctx, hdir, sizeof(hdir));
	if (err)
		return err;
	if (path_exists(hdir)) {
		pr_warn("bypass: --handover: an earlier handover (%s) is still waiting: detaching instead\n", hdir);
		return 1;
	}
	fd = config_fd(ctx);
	if (fd < 0 || config_read(fd, &cfg) || (cfg.flags & ACCEL_BYPASS_F_DRAINING)) {
		if (fd >= 0)
			close(fd);
		pr_warn("bypass: --handover: the bypass is not running: detaching instead\n");
		return 1;
	}
	sockhash_count(ctx, &socks, &conns);
	cfg.flags |= ACCEL_BYPASS_F_HANDOVER;
	cfg.abi = ACCEL_ABI_VERSION;
	cfg.handover_deadline_ns = boot_ns() + (uint64_t)ctx->handover_s * 1000000000ull;
	err = config_write(fd, &cfg);
	close(fd);
	if (err) {
		pr_err("bypass: --handover: cannot write the config map: %s\n", strerror(-err));
		return err;
	}
	/* saved in case nobody adopts it (the next attach starts from it) */
	fd = map_fd(ctx, ACCEL_BYPASS_MAP_LEARNED);
	if (fd >= 0) {
		bypass_learn_save(fd, ctx->state_dir);
		close(fd);
	}
	test_crash("handover");
	if (rename(dir, hdir)) {
		err = -errno;
		pr_err("bypass: --handover: cannot move %s to %s: %s; detaching instead\n", dir, hdir,
		       strerror(-err));
		fd = config_fd(ctx);
		cfg.flags &= ~ACCEL_BYPASS_F_HANDOVER;
		if (fd >= 0) {
			config_write(fd, &cfg);
			close(fd);
		}
		return 1;
	}
	pr_info("bypass: handed over: %u connections stay accelerated until the next attach adopts them;\n"
		"bypass: without one within %u s they go back to the stack by themselves and drain\n",
		conns, ctx->handover_s);
	return 0;
}

static int bypass_detach(struct accel_ctx *ctx)
{
	char dir[PATH_MAX], to[PATH_MAX], name[64];
	struct drain_scan ds = { 0 };
	uint64_t t0, deadline;
	unsigned int released = 0;
	int err;

	err = pin_dir(ctx, dir, sizeof(dir));
	if (err)
		return err;
	if (!path_exists(dir))
		return 0;
	if (ctx->handover_s && !ctx->force) {
		err = bypass_handover(ctx, dir);
		if (err <= 0)
			return err;
		/* cannot hand over: detach as without --handover */
	}
	bypass_quiesce(ctx);
	t0 = boot_ms();
	test_crash("quiesced");
	if (ctx->force) {
		drain_scan(dir, false, &ds);
		if (ds.socks)
			pr_warn("bypass: --force: releasing the sockhash with %u connections (%u sockets) in it; "
				"the %llu bytes they have not read yet from the bypass are lost and their readers see a short stream\n",
				ds.conns, ds.socks, (unsigned long long)ds.unread);
		return feature_unpin_all(ctx, self());
	}
	/* A redirect decided before DRAINING may still be on its way. */
	usleep(DRAIN_GRACE_MS * 1000);
	deadline = t0 + DRAIN_GRACE_MS + ctx->timeout_ms;
	for (;;) {
		err = drain_scan(dir, true, &ds);
		if (err == -ENOENT)
			break;		/* no sockhash: nothing to keep */
		if (err) {
			/* no iterator (or no way into a namespace): keep every
			 * socket until it closes or its traffic moves it out */
			pr_warn("bypass: cannot read the connections' queues (%s): every connection "
				"left in the sockhash is kept until it closes\n", strerror(-err));
			break;
		}
		released += ds.released;
		if (!ds.socks || boot_ms() >= deadline)
			break;
		usleep(DRAIN_POLL_MS * 1000);
	}
	if (released)
		pr_info("bypass: %u sockets released to the stack\n", released);
	test_crash("released");
	if (!ds.socks)
		return feature_unpin_all(ctx, self());
	snprintf(name, sizeof(name), DRAIN_PREFIX "%llu", (unsigned long long)t0);
	if (path_join(to, sizeof(to), ctx->pin_root, name))
		return -ENAMETOOLONG;
	if (rename(dir, to)) {
		err = -errno;
		pr_err("bypass: cannot move %s to %s: %s\n", dir, to, strerror(-err));
		return err;
	}
	pr_info("bypass: %u connections still hold %llu bypassed bytes their readers have not read after %.1f s:\n"
		"bypass: kept as %s and released as they are read (by the next accelctl command\n"
		"bypass: or `accelctl serve`); `accelctl status` shows them, `detach --force` drops them\n",
		ds.conns, (unsigned long long)ds.unread, ctx->timeout_ms / 1000.0, to);
	return 0;
}

/* ---- metrics ---------------------------------------------------------- */

/* Learned ports by verdict, and what learning did. */
static void learn_collect(struct accel_ctx *ctx, const uint64_t *c, struct metrics *m)
{
	static struct learned_port lp[ACCEL_BYPASS_LEARN_PORTS];
	unsigned int per[ACCEL_BYPASS_V_COUNT] = { 0 };
	struct metric_family *f;
	bool truncated;
	int fd = map_fd(ctx, ACCEL_BYPASS_MAP_LEARNED), n;

	if (fd >= 0) {
		n = bypass_learn_list(fd, lp, ARRAY_SIZE(lp), &truncated);
		close(fd);
		for (int i = 0; i < n; i++)
			if (lp[i].v.verdict < ACCEL_BYPASS_V_COUNT)
				per[lp[i].v.verdict]++;
		f = bypass_family(m, BM_LEARNED_PORTS);
		for (int v = 0; v < ACCEL_BYPASS_V_COUNT; v++)
			metric_put(f, per[v], bypass_learned_verdict_name((uint32_t)v));
	}
	metric_put(bypass_family(m, BM_LEARNING_KEPT), c[ACCEL_BYPASS_LEARN_KEPT]);
	metric_put(bypass_family(m, BM_LEARNING_OBSERVED), c[ACCEL_BYPASS_LEARN_OBSERVED]);
	f = bypass_family(m, BM_LEARNING_VERDICTS);
	metric_put(f, c[ACCEL_BYPASS_LEARN_PROMOTED], "event_driven");
	metric_put(f, c[ACCEL_BYPASS_LEARN_SETTLED_BLOCKING], "blocking");
	metric_put(f, c[ACCEL_BYPASS_LEARN_SETTLED_SPLICE], "splice");
	metric_put(bypass_family(m, BM_LEARNING_REOPENED), c[ACCEL_BYPASS_LEARN_REOPENED]);
	metric_put(bypass_family(m, BM_LEARNING_TABLE_FULL), c[ACCEL_BYPASS_LEARN_FULL]);
}

static int bypass_collect(struct accel_ctx *ctx, struct metrics *m)
{
	uint64_t c[ACCEL_BYPASS_NCOUNTERS], dem[ACCEL_BYPASS_DEMOTED_CAUSES];
	struct accel_bypass_config cfg = { 0 };
	unsigned int socks = 0;
	struct bypass_capacity cap;
	struct blocking_port bp[64];
	struct metric_family *f;
	char dir[PATH_MAX];
	uint64_t bytes;
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
	sockhash_sockets(ctx, &socks);

	active = (double)c[ACCEL_BYPASS_CONN_INET] + c[ACCEL_BYPASS_CONN_INET6] - c[ACCEL_BYPASS_CONN_CLOSED];
	metric_put(bypass_family(m, BM_CONNECTIONS_ACTIVE), active < 0 ? 0 : active);
	f = bypass_family(m, BM_CONNECTIONS);
	metric_put(f, c[ACCEL_BYPASS_CONN_INET], "inet");
	metric_put(f, c[ACCEL_BYPASS_CONN_INET6], "inet6");
	metric_put(bypass_family(m, BM_BYTES), c[ACCEL_BYPASS_BYTES]);
	metric_put(bypass_family(m, BM_MESSAGES), c[ACCEL_BYPASS_MSGS]);
	f = bypass_family(m, BM_FALLBACK);
	for (int i = ACCEL_BYPASS_FB_PEER_MISSING; i < ACCEL_BYPASS_FB_END; i++)
		metric_put(f, c[i], fallback_names[i]);
	/* absent in a handover made by an accelctl without it: no causes */
	if (!percpu_array_sum(dir, ACCEL_BYPASS_MAP_DEMOTED, dem, ACCEL_BYPASS_DEMOTED_CAUSES)) {
		f = bypass_family(m, BM_DEMOTED);
		for (int i = 0; i < ACCEL_BYPASS_DEMOTED_CAUSES; i++)
			metric_put(f, dem[i], demoted_names[i]);
	}
	metric_put(bypass_family(m, BM_SOCKETS_ADDED), c[ACCEL_BYPASS_SOCKS]);
	metric_put(bypass_family(m, BM_EVICTED), c[ACCEL_BYPASS_EVICTED]);
	metric_put(bypass_family(m, BM_SOCKETS), socks);
	if (!capacity_read(ctx, &cap, &bytes)) {
		metric_put(bypass_family(m, BM_CAPACITY_SOCKETS), cap.socks);
		metric_put(bypass_family(m, BM_MAP_MEMORY_BYTES), (double)bytes);
	}
	metric_put(bypass_family(m, BM_CONNECTION_SLOTS),
		   c[ACCEL_BYPASS_SLOT_TAKEN] >= c[ACCEL_BYPASS_SLOT_RELEASED] ?
		   (double)(c[ACCEL_BYPASS_SLOT_TAKEN] - c[ACCEL_BYPASS_SLOT_RELEASED]) : 0);
	n = blocking_ports_read(ctx, bp, ARRAY_SIZE(bp));
	if (n >= 0) {
		f = bypass_family(m, BM_BLOCKING_SERVER_SOCKETS);
		for (int i = 0; i < n; i++) {
			char port[8];

			snprintf(port, sizeof(port), "%u", bp[i].port);
			metric_put(f, (double)bp[i].sockets, port);
		}
	}
	metric_put(bypass_family(m, BM_ENABLED), cfg.enabled && !(cfg.flags & ACCEL_BYPASS_F_DRAINING));
	if (cfg.flags & ACCEL_BYPASS_F_LEARN)
		learn_collect(ctx, c, m);
	return 0;
}

static void bypass_show(struct accel_ctx *ctx, const struct metrics *m, FILE *out)
{
	const struct metric_family *conns = metrics_get(m, &bypass_metrics[BM_CONNECTIONS]);
	const struct metric_family *fb = metrics_get(m, &bypass_metrics[BM_FALLBACK]);
	const struct metric_family *dem = metrics_get(m, &bypass_metrics[BM_DEMOTED]);
	char b[32];

	(void)ctx;
	if (!metrics_get(m, &bypass_metrics[BM_BYTES]))
		return;
	fprintf(out, "Local IO bypass%s\n", bypass_value(m, BM_ENABLED) ? "" : " (off)");
	fprintf(out, "  %-28s %14.0f\n", "connections active", bypass_value(m, BM_CONNECTIONS_ACTIVE));
	fprintf(out, "  %-28s %14.0f\n", "connections total inet", metric_value(conns, "inet"));
	fprintf(out, "  %-28s %14.0f\n", "connections total inet6", metric_value(conns, "inet6"));
	fprintf(out, "  %-28s %14.0f  (%s)\n", "bytes redirected", bypass_value(m, BM_BYTES),
		fmt_bytes(bypass_value(m, BM_BYTES), b, sizeof(b)));
	fprintf(out, "  %-28s %14.0f\n", "messages redirected", bypass_value(m, BM_MESSAGES));
	fprintf(out, "  %-28s %14.0f\n", "sockets in sockhash", bypass_value(m, BM_SOCKETS));
	fprintf(out, "  %-28s %14.0f\n", "draining connections", bypass_value(m, BM_DRAINING_CONNECTIONS));
	fprintf(out, "  fallbacks to the stack\n");
	for (int i = ACCEL_BYPASS_FB_PEER_MISSING; i < ACCEL_BYPASS_FB_END; i++)
		fprintf(out, "    %-26s %14.0f\n", fallback_names[i], metric_value(fb, fallback_names[i]));
	if (!dem)
		return;
	for (int i = 0; i < ACCEL_BYPASS_DEMOTED_CAUSES; i++)
		fprintf(out, "      %-24s %14.0f\n", demoted_names[i], metric_value(dem, demoted_names[i]));
}

/* One learned port: the verdict, the evidence, since when. */
static void learned_port(struct accel_ctx *ctx, const struct accel_bypass_config *cfg,
			 const struct port_policy *pp, const struct learned_port *lp,
			 struct sm_node *ports)
{
	const struct accel_bypass_learned *v = &lp->v;
	const char *ovr = policy_override(pp, lp->k.port);
	uint64_t now = boot_ns();
	double ago = v->since_ns && v->since_ns <= now ? (double)(now - v->since_ns) / 1e9 : 0;
	struct sm_node *o = sm_object(ports, NULL);
	char ev[64] = "";

	if (v->verdict == ACCEL_BYPASS_V_LEARNING)
		snprintf(ev, sizeof(ev), ", %u of %u connections%s", v->conns, cfg->learn_conns,
			 v->flags & ACCEL_BYPASS_LF_RESTORED ? ", restored: one more re-validates" : "");
	sm_show(o, NULL, "port %-5u netns %llu%s: %s for %.0f s%s%s%s%s", lp->k.port,
		(unsigned long long)lp->k.netns_cookie,
		lp->k.netns_cookie == ctx->netns_cookie ? " (here)" : "",
		bypass_learned_verdict_name(v->verdict), ago, ev,
		v->reopened ? ", re-opened before" : "",
		ovr ? "; overridden: " : "", ovr ? ovr : "");
	sm_uint(o, "port", lp->k.port);
	sm_uint(o, "netns_cookie", lp->k.netns_cookie);
	sm_bool(o, "this_netns", lp->k.netns_cookie == ctx->netns_cookie);
	sm_str(o, "verdict", bypass_learned_verdict_name(v->verdict));
	if (ovr)
		sm_str(o, "overridden_by", ovr);
	else
		sm_null(o, "overridden_by");
	sm_uint(o, "conns", v->conns);
	sm_uint(o, "reopened", v->reopened);
	sm_bool(o, "restored", v->flags & ACCEL_BYPASS_LF_RESTORED);
	sm_double(o, "seconds_since", ago);
}

/* The ports the operator's lists decide, in every netns. */
static void operator_ports(const struct port_policy *pp, struct sm_node *learn)
{
	struct sm_node *o = sm_object(learn, "operator_ports"), *n;

	n = sm_str(o, "operator_listed", pp->ev_s);
	if (strcmp(pp->ev_s, "none"))
		sm_show(n, NULL, "ports %s, every netns: operator_listed (--event-ports: accelerated, not learned)",
			pp->ev_s);
	n = sm_str(o, "excluded", pp->exc_s);
	if (strcmp(pp->exc_s, "none"))
		sm_show(n, NULL, "ports %s, every netns: excluded (--exclude-ports: never accelerated)", pp->exc_s);
	n = sm_str(o, "only", pp->inc_s);
	if (pp->only)
		sm_show(n, NULL, "ports other than %s, every netns: not_listed (--ports: never accelerated)",
			pp->inc_s);
}

/* The learned ports: the verdict, the evidence, since when. */
static void learn_status(struct accel_ctx *ctx, const struct accel_bypass_config *cfg,
			 const struct port_policy *pp, struct sm_node *sec)
{
	static struct learned_port lp[ACCEL_BYPASS_LEARN_PORTS];
	bool truncated = false;
	int fd = map_fd(ctx, ACCEL_BYPASS_MAP_LEARNED), n = 0;
	struct sm_node *o, *ports;

	if (fd >= 0) {
		n = bypass_learn_list(fd, lp, ARRAY_SIZE(lp), &truncated);
		close(fd);
	}
	o = sm_nest(sm_object(sec, "learn"), 6);
	sm_show(o, "learning", "on: a port is accelerated once %u of its connections read only "
		"nonblocking, by recvmsg, within %u s; %d port%s known",
		cfg->learn_conns, cfg->learn_window_s, n, n == 1 ? "" : "s");
	sm_uint(o, "conns", cfg->learn_conns);
	sm_uint(o, "window_seconds", cfg->learn_window_s);
	sm_bool(o, "table_full", n >= ACCEL_BYPASS_LEARN_PORTS);
	ports = sm_array(o, "ports");
	for (int i = 0; i < n; i++)
		learned_port(ctx, cfg, pp, &lp[i], ports);
	operator_ports(pp, o);
	if (n >= ACCEL_BYPASS_LEARN_PORTS)
		sm_indent(sm_note(o, "warning", "the learned-ports table is full (%d): new ports stay on the stack; "
				  "`accelctl bypass forget PORT` frees entries", ACCEL_BYPASS_LEARN_PORTS), 4);
}

/* The probe names in mask, as a list. */
static struct sm_node *kb_list(struct sm_node *sec, const char *key, uint32_t mask)
{
	struct sm_node *a = sm_array(sec, key);

	for (int i = 0; i < ACCEL_BYPASS_KB_COUNT; i++)
		if (mask & (1u << i))
			sm_str(a, NULL, bypass_probes[i].name);
	return a;
}

/* status's capacity part: the sizes, their use, the maps' memory, and a
 * warning once the sockhash is full. */
static void capacity_status(const struct accel_ctx *ctx, unsigned int socks, struct sm_node *sec)
{
	uint64_t c[ACCEL_BYPASS_NCOUNTERS], bytes, held = 0;
	struct bypass_capacity cap;
	char dir[PATH_MAX];
	struct sm_node *o;
	bool full;

	if (capacity_read(ctx, &cap, &bytes))
		return;
	/* 99%: at the boundary a refused passive end leaves its active end
	 * alone in the sockhash until that end's first send */
	full = socks >= cap.socks - cap.socks / 100;
	if (!pin_dir(ctx, dir, sizeof(dir)) &&
	    !percpu_array_sum(dir, ACCEL_BYPASS_MAP_COUNTERS, c, ACCEL_BYPASS_NCOUNTERS) &&
	    c[ACCEL_BYPASS_SLOT_TAKEN] > c[ACCEL_BYPASS_SLOT_RELEASED])
		held = c[ACCEL_BYPASS_SLOT_TAKEN] - c[ACCEL_BYPASS_SLOT_RELEASED];
	o = sm_object(sec, "capacity");
	sm_show(o, "capacity", "%u connections (sockhash %u of %u sockets, %u connection slots); maps %.1f MiB",
		cap.conns, socks, cap.socks, cap.slots, (double)bytes / (1 << 20));
	sm_uint(o, "connections", cap.conns);
	sm_uint(o, "sockets", cap.socks);
	sm_uint(o, "slots", cap.slots);
	sm_uint(o, "sockets_holding_slots", held);
	sm_uint(o, "map_bytes", bytes);
	sm_bool(o, "full", full);
	if (full)
		sm_note(o, "warning", "the sockhash is full: new connections stay on the stack (fallback no_slot); "
			"attach with a larger --max-connections");
}

/* What the self-test found about this kernel, and what attach made of it. */
static void kernel_status(const struct accel_bypass_config *cfg, struct sm_node *sec)
{
	bool unsafe = cfg->flags & ACCEL_BYPASS_F_BLOCKING_UNSAFE;
	/* an attach without the masks (older accelctl) found blocking_eagain */
	uint32_t affected = unsafe && !(cfg->kernel_affected | cfg->kernel_unchecked) ?
			    1u << ACCEL_BYPASS_KB_BLOCKING_EAGAIN : cfg->kernel_affected;
	struct sm_node *n;
	char names[256];

	sm_bool(sec, "blocking_readers_unsafe", unsafe);
	n = kb_list(sec, "kernel_affected", cfg->kernel_affected);
	if (unsafe && affected)
		sm_show(n, "kernel", "sockmap differs from TCP: %s",
			bypass_kb_names(affected, names, sizeof(names)));
	n = kb_list(sec, "kernel_unchecked", cfg->kernel_unchecked);
	if (unsafe && cfg->kernel_unchecked)
		sm_show(n, "kernel", "self-test could not run: %s (assumed affected)",
			bypass_kb_names(cfg->kernel_unchecked, names, sizeof(names)));
	if (unsafe)
		sm_note(sec, "kernel", "only event-driven servers (%s) and their nonblocking clients are "
			"accelerated (`accelctl bypass selftest`, docs/bypass.md)",
			cfg->flags & ACCEL_BYPASS_F_LEARN ? "learned or --event-ports" : "--event-ports");
}

/* --event-ports with a blocking server: their connections stay on the stack. */
static void blocking_status(struct accel_ctx *ctx, struct sm_node *sec)
{
	struct blocking_port bp[64];
	int nbp = blocking_ports_read(ctx, bp, ARRAY_SIZE(bp));
	struct sm_node *arr = sm_array(sec, "blocking_event_ports");

	for (int i = 0; i < nbp; i++) {
		struct sm_node *o = sm_object(arr, NULL);

		sm_show(o, "warning", "--event-ports %u has a blocking server (%llu sockets, latest %.0f s ago): "
			"its new connections stay on the stack; make the server nonblocking or drop the port "
			"(`accelctl bypass policy --event-ports ...`)",
			bp[i].port, (unsigned long long)bp[i].sockets, bp[i].secs_ago);
		sm_uint(o, "port", bp[i].port);
		sm_uint(o, "sockets", bp[i].sockets);
		sm_double(o, "seconds_ago", bp[i].secs_ago);
	}
}

static void bypass_status(struct accel_ctx *ctx, struct sm_node *sec)
{
	struct accel_bypass_config cfg = { 0 };
	unsigned int socks = 0, conns = 0;
	struct port_policy pp;
	struct sm_node *n;
	bool draining;
	int fd = config_fd(ctx), pfd;

	if (fd >= 0) {
		config_read(fd, &cfg);
		close(fd);
	}
	pfd = map_fd(ctx, ACCEL_BYPASS_MAP_PORTS);
	policy_read(pfd, cfg.flags, &pp);
	if (pfd >= 0)
		close(pfd);
	sockhash_count(ctx, &socks, &conns);
	draining = cfg.flags & ACCEL_BYPASS_F_DRAINING;
	sm_show(sm_bool(sec, "enabled", cfg.enabled && !draining), "bypass", "%s",
		draining ? "detached, draining" : cfg.enabled ? "on" : "off");
	sm_show(sm_str(sec, "ports", pp.inc_s), "policy", "ports %s, exclude %s, event-ports %s",
		pp.inc_s, pp.exc_s, pp.ev_s);
	sm_str(sec, "exclude_ports", pp.exc_s);
	sm_str(sec, "event_ports", pp.ev_s);
	kernel_status(&cfg, sec);
	sm_bool(sec, "learning", cfg.flags & ACCEL_BYPASS_F_LEARN);
	if (cfg.flags & ACCEL_BYPASS_F_LEARN)
		learn_status(ctx, &cfg, &pp, sec);
	blocking_status(ctx, sec);
	sm_show(sm_uint(sec, "sockets", socks), "sockets", "%u in the sockhash (%u connections)", socks, conns);
	capacity_status(ctx, socks, sec);
	n = sm_uint(sec, "draining_connections", draining ? conns : 0);
	if (draining)
		sm_show(n, "draining", "%u connections", conns);
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

/* `bypass forget PORT`: learn the port again, in every namespace. */
static int learn_forget(struct accel_ctx *ctx, const char *arg)
{
	uint64_t port;
	int err, fd, n = 0;

	if (!arg || parse_u64(arg, 1, 65535, &port)) {
		pr_err("bypass forget: '%s' is not a port (1-65535)\n", arg ? arg : "");
		return -ACCEL_ECONFIG;
	}
	err = pin_root_lock(ctx->pin_root, false, &ctx->lock_fd);
	if (err && err != -ENOENT)
		return err;
	fd = map_fd(ctx, ACCEL_BYPASS_MAP_LEARNED);
	if (fd >= 0) {
		n = bypass_learn_forget(fd, (uint16_t)port, 0);
		close(fd);
	}
	bypass_learn_forget_file(ctx->state_dir, (uint16_t)port, 0);
	pin_root_unlock(&ctx->lock_fd);
	printf("port %llu: %d learned entr%s forgotten%s\n", (unsigned long long)port, n, n == 1 ? "y" : "ies",
	       fd >= 0 ? "; its next connections are learned again" : " (bypass not attached: the saved state only)");
	return 0;
}

/* The three port lists (`bypass policy` replaces those given). */
static bool port_lists_given(const struct attach_opts *a)
{
	return accel_opt_given(a, "ports") || accel_opt_given(a, "exclude-ports") ||
	       accel_opt_given(a, "event-ports");
}

/* `bypass VERB [ARG]` as it was typed: 1 to go on with on/off/policy,
 * else what selftest or forget returned, or the usage error. */
static int command_checked(struct accel_ctx *ctx, const char *verb, const char *arg, int *ret)
{
	*ret = -ACCEL_ECONFIG;
	if (!strcmp(verb, "selftest")) {
		if (port_lists_given(&ctx->attach))
			pr_err("bypass selftest: port lists go with `accelctl bypass policy`\n");
		else
			*ret = selftest_print(ctx);
		return 0;
	}
	if (ctx->json) {
		pr_err("bypass %s: --json goes with `accelctl bypass selftest`\n", verb);
		return 0;
	}
	if (port_lists_given(&ctx->attach) && strcmp(verb, "policy")) {
		pr_err("bypass %s: port lists go with `accelctl bypass policy`\n", verb);
		return 0;
	}
	if (!strcmp(verb, "forget")) {
		*ret = learn_forget(ctx, arg);
		return 0;
	}
	if (arg) {
		pr_warn("bypass %s takes no argument (got '%s')\n", verb, arg);
		return 0;
	}
	if (strcmp(verb, "on") && strcmp(verb, "off") && strcmp(verb, "policy")) {
		pr_err("bypass: unknown action '%s' (on, off, policy, selftest, forget PORT)\n", verb);
		return 0;
	}
	return 1;
}

/* `bypass policy`: the port lists given, written; the result printed. */
static int policy_update(struct accel_ctx *ctx, int fd, struct accel_bypass_config *cfg)
{
	struct port_policy pp;
	char dir[PATH_MAX];
	int err, pfd;

	err = pin_dir(ctx, dir, sizeof(dir));
	if (err)
		return err;
	pfd = pinned_obj_get(dir, ACCEL_BYPASS_MAP_PORTS);
	if (pfd < 0)
		return pfd;
	if (accel_opt_given(&ctx->attach, "ports")) {
		err = ports_write(pfd, ACCEL_BYPASS_PORTS_INCLUDE, &ctx->attach.ports);
		if (ctx->attach.ports.n)
			cfg->flags |= ACCEL_BYPASS_F_PORTS_ONLY;
		else
			cfg->flags &= ~ACCEL_BYPASS_F_PORTS_ONLY;
	}
	if (!err && accel_opt_given(&ctx->attach, "exclude-ports"))
		err = ports_write(pfd, ACCEL_BYPASS_PORTS_EXCLUDE, &ctx->attach.exclude_ports);
	if (!err && accel_opt_given(&ctx->attach, "event-ports")) {
		err = ports_write(pfd, ACCEL_BYPASS_PORTS_EVENT, &ctx->attach.event_ports);
		if (!err)
			err = blocking_ports_clear(dir);
	}
	if (!err)
		err = config_write(fd, cfg);
	if (err) {
		pr_err("bypass: cannot update the policy: %s\n", strerror(-err));
	} else {
		policy_read(pfd, cfg->flags, &pp);
		printf("ports %s\nexclude-ports %s\nevent-ports %s\n", pp.inc_s, pp.exc_s, pp.ev_s);
	}
	close(pfd);
	return err;
}

int bypass_command(struct accel_ctx *ctx, const char *verb, const char *arg)
{
	struct accel_bypass_config cfg;
	int err, fd;

	if (!command_checked(ctx, verb, arg, &err))
		return err;
	err = pin_root_lock(ctx->pin_root, false, &ctx->lock_fd);
	if (err == -ENOENT)
		pr_err("bypass is not attached (pin root %s); run `accelctl attach --features bypass`\n",
			ctx->pin_root);
	if (err)
		return err;
	fd = config_fd(ctx);
	if (fd < 0 || config_read(fd, &cfg)) {
		pr_err("bypass is not attached (pin root %s); run `accelctl attach --features bypass`\n",
			ctx->pin_root);
		err = -ENOENT;
	} else if (cfg.flags & ACCEL_BYPASS_F_DRAINING) {
		pr_err("bypass is detached and draining; attach it again to change it\n");
		err = -ENOENT;
	} else if (!strcmp(verb, "on") || !strcmp(verb, "off")) {
		cfg.enabled = !strcmp(verb, "on");
		err = config_write(fd, &cfg);
		if (!err)
			pr_info("bypass %s\n", verb);
	} else {
		err = policy_update(ctx, fd, &cfg);
	}
	if (fd >= 0)
		close(fd);
	pin_root_unlock(&ctx->lock_fd);
	return err;
}

/* attach --NAME and [bypass] NAME = (opts.h) */
static const struct accel_opt bypass_opts[] = {
	{ "cgroup", AOT_PATH, "PATH", "bypass: cgroup2 whose sockets are accelerated (default: the cgroup2 root)",
	  .defval = "the cgroup2 root", AO_FIELD(cgroup), .section = "bypass" },
	{ "ports", AOT_PORTS, "LIST",
	  "bypass: accelerate only connections with either end on these ports, e.g. 6379,8080-8090",
	  AO_FIELD(ports), .section = "bypass" },
	{ "exclude-ports", AOT_PORTS, "LIST", "bypass: never accelerate connections with either end on these ports",
	  AO_FIELD(exclude_ports), .section = "bypass" },
	{ "event-ports", AOT_PORTS, "LIST",
	  "bypass: listening ports of event-driven servers (nonblocking sockets); on kernels whose sockmap differs from TCP (bypass selftest) only these are accelerated",
	  AO_FIELD(event_ports), .section = "bypass" },
	{ "learn", AOT_BOOL, "on|off",
	  "bypass: learn which listening ports serve nonblocking recvmsg readers and accelerate those "
	  "(default on where the bypass selftest finds differences from TCP)",
	  .defval = "on", AO_FIELD(learn), .section = "bypass" },
	{ "learn-conns", AOT_NUMBER, "N",
	  "bypass: consistent connections (1-10000, default " ACCEL_STR(ACCEL_BYPASS_LEARN_CONNS) ") before a port is accelerated",
	  .defval = ACCEL_STR(ACCEL_BYPASS_LEARN_CONNS), .lo = 1, .hi = 10000, .unit = "connections",
	  AO_FIELD(learn_conns), .section = "bypass" },
	{ "learn-window", AOT_NUMBER, "SECONDS",
	  "bypass: the --learn-conns must fall within SECONDS (1-86400, default " ACCEL_STR(ACCEL_BYPASS_LEARN_WINDOW_S) ")",
	  .defval = ACCEL_STR(ACCEL_BYPASS_LEARN_WINDOW_S), .lo = 1, .hi = 86400, .unit = "seconds",
	  AO_FIELD(learn_window_s), .section = "bypass" },
	{ "max-connections", AOT_NUMBER, "N",
	  "bypass: accelerated connections the tables hold (" ACCEL_STR(ACCEL_BYPASS_CONNS_MIN) "-2097152; "
	  "default: 131072, less on hosts under 16 GiB of memory)",
	  .lo = ACCEL_BYPASS_CONNS_MIN, .hi = ACCEL_BYPASS_CONNS_MAX, .unit = "connections",
	  AO_FIELD(max_conns), .section = "bypass" },
	{ 0 }
};

static int cmd_bypass(struct accel_ctx *ctx, struct cli_opts *o)
{
	if (o->nargs < 1 || o->nargs > 2) {
		pr_err_raw("accelctl bypass: expected one of on, off, policy, selftest, forget PORT\n");
		return EXIT_USAGE;
	}
	return cli_exit_code(bypass_command(ctx, o->args[0], o->nargs == 2 ? o->args[1] : NULL));
}

/* `accelctl bypass ...` (listed in accelctl help after serve) */
static const struct command bypass_commands[] = {
	{ "bypass", "on|off|policy|selftest|forget PORT", "switch the bypass at runtime, change its policy",
	  "Runtime control of an attached bypass, no re-attach needed:\n"
	  "  on, off   start / stop accelerating new connections; `off` also moves\n"
	  "            accelerated connections back to the stack at their next send\n"
	  "            (order-safe: bytes already bypassed are read first)\n"
	  "  policy    replace the port lists given (--ports, --exclude-ports,\n"
	  "            --event-ports; `none` empties one) or, without options, print them\n"
	  "  selftest  run attach's kernel self-test: one line per probe, ok, affected or\n"
	  "            could-not-run (exit 1; attach assumes affected); --json\n"
	  "  forget PORT  drop what learning knows about listening port PORT (every\n"
	  "            network namespace, and the state the next attach restores):\n"
	  "            its next connections stay on the stack until it is learned again\n"
	  "Policy changes apply to connections established afterwards.",
	  "ports exclude-ports event-ports json", cmd_bypass },
	{ 0 }
};

const struct accel_feature feature_bypass = {
	.name = "bypass",
	.summary = "local IO bypass (sockops + sockhash + sk_msg)",
	.opts = bypass_opts,
	.commands = bypass_commands,
	.probe = bypass_probe,
	.attach = bypass_attach,
	.plan = bypass_plan,
	.detach = bypass_detach,
	.attached = bypass_attached,
	.metrics = bypass_metrics,
	.nmetrics = BM_COUNT,
	.collect = bypass_collect,
	.show = bypass_show,
	.status = bypass_status,
	.reap = bypass_reap,
	.lingering = bypass_lingering,
	.collect_lingering = bypass_collect_lingering,
};
