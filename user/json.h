/* SPDX-License-Identifier: GPL-2.0-only */
/* A small streaming JSON writer (bpftool-style): commas and nesting are
 * tracked for the caller, strings are escaped. */
#ifndef ACCEL_JSON_H
#define ACCEL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json_writer {
	FILE *out;
	int depth;
	bool pretty;
	bool need_comma[JSON_MAX_DEPTH];
	bool after_key;
};

void jw_init(struct json_writer *jw, FILE *out, bool pretty);
void jw_start_object(struct json_writer *jw);
void jw_end_object(struct json_writer *jw);
void jw_start_array(struct json_writer *jw);
void jw_end_array(struct json_writer *jw);
void jw_key(struct json_writer *jw, const char *key);
void jw_string(struct json_writer *jw, const char *s);
void jw_uint(struct json_writer *jw, uint64_t v);
void jw_int(struct json_writer *jw, int64_t v);
void jw_double(struct json_writer *jw, double v);
void jw_bool(struct json_writer *jw, bool v);
void jw_null(struct json_writer *jw);
/* Finish the document with a newline. */
void jw_finish(struct json_writer *jw);

/* key + value shorthands */
void jw_kv_string(struct json_writer *jw, const char *k, const char *v);
void jw_kv_uint(struct json_writer *jw, const char *k, uint64_t v);
void jw_kv_int(struct json_writer *jw, const char *k, int64_t v);
void jw_kv_bool(struct json_writer *jw, const char *k, bool v);

/* Write s as a JSON string literal (with quotes). */
void json_escape(FILE *out, const char *s);

#endif
