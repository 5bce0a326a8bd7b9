// SPDX-License-Identifier: GPL-2.0-only
/*
 * bypass learning, the userspace half: the learned-ports table
 * (bypass_learned, filled by bpf/bypass.bpf.c) read for status and
 * metrics, emptied port by port (`bypass forget`), and carried across
 * detach and attach in the state dir.
 *
 * The state file is one versioned record per port, written atomically:
 *
 *   accelctl-bypass-learned 1
 *   boot_id 0b5d...
 *   port netns=4096 port=6379 verdict=event_driven conns=8 reopened=0 since_ns=... last_ns=... listener=...
 *
 * Netns cookies and boot-time stamps mean nothing after a reboot, so a
 * file of another boot is refused, as is anything malformed: learning
 * starts over, which is always safe.  What is restored is re-validated
 * (ACCEL_BYPASS_LF_RESTORED): an event-driven port learns again with all
 * but one connection of evidence, so one fresh connection that reads
 * nonblocking confirms it and one blocking read settles it on the stack.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bypass.h"
#include "log.h"
#include "util.h"

#define LEARN_FILE	"bypass-learned"
#define LEARN_MAGIC	"accelctl-bypass-learned 1"

static const char *const verdict_names[] = {
	[ACCEL_BYPASS_V_LEARNING] = "learning",
	[ACCEL_BYPASS_V_EVENT] = "event_driven",
	[ACCEL_BYPASS_V_BLOCKING] = "blocking",
	[ACCEL_BYPASS_V_SPLICE] = "splice",
};
_Static_assert(ARRAY_SIZE(verdict_names) == ACCEL_BYPASS_V_COUNT, "a name for every verdict");

const char *bypass_learned_verdict_name(uint32_t v)
{
	return v < ACCEL_BYPASS_V_COUNT ? verdict_names[v] : "unknown";
}

static int verdict_parse(const char *s)
{
	for (int i = 0; i < ACCEL_BYPASS_V_COUNT; i++)
		if (!strcmp(s, verdict_names[i]))
			return i;
	return -1;
}

/* The tracepoints learning observes with, in this kernel's BTF. */
int bypass_learn_probe(char *why, size_t len)
{
	static const char *const tps[] = { "btf_trace_sock_recv_length" };
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int err = 0;

	if (!vmlinux) {
		snprintf(why, len, "no kernel BTF (/sys/kernel/btf/vmlinux): the observation tracepoints cannot be attached");
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tps) && !err; i++) {
		if (btf__find_by_name_kind(vmlinux, tps[i], BTF_KIND_TYPEDEF) < 0) {
			snprintf(why, len, "the kernel has no %s tracepoint (Linux 6.3+ for sock_recv_length)",
				 tps[i] + strlen("btf_trace_"));
			err = -EOPNOTSUPP;
		}
	}
	btf__free(vmlinux);
	return err;
}

static int lp_cmp(const void *a, const void *b)
{
	const struct learned_port *x = a, *y = b;

	if (x->k.port != y->k.port)
		return x->k.port < y->k.port ? -1 : 1;
	return x->k.netns_cookie < y->k.netns_cookie ? -1 : x->k.netns_cookie > y->k.netns_cookie;
}

int bypass_learn_list(int fd, struct learned_port *lp, int max, bool *truncated)
{
	struct accel_bypass_port_key k, next;
	void *prev = NULL;
	int n = 0;

	*truncated = false;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (n == max) {
			*truncated = true;
			break;
		}
		if (bpf_map_lookup_elem(fd, &k, &lp[n].v))
			continue;	/* deleted meanwhile */
		lp[n++].k = k;
	}
	qsort(lp, (size_t)n, sizeof(*lp), lp_cmp);
	return n;
}

static int boot_id(char *buf, size_t len)
{
	int n = read_file("/proc/sys/kernel/random/boot_id", buf, len);

	if (n < 0)
		return n;
	strtrim(buf);
	return buf[0] ? 0 : -EINVAL;
}

