// SPDX-License-Identifier: GPL-2.0-only
/*
 * `accelctl check [--json]`: what this host supports, and why not, before
 * anything is attached (in the spirit of `bpftool feature probe` and
 * bpftune -S).  Every check is a probe of the running kernel and of the
 * mounts accelctl needs; nothing on the host changes:
 *
 *  - the bpf(2) syscall and kernel BTF (what attach checks first);
 *  - bpffs and cgroup2 (found, or what attach would do about them);
 *  - each feature's own probe (the one attach runs: program and map
 *    types, helpers, tracepoints, /proc/sys);
 *  - bypass learning's tracepoint, and the sockmap self-test (which
 *    decides whether the bypass runs in learning mode);
 *  - XDP: whether libxdp can run its dispatcher here (netacct's XDP then
 *    shares the interface with other XDP programs) or falls back to the
 *    kernel's single-program (exclusive, "legacy") attach.  That one is an
 *    attach: made in a child process with its own network and mount
 *    namespaces, on their loopback device, with libxdp's state on a bpffs
 *    of that mount namespace only, so nothing of it is visible outside.
 *
 * Exit status: 0 when `attach` with the default features would succeed
 * (at least one feature available; unavailable ones it skips), 1 when it
 * would not.
 */
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "accel.h"
#include "bypass.h"
#include "log.h"
#include "netacct_xdp.skel.h"
#include "sysenv.h"

enum xdp_mode_probe {
	XDP_PROBE_DISPATCHER = 0,	/* libxdp multiprog: shared */
	XDP_PROBE_LEGACY,		/* one program per interface: exclusive */
	XDP_PROBE_FAILED,		/* no XDP attach at all */
	XDP_PROBE_NOT_RUN,		/* the scratch namespaces could not be made */
};

static const char *const xdp_mode_names[] = {
	[XDP_PROBE_DISPATCHER] = "dispatcher",
	[XDP_PROBE_LEGACY] = "exclusive",
	[XDP_PROBE_FAILED] = "failed",
	[XDP_PROBE_NOT_RUN] = "not_run",
};

static int quiet_libxdp(enum libxdp_print_level level, const char *fmt, va_list args)
{
	(void)level;
	(void)fmt;
	(void)args;
	return 0;
}

/* In the child: private netns and mount ns, a bpffs of their own for
 * libxdp, netacct's XDP program on their lo in generic mode.  Exits with
 * the xdp_mode_probe. */
static void __attribute__((noreturn)) xdp_probe_child(const char *dir)
{
	struct netacct_xdp_bpf *skel;
	struct xdp_multiprog *mp;
	struct xdp_program *prog;
	struct bpf_map *map;
	int mode;

	if (unshare(CLONE_NEWNET | CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("bpf", dir, "bpf", 0, "mode=0700"))
		_exit(XDP_PROBE_NOT_RUN);
	setenv("LIBXDP_BPFFS", dir, 1);
	libxdp_set_print(quiet_libxdp);
	skel = netacct_xdp_bpf__open();
	if (!skel)
		_exit(XDP_PROBE_FAILED);
	for (map = bpf_object__next_map(skel->obj, NULL); map;
	     map = bpf_object__next_map(skel->obj, map))
		bpf_map__set_pin_path(map, NULL);	/* nothing pinned */
	prog = xdp_program__from_bpf_obj(skel->obj, "xdp");
	if (libxdp_get_error(prog) || xdp_program__attach(prog, 1 /* lo */, XDP_MODE_SKB, 0))
		_exit(XDP_PROBE_FAILED);
	mp = xdp_multiprog__get_from_ifindex(1);
	mode = libxdp_get_error(mp) ? XDP_PROBE_FAILED :
	       xdp_multiprog__is_legacy(mp) ? XDP_PROBE_LEGACY : XDP_PROBE_DISPATCHER;
	/* the namespaces and their lo go with this process */
	_exit(mode);
}

static enum xdp_mode_probe xdp_mode_probe(void)
{
	char dir[] = "/tmp/accelctl-check.XXXXXX";
	int status = 0;
	pid_t pid;

	if (!mkdtemp(dir))
		return XDP_PROBE_NOT_RUN;
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		xdp_probe_child(dir);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	rmdir(dir);
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) > XDP_PROBE_NOT_RUN)
		return XDP_PROBE_NOT_RUN;
	return (enum xdp_mode_probe)WEXITSTATUS(status);
}

