/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Heredoc openers. BuildKit finds them by running its shell lexer over the
 * instruction line with an empty environment (unset variables kept as
 * written, quotes and escapes kept), then matching every word against
 * ^(\d*)<<(-?)\s*([^<]*)$ and lexing the delimiter twice (quotes removed /
 * kept) to learn whether it was quoted. The lexer is reproduced here for
 * exactly that use: no expansion ever happens, but its word splitting and
 * its errors decide what counts as a heredoc, so they follow BuildKit's
 * lexer step by step (including its shared word buffer, which a nested
 * ${...} resets). The escape character is always the backslash, whatever
 * the escape directive says, as in BuildKit.
 */
#include <string.h>

#include "base/gotext.h"
#include "base/unicode.h"
#include "internal.h"

#define LEX_EOF (-1)
#define LEX_ESCAPE '\\'

struct lexer {
	const char *s;
	size_t len, pos;
	int raw_quotes;
	int raw_escapes;
	struct kiln_buf word; /* the word being built; shared by nested calls */
	struct kiln_arena *arena;
	/* keep only the words that hold "<<": the only ones a heredoc opener can be */
	int opener_words;
	int depth;	 /* ${...} nesting, bounded: each level is a C call */
	const char *err; /* first lexing error, static text */
	char err_ch[16]; /* the character the message names */
};

/* ---- text/scanner's Peek/Next over runes ---- */

static int32_t peek(const struct lexer *lx)
{
	if (lx->pos >= lx->len)
		return LEX_EOF;
	size_t w;
	return kiln_utf8_decode(lx->s + lx->pos, lx->len - lx->pos, &w);
}

static int32_t next(struct lexer *lx)
{
	if (lx->pos >= lx->len)
		return LEX_EOF;
	size_t w;
	int32_t r = kiln_utf8_decode(lx->s + lx->pos, lx->len - lx->pos, &w);
	lx->pos += w;
	return r;
}

static int add_rune(struct kiln_buf *b, int32_t r)
{
	char enc[4];
	return kiln_buf_add(b, enc, kiln_utf8_encode(r, enc));
}

/* ---- the words being collected (BuildKit's wordsStruct) ---- */

/* Whether the C string s holds "<<". */
static int has_opener(const char *s)
{
	for (const char *c = s; (c = strchr(c, '<')); c++)
		if (c[1] == '<')
			return 1;
	return 0;
}

struct words {
	struct df_textvec *out; /* NULL: words are discarded */
	int in_word;
};

static int words_flush(struct lexer *lx, struct words *w)
{
	int r = 0;
	if (w->out && (!lx->opener_words || (lx->word.len >= 2 && has_opener(lx->word.buf))))
		r = df_textvec_push_copy(w->out, lx->arena, lx->word.buf, lx->word.len);
	kiln_buf_reset(&lx->word);
	w->in_word = 0;
	return r;
}

static int add_raw_char(struct lexer *lx, struct words *w, int32_t ch)
{
	w->in_word = 1;
	return add_rune(&lx->word, ch);
}

static int add_char(struct lexer *lx, struct words *w, int32_t ch)
{
	/* unicode.IsSpace, ASCII answered in place */
	if (ch < 0x80 ? kiln_go_ascii_space(ch) : kiln_unicode_is_space(ch)) {
		if (w->in_word && lx->word.len)
			return words_flush(lx, w);
		return 0;
	}
	return add_raw_char(lx, w, ch);
}

static int add_string(struct lexer *lx, struct words *w, const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t wd;
		int32_t r = kiln_utf8_decode(s + i, len - i, &wd);
		int e = add_char(lx, w, r);
		if (e < 0)
			return e;
		i += wd;
	}
	return 0;
}

static int get_words(struct lexer *lx, struct words *w)
{
	if (lx->word.len)
		return words_flush(lx, w);
	return 0;
}

/* ---- the lexer (processStopOn and friends) ---- */

#define LEX_SYNTAX 1 /* positive: lexing error recorded in lx->err */

