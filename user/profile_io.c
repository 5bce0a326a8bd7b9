// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profiles where operators keep configuration: the directory where
 * `--profile NAME` finds NAME.ini before the built-ins (profile_by_name()
 * in profile.c, which uses this module, not the other way round), its
 * listing, and sysctl.d(5) files, which convert both ways, so that
 * tuning an operator already keeps in /etc/sysctl.d can be applied
 * (journaled, restored by detach) and a profile can be kept as plain
 * sysctl.d where BPF is not wanted.
 *
 * sysctl.d syntax, as systemd-sysctl reads it: "key = value" or
 * "key=value", keys with dots or slashes, comments from '#' or ';' at the
 * start of a line, and a leading '-' on the key: a failure to set it is
 * ignored.  A profile has no such switch (accelctl refuses what it cannot
 * set, and says why), so import keeps the key and says so in a comment.
 * Globs ('*' in a key, systemd 247+) have no profile equivalent: refused.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel.h"
#include "profile_io.h"
#include "sysctl.h"
#include "tune_item.h"
#include "tune_profile.h"
#include "util.h"

const char *profile_dir(void)
{
	const char *d = getenv("ACCELCTL_PROFILE_DIR");

	return d && *d ? d : ACCEL_PROFILE_DIR;
}

void profile_list(FILE *out)
{
	const char *dir = profile_dir();
	struct dirent **de = NULL;
	int n = scandir(dir, &de, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		size_t len = strlen(de[i]->d_name);

		if (len > 4 && !strcmp(de[i]->d_name + len - 4, ".ini") && de[i]->d_name[0] != '.')
			fprintf(out, "%.*s (%s/%s)\n", (int)(len - 4), de[i]->d_name, dir, de[i]->d_name);
		free(de[i]);
	}
	free(de);
	fprintf(out, "loopback (built-in, the default)\n");
}

/* One sysctl.d line: 0 with *key set (NULL: nothing to write), or
 * -EINVAL with the reason in err. */
static int sysctl_d_line(char *line, char **key, char **value, bool *dash, char *err, size_t len)
{
	char *s = strtrim(line), *eq;

	*key = NULL;
	if (!*s || *s == '#' || *s == ';')
		return 0;
	eq = strchr(s, '=');
	if (!eq) {
		snprintf(err, len, "no '=': sysctl.d lines are KEY = VALUE");
		return -EINVAL;
	}
	*eq = '\0';
	*key = strtrim(s);
	*value = strtrim(eq + 1);
	*dash = **key == '-';
	if (*dash)
		(*key)++;
	if (strpbrk(*key, "*?[")) {
		snprintf(err, len, "'%s' is a glob: a profile names each key (list them one by one)", *key);
		return -EINVAL;
	}
	if (!**key || !**value) {
		snprintf(err, len, "%s", !**key ? "empty key" : "empty value");
		return -EINVAL;
	}
	return 0;
}

int profile_import_sysctl_d(const char *path, FILE *out, char *err, size_t len)
{
	char line[1024], canon[TUNE_KEY_LEN], kpath[PATH_MAX], why[256], *buf = NULL;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	FILE *in = fopen(path, "re"), *mem;
	size_t blen = 0;
	int lineno = 0, ret = 0;

	if (!in) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return -ACCEL_ECONFIG;
	}
	mem = open_memstream(&buf, &blen);
	if (!mem) {
		fclose(in);
		return -ENOMEM;
	}
	fprintf(mem, "; imported by `accelctl profile import` from %s (sysctl.d(5))\n[profile]\n"
		"name = %.*s\n\n[sysctl]\n", path, (int)(strcspn(base, ".")), base);
	while (!ret && fgets(line, sizeof(line), in)) {
		char *key, *value;
		bool dash;

		lineno++;
		if (sysctl_d_line(line, &key, &value, &dash, why, sizeof(why)) ||
		    (key && sysctl_key_parse(key, canon, sizeof(canon), kpath, sizeof(kpath), why, sizeof(why)))) {
			snprintf(err, len, "%s:%d: %s", path, lineno, why);
			ret = -ACCEL_ECONFIG;
		} else if (key) {
			if (dash)
				fprintf(mem, "; sysctl.d: -%s (a failure to set it is ignored there; accelctl "
					"refuses a key it cannot set)\n", canon);
			fprintf(mem, "%s = %s\n", canon, value);
		}
	}
	fclose(in);
	if (fclose(mem) && !ret)
		ret = -ENOMEM;
	if (!ret)
		fwrite(buf, 1, blen, out);
	free(buf);
	return ret;
}

void profile_export_sysctl_d(const struct tune_profile *p, FILE *out)
{
	fprintf(out, "# accelctl profile %s (%s) in sysctl.d(5) syntax, from `accelctl profile export "
		"--sysctl-d`.\n# Only its sysctls: NIC settings and the [bypass]/[netacct]/[tcpstate] "
		"sections are not sysctls.\n", p->name, p->source);
	for (int i = 0; i < p->n; i++) {
		const struct tune_item *it = &p->items[i];

		if (it->kind != TK_SYSCTL) {
			fprintf(out, "# left out: nic %s %s = %s (not a sysctl)\n", it->ifname, it->key, it->value);
			continue;
		}
		if (it->at_least)
			fprintf(out, "# accelctl raises %s only (>= %s); sysctl.d sets it exactly\n", it->key,
				it->value);
		fprintf(out, "%s = %s\n", it->key, it->value);
	}
}
