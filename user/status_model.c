// SPDX-License-Identifier: GPL-2.0-only
/*
 * The status model (status_model.h): a tree of JSON values that carry
 * their text lines, and its two renderers.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "status_model.h"

static void mark_failed(struct sm_node *node)
{
	while (node->parent)
		node = node->parent;
	node->failed = true;
}

struct sm_node *sm_new(void)
{
	return calloc(1, sizeof(struct sm_node));
}

bool sm_failed(const struct sm_node *root)
{
	return !root || root->failed;
}

void sm_free(struct sm_node *root)
{
	struct sm_node *c, *next;

	if (!root)
		return;
	for (c = root->first; c; c = next) {
		next = c->next;
		sm_free(c);
	}
	if (root->kind == SM_STRING)
		free(root->v.s);
	free(root->key);
	free(root->label);
	free(root->line);
	free(root);
}

static struct sm_node *add(struct sm_node *parent, enum sm_kind kind, const char *key)
{
	struct sm_node *n;

	if (!parent)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n || (key && parent->kind == SM_OBJECT && !(n->key = strdup(key)))) {
		free(n);
		mark_failed(parent);
		return NULL;
	}
	n->kind = kind;
	n->parent = parent;
	n->indent = n->child_indent = parent->child_indent;
	if (parent->last)
		parent->last->next = n;
	else
		parent->first = n;
	parent->last = n;
	return n;
}

struct sm_node *sm_object(struct sm_node *parent, const char *key)
{
	return add(parent, SM_OBJECT, key);
}

struct sm_node *sm_array(struct sm_node *parent, const char *key)
{
	return add(parent, SM_ARRAY, key);
}

struct sm_node *sm_str(struct sm_node *parent, const char *key, const char *v)
{
	struct sm_node *n = add(parent, SM_STRING, key);

	if (n && !(n->v.s = strdup(v ? v : ""))) {
		n->kind = SM_NULL;
		mark_failed(n);
	}
	return n;
}

struct sm_node *sm_uint(struct sm_node *parent, const char *key, uint64_t v)
{
	struct sm_node *n = add(parent, SM_UINT, key);

	if (n)
		n->v.u = v;
	return n;
}

struct sm_node *sm_double(struct sm_node *parent, const char *key, double v)
{
	struct sm_node *n = add(parent, SM_DOUBLE, key);

	if (n)
		n->v.d = v;
	return n;
}

struct sm_node *sm_bool(struct sm_node *parent, const char *key, bool v)
{
	struct sm_node *n = add(parent, SM_BOOL, key);

	if (n)
		n->v.b = v;
	return n;
}

struct sm_node *sm_null(struct sm_node *parent, const char *key)
{
	return add(parent, SM_NULL, key);
}

struct sm_node *sm_strv(struct sm_node *parent, const char *key, const char *const *v, int n)
{
	struct sm_node *a = sm_array(parent, key);

	for (int i = 0; a && i < n; i++)
		sm_str(a, NULL, v[i]);
	return a;
}

static void set_line(struct sm_node *node, const char *label, const char *fmt, va_list ap)
{
	free(node->label);
	free(node->line);
	node->label = label ? strdup(label) : NULL;
	if (vasprintf(&node->line, fmt, ap) < 0)
		node->line = NULL;
	if (!node->line || (label && !node->label))
		mark_failed(node);
}

struct sm_node *sm_show(struct sm_node *node, const char *label, const char *fmt, ...)
{
	va_list ap;

	if (!node)
		return NULL;
	va_start(ap, fmt);
	set_line(node, label, fmt, ap);
	va_end(ap);
	return node;
}

struct sm_node *sm_note(struct sm_node *parent, const char *label, const char *fmt, ...)
{
	struct sm_node *n = add(parent, SM_NOTE, NULL);
	va_list ap;

	if (!n)
		return NULL;
	va_start(ap, fmt);
	set_line(n, label, fmt, ap);
	va_end(ap);
	return n;
}

struct sm_node *sm_indent(struct sm_node *node, int indent)
{
	if (node)
		node->indent = node->child_indent = indent;
	return node;
}

struct sm_node *sm_nest(struct sm_node *node, int child_indent)
{
	if (node)
		node->child_indent = child_indent;
	return node;
}

/* ---- text -------------------------------------------------------------- */

static void text_line(const struct sm_node *n, FILE *out)
{
	int width = n->indent ? SM_LABEL_WIDTH : SM_LABEL_WIDTH_TOP;
	char label[64];

	if (!n->label) {
		fprintf(out, "%*s%s\n", n->indent, "", n->line);
		return;
	}
	snprintf(label, sizeof(label), "%s:", n->label);
	fprintf(out, "%*s%-*s %s\n", n->indent, "", width - 1, label, n->line);
}

void sm_render_text(const struct sm_node *node, FILE *out)
{
	if (!node)
		return;
	if (node->line)
		text_line(node, out);
	for (const struct sm_node *c = node->first; c; c = c->next)
		sm_render_text(c, out);
}

/* ---- JSON -------------------------------------------------------------- */

void sm_write_json(const struct sm_node *node, struct json_writer *jw)
{
	switch (node->kind) {
	case SM_OBJECT:
	case SM_ARRAY:
		if (node->kind == SM_OBJECT)
			jw_start_object(jw);
		else
			jw_start_array(jw);
		for (const struct sm_node *c = node->first; c; c = c->next) {
			if (c->kind == SM_NOTE)
				continue;
			if (node->kind == SM_OBJECT)
				jw_key(jw, c->key ? c->key : "");
			sm_write_json(c, jw);
		}
		if (node->kind == SM_OBJECT)
			jw_end_object(jw);
		else
			jw_end_array(jw);
		break;
	case SM_STRING: jw_string(jw, node->v.s); break;
	case SM_UINT: jw_uint(jw, node->v.u); break;
	case SM_DOUBLE: jw_double(jw, node->v.d); break;
	case SM_BOOL: jw_bool(jw, node->v.b); break;
	case SM_NULL: jw_null(jw); break;
	case SM_NOTE: break;
	}
}

void sm_render_json(const struct sm_node *root, FILE *out)
{
	struct json_writer jw;

	if (!root)
		return;
	jw_init(&jw, out, true);
	sm_write_json(root, &jw);
	jw_finish(&jw);
}
