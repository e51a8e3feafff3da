/* SPDX-License-Identifier: Apache-2.0 */
#include "base/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define CHUNK_SIZE ((size_t) 64 * 1024)
#define ALIGN 16

struct kiln_arena_chunk_ {
	struct kiln_arena_chunk_ *next;
	max_align_t data[];
};

/*
 * The arena (arena.h) lives at the start of its first chunk: every arena is
 * used (each parse and plan allocates), so one malloc and one free serve
 * both. Blocks too big for a chunk sit in the list without becoming
 * current.
 */

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
	if (kiln_add_size(sizeof(struct kiln_arena_chunk_) + ARENA_HEAD, chunk_size, &total) < 0)
		return NULL;
	struct kiln_arena_chunk_ *first = kiln_malloc(total);
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

/* Frees every chunk but the first, which holds the arena itself; returns the first. */
static struct kiln_arena_chunk_ *free_later_chunks(struct kiln_arena *a)
{
	struct kiln_arena_chunk_ *first =
		(struct kiln_arena_chunk_ *) ((char *) a -
					      offsetof(struct kiln_arena_chunk_, data));
	struct kiln_arena_chunk_ *c = a->head;
	while (c) {
		struct kiln_arena_chunk_ *n = c->next;
		if (c != first)
			free(c);
		c = n;
	}
	return first;
}

void kiln_arena_free(struct kiln_arena *a)
{
	if (a)
		free(free_later_chunks(a));
}

void kiln_arena_reset(struct kiln_arena *a)
{
	if (!a)
		return;
	struct kiln_arena_chunk_ *first = free_later_chunks(a);
	/* as kiln_arena_new_sized left it: the first chunk alone, empty past the arena */
	first->next = NULL;
	a->head = first;
	a->next = (char *) first->data + ARENA_HEAD;
	a->end = a->next + a->chunk_size;
}

/* A new chunk (made current), or a block of its own for a big request. */
void *kiln_arena_take_slow_(struct kiln_arena *a, size_t need)
{
	size_t sz = need > a->chunk_size / 4 ? need : a->chunk_size;
	size_t total;
	if (kiln_add_size(sizeof(struct kiln_arena_chunk_), sz, &total) < 0)
		return NULL;
	struct kiln_arena_chunk_ *n = kiln_malloc(total);
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

/* A new chunk or block for the copy, then the copy. */
char *kiln_arena_strndup_slow_(struct kiln_arena *a, const char *s, size_t len)
{
	if (len == SIZE_MAX)
		return NULL;
	char *p = kiln_arena_take_slow_(a, len + 1);
	if (!p)
		return NULL;
	p[len] = '\0';
	return memcpy(p, s, len);
}

void *kiln_arena_grow_array(struct kiln_arena *a, const void *v, size_t n, size_t *alloc,
			    size_t extra, size_t size, size_t first)
{
	size_t want, na = *alloc ? *alloc : first;
	if (__builtin_add_overflow(n, extra, &want))
		return NULL;
	if (*alloc && __builtin_mul_overflow(na, 2, &na))
		na = want;
	if (na < want)
		na = want;
	void *nv = kiln_arena_array_uninit(a, na, size);
	if (!nv)
		return NULL;
	if (n)
		memcpy(nv, v, n * size);
	*alloc = na;
	return nv;
}
