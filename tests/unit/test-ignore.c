/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ignore module: ReadAll, New, the matchers and the regexp engine
 * behind them (this file); the walker and the ignore-file lookup
 * (test-ignore-walk.c). Go's Clean, Match and TrimSpace, which they build
 * on, are base's (test-base-gotext.c).
 */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "ignore/ignore.h"
#include "ignore/regexp.h"
#include "tap.h"
#include "test-ignore.h"

int ignore_tap_ok(int ok, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return tap_ok(ok, "%s", buf);
}

void ignore_tap_diag(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tap_diag("%s", buf);
}

/* ---- ReadAll ---- */

static const struct {
	const char *in;
	const char *patterns; /* '|'-separated; "" = none */
	const char *lines;    /* their line numbers, '|'-separated */
} readall_cases[] = {
	{ "\xEF\xBB\xBFnode_modules\n", "node_modules", "1" },
	{ "# comment\n  # not a comment\n", "# not a comment", "2" },
	{ "a\r\nb\r\n", "a|b", "1|2" },
	{ "!  foo/../bar \n", "!bar", "1" },
	{ "/abs\n/\n", "abs|/", "1|2" },
	{ "  \n\t\n", "", "" },
	{ "!\n", "!", "1" },
	{ "dir/\n", "dir", "1" },
	{ "\xEF\xBB\xBF# c\nx", "x", "2" },
	{ "a\n\xEF\xBB\xBF" "b", "a|\xEF\xBB\xBF" "b", "1|2" }, /* only the first line loses a BOM */
	{ "./x/./y//\n", "x/y", "1" },
	{ "../up\n", "../up", "1" },
	{ "/../x\n", "x", "1" },
	{ "! /rooted\n", "!rooted", "1" },
	{ "\n\n\nlast", "last", "4" },
	{ "", "", "" },
};

static void join_list(const struct kiln_ignore_list *l, char *pats, size_t np, char *lines,
		      size_t nl)
{
	size_t a = 0, b = 0;
	pats[0] = lines[0] = '\0';
	for (size_t i = 0; i < l->patterns.len; i++) {
		a += (size_t)snprintf(pats + a, np - a, "%s%s", i ? "|" : "", l->patterns.items[i]);
		b += (size_t)snprintf(lines + b, nl - b, "%s%u", i ? "|" : "", l->lines[i]);
	}
}

static void test_read_all(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(readall_cases); i++) {
		struct kiln_ignore_list l = KILN_IGNORE_LIST_INIT;
		struct kiln_error err = KILN_ERROR_INIT;
		const char *in = readall_cases[i].in;
		int r = kiln_ignore_read_all(in, strlen(in), ".dockerignore", &l, &err);
		char pats[256], lines[64];
		join_list(&l, pats, sizeof(pats), lines, sizeof(lines));
		TAP_INT_EQ(r, 0, "ReadAll case %zu succeeds", i);
		TAP_STR_EQ(pats, readall_cases[i].patterns, "ReadAll case %zu: patterns", i);
		TAP_STR_EQ(lines, readall_cases[i].lines, "ReadAll case %zu: lines", i);
		kiln_error_release(&err);
		kiln_ignore_list_release(&l);
	}

	/* bufio.Scanner's limit: a 64 KiB line is an error at its line */
	size_t n = KILN_IGNORE_LINE_MAX + 10;
	char *big = kiln_malloc(n + 1);
	if (!TAP_OK(big != NULL, "allocate a long line"))
		return;
	memcpy(big, "ok\n", 3);
	memset(big + 3, 'a', n - 3);
	big[n] = '\0';
	struct kiln_ignore_list l = KILN_IGNORE_LIST_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_ignore_read_all(big, n, "ctx/.dockerignore", &l, &err);
	TAP_INT_EQ(r, -KILN_ELIMIT, "a line over 64 KiB is refused");
	TAP_INT_EQ(err.pos.line, 2, "the error names line 2");
	TAP_STR_EQ(err.pos.file, "ctx/.dockerignore", "and the file");
	kiln_error_release(&err);
	kiln_ignore_list_release(&l);
	/* just under the limit is fine */
	big[3 + KILN_IGNORE_LINE_MAX - 1] = '\n';
	r = kiln_ignore_read_all(big, 3 + KILN_IGNORE_LINE_MAX, "x", &l, &err);
	TAP_INT_EQ(r, 0, "a line of 65535 bytes is accepted");
	TAP_INT_EQ(l.patterns.len, 2, "two patterns");
	kiln_error_release(&err);
	kiln_ignore_list_release(&l);
	free(big);
}

