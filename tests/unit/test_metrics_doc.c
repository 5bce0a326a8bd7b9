// SPDX-License-Identifier: GPL-2.0-only
/*
 * docs/metrics.md against the metric descriptor tables (accel_metrics[],
 * each feature's ->metrics, serve_metrics[]): every declared metric has a
 * row, with its type and each of its labels; every metric a row names is
 * declared.  Also the tables themselves: valid, unique names, a help
 * text, label names Prometheus accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "accel.h"
#include "serve.h"

#ifndef METRICS_DOC
#define METRICS_DOC "docs/metrics.md"
#endif

#define MAX_DESCS 128

struct table_ref {
	const char *owner;
	const struct metric_desc *d;
	int n;
};

static int all_descs(const struct metric_desc **out, const char **owner)
{
	struct table_ref t[16];
	int nt = 0, n = 0;

	t[nt++] = (struct table_ref){ "feature.c", accel_metrics, AM_COUNT };
	for (int i = 0; i < nfeatures; i++)
		t[nt++] = (struct table_ref){ features[i]->name, features[i]->metrics,
					      features[i]->nmetrics };
	t[nt++] = (struct table_ref){ "serve.c", serve_metrics, SM_COUNT };
	for (int i = 0; i < nt; i++)
		for (int j = 0; j < t[i].n; j++) {
			assert_true(n < MAX_DESCS);
			owner[n] = t[i].owner;
			out[n++] = &t[i].d[j];
		}
	return n;
}

static const char *type_name(enum metric_type t)
{
	return t == METRIC_COUNTER ? "counter" : t == METRIC_GAUGE ? "gauge" : "histogram";
}

/* One row of a markdown table: its cells, trimmed (text is modified). */
static int split_row(char *line, char **cell, int max)
{
	int n = 0;
	char *p = line + 1;	/* past the leading '|' */

	while (n < max) {
		char *bar = strchr(p, '|'), *e;

		if (!bar)
			break;
		*bar = '\0';
		while (*p == ' ')
			p++;
		for (e = p + strlen(p); e > p && e[-1] == ' '; e--)
			;
		*e = '\0';
		cell[n++] = p;
		p = bar + 1;
	}
	return n;
}

/* Does text name `word` (in backquotes)? */
static bool names(const char *text, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = strchr(text, '`'); p; p = strchr(p + 1, '`'))
		if (!strncmp(p + 1, word, len) && p[1 + len] == '`')
			return true;
	return false;
}

struct doc_row {
	char name[128];
	char type[256];		/* "" when the table has no type column */
	char labels[512];
	bool has_labels;	/* the table has a Labels column */
	int line;
};

/* Every metric name (in backquotes, in the first cell) of every table row. */
static int read_doc(struct doc_row *rows, int max)
{
	FILE *f = fopen(METRICS_DOC, "re");
	char line[4096], *cell[12];
	int n = 0, lineno = 0, type_col = -1, labels_col = -1;

	if (!f)
		fail_msg("%s: cannot open", METRICS_DOC);
	while (fgets(line, sizeof(line), f)) {
		int nc;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] != '|') {
			type_col = labels_col = -1;
			continue;
		}
		nc = split_row(line, cell, 12);
		if (nc && !strcmp(cell[0], "Metric")) {	/* a header */
			type_col = labels_col = -1;
			for (int i = 1; i < nc; i++) {
				if (!strcmp(cell[i], "Type"))
					type_col = i;
				if (!strcmp(cell[i], "Labels"))
					labels_col = i;
			}
			continue;
		}
		/* every `name` of the first cell ("`a`, `b`" lists several) */
		for (char *p = nc ? strchr(cell[0], '`') : NULL; p; p = strchr(p + 1, '`')) {
			char *e = strchr(p + 1, '`');
			struct doc_row *r;

			if (!e)
				break;
			*e = '\0';
			if (metrics_name_valid(p + 1, false)) {
				assert_true(n < max);
				r = &rows[n++];
				memset(r, 0, sizeof(*r));
				snprintf(r->name, sizeof(r->name), "%s", p + 1);
				if (type_col > 0 && type_col < nc)
					snprintf(r->type, sizeof(r->type), "%s", cell[type_col]);
				r->has_labels = labels_col > 0 && labels_col < nc;
				if (r->has_labels)
					snprintf(r->labels, sizeof(r->labels), "%s", cell[labels_col]);
				r->line = lineno;
			}
			p = e;
		}
	}
	fclose(f);
	return n;
}

