/* SPDX-License-Identifier: Apache-2.0 */
/* Questions the rules ask of one parsed command: its arguments, flags and operands. */
#include <string.h>

#include "lint-sh.h"

int lint_sh_flag_in(const char *name, size_t n, const char *const *list)
{
	/* the first bytes first: most entries differ there, and need not be measured */
	for (size_t i = 0; list && list[i]; i++)
		if ((!n || list[i][0] == name[0]) && strlen(list[i]) == n &&
		    memcmp(list[i], name, n) == 0)
			return 1;
	return 0;
}

int lint_sh_has_arg_prefix_n(const struct lint_sh_cmd *c, const char *prefix, size_t n)
{
	for (size_t i = 1; i < c->argc; i++)
		if (strncmp(c->argv[i], prefix, n) == 0)
			return 1;
	return 0;
}

int lint_sh_arg_is_flag(const struct lint_sh_cmd *c, size_t i)
{
	if (i == 0 || i >= c->argc || i >= c->opt_end)
		return 0;
	const char *a = c->argv[i];
	return a[0] == '-' && a[1] && !(a[1] == '-' && !a[2]); /* "--" is none */
}

/* For an argument "--NAME" or "--NAME=VALUE" whose NAME is flag[0..fl): where
 * NAME ends (at '=' or the end); else NULL. */
static const char *long_flag_end(const char *a, const char *flag, size_t fl)
{
	const char *eq = strchr(a + 2, '=');
	size_t n = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
	return n == fl && memcmp(a + 2, flag, n) == 0 ? a + 2 + n : NULL;
}

int lint_sh_has_flag_n(const struct lint_sh_cmd *c, const char *flag, size_t fl)
{
	size_t end = c->opt_end;
	for (size_t i = 1; i < end; i++) {
		const char *a = c->argv[i];
		if (a[0] != '-' || !a[1])
			continue;
		if (a[1] == '-') {
			if (long_flag_end(a, flag, fl))
				return 1;
		} else if (fl == 1 && strchr(a + 1, flag[0])) {
			return 1;
		}
	}
	return 0;
}

const char *lint_sh_flag_value_n(const struct lint_sh_cmd *c, const char *flag, size_t fl)
{
	size_t end = c->opt_end;
	for (size_t i = 1; i < end; i++) {
		const char *a = c->argv[i];
		if (a[0] != '-' || !a[1])
			continue;
		if (a[1] == '-') {
			const char *name_end = long_flag_end(a, flag, fl);
			if (name_end && *name_end == '=')
				return name_end + 1;
			if (name_end)
				return i + 1 < c->argc ? c->argv[i + 1] : NULL;
		} else if (fl == 1) {
			if (a[1] == flag[0] && a[2])
				return a + 2;
			size_t n = strlen(a + 1);
			if (a[n] == flag[0])
				return i + 1 < c->argc ? c->argv[i + 1] : NULL;
		}
	}
	return NULL;
}

int lint_sh_takes_value(const char *a, const char *const *value_flags)
{
	if (!value_flags || a[0] != '-' || !a[1])
		return 0;
	if (a[1] == '-') {
		if (strchr(a, '='))
			return 0;
		return lint_sh_flag_in(a + 2, strlen(a + 2), value_flags);
	}
	size_t n = strlen(a + 1);
	return lint_sh_flag_in(a + n, 1, value_flags);
}

int lint_sh_is_operand(const struct lint_sh_cmd *c, size_t i, const char *const *value_flags)
{
	if (i == 0 || i >= c->argc)
		return 0;
	size_t end = c->opt_end;
	if (i == end)
		return 0;
	if (i > end)
		return 1;
	if (lint_sh_arg_is_flag(c, i))
		return 0;
	if (i > 1 && lint_sh_arg_is_flag(c, i - 1) &&
	    lint_sh_takes_value(c->argv[i - 1], value_flags))
		return 0;
	return 1;
}

size_t lint_sh_first_operand(const struct lint_sh_cmd *c, const char *const *value_flags)
{
	if (!value_flags) {
		/* no flag takes a value: the first word that is no flag, or the one after "--" */
		for (size_t i = 1; i < c->argc; i++) {
			const char *a = c->argv[i];
			if (i > c->opt_end || (i < c->opt_end && !(a[0] == '-' && a[1])))
				return i;
		}
		return c->argc;
	}
	for (size_t i = 1; i < c->argc; i++)
		if (lint_sh_is_operand(c, i, value_flags))
			return i;
	return c->argc;
}
