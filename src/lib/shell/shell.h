/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Word expansion with BuildKit's shell-lexer semantics (its
 * frontend/dockerfile/shell package): quotes, escapes, `$v`, `${v}` and the
 * modifiers `:-` `-` `:+` `+` `:?` `?` `#` `##` `%` `%%` `/` `//`, special
 * and positional parameters (always unset), and word splitting on unquoted
 * whitespace. Results, error messages and the used-variable sets are
 * BuildKit's; docs/internals/shell.md says where that is surprising.
 *
 *     struct kiln_shell_lex lex = { .escape = '\\' };
 *     struct kiln_shell_result res = KILN_SHELL_RESULT_INIT;
 *     r = kiln_shell_expand(&lex, "${NAME:-app}.tar", &env, &res, err);
 *     ... res.word, res.words, res.matched, res.unmatched ...
 *     kiln_shell_result_release(&res);
 */
#include <stddef.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/strv.h"

/** Nesting depth of `${...}` inside `${...}`: deeper input fails with KILN_ELIMIT. */
#define KILN_SHELL_MAX_DEPTH 64
/** Bytes of any expansion result (and of each intermediate word): KILN_ELIMIT past it. */
#define KILN_SHELL_MAX_OUTPUT ((size_t)16 << 20) /* a Dockerfile's size: a heredoc */
/** Bytes of a #, %, / pattern after its own expansion. */
#define KILN_SHELL_MAX_PATTERN ((size_t)1 << 16)
/** Pattern-matching steps one expansion may spend (bounds `${v//p/r}` on long values). */
#define KILN_SHELL_MAX_MATCH_WORK ((size_t)1 << 26)

/** BuildKit's Lex options. */
enum kiln_shell_flags {
	/** Keep quote characters in the result (their contents are still processed). */
	KILN_SHELL_RAW_QUOTES = 1 << 0,
	/** Keep escape characters in the result (the escaped character stays literal). */
	KILN_SHELL_RAW_ESCAPES = 1 << 1,
	/** Quotes are ordinary characters: no quote removal, `$` expands everywhere. */
	KILN_SHELL_SKIP_PROCESS_QUOTES = 1 << 2,
	/** A reference to an unset variable stays as written (`$x`, `${x:-w}`). */
	KILN_SHELL_SKIP_UNSET_ENV = 1 << 3,
	/** Leave the result's `words` empty: no split, for callers that read only the word. */
	KILN_SHELL_NO_WORDS = 1 << 4,
	/** Leave the result's `matched` empty: for callers that read only the unset names. */
	KILN_SHELL_NO_MATCHED = 1 << 5,
};

/** How to lex: the escape character (0 means `\`; a Dockerfile may choose '`') and flags. */
struct kiln_shell_lex {
	char escape;
	unsigned flags; /* enum kiln_shell_flags */
};

/**
 * Where variables come from. `lookup` returns 1 and points *ret_value at the
 * value (NUL-terminated, owned by the environment, valid during the call)
 * when `name` is set, even to "", and 0 when it is unset. Names are
 * compared exactly (Linux semantics: case-sensitive).
 */
struct kiln_shell_env {
	int (*lookup)(void *userdata, const char *name, const char **ret_value);
	void *userdata;
	/* optional: lookup of the `len` bytes at `name` (not NUL-terminated), no copy */
	int (*lookup_n)(void *userdata, const char *name, size_t len, const char **ret_value);
};

/**
 * A ready-made environment: an ordered list of NAME=VALUE where a later
 * entry for a name replaces the earlier one (BuildKit's EnvsFromSlice).
 */
struct kiln_shell_envlist;
struct kiln_arena;

