// SPDX-License-Identifier: GPL-2.0-only
/*
 * bypass.bpf.c - local IO bypass for same-host TCP.
 *
 * sockops puts both ends of a local connection into a sockhash when they
 * become ESTABLISHED; sk_msg then moves each sendmsg() straight onto the
 * peer's psock ingress queue (bpf_msg_redirect_hash(..., BPF_F_INGRESS)),
 * skipping TCP/IP, qdisc, loopback xmit and softirq receive.
 *
 * Safety rules, per direction (per sending socket):
 *  - a direction is redirected from its first byte or never: the decision
 *    is taken once, at the first sk_msg verdict, and only when the socket
 *    has sent nothing over the stack yet.  The receiver reads its psock
 *    queue before its receive queue, so stack -> bypass would reorder;
 *  - bypass -> stack (demotion: `bypass off`, detach, small-message
 *    streams, a peer found blocking) is order-safe for the same reason,
 *    and is final;
 *  - on kernels whose tcp_bpf_recvmsg() fails blocking readers with
 *    -EAGAIN (userspace self-tests this at attach, docs/bypass.md), only
 *    nonblocking sockets take part; see bypass_established().  An
 *    --event-ports server caught blocking marks its port
 *    (bypass_blocking_ports) so that its later connections stay out.
 *
 * Learning (restricted mode with ACCEL_BYPASS_F_LEARN): a listening port
 * not in --event-ports starts unknown.  Its accepted connections stay on
 * the stack and are observed for their whole life (socket storage
 * bypass_obs) by one tracepoint, sock_recv_length, which looks at nothing
 * else: how each read was made (MSG_DONTWAIT, which the syscalls set for
 * an O_NONBLOCK file) and whether every byte that left the receive queue
 * was returned by recvmsg (copied_seq; splice and tcp_read_sock() readers
 * move it without recvmsg).  A connection that closes having read only
 * nonblocking, only by recvmsg, is one piece of evidence; learn_conns of
 * them within learn_window_s make the port event-driven and its next
 * connections are accelerated.  One blocking or splice read settles it on
 * the stack.  See "Learning" in docs/bypass.md.
 */
#include "accel_common.bpf.h"
#include "bypass_psock.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define O_NONBLOCK_		04000
#define MSG_PEEK_		0x2
#define MSG_DONTWAIT_		0x40
#define RCV_SHUTDOWN_		1

/* A direction put on the stack is not final for a redirect that another
 * thread's send() had decided just before: tcp_bpf_send_verdict() drops
 * the sender's lock before it queues on the peer's psock.  The peer waits
 * this long before it leaves the sockhash (which would purge them). */
#define BYPASS_STACK_GRACE_MS	50

/*
 * One end's state as its peer must see it, accel_bypass_conn.side[].flags
 * (atomic bit operations only: both ends write them).  These values, the
 * BCONN_* and OBS_* flags and enum bypass_tx are ABI as much as the
 * structs in accel_abi.h: a handover leaves them to another build.
 */
#define BSK_PRESENT	(1u << 0)	/* in the sockhash: a redirect target */
#define BSK_GONE	(1u << 1)	/* closed (TCP_CLOSE): feeds nobody any more */
#define BSK_TX_REDIR	(1u << 3)	/* this end's direction was redirected */
#define BSK_TX_STACK	(1u << 4)	/* ... and is on the stack now (decided or demoted) */
#define BSK_EVICTING	(1u << 5)	/* leaving the sockhash: the peer must not feed it */
#define BSK_EVICTED	(1u << 6)	/* out of the sockhash */
#define BSK_BLOCKING	(1u << 7)	/* its file was seen without O_NONBLOCK */
#define BSK_SENT	(1u << 8)	/* sent since the peer last cleared it (demotion) */

/* The connection's, accel_bypass_conn.flags. */
#define BCONN_ACCEL	(1u << 0)	/* a direction is redirected (counted once) */
#define BCONN_CLOSED	(1u << 1)	/* an end left ESTABLISHED (counted once) */

enum bypass_tx {
	TX_UNDECIDED = 0,
	TX_REDIRECT,
	TX_STACK,
};

/* accel_bypass_sk.small_run: sends in a row below the run's size limit, how many
 * of them were small, how many found the reader holding its socket (10
 * bits each: a run is at most ACCEL_BYPASS_RUN_MAX sends), and how many
 * runs in a row before this one were busy (2 bits). */
#define RUN_BITS		10
#define RUN_MASK		((1u << RUN_BITS) - 1)
#define RUN_SENDS(r)		((r) & RUN_MASK)
#define RUN_SMALL(r)		(((r) >> RUN_BITS) & RUN_MASK)
#define RUN_BUSY(r)		(((r) >> (2 * RUN_BITS)) & RUN_MASK)
#define RUN_STREAK(r)		((r) >> (3 * RUN_BITS))
#define RUN_ONE_SEND		1u
#define RUN_ONE_SMALL		(1u << RUN_BITS)
#define RUN_ONE_BUSY		(1u << (2 * RUN_BITS))
#define RUN_ONE_STREAK		(1u << (3 * RUN_BITS))

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, ACCEL_BYPASS_MAX_SOCKS);
	__type(key, struct accel_bypass_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bypass_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct accel_bypass_sk);
	__uint(pinning, LIBBPF_PIN_BY_NAME);	/* adopted by a handover */
} bypass_sk_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ACCEL_BYPASS_MAX_CONNS);
	__type(key, __u32);
	__type(value, struct accel_bypass_conn);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bypass_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ACCEL_BYPASS_MAX_CONNS * ACCEL_BYPASS_SK_ADDRS_PER_SLOT);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bypass_sk_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ACCEL_BYPASS_DEMOTED_CAUSES);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bypass_demoted SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ACCEL_BYPASS_MAX_SOCKS);
	__type(key, struct accel_bypass_key);
	__type(value, struct accel_bypass_pending);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bypass_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct accel_bypass_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bypass_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ACCEL_BYPASS_PORT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bypass_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ACCEL_BYPASS_BLOCKING_PORTS);
	__type(key, struct accel_bypass_port_key);
	__type(value, struct accel_bypass_port_seen);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bypass_blocking_ports SEC(".maps");

/* Not LRU: a full table keeps new ports unknown (on the stack) and says
 * so (LEARN_FULL), instead of forgetting a verdict. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ACCEL_BYPASS_LEARN_PORTS);
	__type(key, struct accel_bypass_port_key);
	__type(value, struct accel_bypass_learned);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bypass_learned SEC(".maps");

/* TCP_CLOSE with bytes still to read: a FIN met in FIN_WAIT2 takes an
 * open socket to TIME_WAIT, and its reader has not finished yet. */
