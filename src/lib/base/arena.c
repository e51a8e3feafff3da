/* SPDX-License-Identifier: Apache-2.0 */
#include "base/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define CHUNK_SIZE ((size_t) 64 * 1024)
#define ALIGN 16

struct chunk {
	struct chunk *next;
	size_t size; /* usable bytes after the header */
	size_t used;
	max_align_t data[];
};

struct kiln_arena {
	struct chunk *head;
	size_t chunk_size; /* 0: CHUNK_SIZE */
};

struct kiln_arena *kiln_arena_new(void)
{
	return kiln_calloc(1, sizeof(struct kiln_arena));
}

struct kiln_arena *kiln_arena_new_sized(size_t chunk_size)
{
	struct kiln_arena *a = kiln_calloc(1, sizeof(struct kiln_arena));
	if (a)
		a->chunk_size = chunk_size ? chunk_size : CHUNK_SIZE;
	return a;
}

void kiln_arena_free(struct kiln_arena *a)
{
	if (!a)
		return;
	struct chunk *c = a->head;
	while (c) {
		struct chunk *n = c->next;
		free(c);
		c = n;
	}
	free(a);
}

/* size bytes at a multiple of align (a power of two, at most ALIGN), not zeroed */
static void *take(struct kiln_arena *a, size_t size, size_t align)
{
	struct chunk *c = a->head;
	size_t pad = c ? -c->used & (align - 1) : 0; /* align is a power of two */
	size_t need;
	if (kiln_add_size(size, pad, &need) < 0)
		return NULL;
	if (need == 0)
		need = 1;
	if (!c || c->size - c->used < need) {
		size_t chunk = a->chunk_size ? a->chunk_size : CHUNK_SIZE;
		size_t sz = size > chunk / 4 ? size : chunk;
		size_t total;
		if (kiln_add_size(sizeof(struct chunk), sz, &total) < 0)
			return NULL;
		struct chunk *n = kiln_malloc(total);
		if (!n)
			return NULL;
		n->size = sz;
		n->used = 0;
		if (sz == chunk || !c) {
			n->next = c;
			a->head = n;
		} else {
			/* a big block: keep filling the current chunk afterwards */
			n->next = c->next;
			c->next = n;
		}
		c = n;
		pad = 0;
		need = size ? size : 1;
	}
	void *p = (char *) c->data + c->used + pad;
	c->used += need;
	return p;
}

void *kiln_arena_alloc(struct kiln_arena *a, size_t size)
{
	void *p = take(a, size, ALIGN);
	if (p)
		memset(p, 0, size);
	return p;
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

static char *strndup_aligned(struct kiln_arena *a, const char *s, size_t len, size_t align)
{
	size_t total;
	if (kiln_add_size(len, 1, &total) < 0)
		return NULL;
	char *p = take(a, total, align);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
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
