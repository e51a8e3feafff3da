/* SPDX-License-Identifier: Apache-2.0 */
#include "arena.h"

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

struct kiln_df_arena {
	struct chunk *head;
};

struct kiln_df_arena *kiln_df_arena_new(void)
{
	return kiln_calloc(1, sizeof(struct kiln_df_arena));
}

void kiln_df_arena_free(struct kiln_df_arena *a)
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

void *kiln_df_arena_alloc(struct kiln_df_arena *a, size_t size)
{
	size_t need;
	if (kiln_add_size(size, ALIGN - 1, &need) < 0)
		return NULL;
	need &= ~(size_t) (ALIGN - 1);
	if (need == 0)
		need = ALIGN;
	struct chunk *c = a->head;
	if (!c || c->size - c->used < need) {
		size_t sz = need > CHUNK_SIZE / 4 ? need : CHUNK_SIZE;
		size_t total;
		if (kiln_add_size(sizeof(struct chunk), sz, &total) < 0)
			return NULL;
		struct chunk *n = kiln_malloc(total);
		if (!n)
			return NULL;
		n->size = sz;
		n->used = 0;
		if (sz == CHUNK_SIZE || !c) {
			n->next = c;
			a->head = n;
		} else {
			/* a big block: keep filling the current chunk afterwards */
			n->next = c->next;
			c->next = n;
		}
		c = n;
	}
	void *p = (char *) c->data + c->used;
	c->used += need;
	memset(p, 0, size);
	return p;
}

void *kiln_df_arena_array(struct kiln_df_arena *a, size_t nmemb, size_t size)
{
	size_t total;
	if (kiln_mul_size(nmemb, size, &total) < 0)
		return NULL;
	return kiln_df_arena_alloc(a, total);
}

char *kiln_df_arena_strndup(struct kiln_df_arena *a, const char *s, size_t len)
{
	size_t total;
	if (kiln_add_size(len, 1, &total) < 0)
		return NULL;
	char *p = kiln_df_arena_alloc(a, total);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}
