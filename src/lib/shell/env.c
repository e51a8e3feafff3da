/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "shell.h"

/* name and value share one allocation: "NAME\0VALUE\0", owned through name
 * unless the entry was copied from another list (kiln_shell_envlist_copy_shared)
 * or the list lives in an arena (whose entries' shared flags are not read) */
struct entry {
	char *name;
	char *value;
	int shared;
	uint32_t hash; /* hash_name(name): a rehash reads no name, a probe compares few */
};

/*
 * Entries in first-set order plus an open-addressing index (slot = entry
 * index + 1, 0 = empty) so that lookups stay O(1) for large ARG/ENV sets.
 */
struct kiln_shell_envlist {
	struct entry *e;
	size_t len, alloc;
	size_t *slots;
	size_t nslots;	      /* power of two */
	struct kiln_arena *a; /* everything comes from it, nothing is freed: or NULL */
	/* e and slots are the source's (an arena copy: the source no longer changes),
	 * copied into the arena before the first change */
	int borrowed;
};

/* n * size bytes, uninitialized, from the list's arena or the heap */
static void *list_alloc(const struct kiln_shell_envlist *l, size_t n, size_t size)
{
	return l->a ? kiln_arena_array_uninit(l->a, n, size) : kiln_reallocarray(NULL, n, size);
}

static void list_free(const struct kiln_shell_envlist *l, void *p)
{
	if (!l->a)
		free(p);
}

/*
 * FNV-style over eight bytes a step (every lookup hashes its name): the
 * product's high half, where every input bit reaches, is folded into the
 * low bits the slot is taken from.
 */
static uint32_t hash_name(const char *s, size_t len)
{
	const uint64_t prime = 1099511628211ULL;
	uint64_t h = 1469598103934665603ULL ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t v;
		memcpy(&v, s + i, 8);
		h = (h ^ v) * prime;
	}
	/* the last 1-7 bytes in at most two loads: with len hashed in, the same
	 * bytes read twice cannot make two names of one length alike */
	size_t r = len - i;
	uint64_t t = 0;
	if (r >= 4) {
		uint32_t lo, hi;
		memcpy(&lo, s + i, 4);
		memcpy(&hi, s + len - 4, 4);
		t = lo | (uint64_t)hi << 32;
	} else if (r) {
		t = (unsigned char)s[i] | (unsigned)(unsigned char)s[i + r / 2] << 8 |
		    (unsigned)(unsigned char)s[len - 1] << 16;
	}
	h = (h ^ t) * prime;
	return (uint32_t)(h ^ (h >> 32));
}

int kiln_shell_envlist_new(struct kiln_shell_envlist **ret, struct kiln_error *err)
{
	return kiln_shell_envlist_new_in(NULL, ret, err);
}

int kiln_shell_envlist_new_in(struct kiln_arena *a, struct kiln_shell_envlist **ret,
			      struct kiln_error *err)
{
	struct kiln_shell_envlist *l =
		a ? kiln_arena_alloc(a, sizeof(*l)) : kiln_calloc(1, sizeof(*l));
	if (!l)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	l->a = a;
	*ret = l;
	return 0;
}

void kiln_shell_envlist_free(struct kiln_shell_envlist *l)
{
	if (!l || l->a)
		return;
	for (size_t i = 0; i < l->len; i++)
		if (!l->e[i].shared)
			free(l->e[i].name);
	free(l->e);
	free(l->slots);
	free(l);
}

/* `h` is hash_name(name, nlen) */
static size_t *find_slot(const struct kiln_shell_envlist *l, const char *name, size_t nlen,
			 uint32_t h)
{
	size_t mask = l->nslots - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		size_t s = l->slots[i];
		if (s == 0)
			return &l->slots[i];
		const struct entry *e = &l->e[s - 1];
		if (e->hash == h && strncmp(e->name, name, nlen) == 0 && e->name[nlen] == '\0')
			return &l->slots[i];
	}
}

static int rehash(struct kiln_shell_envlist *l, size_t nslots)
{
	size_t *slots = list_alloc(l, nslots, sizeof(size_t));
	if (!slots)
		return -KILN_ENOMEM;
	memset(slots, 0, nslots * sizeof(size_t));
	list_free(l, l->slots);
	l->slots = slots;
	l->nslots = nslots;
	/* the names are distinct: each takes the first free slot of its probe */
	size_t mask = nslots - 1;
	for (size_t i = 0; i < l->len; i++) {
		size_t k = l->e[i].hash & mask;
		while (slots[k])
			k = (k + 1) & mask;
		slots[k] = i + 1;
	}
	return 0;
}

