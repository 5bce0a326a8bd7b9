// SPDX-License-Identifier: GPL-2.0-only
/*
 * procnet.c - who holds a TCP port (see procnet.h).
 *
 * /proc/net/tcp prints each address as the 32-bit words the kernel keeps
 * in network byte order, read as native integers (%08X per word): copying
 * the parsed words back to memory gives the address bytes again.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procnet.h"
#include "util.h"

#define TCP_LISTEN_ 10	/* include/net/tcp_states.h */

int procnet_parse_line(const char *line, int family, struct procnet_sock *s)
{
	unsigned int port, words = family == AF_INET6 ? 4 : 1;
	char hex[33];

	memset(s, 0, sizeof(*s));
	if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*u %*u %lu", hex, &port, &s->state,
		   &s->inode) != 4 || strlen(hex) != words * 8 || port > 65535)
		return -EINVAL;
	for (unsigned int i = 0; i < words; i++) {
		char w[9];
		uint32_t v;

		memcpy(w, hex + i * 8, 8);
		w[8] = '\0';
		v = (uint32_t)strtoul(w, NULL, 16);
		memcpy(s->addr + i * 4, &v, 4);
	}
	s->family = family;
	s->port = (uint16_t)port;
	return 0;
}

static bool addr_any(const uint8_t *a, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i])
			return false;
	return true;
}

/* 2: a listener that conflicts with want (same address, or a wildcard on
 * either side), 1: another socket on the port, 0: not on the port. */
static int conflict_rank(const struct procnet_sock *s, int family, const uint8_t *want, uint16_t port)
{
	size_t alen = family == AF_INET6 ? 16 : 4;

	if (s->port != port)
		return 0;
	if (s->state != TCP_LISTEN_)
		return 1;
	if (s->family != family || addr_any(want, alen) || addr_any(s->addr, alen) ||
	    !memcmp(s->addr, want, alen))
		return 2;
	return 1;
}

unsigned long procnet_port_inode(const struct sockaddr *sa)
{
	static const char *const files[] = { "/proc/thread-self/net/tcp", "/proc/thread-self/net/tcp6" };
	unsigned long best = 0;
	int best_rank = 0, family = sa->sa_family;
	const uint8_t *want;
	uint16_t port;
	char line[512];

	if (family == AF_INET) {
		want = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (family == AF_INET6) {
		want = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	} else {
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(files) && best_rank < 2; i++) {
		FILE *f = fopen(files[i], "re");

		while (f && best_rank < 2 && fgets(line, sizeof(line), f)) {
			struct procnet_sock s;
			int r;

			if (procnet_parse_line(line, i ? AF_INET6 : AF_INET, &s) || !s.inode)
				continue;
			r = conflict_rank(&s, family, want, port);
			if (r > best_rank) {
				best_rank = r;
				best = s.inode;
			}
		}
		if (f)
			fclose(f);
	}
	return best;
}

/* Calls fn for each socket descriptor of process pid; true when fn did. */
static bool pid_socket_fds(const char *pid, bool (*fn)(int, unsigned long, void *), void *arg)
{
	char path[PATH_MAX], link[64];
	struct dirent *fe;
	bool done = false;
	DIR *fds;

	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	fds = opendir(path);
	while (fds && !done && (fe = readdir(fds))) {
		unsigned long ino;
		ssize_t n;

		if (fe->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd/%s", pid, fe->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%lu]", &ino) == 1)
			done = fn(atoi(pid), ino, arg);
	}
	if (fds)
		closedir(fds);
	return done;
}

void procnet_socket_fds(bool (*fn)(int pid, unsigned long inode, void *arg), void *arg)
{
	DIR *proc = opendir("/proc");
	struct dirent *pe;

	while (proc && (pe = readdir(proc)))
		if (isdigit((unsigned char)pe->d_name[0]) && pid_socket_fds(pe->d_name, fn, arg))
			break;
	if (proc)
		closedir(proc);
}

struct owner_find {
	unsigned long inode;
	int pid;
};

static bool owner_match(int pid, unsigned long inode, void *arg)
{
	struct owner_find *o = arg;

	if (inode != o->inode)
		return false;
	o->pid = pid;
	return true;
}

int procnet_inode_owner(unsigned long inode, int *pid, char *comm, size_t len)
{
	struct owner_find o = { .inode = inode };
	char path[64], buf[64];

	if (!inode)
		return -ESRCH;
	procnet_socket_fds(owner_match, &o);
	if (!o.pid)
		return -ESRCH;
	*pid = o.pid;
	snprintf(path, sizeof(path), "/proc/%d/comm", o.pid);
	if (read_file(path, buf, sizeof(buf)) > 0)
		snprintf(comm, len, "%s", strtrim(buf));
	else
		snprintf(comm, len, "?");
	return 0;
}
