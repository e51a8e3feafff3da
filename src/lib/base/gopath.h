/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/*
 * Go's path/filepath for Unix, byte for byte: Clean (which path.Clean is on
 * Unix too) and Match. COPY sources, destinations and .dockerignore
 * patterns go through these in BuildKit; kiln must clean and match them
 * the same way, syntax errors included.
 */

/**
 * filepath.Clean of s[0..n): writes the result and a NUL into out, which
 * needs n + 2 bytes, and returns its length. "" becomes ".".
 */
size_t kiln_go_clean(const char *s, size_t n, char *out);

/**
 * filepath.Match: 1 when `name` matches `pattern`, 0 when not, -1 for
 * ErrBadPattern. As in Go, a syntax error anywhere in the pattern is
 * reported, even in the part the match never reached.
 */
int kiln_go_match(const char *pattern, size_t plen, const char *name, size_t nlen);
