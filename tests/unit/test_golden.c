// SPDX-License-Identifier: GPL-2.0-only
/*
 * Golden test of everything `accelctl stats` prints: the tables, --json
 * and --prometheus, and the schema of the metrics (every family's name,
 * type, help and label names), and of `accelctl status` as text and
 * JSON (the status model of every feature, both renderings), compared
 * byte for byte with the files in tests/golden/.
 *
 * Why this design: the test runs the real command, stats_run(), with a
 * pin root and a state dir of its own, so every line of the path the
 * operator's `stats` takes runs here: accel_collect(), each feature's
 * collect() reading its pinned maps, each feature's show(), the JSON and
 * Prometheus writers.  Only the edges are replaced, and only where the
 * kernel or the host would make the output vary:
 *
 *  - libbpf's map calls (bpf_obj_get, bpf_map_lookup_elem,
 *    bpf_map_get_next_key, bpf_iter_create, libbpf_num_possible_cpus,
 *    btf__load_vmlinux_btf) are defined here and read fixed map contents
 *    (the executable's definitions win over the shared library's), so the
 *    test needs neither root nor BPF, and every value is known;
 *  - with the linker's --wrap (Makefile): the kernel and libbpf versions
 *    of accel_build_info, time() (the JSON timestamp), the live sysctl and
 *    NIC values tune compares with its journal, ip_local_port_range, and
 *    what a map's fd tells about it (bpf_obj_get_info_by_fd, and the
 *    fdinfo readers bpf_fd_kind and map_fd_size: its size and memlock),
 *    the network namespace's inode (status);
 *  - status's ages (seconds since a blocking server was seen) follow the
 *    clock: they are masked in its output.
 *
 * A model built by hand would test the renderers only; a live attach
 * would give other numbers on every run.  This one proves that a change
 * to how metrics are declared, collected or looked up leaves all three
 * outputs identical on the same counters.
 *
 * After an intended change of the output: ACCEL_GOLDEN_UPDATE=1
 * build/tests/unit/test_golden rewrites the files; review the diff.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "accel.h"
#include "accel_abi.h"
#include "bpfutil.h"
#include "bypass.h"
#include "cli.h"
#include "journal.h"
#include "nic.h"
#include "stats.h"

#ifndef GOLDEN_DIR
#define GOLDEN_DIR "tests/golden"
#endif

#define NCPU		2
#define NETNS_COOKIE	0x1000
#define MAX_ENTRIES	128
#define MAX_KEY		48

/* ---- fake pinned maps -------------------------------------------------- */

struct fake_entry {
	uint8_t key[MAX_KEY];
	void *val;		/* vsz bytes, NCPU times for a per-CPU map */
};

struct fake_map {
	const char *path;	/* under the pin root */
	size_t ksz, vsz;
	bool percpu;
	uint32_t array;		/* arrays: max_entries (absent entries read 0) */
	int n;
	struct fake_entry e[MAX_ENTRIES];
	void *iter;		/* a pinned iterator link: its records */
	size_t iter_len;
	uint32_t id;		/* map id (bpf_obj_get_info_by_fd) */
	uint32_t max_entries;	/* fdinfo (map_fd_size); 0: the map has none */
	uint64_t memlock;
};

static struct fake_map maps[16];
static int nmaps;
static struct fake_map *by_fd[1024];
static char pin_root[256], state_dir[256];

static struct fake_map *fake_map(const char *path, size_t ksz, size_t vsz, bool percpu,
				 uint32_t array)
{
	struct fake_map *fm = &maps[nmaps++];

	assert_true(nmaps <= (int)(sizeof(maps) / sizeof(maps[0])));
	*fm = (struct fake_map){ .path = path, .ksz = ksz, .vsz = vsz, .percpu = percpu,
				 .array = array, .id = 100 + nmaps, .max_entries = array };
	return fm;
}

/* The value of key (added when new, zeroed); per-CPU: NCPU values. */
static void *fake_val(struct fake_map *fm, const void *key)
{
	struct fake_entry *e;

	for (int i = 0; i < fm->n; i++)
		if (!memcmp(fm->e[i].key, key, fm->ksz))
			return fm->e[i].val;
	assert_true(fm->n < MAX_ENTRIES);
	e = &fm->e[fm->n++];
	memcpy(e->key, key, fm->ksz);
	e->val = calloc(fm->percpu ? NCPU : 1, fm->vsz);
	assert_non_null(e->val);
	return e->val;
}

static void *fake_slot(struct fake_map *fm, uint32_t idx)
{
	return fake_val(fm, &idx);
}

/* A per-CPU u64 array slot: total split unevenly over the CPUs. */
static void fake_u64(struct fake_map *fm, uint32_t idx, uint64_t total)
{
	uint64_t *v = fake_slot(fm, idx);

	v[0] = total - total / 3;
	v[1] = total / 3;
}

