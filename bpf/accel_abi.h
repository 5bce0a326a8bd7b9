/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * accel_abi.h - the contract between accelctl's BPF programs and userspace.
 *
 * Everything a map holds or a pin is called is defined here, once.  Fixed
 * width types only, explicit padding, and a _Static_assert on every struct
 * that crosses the boundary, so that a BPF object built on one host and a
 * controller built on another agree byte for byte.  No vmlinux.h here: this
 * header is included by both sides.
 *
 * Each feature owns one section below; keep additions inside your section.
 */
#ifndef ACCEL_ABI_H
#define ACCEL_ABI_H

#ifndef __VMLINUX_H__	/* BPF side: vmlinux.h already has the __uN types */
#include <linux/types.h>
#endif

/* Bump when a pinned map's layout or meaning changes.  attach records it
 * in the instance record (abi=); an accelctl of another version refuses
 * attach, detach and stats on those pins (exit 2) until they are detached
 * by the accelctl that made them, or with detach --force.
 *   1  first release
 *   2  netacct: counters and configurations in arrays indexed by the
 *      interface's slot (were hashes keyed by ifindex (and direction))
 *   3  bypass: per-connection shared state in slots (bypass_conns,
 *      bypass_pending; was bypass_peers, one entry per socket); counters
 *      SLOT_TAKEN/SLOT_RELEASED appended
 *   4  bypass: learning (bypass_learned, bypass_config.learn_conns and
 *      learn_window_s, ACCEL_BYPASS_F_LEARN, counters LEARN_* appended);
 *      handover (bypass_config.abi and handover_deadline_ns,
 *      ACCEL_BYPASS_F_HANDOVER; bypass_sk_state and bypass_obs pinned)
 *      Compatible additions since (no bump: an older attach's pins are
 *      adopted and detached as they are, and the reverse): bypass_sk_addrs,
 *      bypass_demoted, bypass_config.busy_msg_bytes (was padding). */
#define ACCEL_ABI_VERSION 4u

/* Pinned objects live under <pin-root>/<feature>/; maps keep their BTF names
 * (LIBBPF_PIN_BY_NAME), links are pinned as link_<program>. */
#define ACCEL_PIN_LINK_PREFIX "link_"

/* Address families as small indices, for counter arrays. */
enum accel_family {
	ACCEL_FAM_INET = 0,
	ACCEL_FAM_INET6,
	ACCEL_FAM_MAX,
};

/* ------------------------------------------------------------------ */
/* tcpstate: TCP lifecycle (TIME_WAIT, queues, state transitions)       */
/* ------------------------------------------------------------------ */

/* TCP states as the kernel numbers them (include/net/tcp_states.h). */
#define ACCEL_TCP_NSTATES 13

/* tcp_state_transitions: per-CPU array, index family * NSTATES + new state */
#define ACCEL_TCPSTATE_TRANS_SLOTS (ACCEL_FAM_MAX * ACCEL_TCP_NSTATES)

/* tcp_counters: per-CPU array of __u64, host-wide event counters. */
enum accel_tcp_ctr {
	ACCEL_TCP_TW_ENTRIES = 0,	/* TIME_WAIT mini-sockets created (TCPTimeWaited) */
	ACCEL_TCP_TW_KILLED,		/* ... with a short (<= 4 s) timeout (TCPTimeWaitKilled) */
	ACCEL_TCP_RST_SENT,		/* tcp_send_reset, every reason */
	ACCEL_TCP_LISTEN_UNMATCHED,	/* listen drops whose listener could not be recorded (map full) */
	ACCEL_TCP_CTR_MAX,
};

/* tcp_rst_reasons: per-CPU array, index enum sk_rst_reason (clamped). */
#define ACCEL_TCP_RST_REASONS 64

/*
 * tcp_listeners: hash, per-listener event counters.  The key is the local
 * address the event names: the listener's own bound address for events
 * that carry the listening socket (ACK-path overflow, drops), the SYN's
 * destination for events that only carry the packet (SYN path, SYN-ACK
 * retransmit).  accelctl folds destination keys onto the listener that
 * owns them (exact address, then the wildcard) when it reads the map.
 */
