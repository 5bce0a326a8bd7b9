// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests: the option tables (user/opts.h).  For every feature's
 * option, with values made from its declared type: the command line and a
 * profile section accept and refuse the same values with the same reason,
 * and the option is in `accelctl attach --help`, the man page (with its
 * default) and the bash completion.  A new table line is tested without
 * touching this file.  ACCEL_SRCDIR and ACCELCTL_BIN come from the Makefile.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "accel.h"
#include "cli.h"
#include "opts.h"
#include "profile.h"
#include "cli_capture.h"

#ifndef ACCEL_SRCDIR
#define ACCEL_SRCDIR "."
#endif
#ifndef ACCELCTL_BIN
#define ACCELCTL_BIN ACCEL_SRCDIR "/build/accelctl"
#endif

static const struct command attach_cmd = { "attach", NULL, "test", NULL, "features", NULL, true };
static const char *const onoff[] = { "on", "off", NULL };

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, f), (size_t)n);
	fclose(f);
	return buf;
}

static char *run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0, cap = 1 << 16;
	char *buf = calloc(1, cap);

	assert_non_null(p);
	assert_non_null(buf);
	n = fread(buf, 1, cap - 1, p);
	buf[n] = '\0';
	if (pclose(p))
		fail_msg("'%s' failed", cmd);
	return buf;
}

static const char *const *enum_names(const struct accel_opt *o)
{
	return o->type == AOT_BOOL ? onoff : o->type == AOT_ENUM ? o->names : NULL;
}

/* A value of o's type that parses, and one that does not (NULL: none). */
static void values(const struct accel_opt *o, char *good, char *bad, size_t len)
{
	const char *const *names = enum_names(o);
	int last = 0;

	bad[0] = '\0';
	switch (o->type) {
	case AOT_FLAG:
		good[0] = '\0';
		return;
	case AOT_STRING:
		snprintf(good, len, "text");
		return;
	case AOT_PATH:
		snprintf(good, len, "/sys/fs/cgroup/x");
		return;		/* bad: "" */
	case AOT_PORTS:
		snprintf(good, len, "6379,7000-7010");
		snprintf(bad, len, "70000");
		return;
	case AOT_IFNAMES:
		snprintf(good, len, "lo,eth1");
		snprintf(bad, len, "bad/name");
		return;
	case AOT_NUMBER:
		snprintf(good, len, "%llu", (unsigned long long)o->hi);
		snprintf(bad, len, "%llu", (unsigned long long)o->hi + 1);
		return;
	case AOT_BOOL:
	case AOT_ENUM:
		while (names[last + 1])
			last++;
		snprintf(good, len, "%s", names[last]);
		snprintf(bad, len, "bogus");
		return;
	}
}

/* cli_parse attach --NAME [VALUE]: its exit code, stderr in msg */
static int cli_one(const struct accel_opt *opt, const char *value, struct accel_ctx *ctx, char *msg,
		   size_t len)
{
	char name[64], *argv[] = { "accelctl", name, (char *)value, NULL };

	snprintf(name, sizeof(name), "--%s", opt->name);
	return cli_parse_captured(&attach_cmd, opt->type == AOT_FLAG ? 2 : 3, argv, ctx, msg, len);
}

/* [SECTION] NAME = VALUE; parse error in p->err */
static struct tune_profile *ini_one(const char *section, const char *name, const char *value, int *err)
{
	struct tune_profile *p = calloc(1, sizeof(*p));
	char text[512];

	assert_non_null(p);
	snprintf(text, sizeof(text), "[%s]\n%s = %s\n", section, name, value);
	profile_init(p, "t");
	*err = profile_parse_string(p, "t.ini", text);
	return p;
}

/* Every line well formed: the parser can rely on what it declares. */
static void test_tables(void **state)
{
	static const size_t sizes[] = {
		[AOT_FLAG] = sizeof(bool), [AOT_STRING] = sizeof(char *), [AOT_PATH] = sizeof(char *),
		[AOT_PORTS] = sizeof(struct port_list), [AOT_IFNAMES] = sizeof(struct ifname_list),
		[AOT_ENUM] = sizeof(int), [AOT_BOOL] = sizeof(int), [AOT_NUMBER] = sizeof(unsigned int),
	};
	int n = 0;

	(void)state;
	accel_opt_for_each(f, o) {
		if (cli_opt_by_name(o->name) != o)
			fail_msg("--%s is declared twice", o->name);
		if (o->in != AO_ATTACH || (!o->set && o->size != sizes[o->type]))
			fail_msg("--%s: its field is not of its type", o->name);
		if (!o->help || !*o->help || (o->type != AOT_FLAG && !o->metavar))
			fail_msg("--%s: no help or no metavar", o->name);
		if ((o->type == AOT_ENUM && !o->names) || (o->type == AOT_NUMBER && (!o->unit || o->lo > o->hi)))
			fail_msg("--%s: enum names or number range missing", o->name);
		if (o->section && !feature_by_name(o->section))
			fail_msg("--%s: section [%s] is no feature's", o->name, o->section);
		assert_int_equal(accel_opt_bit(o), n);
		n++;
	}
	assert_true(n <= ACCEL_OPT_MAX);
	for (const struct accel_opt *o = cli_generic_opts; o->name; o++)
		if (accel_opt_find(NULL, o->name))
			fail_msg("--%s is both generic and a feature's", o->name);
	/* a feature's commands take options that exist */
	for (int f = 0; f < nfeatures; f++)
		for (const struct command *c = features[f]->commands; c && c->name; c++) {
			char buf[256], *tok, *save = NULL;

			assert_non_null(c->run);
			snprintf(buf, sizeof(buf), "%s", c->opts ? c->opts : "");
			for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
				if (!cli_opt_by_name(tok))
					fail_msg("`accelctl %s` names --%s, which is no option", c->name, tok);
		}
}

