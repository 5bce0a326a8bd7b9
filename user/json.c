// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>

#include "json.h"

void jw_init(struct json_writer *jw, FILE *out, bool pretty)
{
	*jw = (struct json_writer){ .out = out, .pretty = pretty };
}

static void indent(struct json_writer *jw)
{
	if (!jw->pretty)
		return;
	fputc('\n', jw->out);
	for (int i = 0; i < jw->depth; i++)
		fputs("  ", jw->out);
}

/* Called before every value or key. */
static void pre_value(struct json_writer *jw)
{
	if (jw->after_key) {
		jw->after_key = false;
		return;
	}
	if (jw->need_comma[jw->depth])
		fputc(',', jw->out);
	if (jw->depth)
		indent(jw);
	jw->need_comma[jw->depth] = true;
}

static void open_(struct json_writer *jw, char c)
{
	pre_value(jw);
	fputc(c, jw->out);
	if (jw->depth + 1 < JSON_MAX_DEPTH)
		jw->depth++;
	jw->need_comma[jw->depth] = false;
}

static void close_(struct json_writer *jw, char c)
{
	bool had = jw->need_comma[jw->depth];

	if (jw->depth)
		jw->depth--;
	if (had)
		indent(jw);
	fputc(c, jw->out);
}

void jw_start_object(struct json_writer *jw) { open_(jw, '{'); }
void jw_end_object(struct json_writer *jw) { close_(jw, '}'); }
void jw_start_array(struct json_writer *jw) { open_(jw, '['); }
void jw_end_array(struct json_writer *jw) { close_(jw, ']'); }

void json_escape(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

void jw_key(struct json_writer *jw, const char *key)
{
	pre_value(jw);
	json_escape(jw->out, key);
	fputs(jw->pretty ? ": " : ":", jw->out);
	jw->after_key = true;
}

void jw_string(struct json_writer *jw, const char *s)
{
	pre_value(jw);
	if (s)
		json_escape(jw->out, s);
	else
		fputs("null", jw->out);
}

void jw_uint(struct json_writer *jw, uint64_t v)
{
	pre_value(jw);
	fprintf(jw->out, "%llu", (unsigned long long)v);
}

void jw_int(struct json_writer *jw, int64_t v)
{
	pre_value(jw);
	fprintf(jw->out, "%lld", (long long)v);
}

void jw_double(struct json_writer *jw, double v)
{
	pre_value(jw);
	if (isnan(v) || isinf(v))
		fputs("null", jw->out);
	else if (v == (double)(int64_t)v && fabs(v) < 9007199254740992.0)
		fprintf(jw->out, "%lld", (long long)v);
	else
		fprintf(jw->out, "%.17g", v);
}

void jw_bool(struct json_writer *jw, bool v)
{
	pre_value(jw);
	fputs(v ? "true" : "false", jw->out);
}

void jw_null(struct json_writer *jw)
{
	pre_value(jw);
	fputs("null", jw->out);
}

void jw_finish(struct json_writer *jw)
{
	fputc('\n', jw->out);
	fflush(jw->out);
}

void jw_kv_string(struct json_writer *jw, const char *k, const char *v) { jw_key(jw, k); jw_string(jw, v); }
void jw_kv_uint(struct json_writer *jw, const char *k, uint64_t v) { jw_key(jw, k); jw_uint(jw, v); }
void jw_kv_int(struct json_writer *jw, const char *k, int64_t v) { jw_key(jw, k); jw_int(jw, v); }
void jw_kv_bool(struct json_writer *jw, const char *k, bool v) { jw_key(jw, k); jw_bool(jw, v); }
