// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

struct metrics *metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

static void sample_free(struct metric_sample *s)
{
	for (int i = 0; i < s->nlabels; i++) {
		free(s->lname[i]);
		free(s->lvalue[i]);
	}
	free(s->bounds);
	free(s->counts);
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->n; i++) {
		struct metric_family *f = m->f[i];

		for (int j = 0; j < f->n; j++)
			sample_free(&f->s[j]);
		free(f->s);
		free(f->name);
		free(f->help);
		free(f);
	}
	free(m->f);
	free(m);
}

const struct metric_family *metrics_find_family(const struct metrics *m, const char *name)
{
	for (int i = 0; m && i < m->n; i++)
		if (!strcmp(m->f[i]->name, name))
			return m->f[i];
	return NULL;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names, no ':' in label names */
bool metrics_name_valid(const char *name, bool label)
{
	if (!name || !*name || (name[0] >= '0' && name[0] <= '9'))
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || (*p == ':' && !label)))
			return false;
	return true;
}

struct metric_family *metrics_family(struct metrics *m, const char *name,
				     enum metric_type type, const char *help)
{
	struct metric_family *f = (struct metric_family *)metrics_find_family(m, name);

	if (f)
		return f;
	if (!metrics_name_valid(name, false)) {
		errno = EINVAL;
		return NULL;
	}
	if (m->n == m->cap) {
		int cap = m->cap ? m->cap * 2 : 32;
		void *p = realloc(m->f, cap * sizeof(*m->f));

		if (!p)
			return NULL;
		m->f = p;
		m->cap = cap;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->name = strdup(name);
	f->help = strdup(help);
	f->type = type;
	if (!f->name || !f->help) {
		free(f->name);
		free(f->help);
		free(f);
		return NULL;
	}
	m->f[m->n++] = f;
	return f;
}

struct metric_family *metrics_family_of(struct metrics *m, const struct metric_desc *d)
{
	struct metric_family *f = metrics_family(m, d->name, d->type, d->help);

	if (f && !f->desc)
		f->desc = d;
	return f;
}

int metric_desc_nlabels(const struct metric_desc *d)
{
	int n = 0;

	while (n < METRIC_MAX_LABELS && d->labels[n])
		n++;
	return n;
}

/* n label names and values; NULL with errno on failure */
static struct metric_sample *new_sample_kv(struct metric_family *f, int n,
					   const char *const *names, const char *const *values)
{
	struct metric_sample *s;

	if (!f) {
		errno = EINVAL;
		return NULL;
	}
	if (f->n == f->cap) {
		int cap = f->cap ? f->cap * 2 : 8;
		void *p = realloc(f->s, cap * sizeof(*f->s));

		if (!p)
			return NULL;
		f->s = p;
		f->cap = cap;
	}
	s = &f->s[f->n];
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < n; i++) {
		const char *k = names[i], *v = values[i];

		/* A label we cannot write would make the text unparsable
		 * or merge distinct samples: refuse the sample instead. */
		if (s->nlabels == METRIC_MAX_LABELS || !metrics_name_valid(k, true) ||
		    !strcmp(k, "le")) {
			sample_free(s);
			errno = EINVAL;
			return NULL;
		}
		s->lname[s->nlabels] = strdup(k);
		s->lvalue[s->nlabels] = strdup(v ? v : "");
		s->nlabels++;
		if (!s->lname[s->nlabels - 1] || !s->lvalue[s->nlabels - 1]) {
			sample_free(s);
			errno = ENOMEM;
			return NULL;
		}
	}
	f->n++;
	return s;
}

/* NULL-terminated name/value pairs */
static struct metric_sample *new_sample(struct metric_family *f, va_list ap)
{
	const char *names[METRIC_MAX_LABELS + 1], *values[METRIC_MAX_LABELS + 1];
	const char *k;
	int n = 0;

	if (!f)
		return NULL;
	while ((k = va_arg(ap, const char *))) {
		if (n > METRIC_MAX_LABELS) {	/* one too many is enough to refuse */
			errno = EINVAL;
			return NULL;
		}
		names[n] = k;
		values[n++] = va_arg(ap, const char *);
	}
	return new_sample_kv(f, n, names, values);
}

/* A sample of a family made from a descriptor, with all of its labels. */
static struct metric_sample *desc_sample(struct metric_family *f, int n, const char *const *values)
{
	if (!f || !f->desc || n != metric_desc_nlabels(f->desc)) {
		errno = EINVAL;
		return NULL;
	}
	return new_sample_kv(f, n, f->desc->labels, values);
}

int metric_put_values(struct metric_family *f, double value, int n, const char *const *values)
{
	struct metric_sample *s = desc_sample(f, n, values);

	if (!s)
		return -errno;
	s->value = value;
	return 0;
}

