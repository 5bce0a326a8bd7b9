/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * doctor_sample.h - what doctor reads and what it reports: the sample of
 * a namespace's counters, sysctls, sockets and devices, the findings and
 * checks of a report, and doctor_counter(), the lookup of a counter
 * (doctor_sample.c).  The lowest layer of doctor: doctor.h (the command,
 * the readers and parsers) and doctor_judge.h (the judges' helpers) both
 * build on it, and it on neither.
 */
#ifndef ACCEL_DOCTOR_SAMPLE_H
#define ACCEL_DOCTOR_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
/* Where a device's IRQs were found (doctor_dev_irqs()). */
enum doctor_irq_src {
	DOCTOR_IRQ_NAMES,		/* /proc/interrupts lines naming it (also: none found) */
	DOCTOR_IRQ_MSI,			/* sysfs class/net/DEV/device[/..]/msi_irqs */
	DOCTOR_IRQ_LEGACY,		/* sysfs class/net/DEV/device[/..]/irq */
};
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
	int nirqs;			/* its queue IRQs (doctor_dev_irqs()) */
	enum doctor_irq_src irq_src;	/* where they were found */
	int irq_up;			/* the device's parents climbed to find them: 0-2 */
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

/* The counter's value; false when absent. */
bool doctor_counter(const struct doctor_counters *c, const char *name, uint64_t *v);

#endif