/* A NUL byte stays in the pattern (Go keeps it): the pattern then matches no real path. */
static void test_nul_bytes(void)
{
	static const char text[] = "secret\0junk\n*.md\0\n";
	struct kiln_ignore_list l = KILN_IGNORE_LIST_INIT;
	struct kiln_ignore_matcher *m = NULL;
	int r = kiln_ignore_read_all(text, sizeof(text) - 1, ".dockerignore", &l, NULL);
	TAP_OK(r == 0 && l.patterns.len == 2 && l.lens && l.lens[0] == 11 && l.lens[1] == 5,
	       "ReadAll keeps NUL bytes in patterns");
	if (r == 0)
		r = kiln_ignore_matcher_new_list(&l, &m, NULL);
	TAP_INT_EQ(r, 0, "New accepts them");
	if (m) {
		TAP_INT_EQ(kiln_ignore_matches_or_parent(m, "secret", 6, NULL, NULL), 0,
			   "'secret<NUL>junk' does not match 'secret'");
		TAP_INT_EQ(kiln_ignore_matches_or_parent(m, "a.md", 4, NULL, NULL), 0,
			   "'*.md<NUL>' does not match 'a.md'");
	}
	kiln_ignore_matcher_free(m);
	kiln_ignore_list_release(&l);
}

/* ---- New ---- */