static int process_stop_on(struct lexer *lx, int32_t stop, int raw_escapes, struct kiln_buf *result,
			   struct df_textvec *words_out);

static int fail(struct lexer *lx, const char *msg)
{
	if (!lx->err)
		lx->err = msg;
	return LEX_SYNTAX;
}

static int process_single_quote(struct lexer *lx, struct kiln_buf *res)
{
	int32_t ch = next(lx);
	int r = 0;
	if (lx->raw_quotes)
		r = add_rune(res, ch);
	while (r == 0) {
		ch = next(lx);
		if (ch == LEX_EOF)
			return fail(lx, "unexpected end of statement while looking for matching "
					"single-quote");
		if (ch == '\'') {
			if (lx->raw_quotes)
				r = add_rune(res, ch);
			return r;
		}
		r = add_rune(res, ch);
	}
	return r;
}

static int process_dollar(struct lexer *lx, struct kiln_buf *res);

static int process_double_quote(struct lexer *lx, struct kiln_buf *res)
{
	int32_t ch = next(lx);
	int r = 0;
	if (lx->raw_quotes)
		r = add_rune(res, ch);
	while (r == 0) {
		int32_t p = peek(lx);
		if (p == LEX_EOF)
			return fail(lx, "unexpected end of statement while looking for matching "
					"double-quote");
		if (p == '"') {
			ch = next(lx);
			if (lx->raw_quotes)
				r = add_rune(res, ch);
			return r;
		}
		if (p == '$') {
			r = process_dollar(lx, res);
			continue;
		}
		ch = next(lx);
		if (ch == LEX_ESCAPE) {
			if (lx->raw_escapes) {
				r = add_rune(res, ch);
				if (r)
					return r;
			}
			p = peek(lx);
			if (p == LEX_EOF)
				continue;
			if (p == '"' || p == '$' || p == LEX_ESCAPE)
				ch = next(lx);
		}
		r = add_rune(res, ch);
	}
	return r;
}

static int is_special_param(int32_t c)
{
	return c == '@' || c == '*' || c == '#' || c == '?' || c == '-' || c == '$' || c == '!' ||
	       c == '0';
}

static int process_name(struct lexer *lx, struct kiln_buf *name)
{
	int r = 0;
	int32_t ch;
	while (r == 0 && (ch = peek(lx)) != LEX_EOF) {
		if (name->len == 0 && kiln_unicode_is_digit(ch)) {
			while (r == 0 && (ch = peek(lx)) != LEX_EOF && kiln_unicode_is_digit(ch))
				r = add_rune(name, next(lx));
			return r;
		}
		if (name->len == 0 && is_special_param(ch))
			return add_rune(name, next(lx));
		if (!kiln_unicode_is_letter(ch) && !kiln_unicode_is_digit(ch) && ch != '_')
			break;
		r = add_rune(name, next(lx));
	}
	return r;
}

/* processStopOn inside ${...}, mapping an error at the end of input */
static int stop_on_in_braces(struct lexer *lx, int32_t stop, int raw, struct kiln_buf *out,
			     const char *eof_msg)
{
	int r = process_stop_on(lx, stop, raw, out, NULL);
	if (r == LEX_SYNTAX && peek(lx) == LEX_EOF) {
		lx->err = eof_msg;
		return r;
	}
	return r;
}

