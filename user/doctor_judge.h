/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * doctor_judge.h - what every doctor finding is judged with: the two
 * samples, the report being filled, and the helpers that add checks,
 * findings, values and fixes to it (doctor_judge.c).  Internal to the
 * doctor_*.c files; the public interface is doctor.h.
 */
#ifndef ACCEL_DOCTOR_JUDGE_H
#define ACCEL_DOCTOR_JUDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "doctor_sample.h"

struct judge {
	const struct doctor_sample *a, *b;	/* a: NULL without --since */
	struct doctor_report *r;
	char when[96];				/* "over 5 s", "since the namespace was created" */
};

extern const char *const doctor_source_names[SRC_MAX];
/* A whole file into a malloc'd string (proc files have no size): 0 or -errno. */
int doctor_slurp(const char *path, char **out);
/* Mark src unreadable in s, with the reason. */
void doctor_source_fail(struct doctor_sample *s, enum doctor_source src, int err);

/* f is attached, and in the namespace doctor looks at. */
struct accel_ctx;
struct accel_feature;
bool doctor_feature_here(struct accel_ctx *ctx, const struct accel_feature *f);

/* The judges of doctor_iface.c. */
void judge_pmtu(struct judge *j);
void judge_nic_rings(struct judge *j);
void judge_rx_queues(struct judge *j);
void judge_irq_spread(struct judge *j);

/* The sysctl's text, "unknown" when unreadable; as a number (false: unreadable). */
const char *dj_sysctl_or(const struct doctor_sample *s, enum doctor_sysctl k);
bool dj_sysctl_u64(const struct doctor_sample *s, enum doctor_sysctl k, uint64_t *v);

/* The counter's growth over the interval, or its value without one.
 * false when either sample lacks it. */
bool dj_delta(const struct judge *j, const char *name, uint64_t *d);
/* Both samples could read src; else why not. */
bool dj_have(const struct judge *j, enum doctor_source src);
const char *dj_src_err(const struct judge *j, enum doctor_source src);

/* One line of "checked" / "not checked" (NULL: the list is full). */
struct doctor_check *dj_check(struct judge *j, const char *id, bool checked, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A new, empty finding (NULL: the report is full). */
struct doctor_finding *dj_finding(struct judge *j, const char *id, enum doctor_severity sev);
/* A counter's growth since boot (no --since) may be weeks old: without a
 * gauge that shows it happening now, a warning is history, told as info. */
enum doctor_severity dj_history(const struct judge *j, enum doctor_severity sev, bool now);
/* A number of the evidence (name must outlive the report: a literal). */
void dj_value(struct doctor_finding *f, const char *name, uint64_t v);
/* A fix: a sysctl key, its suggested and current value (key NULL: an
 * application or operator change), and the text saying why. */
void dj_fix_sysctl(struct doctor_finding *f, const char *key, const char *val, const char *cur,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A NIC setting of dev as a profile key ("rx-ring", "combined") and value. */
void dj_fix_nic(struct doctor_finding *f, const char *dev, const char *key, const char *val,
		const char *cur, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
#define dj_fix_text(f, ...) dj_fix_sysctl(f, NULL, NULL, NULL, __VA_ARGS__)

#endif
