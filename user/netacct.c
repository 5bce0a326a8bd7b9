// SPDX-License-Identifier: GPL-2.0-only
/* netacct: fragment, MTU and PMTU accounting (XDP + tc) -- not implemented yet (issue #4). */
#include <errno.h>
#include <stdio.h>

#include "accel.h"

static int netacct_probe(struct accel_ctx *ctx, char *why, size_t len)
{
	(void)ctx;
	snprintf(why, len, "not implemented in this version of accelctl (issue #4)");
	return -ENOSYS;
}

static int netacct_attach(struct accel_ctx *ctx)
{
	(void)ctx;
	return -ENOSYS;
}

static int netacct_detach(struct accel_ctx *ctx)
{
	(void)ctx;
	return 0;
}

static bool netacct_attached(struct accel_ctx *ctx)
{
	(void)ctx;
	return false;
}

const struct accel_feature feature_netacct = {
	.name = "netacct",
	.summary = "fragment, MTU and PMTU accounting (XDP + tc)",
	.probe = netacct_probe,
	.attach = netacct_attach,
	.detach = netacct_detach,
	.attached = netacct_attached,
};
