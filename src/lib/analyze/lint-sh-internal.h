/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Plumbing shared by the RUN-script parser's files (lint-sh.c, lint-sh-wrap.c). */

#include <ctype.h>
#include <stddef.h>
#include <string.h>

/* name[0..n) is the string literal lit: a length test and a memcmp of a known size */
#define LINT_SH_NAME_IS(name, n, lit) \
	((n) == sizeof(lit) - 1 && memcmp((name), (lit), sizeof(lit) - 1) == 0)

/* NAME=VALUE or NAME+=VALUE: an assignment, not a command's name */
static inline int lint_sh_is_assignment(const char *w)
{
	if (!(isalpha((unsigned char)*w) || *w == '_'))
		return 0;
	const char *q = w;
	while (isalnum((unsigned char)*q) || *q == '_')
		q++;
	if (*q == '+')
		q++;
	return *q == '=';
}

/** name[0..n) is a shell whose `-c` script is parsed (sh, bash, dash, ...). */
int lint_sh_is_shell_name(const char *name, size_t n);

/**
 * For a wrapper command name[0..n) (sudo, env, xargs, ...) with words
 * argv[0..argc): the index of the command it runs, or argc when name is no
 * wrapper, runs nothing, or is `command -v`/`-V`.
 */
size_t lint_sh_wrapped_at(const char *name, size_t n, char **argv, size_t argc);
