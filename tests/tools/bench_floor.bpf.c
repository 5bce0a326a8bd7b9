// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_floor.bpf.c - BENCHMARK REFERENCE ONLY: the cheapest sockmap
 * bypass this kernel can run, for scripts/bench.sh's "floor" column.
 *
 *   *** NOT A PRODUCT FEATURE.  NEVER USE IT OUTSIDE THE BENCHMARK. ***
 *
 * It has none of the safety properties docs/bypass.md lists for
 * bpf/bypass.bpf.c, on purpose: no namespace filter, no locality check,
 * no port policy, no on/off switch, no "first byte or never" ordering
 * rule (a direction whose first message went over the stack is redirected
 * from its second on, which can reorder bytes), no protection of blocking
 * readers from tcp_bpf_recvmsg()'s -EAGAIN, no demotion of small-message
 * streams, no drain on detach (unread redirected bytes are lost when the
 * loader exits), no counters.  Every ESTABLISHED TCP socket of the cgroup
 * it is attached to goes into the sockhash, and every sendmsg() is
 * redirected to the peer's psock ingress queue when the peer is there.
 *
 * What it is for: bench.sh runs it next to plain loopback and accelctl's
 * bypass, so that accel/floor shows what accelctl's bookkeeping costs and
 * floor/loopback shows what any sockmap design can reach on this kernel
 * (the kernel's tcp_bpf path sets that floor, not the BPF programs).
 * Its loader is tests/tools/bench_floor.c (nothing is ever pinned).
 *
 * The key is built from the kernel's socket fields, in sockops and sk_msg
 * alike, as bypass.bpf.c's bypass_key_of() does (the two context structs
 * encode ports differently, the socket does not).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

#define AF_INET_	2
#define AF_INET6_	10

/*
 * Both addresses as IPv6, IPv4 ones v4-mapped (::ffff:a.b.c.d): an
 * AF_INET6 socket talking IPv4 has exactly those in its v6 fields, so it
 * and its AF_INET peer agree without a family field.
 */
struct floor_key {
	__u64 netns_cookie;
	__u32 local_ip[4];
	__u32 remote_ip[4];
	__u16 local_port;	/* host byte order */
	__u16 remote_port;	/* host byte order */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 131072);	/* bench-lifecycle's 50,000 connections */
	__type(key, struct floor_key);
	__type(value, __u64);
} floor_socks SEC(".maps");

static __always_inline int floor_key_of(struct tcp_sock *tp, struct floor_key *k)
{
	struct sock_common *skc = &tp->inet_conn.icsk_inet.sk.__sk_common;

	__builtin_memset(k, 0, sizeof(*k));
	k->netns_cookie = skc->skc_net.net->net_cookie;
	k->local_port = skc->skc_num;
	k->remote_port = bpf_ntohs(skc->skc_dport);
	if (skc->skc_family == AF_INET_) {
		k->local_ip[2] = k->remote_ip[2] = bpf_htonl(0xffff);
		k->local_ip[3] = skc->skc_rcv_saddr;
		k->remote_ip[3] = skc->skc_daddr;
		return 0;
	}
	if (skc->skc_family != AF_INET6_)
		return -1;
	for (int i = 0; i < 4; i++) {
		k->local_ip[i] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[i];
		k->remote_ip[i] = skc->skc_v6_daddr.in6_u.u6_addr32[i];
	}
	return 0;
}

SEC("sockops")
int floor_sockops(struct bpf_sock_ops *skops)
{
	struct floor_key key;
	struct tcp_sock *tp;
	struct bpf_sock *sk;

	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	/* read once: the verifier's NULL check covers this register only,
	 * a second read of skops->sk is sock_or_null again */
	sk = skops->sk;
	if (!sk)
		return 1;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp || floor_key_of(tp, &key))
		return 1;
	/* fails when full or when the socket is in another sockhash with its
	 * own sk_msg program: it then simply stays on the stack */
	bpf_sock_hash_update(skops, &floor_socks, &key, BPF_NOEXIST);
	return 1;
}

SEC("sk_msg")
int floor_sk_msg(struct sk_msg_md *msg)
{
	struct floor_key key, peer;
	struct bpf_sock *sk = msg->sk;
	struct tcp_sock *tp;

	if (!sk)
		return SK_PASS;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp || floor_key_of(tp, &key))
		return SK_PASS;
	__builtin_memset(&peer, 0, sizeof(peer));
	peer.netns_cookie = key.netns_cookie;
	__builtin_memcpy(peer.local_ip, key.remote_ip, sizeof(peer.local_ip));
	__builtin_memcpy(peer.remote_ip, key.local_ip, sizeof(peer.remote_ip));
	peer.local_port = key.remote_port;
	peer.remote_port = key.local_port;
	/*
	 * No peer in the map: the helper returns SK_DROP without choosing a
	 * target, and returning SK_PASS then sends the message over the
	 * stack (sk_psock_map_verd() redirects only when a target was set).
	 */
	bpf_msg_redirect_hash(msg, &floor_socks, &peer, BPF_F_INGRESS);
	return SK_PASS;
}
