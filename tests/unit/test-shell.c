/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the shell module beyond the conformance data: the backtick
 * escape, the lexer options, word splitting, used-name sets, exact error
 * messages, pattern semantics (Go's leftmost-first, `.` and newlines, the
 * replacement template), Unicode and invalid UTF-8, and the limits.
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "shell/pattern.h"
#include "shell/shell.h"
#include "tap.h"

#define FFFD "\xEF\xBF\xBD"

struct env_case {
	const char *entries[6];
};

static struct kiln_shell_envlist *make_env(const char *const *entries)
{
	struct kiln_shell_envlist *l = NULL;
	if (kiln_shell_envlist_new(&l, NULL) < 0)
		abort();
	for (size_t i = 0; entries && entries[i]; i++)
		if (kiln_shell_envlist_put(l, entries[i], NULL) < 0)
			abort();
	return l;
}

/* One expansion: the result, or "error: <message>" on failure. */
static char *expand_str(char escape, unsigned flags, const char *word, const char *const *entries)
{
	cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *l = make_env(entries);
	struct kiln_shell_env env = kiln_shell_envlist_env(l);
	struct kiln_shell_lex lex = { escape, flags };
	struct kiln_error err = KILN_ERROR_INIT;
	char *out = NULL;
	if (kiln_shell_process_word(&lex, word, &env, &out, &err) < 0) {
		out = kiln_asprintf("error: %s", err.msg ? err.msg : "?");
		kiln_error_release(&err);
	}
	return out;
}

struct word_case {
	char escape;
	unsigned flags;
	const char *word;
	const char *env[4];
	const char *want;
};

static const struct word_case word_cases[] = {
	/* The backtick escape (`# escape=``): backslashes are ordinary. */
	{ '`', 0, "a`$b", { 0 }, "a$b" },
	{ '`', 0, "C:\\path\\to", { 0 }, "C:\\path\\to" },
	{ '`', 0, "\"say `\"hi`\"\"", { 0 }, "say \"hi\"" },
	{ '`', 0, "\"a`tb\"", { 0 }, "a`tb" },
	{ '`', 0, "x``y", { 0 }, "x`y" },
	/* Raw escapes stay in a pattern, where only `\` escapes: "`" is a literal there. */
	{ '`', 0, "${v#`*}|${w#`*}", { "v=*a", "w=`xa" }, "*a|xa" },
	{ '`', 0, "end`", { 0 }, "end" },
	/* RawQuotes keeps the quotes, still processes what is inside. */
	{ '\\', KILN_SHELL_RAW_QUOTES, "\"a $A\" 'b $A'", { "A=1" }, "\"a 1\" 'b $A'" },
	{ '\\', KILN_SHELL_RAW_QUOTES, "x${u:-'y'}", { 0 }, "x'y'" },
	/* RawEscapes keeps escape characters; inside "" an escape before another char doubles. */
	{ '\\', KILN_SHELL_RAW_ESCAPES, "a\\b\\$c", { 0 }, "a\\b\\$c" },
	{ '\\', KILN_SHELL_RAW_ESCAPES, "\"a\\tb\"", { 0 }, "a\\\\tb" },
	{ '\\', KILN_SHELL_RAW_ESCAPES, "\"a\\\"b\"", { 0 }, "a\\\"b" },
	/* SkipProcessQuotes: quotes are text and $ expands inside them. */
	{ '\\', KILN_SHELL_SKIP_PROCESS_QUOTES, "'$A' \"$A\"", { "A=1" }, "'1' \"1\"" },
	{ '\\', KILN_SHELL_SKIP_PROCESS_QUOTES, "'open", { 0 }, "'open" },
	/* SkipUnsetEnv writes unset references back as written. */
	{ '\\', KILN_SHELL_SKIP_UNSET_ENV, "$u ${u} $s", { "s=set" }, "$u ${u} set" },
	{ '\\', KILN_SHELL_SKIP_UNSET_ENV, "${u:-w} ${u+x} ${u%%a}", { 0 }, "${u:-w} ${u+x} ${u%%a}" },
	{ '\\', KILN_SHELL_SKIP_UNSET_ENV, "${u//a/b}", { 0 }, "${u/a/b}" },
	{ '\\', KILN_SHELL_SKIP_UNSET_ENV, "${s:-w}", { "s=" }, "w" },
	/* Trims: shortest/longest, prefix/suffix. */
	{ '\\', 0, "${p#*/}|${p##*/}|${p%/*}|${p%%/*}", { "p=a/b/c" }, "b/c|c|a/b|a" },
	{ '\\', 0, "${p#x}|${p%x}|${p#}|${p%%}", { "p=abc" }, "abc|abc|abc|abc" },
	{ '\\', 0, "${f%.tar.gz}", { "f=app-1.0.tar.gz" }, "app-1.0" },
	{ '\\', 0, "${f%.*}", { "f=a.b.c" }, "a.b" },
	{ '\\', 0, "${f%%.*}", { "f=a.b.c" }, "a" },
	{ '\\', 0, "${f#\\*}", { "f=*a" }, "a" },
	/* `.` never matches a newline (Go regexp without the s flag). */
	{ '\\', 0, "${v##*}|", { "v=a\nb" }, "\nb|" },
	{ '\\', 0, "${v%%*}|", { "v=a\nb" }, "a\n|" },
	{ '\\', 0, "${v//?/.}", { "v=a\nb" }, ".\n." },
	/* Replacement: first match literal, all matches through Go's template. */
	{ '\\', 0, "${v/o/0} ${v//o/0}", { "v=foo" }, "f0o f00" },
	{ '\\', 0, "${v/o/'[$0]'} ${v//o/'[$0]'}", { "v=foo" }, "f[$0]o f[o][o]" },
	{ '\\', 0, "${v//o/'$$'}|${v//o/'${0}'}|${v//o/'$1'}|${v//o/'$x.'}", { "v=fo" },
	  "f$|fo|f|f." },
	{ '\\', 0, "${v//o/'$'}|${v//o/'${0'}", { "v=fo" }, "f$|f${0" },
	{ '\\', 0, "${v//$E/-}", { "v=ab", "E=" }, "-a-b-" },
	{ '\\', 0, "${v//*/x}|${v/*/x}", { "v=ab" }, "x|x" },
	{ '\\', 0, "${v//a*/x}", { "v=ba\nab" }, "bx\nx" },
	{ '\\', 0, "${v/\\}/x}${v//\\//-}", { "v=}/" }, "x/}-" },
	{ '\\', 0, "${u/a/b}|${u//a/b}", { 0 }, "|" },
	/* Unicode names, values and patterns; invalid UTF-8 reads as U+FFFD as in Go. */
	{ '\\', 0, "${K%어}|${K#?}|$K", { "K=한국어" }, "한국|국어|한국어" },
	{ '\\', 0, "$名字", { "名字=x" }, "x" },
	{ '\\', 0, "$١٢x", { 0 }, "x" }, /* a run of (Arabic-Indic) digits is positional */
	{ '\\', 0, "a\xff" "b", { 0 }, "a" FFFD "b" },
	{ '\\', 0, "${v%b}", { "v=\xff" "ab" }, FFFD "a" },
	{ '\\', 0, "${v#a}", { "v=a\xff" }, "\xff" },
	{ '\\', 0, "\xEF\xBB\xBF$A", { "A=1" }, "1" }, /* a leading BOM is skipped */
	{ '\\', 0, "x\xEF\xBB\xBF", { 0 }, "x\xEF\xBB\xBF" },
	/* Special and positional parameters are never set but can be defaulted. */
	{ '\\', 0, "[$#][$?][$$][${10:-ten}][$0x]", { 0 }, "[][][][ten][x]" },
	/* A later definition wins; a bare name is set to "". */
	{ '\\', 0, "${A}|${B-unset}", { "A=1", "A=2", "B" }, "2|" },
};

