/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Plumbing shared by the RUN-script parser's files (lint-sh.c, lint-sh-wrap.c). */

#include <ctype.h>
#include <stddef.h>
#include <string.h>

/* name[0..n) is the string literal lit: a length test and a memcmp of a known size */
#define LINT_SH_NAME_IS(name, n, lit) \
	((n) == sizeof(lit) - 1 && memcmp((name), (lit), sizeof(lit) - 1) == 0)

/* The bytes of a shell name, [A-Za-z0-9_]: a table, not isalnum() (the same in the C and
 * C.UTF-8 locales the CLI sets: no byte past ASCII is a letter there). 2: also a first byte. */
extern const unsigned char lint_sh_name_byte[256];

/* Bit n of entry c: a keyword of the parser (if, for, [[, ...) has n bytes and begins
 * with c (a word of 16 bytes or more is none). */
extern const unsigned short lint_sh_kw_lens[256];

/* NAME=VALUE or NAME+=VALUE: an assignment, not a command's name */
static inline int lint_sh_is_assignment(const char *w)
{
	if (lint_sh_name_byte[(unsigned char)*w] != 2)
		return 0;
	const unsigned char *q = (const unsigned char *)w + 1;
	while (lint_sh_name_byte[*q])
		q++;
	if (*q == '+')
		q++;
	return *q == '=';
}

/** w[0..n) is a reserved word the parser drops at a command's start (if, then, do, {, ...). */
int lint_sh_is_reserved_noop(const char *w, size_t n);

/** name[0..n) is a shell whose `-c` script is parsed (sh, bash, dash, ...). */
int lint_sh_is_shell_name(const char *name, size_t n);

/**
 * For a wrapper command name[0..n) (sudo, env, xargs, ...) with words
 * argv[0..argc): the index of the command it runs, or argc when name is no
 * wrapper, runs nothing, or is `command -v`/`-V`.
 */
size_t lint_sh_wrapped_at(const char *name, size_t n, char **argv, size_t argc);

/* Where a balanced (...) that begins before s[i] ends: the index of its ')' or len (quotes and
 * nested parens count). */
size_t lint_sh_match_paren(const char *s, size_t len, size_t i);
/* The same for ${...}: the index of its '}' or len. */
size_t lint_sh_match_brace(const char *s, size_t len, size_t i);
/* The index of the backquote that ends `...` (from s[i] on), or len. */
size_t lint_sh_match_backquote(const char *s, size_t len, size_t i);
