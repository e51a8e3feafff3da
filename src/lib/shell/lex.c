/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The expander: a recursive-descent reading of one word that follows
 * BuildKit's shell.Lex step by step (processStopOn, processSingleQuote,
 * processDoubleQuote, processDollar, processName), so that results, word
 * splits, the used-name sets and the error messages are the same.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/gotext.h"
#include "base/unicode.h"
#include "pattern.h"
#include "shell.h"

#define EOF_RUNE KILN_SHELL_RUNE_EOF

/* A name the word looked up, as a span of the source (names are copied verbatim). */
struct ref {
	size_t off, len;
	int set;
};

struct sw {
	const char *src;
	size_t len, pos;
	int32_t esc;
	unsigned flags;
	const struct kiln_shell_env *env;
	int raw_escapes;
	unsigned depth; /* active stop_on() calls */
	/*
	 * The word being split. BuildKit keeps one such buffer per lexer and every
	 * nested ${...} operand resets it, so a partial word before such an
	 * expansion is dropped from the split words; kiln does the same.
	 */
	struct kiln_buf cur;
	struct kiln_strv *words;
	struct ref *refs; /* refs_small until more are needed */
	size_t nrefs, arefs;
	struct kiln_buf name; /* scratch: the name being looked up, NUL-terminated */
	size_t work;
	struct kiln_error *err;
	/* scratch storage, last: kiln_shell_expand() zeroes only the fields before it */
	struct ref refs_small[8];
	char name_small[64]; /* the same as name for the usual short name: no allocation */
};

static int32_t peek(const struct sw *sw)
{
	size_t w;
	if (sw->pos >= sw->len)
		return EOF_RUNE;
	return kiln_utf8_decode(sw->src + sw->pos, sw->len - sw->pos, &w);
}

static int32_t next(struct sw *sw)
{
	size_t w;
	if (sw->pos >= sw->len)
		return EOF_RUNE;
	int32_t c = kiln_utf8_decode(sw->src + sw->pos, sw->len - sw->pos, &w);
	sw->pos += w;
	return c;
}

static int buf_fail(struct sw *sw, int r)
{
	if (r == -KILN_ELIMIT)
		return kiln_fail(sw->err, KILN_ELIMIT, 0, "expansion longer than %zu bytes",
				 KILN_SHELL_MAX_OUTPUT);
	return kiln_fail(sw->err, KILN_ENOMEM, 0, "out of memory");
}

static int add_rune(struct sw *sw, struct kiln_buf *b, int32_t c)
{
	char enc[4];
	int r;
	if (c >= 0 && c < 0x80)
		r = kiln_buf_addch(b, (char)c);
	else
		r = kiln_buf_add(b, enc, kiln_utf8_encode(c, enc));
	return r < 0 ? buf_fail(sw, r) : 0;
}

static int add_bytes(struct sw *sw, struct kiln_buf *b, const char *s, size_t n)
{
	int r = kiln_buf_add(b, s, n);
	return r < 0 ? buf_fail(sw, r) : 0;
}

static void init_buf(struct kiln_buf *b)
{
	kiln_buf_init(b, KILN_SHELL_MAX_OUTPUT);
}

/* Errors of the expansion itself, which BuildKit may replace by a "missing" message. */
static int is_syntax_error(int r)
{
	return r == -KILN_EPARSE || r == -KILN_EINVAL;
}

/* ---- word splitting (top level only) ---- */

static int w_flush(struct sw *sw)
{
	if (sw->cur.len == 0)
		return 0;
	if (kiln_strv_pushn(sw->words, sw->cur.buf, sw->cur.len) < 0)
		return kiln_fail(sw->err, KILN_ENOMEM, 0, "out of memory");
	kiln_buf_reset(&sw->cur);
	return 0;
}

static int w_add_char(struct sw *sw, int32_t c)
{
	if (kiln_unicode_is_space(c))
		return w_flush(sw);
	return add_rune(sw, &sw->cur, c);
}

/* A $-expansion's value is split on its whitespace (Go ranges over it: bad bytes read as
 * U+FFFD). */
