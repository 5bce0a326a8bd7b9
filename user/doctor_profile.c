// SPDX-License-Identifier: GPL-2.0-only
/*
 * doctor --profile-out FILE: the findings' sysctl and NIC fixes as an INI
 * profile (docs/tuning.md) for `attach --config FILE`: advice and action through
 * one file an operator reviews first.  Each setting sits under the
 * finding that asks for it (id, subject, evidence, why); capacity limits
 * are written raise-only (">= N"), so applying the profile never lowers
 * what an operator set higher.  A key this namespace cannot set
 * (host-wide, from a namespace other than the initial one) is written
 * commented out, with where to apply it, so that the file stays
 * attachable as it is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "doctor.h"
#include "log.h"
#include "sysenv.h"
#include "util.h"

/* Limits where more is never worse than what doctor measured. */
static const char *const raise_only[] = {
	"net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_max_tw_buckets",
	"net.ipv4.ipfrag_high_thresh", "net.ipv6.ip6frag_high_thresh", "net.core.netdev_max_backlog",
	"net.core.netdev_budget", "net.core.netdev_budget_usecs", "net.ipv4.tcp_max_orphans",
};

static bool is_raise_only(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(raise_only); i++)
		if (!strcmp(key, raise_only[i]))
			return true;
	return false;
}

/* The key's file exists in this namespace's /proc/sys. */
static bool settable_here(const char *key)
{
	char path[256] = "/proc/sys/";
	size_t n = strlen(path);

	for (const char *k = key; *k && n < sizeof(path) - 1; k++)
		path[n++] = *k == '.' ? '/' : *k;
	path[n] = '\0';
	return access(path, W_OK) == 0;
}

/* Earlier fix of the same key (the first finding's value is written). */
static const struct doctor_fix *seen_before(const struct doctor_report *r, int fi, int xi)
{
	const char *key = r->f[fi].fix[xi].key;

	for (int i = 0; i <= fi; i++) {
		const struct doctor_finding *d = &r->f[i];
		int end = i < fi ? d->nfix : xi;

		for (int x = 0; x < end; x++)
			if (d->fix[x].key[0] && !strcmp(d->fix[x].key, key) &&
			    !strcmp(d->fix[x].dev, r->f[fi].fix[xi].dev))
				return &d->fix[x];
	}
	return NULL;
}

static void comment(FILE *f, const char *label, const char *text)
{
	fprintf(f, ";   %-9s ", label);
	for (const char *p = text; *p; p++)
		fputc(*p == '\n' ? ' ' : *p, f);
	fputc('\n', f);
}

static int write_settings(FILE *f, const struct doctor_report *r)
{
	int n = 0;

	for (int i = 0; i < r->n; i++) {
		const struct doctor_finding *d = &r->f[i];

		for (int x = 0; x < d->nfix; x++) {
			const struct doctor_fix *fx = &d->fix[x], *prev = seen_before(r, i, x);
			const char *ge = is_raise_only(fx->key) && fx->value[0] != '>' ? ">=" : "";
			bool here = settable_here(fx->key);

			if (!fx->key[0] || !fx->value[0] || fx->dev[0])
				continue;
			fprintf(f, "\n; %s (%s): %s\n", d->id, d->severity == SEV_CRITICAL ? "critical" :
				d->severity == SEV_WARNING ? "warning" : "info", d->subject);
			comment(f, "evidence:", d->evidence);
			comment(f, "why:", fx->text);
			fprintf(f, ";   now:      %s = %s\n", fx->key, fx->current[0] ? fx->current : "unknown");
			if (prev) {
				fprintf(f, "; (set above, for an earlier finding)\n");
				continue;
			}
			if (!here) {
				fprintf(f, "; not settable in this network namespace (host-wide): apply it in the "
					"initial namespace\n; %s = %s%s\n", fx->key, ge, fx->value);
				continue;
			}
			fprintf(f, "%s = %s%s\n", fx->key, ge, fx->value);
			n++;
		}
	}
	return n;
}

/* The NIC settings, one [nic "DEV"] section per device, in finding order;
 * how many. */
static int write_nic(FILE *f, const struct doctor_report *r)
{
	int n = 0;

	for (int i = 0; i < r->n; i++) {
		for (int x = 0; x < r->f[i].nfix; x++) {
			const struct doctor_fix *dev = &r->f[i].fix[x];
			bool first = true;

			if (!dev->dev[0] || !dev->value[0])
				continue;
			/* a device's section once: at its first fix */
			for (int k = 0; k <= i && first; k++)
				for (int y = 0; y < (k < i ? r->f[k].nfix : x) && first; y++)
					first = strcmp(r->f[k].fix[y].dev, dev->dev) != 0;
			if (!first)
				continue;
			fprintf(f, "\n[nic \"%s\"]\n", dev->dev);
			for (int k = i; k < r->n; k++) {
				const struct doctor_finding *d = &r->f[k];

				for (int y = 0; y < d->nfix; y++) {
					const struct doctor_fix *fx = &d->fix[y];

					if (strcmp(fx->dev, dev->dev) || !fx->value[0] || seen_before(r, k, y))
						continue;
					fprintf(f, "; %s: %s\n", d->id, d->subject);
					comment(f, "evidence:", d->evidence);
					comment(f, "why:", fx->text);
					fprintf(f, ";   now:      %s = %s\n%s = %s\n", fx->key,
						fx->current[0] ? fx->current : "unknown", fx->key, fx->value);
					n++;
				}
			}
		}
	}
	return n;
}

int doctor_profile_write(const struct doctor_report *r, const char *ns, const char *path, int *nsettings)
{
	char *buf = NULL, when[64];
	size_t len = 0;
	time_t t = time(NULL);
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return -ENOMEM;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime(&t));
	fprintf(f, "; Written by `accelctl%s%s doctor --profile-out` on %s: the sysctl changes\n"
		"; its findings suggest, each under its finding.  Review it, then\n"
		";   accelctl%s%s attach --features tune --config %s --dry-run\n"
		"; shows what would change and `attach` applies it (journaled: detach restores).\n"
		"; Application changes (listen backlogs, descriptor limits) are doctor's text only.\n"
		"[profile]\nname = doctor\n\n[sysctl]\n",
		ns ? " --netns " : "", ns ? ns : "", when, ns ? " --netns " : "", ns ? ns : "", path);
	*nsettings = write_settings(f, r);
	if (!*nsettings)
		fprintf(f, "; no finding suggests a sysctl change\n");
	(void)write_nic(f, r);
	if (fclose(f)) {
		free(buf);
		return -ENOMEM;
	}
	err = write_file_atomic(path, buf, len, 0644);
	free(buf);
	return err;
}
