/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Runes the way Go sees them. BuildKit's lexer reads its input with Go's
 * text/scanner and classifies characters with Go's unicode package; to give
 * the same answers kiln decodes UTF-8 with Go's rules (an invalid or
 * truncated sequence is one byte that reads as U+FFFD) and uses Go's
 * Unicode classes (tables generated from Unicode 15.0 by unicode-gen.c).
 * Module-internal.
 */
#include <stddef.h>
#include <stdint.h>

struct kiln_buf;

#define KILN_SHELL_RUNE_EOF ((int32_t)-1)
#define KILN_SHELL_RUNE_ERROR ((int32_t)0xFFFD)

struct kiln_shell_urange {
	uint32_t lo, hi;
};

extern const struct kiln_shell_urange kiln_shell_letter_ranges[];
extern const size_t kiln_shell_letter_ranges_len;
extern const struct kiln_shell_urange kiln_shell_digit_ranges[];
extern const size_t kiln_shell_digit_ranges_len;
extern const struct kiln_shell_urange kiln_shell_print_ranges[];
extern const size_t kiln_shell_print_ranges_len;

/**
 * Decode the rune at the start of `s` (len > 0) as Go's utf8.DecodeRune:
 * overlong forms, surrogates, values past U+10FFFF and truncated sequences
 * give U+FFFD with width 1.
 */
int32_t kiln_shell_utf8_decode(const char *s, size_t len, size_t *ret_width);

/** Encode `r` (a valid rune, or anything else as U+FFFD) into out; returns 1..4. */
size_t kiln_shell_utf8_encode(int32_t r, char out[4]);

/** unicode.IsLetter, unicode.IsDigit, unicode.IsSpace, strconv.IsPrint. */
int kiln_shell_is_letter(int32_t r);
int kiln_shell_is_digit(int32_t r);
int kiln_shell_is_space(int32_t r);
int kiln_shell_is_print(int32_t r);

/**
 * Append `s` quoted as Go's %q verb (strconv.Quote) does, for error messages
 * that must read as BuildKit's. 0 or -KILN_ENOMEM / -KILN_ELIMIT.
 */
int kiln_shell_go_quote(struct kiln_buf *b, const char *s, size_t len)
	__attribute__((warn_unused_result));
