/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_print_help(FILE *out, const struct cli_spec *spec)
{
	fprintf(out, "usage: %s\n", spec->usage);
	if (spec->summary)
		fprintf(out, "\n%s\n", spec->summary);
	int any = 0;
	for (const struct cli_opt *o = spec->opts; o && o->long_name; o++) {
		if (!any)
			fputs("\noptions:\n", out);
		any = 1;
		char left[96];
		int n;
		if (o->short_name)
			n = snprintf(left, sizeof(left), "-%c, --%s", o->short_name, o->long_name);
		else
			n = snprintf(left, sizeof(left), "    --%s", o->long_name);
		if (o->metavar && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n,
				 o->type == CLI_OPT_OPTIONAL ? "[=%s]" : " %s", o->metavar);
		fprintf(out, "  %-28s %s\n", left, o->help ? o->help : "");
	}
	if (!any || 1)
		fprintf(out, "  %-28s %s\n", "-h, --help", "show this help");
	if (spec->details)
		fprintf(out, "\n%s\n", spec->details);
}

int cli_usage_error(const struct cli_spec *spec, const char *fmt, ...)
{
	va_list ap;
	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (spec)
		fprintf(stderr, "usage: %s\n", spec->usage);
	return CLI_EXIT_USAGE;
}

static int set_value(const struct cli_spec *spec, const struct cli_opt *o, const char *name,
		     const char *value)
{
	switch (o->type) {
	case CLI_OPT_FLAG:
		*(int *)o->target = 1;
		return 0;
	case CLI_OPT_STRING:
	case CLI_OPT_OPTIONAL:
		*(const char **)o->target = value;
		return 0;
	case CLI_OPT_LIST:
		if (kiln_strv_push((struct kiln_strv *)o->target, value) < 0) {
			fputs("error: out of memory\n", stderr);
			return -1;
		}
		return 0;
	case CLI_OPT_INT: {
		char *end = NULL;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || !*value || *end) {
			cli_usage_error(spec, "option %s wants a number, not '%s'", name, value);
			return -1;
		}
		*(long *)o->target = v;
		return 0;
	}
	}
	return -1;
}

static const struct cli_opt *find_long(const struct cli_spec *spec, const char *name, size_t len)
{
	for (const struct cli_opt *o = spec->opts; o && o->long_name; o++)
		if (strlen(o->long_name) == len && memcmp(o->long_name, name, len) == 0)
			return o;
	return NULL;
}

static const struct cli_opt *find_short(const struct cli_spec *spec, int c)
{
	for (const struct cli_opt *o = spec->opts; o && o->long_name; o++)
		if (o->short_name == c)
			return o;
	return NULL;
}

int cli_parse(int argc, char **argv, const struct cli_spec *spec, struct kiln_strv *positional)
{
	int only_positional = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (only_positional || a[0] != '-' || a[1] == '\0') {
			if (kiln_strv_push(positional, a) < 0) {
				fputs("error: out of memory\n", stderr);
				return -1;
			}
			if (spec->flags & CLI_PARSE_STOP_AT_POSITIONAL)
				only_positional = 1;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_positional = 1;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			cli_print_help(stdout, spec);
			return 1;
		}
		if (a[1] == '-') {
			const char *name = a + 2;
			const char *eq = strchr(name, '=');
			size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
			const struct cli_opt *o = find_long(spec, name, nlen);
			if (!o) {
				cli_usage_error(spec, "unknown option '--%.*s'", (int)nlen, name);
				return -1;
			}
			const char *value = NULL;
			if (o->type == CLI_OPT_FLAG) {
				if (eq) {
					cli_usage_error(spec, "option '--%s' takes no value",
							o->long_name);
					return -1;
				}
			} else if (o->type == CLI_OPT_OPTIONAL) {
				value = eq ? eq + 1 : "";
			} else if (eq) {
				value = eq + 1;
			} else if (i + 1 < argc) {
				value = argv[++i];
			} else {
				cli_usage_error(spec, "option '--%s' needs a value", o->long_name);
				return -1;
			}
			if (set_value(spec, o, a, value) < 0)
				return -1;
			continue;
		}
		/* one or more short options: -abc, -fFILE, -f FILE, -f=FILE (as
		 * docker's pflag reads it) */
		for (const char *p = a + 1; *p; p++) {
			const struct cli_opt *o = find_short(spec, (unsigned char)*p);
			if (!o) {
				cli_usage_error(spec, "unknown option '-%c'", *p);
				return -1;
			}
			if (o->type == CLI_OPT_FLAG) {
				*(int *)o->target = 1;
				continue;
			}
			const char *value;
			if (p[1]) {
				value = p + 1 + (p[1] == '=');
			} else if (o->type == CLI_OPT_OPTIONAL) {
				value = "";
			} else if (i + 1 < argc) {
				value = argv[++i];
			} else {
				cli_usage_error(spec, "option '-%c' needs a value", *p);
				return -1;
			}
			char nm[3] = { '-', *p, 0 };
			if (set_value(spec, o, nm, value) < 0)
				return -1;
			break;
		}
	}
	return 0;
}

int cli_report(struct cli_env *env, struct kiln_error *err)
{
	(void)env;
	char *s = kiln_error_format(err);
	fprintf(stderr, "error: %s\n", s ? s : (err->msg ? err->msg : "unknown error"));
	free(s);
	kiln_error_release(err);
	return CLI_EXIT_FAIL;
}

int cli_flag_error(struct cli_env *env, const struct cli_spec *spec, const char *flag,
		   struct kiln_error *err)
{
	if (err->code == KILN_ENOMEM)
		return cli_report(env, err);
	int rc = cli_usage_error(spec, "%s: %s", flag, err->msg ? err->msg : "invalid value");
	kiln_error_release(err);
	return rc;
}

void cli_warn(struct cli_env *env, const char *fmt, ...)
{
	(void)env;
	va_list ap;
	fputs("warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
