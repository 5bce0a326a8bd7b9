// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests: doctor's parsers of the kernel's text formats and its
 * judging (doctor_judge()) on samples built here, without a kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "bypass.h"
#include "doctor.h"
#include "tmpdir.h"

/* A netstat excerpt in the kernel's layout: header line, value line. */
static const char netstat_quiet[] =
	"TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPReqQFullDoCookies TCPReqQFullDrop "
	"TCPTimeWaitOverflow TCPAbortOnData TCPAbortOnClose TCPAbortOnMemory TCPAbortOnTimeout "
	"TCPAbortOnLinger TCPAbortFailed TCPSynRetrans\n"
	"TcpExt: 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	"IpExt: InNoRoutes ReasmOverlaps\n"
	"IpExt: 0 0\n";
static const char snmp_quiet[] =
	"Ip: Forwarding DefaultTTL ReasmTimeout ReasmReqds ReasmOKs ReasmFails\n"
	"Ip: 1 64 0 0 0 0\n"
	"Tcp: RtoAlgorithm MaxConn ActiveOpens OutRsts\n"
	"Tcp: 1 -1 7 0\n";
static const char snmp6_quiet[] =
	"Ip6InReceives                   \t12\n"
	"Ip6ReasmTimeout                 \t0\n"
	"Ip6ReasmReqds                   \t0\n"
	"Ip6ReasmOKs                     \t0\n"
	"Ip6ReasmFails                   \t0\n";
/* 6.x layout: 15 columns, the 13th the CPU */
static const char softnet_a[] =
	"00143f54 00000000 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
	"00000000 00000000 00000000 00000000 00000000\n"
	"001472c7 00000000 00000002 00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
	"00000000 00000000 00000002 00000000 00000000\n";
static const char softnet_b[] =
	"00143f54 00000000 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
	"00000000 00000000 00000000 00000000 00000000\n"
	"001472c7 00000010 00000002 00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
	"00000000 00000000 00000002 00000000 00000000\n";

static void set_sysctl(struct doctor_sample *s, enum doctor_sysctl k, const char *v)
{
	snprintf(s->sysctl[k], sizeof(s->sysctl[k]), "%s", v);
}

/* /proc/net/netstat with the listen counters ListenOverflows,
 * ListenDrops, TCPReqQFullDoCookies, TCPReqQFullDrop at counts. */
#define LISTEN_NETSTAT(counts) \
	"TcpExt: ListenOverflows ListenDrops TCPReqQFullDoCookies TCPReqQFullDrop\n" \
	"TcpExt: " counts "\n"

/* A sample as a fresh, quiet namespace reads: every source there. */
static struct doctor_sample *sample(const char *netstat, const char *snmp, const char *softnet)
{
	struct doctor_sample *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	assert_int_equal(doctor_parse_snmp(netstat ? netstat : netstat_quiet, &s->ctr), 0);
	assert_int_equal(doctor_parse_snmp(snmp ? snmp : snmp_quiet, &s->ctr), 0);
	assert_int_equal(doctor_parse_snmp6(snmp6_quiet, &s->ctr), 0);
	assert_int_equal(doctor_parse_softnet(softnet ? softnet : softnet_a, &s->softnet), 0);
	for (int i = 0; i < SRC_MAX; i++)
		s->have[i] = true;
	set_sysctl(s, DS_PORT_RANGE, "32768\t60999");
	set_sysctl(s, DS_TW_REUSE, "2");
	set_sysctl(s, DS_TIMESTAMPS, "1");
	set_sysctl(s, DS_SOMAXCONN, "4096");
	set_sysctl(s, DS_MAX_SYN_BACKLOG, "512");
	set_sysctl(s, DS_SYNCOOKIES, "1");
	set_sysctl(s, DS_MAX_TW_BUCKETS, "262144");
	set_sysctl(s, DS_IPFRAG_HIGH, "4194304");
	set_sysctl(s, DS_IPFRAG_LOW, "3145728");
	set_sysctl(s, DS_IPFRAG_TIME, "30");
	set_sysctl(s, DS_IP6FRAG_HIGH, "4194304");
	set_sysctl(s, DS_IP6FRAG_LOW, "3145728");
	set_sysctl(s, DS_IP6FRAG_TIME, "60");
	set_sysctl(s, DS_NETDEV_MAX_BACKLOG, "1000");
	set_sysctl(s, DS_NETDEV_BUDGET, "300");
	set_sysctl(s, DS_NETDEV_BUDGET_USECS, "2000");
	return s;
}

static void sample_put(struct doctor_sample *s)
{
	if (!s)
		return;
	doctor_sample_free(s);
	free(s);
}

static struct doctor_sock *sock_add(struct doctor_sample *s, int state, const char *src, unsigned int sport,
				    const char *dst, unsigned int dport)
{
	struct doctor_sock *d;

	if (s->socks.n == s->socks.cap) {
		s->socks.cap = s->socks.cap ? s->socks.cap * 2 : 16;
		s->socks.s = realloc(s->socks.s, s->socks.cap * sizeof(*s->socks.s));
		assert_non_null(s->socks.s);
	}
	d = &s->socks.s[s->socks.n++];
	memset(d, 0, sizeof(*d));
	d->family = AF_INET;
	d->state = (uint8_t)state;
	d->sport = (uint16_t)sport;
	d->dport = (uint16_t)dport;
	assert_int_equal(inet_pton(AF_INET, src, d->saddr), 1);
	assert_int_equal(inet_pton(AF_INET, dst, d->daddr), 1);
	return d;
}

static struct doctor_report *judge(const struct doctor_sample *a, const struct doctor_sample *b)
{
	struct doctor_report *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->baseline = "since the namespace was created";
	doctor_judge(a, b, a ? 5 : 0, r);
	return r;
}

static const struct doctor_finding *find(const struct doctor_report *r, const char *id)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->f[i].id, id))
			return &r->f[i];
	return NULL;
}

/* The finding id, which must be there. */
static const struct doctor_finding *find_one(const struct doctor_report *r, const char *id)
{
	const struct doctor_finding *f = find(r, id);

	if (!f)
		fail_msg("no finding %s", id);
	return f;
}

static const struct doctor_check *check_of(const struct doctor_report *r, const char *id)
{
	for (int i = 0; i < r->nchecks; i++)
		if (!strcmp(r->checks[i].id, id))
			return &r->checks[i];
	return NULL;
}

static const struct doctor_fix *fix_key(const struct doctor_finding *f, const char *key)
{
	for (int i = 0; i < f->nfix; i++)
		if (!strcmp(f->fix[i].key, key))
			return &f->fix[i];
	return NULL;
}

static bool fix_says(const struct doctor_finding *f, const char *text)
{
	for (int i = 0; i < f->nfix; i++)
		if (strstr(f->fix[i].text, text))
			return true;
	return false;
}

static uint64_t value_of(const struct doctor_finding *f, const char *name)
{
	for (int i = 0; i < f->nvalues; i++)
		if (!strcmp(f->values[i].name, name))
			return f->values[i].value;
	fail_msg("no value %s in %s", name, f->id);
	return 0;
}

static void test_parse_snmp(void **state)
{
	struct doctor_counters c = { 0 };
	uint64_t v;

	assert_int_equal(doctor_parse_snmp(netstat_quiet, &c), 0);
	assert_int_equal(doctor_parse_snmp(snmp_quiet, &c), 0);
	assert_true(doctor_counter(&c, "TcpExtListenOverflows", &v));
	assert_int_equal(v, 0);
	assert_true(doctor_counter(&c, "IpReasmFails", &v));
	assert_true(doctor_counter(&c, "TcpActiveOpens", &v));
	assert_int_equal(v, 7);
	assert_true(doctor_counter(&c, "TcpMaxConn", &v));	/* -1 as two's complement */
	assert_int_equal(v, UINT64_MAX);
	assert_false(doctor_counter(&c, "TcpExtNoSuchCounter", &v));
	free(c.c);
	memset(&c, 0, sizeof(c));
	/* a value line that is not the header's */
	assert_int_equal(doctor_parse_snmp("TcpExt: A B\nIpExt: 1 2\n", &c), -EINVAL);
	free(c.c);
	memset(&c, 0, sizeof(c));
	assert_int_equal(doctor_parse_snmp("", &c), -EINVAL);
	free(c.c);
}

