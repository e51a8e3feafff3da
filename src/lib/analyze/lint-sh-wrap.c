/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The commands the RUN-script parser looks through: the shells (their -c
 * script) and the wrappers that run another command (sudo X, env A=1 X).
 */
#include <string.h>

#include "base/alloc.h"
#include "lint-sh-internal.h"
#include "lint-sh.h"

/* the reserved words and keywords word_role() looks for, by first byte: bit n set when one
 * of n bytes begins with it */
const unsigned short lint_sh_kw_lens[256] = {
	['!'] = 1 << 1, ['{'] = 1 << 1, ['}'] = 1 << 1, ['['] = 1 << 2, ['i'] = 1 << 2,
	['f'] = 1 << 2 | 1 << 3 | 1 << 8, ['d'] = 1 << 2 | 1 << 4, ['t'] = 1 << 4, ['e'] = 1 << 4,
	['c'] = 1 << 4, ['w'] = 1 << 5, ['u'] = 1 << 5, ['s'] = 1 << 6,
};

const unsigned char lint_sh_name_byte[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1, ['A'] = 2, ['B'] = 2, ['C'] = 2, ['D'] = 2, ['E'] = 2, ['F'] = 2,
	['G'] = 2, ['H'] = 2, ['I'] = 2, ['J'] = 2, ['K'] = 2, ['L'] = 2, ['M'] = 2, ['N'] = 2,
	['O'] = 2, ['P'] = 2, ['Q'] = 2, ['R'] = 2, ['S'] = 2, ['T'] = 2, ['U'] = 2, ['V'] = 2,
	['W'] = 2, ['X'] = 2, ['Y'] = 2, ['Z'] = 2, ['_'] = 2, ['a'] = 2, ['b'] = 2, ['c'] = 2,
	['d'] = 2, ['e'] = 2, ['f'] = 2, ['g'] = 2, ['h'] = 2, ['i'] = 2, ['j'] = 2, ['k'] = 2,
	['l'] = 2, ['m'] = 2, ['n'] = 2, ['o'] = 2, ['p'] = 2, ['q'] = 2, ['r'] = 2, ['s'] = 2,
	['t'] = 2, ['u'] = 2, ['v'] = 2, ['w'] = 2, ['x'] = 2, ['y'] = 2, ['z'] = 2,
};

struct wrapper {
	const char *name;
	size_t len;                     /* strlen(name) */
	const char *const *value_flags; /* flags whose value is the next word */
	int operands;                   /* operands before the wrapped command */
	int assignments;                /* NAME=VALUE words are skipped (env) */
};

static const char *const sudo_vf[] = { "u", "g", "h", "p", "C", "U", "r", "t", "T", "D",
				       "user", "group", "host", "prompt", "close-from",
				       "other-user", "role", "type", "chdir", NULL };
static const char *const env_vf[] = { "u", "C", "unset", "chdir", NULL };
static const char *const nice_vf[] = { "n", "adjustment", NULL };
static const char *const timeout_vf[] = { "s", "k", "signal", "kill-after", NULL };
static const char *const xargs_vf[] = { "I", "n", "P", "L", "s", "d", "E", "a", "max-args",
					"max-procs", "max-lines", "max-chars", "delimiter",
					"arg-file", "replace", NULL };
static const char *const stdbuf_vf[] = { "i", "o", "e", "input", "output", "error", NULL };
static const char *const runuser_vf[] = { "u", "g", "G", "user", "group", "supp-group", NULL };
static const char *const none_vf[] = { NULL };
static const char *const exec_vf[] = { "a", NULL };
static const char *const ionice_vf[] = { "c", "n", "p", "class", "classdata", NULL };
static const char *const flock_vf[] = { "w", "E", "timeout", "conflict-exit-code", NULL };

/* Sorted by name: lint_sh_wrapped_at() stops at the first name past the command's first byte. */
static const struct wrapper wrappers[] = {
	{ "builtin", 7, none_vf, 0, 0 },    { "chroot", 6, none_vf, 1, 0 },
	{ "command", 7, none_vf, 0, 0 },    { "doas", 4, sudo_vf, 0, 0 },
	{ "eatmydata", 9, none_vf, 0, 0 },  { "env", 3, env_vf, 0, 1 },
	{ "exec", 4, exec_vf, 0, 0 },       { "flock", 5, flock_vf, 1, 0 },
	{ "gosu", 4, none_vf, 1, 0 },       { "ionice", 6, ionice_vf, 0, 0 },
	{ "nice", 4, nice_vf, 0, 0 },       { "nohup", 5, none_vf, 0, 0 },
	{ "runuser", 7, runuser_vf, 0, 0 }, { "stdbuf", 6, stdbuf_vf, 0, 0 },
	{ "su-exec", 7, none_vf, 1, 0 },    { "sudo", 4, sudo_vf, 0, 1 },
	{ "time", 4, none_vf, 0, 0 },       { "timeout", 7, timeout_vf, 1, 0 },
	{ "xargs", 5, xargs_vf, 0, 0 },
};

