// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcpstate.bpf.c - TCP lifecycle accounting: state changes, TIME_WAIT,
 * SYN-queue and accept-queue overflows per listener, SYN-ACK
 * retransmits, resets sent, and an iter/tcp program that reads the
 * queues and TIME_WAIT population exactly at read time.
 *
 * Hooks (tp_btf, which every BTF kernel has; fentry where it loads):
 *
 *   sock/inet_sock_set_state   state changes of full sockets.  TIME_WAIT is
 *                              a separate mini-socket: a full socket is seen
 *                              going to CLOSE, never into TIME_WAIT.
 *   skb/consume_skb            a listener consumes every SYN it was handed,
 *                              queued or dropped (tcp_rcv_state_process):
 *                              the SYN-path listen drops and cookies.
 *   skb/kfree_skb              drops with the receiving socket: the
 *                              handshake ACK a full accept queue refuses.
 *   timer/timer_start          a TIME_WAIT mini-socket arms its timer once
 *                              when it is created (tw_timer_handler).
 *   tcp/tcp_retransmit_synack  per request socket, so per listener.
 *   tcp/tcp_send_reset         with the reason (enum sk_rst_reason).
 *
 * Where fentry/fexit load (accelctl probes it), two fexit programs replace
 * the hottest tracepoints: tcp_conn_request replaces consume_skb (it names
 * the listener and fires only for SYNs), inet_twsk_hashdance_schedule
 * replaces timer_start.  Both book through the same SNMP-growth logic, so
 * the two paths count alike.
 *
 * Why SNMP counters are read from BPF: the SYN path has no drop event with
 * a reason (the SYN is consume_skb'd whether it was queued or dropped) and
 * a TIME_WAIT timer can be re-armed.  The kernel's own per-CPU counters
 * (ListenDrops, ListenOverflows, TCPReqQFullDrop, TCPReqQFullDoCookies,
 * TCPTimeWaited, TCPTimeWaitKilled) are bumped on the CPU that handles the
 * packet, bottom halves disabled, right before the event we hook fires on
 * that same CPU.  Each event takes the growth of this CPU's counters since
 * the previous event (tcp_mib_snap) and books it on the event's listener:
 * the per-listener figures add up to the kernel's by construction.
 */
#include "accel_common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define IPPROTO_TCP_	6
#define ETH_P_IP_	0x0800
#define ETH_P_IPV6_	0x86DD
#define TCPHDR_SYN_	0x02
#define TCPHDR_ACK_	0x10

/* Set by accelctl from /proc/kallsyms before load: the text range of
 * tcp_rcv_state_process (where a listener consumes its SYNs) and the
 * address of tw_timer_handler (the TIME_WAIT timer). */
const volatile __u64 tcp_rsp_start = 0;
const volatile __u64 tcp_rsp_end = 0;
const volatile __u64 tw_timer_fn = 0;

/* Cookies of namespaces accelctl created at attach, one per CPU (see
 * ACCEL_TCP_COOKIE_MARKS): a namespace younger than those was created
 * after attach, its counters started at zero and count from zero. */
const volatile __u32 n_cookie_marks = 0;
const volatile __u64 cookie_marks[ACCEL_TCP_COOKIE_MARKS] = {};

/*
 * The kernel's per-CPU SNMP counters are read at this CPU's copy: base
 * pointer + this CPU's per-CPU offset.  Neither this_cpu_off nor the
 * counters' pointer can be handed to bpf_this_cpu_ptr() on kernels built
 * without KALLSYMS_ALL or BTF percpu tags, so the offset is measured: a
 * per-CPU array's lookup returns this CPU's copy, its bpf_array holds the
 * raw per-CPU pointer; the difference is the offset every per-CPU
 * allocation shares on this CPU.
 */
struct cpu_off {
	__u64 off;		/* this CPU's per-CPU offset, once known */
	__u64 self;		/* scratch: this element's address, as a number */
	__u64 map;		/* scratch: the map's address, as a number */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_off);
} cpu_off_probe SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ACCEL_TCPSTATE_TRANS_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcp_state_transitions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ACCEL_TCP_CTR_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcp_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ACCEL_TCP_RST_REASONS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcp_rst_reasons SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ACCEL_TCP_LISTENERS_MAX);
	__type(key, struct accel_tcp_listener_key);
	__type(value, struct accel_tcp_listener_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcp_listeners SEC(".maps");

/* LRU: namespaces come and go.  A re-used element's other-CPU copies are
 * zero-filled by the kernel (6.7+; this object needs 6.11+ anyway), so a
 * new namespace's copies start unprimed. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, ACCEL_TCP_NETNS_MAX);
	__type(key, __u64);
	__type(value, struct accel_tcp_mib_snap);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcp_mib_snap SEC(".maps");

static __always_inline unsigned long this_cpu_offset(void)
{
	struct cpu_off *slot;
	__u32 zero = 0;
	__u64 raw = 0;

	slot = bpf_map_lookup_elem(&cpu_off_probe, &zero);
	if (!slot)
		return 0;
	if (slot->off)
		return slot->off;
	/* First use on this CPU.  The verifier allows no arithmetic between
	 * map pointers and unknown numbers, but lets a privileged program
	 * store a pointer as a value: store both, read them back as numbers
	 * (volatile, so the compiler does not forward the pointers). */
	*(volatile __u64 *)&slot->self = (__u64)slot;
	*(volatile __u64 *)&slot->map = (__u64)(void *)&cpu_off_probe;
	if (bpf_probe_read_kernel(&raw, sizeof(raw),
				  (void *)(*(volatile __u64 *)&slot->map +
					   bpf_core_field_offset(struct bpf_array, pptrs))) || !raw)
		return 0;
	slot->off = *(volatile __u64 *)&slot->self - raw;
	return slot->off;
}

