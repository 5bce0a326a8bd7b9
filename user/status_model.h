/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * status_model.h - what `accelctl status` says, built once as a tree and
 * rendered as text or as JSON by one renderer each (status_model.c).
 *
 * A node is a JSON value (object, array, string, number, bool, null) under
 * its key, and may carry the text line that shows it: an optional label
 * ("sockets" prints as "sockets:  ", padded to the column of its level)
 * and the line itself.  A note is text only (a warning, a hint, a table
 * header); a value without a line is JSON only.  Text lines print in tree
 * order, indented by their node's level (sm_indent); JSON has every value
 * in tree order and no note.
 *
 * Every function accepts a NULL parent and then does nothing, so a filler
 * need not check each call; an allocation failure marks the model
 * (sm_failed) and the caller reports -ENOMEM once.
 */
#ifndef ACCEL_STATUS_MODEL_H
#define ACCEL_STATUS_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"

enum sm_kind {
	SM_OBJECT,
	SM_ARRAY,
	SM_STRING,
	SM_UINT,
	SM_DOUBLE,
	SM_BOOL,
	SM_NULL,
	SM_NOTE,		/* text only */
};

struct sm_node {
	enum sm_kind kind;
	char *key;		/* in an object; NULL in an array and for notes */
	union {
		char *s;
		uint64_t u;
		double d;
		bool b;
	} v;
	char *label;		/* text: the "label:" column, or NULL */
	char *line;		/* text: what the node shows, or NULL (JSON only) */
	int indent;		/* text: columns before the line */
	int child_indent;	/* the indent children start with */
	bool failed;		/* root: an allocation failed */
	struct sm_node *parent, *first, *last, *next;
};

/* The root object (text indent 0). */
struct sm_node *sm_new(void);
void sm_free(struct sm_node *root);
bool sm_failed(const struct sm_node *root);

/* Values under parent (key ignored in an array); each returns its node. */
struct sm_node *sm_object(struct sm_node *parent, const char *key);
struct sm_node *sm_array(struct sm_node *parent, const char *key);
struct sm_node *sm_str(struct sm_node *parent, const char *key, const char *v);
struct sm_node *sm_uint(struct sm_node *parent, const char *key, uint64_t v);
struct sm_node *sm_double(struct sm_node *parent, const char *key, double v);
struct sm_node *sm_bool(struct sm_node *parent, const char *key, bool v);
struct sm_node *sm_null(struct sm_node *parent, const char *key);
/* A string list (JSON array of strings). */
struct sm_node *sm_strv(struct sm_node *parent, const char *key, const char *const *v, int n);

/* The text line of node: label (NULL: none) and the line, printf-style. */
struct sm_node *sm_show(struct sm_node *node, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A text-only line under parent. */
struct sm_node *sm_note(struct sm_node *parent, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Text indent of node and of the children it gets from now on. */
struct sm_node *sm_indent(struct sm_node *node, int indent);
/* Text indent of the children node gets from now on. */
struct sm_node *sm_nest(struct sm_node *node, int child_indent);

/* Labels line up: at indent 0 the line starts in column 11, deeper ones
 * 10 columns after the indent ("attached:  ...", "    sockets:  ..."). */
#define SM_LABEL_WIDTH_TOP	11
#define SM_LABEL_WIDTH		10

void sm_render_text(const struct sm_node *root, FILE *out);
/* The document (pretty, newline-terminated). */
void sm_render_json(const struct sm_node *root, FILE *out);
/* node as a value of an open JSON writer. */
void sm_write_json(const struct sm_node *node, struct json_writer *jw);

#endif