static void test_new_errors(void)
{
	static const struct {
		const char *text;
		int line;
		const char *needle;
	} cases[] = {
		{ "ok\n[\n", 2, "'['" },
		{ "a\n\n!\n", 3, "'!'" },
		{ "x\n  a\\\n", 2, "a\\" },
		{ "[a-b-c]\n", 1, "[a-b-c]" },
		{ "ok\nab[c\n", 2, "ab[c" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct kiln_ignore_list l = KILN_IGNORE_LIST_INIT;
		struct kiln_ignore_matcher *m = NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_ignore_read_all(cases[i].text, strlen(cases[i].text), ".dockerignore",
					     &l, &err);
		if (r == 0)
			r = kiln_ignore_matcher_new_list(&l, &m, &err);
		TAP_INT_EQ(r, -KILN_EPARSE, "New case %zu fails", i);
		TAP_INT_EQ(err.pos.line, cases[i].line, "New case %zu: at line %d", i,
			   cases[i].line);
		TAP_OK(err.msg && strstr(err.msg, cases[i].needle), "New case %zu names %s (%s)",
		       i, cases[i].needle, err.msg ? err.msg : "");
		kiln_error_release(&err);
		kiln_ignore_matcher_free(m);
		kiln_ignore_list_release(&l);
	}
}

/* ---- matching ---- */

struct mcase {
	const char *patterns; /* '\n'-separated */
	const char *path;
	size_t path_len; /* 0 = strlen */
	int or_parent;	 /* MatchesOrParentMatches: 1, 0, -1 error */
	int walker;	 /* MatchesUsingParentResults with the ancestors first */
};

static const struct mcase mcases[] = {
	{ "node_modules", "node_modules/x/y.js", 0, 1, 1 },
	{ "node_modules", "src/node_modules/x", 0, 0, 0 },
	{ "**/node_modules", "src/node_modules/x", 0, 1, 1 },
	{ "*.log", "a.log", 0, 1, 1 },
	{ "*.log", "dir/a.log", 0, 0, 0 },
	{ "**/*.log", "dir/sub/a.log", 0, 1, 1 },
	{ "docs\n!docs/README.md", "docs/README.md", 0, 0, 0 },
	{ "docs\n!docs/README.md", "docs/other.md", 0, 1, 1 },
	{ "*.md\n!README*.md\nREADME-secret.md", "README-secret.md", 0, 1, 1 },
	{ "*.md\n!README*.md\nREADME-secret.md", "README.md", 0, 0, 0 },
	{ "[[:digit:]]*", "1abc", 0, 1, 1 },
	{ "[[:digit:]]*", "abc", 0, 0, 0 },
	{ "\\d*", "7z", 0, 1, 1 }, /* \d reaches Go's regexp as a digit class */
	{ "\\d*", "dz", 0, 0, 0 },
	{ "[a-\xCE\xB6]", "\xCE\xB1", 0, 1, 1 },
	{ "a[^b]c", "a/c", 0, 1, 1 }, /* a class may match '/' */
	{ "[z-a]", "x", 0, -1, -1 },  /* New accepts it; matching fails */
	{ "a\n[z-a]", "a", 0, 1, 1 }, /* ... only when the pattern is reached */
	{ "\\Qa.b", "a\\.b$", 0, 1, 1 },
	{ "\\Qa.b", "a\\.b$/more", 0, 1, 1 },
	{ "\\Qa.b", "a.b", 0, 0, 0 },
	{ "a\\b", "a", 0, 1, 1 }, /* \b is a word boundary there */
	{ "a\\b", "ab", 0, 0, 0 },
	{ "a\\x41", "aA", 0, 1, 1 },
	{ "a*", "a\nb", 0, 1, 1 },	/* [^/] takes a newline */
	{ "a**b", "a/b", 0, 1, 1 },	/* "**" between: any directories */
	{ "a**b", "a\n/b", 0, 0, 0 }, /* ... but '.' does not take one */
	{ "?", "\xFF", 0, 1, 1 },	/* an invalid byte is one rune */
	{ "\xFF", "\xFF", 0, 1, 1 },
	{ "\xFF*", "\xEF\xBF\xBD" "abc", 0, 1, 1 },
	{ "a\n!a/b\na", "a/b", 0, 1, 0 }, /* the walker keeps a/b: upstream's two answers differ */
	{ "**", "", 0, 1, 1 },
	{ "/abs", "abs", 0, 0, 0 },	/* New keeps a leading '/' */
	{ "abc**", "abcdef", 0, 1, 1 }, /* prefix test */
	{ "**file", "myfile", 0, 1, 1 },
	{ "[[:alpha:]", "a", 0, -1, -1 }, /* regexp: missing closing ] */
	{ "\\pL*", "\xC3\xA9x", 0, 1, 1 },
	{ "\\pL*", "1x", 0, 0, 0 },
	/* '{' reaches the regexp escaped, so only one-letter \p classes can work */
	{ "[\\p{Greek}]", "\xCE\xBB", 0, -1, -1 },
	{ "\\p{Nope}", "x", 0, -1, -1 },
	{ "[\\pN]", "5", 0, 1, 1 },
	{ "\\PL*", "5abc", 0, 1, 1 },
	{ "\\PL*", "abc", 0, 0, 0 },
	{ "x\\z", "x", 0, 1, 1 },
	{ "\\1", "1", 0, -1, -1 }, /* Go has no backreferences */
	{ "a.b", "axb", 0, 0, 0 },
	{ "a\\\\b", "a\\b", 0, 1, 1 },
	{ "dir/**", "dir", 0, 0, 0 },
	{ "dir/**", "dir/x/y", 0, 1, 1 },
	{ "a/*/c", "a/b/c/d", 0, 1, 1 },
	{ "**/c", "a/b/c/d", 0, 1, 1 },
	{ "a", "a/", 0, 1, 1 },
	{ "\xEF\xBB\xBF" "a*", "ab", 0, 1, 1 }, /* the scanner skips a leading BOM */
	{ "[[:^space:]]", " ", 0, 0, 0 },
	{ "[[:^space:]]", "x", 0, 1, 1 },
	{ "[\\x{10000}-\\x{10FFFF}]", "\xF0\x9F\x98\x80", 0, -1, -1 },
	{ "[\\x00-\\xff]", "\xC3\xBF", 0, 1, 1 },
	{ "a\\QX", "aX$", 0, 1, 1 },
	{ "**/**/**/**/x", "a/b/x", 0, 1, 1 }, /* runs of ** collapse, same answers */
	{ "**/**/**/**/x", "x", 0, 1, 1 },
	{ "a/**/**/b", "a/b", 0, 1, 1 },
	{ "a*****b", "a/x/b", 0, 1, 1 },
	{ "a*****b", "a\nb", 0, 1, 1 }, /* [^/]* takes the newline */
};

/* A path for a TAP description: control and non-ASCII bytes as \xHH. */
static const char *shown(const char *s, size_t n, char *buf, size_t size)
{
	size_t w = 0;
	for (size_t i = 0; i < n && w + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7F)
			w += (size_t)snprintf(buf + w, size - w, "\\x%02X", c);
		else
			buf[w++] = (char)c;
	}
	buf[w] = '\0';
	return buf;
}

