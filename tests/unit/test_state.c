// SPDX-License-Identifier: GPL-2.0-only
/* The state dir's records (user/state.c): what is written is read back
 * exactly, whatever the bytes; anything incomplete, unknown or newer is
 * refused with file, line and reason, and leaves the record untouched. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "accel.h"
#include "autotune.h"
#include "bypass.h"
#include "journal.h"
#include "state.h"
#include "tmpdir.h"

enum color { RED, GREEN, BLUE };
static const char *const color_names[] = { "red", "green", "blue" };

struct item {
	char name[16];
	uint16_t port;
	enum color color;
};

struct rec {
	char text[64];
	uint64_t big;
	unsigned int small;
	long long when;
	int delta;
	bool flag;
	int n;
	struct item items[3];
};

static const struct state_field rec_fields[] = {
	STATE_F_STR("text", struct rec, text, STATE_REQUIRED),
	STATE_F_U64("big", struct rec, big, STATE_REQUIRED, 0, 0),
	STATE_F_U64("small", struct rec, small, 0, 1, 1000),
	STATE_F_I64("when", struct rec, when, 0),
	STATE_F_I64("delta", struct rec, delta, 0),
	STATE_F_BOOL("flag", struct rec, flag, 0),
};

static const struct state_field item_fields[] = {
	STATE_F_STR("item", struct item, name, STATE_REQUIRED),
	STATE_F_U64("port", struct item, port, STATE_REQUIRED, 1, 65535),
	STATE_F_ENUM("color", struct item, color, 0, color_names),
};

static const struct state_group rec_group = {
	.fields = item_fields, .nfields = ARRAY_SIZE(item_fields),
	.off = offsetof(struct rec, items), .size = sizeof(struct item), .max = 3,
	.count_off = offsetof(struct rec, n),
};

/* v0 ("legacy"): "text" alone on the first line. */
static int rec_legacy(char *text, unsigned int version, void *r, struct state_err *err)
{
	struct rec *rec = r;
	char *nl = strchr(text, '\n');

	if (version || !nl || (size_t)(nl - text) >= sizeof(rec->text))
		return state_fail(err, 1, "not a v0 test record");
	memcpy(rec->text, text, (size_t)(nl - text));
	rec->big = 1;
	return 0;
}

static const struct state_kind rec_kind = {
	.name = "test", .version = 2,
	.fields = rec_fields, .nfields = ARRAY_SIZE(rec_fields),
	.group = &rec_group, .size = sizeof(struct rec), .legacy = rec_legacy,
};

static struct rec hostile(void)
{
	struct rec r = { .big = UINT64_MAX, .small = 1000, .when = INT64_MIN, .delta = -7,
			 .flag = true, .n = 2 };

	snprintf(r.text, sizeof(r.text), "a=b\nc\\d\\x41\t\xff\xc3\xa9 \x01%%");
	snprintf(r.items[0].name, sizeof(r.items[0].name), "=\n=");
	r.items[0].port = 65535;
	r.items[0].color = BLUE;
	snprintf(r.items[1].name, sizeof(r.items[1].name), "%s", "");
	r.items[1].port = 1;
	return r;
}

static void test_escape_roundtrip(void **state)
{
	char all[256], esc[1100], back[300];

	(void)state;
	for (int i = 0; i < 255; i++)
		all[i] = (char)(i + 1);
	all[255] = '\0';
	assert_true(state_escape(all, 255, esc, sizeof(esc)) > 0);
	assert_null(strchr(esc, '\n'));
	for (const char *p = esc; *p; p++)
		assert_true(*p >= 0x20 && *p <= 0x7e);
	assert_int_equal(state_unescape(esc, back, sizeof(back)), 255);
	assert_memory_equal(all, back, 256);
	assert_int_equal(state_escape(all, 255, esc, 10), -ENOSPC);
	assert_int_equal(state_unescape("a\\q", back, sizeof(back)), -EINVAL);
	assert_int_equal(state_unescape("a\\x4", back, sizeof(back)), -EINVAL);
	assert_int_equal(state_unescape("a\\", back, sizeof(back)), -EINVAL);
}

