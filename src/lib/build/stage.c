/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One stage on its thread: start from the base (an image, an earlier stage,
 * or nothing), then each step in order. Metadata instructions change the
 * config; a layer step computes its cache key, takes the layer from the
 * cache when a record has it, and otherwise runs against an overlay of the
 * stage's layers and commits what changed.
 *
 * A stage waits only for what it reads: its FROM stage before it starts, a
 * COPY --from or RUN --mount from= stage when the step is reached. While it
 * waits it gives its job slot back, so --jobs bounds the work, not the
 * waiting, and waiting can never deadlock (the graph has no cycles).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "build/build-private.h"
#include "build/explain.h"
#include "build/remote-cache.h"
#include "snapshot/snapshot.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

/* ---- job slots and waiting ---------------------------------------------------- */

static int acquire_slot(struct bb *b, struct bb_stage *s, struct kiln_error *err)
{
	(void) pthread_mutex_lock(&b->lock);
	while (!b->slots && !b->abort)
		(void) pthread_cond_wait(&b->cond, &b->lock);
	int ok = !b->abort;
	if (ok) {
		b->slots--;
		s->holds_slot = 1;
	}
	(void) pthread_mutex_unlock(&b->lock);
	return ok ? 0 : kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
}

static void release_slot(struct bb *b, struct bb_stage *s)
{
	(void) pthread_mutex_lock(&b->lock);
	if (s->holds_slot) {
		s->holds_slot = 0;
		b->slots++;
		(void) pthread_cond_broadcast(&b->cond);
	}
	(void) pthread_mutex_unlock(&b->lock);
}

int bb_wait_stage(struct bb *b, struct bb_stage *self, size_t other, struct kiln_error *err)
{
	struct bb_stage *o = &b->stages[other];
	(void) pthread_mutex_lock(&b->lock);
	int had = self->holds_slot;
	if (!o->done && had) {
		self->holds_slot = 0;
		b->slots++;
		(void) pthread_cond_broadcast(&b->cond);
	}
	while (!o->done && !b->abort)
		(void) pthread_cond_wait(&b->cond, &b->lock);
	int ok = o->done && o->ok;
	(void) pthread_mutex_unlock(&b->lock);
	if (!ok)
		return kiln_fail(err, KILN_ECANCEL, 0, "stage %s did not complete", o->ps->df->id);
	if (had && !self->holds_slot)
		return acquire_slot(b, self, err);
	return 0;
}

void bb_fail(struct bb *b, struct bb_stage *s)
{
	(void) pthread_mutex_lock(&b->fail_lock);
	/* the first real failure is the build's error; what it cancelled is not */
	if (s->err.code != KILN_ECANCEL &&
	    (b->failed_stage < 0 || b->stages[b->failed_stage].err.code == KILN_ECANCEL))
		b->failed_stage = (long) s->index;
	else if (b->failed_stage < 0)
		b->failed_stage = (long) s->index;
	(void) pthread_mutex_unlock(&b->fail_lock);
	b->abort = 1;
	(void) pthread_mutex_lock(&b->lock);
	(void) pthread_cond_broadcast(&b->cond);
	(void) pthread_mutex_unlock(&b->lock);
}

/* ---- the start of a stage ---------------------------------------------------- */

static int start_stage(struct bb *b, struct bb_stage *s, struct kiln_error *err)
{
	const struct kiln_plan_stage *ps = s->ps;
	const struct kiln_df_stage *ds = ps->df;
	int r;
	if (ps->base_stage >= 0) {
		struct bb_stage *base = &b->stages[ps->base_stage];
		if ((r = bb_wait_stage(b, s, (size_t) ps->base_stage, err)) < 0)
			return r;
		if ((r = bb_config_from_image(base->config, &s->config, err)) < 0)
			return r;
		if (bb_chain_copy(&s->chain, &base->chain) < 0 ||
		    !(s->key = kiln_strdup(base->key)))
			return oom(err);
		/* a miss in the stage below explains the misses on top of it */
		if (base->first_miss && !(s->first_miss = kiln_strdup(base->first_miss)))
			return oom(err);
		return 0;
	}
	if (ds->base_kind == KILN_DF_BASE_SCRATCH) {
		if ((r = bb_config_scratch(b, &s->config, err)) < 0)
			return r;
		s->key = kiln_strdup("scratch");
		return s->key ? 0 : oom(err);
	}
	r = bb_image_get(b, ds->base, &ds->platform, &s->image, err);
	if (r < 0)
		return r;
	if (!s->image)
		return kiln_fail(err, KILN_EINTERNAL, 0, "base image %s was not resolved",
				 ds->base);
	struct bb_vertex v = { 0 };
	cleanup_free char *text = kiln_asprintf("FROM %s", s->image->display);
	cleanup_free char *name = text ? kiln_plan_step_name(b->plan, ps, 1, text) : NULL;
	if (!name || bb_vertex_start(b, &v, "%s", name) < 0)
		return oom(err);
	if (s->image->pulled)
		bb_vertex_done(b, &v);
	else
		bb_vertex_cached(b, &v);
	bb_vertex_release(&v);
	if ((r = bb_config_from_image(s->image->config, &s->config, err)) < 0)
		return r;
	if (bb_chain_copy(&s->chain, &s->image->chain) < 0 ||
	    !(s->key = kiln_asprintf("base:%s", s->image->manifest.str)))
		return oom(err);
	return 0;
}

/* ---- a layer step --------------------------------------------------------------- */

/*
 * One part of an ADD whose sources mix URLs, git repositories and context
 * paths, or name more than one remote source: a remote source alone, or a
 * run of context paths. BuildKit chains one copy per source, in the order
 * they are written; the parts are copied in that order into one layer.
 */