struct accel_tcp_listener_key {
	__u64 netns_cookie;
	__u8 addr[16];		/* IPv4 in the first 4 bytes, rest zero */
	__u16 port;		/* host byte order */
	__u8 family;		/* enum accel_family */
	__u8 pad[5];
};
_Static_assert(sizeof(struct accel_tcp_listener_key) == 32, "listener key size");

enum accel_tcp_lq_ctr {
	ACCEL_LQ_SYN_RECEIVED = 0,	/* SYNs handed to the listener (conn_request) */
	ACCEL_LQ_SYN_QUEUE_FULL,	/* SYN dropped: request queue full (TCPReqQFullDrop) */
	ACCEL_LQ_SYN_DROP_OTHER,	/* SYN dropped otherwise: tcp_max_syn_backlog rule, no memory, LSM */
	ACCEL_LQ_SYNCOOKIES,		/* SYN answered with a cookie (TCPReqQFullDoCookies) */
	ACCEL_LQ_ACCEPT_FULL_SYN,	/* SYN dropped: accept queue full (ListenOverflows) */
	ACCEL_LQ_ACCEPT_FULL_ACK,	/* handshake ACK dropped: accept queue full (ListenOverflows) */
	ACCEL_LQ_ACK_DROP_OTHER,	/* handshake ACK dropped otherwise (ListenDrops) */
	ACCEL_LQ_SYNACK_RETRANS,	/* tcp_retransmit_synack */
	ACCEL_LQ_MAX,
};

struct accel_tcp_listener_val {
	__u64 c[ACCEL_LQ_MAX];
};

#define ACCEL_TCP_LISTENERS_MAX 4096

/*
 * tcp_mib_snap: per-CPU hash, netns cookie -> the values this CPU's SNMP
 * counters had at the last listener / TIME_WAIT event accelctl attributed.
 * The kernel counts a listen drop on the CPU that processes the packet and
 * fires the event that follows (consume_skb, kfree_skb, timer_start) on
 * the same CPU with bottom halves disabled in between, so the growth since
 * the last event belongs to this event.
 */
enum accel_tcp_mib {
	ACCEL_MIB_LISTENDROPS = 0,
	ACCEL_MIB_LISTENOVERFLOWS,
	ACCEL_MIB_REQQFULLDROP,
	ACCEL_MIB_REQQFULLDOCOOKIES,
	ACCEL_MIB_TIMEWAITED,
	ACCEL_MIB_TIMEWAITKILLED,
	ACCEL_MIB_MAX,
};

struct accel_tcp_mib_snap {
	__u64 primed;		/* 0: not yet seen on this CPU */
	__u64 v[ACCEL_MIB_MAX];
};

#define ACCEL_TCP_NETNS_MAX 1024

/* Namespace cookies come from per-CPU batches (COOKIE_LOCAL_BATCH in
 * include/linux/cookie.h), so "younger than attach" needs one mark per
 * CPU: the cookie of a namespace created on that CPU at attach. */
#define ACCEL_TCP_COOKIE_MARKS 256
#define ACCEL_TCP_COOKIE_BATCH 4096

/*
 * iter/tcp records (bpf_seq_write), one per socket of the netns that
 * created the iterator: listeners with their queues, TIME_WAIT sockets and
 * connected sockets (for local port use per destination).
 */
enum accel_tcp_rec_kind {
	ACCEL_REC_LISTEN = 1,
	ACCEL_REC_TIMEWAIT,
	ACCEL_REC_CONN,
};

struct accel_tcp_iter_rec {
	__u8 kind;		/* enum accel_tcp_rec_kind */
	__u8 family;		/* enum accel_family */
	__u8 state;		/* TCP state (TIME_WAIT: the substate) */
	__u8 pad;
	__u16 lport;		/* host byte order */
	__u16 dport;
	__u8 laddr[16];
	__u8 daddr[16];
	__u32 accept_len;	/* listeners: sk_ack_backlog */
	__u32 accept_max;	/* sk_max_ack_backlog */
	__u32 syn_len;		/* request sockets (icsk_accept_queue.qlen) */
	__u32 pad2;
};
_Static_assert(sizeof(struct accel_tcp_iter_rec) == 56, "iter record size");

/* tcpstate: end of section */

/* ------------------------------------------------------------------ */
/* bypass: local IO bypass (sockops + sockhash + sk_msg)                */
/* ------------------------------------------------------------------ */