/* "NAME\0VALUE\0" in one allocation; the entry's value points into it */
static int entry_fill(const struct kiln_shell_envlist *l, struct entry *e, const char *name,
		      size_t nlen, uint32_t hash, const char *value)
{
	size_t vlen = strlen(value), total;
	if (kiln_add_size(nlen, vlen, &total) < 0 || kiln_add_size(total, 2, &total) < 0)
		return -KILN_ENOMEM;
	char *block = list_alloc(l, total, 1);
	if (!block)
		return -KILN_ENOMEM;
	memcpy(block, name, nlen);
	block[nlen] = '\0';
	memcpy(block + nlen + 1, value, vlen + 1);
	e->name = block;
	e->value = block + nlen + 1;
	e->shared = l->a != NULL;
	e->hash = hash;
	return 0;
}

/* `value` and `name` (NUL-terminated at nlen) as they are: the caller keeps them alive */
static void entry_borrow(struct entry *e, const char *name, uint32_t hash, const char *value)
{
	e->name = (char *) name;
	e->value = (char *) value;
	e->shared = 1;
	e->hash = hash;
}

/* A borrowed list's own entries and index, with the room the source had. */
static int unshare(struct kiln_shell_envlist *l)
{
	size_t es = l->alloc * sizeof(struct entry);
	char *p = kiln_arena_array_uninit(l->a, 1, es + l->nslots * sizeof(size_t));
	if (!p)
		return -KILN_ENOMEM;
	memcpy(p, l->e, l->len * sizeof(struct entry));
	memcpy(p + es, l->slots, l->nslots * sizeof(size_t));
	l->e = (struct entry *)p;
	l->slots = (size_t *)(p + es);
	l->borrowed = 0;
	return 0;
}

