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
#include <unistd.h>

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
	int in = -1;
	cleanup(kiln_blob_writer_freep) struct kiln_blob_writer *w = NULL;
	int r = bb_blob_reopen(b, &l->digest, &in, &w, err);
	if (r < 0)
		return r;
	struct kiln_layer_write_opts wo = b->wopts;
	wo.flags |= KILN_WRITE_CLAMP_MTIME;
	wo.mtime_clamp = b->o->source_date_epoch;
	struct kiln_layer_read_opts ro = { .expect_diff_id = &l->diff_id, .ctx = &b->ctx };
	struct kiln_layer_digests out;
	r = kiln_layer_rewrite(in, kiln_blob_writer_external_fd(w), &ro, &wo, NULL, &out, err);
	(void) close(in);
	if (r < 0)
		return kiln_error_prefix(err, r, "rewrite-timestamp: layer %s", l->diff_id.str);
	bb_store_lock(b);
	r = kiln_blob_writer_commit(w, &ret->digest, &ret->size, err);
	bb_store_unlock(b);
	if (r < 0)
		return r;
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
