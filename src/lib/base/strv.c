/* SPDX-License-Identifier: Apache-2.0 */
#include "strv.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

void kiln_strv_release_items(struct kiln_strv *v)
{
	for (size_t i = 0; i < v->len; i++)
		free(v->items[i]);
	free(v->items);
	v->items = NULL;
	v->len = v->alloc = 0;
}

void kiln_strv_free_array(char **items)
{
	if (!items)
		return;
	for (char **p = items; *p; p++)
		free(*p);
	free(items);
}

int kiln_strv_push_owned(struct kiln_strv *v, char *s)
{
	if (!s)
		return -KILN_ENOMEM;
	if (v->len + 2 > v->alloc) {
		size_t n = v->alloc ? v->alloc * 2 : 8;
		char **p = kiln_reallocarray(v->items, n, sizeof(*p));
		if (!p) {
			free(s);
			return -KILN_ENOMEM;
		}
		v->items = p;
		v->alloc = n;
	}
	v->items[v->len++] = s;
	v->items[v->len] = NULL;
	return 0;
}

int kiln_strv_push(struct kiln_strv *v, const char *s)
{
	return kiln_strv_push_owned(v, kiln_strdup(s));
}

int kiln_strv_pushn(struct kiln_strv *v, const char *s, size_t n)
{
	return kiln_strv_push_owned(v, kiln_strndup(s, n));
}

int kiln_strv_copy(struct kiln_strv *dst, const struct kiln_strv *src)
{
	for (size_t i = 0; i < src->len; i++) {
		int r = kiln_strv_push(dst, src->items[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

long kiln_strv_find(const struct kiln_strv *v, const char *s)
{
	for (size_t i = 0; i < v->len; i++)
		if (strcmp(v->items[i], s) == 0)
			return (long)i;
	return -1;
}