int bypass_learn_format(const struct learned_port *lp, int n, const char *boot, char *buf, size_t len)
{
	size_t off = 0;
	int err;

	buf[0] = '\0';
	err = str_appendf(buf, len, &off, "%s\nboot_id %s\n", LEARN_MAGIC, boot);
	for (int i = 0; i < n && !err; i++)
		err = str_appendf(buf, len, &off,
				  "port netns=%llu port=%u verdict=%s conns=%u reopened=%u since_ns=%llu last_ns=%llu listener=%llu\n",
				  (unsigned long long)lp[i].k.netns_cookie, lp[i].k.port,
				  bypass_learned_verdict_name(lp[i].v.verdict), lp[i].v.conns, lp[i].v.reopened,
				  (unsigned long long)lp[i].v.since_ns, (unsigned long long)lp[i].v.last_ns,
				  (unsigned long long)lp[i].v.listener_cookie);
	return err ? err : (int)off;
}

/* One "key=value" field of a port line into *out; -EINVAL when it is not
 * that key, or not a number in range. */
static int field_u64(char **save, const char *key, uint64_t max, uint64_t *out)
{
	char *tok = strtok_r(NULL, " ", save), *eq;

	if (!tok || !(eq = strchr(tok, '=')))
		return -EINVAL;
	*eq++ = '\0';
	if (strcmp(tok, key))
		return -EINVAL;
	return parse_u64(eq, 0, max, out) ? -EINVAL : 0;
}

int bypass_learn_parse(char *text, const char *boot, struct learned_port *lp, int max,
		       char *err, size_t errlen)
{
	char *save = NULL, *line, *ls;
	int n = 0, lineno = 0;

	line = strtok_r(text, "\n", &save);
	if (!line || strcmp(line, LEARN_MAGIC)) {
		snprintf(err, errlen, "not an accelctl learned-ports file (first line is not '%s')", LEARN_MAGIC);
		return -EINVAL;
	}
	line = strtok_r(NULL, "\n", &save);
	if (!line || strncmp(line, "boot_id ", 8)) {
		snprintf(err, errlen, "line 2: no boot_id");
		return -EINVAL;
	}
	if (strcmp(line + 8, boot)) {
		snprintf(err, errlen, "written during another boot (%s): its namespaces are gone", line + 8);
		return -ESTALE;
	}
	lineno = 2;
	while ((line = strtok_r(NULL, "\n", &save))) {
		uint64_t netns, port, conns, reopened, since, last, listener;
		char *tok, *eq;
		int v;

		lineno++;
		ls = NULL;
		tok = strtok_r(line, " ", &ls);
		if (!tok || strcmp(tok, "port") || field_u64(&ls, "netns", UINT64_MAX, &netns) ||
		    field_u64(&ls, "port", 65535, &port) || !(tok = strtok_r(NULL, " ", &ls)) ||
		    !(eq = strchr(tok, '=')) || (*eq++ = '\0', strcmp(tok, "verdict")) ||
		    (v = verdict_parse(eq)) < 0 || field_u64(&ls, "conns", UINT32_MAX, &conns) ||
		    field_u64(&ls, "reopened", UINT32_MAX, &reopened) ||
		    field_u64(&ls, "since_ns", UINT64_MAX, &since) ||
		    field_u64(&ls, "last_ns", UINT64_MAX, &last) ||
		    field_u64(&ls, "listener", UINT64_MAX, &listener) || strtok_r(NULL, " ", &ls) ||
		    !netns || !port) {
			snprintf(err, errlen, "line %d: not a port record", lineno);
			return -EINVAL;
		}
		if (n == max) {
			snprintf(err, errlen, "more than %d ports", max);
			return -E2BIG;
		}
		lp[n].k = (struct accel_bypass_port_key){ .netns_cookie = netns, .port = (uint16_t)port };
		lp[n].v = (struct accel_bypass_learned){
			.verdict = (uint32_t)v, .conns = (uint32_t)conns, .reopened = (uint32_t)reopened,
			.since_ns = since, .last_ns = last, .listener_cookie = listener,
		};
		n++;
	}
	return n;
}

static int learn_path(const char *state_dir, char *buf, size_t len)
{
	return path_join(buf, len, state_dir, LEARN_FILE);
}

