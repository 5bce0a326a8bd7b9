// SPDX-License-Identifier: GPL-2.0-only
/*
 * The feature options of `attach` (bypass, netacct) have two spellings:
 * `--NAME VALUE` on the command line and `NAME = VALUE` in the profile's
 * [bypass] / [netacct] section.  Both go through attach_opt_set(), so the
 * two accept the same values and say the same thing about a bad one; the
 * table below is the one list of them (tests/unit/test_profile.c holds
 * the CLI table and the INI keys to it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel.h"
#include "accel_abi.h"

const struct attach_key_def attach_keys[AK_COUNT] = {
	[AK_CGROUP] = { "cgroup", "bypass" },
	[AK_PORTS] = { "ports", "bypass" },
	[AK_EXCLUDE_PORTS] = { "exclude-ports", "bypass" },
	[AK_EVENT_PORTS] = { "event-ports", "bypass" },
	[AK_LEARN] = { "learn", "bypass" },
	[AK_LEARN_CONNS] = { "learn-conns", "bypass" },
	[AK_LEARN_WINDOW] = { "learn-window", "bypass" },
	[AK_MAX_CONNECTIONS] = { "max-connections", "bypass" },
	[AK_IFACE] = { "iface", "netacct" },
	[AK_INGRESS] = { "ingress", "netacct" },
};

int attach_key_by_name(const char *section, const char *name)
{
	for (int k = 0; k < AK_COUNT; k++)
		if (!strcmp(attach_keys[k].name, name) && (!section || !strcmp(attach_keys[k].section, section)))
			return k;
	return -1;
}

static int number(const char *value, uint64_t lo, uint64_t hi, const char *what, unsigned int *out,
		  char *err, size_t len)
{
	uint64_t v;

	if (parse_u64(value, lo, hi, &v)) {
		snprintf(err, len, "'%s' is not a number of %s (%llu-%llu)", value, what,
			 (unsigned long long)lo, (unsigned long long)hi);
		return -EINVAL;
	}
	*out = (unsigned int)v;
	return 0;
}

static int ifaces_add(struct attach_opts *a, const char *value, char *err, size_t len)
{
	char buf[512], *tok, *save = NULL;

	if (strlen(value) >= sizeof(buf)) {
		snprintf(err, len, "value too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		unsigned int idx;

		if (a->nifaces >= ACCEL_MAX_IFACES) {
			snprintf(err, len, "at most %d interfaces", ACCEL_MAX_IFACES);
			return -EINVAL;
		}
		/* existence is checked once inside the target netns */
		if (ifname_to_index(tok, &idx) == -EINVAL) {
			snprintf(err, len, "'%s' is not a valid interface name", tok);
			return -EINVAL;
		}
		snprintf(a->ifaces[a->nifaces++], sizeof(a->ifaces[0]), "%s", tok);
	}
	return 0;
}

int attach_opt_set(struct attach_opts *a, int key, const char *value, char *err, size_t len)
{
	struct port_list *pl = NULL;
	int e = 0;

	switch (key) {
	case AK_CGROUP:
		if (!*value) {
			snprintf(err, len, "empty path");
			return -EINVAL;
		}
		a->cgroup = strdup(value);	/* lives as long as the process */
		if (!a->cgroup)
			return -ENOMEM;
		break;
	case AK_PORTS:
		pl = &a->ports;
		break;
	case AK_EXCLUDE_PORTS:
		pl = &a->exclude_ports;
		break;
	case AK_EVENT_PORTS:
		pl = &a->event_ports;
		break;
	case AK_LEARN:
		if (!strcmp(value, "on"))
			a->learn = 1;
		else if (!strcmp(value, "off"))
			a->learn = 0;
		else {
			snprintf(err, len, "'%s' is not on or off", value);
			return -EINVAL;
		}
		break;
	case AK_LEARN_CONNS:
		e = number(value, 1, 10000, "connections", &a->learn_conns, err, len);
		break;
	case AK_LEARN_WINDOW:
		e = number(value, 1, 86400, "seconds", &a->learn_window_s, err, len);
		break;
	case AK_MAX_CONNECTIONS:
		e = number(value, ACCEL_BYPASS_CONNS_MIN, ACCEL_BYPASS_CONNS_MAX, "connections", &a->max_conns,
			   err, len);
		break;
	case AK_IFACE:
		e = ifaces_add(a, value, err, len);
		break;
	case AK_INGRESS:
		if (!strcmp(value, "auto"))
			a->ingress = ACCEL_INGRESS_AUTO;
		else if (!strcmp(value, "xdp"))
			a->ingress = ACCEL_INGRESS_XDP;
		else if (!strcmp(value, "tc"))
			a->ingress = ACCEL_INGRESS_TC;
		else {
			snprintf(err, len, "'%s' is not auto, xdp or tc", value);
			return -EINVAL;
		}
		break;
	default:
		snprintf(err, len, "not an attach option");
		return -ENOENT;
	}
	if (pl) {
		/* "none" empties a list (for `bypass policy`) */
		if (!strcmp(value, "none"))
			pl->n = 0;
		else
			e = port_list_parse(value, pl, err, len);
	}
	if (!e)
		a->set |= 1u << key;
	return e;
}

void attach_opt_copy(struct attach_opts *dst, const struct attach_opts *src, int key)
{
	switch (key) {
	case AK_CGROUP: dst->cgroup = src->cgroup; break;
	case AK_PORTS: dst->ports = src->ports; break;
	case AK_EXCLUDE_PORTS: dst->exclude_ports = src->exclude_ports; break;
	case AK_EVENT_PORTS: dst->event_ports = src->event_ports; break;
	case AK_LEARN: dst->learn = src->learn; break;
	case AK_LEARN_CONNS: dst->learn_conns = src->learn_conns; break;
	case AK_LEARN_WINDOW: dst->learn_window_s = src->learn_window_s; break;
	case AK_MAX_CONNECTIONS: dst->max_conns = src->max_conns; break;
	case AK_IFACE:
		dst->nifaces = src->nifaces;
		memcpy(dst->ifaces, src->ifaces, sizeof(dst->ifaces));
		break;
	case AK_INGRESS: dst->ingress = src->ingress; break;
	default: return;
	}
	dst->set |= 1u << key;
}