static int parse_patterns(const char *text, struct kiln_strv *v)
{
	const char *p = text;
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (kiln_strv_pushn(v, p, n) < 0)
			return -1;
		if (!nl)
			return 0;
		p = nl + 1;
	}
}

/* Walker style: the prefixes of the path's directory first, each with its parent's info. */
static int walker_verdict(struct kiln_ignore_matcher *m, const char *path, size_t len)
{
	struct kiln_ignore_match_info a = KILN_IGNORE_MATCH_INFO_INIT, b = a;
	int r = 0;
	size_t cut = len;
	while (cut > 0 && path[cut - 1] != '/')
		cut--;
	if (cut > 0)
		cut--;
	for (size_t j = 0; j < cut && r >= 0; j++)
		if (path[j] == '/') {
			r = kiln_ignore_matches_using_parent(m, path, j, &a, &b, NULL, NULL);
			struct kiln_ignore_match_info t = a;
			a = b;
			b = t;
		}
	if (r >= 0 && cut > 0) {
		r = kiln_ignore_matches_using_parent(m, path, cut, &a, &b, NULL, NULL);
		struct kiln_ignore_match_info t = a;
		a = b;
		b = t;
	}
	if (r >= 0)
		r = kiln_ignore_matches_using_parent(m, path, len, &a, NULL, NULL, NULL);
	kiln_ignore_match_info_release(&a);
	kiln_ignore_match_info_release(&b);
	return r < 0 ? -1 : r;
}

static void test_matching(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(mcases); i++) {
		const struct mcase *c = &mcases[i];
		cleanup(kiln_strv_release) struct kiln_strv v = KILN_STRV_INIT;
		struct kiln_ignore_matcher *m = NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		size_t len = c->path_len ? c->path_len : strlen(c->path);
		if (parse_patterns(c->patterns, &v) < 0 ||
		    kiln_ignore_matcher_new((const char *const *)v.items, v.len, &m, &err) < 0) {
			TAP_OK(0, "match case %zu: New failed: %s", i, err.msg ? err.msg : "");
			kiln_error_release(&err);
			continue;
		}
		char sp[128];
		shown(c->path, len, sp, sizeof(sp));
		int r = kiln_ignore_matches_or_parent(m, c->path, len, NULL, &err);
		if (r < 0)
			r = -1;
		TAP_INT_EQ(r, c->or_parent, "match case %zu: MatchesOrParentMatches(%s)", i, sp);
		if (r < 0)
			TAP_OK(err.code == KILN_EPARSE && err.msg && strstr(err.msg, "bad pattern"),
			       "match case %zu: the error names the pattern (%s)", i,
			       err.msg ? err.msg : "");
		kiln_error_release(&err);
		TAP_INT_EQ(walker_verdict(m, c->path, len), c->walker,
			   "match case %zu: MatchesUsingParentResults(%s)", i, sp);
		kiln_ignore_matcher_free(m);
	}
}

