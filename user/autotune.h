/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * autotune.h - observe counters, act within the profile's bounds
 * (autotune.c).
 */
#ifndef ACCEL_AUTOTUNE_H
#define ACCEL_AUTOTUNE_H

#include <stdint.h>

#include "accel.h"

struct cli_opts;

/* Record the counters auto-tune compares against (attach --auto). */
int autotune_baseline(struct accel_ctx *ctx);
/* <state-dir>/autotune.state: the counters the next step compares with. */
struct autotune_baseline {
	uint64_t listen_overflows;	/* TcpExt: ListenOverflows */
	uint64_t reasm_fails6;		/* Ip6ReasmFails */
};
struct state_kind;
extern const struct state_kind autotune_baseline_kind;
void autotune_state_remove(struct accel_ctx *ctx);
int cmd_autotune(struct accel_ctx *ctx, struct cli_opts *o);

#endif
