/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * accel.h - the controller's shared context and the feature interface.
 *
 * A feature (bypass, netacct, tcpstate, tune) is a struct accel_feature in
 * its own user/<feature>.c, listed once in features[] (feature.c).  The
 * generic code takes the lock, enters the network namespace, orders attach
 * and detach, rolls back a partial attach and renders status and stats.
 */
#ifndef ACCEL_H
#define ACCEL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"
#include "metrics.h"
#include "util.h"

#define ACCEL_DEFAULT_PIN_ROOT  "/sys/fs/bpf/accel"
#define ACCEL_DEFAULT_STATE_DIR "/run/accelctl"
#define ACCEL_BPFFS_DEFAULT     "/sys/fs/bpf"
#define ACCEL_MAX_IFACES        32
/* detach --timeout: how long detach waits for bypassed bytes to be read */
#define ACCEL_DETACH_TIMEOUT_S  5
#define ACCEL_DETACH_TIMEOUT_MS (ACCEL_DETACH_TIMEOUT_S * 1000)

#define ACCEL_STR_(x) #x
#define ACCEL_STR(x) ACCEL_STR_(x)

/* Returned (negated) by features for invalid configuration: exit code 2. */
#define ACCEL_ECONFIG 4095

/* Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration;
 * `status` also 3: nothing attached (as `systemctl is-active` says
 * inactive), so that scripts can test it. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_NOT_ATTACHED = 3,
};

/* netacct: where ingress is counted (--ingress). */
enum accel_ingress {
	ACCEL_INGRESS_AUTO = 0,		/* tc on veth and where XDP cannot be added, XDP elsewhere */
	ACCEL_INGRESS_XDP,		/* XDP or fail */
	ACCEL_INGRESS_TC,		/* tc only */
};

/* Interface names (--iface). */
struct ifname_list {
	int n;
	char name[ACCEL_MAX_IFACES][16];
};

/* Options of `attach` (and of profile sections that set them), each
 * declared by a line of its feature's option table (opts.h). */
struct attach_opts {
	unsigned int features;		/* bit mask of feature indices; 0 = default */
	bool features_explicit;
	/* bypass */
	const char *cgroup;		/* cgroup2 path; NULL = cgroup2 root */
	struct port_list ports;		/* empty = all ports */
	struct port_list exclude_ports;
	struct port_list event_ports;	/* servers whose accepted sockets are nonblocking */
	int learn;			/* -1 default (on where the selftest asks), 0 off, 1 on */
	unsigned int learn_conns;	/* 0 = ACCEL_BYPASS_LEARN_CONNS */
	unsigned int learn_window_s;	/* 0 = ACCEL_BYPASS_LEARN_WINDOW_S */
	unsigned int max_conns;		/* 0 = sized from memory (capacity_default()) */
	/* netacct: --iface fills iface_list (the option table's field) */
	union {
		struct ifname_list iface_list;
		struct {
			int nifaces;
			char ifaces[ACCEL_MAX_IFACES][16];
		};
	};
	enum accel_ingress ingress;	/* default ACCEL_INGRESS_AUTO */
	/* tune */
	const char *config;
	const char *profile;
	bool no_tune;
	bool dry_run;
	bool auto_tune;
	unsigned int set;		/* bit per feature option given (accel_opt_bit) */
};

struct accel_ctx {
	char pin_root[PATH_MAX];
	char state_dir[PATH_MAX];
	const char *netns;		/* named netns (ip netns) or NULL */
	uint64_t netns_cookie;		/* of the namespace we operate in */
	int lock_fd;			/* flock'ed pin root, -1 when not held */
	bool json;
	bool force;
	unsigned int timeout_ms;	/* detach: how long to wait for drains */
	bool keep_tuning;		/* detach --keep-tuning */
	unsigned int handover_s;	/* detach --handover: seconds, 0 = none */
	bool detaching;			/* the command is detach (reap finishes a handover) */
	struct attach_opts attach;
};

struct accel_opt;
struct command;
struct sm_node;

