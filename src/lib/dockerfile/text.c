/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "internal.h"

int df_textvec_push_grow(struct df_textvec *tv, const char *s, size_t len)
{
	size_t na = tv->alloc ? tv->alloc * 2 : 16;
	struct kiln_df_text *nv;
	if (tv->arena) {
		nv = kiln_arena_array_uninit(tv->arena, na, sizeof(*nv));
		if (nv && tv->n)
			memcpy(nv, tv->v, tv->n * sizeof(*nv));
	} else {
		nv = kiln_reallocarray(tv->v, na, sizeof(*nv));
	}
	if (!nv)
		return -KILN_ENOMEM;
	tv->v = nv;
	tv->alloc = na;
	tv->v[tv->n].str = s;
	tv->v[tv->n].len = len;
	tv->n++;
	return 0;
}

void df_textvec_release(struct df_textvec *tv)
{
	if (!tv->arena)
		free(tv->v);
	tv->v = NULL;
	tv->n = tv->alloc = 0;
}

int df_textvec_finish(struct df_textvec *tv, struct kiln_arena *a, struct kiln_df_text **ret,
		      size_t *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	if (tv->n == 0)
		return 0;
	struct kiln_df_text *arr = kiln_arena_array(a, tv->n, sizeof(*arr));
	if (!arr)
		return -KILN_ENOMEM;
	memcpy(arr, tv->v, tv->n * sizeof(*arr));
	*ret = arr;
	*ret_n = tv->n;
	tv->n = 0;
	return 0;
}