#define OBS_CLOSED	(1u << 0)
#define OBS_DONE	(1u << 1)	/* concluded (the tracepoint and TCP_CLOSE may race) */

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct accel_bypass_obs);
	__uint(pinning, LIBBPF_PIN_BY_NAME);	/* adopted by a handover */
} bypass_obs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ACCEL_BYPASS_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bypass_counters SEC(".maps");

static __always_inline struct accel_bypass_config *bypass_cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&bypass_config, &zero);
}

/* Off when disabled, draining, or handed over and not adopted in time
 * (then the programs drain by themselves, as after a detach). */
static __always_inline bool bypass_active(const struct accel_bypass_config *cfg)
{
	return cfg->enabled && !(cfg->flags & ACCEL_BYPASS_F_DRAINING) &&
	       !((cfg->flags & ACCEL_BYPASS_F_HANDOVER) &&
		 bpf_ktime_get_boot_ns() > cfg->handover_deadline_ns);
}

static __always_inline bool port_listed(__u32 list, __u16 port)
{
	__u32 idx = list * ACCEL_BYPASS_PORT_WORDS + (port >> 6);
	__u64 *w = bpf_map_lookup_elem(&bypass_ports, &idx);

	return w && (*w & (1ULL << (port & 63)));
}

/* ::ffff:a.b.c.d */
static __always_inline void addr_map4(__u32 *dst, __u32 v4)
{
	dst[0] = 0;
	dst[1] = 0;
	dst[2] = bpf_htonl(0xffff);
	dst[3] = v4;
}

static __always_inline bool addr_is_mapped4(const __u32 *a)
{
	return a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff);
}

/*
 * The key of a TCP socket, from the kernel's own socket fields so that
 * sockops and sk_msg compute it identically (their context structs encode
 * ports differently).  Returns -1 for anything but AF_INET/AF_INET6.
 */
static __always_inline int bypass_key_of(struct tcp_sock *tp, struct accel_bypass_key *k)
{
	struct sock_common *skc = &tp->inet_conn.icsk_inet.sk.__sk_common;
	__u32 *l = (__u32 *)k->local_ip, *r = (__u32 *)k->remote_ip;
	__u16 fam = skc->skc_family;

	__builtin_memset(k, 0, sizeof(*k));
	k->netns_cookie = skc->skc_net.net->net_cookie;
	k->local_port = skc->skc_num;
	k->remote_port = bpf_ntohs(skc->skc_dport);
	if (fam == AF_INET) {
		addr_map4(l, skc->skc_rcv_saddr);
		addr_map4(r, skc->skc_daddr);
		k->family = ACCEL_FAM_INET;
		return 0;
	}
	if (fam != AF_INET6)
		return -1;
	for (int i = 0; i < 4; i++) {
		l[i] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[i];
		r[i] = skc->skc_v6_daddr.in6_u.u6_addr32[i];
	}
	/* An AF_INET6 socket talking IPv4 (v4-mapped): key it as IPv4. */
	k->family = addr_is_mapped4(r) ? ACCEL_FAM_INET : ACCEL_FAM_INET6;
	return 0;
}

static __always_inline void bypass_peer_key(const struct accel_bypass_key *k,
					    struct accel_bypass_key *p)
{
	__builtin_memcpy(p->local_ip, k->remote_ip, 16);
	__builtin_memcpy(p->remote_ip, k->local_ip, 16);
	p->netns_cookie = k->netns_cookie;
	p->local_port = k->remote_port;
	p->remote_port = k->local_port;
	p->family = k->family;
	p->pad[0] = p->pad[1] = p->pad[2] = 0;
}

static __always_inline bool addr_is_loopback(const __u32 *a, __u8 fam)
{
	if (fam == ACCEL_FAM_INET)
		return (bpf_ntohl(a[3]) >> 24) == 127;
	return a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == bpf_htonl(1);
}

/*
 * Both ends on this host.  Cheap and without false positives: both
 * addresses loopback, or the remote address is our own address (the
 * kernel picks the destination itself as source on a `local` route, so a
 * connection to any address of this host looks like that unless the
 * client bound another one).  The final proof is the peer socket being in
 * the sockhash under the mirrored key, in the same namespace.
 */
static __always_inline bool bypass_is_local(const struct accel_bypass_key *k)
{
	const __u32 *l = (const __u32 *)k->local_ip, *r = (const __u32 *)k->remote_ip;

	if (addr_is_loopback(l, k->family) && addr_is_loopback(r, k->family))
		return true;
	return l[0] == r[0] && l[1] == r[1] && l[2] == r[2] && l[3] == r[3];
}

/* Does the socket have a file, and is it nonblocking?  1 nonblocking,
 * 0 blocking, -1 no file yet (an accepted socket nobody accept()ed). */
static __always_inline int sock_nonblocking(struct tcp_sock *tp)
{
	struct socket *so = tp->inet_conn.icsk_inet.sk.sk_socket;
	struct file *f;

	if (!so)
		return -1;
	f = so->file;
	if (!f)
		return -1;
	return (f->f_flags & O_NONBLOCK_) ? 1 : 0;
}

static __always_inline void port_key_of(const struct accel_bypass_key *k,
					struct accel_bypass_port_key *pk)
{
	pk->netns_cookie = k->netns_cookie;
	pk->port = k->local_port;
	pk->pad[0] = pk->pad[1] = pk->pad[2] = 0;
}

/* An --event-ports server was caught reading a blocking socket. */
static __always_inline bool event_port_blocking(const struct accel_bypass_key *k)
{
	struct accel_bypass_port_key pk;

	port_key_of(k, &pk);
	return bpf_map_lookup_elem(&bypass_blocking_ports, &pk);
}

static __always_inline void event_port_mark_blocking(const struct accel_bypass_key *k)
{
	struct accel_bypass_port_seen first = { .sockets = 1 }, *seen;
	struct accel_bypass_port_key pk;

	port_key_of(k, &pk);
	first.last_boot_ns = bpf_ktime_get_boot_ns();
	seen = bpf_map_lookup_elem(&bypass_blocking_ports, &pk);
	if (!seen) {
		bpf_map_update_elem(&bypass_blocking_ports, &pk, &first, BPF_NOEXIST);
		return;
	}
	__sync_fetch_and_add(&seen->sockets, 1);
	seen->last_boot_ns = first.last_boot_ns;
}

/* ---- learning ------------------------------------------------------ */

static __always_inline bool learning(const struct accel_bypass_config *cfg)
{
	return (cfg->flags & (ACCEL_BYPASS_F_BLOCKING_UNSAFE | ACCEL_BYPASS_F_LEARN)) ==
	       (ACCEL_BYPASS_F_BLOCKING_UNSAFE | ACCEL_BYPASS_F_LEARN);
}

/* The port's entry, made (learning) when there is none; NULL when the
 * table is full. */