static int process_dollar_at(struct lexer *lx, struct kiln_buf *res)
{
	cleanup(kiln_buf_release) struct kiln_buf name = KILN_BUF_INIT;
	cleanup(kiln_buf_release) struct kiln_buf word = KILN_BUF_INIT;
	int r;

	next(lx); /* '$' */
	if (peek(lx) != '{') {
		r = process_name(lx, &name);
		if (r)
			return r;
		/* unset with SkipUnsetEnv: "$" + name, or a lone "$" */
		r = kiln_buf_addch(res, '$');
		return r ? r : kiln_buf_add(res, name.buf, name.len);
	}
	next(lx); /* '{' */
	int32_t p = peek(lx);
	if (p == LEX_EOF)
		return fail(lx, "syntax error: missing '}'");
	if (p == '{' || p == '}' || p == ':')
		return fail(lx, "syntax error: bad substitution");
	r = process_name(lx, &name);
	if (r)
		return r;
	int32_t ch = next(lx);
	char chs[8];
	size_t nchs = kiln_utf8_encode(ch == LEX_EOF ? KILN_RUNE_ERROR : ch, chs);
	int null_is_unset = 0;

	if (ch == '}') {
		r = kiln_buf_add(res, "${", 2);
		if (!r)
			r = kiln_buf_add(res, name.buf, name.len);
		return r ? r : kiln_buf_addch(res, '}');
	}
	if (ch == ':') {
		null_is_unset = 1;
		ch = next(lx);
		nchs += kiln_utf8_encode(ch == LEX_EOF ? KILN_RUNE_ERROR : ch, chs + nchs);
	}
	if (null_is_unset || ch == '+' || ch == '-' || ch == '?' || ch == '#' || ch == '%') {
		int raw = ch == '#' || ch == '%';
		if (null_is_unset && raw) {
			memcpy(lx->err_ch, chs, nchs);
			lx->err_ch[nchs] = '\0';
			return fail(lx, "unsupported modifier in substitution");
		}
		r = stop_on_in_braces(lx, '}', raw, &word, "syntax error: missing '}'");
		if (r)
			return r;
		r = kiln_buf_add(res, "${", 2);
		if (!r)
			r = kiln_buf_add(res, name.buf, name.len);
		if (!r)
			r = kiln_buf_add(res, chs, nchs);
		if (!r)
			r = kiln_buf_add(res, word.buf, word.len);
		return r ? r : kiln_buf_addch(res, '}');
	}
	if (ch == '/') {
		cleanup(kiln_buf_release) struct kiln_buf pat = KILN_BUF_INIT;
		if (peek(lx) == '/')
			next(lx);
		r = stop_on_in_braces(lx, '/', 1, &pat, "syntax error: missing '/' in ${}");
		if (r)
			return r;
		r = stop_on_in_braces(lx, '}', 1, &word, "syntax error: missing '}'");
		if (r)
			return r;
		/* BuildKit rebuilds ${name/pattern/replacement}, one '/' even for '//' */
		r = kiln_buf_add(res, "${", 2);
		if (!r)
			r = kiln_buf_add(res, name.buf, name.len);
		if (!r)
			r = kiln_buf_addch(res, '/');
		if (!r)
			r = kiln_buf_add(res, pat.buf, pat.len);
		if (!r)
			r = kiln_buf_addch(res, '/');
		if (!r)
			r = kiln_buf_add(res, word.buf, word.len);
		return r ? r : kiln_buf_addch(res, '}');
	}
	memcpy(lx->err_ch, chs, nchs);
	lx->err_ch[nchs] = '\0';
	return fail(lx, "unsupported modifier in substitution");
}

/*
 * ${...} nests through process_stop_on, one C call per level. BuildKit has
 * no bound (Go stacks grow); kiln stops at LEX_MAX_DEPTH and treats deeper
 * input as a lexing error, so such a line opens no heredocs.
 */
#define LEX_MAX_DEPTH 256

static int process_dollar(struct lexer *lx, struct kiln_buf *res)
{
	if (lx->depth >= LEX_MAX_DEPTH)
		return fail(lx, "variable references nested too deeply");
	lx->depth++;
	int r = process_dollar_at(lx, res);
	lx->depth--;
	return r;
}

static int process_possible_heredoc(struct lexer *lx, struct kiln_buf *res)
{
	next(lx); /* '<' */
	if (peek(lx) != '<')
		return kiln_buf_addch(res, '<');
	next(lx);
	int r = kiln_buf_add(res, "<<", 2);
	int32_t p;
	/* white space between << and the delimiter belongs to the word */
	while (r == 0 && ((p = peek(lx)) == ' ' || p == '\t' || p == '\r'))
		r = add_rune(res, next(lx));
	return r;
}

