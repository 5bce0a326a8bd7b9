/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests: a private directory under /tmp for the tests of one file
 * (their cmocka setup and teardown), removed with everything in it.
 */
#ifndef ACCEL_TEST_TMPDIR_H
#define ACCEL_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

/* /tmp/NAME.XXXXXX, made: 0, or -1 (errno set). */
static inline int tmpdir_create(char *dir, size_t len, const char *name)
{
	snprintf(dir, len, "/tmp/%s.XXXXXX", name);
	return mkdtemp(dir) ? 0 : -1;
}

static inline int tmpdir_remove(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

#endif
