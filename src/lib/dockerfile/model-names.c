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

/*
 * Tables for at most this many indexes have no hash slots: a lookup scans
 * the keys from the last index down, which for the few stages of most
 * Dockerfiles costs less than hashing the key.
 */
#define LINEAR_MAX 8

int df_names_init(struct df_names *t, size_t n)
{
	t->slots = NULL;
	t->keys = NULL;
	t->prev = NULL;
	t->cap = t->n = 0;
	if (n <= LINEAR_MAX) {
		_Static_assert(2 * LINEAR_MAX <= KILN_ARRAY_SIZE(t->small_),
			       "the keys and prev of a linear table fit in small_");
		_Static_assert(sizeof(size_t) == sizeof(char *) && sizeof(char *) == sizeof(long),
			       "keys and prev share small_'s words");
		memset(t->small_, 0, n * sizeof(*t->small_));
		t->keys = (const char **) t->small_;
		t->prev = (long *) (t->small_ + LINEAR_MAX);
		t->n = n;
		return 0;
	}
	size_t cap = 16;
	while (cap < 2 * n + 2)
		cap *= 2;
	/* one block: slots, then keys, then prev (all 8-byte words) */
	size_t words;
	if (kiln_add_size(cap, n + 1, &words) < 0 || kiln_add_size(words, n + 1, &words) < 0)
		return -KILN_ENOMEM;
	if (words <= KILN_ARRAY_SIZE(t->small_)) {
		t->slots = t->small_;
		memset(t->small_, 0, words * sizeof(*t->slots));
	} else if (!(t->slots = kiln_calloc(words, sizeof(*t->slots)))) {
		return -KILN_ENOMEM;
	}
	t->keys = (const char **) (t->slots + cap);
	t->prev = (long *) (t->slots + cap + n + 1);
	t->cap = cap;
	t->n = n;
	return 0;
}

void df_names_release(struct df_names *t)
{
	if (t->slots != t->small_)
		free(t->slots); /* keys and prev too (NULL for a linear table) */
	t->slots = NULL;
	t->keys = NULL;
	t->prev = NULL;
	t->cap = t->n = 0;
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

/* A linear table's last index entered for key, or -1 (indexes go in increasing order). */
static long linear_find(const struct df_names *t, const char *key)
{
	for (size_t i = t->n; i-- > 0;) {
		const char *k = t->keys[i];
		if (k && k[0] == key[0] && strcmp(k, key) == 0)
			return (long) i;
	}
	return -1;
}

long df_names_add(struct df_names *t, const char *key, size_t index)
{
	if (!t->keys || index >= t->n)
		return -1;
	if (!t->slots) {
		long prev = linear_find(t, key);
		t->keys[index] = key;
		t->prev[index] = prev;
		return prev;
	}
	size_t i = slot_of(t, key);
	long prev = t->slots[i] ? (long) (t->slots[i] - 1) : -1;
	t->keys[index] = key;
	t->prev[index] = prev;
	t->slots[i] = index + 1;
	return prev;
}

long df_names_find(const struct df_names *t, const char *key)
{
	if (!t->keys || !key)
		return -1;
	if (!t->slots)
		return linear_find(t, key);
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

/* ---- df_set ---- */

static size_t set_slot(const struct df_set *s, const char *key)
{
	size_t mask = s->cap - 1;
	size_t i = (size_t) name_hash(key) & mask;
	while (s->keys[i] && strcmp(s->keys[i], key) != 0)
		i = (i + 1) & mask;
	return i;
}

static int set_grow(struct df_set *s)
{
	size_t cap = s->cap ? s->cap * 2 : 16;
	char **keys = kiln_calloc(cap, sizeof(*keys));
	int *vals = kiln_calloc(cap, sizeof(*vals));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -KILN_ENOMEM;
	}
	struct df_set n = { keys, vals, cap, s->len };
	for (size_t i = 0; i < s->cap; i++)
		if (s->keys[i]) {
			size_t k = set_slot(&n, s->keys[i]);
			n.keys[k] = s->keys[i];
			n.vals[k] = s->vals[i];
		}
	free(s->keys);
	free(s->vals);
	*s = n;
	return 0;
}

int df_set_put(struct df_set *s, const char *key, int value)
{
	if (s->cap) {
		size_t i = set_slot(s, key);
		if (s->keys[i]) {
			s->vals[i] = value;
			return 0;
		}
	}
	if ((s->len + 1) * 2 > s->cap && set_grow(s) < 0)
		return -KILN_ENOMEM;
	size_t i = set_slot(s, key);
	if (!(s->keys[i] = kiln_strdup(key)))
		return -KILN_ENOMEM;
	s->vals[i] = value;
	s->len++;
	return 0;
}

int df_set_get(const struct df_set *s, const char *key)
{
	if (!s->cap)
		return 0;
	size_t i = set_slot(s, key);
	return s->keys[i] ? s->vals[i] : 0;
}

int df_set_copy(struct df_set *dst, const struct df_set *src)
{
	df_set_release(dst);
	for (size_t i = 0; i < src->cap; i++)
		if (src->keys[i] && src->vals[i] && df_set_put(dst, src->keys[i], src->vals[i]) < 0)
			return -KILN_ENOMEM;
	return 0;
}

void df_set_release(struct df_set *s)
{
	if (!s->cap) /* never grown: nothing allocated (most stages set no ARG) */
		return;
	for (size_t i = 0; i < s->cap; i++)
		free(s->keys[i]);
	free(s->keys);
	free(s->vals);
	*s = (struct df_set){ 0 };
}
