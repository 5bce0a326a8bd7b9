/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * doctor.h - `accelctl doctor`: findings from the kernel's own counters.
 *
 * A run takes one sample of the namespace's counters (/proc/net/snmp,
 * snmp6, netstat, sockstat, the host's softnet_stat), its sysctls, its
 * TCP sockets (sock_diag) and its devices (doctor_iface.c), with netacct's
 * and tcpstate's exact counters where they are attached, or two samples
 * --since seconds apart, and
 * judges them: each finding has an id, a severity, the evidence, the cause
 * in one sentence, the fix (a sysctl key and value, or what to change in
 * the application) and its section in docs/doctor.md.  Nothing needs to be
 * attached.  The parsers and doctor_judge() are separate from the reading
 * so that unit tests can feed them the kernel's text formats.
 */
#ifndef ACCEL_DOCTOR_H
#define ACCEL_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct accel_ctx;
struct cli_opts;

/* Named counters in nstat's spelling: "TcpExtListenOverflows",
 * "IpReasmFails", "Ip6ReasmTimeout". */
#define DOCTOR_NAME_LEN 48
struct doctor_counter {
	char name[DOCTOR_NAME_LEN];
	uint64_t value;
};

struct doctor_counters {
	size_t n, cap;
	struct doctor_counter *c;
};

/* One CPU's line of /proc/net/softnet_stat. */
struct doctor_softnet_cpu {
	unsigned int cpu;		/* column 13 when the kernel has it, else the line number */
	uint64_t processed, dropped, squeezed;
};

struct doctor_softnet {
	size_t n;
	struct doctor_softnet_cpu *cpu;
};

/* One TCP socket from sock_diag (IPv4-mapped IPv6 addresses folded to
 * IPv4). */
struct doctor_sock {
	uint8_t family;			/* AF_INET, AF_INET6 */
	uint8_t state;			/* TCP_ESTABLISHED ... as in the kernel */
	uint16_t sport, dport;		/* host order */
	uint8_t saddr[16], daddr[16];
	uint32_t rqueue, wqueue;	/* listener: accept queue length, max */
	uint32_t inode;
	int pid;			/* listener: a process holding it (0: none found) */
	char comm[16];
};

struct doctor_socks {
	size_t n, cap;
	struct doctor_sock *s;
};

/* The sysctls doctor looks at; "" when unreadable. */
enum doctor_sysctl {
	DS_PORT_RANGE,			/* net.ipv4.ip_local_port_range */
	DS_TW_REUSE,
	DS_TIMESTAMPS,
	DS_SOMAXCONN,
	DS_MAX_SYN_BACKLOG,
	DS_SYNCOOKIES,
	DS_MAX_TW_BUCKETS,
	DS_IPFRAG_HIGH,
	DS_IPFRAG_LOW,
	DS_IPFRAG_TIME,
	DS_IP6FRAG_HIGH,
	DS_IP6FRAG_LOW,
	DS_IP6FRAG_TIME,
	DS_SYNACK_RETRIES,
	DS_TCP_MTU_PROBING,
	DS_NETDEV_MAX_BACKLOG,		/* host-wide: read in the initial namespace */
	DS_NETDEV_BUDGET,
	DS_NETDEV_BUDGET_USECS,
	DS_TCP_MAX_ORPHANS,		/* host-wide */
	DS_MAX,
};
extern const char *const doctor_sysctl_keys[DS_MAX];

/* Which sources a sample could read; why not in err[]. */
enum doctor_source {
	SRC_SNMP, SRC_NETSTAT, SRC_SNMP6, SRC_SOCKSTAT, SRC_SOFTNET, SRC_SOCKS, SRC_PROCS, SRC_BYPASS,
	SRC_LINKS, SRC_NETACCT, SRC_IRQS, SRC_TCPSTATE, SRC_MAX,
};

/* A process of the namespace and its descriptors against RLIMIT_NOFILE. */
struct doctor_proc {
	int pid;
	char comm[16];
	uint64_t fds, soft, hard;	/* limits: UINT64_MAX for unlimited */
};

/* Descriptor use: percentages of the soft limit (docs/doctor.md). */
#define DOCTOR_FD_WARN_PCT 80
#define DOCTOR_FD_CRIT_PCT 95
#define DOCTOR_MAX_PROCS 16
struct doctor_procs {
	size_t scanned;			/* processes of the namespace looked at */
	struct doctor_proc fullest;	/* the one nearest its limit (pid 0: none) */
	size_t n;			/* at DOCTOR_FD_WARN_PCT or more, fullest first */
	struct doctor_proc p[DOCTOR_MAX_PROCS];
};