/* A pattern whose match would take too long fails with KILN_ELIMIT instead of hanging. */
static void test_work_limit(void)
{
	size_t stars = 5000, plen = 2 * stars + 1, len = 8001;
	char *pat = kiln_malloc(plen + 1), *path = kiln_malloc(len + 1);
	if (!TAP_OK(pat && path, "allocate a huge pattern")) {
		free(pat);
		free(path);
		return;
	}
	for (size_t i = 0; i < stars; i++)
		memcpy(pat + 2 * i, "*a", 2);
	pat[plen - 1] = 'b';
	pat[plen] = '\0';
	memset(path, 'a', len - 1);
	path[len - 1] = 'b';
	path[len] = '\0';
	const char *pats[] = { pat };
	struct kiln_ignore_matcher *m = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	TAP_INT_EQ(kiln_ignore_matcher_new(pats, 1, &m, &err), 0, "New accepts 5000 '*a'");
	if (m) {
		TAP_INT_EQ(kiln_ignore_matches_or_parent(m, path, len, NULL, &err), -KILN_ELIMIT,
			   "matching it against 8000 bytes hits the work limit");
		TAP_OK(err.msg && strstr(err.msg, "too complex"), "the error says why (%s)",
		       err.msg ? err.msg : "");
		TAP_INT_EQ(kiln_ignore_matches_or_parent(m, "a/b", 3, NULL, NULL), 0,
			   "a short path is still answered");
	}
	kiln_error_release(&err);
	kiln_ignore_matcher_free(m);
	free(pat);
	free(path);
}

static void test_deciding_pattern(void)
{
	const char *pats[] = { "*.go", "!main.go", "*" };
	struct kiln_ignore_matcher *m = NULL;
	TAP_INT_EQ(kiln_ignore_matcher_new(pats, 3, &m, NULL), 0, "New(*.go, !main.go, *)");
	if (!m)
		return;
	long by = -2;
	TAP_INT_EQ(kiln_ignore_matches_or_parent(m, "main.go", 7, &by, NULL), 1, "main.go: match");
	TAP_INT_EQ(by, 2, "decided by '*'");
	TAP_INT_EQ(kiln_ignore_matches_or_parent(m, "x.go", 4, &by, NULL), 1, "x.go: match");
	TAP_INT_EQ(by, 0, "decided by '*.go'");
	struct kiln_ignore_pattern_info info;
	kiln_ignore_matcher_pattern(m, 1, &info);
	TAP_OK(info.exception && strcmp(info.pattern, "main.go") == 0, "pattern 1 is !main.go");
	TAP_STR_EQ(kiln_ignore_match_type_name(info.type), "exact", "... an exact pattern");
	TAP_OK(kiln_ignore_matcher_has_exceptions(m), "the matcher has exceptions");
	kiln_ignore_matcher_free(m);

	const char *none[] = { "a" };
	TAP_INT_EQ(kiln_ignore_matcher_new(none, 1, &m, NULL), 0, "New(a)");
	TAP_INT_EQ(kiln_ignore_matches_or_parent(m, "b", 1, &by, NULL), 0, "b: no match");
	TAP_INT_EQ(by, -1, "decided by no pattern");
	TAP_OK(!kiln_ignore_matcher_has_exceptions(m), "no exceptions");
	kiln_ignore_matcher_free(m);
}

static void test_legacy_and_exact(void)
{
	static const struct {
		const char *pattern, *path;
		int legacy, exact;
	} cases[] = {
		{ "docs/*", "docs/a/b", 1, 0 },
		{ "a/*/c", "a/b/c/d", 1, 0 },
		{ "a", "x/a/b", 0, 0 },
		{ "**/c", "a/b/c/d", 0, 0 }, /* only the 2-component prefix a/b is tried */
		{ "docs", "docs", 1, 1 },
		{ "*.go", ".", 0, 0 }, /* a path that cleans to "." never matches */
		{ "a", "./a//", 1, 0 }, /* the path is cleaned first */
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		const char *pats[] = { cases[i].pattern };
		TAP_INT_EQ(kiln_ignore_matches_patterns(cases[i].path, pats, 1, NULL),
			   cases[i].legacy, "Matches(%s, %s)", cases[i].path, cases[i].pattern);
		struct kiln_ignore_matcher *m = NULL;
		if (kiln_ignore_matcher_new(pats, 1, &m, NULL) == 0)
			TAP_INT_EQ(kiln_ignore_matches_exact(m, cases[i].path, strlen(cases[i].path),
							     NULL),
				   cases[i].exact, "MatchesExact(%s, %s)", cases[i].path,
				   cases[i].pattern);
		kiln_ignore_matcher_free(m);
	}
}