static __always_inline struct accel_bypass_learned *learned_get(const struct accel_bypass_port_key *pk,
								__u64 listener)
{
	struct accel_bypass_learned fresh = { .verdict = ACCEL_BYPASS_V_LEARNING }, *v;

	v = bpf_map_lookup_elem(&bypass_learned, pk);
	if (v)
		return v;
	fresh.since_ns = bpf_ktime_get_boot_ns();
	fresh.listener_cookie = listener;
	if (bpf_map_update_elem(&bypass_learned, pk, &fresh, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&bypass_learned, pk)) {
		accel_count(&bypass_counters, ACCEL_BYPASS_LEARN_FULL, 1);
		return NULL;
	}
	return bpf_map_lookup_elem(&bypass_learned, pk);
}

/* Evidence against the port: on the stack until it is learned again. */
static __always_inline void learned_settle(const struct accel_bypass_port_key *pk, __u32 verdict)
{
	struct accel_bypass_learned *v = bpf_map_lookup_elem(&bypass_learned, pk);

	if (!v || v->verdict == verdict)
		return;
	/* a plain store: a promotion racing with it compares and swaps
	 * from LEARNING, so this one always wins */
	v->verdict = verdict;
	v->conns = 0;
	v->since_ns = bpf_ktime_get_boot_ns();
	v->last_ns = v->since_ns;
	accel_count(&bypass_counters, verdict == ACCEL_BYPASS_V_SPLICE ?
		    ACCEL_BYPASS_LEARN_SETTLED_SPLICE : ACCEL_BYPASS_LEARN_SETTLED_BLOCKING, 1);
}

/* Back to unknown: its server may not be the one that earned the verdict. */
static __always_inline void learned_reopen(struct accel_bypass_learned *v, __u64 listener)
{
	if (v->verdict != ACCEL_BYPASS_V_LEARNING || v->conns) {
		v->reopened++;
		accel_count(&bypass_counters, ACCEL_BYPASS_LEARN_REOPENED, 1);
	}
	v->verdict = ACCEL_BYPASS_V_LEARNING;
	v->conns = 0;
	v->flags = 0;
	v->since_ns = bpf_ktime_get_boot_ns();
	if (listener)
		v->listener_cookie = listener;
}

/* One connection read nonblocking throughout: evidence for the port. */
static __always_inline void learned_count(const struct accel_bypass_port_key *pk)
{
	struct accel_bypass_config *cfg = bypass_cfg();
	struct accel_bypass_learned *v = bpf_map_lookup_elem(&bypass_learned, pk);
	__u64 now = bpf_ktime_get_boot_ns();
	__u32 n;

	if (!v || !cfg || !learning(cfg) || !cfg->learn_conns || v->verdict != ACCEL_BYPASS_V_LEARNING)
		return;
	if (v->last_ns && now - v->last_ns > (__u64)cfg->learn_window_s * 1000000000ULL)
		v->conns = 0;	/* too old to go with this one */
	v->last_ns = now;
	n = __sync_fetch_and_add(&v->conns, 1) + 1;
	if (n < cfg->learn_conns)
		return;
	if (__sync_val_compare_and_swap(&v->verdict, ACCEL_BYPASS_V_LEARNING,
					ACCEL_BYPASS_V_EVENT) != ACCEL_BYPASS_V_LEARNING)
		return;
	v->since_ns = now;
	v->flags &= ~ACCEL_BYPASS_LF_RESTORED;
	accel_count(&bypass_counters, ACCEL_BYPASS_LEARN_PROMOTED, 1);
}

/* The peer's FIN takes a sequence number too, consumed by whichever read
 * reaches it (with data or as EOF): 1 once it has arrived (RCV_SHUTDOWN)
 * and is still counted in what is left to read. */
static __always_inline __u32 obs_left(struct tcp_sock *tp)
{
	__u32 left = tp->rcv_nxt - tp->copied_seq;

	if ((tp->inet_conn.icsk_inet.sk.sk_shutdown & RCV_SHUTDOWN_) && left)
		left--;
	return left;
}

/* Bytes that left the receive queue since observation began and that
 * recvmsg did not return: another reader (splice, TCP_ZEROCOPY_RECEIVE). */
static __always_inline bool obs_unexplained(const struct accel_bypass_obs *o, struct tcp_sock *tp)
{
	__u32 fin = (tp->inet_conn.icsk_inet.sk.sk_shutdown & RCV_SHUTDOWN_) &&
		    tp->copied_seq == tp->rcv_nxt;

	return (__s32)(tp->copied_seq - o->base_seq - o->recv_bytes - fin) > 0;
}

/* What an observed connection showed, once it has been read to the end:
 * one piece of evidence, or a splice verdict.  The caller deletes it. */
static __always_inline void obs_conclude(struct accel_bypass_obs *o, struct tcp_sock *tp)
{
	if (__sync_fetch_and_or(&o->flags, OBS_DONE) & OBS_DONE)
		return;
	if (obs_unexplained(o, tp))
		learned_settle(&o->port, ACCEL_BYPASS_V_SPLICE);
	else if (o->reads)
		learned_count(&o->port);
}

/* A new listener: its server may be another program than the one the
 * port's verdict is about.  (TCP_LISTEN_CB runs for every listen(), no
 * callback flag needed.) */
static __always_inline void bypass_listen(struct bpf_sock_ops *skops)
{
	struct accel_bypass_config *cfg = bypass_cfg();
	struct accel_bypass_learned *v;
	struct accel_bypass_port_key pk;
	struct accel_bypass_key key;
	struct bpf_sock *sk = skops->sk;
	struct tcp_sock *tp;
	__u64 cookie;

	if (!cfg || !bypass_active(cfg) || !learning(cfg) || !sk)
		return;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp || bypass_key_of(tp, &key) || !accel_netns_wanted(key.netns_cookie))
		return;
	if (port_listed(ACCEL_BYPASS_PORTS_EVENT, key.local_port) ||
	    port_listed(ACCEL_BYPASS_PORTS_EXCLUDE, key.local_port) ||
	    ((cfg->flags & ACCEL_BYPASS_F_PORTS_ONLY) &&
	     !port_listed(ACCEL_BYPASS_PORTS_INCLUDE, key.local_port)))
		return;
	port_key_of(&key, &pk);
	cookie = bpf_get_socket_cookie(skops);
	/* only a port that has had connections has an entry: a listener
	 * alone takes no room in the table */
	v = bpf_map_lookup_elem(&bypass_learned, &pk);
	if (v && v->listener_cookie != cookie)
		learned_reopen(v, cookie);
}

/*
 * An accepted socket of a port that is not event-driven (yet): it stays
 * on the stack; while the port is learning it is observed.  Returns true
 * when the port is event-driven.
 */
