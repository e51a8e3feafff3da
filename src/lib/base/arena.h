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
/**
 * An arena whose chunks are `chunk_size` bytes (kiln_arena_new's are 64 KiB):
 * for the several arenas of one small Dockerfile, where freeing a 64 KiB
 * chunk each time makes glibc consolidate its free lists.
 */
struct kiln_arena *kiln_arena_new_sized(size_t chunk_size);
/* Chunks for per-Dockerfile arenas: 16 KiB cost kiln lint the fewest
 * instructions per file (4, 8, 16, 32 and 64 KiB measured). */
#define KILN_ARENA_SMALL_CHUNK ((size_t)16 * 1024)
void kiln_arena_free(struct kiln_arena *a);
/** size bytes, 16-byte aligned, zeroed. NULL when out of memory. */
void *kiln_arena_alloc(struct kiln_arena *a, size_t size);
/** nmemb * size bytes (overflow-checked), zeroed. */
void *kiln_arena_array(struct kiln_arena *a, size_t nmemb, size_t size);
/**
 * nmemb * size bytes (overflow-checked), 16-byte aligned, not zeroed: for an
 * array whose every element the caller writes before reading it.
 */
void *kiln_arena_array_uninit(struct kiln_arena *a, size_t nmemb, size_t size);
/** A NUL-terminated copy of s[0..len) (which may itself hold NUL bytes), 16-byte aligned. */
char *kiln_arena_strndup(struct kiln_arena *a, const char *s, size_t len);
/** The same, packed: no alignment, so many short strings waste nothing. */
char *kiln_arena_strndup_packed(struct kiln_arena *a, const char *s, size_t len);
