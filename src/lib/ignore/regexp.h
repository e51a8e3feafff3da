/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/*
 * A small regular-expression engine with Go's regexp semantics (RE2 syntax,
 * Perl flags, as regexp.Compile uses them) for the expressions that a
 * .dockerignore pattern compiles to. BuildKit hands `[...]` classes and `\`
 * escapes from a pattern straight to Go's regexp, so whatever Go accepts in
 * those places kiln must accept the same way: classes with ranges, `^`
 * negation, POSIX `[:name:]`, Perl `\d\s\w`, Unicode `\pL`/`\p{Greek}`,
 * escapes (`\x41`, `\x{263a}`, octal, `\n`...), `\Q...\E`, `\A`, `\z`, `\b`,
 * `\B`; `.`, `*`, `?`, groups and anchors. `|`, `+` and `{n,m}` can never
 * appear unescaped in a compiled pattern and are rejected as internal errors.
 *
 * Matching is a Thompson NFA simulation over runes (invalid UTF-8 reads as
 * U+FFFD, like Go), linear in the input; no backtracking.
 */

struct kiln_ignore_re;

/** Maximum length of an expression (bytes); longer ones fail with KILN_ELIMIT. */
#define KILN_IGNORE_RE_MAX_LEN ((size_t)1 << 20)

/**
 * Steps (live states times input runes) one match may take. Real patterns
 * need thousands; a hostile pattern against a long path could need
 * billions, and fails with KILN_ELIMIT instead.
 */
#define KILN_IGNORE_RE_MAX_WORK ((uint64_t)1 << 26)

/**
 * Compile `expr`. A syntax error fails with -KILN_EPARSE and Go's message
 * ("invalid character class range: `l-O`").
 */
int kiln_ignore_re_compile(const char *expr, size_t len, struct kiln_ignore_re **ret,
			struct kiln_error *err);
void kiln_ignore_re_free(struct kiln_ignore_re *re);

/**
 * regexp.MatchString: 1 if the expression matches somewhere in s, else 0;
 * -KILN_ELIMIT past KILN_IGNORE_RE_MAX_WORK. Not safe to call concurrently
 * on one compiled expression.
 */
int kiln_ignore_re_match(struct kiln_ignore_re *re, const char *s, size_t n);

/**
 * The same answers from the general simulation only, even when the program
 * has a faster form (for tests that compare the two).
 */
int kiln_ignore_re_match_general(struct kiln_ignore_re *re, const char *s, size_t n);
int kiln_ignore_re_prefix_viable_general(struct kiln_ignore_re *re, const char *s, size_t n);

/**
 * Whether some string that starts with s[0..n) could match (a conservative
 * answer: 1 unless no continuation of s can possibly match). Used to decide
 * that a directory's subtree cannot contain a match.
 */
int kiln_ignore_re_prefix_viable(struct kiln_ignore_re *re, const char *s, size_t n);

/**
 * The literal bytes every match must start with (after a leading `^`), and
 * those it must end with (before a trailing `$`); empty when there are none.
 * Pointers stay valid while `re` lives.
 */
void kiln_ignore_re_literals(const struct kiln_ignore_re *re, const char **prefix, size_t *prefix_len,
			  const char **suffix, size_t *suffix_len);
