/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/*
 * A bump allocator for everything one parsed Dockerfile owns: the AST is
 * built once, read many times and freed at once, so per-node malloc/free
 * would only cost time. Chunks come from kiln_malloc (failmalloc sees them).
 * Module-private.
 */
struct kiln_df_arena;

struct kiln_df_arena *kiln_df_arena_new(void);
void kiln_df_arena_free(struct kiln_df_arena *a);
/** size bytes, 16-byte aligned, zeroed. NULL when out of memory. */
void *kiln_df_arena_alloc(struct kiln_df_arena *a, size_t size);
/** nmemb * size bytes (overflow-checked), zeroed. */
void *kiln_df_arena_array(struct kiln_df_arena *a, size_t nmemb, size_t size);
/** A NUL-terminated copy of s[0..len) (which may itself hold NUL bytes). */
char *kiln_df_arena_strndup(struct kiln_df_arena *a, const char *s, size_t len);
