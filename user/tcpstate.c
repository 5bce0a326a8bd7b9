// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcpstate: TCP lifecycle accounting (bpf/tcpstate.bpf.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "accel.h"
#include "accel_abi.h"
#include "bpfutil.h"
#include "log.h"
#include "tcpstate.skel.h"

static const char *const tcp_state_names[ACCEL_TCP_NSTATES] = {
	[1] = "established", [2] = "syn_sent", [3] = "syn_recv",
	[4] = "fin_wait1", [5] = "fin_wait2", [6] = "time_wait",
	[7] = "close", [8] = "close_wait", [9] = "last_ack",
	[10] = "listen", [11] = "closing", [12] = "new_syn_recv",
};

static const char *const family_names[ACCEL_FAM_MAX] = { "inet", "inet6" };

static int tcpstate_probe(struct accel_ctx *ctx, char *why, size_t len)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int id;

	(void)ctx;
	if (!btf) {
		snprintf(why, len, "kernel BTF is not available (CONFIG_DEBUG_INFO_BTF)");
		return -EOPNOTSUPP;
	}
	id = btf__find_by_name_kind(btf, "btf_trace_inet_sock_set_state", BTF_KIND_TYPEDEF);
	btf__free(btf);
	if (id < 0) {
		snprintf(why, len, "the kernel has no sock:inet_sock_set_state tracepoint (needs 4.16+ with BTF)");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int tcpstate_attach(struct accel_ctx *ctx)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	const struct accel_feature *self = feature_by_name("tcpstate");
	struct tcpstate_bpf *skel = NULL;
	char dir[PATH_MAX];
	int err;

	err = feature_pin_dir(ctx, self, dir, sizeof(dir));
	if (err)
		return err;
	err = mkdir_p(dir, 0700);
	if (err)
		return err;
	oopts.pin_root_path = dir;
	skel = tcpstate_bpf__open_opts(&oopts);
	if (!skel) {
		err = -errno;
		goto cleanup;
	}
	skel->rodata->target_netns_cookie = ctx->netns ? ctx->netns_cookie : 0;
	err = tcpstate_bpf__load(skel);
	if (err) {
		pr_warn("loading tcpstate programs failed: %s (run with -v for the verifier log)\n",
			strerror(-err));
		goto cleanup;
	}
	err = tcpstate_bpf__attach(skel);
	if (err)
		goto cleanup;
	err = link_pin(skel->links.tcpstate_set_state, dir, "tcpstate_set_state");
cleanup:
	tcpstate_bpf__destroy(skel);
	if (err)
		feature_unpin_all(ctx, self);
	return err;
}

static int tcpstate_detach(struct accel_ctx *ctx)
{
	return feature_unpin_all(ctx, feature_by_name("tcpstate"));
}

static bool tcpstate_attached(struct accel_ctx *ctx)
{
	return feature_pins_exist(ctx, feature_by_name("tcpstate"));
}

static int tcpstate_collect(struct accel_ctx *ctx, struct metrics *m)
{
	uint64_t trans[ACCEL_TCPSTATE_TRANS_SLOTS];
	struct metric_family *f;
	char dir[PATH_MAX];
	int err;

	err = feature_pin_dir(ctx, feature_by_name("tcpstate"), dir, sizeof(dir));
	if (err)
		return err;
	err = percpu_array_sum(dir, "tcp_state_transitions", trans, ACCEL_TCPSTATE_TRANS_SLOTS);
	if (err)
		return err;
	f = metrics_family(m, "accel_tcp_state_transitions_total", METRIC_COUNTER,
			   "TCP socket state changes seen by tp_btf/inet_sock_set_state, by new state");
	for (int fam = 0; fam < ACCEL_FAM_MAX; fam++)
		for (int s = 1; s < ACCEL_TCP_NSTATES; s++)
			if (tcp_state_names[s] && s != 6 /* never seen: mini-socket */)
				metric_add(f, trans[fam * ACCEL_TCP_NSTATES + s], "family",
					   family_names[fam], "state", tcp_state_names[s], NULL);
	return 0;
}

static void tcpstate_show(struct accel_ctx *ctx, const struct metrics *m, FILE *out)
{
	const struct metric_family *f = metrics_find_family(m, "accel_tcp_state_transitions_total");

	(void)ctx;
	if (!f)
		return;
	fprintf(out, "TCP state transitions\n  %-14s %14s %14s\n", "state", "inet", "inet6");
	for (int s = 1; s < ACCEL_TCP_NSTATES; s++) {
		const struct metric_sample *a, *b;

		if (!tcp_state_names[s] || s == 6)
			continue;
		a = metrics_find(m, f->name, "family", "inet", "state", tcp_state_names[s], NULL);
		b = metrics_find(m, f->name, "family", "inet6", "state", tcp_state_names[s], NULL);
		fprintf(out, "  %-14s %14.0f %14.0f\n", tcp_state_names[s], a ? a->value : 0,
			b ? b->value : 0);
	}
}

const struct accel_feature feature_tcpstate = {
	.name = "tcpstate",
	.summary = "TCP lifecycle: state transitions, TIME_WAIT, SYN and accept queues",
	.probe = tcpstate_probe,
	.attach = tcpstate_attach,
	.detach = tcpstate_detach,
	.attached = tcpstate_attached,
	.collect = tcpstate_collect,
	.show = tcpstate_show,
};
