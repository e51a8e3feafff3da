/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Shell patterns for ${v#p} ${v%p} ${v/p/r}, as BuildKit runs them: the
 * pattern is converted to a Go regular expression (convertShellPatternToRegex:
 * `*` is `.*` or `.*?`, `?` is `.`, `\*` `\?` `\\` are literals, `\}` and
 * `\/` drop their backslash, other regexp metacharacters are quoted, any
 * other escape is an error) and matched with Go's leftmost-first semantics.
 * kiln compiles the same conversion into a tiny program and runs it on a
 * Pike VM, which gives Go's match positions (`.` never matches a newline)
 * in time linear in the text for each search. Module-internal; tests use it.
 */
#include <stddef.h>
#include <stdint.h>

/* The end of the input as the lexers read it (text/scanner's EOF): no byte decodes to it. */
#define KILN_SHELL_RUNE_EOF ((int32_t)-1)

struct kiln_buf;
struct kiln_error;
struct kiln_shell_pattern;

/**
 * Compile `pat` (len bytes). `greedy` picks `.*` over `.*?` for `*`;
 * `anchored` matches only at the start of the text. When `ret_regex` is not
 * NULL the Go regexp text BuildKit would compile is appended to it. Errors:
 * KILN_EPARSE "invalid escape '\x'", KILN_ELIMIT for a pattern longer than
 * KILN_SHELL_MAX_PATTERN bytes, KILN_ENOMEM.
 */
int kiln_shell_pattern_compile(const char *pat, size_t len, int greedy, int anchored,
			       struct kiln_buf *ret_regex, struct kiln_shell_pattern **ret,
			       struct kiln_error *err) __attribute__((warn_unused_result));
void kiln_shell_pattern_free(struct kiln_shell_pattern *p);

/**
 * Leftmost-first match in s[0..len) starting the search at `from`: 1 with
 * [*ret_start, *ret_end), 0 when there is none. `work` is a budget of VM
 * steps shared by a whole expansion; when it runs out the call fails with
 * KILN_ELIMIT.
 */
int kiln_shell_pattern_find(struct kiln_shell_pattern *p, const char *s, size_t len, size_t from,
			    size_t *ret_start, size_t *ret_end, size_t *work,
			    struct kiln_error *err) __attribute__((warn_unused_result));

/** ${v#p} / ${v##p}: append `value` without its shortest (longest) matching prefix. */
int kiln_shell_trim_prefix(const char *pat, size_t plen, const char *value, size_t vlen,
			   int greedy, struct kiln_buf *out, size_t *work, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** ${v%p} / ${v%%p}: the same for suffixes, by reversing pattern and value as BuildKit does. */
int kiln_shell_trim_suffix(const char *pat, size_t plen, const char *value, size_t vlen,
			   int greedy, struct kiln_buf *out, size_t *work, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * ${v/p/r} (all = 0: first match, `repl` literal) and ${v//p/r} (all = 1:
 * every match, `repl` expanded as a Go regexp template, so `$0` is the match
 * and `$$` a dollar, as BuildKit's use of ReplaceAllString does).
 */
int kiln_shell_replace(const char *pat, size_t plen, const char *repl, size_t rlen,
		       const char *value, size_t vlen, int all, struct kiln_buf *out, size_t *work,
		       struct kiln_error *err) __attribute__((warn_unused_result));
