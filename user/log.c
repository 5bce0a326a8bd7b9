// SPDX-License-Identifier: GPL-2.0-only
/*
 * Logging: warnings and actions on stderr, -v adds debug detail, -vv also
 * routes libbpf's messages (one level below ours) to stderr.
 */
#include <stdio.h>
#include <bpf/libbpf.h>

#include "log.h"

static int verbosity;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf warnings are usually the real reason an attach failed
	 * (verifier log, missing BTF): show them at -v, the rest at -vv. */
	if (level == LIBBPF_WARN ? verbosity < LOG_DEBUG : verbosity < LOG_LIBBPF)
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void log_init(int v)
{
	verbosity = v;
	libbpf_set_print(libbpf_print);
}

int log_verbosity(void)
{
	return verbosity;
}

void log_msg(int level, const char *prefix, const char *fmt, ...)
{
	va_list ap;

	if (level > verbosity)
		return;
	va_start(ap, fmt);
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
