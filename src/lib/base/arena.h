/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/*
 * A bump allocator for data that is built once, read many times and freed
 * at once (a parsed Dockerfile, the paths of a COPY selection): per-object
 * malloc/free would only cost time and headers. Chunks come from
 * kiln_malloc (failmalloc sees them).
 */
struct kiln_arena;

struct kiln_arena *kiln_arena_new(void);
void kiln_arena_free(struct kiln_arena *a);
/** size bytes, 16-byte aligned, zeroed. NULL when out of memory. */
void *kiln_arena_alloc(struct kiln_arena *a, size_t size);
/** nmemb * size bytes (overflow-checked), zeroed. */
void *kiln_arena_array(struct kiln_arena *a, size_t nmemb, size_t size);
/** A NUL-terminated copy of s[0..len) (which may itself hold NUL bytes), 16-byte aligned. */
char *kiln_arena_strndup(struct kiln_arena *a, const char *s, size_t len);
/** The same, packed: no alignment, so many short strings waste nothing. */
char *kiln_arena_strndup_packed(struct kiln_arena *a, const char *s, size_t len);
