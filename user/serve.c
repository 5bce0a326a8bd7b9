// SPDX-License-Identifier: GPL-2.0-only
/*
 * `accelctl serve`: the counters over HTTP for Prometheus.
 *
 *   /metrics  every metric of the attached features (the same model as
 *             `stats --prometheus`), plus the server's own cost
 *   /healthz  "ok" while the server works
 *   /         a pointer to the two above
 *
 * Each scrape opens the pinned maps afresh (stats_collect), so serve holds
 * no BPF object between scrapes: it starts, stops and restarts
 * independently of attach and detach, and while nothing is attached it
 * keeps answering with accel_feature_attached 0.
 *
 * Between scrapes, once a second, serve releases what a detach had to
 * keep for bytes not read yet (the features' reap, under the lock), so a
 * draining bypass goes away by itself once its readers have read.
 *
 * Namespaces: the listening socket lives in the namespace serve was
 * started in (where Prometheus reaches it).  Counters that depend on the
 * reader's namespace (socket iterators, interface names) are read inside
 * the namespace attach used, or --netns: the server thread enters it for
 * the scrape and returns.  setns(CLONE_NEWNET) changes only the calling
 * thread, and the listening socket keeps its namespace.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "serve.h"
#include "stats.h"
#include "sysenv.h"

struct serve_state {
	struct accel_ctx *ctx;
	const char *netns_opt;		/* --netns, or NULL: the attach's */
	int host_netns_fd;		/* where we started; -1 if unknown */
	bool unhealthy;			/* could not return to host_netns_fd */
	char warned_netns[NETNS_SPEC_MAX];	/* last namespace we failed to enter */
	char cur_netns[NETNS_SPEC_MAX];	/* the one entered for this scrape */
	uint64_t scrapes, errors;
	double start_time;
};

/* Enter the namespace the counters belong to; *entered tells whether the
 * thread must go back.  Failure to enter is reported once per name. */
static int collect_netns_enter(struct serve_state *st, bool *entered)
{
	struct accel_ctx *ctx = st->ctx;
	struct instance_info ii;
	const char *name = st->netns_opt;
	int fd, err;

	*entered = false;
	ctx->netns = NULL;
	if (!name && !instance_read(ctx, &ii) && ii.netns[0])
		name = ii.netns;
	if (!name || !*name) {
		st->warned_netns[0] = '\0';
		return 0;
	}
	fd = netns_open(name);
	err = fd < 0 ? fd : (setns(fd, CLONE_NEWNET) ? -errno : 0);
	if (fd >= 0)
		close(fd);
	if (err) {
		if (strcmp(st->warned_netns, name))
			pr_warn("cannot enter network namespace '%s' to read counters: %s; /metrics answers 503 until it is back\n",
				name, strerror(-err));
		snprintf(st->warned_netns, sizeof(st->warned_netns), "%s", name);
		return err;
	}
	st->warned_netns[0] = '\0';
	*entered = true;
	snprintf(st->cur_netns, sizeof(st->cur_netns), "%s", name);
	ctx->netns = st->cur_netns;
	return 0;
}

static void collect_netns_leave(struct serve_state *st)
{
	if (st->host_netns_fd < 0 || setns(st->host_netns_fd, CLONE_NEWNET)) {
		pr_err("cannot return to the host network namespace: %s; /healthz now fails, restart serve\n",
			strerror(errno));
		st->unhealthy = true;
	}
}