/*
 * Capacity, chosen at attach (--max-connections N; the BPF object carries
 * the default's sizes and attach resizes the maps before loading them):
 * the sockhash holds 2N sockets, two per accelerated connection; the
 * connection slots (bypass_conns) are twice as many, rounded up to a power
 * of two, since a slot is held from ESTABLISHED until both ends are
 * closed, also after they left the sockhash (demoted); bypass_pending
 * (handshakes in flight) has room for 2N.  A handover keeps the sizes of
 * the maps it hands over.  The default is sized from memory (user/bypass.c).
 */
#define ACCEL_BYPASS_CONNS_MIN		1024
#define ACCEL_BYPASS_CONNS_DEFAULT	131072
#define ACCEL_BYPASS_CONNS_MAX		(1u << 21)
#define ACCEL_BYPASS_MAX_SOCKS		(2 * ACCEL_BYPASS_CONNS_DEFAULT)
#define ACCEL_BYPASS_MAX_CONNS		(2 * ACCEL_BYPASS_MAX_SOCKS)

/*
 * Sockhash key: one socket, named by both endpoints as that socket sees
 * them, the wire family and its network namespace.  The peer's key is the
 * same with local and remote swapped, so two namespaces with identical
 * 4-tuples (each container has its own 127.0.0.1) can never meet.
 * Addresses are 16 bytes; IPv4 (and IPv4 carried by an AF_INET6 socket,
 * v4-mapped) is stored as ::ffff:a.b.c.d with family ACCEL_FAM_INET, so an
 * AF_INET6 dual-stack client and an AF_INET server find each other.
 */
struct accel_bypass_key {
	__u64 netns_cookie;
	__u8 local_ip[16];
	__u8 remote_ip[16];
	__u16 local_port;	/* host byte order */
	__u16 remote_port;	/* host byte order */
	__u8 family;		/* enum accel_family */
	__u8 pad[3];
};
_Static_assert(sizeof(struct accel_bypass_key) == 48, "accel_bypass_key is ABI");

/* bypass_config: one-entry array, the runtime knobs. */
struct accel_bypass_config {
	__u32 enabled;		/* 0: no new insertions and no new redirects;
				 * redirected directions fall back to the stack */
	__u32 flags;		/* ACCEL_BYPASS_F_* */
	__u32 small_msg_bytes;	/* a send below this many bytes is "small" */
	__u32 small_msg_run;	/* demote a direction after this many small sends
				 * in a row that the peer did not answer; 0: never */
	/* Appended (the BPF side does not read them): attach's kernel
	 * self-test, one ACCEL_BYPASS_KB_* bit per probe, for `status`. */
	__u32 kernel_affected;	/* probes that found the behaviour */
	__u32 kernel_unchecked;	/* probes that could not run */
	/* Learning (ACCEL_BYPASS_F_LEARN): a port is promoted after this
	 * many connections read nonblocking, each within learn_window_s of
	 * the one before (older evidence starts over). */
	__u32 learn_conns;
	__u32 learn_window_s;
	/* Handover (ACCEL_BYPASS_F_HANDOVER, `detach --handover`): the
	 * programs go on until the next attach adopts them, or, at
	 * handover_deadline_ns (bpf_ktime_get_boot_ns()), act as DRAINING
	 * by themselves.  abi: ACCEL_ABI_VERSION of the attach that wrote it. */
	__u32 abi;
	/* Appended in ABI 4, in what was padding (0, what an older attach
	 * left there: off).  A one-way stream of sends below this many
	 * bytes whose reader is found holding its socket at 1 send in
	 * 2^ACCEL_BYPASS_BUSY_SHIFT or more, ACCEL_BYPASS_BUSY_RUNS runs in
	 * a row, goes back to the stack (docs/bypass.md "Across CPUs"). */
	__u32 busy_msg_bytes;
	__u64 handover_deadline_ns;
};
_Static_assert(sizeof(struct accel_bypass_config) == 48, "accel_bypass_config is ABI");

/* Restricted mode: attach's kernel self-test found a sockmap behaviour
 * that differs from plain TCP (kernel_affected != 0), or could not tell
 * (kernel_unchecked != 0).  Only nonblocking sockets, and accepted sockets
 * of --event-ports, may enter the sockhash.  (Named after the first
 * behaviour found, tcp_bpf_recvmsg() failing blocking readers with
 * -EAGAIN; the value is ABI.) */