static __always_inline bool learned_event(struct bpf_sock_ops *skops, struct tcp_sock *tp,
					  const struct accel_bypass_key *k, bool active)
{
	struct accel_bypass_learned *v;
	struct accel_bypass_port_key pk;
	struct accel_bypass_obs *o;
	struct bpf_sock *sk;

	pk.netns_cookie = k->netns_cookie;
	pk.port = active ? k->remote_port : k->local_port;
	pk.pad[0] = pk.pad[1] = pk.pad[2] = 0;
	if (active) {
		/* the server's end decides; a client only looks */
		v = bpf_map_lookup_elem(&bypass_learned, &pk);
		return v && v->verdict == ACCEL_BYPASS_V_EVENT;
	}
	v = learned_get(&pk, 0);
	if (v && v->verdict == ACCEL_BYPASS_V_EVENT)
		return true;
	accel_count(&bypass_counters, ACCEL_BYPASS_LEARN_KEPT, 1);
	if (!v || v->verdict != ACCEL_BYPASS_V_LEARNING)
		return false;
	sk = skops->sk;
	if (!sk)
		return false;
	o = bpf_sk_storage_get(&bypass_obs, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o)
		return false;
	o->port = pk;
	o->base_seq = tp->copied_seq;
	o->recv_bytes = 0;
	o->reads = 0;
	o->flags = 0;
	/* its close concludes the observation (bypass_state_change) */
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
	accel_count(&bypass_counters, ACCEL_BYPASS_LEARN_OBSERVED, 1);
	return false;
}

/*
 * Every recvmsg()/read()/recvfrom() of every socket passes here (after
 * the read), so the first thing is the one lookup that finds nothing for
 * a socket that is not observed.  flags are the call's own plus
 * MSG_DONTWAIT for an O_NONBLOCK file (____sys_recvmsg, __sys_recvfrom,
 * sock_read_iter).  The check of copied_seq is made here, when recvmsg
 * has returned, and at close: tcp_rcv_space_adjust would see splice too,
 * but it also runs once per skb inside one recvmsg, so on its own it
 * cannot tell the two apart.
 */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(bypass_learn_recv, struct sock *sk, int ret, int flags)
{
	struct accel_bypass_obs *o = bpf_sk_storage_get(&bypass_obs, sk, NULL, 0);
	struct tcp_sock *tp;

	if (!o)
		return 0;
	if (!(flags & MSG_DONTWAIT_)) {
		learned_settle(&o->port, ACCEL_BYPASS_V_BLOCKING);
		bpf_sk_storage_delete(&bypass_obs, sk);
		return 0;
	}
	if (ret < 0 || (flags & MSG_PEEK_))
		return 0;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 0;
	o->recv_bytes += ret;
	o->reads += ret > 0;
	if (obs_unexplained(o, tp)) {
		learned_settle(&o->port, ACCEL_BYPASS_V_SPLICE);
		bpf_sk_storage_delete(&bypass_obs, sk);
	} else if (ret == 0 || ((o->flags & OBS_CLOSED) && !obs_left(tp))) {
		/* read to the end */
		obs_conclude(o, tp);
		bpf_sk_storage_delete(&bypass_obs, sk);
	}
	return 0;
}

/*
 * Which end of the connection a key names: the one whose (local address,
 * port) sorts first is side 0, and its key names the connection.  Both
 * ends agree, whichever opened it (simultaneous open included).  Returns
 * -1 for a socket connected to itself.
 */
static __always_inline int bypass_side_of(const struct accel_bypass_key *k)
{
	const __u32 *l = (const __u32 *)k->local_ip, *r = (const __u32 *)k->remote_ip;

	for (int i = 0; i < 4; i++) {
		if (l[i] != r[i])
			return bpf_ntohl(l[i]) < bpf_ntohl(r[i]) ? 0 : 1;
	}
	if (k->local_port == k->remote_port)
		return -1;
	return k->local_port < k->remote_port ? 0 : 1;
}

#define BYPASS_SLOT_PROBES 8

/* bypass_conns' size - 1; smaller only in tests (accelctl-testhooks). */
const volatile __u32 conn_slot_mask = ACCEL_BYPASS_MAX_CONNS - 1;

/* A free slot, cleared and held (one holder); NULL when the probes found
 * none (about 0.5^8 at a full sockhash: two sockets per slot). */
static __always_inline struct accel_bypass_conn *slot_take(struct accel_bypass_sk *st)
{
	struct accel_bypass_conn *c;
	__u64 ref;
	__u32 slot;

	for (int i = 0; i < BYPASS_SLOT_PROBES; i++) {
		slot = bpf_get_prandom_u32() & conn_slot_mask;
		c = bpf_map_lookup_elem(&bypass_conns, &slot);
		if (!c)
			return NULL;
		ref = c->ref;
		if ((__u32)ref || __sync_val_compare_and_swap(&c->ref, ref, ref + 1) != ref)
			continue;
		/* ours alone: nobody can join before we publish it */
		c->flags = 0;
		c->side[0].flags = c->side[1].flags = 0;
		c->side[0].stack_ms = c->side[1].stack_ms = 0;
		st->slot = slot;
		st->gen = ref >> 32;
		return c;
	}
	return NULL;
}

/* A map update refused for want of room (the kernel's -E2BIG for a full
 * hash or sockhash, -ENOMEM when an element cannot be allocated): the
 * capacity chosen at attach is reached, not a race or a refused socket. */
static __always_inline bool table_full(long err)
{
	return err == -ACCEL_E2BIG || err == -ACCEL_ENOMEM;
}

/* The slot the first end published, if it is still that connection's. */
static __always_inline struct accel_bypass_conn *slot_join(struct accel_bypass_sk *st,
							   const struct accel_bypass_pending *p)
{
	__u32 slot = p->slot;
	struct accel_bypass_conn *c = bpf_map_lookup_elem(&bypass_conns, &slot);
	__u64 ref;

	for (int i = 0; c && i < 4; i++) {
		ref = c->ref;
		if ((ref >> 32) != p->gen || !(__u32)ref)
			return NULL;	/* the first end has closed */
		if (__sync_val_compare_and_swap(&c->ref, ref, ref + 1) == ref) {
			st->slot = slot;
			st->gen = p->gen;
			return c;
		}
	}
	return NULL;
}

/* The canonical key: side 0's. */
static __always_inline struct accel_bypass_key *conn_key(struct accel_bypass_sk *st)
{
	return st->side ? &st->peer : &st->key;
}

/* One holder less, next generation.  A fetching atomic, so that it is
 * ordered after this end's last flag update on every JIT (arm64 turns a
 * non-fetching one into a store without release semantics). */
static __always_inline void slot_release(struct accel_bypass_conn *c)
{
	__u64 old = __sync_fetch_and_add(&c->ref, (1ULL << 32) - 1);

	/* clang emits a non-fetching add when the result goes unused */
	asm volatile("" : : "r"(old));
}

