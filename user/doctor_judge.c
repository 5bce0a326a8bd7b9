// SPDX-License-Identifier: GPL-2.0-only
/*
 * doctor: the helpers every finding is judged with (doctor_judge.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor_judge.h"

const char *dj_sysctl_or(const struct doctor_sample *s, enum doctor_sysctl k)
{
	return s->sysctl[k][0] ? s->sysctl[k] : "unknown";
}

bool dj_sysctl_u64(const struct doctor_sample *s, enum doctor_sysctl k, uint64_t *v)
{
	char *end;

	if (!s->sysctl[k][0])
		return false;
	*v = strtoull(s->sysctl[k], &end, 10);
	return end != s->sysctl[k];
}

bool dj_delta(const struct judge *j, const char *name, uint64_t *d)
{
	uint64_t v0 = 0, v1;

	if (!doctor_counter(&j->b->ctr, name, &v1))
		return false;
	if (j->a && !doctor_counter(&j->a->ctr, name, &v0))
		return false;
	*d = v1 >= v0 ? v1 - v0 : 0;
	return true;
}

bool dj_have(const struct judge *j, enum doctor_source src)
{
	return j->b->have[src] && (!j->a || j->a->have[src]);
}

const char *dj_src_err(const struct judge *j, enum doctor_source src)
{
	return !j->b->have[src] ? j->b->err[src] : j->a->err[src];
}

struct doctor_check *dj_check(struct judge *j, const char *id, bool checked, const char *fmt, ...)
{
	struct doctor_check *c;
	va_list ap;

	if (j->r->nchecks >= DOCTOR_MAX_CHECKS)
		return NULL;
	c = &j->r->checks[j->r->nchecks++];
	c->id = id;
	c->checked = checked;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	return c;
}

struct doctor_finding *dj_finding(struct judge *j, const char *id, enum doctor_severity sev)
{
	struct doctor_finding *f;

	if (j->r->n >= DOCTOR_MAX_FINDINGS)
		return NULL;
	f = &j->r->f[j->r->n++];
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->severity = sev;
	return f;
}

enum doctor_severity dj_history(const struct judge *j, enum doctor_severity sev, bool now)
{
	return !j->a && !now && sev == SEV_WARNING ? SEV_INFO : sev;
}

void dj_value(struct doctor_finding *f, const char *name, uint64_t v)
{
	if (f->nvalues < DOCTOR_MAX_VALUES) {
		f->values[f->nvalues].name = name;
		f->values[f->nvalues++].value = v;
	}
}

void dj_fix_sysctl(struct doctor_finding *f, const char *key, const char *val, const char *cur,
		   const char *fmt, ...)
{
	struct doctor_fix *x;
	va_list ap;

	if (f->nfix >= DOCTOR_MAX_FIX)
		return;
	x = &f->fix[f->nfix++];
	snprintf(x->key, sizeof(x->key), "%s", key ? key : "");
	snprintf(x->value, sizeof(x->value), "%s", val ? val : "");
	snprintf(x->current, sizeof(x->current), "%s", cur ? cur : "");
	va_start(ap, fmt);
	vsnprintf(x->text, sizeof(x->text), fmt, ap);
	va_end(ap);
}

void dj_fix_nic(struct doctor_finding *f, const char *dev, const char *key, const char *val,
		const char *cur, const char *fmt, ...)
{
	struct doctor_fix *x;
	va_list ap;

	if (f->nfix >= DOCTOR_MAX_FIX)
		return;
	x = &f->fix[f->nfix++];
	snprintf(x->dev, sizeof(x->dev), "%s", dev);
	snprintf(x->key, sizeof(x->key), "%s", key);
	snprintf(x->value, sizeof(x->value), "%s", val);
	snprintf(x->current, sizeof(x->current), "%s", cur);
	va_start(ap, fmt);
	vsnprintf(x->text, sizeof(x->text), fmt, ap);
	va_end(ap);
}
