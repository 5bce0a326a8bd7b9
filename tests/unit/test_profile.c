// SPDX-License-Identifier: GPL-2.0-only
/* Tuning profiles: parsing, validation rules, the journal's encoding. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "accel.h"
#include "cli.h"
#include "journal.h"
#include "nic.h"
#include "nic_queue.h"
#include "profile.h"
#include "sysctl.h"
#include "tune.h"
#include "cli_capture.h"

/* attach_opts.set's bit of the feature option NAME */
static int ak(const char *name)
{
	return accel_opt_bit(accel_opt_find(NULL, name));
}

static struct tune_profile *parse(const char *text, int *err)
{
	struct tune_profile *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	profile_init(p, "t");
	*err = profile_parse_string(p, "t.ini", text);
	return p;
}

static void test_key_names(void **state)
{
	char canon[TUNE_KEY_LEN], path[PATH_MAX], err[256];

	(void)state;
	assert_int_equal(sysctl_key_parse("net.ipv4.tcp_rmem", canon, sizeof(canon), path, sizeof(path),
					  err, sizeof(err)), 0);
	assert_string_equal(canon, "net.ipv4.tcp_rmem");
	assert_string_equal(path, "/proc/sys/net/ipv4/tcp_rmem");
	/* slashes, as in sysctl.d */
	assert_int_equal(sysctl_key_parse("net/core/somaxconn", canon, sizeof(canon), path, sizeof(path),
					  err, sizeof(err)), 0);
	assert_string_equal(canon, "net.core.somaxconn");
	assert_string_equal(path, "/proc/sys/net/core/somaxconn");
	/* a VLAN interface: the dot belongs to the name */
	assert_int_equal(sysctl_key_parse("net/ipv4/conf/eth0.100/forwarding", canon, sizeof(canon), path,
					  sizeof(path), err, sizeof(err)), 0);
	assert_string_equal(path, "/proc/sys/net/ipv4/conf/eth0.100/forwarding");
	assert_string_equal(canon, "net.ipv4.conf.eth0/100.forwarding");
	assert_int_equal(sysctl_key_parse("net.ipv4.conf.eth0/100.forwarding", canon, sizeof(canon), path,
					  sizeof(path), err, sizeof(err)), 0);
	assert_string_equal(path, "/proc/sys/net/ipv4/conf/eth0.100/forwarding");
	/* refused */
	assert_int_equal(sysctl_key_parse("net.ipv4.tcp_tw_recycle", canon, sizeof(canon), path,
					  sizeof(path), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "removed in Linux 4.12"));
	assert_int_equal(sysctl_key_parse("net/../../etc/passwd", canon, sizeof(canon), path, sizeof(path),
					  err, sizeof(err)), -EINVAL);
	assert_int_equal(sysctl_key_parse("net..core", canon, sizeof(canon), path, sizeof(path), err,
					  sizeof(err)), -EINVAL);
	assert_int_equal(sysctl_key_parse("net.core.some thing", canon, sizeof(canon), path, sizeof(path),
					  err, sizeof(err)), -EINVAL);
	assert_int_equal(sysctl_key_parse("", canon, sizeof(canon), path, sizeof(path), err, sizeof(err)),
			 -EINVAL);
}