static void test_roundtrip_hostile_values(void **state)
{
	struct rec in = hostile(), out;
	char buf[4096];
	struct state_err err;
	int n;

	(void)state;
	n = state_format(&rec_kind, &in, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(strlen(buf), n);
	assert_true(!strncmp(buf, "accelctl-test 2\n", 16));
	assert_non_null(strstr(buf, "\ntext=a=b\\nc\\\\d\\\\x41\\x09\\xff\\xc3\\xa9 \\x01%\n"));
	memset(&out, 0x55, sizeof(out));
	assert_int_equal(state_parse(&rec_kind, "f", buf, &out, &err), 0);
	assert_memory_equal(&in, &out, offsetof(struct rec, items));
	assert_int_equal(out.n, 2);
	assert_string_equal(out.items[0].name, "=\n=");
	assert_int_equal(out.items[0].port, 65535);
	assert_int_equal(out.items[0].color, BLUE);
	assert_string_equal(out.items[1].name, "");
	assert_int_equal(out.items[1].color, RED);
	/* too small a buffer is an error, never a cut record */
	assert_int_equal(state_format(&rec_kind, &in, buf, 40), -ENOSPC);
}

/* parse TEXT: expect -EINVAL, the line and a reason containing WHY, and
 * the record untouched. */
static void refused(const char *text, int line, const char *why)
{
	struct rec out, before;
	struct state_err err;
	char *buf = strdup(text);

	memset(&out, 0x5a, sizeof(out));
	before = out;
	assert_int_equal(state_parse(&rec_kind, "/x/test", buf, &out, &err), -EINVAL);
	if (!strstr(err.msg, why) || strncmp(err.msg, "/x/test: ", 9))
		fail_msg("reason '%s' lacks '/x/test: ' or '%s'", err.msg, why);
	assert_int_equal(err.line, line);
	assert_memory_equal(&out, &before, sizeof(out));
	free(buf);
}

#define HDR "accelctl-test 2\n"
#define OK HDR "text=t\nbig=1\n"

static void test_refuses_bad_records(void **state)
{
	(void)state;
	refused("", 0, "empty file");
	refused(OK "small=5", 0, "truncated");
	refused(HDR "text=t\n", 0, "missing required key 'big'");
	refused(OK "item=a\ncolor=red\n", 0, "the item entry of line 4: missing required key 'port'");
	refused(OK "item=a\nport=1\nitem=b\n", 0, "missing required key 'port'");
	refused("accelctl-test 3\ntext=t\n", 1, "written by a newer accelctl (version 3)");
	refused("accelctl-test 12345678901\n", 1, "bad version");
	refused("accelctl-test x\n", 1, "bad version");
	refused("accelctl-test 02\n", 1, "bad version");
	refused("accelctl-other 1\n", 1, "not the header of an accelctl test record");
	refused("accelctl-test2 1\n", 1, "not the header");
	refused(OK "bogus=1\n", 4, "unknown key 'bogus'");
	refused(OK "text=u\n", 4, "'text' given twice");
	refused(OK "no equals sign\n", 4, "not a key=value line");
	refused(OK "\n", 4, "not a key=value line");
	refused(OK "small=0\n", 4, "small: '0' is not a number in [1, 1000]");
	refused(OK "small=1001\n", 4, "not a number");
	refused(OK "small=-1\n", 4, "not a number");
	refused(OK "small=0x10\n", 4, "not a number");
	refused(OK "small= 5\n", 4, "not a number");
	refused(HDR "text=t\nbig=18446744073709551616\n", 3, "not a number");
	refused(OK "delta=2147483648\n", 4, "not a signed 32-bit number");
	refused(OK "when=1.5\n", 4, "not a signed 64-bit number");
	refused(OK "flag=yes\n", 4, "not 0 or 1");
	refused(OK "text2=1\n", 4, "unknown key");
	refused(HDR "text=0123456789012345678901234567890123456789012345678901234567890123\n", 2,
		"longer than 63 bytes");
	refused(OK "small=\\x31\n", 4, "escaped bytes");
	refused(HDR "big=1\ntext=\\z\n", 3, "bad escape");
	refused(OK "port=1\n", 4, "'port' before the first 'item' line");
	refused(OK "item=a\nport=1\nflag=1\n", 6, "'flag' after the first 'item' entry");
	refused(OK "item=a\nport=1\ncolor=purple\n", 6, "unknown value 'purple'");
	refused(OK "item=a\nport=1\nport=2\n", 6, "given twice");
	refused(OK "item=a\nport=1\nitem=b\nport=1\nitem=c\nport=1\nitem=d\nport=1\n", 10,
		"more than 3 'item' entries");
}

static void test_legacy_v0(void **state)
{
	struct rec out;
	struct state_err err;
	char buf[64] = "plain old text\n", buf2[64] = "plain\nmore\n";

	(void)state;
	memset(&out, 0, sizeof(out));
	assert_int_equal(state_parse(&rec_kind, NULL, buf, &out, &err), 0);
	assert_string_equal(out.text, "plain old text");
	assert_int_equal(out.big, 1);
	assert_int_equal(state_parse(&rec_kind, NULL, buf2, &out, &err), 0);
	/* version 1 (older, with a header) goes to the same parser, which refuses it */
	refused("accelctl-test 1\nx\n", 1, "not a v0 test record");
}

static void test_kind_without_legacy_refuses_headerless(void **state)
{
	struct state_kind k = rec_kind;
	struct rec out;
	struct state_err err;
	char buf[64] = "text=t\nbig=1\n";

	(void)state;
	k.legacy = NULL;
	assert_int_equal(state_parse(&k, "f", buf, &out, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "f: line 1: not an accelctl test record"));
	k.version = 3;
	snprintf(buf, sizeof(buf), "accelctl-test 2\n");
	assert_int_equal(state_parse(&k, "f", buf, &out, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "version 2 is no longer read"));
}

static char dir[64];

static int dir_setup(void **state)
{
	(void)state;
	return tmpdir_create(dir, sizeof(dir), "test_state");
}

static int dir_teardown(void **state)
{
	(void)state;
	return tmpdir_remove(dir);
}

static void test_file_roundtrip_and_errors(void **state)
{
	struct rec in = hostile(), out;
	struct state_err err;
	char path[128], cmd[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/rec", dir);
	assert_int_equal(state_read(&rec_kind, path, &out, &err), -ENOENT);
	assert_int_equal(state_write(&rec_kind, path, &in), 0);
	memset(&out, 0, sizeof(out));
	assert_int_equal(state_read(&rec_kind, path, &out, &err), 0);
	assert_memory_equal(&in, &out, offsetof(struct rec, items));
	assert_string_equal(out.items[0].name, "=\n=");
	/* cut in the middle of a line: refused, naming the file */
	snprintf(cmd, sizeof(cmd), "truncate -s -3 '%s'", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(state_read(&rec_kind, path, &out, &err), -EINVAL);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "truncated"));
}

static void test_atomic_write_keeps_old_file_on_failure(void **state)
{
	struct rec in = hostile(), out;
	struct state_err err;
	char path[128], tmp[160], *text;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/atomic", dir);
	assert_int_equal(state_write(&rec_kind, path, &in), 0);
	/* the temp file cannot be made (a directory is in its place) */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	assert_int_equal(mkdir(tmp, 0700), 0);
	in.big = 42;
	assert_true(state_write(&rec_kind, path, &in) < 0);
	assert_int_equal(rmdir(tmp), 0);
	assert_int_equal(state_read(&rec_kind, path, &out, &err), 0);
	assert_true(out.big == UINT64_MAX);
	/* a record that cannot be formatted writes nothing */
	in.n = 99;
	assert_int_equal(state_write(&rec_kind, path, &in), -EINVAL);
	assert_int_equal(state_read(&rec_kind, path, &out, &err), 0);
	assert_int_equal(out.n, 2);
	/* no temp file is left behind */
	assert_int_equal(stat(tmp, &st), -1);
	assert_true(state_slurp(path, 10, &text) == -EFBIG);
	assert_null(text);
}

/* A NUL byte would hide the rest of the file from the parser. */
static void test_nul_byte_is_refused(void **state)
{
	struct rec out;
	struct state_err err;
	char path[128];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/nul", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(OK "\0small=5\n", 1, sizeof(OK "\0small=5\n") - 1, f);
	fclose(f);
	assert_int_equal(state_read(&rec_kind, path, &out, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "a NUL byte in the file"));
}

/* ---- the records of accelctl ------------------------------------------ */

static void test_instance_record(void **state)
{
	struct instance_info in = { .features = 0x9, .since = 1700000000, .netns_cookie = 4097,
				    .abi = 4, .detaching = true }, out;
	struct state_err err;
	char buf[8192];

	(void)state;
	snprintf(in.netns, sizeof(in.netns), "/run/netns/a b\nc");
	snprintf(in.pin_root, sizeof(in.pin_root), "/sys/fs/bpf/x");
	assert_true(state_format(&instance_record_kind, &in, buf, sizeof(buf)) > 0);
	assert_true(!strncmp(buf, "accelctl-instance 1\nfeatures=9\nsince=1700000000\n", 48));
	/* the line the lifecycle test (and an older accelctl) looks for */
	assert_non_null(strstr(buf, "\nabi=4\n"));
	assert_int_equal(state_parse(&instance_record_kind, "instance", buf, &out, &err), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	/* version 1 is strict: abi is required */
	snprintf(buf, sizeof(buf), "accelctl-instance 1\nfeatures=1\nsince=1\nnetns=\nnetns_cookie=1\n");
	assert_int_equal(state_parse(&instance_record_kind, "instance", buf, &out, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "missing required key 'abi'"));
}

/* What accelctl wrote before user/state.c (v0), verbatim. */
static void test_instance_legacy_v0(void **state)
{
	struct instance_info out;
	struct state_err err;
	char buf[512];

	(void)state;
	snprintf(buf, sizeof(buf), "features=0xb\nsince=1700000001\nnetns=/run/netns/x\nnetns_cookie=77\n"
		 "pin_root=/sys/fs/bpf/accel\nabi=3\ndetaching=1\n");
	memset(&out, 0, sizeof(out));
	assert_int_equal(state_parse(&instance_record_kind, "instance", buf, &out, &err), 0);
	assert_int_equal(out.features, 0xb);
	assert_int_equal(out.since, 1700000001);
	assert_string_equal(out.netns, "/run/netns/x");
	assert_int_equal(out.netns_cookie, 77);
	assert_int_equal(out.abi, 3);
	assert_true(out.detaching);
	/* before the abi= line: ABI 1; an unreadable abi= is 0, which no accelctl has */
	snprintf(buf, sizeof(buf), "features=0x1\nsince=1\nnetns=\nnetns_cookie=0\npin_root=/p\n");
	assert_int_equal(state_parse(&instance_record_kind, "instance", buf, &out, &err), 0);
	assert_int_equal(out.abi, 1);
	assert_false(out.detaching);
	snprintf(buf, sizeof(buf), "features=0x1\nsince=1\nabi=2x\n");
	assert_int_equal(state_parse(&instance_record_kind, "instance", buf, &out, &err), 0);
	assert_int_equal(out.abi, 0);
}

static void test_autotune_baseline(void **state)
{
	struct autotune_baseline in = { .listen_overflows = UINT64_MAX, .reasm_fails6 = 3 }, out;
	struct state_err err;
	char buf[256];

	(void)state;
	assert_true(state_format(&autotune_baseline_kind, &in, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "accelctl-autotune 1\nListenOverflows=18446744073709551615\nIp6ReasmFails=3\n");
	assert_int_equal(state_parse(&autotune_baseline_kind, "autotune.state", buf, &out, &err), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	/* v0, verbatim */
	snprintf(buf, sizeof(buf), "ListenOverflows 12\nIp6ReasmFails 34\n");
	assert_int_equal(state_parse(&autotune_baseline_kind, "autotune.state", buf, &out, &err), 0);
	assert_int_equal(out.listen_overflows, 12);
	assert_int_equal(out.reasm_fails6, 34);
	snprintf(buf, sizeof(buf), "ListenOverflows 12\n");
	assert_int_equal(state_parse(&autotune_baseline_kind, "autotune.state", buf, &out, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "autotune.state: line 1: not an autotune baseline"));
	assert_int_equal(out.listen_overflows, 12);
}

/* netacct's record is private to user/netacct.c: checked through its text. */
static void test_netacct_record_and_legacy_v0(void **state)
{
	const struct state_kind *k = &netacct_record_kind;
	char *rec = calloc(1, k->size), *rec2 = calloc(1, k->size), buf[4096], again[4096];
	struct state_err err;
	static const char v1[] =
		"accelctl-netacct 1\n"
		"iface=veth0\nifindex=7\nmtu=1500\ningress=tc\ningress_reason=auto-veth\nxdp_prog=0\n"
		"tc_egress_prio=1\ntc_egress_handle=707809\ntc_egress_prog=41\n"
		"tc_ingress_prio=2\ntc_ingress_handle=707809\ntc_ingress_prog=42\nclsact_created=1\n"
		"iface=lo\nifindex=1\nmtu=65536\ningress=xdp-generic\ningress_reason=auto\nxdp_prog=43\n"
		"tc_egress_prio=1\ntc_egress_handle=707809\ntc_egress_prog=44\n"
		"tc_ingress_prio=0\ntc_ingress_handle=0\ntc_ingress_prog=0\nclsact_created=0\n";

	(void)state;
	assert_non_null(rec);
	assert_non_null(rec2);
	/* v0, verbatim: a comment, one line per interface */
	snprintf(buf, sizeof(buf), "# accelctl netacct attachments; detach reads this\n"
		 "iface=veth0 ifindex=7 mtu=1500 ingress=tc ingress_reason=auto-veth xdp_prog=0 "
		 "tc_egress=1:0xacce1:41 tc_ingress=2:0xacce1:42 clsact_created=1\n"
		 "iface=lo ifindex=1 mtu=65536 ingress=xdp-generic ingress_reason=auto xdp_prog=43 "
		 "tc_egress=1:0xacce1:44 tc_ingress=0:0:0 clsact_created=0\n");
	assert_int_equal(state_parse(k, "netacct", buf, rec, &err), 0);
	assert_true(state_format(k, rec, again, sizeof(again)) > 0);
	assert_string_equal(again, v1);
	/* v1 reads back to the same record */
	assert_int_equal(state_parse(k, "netacct", again, rec2, &err), 0);
	assert_memory_equal(rec, rec2, k->size);
	/* an interface cut short is refused, naming its line */
	snprintf(buf, sizeof(buf), "%.*s", (int)(strstr(v1, "iface=lo") - v1 + 29), v1);
	assert_int_equal(state_parse(k, "netacct", buf, rec2, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "the iface entry of line 15: missing required key 'ingress'"));
	free(rec);
	free(rec2);
}

/* The tune journal keeps its format 1/2 lines (an older accelctl restores
 * format 1); user/state.c types their values and reports what is wrong. */
static void journal_refused(const char *text, const char *why)
{
	static struct journal j;
	struct state_err err;
	char *buf = strdup(text);

	memset(&j, 0x5a, sizeof(j));
	j.n = 77;
	assert_int_equal(journal_parse_err(&j, buf, "/s/tune.journal", &err), -EINVAL);
	if (!strstr(err.msg, why) || strncmp(err.msg, "/s/tune.journal: ", 17))
		fail_msg("reason '%s' lacks the file or '%s'", err.msg, why);
	assert_int_equal(j.n, 77);	/* never half read */
	free(buf);
}

#define JHEAD "accelctl-tune-journal 1\nnetns -\nnetns_cookie 7\nprofile loopback\nsince 1700000000\nauto 0\n"
#define JITEM "item sysctl - net.ipv4.tcp_fin_timeout 0 60 30 % profile%20loopback\n"

static void test_journal_errors(void **state)
{
	static struct journal j;
	struct state_err err;
	char buf[1024];

	(void)state;
	snprintf(buf, sizeof(buf), "%s", JHEAD "bound interval 10\nbound some-future-bound 5\n" JITEM);
	assert_int_equal(journal_parse_err(&j, buf, NULL, &err), 0);
	assert_int_equal(j.bounds.interval, 10);
	assert_int_equal(j.n, 1);
	journal_refused("", "empty file");
	journal_refused(JHEAD JITEM "item sysctl", "truncated");
	journal_refused("accelctl-tune-journal 3\n", "line 1: written by a newer accelctl (version 3)");
	journal_refused("accelctl-instance 1\n", "line 1: 'accelctl-instance 1' is not the header");
	journal_refused("item sysctl - k 0 a b c d\n", "line 1: not an accelctl tune-journal record");
	journal_refused(JHEAD "item bogus - k 0 a b c d\n", "line 7: item: unknown kind 'bogus'");
	journal_refused(JHEAD "item sysctl - k 2 a b c d\n", "line 7: global: '2' is not 0 or 1");
	journal_refused(JHEAD "item sysctl - k 0 a b c\n", "line 7: item: 8 fields instead of 9");
	journal_refused(JHEAD "kept 5\n", "line 7: 'kept' in a format 1 journal");
	journal_refused(JHEAD "bound interval ten\n", "line 7: interval: 'ten' is not a number");
	journal_refused(JHEAD "auto 2\n", "line 7: 'auto' given twice");
	journal_refused(JHEAD "speed 2\n", "line 7: unknown line 'speed'");
	journal_refused("accelctl-tune-journal 1\nnetns -\nnetns_cookie x\n", "line 3: netns_cookie:");
	journal_refused("accelctl-tune-journal 1\nnetns -\n" JITEM, "missing required line 'netns_cookie'");
}

/* Learned ports: version 1's lines, typed and reported by user/state.c. */
static void learned_refused(const char *text, int e, const char *why)
{
	struct learned_port out[2];
	char buf[1024], err[256] = "";

	snprintf(buf, sizeof(buf), "%s", text);
	assert_int_equal(bypass_learn_parse(buf, "b", out, 2, err, sizeof(err)), e);
	if (!strstr(err, why))
		fail_msg("reason '%s' lacks '%s'", err, why);
}

#define LHEAD "accelctl-bypass-learned 1\nboot_id b\n"
#define LPORT "port netns=1 port=80 verdict=blocking conns=0 reopened=0 since_ns=1 last_ns=2 listener=3"

static void test_learned_ports_errors(void **state)
{
	(void)state;
	learned_refused("accelctl-bypass-learned 2\nboot_id b\n", -EINVAL,
			"written by a newer accelctl (version 2)");
	learned_refused(LHEAD LPORT, -EINVAL, "truncated");
	learned_refused(LHEAD "port netns=0 port=80 verdict=blocking conns=0 reopened=0 since_ns=1 last_ns=2 listener=3\n",
			-EINVAL, "line 3: not a port record (netns: '0' is not a number in [1, 18446744073709551615])");
	learned_refused(LHEAD "port netns=1 port=80 verdict=fast conns=0 reopened=0 since_ns=1 last_ns=2 listener=3\n",
			-EINVAL, "line 3: not a port record (verdict: unknown value 'fast')");
	learned_refused(LHEAD "port netns=1 port=80 verdict=blocking conns=4294967296 reopened=0 since_ns=1 last_ns=2 listener=3\n",
			-EINVAL, "conns: '4294967296' is not a number");
	learned_refused(LHEAD "port netns=1 verdict=blocking\n", -EINVAL, "'verdict=blocking' where port= belongs");
	learned_refused(LHEAD LPORT " x=1\n", -EINVAL, "unexpected 'x=1'");
	learned_refused(LHEAD "ports netns=1\n", -EINVAL, "does not begin with 'port'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_roundtrip),
		cmocka_unit_test(test_roundtrip_hostile_values),
		cmocka_unit_test(test_refuses_bad_records),
		cmocka_unit_test(test_legacy_v0),
		cmocka_unit_test(test_kind_without_legacy_refuses_headerless),
		cmocka_unit_test(test_file_roundtrip_and_errors),
		cmocka_unit_test(test_atomic_write_keeps_old_file_on_failure),
		cmocka_unit_test(test_nul_byte_is_refused),
		cmocka_unit_test(test_instance_record),
		cmocka_unit_test(test_instance_legacy_v0),
		cmocka_unit_test(test_autotune_baseline),
		cmocka_unit_test(test_netacct_record_and_legacy_v0),
		cmocka_unit_test(test_journal_errors),
		cmocka_unit_test(test_learned_ports_errors),
	};

	return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
