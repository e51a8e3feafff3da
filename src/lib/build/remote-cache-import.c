/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --cache-from: every cache read before the stages run, its usable records
 * indexed by key. A record is usable when it is kiln's, resolves to a blob
 * the cache lists with its uncompressed digest, and its ingredients hash to
 * its key (so a cache cannot claim a layer under a key it was not made
 * for). Missing, foreign and corrupt caches are warnings, as in BuildKit:
 * the build goes on without them.
 *
 * A layer taken from an imported record stays where it is (`remote`) until
 * something needs its bytes: a step that mounts the chain (bb_chain_unpack),
 * a COPY --from that reads the stage, the image's export. Then its blob is
 * fetched into the store and its records written to the store's cache, so
 * the next build on this machine finds them there.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/remote-cache.h"
#include "plan/key.h"
#include "registry/repo.h"
#include "snapshot/snapshot.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

static void src_free(struct bb_rc_src *s)
{
	if (!s)
		return;
	kiln_rcache_loaded_release(&s->cache);
	kiln_rcache_loc_free(s->loc);
	kiln_store_close(s->st);
	(void) pthread_mutex_destroy(&s->lock);
	free(s->repository);
	free(s->name);
	free(s);
}

void bb_rcache_free(struct bb *b)
{
	struct bb_rcache *rc = b->rc;
	if (!rc)
		return;
	for (size_t i = 0; i < rc->n_srcs; i++)
		src_free(rc->srcs[i]);
	free(rc->srcs);
	free(rc->index);
	free(rc);
	b->rc = NULL;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct bb_rc_entry *x = a, *y = b;
	return memcmp(x->key.raw, y->key.raw, 32);
}

/* ---- what a record resolves to --------------------------------------------------------- */

/* The layer an imported record resolves to: 0 and *ret, or < 0 when unusable (why in err). */
static int record_layer(const struct bb_rc_src *src, size_t rec, struct bb_layer *ret,
			struct kiln_error *err)
{
	const struct kiln_rcache_config *c = src->cache.config;
	const struct kiln_rcache_record *r = &c->records[rec];
	if (!r->n_results)
		return kiln_fail(err, KILN_EPARSE, 0, "record %s has no layer", r->digest.str);
	const struct kiln_rcache_layer *l = &c->layers[r->results[0].layer];
	const struct kiln_oci_descriptor *d = kiln_rcache_loaded_blob(&src->cache, &l->blob);
	if (!d)
		return kiln_fail(err, KILN_ENOTFOUND, 0, "layer %s is not in the cache",
				 l->blob.str);
	struct bb_layer out = { .digest = l->blob, .size = d->size, .created = -1 };
	if (l->has_diff_id) {
		out.diff_id = l->diff_id;
	} else {
		const char *u = kiln_oci_map_get(&d->annotations, KILN_RCACHE_ANNOT_UNCOMPRESSED);
		if (!u || kiln_digest_parse(u, &out.diff_id, NULL) < 0)
			return kiln_fail(err, KILN_EPARSE, 0, "layer %s has no uncompressed digest",
					 l->blob.str);
	}
	if (kiln_mt_classify(d->media_type, NULL) != KILN_MT_KIND_LAYER)
		return kiln_fail(err, KILN_EPARSE, 0, "blob %s is a %s, not a layer", l->blob.str,
				 d->media_type);
	out.created = l->created >= 0 ? l->created : r->results[0].created;
	if (out.created < 0) {
		const char *t = kiln_oci_map_get(&d->annotations, KILN_RCACHE_ANNOT_CREATED);
		int64_t u;
		if (t && kiln_oci_time_parse(t, &u, NULL) == 0)
			out.created = u;
	}
	if (r->has_chain) {
		out.chain = r->chain;
		out.has_chain = 1;
	}
	out.remote = (struct bb_rc_src *) src;
	if (!(out.media_type = kiln_strdup(d->media_type)))
		return oom(err);
	*ret = out;
	return 0;
}

/* The records of a cache, by key: what a record's parent is looked up in. */
struct by_key {
	const struct kiln_rcache_config *c;
	size_t *v; /* record indexes, sorted by key */
};

static int by_key_cmp(const void *a, const void *b, void *arg)
{
	const struct kiln_rcache_config *c = arg;
	return memcmp(c->records[*(const size_t *) a].digest.raw,
		      c->records[*(const size_t *) b].digest.raw, 32);
}

