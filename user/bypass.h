/* SPDX-License-Identifier: GPL-2.0-only */
/* bypass: runtime control and the pieces tests reuse. */
#ifndef ACCEL_BYPASS_H
#define ACCEL_BYPASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accel.h"
#include "accel_abi.h"

/* What the attached bypass does with a listening port of the namespace
 * accelctl operates in (doctor's bypass-servers check). */
enum bypass_port_state {
	BPS_ACCELERATED,		/* new connections are accelerated */
	BPS_LEARNING,			/* observed; accelerated after learn_conns */
	BPS_BLOCKING,			/* learned: blocking reads */
	BPS_SPLICE,			/* learned: splice reads */
	BPS_EXCLUDED,			/* --exclude-ports */
	BPS_NOT_LISTED,			/* --ports given without it */
	BPS_NOT_DECLARED,		/* restricted, no learning, not --event-ports */
	BPS_EVENT_PORT_BLOCKING,	/* --event-ports, but its server was caught blocking */
	BPS_OFF,			/* `bypass off` or draining */
};
struct bypass_port_view {
	enum bypass_port_state state;
	unsigned int seen, need;	/* learning: connections observed, needed */
};
/* 0, or -ENOENT when no bypass is attached (-errno on other failures). */
int bypass_port_view(const struct accel_ctx *ctx, uint16_t port, struct bypass_port_view *v);
const char *bypass_port_state_name(enum bypass_port_state s);

/* `accelctl bypass on|off|policy|selftest` */
int bypass_command(struct accel_ctx *ctx, const char *verb, const char *arg);

/*
 * The kernel self-test (user/bypass_selftest.c): one probe per sockmap
 * behaviour that differs from plain TCP, indexed by
 * enum accel_bypass_kernel_behaviour.  A probe's run() returns 1
 * (affected), 0 (behaves like TCP) or -errno (could not tell); detail
 * says what was seen.
 */
struct bypass_probe {
	const char *name;		/* "blocking_eagain": CLI, JSON, docs */
	const char *checks;		/* what a correct kernel does */
	const char *consequence;	/* one line for attach, when affected */
	/* control: the same steps on plain TCP sockets, no sockhash (must
	 * report 0 on any kernel; tests prove a probe can tell) */
	int (*run)(bool control, char *detail, size_t len);
	/* restricted mode does not avoid it: listing a port under
	 * --event-ports accepts the behaviour for that port */
	bool event_ports_accept;
};

extern const struct bypass_probe bypass_probes[ACCEL_BYPASS_KB_COUNT];

enum bypass_verdict {
	BYPASS_PROBE_OK = 0,
	BYPASS_PROBE_AFFECTED,
	BYPASS_PROBE_FAILED,		/* could not run */
};

struct bypass_probe_result {
	enum bypass_verdict verdict;
	int err;			/* -errno when FAILED */
	double ms;
	char detail[256];
};

struct bypass_selftest {
	struct bypass_probe_result r[ACCEL_BYPASS_KB_COUNT];
	uint32_t affected;		/* 1 << ACCEL_BYPASS_KB_*: found */
	uint32_t unchecked;		/* ... could not run */
	double ms;
};

/* Run every probe in the current network namespace; never fails (a probe
 * that cannot run is a result). */
void bypass_selftest_run(struct bypass_selftest *st);
/* The masks from the verdicts. */
void bypass_selftest_tally(struct bypass_selftest *st);
const char *bypass_verdict_name(enum bypass_verdict v);
/* "blocking_eagain, splice_misses" or "none" */
const char *bypass_kb_names(uint32_t mask, char *buf, size_t len);
/* "blocking_eagain: affected: <detail>" */
const char *bypass_selftest_line(const struct bypass_selftest *st, int i, char *buf, size_t len);
/* attach's explanation of restricted mode, "bypass: " lines (whole
 * lines only: what does not fit is left out); learn_conns 0: learning
 * off.  Returns its length, 0 when every probe ran and found nothing. */
size_t bypass_selftest_explain(const struct bypass_selftest *st, bool event_ports, unsigned int learn_conns,
			       char *buf, size_t len);

/* The probes, for tests. */
int bypass_probe_blocking_eagain(bool control, char *detail, size_t len);
int bypass_probe_close_unread_fin(bool control, char *detail, size_t len);
int bypass_probe_splice_misses(bool control, char *detail, size_t len);

/*
 * Learning (user/bypass_learn.c): the learned-ports table and its state
 * file.  fd is the pinned bypass_learned map.
 */
struct learned_port {
	struct accel_bypass_port_key k;
	struct accel_bypass_learned v;
};

/* "learning", "event_driven", "blocking", "splice" */
const char *bypass_learned_verdict_name(uint32_t v);
/* 0 when this kernel has the tracepoints learning observes with. */
int bypass_learn_probe(char *why, size_t len);
/* Up to max entries, by port then netns; *truncated when there were more. */
int bypass_learn_list(int fd, struct learned_port *lp, int max, bool *truncated);
/* The state file's text; bytes written or -ENOSPC. */
int bypass_learn_format(const struct learned_port *lp, int n, const char *boot_id, char *buf, size_t len);
/* Parse (text is modified) a state file written during boot boot_id:
 * entries, or -errno with a reason in err (nothing is trusted then). */
int bypass_learn_parse(char *text, const char *boot_id, struct learned_port *lp, int max,
		       char *err, size_t errlen);
/* Save the table to <state_dir>/bypass-learned (atomic). */
int bypass_learn_save(int fd, const char *state_dir);
/* Load the state file into the table, verdicts re-validated; returns the
 * entries restored (a bad file is reported and ignored: 0). */
int bypass_learn_restore(int fd, const char *state_dir, unsigned int learn_conns);
/* Drop a port's entries (every namespace when netns_cookie is 0), from
 * the table and from the state file; returns the entries dropped. */
int bypass_learn_forget(int fd, uint16_t port, uint64_t netns_cookie);
void bypass_learn_forget_file(const char *state_dir, uint16_t port, uint64_t netns_cookie);

/* Mirror a key (the peer's key of a socket). */
void bypass_key_mirror(const struct accel_bypass_key *k, struct accel_bypass_key *peer);
/* "inet 127.0.0.1:40000 -> 127.0.0.1:6379 netns 4096" */
const char *bypass_key_str(const struct accel_bypass_key *k, char *buf, size_t len);
/* Set the bits of a port list in a bitmap of 1024 __u64 words. */
void bypass_ports_bitmap(const struct port_list *pl, uint64_t *words);

#endif
