// SPDX-License-Identifier: GPL-2.0-only
/*
 * doctor: the lookup of a counter in a sample (doctor_sample.h).
 */
#include <string.h>

#include "doctor_sample.h"

bool doctor_counter(const struct doctor_counters *c, const char *name, uint64_t *v)
{
	for (size_t i = 0; i < c->n; i++) {
		if (!strcmp(c->c[i].name, name)) {
			*v = c->c[i].value;
			return true;
		}
	}
	return false;
}