#define ACCEL_BYPASS_F_BLOCKING_UNSAFE	(1u << 0)
/* --ports was given: only connections with an end on those ports. */
#define ACCEL_BYPASS_F_PORTS_ONLY	(1u << 1)
/* detach is in progress: like enabled == 0, and status shows draining. */
#define ACCEL_BYPASS_F_DRAINING		(1u << 2)
/* Restricted mode learns event-driven servers (bypass_learned): ports not
 * in --event-ports are observed and promoted by their servers' reads. */
#define ACCEL_BYPASS_F_LEARN		(1u << 3)
/* Handed over to the next attach (see handover_deadline_ns). */
#define ACCEL_BYPASS_F_HANDOVER		(1u << 4)

/* Kernel behaviours attach's self-test probes (user/bypass_selftest.c,
 * docs/bypass.md), bits of kernel_affected / kernel_unchecked. */
enum accel_bypass_kernel_behaviour {
	ACCEL_BYPASS_KB_BLOCKING_EAGAIN = 0,	/* blocking recv() gets -EAGAIN */
	ACCEL_BYPASS_KB_CLOSE_UNREAD_FIN,	/* close with unread bypassed bytes: FIN, not RST */
	ACCEL_BYPASS_KB_SPLICE_MISSES,		/* splice() from a socket misses bypassed bytes */
	ACCEL_BYPASS_KB_COUNT,
};

/* bpf/bypass_probe.bpf.c: keys of its scratch sockhash. */
#define ACCEL_BYPASS_PROBE_RX		0	/* the receiving end: redirect target */
#define ACCEL_BYPASS_PROBE_TX		1	/* the sending end */

#define ACCEL_BYPASS_SMALL_MSG_BYTES	8192	/* defaults, see docs/bypass.md */
#define ACCEL_BYPASS_SMALL_MSG_RUN	64	/* at most ACCEL_BYPASS_RUN_MAX */
#define ACCEL_BYPASS_BUSY_MSG_BYTES	65536
#define ACCEL_BYPASS_BUSY_SHIFT		3	/* 1 send in 8 of a run ... */
#define ACCEL_BYPASS_BUSY_RUNS		2	/* ... in this many runs in a row (<= 3) */
#define ACCEL_BYPASS_RUN_MAX		1023	/* the run's counters are 10 bits */
_Static_assert(ACCEL_BYPASS_SMALL_MSG_RUN <= ACCEL_BYPASS_RUN_MAX, "run counters are 10 bits");
_Static_assert(ACCEL_BYPASS_BUSY_RUNS >= 1 && ACCEL_BYPASS_BUSY_RUNS <= 3, "the busy streak is 2 bits");

/*
 * bypass_sk_addrs: array of __u64, index slot * 2 + side: the kernel
 * address of the socket at that end of the connection in slot, written
 * when it enters the sockhash (before its BSK_PRESENT), 0 or stale
 * otherwise.  Its peer only reads it, with bpf_probe_read_kernel(), as a
 * hint (is its reader holding the socket now?) while the end is present
 * and not gone; nothing is ever written through it.  Added in ABI 4 (a
 * handover made before it has no such map: its connections go without
 * the hint).  Sized 2 x bypass_conns.
 */
#define ACCEL_BYPASS_SK_ADDRS_PER_SLOT	2

/* bypass_demoted: per-CPU array of __u64, why demoted directions
 * (ACCEL_BYPASS_FB_DEMOTED) were demoted.  Added in ABI 4. */
enum accel_bypass_demotion {
	ACCEL_BYPASS_DEMOTED_SMALL = 0,	/* a one-way stream of small sends */
	ACCEL_BYPASS_DEMOTED_BUSY,	/* ... of sends below busy_msg_bytes to a
					 * reader found holding its socket */
	ACCEL_BYPASS_DEMOTED_CAUSES,
};

/* bypass_ports: array of __u64 bitmap words, list * WORDS + port / 64. */
enum accel_bypass_port_list {
	ACCEL_BYPASS_PORTS_INCLUDE = 0,	/* --ports */
	ACCEL_BYPASS_PORTS_EXCLUDE,	/* --exclude-ports */
	ACCEL_BYPASS_PORTS_EVENT,	/* --event-ports: servers with nonblocking sockets */
	ACCEL_BYPASS_PORT_LISTS,
};
#define ACCEL_BYPASS_PORT_WORDS		(65536 / 64)
#define ACCEL_BYPASS_PORT_SLOTS		(ACCEL_BYPASS_PORT_LISTS * ACCEL_BYPASS_PORT_WORDS)

