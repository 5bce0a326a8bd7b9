/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef ACCEL_SERVE_H
#define ACCEL_SERVE_H

#include "accel.h"
#include "cli.h"
#include "serve_addr.h"

/* `accelctl serve`: /metrics, /healthz and / until SIGINT or SIGTERM.
 * Listens in the network namespace it was started in; reads counters in
 * the namespace attach used (or --netns), entering it per scrape. */
int serve_run(struct accel_ctx *ctx, struct cli_opts *o);

/* What serve adds to /metrics: its own cost (not in `stats`). */
enum serve_metric {
	SM_SCRAPES,
	SM_SCRAPE_ERRORS,
	SM_COLLECT_DURATION,
	SM_PROCESS_CPU,
	SM_PROCESS_RESIDENT_MEMORY,
	SM_PROCESS_VIRTUAL_MEMORY,
	SM_PROCESS_OPEN_FDS,
	SM_PROCESS_MAX_FDS,
	SM_PROCESS_START_TIME,
	SM_COUNT
};
extern const struct metric_desc serve_metrics[SM_COUNT];

#endif