int bypass_learn_save(int fd, const char *state_dir)
{
	static struct learned_port lp[ACCEL_BYPASS_LEARN_PORTS];
	static char buf[ACCEL_BYPASS_LEARN_PORTS * 192 + 128];
	char path[PATH_MAX], boot[64];
	bool truncated;
	int n, m = 0, len, err;

	err = boot_id(boot, sizeof(boot));
	if (err)
		return err;
	n = bypass_learn_list(fd, lp, ARRAY_SIZE(lp), &truncated);
	/* a port seen but not learned yet is nothing to keep */
	for (int i = 0; i < n; i++)
		if (lp[i].v.verdict != ACCEL_BYPASS_V_LEARNING || lp[i].v.conns)
			lp[m++] = lp[i];
	err = learn_path(state_dir, path, sizeof(path));
	if (err)
		return err;
	if (!m) {
		if (unlink(path) && errno != ENOENT)
			return -errno;
		return 0;
	}
	n = m;
	len = bypass_learn_format(lp, n, boot, buf, sizeof(buf));
	if (len < 0)
		return len;
	err = mkdir_p(state_dir, 0700);
	if (!err)
		err = write_file_atomic(path, buf, (size_t)len, 0600);
	if (!err)
		pr_debug("bypass: saved %d learned ports to %s\n", n, path);
	return err;
}

int bypass_learn_restore(int fd, const char *state_dir, unsigned int learn_conns)
{
	static struct learned_port lp[ACCEL_BYPASS_LEARN_PORTS];
	static char buf[ACCEL_BYPASS_LEARN_PORTS * 192 + 128];
	char path[PATH_MAX], boot[64], err[256];
	int n, kept = 0;

	if (learn_path(state_dir, path, sizeof(path)) || boot_id(boot, sizeof(boot)))
		return 0;
	n = read_file(path, buf, sizeof(buf));
	if (n == -ENOENT)
		return 0;
	if (n < 0) {
		pr_warn("bypass: cannot read %s: %s; learning starts over\n", path, strerror(-n));
		return 0;
	}
	n = bypass_learn_parse(buf, boot, lp, ARRAY_SIZE(lp), err, sizeof(err));
	if (n < 0) {
		pr_warn("bypass: ignoring %s: %s; learning starts over (the file is replaced at detach)\n",
			path, err);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		struct accel_bypass_learned *v = &lp[i].v;

		if (v->verdict == ACCEL_BYPASS_V_LEARNING && !v->conns)
			continue;	/* nothing learned yet */
		if (v->verdict == ACCEL_BYPASS_V_EVENT) {
			v->verdict = ACCEL_BYPASS_V_LEARNING;
			v->conns = learn_conns ? learn_conns - 1 : 0;
			v->flags = ACCEL_BYPASS_LF_RESTORED;
			v->last_ns = 0;		/* no window: the evidence is the file's */
		}
		if (!bpf_map_update_elem(fd, &lp[i].k, v, BPF_NOEXIST))
			kept++;
	}
	pr_debug("bypass: restored %d of %d learned ports from %s\n", kept, n, path);
	return kept;
}

int bypass_learn_forget(int fd, uint16_t port, uint64_t netns_cookie)
{
	struct accel_bypass_port_key k, next;
	void *prev = NULL;
	int n = 0;

	/* collect first: deleting while walking restarts the walk */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (k.port != port || (netns_cookie && k.netns_cookie != netns_cookie))
			continue;
		if (!bpf_map_delete_elem(fd, &k)) {
			n++;
			prev = NULL;
		}
	}
	return n;
}

void bypass_learn_forget_file(const char *state_dir, uint16_t port, uint64_t netns_cookie)
{
	static struct learned_port lp[ACCEL_BYPASS_LEARN_PORTS];
	static char buf[ACCEL_BYPASS_LEARN_PORTS * 192 + 128];
	char path[PATH_MAX], boot[64], err[256];
	int n, m = 0, len;

	if (learn_path(state_dir, path, sizeof(path)) || boot_id(boot, sizeof(boot)))
		return;
	n = read_file(path, buf, sizeof(buf));
	if (n < 0)
		return;
	n = bypass_learn_parse(buf, boot, lp, ARRAY_SIZE(lp), err, sizeof(err));
	if (n < 0)
		return;
	for (int i = 0; i < n; i++)
		if (lp[i].k.port != port || (netns_cookie && lp[i].k.netns_cookie != netns_cookie))
			lp[m++] = lp[i];
	len = bypass_learn_format(lp, m, boot, buf, sizeof(buf));
	if (len >= 0)
		(void)write_file_atomic(path, buf, (size_t)len, 0600);
}
