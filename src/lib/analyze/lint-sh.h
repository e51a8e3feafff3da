/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <string.h>

#include "base/error.h"

struct kiln_arena;

/*
 * A small parser for the shell scripts of RUN instructions: enough of POSIX
 * sh to find the simple commands a script runs and their words, which is
 * what the DL rules look at. It splits on `&&`, `||`, `;`, `&`, `|` and
 * newlines, removes quotes, skips redirections and here-document bodies,
 * looks through compound commands (if/for/while/case, subshells, braces),
 * command substitutions, `sh -c '...'` and wrappers such as `sudo`, `env`,
 * `xargs` (the wrapped command is reported as a command of its own).
 * Nothing is expanded: `$x` stays in the word as written.
 *
 * Bad input never fails the parse: an unterminated quote ends the word at
 * the end of the text, as a tolerant reader should for a linter.
 */

enum lint_sh_word_flags {
	LINT_SH_QUOTED = 1 << 0, /* some part was quoted */
	LINT_SH_EXPAND = 1 << 1, /* holds an unquoted or "..." `$` or backquote */
};

struct lint_sh_cmd {
	char **argv; /* words after quote removal; argv[0] is the command name */
	unsigned *wflags;
	size_t argc;
	size_t opt_end;   /* index of the first "--" argument (ends the flags), or argc */
	const char *name; /* basename of argv[0] */
	size_t name_len;  /* strlen(name): lint_sh_is() compares lengths first */
	int in_pipe;      /* part of a pipeline `a | b` */
	int wrapped;      /* found inside a wrapper (sudo X) or sh -c */
	int depth;        /* nesting: 0 top level, > 0 inside $(...), sh -c, ... */
};

struct lint_sh_script {
	struct lint_sh_cmd *cmds; /* in the order they appear */
	size_t n;
	size_t alloc;
	int has_pipe;      /* a `|` pipeline anywhere */
	int sets_pipefail; /* `set -o pipefail` before the first pipe */
	/* The commands, their words and argument vectors. Set it before parsing to share one
	 * arena among scripts (it must outlive them); NULL: the script makes
	 * its own, freed with it. */
	struct kiln_arena *arena;
	int own_arena;
};

#define LINT_SH_MAX_DEPTH 16
#define LINT_SH_MAX_COMMANDS 20000

/** Parse text[0..len), appending to ret. 0 or -KILN_ENOMEM (ret is left empty then). */
int lint_sh_parse(const char *text, size_t len, struct lint_sh_script *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** lint_sh_parse() of a text known to hold no NUL byte (an AST text, a C string). */
int lint_sh_parse_clean(const char *text, size_t len, struct lint_sh_script *ret,
			struct kiln_error *err) __attribute__((warn_unused_result));
/** Parse an exec-form argument vector as one command (sh -c is looked through). */
int lint_sh_parse_argv(const char *const *argv, size_t argc, struct lint_sh_script *ret,
		       struct kiln_error *err) __attribute__((warn_unused_result));
void lint_sh_script_release(struct lint_sh_script *s);
/* Questions about one command, with hadolint's notion of flags: `--name` and
 * `--name=value` give flag "name", `-abc` gives flags a, b and c; `-` and
 * `--` are no flags, and nothing after `--` is a flag. */

/** name[0..n) is one of the NULL-terminated list's entries. */
int lint_sh_flag_in(const char *name, size_t n, const char *const *list);

/** The command's name is `name` (its basename). Inline: the rules ask it of
 *  every command for every name they know, and most differ at once. */
static inline int lint_sh_is(const struct lint_sh_cmd *c, const char *name)
{
	/* a literal's length is a constant: a length test and an inlined memcmp,
	 * no strcmp call */
	if (__builtin_constant_p(__builtin_strlen(name)))
		return c->name_len == __builtin_strlen(name) &&
		       memcmp(c->name, name, __builtin_strlen(name)) == 0;
	return c->name[0] == name[0] && strcmp(c->name, name) == 0;
}
/** Some argument (not argv[0]) equals `arg`. Inline: asked of most commands, with a literal
 *  (which the compiler compares in place when it is short). */
static inline int lint_sh_has_arg(const struct lint_sh_cmd *c, const char *arg)
{
	for (size_t i = 1; i < c->argc; i++)
		if (c->argv[i][0] == arg[0] && strcmp(c->argv[i], arg) == 0)
			return 1;
	return 0;
}
/** Some argument starts with `prefix` (n: its strlen). */
int lint_sh_has_arg_prefix_n(const struct lint_sh_cmd *c, const char *prefix, size_t n);
static inline int lint_sh_has_arg_prefix(const struct lint_sh_cmd *c, const char *prefix)
{
	return lint_sh_has_arg_prefix_n(c, prefix, strlen(prefix));
}
/** The command has flag `flag` ("y", "no-cache"); fl: strlen(flag). */
int lint_sh_has_flag_n(const struct lint_sh_cmd *c, const char *flag, size_t fl);
/* Inline: the flags asked about are literals, measured by the compiler. */
static inline int lint_sh_has_flag(const struct lint_sh_cmd *c, const char *flag)
{
	return lint_sh_has_flag_n(c, flag, strlen(flag));
}
/** Is argv[i] a flag word? */
int lint_sh_arg_is_flag(const struct lint_sh_cmd *c, size_t i);
/**
 * The value of flag `flag`: the rest of `--flag=value`, of `-fvalue` for a
 * one-letter flag given alone, or the next word. NULL when absent.
 */
const char *lint_sh_flag_value_n(const struct lint_sh_cmd *c, const char *flag, size_t fl);
static inline const char *lint_sh_flag_value(const struct lint_sh_cmd *c, const char *flag)
{
	return lint_sh_flag_value_n(c, flag, strlen(flag));
}
/**
 * Index of the first non-flag argument after argv[0] (subcommand), skipping
 * the values of `value_flags` (NULL-terminated list of flag names that take
 * a value as the next word). argc when there is none.
 */
size_t lint_sh_first_operand(const struct lint_sh_cmd *c, const char *const *value_flags);
/**
 * Whether argv[i] is an operand: not a flag and not the value of one of
 * `value_flags`.
 */
int lint_sh_is_operand(const struct lint_sh_cmd *c, size_t i, const char *const *value_flags);
/** The flag a (an argument that is one) takes a value of value_flags: the next argument. */
int lint_sh_takes_value(const char *a, const char *const *value_flags);
