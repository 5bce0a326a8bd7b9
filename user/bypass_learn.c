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
 * starts over, which is always safe.  The header and the typed fields of
 * a port line are user/state.c's; the line syntax stays version 1's.  What is restored is re-validated
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
#include "state.h"
#include "util.h"

#define LEARN_FILE	"bypass-learned"
#define LEARN_MAGIC	"accelctl-bypass-learned 1"
/* what bypass_learn_format() can write for a full table */
#define LEARN_FILE_MAX	(ACCEL_BYPASS_LEARN_PORTS * 192 + 128)

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

/* The fields of a port line, in the order they are written. */
#define LP_U64(k, m, lo, hi) STATE_F_U64(k, struct learned_port, m, STATE_REQUIRED, lo, hi)
static const struct state_field port_fields[] = {
	LP_U64("netns", k.netns_cookie, 1, 0),
	LP_U64("port", k.port, 1, 65535),
	STATE_F_ENUM("verdict", struct learned_port, v.verdict, STATE_REQUIRED, verdict_names),
	LP_U64("conns", v.conns, 0, 0),
	LP_U64("reopened", v.reopened, 0, 0),
	LP_U64("since_ns", v.since_ns, 0, 0),
	LP_U64("last_ns", v.last_ns, 0, 0),
	LP_U64("listener", v.listener_cookie, 0, 0),
};

int bypass_learn_format(const struct learned_port *lp, int n, const char *boot, char *buf, size_t len)
{
	size_t off = 0;
	int err;

	buf[0] = '\0';
	err = str_appendf(buf, len, &off, "%s\nboot_id %s\n", LEARN_MAGIC, boot);
	for (int i = 0; i < n && !err; i++) {
		err = str_appendf(buf, len, &off, "port");
		for (size_t f = 0; f < ARRAY_SIZE(port_fields) && !err; f++) {
			char v[32];

			err = state_value_format(&port_fields[f], &lp[i], v, sizeof(v)) < 0 ? -EINVAL :
			      str_appendf(buf, len, &off, " %s=%s", port_fields[f].key, v);
		}
		if (!err)
			err = str_appendf(buf, len, &off, "\n");
	}
	return err ? err : (int)off;
}

/* "port netns=N port=N verdict=NAME ...": every field, in order, nothing
 * else; 0 or -EINVAL with the detail in err. */
static int parse_port(char *line, struct learned_port *lp, struct state_err *err)
{
	char *save = NULL, *tok = strtok_r(line, " ", &save);

	memset(lp, 0, sizeof(*lp));
	if (!tok || strcmp(tok, "port"))
		return state_fail(err, 0, "it does not begin with 'port'");
	for (size_t f = 0; f < ARRAY_SIZE(port_fields); f++) {
		char *eq;

		tok = strtok_r(NULL, " ", &save);
		if (!tok)
			return state_fail(err, 0, "no %s=", port_fields[f].key);
		eq = strchr(tok, '=');
		if (!eq || (size_t)(eq - tok) != strlen(port_fields[f].key) ||
		    strncmp(tok, port_fields[f].key, (size_t)(eq - tok)))
			return state_fail(err, 0, "'%.32s' where %s= belongs", tok, port_fields[f].key);
		if (state_value_parse(&port_fields[f], lp, eq + 1, 0, err))
			return -EINVAL;
	}
	tok = strtok_r(NULL, " ", &save);
	if (tok)
		return state_fail(err, 0, "unexpected '%.32s'", tok);
	return 0;
}

/* The header and boot_id lines; the port lines start at *rest. */
static int parse_head(char *text, const char *boot, char **rest, char *err, size_t errlen)
{
	char *nl = strchr(text, '\n'), *line;
	struct state_err serr;
	unsigned int version;

	if (!*text || text[strlen(text) - 1] != '\n') {
		snprintf(err, errlen, "not an accelctl learned-ports file (%s)",
			 *text ? "truncated: the last line has no newline" : "empty");
		return -EINVAL;
	}
	*nl = '\0';
	if (state_header("bypass-learned", 1, text, false, &version, &serr)) {
		snprintf(err, errlen, "not an accelctl learned-ports file: %s", serr.msg);
		return -EINVAL;
	}
	line = nl + 1;
	nl = strchr(line, '\n');
	if (!nl || strncmp(line, "boot_id ", 8)) {
		snprintf(err, errlen, "line 2: no boot_id");
		return -EINVAL;
	}
	*nl = '\0';
	if (strcmp(line + 8, boot)) {
		snprintf(err, errlen, "written during another boot (%.64s): its namespaces are gone", line + 8);
		return -ESTALE;
	}
	*rest = nl + 1;
	return 0;
}

int bypass_learn_parse(char *text, const char *boot, struct learned_port *lp, int max,
		       char *err, size_t errlen)
{
	char *line, *nl;
	int n = 0, lineno = 2, e;

	e = parse_head(text, boot, &line, err, errlen);
	if (e)
		return e;
	for (; *line; line = nl + 1) {
		struct learned_port one;
		struct state_err serr;

		nl = strchr(line, '\n');
		*nl = '\0';
		lineno++;
		if (parse_port(line, &one, &serr)) {
			snprintf(err, errlen, "line %d: not a port record (%s)", lineno, serr.msg);
			return -EINVAL;
		}
		if (n == max) {
			snprintf(err, errlen, "more than %d ports", max);
			return -E2BIG;
		}
		lp[n++] = one;
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
	static char buf[LEARN_FILE_MAX];
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
		err = state_write_file(path, buf, (size_t)len);
	if (!err)
		pr_debug("bypass: saved %d learned ports to %s\n", n, path);
	return err;
}

/* The file as ports: their count, -ENOENT, -errno of the read (said
 * in err, empty) or of the parse (the reason in err). */
static int learn_load(const char *path, const char *boot, struct learned_port *lp, int max,
		      char *err, size_t errlen)
{
	char *text;
	ssize_t len = state_slurp(path, LEARN_FILE_MAX, &text);
	int n;

	err[0] = '\0';
	if (len < 0 || !text)
		return len < 0 ? (int)len : -EIO;
	n = bypass_learn_parse(text, boot, lp, max, err, errlen);
	free(text);
	return n;
}

int bypass_learn_restore(int fd, const char *state_dir, unsigned int learn_conns)
{
	static struct learned_port lp[ACCEL_BYPASS_LEARN_PORTS];
	char path[PATH_MAX], boot[64], err[256];
	int n, kept = 0;

	if (learn_path(state_dir, path, sizeof(path)) || boot_id(boot, sizeof(boot)))
		return 0;
	n = learn_load(path, boot, lp, ARRAY_SIZE(lp), err, sizeof(err));
	if (n == -ENOENT)
		return 0;
	if (n < 0 && !err[0]) {
		pr_warn("bypass: cannot read %s: %s; learning starts over\n", path, state_strerror(n));
		return 0;
	}
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
	static char buf[LEARN_FILE_MAX];
	char path[PATH_MAX], boot[64], err[256];
	int n, m = 0, len;

	if (learn_path(state_dir, path, sizeof(path)) || boot_id(boot, sizeof(boot)))
		return;
	n = learn_load(path, boot, lp, ARRAY_SIZE(lp), err, sizeof(err));
	if (n < 0)
		return;
	for (int i = 0; i < n; i++)
		if (lp[i].k.port != port || (netns_cookie && lp[i].k.netns_cookie != netns_cookie))
			lp[m++] = lp[i];
	len = bypass_learn_format(lp, m, boot, buf, sizeof(buf));
	if (len >= 0)
		(void)state_write_file(path, buf, (size_t)len);
}
