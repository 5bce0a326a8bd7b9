/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small read-only HTTP server over libmicrohttpd: a table of GET/HEAD
 * routes, one internal polling thread (handlers never run concurrently),
 * bounded connections, per-client limits and timeouts.  Everything a
 * client can get wrong is answered with an HTTP error by libmicrohttpd or
 * by the router here; nothing a client sends stops the server.
 */
#ifndef ACCEL_HTTP_H
#define ACCEL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Limits; defaults in http_server_start() when left 0. */
struct http_limits {
	unsigned int max_conns;		/* open connections in total (64) */
	unsigned int max_conns_per_ip;	/* from one client address (16) */
	unsigned int timeout_s;		/* idle/slow connection timeout (10 s) */
	size_t header_bytes;		/* request line + headers (16 KiB) → 431 */
};

struct http_response {
	unsigned int status;
	const char *content_type;	/* static string */
	char *body;			/* malloc'ed; freed by the server */
	size_t len;
};

/* Fill resp (status 200 and content type preset to text/plain). */
typedef void (*http_handler_fn)(void *arg, const char *path, struct http_response *resp);

struct http_route {
	const char *path;		/* exact match, query string ignored */
	http_handler_fn fn;
};

/*
 * Route a request: the route, or NULL with *status 404 (no such path) or
 * 405 (path exists, method is not GET or HEAD).
 */
const struct http_route *http_route_find(const struct http_route *routes, int nroutes,
					 const char *method, const char *path,
					 unsigned int *status);

/*
 * Parse a listen address: "ADDR:PORT", "[V6ADDR]:PORT", ":PORT" (every
 * address, IPv6 and IPv4) or a host name that resolves locally.  PORT may
 * be 0 (the kernel picks one).  Returns 0 or -EINVAL with the reason in err.
 */
int http_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		      char *err, size_t errlen);
/* "127.0.0.1:7435" / "[::1]:7435" */
void http_addr_str(const struct sockaddr *sa, char *buf, size_t len);

struct http_server;

/*
 * Bind listen (see http_listen_parse) and serve routes from a thread of
 * libmicrohttpd's.  arg is passed to every handler.  Returns 0 or -errno
 * (with a message naming the address and the cause).
 */
int http_server_start(struct http_server **srv, const char *listen,
		      const struct http_limits *lim, const struct http_route *routes,
		      int nroutes, void *arg);
/* The bound address (the real port when PORT was 0). */
const char *http_server_addr(const struct http_server *srv);
/* Close every connection and the listening socket; NULL-safe. */
void http_server_stop(struct http_server *srv);

#endif
