/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tcpstate.h - what other features read from tcpstate (tcpstate.c): its
 * iterator's records, the exact view of the TCP sockets of the namespace
 * the caller is in.
 */
#ifndef ACCEL_TCPSTATE_H
#define ACCEL_TCPSTATE_H

#include "accel.h"
#include "accel_abi.h"

/* Run tcpstate's pinned iter/tcp link once, in the calling thread's
 * network namespace, and hand every record to cb (a negative return stops
 * the walk and is returned).  -ENOENT when tcpstate is not attached under
 * ctx's pin root; another -errno when the iterator cannot run. */
int tcpstate_for_each_sock(const struct accel_ctx *ctx,
			   int (*cb)(const struct accel_tcp_iter_rec *r, void *data), void *data);

#endif