static void test_values(void **state)
{
	char err[256], v[] = " 4096\t131072 \t 6291456\n";

	(void)state;
	assert_string_equal(sysctl_norm(v), "4096 131072 6291456");
	assert_int_equal(sysctl_check_value("net.core.somaxconn", "4096", "8192", err, sizeof(err)), 0);
	assert_int_equal(sysctl_check_value("net.core.somaxconn", "4096", "abc", err, sizeof(err)), -EINVAL);
	assert_int_equal(sysctl_check_value("net.core.somaxconn", "4096", "0", err, sizeof(err)), -ERANGE);
	/* RFS's socket flow table: the kernel rounds up to a power of two */
	assert_int_equal(sysctl_check_value("net.core.rps_sock_flow_entries", "0", "32768", err,
					    sizeof(err)), 0);
	assert_int_equal(sysctl_check_value("net.core.rps_sock_flow_entries", "0", "0", err,
					    sizeof(err)), 0);
	assert_int_equal(sysctl_check_value("net.core.rps_sock_flow_entries", "0", "30000", err,
					    sizeof(err)), -ERANGE);
	assert_int_equal(sysctl_check_value("net.ipv4.tcp_syncookies", "1", "3", err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "out of range (0-2)"));
	assert_int_equal(sysctl_check_value("net.ipv4.ip_local_port_range", "32768 60999", "1024 65535",
					    err, sizeof(err)), 0);
	assert_int_equal(sysctl_check_value("net.ipv4.ip_local_port_range", "32768 60999", "60000 1024",
					    err, sizeof(err)), -ERANGE);
	assert_int_equal(sysctl_check_value("net.ipv4.ip_local_port_range", "32768 60999", "0 65535",
					    err, sizeof(err)), -ERANGE);
	assert_int_equal(sysctl_check_value("net.ipv4.ip_local_port_range", "32768 60999", "1024",
					    err, sizeof(err)), -EINVAL);
	assert_int_equal(sysctl_check_value("net.ipv4.tcp_rmem", "4096 131072 6291456", "4096 87380",
					    err, sizeof(err)), -EINVAL);
	assert_int_equal(sysctl_check_value("net.ipv4.tcp_rmem", "4096 131072 6291456", "8192 4096 65536",
					    err, sizeof(err)), -ERANGE);
	/* unknown keys: the shape of the current value */
	assert_int_equal(sysctl_check_value("net.ipv4.tcp_foo", "1 2", "3 4", err, sizeof(err)), 0);
	assert_int_equal(sysctl_check_value("net.ipv4.tcp_foo", "1 2", "3", err, sizeof(err)), -EINVAL);
	assert_int_equal(sysctl_check_value("net.ipv4.tcp_congestion_control", "cubic", "bbr", err,
					    sizeof(err)), 0);
	assert_int_equal(sysctl_check_value("net.core.somaxconn", "4096", "", err, sizeof(err)), -EINVAL);
}

static void test_parse_full_profile(void **state)
{
	int err;
	struct tune_profile *p = parse(
		"; a comment\n"
		"[profile]\nname = redis\n"
		"[sysctl]\n"
		"net.core.somaxconn = >=8192\n"
		"net/ipv4/tcp_rmem =  4096   131072\t8388608\n"
		"[nic \"veth0\"]\nmtu = 9000\nrx-ring = 1024\ncombined = 2\ngro = on\ntso = off\n"
		"[nic eth1]\nlro = no\n"
		"[bypass]\nenable = on\ncgroup = /sys/fs/cgroup/redis\nports = 6379,7000-7010\n"
		"exclude-ports = 22\n"
		"[netacct]\niface = lo, veth0\niface = eth1\n"
		"[tcpstate]\nenable = off\n"
		"[auto]\nsomaxconn-max = 65535\ntw-reuse = on\nport-low-min = 10240\ninterval = 5\n",
		&err);

	(void)state;
	assert_int_equal(err, 0);
	assert_string_equal(p->name, "redis");
	assert_int_equal(p->n, 8);
	assert_int_equal(p->items[0].kind, TK_SYSCTL);
	assert_string_equal(p->items[0].key, "net.core.somaxconn");
	assert_string_equal(p->items[0].value, "8192");
	assert_true(p->items[0].at_least);
	assert_false(p->items[0].host_only);
	assert_string_equal(p->items[1].key, "net.ipv4.tcp_rmem");
	assert_string_equal(p->items[1].value, "4096 131072 8388608");
	assert_int_equal(p->items[1].line, 6);
	assert_int_equal(p->items[2].kind, TK_MTU);
	assert_string_equal(p->items[2].ifname, "veth0");
	assert_int_equal(p->items[3].kind, TK_RING_RX);
	assert_int_equal(p->items[4].kind, TK_CH_COMBINED);
	assert_int_equal(p->items[5].kind, TK_FEAT_GRO);
	assert_string_equal(p->items[6].value, "off");
	assert_int_equal(p->items[7].kind, TK_FEAT_LRO);
	assert_string_equal(p->items[7].ifname, "eth1");
	assert_string_equal(p->items[7].value, "off");
	assert_int_equal(p->enable_bypass, PROFILE_ON);
	assert_int_equal(p->enable_tcpstate, PROFILE_OFF);
	assert_int_equal(p->enable_netacct, PROFILE_UNSET);
	assert_string_equal(p->attach.cgroup, "/sys/fs/cgroup/redis");
	assert_string_equal(p->raw[ak("ports")], "6379,7000-7010");
	assert_int_equal(p->attach.ports.n, 2);
	assert_string_equal(p->raw[ak("iface")], "lo, veth0,eth1");
	assert_int_equal(p->attach.nifaces, 3);
	assert_string_equal(p->attach.ifaces[2], "eth1");
	assert_true(p->has_auto);
	assert_int_equal(p->bounds.somaxconn_max, 65535);
	assert_true(p->bounds.tw_reuse);
	assert_int_equal(p->bounds.port_low_min, 10240);
	assert_int_equal(p->bounds.interval, 5);
	assert_int_equal(p->bounds.port_pressure_pct, 80);
	free(p);
}

