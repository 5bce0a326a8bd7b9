// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-queue NIC settings through sysfs (nic_queue.h says the value form):
 *
 *   rps-cpus      queues/rx-N/rps_cpus       which CPUs RPS hands RX queue N's
 *                                            packets to (hex mask, 0: off)
 *   xps-cpus      queues/tx-N/xps_cpus       which CPUs transmit on TX queue N
 *   rps-flow-cnt  queues/rx-N/rps_flow_cnt   RFS flow table size of RX queue N
 *                                            (0 or a power of two: the
 *                                            kernel rounds up otherwise)
 *
 * The files are the only interface the kernel has for these (no netlink).
 * /sys shows the devices of the network namespace it was mounted in, not
 * of the caller's, so with --netns a sysfs of the caller's namespace is
 * made with fsopen()/fsmount(): a detached mount that no mount table
 * shows and that goes away with its last descriptor.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mount.h>

#include "nic_queue.h"
#include "sysctl.h"
#include "util.h"

#define NICQ_MAX_QUEUES	128
#define NICQ_VAL	72	/* one queue's canonical value */
#define NICQ_FLOWS_MAX	(1u << 30)

struct qvals {
	bool all;		/* one value for every queue: v[0] */
	int n;
	int q[NICQ_MAX_QUEUES];
	char v[NICQ_MAX_QUEUES][NICQ_VAL];
};

static const struct {
	enum tune_kind kind;
	const char *dir;	/* "rx" or "tx" */
	const char *file;
} qfiles[] = {
	{ TK_RPS_CPUS, "rx", "rps_cpus" },
	{ TK_XPS_CPUS, "tx", "xps_cpus" },
	{ TK_RPS_FLOW_CNT, "rx", "rps_flow_cnt" },
};

static int qfile_of(enum tune_kind k)
{
	for (size_t i = 0; i < ARRAY_SIZE(qfiles); i++)
		if (qfiles[i].kind == k)
			return (int)i;
	return -1;
}

bool nicq_kind(enum tune_kind k)
{
	return qfile_of(k) >= 0;
}

/* ---- values ---- */

static int mask_norm(const char *in, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (c == ',')
			continue;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return -EINVAL;
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!o && c == '0')
			continue;	/* leading zeros */
		if (o + 1 >= len)
			return -E2BIG;
		out[o++] = c;
	}
	if (!o && n) {
		out[o++] = '0';
	}
	out[o] = '\0';
	return o ? 0 : -EINVAL;
}

static int flows_norm(const char *in, size_t n, char *out, size_t len)
{
	char buf[24];
	uint64_t v;

	if (!n || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, in, n);
	buf[n] = '\0';
	if (parse_u64(buf, 0, NICQ_FLOWS_MAX, &v) || (v & (v - 1)))
		return -EINVAL;
	snprintf(out, len, "%llu", (unsigned long long)v);
	return 0;
}

static int one_norm(enum tune_kind k, const char *in, size_t n, char *out, size_t len)
{
	return k == TK_RPS_FLOW_CNT ? flows_norm(in, n, out, len) : mask_norm(in, n, out, len);
}

static const char *what_of(enum tune_kind k)
{
	return k == TK_RPS_FLOW_CNT ? "0 or a power of two up to 1073741824 (the kernel rounds "
		"other counts up)" : "a hexadecimal CPU mask";
}

/* "V" or "Q=V Q=V ..." into q; err says what is wrong. */
static int qv_parse(enum tune_kind k, const char *s, struct qvals *q, char *err, size_t errlen)
{
	memset(q, 0, sizeof(*q));
	if (!strchr(s, '=')) {
		q->all = true;
		q->n = 1;
		if (one_norm(k, s, strlen(s), q->v[0], NICQ_VAL)) {
			snprintf(err, errlen, "'%s' is not %s", s, what_of(k));
			return -EINVAL;
		}
		return 0;
	}
	while (*s) {
		const char *eq, *end;
		uint64_t idx;
		char num[16];

		while (*s == ' ')
			s++;
		if (!*s)
			break;
		end = strchr(s, ' ');
		if (!end)
			end = s + strlen(s);
		eq = memchr(s, '=', (size_t)(end - s));
		if (!eq || eq == s || (size_t)(eq - s) >= sizeof(num)) {
			snprintf(err, errlen, "'%.*s' is not QUEUE=VALUE", (int)(end - s), s);
			return -EINVAL;
		}
		snprintf(num, sizeof(num), "%.*s", (int)(eq - s), s);
		if (parse_u64(num, 0, 65535, &idx)) {
			snprintf(err, errlen, "queue '%s' is not a queue number", num);
			return -EINVAL;
		}
		for (int i = 0; i < q->n; i++) {
			if (q->q[i] == (int)idx) {
				snprintf(err, errlen, "queue %d is given twice", (int)idx);
				return -EINVAL;
			}
		}
		if (q->n >= NICQ_MAX_QUEUES) {
			snprintf(err, errlen, "more than %d queues", NICQ_MAX_QUEUES);
			return -E2BIG;
		}
		q->q[q->n] = (int)idx;
		if (one_norm(k, eq + 1, (size_t)(end - eq - 1), q->v[q->n], NICQ_VAL)) {
			snprintf(err, errlen, "queue %d: '%.*s' is not %s", (int)idx, (int)(end - eq - 1),
				 eq + 1, what_of(k));
			return -EINVAL;
		}
		q->n++;
		s = end;
	}
	if (!q->n) {
		snprintf(err, errlen, "empty value");
		return -EINVAL;
	}
	return 0;
}