static int fake_fd(struct fake_map *fm)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fd >= (int)(sizeof(by_fd) / sizeof(by_fd[0]))) {
		close(fd);
		errno = EMFILE;
		return -EMFILE;
	}
	by_fd[fd] = fm;
	return fd;
}

int bpf_obj_get(const char *path)
{
	size_t n = strlen(pin_root);

	if (!strncmp(path, pin_root, n) && path[n] == '/')
		for (int i = 0; i < nmaps; i++)
			if (!strcmp(path + n + 1, maps[i].path))
				return fake_fd(&maps[i]);
	errno = ENOENT;
	return -ENOENT;
}

static struct fake_map *map_of(int fd)
{
	if (fd < 0 || fd >= (int)(sizeof(by_fd) / sizeof(by_fd[0])) || !by_fd[fd]) {
		errno = EBADF;
		return NULL;
	}
	return by_fd[fd];
}

int bpf_map_lookup_elem(int fd, const void *key, void *value)
{
	struct fake_map *fm = map_of(fd);
	size_t len;

	if (!fm)
		return -EBADF;
	len = fm->vsz * (fm->percpu ? NCPU : 1);
	for (int i = 0; i < fm->n; i++)
		if (!memcmp(fm->e[i].key, key, fm->ksz)) {
			memcpy(value, fm->e[i].val, len);
			return 0;
		}
	if (fm->array && *(const uint32_t *)key < fm->array) {
		memset(value, 0, len);
		return 0;
	}
	errno = ENOENT;
	return -ENOENT;
}

/* Hash maps walk in insertion order; arrays by index. */
int bpf_map_get_next_key(int fd, const void *key, void *next_key)
{
	struct fake_map *fm = map_of(fd);
	int i = 0;

	if (!fm)
		return -EBADF;
	if (fm->array) {
		uint32_t k = key ? *(const uint32_t *)key + 1 : 0;

		if (k >= fm->array) {
			errno = ENOENT;
			return -ENOENT;
		}
		memcpy(next_key, &k, sizeof(k));
		return 0;
	}
	if (key)
		for (i = 0; i < fm->n; i++)
			if (!memcmp(fm->e[i].key, key, fm->ksz)) {
				i++;
				break;
			}
	if (i >= fm->n) {
		errno = ENOENT;
		return -ENOENT;
	}
	memcpy(next_key, fm->e[i].key, fm->ksz);
	return 0;
}

/* Reading the iterator gives the link's records, then EOF. */
int bpf_iter_create(int link_fd)
{
	struct fake_map *fm = map_of(link_fd);
	int fd;

	if (!fm || !fm->iter)
		return -EBADF;
	fd = memfd_create("iter", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, fm->iter, fm->iter_len) != (ssize_t)fm->iter_len ||
	    lseek(fd, 0, SEEK_SET)) {
		close(fd);
		return -EIO;
	}
	return fd;
}

int libbpf_num_possible_cpus(void)
{
	return NCPU;
}

/* The kernel's enum sk_rst_reason, as far as the fixture uses it. */
struct btf *btf__load_vmlinux_btf(void)
{
	struct btf *btf = btf__new_empty();

	if (!btf)
		return NULL;
	if (btf__add_enum(btf, "sk_rst_reason", 4) < 0 ||
	    btf__add_enum_value(btf, "SK_RST_REASON_NOT_SPECIFIED", 0) ||
	    btf__add_enum_value(btf, "SK_RST_REASON_NO_SOCKET", 1) ||
	    btf__add_enum_value(btf, "SK_RST_REASON_TCP_INVALID_ACK_SEQUENCE", 2) ||
	    btf__add_enum_value(btf, "SK_RST_REASON_TCP_ABORT_ON_DATA", 5)) {
		btf__free(btf);
		return NULL;
	}
	return btf;
}

/* ---- host values (linked with --wrap) --------------------------------- */

const char *__wrap_kernel_release(void);
const char *__wrap_libbpf_version(void);
time_t __wrap_time(time_t *t);
int __wrap_nic_open(struct nic **out);
void __wrap_nic_close(struct nic *n);
int __wrap_nic_read(struct nic *n, const struct tune_item *it, char *buf, size_t len,
		    char *err, size_t errlen);
int __wrap_sysctl_read(const char *path, char *buf, size_t len);
int __wrap_read_file(const char *path, char *buf, size_t len);
int __wrap_bpf_obj_get_info_by_fd(int fd, void *info, __u32 *len);
enum bpf_fd_kind __wrap_bpf_fd_kind(int fd);
int __wrap_map_fd_size(int fd, uint32_t *max_entries, uint64_t *memlock);
int __real_read_file(const char *path, char *buf, size_t len);
int __real_bpf_obj_get_info_by_fd(int fd, void *info, __u32 *len);
enum bpf_fd_kind __real_bpf_fd_kind(int fd);
int __real_map_fd_size(int fd, uint32_t *max_entries, uint64_t *memlock);

