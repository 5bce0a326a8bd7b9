// SPDX-License-Identifier: GPL-2.0-only
/*
 * sysctl keys: sysctl.d-style names, /proc/sys paths, which namespace a key
 * belongs to, and value checks.
 *
 * Scope is probed, not listed: the kernel registers global net tables
 * (net.core.netdev_max_backlog, net.ipv4.tcp_mem, ...) for the initial
 * network namespace only, so a net.* key that exists in another namespace
 * is that namespace's own.  Keys outside net.* (fs.file-max, vm.*) are
 * always the host's.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysctl.h"
#include "sysenv.h"
#include "tune_item.h"
#include "util.h"

int sysctl_key_parse(const char *key, char *canon, size_t clen, char *path, size_t plen,
		     char *err, size_t errlen)
{
	char rel[TUNE_KEY_LEN];
	size_t n, i;
	bool slashes;
	const char *sep;

	while (*key == '/' || *key == '.')
		key++;
	n = strlen(key);
	if (!n || n >= sizeof(rel) || n + 1 > clen) {
		snprintf(err, errlen, "empty or too long sysctl name");
		return -EINVAL;
	}
	/* sysctl.d(5): when the first separator is a slash, slashes separate
	 * and dots belong to names (eth0.100); otherwise the reverse. */
	sep = strpbrk(key, "./");
	slashes = sep && *sep == '/';
	for (i = 0; i < n; i++) {
		char c = key[i];

		if (!isalnum((unsigned char)c) && !strchr("._-/:@+", c)) {
			snprintf(err, errlen, "invalid character '%c' in sysctl name '%s'", c, key);
			return -EINVAL;
		}
		if (slashes)
			rel[i] = c;
		else
			rel[i] = c == '.' ? '/' : c == '/' ? '.' : c;
		canon[i] = rel[i] == '/' ? '.' : rel[i] == '.' ? '/' : rel[i];
	}
	rel[n] = canon[n] = '\0';
	if (strstr(rel, "//") || rel[n - 1] == '/' || !strcmp(rel, "..") ||
	    strstr(rel, "/../") || !strncmp(rel, "../", 3) ||
	    (n > 3 && !strcmp(rel + n - 3, "/.."))) {
		snprintf(err, errlen, "malformed sysctl name '%s'", key);
		return -EINVAL;
	}
	if (!strcmp(canon, "net.ipv4.tcp_tw_recycle")) {
		snprintf(err, errlen, "net.ipv4.tcp_tw_recycle was removed in Linux 4.12 (it broke "
			 "clients behind NAT); use net.ipv4.tcp_tw_reuse on the connecting side");
		return -EINVAL;
	}
	if (snprintf(path, plen, "/proc/sys/%s", rel) >= (int)plen) {
		snprintf(err, errlen, "sysctl name too long");
		return -EINVAL;
	}
	return 0;
}

char *sysctl_norm(char *s)
{
	char *r = s, *w = s;
	bool space = false;

	while (*r && isspace((unsigned char)*r))
		r++;
	for (; *r; r++) {
		if (isspace((unsigned char)*r)) {
			space = true;
			continue;
		}
		if (space && w != s)
			*w++ = ' ';
		space = false;
		*w++ = *r;
	}
	*w = '\0';
	return s;
}

int sysctl_read(const char *path, char *buf, size_t len)
{
	int n = read_file(path, buf, len);

	if (n < 0)
		return n;
	if ((size_t)n + 1 >= len)
		return -E2BIG;
	sysctl_norm(buf);
	return 0;
}

