/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/gotext.h"
#include "base/unicode.h"
#include "internal.h"

int df_textvec_push_grow(struct df_textvec *tv, const char *s, size_t len)
{
	size_t na = tv->alloc ? tv->alloc * 2 : 16;
	struct kiln_df_text *nv;
	if (tv->arena) {
		nv = kiln_arena_array_uninit(tv->arena, na, sizeof(*nv));
		if (nv && tv->n)
			memcpy(nv, tv->v, tv->n * sizeof(*nv));
	} else {
		nv = kiln_reallocarray(tv->v, na, sizeof(*nv));
	}
	if (!nv)
		return -KILN_ENOMEM;
	tv->v = nv;
	tv->alloc = na;
	tv->v[tv->n].str = s;
	tv->v[tv->n].len = len;
	tv->n++;
	return 0;
}

void df_textvec_release(struct df_textvec *tv)
{
	if (!tv->arena)
		free(tv->v);
	tv->v = NULL;
	tv->n = tv->alloc = 0;
}

int df_textvec_finish(struct df_textvec *tv, struct kiln_arena *a, struct kiln_df_text **ret,
		      size_t *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	if (tv->n == 0)
		return 0;
	struct kiln_df_text *arr = kiln_arena_array(a, tv->n, sizeof(*arr));
	if (!arr)
		return -KILN_ENOMEM;
	memcpy(arr, tv->v, tv->n * sizeof(*arr));
	*ret = arr;
	*ret_n = tv->n;
	tv->n = 0;
	return 0;
}

/* ---- splitting arguments (BuildKit's reWhitespace.Split, parseWords, parseNameVal) ---- */

static int is_ws(char c)
{
	return df_is_ws(c);
}

/*
 * The first index from i on whose byte is below 0x21 (a candidate for
 * [\t\v\f\r ]), or len: eight bytes a step where words are long, then byte
 * by byte up to c[len], which must be a NUL. A byte below 0x21 sets its high
 * bit in (x - 0x21..) & ~x, and a borrow only flags bytes above a flagged
 * one, so the lowest flag is real.
 */
static size_t skip_word_bytes(const char *c, size_t i, size_t len)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (len - i >= 8) {
		uint64_t x;
		memcpy(&x, c + i, 8);
		uint64_t t = (x - 0x2121212121212121u) & ~x & 0x8080808080808080u;
		if (t)
			return i + ((size_t) __builtin_ctzll(t) >> 3);
		i += 8;
	}
#endif
	while ((unsigned char) c[i] >= 0x21)
		i++;
	return i;
}

/*
 * reWhitespace.Split(s, n) with Go's semantics; n < 0 means all. The pieces
 * live in one arena copy of s, each ended by a NUL written over the first
 * byte of the white space after it: one copy per line, not one per word.
 */
int df_split_ws(const char *s, size_t len, int n, struct kiln_arena *a, struct df_textvec *out)
{
	if (len == 0)
		return df_textvec_push(out, "", 0);
	char *c = kiln_arena_strndup_packed(a, s, len);
	if (!c)
		return -KILN_ENOMEM;
	size_t beg = 0, pushed = 0, i = 0;
	for (;;) {
		i = skip_word_bytes(c, i, len);
		if (i == len)
			break;
		if (!is_ws(c[i])) {
			i++;
			continue;
		}
		/* the copy's NUL ends the run of white space: no bound test */
		size_t m0 = i++;
		while (is_ws(c[i]))
			i++;
		if (n > 0 && pushed == (size_t) n - 1)
			break;
		c[m0] = '\0';
		int r = df_textvec_push(out, c + beg, m0 - beg);
		if (r < 0)
			return r;
		pushed++;
		beg = i;
	}
	/* the rest, "" after white space that ends s (as Go's Split) */
	return df_textvec_push(out, c + beg, len - beg);
}

/*
 * plain_byte(c, escape, 0): ASCII, no NUL, quote or [\t-\r ], bit 0 for the
 * escape '\\', bit 1 for '`' (any other escape is tested apart). A table,
 * one load per byte, a row of 16 bytes per line.
 */