/* The compact form: one value when every queue has it. */
static int qv_format(const struct qvals *q, char *buf, size_t len)
{
	bool same = q->n > 0;
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 1; i < q->n && same; i++)
		same = !strcmp(q->v[i], q->v[0]);
	if (q->all || same) {
		if (!q->n)
			return -ENOENT;
		return snprintf(buf, len, "%s", q->v[0]) >= (int)len ? -E2BIG : 0;
	}
	for (int i = 0; i < q->n; i++)
		if (str_appendf(buf, len, &off, "%s%d=%s", i ? " " : "", q->q[i], q->v[i]))
			return -E2BIG;
	return 0;
}

int nicq_value_norm(enum tune_kind k, const char *in, char *out, size_t len, char *err,
		    size_t errlen)
{
	struct qvals *q = calloc(1, sizeof(*q));
	size_t off = 0;
	int e;

	if (!q)
		return -ENOMEM;
	e = qv_parse(k, in, q, err, errlen);
	/* as written (not compacted: "0=3 1=3" names two queues only) */
	for (int i = 0; !e && i < q->n; i++) {
		if (q->all)
			e = str_appendf(out, len, &off, "%s", q->v[0]);
		else
			e = str_appendf(out, len, &off, "%s%d=%s", i ? " " : "", q->q[i], q->v[i]);
		if (e) {
			snprintf(err, errlen, "value too long");
			e = -EINVAL;
		}
	}
	free(q);
	return e;
}

int nicq_mask_top_cpu(const char *mask)
{
	size_t n = strlen(mask);
	int d, bit = -1;

	if (!n || !strcmp(mask, "0"))
		return -1;
	d = mask[0] <= '9' ? mask[0] - '0' : mask[0] - 'a' + 10;
	for (int b = 0; b < 4; b++)
		if (d & (1 << b))
			bit = b;
	return (int)(n - 1) * 4 + bit;
}

int nicq_ncpus(void)
{
	char buf[256];
	const char *p;
	long n;

	if (read_file("/sys/devices/system/cpu/possible", buf, sizeof(buf)) <= 0) {
		n = sysconf(_SC_NPROCESSORS_CONF);
		return n > 0 ? (int)n : 1;
	}
	/* "0-3" or "0,2-5": the last number is the highest CPU */
	strtrim(buf);
	p = strrchr(buf, '-');
	if (!p || strrchr(buf, ',') > p)
		p = strrchr(buf, ',');
	n = strtol(p ? p + 1 : buf, NULL, 10);
	return n >= 0 ? (int)n + 1 : 1;
}

/* ---- sysfs ---- */

int nicq_sysfs_open(int *fd, char *err, size_t errlen)
{
	int fs, mnt;

	*fd = -1;
	fs = (int)syscall(SYS_fsopen, "sysfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		goto fallback;
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		close(fs);
		goto fallback;
	}
	mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			   MOUNT_ATTR_NOEXEC);
	close(fs);
	if (mnt < 0)
		goto fallback;
	*fd = mnt;
	return 0;