int metric_add(struct metric_family *f, double value, ...)
{
	struct metric_sample *s;
	va_list ap;

	va_start(ap, value);
	s = new_sample(f, ap);
	va_end(ap);
	if (!s)
		return f ? -errno : -EINVAL;
	s->value = value;
	return 0;
}

static int hist_fill(struct metric_family *f, struct metric_sample *s, const double *bounds,
		     const uint64_t *counts, int nbuckets, double sum)
{
	s->value = sum;
	s->nbuckets = nbuckets;
	s->bounds = calloc(nbuckets ? nbuckets : 1, sizeof(double));
	s->counts = calloc(nbuckets + 1, sizeof(uint64_t));
	if (!s->bounds || !s->counts) {
		sample_free(s);
		f->n--;
		return -ENOMEM;
	}
	memcpy(s->bounds, bounds, nbuckets * sizeof(double));
	memcpy(s->counts, counts, (nbuckets + 1) * sizeof(uint64_t));
	return 0;
}

int metric_add_histogram(struct metric_family *f, const double *bounds,
			 const uint64_t *counts, int nbuckets, double sum, ...)
{
	struct metric_sample *s;
	va_list ap;

	va_start(ap, sum);
	s = new_sample(f, ap);
	va_end(ap);
	if (!s)
		return f ? -errno : -EINVAL;
	return hist_fill(f, s, bounds, counts, nbuckets, sum);
}

int metric_put_histogram_values(struct metric_family *f, const double *bounds,
				const uint64_t *counts, int nbuckets, double sum, int n,
				const char *const *values)
{
	struct metric_sample *s = desc_sample(f, n, values);

	if (!s)
		return -errno;
	return hist_fill(f, s, bounds, counts, nbuckets, sum);
}

const struct metric_family *metrics_get(const struct metrics *m, const struct metric_desc *d)
{
	for (int i = 0; m && i < m->n; i++)
		if (m->f[i]->desc == d)
			return m->f[i];
	return metrics_find_family(m, d->name);
}

const struct metric_sample *metric_get_values(const struct metric_family *f, int n,
					      const char *const *values)
{
	const char *const *names;

	if (!f)
		return NULL;
	names = f->desc ? f->desc->labels : NULL;
	for (int i = 0; i < f->n; i++) {
		const struct metric_sample *s = &f->s[i];
		bool match = s->nlabels == n;

		/* by the descriptor's names; without one, by position */
		for (int j = 0; match && j < n; j++) {
			const char *v = names ? metric_label(s, names[j]) : s->lvalue[j];

			match = v && !strcmp(v, values[j]);
		}
		if (match)
			return s;
	}
	return NULL;
}

double metric_sample_value(const struct metric_sample *s)
{
	return s ? s->value : 0;
}

const char *metric_lvalue(const struct metric_sample *s, int i)
{
	return s && i >= 0 && i < s->nlabels ? s->lvalue[i] : NULL;
}

const char *metric_label(const struct metric_sample *s, const char *name)
{
	for (int i = 0; i < s->nlabels; i++)
		if (!strcmp(s->lname[i], name))
			return s->lvalue[i];
	return NULL;
}

uint64_t metric_hist_count(const struct metric_sample *s)
{
	uint64_t c = 0;

	for (int i = 0; i <= s->nbuckets; i++)
		c += s->counts[i];
	return c;
}

const struct metric_sample *metrics_find(const struct metrics *m, const char *name, ...)
{
	const struct metric_family *f = metrics_find_family(m, name);
	const char *kv[2 * METRIC_MAX_LABELS];
	int n = 0;
	va_list ap;

	if (!f)
		return NULL;
	va_start(ap, name);
	for (const char *k; n < 2 * METRIC_MAX_LABELS && (k = va_arg(ap, const char *)); n += 2) {
		kv[n] = k;
		kv[n + 1] = va_arg(ap, const char *);
	}
	va_end(ap);
	for (int i = 0; i < f->n; i++) {
		const struct metric_sample *s = &f->s[i];
		bool match = s->nlabels == n / 2;

		for (int j = 0; match && j < n; j += 2) {
			const char *v = metric_label(s, kv[j]);

			match = v && !strcmp(v, kv[j + 1]);
		}
		if (match)
			return s;
	}
	return NULL;
}

static const char *type_name(enum metric_type t)
{
	switch (t) {
	case METRIC_COUNTER: return "counter";
	case METRIC_GAUGE: return "gauge";
	case METRIC_HISTOGRAM: return "histogram";
	}
	return "untyped";
}

/* Exposition format escaping: label values escape \ " and newline,
 * HELP text escapes \ and newline. */
static void prom_escape(FILE *out, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (quote && *s == '"')
			fputs("\\\"", out);
		else
			fputc(*s, out);
	}
}

/* The shortest decimal that reads back as exactly v (0.1, not
 * 0.10000000000000001); integers without exponent up to 2^53. */
