/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * The few pieces of Go's standard library whose exact behaviour decides what
 * a .dockerignore pattern means: UTF-8 decoding (unicode/utf8),
 * strings.TrimSpace, path/filepath.Clean, Dir and Match (Unix variants).
 * BuildKit runs its patterns through these; kiln reproduces them byte for
 * byte so that the same file excludes the same paths. Internal to the
 * ignore module.
 */

#define GO_RUNE_ERROR 0xFFFDu
#define GO_MAX_RUNE 0x10FFFFu

/**
 * Decode one rune at s (n > 0 bytes available) like utf8.DecodeRuneInString:
 * an invalid or truncated sequence decodes as U+FFFD with width 1.
 * Returns the width; stores the rune in *r.
 */
size_t kiln_ignore_go_decode_rune(const char *s, size_t n, uint32_t *r);

/** Like utf8.DecodeLastRuneInString: the rune ending at s[n-1]. */
size_t kiln_ignore_go_decode_last_rune(const char *s, size_t n, uint32_t *r);

/** Encode r as UTF-8 into out (4 bytes room); invalid runes become U+FFFD. */
size_t kiln_ignore_go_encode_rune(uint32_t r, char out[4]);

/** unicode.IsSpace. */
int kiln_ignore_go_is_space(uint32_t r);

/** strings.TrimSpace: narrows [*s, *s + *n) in place. */
void kiln_ignore_go_trim_space(const char **s, size_t *n);

/**
 * filepath.Clean on Unix. Writes at most n + 1 bytes plus a NUL into out
 * (so out needs n + 2 bytes) and returns the length. "" becomes ".".
 */
size_t kiln_ignore_go_clean(const char *s, size_t n, char *out);

/**
 * filepath.Match on Unix. Returns 1 (match), 0 (no match) or -1
 * (ErrBadPattern: a syntax error anywhere in the pattern, even in parts the
 * match never reached).
 */
int kiln_ignore_go_match(const char *pattern, size_t plen, const char *name, size_t nlen);