static void test_words(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(word_cases); i++) {
		const struct word_case *c = &word_cases[i];
		cleanup_free char *got = expand_str(c->escape, c->flags, c->word, c->env);
		TAP_STR_EQ(got, c->want, "expand [%c %u] %s", c->escape, c->flags, c->word);
	}
}

struct error_case {
	const char *word;
	const char *env[3];
	enum kiln_err code;
	const char *msg;
};

static const struct error_case error_cases[] = {
	{ "${x:?}", { 0 }, KILN_EINVAL,
	  "failed to process \"${x:?}\": x: is not allowed to be unset" },
	{ "${x:?}", { "x=" }, KILN_EINVAL,
	  "failed to process \"${x:?}\": x: is not allowed to be empty" },
	{ "${x?need $y}", { "y=it" }, KILN_EINVAL, "failed to process \"${x?need $y}\": x: need it" },
	{ "${x", { 0 }, KILN_EPARSE,
	  "failed to process \"${x\": unsupported modifier (" FFFD ") in substitution" },
	{ "${x:", { 0 }, KILN_EPARSE, "failed to process \"${x:\": syntax error: missing '}'" },
	{ "${x:-a", { 0 }, KILN_EPARSE, "failed to process \"${x:-a\": syntax error: missing '}'" },
	{ "${", { 0 }, KILN_EPARSE, "failed to process \"${\": syntax error: missing '}'" },
	{ "${}", { 0 }, KILN_EPARSE, "failed to process \"${}\": syntax error: bad substitution" },
	{ "${:-a}", { 0 }, KILN_EPARSE,
	  "failed to process \"${:-a}\": syntax error: bad substitution" },
	{ "'abc", { 0 }, KILN_EPARSE,
	  "failed to process \"'abc\": unexpected end of statement while looking for matching "
	  "single-quote" },
	{ "\"abc", { 0 }, KILN_EPARSE,
	  "failed to process \"\\\"abc\": unexpected end of statement while looking for matching "
	  "double-quote" },
	{ "${x/a", { 0 }, KILN_EPARSE,
	  "failed to process \"${x/a\": syntax error: missing '/' in ${}" },
	{ "${x/a/b", { 0 }, KILN_EPARSE, "failed to process \"${x/a/b\": syntax error: missing '}'" },
	{ "${x#\\x}", { 0 }, KILN_EPARSE,
	  "failed to process \"${x#\\\\x}\": invalid pattern (\\x) in substitution: invalid escape "
	  "'\\x'" },
	/* The suffix forms report the reversed pattern, as BuildKit does. */
	{ "${x%ab\\x}", { 0 }, KILN_EPARSE,
	  "failed to process \"${x%ab\\\\x}\": invalid pattern (\\xba) in substitution: invalid "
	  "escape '\\x'" },
	{ "${x#a\\}", { "x=a" }, KILN_EPARSE, NULL },
	{ "${x:#}", { 0 }, KILN_EPARSE,
	  "failed to process \"${x:#}\": unsupported modifier (:#) in substitution" },
	{ "${x=y}", { 0 }, KILN_EPARSE,
	  "failed to process \"${x=y}\": unsupported modifier (=) in substitution" },
	{ "${x:=y}", { 0 }, KILN_EPARSE,
	  "failed to process \"${x:=y}\": unsupported modifier (:=) in substitution" },
	{ "${.}", { 0 }, KILN_EPARSE,
	  "failed to process \"${.}\": unsupported modifier (.) in substitution" },
	/* An error met at the end of the word becomes "missing '}'"... */
	{ "${a:-${b?oops}", { 0 }, KILN_EPARSE,
	  "failed to process \"${a:-${b?oops}\": syntax error: missing '}'" },
	/* ...one met before it is reported as it is. */
	{ "${a:-${b?oops}}", { 0 }, KILN_EINVAL, "failed to process \"${a:-${b?oops}}\": b: oops" },
	/* The source is quoted as Go's %q does. */
	{ "'a\tb\x01\xff", { 0 }, KILN_EPARSE,
	  "failed to process \"'a\\tb\\x01\\xff\": unexpected end of statement while looking "
	  "for matching single-quote" },
	{ "'\xC2\xA0\xE2\x80\x8B한", { 0 }, KILN_EPARSE,
	  "failed to process \"'\\u00a0\\u200b한\": unexpected end of statement while looking "
	  "for matching single-quote" },
};