/* Kernel SNMP counter index (include/uapi/linux/snmp.h) per ABI slot. */
static __always_inline __u32 mib_kernel_idx(int i)
{
	switch (i) {
	case ACCEL_MIB_LISTENDROPS:	  return LINUX_MIB_LISTENDROPS;
	case ACCEL_MIB_LISTENOVERFLOWS:	  return LINUX_MIB_LISTENOVERFLOWS;
	case ACCEL_MIB_REQQFULLDROP:	  return LINUX_MIB_TCPREQQFULLDROP;
	case ACCEL_MIB_REQQFULLDOCOOKIES: return LINUX_MIB_TCPREQQFULLDOCOOKIES;
	case ACCEL_MIB_TIMEWAITED:	  return LINUX_MIB_TIMEWAITED;
	default:			  return LINUX_MIB_TIMEWAITKILLED;
	}
}

/* This CPU's value of net's SNMP counters [first, last). */
static __always_inline int mib_read(const struct net *net, int first, int last, __u64 *v)
{
	unsigned long base = (unsigned long)BPF_CORE_READ(net, mib.net_statistics);
	unsigned long off = this_cpu_offset();

	if (!base || !off)
		return -1;
	base += off;
	for (int i = first; i < last; i++)
		if (bpf_probe_read_kernel(&v[i], sizeof(v[i]),
					  (void *)(base + mib_kernel_idx(i) * sizeof(unsigned long))))
			return -1;
	return 0;
}

/*
 * Was this namespace created after attach?  Cookies are handed out in
 * per-CPU batches of ACCEL_TCP_COOKIE_BATCH: within a CPU's current batch
 * compare with that CPU's mark; a batch newer than every mark's is new.
 * Runs once per namespace and CPU.
 */
static __always_inline bool netns_is_new(__u64 cookie)
{
	__u64 batch = (cookie - 1) / ACCEL_TCP_COOKIE_BATCH, newest = 0;

	if (!n_cookie_marks)
		return false;
	for (__u32 i = 0; i < ACCEL_TCP_COOKIE_MARKS && i < n_cookie_marks; i++) {
		__u64 mark = cookie_marks[i], b = (mark - 1) / ACCEL_TCP_COOKIE_BATCH;

		if (b == batch)
			return cookie > mark;
		if (b > newest)
			newest = b;
	}
	return batch > newest;
}

/*
 * Growth of counters [first, last) on this CPU since the last event, into d.
 * The snapshot is advanced with a compare-and-swap: an event nested on this
 * CPU (a softirq interrupting a process-context event) takes the growth it
 * saw itself and ours takes none, so nothing is counted twice.
 */
