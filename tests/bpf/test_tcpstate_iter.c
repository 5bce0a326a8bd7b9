// SPDX-License-Identifier: GPL-2.0-only
/*
 * BPF program tests for tcpstate's read side, in a private namespace:
 * - tcpstate_prime reads this CPU's copy of the kernel's SNMP counters
 *   (the per-CPU offset is measured through a per-CPU array): summed over
 *   CPUs, the snapshots equal /proc/net/netstat.
 * - tcpstate_iter (iter/tcp) reports every TIME_WAIT socket and a
 *   listener's accept queue exactly.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <bpf/bpf.h>

#include "accel_abi.h"
#include "bpf_test.h"
#include "bpfutil.h"
#include "tcpstate.skel.h"


#define N_TW 5

/* One loopback connection closed by the client first: TIME_WAIT on it. */
static int churn_one(int l, const struct sockaddr_in *sa)
{
	int c, a;
	char b = 'x';

	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (const void *)sa, sizeof(*sa)))
		return -1;
	a = accept(l, NULL, NULL);
	if (a < 0 || write(c, &b, 1) != 1 || read(a, &b, 1) != 1)
		return -1;
	close(c);
	if (read(a, &b, 1) != 0)
		return -1;
	close(a);
	return 0;
}

/* TcpExt field from /proc/net/netstat of our namespace; -1 if absent. */
static long long netstat(const char *field)
{
	char names[4096], vals[4096], *n, *v, *sn = NULL, *sv = NULL;
	long long r = -1;
	FILE *f = fopen("/proc/net/netstat", "re");

	if (!f)
		return -1;
	while (fgets(names, sizeof(names), f) && fgets(vals, sizeof(vals), f)) {
		if (strncmp(names, "TcpExt:", 7))
			continue;
		for (n = strtok_r(names, " \n", &sn), v = strtok_r(vals, " \n", &sv); n && v;
		     n = strtok_r(NULL, " \n", &sn), v = strtok_r(NULL, " \n", &sv))
			if (!strcmp(n, field))
				r = atoll(v);
	}
	fclose(f);
	return r;
}

int main(void)
{
	const char *name = "tcpstate_prime_reads_per_cpu_snmp";
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct accel_tcp_mib_snap *snaps = NULL;
	struct tcpstate_bpf *skel = NULL;
	struct bpf_link *iter = NULL;
	socklen_t sl = sizeof(sa);
	int l = -1, l2 = -1, pend[2] = { -1, -1 }, err, ncpu = 0, ifd = -1, primed = 0;
	unsigned long long sum_tw = 0;
	uint64_t cookie = 0;

	libbpf_set_print(bt_silent_print);
	err = bt_private_netns(&cookie);
	if (err) {
		printf("FAIL %s: cannot create a private netns: %s\n", name, strerror(-err));
		return 1;
	}

	l = socket(AF_INET, SOCK_STREAM, 0);
	BT_CHECK(l >= 0 && !bind(l, (void *)&sa, sl) && !listen(l, 8) &&
		 !getsockname(l, (void *)&sa, &sl), name, "listen: %s", strerror(errno));
	for (int i = 0; i < N_TW; i++)
		BT_CHECK(!churn_one(l, &sa), name, "loopback connection %d: %s", i, strerror(errno));
	BT_CHECK(netstat("TW") == N_TW, name, "TcpExtTW %lld, want %d", netstat("TW"), N_TW);

	skel = tcpstate_bpf__open();
	BT_CHECK(skel, name, "open: %s", strerror(errno));
	bt_unpin_maps(skel->obj);
	BT_CHECK(!tcpstate_bpf__load(skel), name, "load: %s", strerror(errno));
	{
		__u64 args[1] = { cookie };

		BT_CHECK(!prog_run_on_each_cpu(bpf_program__fd(skel->progs.tcpstate_prime), args,
					       sizeof(args), &ncpu) && ncpu > 0, name, "priming failed");
	}
	snaps = calloc(libbpf_num_possible_cpus(), sizeof(*snaps));
	BT_CHECK(snaps, name, "no memory");
	BT_CHECK(!bpf_map_lookup_elem(bpf_map__fd(skel->maps.tcp_mib_snap), &cookie, snaps), name,
		 "no snapshot for our namespace");
	for (int c = 0; c < libbpf_num_possible_cpus(); c++) {
		primed += snaps[c].primed == 1;
		sum_tw += snaps[c].v[ACCEL_MIB_TIMEWAITED];
	}
	BT_CHECK(primed == ncpu, name, "%d CPUs primed, want %d", primed, ncpu);
	BT_CHECK(sum_tw == N_TW, name, "TIME_WAIT entries summed over CPUs %llu, want %d (per-CPU offset wrong?)",
		 sum_tw, N_TW);
	BT_PASS(name);

	name = "tcpstate_iter_reports_timewait_and_queues";
	/* a second listener, backlog 3, two connections waiting in it */
	{
		struct sockaddr_in sb = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t sbl = sizeof(sb);
		struct accel_tcp_iter_rec r;
		int tw = 0, seen = 0;
		ssize_t n;

		l2 = socket(AF_INET, SOCK_STREAM, 0);
		BT_CHECK(l2 >= 0 && !bind(l2, (void *)&sb, sbl) && !listen(l2, 3) &&
			 !getsockname(l2, (void *)&sb, &sbl), name, "listen: %s", strerror(errno));
		for (int i = 0; i < 2; i++) {
			pend[i] = socket(AF_INET, SOCK_STREAM, 0);
			BT_CHECK(pend[i] >= 0 && !connect(pend[i], (void *)&sb, sbl), name,
				 "connect: %s", strerror(errno));
		}
		iter = bpf_program__attach_iter(skel->progs.tcpstate_iter, NULL);
		BT_CHECK(iter, name, "attach_iter: %s", strerror(errno));
		ifd = bpf_iter_create(bpf_link__fd(iter));
		BT_CHECK(ifd >= 0, name, "bpf_iter_create: %s", strerror(errno));
		while ((n = read(ifd, &r, sizeof(r))) == sizeof(r)) {
			if (r.kind == ACCEL_REC_TIMEWAIT && r.state == 6)
				tw++;
			if (r.kind == ACCEL_REC_LISTEN && r.lport == ntohs(sb.sin_port)) {
				seen++;
				BT_CHECK(r.accept_len == 2 && r.accept_max == 3 && r.syn_len == 0, name,
					 "listener queue %u/%u syn %u, want 2/3 syn 0", r.accept_len,
					 r.accept_max, r.syn_len);
			}
		}
		BT_CHECK(n == 0, name, "iterator read: %s", n < 0 ? strerror(errno) : "short record");
		BT_CHECK(tw == N_TW, name, "TIME_WAIT records %d, want %d", tw, N_TW);
		BT_CHECK(seen == 1, name, "listener seen %d times", seen);
	}
	BT_PASS(name);
out:
	if (ifd >= 0)
		close(ifd);
	bpf_link__destroy(iter);
	for (int i = 0; i < 2; i++)
		if (pend[i] >= 0)
			close(pend[i]);
	if (l2 >= 0)
		close(l2);
	if (l >= 0)
		close(l);
	free(snaps);
	tcpstate_bpf__destroy(skel);
	return bt_failed ? 1 : 0;
}
