/* SPDX-License-Identifier: GPL-2.0-only */
/* bypass: runtime control and the pieces tests reuse. */
#ifndef ACCEL_BYPASS_H
#define ACCEL_BYPASS_H

#include <stdbool.h>
#include <stddef.h>

#include "accel.h"
#include "accel_abi.h"

/* `accelctl bypass on|off|policy|selftest` */
int bypass_command(struct accel_ctx *ctx, const char *verb);

/*
 * The kernel self-test: does tcp_bpf_recvmsg() answer a blocking reader
 * -EAGAIN after a wakeup that brought no psock data?  Returns 1 (affected),
 * 0 (not affected) or -errno (could not tell); detail says what was seen.
 */
int bypass_selftest_blocking(char *detail, size_t len);

/* Mirror a key (the peer's key of a socket). */
void bypass_key_mirror(const struct accel_bypass_key *k, struct accel_bypass_key *peer);
/* "inet 127.0.0.1:40000 -> 127.0.0.1:6379 netns 4096" */
const char *bypass_key_str(const struct accel_bypass_key *k, char *buf, size_t len);
/* Set the bits of a port list in a bitmap of 1024 __u64 words. */
void bypass_ports_bitmap(const struct port_list *pl, uint64_t *words);

#endif