static void test_parse_snmp6_sockstat(void **state)
{
	struct doctor_counters c = { 0 };
	uint64_t v, tw = 0;

	assert_int_equal(doctor_parse_snmp6(snmp6_quiet, &c), 0);
	assert_true(doctor_counter(&c, "Ip6InReceives", &v));
	assert_int_equal(v, 12);
	free(c.c);
	assert_int_equal(doctor_parse_sockstat_tw("sockets: used 5\nTCP: inuse 3 orphan 0 tw 40 alloc 4 mem 1\n"
						  "UDP: inuse 0 mem 0\n", &tw), 0);
	assert_int_equal(tw, 40);
	assert_int_equal(doctor_parse_sockstat_tw("sockets: used 5\n", &tw), -EINVAL);
}

static void test_parse_softnet(void **state)
{
	struct doctor_softnet s = { 0 };

	assert_int_equal(doctor_parse_softnet(softnet_b, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.cpu[1].cpu, 2);	/* column 13, not the line: CPU 1 offline */
	assert_int_equal(s.cpu[1].dropped, 16);
	assert_int_equal(s.cpu[1].squeezed, 2);
	/* before 5.10: no CPU column, the line number stands in */
	assert_int_equal(doctor_parse_softnet("0000000a 00000001 00000002\n0000000b 00000000 00000000\n", &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.cpu[1].cpu, 1);
	assert_int_equal(s.cpu[0].processed, 10);
	assert_int_equal(doctor_parse_softnet("00000001 00000002\n", &s), -EINVAL);
	free(s.cpu);
}

/* A quiet namespace: no finding, and everything but softnet checked. */
static void test_quiet_no_findings(void **state)
{
	struct doctor_sample *b = sample(NULL, NULL, NULL), *a = sample(NULL, NULL, NULL);
	struct doctor_report *r;

	for (unsigned int p = 40000; p < 40020; p++)
		sock_add(b, TCP_TIME_WAIT, "127.0.0.1", p, "127.0.0.1", 80);
	sock_add(b, TCP_LISTEN, "0.0.0.0", 80, "0.0.0.0", 0)->wqueue = 128;
	r = judge(NULL, b);
	assert_int_equal(r->n, 0);
	for (int i = 0; i < r->nchecks; i++)
		assert_true(r->checks[i].checked || !strncmp(r->checks[i].id, "softnet-", 8));
	assert_true(doctor_report_checked(r) >= 8);
	assert_false(check_of(r, "softnet-drops")->checked);
	free(r);
	r = judge(a, b);			/* with --since: softnet checked too */
	assert_int_equal(r->n, 0);
	assert_int_equal(doctor_report_checked(r), r->nchecks);
	free(r);
	sample_put(a);
	sample_put(b);
}

static void test_accept_queue_overflow_names_listener(void **state)
{
	static const char ns[] = LISTEN_NETSTAT("45 45 0 0");
	struct doctor_sample *b = sample(ns, NULL, NULL);
	const struct doctor_finding *f;
	struct doctor_report *r;
	struct doctor_sock *l;

	l = sock_add(b, TCP_LISTEN, "127.0.0.1", 7301, "0.0.0.0", 0);
	l->rqueue = 5;
	l->wqueue = 4;
	l->pid = 1234;
	snprintf(l->comm, sizeof(l->comm), "redis-server");
	/* listen(fd, 0) with nothing queued is not full */
	sock_add(b, TCP_LISTEN, "127.0.0.1", 7302, "0.0.0.0", 0);
	r = judge(NULL, b);
	assert_int_equal(r->n, 1);
	f = find_one(r, "accept-queue-overflow");
	assert_int_equal(f->severity, SEV_WARNING);	/* full now: not history */
	assert_string_equal(f->subject, "listener 127.0.0.1:7301");
	assert_string_equal(f->endpoint.role, "listener");
	assert_int_equal(f->endpoint.port, 7301);
	assert_int_equal(f->endpoint.pid, 1234);
	assert_string_equal(f->endpoint.comm, "redis-server");
	assert_int_equal(value_of(f, "ListenOverflows"), 45);
	assert_int_equal(value_of(f, "accept_queue_len"), 5);
	assert_int_equal(value_of(f, "accept_queue_max"), 4);
	assert_non_null(strstr(f->evidence, "5/4"));
	assert_true(fix_says(f, "listen(..., 4) in pid 1234 (redis-server) caps the accept queue below "
			     "net.core.somaxconn 4096"));
	assert_null(fix_key(f, "net.core.somaxconn"));	/* somaxconn is not what caps it */
	free(r);

	/* a backlog at somaxconn: raise somaxconn too */
	l->wqueue = 4096;
	l->rqueue = 4097;
	r = judge(NULL, b);
	f = find_one(r, "accept-queue-overflow");
	assert_non_null(fix_key(f, "net.core.somaxconn"));
	assert_string_equal(fix_key(f, "net.core.somaxconn")->value, "8192");
	assert_string_equal(fix_key(f, "net.core.somaxconn")->current, "4096");
	free(r);
	sample_put(b);
}

/* Overflows in the counters, no listener full now: history without
 * --since (info), a warning when it grew over the interval. */
static void test_accept_queue_overflow_history(void **state)
{
	static const char ns[] = LISTEN_NETSTAT("3 3 0 0");
	struct doctor_sample *a = sample(NULL, NULL, NULL), *b = sample(ns, NULL, NULL);
	const struct doctor_finding *f;
	struct doctor_report *r;

	r = judge(NULL, b);
	f = find_one(r, "accept-queue-overflow");
	assert_int_equal(f->severity, SEV_INFO);
	assert_string_equal(f->subject, "namespace");
	assert_null(f->endpoint.role);
	free(r);
	r = judge(a, b);
	f = find_one(r, "accept-queue-overflow");
	assert_int_equal(f->severity, SEV_WARNING);
	assert_non_null(strstr(f->evidence, "over 5 s"));
	free(r);
	/* the same count in both samples: nothing happened in between */
	r = judge(b, b);
	assert_null(find(r, "accept-queue-overflow"));
	free(r);
	sample_put(a);
	sample_put(b);
}

static void test_ephemeral_ports(void **state)
{
	struct doctor_sample *b = sample(NULL, NULL, NULL);
	const struct doctor_finding *f;
	struct doctor_report *r;

	set_sysctl(b, DS_PORT_RANGE, "40000\t40019");
	set_sysctl(b, DS_TW_REUSE, "0");
	for (unsigned int p = 40000; p < 40009; p++)	/* 9 of 20: 45% */
		sock_add(b, TCP_TIME_WAIT, "127.0.0.1", p, "127.0.0.1", 8080);
	r = judge(NULL, b);
	assert_null(find(r, "ephemeral-ports"));
	assert_true(check_of(r, "ephemeral-ports")->checked);
	free(r);
	sock_add(b, TCP_TIME_WAIT, "127.0.0.1", 40009, "127.0.0.1", 8080);	/* 50% */
	r = judge(NULL, b);
	f = find_one(r, "ephemeral-ports");
	assert_int_equal(f->severity, SEV_WARNING);
	free(r);
	for (unsigned int p = 40010; p < 40017; p++)
		sock_add(b, TCP_TIME_WAIT, "127.0.0.1", p, "127.0.0.1", 8080);
	sock_add(b, TCP_ESTABLISHED, "127.0.0.1", 40017, "127.0.0.1", 8080);	/* 18 of 20 */
	/* to another destination, and a listener: not counted for 8080 */
	sock_add(b, TCP_TIME_WAIT, "127.0.0.1", 40018, "127.0.0.1", 9090);
	sock_add(b, TCP_LISTEN, "127.0.0.1", 40019, "0.0.0.0", 0);
	r = judge(NULL, b);
	f = find_one(r, "ephemeral-ports");
	assert_int_equal(f->severity, SEV_CRITICAL);
	assert_string_equal(f->subject, "destination 127.0.0.1:8080");
	assert_int_equal(f->endpoint.port, 8080);
	assert_int_equal(value_of(f, "sockets"), 18);
	assert_int_equal(value_of(f, "time_wait"), 17);
	assert_int_equal(value_of(f, "established"), 1);
	assert_int_equal(value_of(f, "range_size"), 20);
	assert_int_equal(value_of(f, "used_pct"), 90);
	assert_string_equal(fix_key(f, "net.ipv4.tcp_tw_reuse")->value, "1");
	assert_string_equal(fix_key(f, "net.ipv4.ip_local_port_range")->value, "16384 65535");
	assert_true(fix_says(f, "keep connections to 127.0.0.1:8080 open"));
	assert_int_equal(r->n, 1);		/* 9090 has 1 of 20 */
	free(r);
	/* tw_reuse 2 covers loopback: not suggested again */
	set_sysctl(b, DS_TW_REUSE, "2");
	r = judge(NULL, b);
	f = find_one(r, "ephemeral-ports");
	assert_null(fix_key(f, "net.ipv4.tcp_tw_reuse"));
	free(r);
	sample_put(b);
}

static void test_timewait_overflow(void **state)
{
	static const char ns[] =
		"TcpExt: ListenOverflows ListenDrops TCPReqQFullDoCookies TCPReqQFullDrop TCPTimeWaitOverflow\n"
		"TcpExt: 0 0 0 0 15\n";
	struct doctor_sample *a = sample(NULL, NULL, NULL), *b = sample(ns, NULL, NULL);
	const struct doctor_finding *f;
	struct doctor_report *r;

	set_sysctl(b, DS_MAX_TW_BUCKETS, "5");
	b->sockstat_tw = 5;
	r = judge(NULL, b);
	f = find_one(r, "timewait-overflow");
	assert_int_equal(f->severity, SEV_WARNING);	/* at the limit now */
	assert_int_equal(value_of(f, "TCPTimeWaitOverflow"), 15);
	assert_int_equal(value_of(f, "time_wait"), 5);
	assert_string_equal(fix_key(f, "net.ipv4.tcp_max_tw_buckets")->value, "65536");
	assert_string_equal(fix_key(f, "net.ipv4.tcp_max_tw_buckets")->current, "5");
	assert_int_equal(r->n, 1);
	free(r);
	b->sockstat_tw = 0;				/* they have expired: history */
	r = judge(NULL, b);
	assert_int_equal(find(r, "timewait-overflow")->severity, SEV_INFO);
	free(r);
	r = judge(a, b);				/* grew over the interval */
	assert_int_equal(find(r, "timewait-overflow")->severity, SEV_WARNING);
	free(r);
	r = judge(b, b);
	assert_null(find(r, "timewait-overflow"));
	assert_true(check_of(r, "timewait-overflow")->checked);
	free(r);
	sample_put(a);
	sample_put(b);
}

static void test_syn_queue_without_cookies(void **state)
{
	static const char ns[] = LISTEN_NETSTAT("0 10 0 10");
	struct doctor_sample *a = sample(NULL, NULL, NULL), *b = sample(ns, NULL, NULL);
	const struct doctor_finding *f;
	struct doctor_report *r;
	struct doctor_sock *l;

	set_sysctl(b, DS_SYNCOOKIES, "0");
	l = sock_add(b, TCP_LISTEN, "198.51.100.1", 7201, "0.0.0.0", 0);
	l->wqueue = 8;
	for (unsigned int p = 1000; p < 1008; p++)
		sock_add(b, TCP_SYN_RECV, "198.51.100.1", 7201, "198.51.100.2", p);
	r = judge(a, b);
	f = find_one(r, "syn-queue-overflow");
	assert_int_equal(f->severity, SEV_WARNING);
	assert_string_equal(f->subject, "listener 198.51.100.1:7201");
	assert_int_equal(value_of(f, "TCPReqQFullDrop"), 10);
	assert_int_equal(value_of(f, "syn_queue_len"), 8);
	assert_string_equal(fix_key(f, "net.ipv4.tcp_syncookies")->value, "1");
	assert_null(fix_key(f, "net.ipv4.tcp_max_syn_backlog"));	/* all drops were queue-full */
	assert_null(find(r, "accept-queue-overflow"));
	free(r);
	sample_put(a);
	sample_put(b);
}

static void test_syncookies_sent(void **state)
{
	static const char ns[] = LISTEN_NETSTAT("0 0 25 0");
	struct doctor_sample *b = sample(ns, NULL, NULL);
	const struct doctor_finding *f;
	struct doctor_report *r;

	r = judge(NULL, b);
	f = find_one(r, "syncookies-sent");
	assert_int_equal(f->severity, SEV_INFO);
	assert_null(fix_key(f, "net.ipv4.tcp_syncookies"));
	assert_null(find(r, "syn-queue-overflow"));
	free(r);
	set_sysctl(b, DS_SYNCOOKIES, "2");	/* cookies always: say so, suggest 1 */
	r = judge(NULL, b);
	f = find_one(r, "syncookies-sent");
	assert_string_equal(fix_key(f, "net.ipv4.tcp_syncookies")->value, "1");
	free(r);
	sample_put(b);
}

static void test_softnet_needs_interval(void **state)
{
	struct doctor_sample *a = sample(NULL, NULL, softnet_a), *b = sample(NULL, NULL, softnet_b);
	const struct doctor_finding *f;
	struct doctor_report *r;

	r = judge(NULL, b);
	assert_null(find(r, "softnet-drops"));
	assert_false(check_of(r, "softnet-drops")->checked);
	assert_non_null(strstr(check_of(r, "softnet-drops")->detail, "--since"));
	free(r);
	r = judge(a, b);
	f = find_one(r, "softnet-drops");
	assert_true(f->host);
	assert_int_equal(value_of(f, "dropped"), 16);
	assert_non_null(strstr(f->evidence, "CPU 2 +16"));
	assert_string_equal(fix_key(f, "net.core.netdev_max_backlog")->value, "2000");
	assert_null(find(r, "softnet-squeeze"));	/* squeezes did not grow */
	free(r);
	sample_put(a);
	sample_put(b);
}

static void test_fragments(void **state)
{
	static const char snmp[] =
		"Ip: Forwarding DefaultTTL ReasmTimeout ReasmReqds ReasmOKs ReasmFails\n"
		"Ip: 1 64 3 40 2 9\n";
	struct doctor_sample *a = sample(NULL, NULL, NULL), *b = sample(NULL, snmp, NULL);
	const struct doctor_finding *f;
	struct doctor_report *r;

	set_sysctl(b, DS_IPFRAG_HIGH, "0");
	r = judge(a, b);
	f = find_one(r, "frag-reasm-timeout");
	assert_int_equal(value_of(f, "IpReasmTimeout"), 3);
	assert_true(fix_says(f, "fit the path MTU"));
	f = find_one(r, "frag-reasm-fail");
	assert_int_equal(value_of(f, "not_timeout"), 6);
	assert_string_equal(fix_key(f, "net.ipv4.ipfrag_high_thresh")->value, "4194304");
	assert_string_equal(fix_key(f, "net.ipv4.ipfrag_high_thresh")->current, "0");
	assert_null(find(r, "frag6-reasm-fail"));
	free(r);
	sample_put(a);
	sample_put(b);
}

/* A source that cannot be read: its checks are listed as not checked,
 * with the reason, and the rest still run. */
static void test_resets_by_reason(void **state)
{
	static const char ns[] =
		"TcpExt: TCPAbortOnData TCPAbortOnClose TCPAbortOnMemory TCPAbortOnTimeout TCPAbortOnLinger "
		"TCPAbortFailed\n"
		"TcpExt: 0 20 3 0 0 0\n";
	static const char snmp[] = "Tcp: RtoAlgorithm OutRsts\nTcp: 1 25\n";
	struct doctor_sample *a = sample(NULL, NULL, NULL), *b = sample(ns, snmp, NULL);
	const struct doctor_finding *f;
	struct doctor_report *r;

	set_sysctl(b, DS_TCP_MAX_ORPHANS, "4096");
	r = judge(NULL, b);			/* since the namespace was created: history */
	assert_int_equal(r->n, 2);
	f = &r->f[0];
	assert_string_equal(f->id, "resets-sent");
	assert_string_equal(f->subject, "reason close-unread");
	assert_int_equal(f->severity, SEV_INFO);
	assert_int_equal(value_of(f, "TCPAbortOnClose"), 20);
	assert_int_equal(value_of(f, "OutRsts"), 25);
	assert_true(fix_says(f, "lingering close"));
	f = &r->f[1];
	assert_string_equal(f->subject, "reason memory");
	assert_int_equal(f->severity, SEV_INFO);
	free(r);
	r = judge(a, b);			/* grew over the interval */
	f = &r->f[1];
	assert_int_equal(f->severity, SEV_WARNING);
	assert_string_equal(fix_key(f, "net.ipv4.tcp_max_orphans")->value, ">=8192");
	assert_string_equal(fix_key(f, "net.ipv4.tcp_max_orphans")->current, "4096");
	assert_int_equal(r->f[0].severity, SEV_INFO);
	free(r);
	r = judge(b, b);
	assert_int_equal(r->n, 0);
	assert_true(check_of(r, "resets-sent")->checked);
	free(r);
	sample_put(a);
	sample_put(b);
}

static void test_syn_retransmits(void **state)
{
	static const char ns[] = "TcpExt: TCPSynRetrans\nTcpExt: 12\n";
	struct doctor_sample *a = sample(NULL, NULL, NULL), *b = sample(ns, NULL, NULL);
	const struct doctor_finding *f;
	struct doctor_report *r;

	set_sysctl(b, DS_SYNACK_RETRIES, "5");
	r = judge(NULL, b);			/* history, nothing half-open now */
	f = find_one(r, "syn-retransmits");
	assert_int_equal(f->severity, SEV_INFO);
	assert_int_equal(value_of(f, "TCPSynRetrans"), 12);
	assert_true(fix_says(f, "tcp_synack_retries from 5 to 2"));
	free(r);
	sock_add(b, TCP_SYN_RECV, "10.0.0.1", 80, "10.0.0.2", 40000);
	r = judge(NULL, b);			/* half-open sockets now */
	f = find(r, "syn-retransmits");
	assert_int_equal(f->severity, SEV_WARNING);
	assert_int_equal(value_of(f, "syn_recv"), 1);
	free(r);
	r = judge(b, b);
	assert_null(find(r, "syn-retransmits"));
	assert_true(check_of(r, "syn-retransmits")->checked);
	free(r);
	sample_put(a);
	sample_put(b);
}

static void test_parse_limits(void **state)
{
	static const char limits[] =
		"Limit                     Soft Limit           Hard Limit           Units     \n"
		"Max cpu time              unlimited            unlimited            seconds   \n"
		"Max open files            1024                 524288               files     \n";
	uint64_t soft, hard;

	assert_int_equal(doctor_parse_limits_nofile(limits, &soft, &hard), 0);
	assert_int_equal(soft, 1024);
	assert_int_equal(hard, 524288);
	assert_int_equal(doctor_parse_limits_nofile("Max open files  unlimited  unlimited  files\n", &soft, &hard), 0);
	assert_true(soft == UINT64_MAX && hard == UINT64_MAX);
	assert_int_equal(doctor_parse_limits_nofile("Max processes 10 10\n", &soft, &hard), -EINVAL);
	assert_int_equal(doctor_parse_limits_nofile("Max open files  many  1\n", &soft, &hard), -EINVAL);
}

static void test_fd_limit(void **state)
{
	struct doctor_sample *b = sample(NULL, NULL, NULL);
	struct doctor_proc quiet = { .pid = 10, .comm = "sshd", .fds = 20, .soft = 1024, .hard = 524288 };
	struct doctor_proc warm = { .pid = 11, .comm = "nginx", .fds = 850, .soft = 1024, .hard = 524288 };
	struct doctor_proc hot = { .pid = 12, .comm = "redis-server", .fds = 1000, .soft = 1024, .hard = 1024 };
	struct doctor_proc free_ = { .pid = 13, .comm = "init", .fds = 500, .soft = UINT64_MAX, .hard = UINT64_MAX };
	const struct doctor_finding *f;
	struct doctor_report *r;

	doctor_procs_add(&b->procs, &quiet);
	doctor_procs_add(&b->procs, &free_);
	r = judge(NULL, b);
	assert_int_equal(r->n, 0);
	assert_true(check_of(r, "fd-limit")->checked);
	assert_non_null(strstr(check_of(r, "fd-limit")->detail, "pid 10 (sshd)"));
	free(r);
	doctor_procs_add(&b->procs, &warm);
	doctor_procs_add(&b->procs, &hot);
	r = judge(NULL, b);
	assert_int_equal(r->n, 2);
	f = &r->f[0];				/* fullest first */
	assert_string_equal(f->subject, "pid 12 (redis-server)");
	assert_int_equal(f->severity, SEV_CRITICAL);
	assert_int_equal(value_of(f, "fds"), 1000);
	assert_true(fix_says(f, "LimitNOFILE=4096"));
	f = &r->f[1];
	assert_string_equal(f->subject, "pid 11 (nginx)");
	assert_int_equal(f->severity, SEV_WARNING);
	assert_true(fix_says(f, "prlimit --pid 11 --nofile=524288:524288"));
	free(r);
	sample_put(b);
}

static char *slurp_file(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_profile_out(void **state)
{
	struct doctor_report *r = calloc(1, sizeof(*r));
	char path[] = "/tmp/accel-doctor-profile-XXXXXX";
	int fd = mkstemp(path), n = -1;
	struct doctor_finding *f;
	const char *text;

	assert_true(fd >= 0 && r);
	close(fd);
	f = &r->f[r->n++];
	f->id = "syn-queue-overflow";
	f->severity = SEV_WARNING;
	snprintf(f->subject, sizeof(f->subject), "listener 127.0.0.1:80");
	snprintf(f->evidence, sizeof(f->evidence), "TcpExtTCPReqQFullDrop +9");
	f->nfix = 3;
	snprintf(f->fix[0].key, sizeof(f->fix[0].key), "net.ipv4.tcp_max_syn_backlog");
	snprintf(f->fix[0].value, sizeof(f->fix[0].value), "1024");
	snprintf(f->fix[0].current, sizeof(f->fix[0].current), "128");
	snprintf(f->fix[0].text, sizeof(f->fix[0].text), "room for the burst");
	snprintf(f->fix[1].key, sizeof(f->fix[1].key), "net.ipv4.tcp_syncookies");
	snprintf(f->fix[1].value, sizeof(f->fix[1].value), "1");
	snprintf(f->fix[2].text, sizeof(f->fix[2].text), "application: a larger backlog");
	f = &r->f[r->n++];
	f->id = "syncookies-sent";
	f->severity = SEV_INFO;
	snprintf(f->subject, sizeof(f->subject), "namespace");
	f->nfix = 2;
	snprintf(f->fix[0].key, sizeof(f->fix[0].key), "net.ipv4.tcp_syncookies");
	snprintf(f->fix[0].value, sizeof(f->fix[0].value), "1");
	snprintf(f->fix[1].key, sizeof(f->fix[1].key), "net.ipv4.accel_no_such_key");
	snprintf(f->fix[1].value, sizeof(f->fix[1].value), "7");
	assert_int_equal(doctor_profile_write(r, "web", path, &n), 0);
	assert_int_equal(n, 2);
	text = slurp_file(path);
	assert_non_null(strstr(text, "[profile]\nname = doctor\n\n[sysctl]\n"));
	assert_non_null(strstr(text, "accelctl --netns web attach --features tune --config"));
	assert_non_null(strstr(text, "; syn-queue-overflow (warning): listener 127.0.0.1:80\n"
				     ";   evidence: TcpExtTCPReqQFullDrop +9\n"
				     ";   why:      room for the burst\n"
				     ";   now:      net.ipv4.tcp_max_syn_backlog = 128\n"
				     "net.ipv4.tcp_max_syn_backlog = >=1024\n"));
	assert_non_null(strstr(text, "\nnet.ipv4.tcp_syncookies = 1\n"));	/* not raise-only */
	assert_non_null(strstr(text, "(set above, for an earlier finding)"));	/* once */
	assert_null(strstr(strstr(text, "set above"), "\nnet.ipv4.tcp_syncookies ="));
	assert_non_null(strstr(text, "; net.ipv4.accel_no_such_key = 7\n"));	/* not here: commented */
	assert_null(strstr(text, "application: a larger backlog"));		/* text-only fixes stay out */
	r->n = 0;
	assert_int_equal(doctor_profile_write(r, NULL, path, &n), 0);
	assert_int_equal(n, 0);
	assert_non_null(strstr(slurp_file(path), "; no finding suggests a sysctl change\n"));
	assert_int_equal(doctor_profile_write(r, NULL, "/proc/accel-no-dir/x.ini", &n) < 0, 1);
	unlink(path);
	free(r);
}

static void test_bypass_servers(void **state)
{
	struct doctor_sample *b = sample(NULL, NULL, NULL);
	struct doctor_sock *l1, *l2;
	const struct doctor_finding *f;
	struct doctor_report *r;

	r = judge(NULL, b);			/* no bypass attached: checked, quiet */
	assert_true(check_of(r, "bypass-servers")->checked);
	assert_non_null(strstr(check_of(r, "bypass-servers")->detail, "no bypass attached"));
	free(r);
	l1 = sock_add(b, TCP_LISTEN, "127.0.0.1", 6379, "0.0.0.0", 0);
	l2 = sock_add(b, TCP_LISTEN, "127.0.0.1", 8080, "0.0.0.0", 0);
	l2->pid = 42;
	snprintf(l2->comm, sizeof(l2->comm), "java");
	b->bypass.attached = true;
	b->bypass.total = b->bypass.n = 2;
	b->bypass.p[0] = (struct doctor_bypass_port){ .port = 6379, .state = BPS_ACCELERATED, .listener = l1 };
	b->bypass.p[1] = (struct doctor_bypass_port){ .port = 8080, .state = BPS_BLOCKING, .listener = l2 };
	r = judge(NULL, b);
	assert_non_null(strstr(check_of(r, "bypass-servers")->detail, "2 listening ports: 1 accelerated (6379), 1 on the stack"));
	assert_int_equal(r->n, 1);
	f = &r->f[0];
	assert_string_equal(f->subject, "listener 127.0.0.1:8080");
	assert_int_equal(f->severity, SEV_INFO);
	assert_int_equal(f->endpoint.pid, 42);
	assert_non_null(strstr(f->cause, "blocking sockets"));
	assert_true(fix_says(f, "accelctl bypass forget PORT"));
	free(r);
	b->have[SRC_BYPASS] = false;		/* could not be read: not checked */
	snprintf(b->err[SRC_BYPASS], sizeof(b->err[SRC_BYPASS]), "no sockets");
	r = judge(NULL, b);
	assert_false(check_of(r, "bypass-servers")->checked);
	free(r);
	sample_put(b);
}

static void test_unreadable_source(void **state)
{
	static const char ns[] = LISTEN_NETSTAT("45 45 0 0");
	struct doctor_sample *b = sample(ns, NULL, NULL);
	const struct doctor_check *c;
	struct doctor_report *r;

	b->have[SRC_NETSTAT] = false;
	snprintf(b->err[SRC_NETSTAT], sizeof(b->err[SRC_NETSTAT]), "cannot read /proc/net/netstat: Permission denied");
	b->have[SRC_SOCKS] = false;
	snprintf(b->err[SRC_SOCKS], sizeof(b->err[SRC_SOCKS]), "cannot read sock_diag (TCP sockets): Operation not permitted");
	r = judge(NULL, b);
	assert_null(find(r, "accept-queue-overflow"));
	c = check_of(r, "accept-queue-overflow");
	assert_false(c->checked);
	assert_string_equal(c->detail, "cannot read /proc/net/netstat: Permission denied");
	assert_false(check_of(r, "ephemeral-ports")->checked);
	assert_true(check_of(r, "frag-reasm-timeout")->checked);
	free(r);
	for (int i = 0; i < SRC_MAX; i++)
		b->have[i] = false;
	r = judge(NULL, b);
	assert_int_equal(doctor_report_checked(r), 0);
	free(r);
	sample_put(b);
}

/* ---- devices: PMTU, rings, queues, IRQs (doctor_iface.c) ---- */

static void test_parse_interrupts_cpulist(void **state)
{
	static const char text[] =
		"           CPU0       CPU1       CPU2       CPU3\n"
		"  0:         40          0          0          0   IO-APIC    2-edge      timer\n"
		" 24:     100000          0          0          0   PCI-MSI 524288-edge      eth0-TxRx-0\n"
		" 25:          0     100000          0          0   PCI-MSI 524289-edge      eth0-TxRx-1\n"
		" 26:          0          0          0          0   PCI-MSI 524290-edge      i40e-eth0-TxRx-2\n"
		" 27:          0          0          0          0   PCI-MSI 524291-edge      eth10-TxRx-0\n"
		" 28:          0          0          0          0   PCI-MSI 524292-edge      eth0\n"
		"NMI:          0          0          0          0   Non-maskable interrupts\n";
	uint64_t mask[2];
	int irqs[8], n;

	n = doctor_parse_interrupts(text, "eth0", irqs, 8);
	assert_int_equal(n, 4);
	assert_int_equal(irqs[0], 24);
	assert_int_equal(irqs[2], 26);
	assert_int_equal(irqs[3], 28);
	assert_int_equal(doctor_parse_interrupts(text, "eth1", irqs, 8), 0);
	assert_int_equal(doctor_parse_interrupts(text, "eth0", irqs, 2), 2);
	assert_int_equal(doctor_parse_cpulist("0-3,8\n", mask, 2), 5);
	assert_true(mask[0] == 0x10f && mask[1] == 0);
	assert_int_equal(doctor_parse_cpulist("70", mask, 2), 1);
	assert_true(mask[1] == 1ull << 6);
	assert_int_equal(doctor_parse_cpulist("", mask, 2), -EINVAL);
	assert_int_equal(doctor_parse_cpulist("3-1", mask, 2), -EINVAL);
	assert_int_equal(doctor_parse_cpulist("x", mask, 2), -EINVAL);
}

/* not inlined: gcc's -Wstringop-overread cannot follow a finding found by id */
static __attribute__((noinline)) bool has(const char *text, const char *part)
{
	return strstr(text, part) != NULL;
}

static struct doctor_acct *acct_add(struct doctor_sample *s, const char *name, uint32_t mtu)
{
	struct doctor_acct *a = &s->links.acct[s->links.nacct++];

	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->mtu = mtu;
	s->links.acct_attached = true;
	return a;
}

static bool fix_has(const struct doctor_finding *f, const char *key, const char *text)
{
	for (int i = 0; i < f->nfix; i++)
		if ((!key || !strcmp(f->fix[i].key, key)) && (!text || strstr(f->fix[i].text, text)))
			return true;
	return false;
}

static void test_pmtu_netacct(void **state)
{
	struct doctor_sample *b = sample(NULL, NULL, NULL), *a = sample(NULL, NULL, NULL);
	const struct doctor_finding *f;
	struct doctor_acct *x;
	struct doctor_report *r;

	set_sysctl(b, DS_TCP_MTU_PROBING, "0");
	acct_add(b, "lo", 65536);
	x = acct_add(b, "h1", 1500);
	x->pmtu_in = 12;
	x->pmtu_below = 12;
	x->pmtu_min = 1280;
	x = acct_add(b, "r1", 1500);
	x->over_mtu = x->over_mtu_df = 5;
	r = judge(NULL, b);
	assert_int_equal(r->n, 2);
	f = find_one(r, "pmtu-narrowed");
	assert_string_equal(f->subject, "interface h1");
	assert_int_equal(f->severity, SEV_INFO);
	assert_true(has(f->evidence, "netacct on h1 (exact): 12 PMTU messages received"));
	assert_true(has(f->evidence, "<= 1280 bytes"));
	assert_true(fix_has(f, "net.ipv4.tcp_mtu_probing", NULL));
	f = find_one(r, "pmtu-blackhole");
	assert_string_equal(f->subject, "interface r1");
	assert_int_equal(f->severity, SEV_INFO);	/* history without --since */
	assert_true(has(f->evidence, "0 PMTU messages received"));
	assert_true(check_of(r, "pmtu")->checked);
	assert_true(has(check_of(r, "pmtu")->detail, "exact"));
	free(r);
	/* over an interval: only growth counts; a black hole growing now is a warning */
	x = acct_add(a, "h1", 1500);
	x->pmtu_in = x->pmtu_below = 12;
	x = acct_add(a, "r1", 1500);
	x->over_mtu = x->over_mtu_df = 1;
	r = judge(a, b);
	assert_null(find(r, "pmtu-narrowed"));
	assert_int_equal(find(r, "pmtu-blackhole")->severity, SEV_WARNING);
	free(r);
	sample_put(a);
	sample_put(b);
}

static void test_pmtu_kernel_fallback(void **state)
{
	struct doctor_sample *b = sample(NULL, NULL, NULL);
	const struct doctor_finding *f;
	struct doctor_report *r;

	r = judge(NULL, b);			/* no netacct, no messages: quiet */
	assert_null(find(r, "pmtu-narrowed"));
	assert_true(check_of(r, "pmtu")->checked);
	assert_true(has(check_of(r, "pmtu")->detail, "netacct not attached"));
	free(r);
	assert_int_equal(doctor_parse_snmp6("Icmp6InPktTooBigs \t3\n", &b->ctr), 0);
	r = judge(NULL, b);
	f = find_one(r, "pmtu-narrowed");
	assert_string_equal(f->subject, "namespace");
	assert_true(has(f->evidence, "Icmp6InPktTooBigs +3"));
	assert_true(has(f->evidence, "coarse"));
	assert_true(fix_has(f, NULL, "--features netacct"));
	free(r);
	sample_put(b);
}

static struct doctor_iface *iface_add(struct doctor_sample *s, const char *name, const char *kind)
{
	struct doctor_iface *d = &s->links.i[s->links.n];

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->kind, sizeof(d->kind), "%s", kind);
	d->ifindex = (unsigned int)++s->links.n;
	d->mtu = 1500;
	d->rings_err = d->channels_err = -EOPNOTSUPP;
	d->irq_cpu = -1;
	s->links.ncpus = 4;
	return d;
}

static void test_nic_ring_drops(void **state)
{
	struct doctor_sample *b = sample(NULL, NULL, NULL), *a = sample(NULL, NULL, NULL);
	struct doctor_iface *d;
	const struct doctor_finding *f;
	struct doctor_report *r;

	iface_add(b, "lo", "")->loopback = true;
	iface_add(b, "veth0", "veth")->rx_dropped = 100;
	d = iface_add(b, "eth0", "");
	d->rings_err = 0;
	d->rx_ring = 512;
	d->rx_ring_max = 4096;
	d->rx_missed = 70;
	d->rx_fifo = 30;
	d->rx_packets = 100000;
	d = iface_add(b, "eth1", "");	/* a device without rings (ethtool) */
	d->rx_missed = 5;
	r = judge(NULL, b);
	assert_int_equal(r->n, 1);
	f = find_one(r, "nic-ring-drops");
	assert_string_equal(f->subject, "interface eth0");
	assert_true(has(f->evidence, "rx_missed_errors +70, rx_fifo_errors +30"));
	assert_true(has(f->evidence, "RX ring 512 of at most 4096"));
	assert_true(fix_has(f, NULL, "ethtool -G eth0 rx 4096"));
	assert_true(fix_has(f, NULL, "[nic \"eth0\"] rx-ring = 4096"));
	assert_true(has(check_of(r, "nic-ring-drops")->detail, "veth0 (veth)"));
	assert_true(has(check_of(r, "nic-ring-drops")->detail, "eth1 (no rings)"));
	/* the ring's fix is a profile key too */
	{
		char path[] = "/tmp/accel-doctor-nic-XXXXXX";
		int fd = mkstemp(path), n = -1;
		const char *text;

		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(doctor_profile_write(r, NULL, path, &n), 0);
		assert_int_equal(n, 0);		/* sysctl settings */
		text = slurp_file(path);
		assert_true(has(text, "\n[nic \"eth0\"]\n; nic-ring-drops: interface eth0\n"));
		assert_true(has(text, ";   now:      rx-ring = 512\nrx-ring = 4096\n"));
		unlink(path);
	}
	free(r);
	/* at the maximum: no ring to grow, the load to spread */
	d = &b->links.i[2];
	d->rx_ring = 4096;
	r = judge(NULL, b);
	assert_true(fix_has(find(r, "nic-ring-drops"), NULL, "at its maximum"));
	free(r);
	/* over an interval nothing grew: nothing found */
	memcpy(&a->links, &b->links, sizeof(a->links));
	r = judge(a, b);
	assert_null(find(r, "nic-ring-drops"));
	assert_true(check_of(r, "nic-ring-drops")->checked);
	free(r);
	/* only virtual devices: nothing to check, no finding */
	b->links.n = 2;
	r = judge(NULL, b);
	assert_int_equal(r->n, 0);
	assert_true(has(check_of(r, "nic-ring-drops")->detail, "nothing to check"));
	assert_true(has(check_of(r, "rx-queues")->detail, "nothing to check"));
	assert_true(has(check_of(r, "irq-spread")->detail, "nothing to check"));
	free(r);
	b->have[SRC_LINKS] = false;
	snprintf(b->err[SRC_LINKS], sizeof(b->err[SRC_LINKS]), "cannot read rtnetlink: Permission denied");
	r = judge(NULL, b);
	assert_false(check_of(r, "nic-ring-drops")->checked);
	assert_false(check_of(r, "rx-queues")->checked);
	free(r);
	sample_put(a);
	sample_put(b);
}

/* A made-up sysfs for doctor_dev_irqs(): a directory per test. */
static char sysdir[64];

static int sysfs_setup(void **state)
{
	(void)state;
	return tmpdir_create(sysdir, sizeof(sysdir), "test_doctor_sysfs");
}

static int sysfs_teardown(void **state)
{
	(void)state;
	return tmpdir_remove(sysdir);
}

/* "mkdir -p" of each space-separated path below the made-up sysfs. */
static void sys_mkdirs(const char *paths)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "cd '%s' && mkdir -p %s", sysdir, paths);
	assert_int_equal(system(cmd), 0);
}