/* The mount point of the first filesystem of type fstype, or "". */
static void mount_of(const char *fstype, char *buf, size_t len)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *me;

	buf[0] = '\0';
	if (!f)
		return;
	while ((me = getmntent(f)))
		if (!strcmp(me->mnt_type, fstype)) {
			snprintf(buf, len, "%s", me->mnt_dir);
			break;
		}
	endmntent(f);
}

struct check_row {
	const char *name;
	bool ok;
	char detail[1024];
};

#define CHECK_ROWS 16

struct check_report {
	struct check_row r[CHECK_ROWS];
	int n;
	unsigned int available;		/* features, 1 << index */
	enum xdp_mode_probe xdp;
	struct bypass_selftest st;
	bool st_ran;
};

static struct check_row *row(struct check_report *cr, const char *name, bool ok)
{
	struct check_row *r = &cr->r[cr->n < CHECK_ROWS - 1 ? cr->n++ : cr->n];

	r->name = name;
	r->ok = ok;
	r->detail[0] = '\0';
	return r;
}

static void check_host(struct accel_ctx *ctx, struct check_report *cr)
{
	struct check_row *r;
	char mnt[256];
	bool bpf_ok;

	r = row(cr, "bpf", true);
	bpf_ok = !kernel_check_bpf(r->detail, sizeof(r->detail));
	r->ok = bpf_ok;
	if (bpf_ok)
		snprintf(r->detail, sizeof(r->detail), "bpf(2) usable, kernel BTF at /sys/kernel/btf/vmlinux");
	mount_of("bpf", mnt, sizeof(mnt));
	r = row(cr, "bpffs", true);
	if (mnt[0])
		snprintf(r->detail, sizeof(r->detail), "mounted at %s (pin root %.300s)", mnt, ctx->pin_root);
	else
		snprintf(r->detail, sizeof(r->detail), "not mounted: attach mounts it at %s", ACCEL_BPFFS_DEFAULT);
	mount_of("cgroup2", mnt, sizeof(mnt));
	r = row(cr, "cgroup2", true);
	if (mnt[0])
		snprintf(r->detail, sizeof(r->detail), "mounted at %s", mnt);
	else
		snprintf(r->detail, sizeof(r->detail), "not mounted (cgroup v1 only): the bypass mounts its own below %.300s",
			 ctx->state_dir);
	for (int i = 0; i < nfeatures; i++) {
		r = row(cr, features[i]->name, false);
		r->ok = bpf_ok && !features[i]->probe(ctx, r->detail, sizeof(r->detail));
		if (!bpf_ok)
			snprintf(r->detail, sizeof(r->detail), "needs the bpf(2) syscall (above)");
		else if (r->ok)
			snprintf(r->detail, sizeof(r->detail), "available");
		if (r->ok)
			cr->available |= 1u << i;
	}
}

static void check_bypass(struct check_report *cr)
{
	struct check_row *r;
	char names[256];

	r = row(cr, "bypass_learning", false);
	r->ok = !bypass_learn_probe(r->detail, sizeof(r->detail));
	if (r->ok)
		snprintf(r->detail, sizeof(r->detail), "tracepoint sock_recv_length found: learning on by default");
	bypass_selftest_run(&cr->st);
	cr->st_ran = true;
	r = row(cr, "bypass_selftest", !cr->st.unchecked);
	if (cr->st.unchecked)
		snprintf(r->detail, sizeof(r->detail), "could not run: %s (attach assumes affected)",
			 bypass_kb_names(cr->st.unchecked, names, sizeof(names)));
	else if (cr->st.affected)
		snprintf(r->detail, sizeof(r->detail),
			 "sockmap differs from TCP: %s: only learned or --event-ports servers are accelerated",
			 bypass_kb_names(cr->st.affected, names, sizeof(names)));
	else
		snprintf(r->detail, sizeof(r->detail), "sockmap behaves as TCP: every local connection is accelerated");
}

