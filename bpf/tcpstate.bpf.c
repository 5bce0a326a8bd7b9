// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcpstate.bpf.c - TCP lifecycle accounting.
 *
 * tp_btf/inet_sock_set_state sees every TCP state change of a full socket.
 * (TIME_WAIT is a separate mini-socket: the full socket is seen going to
 * CLOSE, never into TIME_WAIT.)
 */
#include "accel_common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define IPPROTO_TCP_ 6

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ACCEL_TCPSTATE_TRANS_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcp_state_transitions SEC(".maps");

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