/* bypass_counters: per-CPU array of __u64, indexed by this enum. */
enum accel_bypass_counter {
	ACCEL_BYPASS_CONN_INET = 0,	/* connections accelerated, by wire family */
	ACCEL_BYPASS_CONN_INET6,
	ACCEL_BYPASS_CONN_CLOSED,	/* accelerated connections that closed */
	ACCEL_BYPASS_MSGS,		/* sk_msg verdicts redirected */
	ACCEL_BYPASS_BYTES,		/* bytes redirected */
	ACCEL_BYPASS_SOCKS,		/* sockets inserted into the sockhash */
	ACCEL_BYPASS_EVICTED,		/* sockets taken out again, once nothing could be lost */
	/* fallbacks: a direction (or, for policy, a socket) on the stack */
	ACCEL_BYPASS_FB_PEER_MISSING,	/* peer not in the sockhash (remote, other cgroup, race) */
	ACCEL_BYPASS_FB_POLICY,		/* --ports / --exclude-ports / not local */
	ACCEL_BYPASS_FB_DEMOTED,	/* losing one-way stream moved back to the stack (bypass_demoted) */
	ACCEL_BYPASS_FB_REDIRECT_ERROR,	/* bpf_msg_redirect_hash() failed */
	ACCEL_BYPASS_FB_KERNEL_UNSAFE,	/* blocking socket on an affected kernel */
	ACCEL_BYPASS_FB_DISABLED,	/* `bypass off` or detach draining */
	ACCEL_BYPASS_FB_STACK_STARTED,	/* bytes already sent on the stack (e.g. TFO) */
	ACCEL_BYPASS_FB_NO_SLOT,	/* table full: no free connection slot, or the
				 * sockhash or bypass_pending is full */
	ACCEL_BYPASS_FB_END,		/* fallback reasons are [FB_PEER_MISSING, FB_END) */
	ACCEL_BYPASS_SLOT_TAKEN = ACCEL_BYPASS_FB_END,	/* sockets that took or joined a connection slot */
	ACCEL_BYPASS_SLOT_RELEASED,	/* ... and released it (closed, or insertion failed) */
	/* learning (restricted mode, ACCEL_BYPASS_F_LEARN) */
	ACCEL_BYPASS_LEARN_KEPT,	/* accepted connections kept on the stack: port not event-driven */
	ACCEL_BYPASS_LEARN_OBSERVED,	/* ... of them observed (their port was learning) */
	ACCEL_BYPASS_LEARN_PROMOTED,	/* ports promoted to event-driven */
	ACCEL_BYPASS_LEARN_SETTLED_BLOCKING, /* ports found reading blocking */
	ACCEL_BYPASS_LEARN_SETTLED_SPLICE, /* ports found reading with splice() (not recvmsg) */
	ACCEL_BYPASS_LEARN_REOPENED,	/* verdicts dropped: new listener, or blocking at a first send */
	ACCEL_BYPASS_LEARN_FULL,	/* ports not learned: bypass_learned full */
	ACCEL_BYPASS_NCOUNTERS,
};

/*
 * bypass_blocking_ports: LRU hash, on affected kernels only.  An accepted
 * socket of an --event-ports port whose file is blocking at its first
 * send marks the port (in its namespace): the operator declared a server
 * event-driven that is not.  New connections to a marked port stay on the
 * stack (fallback kernel_unsafe); `bypass policy --event-ports` clears it.
 */
struct accel_bypass_port_key {
	__u64 netns_cookie;
	__u16 port;		/* host byte order */
	__u16 pad[3];
};
_Static_assert(sizeof(struct accel_bypass_port_key) == 16, "accel_bypass_port_key is ABI");

struct accel_bypass_port_seen {
	__u64 sockets;		/* blocking accepted sockets seen */
	__u64 last_boot_ns;	/* bpf_ktime_get_boot_ns() of the latest */
};
#define ACCEL_BYPASS_BLOCKING_PORTS	1024