struct add_part {
	int fd;	       /* the tree: a fetched directory (owned), or the context's */
	char *fetched; /* that fetched directory, or NULL for the context */
	struct kiln_plan_selection *sel;
	int unpack;
};

struct layer_step {
	struct bb_step_ctx sc;
	const struct kiln_df_step *step;
	struct kiln_plan_key key;	  /* the key asked for first */
	struct kiln_plan_key content_key; /* COPY --from=<stage>: by the sources' content */
	int has_content_key;
	struct kiln_strv argv;	/* RUN */
	struct kiln_strv files; /* RUN heredoc files: name, data pairs */
	struct kiln_strv mounts;
	struct kiln_digest sources;
	int has_sources;
	char *source_ref;
	struct kiln_plan_selection *sel;       /* what COPY reads */
	struct kiln_snapshot_mount *src_mount; /* COPY --from: the source's root */
	struct kiln_digest *src_layers;	       /* its layers as mounted, bottom first */
	size_t n_src_layers;
	int src_top_fd; /* its top layer's directory, once a source was read there */
	int src_fd;
	char *fetched; /* ADD <url>/<git>: the directory fetched into */
	struct add_part *parts; /* ADD with several sources, one of them remote */
	size_t n_parts;
	int fetch_later; /* ADD <url> known unchanged (--checksum, a 304): fetched for a miss */
	int link;
};

static void layer_step_release(struct layer_step *ls)
{
	kiln_plan_key_release(&ls->key);
	kiln_plan_key_release(&ls->content_key);
	kiln_strv_release(&ls->argv);
	kiln_strv_release(&ls->files);
	kiln_strv_release(&ls->mounts);
	free(ls->source_ref);
	kiln_plan_selection_free(ls->sel);
	kiln_snapshot_mount_release(ls->src_mount);
	free(ls->src_layers);
	if (ls->src_top_fd >= 0)
		(void) close(ls->src_top_fd);
	if (ls->src_fd >= 0)
		(void) close(ls->src_fd);
	if (ls->fetched) {
		struct kiln_error e = KILN_ERROR_INIT;
		(void) kiln_rm_rf(ls->fetched, &e);
		kiln_error_release(&e);
		free(ls->fetched);
	}
	for (size_t i = 0; i < ls->n_parts; i++) {
		struct add_part *p = &ls->parts[i];
		kiln_plan_selection_free(p->sel);
		if (p->fetched) {
			struct kiln_error e = KILN_ERROR_INIT;
			if (p->fd >= 0)
				(void) close(p->fd);
			(void) kiln_rm_rf(p->fetched, &e);
			kiln_error_release(&e);
			free(p->fetched);
		}
	}
	free(ls->parts);
}

static int snapshotter(struct bb_step_ctx *sc, struct kiln_error *err)
{
	if (sc->sn)
		return 0;
	return bb_snapshotter_open(sc->b, &sc->sn, err);
}

static int key_input(struct layer_step *ls, const char *source_ref, const struct kiln_digest *src,
		     struct kiln_plan_key *ret, struct kiln_error *err)
{
	struct bb *b = ls->sc.b;
	const struct kiln_df_step *st = ls->step;
	const char *net = "host";
	if (st->instr.cmd == KILN_DF_RUN) {
		enum kiln_df_network n = st->instr.u.run.network;
		if (n == KILN_DF_NETWORK_NONE ||
		    (n == KILN_DF_NETWORK_DEFAULT && b->o->network == KILN_BUILD_NET_NONE))
			net = "none";
	}
	/* the epoch changes the layers of WORKDIR's directory and of heredoc
	 * files, which are dated with it; rewrite-timestamp's clamp is the
	 * export's (export-rewrite.c), so no other step's key holds it */
	int64_t epoch = b->o->source_date_epoch;
	int dated = st->instr.cmd == KILN_DF_WORKDIR ||
		    ((st->instr.cmd == KILN_DF_COPY || st->instr.cmd == KILN_DF_ADD) &&
		     st->instr.u.copy.n_inline);
	struct kiln_plan_step_input in = {
		.step = st,
		.parent = ls->sc.s->key,
		.platform = ls->sc.s->platform,
		.network = net,
		.sandbox = st->instr.cmd == KILN_DF_RUN ? b->run_key : NULL,
		.sources = src,
		.source_ref = source_ref,
		.mounts = (const char *const *) ls->mounts.items,
		.n_mounts = ls->mounts.len,
		.source_date_epoch = dated ? epoch : -1,
		.link = ls->link,
	};
	return kiln_plan_step_key(&in, ret, err);
}

/*
 * An ADD's URL or git source fetched into a scratch directory, and what of
 * it is copied. A URL's validators (ETag, Last-Modified) are recorded; with
 * `cond`, a URL fetched before is asked for only if it changed since, as
 * BuildKit's http source asks: 1 when it did not, *ret_digest then the
 * recorded content's digest and nothing fetched.
 */