/*
 * Take or join the connection's slot: NULL and *why set when this socket
 * stays out.  The active end comes first (its ESTABLISHED callback runs
 * before it sends the handshake's last ACK) and publishes; the passive end
 * joins.  A passive end that finds nothing to join has a peer that is not
 * ours (another cgroup, policy, no slot): nothing can ever be redirected
 * to or from it, so it stays out of the sockhash and off tcp_bpf's receive
 * path.  (TCP Fast Open and simultaneous open, where a passive end can
 * come first, stay on the stack too.)
 */
static __always_inline struct accel_bypass_conn *conn_enter(struct accel_bypass_sk *st, __u32 *why)
{
	struct accel_bypass_pending pend, *p;
	struct accel_bypass_conn *c;
	long err;

	p = bpf_map_lookup_elem(&bypass_pending, conn_key(st));
	if (p) {
		c = slot_join(st, p);
		/* joined or stale (its publisher has closed): done with it */
		bpf_map_delete_elem(&bypass_pending, conn_key(st));
		if (!c) {
			*why = ACCEL_BYPASS_FB_PEER_MISSING;
			return NULL;
		}
		st->published = 0;
	} else {
		if (!st->active) {
			*why = ACCEL_BYPASS_FB_PEER_MISSING;
			return NULL;
		}
		c = slot_take(st);
		if (!c) {
			*why = ACCEL_BYPASS_FB_NO_SLOT;
			return NULL;
		}
		pend.slot = st->slot;
		pend.gen = st->gen;
		err = bpf_map_update_elem(&bypass_pending, conn_key(st), &pend, BPF_NOEXIST);
		if (err) {
			/* full, or published by the peer at the same instant */
			slot_release(c);
			*why = table_full(err) ? ACCEL_BYPASS_FB_NO_SLOT : ACCEL_BYPASS_FB_REDIRECT_ERROR;
			return NULL;
		}
		st->published = 1;
	}
	st->joined = 1;
	accel_count(&bypass_counters, ACCEL_BYPASS_SLOT_TAKEN, 1);
	return c;
}

/* This end is done with the slot: closed, or its insertion failed. */
static __always_inline void conn_leave(struct accel_bypass_sk *st, struct accel_bypass_conn *c)
{
	struct accel_bypass_pending *p;

	if (!st->joined)
		return;
	st->joined = 0;
	__sync_fetch_and_or(&c->side[st->side & 1].flags, BSK_GONE);	/* before the release */
	if (st->published) {
		/* nobody joined: withdraw it (if it is still ours) */
		p = bpf_map_lookup_elem(&bypass_pending, conn_key(st));
		if (p && p->slot == st->slot && p->gen == st->gen)
			bpf_map_delete_elem(&bypass_pending, conn_key(st));
		st->published = 0;
	}
	slot_release(c);
	accel_count(&bypass_counters, ACCEL_BYPASS_SLOT_RELEASED, 1);
}

/* The slot of a socket that holds one. */
static __always_inline struct accel_bypass_conn *conn_of(struct accel_bypass_sk *st)
{
	__u32 slot = st->slot;

	return st->joined ? bpf_map_lookup_elem(&bypass_conns, &slot) : NULL;
}

static __always_inline __u32 now_ms(void)
{
	return bpf_ktime_get_ns() / 1000000;
}

/* Where this end's socket is, for its peer's look at its reader
 * (reader_busy()); published before BSK_PRESENT, which orders it. */
static __always_inline void sk_addr_publish(const struct accel_bypass_sk *st, struct tcp_sock *tp)
{
	__u32 i = st->slot * ACCEL_BYPASS_SK_ADDRS_PER_SLOT + (st->side & 1);
	__u64 *a = bpf_map_lookup_elem(&bypass_sk_addrs, &i);

	if (a)
		*a = (__u64)(unsigned long)tp;
}