static void expect_error(const char *text, const char *needle)
{
	int err;
	struct tune_profile *p = parse(text, &err);

	assert_int_equal(err, -ACCEL_ECONFIG);
	if (!strstr(p->err, needle))
		fail_msg("error '%s' does not contain '%s'", p->err, needle);
	free(p);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_error("[sysctl]\nnet.core.somaxconn = 1\nnot a key value line\n", "t.ini:3: malformed line");
	expect_error("[sysctls]\nx = 1\n", "t.ini:2: unknown section [sysctls]");
	expect_error("x = 1\n", "'x' is outside any section");
	expect_error("[sysctl]\nnet.ipv4.tcp_tw_recycle = 1\n", "removed in Linux 4.12");
	expect_error("[sysctl]\nnet.core.somaxconn = 1\nnet/core/somaxconn = 2\n",
		     "'net.core.somaxconn' is set twice (first on line 2)");
	expect_error("[sysctl]\nnet.core.somaxconn = >= lots\n", "'>=' takes one number");
	expect_error("[sysctl]\nnet.core.somaxconn =\n", "empty value");
	expect_error("[nic \"veth0\"]\ngro = maybe\n", "gro: 'maybe' is not on or off");
	expect_error("[nic \"veth0\"]\nmtu = -5\n", "mtu: '-5' is not a positive number");
	expect_error("[nic \"veth0\"]\nrings = 5\n", "unknown NIC setting 'rings'");
	expect_error("[nic \"bad name\"]\nmtu = 1500\n", "not a valid interface name");
	expect_error("[bypass]\nports = 0-70000\n", "ports:");
	expect_error("[bypass]\nspeed = fast\n", "unknown key 'speed' in [bypass]");
	expect_error("[auto]\nport-low-min = 80\n", "port-low-min");
	expect_error("[auto]\nfoo = 1\n", "unknown [auto] key 'foo'");
}

static void test_builtin_loopback(void **state)
{
	struct tune_profile *p = calloc(1, sizeof(*p));

	(void)state;
	assert_non_null(p);
	assert_int_equal(profile_builtin(p, "loopback"), 0);
	assert_true(p->builtin);
	assert_true(p->n > 5);
	for (int i = 0; i < p->n; i++) {
		const char *why = profile_builtin_reason("loopback", p->items[i].key);

		/* conservative: never a NIC setting by default */
		assert_int_equal(p->items[i].kind, TK_SYSCTL);
		assert_true(p->items[i].host_only);
		/* every value documented with its reason */
		if (!why || strlen(why) < 40)
			fail_msg("built-in key %s has no documented reason", p->items[i].key);
		assert_null(strstr(p->items[i].key, "tcp_tw_recycle"));
	}
	assert_true(p->has_auto);
	assert_true(p->bounds.somaxconn_max > 8192);
	assert_int_equal(profile_builtin(p, "nope"), -ACCEL_ECONFIG);
	assert_non_null(strstr(p->err, "no built-in profile 'nope'"));
	free(p);
}