/* The same options from the command line and the profile. */
static void same_options(const struct accel_opt *o, struct accel_ctx *cli, struct tune_profile *p)
{
	static struct accel_ctx ini;

	memset(&ini, 0, sizeof(ini));
	ini.attach.learn = -1;
	assert_int_equal(profile_merge_attach_opts(&ini, p), 0);
	assert_int_equal(cli->attach.set, 1u << accel_opt_bit(o));
	assert_int_equal(ini.attach.set, cli->attach.set);
	if (o->type == AOT_STRING || o->type == AOT_PATH) {
		const char **a = (const char **)((char *)&cli->attach + o->off);
		const char **b = (const char **)((char *)&ini.attach + o->off);

		assert_string_equal(*a, *b);
		*b = *a;
	}
	assert_memory_equal(&ini.attach, &cli->attach, sizeof(cli->attach));
}

static void test_cli_ini_parity(void **state)
{
	(void)state;
	accel_opt_for_each(f, o) {
		static struct accel_ctx cli;
		struct attach_opts scratch = { 0 };
		char good[64], bad[64], msg[1024], why[160], want[256];
		struct tune_profile *p;
		int err;

		values(o, good, bad, sizeof(good));
		assert_int_equal(cli_one(o, good, &cli, msg, sizeof(msg)), 0);
		if (!o->section) {
			/* command line only: no profile section takes it */
			p = ini_one(features[f]->name, o->name, good, &err);
			assert_int_equal(err, -ACCEL_ECONFIG);
			free(p);
			continue;
		}
		p = ini_one(o->section, o->name, good, &err);
		if (err)
			fail_msg("[%s] %s = %s: %s", o->section, o->name, good, p->err);
		same_options(o, &cli, p);
		free(p);
		if (o->type == AOT_STRING)
			continue;	/* any text goes */
		/* a bad value: refused by both, with the same reason */
		assert_int_equal(accel_opt_parse(o, &scratch, bad, why, sizeof(why)), -EINVAL);
		assert_int_equal(cli_one(o, bad, &cli, msg, sizeof(msg)), EXIT_USAGE);
		snprintf(want, sizeof(want), "--%s%s%s", o->name, accel_opt_sep(why), why);
		if (!strstr(msg, want))
			fail_msg("--%s %s: '%s' lacks '%s'", o->name, bad, msg, want);
		p = ini_one(o->section, o->name, bad, &err);
		assert_int_equal(err, -ACCEL_ECONFIG);
		snprintf(want, sizeof(want), "%s: %s", o->name, why);
		if (!strstr(p->err, want))
			fail_msg("[%s] %s = %s: '%s' lacks '%s'", o->section, o->name, bad, p->err, want);
		free(p);
		/* and only in its own section */
		p = ini_one(strcmp(o->section, "bypass") ? "bypass" : "netacct", o->name, good, &err);
		assert_int_equal(err, -ACCEL_ECONFIG);
		free(p);
	}
}

static void test_attach_help(void **state)
{
	char *help = run(ACCELCTL_BIN " attach --help");

	(void)state;
	accel_opt_for_each(f, o) {
		char want[128];

		snprintf(want, sizeof(want), "    --%s%s%s ", o->name, o->type == AOT_FLAG ? "" : " ",
			 o->type == AOT_FLAG ? "" : o->metavar);
		if (!strstr(help, want))
			fail_msg("`accelctl attach --help` lacks '%s'", want);
	}
	free(help);
}

/* "learn-conns" → "\-\-learn\-conns" */
static void roff_name(const char *name, char *buf, size_t len)
{
	size_t n = snprintf(buf, len, "\\-\\-");

	for (; *name && n + 3 < len; name++)
		n += snprintf(buf + n, len - n, *name == '-' ? "\\-" : "%c", *name);
}

/* The OPTIONS entry of --NAME: its tag line ("\-\-name" then no more of a
 * name), then its text up to the next entry, joined, without the font
 * requests and escapes; NULL when there is none. */
