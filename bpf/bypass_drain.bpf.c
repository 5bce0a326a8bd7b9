// SPDX-License-Identifier: GPL-2.0-only
/*
 * bypass_drain.bpf.c - what a detached bypass generation still holds.
 *
 * An iterator over the TCP sockets of one network namespace (iter/tcp;
 * userspace creates one per namespace that has sockets in a generation's
 * sockhash): one accel_bypass_drain_rec per socket with a psock, giving
 * its cookie and the bytes waiting unread in its psock ingress queue.  A
 * removal from the sockhash purges that queue, so detach releases a
 * socket only when the record says it is empty and no redirect can fill
 * it any more (user/bypass.c, docs/bypass.md "Detach and restart").
 *
 * (iter/sockmap would walk a sockhash directly, but some kernels refuse
 * map-element iterators: this one answers EPERM.)
 *
 * It reads; it changes nothing.  It has no maps, so one load serves every
 * generation, including those an older accelctl left.
 */
#include "accel_common.bpf.h"
#include "bypass_psock.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* sk_user_data points at a psock (include/linux/skmsg.h) */
#define SK_USER_DATA_PSOCK_	4UL

SEC("iter/tcp")
int bypass_drain_iter(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct accel_bypass_drain_rec rec;
	struct tcp_sock *tp;
	struct sock *sk;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;	/* request and time-wait sockets have no psock */
	sk = &tp->inet_conn.icsk_inet.sk;
	if (!((unsigned long)sk->sk_user_data & SK_USER_DATA_PSOCK_))
		return 0;
	rec.cookie = bpf_get_socket_cookie(sk);
	rec.queued = psock_ingress(sk, &rec.unread_bytes);
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}