static void test_merge_attach_opts(void **state)
{
	static struct accel_ctx ctx;
	int err;
	struct tune_profile *p = parse("[bypass]\ncgroup = /cg/from-profile\nports = 6379\n"
				       "[netacct]\niface = lo,eth9\n[tcpstate]\nenable = off\n", &err);

	(void)state;
	assert_int_equal(err, 0);
	memset(&ctx, 0, sizeof(ctx));
	ctx.attach.cgroup = "/cg/from-cli";	/* the command line wins */
	ctx.attach.set = 1u << ak("cgroup");
	assert_int_equal(profile_merge_attach_opts(&ctx, p), 0);
	assert_string_equal(ctx.attach.cgroup, "/cg/from-cli");
	assert_int_equal(ctx.attach.ports.n, 1);
	assert_int_equal(ctx.attach.ports.r[0].lo, 6379);
	assert_int_equal(ctx.attach.nifaces, 2);
	assert_string_equal(ctx.attach.ifaces[1], "eth9");
	assert_true(ctx.attach.features_explicit);
	assert_int_equal(ctx.attach.features & (1u << feature_index(feature_by_name("tcpstate"))), 0);
	/* --features given: the profile's enable= does not override it */
	memset(&ctx, 0, sizeof(ctx));
	ctx.attach.features_explicit = true;
	ctx.attach.features = 1u << feature_index(feature_by_name("tcpstate"));
	assert_int_equal(profile_merge_attach_opts(&ctx, p), 0);
	assert_int_equal(ctx.attach.features, 1u << feature_index(feature_by_name("tcpstate")));
	free(p);
}

static void test_journal_roundtrip(void **state)
{
	static struct journal j, k;
	char buf[16384];
	int n;

	(void)state;
	memset(&j, 0, sizeof(j));
	snprintf(j.netns, sizeof(j.netns), "test ns");
	j.netns_cookie = 4242;
	snprintf(j.profile, sizeof(j.profile), "loopback");
	j.since = 1700000000;
	j.auto_tune = true;
	j.bounds.somaxconn_max = 65535;
	j.bounds.tw_reuse = true;
	j.bounds.interval = 7;
	j.n = 3;
	j.e[0].kind = TK_SYSCTL;
	snprintf(j.e[0].key, sizeof(j.e[0].key), "net.ipv4.tcp_rmem");
	snprintf(j.e[0].orig, sizeof(j.e[0].orig), "4096\t131072 6291456");
	snprintf(j.e[0].new_val, sizeof(j.e[0].new_val), "4096 131072 8388608");
	snprintf(j.e[0].source, sizeof(j.e[0].source), "profile loopback");
	j.e[1].kind = TK_FEAT_TSO;
	snprintf(j.e[1].ifname, sizeof(j.e[1].ifname), "veth0");
	snprintf(j.e[1].key, sizeof(j.e[1].key), "tso");
	snprintf(j.e[1].orig, sizeof(j.e[1].orig), "tx-tcp-segmentation=on,tx-tcp6-segmentation=off");
	snprintf(j.e[1].new_val, sizeof(j.e[1].new_val), "100%%");
	j.e[2].kind = TK_SYSCTL;
	j.e[2].global = true;
	snprintf(j.e[2].key, sizeof(j.e[2].key), "fs.file-max");
	snprintf(j.e[2].orig, sizeof(j.e[2].orig), "%s", "");
	snprintf(j.e[2].new_val, sizeof(j.e[2].new_val), "32");
	snprintf(j.e[2].prev, sizeof(j.e[2].prev), "16");
	snprintf(j.e[2].source, sizeof(j.e[2].source), "auto: TcpExtListenOverflows +3");
	n = journal_format(&j, buf, sizeof(buf));
	assert_true(n > 0);
	assert_null(strchr(buf, '\t'));
	assert_int_equal(journal_parse(&k, buf), 0);
	assert_string_equal(k.netns, "test ns");
	assert_int_equal(k.netns_cookie, 4242);
	assert_true(k.auto_tune);
	assert_int_equal(k.bounds.somaxconn_max, 65535);
	assert_true(k.bounds.tw_reuse);
	assert_int_equal(k.bounds.interval, 7);
	assert_int_equal(k.n, 3);
	assert_string_equal(k.e[0].orig, "4096\t131072 6291456");
	assert_string_equal(k.e[0].new_val, "4096 131072 8388608");
	assert_int_equal(k.e[1].kind, TK_FEAT_TSO);
	assert_string_equal(k.e[1].ifname, "veth0");
	assert_string_equal(k.e[1].new_val, "100%");
	assert_string_equal(k.e[2].orig, "");
	assert_string_equal(k.e[2].prev, "16");
	assert_true(k.e[2].global);
	assert_string_equal(k.e[2].source, "auto: TcpExtListenOverflows +3");
	assert_ptr_equal(journal_find(&k, TK_SYSCTL, "", "fs.file-max"), &k.e[2]);
	assert_null(journal_find(&k, TK_SYSCTL, "", "fs.nr_open"));
	/* anything else is refused, never half-read */
	snprintf(buf, sizeof(buf), "not a journal\n");
	assert_int_equal(journal_parse(&k, buf), -EINVAL);
	snprintf(buf, sizeof(buf), "accelctl-tune-journal 1\nitem bogus - k 0 a b c d\n");
	assert_int_equal(journal_parse(&k, buf), -EINVAL);
}