unsigned long long __wrap_netns_ino(void);

unsigned long long __wrap_netns_ino(void)
{
	return 4026531840ull;
}

const char *__wrap_kernel_release(void)
{
	return "6.18.0-golden";
}

const char *__wrap_libbpf_version(void)
{
	return "1.1";
}

time_t __wrap_time(time_t *t)
{
	if (t)
		*t = 1795302994;
	return 1795302994;
}

static int nic_dummy;

int __wrap_nic_open(struct nic **out)
{
	*out = (struct nic *)&nic_dummy;
	return 0;
}

void __wrap_nic_close(struct nic *n)
{
	(void)n;
}

int __wrap_nic_read(struct nic *n, const struct tune_item *it, char *buf, size_t len,
		    char *err, size_t errlen)
{
	(void)n;
	if (!strcmp(it->ifname, "eth1") && it->kind == TK_MTU) {
		snprintf(buf, len, "9000");
		return 0;
	}
	snprintf(err, errlen, "%s: no such device", it->ifname);
	return -ENODEV;
}

int __wrap_sysctl_read(const char *path, char *buf, size_t len)
{
	static const char *const live[][2] = {
		{ "/proc/sys/net/core/somaxconn", "4096" },
		{ "/proc/sys/net/ipv4/tcp_tw_reuse", "2" },	/* changed since */
	};

	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (!strcmp(path, live[i][0])) {
			snprintf(buf, len, "%s", live[i][1]);
			return 0;
		}
	return -ENOENT;
}

int __wrap_read_file(const char *path, char *buf, size_t len)
{
	if (!strcmp(path, "/proc/sys/net/ipv4/ip_local_port_range"))
		return snprintf(buf, len, "32768\t60999\n");
	return __real_read_file(path, buf, len);
}

/* A fake map's id, type and size; a real fd goes to the real call. */
int __wrap_bpf_obj_get_info_by_fd(int fd, void *info, __u32 *len)
{
	const struct fake_map *fm = map_of(fd);
	struct bpf_map_info mi = { 0 };

	if (!fm)
		return __real_bpf_obj_get_info_by_fd(fd, info, len);
	mi.id = fm->id;
	mi.key_size = fm->ksz;
	mi.value_size = fm->vsz;
	mi.max_entries = fm->max_entries;
	if (*len > sizeof(mi))
		*len = sizeof(mi);
	memcpy(info, &mi, *len);
	return 0;
}

enum bpf_fd_kind __wrap_bpf_fd_kind(int fd)
{
	const struct fake_map *fm = map_of(fd);

	if (!fm)
		return __real_bpf_fd_kind(fd);
	return fm->iter ? BPF_FD_LINK : BPF_FD_MAP;
}

int __wrap_map_fd_size(int fd, uint32_t *max_entries, uint64_t *memlock)
{
	const struct fake_map *fm = map_of(fd);

	if (!fm)
		return __real_map_fd_size(fd, max_entries, memlock);
	if (!fm->max_entries)
		return -ENOENT;
	if (max_entries)
		*max_entries = fm->max_entries;
	if (memlock)
		*memlock = fm->memlock;
	return 0;
}

/* A pin in the pin root for each fake object under dir, so that code that
 * lists a pin directory (the bypass's map memory) finds them. */
static void fake_pins(const char *dir)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);
	int fd;

	for (int i = 0; i < nmaps; i++) {
		if (strncmp(maps[i].path, dir, n) || maps[i].path[n] != '/')
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_root, maps[i].path);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
}

/* ---- the fixture: what each feature's maps hold ------------------------ */

/* The sizes attach gives the maps for --max-connections 1024, and what
 * the kernel charges for them (the map memory is their sum). */
static void fixture_bypass_capacity(struct fake_map *socks)
{
	struct fake_map *conns, *pending, *count;
	struct accel_bypass_count_rec rec[] = {
		{ .map_id = 7, .count = 99 }, { .map_id = socks->id, .count = 3 },
	};

	socks->max_entries = 2048;
	socks->memlock = 98304;
	conns = fake_map("bypass/" ACCEL_BYPASS_MAP_CONNS, 4, 48, false, 4096);
	conns->memlock = 200704;
	pending = fake_map("bypass/" ACCEL_BYPASS_MAP_PENDING, sizeof(struct accel_bypass_key),
			   sizeof(uint32_t) * 2, false, 0);
	pending->max_entries = 2048;
	pending->memlock = 16384;
	/* the kernel's count of each sockhash on the host (another one first) */
	count = fake_map("bypass/" ACCEL_PIN_LINK_PREFIX "bypass_count", 4, 4, false, 0);
	count->iter = malloc(sizeof(rec));
	assert_non_null(count->iter);
	memcpy(count->iter, rec, sizeof(rec));
	count->iter_len = sizeof(rec);
}

