// SPDX-License-Identifier: GPL-2.0-only
/*
 * BPF program test: tcpstate's tp_btf/inet_sock_set_state program counts
 * exactly the transitions of one loopback connection, and its netns filter
 * ignores traffic of other namespaces.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <bpf/bpf.h>

#include "accel_abi.h"
#include "bpf_test.h"
#include "bpfutil.h"
#include "tcpstate.skel.h"


static int one_connection(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int l, c, a;
	char b = 'x';

	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (void *)&sa, sl) || listen(l, 1) || getsockname(l, (void *)&sa, &sl))
		return -1;
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (void *)&sa, sl))
		return -1;
	a = accept(l, NULL, NULL);
	if (a < 0 || write(c, &b, 1) != 1 || read(a, &b, 1) != 1)
		return -1;
	close(c);
	if (read(a, &b, 1) != 0)	/* client FIN seen */
		return -1;
	close(a);
	close(l);
	return 0;
}

static struct tcpstate_bpf *load(__u64 cookie)
{
	struct tcpstate_bpf *skel = tcpstate_bpf__open();

	if (!skel)
		return NULL;
	bt_unpin_maps(skel->obj);
	skel->rodata->target_netns_cookie = cookie;
	if (tcpstate_bpf__load(skel) || tcpstate_bpf__attach(skel)) {
		tcpstate_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

int main(void)
{
	const char *name = "tcpstate_counts_one_connection";
	struct tcpstate_bpf *mine = NULL, *other = NULL;
	uint64_t v[ACCEL_TCPSTATE_TRANS_SLOTS], o[ACCEL_TCPSTATE_TRANS_SLOTS], sum = 0;
	uint64_t cookie = 0;
	int err;

	libbpf_set_print(bt_silent_print);
	err = bt_private_netns(&cookie);
	if (err) {
		printf("FAIL %s: cannot create a private netns: %s\n", name, strerror(-err));
		return 1;
	}

	mine = load(cookie);
	BT_CHECK(mine, name, "load/attach failed: %s", strerror(errno));
	other = load(cookie + 1);	/* a namespace that is not ours */
	BT_CHECK(other, name, "second load failed: %s", strerror(errno));

	BT_CHECK(!one_connection(), name, "loopback connection failed: %s", strerror(errno));

	err = percpu_array_sum_fd(bpf_map__fd(mine->maps.tcp_state_transitions), v,
				  ACCEL_TCPSTATE_TRANS_SLOTS);
	BT_CHECK(!err, name, "map read: %s", strerror(-err));
	/* listener: CLOSE→LISTEN; client: CLOSE→SYN_SENT→ESTABLISHED→FIN_WAIT1
	 * →FIN_WAIT2→(time-wait mini socket: seen as CLOSE); child:
	 * SYN_RECV→ESTABLISHED→CLOSE_WAIT→LAST_ACK→CLOSE; listener →CLOSE. */
	BT_CHECK(v[10] == 1, name, "listen transitions %llu, want 1", (unsigned long long)v[10]);
	BT_CHECK(v[2] == 1, name, "syn_sent transitions %llu, want 1", (unsigned long long)v[2]);
	BT_CHECK(v[1] == 2, name, "established transitions %llu, want 2", (unsigned long long)v[1]);
	BT_CHECK(v[4] == 1, name, "fin_wait1 transitions %llu, want 1", (unsigned long long)v[4]);
	BT_CHECK(v[8] == 1, name, "close_wait transitions %llu, want 1", (unsigned long long)v[8]);
	BT_CHECK(v[6] == 0, name, "time_wait transitions %llu, want 0 (mini socket)",
		 (unsigned long long)v[6]);
	for (int i = ACCEL_TCP_NSTATES; i < ACCEL_TCPSTATE_TRANS_SLOTS; i++)
		BT_CHECK(v[i] == 0, name, "inet6 slot %d = %llu, want 0", i, (unsigned long long)v[i]);
	BT_PASS(name);

	name = "tcpstate_netns_filter_ignores_other_namespaces";
	err = percpu_array_sum_fd(bpf_map__fd(other->maps.tcp_state_transitions), o,
				  ACCEL_TCPSTATE_TRANS_SLOTS);
	BT_CHECK(!err, name, "map read: %s", strerror(-err));
	for (int i = 0; i < ACCEL_TCPSTATE_TRANS_SLOTS; i++)
		sum += o[i];
	BT_CHECK(sum == 0, name, "filtered program counted %llu transitions", (unsigned long long)sum);
	BT_PASS(name);
out:
	tcpstate_bpf__destroy(other);
	tcpstate_bpf__destroy(mine);
	return bt_failed ? 1 : 0;
}