/*
 * bypass_learned: hash of listening ports (in their namespace) and what
 * their servers' reads showed, restricted mode with learning only
 * (docs/bypass.md "Learning").  Written by sockops (new listener, new
 * connection) and the observation tracepoints; read by sockops at each
 * ESTABLISHED; saved to the state dir by detach, restored by attach.
 */
enum accel_bypass_verdict {
	ACCEL_BYPASS_V_LEARNING = 0,	/* unknown: connections stay on the stack, observed */
	ACCEL_BYPASS_V_EVENT,		/* event-driven: new connections are accelerated */
	ACCEL_BYPASS_V_BLOCKING,	/* a read without O_NONBLOCK/MSG_DONTWAIT was seen */
	ACCEL_BYPASS_V_SPLICE,		/* bytes were read other than by recvmsg (splice) */
	ACCEL_BYPASS_V_COUNT,
};

struct accel_bypass_learned {
	__u32 verdict;		/* enum accel_bypass_verdict */
	__u32 conns;		/* connections seen reading nonblocking, this evidence run */
	__u32 reopened;		/* verdicts dropped since the entry was made */
	__u32 flags;		/* ACCEL_BYPASS_LF_* */
	__u64 since_ns;		/* bpf_ktime_get_boot_ns(): verdict reached / learning (re)opened */
	__u64 last_ns;		/* latest observation */
	__u64 listener_cookie;	/* socket cookie of the latest listener seen, 0 unknown */
};
_Static_assert(sizeof(struct accel_bypass_learned) == 40, "accel_bypass_learned is ABI");
/* Restored by attach from an earlier attach's state: an event-driven
 * verdict is re-validated by one more connection before it is used. */
#define ACCEL_BYPASS_LF_RESTORED	(1u << 0)
#define ACCEL_BYPASS_LEARN_PORTS	4096
#define ACCEL_BYPASS_LEARN_CONNS	8	/* defaults, see docs/bypass.md */
#define ACCEL_BYPASS_LEARN_WINDOW_S	300

/*
 * Per-connection state of the programs (bpf/bypass.bpf.c).  Userspace
 * does not read it, but it is pinned: a handover (`detach --handover`)
 * leaves it to the programs of the next attach, which may be another
 * build, so the layouts below and the meaning of their flags and enum
 * values (BSK_*, BCONN_*, OBS_*, enum bypass_tx, defined next to the code
 * that sets them) change only with ACCEL_ABI_VERSION.
 */

/* bypass_sk_state: socket local storage, private to the socket's own
 * programs. */
struct accel_bypass_sk {
	struct accel_bypass_key key;	/* as inserted */
	struct accel_bypass_key peer;	/* its mirror: the peer's key */
	__u32 slot;			/* bypass_conns index, while joined */
	__u32 gen;			/* the slot's generation when published */
	__u8 side;			/* 0: key sorts before its mirror, 1: after */
	__u8 active;			/* active opener (connect()) */
	__u8 joined;			/* holds a reference on the slot */
	__u8 published;			/* took the slot and put it in bypass_pending */
	__u8 in_hash;			/* inserted, not evicted by us (the kernel only
					 * takes it out when the file closes) */
	__u8 pad[3];
	__u32 tx;			/* enum bypass_tx */
	__u32 small_run;		/* the current run of sends (bypass.bpf.c RUN_*) */
};
_Static_assert(sizeof(struct accel_bypass_sk) == 120, "accel_bypass_sk is ABI");

/*
 * bypass_conns: array of slots, what the two ends of a connection tell
 * each other.  sk_msg programs cannot hold a socket reference (no
 * bpf_sk_release() for them), so the peer's socket and its local storage
 * are out of reach; both ends share a slot of an array instead, found per
 * send by index (no hashing: the slot is in the socket's own storage).  A
 * send only reads it (the flags change when an end changes state): the
 * two ends run on different CPUs, and a line both wrote per send would
 * move between them at every message.
 *
 * A slot is reference-counted by the sockets holding it: ref is
 * generation << 32 | holders.  It is taken by compare-and-swap from 0
 * holders, joined by compare-and-swap only while the generation is the
 * one published and holders > 0, and each release adds 2^32 - 1 (one
 * holder less, next generation), so a late joiner with a stale pending
 * entry never enters a slot reused by another connection, and a slot is
 * never reused while either end can still read or write it.
 */
