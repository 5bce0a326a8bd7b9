// SPDX-License-Identifier: GPL-2.0-only
/*
 * doctor: the processes of the namespace and their descriptor limits.
 *
 * A server at its RLIMIT_NOFILE soft limit fails every accept() with
 * EMFILE while the kernel goes on completing handshakes for it: its
 * accept queue fills and overflows, which the counters show without
 * saying why.  This reads, for every process whose network namespace is
 * the one doctor looks at, its open descriptors (/proc/PID/fd) and its
 * limit (/proc/PID/limits).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "doctor.h"
#include "util.h"

static int limit_value(const char *s, uint64_t *v)
{
	char *end;

	if (!strncmp(s, "unlimited", 9)) {
		*v = UINT64_MAX;
		return 9;
	}
	if (!isdigit((unsigned char)*s))
		return -1;
	*v = strtoull(s, &end, 10);
	return (int)(end - s);
}

int doctor_parse_limits_nofile(const char *text, uint64_t *soft, uint64_t *hard)
{
	static const char key[] = "Max open files";
	const char *p = strstr(text, key);
	int n;

	if (!p || (p != text && p[-1] != '\n'))
		return -EINVAL;
	for (p += sizeof(key) - 1; *p == ' '; p++)
		;
	n = limit_value(p, soft);
	if (n < 0)
		return -EINVAL;
	for (p += n; *p == ' '; p++)
		;
	return limit_value(p, hard) < 0 ? -EINVAL : 0;
}

/* used * 100 / limit without overflow; 0 for an unlimited limit */
static uint64_t pct(uint64_t used, uint64_t limit)
{
	if (limit == UINT64_MAX || !limit)
		return 0;
	return used >= limit ? 100 : used * 100 / limit;
}

static bool fuller(const struct doctor_proc *a, const struct doctor_proc *b)
{
	return pct(a->fds, a->soft) > pct(b->fds, b->soft) ||
	       (pct(a->fds, a->soft) == pct(b->fds, b->soft) && a->fds > b->fds);
}

void doctor_procs_add(struct doctor_procs *p, const struct doctor_proc *pr)
{
	size_t i;

	p->scanned++;
	if (!p->fullest.pid || fuller(pr, &p->fullest))
		p->fullest = *pr;
	if (pct(pr->fds, pr->soft) < DOCTOR_FD_WARN_PCT)
		return;
	/* sorted, fullest first; the least full falls off a full list */
	for (i = p->n; i > 0 && fuller(pr, &p->p[i - 1]); i--)
		if (i < DOCTOR_MAX_PROCS)
			p->p[i] = p->p[i - 1];
	if (i < DOCTOR_MAX_PROCS) {
		p->p[i] = *pr;
		if (p->n < DOCTOR_MAX_PROCS)
			p->n++;
	}
}

static uint64_t count_fds(const char *pid)
{
	char path[64];
	struct dirent *de;
	uint64_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* pid's limits and descriptors when it lives in the namespace ns. */
static bool proc_read(const char *pid, const struct stat *ns, struct doctor_proc *pr)
{
	char path[64], text[4096];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%s/ns/net", pid);
	if (stat(path, &st) || st.st_ino != ns->st_ino || st.st_dev != ns->st_dev)
		return false;
	snprintf(path, sizeof(path), "/proc/%s/limits", pid);
	if (read_file(path, text, sizeof(text)) <= 0 ||
	    doctor_parse_limits_nofile(text, &pr->soft, &pr->hard))
		return false;
	memset(pr->comm, 0, sizeof(pr->comm));
	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	if (read_file(path, text, sizeof(text)) > 0)
		snprintf(pr->comm, sizeof(pr->comm), "%s", strtrim(text));
	pr->pid = atoi(pid);
	pr->fds = count_fds(pid);
	return true;
}

int doctor_procs_read(struct doctor_procs *p)
{
	struct doctor_proc pr;
	struct dirent *de;
	struct stat ns;
	DIR *d;

	memset(p, 0, sizeof(*p));
	if (stat("/proc/self/ns/net", &ns))
		return -errno;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (isdigit((unsigned char)de->d_name[0]) && proc_read(de->d_name, &ns, &pr))
			doctor_procs_add(p, &pr);
	closedir(d);
	return 0;
}
