/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --cache-to: the build's records as a cache. mode=min takes the records of
 * the image's own layers (the target stage and the stages it is FROM),
 * mode=max those of every step of every stage built. Each record is the
 * store's (or, for a step an imported cache satisfied, that cache's) with
 * its layer; the layers form chains as they do in the stages (each on the
 * one below it, the base image's layers left out: a key names its base by
 * digest), records link to the record of the step below them.
 *
 * The cache goes out blobs first, then its config, then the manifest under
 * the tag: a reader never sees a manifest whose blobs are not there yet.
 * type=inline embeds the records of the image's layers in its config.
 */
#include <string.h>

#include "build/remote-cache.h"
#include "plan/key.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

/* What is collected: the config, and per config layer the layer it is. */
struct collect {
	struct kiln_rcache_config *cfg;
	struct bb_layer *lay; /* indexed like cfg->layers */
	size_t alloc;
};

static void collect_release(struct collect *c)
{
	kiln_rcache_config_free(c->cfg);
	for (size_t i = 0; c->cfg && i < c->alloc; i++)
		bb_layer_release(&c->lay[i]);
	free(c->lay);
	memset(c, 0, sizeof(*c));
}

struct bb_rcache_collected {
	struct collect c;
};

void bb_rcache_collected_free(struct bb_rcache_collected *c)
{
	if (!c)
		return;
	collect_release(&c->c);
	free(c);
}

/* The record of `key`: the store's cache, else an imported one. */
static int row_of(struct bb *b, const struct kiln_digest *key, struct bb_cache_row *row,
		  struct kiln_error *err)
{
	int r = bb_cache_row_get(b, key, row, err);
	if (r == 0 && b->rc)
		r = bb_rcache_row(b, key, row, err);
	return r;
}

static int add_layer(struct collect *c, const struct bb_layer *l, long parent, long *ret,
		     struct kiln_error *err)
{
	struct kiln_rcache_layer rl = { .blob = l->digest,
					.parent = parent,
					.media_type = l->media_type,
					.diff_id = l->diff_id,
					.has_diff_id = 1,
					.size = l->size,
					.created = l->created };
	size_t before = c->cfg->n_layers;
	int r = kiln_rcache_config_add_layer(c->cfg, &rl, ret, err);
	if (r < 0 || c->cfg->n_layers == before)
		return r;
	if (c->cfg->n_layers > c->alloc) {
		size_t na = c->alloc ? c->alloc * 2 : 16;
		struct bb_layer *n = kiln_reallocarray(c->lay, na, sizeof(*n));
		if (!n)
			return oom(err);
		memset(n + c->alloc, 0, (na - c->alloc) * sizeof(*n));
		c->lay = n;
		c->alloc = na;
	}
	struct bb_layer *d = &c->lay[*ret];
	*d = *l;
	d->media_type = kiln_strdup(l->media_type ? l->media_type : KILN_MT_OCI_LAYER_GZIP);
	return d->media_type ? 0 : oom(err);
}

static long record_index(const struct kiln_rcache_config *cfg, const struct kiln_digest *d)
{
	for (size_t i = 0; i < cfg->n_records; i++)
		if (kiln_digest_equal(&cfg->records[i].digest, d))
			return (long) i;
	return -1;
}

/* Add the record of `key` (a step's, or the content key it chains on) resolving to `layer`. */
static int add_record(struct collect *c, const struct kiln_digest *key,
		      const struct bb_cache_row *row, long layer, struct kiln_error *err)
{
	if (record_index(c->cfg, key) >= 0)
		return 0;
	long link = -1;
	struct kiln_plan_key k = KILN_PLAN_KEY_INIT;
	if (row->ingredients && kiln_plan_key_from_json(row->ingredients, &k, NULL) == 0) {
		const char *parent = kiln_plan_key_get(&k, "parent");
		struct kiln_digest pd;
		if (parent && kiln_digest_parse(parent, &pd, NULL) == 0)
			link = record_index(c->cfg, &pd);
	}
	kiln_plan_key_release(&k);
	long idx;
	return kiln_rcache_config_add_record(c->cfg, key, link, layer, row->layer.created,
					     row->layer.has_chain ? &row->layer.chain : NULL,
					     row->created_by, row->ingredients, &idx, err);
}

/*
 * The records of the stages in `take` (plan order: a stage's FROM stage
 * comes first). `all_layers`: a config layer for every layer of the chains,
 * base images' included, so that layer indexes are positions in the image
 * (inline caches).
 */