static __always_inline void mib_take(const struct net *net, __u64 cookie, int first,
				     int last, __u64 *d)
{
	static const struct accel_tcp_mib_snap zero = {};
	struct accel_tcp_mib_snap *snap;
	__u64 cur[ACCEL_MIB_MAX] = {};

	if (mib_read(net, first, last, cur))
		return;
	snap = bpf_map_lookup_elem(&tcp_mib_snap, &cookie);
	if (!snap) {
		/* other CPUs' copies start zeroed (not primed) as well */
		bpf_map_update_elem(&tcp_mib_snap, &cookie, &zero, BPF_NOEXIST);
		snap = bpf_map_lookup_elem(&tcp_mib_snap, &cookie);
		if (!snap)
			return;
	}
	if (!snap->primed) {
		if (!netns_is_new(cookie)) {
			/* A namespace that existed at attach but was not
			 * primed (accelctl primes every one it can reach):
			 * what it counted before now is not ours.  Take
			 * every counter, not only this event's. */
			if (mib_read(net, 0, ACCEL_MIB_MAX, cur))
				return;
			for (int i = 0; i < ACCEL_MIB_MAX; i++)
				snap->v[i] = cur[i];
			snap->primed = 1;
			return;
		}
		/* created after attach: its counters started at zero */
		snap->primed = 1;
	}
	for (int i = first; i < last; i++) {
		__u64 old = snap->v[i];

		if (cur[i] <= old)
			continue;
		if (__sync_val_compare_and_swap(&snap->v[i], old, cur[i]) == old)
			d[i] = cur[i] - old;
	}
}

static __always_inline struct accel_tcp_listener_val *
listener_get(const struct accel_tcp_listener_key *key)
{
	static const struct accel_tcp_listener_val zero = {};
	struct accel_tcp_listener_val *v = bpf_map_lookup_elem(&tcp_listeners, key);

	if (v)
		return v;
	bpf_map_update_elem(&tcp_listeners, key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&tcp_listeners, key);
}

static __always_inline void listener_add(struct accel_tcp_listener_val *v, int i, __u64 n)
{
	if (n && i >= 0 && i < ACCEL_LQ_MAX)
		__sync_fetch_and_add(&v->c[i], n);
}

/* Book this CPU's listen-drop growth on a listener; syn: the event is the
 * SYN's consume (SYN path) rather than a dropped handshake ACK. */
static __always_inline void listener_account(const struct net *net,
					     const struct accel_tcp_listener_key *key, bool syn)
{
	__u64 d[ACCEL_MIB_MAX] = {}, other;
	struct accel_tcp_listener_val *v;

	mib_take(net, key->netns_cookie, ACCEL_MIB_LISTENDROPS, ACCEL_MIB_REQQFULLDOCOOKIES + 1, d);
	if (!syn && !d[ACCEL_MIB_LISTENDROPS] && !d[ACCEL_MIB_REQQFULLDOCOOKIES])
		return;		/* an ordinary drop on a listener: nothing to book */
	v = listener_get(key);
	if (!v) {
		accel_count(&tcp_counters, ACCEL_TCP_LISTEN_UNMATCHED, d[ACCEL_MIB_LISTENDROPS]);
		return;
	}
	/* Every listen drop bumps ListenDrops; an accept-queue overflow also
	 * ListenOverflows, a full request queue also TCPReqQFullDrop. */
	other = d[ACCEL_MIB_LISTENDROPS];
	other -= other >= d[ACCEL_MIB_LISTENOVERFLOWS] ? d[ACCEL_MIB_LISTENOVERFLOWS] : other;
	other -= other >= d[ACCEL_MIB_REQQFULLDROP] ? d[ACCEL_MIB_REQQFULLDROP] : other;
	if (syn)
		listener_add(v, ACCEL_LQ_SYN_RECEIVED, 1);
	listener_add(v, syn ? ACCEL_LQ_ACCEPT_FULL_SYN : ACCEL_LQ_ACCEPT_FULL_ACK,
		     d[ACCEL_MIB_LISTENOVERFLOWS]);
	listener_add(v, ACCEL_LQ_SYN_QUEUE_FULL, d[ACCEL_MIB_REQQFULLDROP]);
	listener_add(v, ACCEL_LQ_SYNCOOKIES, d[ACCEL_MIB_REQQFULLDOCOOKIES]);
	listener_add(v, syn ? ACCEL_LQ_SYN_DROP_OTHER : ACCEL_LQ_ACK_DROP_OTHER, other);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcpstate_set_state, const struct sock *sk, const int oldstate,
	     const int newstate)
{
	int fam;

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP_)
		return 0;
	if (!accel_netns_wanted(accel_sk_netns_cookie(sk)))
		return 0;
	fam = accel_family_idx(BPF_CORE_READ(sk, __sk_common.skc_family));
	if (fam < 0 || newstate < 0 || newstate >= ACCEL_TCP_NSTATES)
		return 0;
	accel_count(&tcp_state_transitions, fam * ACCEL_TCP_NSTATES + newstate, 1);
	return 0;
}