struct accel_bypass_side {
	__u32 flags;			/* BSK_* */
	__u32 stack_ms;			/* boot time (ms, wraps) TX_STACK was raised */
};
_Static_assert(sizeof(struct accel_bypass_side) == 8, "accel_bypass_side is ABI");

struct accel_bypass_conn {
	__u64 ref;
	__u32 flags;			/* BCONN_* */
	__u32 pad;
	struct accel_bypass_side side[2];
};
_Static_assert(sizeof(struct accel_bypass_conn) == 32, "accel_bypass_conn is ABI");

/* bypass_pending: hash, the first end publishes its slot for the second,
 * keyed by the connection's canonical key (side 0's key); the second end
 * deletes it. */
struct accel_bypass_pending {
	__u32 slot;
	__u32 gen;
};
_Static_assert(sizeof(struct accel_bypass_pending) == 8, "accel_bypass_pending is ABI");

/* bypass_obs: socket local storage, an accepted socket of a learning port
 * while it is observed. */
struct accel_bypass_obs {
	struct accel_bypass_port_key port;
	__u32 base_seq;		/* copied_seq when observation began */
	__u32 recv_bytes;	/* bytes recvmsg returned since (MSG_PEEK aside) */
	__u32 reads;		/* recvmsg calls that returned data */
	__u32 flags;		/* OBS_* */
};
_Static_assert(sizeof(struct accel_bypass_obs) == 32, "accel_bypass_obs is ABI");

/* Pinned map names (LIBBPF_PIN_BY_NAME keeps the BTF names). */
#define ACCEL_BYPASS_MAP_SOCKS		"bypass_socks"
#define ACCEL_BYPASS_MAP_CONNS		"bypass_conns"	/* per-connection state both ends share */
#define ACCEL_BYPASS_MAP_PENDING	"bypass_pending"	/* slots waiting for the second end */
#define ACCEL_BYPASS_MAP_CONFIG		"bypass_config"
#define ACCEL_BYPASS_MAP_PORTS		"bypass_ports"
#define ACCEL_BYPASS_MAP_COUNTERS	"bypass_counters"
#define ACCEL_BYPASS_MAP_BLOCKING_PORTS	"bypass_blocking_ports"
#define ACCEL_BYPASS_MAP_LEARNED	"bypass_learned"
#define ACCEL_BYPASS_MAP_SK_ADDRS	"bypass_sk_addrs"
#define ACCEL_BYPASS_MAP_DEMOTED	"bypass_demoted"

/* bpf/bypass_drain.bpf.c: what the drain iterator (iter/tcp, in one
 * network namespace) writes for each TCP socket that has a psock.  Read by
 * the detach and reaping code of user/bypass.c, which matches the cookie
 * with the values of a generation's bypass_socks; nothing is pinned. */
struct accel_bypass_drain_rec {
	__u64 cookie;		/* the socket's cookie (bpf_get_socket_cookie) */
	__u32 unread_bytes;	/* psock ingress queue: bypassed, not read yet */
	__u32 queued;		/* 1 when that queue holds anything at all */
};
_Static_assert(sizeof(struct accel_bypass_drain_rec) == 16, "accel_bypass_drain_rec is ABI");

/* bpf/bypass_count.bpf.c: what its iterator (iter/bpf_map, over every
 * map of the host) writes for each sockhash: the kernel's own count of
 * the sockets in it.  user/bypass.c keeps the record whose map_id is its
 * bypass_socks'; only the iterator's link is pinned. */
struct accel_bypass_count_rec {
	__u32 map_id;
	__u32 count;		/* struct bpf_shtab.count */
};
_Static_assert(sizeof(struct accel_bypass_count_rec) == 8, "accel_bypass_count_rec is ABI");

/* bypass: end of section */

/* ------------------------------------------------------------------ */
/* netacct: fragment / MTU / PMTU accounting (XDP + tc)                 */
/* ------------------------------------------------------------------ */

/*
 * Every accounted interface has a slot: its configuration is entry `slot`
 * of the netacct_ifaces array, its counters entries slot * NETACCT_DIR_MAX
 * + direction of the per-CPU array netacct_counters.  Userspace allocates
 * the slot and loads the interface's programs with it in their rodata
 * (netacct_slot), so the data path finds both with array lookups the
 * verifier inlines: no hash lookup per packet (ABI 1 had a per-CPU hash
 * keyed by ifindex and direction and a hash of the configurations, 15-30 ns
 * more per packet, docs/netacct.md "Cost").  Userspace zeroes a slot's
 * counters before it writes the configuration, and that before it attaches
 * a program.
 */