static int collect(struct bb *b, const unsigned char *take, int all_layers, struct collect *c,
		   struct kiln_error *err)
{
	/* several platforms: the earlier ones' records are there already */
	int r = c->cfg ? 0 : kiln_rcache_config_new(&c->cfg, err);
	if (r < 0)
		return r;
	size_t n = b->n_stages;
	cleanup_free long **entries = kiln_calloc(n + 1, sizeof(*entries));
	if (!entries)
		return oom(err);
	for (size_t si = 0; r >= 0 && si < n; si++) {
		struct bb_stage *s = &b->stages[si];
		if (!take[si])
			continue;
		size_t len = s->chain.n;
		long *e = entries[si] = kiln_calloc(len + 1, sizeof(long));
		if (!e) {
			r = oom(err);
			break;
		}
		size_t own = s->n_records <= len ? len - s->n_records : len;
		long base = s->ps->base_stage;
		for (size_t pos = 0; r >= 0 && pos < own; pos++) {
			if (base >= 0 && entries[base] && pos < b->stages[base].chain.n) {
				e[pos] = entries[base][pos];
			} else if (all_layers) {
				r = add_layer(c, &s->chain.v[pos], pos ? e[pos - 1] : -1, &e[pos],
					      err);
			} else {
				e[pos] = -1; /* the base image's: not in the cache */
			}
		}
		for (size_t k = 0; r >= 0 && own + k < len; k++) {
			size_t pos = own + k;
			long parent = pos ? e[pos - 1] : -1;
			struct kiln_digest key;
			struct bb_cache_row row = { 0 };
			e[pos] = -1;
			if (kiln_digest_parse(s->records[k].key, &key, NULL) < 0)
				continue;
			r = row_of(b, &key, &row, err);
			if (r == 0 && all_layers)
				r = add_layer(c, &s->chain.v[pos], parent, &e[pos], err);
			if (r <= 0)
				continue;
			r = add_layer(c, all_layers ? &s->chain.v[pos] : &row.layer, parent,
				      &e[pos], err);
			if (r >= 0)
				r = add_record(c, &key, &row, e[pos], err);
			/* COPY --from: the content key the next step chains on */
			if (r >= 0 && row.layer.has_chain &&
			    !kiln_digest_equal(&row.layer.chain, &key)) {
				struct bb_cache_row crow = { 0 };
				r = row_of(b, &row.layer.chain, &crow, err);
				if (r > 0)
					r = add_record(c, &row.layer.chain, &crow, e[pos], err);
				bb_cache_row_release(&crow);
			}
			bb_cache_row_release(&row);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(entries[i]);
	return r < 0 ? r : 0;
}

/* The stages whose records mode=min exports: the target and the stages it is FROM. */
static void image_stages(struct bb *b, struct bb_stage *target, unsigned char *take)
{
	for (long i = (long) target->index; i >= 0; i = b->stages[i].ps->base_stage)
		take[i] = 1;
}

/* ---- inline ----------------------------------------------------------------------------- */

int bb_rcache_inline(struct bb *b, struct bb_stage *target, char **json, size_t *len,
		     struct kiln_error *err)
{
	const struct kiln_build_opts *o = b->o;
	int want = 0;
	for (size_t i = 0; i < o->n_cache_to; i++)
		want |= o->cache_to[i].type == KILN_BUILD_CACHE_INLINE;
	if (!want)
		return 0;
	/* an inline record names the image's layer at its position: with the
	 * times rewritten at export, that is not the layer the step made */
	if (bb_rewrite_active(b)) {
		bb_warn(b, "--cache-to type=inline: no records with rewrite-timestamp=true (the "
			   "image's layers are not the steps'); type=registry or type=local "
			   "exports them");
		return 0;
	}
	cleanup_free unsigned char *take = kiln_calloc(b->n_stages + 1, 1);
	if (!take)
		return oom(err);
	image_stages(b, target, take);
	struct collect c = { 0 };
	int r = collect(b, take, 1, &c, err);
	if (r >= 0 && !c.cfg->n_records) {
		bb_warn(b, "--cache-to type=inline: no step of the image made a layer; nothing "
			   "to embed");
		collect_release(&c);
		return 0;
	}
	cleanup_free char *records = NULL, *out = NULL;
	size_t rlen = 0, olen = 0;
	/* the layer numbers are the image's layer positions: only the records move */
	if (r >= 0)
		r = kiln_rcache_config_sort_records(c.cfg, err);
	if (r >= 0)
		r = kiln_rcache_records_to_json(c.cfg, &records, &rlen, err);
	if (r >= 0)
		r = kiln_rcache_inline_embed(*json, *len, records, rlen, &out, &olen, err);
	collect_release(&c);
	if (r < 0)
		return kiln_error_prefix(err, r, "--cache-to type=inline");
	free(*json);
	*json = steal_ptr(&out);
	*len = olen;
	return 0;
}

/* ---- registry and directory --------------------------------------------------------------- */

/* Blobs an imported cache holds and the store does not: fetched, unless `dest` has them. */
static int fetch_missing(struct bb *b, struct collect *c, const char *dest_repo,
			 struct kiln_error *err)
{
	struct bb_chain need = { 0 };
	int r = 0;
	for (size_t i = 0; r >= 0 && i < c->cfg->n_layers; i++) {
		const struct bb_layer *l = &c->lay[i];
		if (!l->remote)
			continue;
		/* the same repository already has it (--cache-from X --cache-to X) */
		if (dest_repo && l->remote->repository && !strcmp(dest_repo, l->remote->repository))
			continue;
		if (bb_chain_push(&need, l) < 0)
			r = oom(err);
	}
	if (r >= 0)
		r = bb_rcache_fetch_chain(b, NULL, &need, 0, err);
	bb_chain_release(&need);
	/* the store has them now (or dest does): where they came from is not
	 * needed again, and is gone with this build when several platforms
	 * collect into one cache */
	for (size_t i = 0; r >= 0 && i < c->cfg->n_layers; i++)
		c->lay[i].remote = NULL;
	return r;
}

/* The config, its blobs and the manifest to `loc`: blobs first, the manifest last. */
static int write_cache(struct bb *b, struct kiln_rcache_loc *loc, struct collect *c,
		       struct kiln_oci_descriptor *mounts, size_t n_mounts, int image_manifest,
		       struct bb_vertex *v, struct kiln_error *err)
{
	int r = kiln_rcache_config_sort(c->cfg, err);
	if (r < 0)
		return r;
	/* the layers' descriptors, in the config's order, then the cache mounts' */
	size_t n_all = 0, cap = c->cfg->n_layers + n_mounts + 1;
	struct kiln_oci_descriptor *all = kiln_calloc(cap, sizeof(*all));
	if (!all)
		return oom(err);
	for (size_t i = 0; r >= 0 && i < c->cfg->n_layers; i++) {
		const struct kiln_digest *blob = &c->cfg->layers[i].blob;
		int dup = 0;
		for (size_t k = 0; k < n_all && !dup; k++)
			dup = kiln_digest_equal(&all[k].sha256, blob);
		const struct bb_layer *l = NULL;
		for (size_t k = 0; !dup && !l && k < c->cfg->n_layers; k++)
			if (kiln_digest_equal(&c->lay[k].digest, blob))
				l = &c->lay[k];
		if (dup || !l)
			continue;
		r = kiln_rcache_blob_descriptor(l->media_type, &l->digest, l->size, &l->diff_id,
						l->created, &all[n_all], err);
		if (r >= 0)
			n_all++;
	}
	for (size_t i = 0; r >= 0 && i < n_mounts; i++)
		r = kiln_oci_descriptor_copy(&all[n_all++], &mounts[i], err);
	cleanup_free char *cjson = NULL, *mjson = NULL;
	size_t clen = 0, mlen = 0;
	struct kiln_digest cdig, mdig;
	const char *mt = NULL;
	if (r >= 0)
		r = kiln_rcache_config_to_json(c->cfg, &cjson, &clen, err);
	struct kiln_oci_descriptor cd = { 0 };
	bb_store_lock(b);
	if (r >= 0)
		r = kiln_store_blob_put(b->st, cjson, clen, NULL, &cdig, err);
	if (r >= 0) {
		bb_status(b, v, "writing %zu blob%s", n_all, n_all == 1 ? "" : "s");
		r = kiln_rcache_loc_push(loc, b->st, all, n_all, err);
	}
	if (r >= 0)
		r = kiln_oci_descriptor_set(&cd, KILN_RCACHE_MT_CONFIG, &cdig, (int64_t) clen, err);
	if (r >= 0) {
		bb_status(b, v, "writing config %s", cdig.str);
		r = kiln_rcache_loc_push(loc, b->st, &cd, 1, err);
	}
	bb_store_unlock(b);
	kiln_oci_descriptor_release(&cd);
	if (r >= 0)
		r = kiln_rcache_envelope_write(&cdig, (int64_t) clen, all, n_all, image_manifest,
					       &mjson, &mlen, &mt, err);
	if (r >= 0)
		r = kiln_sha256_buf(mjson, mlen, &mdig, err);
	if (r >= 0) {
		bb_status(b, v, "writing cache %s %s", image_manifest ? "image manifest" : "index",
			  mdig.str);
		r = kiln_rcache_loc_put_root(loc, mt, mjson, mlen, err);
	}
	for (size_t i = 0; i < n_all; i++)
		kiln_oci_descriptor_release(&all[i]);
	free(all);
	return r;
}

static int export_one(struct bb *b, struct bb_stage *target, size_t idx,
		      const struct kiln_build_cache *spec, struct bb_vertex *v,
		      struct kiln_error *err)
{
	int local = spec->type == KILN_BUILD_CACHE_LOCAL;
	struct kiln_rcache_target t = { .ref = local ? NULL : spec->ref,
					.dir = local ? spec->dir : NULL,
					.tag = spec->tag };
	cleanup_free unsigned char *take = kiln_calloc(b->n_stages + 1, 1);
	if (!take)
		return oom(err);
	if (spec->mode_max)
		memset(take, 1, b->n_stages);
	else
		image_stages(b, target, take);
	bb_status(b, v, "preparing build cache for export");
	/* a cache holds blobs: the layers kept unpacked only get theirs */
	int r = 0;
	for (size_t si = 0; r >= 0 && si < b->n_stages; si++)
		if (take[si])
			r = bb_chain_materialize(b, &b->stages[si].chain, err);
	struct collect own = { 0 }, *c = &own;
	if (b->multi) {
		struct bb_rcache_collected **slot = bb_multi_cache(b->multi, idx);
		if (!*slot && !(*slot = kiln_calloc(1, sizeof(**slot))))
			return oom(err);
		c = &(*slot)->c;
	}
	if (r >= 0)
		r = collect(b, take, 0, c, err);
	cleanup(kiln_rcache_loc_freep) struct kiln_rcache_loc *loc = NULL;
	cleanup_free char *dest_repo = NULL;
	if (r >= 0)
		r = kiln_rcache_loc_open(&b->ctx, &t, &b->rc->ro, 1, &loc, err);
	if (r >= 0 && !local && !(dest_repo = kiln_rcache_loc_repository(loc)))
		r = oom(err);
	if (r >= 0)
		r = fetch_missing(b, c, dest_repo, err);
	if (r >= 0 && b->multi && !bb_multi_last(b->multi)) {
		bb_status(b, v, "%zu records kept for the cache of every platform",
			  c->cfg->n_records);
		return 0;
	}
	struct kiln_oci_descriptor *mounts = NULL;
	size_t n_mounts = 0;
	if (r >= 0 && spec->cache_mounts)
		r = bb_rcache_mounts_export(b, v, c->cfg, &mounts, &n_mounts, err);
	if (r >= 0 && !c->cfg->n_layers && !c->cfg->n_mounts)
		bb_status(b, v, "skipping cache export for empty result");
	else if (r >= 0)
		r = write_cache(b, loc, c, mounts, n_mounts,
				spec->image_manifest >= 0 ? spec->image_manifest : !local, v, err);
	for (size_t i = 0; i < n_mounts; i++)
		kiln_oci_descriptor_release(&mounts[i]);
	free(mounts);
	collect_release(&own);
	return r < 0 ? kiln_error_prefix(err, r, "cache %s", local ? spec->dir : spec->ref) : 0;
}

int bb_rcache_export(struct bb *b, struct bb_stage *target, struct kiln_error *err)
{
	const struct kiln_build_opts *o = b->o;
	for (size_t i = 0; i < o->n_cache_to; i++) {
		const struct kiln_build_cache *spec = &o->cache_to[i];
		if (spec->type == KILN_BUILD_CACHE_INLINE)
			continue;
		struct bb_vertex v = { 0 };
		int local = spec->type == KILN_BUILD_CACHE_LOCAL;
		if (bb_vertex_start(b, &v, "exporting cache to %s %s",
				    local ? "client directory" : "registry",
				    local ? spec->dir : spec->ref) < 0)
			return oom(err);
		struct kiln_error e = KILN_ERROR_INIT;
		int r = export_one(b, target, i, spec, &v, &e);
		if (r < 0 && spec->ignore_error && r != -KILN_ECANCEL && r != -KILN_ENOMEM) {
			cleanup_free char *why = kiln_error_format(&e); /* with the system's reason */
			bb_warn(b, "exporting the cache failed (ignore-error=true): %s",
				why ? why : kiln_strerror(-r));
			bb_status(b, &v, "failed, ignored");
			r = 0;
		}
		if (r < 0) {
			bb_vertex_error(b, &v, e.msg ? e.msg : kiln_strerror(-r), NULL, 0);
			kiln_error_move(err, &e);
			bb_vertex_release(&v);
			return r;
		}
		kiln_error_release(&e);
		bb_vertex_done(b, &v);
		bb_vertex_release(&v);
	}
	return 0;
}
