/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/**
 * A growable vector of owned C strings, always NULL-terminated so that
 * `v.items` can be passed as an argv/envp.
 */
struct kiln_strv {
	char **items;
	size_t len;
	size_t alloc;
};

#define KILN_STRV_INIT                                                                           \
	{                                                                                        \
		NULL, 0, 0                                                                       \
	}

/** What kiln_strv_release does for a vector that holds an array. */
void kiln_strv_release_items(struct kiln_strv *v);
/* Inline: most vectors released (at scope exit) never held an item. */
static inline void kiln_strv_release(struct kiln_strv *v)
{
	if (v->items)
		kiln_strv_release_items(v);
	v->items = NULL;
	v->len = v->alloc = 0;
}
/** Append a copy of `s`. 0 or -KILN_ENOMEM. */
int kiln_strv_push(struct kiln_strv *v, const char *s) __attribute__((warn_unused_result));
int kiln_strv_pushn(struct kiln_strv *v, const char *s, size_t n)
	__attribute__((warn_unused_result));
/** Append `s` and take ownership of it (freed on failure too). */
int kiln_strv_push_owned(struct kiln_strv *v, char *s) __attribute__((warn_unused_result));
int kiln_strv_copy(struct kiln_strv *dst, const struct kiln_strv *src)
	__attribute__((warn_unused_result));
/** Index of the first item equal to `s`, or -1. */
long kiln_strv_find(const struct kiln_strv *v, const char *s);
/** Free items and the array; what kiln_strv_release does, for (char **) arrays. */
void kiln_strv_free_array(char **items);