static int by_key_init(struct by_key *bk, const struct kiln_rcache_config *c)
{
	bk->c = c;
	bk->v = kiln_calloc(c->n_records + 1, sizeof(*bk->v));
	if (!bk->v)
		return -KILN_ENOMEM;
	for (size_t i = 0; i < c->n_records; i++)
		bk->v[i] = i;
	qsort_r(bk->v, c->n_records, sizeof(*bk->v), by_key_cmp, (void *) c);
	return 0;
}

/* The record of the cache with key `key`, or NULL. */
static const struct kiln_rcache_record *record_of(const struct by_key *bk, const char *key)
{
	struct kiln_digest d;
	if (kiln_digest_parse(key, &d, NULL) < 0)
		return NULL;
	size_t lo = 0, hi = bk->c->n_records;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = memcmp(bk->c->records[bk->v[mid]].digest.raw, d.raw, 32);
		if (!cmp)
			return &bk->c->records[bk->v[mid]];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * The record's layer is on the layer of the step its key builds on: the
 * record of its `parent` ingredient, when the cache has it (an exported
 * chain is a stage's layers, each on the one below). A record that claims
 * a layer of another chain, written by mistake or by hand, gives no hit.
 * A parent the cache has no record of (the base image, --link) is not
 * checked.
 */
static int record_on_parent(const struct by_key *bk, const struct kiln_rcache_record *r,
			    const struct kiln_plan_key *k)
{
	const struct kiln_rcache_config *c = bk->c;
	const char *parent = kiln_plan_key_get(k, "parent");
	const struct kiln_rcache_record *p = parent ? record_of(bk, parent) : NULL;
	if (!p || !p->n_results)
		return 1;
	long below = c->layers[r->results[0].layer].parent;
	const struct kiln_rcache_layer *pl = &c->layers[p->results[0].layer];
	return below >= 0 && kiln_digest_equal(&c->layers[below].blob, &pl->blob);
}

/* The ingredients of a record hash to its key, and its layer is on its parent's. */
static int record_verified(const struct by_key *bk, const struct kiln_rcache_record *r)
{
	if (!r->ingredients)
		return 0;
	struct kiln_plan_key k = KILN_PLAN_KEY_INIT;
	int ok = kiln_plan_key_from_json(r->ingredients, &k, NULL) == 0 &&
		 kiln_plan_key_finish(&k, NULL) == 0 && kiln_digest_equal(&k.digest, &r->digest) &&
		 record_on_parent(bk, r, &k);
	kiln_plan_key_release(&k);
	return ok;
}

static const struct bb_rc_entry *find(const struct bb_rcache *rc, const struct kiln_digest *key)
{
	if (!rc || !rc->n_index)
		return NULL;
	struct bb_rc_entry want = { .key = *key };
	return bsearch(&want, rc->index, rc->n_index, sizeof(*rc->index), entry_cmp);
}

int bb_rcache_lookup(struct bb *b, const struct kiln_digest *key, struct bb_layer *ret,
		     struct kiln_error *err)
{
	const struct bb_rc_entry *e = find(b->rc, key);
	if (!e)
		return 0;
	struct kiln_error e2 = KILN_ERROR_INIT;
	int r = record_layer(e->src, e->rec, ret, &e2);
	kiln_error_release(&e2);
	if (r == -KILN_ENOMEM)
		return oom(err);
	return r < 0 ? 0 : 1;
}

int bb_rcache_row(struct bb *b, const struct kiln_digest *key, struct bb_cache_row *ret,
		  struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	const struct bb_rc_entry *e = find(b->rc, key);
	if (!e)
		return 0;
	const struct kiln_rcache_record *r = &e->src->cache.config->records[e->rec];
	struct kiln_error e2 = KILN_ERROR_INIT;
	int rc = record_layer(e->src, e->rec, &ret->layer, &e2);
	kiln_error_release(&e2);
	if (rc == -KILN_ENOMEM)
		return oom(err);
	if (rc < 0)
		return 0;
	if (!ret->layer.has_chain) {
		ret->layer.chain = r->digest;
		ret->layer.has_chain = 1;
	}
	if ((r->created_by && !(ret->created_by = kiln_strdup(r->created_by))) ||
	    !(ret->ingredients = kiln_strdup(r->ingredients))) {
		bb_cache_row_release(ret);
		return oom(err);
	}
	return 1;
}

/* ---- reading the caches ------------------------------------------------------------------ */

static int add_entries(struct bb_rcache *rc, struct bb_rc_src *src, size_t *ret_usable,
		       size_t *ret_bad)
{
	const struct kiln_rcache_config *c = src->cache.config;
	size_t usable = 0, bad = 0;
	struct bb_rc_entry *n =
		kiln_reallocarray(rc->index, rc->n_index + c->n_records + 1, sizeof(*rc->index));
	if (!n)
		return -KILN_ENOMEM;
	rc->index = n;
	struct by_key bk;
	if (by_key_init(&bk, c) < 0)
		return -KILN_ENOMEM;
	for (size_t i = 0; i < c->n_records; i++) {
		const struct kiln_rcache_record *r = &c->records[i];
		if (!r->has_kiln || !r->n_results)
			continue; /* another builder's, or a key without a layer */
		struct bb_layer l = { 0 };
		struct kiln_error e = KILN_ERROR_INIT;
		int ok = record_verified(&bk, r) && record_layer(src, i, &l, &e) == 0;
		kiln_error_release(&e);
		bb_layer_release(&l);
		if (!ok) {
			bad++;
			continue;
		}
		/* the first cache that has a key wins, as the order of --cache-from says */
		if (find(rc, &r->digest))
			continue;
		rc->index[rc->n_index++] =
			(struct bb_rc_entry){ .key = r->digest, .src = src, .rec = i };
		usable++;
		/* keep it sorted for find() (a few hundred records: insertion is fine) */
		for (size_t k = rc->n_index - 1;
		     k > 0 && entry_cmp(&rc->index[k - 1], &rc->index[k]) > 0; k--) {
			struct bb_rc_entry t = rc->index[k];
			rc->index[k] = rc->index[k - 1];
			rc->index[k - 1] = t;
		}
	}
	free(bk.v);
	*ret_usable = usable;
	*ret_bad = bad;
	return 0;
}

/* The registry already has these blobs in the cache's repository: pushes elsewhere can mount. */
static void note_blobs(struct bb *b, struct bb_rc_src *src)
{
	if (!src->repository || !src->cache.n_blobs)
		return;
	struct kiln_error e = KILN_ERROR_INIT;
	bb_store_lock(b);
	if (kiln_registry_repo_note_blobs(kiln_rcache_loc_repo(src->loc), b->st, src->cache.blobs,
					  src->cache.n_blobs, &e) < 0)
		kiln_debug(&b->ctx, "build: cache %s: blob locations not noted: %s", src->name,
			   e.msg ? e.msg : "?");
	bb_store_unlock(b);
	kiln_error_release(&e);
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int same_cache(const struct kiln_build_cache *a, const struct kiln_build_cache *b)
{
	return a->type == b->type && same_str(a->ref, b->ref) && same_str(a->dir, b->dir) &&
	       same_str(a->tag, b->tag) && same_str(a->digest, b->digest);
}

static int import_one(struct bb *b, const struct kiln_build_cache *spec, struct kiln_error *err)
{
	struct bb_rcache *rc = b->rc;
	struct kiln_rcache_target t = { .ref = spec->ref,
					.dir = spec->type == KILN_BUILD_CACHE_LOCAL ? spec->dir
										    : NULL,
					.tag = spec->tag,
					.digest = spec->digest };
	const char *what = t.dir ? t.dir : t.ref;
	struct bb_vertex v = { 0 };
	if (bb_vertex_start(b, &v, "importing cache manifest from %s", what) < 0)
		return oom(err);
	struct bb_rc_src *src = kiln_calloc(1, sizeof(*src));
	if (!src || !(src->name = kiln_strdup(what))) {
		free(src);
		bb_vertex_release(&v);
		return oom(err);
	}
	(void) pthread_mutex_init(&src->lock, NULL);
	struct kiln_error e = KILN_ERROR_INIT;
	int r = kiln_rcache_loc_open(&b->ctx, &t, &rc->ro, 0, &src->loc, &e);
	if (r >= 0 && !t.dir)
		r = (src->repository = kiln_rcache_loc_repository(src->loc)) ? 0 : -KILN_ENOMEM;
	if (r >= 0) {
		bb_store_lock(b);
		r = kiln_rcache_load(src->loc, b->st, b->platform_str, &src->cache, &e);
		bb_store_unlock(b);
	}
	size_t usable = 0, bad = 0;
	if (r >= 0 && !kiln_rcache_config_is_kilns(src->cache.config))
		r = kiln_fail(&e, KILN_EUNSUPP, 0,
			      "it was not written by kiln (BuildKit writes this format with keys "
			      "of its own, which cannot match kiln's steps)");
	else if (r >= 0 && (r = add_entries(rc, src, &usable, &bad)) == -KILN_ENOMEM)
		(void) oom(&e);
	if (r < 0 && (r == -KILN_ENOMEM || r == -KILN_ECANCEL || kiln_cancelled(&b->ctx))) {
		kiln_error_move(err, &e);
		bb_vertex_error(b, &v, err && err->msg ? err->msg : "interrupted", NULL, 0);
		bb_vertex_release(&v);
		src_free(src);
		return r == -KILN_ENOMEM ? r : -KILN_ECANCEL;
	}
	if (r < 0) {
		/* BuildKit goes on without a cache it cannot read; so does kiln */
		if (r == -KILN_ENOTFOUND)
			bb_warn(b, "cache %s not found: %s; building without it", what,
				e.msg ? e.msg : "?");
		else
			bb_warn(b, "cache %s is unusable: %s; building without it", what,
				e.msg ? e.msg : kiln_strerror(-r));
		bb_status(b, &v, "not used");
		bb_vertex_done(b, &v);
		bb_vertex_release(&v);
		kiln_error_release(&e);
		src_free(src);
		return 0;
	}
	kiln_error_release(&e);
	if (bad)
		bb_warn(b,
			"cache %s: %zu record%s ignored (a layer missing from the cache, "
			"ingredients that do not hash to the record's key, or a layer not on "
			"its parent's)",
			what, bad, bad == 1 ? "" : "s");
	struct bb_rc_src **ns = kiln_reallocarray(rc->srcs, rc->n_srcs + 1, sizeof(*ns));
	if (!ns) {
		src_free(src);
		bb_vertex_release(&v);
		return oom(err);
	}
	rc->srcs = ns;
	rc->srcs[rc->n_srcs++] = src;
	bb_status(b, &v, "%s%zu record%s, %zu blob%s, %zu cache mount%s",
		  src->cache.is_inline ? "inline cache: " : "", usable, usable == 1 ? "" : "s",
		  src->cache.n_blobs, src->cache.n_blobs == 1 ? "" : "s",
		  src->cache.config ? src->cache.config->n_mounts : 0,
		  src->cache.config && src->cache.config->n_mounts == 1 ? "" : "s");
	if (usable)
		note_blobs(b, src);
	r = bb_rcache_mounts_seed(b, src, &v, err);
	if (bb_vertex_end(b, &v, r, err, "seeding cache mounts failed") < 0)
		return r;
	return 0;
}

int bb_rcache_import(struct bb *b, struct kiln_error *err)
{
	const struct kiln_build_opts *o = b->o;
	if (!o->n_cache_from && !o->n_cache_to)
		return 0;
	if (o->n_cache_from > KILN_BUILD_MAX_CACHES || o->n_cache_to > KILN_BUILD_MAX_CACHES)
		return kiln_fail(err, KILN_ELIMIT, 0, "more than %d --cache-from or --cache-to",
				 KILN_BUILD_MAX_CACHES);
	b->rc = kiln_calloc(1, sizeof(*b->rc));
	if (!b->rc)
		return oom(err);
	if (o->registry)
		b->rc->ro = *o->registry;
	b->rc->ro.on_event = NULL;
	b->rc->ro.event_userdata = NULL;
	/* --no-cache reads no cache, as BuildKit (the results are still exported) */
	if (o->flags & KILN_BUILD_NO_CACHE)
		return 0;
	for (size_t i = 0; i < o->n_cache_from; i++) {
		/* the same cache twice (a CI job's branch cache on main is main's): read once */
		int seen = 0;
		for (size_t k = 0; k < i && !seen; k++)
			seen = same_cache(&o->cache_from[k], &o->cache_from[i]);
		if (seen)
			continue;
		int r = import_one(b, &o->cache_from[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- fetching blobs ------------------------------------------------------------------------ */

/* After the blobs of `src` arrived: every record of it that resolves to one goes to the store. */
static int record_fetched(struct bb *b, struct bb_rc_src *src, const struct kiln_digest *blobs,
			  size_t n, struct kiln_error *err)
{
	const struct bb_rcache *rc = b->rc;
	for (size_t i = 0; i < rc->n_index; i++) {
		const struct bb_rc_entry *e = &rc->index[i];
		if (e->src != src)
			continue;
		const struct kiln_rcache_config *c = src->cache.config;
		const struct kiln_rcache_record *r = &c->records[e->rec];
		const struct kiln_digest *blob = &c->layers[r->results[0].layer].blob;
		int fetched = 0;
		for (size_t k = 0; k < n && !fetched; k++)
			fetched = kiln_digest_equal(blob, &blobs[k]);
		if (!fetched)
			continue;
		struct bb_cache_row row = { 0 };
		int rr = bb_rcache_row(b, &e->key, &row, err);
		if (rr < 0)
			return rr;
		if (rr == 1)
			rr = bb_cache_put_row(b, &e->key, &row, err);
		bb_cache_row_release(&row);
		if (rr < 0)
			return rr;
	}
	return 0;
}

static int verify_diff_id(struct kiln_store *st, const struct bb_layer *l, struct kiln_error *err)
{
	int fd = -1;
	int r = kiln_store_blob_open(st, &l->digest, &fd, NULL, err);
	if (r < 0)
		return r;
	struct kiln_layer_read_opts ro = { .expect_diff_id = &l->diff_id };
	r = kiln_layer_digest_fd(fd, &ro, NULL, err);
	(void) close(fd);
	return r;
}

/* Another imported cache than `src` that lists the blob, from the `from`th on; NULL if none. */
static struct bb_rc_src *other_source(const struct bb_rcache *rc, const struct bb_rc_src *src,
				      const struct kiln_digest *blob, size_t *from)
{
	for (; *from < rc->n_srcs; (*from)++) {
		struct bb_rc_src *o = rc->srcs[*from];
		if (o != src && kiln_rcache_loaded_blob(&o->cache, blob)) {
			(*from)++;
			return o;
		}
	}
	return NULL;
}

/* Whether a failed fetch may be tried from another cache: not after a cancel or out of memory. */
static int may_fall_back(int r)
{
	return r != -KILN_ECANCEL && r != -KILN_ENOMEM;
}

/* A layer `src` promised and could not deliver, as the build reports it. */
static int promised_failure(struct kiln_error *err, int r, const struct bb_rc_src *src)
{
	return kiln_error_prefix(err, r,
				 "a layer the cache %s promised could not be used (build with "
				 "--no-cache, or without this cache)",
				 src->name);
}

/* `fallback`: another cache lists the blobs; a failure is said, not an error of the step. */
static int fetch_from(struct bb *b, struct bb_rc_src *src, const struct bb_layer *const *ls,
		      size_t n, int verify, int fallback, struct kiln_error *err)
{
	cleanup_free struct kiln_oci_descriptor *descs = kiln_calloc(n + 1, sizeof(*descs));
	cleanup_free struct kiln_digest *blobs = kiln_calloc(n + 1, sizeof(*blobs));
	if (!descs || !blobs)
		return oom(err);
	size_t nd = 0;
	for (size_t i = 0; i < n; i++) {
		const struct kiln_oci_descriptor *d =
			kiln_rcache_loaded_blob(&src->cache, &ls[i]->digest);
		if (!d)
			return kiln_fail(err, KILN_ENOTFOUND, 0, "cache %s lists no blob %s",
					 src->name, ls[i]->digest.str);
		int dup = 0;
		for (size_t k = 0; k < nd && !dup; k++)
			dup = kiln_digest_equal(&blobs[k], &ls[i]->digest);
		if (dup)
			continue;
		descs[nd] = *d; /* shallow: the loaded cache owns it */
		blobs[nd++] = ls[i]->digest;
	}
	struct bb_vertex v = { 0 };
	if (bb_vertex_start(b, &v, "importing %zu layer%s from cache %s", nd, nd == 1 ? "" : "s",
			    src->name) < 0)
		return oom(err);
	(void) pthread_mutex_lock(&src->lock);
	int r = 0;
	if (!src->st)
		r = kiln_store_open(&b->ctx, kiln_store_root(b->st), 0, &src->st, err);
	if (r >= 0)
		r = kiln_rcache_loc_fetch(src->loc, src->st, descs, nd, err);
	for (size_t i = 0; r >= 0 && verify && i < n; i++)
		r = verify_diff_id(src->st, ls[i], err);
	(void) pthread_mutex_unlock(&src->lock);
	if (r >= 0)
		r = record_fetched(b, src, blobs, nd, err);
	if (r < 0 && fallback && may_fall_back(r)) {
		cleanup_free char *why = err ? kiln_error_format(err) : NULL;
		bb_status(b, &v, "failed: %s; trying the other caches", why ? why : "?");
		bb_warn(b, "cache %s: %s; trying the other caches", src->name, why ? why : "?");
		bb_vertex_done(b, &v);
	} else if (r < 0) {
		if (err && err->code != KILN_ECANCEL)
			(void) promised_failure(err, r, src);
		cleanup_free char *why = err ? kiln_error_format(err) : NULL;
		bb_vertex_error(b, &v, why ? why : "fetch failed", NULL, 0);
	} else {
		for (size_t i = 0; i < nd; i++)
			bb_status(b, &v, "%s %lld bytes", blobs[i].str, (long long) descs[i].size);
		bb_vertex_done(b, &v);
	}
	bb_vertex_release(&v);
	return r;
}

/*
 * A batch `src` could not deliver (a blob gone from its registry, a corrupt
 * one): each layer the store still lacks from the other caches that list
 * its blob, in the order they were given, as a layer is the same blob
 * wherever it is. The last cache's failure is the build's; 1 when a layer
 * has no other cache, and `src`'s failure stands.
 */
static int fetch_elsewhere(struct bb *b, struct bb_rc_src *src, const struct bb_layer *const *ls,
			   size_t n, int verify, struct kiln_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int64_t size = 0;
		bb_store_lock(b);
		int r = kiln_store_blob_has(b->st, &ls[i]->digest, &size, err);
		bb_store_unlock(b);
		if (r < 0)
			return r;
		if (r == 1 && size == ls[i]->size && !verify)
			continue;
		size_t from = 0;
		struct bb_rc_src *o = other_source(b->rc, src, &ls[i]->digest, &from);
		if (!o)
			return 1; /* only `src` has it: its failure stands */
		while (o) {
			struct bb_rc_src *next = other_source(b->rc, src, &ls[i]->digest, &from);
			r = fetch_from(b, o, &ls[i], 1, verify, next != NULL, err);
			if (r >= 0 || !may_fall_back(r) || !next)
				break;
			kiln_error_release(err);
			o = next;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int bb_rcache_fetch_chain(struct bb *b, struct kiln_snapshotter *sn, const struct bb_chain *c,
			  int verify, struct kiln_error *err)
{
	if (!b->rc)
		return 0;
	cleanup_free const struct bb_layer **need = kiln_calloc(c->n + 1, sizeof(*need));
	if (!need)
		return oom(err);
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct bb_layer *l = &c->v[i];
		if (!l->remote)
			continue;
		int r = 0;
		if (sn && (r = kiln_snapshot_has(sn, &l->diff_id, err)) != 0) {
			if (r < 0)
				return r;
			continue;
		}
		int64_t size = 0;
		bb_store_lock(b);
		r = kiln_store_blob_has(b->st, &l->digest, &size, err);
		bb_store_unlock(b);
		if (r < 0)
			return r;
		if (r == 0 || size != l->size)
			need[n++] = l;
	}
	/* one batch per cache, several blobs at a time */
	for (size_t i = 0; i < n; i++) {
		if (!need[i])
			continue;
		struct bb_rc_src *src = need[i]->remote;
		cleanup_free const struct bb_layer **batch = kiln_calloc(n + 1, sizeof(*batch));
		if (!batch)
			return oom(err);
		size_t nb = 0;
		for (size_t k = i; k < n; k++)
			if (need[k] && need[k]->remote == src) {
				batch[nb++] = need[k];
				need[k] = NULL;
			}
		int fallback = 0;
		for (size_t k = 0; k < nb && !fallback; k++) {
			size_t from = 0;
			fallback = other_source(b->rc, src, &batch[k]->digest, &from) != NULL;
		}
		struct kiln_error first = KILN_ERROR_INIT;
		int r = fetch_from(b, src, batch, nb, verify, fallback, &first);
		if (r < 0 && fallback && may_fall_back(r)) {
			int e = fetch_elsewhere(b, src, batch, nb, verify, err);
			if (e != 1) {
				kiln_error_release(&first);
				r = e;
			} else {
				(void) promised_failure(&first, r, src);
			}
		}
		if (r < 0 && first.code && err) {
			kiln_error_move(err, &first);
			return r;
		}
		kiln_error_release(&first);
		if (r < 0)
			return r;
	}
	return 0;
}
