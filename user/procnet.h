/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * procnet.h - who holds a TCP port: /proc/net/tcp{,6} of this thread's
 * network namespace name the socket (its inode), /proc/PID/fd name the
 * processes that have it open.  For error messages (a busy --listen
 * address), not for the data path.
 */
#ifndef ACCEL_PROCNET_H
#define ACCEL_PROCNET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* One line of /proc/net/tcp or /proc/net/tcp6. */
struct procnet_sock {
	int family;		/* AF_INET, AF_INET6 */
	uint8_t addr[16];	/* local address, network byte order (IPv4: 4 bytes) */
	uint16_t port;		/* local port, host byte order */
	unsigned int state;	/* TCP state, as the kernel numbers them */
	unsigned long inode;
};

/* Parse one socket line of /proc/net/tcp (family AF_INET) or tcp6
 * (AF_INET6).  Returns 0, or -EINVAL for the header or anything else. */
int procnet_parse_line(const char *line, int family, struct procnet_sock *s);

/* The socket of this thread's network namespace that keeps sa (an
 * AF_INET or AF_INET6 address with its port) from being bound: a listener
 * on the port at that address or a wildcard one (any, when sa is the
 * wildcard) first, then any socket bound to the port.  Its inode, or 0
 * when none is found. */
unsigned long procnet_port_inode(const struct sockaddr *sa);

/* Call fn for every socket descriptor of every process this one can see,
 * until fn returns true. */
void procnet_socket_fds(bool (*fn)(int pid, unsigned long inode, void *arg), void *arg);

/* The first process found with socket inode open: its pid and comm.
 * Returns 0, or -ESRCH when no process shows it (another PID namespace,
 * or /proc/PID/fd not readable). */
int procnet_inode_owner(unsigned long inode, int *pid, char *comm, size_t len);

#endif /* ACCEL_PROCNET_H */
