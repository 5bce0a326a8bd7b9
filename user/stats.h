/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef ACCEL_STATS_H
#define ACCEL_STATS_H

#include "accel.h"
#include "cli.h"

/* Collect every attached feature's metrics into a new model (caller frees);
 * NULL with errno on failure. */
struct metrics *stats_collect(struct accel_ctx *ctx);
int stats_run(struct accel_ctx *ctx, struct cli_opts *o);

#endif