/* What the attached bypass does with each listening port (doctor_bypass_read). */
#define DOCTOR_MAX_BYPASS_PORTS 32
struct doctor_bypass_port {
	uint16_t port;
	int state;			/* enum bypass_port_state */
	unsigned int seen, need;	/* learning: connections observed, needed */
	const struct doctor_sock *listener;	/* in the sample's socks */
};
struct doctor_bypass {
	bool attached;
	int n, total;			/* listed; listening ports in all */
	struct doctor_bypass_port p[DOCTOR_MAX_BYPASS_PORTS];
};

/* One network device of the namespace (doctor_iface.c): rtnetlink
 * RTM_GETLINK, ethtool netlink rings and channels, its IRQs. */
#define DOCTOR_MAX_IFACES 32
struct doctor_iface {
	char name[16];
	unsigned int ifindex;
	char kind[16];			/* IFLA_INFO_KIND ("veth", "bridge"); "" for a driver's own device */
	bool loopback;
	uint32_t mtu, rx_queues;	/* IFLA_MTU, IFLA_NUM_RX_QUEUES */
	uint64_t rx_packets, rx_dropped, rx_missed, rx_fifo;	/* IFLA_STATS64 */
	int rings_err, channels_err;	/* 0, or -errno: ethtool netlink has none for it */
	uint32_t rx_ring, rx_ring_max;
	uint32_t ch_rx, ch_comb, ch_rx_max, ch_comb_max;
	int nirqs;			/* /proc/interrupts lines naming the device */
	int irq_cpus;			/* distinct CPUs in their (effective) affinity lists */
	int irq_cpu;			/* the lowest of them */
};

/* What netacct counted on one interface (when it is attached). */
struct doctor_acct {
	char name[16];
	uint32_t mtu;			/* as the programs last saw it */
	uint64_t over_mtu, over_mtu_df;	/* both directions; DF: IPv4 only */
	uint64_t pmtu_in;		/* ICMP frag-needed / ICMPv6 Packet Too Big received */
	uint64_t pmtu_below;		/* of them, advertising an MTU below the interface's */
	uint32_t pmtu_min;		/* the lowest bucket bound with messages (0: none) */
};

struct doctor_links {
	int n, nacct;
	unsigned int ncpus;		/* online CPUs */
	bool acct_attached;
	struct doctor_iface i[DOCTOR_MAX_IFACES];
	struct doctor_acct acct[DOCTOR_MAX_IFACES];
};

/* tcpstate's per-listener counters, when it is attached here. */
#define DOCTOR_MAX_TCPL 64
struct doctor_tcpl {
	char label[64];			/* "127.0.0.1:7301", "[::1]:80" */
	uint64_t accept_ovf;		/* accel_tcp_accept_queue_overflows_total */
};
struct doctor_tcpstate {
	bool attached;
	int n;
	struct doctor_tcpl l[DOCTOR_MAX_TCPL];
};

struct doctor_sample {
	double mono;			/* CLOCK_MONOTONIC seconds */
	bool have[SRC_MAX];
	char err[SRC_MAX][160];
	struct doctor_counters ctr;	/* snmp + netstat + snmp6 */
	uint64_t sockstat_tw;		/* /proc/net/sockstat TCP tw */
	struct doctor_softnet softnet;
	struct doctor_socks socks;	/* read for the last sample only */
	struct doctor_procs procs;	/* read with the sockets */
	struct doctor_bypass bypass;	/* doctor_bypass_read() */
	struct doctor_links links;	/* doctor_links_read(), doctor_acct_read() */
	struct doctor_tcpstate tcpstate;	/* doctor_tcpstate_read() */
	char sysctl[DS_MAX][64];
};

enum doctor_severity { SEV_INFO = 0, SEV_WARNING, SEV_CRITICAL };

#define DOCTOR_MAX_FIX 4
#define DOCTOR_MAX_VALUES 12
struct doctor_fix {
	char key[64];			/* sysctl key (dev "": a NIC profile key), or "" for text only */
	char dev[16];			/* a NIC setting of this device ([nic "DEV"] key = value) */
	char value[64];
	char current[64];
	char text[512];
};