#define NETACCT_COUNTERS_MAP	"netacct_counters"
#define NETACCT_IFACES_MAP	"netacct_ifaces"
#define NETACCT_MAX_IFACES	64	/* interfaces (slots) of one instance */

enum netacct_dir {
	NETACCT_DIR_INGRESS = 0,
	NETACCT_DIR_EGRESS,
	NETACCT_DIR_MAX,
};

/* ACCEL_FAM_INET, ACCEL_FAM_INET6, then everything that is not IP (or whose
 * L2 header could not be read): packets, bytes and malformed only. */
#define NETACCT_FAM_OTHER	ACCEL_FAM_MAX
#define NETACCT_FAM_MAX		(ACCEL_FAM_MAX + 1)

enum netacct_ctr {
	NETACCT_PACKETS = 0,	/* every packet seen, by EtherType family */
	NETACCT_BYTES,		/* packet length at the hook, L2 header included */
	NETACCT_FRAG_FIRST,	/* offset 0, more-fragments set */
	NETACCT_FRAG_NONFIRST,	/* offset != 0 */
	NETACCT_FRAG_ATOMIC,	/* IPv6 Fragment header with offset 0 and M clear */
	NETACCT_MTU_EXCEEDED,	/* L3 length (or GSO segment) above the MTU */
	NETACCT_MTU_EXCEEDED_DF,/* ... and IPv4 DF set */
	NETACCT_PMTU_MSGS,	/* ICMP frag-needed (3/4), ICMPv6 Packet Too Big (2) */
	NETACCT_MALFORMED,	/* anything the parser could not trust */
	NETACCT_CTR_MAX,
};

/* Histogram of the MTU advertised by PMTU messages: upper bounds (le) of the
 * finite buckets; one more bucket holds everything above the last. */
#define NETACCT_PMTU_BOUNDS	1280, 1400, 1450, 1480, 1492, 1500, 9000
#define NETACCT_PMTU_NBOUNDS	7
#define NETACCT_PMTU_BUCKETS	(NETACCT_PMTU_NBOUNDS + 1)

#define NETACCT_COUNTERS_MAX	(NETACCT_MAX_IFACES * NETACCT_DIR_MAX)

#define NETACCT_COUNTERS_INDEX(slot, dir)	((slot) * NETACCT_DIR_MAX + (dir))

struct netacct_counters {
	__u64 ctr[NETACCT_FAM_MAX][NETACCT_CTR_MAX];
	__u64 pmtu_bucket[ACCEL_FAM_MAX][NETACCT_PMTU_BUCKETS];	/* not cumulative */
	__u64 pmtu_sum[ACCEL_FAM_MAX];				/* Σ advertised MTU */
};

/* netacct_ifaces value flags */
#define NETACCT_IF_XDP		(1u << 0)	/* ingress counted by XDP */
#define NETACCT_IF_XDP_SKB	(1u << 1)	/* ... in generic (skb) mode */
#define NETACCT_IF_TC_INGRESS	(1u << 2)	/* ingress counted by tc */
#define NETACCT_IF_NO_RX_MTU	(1u << 3)	/* ingress frames may be GRO/GSO
						 * aggregates: no ingress MTU check */

/* netacct_ifaces: slot -> configuration, written by userspace at attach
 * (ifindex 0: a free slot); the programs refresh mtu from the device when
 * the rodata knob live_mtu is set, so an MTU change after attach is picked
 * up by the next packet. */
struct netacct_ifcfg {
	__u32 mtu;
	__u32 flags;
	__u32 ifindex;		/* 0: slot unused */
	__u32 reserved;		/* 0 */
	char name[16];
};

_Static_assert(sizeof(struct netacct_counters) ==
	       8 * (NETACCT_FAM_MAX * NETACCT_CTR_MAX + ACCEL_FAM_MAX * (NETACCT_PMTU_BUCKETS + 1)),
	       "netacct_counters layout");
_Static_assert(sizeof(struct netacct_ifcfg) == 32, "netacct_ifcfg layout");

/* netacct: end of section */

#endif /* ACCEL_ABI_H */