static void test_errors(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(error_cases); i++) {
		const struct error_case *c = &error_cases[i];
		cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *l = make_env(c->env);
		struct kiln_shell_env env = kiln_shell_envlist_env(l);
		struct kiln_shell_result res = KILN_SHELL_RESULT_INIT;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_shell_expand(NULL, c->word, &env, &res, &err);
		TAP_INT_EQ(r, -(int)c->code, "error code for %s", c->word);
		if (c->msg)
			TAP_STR_EQ(err.msg, c->msg, "error message for %s", c->word);
		TAP_OK(!res.word && res.words.len == 0, "no result after an error: %s", c->word);
		kiln_error_release(&err);
		kiln_shell_result_release(&res);
	}
}

struct split_case {
	const char *word;
	const char *env[3];
	const char *want; /* words joined by '|' ("" for none) */
};

static const struct split_case split_cases[] = {
	{ "a  b\tc\n", { 0 }, "a|b|c" },
	{ "x${y}z", { "y=1 2" }, "x1|2z" },
	{ "\"x${y}z\"", { "y=1 2" }, "x1 2z" },
	{ "'' \"\"", { 0 }, "" },
	{ "a\\ b \\\"c", { 0 }, "a b|\"c" },
	{ "${y}", { "y=\xC2\xA0" "a\xE3\x80\x80" "b" }, "a|b" }, /* Unicode spaces split */
	{ "a${y}", { "y=\xff" }, "a" FFFD },
	/* ASCII runs end at every ASCII space and at non-ASCII bytes, spaces or not */
	{ "<${y}>", { "y=ab\vcd\fe\rf\xC2\xA0g\xC3\xA9h\xffi" },
	  "<ab|cd|e|f|g\xC3\xA9h" FFFD "i>" },
	{ "${y}", { "y=\t x \x7f\x01 " }, "x|\x7f\x01" },
	/* BuildKit shares one word buffer between nesting levels: an operand of a
	 * ${...} modifier resets it, dropping the partial word before it. */
	{ "abc${x:-def}ghi", { 0 }, "defghi" },
	{ "a b${x:-c}", { 0 }, "a|c" },
	{ "p\"q${x:+y}\"", { "x=1" }, "qy" },
	{ "a${v/b/c}", { "v=b" }, "c" },
	{ "a${x}b", { "x=1" }, "a1b" },
};

static void test_split(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(split_cases); i++) {
		const struct split_case *c = &split_cases[i];
		cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *l = make_env(c->env);
		struct kiln_shell_env env = kiln_shell_envlist_env(l);
		cleanup(kiln_strv_release) struct kiln_strv words = KILN_STRV_INIT;
		cleanup(kiln_buf_release) struct kiln_buf joined = KILN_BUF_INIT;
		int r = kiln_shell_process_words(NULL, c->word, &env, &words, NULL);
		for (size_t j = 0; r == 0 && j < words.len; j++)
			if (kiln_buf_addf(&joined, "%s%s", j ? "|" : "", words.items[j]) < 0)
				abort();
		TAP_INT_EQ(r, 0, "split %s succeeds", c->word);
		TAP_STR_EQ(joined.buf, c->want, "split %s", c->word);
	}
}

struct names_case {
	const char *word;
	const char *env[4];
	const char *matched, *unmatched; /* comma-joined */
};

static const struct names_case names_cases[] = {
	{ "$B ${A} ${A:-$C} $B", { "A=1", "B=" }, "A,B", "C" },
	{ "${Z:+$Y} ${X#$W} ${V/$U/$T}", { "Z=1" }, "Z", "T,U,V,W,X,Y" },
	{ "'$A' \\$B \"$C\"", { 0 }, "", "C" },
	{ "$1 $@ ${10}", { 0 }, "", "1,10,@" },
	{ "${+x}", { 0 }, "", "" }, /* the empty name BuildKit looks up here */
	{ "$b $a $c $a", { "a=1", "b=2", "c=3" }, "a,b,c", "" },
};

