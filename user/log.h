/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef ACCEL_LOG_H
#define ACCEL_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* Verbosity a message needs to be shown. */
enum log_level {
	LOG_WARN = 0,	/* always shown */
	LOG_INFO = 0,	/* shown by default too: operators want to see actions */
	LOG_DEBUG = 1,	/* -v */
	LOG_LIBBPF = 2,	/* -vv: libbpf's own messages */
};

/* syslog priorities, written as sd-daemon(3) "<N>" line prefixes when
 * stderr is the journal (names apart from <syslog.h>'s LOG_*). */
enum log_prio {
	PRIO_ERR = 3,
	PRIO_WARNING = 4,
	PRIO_INFO = 6,
	PRIO_DEBUG = 7,
};

void log_init(int verbosity);
int log_verbosity(void);
void log_msg(int level, int prio, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A library's message (libbpf, libxdp): lib_prefix ("libbpf: ") is added
 * unless the library put it there already.  warn and info are the
 * library's levels (else debug): warnings are usually the real reason an
 * attach failed (verifier log, missing BTF), so they show at -v, the rest
 * at -vv. */
void log_lib(bool warn, bool info, const char *lib_prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* Whether the file fd refers to is the stream env names: JOURNAL_STREAM's
 * "DEV:INO" (decimal, systemd.exec(5)) against fstat(fd).  NULL or
 * malformed env: false. */
bool log_is_journal_stream(const char *env, const struct stat *st);
/* Format msg for output: "<prio>" at the start of every line when journal,
 * prefix at the start of the message when *bol (at a line start) says the
 * message starts a line; *bol is left saying whether it ended one.  Writes
 * at most len - 1 bytes and a NUL; returns the length it needed (as
 * snprintf), so a caller can allocate and call again. */
size_t log_format(char *buf, size_t len, bool journal, int prio, const char *prefix,
		  const char *msg, bool *bol);

#define pr_err(fmt, ...)   log_msg(LOG_WARN, PRIO_ERR, "accelctl: ", fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...)  log_msg(LOG_WARN, PRIO_WARNING, "accelctl: ", fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)  log_msg(LOG_INFO, PRIO_INFO, "", fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) log_msg(LOG_DEBUG, PRIO_DEBUG, "debug: ", fmt, ##__VA_ARGS__)
/* An error whose text names its own origin ("accelctl attach: ..."). */
#define pr_err_raw(fmt, ...) log_msg(LOG_WARN, PRIO_ERR, "", fmt, ##__VA_ARGS__)

#endif