static __always_inline void bypass_established(struct bpf_sock_ops *skops, bool active)
{
	struct accel_bypass_config *cfg = bypass_cfg();
	struct accel_bypass_key key;
	struct bpf_sock *bsk = skops->sk;
	struct accel_bypass_conn *c;
	struct accel_bypass_sk *st;
	struct tcp_sock *tp;
	__u32 cb = BPF_SOCK_OPS_STATE_CB_FLAG | BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG;
	__u32 cb0 = skops->bpf_sock_ops_cb_flags, why;
	__u16 server_port;
	bool event;
	long err;
	int side;

	if (!cfg || !bypass_active(cfg) || !bsk)
		return;
	tp = bpf_skc_to_tcp_sock(bsk);
	if (!tp || bypass_key_of(tp, &key))
		return;
	if (!accel_netns_wanted(key.netns_cookie) || !bypass_is_local(&key))
		return;
	side = bypass_side_of(&key);
	if (side < 0)
		return;		/* connected to itself */
	if (port_listed(ACCEL_BYPASS_PORTS_EXCLUDE, key.local_port) ||
	    port_listed(ACCEL_BYPASS_PORTS_EXCLUDE, key.remote_port) ||
	    ((cfg->flags & ACCEL_BYPASS_F_PORTS_ONLY) &&
	     !port_listed(ACCEL_BYPASS_PORTS_INCLUDE, key.local_port) &&
	     !port_listed(ACCEL_BYPASS_PORTS_INCLUDE, key.remote_port))) {
		accel_count(&bypass_counters, ACCEL_BYPASS_FB_POLICY, 1);
		return;
	}
	if (cfg->flags & ACCEL_BYPASS_F_BLOCKING_UNSAFE) {
		/*
		 * Any socket in a sockhash reads through tcp_bpf_recvmsg(),
		 * which on this kernel answers a blocking reader -EAGAIN
		 * after a wakeup that brought no psock data.  An accepted
		 * socket has no file yet here, so whether it will be read
		 * blocking is unknowable: only servers the operator listed
		 * as event-driven (--event-ports) take part, and a client
		 * only when it is nonblocking and talks to such a server.
		 * A client that turns blocking later leaves the sockhash in
		 * its first send, before it can read (bypass_hdr_opt_len).
		 */
		server_port = active ? key.remote_port : key.local_port;
		if (port_listed(ACCEL_BYPASS_PORTS_EVENT, server_port))
			event = !(!active && event_port_blocking(&key));
		else
			event = learning(cfg) && learned_event(skops, tp, &key, active);
		if (!event || (active && sock_nonblocking(tp) != 1)) {
			accel_count(&bypass_counters, ACCEL_BYPASS_FB_KERNEL_UNSAFE, 1);
			return;
		}
	}
	if (bpf_sk_storage_get(&bypass_sk_state, bsk, NULL, 0)) {
		/* connected before (connect(AF_UNSPEC), then connect()): it
		 * may still be in the sockhash under its old key, which only
		 * a lookup returning the socket could tell apart from another
		 * socket's entry: this connection stays on the stack */
		accel_count(&bypass_counters, ACCEL_BYPASS_FB_REDIRECT_ERROR, 1);
		return;
	}
	st = bpf_sk_storage_get(&bypass_sk_state, bsk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		return;
	st->key = key;
	bypass_peer_key(&key, &st->peer);
	st->side = side;
	st->active = active;
	st->joined = 0;
	st->published = 0;
	st->in_hash = 0;
	st->tx = TX_UNDECIDED;
	st->small_run = 0;
	c = conn_enter(st, &why);
	if (!c)
		goto fail;
	/* the state callback is what releases the slot: no callbacks, no entry */
	why = ACCEL_BYPASS_FB_REDIRECT_ERROR;
	if (bpf_sock_ops_cb_flags_set(skops, cb0 | cb)) {
		conn_leave(st, c);
		goto fail;
	}
	err = bpf_sock_hash_update(skops, &bypass_socks, &key, BPF_NOEXIST);
	if (err) {
		/* full, or the socket is already in another sockhash with
		 * its own sk_msg program (-EBUSY): leave it alone */
		if (table_full(err))
			why = ACCEL_BYPASS_FB_NO_SLOT;
		conn_leave(st, c);
		bpf_sock_ops_cb_flags_set(skops, cb0);
		goto fail;
	}
	st->in_hash = 1;
	sk_addr_publish(st, tp);
	/* a redirect target from now on */
	__sync_fetch_and_or(&c->side[side & 1].flags, BSK_PRESENT);
	accel_count(&bypass_counters, ACCEL_BYPASS_SOCKS, 1);
	return;
fail:
	bpf_sk_storage_delete(&bypass_sk_state, bsk);
	accel_count(&bypass_counters, why, 1);
}

static __always_inline void bypass_state_change(struct bpf_sock_ops *skops)
{
	/* each context field read once, at a constant offset (the verifier
	 * refuses a computed pointer into the context) */
	__u32 from = skops->args[0], to = skops->args[1];
	struct bpf_sock *sk = skops->sk;
	struct accel_bypass_conn *c;
	struct accel_bypass_sk *st;
	__u32 old;

	if (!sk)
		return;
	if (to == BPF_TCP_CLOSE) {
		struct accel_bypass_obs *o = bpf_sk_storage_get(&bypass_obs, sk, NULL, 0);
		struct tcp_sock *tp = o ? bpf_skc_to_tcp_sock(sk) : NULL;

		/* concluded here unless its reader has bytes left, or a read
		 * holds the socket now (this state change comes from the
		 * backlog inside it, copied_seq moved and its tracepoint is
		 * still to come): then the read that finishes concludes.  An
		 * owner that is close() itself (the peer's FIN queued in the
		 * backlog while tcp_close() held the lock; SOCK_DEAD is set
		 * before it runs the backlog) reads nothing more: now. */
		if (tp && (obs_left(tp) ||
			   (tp->inet_conn.icsk_inet.sk.sk_lock.owned &&
			    !(tp->inet_conn.icsk_inet.sk.__sk_common.skc_flags & (1UL << SOCK_DEAD))))) {
			o->flags |= OBS_CLOSED;
		} else if (tp) {
			obs_conclude(o, tp);
			bpf_sk_storage_delete(&bypass_obs, sk);
		}
	}
	st = bpf_sk_storage_get(&bypass_sk_state, sk, NULL, 0);
	if (!st)
		return;
	c = conn_of(st);
	if (!c)
		return;
	if (from == BPF_TCP_ESTABLISHED) {
		old = __sync_fetch_and_or(&c->flags, BCONN_CLOSED);
		if (!(old & BCONN_CLOSED) && (old & BCONN_ACCEL))
			accel_count(&bypass_counters, ACCEL_BYPASS_CONN_CLOSED, 1);
	}
	/* Its hold on the slot ends here.  The socket leaves the sockhash
	 * when its file is closed (sock_map_close()) or when it is
	 * destroyed, not at TCP_CLOSE: after an RST, or a disconnect, with
	 * the file still open it is still there, and may even send (sk_msg)
	 * or transmit (an RST from close()).  conn_of() no longer finds the
	 * slot, which may soon be another connection's: such a send takes
	 * the stack, and its peer stops redirecting to it (BSK_GONE). */
	/* We sent our FIN (shutdown(SHUT_WR), close()): tcp_bpf_sendmsg()
	 * does not look at SEND_SHUTDOWN, so a later send() would still be
	 * delivered; on the stack it fails with EPIPE, as without us.  Only
	 * our own verdict changes: the peer must not take it for a demotion
	 * (it may still answer over the bypass, and we still read). */
	if (to == BPF_TCP_FIN_WAIT1 || to == BPF_TCP_LAST_ACK)
		st->tx = TX_STACK;
	if (to == BPF_TCP_CLOSE) {
		conn_leave(st, c);
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags &
					  ~BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
	}
}

/*
 * Runs for each segment this socket transmits (WRITE_HDR_OPT_CB_FLAG), that
 * is only while something of the connection goes over the stack.  A socket
 * whose own direction is on the stack (fallback, demotion, `bypass off`,
 * detach) leaves the sockhash here, so that it sends and reads through
 * plain tcp_sendmsg()/tcp_recvmsg() again at full speed: but only once
 * nothing can be lost, because removal purges its psock ingress queue:
 *  - the peer is not redirecting to it: EVICTING is raised first, and a
 *    peer deciding to redirect raises TX_REDIR on itself before it looks
 *    for EVICTING (both atomic: one of the two sees the other);
 *  - its psock ingress queue is empty (checked after that handshake).
 * A blocking client on an affected kernel (hiredis and friends connect
 * nonblocking, then switch) takes this path inside its first send, before
 * it can read.  Otherwise: retried on the next segment.
 */
static __always_inline void bypass_hdr_opt_len(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct accel_bypass_side *me, *peer;
	struct accel_bypass_conn *c;
	struct accel_bypass_sk *st;
	struct tcp_sock *tp;
	__u32 pflags, queued;

	if (!sk)
		return;
	st = bpf_sk_storage_get(&bypass_sk_state, sk, NULL, 0);
	if (!st)
		return;		/* not ours: leave its flags alone */
	c = conn_of(st);
	if (!c)
		goto done;
	me = &c->side[st->side & 1];
	peer = &c->side[(st->side & 1) ^ 1];
	if (me->flags & BSK_EVICTED)
		goto done;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return;
	/* Leave when our own direction is on the stack, or when ours is not
	 * redirecting and the peer can no longer feed us: its direction is
	 * on the stack for good (demoted or decided; or bytes arrived over
	 * the stack, from a peer that is not ours), or it has closed.  The
	 * receiver would otherwise read through tcp_bpf_recvmsg() for
	 * nothing. */
	pflags = peer->flags;
	if (!(me->flags & BSK_TX_STACK) &&
	    ((me->flags & BSK_TX_REDIR) ||
	     (!(pflags & (BSK_TX_STACK | BSK_GONE)) && !tp->bytes_received)))
		return;
	__sync_fetch_and_or(&me->flags, BSK_EVICTING);
	pflags = __sync_fetch_and_or(&peer->flags, 0);
	if ((pflags & BSK_TX_REDIR) && !(pflags & (BSK_TX_STACK | BSK_GONE)))
		return;		/* still fed: try again later */
	if ((pflags & BSK_TX_REDIR) && !(pflags & BSK_GONE) &&
	    now_ms() - peer->stack_ms < BYPASS_STACK_GRACE_MS)
		return;		/* a redirect decided before may be on its way */
	if (psock_ingress(&tp->inet_conn.icsk_inet.sk, &queued))
		return;		/* unread bypassed bytes: try again later */
	if (bpf_map_delete_elem(&bypass_socks, &st->key))
		return;
	st->in_hash = 0;
	__sync_fetch_and_or(&me->flags, BSK_EVICTED);
	accel_count(&bypass_counters, ACCEL_BYPASS_EVICTED, 1);
done:
	/* only our flag: other sockops programs may use the others */
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags &
				  ~BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
}

/*
 * A socket connecting again after a disconnect (connect(AF_UNSPEC)):
 * tcp_disconnect() dropped its receive queue, but the kernel left it in
 * the sockhash with whatever the old peer had queued on its psock, which
 * the new connection would read first.  Taking it out drops those too.
 * in_hash says the entry under st->key is still this socket's (nobody
 * else can insert that key while it is there).
 */
static __always_inline void bypass_connect(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct accel_bypass_sk *st;

	if (!sk)
		return;
	st = bpf_sk_storage_get(&bypass_sk_state, sk, NULL, 0);
	if (st && st->in_hash && !bpf_map_delete_elem(&bypass_socks, &st->key))
		st->in_hash = 0;
}

SEC("sockops")
int bypass_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		bypass_connect(skops);
		break;
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
		bypass_listen(skops);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		bypass_established(skops, true);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		bypass_established(skops, false);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		bypass_state_change(skops);
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		bypass_hdr_opt_len(skops);
		break;
	}
	return 1;
}

