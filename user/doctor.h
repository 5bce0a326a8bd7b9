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

#include "doctor_sample.h"

struct accel_ctx;
struct cli_opts;

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
/* The queue IRQs of d (by d->name), at most max of them into irqs; sets
 * d->nirqs, d->irq_src and d->irq_up.  First the kernel's own relation,
 * in sysfs: the MSI/MSI-X vectors of class/net/DEV/device/msi_irqs, or of
 * the PCI function one or two parents up (virtio-net: the netdev's device
 * is the virtio device, the function its parent), without the vectors
 * /proc/interrupts names as control ones ("-config", "async"); else that
 * device's irq file (INTx, 0: none); else the /proc/interrupts lines
 * naming the device (doctor_parse_interrupts()).  sysfs: a directory fd
 * of a sysfs root (tests: a made-up tree), -1 for the name match only;
 * interrupts: /proc/interrupts' text. */
int doctor_dev_irqs(int sysfs, const char *interrupts, struct doctor_iface *d, int *irqs, int max);
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
