/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage names to stage indexes in O(1): BuildKit keeps a map from name to
 * stage, and a Dockerfile with thousands of stages must not turn every
 * `COPY --from`, `FROM <stage>` or duplicate-name check into a scan of all
 * stages before it.
 */
#include <stdint.h>
#include <string.h>

#include "model-internal.h"

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 1099511628211ULL;
	return h;
}

int df_names_init(struct df_names *t, size_t n)
{
	*t = (struct df_names){ 0 };
	size_t cap = 16;
	while (cap < 2 * n + 2)
		cap *= 2;
	t->slots = kiln_calloc(cap, sizeof(*t->slots));
	t->keys = kiln_calloc(n + 1, sizeof(*t->keys));
	t->prev = kiln_calloc(n + 1, sizeof(*t->prev));
	if (!t->slots || !t->keys || !t->prev) {
		df_names_release(t);
		return -KILN_ENOMEM;
	}
	t->cap = cap;
	t->n = n;
	return 0;
}

void df_names_release(struct df_names *t)
{
	free(t->slots);
	free(t->keys);
	free(t->prev);
	*t = (struct df_names){ 0 };
}

/* The slot holding `key`, or the empty slot where it would go. */
static size_t slot_of(const struct df_names *t, const char *key)
{
	size_t mask = t->cap - 1;
	size_t i = (size_t) name_hash(key) & mask;
	while (t->slots[i] && strcmp(t->keys[t->slots[i] - 1], key) != 0)
		i = (i + 1) & mask;
	return i;
}

long df_names_add(struct df_names *t, const char *key, size_t index)
{
	if (!t->cap || index >= t->n)
		return -1;
	size_t i = slot_of(t, key);
	long prev = t->slots[i] ? (long) (t->slots[i] - 1) : -1;
	t->keys[index] = key;
	t->prev[index] = prev;
	t->slots[i] = index + 1;
	return prev;
}

long df_names_find(const struct df_names *t, const char *key)
{
	if (!t->cap || !key)
		return -1;
	size_t s = t->slots[slot_of(t, key)];
	return s ? (long) (s - 1) : -1;
}

long df_names_find_before(const struct df_names *t, const char *key, size_t before)
{
	long s = df_names_find(t, key);
	while (s >= 0 && (size_t) s >= before)
		s = t->prev[s];
	return s;
}