static void check_xdp(struct check_report *cr)
{
	struct check_row *r;

	cr->xdp = xdp_mode_probe();
	r = row(cr, "xdp", cr->xdp <= XDP_PROBE_LEGACY);
	switch (cr->xdp) {
	case XDP_PROBE_DISPATCHER:
		snprintf(r->detail, sizeof(r->detail),
			 "libxdp dispatcher works: netacct's XDP program shares interfaces with other libxdp programs");
		break;
	case XDP_PROBE_LEGACY:
		snprintf(r->detail, sizeof(r->detail),
			 "exclusive: libxdp cannot run its dispatcher here (freplace programs refused) and falls back "
			 "to one XDP program per interface; netacct's takes the interface, another XDP program there "
			 "is refused (use --ingress tc to leave XDP to it)");
		break;
	case XDP_PROBE_FAILED:
		snprintf(r->detail, sizeof(r->detail), "no XDP program could be attached (generic mode on lo)");
		break;
	default:
		snprintf(r->detail, sizeof(r->detail), "not checked: no scratch network/mount namespace (needs CAP_SYS_ADMIN)");
		break;
	}
}

static void print_json(const struct check_report *cr, bool attach_ok)
{
	struct json_writer jw;

	jw_init(&jw, stdout, true);
	jw_start_object(&jw);
	jw_kv_bool(&jw, "attach_would_succeed", attach_ok);
	jw_key(&jw, "checks");
	jw_start_array(&jw);
	for (int i = 0; i < cr->n; i++) {
		jw_start_object(&jw);
		jw_kv_string(&jw, "name", cr->r[i].name);
		jw_kv_bool(&jw, "ok", cr->r[i].ok);
		jw_kv_string(&jw, "detail", cr->r[i].detail);
		jw_end_object(&jw);
	}
	jw_end_array(&jw);
	jw_key(&jw, "features_available");
	jw_start_array(&jw);
	for (int i = 0; i < nfeatures; i++)
		if (cr->available & (1u << i))
			jw_string(&jw, features[i]->name);
	jw_end_array(&jw);
	jw_kv_string(&jw, "xdp_mode", xdp_mode_names[cr->xdp]);
	if (cr->st_ran) {
		jw_key(&jw, "bypass_selftest");
		jw_start_array(&jw);
		for (int i = 0; i < ACCEL_BYPASS_KB_COUNT; i++) {
			jw_start_object(&jw);
			jw_kv_string(&jw, "name", bypass_probes[i].name);
			jw_kv_string(&jw, "verdict", bypass_verdict_name(cr->st.r[i].verdict));
			jw_end_object(&jw);
		}
		jw_end_array(&jw);
	}
	jw_end_object(&jw);
	jw_finish(&jw);
}

int accel_check(struct accel_ctx *ctx)
{
	static struct check_report cr;
	int bypass = -1, netacct = -1;
	bool attach_ok;

	memset(&cr, 0, sizeof(cr));
	cr.xdp = XDP_PROBE_NOT_RUN;
	check_host(ctx, &cr);
	for (int i = 0; i < nfeatures; i++) {
		if (!strcmp(features[i]->name, "bypass"))
			bypass = i;
		if (!strcmp(features[i]->name, "netacct"))
			netacct = i;
	}
	if (bypass >= 0 && (cr.available & (1u << bypass)))
		check_bypass(&cr);
	if (netacct >= 0 && (cr.available & (1u << netacct)))
		check_xdp(&cr);
	attach_ok = cr.r[0].ok && cr.available;
	if (ctx->json) {
		print_json(&cr, attach_ok);
	} else {
		for (int i = 0; i < cr.n; i++)
			printf("%-16s %-4s %s\n", cr.r[i].name, cr.r[i].ok ? "ok" : "no", cr.r[i].detail);
		printf("attach: %s\n", attach_ok ? "would succeed" :
		       "would fail: no feature can be attached on this host (see above)");
	}
	return attach_ok ? 0 : -EOPNOTSUPP;
}