static int fetch_remote(struct layer_step *ls, const char *src, int cond, char **ret_dir,
			int *ret_fd, struct kiln_plan_selection **ret_sel,
			struct kiln_digest *ret_digest, struct kiln_error *err)
{
	struct bb *b = ls->sc.b;
	const struct kiln_df_copy *c = &ls->step->instr.u.copy;
	cleanup_free char *name = NULL;
	struct kiln_digest d;
	int git = bb_is_git(src);
	const char *checksum = c->checksum && *c->checksum ? c->checksum : NULL;
	cleanup(bb_url_validators_release) struct bb_url_validators known = { 0 }, seen = { 0 };
	int r = 0;
	if (!git && cond && !checksum)
		r = bb_url_cache_get(b, src, &known, ret_digest, err);
	if (r < 0)
		return r;
	if (git)
		r = bb_fetch_git(b, ls->sc.v, src, c->keep_git_dir, checksum, ret_dir, err);
	else if (checksum)
		r = bb_fetch_url(b, ls->sc.v, src, checksum, ret_dir, &name, &d, err);
	else
		r = bb_fetch_url_cond(b, ls->sc.v, src, r ? &known : NULL, ret_dir, &name, &d,
				      &seen, err);
	if (r != 0)
		return r;
	if (!git && (seen.etag || seen.last_modified) &&
	    bb_url_cache_put(b, src, &seen, &d, err) < 0) {
		/* only the next build's question is lost */
		bb_warn(b, "ADD %s: not recorded for the next build: %s", src,
			err && err->msg ? err->msg : "");
		kiln_error_release(err);
	}
	*ret_fd = open(*ret_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*ret_fd < 0)
		return kiln_fail_errno(err, "opening %s", *ret_dir);
	/* a download is its one file, named as BuildKit names it; a checkout is all of it */
	const char *srcs[] = { git ? "." : name };
	struct kiln_plan_tree t = { .root_fd = *ret_fd, .name = src };
	struct kiln_plan_select_opts so = { .sources = srcs, .n_sources = 1 };
	if ((r = kiln_plan_select(&t, &so, &b->ctx, ret_sel, err)) < 0)
		return r;
	if (!git) {
		*ret_digest = d;
		return 0;
	}
	cleanup(kiln_plan_hasher_freep) struct kiln_plan_hasher *h = NULL;
	if ((r = kiln_plan_hasher_new(NULL, 0, &b->ctx, &h, err)) < 0 ||
	    (r = kiln_plan_selection_hash(*ret_sel, &t, h, err)) < 0)
		return r;
	*ret_digest = (*ret_sel)->digest;
	return 0;
}

/* A COPY's or ADD's context paths, selected and hashed. */
static int select_context(struct layer_step *ls, const char *const *sources, size_t n,
			  struct kiln_plan_selection **ret, struct kiln_error *err)
{
	struct bb *b = ls->sc.b;
	const struct kiln_df_copy *c = &ls->step->instr.u.copy;
	if (b->context_fd < 0)
		return kiln_fail(err, KILN_ENOTFOUND, 0,
				 "%s needs a build context, but the Dockerfile came alone",
				 kiln_df_cmd_upper(ls->step->instr.cmd));
	struct kiln_plan_select_opts so = {
		.sources = sources,
		.n_sources = n,
		.excludes = (const char *const *) c->excludes.v,
		.n_excludes = c->excludes.n,
		.parents = c->parents,
	};
	return bb_context_select(b, &so, ret, err);
}

int bb_context_select(struct bb *b, const struct kiln_plan_select_opts *so,
		      struct kiln_plan_selection **ret, struct kiln_error *err)
{
	(void) pthread_mutex_lock(&b->hash_lock);
	int r = kiln_plan_select(&b->ctx_tree, so, &b->ctx, ret, err);
	if (r >= 0)
		r = kiln_plan_selection_hash(*ret, &b->ctx_tree, b->hasher, err);
	(void) pthread_mutex_unlock(&b->hash_lock);
	return r;
}

/*
 * ADD with several sources, one of them remote: a part per remote source
 * and per run of context paths, in the order written. The key's sources
 * are the parts' digests in that order.
 */
static int add_parts(struct layer_step *ls, struct kiln_error *err)
{
	const struct kiln_df_copy *c = &ls->step->instr.u.copy;
	const char *const *v = (const char *const *) c->sources.v;
	ls->parts = kiln_calloc(c->sources.n, sizeof(*ls->parts));
	if (!ls->parts)
		return oom(err);
	cleanup(kiln_buf_release) struct kiln_buf digests = KILN_BUF_INIT;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < c->sources.n;) {
		struct add_part *p = &ls->parts[ls->n_parts++];
		struct kiln_digest d;
		p->fd = -1;
		if (bb_is_git(v[i]) || bb_is_url(v[i])) {
			p->unpack = !bb_is_git(v[i]) && c->unpack == 1;
			r = fetch_remote(ls, v[i], 0, &p->fetched, &p->fd, &p->sel, &d, err);
			i++;
		} else {
			size_t n = 1;
			while (i + n < c->sources.n && !bb_is_git(v[i + n]) && !bb_is_url(v[i + n]))
				n++;
			p->fd = ls->sc.b->context_fd;
			p->unpack = c->unpack != 0;
			r = select_context(ls, v + i, n, &p->sel, err);
			if (r >= 0)
				d = p->sel->digest;
			i += n;
		}
		if (r >= 0 && kiln_buf_addf(&digests, "%s\n", d.str) < 0)
			r = oom(err);
	}
	if (r >= 0)
		r = kiln_sha256_buf(digests.buf, digests.len, &ls->sources, err);
	if (r >= 0)
		ls->has_sources = 1;
	return r;
}

