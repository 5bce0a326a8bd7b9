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

/*
 * A metric declared as data: each feature has one const table of these,
 * indexed by its own enum (user/<feature>.c), and collect() adds samples
 * and show() reads them through the table entry, never by the name
 * again: a misspelt id does not compile.  docs/metrics.md documents every
 * entry (tests/unit/test_metrics_doc.c checks both ways).
 */
struct metric_desc {
	const char *name;
	enum metric_type type;
	const char *unit;	/* base unit ("bytes", "seconds", "ratio"), "" for a count */
	const char *help;
	/* label names, NULL-terminated; every sample carries them all, in this order */
	const char *labels[METRIC_MAX_LABELS + 1];
};

struct metric_family {
	char *name;
	char *help;
	enum metric_type type;
	const struct metric_desc *desc;	/* NULL: made by name (metrics_family) */
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

/*
 * By descriptor.  metrics_family_of() finds or creates the family d
 * declares (NULL with errno EINVAL or ENOMEM); metric_put() and
 * metric_put_histogram() add a sample whose label values come in the
 * order of d->labels, as many as it names (else -EINVAL, nothing added);
 * f may be NULL (-EINVAL).
 */
struct metric_family *metrics_family_of(struct metrics *m, const struct metric_desc *d);
int metric_desc_nlabels(const struct metric_desc *d);

/* The label values as an array: (const char *[]){ NULL, v... } + 1, n. */
#define METRIC_VALUES_(...) ((const char *const[]){ NULL, ##__VA_ARGS__ })
#define METRIC_NVALUES_(...) \
	((int)(sizeof(METRIC_VALUES_(__VA_ARGS__)) / sizeof(const char *)) - 1)

int metric_put_values(struct metric_family *f, double value, int n, const char *const *values);
int metric_put_histogram_values(struct metric_family *f, const double *bounds,
				const uint64_t *counts, int nbuckets, double sum, int n,
				const char *const *values);
#define metric_put(f, value, ...) \
	metric_put_values((f), (value), METRIC_NVALUES_(__VA_ARGS__), \
			  METRIC_VALUES_(__VA_ARGS__) + 1)
#define metric_put_histogram(f, bounds, counts, nbuckets, sum, ...) \
	metric_put_histogram_values((f), (bounds), (counts), (nbuckets), (sum), \
				    METRIC_NVALUES_(__VA_ARGS__), METRIC_VALUES_(__VA_ARGS__) + 1)

/*
 * Readers by descriptor: metrics_get() is the family d declares in m (or
 * NULL); metric_get() its sample with these label values (d->labels
 * order, or NULL); metric_value() that sample's value, 0 when there is
 * none (a family or sample the collector did not add reads 0, as a
 * counter that has not counted).  metric_lvalue() is the value of the
 * sample's i-th label (d->labels[i]), or NULL.
 */
const struct metric_family *metrics_get(const struct metrics *m, const struct metric_desc *d);
const struct metric_sample *metric_get_values(const struct metric_family *f, int n,
					      const char *const *values);
#define metric_get(f, ...) \
	metric_get_values((f), METRIC_NVALUES_(__VA_ARGS__), METRIC_VALUES_(__VA_ARGS__) + 1)
#define metric_value(f, ...) metric_sample_value(metric_get((f), ##__VA_ARGS__))
double metric_sample_value(const struct metric_sample *s);
const char *metric_lvalue(const struct metric_sample *s, int i);

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