/* Index of the wrapped command in argv, or argc. */
static size_t wrapped_index(const struct wrapper *w, char **argv, size_t argc)
{
	int operands = w->operands;
	size_t i = 1;
	while (i < argc) {
		const char *a = argv[i];
		if ((a[0] == '-' && a[1] == '-' && !a[2])) {
			i++;
			break;
		}
		if (a[0] == '-' && a[1] == '-' && a[2]) {
			const char *eq = strchr(a + 2, '=');
			size_t n = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
			i++;
			if (!eq && lint_sh_flag_in(a + 2, n, w->value_flags))
				i++;
			continue;
		}
		if (a[0] == '-' && a[1]) {
			/* the last letter of a cluster may take the next word; a letter followed
			 * by more text holds its value itself (-u0, -oL) */
			size_t n = strlen(a + 1);
			i++;
			if (n == 1 && lint_sh_flag_in(a + 1, 1, w->value_flags))
				i++;
			else if (n > 1 && lint_sh_flag_in(a + 1, 1, w->value_flags))
				continue;
			else if (n > 1 && lint_sh_flag_in(a + n, 1, w->value_flags))
				i++;
			continue;
		}
		if (w->assignments && lint_sh_is_assignment(a)) {
			i++;
			continue;
		}
		if (operands > 0) {
			operands--;
			i++;
			continue;
		}
		break;
	}
	return i;
}

/* w[0..n) (its strlen) is if, then, else, elif, fi, do, done, while, until, !, {, } or time */
int lint_sh_is_reserved_noop(const char *w, size_t n)
{
	switch (n) {
	case 1:
		return w[0] == '!' || w[0] == '{' || w[0] == '}';
	case 2:
		return LINT_SH_NAME_IS(w, n, "if") || LINT_SH_NAME_IS(w, n, "fi") ||
		       LINT_SH_NAME_IS(w, n, "do");
	case 4:
		return LINT_SH_NAME_IS(w, n, "then") || LINT_SH_NAME_IS(w, n, "else") ||
		       LINT_SH_NAME_IS(w, n, "elif") || LINT_SH_NAME_IS(w, n, "done") ||
		       LINT_SH_NAME_IS(w, n, "time");
	case 5:
		return LINT_SH_NAME_IS(w, n, "while") || LINT_SH_NAME_IS(w, n, "until");
	default:
		return 0;
	}
}

int lint_sh_is_shell_name(const char *n, size_t len)
{
	/* by length: sh; ash zsh ksh; bash dash mksh */
	switch (len) {
	case 2:
		return n[0] == 's' && n[1] == 'h';
	case 3:
		return (n[0] == 'a' || n[0] == 'z' || n[0] == 'k') && n[1] == 's' && n[2] == 'h';
	case 4:
		return LINT_SH_NAME_IS(n, len, "bash") || LINT_SH_NAME_IS(n, len, "dash") ||
		       LINT_SH_NAME_IS(n, len, "mksh");
	default:
		return 0;
	}
}

size_t lint_sh_wrapped_at(const char *name, size_t n, char **argv, size_t argc)
{
	/* 1 + the index in wrappers[] of the first name that begins with the byte (0: none) */
	static const unsigned char wrapper_start[256] = {
		['b'] = 1,  ['c'] = 2,  ['d'] = 4,  ['e'] = 5,  ['f'] = 8,  ['g'] = 9,
		['i'] = 10, ['n'] = 11, ['r'] = 13, ['s'] = 14, ['t'] = 17, ['x'] = 19,
	};
	size_t w0 = wrapper_start[(unsigned char)name[0]];
	for (size_t w = w0 - 1; w0 && w < KILN_ARRAY_SIZE(wrappers); w++) {
		if (wrappers[w].name[0] != name[0])
			return argc; /* past the names that begin as name does */
		if (wrappers[w].len != n || memcmp(name, wrappers[w].name, n) != 0)
			continue;
		if (LINT_SH_NAME_IS(name, n, "command"))
			for (size_t i = 1; i < argc; i++)
				if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "-V"))
					return argc;
		return wrapped_index(&wrappers[w], argv, argc);
	}
	return argc;
}

/* Find the end of a balanced (...) starting after the opening '('; returns
 * the index of the closing ')' or len. Quotes and nested parens count. */
size_t lint_sh_match_paren(const char *s, size_t len, size_t i)
{
	int depth = 1;
	while (i < len) {
		char c = s[i];
		if (c == '\\' && i + 1 < len) {
			i += 2;
			continue;
		}
		if (c == '\'') {
			i++;
			while (i < len && s[i] != '\'')
				i++;
			i++;
			continue;
		}
		if (c == '"') {
			i++;
			while (i < len && s[i] != '"') {
				if (s[i] == '\\')
					i++;
				i++;
			}
			i++;
			continue;
		}
		if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0)
			return i;
		i++;
	}
	return len;
}

size_t lint_sh_match_brace(const char *s, size_t len, size_t i)
{
	int depth = 1;
	while (i < len) {
		if (s[i] == '\\' && i + 1 < len) {
			i += 2;
			continue;
		}
		if (s[i] == '{')
			depth++;
		else if (s[i] == '}' && --depth == 0)
			return i;
		i++;
	}
	return len;
}

size_t lint_sh_match_backquote(const char *s, size_t len, size_t i)
{
	while (i < len && s[i] != '`') {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		i++;
	}
	return i;
}
