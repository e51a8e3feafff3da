/* SPDX-License-Identifier: Apache-2.0 */
/* A set of strings: open addressing, FNV-1a, grown at 50% load. */
#include <string.h>

#include "layer/internal.h"

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char) s[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static size_t find(char **slots, size_t cap, const char *key, size_t keylen)
{
	size_t i = (size_t) hash(key, keylen) & (cap - 1);
	while (slots[i] && !(strncmp(slots[i], key, keylen) == 0 && slots[i][keylen] == '\0'))
		i = (i + 1) & (cap - 1);
	return i;
}

static int grow(struct kiln_layer_pathset *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 64;
	char **ns = kiln_calloc(ncap, sizeof(*ns));
	if (!ns)
		return -KILN_ENOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i])
			ns[find(ns, ncap, s->slots[i], strlen(s->slots[i]))] = s->slots[i];
	free(s->slots);
	s->slots = ns;
	s->cap = ncap;
	return 0;
}

int kiln_layer_pathset_add(struct kiln_layer_pathset *s, const char *key, size_t keylen)
{
	if ((s->len + 1) * 2 > s->cap && grow(s) < 0)
		return -KILN_ENOMEM;
	size_t i = find(s->slots, s->cap, key, keylen);
	if (s->slots[i])
		return 0;
	s->slots[i] = kiln_strndup(key, keylen);
	if (!s->slots[i])
		return -KILN_ENOMEM;
	s->len++;
	return 1;
}

int kiln_layer_pathset_has(const struct kiln_layer_pathset *s, const char *key, size_t keylen)
{
	if (!s->cap)
		return 0;
	return s->slots[find(s->slots, s->cap, key, keylen)] != NULL;
}

void kiln_layer_pathset_release(struct kiln_layer_pathset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i]);
	free(s->slots);
	s->slots = NULL;
	s->cap = s->len = 0;
}