static void fixture_bypass(void)
{
	struct fake_map *ctr, *dem, *cfg, *socks, *blocking, *learned;
	struct accel_bypass_config *c;
	struct accel_bypass_key k = { .netns_cookie = NETNS_COOKIE, .family = ACCEL_FAM_INET };
	struct accel_bypass_key peer;
	static const uint16_t bports[][2] = { { 8080, 3 }, { 6379, 1 }, { 8080, 2 } };
	static const uint32_t verdicts[] = {
		ACCEL_BYPASS_V_LEARNING, ACCEL_BYPASS_V_EVENT, ACCEL_BYPASS_V_EVENT, ACCEL_BYPASS_V_SPLICE,
	};

	ctr = fake_map("bypass/" ACCEL_BYPASS_MAP_COUNTERS, 4, 8, true, ACCEL_BYPASS_NCOUNTERS);
	for (uint32_t i = 0; i < ACCEL_BYPASS_NCOUNTERS; i++)
		fake_u64(ctr, i, 11 * i + 3);
	fake_u64(ctr, ACCEL_BYPASS_CONN_INET, 120);
	fake_u64(ctr, ACCEL_BYPASS_CONN_INET6, 30);
	fake_u64(ctr, ACCEL_BYPASS_CONN_CLOSED, 100);
	fake_u64(ctr, ACCEL_BYPASS_MSGS, 98765);
	fake_u64(ctr, ACCEL_BYPASS_BYTES, 123456789);
	fake_u64(ctr, ACCEL_BYPASS_SLOT_TAKEN, 310);
	fake_u64(ctr, ACCEL_BYPASS_SLOT_RELEASED, 290);
	/* the causes of fallback{reason="demoted"} (11 * 9 + 3) */
	dem = fake_map("bypass/" ACCEL_BYPASS_MAP_DEMOTED, 4, 8, true, ACCEL_BYPASS_DEMOTED_CAUSES);
	fake_u64(dem, ACCEL_BYPASS_DEMOTED_SMALL, 60);
	fake_u64(dem, ACCEL_BYPASS_DEMOTED_BUSY, 42);

	cfg = fake_map("bypass/" ACCEL_BYPASS_MAP_CONFIG, 4, sizeof(*c), false, 1);
	c = fake_slot(cfg, 0);
	c->enabled = 1;
	c->flags = ACCEL_BYPASS_F_BLOCKING_UNSAFE | ACCEL_BYPASS_F_LEARN;

	/* one connection (a socket and its mirror) and a lone socket */
	socks = fake_map("bypass/" ACCEL_BYPASS_MAP_SOCKS, sizeof(k), 8, false, 0);
	k.local_ip[10] = k.local_ip[11] = k.remote_ip[10] = k.remote_ip[11] = 0xff;
	k.local_ip[12] = k.remote_ip[12] = 127;
	k.local_ip[15] = k.remote_ip[15] = 1;
	k.local_port = 40000;
	k.remote_port = 8080;
	*(uint64_t *)fake_val(socks, &k) = 1;
	bypass_key_mirror(&k, &peer);
	*(uint64_t *)fake_val(socks, &peer) = 2;
	k.local_port = 40001;
	*(uint64_t *)fake_val(socks, &k) = 3;
	fixture_bypass_capacity(socks);

	blocking = fake_map("bypass/" ACCEL_BYPASS_MAP_BLOCKING_PORTS,
			    sizeof(struct accel_bypass_port_key), sizeof(struct accel_bypass_port_seen),
			    false, 0);
	for (size_t i = 0; i < sizeof(bports) / sizeof(bports[0]); i++) {
		struct accel_bypass_port_key pk = { .netns_cookie = NETNS_COOKIE + i, .port = bports[i][0] };
		struct accel_bypass_port_seen *s = fake_val(blocking, &pk);

		s->sockets = bports[i][1];
	}

	learned = fake_map("bypass/" ACCEL_BYPASS_MAP_LEARNED, sizeof(struct accel_bypass_port_key),
			   sizeof(struct accel_bypass_learned), false, 0);
	for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
		struct accel_bypass_port_key pk = { .netns_cookie = NETNS_COOKIE, .port = 9000 + i };
		struct accel_bypass_learned *l = fake_val(learned, &pk);

		l->verdict = verdicts[i];
		l->conns = i;
	}
}

