/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef ACCEL_LOG_H
#define ACCEL_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_WARN = 0,	/* always shown */
	LOG_INFO = 0,	/* shown by default too: operators want to see actions */
	LOG_DEBUG = 1,	/* -v */
	LOG_LIBBPF = 2,	/* -vv: libbpf's own messages */
};

void log_init(int verbosity);
int log_verbosity(void);
void log_msg(int level, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define pr_warn(fmt, ...)  log_msg(LOG_WARN, "accelctl: ", fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)  log_msg(LOG_INFO, "", fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) log_msg(LOG_DEBUG, "debug: ", fmt, ##__VA_ARGS__)

#endif