/* The kept mark (detach --keep-tuning): format 2; a journal without it
 * stays format 1, and format 1 from before the mark is still read. */
static void test_journal_kept_mark(void **state)
{
	static struct journal j, k;
	char buf[16384];

	(void)state;
	memset(&j, 0, sizeof(j));
	snprintf(j.profile, sizeof(j.profile), "loopback");
	j.n = 1;
	j.e[0].kind = TK_SYSCTL;
	snprintf(j.e[0].key, sizeof(j.e[0].key), "net.ipv4.tcp_fin_timeout");
	snprintf(j.e[0].orig, sizeof(j.e[0].orig), "60");
	snprintf(j.e[0].new_val, sizeof(j.e[0].new_val), "30");
	assert_true(journal_format(&j, buf, sizeof(buf)) > 0);
	assert_true(!strncmp(buf, "accelctl-tune-journal 1\n", 24));
	assert_null(strstr(buf, "\nkept "));
	assert_int_equal(journal_parse(&k, buf), 0);
	assert_int_equal(k.kept, 0);

	j.kept = 1700000123;
	assert_true(journal_format(&j, buf, sizeof(buf)) > 0);
	assert_true(!strncmp(buf, "accelctl-tune-journal 2\n", 24));
	assert_non_null(strstr(buf, "\nkept 1700000123\n"));
	assert_int_equal(journal_parse(&k, buf), 0);
	assert_int_equal(k.kept, 1700000123);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.e[0].orig, "60");

	/* a journal written before the mark existed (format 1, verbatim) */
	snprintf(buf, sizeof(buf), "accelctl-tune-journal 1\nnetns -\nnetns_cookie 7\nprofile loopback\n"
		 "since 1700000000\nauto 0\nbound interval 10\n"
		 "item sysctl - net.ipv4.tcp_fin_timeout 0 60 30 %% profile%%20loopback\n");
	assert_int_equal(journal_parse(&k, buf), 0);
	assert_int_equal(k.kept, 0);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.e[0].new_val, "30");
	assert_string_equal(k.e[0].source, "profile loopback");
	/* the mark belongs to format 2; a newer format is refused */
	snprintf(buf, sizeof(buf), "accelctl-tune-journal 1\nkept 5\n");
	assert_int_equal(journal_parse(&k, buf), -EINVAL);
	snprintf(buf, sizeof(buf), "accelctl-tune-journal 2\nkept 0\n");
	assert_int_equal(journal_parse(&k, buf), -EINVAL);
	snprintf(buf, sizeof(buf), "accelctl-tune-journal 3\n");
	assert_int_equal(journal_parse(&k, buf), -EINVAL);
	snprintf(buf, sizeof(buf), "accelctl-tune-journal 12\n");
	assert_int_equal(journal_parse(&k, buf), -EINVAL);
}

static void test_nic_limits(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(nic_check_count("eth0 rx-ring", 4096, 4096, err, sizeof(err)), 0);
	assert_int_equal(nic_check_count("eth0 rx-ring", 8192, 4096, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "over the device maximum 4096"));
	assert_int_equal(nic_check_count("veth0 combined", 2, 0, err, sizeof(err)), -EOPNOTSUPP);
	assert_non_null(strstr(err, "not supported by this device"));
	assert_int_equal(nic_check_count("eth0 rx", 0, 8, err, sizeof(err)), -ERANGE);
}