static int w_add_string(struct sw *sw, const char *s, size_t n)
{
	size_t w;
	for (size_t i = 0; i < n; i += w) {
		/*
		 * an ASCII byte decodes to itself and only ' ' and '\t'..'\r'
		 * among them are spaces: a run of the others is one append
		 * instead of a decode, a space test and an append per byte
		 */
		size_t j = i;
		while (j < n && (unsigned char) s[j] < 0x80 && !kiln_go_ascii_space(s[j]))
			j++;
		if (j > i) {
			int r = add_bytes(sw, &sw->cur, s + i, j - i);
			if (r < 0)
				return r;
			w = j - i;
			continue;
		}
		int r = w_add_char(sw, kiln_utf8_decode(s + i, n - i, &w));
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- names and lookups ---- */

static int is_special_param(int32_t c)
{
	return c == '@' || c == '*' || c == '#' || c == '?' || c == '-' || c == '$' || c == '!' ||
	       c == '0';
}

/* processName: a run of letters, digits and '_'; or only digits; or one special character. */
static void read_name(struct sw *sw, size_t *ret_off, size_t *ret_len)
{
	/* 1: an ASCII letter or '_', taken anywhere; 2: a digit, taken after the first byte */
	static const unsigned char name_byte[256] = {
		['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['_'] = 1, ['0' ... '9'] = 2
	};
	size_t start = sw->pos;
	int32_t c;
	/* what the loop below takes too, without decoding; it goes on from there.
	 * src[len] is the word's NUL, which no name takes. */
	const unsigned char *src = (const unsigned char *) sw->src;
	size_t p = start;
	if (name_byte[src[p]] == 1)
		while (name_byte[src[++p]])
			;
	sw->pos = p;
	/* after such a run, an ASCII byte (or the NUL) ends the name: no decoding */
	if (p > start && src[p] < 0x80) {
		*ret_off = start;
		*ret_len = p - start;
		return;
	}
	while ((c = peek(sw)) != EOF_RUNE) {
		if (sw->pos == start && kiln_unicode_is_digit(c)) {
			while ((c = peek(sw)) != EOF_RUNE && kiln_unicode_is_digit(c))
				(void)next(sw);
			break;
		}
		if (sw->pos == start && is_special_param(c)) {
			(void)next(sw);
			break;
		}
		if (!kiln_unicode_is_letter(c) && !kiln_unicode_is_digit(c) && c != '_')
			break;
		(void)next(sw);
	}
	*ret_off = start;
	*ret_len = sw->pos - start;
}

static int getenv_span(struct sw *sw, size_t off, size_t len, const char **ret_value,
		       int *ret_set)
{
	const char *value = NULL;
	int set = 0;

	if (sw->env && sw->env->lookup_n) {
		/* the name looked up where it is: no copy to terminate it */
		set = sw->env->lookup_n(sw->env->userdata, sw->src + off, len, &value) > 0;
	} else {
		const char *name = sw->name_small;
		if (len < sizeof(sw->name_small)) {
			memcpy(sw->name_small, sw->src + off, len);
			sw->name_small[len] = '\0';
		} else {
			kiln_buf_reset(&sw->name);
			int r = kiln_buf_add(&sw->name, sw->src + off, len);
			if (r < 0)
				return buf_fail(sw, r);
			name = sw->name.buf;
		}
		if (sw->env && sw->env->lookup)
			set = sw->env->lookup(sw->env->userdata, name, &value) > 0;
	}
	if (!set || !value)
		value = "";
	if (sw->nrefs == sw->arefs) {
		size_t na = sw->arefs * 2;
		struct ref *nr = sw->refs == sw->refs_small
					 ? kiln_reallocarray(NULL, na, sizeof(*nr))
					 : kiln_reallocarray(sw->refs, na, sizeof(*nr));
		if (!nr)
			return kiln_fail(sw->err, KILN_ENOMEM, 0, "out of memory");
		if (sw->refs == sw->refs_small)
			memcpy(nr, sw->refs_small, sizeof(sw->refs_small));
		sw->refs = nr;
		sw->arefs = na;
	}
	sw->refs[sw->nrefs++] = (struct ref){ off, len, set };
	*ret_value = value;
	*ret_set = set;
	return 0;
}

/* ---- the lexer ---- */

static int stop_on(struct sw *sw, int32_t stop, int raw_escapes, struct kiln_buf *out);

static int single_quote(struct sw *sw, struct kiln_buf *out)
{
	int raw = sw->flags & KILN_SHELL_RAW_QUOTES;
	int32_t c = next(sw);
	int r = raw ? add_rune(sw, out, c) : 0;
	while (r >= 0) {
		/* a run of ASCII bytes but the quote: one append */
		size_t end = sw->pos;
		while (end < sw->len && (unsigned char) sw->src[end] < 0x80 && sw->src[end] != '\'')
			end++;
		if (end > sw->pos) {
			r = add_bytes(sw, out, sw->src + sw->pos, end - sw->pos);
			sw->pos = end;
			continue;
		}
		c = next(sw);
		if (c == EOF_RUNE)
			return kiln_fail(sw->err, KILN_EPARSE, 0,
					 "unexpected end of statement while looking for matching "
					 "single-quote");
		if (c == '\'')
			return raw ? add_rune(sw, out, c) : 0;
		r = add_rune(sw, out, c);
	}
	return r;
}

static int dollar(struct sw *sw, struct kiln_buf *out);

static int double_quote(struct sw *sw, struct kiln_buf *out)
{
	int raw = sw->flags & KILN_SHELL_RAW_QUOTES;
	int32_t c = next(sw);
	int r = raw ? add_rune(sw, out, c) : 0;
	while (r >= 0) {
		switch (peek(sw)) {
		case EOF_RUNE:
			return kiln_fail(sw->err, KILN_EPARSE, 0,
					 "unexpected end of statement while looking for matching "
					 "double-quote");
		case '"':
			c = next(sw);
			return raw ? add_rune(sw, out, c) : 0;
		case '$':
			r = dollar(sw, out);
			break;
		default: {
			/* a run of ASCII bytes that are neither the quote, '$' nor the
			 * escape goes to the output as it is: one append */
			size_t end = sw->pos;
			while (end < sw->len && (unsigned char) sw->src[end] < 0x80 &&
			       sw->src[end] != '"' && sw->src[end] != '$' &&
			       sw->src[end] != sw->esc)
				end++;
			if (end > sw->pos) {
				r = add_bytes(sw, out, sw->src + sw->pos, end - sw->pos);
				sw->pos = end;
				break;
			}
			c = next(sw);
			if (c == sw->esc) {
				if (sw->raw_escapes && (r = add_rune(sw, out, c)) < 0)
					return r;
				int32_t nx = peek(sw);
				if (nx == EOF_RUNE)
					continue; /* a trailing escape is dropped */
				/* Only `"`, `$` and the escape itself can be escaped here. */
				if (nx == '"' || nx == '$' || nx == sw->esc)
					c = next(sw);
			}
			r = add_rune(sw, out, c);
		}
		}
	}
	return r;
}

/* The modifier as read, for messages: one or two runes (EOF reads as U+FFFD). */
struct chs {
	char s[9];
	size_t len;
};

static void chs_add(struct chs *c, int32_t r)
{
	c->len += kiln_utf8_encode(r, c->s + c->len);
	c->s[c->len] = '\0';
}

static int unsupported(struct sw *sw, const struct chs *chs)
{
	return kiln_fail(sw->err, KILN_EPARSE, 0, "unsupported modifier (%s) in substitution",
			 chs->s);
}

static int missing(struct sw *sw, int r, const char *what)
{
	if (is_syntax_error(r) && peek(sw) == EOF_RUNE)
		return kiln_fail(sw->err, KILN_EPARSE, 0, "syntax error: missing %s", what);
	return r;
}

/* ${name<chs>word} with chs one of - + ? # % and their ':' forms. */
static int modifier(struct sw *sw, size_t noff, size_t nlen, int32_t ch, int null_is_unset,
		    const struct chs *chs, struct kiln_buf *out)
{
	cleanup(kiln_buf_release) struct kiln_buf word = KILN_BUF_INIT;
	const char *value;
	int set, r;
	int raw = ch == '#' || ch == '%';

	if (null_is_unset && raw)
		return unsupported(sw, chs);
	init_buf(&word);
	r = stop_on(sw, '}', raw, &word);
	if (r < 0)
		return missing(sw, r, "'}'");
	r = getenv_span(sw, noff, nlen, &value, &set);
	if (r < 0)
		return r;
	if ((sw->flags & KILN_SHELL_SKIP_UNSET_ENV) && !set) {
		if ((r = add_bytes(sw, out, "${", 2)) < 0 ||
		    (r = add_bytes(sw, out, sw->src + noff, nlen)) < 0 ||
		    (r = add_bytes(sw, out, chs->s, chs->len)) < 0 ||
		    (r = add_bytes(sw, out, word.buf, word.len)) < 0)
			return r;
		return add_bytes(sw, out, "}", 1);
	}
	int empty = !set || (null_is_unset && value[0] == '\0');
	switch (ch) {
	case '-':
		return empty ? add_bytes(sw, out, word.buf, word.len)
			     : add_bytes(sw, out, value, strlen(value));
	case '+':
		return empty ? 0 : add_bytes(sw, out, word.buf, word.len);
	case '?':
		if (!set || empty) {
			const char *msg = word.len ? word.buf
					  : !set  ? "is not allowed to be unset"
						  : "is not allowed to be empty";
			return kiln_fail(sw->err, KILN_EINVAL, 0, "%.*s: %s", (int)nlen,
					 sw->src + noff, msg);
		}
		return add_bytes(sw, out, value, strlen(value));
	case '%':
	case '#': {
		/* `%%` / `##`: the operand starts with the modifier again. */
		int greedy = word.len > 0 && word.buf[0] == (char)ch;
		const char *pat = word.buf + (greedy ? 1 : 0);
		size_t plen = word.len - (greedy ? 1 : 0);
		if (ch == '%')
			return kiln_shell_trim_suffix(pat, plen, value, strlen(value), greedy, out,
						      &sw->work, sw->err);
		return kiln_shell_trim_prefix(pat, plen, value, strlen(value), greedy, out,
					      &sw->work, sw->err);
	}
	default:
		return unsupported(sw, chs);
	}
}

/* ${name/pattern/replacement} and ${name//pattern/replacement}. */
static int replace(struct sw *sw, size_t noff, size_t nlen, struct kiln_buf *out)
{
	cleanup(kiln_buf_release) struct kiln_buf pattern = KILN_BUF_INIT;
	cleanup(kiln_buf_release) struct kiln_buf repl = KILN_BUF_INIT;
	const char *value;
	int set, r;
	int all = peek(sw) == '/';

	if (all)
		(void)next(sw);
	init_buf(&pattern);
	init_buf(&repl);
	r = stop_on(sw, '/', 1, &pattern);
	if (r < 0)
		return missing(sw, r, "'/' in ${}");
	r = stop_on(sw, '}', 1, &repl);
	if (r < 0)
		return missing(sw, r, "'}'");
	r = getenv_span(sw, noff, nlen, &value, &set);
	if (r < 0)
		return r;
	if ((sw->flags & KILN_SHELL_SKIP_UNSET_ENV) && !set) {
		/* As BuildKit writes it back: with one '/' even for `//`. */
		if ((r = add_bytes(sw, out, "${", 2)) < 0 ||
		    (r = add_bytes(sw, out, sw->src + noff, nlen)) < 0 ||
		    (r = add_bytes(sw, out, "/", 1)) < 0 ||
		    (r = add_bytes(sw, out, pattern.buf, pattern.len)) < 0 ||
		    (r = add_bytes(sw, out, "/", 1)) < 0 ||
		    (r = add_bytes(sw, out, repl.buf, repl.len)) < 0)
			return r;
		return add_bytes(sw, out, "}", 1);
	}
	return kiln_shell_replace(pattern.buf, pattern.len, repl.buf, repl.len, value,
				  strlen(value), all, out, &sw->work, sw->err);
}

static int dollar(struct sw *sw, struct kiln_buf *out)
{
	size_t noff, nlen;
	const char *value;
	int set, r;

	(void)next(sw); /* '$' */
	if (peek(sw) != '{') {
		read_name(sw, &noff, &nlen);
		if (nlen == 0)
			return add_bytes(sw, out, "$", 1);
		r = getenv_span(sw, noff, nlen, &value, &set);
		if (r < 0)
			return r;
		if (!set && (sw->flags & KILN_SHELL_SKIP_UNSET_ENV)) {
			r = add_bytes(sw, out, "$", 1);
			return r < 0 ? r : add_bytes(sw, out, sw->src + noff, nlen);
		}
		return add_bytes(sw, out, value, strlen(value));
	}

	(void)next(sw); /* '{' */
	switch (peek(sw)) {
	case EOF_RUNE:
		return kiln_fail(sw->err, KILN_EPARSE, 0, "syntax error: missing '}'");
	case '{':
	case '}':
	case ':':
		return kiln_fail(sw->err, KILN_EPARSE, 0, "syntax error: bad substitution");
	default:
		break;
	}
	read_name(sw, &noff, &nlen);

	struct chs chs = { { 0 }, 0 };
	int32_t ch = next(sw);
	chs_add(&chs, ch);

	switch (ch) {
	case '}':
		r = getenv_span(sw, noff, nlen, &value, &set);
		if (r < 0)
			return r;
		if (!set && (sw->flags & KILN_SHELL_SKIP_UNSET_ENV)) {
			if ((r = add_bytes(sw, out, "${", 2)) < 0 ||
			    (r = add_bytes(sw, out, sw->src + noff, nlen)) < 0)
				return r;
			return add_bytes(sw, out, "}", 1);
		}
		return add_bytes(sw, out, value, strlen(value));
	case ':':
		ch = next(sw);
		chs_add(&chs, ch);
		return modifier(sw, noff, nlen, ch, 1, &chs, out);
	case '+':
	case '-':
	case '?':
	case '#':
	case '%':
		return modifier(sw, noff, nlen, ch, 0, &chs, out);
	case '/':
		return replace(sw, noff, nlen, out);
	default:
		return unsupported(sw, &chs);
	}
}

/*
 * An ASCII byte stop_on_loop copies to the output and the current word as it
 * is: not the stop, the escape, '$', a quote (when quotes count) or a space.
 */
static inline int ordinary_byte(const struct sw *sw, int32_t c, int32_t stop, int quotes)
{
	return c != stop && c != sw->esc && c != '$' && !kiln_go_ascii_space(c) &&
	       !(quotes && (c == '\'' || c == '"'));
}

static int stop_on_loop(struct sw *sw, int32_t stop, int top, struct kiln_buf *out)
{
	int quotes = !(sw->flags & KILN_SHELL_SKIP_PROCESS_QUOTES);
	int32_t ch;
	int r;

	while ((ch = peek(sw)) != EOF_RUNE) {
		if (stop != EOF_RUNE && ch == stop) {
			(void)next(sw);
			return top ? w_flush(sw) : 0;
		}
		if (ch == '$' || (quotes && (ch == '\'' || ch == '"'))) {
			size_t before = out->len;
			if (ch == '$')
				r = dollar(sw, out);
			else if (ch == '\'')
				r = single_quote(sw, out);
			else
				r = double_quote(sw, out);
			if (r < 0)
				return r;
			if (!top)
				continue;
			/* Expansions split on their whitespace; quoted text never does. */
			if (ch == '$')
				r = w_add_string(sw, out->buf + before, out->len - before);
			else
				r = add_bytes(sw, &sw->cur, out->buf + before, out->len - before);
			if (r < 0)
				return r;
			continue;
		}
		if (ch < 0x80 && ordinary_byte(sw, ch, stop, quotes)) {
			/* a run of bytes copied as they are: one append, not one per byte */
			/* ordinary_byte() but for the stop and the escape, through a table;
			 * the word's closing NUL at src[len] ends the run */
#define RUN_END [0] = 1, [0x80 ... 0xff] = 1, ['$'] = 1, [' '] = 1, ['\t' ... '\r'] = 1
			static const unsigned char run_end_quotes[256] = {
				RUN_END, ['\''] = 1, ['"'] = 1
			};
			static const unsigned char run_end_plain[256] = { RUN_END };
#undef RUN_END
			const unsigned char *t = quotes ? run_end_quotes : run_end_plain;
			const unsigned char *src = (const unsigned char *) sw->src;
			size_t start = sw->pos, end = start + 1;
			for (unsigned char b; !t[b = src[end]] && b != stop && b != sw->esc;)
				end++;
			const char *run = sw->src + start;
			sw->pos = end;
			if ((top && (r = add_bytes(sw, &sw->cur, run, end - start)) < 0) ||
			    (r = add_bytes(sw, out, run, end - start)) < 0)
				return r;
			continue;
		}
		ch = next(sw);
		if (ch == sw->esc) {
			if (sw->raw_escapes) {
				if (top && (r = add_rune(sw, &sw->cur, ch)) < 0)
					return r;
				if ((r = add_rune(sw, out, ch)) < 0)
					return r;
			}
			ch = next(sw);
			if (ch == EOF_RUNE)
				break; /* a trailing escape is dropped */
			r = top ? add_rune(sw, &sw->cur, ch) : 0;
		} else {
			r = top ? w_add_char(sw, ch) : 0;
		}
		if (r < 0 || (r = add_rune(sw, out, ch)) < 0)
			return r;
	}
	if (stop != EOF_RUNE) {
		char enc[4];
		size_t n = kiln_utf8_encode(stop, enc);
		return kiln_fail(sw->err, KILN_EPARSE, 0,
				 "unexpected end of statement while looking for matching %.*s",
				 (int)n, enc);
	}
	return top ? w_flush(sw) : 0;
}

/* processStopOn: read up to `stop` (consumed) or the end of the word when stop is EOF. */
static int stop_on(struct sw *sw, int32_t stop, int raw_escapes, struct kiln_buf *out)
{
	if (sw->depth > KILN_SHELL_MAX_DEPTH)
		return kiln_fail(sw->err, KILN_ELIMIT, 0, "expansions nested deeper than %d levels",
				 KILN_SHELL_MAX_DEPTH);
	int saved = sw->raw_escapes;
	/* only the outermost level splits words (when they are wanted) */
	int top = sw->depth == 0 && !(sw->flags & KILN_SHELL_NO_WORDS);
	sw->raw_escapes = raw_escapes;
	sw->depth++;
	int r = stop_on_loop(sw, stop, top, out);
	sw->depth--;
	sw->raw_escapes = saved;
	if (r >= 0 && !top)
		kiln_buf_reset(&sw->cur);
	return r;
}

/* ---- results ---- */

static int cmp_ref(const void *a, const void *b, void *arg)
{
	const struct ref *x = a, *y = b;
	const char *src = arg;
	if (x->set != y->set)
		return x->set - y->set;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(src + x->off, src + y->off, n);
	if (c)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

static int collect_names(struct sw *sw, struct kiln_shell_result *res)
{
	if (sw->nrefs > 1)
		qsort_r(sw->refs, sw->nrefs, sizeof(*sw->refs), cmp_ref, (void *)sw->src);
	int no_matched = !!(sw->flags & KILN_SHELL_NO_MATCHED);
	for (size_t i = 0; i < sw->nrefs; i++) {
		if (no_matched && sw->refs[i].set)
			continue; /* no copy of a name nobody reads */
		if (i > 0 && cmp_ref(&sw->refs[i - 1], &sw->refs[i], (void *)sw->src) == 0)
			continue;
		struct kiln_strv *v = sw->refs[i].set ? &res->matched : &res->unmatched;
		if (kiln_strv_pushn(v, sw->src + sw->refs[i].off, sw->refs[i].len) < 0)
			return kiln_fail(sw->err, KILN_ENOMEM, 0, "out of memory");
	}
	return 0;
}

void kiln_shell_result_release(struct kiln_shell_result *r)
{
	if (!r)
		return;
	/* many results are released unused (cleanups of a walk's locals): no free(NULL) call */
	if (r->word) {
		free(r->word);
		r->word = NULL;
	}
	/* most results have no names and many no words: nothing to release there */
	if (r->words.items)
		kiln_strv_release(&r->words);
	if (r->matched.items)
		kiln_strv_release(&r->matched);
	if (r->unmatched.items)
		kiln_strv_release(&r->unmatched);
}

static void sw_release(struct sw *sw)
{
	kiln_buf_release(&sw->cur);
	kiln_buf_release(&sw->name);
	if (sw->refs != sw->refs_small)
		free(sw->refs);
}

static int wrap_error(struct sw *sw, int r, const char *word)
{
	cleanup(kiln_buf_release) struct kiln_buf q = KILN_BUF_INIT;
	if (kiln_go_quote(&q, word, strlen(word)) < 0)
		return r;
	return kiln_error_prefix(sw->err, r, "failed to process %s", q.buf);
}

/* The expansion's word goes to `out` (emptied first); ret->word is set only if `detach`. */
static int expand_into(const struct kiln_shell_lex *lex, const char *word,
		       const struct kiln_shell_env *env, struct kiln_shell_result *ret,
		       struct kiln_buf *out, int detach, struct kiln_error *err)
{
	static const struct kiln_shell_lex default_lex = { '\\', 0 };
	struct kiln_shell_result res = KILN_SHELL_RESULT_INIT;
	struct sw sw;
	int r;

	memset(&sw, 0, offsetof(struct sw, refs_small));

	kiln_shell_result_release(ret);
	if (!lex)
		lex = &default_lex;
	char esc = lex->escape ? lex->escape : '\\';
	if ((unsigned char)esc >= 0x80)
		return kiln_fail(err, KILN_EINVAL, 0, "escape character must be ASCII");
	sw.refs = sw.refs_small;
	sw.arefs = KILN_ARRAY_SIZE(sw.refs_small);
	sw.src = word;
	sw.len = strlen(word);
	/* Go's text/scanner skips a byte order mark at the start of its input. */
	if (sw.len >= 3 && memcmp(word, "\xEF\xBB\xBF", 3) == 0)
		sw.pos = 3;
	sw.esc = (unsigned char)esc;
	sw.flags = lex->flags;
	sw.env = env;
	sw.raw_escapes = !!(lex->flags & KILN_SHELL_RAW_ESCAPES);
	sw.words = &res.words;
	sw.work = KILN_SHELL_MAX_MATCH_WORK;
	sw.err = err;
	kiln_buf_init(&sw.cur, 3 * KILN_SHELL_MAX_OUTPUT);
	out->cap = KILN_SHELL_MAX_OUTPUT;
	kiln_buf_reset(out);

	r = stop_on(&sw, EOF_RUNE, sw.raw_escapes, out);
	if (r >= 0)
		r = collect_names(&sw, &res);
	if (r >= 0 && detach) {
		res.word = kiln_buf_detach(out, NULL);
		if (!res.word)
			r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	if (r < 0) {
		r = wrap_error(&sw, r, word);
		sw_release(&sw);
		kiln_shell_result_release(&res);
		return r;
	}
	sw_release(&sw);
	*ret = res;
	return 0;
}

int kiln_shell_expand(const struct kiln_shell_lex *lex, const char *word,
		      const struct kiln_shell_env *env, struct kiln_shell_result *ret,
		      struct kiln_error *err)
{
	cleanup(kiln_buf_release) struct kiln_buf out = KILN_BUF_INIT;
	return expand_into(lex, word, env, ret, &out, 1, err);
}

int kiln_shell_expand_scratch(const struct kiln_shell_lex *lex, const char *word,
			      const struct kiln_shell_env *env, struct kiln_shell_result *ret,
			      struct kiln_buf *scratch, struct kiln_error *err)
{
	return expand_into(lex, word, env, ret, scratch, 0, err);
}

int kiln_shell_process_word(const struct kiln_shell_lex *lex, const char *word,
			    const struct kiln_shell_env *env, char **ret, struct kiln_error *err)
{
	struct kiln_shell_result res = KILN_SHELL_RESULT_INIT;
	/* the word alone: no split */
	struct kiln_shell_lex l = lex ? *lex : (struct kiln_shell_lex){ '\\', 0 };
	l.flags |= KILN_SHELL_NO_WORDS;
	int r = kiln_shell_expand(&l, word, env, &res, err);
	if (r < 0)
		return r;
	*ret = steal_ptr(&res.word);
	kiln_shell_result_release(&res);
	return 0;
}

int kiln_shell_process_words(const struct kiln_shell_lex *lex, const char *word,
			     const struct kiln_shell_env *env, struct kiln_strv *ret,
			     struct kiln_error *err)
{
	struct kiln_shell_result res = KILN_SHELL_RESULT_INIT;
	int r = kiln_shell_expand(lex, word, env, &res, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < res.words.len; i++) {
		if (kiln_strv_push(ret, res.words.items[i]) < 0) {
			kiln_shell_result_release(&res);
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
	}
	kiln_shell_result_release(&res);
	return 0;
}
