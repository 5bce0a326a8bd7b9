// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one option parser (opts.h): a value given as `--NAME VALUE` on the
 * command line and as `NAME = VALUE` in a profile section goes through
 * accel_opt_parse(), by the type its table line declares.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

const char *accel_opt_sep(const char *err)
{
	return strncmp(err, "must ", 5) ? ": " : " ";
}

const struct accel_opt *accel_opt_find(const char *section, const char *name)
{
	accel_opt_for_each(i, o)
		if (!strcmp(o->name, name) && (!section || (o->section && !strcmp(o->section, section))))
			return o;
	return NULL;
}

bool accel_opt_section(const char *section)
{
	accel_opt_for_each(i, o)
		if (o->section && !strcmp(o->section, section))
			return true;
	return false;
}

int accel_opt_bit(const struct accel_opt *opt)
{
	int bit = 0;

	accel_opt_for_each(i, o) {
		if (o == opt)
			return bit < ACCEL_OPT_MAX ? bit : -1;
		bit++;
	}
	return -1;
}

bool accel_opt_is_given(const struct attach_opts *a, const struct accel_opt *o)
{
	int bit = o ? accel_opt_bit(o) : -1;

	return bit >= 0 && (a->set & (1u << bit));
}

bool accel_opt_given(const struct attach_opts *a, const char *name)
{
	return accel_opt_is_given(a, accel_opt_find(NULL, name));
}

void accel_opt_copy(const struct accel_opt *o, struct attach_opts *dst, const struct attach_opts *src)
{
	int bit = accel_opt_bit(o);

	if (o->in != AO_ATTACH || bit < 0)
		return;
	memcpy((char *)dst + o->off, (const char *)src + o->off, o->size);
	dst->set |= 1u << bit;
}

static int number(const struct accel_opt *o, const char *value, unsigned int *out, char *err, size_t len)
{
	uint64_t v;

	if (parse_u64(value, o->lo, o->hi, &v)) {
		snprintf(err, len, "'%s' is not a number of %s (%llu-%llu)", value, o->unit,
			 (unsigned long long)o->lo, (unsigned long long)o->hi);
		return -EINVAL;
	}
	*out = (unsigned int)v;
	return 0;
}

/* "'x' is not auto, xdp or tc" */
static int enum_value(const struct accel_opt *o, const char *value, int *out, char *err, size_t len)
{
	size_t n = 0;
	int k;

	for (k = 0; o->names[k]; k++)
		if (!strcmp(o->names[k], value)) {
			*out = k;
			return 0;
		}
	n = snprintf(err, len, "'%s' is not ", value);
	for (int i = 0; i < k && n < len; i++)
		n += snprintf(err + n, len - n, "%s%s", i ? (i == k - 1 ? " or " : ", ") : "", o->names[i]);
	return -EINVAL;
}

static int ifnames_add(struct ifname_list *l, const char *value, char *err, size_t len)
{
	char buf[512], *tok, *save = NULL;

	if (strlen(value) >= sizeof(buf)) {
		snprintf(err, len, "value too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		unsigned int idx;

		if (l->n >= ACCEL_MAX_IFACES) {
			snprintf(err, len, "at most %d interfaces", ACCEL_MAX_IFACES);
			return -EINVAL;
		}
		/* existence is checked once inside the target netns */
		if (ifname_to_index(tok, &idx) == -EINVAL) {
			snprintf(err, len, "'%s' is not a valid interface name", tok);
			return -EINVAL;
		}
		snprintf(l->name[l->n++], sizeof(l->name[0]), "%s", tok);
	}
	return 0;
}

/* dst: a const char * field; the copy lives as long as the process */
static int copy_string(const char *value, const char **dst)
{
	*dst = strdup(value);
	return *dst ? 0 : -ENOMEM;
}

int accel_opt_parse_into(const struct accel_opt *o, void *base, const char *value, char *err, size_t len)
{
	void *dst = (char *)base + o->off;
	int v = 0, e = 0;

	if (o->set)
		return o->set(o, base, value, err, len);
	if (o->type != AOT_FLAG && !value) {
		snprintf(err, len, "needs a value");
		return -EINVAL;
	}
	switch (o->type) {
	case AOT_FLAG:
		*(bool *)dst = true;
		return 0;
	case AOT_PATH:
		if (!*value) {
			snprintf(err, len, "empty path");
			return -EINVAL;
		}
		return copy_string(value, dst);
	case AOT_STRING:
		return copy_string(value, dst);
	case AOT_PORTS:
		/* "none" empties a list (for `bypass policy`) */
		if (!strcmp(value, "none")) {
			((struct port_list *)dst)->n = 0;
			return 0;
		}
		return port_list_parse(value, dst, err, len);
	case AOT_IFNAMES:
		return ifnames_add(dst, value, err, len);
	case AOT_NUMBER:
		return number(o, value, dst, err, len);
	case AOT_BOOL:
		if (!strcmp(value, "on"))
			v = 1;
		else if (strcmp(value, "off")) {
			snprintf(err, len, "'%s' is not on or off", value);
			return -EINVAL;
		}
		break;
	case AOT_ENUM:
		e = enum_value(o, value, &v, err, len);
		break;
	}
	if (!e)
		memcpy(dst, &v, sizeof(v));
	return e;
}

int accel_opt_parse(const struct accel_opt *o, struct attach_opts *a, const char *value, char *err, size_t len)
{
	int bit = accel_opt_bit(o), e;

	if (o->in != AO_ATTACH) {
		snprintf(err, len, "not an attach option");
		return -ENOENT;
	}
	e = accel_opt_parse_into(o, a, value, err, len);
	if (!e && bit >= 0)
		a->set |= 1u << bit;
	return e;
}
