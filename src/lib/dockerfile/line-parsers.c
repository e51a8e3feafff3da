/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One instruction line to one node: BuildKit's splitCommand,
 * extractBuilderFlags and the per-instruction "line parsers" (dispatch
 * table in parser.go, functions in line_parsers.go). Each function says
 * which of BuildKit's it reproduces; their quirks are kept on purpose
 * (docs/internals/dockerfile-parser.md lists them), because the dump and
 * every later stage must see the arguments BuildKit sees.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/gotext.h"
#include "base/unicode.h"
#include "internal.h"

static const char *const cmd_names[KILN_DF_CMD_MAX_] = {
	[KILN_DF_ADD] = "add",
	[KILN_DF_ARG] = "arg",
	[KILN_DF_CMD] = "cmd",
	[KILN_DF_COPY] = "copy",
	[KILN_DF_ENTRYPOINT] = "entrypoint",
	[KILN_DF_ENV] = "env",
	[KILN_DF_EXPOSE] = "expose",
	[KILN_DF_FROM] = "from",
	[KILN_DF_HEALTHCHECK] = "healthcheck",
	[KILN_DF_LABEL] = "label",
	[KILN_DF_MAINTAINER] = "maintainer",
	[KILN_DF_ONBUILD] = "onbuild",
	[KILN_DF_RUN] = "run",
	[KILN_DF_SHELL] = "shell",
	[KILN_DF_STOPSIGNAL] = "stopsignal",
	[KILN_DF_USER] = "user",
	[KILN_DF_VOLUME] = "volume",
	[KILN_DF_WORKDIR] = "workdir",
};

const char *kiln_df_cmd_name(enum kiln_df_cmd cmd)
{
	if ((int) cmd <= KILN_DF_UNKNOWN || cmd >= KILN_DF_CMD_MAX_)
		return NULL;
	return cmd_names[cmd];
}

/* The names as most Dockerfiles write them: a keyword spelled so is not copied. */
const char *const df_cmd_upper[KILN_DF_CMD_MAX_] = {
	[KILN_DF_ADD] = "ADD",
	[KILN_DF_ARG] = "ARG",
	[KILN_DF_CMD] = "CMD",
	[KILN_DF_COPY] = "COPY",
	[KILN_DF_ENTRYPOINT] = "ENTRYPOINT",
	[KILN_DF_ENV] = "ENV",
	[KILN_DF_EXPOSE] = "EXPOSE",
	[KILN_DF_FROM] = "FROM",
	[KILN_DF_HEALTHCHECK] = "HEALTHCHECK",
	[KILN_DF_LABEL] = "LABEL",
	[KILN_DF_MAINTAINER] = "MAINTAINER",
	[KILN_DF_ONBUILD] = "ONBUILD",
	[KILN_DF_RUN] = "RUN",
	[KILN_DF_SHELL] = "SHELL",
	[KILN_DF_STOPSIGNAL] = "STOPSIGNAL",
	[KILN_DF_USER] = "USER",
	[KILN_DF_VOLUME] = "VOLUME",
	[KILN_DF_WORKDIR] = "WORKDIR",
};

/*
 * The one instruction a keyword of this length (3..11) and first letter
 * (lower-cased, 'a'..'z') can be; ADD stands for ARG too (the second letter
 * tells them apart).
 */
#define K(c, n) [(c) - 'a'][(n) - 3]
static const unsigned char cmd_by_first_len[26][9] = {
	K('a', 3) = KILN_DF_ADD,	 K('c', 3) = KILN_DF_CMD,
	K('c', 4) = KILN_DF_COPY,	 K('e', 3) = KILN_DF_ENV,
	K('e', 6) = KILN_DF_EXPOSE,	 K('e', 10) = KILN_DF_ENTRYPOINT,
	K('f', 4) = KILN_DF_FROM,	 K('h', 11) = KILN_DF_HEALTHCHECK,
	K('l', 5) = KILN_DF_LABEL,	 K('m', 10) = KILN_DF_MAINTAINER,
	K('o', 7) = KILN_DF_ONBUILD,	 K('r', 3) = KILN_DF_RUN,
	K('s', 5) = KILN_DF_SHELL,	 K('s', 10) = KILN_DF_STOPSIGNAL,
	K('u', 4) = KILN_DF_USER,	 K('v', 6) = KILN_DF_VOLUME,
	K('w', 7) = KILN_DF_WORKDIR,
};
#undef K