/* This end's direction goes to the stack, for good (order-safe). */
static __always_inline int fall_back(struct accel_bypass_sk *st, struct accel_bypass_side *me,
				     __u32 reason)
{
	st->tx = TX_STACK;
	me->stack_ms = now_ms();	/* before the flag: bypass_hdr_opt_len() */
	__sync_fetch_and_or(&me->flags, BSK_TX_STACK);
	accel_count(&bypass_counters, reason, 1);
	return SK_PASS;
}

/* An accepted socket of an event-driven port is blocking at its first
 * send: an operator-listed port is marked, a learned one learns again
 * (its server has changed since it earned the verdict). */
static __always_inline void server_caught_blocking(const struct accel_bypass_config *cfg,
						   const struct accel_bypass_key *k)
{
	struct accel_bypass_learned *v;
	struct accel_bypass_port_key pk;

	if (port_listed(ACCEL_BYPASS_PORTS_EVENT, k->local_port) || !learning(cfg)) {
		event_port_mark_blocking(k);
		return;
	}
	port_key_of(k, &pk);
	v = bpf_map_lookup_elem(&bypass_learned, &pk);
	if (v && v->verdict == ACCEL_BYPASS_V_EVENT)
		learned_reopen(v, 0);
}

/* The first verdict of a direction: 0 to redirect, else a fallback reason. */
static __always_inline __u32 bypass_decide(struct sk_msg_md *msg,
					   const struct accel_bypass_config *cfg,
					   struct accel_bypass_sk *st, struct accel_bypass_conn *c,
					   struct accel_bypass_side *me,
					   struct accel_bypass_side *peer)
{
	struct bpf_sock *sk = msg->sk;
	struct tcp_sock *tp;
	__u32 old;

	if (!sk)
		return ACCEL_BYPASS_FB_REDIRECT_ERROR;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return ACCEL_BYPASS_FB_REDIRECT_ERROR;
	if (tp->bytes_sent)	/* e.g. TCP Fast Open data in the SYN */
		return ACCEL_BYPASS_FB_STACK_STARTED;
	if (!(peer->flags & BSK_PRESENT))
		return ACCEL_BYPASS_FB_PEER_MISSING;
	if (cfg->flags & ACCEL_BYPASS_F_BLOCKING_UNSAFE) {
		if (sock_nonblocking(tp) != 1) {
			/* An accepted socket is only here because its port
			 * is in --event-ports: the server is not what the
			 * operator said.  Its peer demotes at its next send
			 * (bypass_sk_msg), this socket leaves the sockhash
			 * once drained, and the port's next connections
			 * stay out (bypass_established). */
			__sync_fetch_and_or(&me->flags, BSK_BLOCKING);
			if (!st->active)
				server_caught_blocking(cfg, &st->key);
			return ACCEL_BYPASS_FB_KERNEL_UNSAFE;
		}
		/* as far as we know: set by its own first send, or at connect */
		if (peer->flags & BSK_BLOCKING)
			return ACCEL_BYPASS_FB_KERNEL_UNSAFE;
	}
	/* the other half of the handshake in bypass_hdr_opt_len() */
	__sync_fetch_and_or(&me->flags, BSK_TX_REDIR);
	old = __sync_fetch_and_or(&peer->flags, 0);
	if (old & (BSK_EVICTING | BSK_EVICTED | BSK_GONE))
		return ACCEL_BYPASS_FB_PEER_MISSING;
	/* the first small run starts here */
	if (old & BSK_SENT)
		__sync_fetch_and_and(&peer->flags, ~BSK_SENT);
	old = __sync_fetch_and_or(&c->flags, BCONN_ACCEL);
	if (!(old & BCONN_ACCEL)) {
		accel_count(&bypass_counters, st->key.family == ACCEL_FAM_INET6 ?
			    ACCEL_BYPASS_CONN_INET6 : ACCEL_BYPASS_CONN_INET, 1);
		if (old & BCONN_CLOSED)
			accel_count(&bypass_counters, ACCEL_BYPASS_CONN_CLOSED, 1);
	}
	return 0;
}