fallback:
	/* Without the new mount API, the host's /sys is right only for the
	 * namespace it shows: the initial one. */
	if (netns_is_initial()) {
		*fd = open("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (*fd >= 0)
			return 0;
	}
	snprintf(err, errlen, "cannot mount a sysfs for this network namespace (%s); the queue "
		 "settings need fsopen(2) and CAP_SYS_ADMIN", strerror(errno));
	return -EOPNOTSUPP;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The queue indices of one direction, ascending. */
static int list_queues(int sysfs, const char *ifname, const char *dir, int *q, int *n,
		       char *err, size_t errlen)
{
	char path[128];
	struct dirent *d;
	DIR *dp;
	int fd;

	*n = 0;
	snprintf(path, sizeof(path), "class/net/%s/queues", ifname);
	fd = openat(sysfs, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(path, sizeof(path), "class/net/%s", ifname);
		if (faccessat(sysfs, path, F_OK, 0)) {
			snprintf(err, errlen, "%s: no such interface in this network namespace", ifname);
			return -ENODEV;
		}
		snprintf(err, errlen, "%s: the device has no queues in sysfs", ifname);
		return -EOPNOTSUPP;
	}
	dp = fdopendir(fd);
	if (!dp) {
		close(fd);
		return -errno;
	}
	while ((d = readdir(dp))) {
		size_t l = strlen(dir);
		uint64_t v;

		if (strncmp(d->d_name, dir, l) || d->d_name[l] != '-' ||
		    parse_u64(d->d_name + l + 1, 0, 65535, &v))
			continue;
		if (*n >= NICQ_MAX_QUEUES) {
			closedir(dp);
			snprintf(err, errlen, "%s: more than %d %s queues", ifname, NICQ_MAX_QUEUES, dir);
			return -E2BIG;
		}
		q[(*n)++] = (int)v;
	}
	closedir(dp);
	qsort(q, (size_t)*n, sizeof(*q), cmp_int);
	return 0;
}

static void qpath(char *buf, size_t len, const char *ifname, int f, int q)
{
	snprintf(buf, len, "class/net/%s/queues/%s-%d/%s", ifname, qfiles[f].dir, q, qfiles[f].file);
}

static int read_one(int sysfs, const char *ifname, int f, int q, char *out, char *err,
		    size_t errlen)
{
	char path[128], buf[4096];
	ssize_t r;
	int fd, e;

	qpath(path, sizeof(path), ifname, f, q);
	fd = openat(sysfs, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "%s: %s not supported by this device (%s: %s)", ifname,
			 tune_kind_name(qfiles[f].kind), path + strlen("class/net/"), strerror(-e));
		return e == -ENOENT ? -EOPNOTSUPP : e;
	}
	r = read(fd, buf, sizeof(buf) - 1);
	e = r < 0 ? -errno : 0;
	close(fd);
	if (r <= 0) {
		snprintf(err, errlen, "%s: reading %s: %s", ifname, path + strlen("class/net/"),
			 r < 0 ? strerror(-e) : "empty");
		/* xps_cpus of a single-queue device: the kernel says ENOENT */
		return e == -ENOENT ? -EOPNOTSUPP : e ? e : -EIO;
	}
	buf[r] = '\0';
	strtrim(buf);
	if (one_norm(qfiles[f].kind, buf, strlen(buf), out, NICQ_VAL)) {
		snprintf(err, errlen, "%s: %s reads '%.64s', not %s", ifname, path + strlen("class/net/"),
			 buf, what_of(qfiles[f].kind));
		return -EIO;
	}
	return 0;
}

/* Every queue's value now. */
static int read_all(int sysfs, const struct tune_item *it, struct qvals *q, char *err,
		    size_t errlen)
{
	int f = qfile_of(it->kind), e;

	memset(q, 0, sizeof(*q));
	e = list_queues(sysfs, it->ifname, qfiles[f].dir, q->q, &q->n, err, errlen);
	if (e)
		return e;
	if (!q->n) {
		snprintf(err, errlen, "%s: %s not supported by this device (no %s queues in sysfs)",
			 it->ifname, tune_kind_name(it->kind), qfiles[f].dir);
		return -EOPNOTSUPP;
	}
	for (int i = 0; i < q->n; i++) {
		e = read_one(sysfs, it->ifname, f, q->q[i], q->v[i], err, errlen);
		if (e)
			return e;
	}
	return 0;
}

int nicq_read(int sysfs, const struct tune_item *it, char *buf, size_t len, char *err,
	      size_t errlen)
{
	struct qvals *q = calloc(1, sizeof(*q));
	int e;

	if (!q)
		return -ENOMEM;
	e = read_all(sysfs, it, q, err, errlen);
	if (!e && qv_format(q, buf, len)) {
		snprintf(err, errlen, "%s %s: %d queues' values do not fit the journal's value size",
			 it->ifname, tune_kind_name(it->kind), q->n);
		e = -E2BIG;
	}
	free(q);
	return e;
}

static int find_q(const struct qvals *q, int idx)
{
	for (int i = 0; i < q->n; i++)
		if (q->q[i] == idx)
			return i;
	return -1;
}

/* want over now: what every queue will have.  -ERANGE naming a queue the
 * device does not have. */
static int merge(const struct tune_item *it, struct qvals *now, const struct qvals *want,
		 char *err, size_t errlen)
{
	for (int i = 0; i < want->n; i++) {
		int k;

		if (want->all) {
			for (k = 0; k < now->n; k++)
				snprintf(now->v[k], NICQ_VAL, "%s", want->v[0]);
			break;
		}
		k = find_q(now, want->q[i]);
		if (k < 0) {
			snprintf(err, errlen, "%s %s: the device has no %s queue %d (it has %d)", it->ifname,
				 tune_kind_name(it->kind), qfiles[qfile_of(it->kind)].dir, want->q[i],
				 now->n);
			return -ERANGE;
		}
		snprintf(now->v[k], NICQ_VAL, "%s", want->v[i]);
	}
	return 0;
}