/* `keep`: a name already set keeps its value */
static int set_n(struct kiln_shell_envlist *l, const char *name, size_t nlen, const char *value,
		 int borrow, int keep, struct kiln_error *err)
{
	if (l->borrowed) {
		/* a name kept as it is changes nothing: no copy for it */
		if (keep && *find_slot(l, name, nlen, hash_name(name, nlen)))
			return 0;
		if (unshare(l) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	if (l->nslots == 0 && l->a) {
		/* an arena list's first set: its index and entries in one piece */
		size_t *slots = kiln_arena_array_uninit(
			l->a, 1, 16 * sizeof(*slots) + 8 * sizeof(*l->e));
		if (!slots)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		memset(slots, 0, 16 * sizeof(*slots));
		l->slots = slots;
		l->nslots = 16;
		l->e = (struct entry *)(slots + 16);
		l->alloc = 8;
	} else if (l->nslots == 0 || (l->len + 1) * 2 > l->nslots) {
		if (rehash(l, l->nslots ? l->nslots * 2 : 16) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	uint32_t h = hash_name(name, nlen);
	size_t *slot = find_slot(l, name, nlen, h);
	if (*slot) {
		if (keep)
			return 0;
		/* the new value may point into the old entry: fill first, then free */
		struct entry *e = &l->e[*slot - 1], ne;
		if (borrow)
			entry_borrow(&ne, name, h, value);
		else if (entry_fill(l, &ne, name, nlen, h, value) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		if (!l->a && !e->shared) /* an arena list frees nothing */
			free(e->name);
		*e = ne;
		return 0;
	}
	if (l->len == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 8;
		struct entry *ne = l->a ? kiln_arena_array_uninit(l->a, na, sizeof(*ne))
					: kiln_reallocarray(l->e, na, sizeof(*ne));
		if (!ne)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		if (l->a && l->len)
			memcpy(ne, l->e, l->len * sizeof(*ne));
		l->e = ne;
		l->alloc = na;
	}
	if (borrow)
		entry_borrow(&l->e[l->len], name, h, value);
	else if (entry_fill(l, &l->e[l->len], name, nlen, h, value) < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	l->len++;
	*slot = l->len;
	return 0;
}

int kiln_shell_envlist_copy_shared(const struct kiln_shell_envlist *src,
				   struct kiln_shell_envlist **ret, struct kiln_error *err)
{
	return kiln_shell_envlist_copy_shared_in(NULL, src, ret, err);
}

int kiln_shell_envlist_copy_shared_in(struct kiln_arena *a, const struct kiln_shell_envlist *src,
				      struct kiln_shell_envlist **ret, struct kiln_error *err)
{
	if (a && src->len) {
		/* the list, its entries and its index in one arena piece, with room for what
		 * src had room for (a few more sets do not grow it); an arena list reads no
		 * entry's shared flag: they are copied as they are */
		size_t es = src->alloc * sizeof(struct entry);
		struct kiln_shell_envlist *l = kiln_arena_array_uninit(
			a, 1, sizeof(*l) + es + src->nslots * sizeof(size_t));
		if (!l)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		l->e = (struct entry *)(l + 1);
		l->slots = (size_t *)((char *)l->e + es);
		memcpy(l->slots, src->slots, src->nslots * sizeof(*l->slots));
		memcpy(l->e, src->e, src->len * sizeof(*l->e));
		l->len = src->len;
		l->alloc = src->alloc;
		l->nslots = src->nslots;
		l->a = a;
		l->borrowed = 0;
		*ret = l;
		return 0;
	}
	struct kiln_shell_envlist *l = NULL;
	int r = kiln_shell_envlist_new_in(a, &l, err);
	if (r < 0)
		return r;
	if (src->len) {
		/* room for what src had room for: a few more sets do not grow it */
		l->e = list_alloc(l, src->alloc, sizeof(*l->e));
		l->slots = list_alloc(l, src->nslots, sizeof(*l->slots));
		if (!l->e || !l->slots) {
			kiln_shell_envlist_free(l);
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
		memcpy(l->slots, src->slots, src->nslots * sizeof(*l->slots));
		for (size_t i = 0; i < src->len; i++)
			l->e[i] = (struct entry){ src->e[i].name, src->e[i].value, 1,
						  src->e[i].hash };
		l->len = src->len;
		l->alloc = src->alloc;
		l->nslots = src->nslots;
	}
	*ret = l;
	return 0;
}

int kiln_shell_envlist_borrow_in(struct kiln_arena *a, const struct kiln_shell_envlist *src,
				 struct kiln_shell_envlist **ret, struct kiln_error *err)
{
	if (!src->len)
		return kiln_shell_envlist_copy_shared_in(a, src, ret, err);
	/* the list alone: its entries and index are src's until the first change
	 * copies them, with the room src had (unshare) */
	struct kiln_shell_envlist *l = kiln_arena_array_uninit(a, 1, sizeof(*l));
	if (!l)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	*l = (struct kiln_shell_envlist){ .e = src->e,
					  .len = src->len,
					  .alloc = src->alloc,
					  .slots = src->slots,
					  .nslots = src->nslots,
					  .a = a,
					  .borrowed = 1 };
	*ret = l;
	return 0;
}

int kiln_shell_envlist_set(struct kiln_shell_envlist *l, const char *name, const char *value,
			   struct kiln_error *err)
{
	return set_n(l, name, strlen(name), value, 0, 0, err);
}

int kiln_shell_envlist_set_borrowed(struct kiln_shell_envlist *l, const char *name,
				    const char *value, struct kiln_error *err)
{
	return set_n(l, name, strlen(name), value, 1, 0, err);
}

int kiln_shell_envlist_set_value_at(struct kiln_shell_envlist *l, size_t i, const char *value)
{
	if (!l || i >= l->len || (l->borrowed && unshare(l) < 0))
		return -1;
	l->e[i].value = (char *)value;
	return 0;
}

int kiln_shell_envlist_default_borrowed(struct kiln_shell_envlist *l, const char *name,
					const char *value, struct kiln_error *err)
{
	return set_n(l, name, strlen(name), value, 1, 1, err);
}

int kiln_shell_envlist_put(struct kiln_shell_envlist *l, const char *entry, struct kiln_error *err)
{
	const char *eq = strchr(entry, '=');
	if (!eq)
		return set_n(l, entry, strlen(entry), "", 0, 0, err);
	return set_n(l, entry, (size_t)(eq - entry), eq + 1, 0, 0, err);
}

const char *kiln_shell_envlist_get(const struct kiln_shell_envlist *l, const char *name)
{
	if (!l || l->nslots == 0)
		return NULL;
	size_t nlen = strlen(name);
	size_t s = *find_slot(l, name, nlen, hash_name(name, nlen));
	return s ? l->e[s - 1].value : NULL;
}

size_t kiln_shell_envlist_count(const struct kiln_shell_envlist *l)
{
	return l ? l->len : 0;
}

const char *kiln_shell_envlist_name(const struct kiln_shell_envlist *l, size_t i)
{
	return l && i < l->len ? l->e[i].name : NULL;
}

static int envlist_lookup(void *userdata, const char *name, const char **ret_value)
{
	const char *v = kiln_shell_envlist_get(userdata, name);
	if (!v)
		return 0;
	*ret_value = v;
	return 1;
}

static int envlist_lookup_n(void *userdata, const char *name, size_t len, const char **ret_value)
{
	const struct kiln_shell_envlist *l = userdata;
	if (!l || l->nslots == 0)
		return 0;
	size_t s = *find_slot(l, name, len, hash_name(name, len));
	if (!s)
		return 0;
	*ret_value = l->e[s - 1].value;
	return 1;
}

struct kiln_shell_env kiln_shell_envlist_env(const struct kiln_shell_envlist *l)
{
	struct kiln_shell_env env = { envlist_lookup, (void *)l, envlist_lookup_n };
	return env;
}
