/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One in-memory model of every metric accelctl exports.  Features fill it
 * from their maps (feature->collect); `stats` (table, --json, --prometheus)
 * and `serve` (/metrics) render the same model, so the three outputs can
 * never disagree.
 */
#ifndef ACCEL_METRICS_H
#define ACCEL_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"

#define METRIC_MAX_LABELS 4

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

struct metric_sample {
	int nlabels;
	char *lname[METRIC_MAX_LABELS];
	char *lvalue[METRIC_MAX_LABELS];
	double value;		/* counter/gauge; histogram: sum */
	/* histogram only: nbuckets finite upper bounds, counts per bucket
	 * (not cumulative), counts[nbuckets] is the +Inf overflow */
	int nbuckets;
	double *bounds;
	uint64_t *counts;
};

struct metric_family {
	char *name;
	char *help;
	enum metric_type type;
	int n, cap;
	struct metric_sample *s;
};

struct metrics {
	int n, cap;
	struct metric_family **f;
};

struct metrics *metrics_new(void);
/* Prometheus name syntax: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label
 * names the same without ':'. */
bool metrics_name_valid(const char *name, bool label);
void metrics_free(struct metrics *m);

/* Find or create a family.  NULL with errno EINVAL for a name Prometheus
 * cannot parse, ENOMEM on allocation failure. */
struct metric_family *metrics_family(struct metrics *m, const char *name,
				     enum metric_type type, const char *help);
/* Ends a variadic label list.  A bare NULL may be an int 0 in a varargs
 * call (cppcheck varFuncNullUB); this is a pointer on every ABI. */
#define METRIC_END ((const char *)NULL)

/* Add a sample; the variadic part is NULL-terminated label name/value
 * pairs (at most METRIC_MAX_LABELS, valid names, not "le").  0 or -errno;
 * f may be NULL (a failed metrics_family): -EINVAL. */
int metric_add(struct metric_family *f, double value, ...);
/* counts has nbuckets + 1 entries (last: above every bound). */
int metric_add_histogram(struct metric_family *f, const double *bounds,
			 const uint64_t *counts, int nbuckets, double sum, ...);

/* Look up a sample by exact label set (NULL-terminated pairs). */
const struct metric_sample *metrics_find(const struct metrics *m, const char *name, ...);
const struct metric_family *metrics_find_family(const struct metrics *m, const char *name);
/* Label value of a sample, or NULL. */
const char *metric_label(const struct metric_sample *s, const char *name);
uint64_t metric_hist_count(const struct metric_sample *s);

void metrics_write_prometheus(const struct metrics *m, FILE *out);
void metrics_write_json(const struct metrics *m, struct json_writer *jw);
/* Plain "name{labels} value" lines, for features without a table. */
void metrics_write_text(const struct metrics *m, const char *prefix, FILE *out);

#endif