static void test_tables_valid(void **state)
{
	const struct metric_desc *d[MAX_DESCS];
	const char *owner[MAX_DESCS];
	int n = all_descs(d, owner);

	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		if (!d[i]->name || !metrics_name_valid(d[i]->name, false))
			fail_msg("%s: metric %d has no valid name", owner[i], i);
		if (!d[i]->help || !d[i]->help[0] || !d[i]->unit)
			fail_msg("%s: %s needs a help text and a unit (\"\" for a count)",
				 owner[i], d[i]->name);
		for (int l = 0; l < metric_desc_nlabels(d[i]); l++)
			if (!metrics_name_valid(d[i]->labels[l], true) || !strcmp(d[i]->labels[l], "le"))
				fail_msg("%s: label %s is not a valid label name", d[i]->name,
					 d[i]->labels[l]);
		for (int j = 0; j < i; j++)
			if (!strcmp(d[i]->name, d[j]->name))
				fail_msg("%s declared twice (%s, %s)", d[i]->name, owner[j], owner[i]);
	}
}

/* OpenMetrics: a counter's family is its name without _total, and a
 * histogram's samples add _bucket, _count and _sum, so no other family may
 * be named like those; a metric with a unit ends in it. */
static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static void test_openmetrics_names(void **state)
{
	static const char *const derived[] = { "_total", "_bucket", "_count", "_sum", "_created" };
	const struct metric_desc *d[MAX_DESCS];
	const char *owner[MAX_DESCS];
	int n = all_descs(d, owner);

	for (int i = 0; i < n; i++) {
		const char *name = d[i]->name;
		char base[128], unit[64];

		/* a counter's unit comes before _total */
		snprintf(base, sizeof(base), "%.*s", (int)strlen(name) -
			 (d[i]->type == METRIC_COUNTER && ends_with(name, "_total") ? 6 : 0), name);
		snprintf(unit, sizeof(unit), "_%s", d[i]->unit);
		if (d[i]->unit[0] && strcmp(d[i]->unit, "ratio") && !ends_with(base, unit))
			fail_msg("%s (%s): its unit is %s, so its name ends in %s", name, owner[i],
				 d[i]->unit, unit);
		for (int j = 0; j < n; j++) {
			size_t m = strlen(d[j]->name);

			if (j == i || strncmp(name, d[j]->name, m))
				continue;
			for (size_t k = 0; k < sizeof(derived) / sizeof(derived[0]); k++)
				if (!strcmp(name + m, derived[k]))
					fail_msg("%s (%s) clashes with %s%s of %s under OpenMetrics", name,
						 owner[i], d[j]->name, derived[k], owner[j]);
		}
	}
}

static void test_every_metric_documented(void **state)
{
	static struct doc_row rows[256];
	const struct metric_desc *d[MAX_DESCS];
	const char *owner[MAX_DESCS];
	int n = all_descs(d, owner), nr = read_doc(rows, 256), bad = 0;

	for (int i = 0; i < n; i++) {
		const struct doc_row *r = NULL;

		for (int j = 0; j < nr && !r; j++)
			if (!strcmp(rows[j].name, d[i]->name))
				r = &rows[j];
		if (!r) {
			print_error("%s (%s) is not documented in %s\n", d[i]->name, owner[i],
				    METRICS_DOC);
			bad++;
			continue;
		}
		if (r->type[0] && strncmp(r->type, type_name(d[i]->type), strlen(type_name(d[i]->type)))) {
			print_error("%s:%d: %s is a %s, the row says \"%s\"\n", METRICS_DOC, r->line,
				    d[i]->name, type_name(d[i]->type), r->type);
			bad++;
		}
		for (int l = 0; r->has_labels && l < metric_desc_nlabels(d[i]); l++)
			if (!names(r->labels, d[i]->labels[l])) {
				print_error("%s:%d: %s has the label %s, the row does not name it\n",
					    METRICS_DOC, r->line, d[i]->name, d[i]->labels[l]);
				bad++;
			}
	}
	assert_int_equal(bad, 0);
}

static void test_every_documented_metric_exists(void **state)
{
	static struct doc_row rows[256];
	const struct metric_desc *d[MAX_DESCS];
	const char *owner[MAX_DESCS];
	int n = all_descs(d, owner), nr = read_doc(rows, 256), bad = 0;

	assert_true(nr > 0);
	for (int j = 0; j < nr; j++) {
		bool found = false;

		for (int i = 0; i < n && !found; i++)
			found = !strcmp(rows[j].name, d[i]->name);
		if (!found) {
			print_error("%s:%d: %s is documented but no table declares it\n", METRICS_DOC,
				    rows[j].line, rows[j].name);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_valid),
		cmocka_unit_test(test_openmetrics_names),
		cmocka_unit_test(test_every_metric_documented),
		cmocka_unit_test(test_every_documented_metric_exists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