/* COPY/ADD: the tree the sources come from, and what they select */
static int copy_sources(struct layer_step *ls, struct kiln_error *err)
{
	struct bb *b = ls->sc.b;
	struct bb_stage *s = ls->sc.s;
	const struct kiln_df_copy *c = &ls->step->instr.u.copy;
	int r;
	if (ls->sc.ps->wait_stage >= 0) {
		struct bb_stage *src = &b->stages[ls->sc.ps->wait_stage];
		if ((r = bb_wait_stage(b, s, (size_t) ls->sc.ps->wait_stage, err)) < 0)
			return r;
		ls->source_ref = kiln_asprintf("stage:%s", src->key);
		return ls->source_ref ? 0 : oom(err);
	}
	if (c->from && *c->from) {
		struct bb_image *im = NULL;
		if ((r = bb_image_get(b, c->from, &s->ps->df->platform, &im, err)) < 0)
			return r;
		if (!im)
			return kiln_fail(err, KILN_EINTERNAL, 0, "image %s was not resolved",
					 c->from);
		ls->source_ref = kiln_asprintf("image:%s", im->manifest.str);
		return ls->source_ref ? 0 : oom(err);
	}
	/* the context, URLs and git repositories (ADD) */
	size_t nremote = 0;
	for (size_t i = 0; i < c->sources.n; i++)
		nremote += bb_is_git(c->sources.v[i]) || bb_is_url(c->sources.v[i]);
	if (nremote && c->sources.n > 1)
		return add_parts(ls, err);
	if (nremote && bb_is_url(c->sources.v[0]) && c->checksum && *c->checksum) {
		/* the checksum is the content the key is made of: no download for a hit,
		 * as BuildKit's http source */
		r = bb_url_checksum(c->checksum, &ls->sources, err);
		ls->has_sources = ls->fetch_later = r >= 0;
		return r;
	}
	if (nremote) {
		/* unchanged since the last download: fetched again only for a miss */
		r = fetch_remote(ls, c->sources.v[0], !s->no_cache,
				 &ls->fetched, &ls->src_fd, &ls->sel, &ls->sources, err);
		ls->has_sources = r >= 0;
		ls->fetch_later = r == 1;
		return r < 0 ? r : 0;
	}
	if (!c->sources.n)
		return 0; /* heredocs only: the instruction text is the content */
	if ((r = select_context(ls, (const char *const *) c->sources.v, c->sources.n, &ls->sel,
				err)) < 0)
		return r;
	ls->sources = ls->sel->digest;
	ls->has_sources = 1;
	return 0;
}

/*
 * The files an explanation lists: the selection's, or an ADD's one run of
 * context paths (a change of a URL or repository shows as the same files
 * with other sources).
 */
static const struct kiln_plan_selection *listed_files(const struct layer_step *ls)
{
	const struct kiln_plan_selection *only = NULL;
	if (ls->sel)
		return ls->sel;
	for (size_t i = 0; i < ls->n_parts; i++) {
		if (ls->parts[i].fetched)
			continue;
		if (only)
			return NULL;
		only = ls->parts[i].sel;
	}
	return only;
}

/* 1: the layer `fd` has a directory at `path` (relative); 0: it has none
 * there (nothing, or a whiteout, a file or a symlink on the way, which hide
 * the rest); -1: it cannot be told. */
