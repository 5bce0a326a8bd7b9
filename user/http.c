// SPDX-License-Identifier: GPL-2.0-only
/*
 * Read-only HTTP over libmicrohttpd (see http.h).
 *
 * Defences, and who provides them:
 *  - request line + headers larger than the per-connection memory pool:
 *    libmicrohttpd answers 431 (414 for an over-long URI) and closes;
 *  - malformed requests: libmicrohttpd in strict mode answers 400;
 *  - slow or idle clients (slowloris): the connection timeout closes them,
 *    and the per-address limit keeps one client from holding every slot;
 *  - too many connections: the global limit; the excess is accepted and
 *    closed at once, never queued without bound;
 *  - unknown path 404, method other than GET/HEAD 405 with Allow: the
 *    router below, answering before any request body is read.
 * One internal polling thread serves every connection, so handlers run one
 * at a time and need no locking; a slow client costs a socket, not a thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "http.h"
#include "log.h"
#include "procnet.h"
#include "util.h"

struct http_server {
	struct MHD_Daemon *d;
	int lfd;
	const struct http_route *routes;
	int nroutes;
	void *arg;
	char addr[INET6_ADDRSTRLEN + 8];
};

const struct http_route *http_route_find(const struct http_route *routes, int nroutes,
					 const char *method, const char *path,
					 unsigned int *status)
{
	for (int i = 0; i < nroutes; i++) {
		if (strcmp(routes[i].path, path))
			continue;
		if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
			*status = 405;
			return NULL;
		}
		*status = 200;
		return &routes[i];
	}
	*status = 404;
	return NULL;
}

int http_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		      char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *res = NULL;
	char host[256];
	const char *colon, *port;
	uint64_t p;
	int e;

	if (!s || !*s) {
		snprintf(err, errlen, "empty address (want ADDR:PORT, [V6ADDR]:PORT or :PORT)");
		return -EINVAL;
	}
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':') {
			snprintf(err, errlen, "'%s': an IPv6 address is written [ADDR]:PORT", s);
			return -EINVAL;
		}
		if ((size_t)(end - s - 1) >= sizeof(host) || end == s + 1) {
			snprintf(err, errlen, "'%s': bad IPv6 address", s);
			return -EINVAL;
		}
		memcpy(host, s + 1, end - s - 1);
		host[end - s - 1] = '\0';
		port = end + 2;
		hints.ai_family = AF_INET6;
		hints.ai_flags |= AI_NUMERICHOST;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			snprintf(err, errlen, "'%s' has no port (want ADDR:PORT, [V6ADDR]:PORT or :PORT)", s);
			return -EINVAL;
		}
		if (strchr(s, ':') != colon) {
			snprintf(err, errlen, "'%s': write IPv6 addresses in brackets, e.g. [::1]:7435", s);
			return -EINVAL;
		}
		if ((size_t)(colon - s) >= sizeof(host)) {
			snprintf(err, errlen, "'%s': host name too long", s);
			return -EINVAL;
		}
		memcpy(host, s, colon - s);
		host[colon - s] = '\0';
		port = colon + 1;
	}
	if (parse_u64(port, 0, 65535, &p)) {
		snprintf(err, errlen, "'%s': port must be a number 0-65535", s);
		return -EINVAL;
	}
	if (!host[0]) {
		/* every address: one IPv6 socket that also takes IPv4 */
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		memset(ss, 0, sizeof(*ss));
		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_any;
		a6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*a6);
		return 0;
	}
	e = getaddrinfo(host, port, &hints, &res);
	if (e || !res) {
		snprintf(err, errlen, "'%s': cannot resolve '%s': %s", s, host,
			 e ? gai_strerror(e) : "no address");
		if (res)
			freeaddrinfo(res);
		return -EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

void http_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	}
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned int status,
			     const char *ctype, char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;	/* libmicrohttpd closes the connection */
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result queue_error(struct MHD_Connection *conn, unsigned int status)
{
	const char *text = status == 404 ? "404 not found: see / for what is served\n" :
			   status == 405 ? "405 method not allowed: use GET or HEAD\n" :
			   status == 400 ? "400 bad request: a GET request carries no body\n" :
			   "500 internal error\n";
	char *body = strdup(text);

	return queue(conn, status, "text/plain; charset=utf-8", body, body ? strlen(body) : 0);
}