static void fixture_netacct(void)
{
	static const struct { uint32_t slot, mtu, ifindex; const char *name; } ifs[] = {
		{ 0, 1500, 5, "veth0" }, { 3, 9000, 7, "eth1" },
	};
	struct fake_map *ifaces, *ctrs;

	ifaces = fake_map("netacct/" NETACCT_IFACES_MAP, 4, sizeof(struct netacct_ifcfg), false,
			  NETACCT_MAX_IFACES);
	ctrs = fake_map("netacct/" NETACCT_COUNTERS_MAP, 4, sizeof(struct netacct_counters), true,
			NETACCT_COUNTERS_MAX);
	for (size_t i = 0; i < sizeof(ifs) / sizeof(ifs[0]); i++) {
		struct netacct_ifcfg *cfg = fake_slot(ifaces, ifs[i].slot);

		cfg->mtu = ifs[i].mtu;
		cfg->ifindex = ifs[i].ifindex;
		snprintf(cfg->name, sizeof(cfg->name), "%s", ifs[i].name);
		/* eth1 egress stays all zero: an interface nothing was sent on */
		for (uint32_t d = 0; d < (i ? 1u : NETACCT_DIR_MAX); d++) {
			struct netacct_counters *v = fake_slot(ctrs, NETACCT_COUNTERS_INDEX(ifs[i].slot, d));

			for (int cpu = 0; cpu < NCPU; cpu++)
				for (int f = 0; f < NETACCT_FAM_MAX; f++) {
					for (int c = 0; c < NETACCT_CTR_MAX; c++)
						v[cpu].ctr[f][c] = (i + 1) * 1000 + d * 100 + f * 10 + c + cpu;
					v[cpu].ctr[f][NETACCT_BYTES] *= 1500;
					if (f == NETACCT_FAM_OTHER)
						continue;
					for (int b = 0; b < NETACCT_PMTU_BUCKETS; b++)
						v[cpu].pmtu_bucket[f][b] = (b * 3 + f + d + cpu) % 5;
					v[cpu].pmtu_sum[f] = 1400 * (f + 1) + d * 7 + cpu;
				}
		}
	}
}

static void iter_rec(struct fake_map *fm, uint8_t kind, uint8_t family, uint8_t state,
		     const char *laddr, uint16_t lport, const char *daddr, uint16_t dport,
		     uint32_t alen, uint32_t amax, uint32_t slen)
{
	struct accel_tcp_iter_rec r = { .kind = kind, .family = family, .state = state,
					.lport = lport, .dport = dport, .accept_len = alen,
					.accept_max = amax, .syn_len = slen };
	int af = family == ACCEL_FAM_INET ? AF_INET : AF_INET6;

	assert_int_equal(inet_pton(af, laddr, r.laddr), 1);
	assert_int_equal(inet_pton(af, daddr, r.daddr), 1);
	fm->iter = realloc(fm->iter, fm->iter_len + sizeof(r));
	assert_non_null(fm->iter);
	memcpy((char *)fm->iter + fm->iter_len, &r, sizeof(r));
	fm->iter_len += sizeof(r);
}

static void listener(struct fake_map *fm, uint64_t cookie, uint8_t family, const char *addr,
		     uint16_t port, uint64_t base)
{
	struct accel_tcp_listener_key k = { .netns_cookie = cookie, .port = port, .family = family };
	struct accel_tcp_listener_val *v;

	assert_int_equal(inet_pton(family == ACCEL_FAM_INET ? AF_INET : AF_INET6, addr, k.addr), 1);
	v = fake_val(fm, &k);
	for (int i = 0; i < ACCEL_LQ_MAX; i++)
		v->c[i] = base + i;
}

