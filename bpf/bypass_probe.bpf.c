// SPDX-License-Identifier: GPL-2.0-only
/*
 * bypass_probe.bpf.c - the smallest sockmap redirect, for attach's kernel
 * self-test (user/bypass_selftest.c).
 *
 * Userspace creates a loopback connection in a scratch copy of this
 * object, puts the receiving end under ACCEL_BYPASS_PROBE_RX and the
 * sending end under ACCEL_BYPASS_PROBE_TX, and attaches probe_sk_msg to
 * the map (BPF_SK_MSG_VERDICT).  Every sendmsg() on the sending end then
 * lands on the receiver's psock ingress queue, exactly as the bypass
 * delivers it, so probes can watch how the kernel treats bytes that never
 * reached sk_receive_queue.  Nothing is pinned; closing the object frees
 * it all.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "accel_abi.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} probe_socks SEC(".maps");

/* Bytes handed to the receiver: proves to userspace that the probe's bytes
 * really took the redirect (a probe that ran over the stack would report
 * plain TCP behaviour on any kernel). */
__u64 redirected_bytes;

SEC("sk_msg")
int probe_sk_msg(struct sk_msg_md *msg)
{
	__u32 rx = ACCEL_BYPASS_PROBE_RX;
	__u32 size = msg->size;

	/* Only the sending end ever sends; the receiver never does, so it is
	 * never redirected to itself. */
	if (bpf_msg_redirect_hash(msg, &probe_socks, &rx, BPF_F_INGRESS) != SK_PASS)
		return SK_DROP;
	__sync_fetch_and_add(&redirected_bytes, size);
	return SK_PASS;
}
