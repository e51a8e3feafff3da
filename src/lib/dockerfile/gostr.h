/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/*
 * Go's string primitives, byte-exact, as BuildKit's parser uses them: UTF-8
 * decoding (utf8.DecodeRune: every invalid byte is U+FFFD of width 1), the
 * Unicode classes of the unicode package (Unicode 15.0), strings.ToLower,
 * strings.TrimSpace and strconv.Quote. kiln reproduces BuildKit's dump and
 * word splitting through these, so they follow Go exactly, quirks included.
 */

#define KILN_DF_RUNE_ERROR 0xFFFD

/**
 * utf8.DecodeRune on s[0..len): the rune and its width in *width. Invalid
 * or truncated sequences, overlong forms and surrogates give U+FFFD with
 * width 1. len must be > 0.
 */
int32_t kiln_df_utf8_decode(const char *s, size_t len, size_t *width);

/** utf8.EncodeRune: writes 1..4 bytes to out; invalid runes encode U+FFFD. */
size_t kiln_df_utf8_encode(int32_t r, char out[4]);

/** unicode.IsSpace, IsPrint (strconv.IsPrint), IsLetter, IsDigit, ToLower. */
int kiln_df_is_space(int32_t r);
int kiln_df_is_print(int32_t r);
int kiln_df_is_letter(int32_t r);
int kiln_df_is_digit(int32_t r);
int32_t kiln_df_to_lower(int32_t r);

/** Bytes of leading / trailing Unicode white space (unicode.IsSpace runes). */
size_t kiln_df_space_prefix(const char *s, size_t len);
size_t kiln_df_space_suffix(const char *s, size_t len);

/** Append strconv.Quote(s) to out. 0 or -KILN_ENOMEM / -KILN_ELIMIT. */
int kiln_df_go_quote(struct kiln_buf *out, const char *s, size_t len)
	__attribute__((warn_unused_result));

/**
 * Append strings.ToLower(s) to out: ASCII folding for ASCII input, otherwise
 * the simple Unicode lower-case mapping rune by rune, where an invalid byte
 * becomes U+FFFD (Go's strings.Map does the same).
 */
int kiln_df_go_to_lower(struct kiln_buf *out, const char *s, size_t len)
	__attribute__((warn_unused_result));

/* Generated tables (unicode-tables.c): sorted, non-overlapping, above U+007F. */
struct kiln_df_urange {
	uint32_t lo, hi;
};
struct kiln_df_ucase {
	uint32_t lo, hi;
	int32_t stride; /* 1: every code point in [lo, hi]; 2: every other one */
	int32_t delta;	/* lower = upper + delta */
};
extern const struct kiln_df_urange kiln_df_unicode_print[];
extern const size_t kiln_df_unicode_print_len;
extern const struct kiln_df_urange kiln_df_unicode_letter[];
extern const size_t kiln_df_unicode_letter_len;
extern const struct kiln_df_urange kiln_df_unicode_digit[];
extern const size_t kiln_df_unicode_digit_len;
extern const struct kiln_df_ucase kiln_df_unicode_lower[];
extern const size_t kiln_df_unicode_lower_len;
