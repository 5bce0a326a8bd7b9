/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tune.h - tuning profiles, applied transactionally and restored exactly.
 *
 *   profile.c  INI profiles (libinih) and the built-in ones; `profile` command
 *   sysctl.c   sysctl keys: names, paths, scope (netns or host), values
 *   nic.c      ethtool netlink (rings, channels, features) and MTU (rtnetlink)
 *   journal.c  the on-disk record of original values (fsync'd before writes)
 *   tune.c     the feature: validate → journal → write → roll back / restore
 *   autotune.c observe counters → act within the profile's bounds
 */
#ifndef ACCEL_TUNE_H
#define ACCEL_TUNE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accel.h"
#include "opts.h"

struct cli_opts;

#define TUNE_MAX_ITEMS	128
#define TUNE_KEY_LEN	128
#define TUNE_VAL_LEN	256
#define TUNE_IFNAMSIZ	16

/* What a setting is.  Keep in sync with tune_kind_names[] (tune.c). */
enum tune_kind {
	TK_SYSCTL = 0,
	TK_MTU,
	TK_RING_RX,
	TK_RING_TX,
	TK_CH_COMBINED,
	TK_CH_RX,
	TK_CH_TX,
	TK_FEAT_GRO,
	TK_FEAT_GSO,
	TK_FEAT_TSO,
	TK_FEAT_LRO,
	TK_MAX,
};

/* One requested setting, as a profile states it. */
struct tune_item {
	enum tune_kind kind;
	char key[TUNE_KEY_LEN];		/* sysctl: canonical dotted name; NIC: "mtu", "rx-ring", ... */
	char ifname[TUNE_IFNAMSIZ];	/* NIC settings only */
	char value[TUNE_VAL_LEN];	/* normalised: fields separated by one space */
	bool at_least;			/* ">= N": raise only, never lower */
	bool host_only;			/* built-in profiles: skipped inside a netns */
	int line;			/* profile line, 0 for built-ins */
};

/* Bounds for auto-tuning ([auto] section); 0 = that action is off. */
struct tune_bounds {
	uint64_t somaxconn_max;		/* raise net.core.somaxconn up to this */
	uint64_t port_low_min;		/* lower ip_local_port_range's start down to this */
	bool tw_reuse;			/* may set tcp_tw_reuse = 1 near port exhaustion */
	unsigned int port_pressure_pct;	/* "near exhaustion": ports in use ≥ this % of the range */
	uint64_t ip6frag_high_max;	/* raise ip6frag_high_thresh up to this */
	unsigned int interval;		/* seconds between observations (autotune loop) */
};

/* Tri-state for "feature on/off" in a profile section. */
enum { PROFILE_UNSET = -1, PROFILE_OFF = 0, PROFILE_ON = 1 };

struct tune_profile {
	char name[64];
	char source[PATH_MAX];		/* file path, or "built-in" */
	bool builtin;
	int n;
	struct tune_item items[TUNE_MAX_ITEMS];
	/* sections for the other features ([bypass], [netacct], [tcpstate]) */
	int enable_bypass, enable_netacct, enable_tcpstate, enable_tune;
	struct attach_opts attach;	/* their options (attach.set says which were given) */
	char raw[ACCEL_OPT_MAX][512];	/* by accel_opt_bit, as written (iface lines joined by commas) */
	struct tune_bounds bounds;
	bool has_auto;
	/* first parse error, for messages */
	char err[PATH_MAX + 512];
};

/* ---- profile.c ---- */
void profile_init(struct tune_profile *p, const char *name);
/* Parse an INI file or an in-memory INI text.  0, or -ACCEL_ECONFIG with
 * p->err naming the line and the problem. */
int profile_parse_file(struct tune_profile *p, const char *path);
int profile_parse_string(struct tune_profile *p, const char *name, const char *text);
/* Built-in profile by name (-ENOENT) */
int profile_builtin(struct tune_profile *p, const char *name);
/* The profile attach uses: --config FILE, --profile NAME, else "loopback". */
int profile_load_for_attach(const struct accel_ctx *ctx, struct tune_profile *p);
/* Fill attach options the command line left unset from the profile's
 * [bypass]/[netacct]/[tcpstate] sections.  Command line wins. */
int profile_merge_attach_opts(struct accel_ctx *ctx, const struct tune_profile *p);
/* Documentation of a built-in key ("why" and trade-off); NULL if none. */
const char *profile_builtin_reason(const char *profile, const char *key);
int cmd_profile(struct accel_ctx *ctx, struct cli_opts *o);

/* ---- sysctl.c ---- */
/* sysctl.d name ("net.ipv4.tcp_rmem", "net/ipv4/tcp_rmem",
 * "net.ipv4.conf.eth0/100.forwarding") → canonical dotted name and the
 * /proc/sys path.  -EINVAL with a reason in err. */
int sysctl_key_parse(const char *key, char *canon, size_t clen, char *path, size_t plen,
		     char *err, size_t errlen);
/* Collapse whitespace to single spaces, strip the ends (in place). */
char *sysctl_norm(char *s);
int sysctl_read(const char *path, char *buf, size_t len);
int sysctl_write(const char *path, const char *val);
/* Is the key a network-namespace key (under net.)? */
bool sysctl_key_is_net(const char *canon);
/* Are we in the initial network namespace? */
bool netns_is_initial(void);
/* Does path exist in the initial network namespace (we are in another)? */
bool sysctl_exists_in_initial_netns(const char *path);
/* Check a value against the current one (shape) and the known range of
 * the key.  0 or -EINVAL/-ERANGE with a reason in err. */
int sysctl_check_value(const char *canon, const char *cur, const char *val, char *err, size_t len);
/* Known limits of a key (documented ranges); false when unknown. */
bool sysctl_known_range(const char *canon, int64_t *min, int64_t *max);
/* Parse up to n integer fields; returns the count or -EINVAL. */
int sysctl_fields(const char *val, int64_t *out, int n);

/* ---- nic.c ---- */
struct nic_state {
	bool have_rings, have_channels, have_mtu;
	uint32_t rx_max, tx_max, rx, tx;			/* rings */
	uint32_t ch_rx_max, ch_tx_max, ch_comb_max, ch_rx, ch_tx, ch_comb;
	uint32_t mtu, min_mtu, max_mtu;
	int rings_err, channels_err;				/* -errno when not available */
};
struct nic;
int nic_open(struct nic **out);
void nic_close(struct nic *n);
int nic_get(struct nic *n, const char *ifname, struct nic_state *st);
/* Read one setting as text ("1500", "on", "tx-tcp-segmentation=on,...").
 * -EOPNOTSUPP when the device does not have it. */
int nic_read(struct nic *n, const struct tune_item *it, char *buf, size_t len, char *err, size_t errlen);
/* Check a requested value: 0, -EOPNOTSUPP (device lacks it, reason in err),
 * -ERANGE / -EINVAL (bad value, reason in err). */
int nic_check(struct nic *n, const struct tune_item *it, char *err, size_t errlen);
/* Write a value in the form nic_read returns (or the profile's). */
int nic_write(struct nic *n, const struct tune_item *it, const char *val, char *err, size_t errlen);
/* RTM_NEWLINK reply → MTU and its limits (0 when absent), every attribute
 * read checked first: -EBADMSG with the reason in err for a malformed or
 * cut reply.  Exposed for unit tests of the reply parser. */
struct nlmsghdr;
int nic_link_parse(const struct nlmsghdr *nlh, uint32_t *mtu, uint32_t *min_mtu,
		   uint32_t *max_mtu, char *err, size_t errlen);
/* Pure helper (unit-tested): value v against a device maximum. */
int nic_check_count(const char *what, uint64_t v, uint32_t max, char *err, size_t errlen);

/* ---- journal.c ---- */
struct journal_entry {
	enum tune_kind kind;
	char key[TUNE_KEY_LEN];
	char ifname[TUNE_IFNAMSIZ];
	bool global;			/* not per netns: the host's value */
	char orig[TUNE_VAL_LEN];	/* before accelctl touched it */
	char new_val[TUNE_VAL_LEN];	/* what accelctl wrote last */
	char prev[TUNE_VAL_LEN];	/* what accelctl wrote before that (auto), or "" */
	char source[200];		/* "profile NAME" or "auto: <counter>" */
};

struct journal {
	char netns[64];			/* "" = the namespace accelctl ran in */
	uint64_t netns_cookie;
	char profile[64];
	long long since;
	bool auto_tune;
	struct tune_bounds bounds;
	/* 0, or when `detach --keep-tuning` left the tuning applied on
	 * purpose: not an interrupted attach, the next attach adopts it */
	long long kept;
	int n;
	struct journal_entry e[TUNE_MAX_ITEMS];
};

int journal_path(const struct accel_ctx *ctx, char *buf, size_t len);
bool journal_exists(const struct accel_ctx *ctx);
/* Written with tmp + fsync + rename + fsync(dir). */
int journal_write(const struct accel_ctx *ctx, const struct journal *j);
int journal_read(const struct accel_ctx *ctx, struct journal *j);
/* journal_read with the reason ("<file>: line N: what") in err. */
struct state_err;
int journal_load(const struct accel_ctx *ctx, struct journal *j, struct state_err *err);
int journal_remove(const struct accel_ctx *ctx);
/* Serialise / parse (unit-tested).  A journal without the kept mark is
 * written as format 1 (what accelctl before --keep-tuning reads); a kept
 * one as format 2.  Both are read. */
int journal_format(const struct journal *j, char *buf, size_t len);
int journal_parse(struct journal *j, char *text);
/* The same, strict and all-or-nothing (j is only written when the whole
 * text is valid), with file (NULL: "tune.journal") in err. */
int journal_parse_err(struct journal *j, char *text, const char *file, struct state_err *err);
struct journal_entry *journal_find(struct journal *j, enum tune_kind kind, const char *ifname,
				   const char *key);
/* %XX escaping so values with tabs or spaces stay one token. */
void journal_escape(const char *in, char *out, size_t len);
void journal_unescape(const char *in, char *out, size_t len);

/* ---- tune.c ---- */
const char *tune_kind_name(enum tune_kind k);
int tune_kind_from_name(const char *name);
/* "sysctl net.core.somaxconn" / "nic veth0 mtu" for messages. */
const char *tune_item_label(enum tune_kind kind, const char *ifname, const char *key,
			    char *buf, size_t len);
/* Read and write one setting in the current netns (sysctl or NIC). */
int tune_read(struct nic *nic, enum tune_kind kind, const char *ifname, const char *key,
	      char *buf, size_t len, char *err, size_t errlen);
int tune_write(struct nic *nic, enum tune_kind kind, const char *ifname, const char *key,
	       const char *val, char *err, size_t errlen);
/* `profile check`: validate against this kernel, namespace and devices. */
int tune_check_profile(struct accel_ctx *ctx, const struct tune_profile *p);
/* --dry-run: the plan, nothing changed. */
/* Run fn inside the journal's network namespace when it differs. */
int tune_enter_journal_netns(const struct journal *j, int *saved_fd);
void tune_leave_netns(int *saved_fd);

/* ---- autotune.c ---- */
/* Record the counters auto-tune compares against (attach --auto). */
int autotune_baseline(struct accel_ctx *ctx);
/* <state-dir>/autotune.state: the counters the next step compares with. */
struct autotune_baseline {
	uint64_t listen_overflows;	/* TcpExt: ListenOverflows */
	uint64_t reasm_fails6;		/* Ip6ReasmFails */
};
struct state_kind;
extern const struct state_kind autotune_baseline_kind;
void autotune_state_remove(struct accel_ctx *ctx);
int cmd_autotune(struct accel_ctx *ctx, struct cli_opts *o);

#endif