struct accel_feature {
	const char *name;
	const char *summary;
	/* Its options: --NAME for attach, NAME = VALUE in its profile
	 * section; NULL-terminated table (opts.h), or NULL. */
	const struct accel_opt *opts;
	/* Its own commands (`accelctl bypass ...`): a table of struct
	 * command (cli.h) ended by a NULL name, or NULL. */
	const struct command *commands;
	/* 0 when this host can run the feature, else -errno with a reason
	 * (what is missing and how to get it) in why. */
	int (*probe)(struct accel_ctx *ctx, char *why, size_t len);
	/* Attach; on failure undo this feature's own partial work. */
	int (*attach)(struct accel_ctx *ctx);
	/* attach --dry-run: print what attach would do, changing nothing
	 * (optional; 0, or -errno where attach would fail the same way). */
	int (*plan)(struct accel_ctx *ctx, FILE *out);
	/* Detach whatever of this feature is attached; idempotent. */
	int (*detach)(struct accel_ctx *ctx);
	/* True when anything of this feature is attached or recorded. */
	bool (*attached)(struct accel_ctx *ctx);
	/* Optional, for state that may stay applied across a detach (tune
	 * only).  keep: leave it in place, marked as kept on purpose (detach
	 * --keep-tuning).  kept: true when what attached() sees was kept on
	 * purpose: not an interrupted attach's leftover; the next attach
	 * adopts it, a detach or an attach without the feature restores it. */
	int (*keep)(struct accel_ctx *ctx);
	bool (*kept)(struct accel_ctx *ctx);
	/* Optional: undo the attach this process just made (attach rollback)
	 * when that differs from a detach (an adopted kept state goes back to
	 * kept, not to before it).  NULL: detach. */
	int (*rollback)(struct accel_ctx *ctx);
	/* The metrics the feature exports (collect and collect_lingering),
	 * declared once: name, type, unit, help, labels (metrics.h). */
	const struct metric_desc *metrics;
	int nmetrics;
	/* Fill metrics from the pinned maps (optional). */
	int (*collect)(struct accel_ctx *ctx, struct metrics *m);
	/* Human tables for `stats` from collected metrics (optional;
	 * without it the feature's metrics print as plain lines). */
	void (*show)(struct accel_ctx *ctx, const struct metrics *m, FILE *out);
	/* Extra `status` detail (optional): entries added to the feature's
	 * section of the status model (status_model.h), which renders them
	 * as text or JSON. */
	void (*status)(struct accel_ctx *ctx, struct sm_node *sec);
	/*
	 * What outlives a detach (optional; bypass: sockhashes that still
	 * hold unread bypassed bytes).  reap releases what no longer needs
	 * to be kept, with the lock held (attach, detach, status, serve);
	 * lingering adds what is left to the feature's section of the status
	 * model, for `status` and detach's warning (returns how many
	 * generations it listed); collect_lingering adds its metrics whether
	 * the feature is attached or not.
	 */
	void (*reap)(struct accel_ctx *ctx);
	int (*lingering)(struct accel_ctx *ctx, struct sm_node *sec);
	int (*collect_lingering)(struct accel_ctx *ctx, struct metrics *m);
};

extern const struct accel_feature *const features[];
extern const int nfeatures;

const struct accel_feature *feature_by_name(const char *name);
int feature_index(const struct accel_feature *f);
/* "bypass,netacct" → mask; -EINVAL with the bad name in err. */
int features_parse(const char *list, unsigned int *mask, char *err, size_t errlen);

/* Mask of the features whose attached() is true (pins or state left). */
unsigned int features_attached(struct accel_ctx *ctx);
/* Mask of the features whose kept() is true (left applied on purpose). */
unsigned int features_kept(struct accel_ctx *ctx);

/* <pin-root>/<feature> */
int feature_pin_dir(const struct accel_ctx *ctx, const struct accel_feature *f,
		    char *buf, size_t len);
/* Generic helpers for BPF features: is the pin dir there, remove every pin
 * under it and the dir itself. */
bool feature_pins_exist(const struct accel_ctx *ctx, const struct accel_feature *f);
int feature_unpin_all(const struct accel_ctx *ctx, const struct accel_feature *f);
/* Unpin everything in dir (links first) and remove it; 0 when absent. */
int pin_dir_remove(const char *dir);

/* The generic commands (feature.c). */
int accel_attach(struct accel_ctx *ctx);
extern const char *accel_build_commit;
/* attach --dry-run: each feature attach would attach, and its plan. */
int accel_dry_run(struct accel_ctx *ctx);
int accel_detach(struct accel_ctx *ctx);
/* 0 with *attached set when status could tell (something attached,
 * kept, left by an interrupted attach, draining or handed over); -errno
 * when it could not (no rights, an unreadable instance record). */
int accel_status(struct accel_ctx *ctx, bool *attached);
int accel_collect(struct accel_ctx *ctx, struct metrics *m);
/* The metrics of accelctl itself, whatever is attached (accel_collect). */
enum accel_metric {
	AM_BUILD_INFO,
	AM_FEATURE_ATTACHED,
	AM_COUNT
};
extern const struct metric_desc accel_metrics[AM_COUNT];
/* Every feature's reap, if the lock can be had at once (serve, status). */
void accel_reap_trylock(struct accel_ctx *ctx);
/* `accelctl check` (check.c): 0 when attach would succeed. */
int accel_check(struct accel_ctx *ctx);

/* Instance record in the state dir: which features, since when, netns,
 * and the ACCEL_ABI_VERSION of the accelctl that made its pins. */
struct instance_info {
	unsigned int features;
	long long since;
	char netns[64];
	uint64_t netns_cookie;
	unsigned int abi;
	bool detaching;			/* a detach has begun (and died, if still there) */
	char pin_root[PATH_MAX];	/* written from the context, for the reader */
};
/* <state-dir>/instance (user/state.c format; user/feature.c). */
struct state_kind;
extern const struct state_kind instance_record_kind;
/* <state-dir>/netacct: the hooks netacct attached (user/netacct.c). */
extern const struct state_kind netacct_record_kind;
int instance_read(const struct accel_ctx *ctx, struct instance_info *ii);
int instance_write(const struct accel_ctx *ctx, const struct instance_info *ii);
void instance_remove(const struct accel_ctx *ctx);
/* Whether this process can read what tells it what is attached (the state
 * dir's records, the pin root and its pins): 0, or -EACCES after an error
 * naming the path and the fix (cmd: for the message).  status and stats
 * call it first, so that a user without the rights gets exit 1, not
 * "attached: no" and zeros. */
int accel_check_access(const struct accel_ctx *ctx, const char *cmd);
/* 0 when no instance is recorded or its ABI is ours; else -ACCEL_ECONFIG
 * with an error naming both versions and the way out (cmd: for the
 * message). */
int instance_check_abi(const struct accel_ctx *ctx, const char *cmd);

#endif