static void fmt_number(char *buf, size_t len, double v)
{
	if (isnan(v)) {
		snprintf(buf, len, "NaN");
	} else if (isinf(v)) {
		snprintf(buf, len, "%s", v > 0 ? "+Inf" : "-Inf");
	} else if (v == (double)(int64_t)v && fabs(v) < 9007199254740992.0) {
		snprintf(buf, len, "%lld", (long long)v);
	} else {
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(buf, len, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
	}
}

static void prom_number(FILE *out, double v)
{
	char buf[40];

	fmt_number(buf, sizeof(buf), v);
	fputs(buf, out);
}

static void prom_labels(FILE *out, const struct metric_sample *s, const char *le)
{
	bool any = s->nlabels || le;

	if (!any)
		return;
	fputc('{', out);
	for (int i = 0; i < s->nlabels; i++) {
		fprintf(out, "%s%s=\"", i ? "," : "", s->lname[i]);
		prom_escape(out, s->lvalue[i], true);
		fputc('"', out);
	}
	if (le)
		fprintf(out, "%sle=\"%s\"", s->nlabels ? "," : "", le);
	fputc('}', out);
}

void metrics_write_prometheus(const struct metrics *m, FILE *out)
{
	for (int i = 0; m && i < m->n; i++) {
		const struct metric_family *f = m->f[i];

		fprintf(out, "# HELP %s ", f->name);
		prom_escape(out, f->help, false);
		fprintf(out, "\n# TYPE %s %s\n", f->name, type_name(f->type));
		for (int j = 0; j < f->n; j++) {
			const struct metric_sample *s = &f->s[j];

			if (f->type != METRIC_HISTOGRAM) {
				fputs(f->name, out);
				prom_labels(out, s, NULL);
				fputc(' ', out);
				prom_number(out, s->value);
				fputc('\n', out);
				continue;
			}
			uint64_t cum = 0;
			char le[40];

			for (int b = 0; b <= s->nbuckets; b++) {
				cum += s->counts[b];	/* buckets are cumulative */
				fmt_number(le, sizeof(le), b < s->nbuckets ? s->bounds[b] : INFINITY);
				fprintf(out, "%s_bucket", f->name);
				prom_labels(out, s, le);
				fprintf(out, " %llu\n", (unsigned long long)cum);
			}
			fprintf(out, "%s_sum", f->name);
			prom_labels(out, s, NULL);
			fputc(' ', out);
			prom_number(out, s->value);
			fprintf(out, "\n%s_count", f->name);
			prom_labels(out, s, NULL);
			fprintf(out, " %llu\n", (unsigned long long)cum);
		}
	}
}

void metrics_write_json(const struct metrics *m, struct json_writer *jw)
{
	jw_start_object(jw);
	for (int i = 0; m && i < m->n; i++) {
		const struct metric_family *f = m->f[i];

		jw_key(jw, f->name);
		jw_start_object(jw);
		jw_kv_string(jw, "type", type_name(f->type));
		jw_kv_string(jw, "help", f->help);
		jw_key(jw, "samples");
		jw_start_array(jw);
		for (int j = 0; j < f->n; j++) {
			const struct metric_sample *s = &f->s[j];

			jw_start_object(jw);
			jw_key(jw, "labels");
			jw_start_object(jw);
			for (int k = 0; k < s->nlabels; k++)
				jw_kv_string(jw, s->lname[k], s->lvalue[k]);
			jw_end_object(jw);
			if (f->type == METRIC_HISTOGRAM) {
				jw_key(jw, "buckets");
				jw_start_array(jw);
				for (int b = 0; b <= s->nbuckets; b++) {
					jw_start_object(jw);
					jw_key(jw, "le");
					if (b < s->nbuckets)
						jw_double(jw, s->bounds[b]);
					else
						jw_string(jw, "+Inf");
					jw_kv_uint(jw, "count", s->counts[b]);
					jw_end_object(jw);
				}
				jw_end_array(jw);
				jw_kv_uint(jw, "count", metric_hist_count(s));
				jw_key(jw, "sum");
			} else {
				jw_key(jw, "value");
			}
			jw_double(jw, s->value);
			jw_end_object(jw);
		}
		jw_end_array(jw);
		jw_end_object(jw);
	}
	jw_end_object(jw);
}

void metrics_write_text(const struct metrics *m, const char *prefix, FILE *out)
{
	size_t plen = prefix ? strlen(prefix) : 0;

	for (int i = 0; m && i < m->n; i++) {
		const struct metric_family *f = m->f[i];

		if (plen && strncmp(f->name, prefix, plen))
			continue;
		for (int j = 0; j < f->n; j++) {
			const struct metric_sample *s = &f->s[j];

			fprintf(out, "  %s", f->name);
			prom_labels(out, s, NULL);
			fputc(' ', out);
			if (f->type == METRIC_HISTOGRAM)
				fprintf(out, "count=%llu sum=", (unsigned long long)metric_hist_count(s));
			prom_number(out, s->value);
			fputc('\n', out);
		}
	}
}