static __always_inline void sk_listener_key(const struct sock *sk,
					    struct accel_tcp_listener_key *key)
{
	int fam = accel_family_idx(BPF_CORE_READ(sk, __sk_common.skc_family));

	key->family = fam < 0 ? 0 : fam;
	key->port = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (fam == ACCEL_FAM_INET6)
		BPF_CORE_READ_INTO(&key->addr, sk, __sk_common.skc_v6_rcv_saddr);
	else
		BPF_CORE_READ_INTO((__u32 *)key->addr, sk, __sk_common.skc_rcv_saddr);
}

/*
 * The namespace of a received packet.  By the time the listener consumes
 * a SYN, skb->dev is no longer set (seen on 6.18); the input route is
 * still attached and names the device.  A SYN that waited in the socket
 * backlog may have lost its route too: then there is no namespace to read
 * counters from, and the next listener event on this CPU books its drop.
 */
static __always_inline const struct net *skb_net(const struct sk_buff *skb)
{
	const struct net_device *dev = BPF_CORE_READ(skb, dev);
	unsigned long refdst;

	if (!dev) {
		refdst = BPF_CORE_READ(skb, _skb_refdst) & ~1UL;	/* SKB_DST_NOREF */
		if (!refdst)
			return NULL;
		dev = BPF_CORE_READ((struct dst_entry *)refdst, dev);
		if (!dev)
			return NULL;
	}
	return BPF_CORE_READ(dev, nd_net.net);
}

/*
 * The SYN path.  tcp_rcv_state_process() hands a SYN to conn_request and
 * consume_skb()s it whatever happened: queued, answered with a cookie, or
 * dropped because the request queue or the accept queue was full.  Only
 * the packet is at hand, so the key is the SYN's destination.
 */
SEC("tp_btf/consume_skb")
int BPF_PROG(tcpstate_syn_consumed, struct sk_buff *skb, void *location)
{
	struct accel_tcp_listener_key key = {};
	unsigned char *head;
	__u16 nh, th, proto;
	const struct net *net;
	__u8 flags;
	__be16 dport;

	if ((__u64)location < tcp_rsp_start || (__u64)location >= tcp_rsp_end)
		return 0;
	net = skb_net(skb);
	if (!net)
		return 0;
	key.netns_cookie = BPF_CORE_READ(net, net_cookie);
	if (!accel_netns_wanted(key.netns_cookie))
		return 0;
	head = BPF_CORE_READ(skb, head);
	nh = BPF_CORE_READ(skb, network_header);
	th = BPF_CORE_READ(skb, transport_header);
	proto = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	if (bpf_probe_read_kernel(&flags, 1, head + th + 13) ||
	    bpf_probe_read_kernel(&dport, 2, head + th + 2))
		return 0;
	if (!(flags & TCPHDR_SYN_) || (flags & TCPHDR_ACK_))
		return 0;
	if (proto == ETH_P_IP_) {
		key.family = ACCEL_FAM_INET;
		if (bpf_probe_read_kernel(key.addr, 4, head + nh + 16))	/* iphdr.daddr */
			return 0;
	} else if (proto == ETH_P_IPV6_) {
		key.family = ACCEL_FAM_INET6;
		if (bpf_probe_read_kernel(key.addr, 16, head + nh + 24))	/* ipv6hdr.daddr */
			return 0;
	} else {
		return 0;
	}
	key.port = bpf_ntohs(dport);
	listener_account(net, &key, true);
	return 0;
}

/*
 * The ACK path: a handshake ACK whose listener cannot take the new socket
 * (accept queue full, or no memory) is freed with the listener as rx_sk.
 */
SEC("tp_btf/kfree_skb")
int BPF_PROG(tcpstate_drop, struct sk_buff *skb, void *location, enum skb_drop_reason reason,
	     struct sock *rx_sk)
{
	struct accel_tcp_listener_key key = {};
	const struct net *net;