static char *join(const struct kiln_strv *v)
{
	struct kiln_buf b = KILN_BUF_INIT;
	for (size_t i = 0; i < v->len; i++)
		if (kiln_buf_addf(&b, "%s%s", i ? "," : "", v->items[i]) < 0)
			abort();
	return kiln_buf_detach(&b, NULL);
}

static void test_names(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(names_cases); i++) {
		const struct names_case *c = &names_cases[i];
		cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *l = make_env(c->env);
		struct kiln_shell_env env = kiln_shell_envlist_env(l);
		struct kiln_shell_result res = KILN_SHELL_RESULT_INIT;
		TAP_INT_EQ(kiln_shell_expand(NULL, c->word, &env, &res, NULL), 0, "names %s", c->word);
		cleanup_free char *m = join(&res.matched);
		cleanup_free char *u = join(&res.unmatched);
		TAP_STR_EQ(m, c->matched, "matched of %s", c->word);
		TAP_STR_EQ(u, c->unmatched, "unmatched of %s", c->word);
		if (strcmp(c->word, "${+x}") == 0)
			TAP_OK(res.unmatched.len == 1, "the empty name is reported once");
		kiln_shell_result_release(&res);
	}
}

static char *repeat(const char *s, size_t n)
{
	size_t l = strlen(s);
	char *out = kiln_malloc(l * n + 1);
	if (!out)
		abort();
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * l, s, l);
	out[l * n] = '\0';
	return out;
}

static void test_limits(void)
{
	struct kiln_error err = KILN_ERROR_INIT;
	char *out = NULL;

	/* Nesting: 64 levels work, 65 are refused. */
	for (size_t depth = KILN_SHELL_MAX_DEPTH; depth <= KILN_SHELL_MAX_DEPTH + 1; depth++) {
		cleanup_free char *open = repeat("${a:-", depth);
		cleanup_free char *close = repeat("}", depth);
		cleanup_free char *word = kiln_asprintf("%sx%s", open, close);
		int r = kiln_shell_process_word(NULL, word, NULL, &out, &err);
		if (depth == KILN_SHELL_MAX_DEPTH) {
			TAP_INT_EQ(r, 0, "%zu nested expansions", depth);
			TAP_STR_EQ(out, "x", "deep default");
		} else {
			TAP_INT_EQ(r, -KILN_ELIMIT, "%zu nested expansions are refused", depth);
			TAP_OK(err.msg && strstr(err.msg, "nested deeper"), "depth message: %s",
			       err.msg ? err.msg : "");
		}
		free(out);
		out = NULL;
		kiln_error_release(&err);
	}

	/* Output size. */
	cleanup_free char *big = repeat("a", KILN_SHELL_MAX_OUTPUT / 2 + 1);
	cleanup_free char *big_entry = kiln_asprintf("v=%s", big);
	const char *entries[] = { big_entry, NULL };
	cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *l = make_env(entries);
	struct kiln_shell_env env = kiln_shell_envlist_env(l);
	TAP_INT_EQ(kiln_shell_process_word(NULL, "$v", &env, &out, NULL), 0, "half the cap fits");
	free(out);
	out = NULL;
	TAP_INT_EQ(kiln_shell_process_word(NULL, "$v$v", &env, &out, &err), -KILN_ELIMIT,
		   "twice half the cap is refused");
	TAP_OK(err.msg && strstr(err.msg, "longer than"), "output message: %s",
	       err.msg ? err.msg : "");
	kiln_error_release(&err);
	TAP_INT_EQ(kiln_shell_process_word(NULL, "${v//a/aa}", &env, &out, &err), -KILN_ELIMIT,
		   "a replacement that doubles the value is refused");
	kiln_error_release(&err);

	/* Matching work: a pattern of 2,000 stars keeps 2,000 threads alive per character. */
	cleanup_free char *as = repeat("a", 200000);
	cleanup_free char *as_entry = kiln_asprintf("w=%s", as);
	cleanup_free char *stars = repeat("*", 2000);
	cleanup_free char *pat_entry = kiln_asprintf("P=%sb", stars);
	const char *entries2[] = { as_entry, pat_entry, NULL };
	cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *l2 = make_env(entries2);
	struct kiln_shell_env env2 = kiln_shell_envlist_env(l2);
	TAP_INT_EQ(kiln_shell_process_word(NULL, "${w//$P/x}", &env2, &out, &err), -KILN_ELIMIT,
		   "runaway matching is stopped");
	TAP_OK(err.msg && strstr(err.msg, "steps"), "work message: %s", err.msg ? err.msg : "");
	kiln_error_release(&err);
	TAP_INT_EQ(kiln_shell_process_word(NULL, "${w%%a*}|${w#*a}|${w//*b/x}", &env2, &out, NULL),
		   0, "linear trims and replacements of a long value are fine");
	TAP_INT_EQ(out ? strlen(out) : 0, 1 + 199999 + 1 + 200000, "trim results");
	free(out);
	out = NULL;

	/* Pattern size. */
	cleanup_free char *longpat = repeat("?", KILN_SHELL_MAX_PATTERN + 1);
	struct kiln_shell_pattern *p = NULL;
	TAP_INT_EQ(kiln_shell_pattern_compile(longpat, strlen(longpat), 1, 1, NULL, &p, NULL),
		   -KILN_ELIMIT, "over-long pattern is refused");
	kiln_shell_pattern_free(p);
}