/*
 * The bytes of s[0..n), 3 <= n <= 11, as two words: the first and last
 * eight (overlapping) from 8 bytes on, else the first and last four, else
 * the three. Equal words mean equal strings of one length; the names being
 * letters only, words that differ only in bits 0x20 mean the same name in
 * other cases.
 */
static void kw_words(const char *s, size_t n, uint64_t *lo, uint64_t *hi)
{
	if (n >= 8) {
		memcpy(lo, s, 8);
		memcpy(hi, s + n - 8, 8);
	} else if (n >= 4) {
		uint32_t x, y;
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		*lo = x | (uint64_t) y << 32;
		*hi = 0;
	} else {
		*lo = (unsigned char) s[0] | (unsigned) (unsigned char) s[1] << 8 |
		      (unsigned) (unsigned char) s[2] << 16;
		*hi = 0;
	}
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* The lower-case names of up to 7 bytes as words, first byte lowest: the
 * names of 8 bytes and more compare by kw_words. */
#define W3(a, b, c) ((uint64_t) (a) | (uint64_t) (b) << 8 | (uint64_t) (c) << 16)
#define W4(a, b, c, d) (W3(a, b, c) | (uint64_t) (d) << 24)
#define W5(a, b, c, d, e) (W4(a, b, c, d) | (uint64_t) (e) << 32)
#define W6(a, b, c, d, e, f) (W5(a, b, c, d, e) | (uint64_t) (f) << 40)
#define W7(a, b, c, d, e, f, g) (W6(a, b, c, d, e, f) | (uint64_t) (g) << 48)
static const uint64_t cmd_word[KILN_DF_CMD_MAX_] = {
	[KILN_DF_ADD] = W3('a', 'd', 'd'),
	[KILN_DF_ARG] = W3('a', 'r', 'g'),
	[KILN_DF_CMD] = W3('c', 'm', 'd'),
	[KILN_DF_COPY] = W4('c', 'o', 'p', 'y'),
	[KILN_DF_ENV] = W3('e', 'n', 'v'),
	[KILN_DF_EXPOSE] = W6('e', 'x', 'p', 'o', 's', 'e'),
	[KILN_DF_FROM] = W4('f', 'r', 'o', 'm'),
	[KILN_DF_LABEL] = W5('l', 'a', 'b', 'e', 'l'),
	[KILN_DF_ONBUILD] = W7('o', 'n', 'b', 'u', 'i', 'l', 'd'),
	[KILN_DF_RUN] = W3('r', 'u', 'n'),
	[KILN_DF_SHELL] = W5('s', 'h', 'e', 'l', 'l'),
	[KILN_DF_USER] = W4('u', 's', 'e', 'r'),
	[KILN_DF_VOLUME] = W6('v', 'o', 'l', 'u', 'm', 'e'),
	[KILN_DF_WORKDIR] = W7('w', 'o', 'r', 'k', 'd', 'i', 'r'),
};
#undef W3
#undef W4
#undef W5
#undef W6
#undef W7

/* the case bit of each of a keyword's first n bytes, 3 <= n <= 7 */
static const uint64_t case_bits[8] = {
	0, 0, 0, 0x202020u, 0x20202020u, 0x2020202020u, 0x202020202020u, 0x20202020202020u,
};

/* s[0..n) as a word, first byte lowest, n < 8: one load when `avail` bytes
 * from s (n or more) hold eight */
static uint64_t kw_word(const char *s, size_t n, size_t avail)
{
	uint64_t x = 0;
	if (avail >= 8) {
		memcpy(&x, s, 8);
		return x & ((UINT64_C(1) << (n * 8)) - 1);
	}
	for (size_t i = 0; i < n; i++)
		x |= (uint64_t) (unsigned char) s[i] << (i * 8);
	return x;
}
#endif

/*
 * The instruction whose name s[0..len) is in ASCII upper or lower case, and
 * in *spelled the static name s equals byte for byte (upper or lower case),
 * or NULL. Only for text with no byte past 0x7F or already lower-cased
 * (Go's lower-casing takes some non-ASCII runes to ASCII letters, the
 * KELVIN SIGN to 'k'). `avail` bytes from s are readable (len or more).
 */
static enum kiln_df_cmd lookup_cmd(const char *s, size_t len, size_t avail, const char **spelled)
{
	*spelled = NULL;
	unsigned first = (unsigned) (s[0] | 0x20) - 'a';
	if (len < 3 || len > 11 || first >= 26)
		return KILN_DF_UNKNOWN;
	enum kiln_df_cmd cmd = cmd_by_first_len[first][len - 3];
	if (cmd == KILN_DF_ADD && (s[1] | 0x20) == 'r')
		cmd = KILN_DF_ARG;
	if (cmd == KILN_DF_UNKNOWN)
		return cmd;
	const char *name = cmd_names[cmd];
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* most keywords: one word against one word (RUN, COPY, FROM, ...) */
	if (len < 8) {
		uint64_t d = kw_word(s, len, avail) ^ cmd_word[cmd], c = case_bits[len];
		if (d & ~c)
			return KILN_DF_UNKNOWN;
		*spelled = !d ? name : d == c ? df_cmd_upper[cmd] : NULL;
		return cmd;
	}
#else
	(void) avail;
#endif
	uint64_t slo, shi, nlo, nhi;
	kw_words(s, len, &slo, &shi);
	kw_words(name, len, &nlo, &nhi);
	/* the case bit of every byte the words hold */
	uint64_t clo = len == 3 ? 0x202020u : 0x2020202020202020u;
	uint64_t chi = len >= 8 ? 0x2020202020202020u : 0;
	uint64_t dlo = slo ^ nlo, dhi = shi ^ nhi;
	if ((dlo & ~clo) | (dhi & ~chi))
		return KILN_DF_UNKNOWN;
	*spelled = !(dlo | dhi) ? name : dlo == clo && dhi == chi ? df_cmd_upper[cmd] : NULL;
	return cmd;
}

static int is_ws(char c)
{
	return df_is_ws(c);
}

/*
 * The keyword of most lines in one step: an instruction's name of 3 to 7
 * ASCII bytes, spelled in upper or lower case, then [\t\v\f\r ], in the
 * first eight bytes of s[0..slen). Sets the node's cmd, keyword and
 * keyword_lower and *ret_k, or returns 0 (the general path decides).
 */
static int keyword_fast(const char *s, size_t slen, struct kiln_df_node *node, size_t *ret_k)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (slen < 8)
		return 0;
	uint64_t x;
	memcpy(&x, s, 8);
	/* the lowest byte below 0x21 is flagged exactly, as in skip_word_bytes */
	uint64_t t = (x - 0x2121212121212121u) & ~x & 0x8080808080808080u;
	if (!t)
		return 0;
	size_t k = (size_t) __builtin_ctzll(t) >> 3;
	if (k < 3 || !is_ws(s[k]))
		return 0;
	uint64_t w = x & ((UINT64_C(1) << (k * 8)) - 1);
	unsigned first = (unsigned) (s[0] | 0x20) - 'a';
	if ((w & 0x8080808080808080u) || first >= 26)
		return 0;
	enum kiln_df_cmd cmd = cmd_by_first_len[first][k - 3];
	if (cmd == KILN_DF_ADD && (s[1] | 0x20) == 'r')
		cmd = KILN_DF_ARG;
	if (cmd == KILN_DF_UNKNOWN)
		return 0;
	uint64_t d = w ^ cmd_word[cmd];
	const char *spelled = !d ? cmd_names[cmd] : d == case_bits[k] ? df_cmd_upper[cmd] : NULL;
	if (!spelled)
		return 0;
	node->cmd = cmd;
	node->keyword.str = spelled;
	node->keyword.len = k;
	node->keyword_lower.str = cmd_names[cmd];
	node->keyword_lower.len = k;
	*ret_k = k;
	return 1;
#else
	(void) s, (void) slen, (void) node, (void) ret_k;
	return 0;
#endif
}