static void test_could_match_inside(void)
{
	static const struct {
		const char *patterns, *dir;
		unsigned which;
		int want;
	} cases[] = {
		{ "a/b/c", "a", KILN_IGNORE_NORMAL_PATTERNS, 1 },
		{ "a/b/c", "a/b/c", KILN_IGNORE_NORMAL_PATTERNS, 0 },
		{ "a/b/c", "x", KILN_IGNORE_NORMAL_PATTERNS, 0 },
		{ "a/**", "a", KILN_IGNORE_NORMAL_PATTERNS, 1 },
		{ "a/**", "a/b", KILN_IGNORE_NORMAL_PATTERNS, 1 },
		{ "a/**", "ab", KILN_IGNORE_NORMAL_PATTERNS, 0 },
		{ "**/x", "deep/er", KILN_IGNORE_NORMAL_PATTERNS, 1 },
		{ "src/*.c", "src", KILN_IGNORE_NORMAL_PATTERNS, 1 },
		{ "src/*.c", "src/sub", KILN_IGNORE_NORMAL_PATTERNS, 0 },
		{ "src/*.c", "lib", KILN_IGNORE_NORMAL_PATTERNS, 0 },
		{ "*/keep", "a", KILN_IGNORE_NORMAL_PATTERNS, 1 },
		{ "*/keep", "a/b", KILN_IGNORE_NORMAL_PATTERNS, 0 },
		{ "a[^x]b", "a", KILN_IGNORE_NORMAL_PATTERNS, 1 },
		{ "docs\n!docs/keep", "docs", KILN_IGNORE_EXCEPTION_PATTERNS, 1 },
		{ "docs\n!docs/keep", "other", KILN_IGNORE_EXCEPTION_PATTERNS, 0 },
		{ "docs\n!docs/keep", "docs", KILN_IGNORE_NORMAL_PATTERNS, 0 },
		{ "node_modules\n!**/*.md", "node_modules/x", KILN_IGNORE_EXCEPTION_PATTERNS, 1 },
		{ "x\n!*.md", "node_modules", KILN_IGNORE_EXCEPTION_PATTERNS, 0 },
		{ "[z-a]", "q", KILN_IGNORE_NORMAL_PATTERNS, 1 }, /* unknown: let matching tell */
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		cleanup(kiln_strv_release) struct kiln_strv v = KILN_STRV_INIT;
		struct kiln_ignore_matcher *m = NULL;
		if (parse_patterns(cases[i].patterns, &v) < 0 ||
		    kiln_ignore_matcher_new((const char *const *)v.items, v.len, &m, NULL) < 0) {
			TAP_OK(0, "could-match case %zu: New", i);
			continue;
		}
		TAP_INT_EQ(kiln_ignore_could_match_inside(m, cases[i].dir, strlen(cases[i].dir),
							  cases[i].which),
			   cases[i].want, "could something inside %s match (case %zu)?", cases[i].dir,
			   i);
		kiln_ignore_matcher_free(m);
	}
}

