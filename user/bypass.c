// SPDX-License-Identifier: GPL-2.0-only
/* bypass: local IO bypass (sockops + sockhash + sk_msg) -- not implemented yet (issue #3). */
#include <errno.h>
#include <stdio.h>

#include "accel.h"

static int bypass_probe(struct accel_ctx *ctx, char *why, size_t len)
{
	(void)ctx;
	snprintf(why, len, "not implemented in this version of accelctl (issue #3)");
	return -ENOSYS;
}

static int bypass_attach(struct accel_ctx *ctx)
{
	(void)ctx;
	return -ENOSYS;
}

static int bypass_detach(struct accel_ctx *ctx)
{
	(void)ctx;
	return 0;
}

static bool bypass_attached(struct accel_ctx *ctx)
{
	(void)ctx;
	return false;
}

const struct accel_feature feature_bypass = {
	.name = "bypass",
	.summary = "local IO bypass (sockops + sockhash + sk_msg)",
	.probe = bypass_probe,
	.attach = bypass_attach,
	.detach = bypass_detach,
	.attached = bypass_attached,
};
