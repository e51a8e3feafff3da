/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One pattern: how patternmatcher classifies it (exact, prefix, suffix or
 * regexp), the regular expression it becomes, and matching a path against it.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/gotext.h"
#include "ignore/pattern.h"

const char *kiln_ignore_match_type_name(enum kiln_ignore_match_type t)
{
	switch (t) {
	case KILN_IGNORE_MATCH_EXACT:
		return "exact";
	case KILN_IGNORE_MATCH_PREFIX:
		return "prefix";
	case KILN_IGNORE_MATCH_SUFFIX:
		return "suffix";
	case KILN_IGNORE_MATCH_REGEXP:
		return "regexp";
	}
	return "?";
}

/* Go's text/scanner as compile uses it: runes, U+FFFD for bad bytes, a leading BOM skipped. */
struct scan {
	const char *s;
	size_t n, pos;
};

#define SCAN_EOF (-1)

static int64_t scan_peek(const struct scan *sc)
{
	if (sc->pos >= sc->n)
		return SCAN_EOF;
	size_t w;
	return kiln_utf8_decode(sc->s + sc->pos, sc->n - sc->pos, &w);
}

static int64_t scan_next(struct scan *sc)
{
	if (sc->pos >= sc->n)
		return SCAN_EOF;
	size_t w;
	int32_t r = kiln_utf8_decode(sc->s + sc->pos, sc->n - sc->pos, &w);
	sc->pos += w;
	return r;
}

static int add_rune(struct kiln_buf *b, int64_t r)
{
	char u[KILN_UTF_MAX];
	size_t w = kiln_utf8_encode((int32_t)r, u);
	return kiln_buf_add(b, u, w);
}

/* Characters that mean something in a regexp but nothing in filepath.Match. */
static int should_escape(int64_t c)
{
	return c == '.' || c == '+' || c == '(' || c == ')' || c == '|' || c == '{' || c == '}' ||
	       c == '$';
}

static int compile(const char *pat, size_t len, char sep, enum kiln_ignore_match_type *ret_type,
		   struct kiln_buf *re)
{
	struct scan sc = { pat, len, 0 };
	enum kiln_ignore_match_type type = KILN_IGNORE_MATCH_EXACT;
	const char *esc_sl = sep == '\\' ? "\\\\" : "/";
	int r;

	if (len >= 3 && memcmp(pat, "\xEF\xBB\xBF", 3) == 0)
		sc.pos = 3;
	if ((r = kiln_buf_addch(re, '^')) < 0)
		return r;
	for (size_t i = 0; scan_peek(&sc) != SCAN_EOF; i++) {
		int64_t ch = scan_next(&sc);
		if (ch == '*') {
			if (scan_peek(&sc) == '*') {
				/* some flavour of "**" */
				(void)scan_next(&sc);
				if (scan_peek(&sc) == sep)
					(void)scan_next(&sc);
				if (scan_peek(&sc) == SCAN_EOF) {
					/* "**" at the end accepts everything, as in .gitignore */
					if (type == KILN_IGNORE_MATCH_EXACT) {
						type = KILN_IGNORE_MATCH_PREFIX;
					} else {
						r = kiln_buf_addstr(re, ".*");
						type = KILN_IGNORE_MATCH_REGEXP;
					}
				} else {
					/* any number of directories, even none */
					r = kiln_buf_addf(re, "(.*%s)?", esc_sl);
					type = KILN_IGNORE_MATCH_REGEXP;
				}
				if (i == 0)
					type = KILN_IGNORE_MATCH_SUFFIX;
			} else {
				r = kiln_buf_addf(re, "[^%s]*", esc_sl);
				type = KILN_IGNORE_MATCH_REGEXP;
			}
		} else if (ch == '?') {
			r = kiln_buf_addf(re, "[^%s]", esc_sl);
			type = KILN_IGNORE_MATCH_REGEXP;
		} else if (should_escape(ch)) {
			if ((r = kiln_buf_addch(re, '\\')) == 0)
				r = add_rune(re, ch);
		} else if (ch == '\\') {
			if (sep == '\\') {
				/* Windows: '\' is the separator and nothing escapes. */
				r = kiln_buf_addstr(re, esc_sl);
			} else if (scan_peek(&sc) != SCAN_EOF) {
				if ((r = kiln_buf_addch(re, '\\')) == 0)
					r = add_rune(re, scan_next(&sc));
				type = KILN_IGNORE_MATCH_REGEXP;
			} else {
				r = kiln_buf_addch(re, '\\');
			}
		} else if (ch == '[' || ch == ']') {
			r = add_rune(re, ch);
			type = KILN_IGNORE_MATCH_REGEXP;
		} else {
			r = add_rune(re, ch);
		}
		if (r < 0)
			return r;
	}
	if (type == KILN_IGNORE_MATCH_REGEXP && (r = kiln_buf_addch(re, '$')) < 0)
		return r;
	*ret_type = type;
	return 0;
}