static void fixture_tcpstate(void)
{
	struct fake_map *trans, *ctr, *rst, *iter, *lis;

	trans = fake_map("tcpstate/tcp_state_transitions", 4, 8, true, ACCEL_TCPSTATE_TRANS_SLOTS);
	for (uint32_t i = 0; i < ACCEL_TCPSTATE_TRANS_SLOTS; i++)
		fake_u64(trans, i, 7 * i + 1);
	ctr = fake_map("tcpstate/tcp_counters", 4, 8, true, ACCEL_TCP_CTR_MAX);
	fake_u64(ctr, ACCEL_TCP_TW_ENTRIES, 500);
	fake_u64(ctr, ACCEL_TCP_TW_KILLED, 5);
	fake_u64(ctr, ACCEL_TCP_RST_SENT, 11);
	fake_u64(ctr, ACCEL_TCP_LISTEN_UNMATCHED, 2);
	rst = fake_map("tcpstate/tcp_rst_reasons", 4, 8, true, ACCEL_TCP_RST_REASONS);
	fake_u64(rst, 1, 7);	/* no_socket */
	fake_u64(rst, 5, 3);	/* tcp_abort_on_data */
	fake_u64(rst, 40, 1);	/* a reason this kernel does not name */

	iter = fake_map("tcpstate/" ACCEL_PIN_LINK_PREFIX "tcpstate_iter", 4, 4, false, 0);
	iter_rec(iter, ACCEL_REC_LISTEN, ACCEL_FAM_INET, 10, "127.0.0.1", 8080, "0.0.0.0", 0, 2, 128, 1);
	iter_rec(iter, ACCEL_REC_LISTEN, ACCEL_FAM_INET6, 10, "::", 443, "::", 0, 0, 4096, 0);
	for (int i = 0; i < 3; i++)
		iter_rec(iter, ACCEL_REC_TIMEWAIT, ACCEL_FAM_INET, 6, "10.0.0.1", 40000 + i,
			 "10.0.0.2", 5432, 0, 0, 0);
	iter_rec(iter, ACCEL_REC_TIMEWAIT, ACCEL_FAM_INET, 5, "10.0.0.1", 40010, "10.0.0.2", 5432, 0, 0, 0);
	for (int i = 0; i < 2; i++)
		iter_rec(iter, ACCEL_REC_CONN, ACCEL_FAM_INET, 1, "10.0.0.1", 41000 + i,
			 "10.0.0.2", 5432, 0, 0, 0);
	iter_rec(iter, ACCEL_REC_CONN, ACCEL_FAM_INET6, 1, "2001:db8::2", 42000, "2001:db8::1", 80, 0, 0, 0);
	iter_rec(iter, ACCEL_REC_CONN, ACCEL_FAM_INET, 1, "10.0.0.1", 80, "10.0.0.3", 1234, 0, 0, 0);

	lis = fake_map("tcpstate/tcp_listeners", sizeof(struct accel_tcp_listener_key),
		       sizeof(struct accel_tcp_listener_val), false, 0);
	listener(lis, NETNS_COOKIE, ACCEL_FAM_INET, "127.0.0.1", 8080, 100);
	listener(lis, NETNS_COOKIE, ACCEL_FAM_INET6, "2001:db8::9", 443, 10);	/* folds onto [::]:443 */
	listener(lis, NETNS_COOKIE + 1, ACCEL_FAM_INET, "10.9.9.9", 9999, 1);	/* another namespace */
}

static void fixture_tune(struct accel_ctx *ctx)
{
	static struct journal j;
	static const struct { enum tune_kind kind; const char *ifname, *key, *orig, *new_val, *src; } e[] = {
		{ TK_SYSCTL, "", "net.core.somaxconn", "128", "4096", "profile loopback" },
		{ TK_SYSCTL, "", "net.ipv4.tcp_tw_reuse", "0", "1", "auto: local ports 91% used" },
		{ TK_MTU, "eth1", "mtu", "1500", "9000", "profile loopback" },
		{ TK_RING_RX, "eth9", "rx-ring", "256", "4096", "profile loopback" },
	};

	memset(&j, 0, sizeof(j));
	snprintf(j.profile, sizeof(j.profile), "loopback");
	j.since = 1795300000;
	j.auto_tune = true;
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		struct journal_entry *je = &j.e[j.n++];

		je->kind = e[i].kind;
		je->global = e[i].kind == TK_SYSCTL && !strcmp(e[i].key, "net.core.somaxconn");
		snprintf(je->ifname, sizeof(je->ifname), "%s", e[i].ifname);
		snprintf(je->key, sizeof(je->key), "%s", e[i].key);
		snprintf(je->orig, sizeof(je->orig), "%s", e[i].orig);
		snprintf(je->new_val, sizeof(je->new_val), "%s", e[i].new_val);
		snprintf(je->source, sizeof(je->source), "%s", e[i].src);
	}
	assert_int_equal(journal_write(ctx, &j), 0);
}

/* ---- running stats ------------------------------------------------------ */

static int setup(void **state)
{
	static struct accel_ctx ctx;
	char tmpl[] = "/tmp/accel-golden-XXXXXX", *top = mkdtemp(tmpl);
	static const char *const dirs[] = { "bypass", "netacct", "tcpstate" };
	char d[PATH_MAX];

	assert_non_null(top);
	snprintf(pin_root, sizeof(pin_root), "%s/pins", top);
	snprintf(state_dir, sizeof(state_dir), "%s/state", top);
	assert_int_equal(mkdir(pin_root, 0700), 0);
	assert_int_equal(mkdir(state_dir, 0700), 0);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(d, sizeof(d), "%s/%s", pin_root, dirs[i]);
		assert_int_equal(mkdir(d, 0700), 0);
	}
	memset(&ctx, 0, sizeof(ctx));
	snprintf(ctx.pin_root, sizeof(ctx.pin_root), "%s", pin_root);
	snprintf(ctx.state_dir, sizeof(ctx.state_dir), "%s", state_dir);
	ctx.netns_cookie = NETNS_COOKIE;
	ctx.lock_fd = -1;
	fixture_bypass();
	fake_pins("bypass");
	fixture_netacct();
	fixture_tcpstate();
	fixture_tune(&ctx);
	*state = &ctx;
	return 0;
}