/* clang-format off */
static const unsigned char word_byte[256] = {
	0, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	0, 3, 0, 3, 3, 3, 3, 0, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 3, 3, 3,
	1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
};
/* clang-format on */

/* unicode.IsSpace: ASCII answered in place, no call for the space between words */
static inline int rune_is_space(int32_t c)
{
	if (c < 0x80)
		return kiln_go_ascii_space(c);
	return kiln_unicode_is_space(c);
}

/* An ASCII byte that df_parse_words copies as it is, outside quotes or inside them. */
static int plain_byte(int32_t c, int32_t escape, int32_t quote)
{
	return c < 0x80 && c != escape && c != '\'' && c != '"' && c != quote &&
	       c != ' ' && (c < '\t' || c > '\r');
}

/* df_parse_words building quoted and escaped words in `word`, a buffer kept
 * between instructions: no malloc and free per ENV, LABEL or ARG. */
int df_parse_words_in(const char *s, size_t len, int escape, struct kiln_arena *a,
		      struct df_textvec *out, struct kiln_buf *word)
{
	enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
	int32_t quote = 0, ch = 0;
	size_t w = 0;
	int blank_ok = 0, r = 0;
	char enc[4];
	/* the escape directive's two escapes have a bit in word_byte; any other
	 * escape is compared byte by byte */
	kiln_buf_reset(word);
	unsigned char word_mask = escape == '\\' ? 1 : escape == '`' ? 2 : 0;

	for (size_t pos = 0; pos <= len && r >= 0; pos += w) {
		if (pos != len)
			ch = kiln_utf8_decode(s + pos, len - pos, &w);
		if (phase == IN_SPACES) {
			if (pos == len)
				break;
			if (rune_is_space(ch))
				continue;
			phase = IN_WORD;
			/* a word of plain bytes up to white space or the end: copied from s,
			 * not built byte run by byte run */
			size_t e = pos;
			if (word_mask) {
				e = df_skip_plain8(s, e, len, 0x21, '"', '\'',
						   (unsigned char) escape);
				while (e < len && (word_byte[(unsigned char) s[e]] & word_mask))
					e++;
			}
			else
				while (e < len && word_byte[(unsigned char) s[e]] && s[e] != escape)
					e++;
			int at_space = e == len || kiln_go_ascii_space(s[e]);
			if (e > pos && at_space) {
				r = df_textvec_push_copy(out, a, s + pos, e - pos);
				w = e - pos;
				phase = IN_SPACES;
				continue;
			}
			if (e > pos) {
				/* plain bytes up to a quote, escape or other byte: the run the
				 * word starts with, appended without a second scan */
				r = kiln_buf_add(word, s + pos, e - pos);
				w = e - pos;
				continue;
			}
		}
		if (pos == len) {
			if (blank_ok || word->len > 0)
				r = df_textvec_push_copy(out, a, word->buf, word->len);
			break;
		}
		/* a run of ordinary bytes in one append (in a word, or in quotes) */
		if (plain_byte(ch, escape, 0) || (phase == IN_QUOTE && ch < 0x80 && ch != quote &&
						 ch != escape)) {
			size_t e = pos + 1;
			if (phase == IN_QUOTE) {
				/* in quotes only the quote, the escape and bytes past 0x7F end
				 * a run: eight bytes a step */
				unsigned char qc = (unsigned char) quote;
				unsigned char ec = (unsigned char) escape;
				e = df_skip_plain8(s, e, len, 0, qc, ec, ec);
				while (e < len && (unsigned char) s[e] < 0x80 && s[e] != quote &&
				       s[e] != escape)
					e++;
			} else {
				while (e < len && plain_byte((unsigned char) s[e], escape, -1))
					e++;
			}
			r = kiln_buf_add(word, s + pos, e - pos);
			w = e - pos;
			continue;
		}
		if (phase == IN_WORD) {
			if (rune_is_space(ch)) {
				phase = IN_SPACES;
				if (blank_ok || word->len > 0)
					r = df_textvec_push_copy(out, a, word->buf, word->len);
				kiln_buf_reset(word);
				blank_ok = 0;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = ch;
				blank_ok = 1;
				phase = IN_QUOTE;
			}
			if (ch == escape) {
				if (pos + w == len)
					continue;
				/* escape and the next character, even a quote, kept as they are */
				r = kiln_buf_add(word, enc, kiln_utf8_encode(ch, enc));
				pos += w;
				ch = kiln_utf8_decode(s + pos, len - pos, &w);
			}
			if (r >= 0)
				r = kiln_buf_add(word, enc, kiln_utf8_encode(ch, enc));
			continue;
		}
		/* IN_QUOTE */
		if (ch == quote)
			phase = IN_WORD;
		if (ch == escape && quote != '\'') {
			if (pos + w == len) {
				phase = IN_WORD;
				continue;
			}
			pos += w;
			r = kiln_buf_add(word, enc, kiln_utf8_encode(ch, enc));
			ch = kiln_utf8_decode(s + pos, len - pos, &w);
		}
		if (r >= 0)
			r = kiln_buf_add(word, enc, kiln_utf8_encode(ch, enc));
	}
	return r < 0 ? r : 0;
}

