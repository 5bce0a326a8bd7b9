// SPDX-License-Identifier: GPL-2.0-only
/*
 * `accelctl stats`: one metrics model (metrics.c), three renderings:
 * human tables, --json and --prometheus; --watch repeats with rates.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "stats.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct metrics *stats_collect(struct accel_ctx *ctx)
{
	struct metrics *m = metrics_new();

	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	accel_collect(ctx, m);
	return m;
}

/* The metric name prefix of a feature's families. */
static void feature_prefix(const struct accel_feature *f, char *buf, size_t len)
{
	snprintf(buf, len, "accel_%s_", !strcmp(f->name, "tcpstate") ? "tcp" : f->name);
}

static const struct metric_sample *same_sample(const struct metric_family *pf,
					       const struct metric_sample *s)
{
	for (int i = 0; pf && i < pf->n; i++) {
		const struct metric_sample *p = &pf->s[i];
		bool match = p->nlabels == s->nlabels;

		for (int l = 0; match && l < s->nlabels; l++) {
			const char *v = metric_label(p, s->lname[l]);

			match = v && !strcmp(v, s->lvalue[l]);
		}
		if (match)
			return p;
	}
	return NULL;
}

static void sample_name(const struct metric_family *fam, const struct metric_sample *s,
			char *buf, size_t len)
{
	size_t off = 0;
	int err;

	buf[0] = '\0';
	err = str_appendf(buf, len, &off, "%s", fam->name);
	for (int l = 0; !err && l < s->nlabels; l++)
		err = str_appendf(buf, len, &off, "%s%s=%s", l ? "," : "{", s->lname[l],
				  s->lvalue[l]);
	if (!err && s->nlabels)
		str_appendf(buf, len, &off, "}");
}

/* --watch: every sample of the feature with its value and, for counters,
 * the per-second rate since the previous frame ("-" on the first). */
static void print_rates(const struct metrics *m, const struct metrics *prev, double dt,
			const char *name_of, const char *prefix, FILE *out)
{
	char name[256], val[32];
	int width = 6;

	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			fprintf(out, "%s\n  %-*s %16s %14s\n", name_of, width, "metric", "value", "rate");
		for (int j = 0; j < m->n; j++) {
			const struct metric_family *fam = m->f[j];
			const struct metric_family *pf = prev ? metrics_find_family(prev, fam->name) : NULL;

			if (strncmp(fam->name, prefix, strlen(prefix)))
				continue;
			for (int k = 0; k < fam->n; k++) {
				const struct metric_sample *s = &fam->s[k], *p = same_sample(pf, s);
				bool hist = fam->type == METRIC_HISTOGRAM;
				double v = hist ? metric_hist_count(s) : s->value;

				sample_name(fam, s, name, sizeof(name));
				if (!pass) {
					if ((int)strlen(name) > width)
						width = strlen(name);
					continue;
				}
				if (fam->type == METRIC_GAUGE)
					val[0] = '\0';
				else if (p && dt > 0)
					snprintf(val, sizeof(val), "%.1f/s",
						 (v - (hist ? metric_hist_count(p) : p->value)) / dt);
				else
					snprintf(val, sizeof(val), "-");
				fprintf(out, "  %-*s %16.0f %14s\n", width, name, v, val);
			}
		}
	}
}

static void print_human(struct accel_ctx *ctx, struct cli_opts *o, const struct metrics *m,
			const struct metrics *prev, double dt, FILE *out)
{
	bool any = false;

	for (int i = 0; i < nfeatures; i++) {
		const struct accel_feature *f = features[i];
		char prefix[32];

		if (!f->attached(ctx))
			continue;
		any = true;
		feature_prefix(f, prefix, sizeof(prefix));
		if (o->watch) {
			print_rates(m, prev, dt, f->name, prefix, out);
		} else if (f->show) {
			f->show(ctx, m, out);
		} else {
			fprintf(out, "%s\n", f->name);
			metrics_write_text(m, prefix, out);
		}
		fputc('\n', out);
	}
	if (!any)
		fprintf(out, "nothing is attached (pin root %s); run `accelctl attach`\n", ctx->pin_root);
}

static void print_once(struct accel_ctx *ctx, struct cli_opts *o, const struct metrics *m,
		       const struct metrics *prev, double dt)
{
	if (ctx->json) {
		struct json_writer jw;

		/* --watch: one compact document per line (JSON Lines) */
		jw_init(&jw, stdout, !o->watch);
		jw_start_object(&jw);
		jw_kv_int(&jw, "timestamp", time(NULL));
		jw_kv_bool(&jw, "attached", features_attached(ctx) != 0);
		jw_key(&jw, "metrics");
		metrics_write_json(m, &jw);
		jw_end_object(&jw);
		jw_finish(&jw);
	} else if (o->prometheus) {
		metrics_write_prometheus(m, stdout);
		if (o->watch)
			putchar('\n');
	} else if (o->watch && isatty(STDOUT_FILENO)) {
		/* Build the frame, then home + frame + clear-to-end in one
		 * write: the screen never shows a half-drawn frame. */
		char *buf = NULL, ts[32];
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		if (!f)
			return;
		fprintf(f, "\033[H\033[2Jaccelctl stats  %s  every %us (Ctrl-C to stop)\n\n",
			fmt_time(time(NULL), ts, sizeof(ts)), o->watch);
		print_human(ctx, o, m, prev, dt, f);
		fclose(f);
		fwrite(buf, 1, len, stdout);
		free(buf);
	} else {
		if (o->watch) {
			char ts[32];

			printf("--- %s\n", fmt_time(time(NULL), ts, sizeof(ts)));
		}
		print_human(ctx, o, m, prev, dt, stdout);
	}
	fflush(stdout);
}

int stats_run(struct accel_ctx *ctx, struct cli_opts *o)
{
	struct metrics *m = NULL, *prev = NULL;
	struct timespec next;
	double t0 = 0, t1;
	int err;

	err = accel_check_access(ctx, "stats");
	if (err)
		return err;
	err = instance_check_abi(ctx, "stats");
	if (err)
		return err;
	if (!features_attached(ctx) && !ctx->json && !o->prometheus && !o->watch) {
		printf("nothing is attached (pin root %s); run `accelctl attach`\n", ctx->pin_root);
		return 0;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	clock_gettime(CLOCK_MONOTONIC, &next);
	do {
		m = stats_collect(ctx);
		if (!m) {
			err = -errno;
			break;
		}
		t1 = mono_now();
		print_once(ctx, o, m, prev, prev ? t1 - t0 : 0);
		metrics_free(prev);
		prev = m;
		m = NULL;
		t0 = t1;
		if (!o->watch)
			break;
		/* Absolute deadlines: the period does not drift by the time
		 * a frame takes; a signal ends the sleep early. */
		next.tv_sec += o->watch;
		while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	} while (!stop);
	metrics_free(prev);
	return err;
}