/* Coalescing, RPS, XPS and RFS values: canonical forms, and bad values
 * refused at parse time (exit 2 before anything is read or written). */
static void test_nic_queue_and_coalesce_values(void **state)
{
	char out[TUNE_VAL_LEN], err[256];
	int e;
	struct tune_profile *p;

	(void)state;
	assert_int_equal(nicq_value_norm(TK_RPS_CPUS, "0000,00F0", out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "f0");
	out[0] = '\0';
	assert_int_equal(nicq_value_norm(TK_XPS_CPUS, "0=1 3=00000002", out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "0=1 3=2");
	out[0] = '\0';
	assert_int_equal(nicq_value_norm(TK_RPS_CPUS, "000", out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "0");
	assert_int_equal(nicq_value_norm(TK_RPS_CPUS, "0x3", out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a hexadecimal CPU mask"));
	assert_int_equal(nicq_value_norm(TK_RPS_CPUS, "1=3 1=4", out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "queue 1 is given twice"));
	assert_int_equal(nicq_value_norm(TK_RPS_CPUS, "a=3", out, sizeof(out), err, sizeof(err)), -EINVAL);
	out[0] = '\0';
	assert_int_equal(nicq_value_norm(TK_RPS_FLOW_CNT, "4096", out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "4096");
	assert_int_equal(nicq_value_norm(TK_RPS_FLOW_CNT, "100", out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "power of two"));
	assert_int_equal(nicq_mask_top_cpu("0"), -1);
	assert_int_equal(nicq_mask_top_cpu("1"), 0);
	assert_int_equal(nicq_mask_top_cpu("f0"), 7);
	assert_int_equal(nicq_mask_top_cpu("100000000"), 32);
	assert_true(nicq_ncpus() >= 1);

	assert_int_equal(nic_value_norm(TK_COAL_RX_USECS, "0", out, sizeof(out), err, sizeof(err)), 0);
	assert_int_equal(nic_value_norm(TK_COAL_TX_FRAMES, "-3", out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_int_equal(nic_value_norm(TK_COAL_ADAPTIVE_RX, "Yes", out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "on");
	assert_false(nic_kind_is_feature(TK_COAL_ADAPTIVE_RX));
	assert_true(nic_kind_is_feature(TK_FEAT_LRO));

	p = parse("[nic \"veth0\"]\nrx-usecs = 50\ntx-frames = 0\nadaptive-tx = off\n"
		  "rps-cpus = 0=1  1=2\nxps-cpus = 3\nrps-flow-cnt = 2048\n", &e);
	assert_int_equal(e, 0);
	assert_int_equal(p->n, 6);
	assert_int_equal(p->items[0].kind, TK_COAL_RX_USECS);
	assert_string_equal(p->items[1].value, "0");
	assert_int_equal(p->items[2].kind, TK_COAL_ADAPTIVE_TX);
	assert_int_equal(p->items[3].kind, TK_RPS_CPUS);
	assert_string_equal(p->items[3].value, "0=1 1=2");
	assert_int_equal(p->items[5].kind, TK_RPS_FLOW_CNT);
	free(p);
	expect_error("[nic \"veth0\"]\nrx-usecs = -1\n", "rx-usecs: '-1' is not a number");
	expect_error("[nic \"veth0\"]\nrps-cpus = zz\n", "rps-cpus: 'zz' is not a hexadecimal CPU mask");
	expect_error("[nic \"veth0\"]\nrps-flow-cnt = 1000\n", "rps-flow-cnt: '1000' is not 0 or a power of two");
	expect_error("[nic \"veth0\"]\nrings = 5\n", "rps-flow-cnt)");
}

/* An RTM_NEWLINK reply as the kernel builds it, with IFLA_MTU's payload
 * mtu_len bytes long. */
static struct nlmsghdr *link_reply(char *buf, size_t mtu_len)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	uint32_t mtu = 1500;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = 7;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "veth0");
	mnl_attr_put(nlh, IFLA_MTU, mtu_len, &mtu);
	mnl_attr_put_u32(nlh, IFLA_MIN_MTU, 68);
	mnl_attr_put_u32(nlh, IFLA_MAX_MTU, 65535);
	return nlh;
}

static void test_nic_link_reply_is_checked(void **state)
{
	char buf[512] __attribute__((aligned(4))), err[256];
	uint32_t mtu = 1, min = 1, max = 1;
	struct nlmsghdr *nlh;

	(void)state;
	nlh = link_reply(buf, 4);
	assert_int_equal(nic_link_parse(nlh, &mtu, &min, &max, err, sizeof(err)), 0);
	assert_int_equal(mtu, 1500);
	assert_int_equal(min, 68);
	assert_int_equal(max, 65535);

	/* a u32 with two bytes of payload */
	nlh = link_reply(buf, 2);
	assert_int_equal(nic_link_parse(nlh, &mtu, &min, &max, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "RTM_GETLINK: attribute 4 is not a valid u32"));

	/* the last attribute cut by the end of the message */
	nlh = link_reply(buf, 4);
	nlh->nlmsg_len -= 2;
	assert_int_equal(nic_link_parse(nlh, &mtu, &min, &max, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "claims 8 bytes, 6 are left"));

	/* an attribute header cut in half */
	nlh = link_reply(buf, 4);
	nlh->nlmsg_len -= 6;
	assert_int_equal(nic_link_parse(nlh, &mtu, &min, &max, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "2 stray bytes"));

	/* shorter than struct ifinfomsg */
	nlh = link_reply(buf, 4);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
	assert_int_equal(nic_link_parse(nlh, &mtu, &min, &max, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "shorter than its header"));
}

/* tune_read()/tune_write() resolve the key once (tune_resolve): a refused
 * name never reaches /proc/sys, a missing one is named canonically. */
static void test_tune_read_write_sysctl(void **state)
{
	char buf[TUNE_VAL_LEN], want[TUNE_VAL_LEN], err[256];

	(void)state;
	assert_true(read_file("/proc/sys/net/core/somaxconn", want, sizeof(want)) > 0);
	assert_int_equal(tune_read(NULL, TK_SYSCTL, "", "net/core/somaxconn", buf, sizeof(buf), err,
				   sizeof(err)), 0);
	assert_string_equal(sysctl_norm(buf), sysctl_norm(want));
	err[0] = '\0';
	assert_int_equal(tune_read(NULL, TK_SYSCTL, "", "net/../../etc/passwd", buf, sizeof(buf), err,
				   sizeof(err)), -EINVAL);
	assert_true(err[0]);
	assert_int_equal(tune_write(NULL, TK_SYSCTL, "", "net..core", "1", err, sizeof(err)), -EINVAL);
	assert_int_equal(tune_read(NULL, TK_SYSCTL, "", "net/core/accelctl_no_such_key", buf,
				   sizeof(buf), err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "net.core.accelctl_no_such_key: no such sysctl"));
	assert_int_not_equal(tune_write(NULL, TK_SYSCTL, "", "net.core.accelctl_no_such_key", "1", err,
					sizeof(err)), 0);
	assert_non_null(strstr(err, "net.core.accelctl_no_such_key = 1: the kernel refused it"));
}

/* Every feature option of attach is an INI key of its section and the
 * other way round: the same values give the same options, a bad value
 * the same reason. */
static const struct command parity_attach = { "attach", NULL, "test", NULL, "features", NULL, true };

static const struct {
	const char *key;
	const char *good, *bad;
} parity[] = {
	{ "cgroup", "/sys/fs/cgroup/redis", "" },
	{ "ports", "6379,7000-7010", "70000" },
	{ "exclude-ports", "22", "22-" },
	{ "event-ports", "6379", "redis" },
	{ "learn", "off", "maybe" },
	{ "learn-conns", "5", "0" },
	{ "learn-window", "60", "86401" },
	{ "max-connections", "262144", "1023" },
	{ "iface", "lo,eth1", "bad/name" },
	{ "ingress", "tc", "fast" },
};

/* The feature options profiles take (every one with a section). */
static size_t ini_opts(void)
{
	size_t n = 0;

	accel_opt_for_each(i, o)
		n += o->section != NULL;
	return n;
}

/* cli_parse attach --NAME VALUE; its exit code, stderr in msg */
static int cli_one(const char *name, const char *value, struct accel_ctx *ctx, char *msg, size_t len)
{
	char opt[64], *argv[] = { "accelctl", opt, (char *)value, NULL };

	snprintf(opt, sizeof(opt), "--%s", name);
	return cli_parse_captured(&parity_attach, 3, argv, ctx, msg, len);
}

static void test_attach_options_cli_ini_parity(void **state)
{
	(void)state;
	assert_int_equal(ARRAY_SIZE(parity), ini_opts());
	for (size_t i = 0; i < ARRAY_SIZE(parity); i++) {
		const struct accel_opt *d = accel_opt_find(NULL, parity[i].key);
		struct accel_ctx cli, ini;
		struct tune_profile *p;
		struct attach_opts scratch = { 0 };
		char text[256], msg[1024], why[160], want[256];
		const struct accel_opt *id = cli_opt_by_name(d->name);
		int err;
		bool listed = false;

		/* the option exists and attach takes it */
		assert_true(id != NULL);
		accel_opt_for_each(f, o)
			listed |= o == id && parity_attach.feature_opts;
		if (!listed)
			fail_msg("attach does not take --%s", d->name);
		/* a good value: the same options either way */
		assert_int_equal(cli_one(d->name, parity[i].good, &cli, msg, sizeof(msg)), 0);
		snprintf(text, sizeof(text), "[%s]\n%s = %s\n", d->section, d->name, parity[i].good);
		p = parse(text, &err);
		assert_int_equal(err, 0);
		memset(&ini, 0, sizeof(ini));
		ini.attach.learn = -1;
		assert_int_equal(profile_merge_attach_opts(&ini, p), 0);
		assert_int_equal(cli.attach.set, 1u << ak(parity[i].key));
		assert_int_equal(ini.attach.set, cli.attach.set);
		if (!strcmp(parity[i].key, "cgroup")) {
			assert_string_equal(ini.attach.cgroup, cli.attach.cgroup);
			ini.attach.cgroup = cli.attach.cgroup;
		}
		assert_memory_equal(&ini.attach, &cli.attach, sizeof(cli.attach));
		free(p);
		/* a bad value: refused by both, with the same reason */
		assert_int_equal(accel_opt_parse(d, &scratch, parity[i].bad, why, sizeof(why)), -EINVAL);
		assert_int_equal(cli_one(d->name, parity[i].bad, &cli, msg, sizeof(msg)), EXIT_USAGE);
		snprintf(want, sizeof(want), "--%s: %s", d->name, why);
		if (!strstr(msg, want))
			fail_msg("--%s %s: '%s' lacks '%s'", d->name, parity[i].bad, msg, want);
		snprintf(text, sizeof(text), "[%s]\n%s = %s\n", d->section, d->name, parity[i].bad);
		p = parse(text, &err);
		assert_int_equal(err, -ACCEL_ECONFIG);
		snprintf(want, sizeof(want), "%s: %s", d->name, why);
		if (!strstr(p->err, want))
			fail_msg("[%s] %s = %s: '%s' lacks '%s'", d->section, d->name, parity[i].bad, p->err, want);
		free(p);
		/* and only in its own section */
		snprintf(text, sizeof(text), "[%s]\n%s = %s\n", strcmp(d->section, "bypass") ? "bypass" : "netacct",
			 d->name, parity[i].good);
		p = parse(text, &err);
		assert_int_equal(err, -ACCEL_ECONFIG);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_names),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_parse_full_profile),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_builtin_loopback),
		cmocka_unit_test(test_merge_attach_opts),
		cmocka_unit_test(test_journal_roundtrip),
		cmocka_unit_test(test_journal_kept_mark),
		cmocka_unit_test(test_nic_limits),
		cmocka_unit_test(test_nic_queue_and_coalesce_values),
		cmocka_unit_test(test_tune_read_write_sysctl),
		cmocka_unit_test(test_nic_link_reply_is_checked),
		cmocka_unit_test(test_attach_options_cli_ini_parity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
