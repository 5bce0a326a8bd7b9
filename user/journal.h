/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * journal.h - the on-disk record of original values, fsync'd before
 * any setting is written (journal.c).
 */
#ifndef ACCEL_JOURNAL_H
#define ACCEL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accel.h"
#include "tune_item.h"

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

#endif
