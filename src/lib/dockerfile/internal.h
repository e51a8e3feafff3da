/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/arena.h"
#include "ast.h"
#include "base/buf.h"
#include "base/error.h"

/*
 * Module-private plumbing shared by the parser's files. Strings built here
 * live in the parse's arena; growing lists use a heap scratch vector that is
 * copied into the arena once complete.
 */

/** A growable list of texts (heap array; the texts themselves are arena strings). */
struct df_textvec {
	struct kiln_df_text *v;
	size_t n, alloc;
	/* set: the array grows in this arena (an outgrown one is left there)
	 * and there is nothing to free; NULL: a heap array */
	struct kiln_arena *arena;
};
/** df_textvec_push when the list is full: grow it, then push. */
int df_textvec_push_grow(struct df_textvec *tv, const char *s, size_t len)
	__attribute__((warn_unused_result));
/* Inline: a push is one store pair when there is room, as there nearly always is. */
__attribute__((warn_unused_result)) static inline int df_textvec_push(struct df_textvec *tv,
								      const char *s, size_t len)
{
	if (tv->n == tv->alloc)
		return df_textvec_push_grow(tv, s, len);
	tv->v[tv->n].str = s;
	tv->v[tv->n].len = len;
	tv->n++;
	return 0;
}
/** Copy s[0..len) into the arena, then push it. */
__attribute__((warn_unused_result)) static inline int
df_textvec_push_copy(struct df_textvec *tv, struct kiln_arena *a, const char *s, size_t len)
{
	char *p = kiln_arena_strndup(a, s, len);
	if (!p)
		return -KILN_ENOMEM;
	return df_textvec_push(tv, p, len);
}

void df_textvec_release(struct df_textvec *tv);
/** Copy the items into the arena as a fixed array (NULL for none). */
int df_textvec_finish(struct df_textvec *tv, struct kiln_arena *a, struct kiln_df_text **ret,
		      size_t *ret_n) __attribute__((warn_unused_result));

/** A text in the arena. -KILN_ENOMEM on failure. */
__attribute__((warn_unused_result)) static inline int df_text(struct kiln_arena *a, const char *s,
							      size_t len, struct kiln_df_text *ret)
{
	char *p = kiln_arena_strndup(a, s, len);
	if (!p)
		return -KILN_ENOMEM;
	ret->str = p;
	ret->len = len;
	return 0;
}

/* ---- scanning eight bytes a step ---- */

/* Per byte of x: the high bit set where the byte is zero (and maybe above one that is). */
static inline uint64_t df_zero_bytes(uint64_t x)
{
	return (x - 0x0101010101010101u) & ~x & 0x8080808080808080u;
}

/*
 * The first index from i on, in steps of eight while eight bytes remain in
 * s[0..len), of a block holding a byte below lo (at most 0x80), at or past
 * 0x80, or equal to one of c1..c3; len - (len - i) % 8 when none does. The
 * callers' byte loops then go on from there with their exact byte classes,
 * which stop at no byte this skips.
 */
static inline size_t df_skip_plain8(const char *s, size_t i, size_t len, unsigned char lo,
				    unsigned char c1, unsigned char c2, unsigned char c3)
{
	const uint64_t ones = 0x0101010101010101u;
	while (len - i >= 8) {
		uint64_t x;
		memcpy(&x, s + i, 8);
		/* below lo: the borrow of x - lo sets the high bit of a byte < lo */
		uint64_t t = ((x - lo * ones) & ~x) | x;
		t &= 0x8080808080808080u;
		t |= df_zero_bytes(x ^ (c1 * ones)) | df_zero_bytes(x ^ (c2 * ones)) |
		     df_zero_bytes(x ^ (c3 * ones));
		if (t)
			break;
		i += 8;
	}
	return i;
}

/* ---- JSON (Go's encoding/json rules), json-value.c ---- */

/* Each instruction's name in upper case, by kiln_df_cmd (line-parsers.c). */
extern const char *const df_cmd_upper[KILN_DF_CMD_MAX_];

#define DF_JSON_MAX_DEPTH 10000 /* Go's scanner limit; deeper is a syntax error */

/**
 * json.Unmarshal(s, &[]any): 1 when s is a JSON array (the whole text, with
 * JSON white space around it), its string elements appended to out in order
 * and *ret_nonstring set if any element is not a string; 0 when s is not
 * valid JSON, not an array, or would fail Go's decoding (a number out of
 * float64 range); -KILN_ENOMEM.
 */