/*
 * A printable ASCII byte (or DEL) that process_stop_on only appends to the
 * word and the result: no space, quote, '$', '<' or escape. A table, one
 * load per byte, a row of 16 bytes per line (bytes past 0x7F are 0).
 */
/* clang-format off */
static const unsigned char plain_byte[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};
/* clang-format on */

/* plain_byte for a rune, and not the stop rune */
static int is_plain(int32_t ch, int32_t stop)
{
	return ch >= 0 && ch < 0x80 && plain_byte[ch] && ch != stop;
}

/* The text up to stop appended to result (NULL: not built), the words to words_out. */
static int process_stop_on(struct lexer *lx, int32_t stop, int raw_escapes, struct kiln_buf *result,
			   struct df_textvec *words_out)
{
	struct words w = { .out = words_out, .in_word = 0 };
	int saved_raw = lx->raw_escapes;
	int r = 0;

	kiln_buf_reset(&lx->word);
	lx->raw_escapes = raw_escapes;
	for (;;) {
		int32_t ch = peek(lx);
		if (ch == LEX_EOF)
			break;
		if (stop != LEX_EOF && ch == stop) {
			next(lx);
			lx->raw_escapes = saved_raw;
			return get_words(lx, &w);
		}
		if (ch == '$' || ch == '<' || ch == '\'' || ch == '"') {
			cleanup(kiln_buf_release) struct kiln_buf tmp = KILN_BUF_INIT;
			if (ch == '$')
				r = process_dollar(lx, &tmp);
			else if (ch == '<')
				r = process_possible_heredoc(lx, &tmp);
			else if (ch == '\'')
				r = process_single_quote(lx, &tmp);
			else
				r = process_double_quote(lx, &tmp);
			if (!r && result)
				r = kiln_buf_add(result, tmp.buf, tmp.len);
			if (!r && ch == '$') {
				r = add_string(lx, &w, tmp.buf, tmp.len);
			} else if (!r) {
				w.in_word = 1;
				r = kiln_buf_add(&lx->word, tmp.buf, tmp.len);
			}
			if (r)
				break;
			continue;
		}
		if (is_plain(ch, stop)) {
			/* a run of such bytes: what add_char and add_rune do for each, at once */
			size_t b = lx->pos, e = b + 1;
			while (e < lx->len && plain_byte[(unsigned char) lx->s[e]] &&
			       (unsigned char) lx->s[e] != stop)
				e++;
			w.in_word = 1;
			r = kiln_buf_add(&lx->word, lx->s + b, e - b);
			if (!r && result)
				r = kiln_buf_add(result, lx->s + b, e - b);
			lx->pos = e;
			if (r)
				break;
			continue;
		}
		ch = next(lx);
		if (ch == LEX_ESCAPE) {
			if (lx->raw_escapes) {
				r = add_raw_char(lx, &w, ch);
				if (!r && result)
					r = add_rune(result, ch);
				if (r)
					break;
			}
			ch = next(lx);
			if (ch == LEX_EOF)
				break;
			r = add_raw_char(lx, &w, ch);
		} else {
			r = add_char(lx, &w, ch);
		}
		if (!r && result)
			r = add_rune(result, ch);
		if (r)
			break;
	}
	lx->raw_escapes = saved_raw;
	if (r)
		return r;
	if (stop != LEX_EOF) {
		lx->err_ch[kiln_utf8_encode(stop, lx->err_ch)] = '\0';
		return fail(lx, "unexpected end of statement while looking for matching");
	}
	return get_words(lx, &w);
}

/*
 * ProcessWords(s) with an empty environment: the words are appended to out
 * (arena copies; with opener_words only those holding "<<"). 0, LEX_SYNTAX
 * with lx->err set, or a negative error. The text of the whole line, which
 * BuildKit also builds, is not: no caller reads it.
 */