	if (!rx_sk || BPF_CORE_READ(rx_sk, __sk_common.skc_state) != BPF_TCP_LISTEN ||
	    BPF_CORE_READ(rx_sk, sk_protocol) != IPPROTO_TCP_)
		return 0;
	net = BPF_CORE_READ(rx_sk, __sk_common.skc_net.net);
	key.netns_cookie = BPF_CORE_READ(net, net_cookie);
	if (!accel_netns_wanted(key.netns_cookie))
		return 0;
	sk_listener_key(rx_sk, &key);
	listener_account(net, &key, false);
	return 0;
}

/*
 * TIME_WAIT entries.  A mini-socket arms tw_timer once when it is created
 * (inet_twsk_schedule, right after bumping TCPTimeWaited or
 * TCPTimeWaitKilled) and re-arms it when a FIN is retransmitted; the SNMP
 * growth tells the two apart.  This hook sees every timer: the function
 * compare comes first.
 */
/* Book the TIME_WAIT SNMP growth since the previous event (both hooks). */
static __always_inline void tw_account(const struct net *net)
{
	__u64 d[ACCEL_MIB_MAX] = {};
	__u64 cookie = BPF_CORE_READ(net, net_cookie);

	if (!accel_netns_wanted(cookie))
		return;
	mib_take(net, cookie, ACCEL_MIB_TIMEWAITED, ACCEL_MIB_MAX, d);
	accel_count(&tcp_counters, ACCEL_TCP_TW_ENTRIES,
		    d[ACCEL_MIB_TIMEWAITED] + d[ACCEL_MIB_TIMEWAITKILLED]);
	accel_count(&tcp_counters, ACCEL_TCP_TW_KILLED, d[ACCEL_MIB_TIMEWAITKILLED]);
}

SEC("tp_btf/timer_start")
int BPF_PROG(tcpstate_tw_timer, struct timer_list *timer, unsigned long expires)
{
	__u64 tw;

	if (!tw_timer_fn || (__u64)BPF_CORE_READ(timer, function) != tw_timer_fn)
		return 0;
	tw = (__u64)timer - bpf_core_field_offset(struct inet_timewait_sock, tw_timer);
	tw_account(BPF_CORE_READ((struct inet_timewait_sock *)tw, __tw_common.skc_net.net));
	return 0;
}

/*
 * fentry variants ("?": not loaded unless accelctl's probe says fexit
 * loads here).
 * fexit of tcp_conn_request: the SYN was queued, answered with a cookie
 * or dropped; the listener is at hand.  The caller holds bottom halves
 * off around it, so the SNMP growth since the last event is this SYN's.
 */
SEC("?fexit/tcp_conn_request")
int BPF_PROG(tcpstate_conn_request, struct request_sock_ops *rsk_ops, const void *af_ops,
	     struct sock *sk, struct sk_buff *skb, int ret)
{
	struct accel_tcp_listener_key key = {};
	const struct net *net = BPF_CORE_READ(sk, __sk_common.skc_net.net);

	key.netns_cookie = BPF_CORE_READ(net, net_cookie);
	if (!accel_netns_wanted(key.netns_cookie))
		return 0;
	sk_listener_key(sk, &key);
	listener_account(net, &key, true);
	return 0;
}

/* fexit of inet_twsk_hashdance_schedule: a TIME_WAIT mini-socket was just
 * created and scheduled (TCPTimeWaited or TCPTimeWaitKilled bumped). */
SEC("?fexit/inet_twsk_hashdance_schedule")
int BPF_PROG(tcpstate_tw_created, struct inet_timewait_sock *tw, struct sock *sk, void *hashinfo,
	     int timeo)
{
	tw_account(BPF_CORE_READ(sk, __sk_common.skc_net.net));
	return 0;
}

/* A SYN-ACK retransmitted for a request socket: key = the request's local
 * address (the SYN's destination), like the SYN path. */
SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(tcpstate_synack_rtx, const struct sock *sk, const struct request_sock *req)
{
	struct accel_tcp_listener_key key = {};
	struct accel_tcp_listener_val *v;
	int fam;

	key.netns_cookie = accel_sk_netns_cookie(sk);
	if (!accel_netns_wanted(key.netns_cookie))
		return 0;
	fam = accel_family_idx(BPF_CORE_READ(req, __req_common.skc_family));
	if (fam < 0)
		return 0;
	key.family = fam;
	key.port = BPF_CORE_READ(req, __req_common.skc_num);
	if (fam == ACCEL_FAM_INET6)
		BPF_CORE_READ_INTO(&key.addr, req, __req_common.skc_v6_rcv_saddr);
	else
		BPF_CORE_READ_INTO((__u32 *)key.addr, req, __req_common.skc_rcv_saddr);
	v = listener_get(&key);
	if (v)
		listener_add(v, ACCEL_LQ_SYNACK_RETRANS, 1);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(tcpstate_rst, const struct sock *sk, const struct sk_buff *skb,
	     const enum sk_rst_reason reason)
{
	const struct net *net = NULL;
	__u32 r = reason;

	if (sk)
		net = BPF_CORE_READ(sk, __sk_common.skc_net.net);
	else if (skb)
		net = skb_net(skb);
	if (target_netns_cookie && (!net || BPF_CORE_READ(net, net_cookie) != target_netns_cookie))
		return 0;
	accel_count(&tcp_counters, ACCEL_TCP_RST_SENT, 1);
	accel_count(&tcp_rst_reasons, r < ACCEL_TCP_RST_REASONS ? r : ACCEL_TCP_RST_REASONS - 1, 1);
	return 0;
}

/*
 * Prime tcp_mib_snap for the caller's network namespace on the CPU it runs
 * on.  accelctl runs it (BPF_PROG_TEST_RUN) pinned to each CPU in turn,
 * before attaching the event programs, so that no drop right after attach
 * is taken for history.  args[0]: the namespace cookie accelctl expects.
 */
SEC("raw_tp")
int tcpstate_prime(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct accel_tcp_mib_snap *snap, init = {};
	__u64 cur[ACCEL_MIB_MAX] = {}, cookie;
	const struct net *net;

	net = BPF_CORE_READ(task, nsproxy, net_ns);
	if (!net)
		return 1;
	cookie = BPF_CORE_READ(net, net_cookie);
	if (cookie != ctx->args[0])
		return 2;
	if (mib_read(net, 0, ACCEL_MIB_MAX, cur))
		return 3;
	snap = bpf_map_lookup_elem(&tcp_mib_snap, &cookie);
	if (!snap) {
		init.primed = 1;
		for (int i = 0; i < ACCEL_MIB_MAX; i++)
			init.v[i] = cur[i];
		return bpf_map_update_elem(&tcp_mib_snap, &cookie, &init, BPF_ANY) ? 4 : 0;
	}
	for (int i = 0; i < ACCEL_MIB_MAX; i++)
		snap->v[i] = cur[i];
	snap->primed = 1;
	return 0;
}

/*
 * Gauges at read time.  iter/tcp walks the TCP hash tables of the network
 * namespace the iterator was created in (accelctl creates it after
 * entering --netns), including TIME_WAIT and request sockets.
 */
SEC("iter/tcp")
int tcpstate_iter(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct accel_tcp_iter_rec r = {};
	struct tcp_timewait_sock *tw;
	struct tcp_sock *tp;
	int fam;

	if (!skc)
		return 0;
	fam = accel_family_idx(skc->skc_family);
	if (fam < 0)
		return 0;
	r.family = fam;
	r.state = skc->skc_state;
	r.lport = skc->skc_num;
	r.dport = bpf_ntohs(skc->skc_dport);
	if (fam == ACCEL_FAM_INET6) {
		BPF_CORE_READ_INTO(&r.laddr, skc, skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&r.daddr, skc, skc_v6_daddr);
	} else {
		__builtin_memcpy(r.laddr, &skc->skc_rcv_saddr, 4);
		__builtin_memcpy(r.daddr, &skc->skc_daddr, 4);
	}
	switch (r.state) {
	case BPF_TCP_NEW_SYN_RECV:
		return 0;	/* counted by its listener's qlen */
	case BPF_TCP_TIME_WAIT:
		tw = bpf_skc_to_tcp_timewait_sock(skc);
		if (!tw)
			return 0;
		r.kind = ACCEL_REC_TIMEWAIT;
		r.state = tw->tw_sk.tw_substate;
		break;
	case BPF_TCP_LISTEN:
		tp = bpf_skc_to_tcp_sock(skc);
		if (!tp)
			return 0;
		r.kind = ACCEL_REC_LISTEN;
		r.accept_len = tp->inet_conn.icsk_inet.sk.sk_ack_backlog;
		r.accept_max = tp->inet_conn.icsk_inet.sk.sk_max_ack_backlog;
		r.syn_len = tp->inet_conn.icsk_accept_queue.qlen.counter;
		break;
	case BPF_TCP_CLOSE:
		return 0;
	default:
		r.kind = ACCEL_REC_CONN;
		break;
	}
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
