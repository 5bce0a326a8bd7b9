// SPDX-License-Identifier: GPL-2.0-only
/*
 * `accelctl stats`: one metrics model (metrics.c), three renderings:
 * human tables, --json and --prometheus; --watch repeats with rates.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
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

static bool any_attached(struct accel_ctx *ctx)
{
	for (int i = 0; i < nfeatures; i++)
		if (features[i]->attached(ctx))
			return true;
	return false;
}

static void print_human(struct accel_ctx *ctx, const struct metrics *m,
			const struct metrics *prev, double dt, FILE *out)
{
	bool any = false;

	for (int i = 0; i < nfeatures; i++) {
		const struct accel_feature *f = features[i];
		char prefix[32];

		if (!f->attached(ctx))
			continue;
		any = true;
		if (f->show && !prev) {
			f->show(ctx, m, out);
			fputc('\n', out);
			continue;
		}
		fprintf(out, "%s\n", f->name);
		snprintf(prefix, sizeof(prefix), "accel_%s_",
			 !strcmp(f->name, "tcpstate") ? "tcp" : f->name);
		if (!prev) {
			metrics_write_text(m, prefix, out);
			continue;
		}
		/* --watch: value and per-second rate of every counter */
		for (int j = 0; j < m->n; j++) {
			const struct metric_family *fam = m->f[j];

			if (strncmp(fam->name, prefix, strlen(prefix)) || fam->type == METRIC_HISTOGRAM)
				continue;
			for (int k = 0; k < fam->n; k++) {
				const struct metric_sample *s = &fam->s[k];
				const struct metric_family *pf = metrics_find_family(prev, fam->name);
				double rate = NAN;

				if (fam->type == METRIC_COUNTER && pf && k < pf->n && dt > 0)
					rate = (s->value - pf->s[k].value) / dt;
				fprintf(out, "  %s", fam->name);
				for (int l = 0; l < s->nlabels; l++)
					fprintf(out, "%s%s=%s", l ? "," : "{", s->lname[l], s->lvalue[l]);
				fprintf(out, "%s %.0f", s->nlabels ? "}" : "", s->value);
				if (!isnan(rate))
					fprintf(out, "  (%.1f/s)", rate);
				fputc('\n', out);
			}
		}
	}
	if (!any)
		fprintf(out, "nothing is attached (pin root %s); run `accelctl attach`\n", ctx->pin_root);
}

static void print_once(struct accel_ctx *ctx, struct cli_opts *o, const struct metrics *m,
		       const struct metrics *prev, double dt)
{
	if (ctx->json) {
		struct json_writer jw;

		jw_init(&jw, stdout, !o->watch);
		jw_start_object(&jw);
		jw_kv_int(&jw, "timestamp", time(NULL));
		jw_kv_bool(&jw, "attached", any_attached(ctx));
		jw_key(&jw, "metrics");
		metrics_write_json(m, &jw);
		jw_end_object(&jw);
		jw_finish(&jw);
	} else if (o->prometheus) {
		metrics_write_prometheus(m, stdout);
	} else {
		print_human(ctx, m, prev, dt, stdout);
	}
	fflush(stdout);
}

int stats_run(struct accel_ctx *ctx, struct cli_opts *o)
{
	struct metrics *m = NULL, *prev = NULL;
	struct timespec t0, t1;
	int err = 0;

	if (!any_attached(ctx) && !ctx->json && !o->prometheus && !o->watch) {
		printf("nothing is attached (pin root %s); run `accelctl attach`\n", ctx->pin_root);
		return 0;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		m = stats_collect(ctx);
		if (!m) {
			err = -errno;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (o->watch && !ctx->json && !o->prometheus)
			printf("\033[H\033[2Jaccelctl stats, every %us (Ctrl-C to stop)\n\n", o->watch);
		print_once(ctx, o, m, prev, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
		metrics_free(prev);
		prev = m;
		m = NULL;
		t0 = t1;
		if (o->watch)
			sleep(o->watch);
	} while (o->watch && !stop);
	metrics_free(prev);
	return err;
}