int sysctl_write(const char *path, const char *val)
{
	size_t len = strlen(val), off = 0;
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	/* One write(2): proc handlers parse the whole buffer at offset 0. */
	while (off < len || !len) {
		ssize_t w = write(fd, val + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		off += w;
		if (!len)
			break;
	}
	if (close(fd) && !err)
		err = -errno;
	return err;
}

bool sysctl_key_is_net(const char *canon)
{
	return !strncmp(canon, "net.", 4);
}

bool netns_is_initial(void)
{
	struct stat a, b;

	/* No --netns: we run where we were started, the host's namespace as
	 * far as we can tell (`ip netns exec X accelctl` defeats this: use
	 * --netns X).  Otherwise compare with where we started. */
	if (netns_origin_fd() < 0)
		return true;
	return !stat("/proc/self/ns/net", &a) && !fstat(netns_origin_fd(), &b) &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool sysctl_exists_in_initial_netns(const char *path)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	bool found = false;

	if (self >= 0 && netns_origin_fd() >= 0 && !setns(netns_origin_fd(), CLONE_NEWNET)) {
		found = !access(path, F_OK);
		if (setns(self, CLONE_NEWNET)) {
			/* Cannot happen with the fd we hold; never continue in
			 * the wrong namespace. */
			perror("accelctl: returning to the target network namespace");
			abort();
		}
	}
	if (self >= 0)
		close(self);
	return found;
}

/* Ranges the kernel enforces (or that are the only meaningful ones) for the
 * keys operators turn; others are checked by shape and by the kernel. */
static const struct {
	const char *key;
	int fields;
	int64_t min, max;
} known[] = {
	{ "net.core.somaxconn", 1, 1, 2147483647 },
	{ "net.core.netdev_max_backlog", 1, 1, 2147483647 },
	{ "net.core.netdev_budget", 1, 1, 2147483647 },
	{ "net.core.netdev_budget_usecs", 1, 1, 2147483647 },
	{ "net.core.rmem_default", 1, 256, 2147483647 },
	{ "net.core.rmem_max", 1, 256, 2147483647 },
	{ "net.core.wmem_default", 1, 256, 2147483647 },
	{ "net.core.wmem_max", 1, 256, 2147483647 },
	{ "net.core.optmem_max", 1, 0, 2147483647 },
	{ "net.ipv4.tcp_max_syn_backlog", 1, 1, 2147483647 },
	{ "net.ipv4.tcp_syncookies", 1, 0, 2 },
	{ "net.ipv4.tcp_syn_retries", 1, 1, 127 },
	{ "net.ipv4.tcp_synack_retries", 1, 0, 255 },
	{ "net.ipv4.tcp_fin_timeout", 1, 1, 2147483647 },
	{ "net.ipv4.tcp_tw_reuse", 1, 0, 2 },
	{ "net.ipv4.tcp_timestamps", 1, 0, 2 },
	{ "net.ipv4.tcp_max_tw_buckets", 1, 0, 2147483647 },
	{ "net.ipv4.tcp_max_orphans", 1, 0, 2147483647 },
	{ "net.ipv4.tcp_orphan_retries", 1, 0, 255 },
	{ "net.ipv4.tcp_fastopen", 1, 0, 0x7ff },
	{ "net.ipv4.tcp_slow_start_after_idle", 1, 0, 1 },
	{ "net.ipv4.tcp_mtu_probing", 1, 0, 2 },
	{ "net.ipv4.ip_local_port_range", 2, 1, 65535 },
	{ "net.ipv4.tcp_rmem", 3, 1, 2147483647 },
	{ "net.ipv4.tcp_wmem", 3, 1, 2147483647 },
	{ "net.ipv4.ipfrag_time", 1, 1, 2147483647 },
	{ "net.ipv4.ipfrag_high_thresh", 1, 0, 2147483647 },
	{ "net.ipv4.ipfrag_low_thresh", 1, 0, 2147483647 },
	{ "net.ipv6.ip6frag_time", 1, 1, 2147483647 },
	{ "net.ipv6.ip6frag_high_thresh", 1, 0, 2147483647 },
	{ "net.ipv6.ip6frag_low_thresh", 1, 0, 2147483647 },
	{ "fs.file-max", 1, 1, INT64_MAX },
	{ "fs.nr_open", 1, 1024, 1073741816 },	/* sysctl_nr_open_max on 64-bit */
};

bool sysctl_known_range(const char *canon, int64_t *min, int64_t *max)
{
	for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
		if (!strcmp(known[i].key, canon)) {
			*min = known[i].min;
			*max = known[i].max;
			return true;
		}
	}
	return false;
}

static int known_fields(const char *canon)
{
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcmp(known[i].key, canon))
			return known[i].fields;
	return 0;
}

static bool is_int(const char *s)
{
	if (*s == '-')
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s))
		s++;
	return !*s;
}

int sysctl_fields(const char *val, int64_t *out, int n)
{
	char buf[TUNE_VAL_LEN], *tok, *save = NULL;
	int k = 0;

	if (strlen(val) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, val);
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *end;

		if (!is_int(tok) || k >= n)
			return -EINVAL;
		errno = 0;
		out[k++] = strtoll(tok, &end, 10);
		if (errno)
			return -ERANGE;
	}
	return k;
}

int sysctl_check_value(const char *canon, const char *cur, const char *val, char *err, size_t len)
{
	int64_t cv[8] = { 0 }, nv[8] = { 0 }, min, max;
	int cn, nn, want = known_fields(canon);

	if (!*val) {
		snprintf(err, len, "%s: empty value", canon);
		return -EINVAL;
	}
	cn = cur ? sysctl_fields(cur, cv, 8) : -EINVAL;
	nn = sysctl_fields(val, nv, 8);
	if (want && nn != want) {
		snprintf(err, len, "%s: '%s' is not %d integer%s", canon, val, want, want > 1 ? "s" : "");
		return -EINVAL;
	}
	/* Shape of the current value: numeric keys take numbers, as many. */
	if (!want && cn > 0 && nn != cn) {
		snprintf(err, len, "%s: '%s' does not match the shape of the current value '%s' (%d integer%s)",
			 canon, val, cur, cn, cn > 1 ? "s" : "");
		return -EINVAL;
	}
	if (nn < 0 && nn != -EINVAL) {
		snprintf(err, len, "%s: '%s' is out of range", canon, val);
		return -ERANGE;
	}
	if (sysctl_known_range(canon, &min, &max)) {
		for (int i = 0; i < nn; i++) {
			if (nv[i] < min || nv[i] > max) {
				snprintf(err, len, "%s: %lld is out of range (%lld-%lld)", canon,
					 (long long)nv[i], (long long)min, (long long)max);
				return -ERANGE;
			}
		}
	}
	/* The kernel rounds it up and reads back the rounded size: another
	 * value than the one written, which detach would take for an
	 * operator's change. */
	if (!strcmp(canon, "net.core.rps_sock_flow_entries") && nn == 1 && (nv[0] & (nv[0] - 1))) {
		snprintf(err, len, "%s: %lld is not 0 or a power of two (the kernel would round it up)",
			 canon, (long long)nv[0]);
		return -ERANGE;
	}
	if (!strcmp(canon, "net.ipv4.ip_local_port_range") && nn == 2 && nv[0] > nv[1]) {
		snprintf(err, len, "%s: '%s': the first port must not be above the second", canon, val);
		return -ERANGE;
	}
	if ((!strcmp(canon, "net.ipv4.tcp_rmem") || !strcmp(canon, "net.ipv4.tcp_wmem")) && nn == 3 &&
	    (nv[0] > nv[1] || nv[1] > nv[2])) {
		snprintf(err, len, "%s: '%s' must be min <= default <= max", canon, val);
		return -ERANGE;
	}
	return 0;
}
