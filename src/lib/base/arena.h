/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "copy-short.h"

/*
 * A bump allocator for data that is built once, read many times and freed
 * at once (a parsed Dockerfile, the paths of a COPY selection): per-object
 * malloc/free would only cost time and headers. Chunks come from
 * kiln_malloc (failmalloc sees them).
 */
struct kiln_arena {
	/* private to arena.c and the inline functions below: the free space of
	 * the current chunk is [next, end), `end` a multiple of 16, so an
	 * aligned `next` never passes it */
	char *next;
	char *end;
	struct kiln_arena_chunk_ *head; /* every chunk and big block */
	size_t chunk_size;
};

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
/**
 * Free everything allocated from the arena but keep its first chunk, empty,
 * for the next use: an arena reused per file (one per thread) then costs no
 * malloc and free per file while the file's data fit that chunk. Every
 * pointer into the arena is invalid afterwards.
 */
void kiln_arena_reset(struct kiln_arena *a);
/* Out of line: a new chunk or a block of its own for need bytes; NULL on ENOMEM. */
void *kiln_arena_take_slow_(struct kiln_arena *a, size_t need);
/* Out of line: kiln_arena_take_slow_ for len + 1 bytes, then the copy. */
char *kiln_arena_strndup_slow_(struct kiln_arena *a, const char *s, size_t len);

/*
 * The allocations are inline: a request is one round-up, one compare and
 * one add, cheaper in place than the call, and a constant size folds the
 * overflow check and the zeroing.
 */

/* size bytes (at least one) at a multiple of align (a power of two, at most 16) */
static inline void *kiln_arena_take_(struct kiln_arena *a, size_t size, size_t align)
{
	size_t need = size ? size : 1;
	char *p = (char *) (((uintptr_t) a->next + align - 1) & ~(uintptr_t) (align - 1));
	if ((size_t) (a->end - p) < need)
		return kiln_arena_take_slow_(a, need);
	a->next = p + need;
	return p;
}

/** size bytes, 16-byte aligned, zeroed. NULL when out of memory. */
static inline void *kiln_arena_alloc(struct kiln_arena *a, size_t size)
{
	void *p = kiln_arena_take_(a, size, 16);
	if (!p)
		return NULL;
	return memset(p, 0, size);
}

/** nmemb * size bytes (overflow-checked), zeroed. */
static inline void *kiln_arena_array(struct kiln_arena *a, size_t nmemb, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(nmemb, size, &total))
		return NULL;
	return kiln_arena_alloc(a, total);
}

/**
 * nmemb * size bytes (overflow-checked), 16-byte aligned, not zeroed: for an
 * array whose every element the caller writes before reading it.
 */
static inline void *kiln_arena_array_uninit(struct kiln_arena *a, size_t nmemb, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(nmemb, size, &total))
		return NULL;
	return kiln_arena_take_(a, total, 16);
}

/**
 * A list in the arena that grows: an array for n + extra elements of `size`
 * bytes, *alloc doubled (at least `first`, at least n + extra), the n in use
 * copied from v. The old array stays in the arena until it is freed. NULL
 * when out of memory or too large, with v and *alloc as they were.
 */
void *kiln_arena_grow_array(struct kiln_arena *a, const void *v, size_t n, size_t *alloc,
			    size_t extra, size_t size, size_t first);

static inline char *kiln_arena_strndup_at_(struct kiln_arena *a, const char *s, size_t len,
					   size_t align)
{
	char *p = (char *) (((uintptr_t) a->next + align - 1) & ~(uintptr_t) (align - 1));
	/* room for len + 1 bytes; len == SIZE_MAX never has it */
	if (len >= (size_t) (a->end - p))
		return kiln_arena_strndup_slow_(a, s, len);
	a->next = p + len + 1;
	p[len] = '\0';
	if (len > 16)
		return memcpy(p, s, len);
	kiln_copy_short(p, s, len);
	return p;
}

/** A NUL-terminated copy of s[0..len) (which may itself hold NUL bytes), 16-byte aligned. */
static inline char *kiln_arena_strndup(struct kiln_arena *a, const char *s, size_t len)
{
	return kiln_arena_strndup_at_(a, s, len, 16);
}

/** The same, packed: no alignment, so many short strings waste nothing. */
static inline char *kiln_arena_strndup_packed(struct kiln_arena *a, const char *s, size_t len)
{
	return kiln_arena_strndup_at_(a, s, len, 1);
}
