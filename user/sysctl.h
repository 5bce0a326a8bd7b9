/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sysctl.h - sysctl keys: names, /proc/sys paths, scope (netns or
 * host), values and known ranges (sysctl.c).
 */
#ifndef ACCEL_SYSCTL_H
#define ACCEL_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* sysctl.d name ("net.ipv4.tcp_rmem", "net/ipv4/tcp_rmem",
 * "net.ipv4.conf.eth0/100.forwarding") → canonical dotted name and the
 * /proc/sys path.  -EINVAL with a reason in err. */
int sysctl_key_parse(const char *key, char *canon, size_t clen, char *path, size_t plen,
		     char *err, size_t errlen);
/* Collapse whitespace to single spaces, strip the ends (in place). */
char *sysctl_norm(char *s);
int sysctl_read(const char *path, char *buf, size_t len);
int sysctl_write(const char *path, const char *val);
/* Is the key a network-namespace key (under net.)? */
bool sysctl_key_is_net(const char *canon);
/* Are we in the initial network namespace? */
bool netns_is_initial(void);
/* Does path exist in the initial network namespace (we are in another)? */
bool sysctl_exists_in_initial_netns(const char *path);
/* Check a value against the current one (shape) and the known range of
 * the key.  0 or -EINVAL/-ERANGE with a reason in err. */
int sysctl_check_value(const char *canon, const char *cur, const char *val, char *err, size_t len);
/* Known limits of a key (documented ranges); false when unknown. */
bool sysctl_known_range(const char *canon, int64_t *min, int64_t *max);
/* Parse up to n integer fields; returns the count or -EINVAL. */
int sysctl_fields(const char *val, int64_t *out, int n);

#endif