int df_parse_words(const char *s, size_t len, int escape, struct kiln_arena *a,
		   struct df_textvec *out)
{
	cleanup(kiln_buf_release) struct kiln_buf word = KILN_BUF_INIT;
	return df_parse_words_in(s, len, escape, a, out, &word);
}

/* parseNameVal on parsed words; -KILN_ENOMEM without touching err */
static int name_val(const char *keyword, const char *s, size_t len, const struct df_textvec *words,
		    struct kiln_arena *a, struct df_textvec *out, struct kiln_error *err)
{
	int r;
	if (!memchr(words->v[0].str, '=', words->v[0].len)) {
		/* legacy form: KEY value, split at the first white space */
		size_t before = out->n;
		r = df_split_ws(s, len, 2, a, out);
		if (r < 0)
			return r;
		if (out->n - before < 2)
			return kiln_fail(err, KILN_EPARSE, 0, "%s must have two arguments",
					 keyword);
		return df_textvec_push(out, "", 0);
	}
	for (size_t i = 0; i < words->n; i++) {
		const struct kiln_df_text *wd = &words->v[i];
		const char *eq = memchr(wd->str, '=', wd->len);
		if (!eq) {
			cleanup(kiln_buf_release) struct kiln_buf q = KILN_BUF_INIT;
			r = kiln_go_quote(&q, wd->str, wd->len);
			if (r < 0)
				return r;
			return kiln_fail(err, KILN_EPARSE, 0,
					 "Syntax error - can't find = in %s. Must be of the form: "
					 "name=value",
					 q.buf);
		}
		size_t klen = (size_t) (eq - wd->str);
		/* the word is df_parse_words' arena copy, ours to cut: the key ends
		 * at a NUL over the '=', the value ends the word (shared, as is "=") */
		*(char *) eq = '\0';
		r = df_textvec_push(out, wd->str, klen);
		if (r >= 0)
			r = df_textvec_push(out, eq + 1, wd->len - klen - 1);
		if (r >= 0)
			r = df_textvec_push(out, "=", 1);
		if (r < 0)
			return r;
	}
	return 0;
}

int df_parse_name_val_in(const char *keyword, const char *s, size_t len, int escape,
			 struct kiln_arena *a, struct df_textvec *out, struct kiln_error *err,
			 struct kiln_buf *word)
{
	/* the words on the stack while they fit (the arena list grows from there,
	 * leaving nothing to free): no arena array per ENV or LABEL */
	struct kiln_df_text small[8];
	struct df_textvec words = { .v = small, .alloc = KILN_ARRAY_SIZE(small), .arena = a };
	int r = df_parse_words_in(s, len, escape, a, &words, word);
	if (r >= 0 && words.n > 0)
		r = name_val(keyword, s, len, &words, a, out, err);
	df_textvec_release(&words);
	if (r == -KILN_ENOMEM)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return r < 0 ? r : 0;
}

int df_parse_name_val(const char *keyword, const char *s, size_t len, int escape,
		      struct kiln_arena *a, struct df_textvec *out, struct kiln_error *err)
{
	cleanup(kiln_buf_release) struct kiln_buf word = KILN_BUF_INIT;
	return df_parse_name_val_in(keyword, s, len, escape, a, out, err, &word);
}
