/* SPDX-License-Identifier: Apache-2.0 */
#include "base/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/copy-short.h"

#define CHUNK_SIZE ((size_t) 64 * 1024)
#define ALIGN 16

struct chunk {
	struct chunk *next;
	max_align_t data[];
};

/*
 * The free space of the current chunk is [next, end): a request is one
 * round-up, one compare and one add. `end` is a multiple of ALIGN (chunk
 * sizes are rounded down to one), so an aligned `next` never passes it.
 * Blocks too big for a chunk sit in the list without becoming current.
 *
 * The arena lives at the start of its first chunk: every arena is used
 * (each parse and plan allocates), so one malloc and one free serve both.
 */
struct kiln_arena {
	char *next;
	char *end;
	struct chunk *head; /* every chunk and big block, for kiln_arena_free */
	size_t chunk_size;
};

/* The arena's own bytes at the start of its first chunk, a multiple of ALIGN. */
#define ARENA_HEAD ((sizeof(struct kiln_arena) + ALIGN - 1) & ~(size_t) (ALIGN - 1))

struct kiln_arena *kiln_arena_new(void)
{
	return kiln_arena_new_sized(CHUNK_SIZE);
}

struct kiln_arena *kiln_arena_new_sized(size_t chunk_size)
{
	chunk_size = chunk_size ? chunk_size & ~(size_t) (ALIGN - 1) : CHUNK_SIZE;
	if (!chunk_size)
		chunk_size = ALIGN;
	size_t total;
	if (kiln_add_size(sizeof(struct chunk) + ARENA_HEAD, chunk_size, &total) < 0)
		return NULL;
	struct chunk *first = kiln_malloc(total);
	if (!first)
		return NULL;
	first->next = NULL;
	struct kiln_arena *a = (struct kiln_arena *) first->data;
	a->next = (char *) first->data + ARENA_HEAD;
	a->end = a->next + chunk_size;
	a->head = first;
	a->chunk_size = chunk_size;
	return a;
}

void kiln_arena_free(struct kiln_arena *a)
{
	if (!a)
		return;
	/* the first chunk holds the arena: freed last */
	struct chunk *first = (struct chunk *) ((char *) a - offsetof(struct chunk, data));
	struct chunk *c = a->head;
	while (c) {
		struct chunk *n = c->next;
		if (c != first)
			free(c);
		c = n;
	}
	free(first);
}

/* A new chunk (made current), or a block of its own for a big request. */
__attribute__((noinline)) static void *take_slow(struct kiln_arena *a, size_t need)
{
	size_t sz = need > a->chunk_size / 4 ? need : a->chunk_size;
	size_t total;
	if (kiln_add_size(sizeof(struct chunk), sz, &total) < 0)
		return NULL;
	struct chunk *n = kiln_malloc(total);
	if (!n)
		return NULL;
	char *p = (char *) n->data;
	if (sz != a->chunk_size) {
		/* a big block, never current (its end is not aligned): keep filling
		 * the current chunk (the head; there always is one) afterwards */
		n->next = a->head->next;
		a->head->next = n;
		return p;
	}
	n->next = a->head;
	a->head = n;
	a->next = p + need;
	a->end = p + sz;
	return p;
}

/* size bytes (at least one) at a multiple of align (a power of two, at most ALIGN) */
static inline void *take(struct kiln_arena *a, size_t size, size_t align)
{
	size_t need = size ? size : 1;
	char *p = (char *) (((uintptr_t) a->next + align - 1) & ~(uintptr_t) (align - 1));
	if ((size_t) (a->end - p) < need)
		return take_slow(a, need);
	a->next = p + need;
	return p;
}

void *kiln_arena_alloc(struct kiln_arena *a, size_t size)
{
	void *p = take(a, size, ALIGN);
	if (!p)
		return NULL;
	return memset(p, 0, size); /* a tail call: nothing to keep across it */
}

void *kiln_arena_array(struct kiln_arena *a, size_t nmemb, size_t size)
{
	size_t total;
	if (kiln_mul_size(nmemb, size, &total) < 0)
		return NULL;
	return kiln_arena_alloc(a, total);
}

void *kiln_arena_array_uninit(struct kiln_arena *a, size_t nmemb, size_t size)
{
	size_t total;
	if (kiln_mul_size(nmemb, size, &total) < 0)
		return NULL;
	return take(a, total, ALIGN);
}

/* A new chunk or block for the copy, then the copy. */
__attribute__((noinline)) static char *strndup_slow(struct kiln_arena *a, const char *s, size_t len)
{
	if (len == SIZE_MAX)
		return NULL;
	char *p = take_slow(a, len + 1);
	if (!p)
		return NULL;
	p[len] = '\0';
	return memcpy(p, s, len);
}

/*
 * Shaped so that the common path makes no call that returns to it (the
 * slow path and a long memcpy are tail calls): no registers to save.
 */
static inline char *strndup_aligned(struct kiln_arena *a, const char *s, size_t len, size_t align)
{
	char *p = (char *) (((uintptr_t) a->next + align - 1) & ~(uintptr_t) (align - 1));
	/* room for len + 1 bytes; len == SIZE_MAX never has it */
	if (len >= (size_t) (a->end - p))
		return strndup_slow(a, s, len);
	a->next = p + len + 1;
	p[len] = '\0';
	if (len > 16)
		return memcpy(p, s, len);
	kiln_copy_short(p, s, len);
	return p;
}

char *kiln_arena_strndup(struct kiln_arena *a, const char *s, size_t len)
{
	return strndup_aligned(a, s, len, ALIGN);
}

char *kiln_arena_strndup_packed(struct kiln_arena *a, const char *s, size_t len)
{
	return strndup_aligned(a, s, len, 1);
}
