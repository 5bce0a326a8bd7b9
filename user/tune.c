// SPDX-License-Identifier: GPL-2.0-only
/* tune: sysctl and NIC tuning profiles -- not implemented yet (issue #6). */
#include <errno.h>
#include <stdio.h>

#include "accel.h"

static int tune_probe(struct accel_ctx *ctx, char *why, size_t len)
{
	(void)ctx;
	snprintf(why, len, "not implemented in this version of accelctl (issue #6)");
	return -ENOSYS;
}

static int tune_attach(struct accel_ctx *ctx)
{
	(void)ctx;
	return -ENOSYS;
}

static int tune_detach(struct accel_ctx *ctx)
{
	(void)ctx;
	return 0;
}

static bool tune_attached(struct accel_ctx *ctx)
{
	(void)ctx;
	return false;
}

const struct accel_feature feature_tune = {
	.name = "tune",
	.summary = "sysctl and NIC tuning profiles",
	.probe = tune_probe,
	.attach = tune_attach,
	.detach = tune_detach,
	.attached = tune_attached,
};