/* unicode.IsSpace(rune(b)) for a single byte, as BuildKit's byte loops test
 * it: [\t-\r ], 0x85 and 0xA0, a table as for is_ws. */
static const unsigned char space_byte[256] = {
	['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1, [' '] = 1,
	[0x85] = 1,  [0xA0] = 1,
};

static int is_space_byte(unsigned char b)
{
	return space_byte[b];
}

/* '-' or a space byte (what extract_flags does not stop at), in one load */
static const unsigned char flags_may_start[256] = {
	['-'] = 1, ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1, [' '] = 1,
	[0x85] = 1, [0xA0] = 1,
};

/* strings.TrimSpace as a span */
static void trim_space(const char **s, size_t *len)
{
	size_t a = kiln_go_space_prefix(*s, *len);
	*s += a;
	*len -= a;
	*len -= kiln_go_space_suffix(*s, *len);
}

/* ---- flags (extractBuilderFlags) ---- */

/* Go's word += string(ch) where ch is a byte widened to a rune. */
static int add_byte_rune(struct kiln_buf *b, unsigned char c)
{
	if (c < 0x80)
		return kiln_buf_addch(b, (char) c);
	char enc[4];
	return kiln_buf_add(b, enc, kiln_utf8_encode(c, enc));
}

/* the flag word w[0..wlen), "--" and all, as the next of the *n flags */
static int push_flag(struct df_node_ctx *ctx, size_t *n, const char *w, size_t wlen)
{
	if (ctx->flags_n == ctx->flags_alloc) {
		/* grown in the arena, as the parser's other lists: no malloc and free
		 * per file (the outgrown array stays in the arena, for the nodes
		 * that borrow from it) */
		size_t na = ctx->flags_alloc ? ctx->flags_alloc * 2 : 8;
		struct kiln_df_flag *nf = kiln_arena_array_uninit(ctx->arena, na, sizeof(*nf));
		if (!nf)
			return -KILN_ENOMEM;
		if (ctx->flags_n)
			memcpy(nf, ctx->flags, ctx->flags_n * sizeof(*nf));
		ctx->flags = nf;
		ctx->flags_alloc = na;
	}
	struct kiln_df_flag *f = &ctx->flags[ctx->flags_n++];
	(*n)++;
	int r = df_text(ctx->arena, w, wlen, &f->raw);
	if (r < 0)
		return r;
	/* BFlags: strip "--", split at the first '=' */
	const char *body = f->raw.str + 2;
	size_t blen = f->raw.len - 2;
	const char *eq = memchr(body, '=', blen);
	size_t nlen = eq ? (size_t) (eq - body) : blen;
	r = df_text(ctx->arena, body, nlen, &f->name);
	if (r < 0)
		return r;
	f->has_value = eq != NULL;
	/* the value ends raw, whose NUL ends it too: shared, not copied ("" is
	 * raw's NUL) */
	f->value.str = eq ? eq + 1 : f->raw.str + f->raw.len;
	f->value.len = eq ? blen - nlen - 1 : 0;
	return 0;
}

/*
 * A byte that extends a run of flag bytes appended as they are: ASCII, not
 * [\t-\r ], no quote, no backslash. A table, one load per byte, a row of 16
 * bytes per line (bytes past 0x7F are 0).
 */
/* clang-format off */
static const unsigned char flag_run_byte[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};
/* clang-format on */

/*
 * extractBuilderFlags: leading `--word`s become flags; returns the offset in
 * s where the arguments start (len when none). Byte-wise, as BuildKit: a
 * byte >= 0x80 is widened to a rune and re-encoded, bytes 0x85 and 0xA0
 * count as white space, and the backslash escapes whatever the escape
 * directive says.
 */
static int extract_flags(struct df_node_ctx *ctx, const char *s, size_t len, size_t *n_flags,
			 size_t *ret_args)
{
	enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
	struct kiln_buf *word = &ctx->word;
	unsigned char quote = 0, ch = 0;
	int blank_ok = 0, r = 0;

	kiln_buf_reset(word);
	*ret_args = len;
	for (size_t pos = 0; pos <= len && r >= 0; pos++) {
		if (pos != len)
			ch = (unsigned char) s[pos];
		if (phase == IN_SPACES) {
			if (pos == len)
				break;
			if (is_space_byte(ch))
				continue;
			if (ch != '-' || pos + 1 == len || s[pos + 1] != '-') {
				*ret_args = pos;
				return 0;
			}
			phase = IN_WORD;
			/* a word of plain flag bytes up to white space or the end: taken
			 * from s, not built in ctx->word */
			size_t e = pos;
			while (e < len && flag_run_byte[(unsigned char) s[e]])
				e++;
			if (e == len || is_space_byte((unsigned char) s[e])) {
				if (e - pos == 2) {
					*ret_args = e;
					return 0;
				}
				r = push_flag(ctx, n_flags, s + pos, e - pos);
				phase = IN_SPACES;
				pos = e - 1;
				continue;
			}
		}
		if (pos == len) {
			int dashdash = word->len == 2 && memcmp(word->buf, "--", 2) == 0;
			if (!dashdash && (blank_ok || word->len > 0))
				r = push_flag(ctx, n_flags, word->buf, word->len);
			break;
		}
		if (phase == IN_WORD) {
			if (is_space_byte(ch)) {
				phase = IN_SPACES;
				if (word->len == 2 && memcmp(word->buf, "--", 2) == 0) {
					*ret_args = pos;
					return 0;
				}
				if (blank_ok || word->len > 0)
					r = push_flag(ctx, n_flags, word->buf, word->len);
				kiln_buf_reset(word);
				blank_ok = 0;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = ch;
				blank_ok = 1;
				phase = IN_QUOTE;
				continue;
			}
			if (ch == '\\') {
				if (pos + 1 == len)
					continue;
				ch = (unsigned char) s[++pos];
			} else if (ch < 0x80) {
				/* a run of ASCII bytes that end nothing: one append */
				size_t end = pos + 1;
				while (end < len && flag_run_byte[(unsigned char) s[end]])
					end++;
				r = kiln_buf_add(word, s + pos, end - pos);
				pos = end - 1;
				continue;
			}
			r = add_byte_rune(word, ch);
			continue;
		}
		/* IN_QUOTE */
		if (ch == quote) {
			phase = IN_WORD;
			continue;
		}
		if (ch == '\\') {
			if (pos + 1 == len) {
				phase = IN_WORD;
				continue;
			}
			ch = (unsigned char) s[++pos];
		}
		r = add_byte_rune(word, ch);
	}
	return r < 0 ? r : 0;
}

/* ---- argument parsers ---- */

__attribute__((format(printf, 4, 5))) static int
fail_node(const struct df_node_ctx *ctx, struct kiln_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = kiln_failv(err, (enum kiln_err) code, 0, fmt, ap);
	va_end(ap);
	kiln_error_set_pos(err, ctx->filename, ctx->start_line, 0);
	if (err)
		err->pos.end_line = ctx->end_line;
	return r;
}

/* s[0..len) as a text: borrowed when it ends at the line's stable NUL. */
static int tail_text(const struct df_node_ctx *ctx, const char *s, size_t len,
		     struct kiln_df_text *ret)
{
	if (s + len == ctx->nul_end) {
		ret->str = s;
		ret->len = len;
		return 0;
	}
	return df_text(ctx->arena, s, len, ret);
}

/* Push s[0..len), borrowed as tail_text() does. Inline: RUN, CMD, WORKDIR and
 * the like end here, and the call cost more than the test. */
static inline __attribute__((always_inline)) int
push_tail(struct df_node_ctx *ctx, struct df_textvec *out, const char *s, size_t len)
{
	if (s + len == ctx->nul_end)
		return df_textvec_push(out, s, len);
	return df_textvec_push_copy(out, ctx->arena, s, len);
}

/*
 * parseJSON / parseMaybeJSON on s, which starts '[': 1 when s is a JSON
 * array of strings (elements in out), 0 when it is not JSON at all (plain
 * text), or an error for a JSON array holding something else than strings.
 */
static int json_args(struct df_node_ctx *ctx, const char *s, size_t len, struct df_textvec *out,
		     struct kiln_error *err)
{
	int nonstring = 0;
	size_t before = out->n;
	int r = df_json_array_of_strings(s, len, ctx->arena, out, &nonstring);
	if (r < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (r == 1 && nonstring) {
		out->n = before;
		return fail_node(ctx, err, KILN_EPARSE, "%s",
				 "when using JSON array syntax, arrays must be comprised of "
				 "strings only");
	}
	return r;
}

/* The test inline (most RUN, COPY and ADD lines are no JSON), the parse out of line. */
static inline int maybe_json(struct df_node_ctx *ctx, const char *s, size_t len,
			     struct df_textvec *out, struct kiln_error *err)
{
	size_t lead = kiln_go_space_prefix(s, len);
	if (lead == len || s[lead] != '[')
		return 0;
	return json_args(ctx, s + lead, len - lead, out, err);
}

/* Exec form: JSON "\u0000" decodes to a NUL, so the arguments may hold one. */
static void set_json_form(struct kiln_df_node *node)
{
	node->json_form = 1;
	node->nul_free = 0;
}

/* The arguments of one instruction, per BuildKit's dispatch table. */
static int parse_args(struct df_node_ctx *ctx, struct kiln_df_node *node, const char *rest,
		      size_t len, int depth, struct kiln_error *err)
{
	struct df_textvec *out = &ctx->scratch;
	struct kiln_arena *a = ctx->arena;
	int r = 0;

	switch (node->cmd) {
	case KILN_DF_ADD:
	case KILN_DF_COPY:
	case KILN_DF_VOLUME:
		r = maybe_json(ctx, rest, len, out, err);
		if (r < 0)
			return r;
		if (r == 1) {
			set_json_form(node);
			return 0;
		}
		return len ? df_split_ws(rest, len, -1, a, out) : 0;
	case KILN_DF_FROM:
	case KILN_DF_EXPOSE:
		return len ? df_split_ws(rest, len, -1, a, out) : 0;
	case KILN_DF_CMD:
	case KILN_DF_ENTRYPOINT:
	case KILN_DF_RUN:
	case KILN_DF_SHELL:
		if (!len)
			return 0;
		r = maybe_json(ctx, rest, len, out, err);
		if (r < 0)
			return r;
		if (r == 1) {
			set_json_form(node);
			return 0;
		}
		return push_tail(ctx, out, rest, len);
	case KILN_DF_MAINTAINER:
	case KILN_DF_STOPSIGNAL:
	case KILN_DF_USER:
	case KILN_DF_WORKDIR:
		return len ? push_tail(ctx, out, rest, len) : 0;
	case KILN_DF_ARG:
		return df_parse_words_in(rest, len, ctx->escape, a, out, &ctx->word);
	case KILN_DF_ENV:
	case KILN_DF_LABEL:
		r = df_parse_name_val_in(node->cmd == KILN_DF_ENV ? "ENV" : "LABEL", rest, len,
					 ctx->escape, a, out, err, &ctx->word);
		if (r < 0 && err && err->code != KILN_ENOMEM) {
			kiln_error_set_pos(err, ctx->filename, ctx->start_line, 0);
			err->pos.end_line = ctx->end_line;
		}
		return r;
	case KILN_DF_HEALTHCHECK: {
		/* the type word (CMD, NONE, ...), then the command like CMD's */
		size_t sep = 0, nx;
		while (sep < len && !is_space_byte((unsigned char) rest[sep]))
			sep++;
		for (nx = sep; nx < len && is_space_byte((unsigned char) rest[nx]); nx++)
			;
		if (sep == 0)
			return 0;
		r = df_textvec_push_copy(out, a, rest, sep);
		if (r < 0 || nx == len)
			return r;
		r = maybe_json(ctx, rest + nx, len - nx, out, err);
		if (r < 0)
			return r;
		if (r == 1) {
			set_json_form(node);
			return 0;
		}
		return push_tail(ctx, out, rest + nx, len - nx);
	}
	case KILN_DF_ONBUILD: {
		if (!len)
			return 0;
		if (depth + 1 > KILN_DF_MAX_ONBUILD_DEPTH)
			return fail_node(ctx, err, KILN_ELIMIT,
					 "ONBUILD nested more than %d levels deep",
					 KILN_DF_MAX_ONBUILD_DEPTH);
		struct kiln_df_node *child = kiln_arena_alloc(a, sizeof(*child));
		if (!child)
			return -KILN_ENOMEM;
		r = df_node_from_line(ctx, rest, len, depth + 1, child, err);
		if (r < 0)
			return r;
		node->onbuild = child;
		node->nul_free = child->nul_free;
		return 0;
	}
	default:
		/* unknown instruction: BuildKit keeps one empty argument */
		return df_textvec_push(out, "", 0);
	}
}

/*
 * cmd and keyword_lower of a keyword s[0..len) that is ASCII or, for others,
 * already strings.ToLower'ed. A known instruction's lower-case name is its
 * cmd_names entry, not a copy. With `keyword` set, the keyword as written
 * is also set here (s is then the keyword itself): a static name when it is
 * spelled as one.
 */
static int set_keyword_lower(struct kiln_arena *a, const char *s, size_t len, size_t avail,
			     struct kiln_df_node *node, int keyword)
{
	const char *spelled;
	node->cmd = lookup_cmd(s, len, avail, &spelled);
	if (keyword) {
		if (spelled) {
			node->keyword.str = spelled;
			node->keyword.len = len;
		} else if (df_text(a, s, len, &node->keyword) < 0) {
			return -KILN_ENOMEM;
		}
	}
	if (node->cmd != KILN_DF_UNKNOWN) {
		node->keyword_lower.str = cmd_names[node->cmd];
		node->keyword_lower.len = len;
		return 0;
	}
	char *l = kiln_arena_strndup_packed(a, s, len);
	if (!l)
		return -KILN_ENOMEM;
	for (size_t i = 0; i < len; i++)
		if ((unsigned) (l[i] - 'A') < 26u)
			l[i] = (char) (l[i] + ('a' - 'A'));
	node->keyword_lower.str = l;
	node->keyword_lower.len = len;
	return 0;
}

/* The same for a keyword with bytes past 0x7F: lowered as Go does (longer,
 * shorter or ASCII), out of line as it needs a buffer. */
__attribute__((noinline)) static int set_keyword_lower_go(struct kiln_arena *a, const char *s,
							  size_t len, struct kiln_df_node *node)
{
	cleanup(kiln_buf_release) struct kiln_buf lower = KILN_BUF_INIT;
	int r = kiln_go_to_lower(&lower, s, len);
	if (r < 0)
		return r;
	return set_keyword_lower(a, lower.buf, lower.len, lower.len, node, 0);
}

/*
 * The end of the keyword at s[0..len): the first byte of [\t\v\f\r ], or
 * len. *high is its bytes or'ed (>= 0x80 when not ASCII). Eight bytes a step
 * while eight remain, as skip_word_bytes does, then byte by byte from the
 * first byte below 0x21 (white space or not).
 */
static size_t keyword_end(const char *s, size_t len, unsigned char *high)
{
	size_t k = 0;
	unsigned char h = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t seen = 0;
	while (len - k >= 8) {
		uint64_t x;
		memcpy(&x, s + k, 8);
		uint64_t t = (x - 0x2121212121212121u) & ~x & 0x8080808080808080u;
		if (t) {
			size_t b = (size_t) __builtin_ctzll(t) >> 3;
			/* the bytes before the flagged one are keyword bytes */
			seen |= x & ((UINT64_C(1) << (b * 8)) - 1);
			k += b;
			break;
		}
		seen |= x;
		k += 8;
	}
	if (seen & 0x8080808080808080u)
		h = 0x80;
#endif
	while (k < len && !is_ws(s[k]))
		h |= (unsigned char) s[k++];
	*high = h;
	return k;
}

/* The keyword, flags and arguments; -KILN_ENOMEM leaves err alone. */
static int node_from_line(struct df_node_ctx *ctx, const char *line, size_t len, int depth,
			  struct kiln_df_node *node, struct kiln_error *err)
{
	struct kiln_arena *a = ctx->arena;
	int r;

	/* the fields not always set below or by the parser (keyword, keyword_lower,
	 * original, comments are); nul_free until JSON is decoded (set_json_form) or a
	 * trigger has it unset */
	node->start_line = ctx->start_line;
	node->end_line = ctx->end_line;
	node->flags = NULL;
	node->n_flags = 0;
	node->args = NULL;
	node->n_args = 0;
	node->json_form = 0;
	node->nul_free = ctx->nul_free;
	node->onbuild = NULL;
	node->heredocs = NULL;
	node->n_heredocs = 0;
	r = tail_text(ctx, line, len, &node->original);
	if (r < 0)
		return r;

	/* splitCommand: trim, then the keyword up to the first [\t\v\f\r ]+ */
	const char *s = line;
	size_t slen = len;
	trim_space(&s, &slen);
	size_t k, j;
	if (keyword_fast(s, slen, node, &k)) {
		j = k + 1; /* s[k] is the white space that ended the keyword */
	} else {
		unsigned char high;
		k = keyword_end(s, slen, &high);
		if (high < 0x80) {
			r = set_keyword_lower(a, s, k, slen, node, 1);
		} else {
			r = df_text(a, s, k, &node->keyword);
			if (r >= 0)
				r = set_keyword_lower_go(a, s, k, node);
		}
		if (r < 0)
			return r;
		j = k;
	}

	const char *rest = s + slen;
	size_t rlen = 0, n_flags = 0;
	if (k < slen) {
		while (j < slen && is_ws(s[j]))
			j++;
		size_t args_off = 0;
		/* most instructions have no flags: extract_flags would stop at this
		 * byte anyway unless it starts "--" or is a space byte it skips */
		if (j < slen && flags_may_start[(unsigned char) s[j]]) {
			r = extract_flags(ctx, s + j, slen - j, &n_flags, &args_off);
			if (r < 0)
				return r;
		}
		rest = s + j + args_off;
		rlen = slen - j - args_off;
		/* TrimSpace: the end is s's, trimmed already (a suffix of s ends in
		 * no white space rune), so only the start is */
		size_t lead = kiln_go_space_prefix(rest, rlen);
		rest += lead;
		rlen -= lead;
	}
	if (n_flags) {
		/* the flags list only grows, as the scratch list: borrowed */
		node->flags = ctx->flags + ctx->flags_n - n_flags;
		node->n_flags = n_flags;
	}

	/* the scratch list, in the arena, only grows (an outgrown array stays
	 * there): the node borrows its part of it, not a copy. An ONBUILD node
	 * pushes none, what follows its mark is its trigger's */
	size_t mark = ctx->scratch.n;
	r = parse_args(ctx, node, rest, rlen, depth, err);
	if (r < 0) {
		ctx->scratch.n = mark;
		return r;
	}
	if (ctx->scratch.n > mark && node->cmd != KILN_DF_ONBUILD) {
		node->args = ctx->scratch.v + mark;
		node->n_args = ctx->scratch.n - mark;
	}
	return r;
}

int df_node_from_line(struct df_node_ctx *ctx, const char *line, size_t len, int depth,
		      struct kiln_df_node *node, struct kiln_error *err)
{
	int r = node_from_line(ctx, line, len, depth, node, err);
	if (r == -KILN_ENOMEM)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return r;
}

void df_node_ctx_release(struct df_node_ctx *ctx)
{
	df_textvec_release(&ctx->scratch);
	ctx->flags = NULL; /* in the arena */
	ctx->flags_alloc = ctx->flags_n = 0;
	kiln_buf_release(&ctx->word);
}