static char *man_entry(const char *man, const char *name, char *tag, size_t taglen)
{
	const char *s = strstr(man, "\n.SH OPTIONS\n"), *end, *line;
	char rn[96], *out, *w;

	assert_non_null(s);
	end = strstr(s + 1, "\n.SH ");
	roff_name(name, rn, sizeof(rn));
	for (line = s; line && line < end; line = strchr(line + 1, '\n')) {
		const char *hit = strstr(line, rn), *eol = strchr(line + 5, '\n');

		if (strncmp(line, "\n.TP\n.B", 7) || !hit || hit > eol)
			continue;
		hit += strlen(rn);
		if ((*hit >= 'a' && *hit <= 'z') || *hit == '\\')
			continue;
		line += 5;
		snprintf(tag, taglen, "%.*s", (int)(strchr(line, '\n') - line), line);
		break;
	}
	if (!line || line >= end)
		return NULL;
	out = w = calloc(1, 8192);
	assert_non_null(out);
	for (const char *c = line; *c && w < out + 8000; c++) {
		if (c != line && c[-1] == '\n' && (!strncmp(c, ".TP", 3) || !strncmp(c, ".S", 2)))
			break;
		if ((c == line || c[-1] == '\n') && *c == '.') {
			while (*c && *c != ' ' && *c != '\n')
				c++;	/* .B, .BR, .IR ... */
			if (*c == '\n')
				c--;
			continue;
		}
		if (*c == '\\' && c[1] == '(') {
			*w++ = '-';	/* \(en */
			c += 3;
		} else if (*c == '\\' || *c == '"') {
			continue;
		} else {
			*w++ = *c == '\n' ? ' ' : *c;
		}
	}
	return out;
}

static void check_man(const char *man, const struct accel_opt *o)
{
	const char *const *names = enum_names(o);
	char tag[256], want[128], *text = man_entry(man, o->name, tag, sizeof(tag)), *t = tag, *w = tag;

	if (!text)
		fail_msg("docs/accelctl.8 OPTIONS has no entry for --%s", o->name);
	/* the tag names the value: its metavar or every enum name */
	for (; *t; t++)
		if (*t != '"' && *t != ' ' && *t != '\\')
			*w++ = *t;
	*w = '\0';
	want[0] = '\0';
	for (int i = 0; names && names[i]; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s", i ? "|" : "", names[i]);
	if (o->type != AOT_FLAG && !strstr(tag, o->metavar) && !(names && strstr(tag, want)))
		fail_msg("docs/accelctl.8: --%s's entry '%s' does not show %s", o->name, tag, o->metavar);
	if (o->defval && !strstr(text, o->defval))
		fail_msg("docs/accelctl.8: --%s's entry does not give its default %s: %s", o->name, o->defval,
			 text);
	free(text);
}

static void test_man_page(void **state)
{
	char *man = slurp(ACCEL_SRCDIR "/docs/accelctl.8");

	(void)state;
	accel_opt_for_each(f, o)
		check_man(man, o);
	for (const struct accel_opt *o = cli_generic_opts; o->name; o++)
		check_man(man, o);
	free(man);
}

/* The completion completes every option's value: a few by name, the rest
 * from --help (a|b|c, or nothing for a number or a list); and names no
 * option that is not. */
static void test_completion(void **state)
{
	char *comp = slurp(ACCEL_SRCDIR "/scripts/accelctl.bash-completion");

	(void)state;
	assert_non_null(strstr(comp, "_accelctl_option_value \"$bin\" \"$cmd\" \"$prev\""));
	accel_opt_for_each(f, o) {
		const char *const *names = enum_names(o);
		char want[96], *hit;

		if (!names || strchr(o->metavar, '|'))
			continue;	/* completed from --help */
		snprintf(want, sizeof(want), "\t--%s)", o->name);
		hit = strstr(comp, want);
		if (!hit)
			fail_msg("completion: --%s %s: its values are not in --help, so it needs a case",
				 o->name, o->metavar);
		for (int i = 0; names[i]; i++)
			if (!strstr(hit, names[i]) || strstr(hit, names[i]) > strstr(hit, "return ;;"))
				fail_msg("completion: --%s does not complete %s", o->name, names[i]);
	}
	for (const char *c = strstr(comp, "\t--"); c; c = strstr(c + 1, "\t--")) {
		for (const char *t = c + 1; *t == '-' && t[1] == '-';) {
			char name[64];
			size_t l = strspn(t + 2, "abcdefghijklmnopqrstuvwxyz-");

			snprintf(name, sizeof(name), "%.*s", (int)l, t + 2);
			if (!cli_opt_by_name(name))
				fail_msg("completion names --%s, which accelctl does not have", name);
			t += 2 + l;
			if (*t == '|')
				t++;
		}
	}
	free(comp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_cli_ini_parity),
		cmocka_unit_test(test_attach_help),
		cmocka_unit_test(test_man_page),
		cmocka_unit_test(test_completion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