static int lex_words(struct lexer *lx, const char *s, size_t len, int raw_quotes, int raw_escapes,
		     int opener_words, struct kiln_arena *a, struct df_textvec *out)
{
	memset(lx, 0, sizeof(*lx));
	kiln_buf_init(&lx->word, 0);
	lx->s = s;
	lx->len = len;
	lx->arena = a;
	lx->raw_quotes = raw_quotes;
	lx->raw_escapes = raw_escapes;
	lx->opener_words = opener_words;
	/* text/scanner skips a byte order mark at the start of its input */
	if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		lx->pos = 3;
	int r = process_stop_on(lx, LEX_EOF, raw_escapes, NULL, out);
	kiln_buf_release(&lx->word);
	return r;
}

/* BuildKit's message for a lexing error: failed to process "<input>": <why> */
static int lex_fail(struct lexer *lx, const char *s, size_t len, struct kiln_error *err)
{
	cleanup(kiln_buf_release) struct kiln_buf q = KILN_BUF_INIT;
	if (kiln_go_quote(&q, s, len) < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (strcmp(lx->err, "unsupported modifier in substitution") == 0)
		return kiln_fail(err, KILN_EPARSE, 0,
				 "failed to process %s: unsupported modifier (%s) in substitution",
				 q.buf, lx->err_ch);
	if (strcmp(lx->err, "unexpected end of statement while looking for matching") == 0)
		return kiln_fail(err, KILN_EPARSE, 0, "failed to process %s: %s %s", q.buf, lx->err,
				 lx->err_ch);
	return kiln_fail(err, KILN_EPARSE, 0, "failed to process %s: %s", q.buf, lx->err);
}

static size_t count_quotes(const struct kiln_df_text *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->len; i++)
		n += t->str[i] == '\'' || t->str[i] == '"';
	return n;
}

int df_parse_heredoc(const char *word, size_t len, struct kiln_arena *a,
		     struct kiln_df_heredoc *ret, struct kiln_error *err)
{
	/* ^(\d*)<<(-?)\s*([^<]*)$ */
	size_t i = 0;
	while (i < len && word[i] >= '0' && word[i] <= '9')
		i++;
	size_t digits = i;
	if (len - i < 2 || word[i] != '<' || word[i + 1] != '<')
		return 0;
	i += 2;
	int chomp = 0;
	if (i < len && word[i] == '-') {
		chomp = 1;
		i++;
	}
	while (i < len && (word[i] == ' ' || word[i] == '\t' || word[i] == '\n' ||
			   word[i] == '\f' || word[i] == '\r'))
		i++;
	if (memchr(word + i, '<', len - i))
		return 0;
	const char *rest = word + i;
	size_t rest_len = len - i;
	if (rest_len == 0)
		return 0;

	/* strconv.ParseUint(digits, 10, 0), its range error ignored: saturates */
	uint64_t fd = 0;
	for (size_t k = 0; k < digits; k++) {
		unsigned d = (unsigned) (word[k] - '0');
		if (fd > (UINT64_MAX - d) / 10) {
			fd = UINT64_MAX;
			break;
		}
		fd = fd * 10 + d;
	}

	/* a delimiter of plain bytes (EOF): the lexer would find it as the one
	 * word, the same with quotes kept as without */
	size_t k = 0;
	while (k < rest_len && plain_byte[(unsigned char) rest[k]])
		k++;
	if (k == rest_len) {
		char *name = kiln_arena_strndup(a, rest, rest_len);
		if (!name)
			return kiln_fail(err, KILN_ENOMEM, 0, "%s", kiln_strerror(KILN_ENOMEM));
		*ret = (struct kiln_df_heredoc){ .name = { name, rest_len },
						 .fd = fd,
						 .chomp = chomp,
						 .expand = 1 };
		return 1;
	}