/* val over what the queues have now: into now what every queue will
 * have (want: val parsed).  -ENOMEM when either could not be allocated. */
static int merged(int sysfs, const struct tune_item *it, const char *val, struct qvals *now,
		  struct qvals *want, char *err, size_t errlen)
{
	char why[160];
	int e;

	if (!now || !want)
		return -ENOMEM;
	e = qv_parse(it->kind, val, want, why, sizeof(why));
	if (e) {
		snprintf(err, errlen, "%s %s: %s", it->ifname, tune_kind_name(it->kind), why);
		return e;
	}
	e = read_all(sysfs, it, now, err, errlen);
	return e ? e : merge(it, now, want, err, errlen);
}

int nicq_check(int sysfs, const struct tune_item *it, char *err, size_t errlen)
{
	struct qvals *now = calloc(1, sizeof(*now)), *want = calloc(1, sizeof(*want));
	char why[160];
	int e, ncpus = nicq_ncpus();

	if (!now || !want) {
		e = -ENOMEM;
		goto out;
	}
	e = qv_parse(it->kind, it->value, want, why, sizeof(why));
	if (e) {
		snprintf(err, errlen, "%s %s: %s", it->ifname, tune_kind_name(it->kind), why);
		e = -EINVAL;
		goto out;
	}
	for (int i = 0; it->kind != TK_RPS_FLOW_CNT && i < want->n; i++) {
		int top = nicq_mask_top_cpu(want->v[i]);

		if (top >= ncpus) {
			snprintf(err, errlen, "%s %s: mask '%s' names CPU %d; this host has CPUs 0-%d",
				 it->ifname, tune_kind_name(it->kind), want->v[i], top, ncpus - 1);
			e = -ERANGE;
			goto out;
		}
	}
	e = read_all(sysfs, it, now, err, errlen);
	if (!e)
		e = merge(it, now, want, err, errlen);
out:
	free(now);
	free(want);
	return e;
}

int nicq_target(int sysfs, const struct tune_item *it, char *out, size_t len, char *err,
		size_t errlen)
{
	struct qvals *now = calloc(1, sizeof(*now)), *want = calloc(1, sizeof(*want));
	int e = merged(sysfs, it, it->value, now, want, err, errlen);

	if (!e && qv_format(now, out, len)) {
		snprintf(err, errlen, "%s %s: the queues' values do not fit the journal's value size",
			 it->ifname, tune_kind_name(it->kind));
		e = -E2BIG;
	}
	free(now);
	free(want);
	return e;
}

static int write_one(int sysfs, const struct tune_item *it, int f, int q, const char *v,
		     char *err, size_t errlen)
{
	char path[128];
	ssize_t w;
	int fd, e;

	qpath(path, sizeof(path), it->ifname, f, q);
	fd = openat(sysfs, path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "%s %s: %s: %s", it->ifname, tune_kind_name(it->kind),
			 path + strlen("class/net/"), strerror(-e));
		return e;
	}
	w = write(fd, v, strlen(v));
	e = w < 0 ? -errno : (size_t)w != strlen(v) ? -EIO : 0;
	close(fd);
	if (e)
		snprintf(err, errlen, "%s %s: queue %s-%d = %s: the kernel refused it: %s", it->ifname,
			 tune_kind_name(it->kind), qfiles[f].dir, q, v, strerror(-e));
	return e;
}

/* Write every queue the value names (all of them for one value), then
 * read them back: the kernel may take less than asked (an RPS mask is
 * cut to the housekeeping CPUs). */
int nicq_write(int sysfs, const struct tune_item *it, const char *val, char *err, size_t errlen)
{
	struct qvals *now = calloc(1, sizeof(*now)), *want = calloc(1, sizeof(*want));
	int f = qfile_of(it->kind), e = merged(sysfs, it, val, now, want, err, errlen);
	char got[NICQ_VAL];

	for (int i = 0; !e && i < now->n; i++)
		e = write_one(sysfs, it, f, now->q[i], now->v[i], err, errlen);
	for (int i = 0; !e && i < now->n; i++) {
		e = read_one(sysfs, it->ifname, f, now->q[i], got, err, errlen);
		if (!e && strcmp(got, now->v[i])) {
			snprintf(err, errlen, "%s %s: queue %s-%d did not take %s (it reads %s)", it->ifname,
				 tune_kind_name(it->kind), qfiles[f].dir, now->q[i], now->v[i], got);
			e = -EIO;
		}
	}
	free(now);
	free(want);
	return e;
}
