// SPDX-License-Identifier: GPL-2.0-only
/*
 * Logging: warnings and actions on stderr, -v adds debug detail, -vv also
 * routes libbpf's messages (one level below ours) to stderr.
 *
 * When stderr is the journal (systemd sets JOURNAL_STREAM to its device
 * and inode), every line starts with its syslog priority as sd-daemon(3)
 * "<N>" prefix, so `journalctl -p warning` finds warnings and errors: a
 * multi-line message (a verifier log, a "Fix:" line) gets one on each
 * line.  Elsewhere the output is as it always was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "log.h"

static int verbosity;
static int journal = -1;	/* unknown until the first message */
static bool at_bol = true;	/* the last message ended its line */

bool log_is_journal_stream(const char *env, const struct stat *st)
{
	unsigned long long dev, ino;
	char *end;

	if (!env || *env < '0' || *env > '9')
		return false;
	errno = 0;
	dev = strtoull(env, &end, 10);
	if (errno || *end != ':' || end[1] < '0' || end[1] > '9')
		return false;
	ino = strtoull(end + 1, &end, 10);
	if (errno || *end)
		return false;
	return (unsigned long long)st->st_dev == dev && (unsigned long long)st->st_ino == ino;
}

size_t log_format(char *buf, size_t len, bool journal_fmt, int prio, const char *prefix,
		  const char *msg, bool *bol)
{
	char pri[4] = { '<', (char)('0' + (prio & 7)), '>', '\0' };
	size_t off = 0;

#define PUT(s, n) do {							\
		size_t n_ = (n);					\
		if (off + n_ < len)					\
			memcpy(buf + off, (s), n_);			\
		else if (off < len)					\
			memcpy(buf + off, (s), len - 1 - off);		\
		off += n_;						\
	} while (0)

	if (*bol) {
		if (journal_fmt)
			PUT(pri, 3);
		PUT(prefix, strlen(prefix));
	}
	for (const char *p = msg; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);

		PUT(p, n);
		p += n;
		*bol = nl != NULL;
		/* the next line of this message, if any, starts here */
		if (nl && *p && journal_fmt)
			PUT(pri, 3);
	}
#undef PUT
	if (len)
		buf[off < len ? off : len - 1] = '\0';
	return off;
}

static bool stderr_is_journal(void)
{
	struct stat st;

	if (journal < 0)
		journal = !fstat(STDERR_FILENO, &st) &&
			  log_is_journal_stream(getenv("JOURNAL_STREAM"), &st);
	return journal;
}

static void emit(int prio, const char *prefix, const char *msg)
{
	bool j = stderr_is_journal(), bol = at_bol;
	char small[1024], *buf = small;
	size_t n;

	n = log_format(small, sizeof(small), j, prio, prefix, msg, &bol);
	if (n >= sizeof(small)) {
		buf = malloc(n + 1);
		if (!buf) {
			/* unprefixed beats nothing */
			fputs(msg, stderr);
			at_bol = bol;
			return;
		}
		bol = at_bol;
		log_format(buf, n + 1, j, prio, prefix, msg, &bol);
	}
	fwrite(buf, 1, n, stderr);
	at_bol = bol;
	if (buf != small)
		free(buf);
}

void log_lib(bool warn, bool info, const char *lib_prefix, const char *fmt, va_list ap)
{
	int level = warn ? LOG_DEBUG : LOG_LIBBPF, prio = warn ? PRIO_WARNING : info ? PRIO_INFO : PRIO_DEBUG;
	char *msg;

	if (level > verbosity || vasprintf(&msg, fmt, ap) < 0)
		return;
	/* libbpf and libxdp start their messages with their name already */
	emit(prio, strncmp(msg, lib_prefix, strlen(lib_prefix)) ? lib_prefix : "", msg);
	free(msg);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	log_lib(level == LIBBPF_WARN, level == LIBBPF_INFO, "libbpf: ", fmt, ap);
	return 0;
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

void log_msg(int level, int prio, const char *prefix, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;

	if (level > verbosity)
		return;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	emit(prio, prefix, msg);
	free(msg);
}