static void test_classification(void)
{
	static const struct {
		const char *pattern, *type, *re;
	} cases[] = {
		{ "abc", "exact", NULL },
		{ "a.|)$(}+{bc", "exact", NULL },
		{ "a^b", "exact", NULL },
		{ "dir/**", "prefix", NULL },
		{ "abc**", "prefix", NULL },
		{ "**", "suffix", NULL },
		{ "**.txt", "suffix", NULL },
		{ "**/x/y", "suffix", NULL },
		{ "*.go", "regexp", "^[^/]*\\.go$" },
		{ "a\\*b", "regexp", "^a\\*b$" },
		{ "a\\", "exact", NULL },
		{ "x/**/y", "regexp", "^x/(.*/)?y$" },
		{ "x**/", "prefix", NULL },
		{ "[*]", "regexp", "^[[^/]*]$" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		enum kiln_ignore_match_type t;
		char *re = NULL;
		int r = kiln_ignore_pattern_compile(cases[i].pattern, '/', &t, &re, NULL);
		TAP_OK(r == 0 && strcmp(kiln_ignore_match_type_name(t), cases[i].type) == 0,
		       "%s is %s", cases[i].pattern, cases[i].type);
		if (cases[i].re)
			TAP_STR_EQ(re, cases[i].re, "%s compiles to %s", cases[i].pattern,
				   cases[i].re);
		else
			TAP_OK(re == NULL, "%s has no regexp", cases[i].pattern);
		free(re);
	}
}

/* ---- the regexp engine ---- */

static const struct {
	const char *re, *input;
	int want;		/* 1 / 0; for errors: -code */
	const char *message; /* the error message, for errors */
} re_cases[] = {
	{ "^abc$", "abc", 1, NULL },
	{ "abc", "xabcx", 1, NULL },
	{ "^a.c$", "a\nc", 0, NULL },
	{ "^a[^b]c$", "a\nc", 1, NULL },
	{ "^(.*/)?x$", "a/b/x", 1, NULL },
	{ "^(.*/)?x$", "x", 1, NULL },
	{ "^(.*/)?x$", "ax", 0, NULL },
	{ "^\\x{263a}$", "\xE2\x98\xBA", 1, NULL },
	{ "^[\\x00-\\x{10FFFF}]$", "\xFF", 1, NULL },
	{ "^a\\b$", "a", 1, NULL },
	{ "\\bfoo\\b", "a foo b", 1, NULL },
	{ "\\bfoo\\b", "afoo", 0, NULL },
	{ "\\Bfoo", "afoo", 1, NULL },
	{ "^\\pL\\pL$", "\xC3\xA9" "a", 1, NULL },
	{ "^[\\d\\s]$", "5", 1, NULL },
	{ "^[\\d\\s]$", " ", 1, NULL },
	{ "^[\\d\\s]$", "x", 0, NULL },
	{ "^[^\\n]$", "\n", 0, NULL },
	{ "^\\101$", "A", 1, NULL },
	{ "^\\Qa*\\E[^/]*$", "a*bc", 1, NULL },
	{ "^\\Qa*$", "a*$", 1, NULL },
	{ "^[]a]$", "]", 1, NULL },
	{ "^[^]a]$", "b", 1, NULL },
	{ "^a?b$", "b", 1, NULL },
	{ "^a*?b$", "aab", 1, NULL },
	{ "^()$", "", 1, NULL },
	{ "^\\p{^Greek}$", "a", 1, NULL },
	{ "^\\p{greek}$", "\xCE\xBB", 1, NULL },
	{ "^\\p{Old_Italic}$", "\xF0\x90\x8C\x80", 1, NULL },
	{ "^\\p{Letter}$", "x", 1, NULL },
	{ "^\\p{Any}$", "\xFF", 1, NULL },
	{ "^\\PN$", "5", 0, NULL },
	{ "^[[:word:]]$", "_", 1, NULL },
	{ "^[\\D]$", "5", 0, NULL },
	{ "[z-a]", "", -KILN_EPARSE, "invalid character class range: `z-a`" },
	{ "[a", "", -KILN_EPARSE, "missing closing ]: `[a`" },
	{ "a**", "", -KILN_EPARSE, "invalid nested repetition operator: `**`" },
	{ "*", "", -KILN_EPARSE, "missing argument to repetition operator: `*`" },
	{ "(*)", "", -KILN_EPARSE, "missing argument to repetition operator: `*`" },
	{ "\\8", "", -KILN_EPARSE, "invalid escape sequence: `\\8`" },
	{ "\\q", "", -KILN_EPARSE, "invalid escape sequence: `\\q`" },
	{ "\\p{Foo}", "", -KILN_EPARSE, "invalid character class range: `\\p{Foo}`" },
	{ "[[:foo:]]", "", -KILN_EPARSE, "invalid character class range: `[:foo:]`" },
	{ "(a", "", -KILN_EPARSE, "missing closing ): `(a`" },
	{ "a)", "", -KILN_EPARSE, "unexpected ): `a)`" },
	{ "\\", "", -KILN_EPARSE, "trailing backslash at end of expression: ``" },
	{ "\\C", "", -KILN_EPARSE, "invalid escape sequence: `\\C`" },
	{ "\\x{110000}", "", -KILN_EPARSE, "invalid escape sequence: `\\x{110000`" },
	{ "[\\x{263a}-a]", "", -KILN_EPARSE, "invalid character class range: `\\x{263a}-a`" },
	{ "\\p{", "", -KILN_EPARSE, "invalid character class range: `\\p{`" },
	{ "a|b", "", -KILN_EINTERNAL, NULL },
	{ "a+", "", -KILN_EINTERNAL, NULL },
};

static void test_regexp(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(re_cases); i++) {
		struct kiln_ignore_re *re = NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		const char *s = re_cases[i].re;
		int r = kiln_ignore_re_compile(s, strlen(s), &re, &err);
		if (re_cases[i].want < 0) {
			TAP_INT_EQ(r, re_cases[i].want, "regexp %s is refused", s);
			if (re_cases[i].message)
				TAP_STR_EQ(err.msg, re_cases[i].message, "regexp %s: message", s);
		} else if (r < 0) {
			TAP_OK(0, "regexp %s compiles: %s", s, err.msg ? err.msg : "");
		} else {
			const char *in = re_cases[i].input;
			TAP_INT_EQ(kiln_ignore_re_match(re, in, strlen(in)), re_cases[i].want,
				   "regexp %s on case %zu", s, i);
			TAP_INT_EQ(kiln_ignore_re_match_general(re, in, strlen(in)), re_cases[i].want,
				   "regexp %s on case %zu, general simulation", s, i);
		}
		kiln_error_release(&err);
		kiln_ignore_re_free(re);
	}

	static const struct {
		const char *re, *prefix;
		int want;
	} viable[] = {
		{ "^src/[^/]*\\.c$", "src/", 1 },
		{ "^src/[^/]*\\.c$", "src/a/", 0 },
		{ "^a$", "b", 0 },
		{ "^a\\b", "a", 1 },
		{ "^(.*/)?x$", "q/r/", 1 },
		{ "^x$", "x", 0 }, /* the end anchor cannot hold with more to come */
		{ "abc", "zzz/", 1 }, /* unanchored: anything may follow */
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(viable); i++) {
		struct kiln_ignore_re *re = NULL;
		const char *s = viable[i].re;
		if (kiln_ignore_re_compile(s, strlen(s), &re, NULL) < 0) {
			TAP_OK(0, "regexp %s compiles", s);
			continue;
		}
		TAP_INT_EQ(kiln_ignore_re_prefix_viable(re, viable[i].prefix,
							strlen(viable[i].prefix)),
			   viable[i].want, "can %s continue after '%s'?", s, viable[i].prefix);
		TAP_INT_EQ(kiln_ignore_re_prefix_viable_general(re, viable[i].prefix,
								strlen(viable[i].prefix)),
			   viable[i].want, "... the general simulation agrees");
		kiln_ignore_re_free(re);
	}

	static const struct {
		const char *re, *prefix, *suffix;
	} lits[] = {
		{ "^abc[^/]*def$", "abc", "def" },
		{ "^\\Qab", "ab", "" },
		{ "^(.*/)?x\\.log$", "", "x.log" },
		{ "a$", "", "a" },
		{ "^\xE2\x98\xBA[^/]*$", "\xE2\x98\xBA", "" },
		{ "^\\x{FFFD}x$", "", "x" }, /* U+FFFD also stands for bad bytes: no literal */
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(lits); i++) {
		struct kiln_ignore_re *re = NULL;
		const char *s = lits[i].re;
		if (kiln_ignore_re_compile(s, strlen(s), &re, NULL) < 0) {
			TAP_OK(0, "regexp %s compiles", s);
			continue;
		}
		const char *p, *q;
		size_t pl, ql;
		kiln_ignore_re_literals(re, &p, &pl, &q, &ql);
		char pb[32], qb[32];
		snprintf(pb, sizeof(pb), "%.*s", (int)pl, p);
		snprintf(qb, sizeof(qb), "%.*s", (int)ql, q);
		TAP_STR_EQ(pb, lits[i].prefix, "literal prefix of %s", s);
		TAP_STR_EQ(qb, lits[i].suffix, "literal suffix of %s", s);
		kiln_ignore_re_free(re);
	}
}

int main(void)
{
	test_read_all();
	test_nul_bytes();
	test_new_errors();
	test_matching();
	test_deciding_pattern();
	test_work_limit();
	test_legacy_and_exact();
	test_could_match_inside();
	test_classification();
	test_regexp();
	test_walk();
	test_walk_prefetch();
	test_load_for_build();
	return tap_done();
}
