// SPDX-License-Identifier: GPL-2.0-only
/* Small helpers: number and list parsing, paths, files. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	uint64_t v;
	int err = parse_u64(s, 1, 65535, &v);

	if (!err)
		*port = (uint16_t)v;
	return err;
}

int port_list_parse(const char *s, struct port_list *pl, char *err, size_t errlen)
{
	char buf[1024], *tok, *rest;

	pl->n = 0;
	if (!s || !*s || strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "empty or too long port list");
		return -EINVAL;
	}
	strcpy(buf, s);
	/* strsep, not strtok: "80,,81" has an empty element and is an error */
	for (rest = buf; (tok = strsep(&rest, ","));) {
		struct port_range r;
		char *dash = strchr(tok, '-');

		if (pl->n >= PORT_LIST_MAX) {
			snprintf(err, errlen, "more than %d elements", PORT_LIST_MAX);
			return -EINVAL;
		}
		if (dash)
			*dash = '\0';
		if (parse_port(tok, &r.lo) || (dash && parse_port(dash + 1, &r.hi))) {
			if (dash)
				*dash = '-';
			snprintf(err, errlen, "'%s' is not a port (1-65535) or range (LO-HI)", tok);
			return -EINVAL;
		}
		if (!dash)
			r.hi = r.lo;
		if (r.hi < r.lo) {
			snprintf(err, errlen, "range %u-%u runs backwards", r.lo, r.hi);
			return -EINVAL;
		}
		pl->r[pl->n++] = r;
	}
	if (!pl->n) {
		snprintf(err, errlen, "empty port list");
		return -EINVAL;
	}
	return 0;
}

bool port_list_has(const struct port_list *pl, uint16_t port)
{
	for (int i = 0; i < pl->n; i++)
		if (port >= pl->r[i].lo && port <= pl->r[i].hi)
			return true;
	return false;
}

int ifname_to_index(const char *name, unsigned int *ifindex)
{
	size_t len = name ? strlen(name) : 0;
	unsigned int idx;

	if (!len || len >= IF_NAMESIZE || strchr(name, '/') || strchr(name, ':'))
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (isspace((unsigned char)name[i]))
			return -EINVAL;
	idx = if_nametoindex(name);
	if (!idx)
		return -ENODEV;
	*ifindex = idx;
	return 0;
}

int path_join(char *buf, size_t len, const char *a, const char *b)
{
	int n = snprintf(buf, len, "%s/%s", a, b);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int mkdir_p(const char *path, unsigned int mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (!len || len >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, mode) && errno != EEXIST)
				return -errno;
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

bool path_exists(const char *path)
{
	return !faccessat(AT_FDCWD, path, F_OK, AT_EACCESS);
}

void rmdir_if_empty(const char *path)
{
	(void)rmdir(path);
}

int write_file_atomic(const char *path, const char *data, size_t len, unsigned int mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, err = 0, dfd;
	size_t off = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto cleanup;
		}
		off += n;
	}
	if (fsync(fd)) {
		err = -errno;
		goto cleanup;
	}
	if (rename(tmp, path)) {
		err = -errno;
		goto cleanup;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
cleanup:
	close(fd);
	if (err)
		unlink(tmp);
	return err;
}

int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t off = 0;
	int err = 0;

	if (fd < 0)
		return -errno;
	while (off + 1 < len) {
		ssize_t n = read(fd, buf + off, len - 1 - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (!n)
			break;
		off += n;
	}
	close(fd);
	buf[off] = '\0';
	return err ? err : (int)off;
}

int str_appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return -ENOSPC;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *off) {
		buf[*off] = '\0';
		return n < 0 ? -EINVAL : -ENOSPC;
	}
	*off += n;
	return 0;
}

char *strtrim(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

const char *fmt_bytes(double v, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned int u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

const char *fmt_time(long long sec, char *buf, size_t len)
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%lld", sec);
	return buf;
}

double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