int df_json_array_of_strings(const char *s, size_t len, struct kiln_arena *a,
			     struct df_textvec *out, int *ret_nonstring);

/**
 * json.Unmarshal(s, &map[string]any) then a string-valued lookup of key: 1
 * with *ret set, 0 when not valid, not an object, or the (last) value for
 * key is absent or not a string; -KILN_ENOMEM.
 */
int df_json_object_string(const char *s, size_t len, const char *key, struct kiln_arena *a,
			  struct kiln_df_text *ret);

/* ---- BuildKit's shell lexer, for heredoc detection only (heredoc.c) ---- */

/**
 * Heredoc openers of one instruction line (BuildKit's heredocsFromLine):
 * appended to out (name only). 0 or a negative error for a malformed opener.
 */
int df_heredocs_from_line(const char *line, size_t len, struct kiln_arena *a,
			  struct kiln_df_heredoc **items, size_t *n, size_t *alloc,
			  struct kiln_error *err);
/** ParseHeredoc: 1 with *ret filled, 0 when word is no heredoc, or < 0. */
int df_parse_heredoc(const char *word, size_t len, struct kiln_arena *a,
		     struct kiln_df_heredoc *ret, struct kiln_error *err);

/* ---- argument parsing per instruction (line-parsers.c) ---- */

struct df_node_ctx {
	struct kiln_arena *arena;
	int escape;
	const char *filename;
	int start_line, end_line;
	/* a NUL in memory the arena outlives that ends the line being split, or
	 * NULL: a text that ends there is borrowed, not copied */
	const char *nul_end;
	int nul_free; /* the file holds no NUL byte (kiln_df_node.nul_free) */
	/* the arguments of every node so far, which borrow their parts: in the
	 * arena, never emptied */
	struct df_textvec scratch;
	/* the flags of every node so far, borrowed as the arguments are, and
	 * the flag word being built (reused; released by df_node_ctx_release()) */
	struct kiln_df_flag *flags;
	size_t flags_n, flags_alloc;
	struct kiln_buf word;
};
void df_node_ctx_release(struct df_node_ctx *ctx);

/**
 * BuildKit's newNodeFromLine: split the keyword, the flags and the
 * arguments of one (joined) instruction line into *node. Errors are located
 * at the context's lines.
 */
int df_node_from_line(struct df_node_ctx *ctx, const char *line, size_t len, int depth,
		      struct kiln_df_node *node, struct kiln_error *err);

/* The class [\t\v\f\r ] of BuildKit's reWhitespace: a table, one load per byte. */
static const unsigned char df_ws_class[256] = {
	['\t'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1, [' '] = 1,
};

static inline int df_is_ws(char c)
{
	return df_ws_class[(unsigned char) c];
}

/* ---- splitting arguments (text.c) ---- */

/** reWhitespace.Split(s, n), n < 0 for all: the pieces in one arena copy of s. */
int df_split_ws(const char *s, size_t len, int n, struct kiln_arena *a, struct df_textvec *out);

/** parseWords: quote-aware split keeping quotes and escapes (rune-wise). */
int df_parse_words(const char *s, size_t len, int escape, struct kiln_arena *a,
		   struct df_textvec *out);
/** The same with `word` as the buffer words are built in (the parser's, reused). */
int df_parse_words_in(const char *s, size_t len, int escape, struct kiln_arena *a,
		      struct df_textvec *out, struct kiln_buf *word);

/** parseNameVal for ENV/LABEL: (key, value, sep) triples appended to out. */
int df_parse_name_val(const char *keyword, const char *s, size_t len, int escape,
		      struct kiln_arena *a, struct df_textvec *out, struct kiln_error *err);
int df_parse_name_val_in(const char *keyword, const char *s, size_t len, int escape,
			 struct kiln_arena *a, struct df_textvec *out, struct kiln_error *err,
			 struct kiln_buf *word);

/* ---- directives (directives.c) ---- */

/**
 * One step of BuildKit's DirectiveParser over a line (no line ending):
 * `prefix` is "#" or "//". Returns 1 with name/value spans set when the line
 * is a directive (name not lower-cased), 0 when it is not (the caller then
 * stops looking for directives).
 */
int df_directive_line(const char *line, size_t len, const char *prefix, size_t *name_off,
		      size_t *name_len, size_t *val_off, size_t *val_len);
/** The lower-cased name of known directive idx: 0 syntax, 1 escape, 2 check. */
const char *df_directive_name(int idx);
/** Whether a lower-cased directive name is one BuildKit knows. */
int df_directive_known(const char *name, size_t len);