int kiln_ignore_pattern_compile(const char *pattern, char sep, enum kiln_ignore_match_type *ret_type,
				char **ret_regexp, struct kiln_error *err)
{
	struct kiln_buf re = KILN_BUF_INIT;
	enum kiln_ignore_match_type type;
	int r = compile(pattern, strlen(pattern), sep, &type, &re);
	if (r < 0) {
		kiln_buf_release(&re);
		return kiln_fail(err, -r, 0, "compiling pattern '%s': out of memory", pattern);
	}
	char *s = NULL;
	if (type == KILN_IGNORE_MATCH_REGEXP) {
		s = kiln_buf_detach(&re, NULL);
		if (!s)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	kiln_buf_release(&re);
	*ret_type = type;
	*ret_regexp = s;
	return 0;
}

int kiln_ignore_pattern_setup(struct ign_pattern *p, struct kiln_error *err)
{
	struct kiln_buf src = KILN_BUF_INIT;
	enum kiln_ignore_match_type type;
	int r = compile(p->text, p->len, '/', &type, &src);
	if (r < 0) {
		kiln_buf_release(&src);
		return kiln_fail(err, -r, 0, "compiling pattern '%s': out of memory", p->text);
	}
	p->type = (uint8_t)type;
	if (type == KILN_IGNORE_MATCH_REGEXP) {
		struct kiln_error rerr = KILN_ERROR_INIT;
		r = kiln_ignore_re_compile(src.buf, src.len, &p->re, &rerr);
		if (r == -KILN_EPARSE) {
			/* Go compiles lazily: the pattern is fine until something is matched with it. */
			p->bad = rerr.msg && !rerr.msg_static ? steal_ptr(&rerr.msg)
							     : kiln_strdup("cannot compile");
			kiln_error_release(&rerr);
			kiln_buf_release(&src);
			if (!p->bad)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			return 0;
		}
		if (r < 0) {
			kiln_error_move(err, &rerr);
			kiln_buf_release(&src);
			return kiln_error_prefix(err, r, "compiling pattern '%s'", p->text);
		}
		const char *pre, *suf;
		kiln_ignore_re_literals(p->re, &pre, &p->lit_prefix_len, &suf, &p->lit_suffix_len);
		p->lit_prefix = pre;
		p->lit_suffix = suf;
	}
	kiln_buf_release(&src);
	return 0;
}

static int has_prefix(const char *s, size_t n, const char *pre, size_t plen)
{
	return n >= plen && memcmp(s, pre, plen) == 0;
}

static int has_suffix(const char *s, size_t n, const char *suf, size_t slen)
{
	return n >= slen && memcmp(s + n - slen, suf, slen) == 0;
}

int kiln_ignore_pattern_match(const struct kiln_ignore_matcher *m, const struct ign_pattern *p,
			      const char *path, size_t len, struct kiln_error *err)
{
	switch (p->type) {
	case KILN_IGNORE_MATCH_EXACT:
		return len == p->len && memcmp(path, p->text, len) == 0;
	case KILN_IGNORE_MATCH_PREFIX:
		return has_prefix(path, len, p->text, p->len - 2);
	case KILN_IGNORE_MATCH_SUFFIX: {
		const char *suf = p->text + 2;
		size_t slen = p->len - 2;
		if (has_suffix(path, len, suf, slen))
			return 1;
		/* "**" + "/foo" also matches "foo" at the top */
		return slen > 0 && suf[0] == '/' && len == slen - 1 && memcmp(path, suf + 1, len) == 0;
	}
	default:
		break;
	}
	if (p->bad) {
		if (p->line && m->source)
			return kiln_fail_at(err, KILN_EPARSE, m->source, (int)p->line, 0,
					    "bad pattern '%s': %s", p->text, p->bad);
		return kiln_fail(err, KILN_EPARSE, 0, "bad pattern '%s': %s", p->text, p->bad);
	}
	if (!has_prefix(path, len, p->lit_prefix, p->lit_prefix_len) ||
	    !has_suffix(path, len, p->lit_suffix, p->lit_suffix_len))
		return 0;
	int r = kiln_ignore_re_match(p->re, path, len);
	if (r < 0)
		return kiln_fail(err, KILN_ELIMIT, 0,
				 "pattern '%s' is too complex to match against a %zu-byte path", p->text,
				 len);
	return r;
}

int kiln_ignore_pattern_could_match_inside(const struct ign_pattern *p, const char *dir_slash,
					   size_t len)
{
	switch (p->type) {
	case KILN_IGNORE_MATCH_EXACT:
		/* only the path that is the pattern: is it below the directory? */
		return p->len > len && memcmp(p->text, dir_slash, len) == 0;
	case KILN_IGNORE_MATCH_PREFIX: {
		size_t plen = p->len - 2, k = plen < len ? plen : len;
		return memcmp(p->text, dir_slash, k) == 0;
	}
	case KILN_IGNORE_MATCH_SUFFIX:
		return 1;
	default:
		break;
	}
	if (p->bad)
		return 1; /* matching it will report the error */
	size_t k = p->lit_prefix_len < len ? p->lit_prefix_len : len;
	if (memcmp(p->lit_prefix, dir_slash, k) != 0)
		return 0;
	return kiln_ignore_re_prefix_viable(p->re, dir_slash, len);
}
