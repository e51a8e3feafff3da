/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct kiln_buf;

/*
 * Go's text primitives, byte for byte: unicode/utf8 decoding and encoding,
 * strings.TrimSpace, strings.ToLower and strconv.Quote. BuildKit's parser,
 * shell lexer and .dockerignore reader see their input through these, and
 * the texts kiln prints where BuildKit would print them (a quoted word in
 * an error, a dump) must come out the same, quirks included: an invalid
 * byte is one U+FFFD, surrogates and overlong forms are invalid, U+0085 and
 * U+00A0 are white space.
 */

#define KILN_RUNE_ERROR ((int32_t) 0xFFFD) /* utf8.RuneError */
#define KILN_MAX_RUNE ((int32_t) 0x10FFFF) /* unicode.MaxRune */
#define KILN_UTF_MAX 4			   /* utf8.UTFMax */

/** kiln_utf8_decode past an ASCII byte, which kiln_utf8_decode answers inline. */
int32_t kiln_utf8_decode_scan(const char *s, size_t len, size_t *ret_width);

/**
 * utf8.DecodeRuneInString on s[0..len), len > 0: the rune, its width in
 * *ret_width. An invalid or truncated sequence, an overlong form, a
 * surrogate or a value past U+10FFFF decodes as U+FFFD of width 1; a
 * U+FFFD actually encoded has width 3.
 */
static inline int32_t kiln_utf8_decode(const char *s, size_t len, size_t *ret_width)
{
	unsigned char b0 = (unsigned char) s[0];
	if (b0 < 0x80) {
		*ret_width = 1;
		return b0;
	}
	return kiln_utf8_decode_scan(s, len, ret_width);
}

/** utf8.DecodeLastRuneInString: the rune that ends s[0..len), len > 0. */
int32_t kiln_utf8_decode_last(const char *s, size_t len, size_t *ret_width);

/** utf8.EncodeRune: 1 to 4 bytes into out; a negative, surrogate or too large rune is U+FFFD. */
size_t kiln_utf8_encode(int32_t r, char out[KILN_UTF_MAX]);

/** The loops behind kiln_go_space_prefix / _suffix, for text that may start / end in space. */
size_t kiln_go_space_prefix_scan(const char *s, size_t len);
size_t kiln_go_space_suffix_scan(const char *s, size_t len);

/** strconv.ParseBool: 0 with *ret 1 or 0 for its spellings ("1", "t", "TRUE",
 *  "true", "True", and the false ones), -1 for anything else. */
int kiln_go_parse_bool(const char *s, int *ret);

/** Go's unhex (strconv, net/url): the value of a hex digit of either case, or -1. */
static inline int kiln_go_unhex(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/** unicode.IsSpace for a rune below 0x80: ' ' and '\t' to '\r'. */
static inline int kiln_go_ascii_space(int32_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * Whether byte c is printable ASCII or DEL: a whole rune and no space. Most
 * texts start and end with one, so the checks below answer without a call.
 */
static inline int kiln_go_byte_is_ascii_graph(char c)
{
	return (unsigned char) (c - 0x21) < 0x5F;
}

/** Bytes of leading / trailing white space (unicode.IsSpace runes) of s[0..len). */
static inline size_t kiln_go_space_prefix(const char *s, size_t len)
{
	if (len == 0 || kiln_go_byte_is_ascii_graph(s[0]))
		return 0;
	return kiln_go_space_prefix_scan(s, len);
}

static inline size_t kiln_go_space_suffix(const char *s, size_t len)
{
	if (len == 0 || kiln_go_byte_is_ascii_graph(s[len - 1]))
		return 0;
	return kiln_go_space_suffix_scan(s, len);
}

/** strings.TrimSpace: narrows [*s, *s + *len) in place. */
void kiln_go_trim_space(const char **s, size_t *len);

/** Append strconv.Quote(s) to out. 0, -KILN_ENOMEM or -KILN_ELIMIT (out's cap). */
int kiln_go_quote(struct kiln_buf *out, const char *s, size_t len)
	__attribute__((warn_unused_result));

/**
 * Append strings.ToLower(s) to out: ASCII input folds ASCII; otherwise each
 * rune takes its simple lower-case mapping and each invalid byte becomes
 * U+FFFD (strings.Map's rule). 0, -KILN_ENOMEM or -KILN_ELIMIT.
 */
int kiln_go_to_lower(struct kiln_buf *out, const char *s, size_t len)
	__attribute__((warn_unused_result));
