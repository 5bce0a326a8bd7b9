/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * serve_addr.h - serve's default address, for the option table in cli.c
 * (which needs nothing else of serve: serve.h includes cli.h, so cli.c
 * including serve.h would tie the two modules in a circle).
 */
#ifndef ACCEL_SERVE_ADDR_H
#define ACCEL_SERVE_ADDR_H

#include "accel.h"

/* Outside Prometheus' exporter range 9100-9999 (allocated in full) and
 * below ip_local_port_range (16384-65535 in the default profile), so
 * neither another exporter nor an outgoing connection takes it; the
 * choice is explained in docs/metrics.md "Port". */
#define ACCEL_SERVE_DEFAULT_PORT 7435
#define ACCEL_SERVE_DEFAULT_LISTEN "127.0.0.1:" ACCEL_STR(ACCEL_SERVE_DEFAULT_PORT)
/* accelctl's default up to 0.1.0, and cloudflare ebpf_exporter's. */
#define ACCEL_SERVE_OLD_PORT 9435

#endif