static void sys_put(const char *path, const char *text)
{
	char full[320];
	FILE *f;

	snprintf(full, sizeof(full), "%s/%s", sysdir, path);
	f = fopen(full, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void sys_link(const char *target, const char *path)
{
	char full[320];

	snprintf(full, sizeof(full), "%s/%s", sysdir, path);
	assert_int_equal(symlink(target, full), 0);
}

/* A PCI function at dir (below devices/): subsystem link, irq file and
 * its MSI vectors. */
static void sys_pci(const char *dir, const char *irq, const int *msi, int nmsi)
{
	char path[192], target[192], up[64] = "";

	for (const char *p = dir; *p; p++)
		if (*p == '/')
			strcat(up, "../");
	snprintf(path, sizeof(path), "devices/%s%s", dir, nmsi ? "/msi_irqs" : "");
	sys_mkdirs(path);
	snprintf(path, sizeof(path), "devices/%s/irq", dir);
	sys_put(path, irq);
	snprintf(target, sizeof(target), "../../%sbus/pci", up);
	snprintf(path, sizeof(path), "devices/%s/subsystem", dir);
	sys_link(target, path);
	for (int i = 0; i < nmsi; i++) {
		snprintf(path, sizeof(path), "devices/%s/msi_irqs/%d", dir, msi[i]);
		sys_put(path, "msix\n");
	}
}

/* A netdev dev whose device is the PCI function fn (below devices/),
 * and its class/net link. */
static void sys_netdev(const char *fn, const char *dev)
{
	char path[256], target[256];
	const char *base = strrchr(fn, '/');

	snprintf(path, sizeof(path), "devices/%s/net/%s class/net", fn, dev);
	sys_mkdirs(path);
	snprintf(target, sizeof(target), "../../../%s", base ? base + 1 : fn);
	snprintf(path, sizeof(path), "devices/%s/net/%s/device", fn, dev);
	sys_link(target, path);
	snprintf(target, sizeof(target), "../../devices/%s/net/%s", fn, dev);
	snprintf(path, sizeof(path), "class/net/%s", dev);
	sys_link(target, path);
}

/* The IRQs doctor_dev_irqs() finds for dev in the made-up sysfs (none:
 * -1, the name match only), as "24 25" into out. */
static int dev_irqs(bool sysfs, const char *interrupts, const char *dev, struct doctor_iface *d,
		    char *out, size_t len)
{
	int fd = sysfs ? open(sysdir, O_RDONLY | O_DIRECTORY) : -1, irqs[16], n;
	size_t off = 0;

	assert_true(!sysfs || fd >= 0);
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", dev);
	n = doctor_dev_irqs(fd, interrupts, d, irqs, (int)(sizeof(irqs) / sizeof(irqs[0])));
	assert_int_equal(n, d->nirqs);
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%d", i ? " " : "", irqs[i]);
	if (fd >= 0)
		close(fd);
	return n;
}

static void test_dev_irqs_virtio(void **state)
{
	/* as virtio-net has it: the netdev's device is the virtio device, its
	 * parent the PCI function with the MSI-X vectors */
	static const char text[] =
		"           CPU0       CPU1\n"
		" 24:          0          0 PCI-MSIX-0000:00:03.0   0-edge      virtio1-config\n"
		" 25:       1331          0 PCI-MSIX-0000:00:03.0   1-edge      virtio1-input.0\n"
		" 26:          0       1238 PCI-MSIX-0000:00:03.0   2-edge      virtio1-output.0\n"
		" 27:          0          0 PCI-MSIX-0000:00:04.0   0-edge      virtio2-config\n";
	static const int msi[] = { 26, 24, 25 };
	struct doctor_iface d;
	char got[64];

	(void)state;
	sys_pci("pci0000:00/0000:00:03.0", "0\n", msi, 3);
	sys_mkdirs("devices/pci0000:00/0000:00:03.0/virtio1/net/eth0 class/net");
	sys_link("../../../../bus/virtio", "devices/pci0000:00/0000:00:03.0/virtio1/subsystem");
	sys_link("../../../virtio1", "devices/pci0000:00/0000:00:03.0/virtio1/net/eth0/device");
	sys_link("../../devices/pci0000:00/0000:00:03.0/virtio1/net/eth0", "class/net/eth0");
	assert_int_equal(dev_irqs(true, text, "eth0", &d, got, sizeof(got)), 2);
	assert_string_equal(got, "25 26");		/* not virtio1-config */
	assert_int_equal(d.irq_src, DOCTOR_IRQ_MSI);
	assert_int_equal(d.irq_up, 1);
	/* a vector /proc/interrupts does not name is kept */
	assert_int_equal(dev_irqs(true, strstr(text, " 25:"), "eth0", &d, got, sizeof(got)), 3);
	assert_string_equal(got, "24 25 26");
	/* without sysfs: the name match, which virtio's names never make */
	assert_int_equal(dev_irqs(false, text, "eth0", &d, got, sizeof(got)), 0);
	assert_int_equal(d.irq_src, DOCTOR_IRQ_NAMES);
}

static void test_dev_irqs_pci_msi(void **state)
{
	/* mlx5: vectors named after the driver and the PCI address; the
	 * bridge above the function has vectors of its own, never the NIC's */
	static const char text[] =
		"           CPU0       CPU1\n"
		" 60:          0          0 PCI-MSIX-0000:3b:00.0   0-edge      mlx5_async0@pci:0000:3b:00.0\n"
		" 61:        100          0 PCI-MSIX-0000:3b:00.0   1-edge      mlx5_comp0@pci:0000:3b:00.0\n"
		" 62:        100          0 PCI-MSIX-0000:3b:00.0   2-edge      mlx5_comp1@pci:0000:3b:00.0\n"
		" 63:        100          0 PCI-MSIX-0000:3b:00.0   3-edge      mlx5_comp2@pci:0000:3b:00.0\n"
		"120:          0          0 PCI-MSI-0000:3a:00.0   0-edge      aerdrv\n";
	static const int bridge[] = { 120 }, fn[] = { 63, 60, 61, 62 };
	struct doctor_iface d;
	char got[64];

	(void)state;
	sys_pci("pci0000:3a/0000:3a:00.0", "0\n", bridge, 1);
	sys_pci("pci0000:3a/0000:3a:00.0/0000:3b:00.0", "0\n", fn, 4);
	sys_netdev("pci0000:3a/0000:3a:00.0/0000:3b:00.0", "ens1f0np0");
	assert_int_equal(dev_irqs(true, text, "ens1f0np0", &d, got, sizeof(got)), 3);
	assert_string_equal(got, "61 62 63");		/* not mlx5_async0, not the bridge's */
	assert_int_equal(d.irq_src, DOCTOR_IRQ_MSI);
	assert_int_equal(d.irq_up, 0);
	/* a function without vectors of its own does not borrow the bridge's */
	sys_pci("pci0000:3a/0000:3a:00.0/0000:3b:00.1", "0\n", NULL, 0);
	sys_netdev("pci0000:3a/0000:3a:00.0/0000:3b:00.1", "ens1f1np1");
	assert_int_equal(dev_irqs(true, text, "ens1f1np1", &d, got, sizeof(got)), 0);
}

static void test_dev_irqs_legacy_and_names(void **state)
{
	static const char text[] =
		"           CPU0       CPU1\n"
		" 11:        500          0   IO-APIC  11-fasteoi   eth1\n"
		" 40:        100          0 PCI-MSI 524288-edge      eth2-TxRx-0\n"
		" 41:          0        100 PCI-MSI 524289-edge      eth2-TxRx-1\n"
		" 42:          0        100 PCI-MSI 524290-edge      eth20-TxRx-0\n";
	struct doctor_iface d;
	char got[64];

	(void)state;
	/* INTx only: no msi_irqs, the irq file */
	sys_pci("pci0000:00/0000:00:19.0", "11\n", NULL, 0);
	sys_netdev("pci0000:00/0000:00:19.0", "eth1");
	assert_int_equal(dev_irqs(true, text, "eth1", &d, got, sizeof(got)), 1);
	assert_string_equal(got, "11");
	assert_int_equal(d.irq_src, DOCTOR_IRQ_LEGACY);
	/* irq 0 and no msi_irqs: the names (e1000/ixgbe style) */
	sys_pci("pci0000:00/0000:00:1f.6", "0\n", NULL, 0);
	sys_netdev("pci0000:00/0000:00:1f.6", "eth2");
	assert_int_equal(dev_irqs(true, text, "eth2", &d, got, sizeof(got)), 2);
	assert_string_equal(got, "40 41");
	assert_int_equal(d.irq_src, DOCTOR_IRQ_NAMES);
	/* no device link at all (a virtual device), or not in sysfs */
	sys_mkdirs("devices/virtual/net/eth20");
	sys_link("../../devices/virtual/net/eth20", "class/net/eth20");
	assert_int_equal(dev_irqs(true, text, "eth20", &d, got, sizeof(got)), 1);
	assert_string_equal(got, "42");
	assert_int_equal(dev_irqs(true, text, "eth9", &d, got, sizeof(got)), 0);
	assert_int_equal(d.irq_src, DOCTOR_IRQ_NAMES);
}

static void test_rx_queues_and_irq_spread(void **state)
{
	struct doctor_sample *b = sample(NULL, NULL, NULL);
	struct doctor_iface *d;
	const struct doctor_finding *f;
	struct doctor_report *r;

	d = iface_add(b, "eth0", "");
	d->channels_err = 0;
	d->ch_comb = 1;
	d->ch_comb_max = 8;
	d->nirqs = 4;
	d->irq_cpus = 1;
	d->irq_cpu = 0;
	d = iface_add(b, "eth1", "");	/* every queue in use, IRQs spread */
	d->channels_err = 0;
	d->ch_comb = d->ch_comb_max = 2;
	d->nirqs = 2;
	d->irq_cpus = 2;
	d->irq_cpu = 0;
	iface_add(b, "veth0", "veth");
	r = judge(NULL, b);
	assert_int_equal(r->n, 2);
	f = find_one(r, "rx-queues");
	assert_string_equal(f->subject, "interface eth0");
	assert_true(fix_has(f, NULL, "ethtool -L eth0 combined 4"));
	assert_true(fix_has(f, NULL, "combined = 4"));
	assert_true(fix_has(f, "combined", NULL));	/* a profile key, for --profile-out */
	f = find_one(r, "irq-spread");
	assert_string_equal(f->subject, "interface eth0");
	assert_true(has(f->evidence, "the 4 IRQs of eth0 (the /proc/interrupts lines naming eth0)"));
	assert_true(has(f->evidence, "CPU 0"));
	assert_true(fix_says(f, "`grep eth0 /proc/interrupts`"));
	free(r);
	/* found in sysfs, a virtio device's PCI function: the evidence says where */
	b->links.i[0].irq_src = DOCTOR_IRQ_MSI;
	b->links.i[0].irq_up = 1;
	r = judge(NULL, b);
	f = find_one(r, "irq-spread");
	assert_true(has(f->evidence, "the 4 IRQs of eth0 (/sys/class/net/eth0/device/../msi_irqs, less"));
	assert_true(fix_says(f, "`ls /sys/class/net/eth0/device/../msi_irqs`"));
	free(r);
	b->links.ncpus = 1;		/* one CPU: nothing to spread over */
	r = judge(NULL, b);
	assert_int_equal(r->n, 0);
	free(r);
	sample_put(b);
}

static void test_accept_queue_exact_tcpstate(void **state)
{
	static const char ns[] = LISTEN_NETSTAT("45 45 0 0");
	struct doctor_sample *b = sample(ns, NULL, NULL);
	const struct doctor_finding *f;
	struct doctor_report *r;
	struct doctor_sock *l;

	l = sock_add(b, TCP_LISTEN, "127.0.0.1", 7301, "0.0.0.0", 0);
	l->wqueue = 4;			/* drained now: sock_diag alone cannot name it */
	sock_add(b, TCP_LISTEN, "127.0.0.1", 7302, "0.0.0.0", 0)->wqueue = 4;
	r = judge(NULL, b);
	assert_string_equal(find(r, "accept-queue-overflow")->subject, "namespace");
	free(r);
	b->tcpstate.attached = true;
	snprintf(b->tcpstate.l[0].label, sizeof(b->tcpstate.l[0].label), "127.0.0.1:7301");
	b->tcpstate.l[0].accept_ovf = 45;
	snprintf(b->tcpstate.l[1].label, sizeof(b->tcpstate.l[1].label), "127.0.0.1:7302");
	b->tcpstate.n = 2;
	r = judge(NULL, b);
	assert_int_equal(r->n, 1);
	f = find_one(r, "accept-queue-overflow");
	assert_string_equal(f->subject, "listener 127.0.0.1:7301");
	assert_int_equal(f->severity, SEV_INFO);	/* not full now, no --since */
	assert_true(has(f->evidence, "accel_tcp_accept_queue_overflows_total +45 for 127.0.0.1:7301"));
	assert_true(has(f->evidence, "exact (tcpstate)"));
	assert_int_equal(value_of(f, "accept_queue_overflows"), 45);
	assert_true(has(f->cause, "was full"));
	assert_true(has(check_of(r, "accept-queue-overflow")->detail, "exact (tcpstate)"));
	free(r);
	sample_put(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_snmp),
		cmocka_unit_test(test_parse_snmp6_sockstat),
		cmocka_unit_test(test_parse_softnet),
		cmocka_unit_test(test_quiet_no_findings),
		cmocka_unit_test(test_accept_queue_overflow_names_listener),
		cmocka_unit_test(test_accept_queue_overflow_history),
		cmocka_unit_test(test_ephemeral_ports),
		cmocka_unit_test(test_timewait_overflow),
		cmocka_unit_test(test_syn_queue_without_cookies),
		cmocka_unit_test(test_syncookies_sent),
		cmocka_unit_test(test_softnet_needs_interval),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_resets_by_reason),
		cmocka_unit_test(test_syn_retransmits),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_fd_limit),
		cmocka_unit_test(test_profile_out),
		cmocka_unit_test(test_bypass_servers),
		cmocka_unit_test(test_unreadable_source),
		cmocka_unit_test(test_parse_interrupts_cpulist),
		cmocka_unit_test(test_pmtu_netacct),
		cmocka_unit_test(test_pmtu_kernel_fallback),
		cmocka_unit_test(test_nic_ring_drops),
		cmocka_unit_test_setup_teardown(test_dev_irqs_virtio, sysfs_setup, sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_dev_irqs_pci_msi, sysfs_setup, sysfs_teardown),
		cmocka_unit_test_setup_teardown(test_dev_irqs_legacy_and_names, sysfs_setup, sysfs_teardown),
		cmocka_unit_test(test_rx_queues_and_irq_spread),
		cmocka_unit_test(test_accept_queue_exact_tcpstate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