	struct df_textvec words = { 0 }, raw = { 0 };
	struct lexer lx;
	int r = lex_words(&lx, rest, rest_len, 0, 0, 0, a, &words);
	if (r == 0 && words.n != 1) {
		df_textvec_release(&words);
		return 0;
	}
	if (r == 0)
		r = lex_words(&lx, rest, rest_len, 1, 0, 0, a, &raw);
	if (r == 0 && raw.n != words.n) {
		r = kiln_fail(err, KILN_EPARSE, 0,
			      "internal lexing of heredoc produced inconsistent results: %.*s",
			      (int) rest_len, rest);
	} else if (r == LEX_SYNTAX) {
		r = lex_fail(&lx, rest, rest_len, err);
	} else if (r < 0) {
		r = kiln_fail(err, -r, 0, "%s", kiln_strerror(-r));
	} else {
		memset(ret, 0, sizeof(*ret));
		ret->name = words.v[0];
		ret->fd = fd;
		ret->chomp = chomp;
		ret->expand = count_quotes(&words.v[0]) == count_quotes(&raw.v[0]);
		r = 1;
	}
	df_textvec_release(&words);
	df_textvec_release(&raw);
	return r;
}

/*
 * The words of a line of plain bytes, ASCII white space and '<' only, that
 * hold "<<" (arena copies in out), as lex_words(line, 1, 1, 1) finds them:
 * no quote, '$' or escape, so a word is its bytes in the line, split at
 * white space but for the blanks a "<<" takes into its word. 1 when done,
 * 0 when the line has other bytes (the lexer's), or -KILN_ENOMEM.
 */
static int plain_line_openers(const char *s, size_t len, struct kiln_arena *a,
			      struct df_textvec *out)
{
	for (size_t i = 0; i < len; i++)
		if (!plain_byte[(unsigned char) s[i]] &&
		    !kiln_go_ascii_space((unsigned char) s[i]) && s[i] != '<')
			return 0;
	size_t i = 0;
	while (i < len) {
		while (i < len && kiln_go_ascii_space((unsigned char) s[i]))
			i++;
		size_t b = i;
		int opener = 0;
		while (i < len && !kiln_go_ascii_space((unsigned char) s[i])) {
			if (s[i] == '<' && i + 1 < len && s[i + 1] == '<') {
				/* process_possible_heredoc: the blanks after "<<" are the word's */
				opener = 1;
				i += 2;
				while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
					i++;
				continue;
			}
			i++;
		}
		if (opener && df_textvec_push_copy(out, a, s + b, i - b) < 0)
			return -KILN_ENOMEM;
	}
	return 1;
}

int df_heredocs_from_line(const char *line, size_t len, struct kiln_arena *a,
			  struct kiln_df_heredoc **items, size_t *n, size_t *alloc,
			  struct kiln_error *err)
{
	struct df_textvec words = { 0 };
	struct lexer lx;
	/* a lexing error means no words, hence no heredocs, as in BuildKit; a word
	 * without "<<" is no opener (df_parse_heredoc), so it is not kept */
	int r = plain_line_openers(line, len, a, &words);
	r = r == 1 ? 0 : r == 0 ? lex_words(&lx, line, len, 1, 1, 1, a, &words) : r;
	if (r < 0) {
		df_textvec_release(&words);
		return kiln_fail(err, -r, 0, "%s", kiln_strerror(-r));
	}
	if (r == LEX_SYNTAX)
		words.n = 0;
	for (size_t i = 0; i < words.n; i++) {
		struct kiln_df_heredoc h;
		r = df_parse_heredoc(words.v[i].str, words.v[i].len, a, &h, err);
		if (r < 0)
			break;
		if (r == 0)
			continue;
		if (*n == *alloc) {
			size_t na = *alloc ? *alloc * 2 : 4;
			struct kiln_df_heredoc *ni = kiln_reallocarray(*items, na, sizeof(**items));
			if (!ni) {
				r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
				break;
			}
			*items = ni;
			*alloc = na;
		}
		(*items)[(*n)++] = h;
		r = 0;
	}
	df_textvec_release(&words);
	return r < 0 ? r : 0;
}
