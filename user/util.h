/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef ACCEL_UTIL_H
#define ACCEL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Parse a decimal (or 0x hex) unsigned integer in [min, max].
 * Returns 0, -EINVAL (not a number) or -ERANGE (outside the range). */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A set of TCP ports, e.g. "6379,8080-8090". */
#define PORT_LIST_MAX 64
struct port_range {
	uint16_t lo, hi;
};
struct port_list {
	int n;
	struct port_range r[PORT_LIST_MAX];
};
/* Returns 0 or -EINVAL with err filled with the offending element. */
int port_list_parse(const char *s, struct port_list *pl, char *err, size_t errlen);
bool port_list_has(const struct port_list *pl, uint16_t port);

/* Interface name → index, checking the name first.  Returns 0, -EINVAL
 * (not a valid interface name) or -ENODEV (no such interface here). */
int ifname_to_index(const char *name, unsigned int *ifindex);

/* snprintf into a PATH_MAX buffer; -ENAMETOOLONG when it does not fit. */
int path_join(char *buf, size_t len, const char *a, const char *b);
/* mkdir -p with mode for each created component. */
int mkdir_p(const char *path, unsigned int mode);
/* Remove dir if it is empty; ignore ENOENT/ENOTEMPTY. */
void rmdir_if_empty(const char *path);
/* Whether path exists, as this process sees it: with its effective
 * credentials and capabilities (access(2) checks the real uid's, so a
 * non-root user with CAP_DAC_OVERRIDE would find nothing). */
bool path_exists(const char *path);

/* Write a whole file atomically (tmp + fsync + rename + fsync dir). */
int write_file_atomic(const char *path, const char *data, size_t len, unsigned int mode);
/* Read a small file into buf (NUL-terminated); returns bytes or -errno. */
int read_file(const char *path, char *buf, size_t len);

/* Append printf-style text at buf + *off (buf holds len bytes, *off is the
 * current string length) and advance *off.  When the text does not fit,
 * nothing of it is kept (buf stays the string it was) and -ENOSPC is
 * returned, so a caller can never run past the buffer nor keep half a
 * field. */
int str_appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Strip trailing whitespace in place; returns s. */
char *strtrim(char *s);

/* "1.5 KiB"-style; returns buf. */
const char *fmt_bytes(double v, char *buf, size_t len);
/* ISO-8601 UTC time. */
const char *fmt_time(long long sec, char *buf, size_t len);
/* CLOCK_MONOTONIC in seconds. */
double mono_now(void);

#endif