static bool has_body(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (cl && strcmp(cl, "0")) ||
	       MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **req_cls)
{
	struct http_server *srv = cls;
	struct http_response resp = { .status = 200, .content_type = "text/plain; charset=utf-8" };
	const struct http_route *route;
	unsigned int status;

	(void)version;
	(void)upload_data;
	route = http_route_find(srv->routes, srv->nroutes, method, url, &status);
	if (!route) {
		/* Answer at once: a request body, if any, is never read and
		 * libmicrohttpd closes the connection after the reply. */
		pr_debug("http: %s %s -> %u\n", method, url, status);
		return queue_error(conn, status);
	}
	if (!*req_cls) {
		/* First call: headers only.  A GET or HEAD with a body is
		 * refused now: libmicrohttpd cannot queue a reply once it
		 * has started passing the body up. */
		if (has_body(conn)) {
			pr_debug("http: %s %s with a body -> 400\n", method, url);
			return queue_error(conn, 400);
		}
		*req_cls = srv;
		return MHD_YES;
	}
	if (*upload_size) {	/* not announced, cannot happen; drop it */
		*upload_size = 0;
		return MHD_YES;
	}
	route->fn(srv->arg, url, &resp);
	pr_debug("http: %s %s -> %u (%zu bytes)\n", method, url, resp.status, resp.len);
	if (!resp.body && resp.status == 200)
		return queue_error(conn, 500);
	return queue(conn, resp.status, resp.content_type, resp.body, resp.len);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* Mostly clients misbehaving: worth seeing with -v, not by default. */
	pr_debug("libmicrohttpd: %s%s", buf, buf[0] && buf[strlen(buf) - 1] == '\n' ? "" : "\n");
}

/* EADDRINUSE: name the process that has the port, when one shows it. */
static void busy_port_explain(const char *addr, const struct sockaddr *sa)
{
	char comm[64];
	int pid;

	if (!procnet_inode_owner(procnet_port_inode(sa), &pid, comm, sizeof(comm)))
		pr_err("cannot listen on %s: %s (another process has this port: %s, pid %d)\n", addr,
		       strerror(EADDRINUSE), comm, pid);
	else
		pr_err("cannot listen on %s: %s (another process has this port; none of the processes "
		       "this one can see holds its socket: another PID namespace?)\n", addr, strerror(EADDRINUSE));
}

static int listen_socket(const char *addr, char *bound, size_t blen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];
	int fd, one = 1, zero = 0, e;

	e = http_listen_parse(addr, &ss, &len, err, sizeof(err));
	if (e) {
		pr_err("--listen %s\n", err);
		return e;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		e = -errno;
		pr_err("cannot create a socket for %s: %s\n", addr, strerror(-e));
		return e;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)	/* [::]:PORT serves IPv4 too */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
			   IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr) ? &zero : &one,
			   sizeof(int));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64)) {
		e = -errno;
		if (e == -EADDRINUSE)
			busy_port_explain(addr, (struct sockaddr *)&ss);
		else
			pr_err("cannot listen on %s: %s%s\n", addr, strerror(-e),
				e == -EADDRNOTAVAIL ? " (no interface here has this address)" : "");
		close(fd);
		return e;
	}
	len = sizeof(ss);
	if (!getsockname(fd, (struct sockaddr *)&ss, &len))
		http_addr_str((struct sockaddr *)&ss, bound, blen);
	return fd;
}

int http_server_start(struct http_server **out, const char *listen,
		      const struct http_limits *lim, const struct http_route *routes,
		      int nroutes, void *arg)
{
	struct http_limits l = lim ? *lim : (struct http_limits){ 0 };
	struct http_server *srv;
	unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	int err;

	if (!l.max_conns)
		l.max_conns = 64;
	if (!l.max_conns_per_ip)
		l.max_conns_per_ip = 16;
	if (!l.timeout_s)
		l.timeout_s = 10;
	if (!l.header_bytes)
		l.header_bytes = 16384;

	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->routes = routes;
	srv->nroutes = nroutes;
	srv->arg = arg;
	srv->lfd = listen_socket(listen, srv->addr, sizeof(srv->addr));
	if (srv->lfd < 0) {
		err = srv->lfd;
		free(srv);
		return err;
	}
	if (srv->addr[0] == '[')
		flags |= MHD_USE_IPv6;
	srv->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)srv->lfd,
				  MHD_OPTION_CONNECTION_LIMIT, l.max_conns,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, l.max_conns_per_ip,
				  MHD_OPTION_CONNECTION_TIMEOUT, l.timeout_s,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, l.header_bytes,
				  MHD_OPTION_STRICT_FOR_CLIENT, 1,
				  MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1,
				  MHD_OPTION_END);
	if (!srv->d) {
		err = errno ? -errno : -EIO;
		pr_err("cannot start the HTTP server on %s: %s\n", srv->addr, strerror(-err));
		close(srv->lfd);
		free(srv);
		return err;
	}
	*out = srv;
	return 0;
}

const char *http_server_addr(const struct http_server *srv)
{
	return srv->addr;
}

void http_server_stop(struct http_server *srv)
{
	if (!srv)
		return;
	/* MHD_stop_daemon closes the listening socket it was given. */
	MHD_stop_daemon(srv->d);
	free(srv);
}