/*
 * Is the peer's reader holding its socket now?  tcp_bpf's redirect to
 * ingress takes the receiving socket's lock (bpf_tcp_ingress(); TCP's
 * receive path never sleeps on it: softirq defers to the socket's
 * backlog), and tcp_bpf_recvmsg() holds it while it copies.  A sender
 * that finds it held sleeps in lock_sock() until the reader is done, and
 * the reader, having drained the queue, sleeps in poll until that sender
 * wakes it again: a cross-CPU wakeup or two per message where TCP
 * pipelines (docs/bypass.md "Across CPUs").  Held at the sender's verdict
 * means the reader runs now, so on another CPU (on one CPU it would have
 * to be preempted inside recvmsg); it is looked at a few hundred ns
 * before the redirect takes the lock.  The address is the peer's own
 * (sk_addr_publish()), read as a hint only: the peer is present and not
 * gone, so it is this connection's live socket.
 */
static __always_inline bool reader_busy(const struct accel_bypass_sk *st, const struct accel_bypass_side *peer)
{
	__u32 i = st->slot * ACCEL_BYPASS_SK_ADDRS_PER_SLOT + ((st->side & 1) ^ 1);
	__u64 *a = bpf_map_lookup_elem(&bypass_sk_addrs, &i);
	struct sock *psk;

	if (!a || !*a || (peer->flags & BSK_GONE))
		return false;
	psk = (struct sock *)(unsigned long)*a;
	return BPF_CORE_READ(psk, sk_lock.owned) != 0;
}

/*
 * One-way streams that lose on the bypass go back to the stack:
 *  - small sends (below small_msg_bytes): no segment coalescing, one
 *    wakeup per message;
 *  - sends below busy_msg_bytes whose reader, on another CPU, holds its
 *    socket at one send in 2^ACCEL_BYPASS_BUSY_SHIFT or more, for
 *    ACCEL_BYPASS_BUSY_RUNS runs in a row (reader_busy()).  Larger sends
 *    win across CPUs even so; a reader that lags behind (a busy host)
 *    leaves the queue full and its socket free, and the bypass wins there.
 * A run is small_msg_run sends in a row below the larger of the two
 * limits (a larger send ends it, and the busy streak).  At its end the
 * sender looks whether the peer sent anything since the run began (its
 * SENT flag, set by its sends, cleared here): yes - request/response,
 * which gains from the bypass: a new run; no - a one-way stream, back to
 * the stack if it loses.  The peer's flag is looked at once per run and
 * written once per run at most, not per message; its socket only for
 * sends between the two limits.  true: demote, for *cause.
 */
static __always_inline bool bypass_losing_stream(struct accel_bypass_sk *st, __u32 size,
						 const struct accel_bypass_config *cfg,
						 struct accel_bypass_side *peer, __u32 *cause)
{
	__u32 limit = cfg->busy_msg_bytes > cfg->small_msg_bytes ? cfg->busy_msg_bytes : cfg->small_msg_bytes;
	__u32 run = st->small_run, sends;

	if (!cfg->small_msg_run || size >= limit) {
		st->small_run = 0;
		return false;
	}
	run += RUN_ONE_SEND;
	if (size < cfg->small_msg_bytes)
		run += RUN_ONE_SMALL;
	else if (reader_busy(st, peer))
		run += RUN_ONE_BUSY;
	sends = RUN_SENDS(run);
	if (sends < cfg->small_msg_run && sends < ACCEL_BYPASS_RUN_MAX) {
		st->small_run = run;
		return false;
	}
	/* the run ends: a new one begins, with the streak alone */
	st->small_run = 0;
	if (__sync_fetch_and_and(&peer->flags, ~BSK_SENT) & BSK_SENT)
		return false;	/* answered: request/response */
	if (RUN_SMALL(run) == sends) {
		*cause = ACCEL_BYPASS_DEMOTED_SMALL;
		return true;
	}
	if (RUN_BUSY(run) < (sends >> ACCEL_BYPASS_BUSY_SHIFT))
		return false;	/* the reader was not in the way */
	if (RUN_STREAK(run) + 1 < ACCEL_BYPASS_BUSY_RUNS) {
		st->small_run = (RUN_STREAK(run) + 1) * RUN_ONE_STREAK;
		return false;
	}
	*cause = ACCEL_BYPASS_DEMOTED_BUSY;
	return true;
}

SEC("sk_msg")
int bypass_sk_msg(struct sk_msg_md *msg)
{
	struct accel_bypass_config *cfg = bypass_cfg();
	struct bpf_sock *sk = msg->sk;
	struct accel_bypass_side *me, *peer;
	struct accel_bypass_conn *c;
	struct accel_bypass_sk *st;
	__u32 size = msg->size, why, cause;

	if (!sk || !cfg)
		return SK_PASS;
	st = bpf_sk_storage_get(&bypass_sk_state, sk, NULL, 0);
	if (!st)
		return SK_PASS;
	c = conn_of(st);
	if (!c)
		return SK_PASS;	/* not reached: a socket in the sockhash holds its slot */
	me = &c->side[st->side & 1];
	peer = &c->side[(st->side & 1) ^ 1];
	/* for the peer's demotion check; a write only when it cleared it */
	if (!(me->flags & BSK_SENT))
		__sync_fetch_and_or(&me->flags, BSK_SENT);
	if (st->tx == TX_STACK)
		return SK_PASS;
	if (!bypass_active(cfg))
		return fall_back(st, me, ACCEL_BYPASS_FB_DISABLED);
	if (st->tx == TX_UNDECIDED) {
		why = bypass_decide(msg, cfg, st, c, me, peer);
		if (why)
			return fall_back(st, me, why);
		st->tx = TX_REDIRECT;
	} else if (peer->flags & BSK_GONE) {
		/* reset, or disconnected, with its file still open: it may
		 * still be in the sockhash, but plain TCP would not deliver */
		return fall_back(st, me, ACCEL_BYPASS_FB_PEER_MISSING);
	} else if ((cfg->flags & ACCEL_BYPASS_F_BLOCKING_UNSAFE) &&
		   (peer->flags & BSK_BLOCKING)) {
		return fall_back(st, me, ACCEL_BYPASS_FB_KERNEL_UNSAFE);
	} else if (bypass_losing_stream(st, size, cfg, peer, &cause)) {
		accel_count(&bypass_demoted, cause, 1);
		return fall_back(st, me, ACCEL_BYPASS_FB_DEMOTED);
	}
	/* a peer whose file is closed is out of the sockhash: the redirect
	 * fails and the direction falls back */
	if (bpf_msg_redirect_hash(msg, &bypass_socks, &st->peer, BPF_F_INGRESS) != SK_PASS)
		return fall_back(st, me, ACCEL_BYPASS_FB_REDIRECT_ERROR);
	accel_count(&bypass_counters, ACCEL_BYPASS_MSGS, 1);
	accel_count(&bypass_counters, ACCEL_BYPASS_BYTES, size);
	return SK_PASS;
}
