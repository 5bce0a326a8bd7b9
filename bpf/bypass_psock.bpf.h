/* SPDX-License-Identifier: GPL-2.0-only */
/* The bypass's view of a socket's psock, shared by the programs of
 * bypass.bpf.c and the drain iterator (bypass_drain.bpf.c). */
#ifndef BYPASS_PSOCK_BPF_H
#define BYPASS_PSOCK_BPF_H

#include "accel_common.bpf.h"

/* What waits in the socket's psock ingress queue (bypassed, unread):
 * *bytes, and whether the queue holds anything at all (a message of 0
 * bytes must still be read before a removal may purge the queue).
 * sk_user_data carries flag bits in its low bits (SK_USER_DATA_PTRMASK). */
static __always_inline bool psock_ingress(struct sock *sk, __u32 *bytes)
{
	unsigned long ud = (unsigned long)sk->sk_user_data;
	struct sk_psock *psock = (struct sk_psock *)(ud & ~7UL);
	struct list_head *next;

	*bytes = 0;
	if (!psock)
		return false;
	*bytes = BPF_CORE_READ(psock, msg_tot_len);
	next = BPF_CORE_READ(psock, ingress_msg.next);
	/* an empty list points at itself */
	return *bytes ||
	       next != (struct list_head *)((void *)psock + bpf_core_field_offset(struct sk_psock, ingress_msg));
}

#endif