static int rm_tree(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static int teardown(void **state)
{
	char top[PATH_MAX];

	(void)state;
	snprintf(top, sizeof(top), "%s", pin_root);
	*strrchr(top, '/') = '\0';
	return rm_tree(top);
}

/* stdout into a file of the state dir, between capture_begin() and
 * capture_end(), which returns what was written (malloc'd). */
struct capture {
	char path[PATH_MAX];
	int fd, saved;
};

static void capture_begin(struct capture *c)
{
	snprintf(c->path, sizeof(c->path), "%s/stdout", state_dir);
	fflush(stdout);
	c->saved = dup(STDOUT_FILENO);
	c->fd = open(c->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(c->saved >= 0 && c->fd >= 0);
	assert_true(dup2(c->fd, STDOUT_FILENO) >= 0);
}

static char *capture_end(struct capture *c)
{
	struct stat st;
	char *buf;

	fflush(stdout);
	assert_true(dup2(c->saved, STDOUT_FILENO) >= 0);
	close(c->saved);
	assert_int_equal(fstat(c->fd, &st), 0);
	buf = calloc(1, st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(pread(c->fd, buf, st.st_size, 0), st.st_size);
	close(c->fd);
	unlink(c->path);
	return buf;
}

/* What stats_run() writes to stdout. */
static char *run_stats(struct accel_ctx *ctx, bool json, bool prometheus)
{
	struct cli_opts o;
	struct capture c;
	char *buf;

	memset(&o, 0, sizeof(o));
	o.prometheus = prometheus;
	ctx->json = json;
	capture_begin(&c);
	assert_int_equal(stats_run(ctx, &o), 0);
	buf = capture_end(&c);
	ctx->json = false;
	return buf;
}

/* What accel_status() writes to stdout, with an instance record that
 * lists every feature; *attached is what it exits with. */
static char *run_status(struct accel_ctx *ctx, bool json, bool *attached)
{
	struct instance_info ii = { .features = (1u << nfeatures) - 1, .since = 1795301000,
				    .netns_cookie = NETNS_COOKIE, .abi = ACCEL_ABI_VERSION };
	struct capture c;
	char *buf;
	int err;

	assert_int_equal(instance_write(ctx, &ii), 0);
	ctx->json = json;
	capture_begin(&c);
	err = accel_status(ctx, attached);
	buf = capture_end(&c);
	assert_int_equal(err, 0);
	instance_remove(ctx);
	ctx->json = false;
	return buf;
}

/* The number after every mark becomes "@N@", in place: what follows the
 * clock. */
static char *mask_after(char *s, const char *mark)
{
	for (char *p = strstr(s, mark); p; p = strstr(p, mark)) {
		char *num = p + strlen(mark), *end = num;

		while (strchr("0123456789.e+-", *end) && *end)
			end++;
		if (end - num >= 3) {
			memcpy(num, "@N@", 3);
			memmove(num + 3, end, strlen(end) + 1);
		}
		p = num;
	}
	return s;
}

/* Ages (what follows the clock) and the test's own directory (mkdtemp)
 * become fixed marks. */
static char *unclock(char *s)
{
	char top[PATH_MAX];
	size_t n;

	snprintf(top, sizeof(top), "%s", pin_root);
	*strrchr(top, '/') = '\0';
	n = strlen(top);
	for (char *p = strstr(s, top); p; p = strstr(p, top)) {
		memcpy(p, "@TMP@", 5);
		memmove(p + 5, p + n, strlen(p + n) + 1);
	}
	return mask_after(mask_after(s, "\"seconds_ago\": "), "latest ");
}

static const char *type_str(enum metric_type t)
{
	return t == METRIC_COUNTER ? "counter" : t == METRIC_GAUGE ? "gauge" : "histogram";
}

/* One line per family: name, type, label names (in sample order, each
 * once), help. */
static char *schema(struct accel_ctx *ctx)
{
	struct metrics *m = stats_collect(ctx);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(m);
	assert_non_null(f);
	for (int i = 0; i < m->n; i++) {
		const struct metric_family *fam = m->f[i];
		const char *names[16];
		int nn = 0;

		for (int s = 0; s < fam->n; s++)
			for (int l = 0; l < fam->s[s].nlabels; l++) {
				int k = 0;

				while (k < nn && strcmp(names[k], fam->s[s].lname[l]))
					k++;
				if (k == nn && nn < 16)
					names[nn++] = fam->s[s].lname[l];
			}
		fprintf(f, "%s %s [", fam->name, type_str(fam->type));
		for (int k = 0; k < nn; k++)
			fprintf(f, "%s%s", k ? "," : "", names[k]);
		fprintf(f, "] %s\n", fam->help);
	}
	fclose(f);
	metrics_free(m);
	return buf;
}

/* The release is not the test's business: "VERSION" becomes "@VERSION@"
 * (accel_build_info's label), in place. */
static char *unversion(char *s)
{
	static const char v[] = "\"" ACCELCTL_VERSION "\"", mark[] = "\"@VERSION@\"";
	char *out = calloc(1, strlen(s) * 2 + sizeof(mark)), *o = out;

	assert_non_null(out);
	for (const char *p = s; *p;) {
		if (!strncmp(p, v, strlen(v))) {
			o = stpcpy(o, mark);
			p += strlen(v);
		} else {
			*o++ = *p++;
		}
	}
	free(s);
	return out;
}

static int line_of(const char *s, const char *at)
{
	int n = 1;

	for (; s < at; s++)
		n += *s == '\n';
	return n;
}

static void golden(const char *name, const char *got)
{
	char path[PATH_MAX], *want;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, name);
	if (getenv("ACCEL_GOLDEN_UPDATE")) {
		f = fopen(path, "we");
		assert_non_null(f);
		fputs(got, f);
		assert_int_equal(fclose(f), 0);
		return;
	}
	f = fopen(path, "re");
	if (!f)
		fail_msg("%s: %s (ACCEL_GOLDEN_UPDATE=1 writes it)", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	want = calloc(1, n + 1);
	assert_non_null(want);
	assert_int_equal(fread(want, 1, n, f), n);
	fclose(f);
	if (strcmp(want, got)) {
		/* the first differing line: the whole files would bury it */
		const char *a = want, *b = got;

		while (*a && *a == *b)
			a++, b++;
		while (a > want && a[-1] != '\n')
			a--, b--;
		fail_msg("%s differs at line %d:\n  want: %.*s\n  got:  %.*s\n"
			 "(ACCEL_GOLDEN_UPDATE=1 rewrites the files after an intended change)",
			 path, line_of(want, a), (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b);
	}
	free(want);
}

/* stats as text (json, prom false), JSON or Prometheus against file. */
static void stats_golden(struct accel_ctx *ctx, bool json, bool prom, const char *file)
{
	char *out = unversion(run_stats(ctx, json, prom));

	golden(file, out);
	free(out);
}

static void test_stats_table(void **state)
{
	stats_golden(*state, false, false, "stats.txt");
}

static void test_stats_json(void **state)
{
	stats_golden(*state, true, false, "stats.json");
}

static void test_stats_prometheus(void **state)
{
	stats_golden(*state, false, true, "stats.prom");
}

/* The version in the text's first line, as unversion() does for JSON. */
static char *unversion_text(char *s)
{
	static const char v[] = "accelctl " ACCELCTL_VERSION " ";
	char *p = strstr(s, v), *out;

	if (!p)
		return s;
	assert_true(asprintf(&out, "%.*saccelctl @VERSION@ %s", (int)(p - s), s, p + strlen(v)) > 0);
	free(s);
	return out;
}

/* status, attached, as text or JSON against file. */
static void status_golden(struct accel_ctx *ctx, bool json, const char *file)
{
	bool attached = false;
	char *out = run_status(ctx, json, &attached);

	out = unclock(json ? unversion(out) : unversion_text(out));
	assert_true(attached);
	golden(file, out);
	free(out);
}

static void test_status_text(void **state)
{
	status_golden(*state, false, "status.txt");
}

static void test_status_json(void **state)
{
	status_golden(*state, true, "status.json");
}

static void test_schema(void **state)
{
	char *out = schema(*state);

	golden("schema.txt", out);
	free(out);
}

/* Every family stats collects comes from a descriptor table, and its
 * samples carry exactly the labels declared there, in that order. */
static void test_every_family_declared(void **state)
{
	struct metrics *m = stats_collect(*state);

	assert_non_null(m);
	for (int i = 0; i < m->n; i++) {
		const struct metric_family *f = m->f[i];
		int n;

		if (!f->desc)
			fail_msg("%s is made by name, not from a descriptor table", f->name);
		n = metric_desc_nlabels(f->desc);
		for (int j = 0; j < f->n; j++) {
			assert_int_equal(f->s[j].nlabels, n);
			for (int l = 0; l < n; l++)
				assert_string_equal(f->s[j].lname[l], f->desc->labels[l]);
		}
	}
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_table),
		cmocka_unit_test(test_stats_json),
		cmocka_unit_test(test_stats_prometheus),
		cmocka_unit_test(test_status_text),
		cmocka_unit_test(test_status_json),
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_every_family_declared),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