static int count_fds(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

const struct metric_desc serve_metrics[SM_COUNT] = {
	[SM_SCRAPES] = { "accel_exporter_scrapes_total", METRIC_COUNTER, "",
		"Requests for /metrics answered by accelctl serve, this one included" },
	[SM_SCRAPE_ERRORS] = { "accel_exporter_scrape_errors_total", METRIC_COUNTER, "",
		"Scrapes in which a feature's pinned maps could not be read or the attach's network namespace not entered (see serve's log)" },
	[SM_COLLECT_DURATION] = { "accel_exporter_collect_duration_seconds", METRIC_GAUGE, "seconds",
		"Time this scrape spent reading the pinned BPF maps" },
	/* the names and help texts of the Prometheus client libraries */
	[SM_PROCESS_CPU] = { "process_cpu_seconds_total", METRIC_COUNTER, "seconds",
		"Total user and system CPU time spent in seconds." },
	[SM_PROCESS_RESIDENT_MEMORY] = { "process_resident_memory_bytes", METRIC_GAUGE, "bytes",
		"Resident memory size in bytes." },
	[SM_PROCESS_VIRTUAL_MEMORY] = { "process_virtual_memory_bytes", METRIC_GAUGE, "bytes",
		"Virtual memory size in bytes." },
	[SM_PROCESS_OPEN_FDS] = { "process_open_fds", METRIC_GAUGE, "",
		"Number of open file descriptors." },
	[SM_PROCESS_MAX_FDS] = { "process_max_fds", METRIC_GAUGE, "",
		"Maximum number of open file descriptors." },
	[SM_PROCESS_START_TIME] = { "process_start_time_seconds", METRIC_GAUGE, "seconds",
		"Start time of the process since unix epoch in seconds." },
};

static int serve_put(struct metrics *m, enum serve_metric id, double v)
{
	return metric_put(metrics_family_of(m, &serve_metrics[id]), v);
}

/* The process metrics Prometheus client libraries export, so the usual
 * dashboards show accelctl's own cost. */
static void add_process_metrics(struct metrics *m, const struct serve_state *st)
{
	struct rusage ru;
	struct rlimit rl;
	unsigned long long vsz, rss;
	char buf[128];
	long page = sysconf(_SC_PAGESIZE);
	int n;

	if (!getrusage(RUSAGE_SELF, &ru)) {
		serve_put(m, SM_PROCESS_CPU, ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
			  (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	if (read_file("/proc/self/statm", buf, sizeof(buf)) > 0 &&
	    sscanf(buf, "%llu %llu", &vsz, &rss) == 2) {
		serve_put(m, SM_PROCESS_RESIDENT_MEMORY, (double)rss * page);
		serve_put(m, SM_PROCESS_VIRTUAL_MEMORY, (double)vsz * page);
	}
	n = count_fds();
	if (n >= 0)
		serve_put(m, SM_PROCESS_OPEN_FDS, n);
	if (!getrlimit(RLIMIT_NOFILE, &rl))
		serve_put(m, SM_PROCESS_MAX_FDS, rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur);
	serve_put(m, SM_PROCESS_START_TIME, st->start_time);
}

static void handle_metrics(void *arg, const char *path, struct http_response *r)
{
	struct serve_state *st = arg;
	struct metrics *m;
	bool entered;
	double t0 = mono_now(), dt;
	FILE *out;
	int err;

	(void)path;
	m = metrics_new();
	if (!m) {
		r->status = 500;
		return;
	}
	/* Read from the wrong namespace, the iterator's gauges would be
	 * another namespace's sockets: answer 503 (Prometheus: up 0) rather
	 * than plausible wrong numbers. */
	err = collect_netns_enter(st, &entered);
	if (err) {
		metrics_free(m);
		st->errors++;
		r->status = 503;
		if (asprintf(&r->body, "503 cannot enter network namespace '%s' that attach used: %s\n",
			     st->warned_netns, strerror(-err)) < 0)
			r->body = NULL;
		r->len = r->body ? strlen(r->body) : 0;
		return;
	}
	if (netns_cookie(&st->ctx->netns_cookie))
		st->ctx->netns_cookie = 0;
	err = accel_collect(st->ctx, m);
	if (entered)
		collect_netns_leave(st);
	dt = mono_now() - t0;
	st->scrapes++;
	if (err)
		st->errors++;

	serve_put(m, SM_SCRAPES, st->scrapes);
	serve_put(m, SM_SCRAPE_ERRORS, st->errors);
	serve_put(m, SM_COLLECT_DURATION, dt);
	add_process_metrics(m, st);

	out = open_memstream(&r->body, &r->len);
	if (!out) {
		metrics_free(m);
		r->status = 500;
		return;
	}
	metrics_write_prometheus(m, out);
	if (fclose(out)) {
		free(r->body);
		r->body = NULL;
		r->status = 500;
	}
	metrics_free(m);
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static void handle_healthz(void *arg, const char *path, struct http_response *r)
{
	struct serve_state *st = arg;

	(void)path;
	r->status = st->unhealthy ? 503 : 200;
	r->body = strdup(st->unhealthy ? "unhealthy: stuck in another network namespace\n" : "ok\n");
	r->len = r->body ? strlen(r->body) : 0;
}

static void handle_index(void *arg, const char *path, struct http_response *r)
{
	static const char page[] =
		"<!DOCTYPE html>\n<html><head><title>accelctl</title></head><body>\n"
		"<h1>accelctl %s</h1>\n"
		"<p><a href=\"/metrics\">/metrics</a> (Prometheus) &middot; "
		"<a href=\"/healthz\">/healthz</a></p>\n</body></html>\n";
	int n;

	(void)arg;
	(void)path;
	r->content_type = "text/html; charset=utf-8";
	n = asprintf(&r->body, page, ACCELCTL_VERSION);
	if (n < 0) {
		r->body = NULL;
		r->status = 500;
		return;
	}
	r->len = n;
}

static const struct http_route routes[] = {
	{ "/metrics", handle_metrics },
	{ "/healthz", handle_healthz },
	{ "/", handle_index },
};

/* After http.c named who has the port: how to get out of the way. */
static void busy_port_advice(const char *listen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char why[128];
	unsigned int port = 0;

	if (!http_listen_parse(listen, &ss, &len, why, sizeof(why)))
		port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
							((struct sockaddr_in *)&ss)->sin_port);
	if (port == ACCEL_SERVE_OLD_PORT)
		pr_err("%u is also cloudflare ebpf_exporter's default port; accelctl's default moved "
		       "from it to %u\n", port, ACCEL_SERVE_DEFAULT_PORT);
	pr_err("pick a free address with --listen ADDR:PORT; for the accelctl-serve unit, set "
	       "ACCELCTL_LISTEN=ADDR:PORT in /etc/default/accelctl or in a drop-in "
	       "(systemctl edit accelctl-serve: [Service] Environment=ACCELCTL_LISTEN=ADDR:PORT)\n");
}

int serve_run(struct accel_ctx *ctx, struct cli_opts *o)
{
	struct serve_state st = { .ctx = ctx, .netns_opt = ctx->netns, .host_netns_fd = -1 };
	const char *listen = o->listen ? o->listen : ACCEL_SERVE_DEFAULT_LISTEN;
	struct http_server *srv = NULL;
	sigset_t sigs, old;
	int sig, err;

	st.start_time = (double)time(NULL);
	if (ctx->netns) {
		/* --netns given: it must exist now (the attach's own namespace
		 * is looked up per scrape: it may come and go) */
		int fd = netns_open(ctx->netns);
		char why[PATH_MAX];

		if (fd < 0) {
			netns_strerror(ctx->netns, fd, why, sizeof(why));
			pr_err("%s\n", why);
			return fd == -ENOTTY || fd == -EINVAL ? -ACCEL_ECONFIG : fd;
		}
		close(fd);
	}
	st.host_netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (st.host_netns_fd < 0) {
		err = -errno;
		pr_err("cannot open this thread's network namespace: %s\n", strerror(-err));
		return err;
	}
	/* Block the stop signals before libmicrohttpd starts its thread, so
	 * it inherits the mask and only sigwait() below takes them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, &old);

	err = http_server_start(&srv, listen, NULL, routes, ARRAY_SIZE(routes), &st);
	if (err) {
		if (err == -EINVAL)
			err = -ACCEL_ECONFIG;
		if (err == -EADDRINUSE)
			busy_port_advice(listen);
		goto cleanup;
	}
	pr_info("serving http://%s/metrics (pin root %s)\n", http_server_addr(srv), ctx->pin_root);
	/* Once a second, between scrapes: release what detached bypasses
	 * kept for bytes not read yet, once they are read (feature reap). */
	for (;;) {
		struct timespec tick = { .tv_sec = 1 };

		sig = sigtimedwait(&sigs, NULL, &tick);
		if (sig > 0)
			break;
		if (errno == EAGAIN)
			accel_reap_trylock(ctx);
		else if (errno != EINTR)
			break;
	}
	pr_info("%s: stopping after %llu scrapes\n", sig > 0 ? strsignal(sig) : "signal",
		(unsigned long long)st.scrapes);
cleanup:
	http_server_stop(srv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(st.host_netns_fd);
	return err;
}
