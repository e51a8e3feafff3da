/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rewrite-timestamp=true, as BuildKit applies it: at export. The steps
 * make and cache their layers with the times they have, under keys that
 * hold no epoch, so a new commit (a new SOURCE_DATE_EPOCH) still finds
 * them; the image gets each layer the build made written again with every
 * time later than the epoch set to it. The rewritten layer is remembered in
 * the store's cache under a key of the layer, the epoch and the
 * compression, so a rebuild writes nothing again.
 */
#include <stdio.h>
#include <string.h>

#include "build/build-private.h"
#include "build/remote-cache.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

int bb_rewrite_active(const struct bb *b)
{
	return b->o->rewrite_timestamp && b->o->source_date_epoch >= 0;
}

void bb_rewrite_wopts(const struct bb *b, struct kiln_layer_write_opts *ret)
{
	*ret = b->wopts;
	ret->flags |= KILN_WRITE_CLAMP_MTIME;
	ret->mtime_clamp = b->o->source_date_epoch;
}

/* What the rewritten layer is made of: the layer, the epoch, how it is compressed. */
static int rewrite_key(struct bb *b, const struct bb_layer *l, struct kiln_plan_key *k,
		       struct kiln_error *err)
{
	char epoch[32], level[16];
	(void) snprintf(epoch, sizeof(epoch), "%lld", (long long) b->o->source_date_epoch);
	(void) snprintf(level, sizeof(level), "%d", b->wopts.level);
	int r = kiln_plan_key_add(k, "rewrite", "timestamp", err);
	if (r >= 0)
		r = kiln_plan_key_add(k, "layer", l->diff_id.str, err);
	if (r >= 0)
		r = kiln_plan_key_add(k, "epoch", epoch, err);
	if (r >= 0)
		r = kiln_plan_key_add(k, "media_type", b->media_type, err);
	if (r >= 0)
		r = kiln_plan_key_add(k, "level", level, err);
	if (r >= 0)
		r = kiln_plan_key_finish(k, err);
	return r;
}

/* Write the layer again with its times clamped, into a new blob of the store. */
static int rewrite_blob(struct bb *b, const struct bb_layer *l, struct bb_layer *ret,
			struct kiln_error *err)
{
	struct kiln_layer_write_opts wo;
	bb_rewrite_wopts(b, &wo);
	struct kiln_layer_digests out;
	int r = bb_layer_pass_blob(b, l, kiln_layer_rewrite, &wo, &ret->digest, &ret->size, &out,
				   err);
	if (r < 0)
		return kiln_error_prefix(err, r, "rewrite-timestamp: layer %s", l->diff_id.str);
	ret->diff_id = out.diff_id;
	ret->created = l->created;
	ret->media_type = kiln_strdup(b->media_type);
	return ret->media_type ? 0 : oom(err);
}

int bb_rewrite_times(struct bb *b, const struct bb_layer *l, struct bb_layer *ret,
		     struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	cleanup(kiln_plan_key_release) struct kiln_plan_key k = KILN_PLAN_KEY_INIT;
	int r = rewrite_key(b, l, &k, err);
	if (r < 0)
		return r;
	struct bb_cache_row row = { 0 };
	r = bb_cache_row_get(b, &k.digest, &row, err);
	if (r < 0)
		return r;
	if (r > 0) {
		*ret = row.layer;
		memset(&row.layer, 0, sizeof(row.layer));
		bb_cache_row_release(&row);
		return 0;
	}
	r = rewrite_blob(b, l, ret, err);
	if (r >= 0)
		r = bb_cache_put(b, &k, ret, NULL, "rewrite-timestamp", err);
	if (r < 0)
		bb_layer_release(ret);
	return r;
}