int kiln_shell_envlist_new(struct kiln_shell_envlist **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
/**
 * A list whose every allocation comes from `a` (NULL: the heap, as
 * kiln_shell_envlist_new()): for the many short-lived lists of one walk,
 * where kiln_shell_envlist_free() then frees nothing and the arena all.
 */
int kiln_shell_envlist_new_in(struct kiln_arena *a, struct kiln_shell_envlist **ret,
			      struct kiln_error *err) __attribute__((warn_unused_result));
void kiln_shell_envlist_free(struct kiln_shell_envlist *l);
KILN_DEFINE_CLEANUP(struct kiln_shell_envlist, kiln_shell_envlist_free)

/**
 * A copy of `src` whose entries share src's strings until they are set
 * again: one allocation for the list and two for its arrays, however many
 * entries. `src` must not change and must outlive the copy (it may be read
 * by several threads at once). Errors: KILN_ENOMEM.
 */
int kiln_shell_envlist_copy_shared(const struct kiln_shell_envlist *src,
				   struct kiln_shell_envlist **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** The same, the copy in `a` (kiln_shell_envlist_new_in()). */
int kiln_shell_envlist_copy_shared_in(struct kiln_arena *a, const struct kiln_shell_envlist *src,
				      struct kiln_shell_envlist **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
/**
 * kiln_shell_envlist_copy_shared_in() that copies src's entries and index
 * only when the copy first changes (a name kept by
 * kiln_shell_envlist_default_borrowed() is no change): for copies that are
 * mostly only read. The same conditions on `src`.
 */
int kiln_shell_envlist_borrow_in(struct kiln_arena *a, const struct kiln_shell_envlist *src,
				 struct kiln_shell_envlist **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
/**
 * Add "NAME=VALUE" (split at the first '='; "NAME" alone sets NAME to "").
 * Errors: KILN_ENOMEM.
 */
int kiln_shell_envlist_put(struct kiln_shell_envlist *l, const char *entry, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Set `name` to `value` (copies both). */
int kiln_shell_envlist_set(struct kiln_shell_envlist *l, const char *name, const char *value,
			   struct kiln_error *err) __attribute__((warn_unused_result));
/**
 * The same without copying: `name` and `value` are kept as they are and
 * must outlive the list (and every copy of it); for a walk's lists whose
 * strings live in its arena or in a model that outlives it.
 */
int kiln_shell_envlist_set_borrowed(struct kiln_shell_envlist *l, const char *name,
				    const char *value, struct kiln_error *err)
	__attribute__((warn_unused_result));
/**
 * The value of the i-th name (in first-set order) replaced by `value`,
 * borrowed as kiln_shell_envlist_set_borrowed() borrows it, without a
 * lookup; for a list in an arena or a shared copy (whose entries own
 * nothing). 0, or -1 when there is no i-th name (or, for an arena copy,
 * no memory for its own entries).
 */
int kiln_shell_envlist_set_value_at(struct kiln_shell_envlist *l, size_t i, const char *value);
/** kiln_shell_envlist_set_borrowed() unless `name` is set: one lookup, not two. */
int kiln_shell_envlist_default_borrowed(struct kiln_shell_envlist *l, const char *name,
					const char *value, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** The value of `name`, or NULL when unset. */
const char *kiln_shell_envlist_get(const struct kiln_shell_envlist *l, const char *name);
/** Distinct names, in the order they were first set. */
size_t kiln_shell_envlist_count(const struct kiln_shell_envlist *l);
const char *kiln_shell_envlist_name(const struct kiln_shell_envlist *l, size_t i);
/** A kiln_shell_env reading `l` (which must outlive its use). */
struct kiln_shell_env kiln_shell_envlist_env(const struct kiln_shell_envlist *l);

/** What one expansion produced; every member is owned by the result. */
struct kiln_shell_result {
	/** The expansion as one string (BuildKit's ProcessWord). */
	char *word;
	/** The expansion split on unquoted whitespace (BuildKit's ProcessWords). */
	struct kiln_strv words;
	/** Sorted, distinct names the word looked up that were set... */
	struct kiln_strv matched;
	/** ...and that were unset (for UndefinedVar; may hold "" for `${+x}`-like input). */
	struct kiln_strv unmatched;
};

#define KILN_SHELL_RESULT_INIT                                                                   \
	{                                                                                        \
		NULL, KILN_STRV_INIT, KILN_STRV_INIT, KILN_STRV_INIT                             \
	}

void kiln_shell_result_release(struct kiln_shell_result *r);

/**
 * Expand `word` (NUL-terminated) with `lex` (NULL: `\` and no flags) and
 * `env` (NULL: nothing is set) into `ret`, which must be initialized with
 * KILN_SHELL_RESULT_INIT and is released first. On failure `ret` is left
 * empty and `err` holds BuildKit's message, e.g.
 * `failed to process "${x:?}": x: is not allowed to be unset`:
 * KILN_EPARSE for syntax errors (unterminated quotes or braces, bad
 * substitution, unsupported modifier, invalid pattern), KILN_EINVAL for a
 * `?` modifier that fired, KILN_ELIMIT past the limits above, KILN_ENOMEM.
 */
int kiln_shell_expand(const struct kiln_shell_lex *lex, const char *word,
		      const struct kiln_shell_env *env, struct kiln_shell_result *ret,
		      struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * The same with the word left in `scratch` (emptied first; ret->word stays
 * NULL): a caller expanding many words reuses one buffer, no allocation per
 * word. The caller releases `scratch` (kiln_buf_release).
 */
struct kiln_buf;
int kiln_shell_expand_scratch(const struct kiln_shell_lex *lex, const char *word,
			      const struct kiln_shell_env *env, struct kiln_shell_result *ret,
			      struct kiln_buf *scratch, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** ProcessWord: the expansion as one string in *ret (caller frees). */
int kiln_shell_process_word(const struct kiln_shell_lex *lex, const char *word,
			    const struct kiln_shell_env *env, char **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** ProcessWords: the split words appended to `ret`. */
int kiln_shell_process_words(const struct kiln_shell_lex *lex, const char *word,
			     const struct kiln_shell_env *env, struct kiln_strv *ret,
			     struct kiln_error *err) __attribute__((warn_unused_result));