struct doctor_finding {
	const char *id;
	enum doctor_severity severity;
	bool host;			/* host-wide (softnet) rather than the namespace */
	char subject[128];		/* "listener 127.0.0.1:7101", "destination 10.0.0.1:5432", "CPU 1" */
	char evidence[1024];
	char cause[512];
	int nfix;
	struct doctor_fix fix[DOCTOR_MAX_FIX];
	int nvalues;
	struct { const char *name; uint64_t value; } values[DOCTOR_MAX_VALUES];
	/* the socket the finding is about, when it is about one */
	struct {
		const char *role;	/* "listener", "destination"; NULL: none */
		char addr[48];		/* without the port */
		uint16_t port;
		int pid;		/* listener's owner, 0: not found */
		char comm[16];
	} endpoint;
};

struct doctor_check {
	const char *id;
	char detail[240];		/* what was looked at, or why it was not */
	bool checked;
};

#define DOCTOR_MAX_FINDINGS 64
#define DOCTOR_MAX_CHECKS 32
struct doctor_report {
	double interval;		/* seconds between the samples; 0: one sample */
	const char *baseline;		/* one sample: what the counters count from */
	int n;
	struct doctor_finding f[DOCTOR_MAX_FINDINGS];
	int nchecks;
	struct doctor_check checks[DOCTOR_MAX_CHECKS];
};

/* Thresholds (docs/doctor.md). */
#define DOCTOR_PORTS_WARN_PCT 50
#define DOCTOR_PORTS_CRIT_PCT 90

/* Parsers of the kernel's formats: 0 or -errno.  Counters are appended. */
int doctor_parse_snmp(const char *text, struct doctor_counters *c);	/* snmp, netstat */
int doctor_parse_snmp6(const char *text, struct doctor_counters *c);
int doctor_parse_softnet(const char *text, struct doctor_softnet *s);
int doctor_parse_sockstat_tw(const char *text, uint64_t *tw);
/* "Max open files" of /proc/PID/limits: 0 or -EINVAL. */
int doctor_parse_limits_nofile(const char *text, uint64_t *soft, uint64_t *hard);
/* The processes of the current network namespace: 0 or -errno. */
int doctor_procs_read(struct doctor_procs *p);
/* Keep pr in p's list (at or above DOCTOR_FD_WARN_PCT) and as fullest. */
void doctor_procs_add(struct doctor_procs *p, const struct doctor_proc *pr);

/* /proc/interrupts: the IRQ numbers of lines whose name is dev or starts
 * with "dev-" / "dev@" ("eth0-TxRx-3"); how many (at most max). */
int doctor_parse_interrupts(const char *text, const char *dev, int *irqs, int max);
/* A CPU list ("0-3,8") into mask (nwords 64-bit words, CPUs beyond it
 * ignored): how many CPUs it names, or -EINVAL. */
int doctor_parse_cpulist(const char *text, uint64_t *mask, int nwords);
/* The namespace's devices with their stats, rings, channels and IRQs, and
 * netacct's per-interface counters when it is attached.  Never fails: what
 * cannot be read is marked in have/err. */
void doctor_links_read(struct doctor_sample *s);
void doctor_acct_read(struct accel_ctx *ctx, struct doctor_sample *s);
/* tcpstate's exact per-listener accept-queue overflows, when attached. */
void doctor_tcpstate_read(struct accel_ctx *ctx, struct doctor_sample *s);

/* The counter's value; false when absent. */
bool doctor_counter(const struct doctor_counters *c, const char *name, uint64_t *v);

/* Read a sample of the current network namespace (socks: also the TCP
 * sockets).  Never fails: what cannot be read is marked in have/err. */
void doctor_sample_read(struct doctor_sample *s, bool socks);
void doctor_sample_free(struct doctor_sample *s);
/* The bypass's view of the sample's listeners (needs the sockets). */
void doctor_bypass_read(const struct accel_ctx *ctx, struct doctor_sample *s);

/* Judge: first (NULL without --since) and last sample, seconds between. */
void doctor_judge(const struct doctor_sample *first, const struct doctor_sample *last,
		  double interval, struct doctor_report *r);

/* How many checks could be made (0: every source failed). */
int doctor_report_checked(const struct doctor_report *r);

/* --profile-out: the report's sysctl fixes as an INI profile at path
 * (atomically); *nsettings: how many it sets.  0 or -errno. */
int doctor_profile_write(const struct doctor_report *r, const char *ns, const char *path, int *nsettings);

int cmd_doctor(struct accel_ctx *ctx, struct cli_opts *o);

#endif