static void test_pattern_regex(void)
{
	static const struct {
		const char *pat;
		int greedy, anchored;
		const char *want;
	} cases[] = {
		{ "*.txt", 0, 1, "^.*?\\.txt" },
		{ "a\\}b\\/c", 1, 0, "a\\}b/c" },
		{ "", 1, 1, "^" },
		{ "한?", 1, 0, "한." },
		{ "\xff", 1, 0, FFFD },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		cleanup(kiln_buf_release) struct kiln_buf rx = KILN_BUF_INIT;
		struct kiln_shell_pattern *p = NULL;
		int r = kiln_shell_pattern_compile(cases[i].pat, strlen(cases[i].pat), cases[i].greedy,
						   cases[i].anchored, &rx, &p, NULL);
		kiln_shell_pattern_free(p);
		TAP_INT_EQ(r, 0, "compile %s", cases[i].pat);
		TAP_STR_EQ(rx.buf, cases[i].want, "regexp of %s", cases[i].pat);
	}

	/* Leftmost-first positions as Go reports them. */
	static const struct {
		const char *pat, *text;
		int greedy;
		long start, end; /* -1: no match */
	} finds[] = {
		{ "b*", "abcb", 1, 1, 4 },  { "b*", "abcb", 0, 1, 2 }, { "x", "abc", 1, -1, -1 },
		{ "", "abc", 1, 0, 0 },     { "*", "ab\ncd", 1, 0, 2 }, { "?", "\n", 1, -1, -1 },
		{ "a?c", "abxabc", 1, 3, 6 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(finds); i++) {
		struct kiln_shell_pattern *p = NULL;
		size_t s = 0, e = 0, work = KILN_SHELL_MAX_MATCH_WORK;
		int r = kiln_shell_pattern_compile(finds[i].pat, strlen(finds[i].pat), finds[i].greedy,
						   0, NULL, &p, NULL);
		if (r == 0)
			r = kiln_shell_pattern_find(p, finds[i].text, strlen(finds[i].text), 0, &s, &e,
						    &work, NULL);
		kiln_shell_pattern_free(p);
		if (finds[i].start < 0)
			TAP_INT_EQ(r, 0, "no match of %s in %s", finds[i].pat, finds[i].text);
		else
			TAP_OK(r == 1 && (long)s == finds[i].start && (long)e == finds[i].end,
			       "match of %s in %s at [%ld,%ld)", finds[i].pat, finds[i].text,
			       finds[i].start, finds[i].end);
	}
}

static void test_envlist(void)
{
	cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *l = NULL;
	TAP_INT_EQ(kiln_shell_envlist_new(&l, NULL), 0, "envlist_new");
	for (int i = 0; i < 1000; i++) {
		cleanup_free char *e = kiln_asprintf("K%d=%d", i, i);
		if (!e || kiln_shell_envlist_put(l, e, NULL) < 0)
			abort();
	}
	TAP_INT_EQ(kiln_shell_envlist_set(l, "K7", "seven", NULL), 0, "set replaces");
	TAP_INT_EQ(kiln_shell_envlist_put(l, "EMPTY", NULL), 0, "a bare name");
	TAP_INT_EQ(kiln_shell_envlist_put(l, "EQ==x=", NULL), 0, "split at the first '='");
	TAP_INT_EQ(kiln_shell_envlist_count(l), 1002, "distinct names");
	TAP_STR_EQ(kiln_shell_envlist_name(l, 7), "K7", "first-set order kept");
	TAP_STR_EQ(kiln_shell_envlist_get(l, "K7"), "seven", "later value wins");
	TAP_STR_EQ(kiln_shell_envlist_get(l, "K999"), "999", "lookup after growth");
	TAP_STR_EQ(kiln_shell_envlist_get(l, "EMPTY"), "", "bare name is empty");
	TAP_STR_EQ(kiln_shell_envlist_get(l, "EQ"), "=x=", "value keeps later '='");
	TAP_OK(kiln_shell_envlist_get(l, "k7") == NULL, "names are case-sensitive");
	TAP_OK(kiln_shell_envlist_name(l, 5000) == NULL, "name out of range");

	/* a shared copy reads the source's strings until it sets its own */
	struct kiln_shell_envlist *c = NULL;
	TAP_INT_EQ(kiln_shell_envlist_copy_shared(l, &c, NULL), 0, "copy_shared");
	TAP_OK(kiln_shell_envlist_get(c, "K7") == kiln_shell_envlist_get(l, "K7"),
	       "the copy shares the value");
	TAP_INT_EQ(kiln_shell_envlist_set(c, "K7", "sieben", NULL), 0, "set in the copy");
	TAP_INT_EQ(kiln_shell_envlist_set(c, "NEW", "1", NULL), 0, "a new name in the copy");
	TAP_STR_EQ(kiln_shell_envlist_get(c, "K7"), "sieben", "the copy's own value");
	TAP_STR_EQ(kiln_shell_envlist_get(l, "K7"), "seven", "the source unchanged");
	TAP_OK(kiln_shell_envlist_get(l, "NEW") == NULL, "the source has no new name");
	TAP_STR_EQ(kiln_shell_envlist_name(c, 7), "K7", "the copy keeps the order");
	TAP_STR_EQ(kiln_shell_envlist_name(c, 1002), "NEW", "new names come last");
	TAP_STR_EQ(kiln_shell_envlist_get(c, "K999"), "999", "lookups in the copy");
	kiln_shell_envlist_free(c);
	cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *empty = NULL, *c0 = NULL;
	TAP_OK(kiln_shell_envlist_new(&empty, NULL) == 0 &&
		       kiln_shell_envlist_copy_shared(empty, &c0, NULL) == 0 &&
		       kiln_shell_envlist_set(c0, "A", "1", NULL) == 0 &&
		       !strcmp(kiln_shell_envlist_get(c0, "A"), "1"),
	       "a copy of an empty list grows");

	char *out = NULL;
	TAP_INT_EQ(kiln_shell_process_word(NULL, "${A:-none}", NULL, &out, NULL), 0, "NULL env");
	TAP_STR_EQ(out, "none", "NULL env has nothing set");
	free(out);
	struct kiln_shell_lex bad = { (char)0xC3, 0 };
	TAP_INT_EQ(kiln_shell_process_word(&bad, "x", NULL, &out, NULL), -KILN_EINVAL,
		   "non-ASCII escape character is refused");
}

static int same_strv(const struct kiln_strv *a, const struct kiln_strv *b)
{
	if (a->len != b->len)
		return 0;
	for (size_t i = 0; i < a->len; i++)
		if (strcmp(a->items[i], b->items[i]))
			return 0;
	return 1;
}

/* KILN_SHELL_NO_WORDS: the same word, names and errors, only no split words */
static void test_no_words(void)
{
	char longname[200];
	memset(longname, 'N', sizeof(longname));
	memcpy(longname, "${", 2);
	memcpy(longname + sizeof(longname) - 5, ":-x}", 5); /* and the NUL */
	const char *extra[] = {
		longname,
		"$A $B $C $D $E $F $G $H $I $J $A ${K:-$L} $M",
		"a b  ${X:-c d} 'e f'",
		"${X:?gone}",
	};
	size_t n = KILN_ARRAY_SIZE(word_cases) + KILN_ARRAY_SIZE(extra);
	for (size_t i = 0; i < n; i++) {
		const struct word_case *c = i < KILN_ARRAY_SIZE(word_cases) ? &word_cases[i] : NULL;
		const char *word = c ? c->word : extra[i - KILN_ARRAY_SIZE(word_cases)];
		const char *const none[] = { "A=1", "C=x y", "K=", NULL };
		cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *l =
			make_env(c ? c->env : none);
		struct kiln_shell_env env = kiln_shell_envlist_env(l);
		struct kiln_shell_lex split = { c ? c->escape : '\\', c ? c->flags : 0 };
		struct kiln_shell_lex nosplit = split;
		nosplit.flags |= KILN_SHELL_NO_WORDS;
		struct kiln_shell_result a = KILN_SHELL_RESULT_INIT, b = KILN_SHELL_RESULT_INIT;
		struct kiln_error ea = KILN_ERROR_INIT, eb = KILN_ERROR_INIT;
		int ra = kiln_shell_expand(&split, word, &env, &a, &ea);
		int rb = kiln_shell_expand(&nosplit, word, &env, &b, &eb);
		int same = ra == rb &&
			   (ra < 0 ? !strcmp(ea.msg ? ea.msg : "", eb.msg ? eb.msg : "")
				   : !strcmp(a.word, b.word) && same_strv(&a.matched, &b.matched) &&
					     same_strv(&a.unmatched, &b.unmatched) &&
					     b.words.len == 0);
		TAP_OK(same, "without words: %s", word);
		if (word == extra[0])
			TAP_OK(rb == 0 && !strcmp(b.word, "x") && b.unmatched.len == 1 &&
				       strlen(b.unmatched.items[0]) == sizeof(longname) - 7,
			       "a long name is looked up whole");
		if (word == extra[1])
			TAP_OK(rb == 0 && b.matched.len == 3 && b.unmatched.len == 10 &&
				       !strcmp(b.matched.items[2], "K") &&
				       !strcmp(b.unmatched.items[9], "M"),
			       "fourteen references, sorted and distinct");
		kiln_shell_result_release(&a);
		kiln_shell_result_release(&b);
		kiln_error_release(&ea);
		kiln_error_release(&eb);
	}
}

/* one scratch buffer for every word: the words and names kiln_shell_expand gives */
static void test_scratch(void)
{
	struct kiln_buf scratch = KILN_BUF_INIT;
	for (size_t i = 0; i < KILN_ARRAY_SIZE(word_cases); i++) {
		const struct word_case *c = &word_cases[i];
		cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *l = make_env(c->env);
		struct kiln_shell_env env = kiln_shell_envlist_env(l);
		struct kiln_shell_lex lex = { c->escape, c->flags | KILN_SHELL_NO_WORDS };
		struct kiln_shell_result a = KILN_SHELL_RESULT_INIT, b = KILN_SHELL_RESULT_INIT;
		struct kiln_error ea = KILN_ERROR_INIT, eb = KILN_ERROR_INIT;
		int ra = kiln_shell_expand(&lex, c->word, &env, &a, &ea);
		int rb = kiln_shell_expand_scratch(&lex, c->word, &env, &b, &scratch, &eb);
		int same = ra == rb &&
			   (ra < 0 ? !strcmp(ea.msg ? ea.msg : "", eb.msg ? eb.msg : "")
				   : !b.word && !strcmp(a.word, scratch.buf) &&
					     same_strv(&a.matched, &b.matched) &&
					     same_strv(&a.unmatched, &b.unmatched));
		TAP_OK(same, "scratch: %s", c->word);
		kiln_shell_result_release(&a);
		kiln_shell_result_release(&b);
		kiln_error_release(&ea);
		kiln_error_release(&eb);
	}
	kiln_buf_release(&scratch);

	/* a default keeps a value already set and sets a missing one */
	const char *const entries[] = { "PATH=/x", NULL };
	cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *l = make_env(entries);
	TAP_INT_EQ(kiln_shell_envlist_default_borrowed(l, "PATH", "/y", NULL), 0, "default set");
	TAP_INT_EQ(kiln_shell_envlist_default_borrowed(l, "HOME", "/h", NULL), 0, "default new");
	TAP_STR_EQ(kiln_shell_envlist_get(l, "PATH"), "/x", "a default keeps a set value");
	TAP_STR_EQ(kiln_shell_envlist_get(l, "HOME"), "/h", "a default sets an unset name");
	TAP_INT_EQ((int) kiln_shell_envlist_count(l), 2, "a default adds one entry");
}

/* names read fast over ASCII, then on by rune: digits first, '_', non-ASCII letters */
static void test_name_runs(void)
{
	static const char *const env[] = {
		"ab1_c=A", "_9=N", "\xc3\xa9t\xc3\xa9=U", "_=L", "a\xc3\xa9" "b=M", "Z9z=Q", "9=P",
		"1=O",	   NULL,
	};
	cleanup_free char *out = expand_str(
		'\\', 0, "$ab1_c-$1x-${_9}-$\xc3\xa9t\xc3\xa9-$_-$a\xc3\xa9" "b-${Z9z}$9", env);
	TAP_STR_EQ(out, "A-Ox-N-U-L-M-QP", "names: ASCII runs, digits, '_', non-ASCII letters");
}

/* lists in an arena: the same behaviour, and kiln_shell_envlist_free() frees nothing */
static void test_envlist_arena(void)
{
	struct kiln_arena *a = kiln_arena_new_sized(KILN_ARENA_SMALL_CHUNK);
	struct kiln_shell_envlist *l = NULL, *c = NULL, *e = NULL;
	if (!a || kiln_shell_envlist_new_in(a, &l, NULL) < 0)
		abort();
	for (int i = 0; i < 1000; i++) {
		cleanup_free char *kv = kiln_asprintf("K%d=%d", i, i);
		if (!kv || kiln_shell_envlist_put(l, kv, NULL) < 0)
			abort();
	}
	TAP_INT_EQ(kiln_shell_envlist_set(l, "K7", "seven", NULL), 0, "arena: set replaces");
	TAP_INT_EQ(kiln_shell_envlist_set(l, "K8", kiln_shell_envlist_get(l, "K8"), NULL), 0,
		   "arena: a value set from its own entry");
	TAP_INT_EQ(kiln_shell_envlist_count(l), 1000, "arena: distinct names");
	TAP_STR_EQ(kiln_shell_envlist_name(l, 999), "K999", "arena: order kept past growth");
	TAP_STR_EQ(kiln_shell_envlist_get(l, "K7"), "seven", "arena: later value wins");
	TAP_STR_EQ(kiln_shell_envlist_get(l, "K8"), "8", "arena: value set from itself");
	TAP_STR_EQ(kiln_shell_envlist_get(l, "K0"), "0", "arena: lookup after growth");
	kiln_shell_envlist_free(l); /* nothing: the arena owns it */
	TAP_STR_EQ(kiln_shell_envlist_get(l, "K999"), "999", "arena: free leaves the list");

	cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *h = NULL;
	if (kiln_shell_envlist_new(&h, NULL) < 0 || kiln_shell_envlist_put(h, "A=1", NULL) < 0)
		abort();
	TAP_INT_EQ(kiln_shell_envlist_copy_shared_in(a, h, &c, NULL), 0,
		   "arena copy of a heap list");
	TAP_OK(kiln_shell_envlist_get(c, "A") == kiln_shell_envlist_get(h, "A"),
	       "arena copy shares the value");
	for (int i = 0; i < 20; i++) {
		cleanup_free char *kv = kiln_asprintf("N%d=%d", i, i);
		if (!kv || kiln_shell_envlist_put(c, kv, NULL) < 0)
			abort();
	}
	TAP_INT_EQ(kiln_shell_envlist_set(c, "A", "2", NULL), 0, "arena copy: set its own");
	TAP_STR_EQ(kiln_shell_envlist_get(c, "A"), "2", "arena copy: its own value");
	TAP_STR_EQ(kiln_shell_envlist_get(h, "A"), "1", "arena copy: the source unchanged");
	TAP_STR_EQ(kiln_shell_envlist_get(c, "N19"), "19", "arena copy grows");
	TAP_OK(kiln_shell_envlist_copy_shared_in(a, l, &e, NULL) == 0 &&
		       !strcmp(kiln_shell_envlist_get(e, "K7"), "seven") &&
		       kiln_shell_envlist_count(e) == 1000,
	       "arena copy of an arena list");
	kiln_shell_envlist_free(c);
	kiln_shell_envlist_free(e);
	kiln_arena_free(a);
}

static void test_envlist_in_place(void)
{
	struct kiln_arena *a = kiln_arena_new_sized(KILN_ARENA_SMALL_CHUNK);
	struct kiln_shell_envlist *l = NULL;
	if (!a || kiln_shell_envlist_new_in(a, &l, NULL) < 0 ||
	    kiln_shell_envlist_set_borrowed(l, "A", "1", NULL) < 0 ||
	    kiln_shell_envlist_set_borrowed(l, "B", "2", NULL) < 0)
		abort();
	TAP_INT_EQ(kiln_shell_envlist_set_value_at(l, 1, "two"), 0, "value_at: in range");
	TAP_STR_EQ(kiln_shell_envlist_get(l, "B"), "two", "value_at: the new value");
	TAP_STR_EQ(kiln_shell_envlist_name(l, 1), "B", "value_at: name and place kept");
	TAP_INT_EQ(kiln_shell_envlist_set_value_at(l, 2, "x"), -1, "value_at: out of range");
	/* an envlist environment looks a name up by its bytes, no NUL after them */
	struct kiln_shell_env env = kiln_shell_envlist_env(l);
	const char *v = NULL;
	TAP_OK(env.lookup_n && env.lookup_n(env.userdata, "AB", 1, &v) == 1 && !strcmp(v, "1"),
	       "lookup_n: a prefix of the bytes");
	TAP_OK(env.lookup_n(env.userdata, "AB", 2, &v) == 0, "lookup_n: no such name");
	kiln_arena_free(a);
}

/* A borrowed list reads its source's entries and takes its own at its first change. */
static void test_envlist_borrow(void)
{
	struct kiln_arena *a = kiln_arena_new_sized(KILN_ARENA_SMALL_CHUNK);
	struct kiln_shell_envlist *src = NULL, *b = NULL, *b2 = NULL, *b3 = NULL, *e = NULL;
	if (!a || kiln_shell_envlist_new_in(a, &src, NULL) < 0)
		abort();
	for (int i = 0; i < 40; i++) {
		cleanup_free char *kv = kiln_asprintf("K%d=%d", i, i);
		if (!kv || kiln_shell_envlist_put(src, kv, NULL) < 0)
			abort();
	}
	TAP_INT_EQ(kiln_shell_envlist_borrow_in(a, src, &b, NULL), 0, "borrow: made");
	TAP_OK(kiln_shell_envlist_count(b) == 40 &&
		       kiln_shell_envlist_get(b, "K39") == kiln_shell_envlist_get(src, "K39") &&
		       !strcmp(kiln_shell_envlist_name(b, 0), "K0"),
	       "borrow: the source's names, values and order");
	/* a default for a name that is set is no change: the entries stay the source's */
	TAP_INT_EQ(kiln_shell_envlist_default_borrowed(b, "K3", "other", NULL), 0,
		   "borrow: default of a set name");
	TAP_STR_EQ(kiln_shell_envlist_get(b, "K3"), "3", "borrow: the set value kept");
	TAP_INT_EQ(kiln_shell_envlist_default_borrowed(b, "NEW", "n", NULL), 0,
		   "borrow: default of a new name");
	TAP_STR_EQ(kiln_shell_envlist_get(b, "NEW"), "n", "borrow: the new name in the copy");
	TAP_OK(kiln_shell_envlist_get(src, "NEW") == NULL && kiln_shell_envlist_count(src) == 40,
	       "borrow: the source without it");
	TAP_INT_EQ(kiln_shell_envlist_set(b, "K5", "five", NULL), 0, "borrow: set a name");
	TAP_STR_EQ(kiln_shell_envlist_get(b, "K5"), "five", "borrow: the copy's value");
	TAP_STR_EQ(kiln_shell_envlist_get(src, "K5"), "5", "borrow: the source's value");
	for (int i = 0; i < 100; i++) { /* past the room the source had */
		cleanup_free char *kv = kiln_asprintf("M%d=%d", i, i);
		if (!kv || kiln_shell_envlist_put(b, kv, NULL) < 0)
			abort();
	}
	TAP_OK(kiln_shell_envlist_count(b) == 141 &&
		       !strcmp(kiln_shell_envlist_get(b, "M99"), "99") &&
		       !strcmp(kiln_shell_envlist_get(b, "K0"), "0"),
	       "borrow: the copy grows");
	TAP_OK(kiln_shell_envlist_count(src) == 40 && kiln_shell_envlist_get(src, "M0") == NULL,
	       "borrow: the source unchanged by the growth");
	/* a value replaced by index takes the copy's own entries too */
	if (kiln_shell_envlist_borrow_in(a, src, &b2, NULL) < 0)
		abort();
	TAP_INT_EQ(kiln_shell_envlist_set_value_at(b2, 2, "two"), 0, "borrow: value_at");
	TAP_OK(!strcmp(kiln_shell_envlist_get(b2, "K2"), "two") &&
		       !strcmp(kiln_shell_envlist_get(src, "K2"), "2"),
	       "borrow: value_at leaves the source");
	/* an empty source, and a borrowed list's own copy */
	if (kiln_shell_envlist_new_in(a, &e, NULL) < 0)
		abort();
	TAP_OK(kiln_shell_envlist_borrow_in(a, e, &b3, NULL) == 0 &&
		       kiln_shell_envlist_count(b3) == 0 &&
		       kiln_shell_envlist_set(b3, "X", "1", NULL) == 0 &&
		       kiln_shell_envlist_count(e) == 0,
	       "borrow: an empty source");
	kiln_arena_free(a);
}

int main(void)
{
	test_words();
	test_errors();
	test_split();
	test_names();
	test_limits();
	test_pattern_regex();
	test_envlist();
	test_envlist_arena();
	test_envlist_in_place();
	test_envlist_borrow();
	test_no_words();
	test_scratch();
	test_name_runs();
	return tap_done();
}