static int dir_at(int fd, const char *path)
{
	int d = bb_open_beneath(fd, path, O_PATH | O_DIRECTORY);
	if (d < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : -1;
	(void) close(d);
	return 1;
}

/*
 * kiln_plan_tree.subtree_fd of a COPY --from source: its top layer's
 * directory when the directory `real` lies in that layer alone, -1 when it
 * may not. overlayfs merges directories only, so that is when the top layer
 * has a directory there and no layer below has one at the same path (or the
 * top one is opaque); a whiteout or a file on the way down hides the rest of
 * a lower layer. Read there, the walk and the hash skip the read-only
 * overlay, whose new mount makes a dentry and an inode of its own for each
 * entry it is asked for: 2,000 small files took 7 ms to stat through it and
 * 1.2 ms in the layer.
 */
static int source_subtree(void *userdata, const char *real)
{
	struct layer_step *ls = userdata;
	size_t n = ls->n_src_layers;
	if (!n)
		return -1;
	if (ls->src_top_fd < 0) {
		struct kiln_error e = KILN_ERROR_INIT;
		ls->src_top_fd = kiln_snapshot_layer_open(ls->sc.sn, &ls->src_layers[n - 1], &e);
		kiln_error_release(&e);
		if (ls->src_top_fd < 0)
			return -1;
	}
	int top = bb_open_beneath(ls->src_top_fd, real, O_RDONLY | O_DIRECTORY);
	if (top < 0)
		return -1;
	char v[2];
	int opaque = fgetxattr(top, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y';
	(void) close(top);
	for (size_t i = 0; !opaque && i + 1 < n; i++) {
		struct kiln_error e = KILN_ERROR_INIT;
		int fd = kiln_snapshot_layer_open(ls->sc.sn, &ls->src_layers[i], &e);
		kiln_error_release(&e);
		int below = fd < 0 ? -1 : dir_at(fd, real);
		if (fd >= 0)
			(void) close(fd);
		if (below != 0)
			return -1; /* merged with it, or perhaps: read through the overlay */
	}
	return ls->src_top_fd;
}

/* COPY --from=<stage|image>: mount the source read-only and select in it */
static int from_tree(struct layer_step *ls, int hash, struct kiln_error *err)
{
	struct bb *b = ls->sc.b;
	const struct kiln_df_copy *c = &ls->step->instr.u.copy;
	const struct bb_chain *chain;
	int r;
	if (ls->sc.ps->wait_stage >= 0) {
		chain = &b->stages[ls->sc.ps->wait_stage].chain;
	} else {
		struct bb_image *im = NULL;
		if ((r = bb_image_get(b, c->from, &ls->sc.s->ps->df->platform, &im, err)) < 0)
			return r;
		chain = &im->chain;
	}
	if ((r = snapshotter(&ls->sc, err)) < 0 ||
	    (r = bb_chain_mount_ids(b, ls->sc.sn, chain, 1, &ls->src_mount, &ls->src_layers,
				    err)) < 0)
		return r;
	ls->n_src_layers = chain->n;
	struct kiln_plan_tree t = { .root_fd = kiln_snapshot_mount_fd(ls->src_mount),
				    .name = c->from,
				    .subtree_fd = source_subtree,
				    .subtree_userdata = ls };
	struct kiln_plan_select_opts so = {
		.sources = (const char *const *) c->sources.v,
		.n_sources = c->sources.n,
		.excludes = (const char *const *) c->excludes.v,
		.n_excludes = c->excludes.n,
		.parents = c->parents,
	};
	r = kiln_plan_select(&t, &so, &b->ctx, &ls->sel, err);
	if (r >= 0 && ls->sel->read_fd >= 0)
		kiln_debug(&b->ctx, "COPY: %s's files read in its top layer", c->from);
	if (r < 0 || !hash)
		return r;
	size_t known = bb_known_sums(ls->sc.sn, ls->src_layers, chain->n, ls->sel);
	if (known)
		kiln_debug(&b->ctx, "COPY: %zu digests from the notes of %s's layers", known,
			   c->from);
	cleanup(kiln_plan_hasher_freep) struct kiln_plan_hasher *h = NULL;
	if ((r = kiln_plan_hasher_new(NULL, 0, &b->ctx, &h, err)) < 0 ||
	    (r = kiln_plan_selection_hash(ls->sel, &t, h, err)) < 0)
		return r;
	ls->sources = ls->sel->digest;
	ls->has_sources = 1;
	return 0;
}

/* Take a layer (from the cache or just made) into the stage. */
static int take_layer(struct layer_step *ls, const struct bb_layer *l, const char *chain_key,
		      const char *created_by, int cached, struct kiln_error *err)
{
	struct bb_stage *s = ls->sc.s;
	struct bb_layer mine = *l;
	if (bb_chain_push(&s->chain, &mine) < 0 ||
	    kiln_oci_config_add_diff_id(s->config, &l->diff_id, err) < 0)
		return oom(err);
	int64_t epoch = ls->sc.b->o->source_date_epoch;
	int r = bb_config_history(ls->sc.b, s->config, created_by, 0,
				  epoch >= 0 ? epoch : l->created, err);
	if (r < 0)
		return r;
	char *k = kiln_strdup(chain_key);
	if (!k)
		return oom(err);
	free(s->key);
	s->key = k;
	struct kiln_build_step_record *nr =
		kiln_reallocarray(s->records, s->n_records + 1, sizeof(*nr));
	if (!nr)
		return oom(err);
	s->records = nr;
	nr[s->n_records] = (struct kiln_build_step_record){
		.name = bb_step_name(ls->sc.b, ls->sc.ps->name),
		.key = kiln_strdup(ls->key.digest.str),
		.cached = cached,
		.duration_ns = bb_now(ls->sc.b) - ls->sc.v->start,
	};
	if (!nr[s->n_records].name || !nr[s->n_records].key) {
		free(nr[s->n_records].name);
		free(nr[s->n_records].key);
		return oom(err);
	}
	s->n_records++;
	return 0;
}

/* The owner of what COPY writes: --chown resolved in the destination. */
static int copy_owner(struct layer_step *ls, int root_fd, struct bb_copy_opts *co,
		      struct kiln_error *err)
{
	const char *chown = ls->step->instr.u.copy.chown;
	if (!chown || !*chown)
		return 0;
	co->has_owner = 1;
	if (ls->link) {
		/* a --link layer is made on an empty root: names cannot be looked up
		 * (BuildKit fails on them too); numbers (and root) can */
		int named = 0;
		for (const char *p = chown; *p;) {
			size_t n = strcspn(p, ":");
			int numeric = n > 0 && strspn(p, "0123456789") >= n;
			named |= !numeric && !(n == 4 && !strncmp(p, "root", 4));
			p += n + (p[n] == ':');
		}
		if (named)
			return kiln_fail(err, KILN_EINVAL, 0,
					 "COPY --link --chown=%s: a --link layer does not see "
					 "the image's /etc/passwd and /etc/group, so the owner "
					 "must be numeric (uid[:gid])",
					 chown);
	}
	return bb_resolve_owner(ls->sc.b, root_fd, chown, &co->uid, &co->gid, err);
}

/*
 * A COPY that may take its unchanged files from its last layer
 * (copy-reuse.c): one without here-documents (whose files are written after
 * the selection's). Under --no-cache it writes every file afresh, and its
 * layer is still noted for the next build. Layers are named by the
 * instruction, the platform and where the sources come from (the stage, not
 * the stage's key), not by their content: the same step after a change.
 * Not having one is never an error.
 */
static void open_reuse(struct layer_step *ls, struct bb_reuse **ret)
{
	struct bb *b = ls->sc.b;
	const struct kiln_df_copy *c = &ls->step->instr.u.copy;
	*ret = NULL;
	if (ls->step->instr.cmd != KILN_DF_COPY || !ls->sel || c->n_inline)
		return;
	struct kiln_error e = KILN_ERROR_INIT;
	cleanup_free char *text = NULL;
	cleanup(kiln_buf_release) struct kiln_buf shape = KILN_BUF_INIT;
	struct kiln_digest d;
	int r = kiln_plan_instruction_text(ls->step, &text, &e);
	if (r >= 0 && ls->sc.ps->wait_stage >= 0)
		r = kiln_buf_addf(&shape, "stage %ld", (long) ls->sc.ps->wait_stage);
	else if (r >= 0)
		r = kiln_buf_addstr(&shape, ls->source_ref ? ls->source_ref : "context");
	if (r >= 0)
		r = kiln_buf_addf(&shape, "\n%s\n%s", ls->sc.s->platform, text);
	if (r >= 0)
		r = kiln_sha256_buf(shape.buf, shape.len, &d, &e);
	if (r >= 0)
		r = bb_reuse_open(b, ls->sc.sn, d.hex, !ls->sc.s->no_cache, ret, &e);
	if (r < 0)
		kiln_debug(&b->ctx, "COPY: every file written: %s", e.msg ? e.msg : "");
	kiln_error_release(&e);
	/* COPY --from: files the copy would make alike are linked from the source's
	 * layers, under --no-cache too (that is a copy, not a cached result) */
	if (!*ret || !ls->src_layers)
		return;
	/* the layers the target stands on that are unpacked (only those can
	 * share an inode with the source's), unpacking nothing: a --link step
	 * mounts none of them */
	const struct bb_chain *below = &ls->sc.s->chain;
	cleanup_free struct kiln_digest *tids = kiln_calloc(below->n + 1, sizeof(*tids));
	size_t nt = 0;
	r = tids ? 0 : oom(&e);
	for (size_t i = 0; r >= 0 && i < below->n; i++)
		if ((r = bb_layer_unpacked_id(ls->sc.sn, &below->v[i], &tids[nt], &e)) == 1)
			nt++;
	if (r >= 0)
		r = bb_reuse_sources(*ret, ls->sc.sn, ls->src_layers, ls->n_src_layers, tids, nt,
				     ls->sel->read_fd >= 0, &e);
	if (r < 0) {
		kiln_debug(&b->ctx, "COPY: no file linked from %s: %s", c->from,
			   e.msg ? e.msg : "");
		kiln_error_release(&e);
	}
}

/* Run the step against a writable overlay of the stage's layers, commit. */
static int execute(struct layer_step *ls, struct bb_layer *ret, struct kiln_error *err)
{
	struct bb *b = ls->sc.b;
	struct bb_stage *s = ls->sc.s;
	const struct kiln_df_step *st = ls->step;
	cleanup(kiln_snapshot_mount_releasep) struct kiln_snapshot_mount *m = NULL;
	cleanup(bb_reuse_freep) struct bb_reuse *ru = NULL;
	struct bb_copy_opts co = { 0 };
	int src_fd = -1;
	struct bb_chain empty = { 0 };
	int r = snapshotter(&ls->sc, err);
	if (r >= 0)
		r = bb_chain_mount(b, ls->sc.sn, ls->link ? &empty : &s->chain, 0, &m, err);
	if (r < 0)
		return r;
	int root = kiln_snapshot_mount_fd(m);
	switch (st->instr.cmd) {
	case KILN_DF_RUN:
		r = bb_run(&ls->sc, m, (const char *const *) ls->argv.items, ls->argv.len, err);
		break;
	case KILN_DF_WORKDIR: {
		uint32_t uid = 0, gid = 0;
		int owner = st->user && *st->user;
		if (owner)
			r = bb_resolve_owner(b, root, st->user, &uid, &gid, err);
		if (r >= 0)
			r = bb_mkdir_all(root, st->workdir, 0755, owner, uid, gid,
					 b->o->source_date_epoch, err);
		break;
	}
	default: {
		const struct kiln_df_copy *c = &st->instr.u.copy;
		open_reuse(ls, &ru);
		co = (struct bb_copy_opts){
			.dest = st->dest,
			.chmod = c->chmod && *c->chmod ? c->chmod : NULL,
			/* ADD extracts local archives unless --unpack=false, a URL's only
			 * with --unpack=true, a git checkout never */
			.unpack = st->instr.cmd == KILN_DF_ADD &&
				  (ls->fetched ? !bb_is_git(c->sources.v[0]) && c->unpack == 1
					       : c->unpack != 0),
			.mtime = -1, /* files keep their times, as in BuildKit */
			.reuse = ru,
		};
		if ((r = copy_owner(ls, root, &co, err)) < 0)
			break;
		if (ls->sel) {
			src_fd = ls->src_mount	   ? kiln_snapshot_mount_fd(ls->src_mount)
				 : ls->src_fd >= 0 ? ls->src_fd
						   : b->context_fd;
			r = bb_copy(b, root, src_fd, ls->sel, &co, err);
		}
		for (size_t i = 0; r >= 0 && i < ls->n_parts; i++) {
			struct bb_copy_opts po = co;
			po.unpack = ls->parts[i].unpack;
			r = bb_copy(b, root, ls->parts[i].fd, ls->parts[i].sel, &po, err);
		}
		if (r >= 0 && c->n_inline) {
			/* heredoc sources: files 0644 in a scratch directory, copied like any */
			cleanup_free char *dir = NULL;
			if ((r = bb_tmpdir(b, "heredoc", &dir, err)) < 0)
				break;
			int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd < 0) {
				r = kiln_fail_errno(err, "opening %s", dir);
				break;
			}
			cleanup(kiln_strv_release) struct kiln_strv names = KILN_STRV_INIT;
			for (size_t i = 0; r >= 0 && i < c->n_inline; i++) {
				const struct kiln_df_inline *in = &c->inline_sources[i];
				cleanup_free char *base = kiln_plan_path_base(in->name);
				if (!base || kiln_strv_push(&names, base) < 0) {
					r = oom(err);
					break;
				}
				r = kiln_write_file_atomic_at(dfd, base, in->data, strlen(in->data),
							      0644, err);
				if (r >= 0 && fchmodat(dfd, base, 0644, 0) < 0)
					r = kiln_fail_errno(err, "chmod %s", base);
			}
			cleanup(kiln_plan_selection_freep) struct kiln_plan_selection *hs = NULL;
			struct kiln_plan_tree t = { .root_fd = dfd, .name = "a here-document" };
			struct kiln_plan_select_opts so = {
				.sources = (const char *const *) names.items,
				.n_sources = names.len,
				.literal = 1, /* as BuildKit: `COPY <<[x] /d/` writes /d/[x] */
			};
			if (r >= 0)
				r = kiln_plan_select(&t, &so, &b->ctx, &hs, err);
			if (r >= 0) {
				struct bb_copy_opts ho = co;
				ho.unpack = 0;
				ho.mtime = b->o->source_date_epoch;
				r = bb_copy(b, root, dfd, hs, &ho, err);
			}
			(void) close(dfd);
			struct kiln_error e = KILN_ERROR_INIT;
			(void) kiln_rm_rf(dir, &e);
			kiln_error_release(&e);
		}
		break;
	}
	}
	if (r < 0)
		return r;
	if (kiln_cancelled(&b->ctx))
		return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
	if (bb_reuse_pending(ru)) {
		r = bb_unmount(b, m, err);
		if (r >= 0)
			r = bb_reuse_apply(b, ru, kiln_snapshot_mount_upper(m), src_fd, &co, err);
		if (r < 0)
			return r;
	}
	r = bb_commit(b, m, ret, err);
	if (r >= 0 && ru)
		bb_reuse_keep(b, ls->sc.sn, ru, bb_layer_kept_id(ret));
	return r;
}

/* The key a cached layer's record chains on (its content key), from the store's cache or an
 * imported one: 1 with *ret, 0 when neither has it or it does not read back (no explanation). */
static int chained_key(struct bb *b, const struct bb_layer *l, struct kiln_plan_key *ret)
{
	struct bb_cache_row row;
	struct kiln_error e = KILN_ERROR_INIT;
	int r = bb_cache_row_get(b, &l->chain, &row, &e);
	if (r == 0 && b->rc)
		r = bb_rcache_row(b, &l->chain, &row, &e);
	if (r > 0) {
		r = row.ingredients && kiln_plan_key_from_json(row.ingredients, ret, &e) >= 0 &&
			    kiln_plan_key_finish(ret, &e) >= 0 &&
			    kiln_digest_equal(&ret->digest, &l->chain)
			    ? 1
			    : 0;
		bb_cache_row_release(&row);
	}
	kiln_error_release(&e);
	return r > 0;
}

static int layer_step(struct bb *b, struct bb_stage *s, const struct kiln_plan_step *ps,
		      struct kiln_error *err)
{
	const struct kiln_df_step *st = ps->df;
	/* what the step reads from other stages first: its time starts after */
	int r = 0;
	if (ps->wait_stage >= 0)
		r = bb_wait_stage(b, s, (size_t) ps->wait_stage, err);
	for (size_t i = 0; r >= 0 && i < ps->n_mounts; i++)
		if (ps->mount_stages[i] >= 0)
			r = bb_wait_stage(b, s, (size_t) ps->mount_stages[i], err);
	if (r < 0)
		return r;
	struct bb_vertex v = { 0 };
	if (bb_vertex_start(b, &v, "%s", ps->name) < 0)
		return oom(err);
	struct layer_step ls = { .sc = { .b = b, .s = s, .ps = ps, .v = &v, .sn = s->sn },
				 .step = st,
				 .key = KILN_PLAN_KEY_INIT,
				 .content_key = KILN_PLAN_KEY_INIT,
				 .argv = KILN_STRV_INIT,
				 .files = KILN_STRV_INIT,
				 .mounts = KILN_STRV_INIT,
				 .src_top_fd = -1,
				 .src_fd = -1 };
	int is_copy = st->instr.cmd == KILN_DF_COPY || st->instr.cmd == KILN_DF_ADD;
	if (is_copy)
		ls.link = st->instr.u.copy.link &&
			  !(st->instr.u.copy.chmod && *st->instr.u.copy.chmod);
	if (st->instr.cmd == KILN_DF_WORKDIR)
		r = bb_config_apply(b, s, st, err);
	if (r >= 0 && st->instr.cmd == KILN_DF_RUN) {
		if (!bb_runs_here(b, &s->ps->df->platform))
			r = kiln_fail(err, KILN_EUNSUPP, 0,
				      "RUN needs to execute for %s, but this machine runs another "
				      "platform",
				      s->platform);
		if (r >= 0)
			r = bb_run_argv(st, &ls.argv, &ls.files, err);
		if (r >= 0)
			r = bb_run_mounts_key(&ls.sc, &ls.mounts, err);
	}
	if (r >= 0 && is_copy)
		r = copy_sources(&ls, err);
	if (r >= 0)
		r = key_input(&ls, ls.source_ref, ls.has_sources ? &ls.sources : NULL, &ls.key,
			      err);
	cleanup_free char *created_by = NULL;
	if (r >= 0)
		r = bb_created_by(st, (const char *const *) ls.argv.items, ls.argv.len, &created_by,
				  err);

	struct bb_layer layer = { 0 };
	const char *chain_key = NULL;
	int hit = 0;
	struct kiln_digest chain;
	if (r >= 0 && !s->no_cache) {
		r = bb_cache_get(b, &ls.key.digest, &layer, err);
		hit = r == 1;
		chain = hit && layer.has_chain ? layer.chain : ls.key.digest;
		chain_key = chain.str;
	}
	/* COPY --from=<stage>: the same content copied from a changed stage is a hit */
	if (r >= 0 && !hit && is_copy && ps->wait_stage >= 0) {
		r = from_tree(&ls, 1, err);
		if (r >= 0)
			r = key_input(&ls, "stage-content", &ls.sources, &ls.content_key, err);
		if (r >= 0) {
			ls.has_content_key = 1;
			chain_key = ls.content_key.digest.str;
			if (!s->no_cache) {
				r = bb_cache_get(b, &ls.content_key.digest, &layer, err);
				hit = r == 1;
				/* the next build finds it by its definition */
				if (hit && bb_cache_put(b, &ls.key, &layer, &ls.content_key.digest,
							created_by, err) < 0)
					kiln_error_release(err);
			}
		}
	}
	/* what explanations compare: a COPY --from=<stage> by its content key
	 * (its definition key names the stage's last key, which says nothing) */
	const struct kiln_plan_key *explained = ls.has_content_key		 ? &ls.content_key
						: is_copy && ps->wait_stage >= 0 ? NULL
										 : &ls.key;
	/* hit by its definition key: the content key its record chains on is
	 * what a later change of the stage is explained against */
	cleanup(kiln_plan_key_release) struct kiln_plan_key chained = KILN_PLAN_KEY_INIT;
	if (r >= 0 && hit && !explained && layer.has_chain && chained_key(b, &layer, &chained) > 0)
		explained = &chained;
	if (r >= 0 && hit) {
		/* a layer of an imported cache that the build may not fetch */
		const char *remote = layer.remote ? layer.remote->name : NULL;
		r = take_layer(&ls, &layer, chain_key, created_by, 1, err);
		if (r >= 0)
			bb_vertex_cached(b, &v);
		if (r >= 0)
			r = bb_explain_done(b, s, ps, explained, listed_files(&ls), remote, err);
	} else if (r >= 0) {
		r = 0;
		if (is_copy && st->instr.u.copy.from && *st->instr.u.copy.from && !ls.sel)
			r = from_tree(&ls, 0, err);
		if (r >= 0 && explained)
			r = bb_explain_miss(b, s, ps, &v, explained, listed_files(&ls), err);
		if (r >= 0 && ls.fetch_later) {
			/* the checksum's content (checked by the download), or the one the
			 * server said was unchanged: another is not what the key names */
			const char *url = st->instr.u.copy.sources.v[0];
			struct kiln_digest got;
			r = fetch_remote(&ls, url, 0, &ls.fetched, &ls.src_fd, &ls.sel, &got, err);
			if (r >= 0 && !kiln_digest_equal(&got, &ls.sources))
				r = kiln_fail(err, KILN_EDIGEST, 0,
					      "ADD %s: the content changed during the build (%s, "
					      "then %s); build again",
					      url, ls.sources.str, got.str);
		}
		if (r >= 0)
			r = execute(&ls, &layer, err);
		const struct kiln_digest *next =
			ls.has_content_key ? &ls.content_key.digest : &ls.key.digest;
		if (r >= 0)
			r = bb_cache_put(b, &ls.key, &layer, next, created_by, err);
		if (r >= 0 && ls.has_content_key)
			r = bb_cache_put(b, &ls.content_key, &layer, next, created_by, err);
		if (r >= 0)
			r = take_layer(&ls, &layer,
				       ls.has_content_key ? ls.content_key.digest.str
							  : ls.key.digest.str,
				       created_by, 0, err);
		/* the image's layer: its blob written beside the next steps */
		if (r >= 0 && s->exported)
			bb_layer_job_start(b, &layer, st->instr.start_line);
		if (r >= 0)
			r = bb_explain_done(b, s, ps, explained, listed_files(&ls), NULL, err);
		if (r >= 0)
			bb_vertex_done(b, &v);
	}
	bb_layer_release(&layer);
	if (r < 0) {
		if (err && err->pos.line == 0)
			kiln_error_set_pos(err, b->df_name, st->instr.start_line, 0);
		if (r != -KILN_ECHILD) /* a RUN reports its own failure with the output */
			bb_vertex_error(b, &v, err && err->msg ? err->msg : kiln_strerror(-r), NULL,
					0);
	}
	s->sn = ls.sc.sn; /* for the stage's next steps; run_stage() frees it */
	layer_step_release(&ls);
	bb_vertex_release(&v);
	return r;
}

/* ---- the stage ------------------------------------------------------------------- */

static int run_stage(struct bb *b, struct bb_stage *s, struct kiln_error *err)
{
	int r = start_stage(b, s, err);
	if (r >= 0)
		r = acquire_slot(b, s, err);
	for (size_t k = 0; r >= 0 && k < s->ps->n_steps; k++) {
		const struct kiln_plan_step *ps = &s->ps->steps[k];
		if (kiln_cancelled(&b->ctx)) {
			r = kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
			break;
		}
		if (ps->layer) {
			r = layer_step(b, s, ps, err);
		} else {
			r = bb_config_apply(b, s, ps->df, err);
			if (r < 0 && err && err->pos.line == 0)
				kiln_error_set_pos(err, b->df_name, ps->df->instr.start_line, 0);
		}
	}
	release_slot(b, s);
	return r;
}

void *bb_stage_main(void *arg)
{
	struct bb_stage_arg *a = arg;
	struct bb *b = a->b;
	struct bb_stage *s = a->s;
	int r = run_stage(b, s, &s->err);
	if (r < 0 && s->err.code == KILN_OK)
		(void) kiln_fail(&s->err, (enum kiln_err) - r, 0, "%s",
				 kiln_strerror((enum kiln_err) - r));
	/* before it is done: the build reads the failure once every stage is */
	if (r < 0)
		bb_fail(b, s);
	(void) pthread_mutex_lock(&b->lock);
	s->done = 1;
	s->ok = r >= 0;
	(void) pthread_cond_broadcast(&b->cond);
	(void) pthread_mutex_unlock(&b->lock);
	/* after the stages that wait for this one, and the build, are told:
	 * freeing the snapshotter waits for the overlays its reaper still
	 * tears down; nothing reads the stage's snapshotter any more */
	kiln_snapshotter_free(s->sn);
	s->sn = NULL;
	return NULL;
}
