/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layer chains: unpacking them once, mounting them as a step's root
 * filesystem, and committing a step's upper directory: kept as an unpacked
 * layer, with no blob yet. The image's layers get theirs on threads while
 * the next steps run; a build stage's only when an image or an exported
 * cache needs one: most of a build stage's cost is not paid twice.
 */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "build/build-private.h"
#include "build/remote-cache.h"
#include "snapshot/snapshot.h"

void bb_layer_release(struct bb_layer *l)
{
	free(l->media_type);
	memset(l, 0, sizeof(*l));
}

int bb_chain_push(struct bb_chain *c, const struct bb_layer *l)
{
	if (c->n == c->alloc) {
		size_t na = c->alloc ? c->alloc * 2 : 8;
		struct bb_layer *n = kiln_reallocarray(c->v, na, sizeof(*n));
		if (!n)
			return -KILN_ENOMEM;
		c->v = n;
		c->alloc = na;
	}
	struct bb_layer *d = &c->v[c->n];
	*d = *l;
	d->media_type = kiln_strdup(l->media_type ? l->media_type : KILN_MT_OCI_LAYER_GZIP);
	if (!d->media_type)
		return -KILN_ENOMEM;
	c->n++;
	return 0;
}

int bb_chain_copy(struct bb_chain *dst, const struct bb_chain *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (bb_chain_push(dst, &src->v[i]) < 0)
			return -KILN_ENOMEM;
	return 0;
}

void bb_chain_release(struct bb_chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		bb_layer_release(&c->v[i]);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

int bb_layer_unpacked_id(struct kiln_snapshotter *sn, const struct bb_layer *l,
			 struct kiln_digest *ret, struct kiln_error *err)
{
	int r = l->has_snap ? kiln_snapshot_has(sn, &l->snap, err) : 0;
	if (r != 0) {
		*ret = l->snap;
		return r;
	}
	r = bb_layer_has_diff_id(l) ? kiln_snapshot_has(sn, &l->diff_id, err) : 0;
	if (r == 1)
		*ret = l->diff_id;
	return r;
}

int bb_chain_unpack(struct bb *b, struct kiln_snapshotter *sn, const struct bb_chain *c,
		    struct kiln_digest *ids, struct kiln_error *err)
{
	/* layers of an imported cache come to the store first */
	int rf = bb_rcache_fetch_chain(b, sn, c, 0, err);
	if (rf < 0)
		return rf;
	for (size_t i = 0; i < c->n; i++) {
		const struct bb_layer *l = &c->v[i];
		struct kiln_digest id;
		int r = bb_layer_unpacked_id(sn, l, &id, err);
		if (r < 0)
			return r;
		if (ids)
			ids[i] = r ? id : l->diff_id;
		if (r)
			continue;
		if (l->lazy)
			return kiln_fail(err, KILN_ENOTFOUND, 0,
					 "layer %s, kept unpacked only, is gone (was `kiln prune` "
					 "run during the build?)",
					 bb_layer_kept_id(l)->str);
		int fd = -1;
		bb_store_lock(b);
		r = kiln_store_blob_open(b->st, &l->digest, &fd, NULL, err);
		bb_store_unlock(b);
		if (r < 0)
			return kiln_error_prefix(err, r, "layer %s", l->diff_id.str);
		r = kiln_snapshot_unpack(sn, &l->diff_id, fd, &l->digest, err);
		(void) close(fd);
		if (r < 0)
			return r;
		if (kiln_cancelled(&b->ctx))
			return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
	}
	return 0;
}

int bb_chain_mount_ids(struct bb *b, struct kiln_snapshotter *sn, const struct bb_chain *c,
		       int readonly, struct kiln_snapshot_mount **ret, struct kiln_digest **ids_ret,
		       struct kiln_error *err)
{
	cleanup_free struct kiln_digest *ids = kiln_calloc(c->n + 1, sizeof(*ids));
	if (!ids)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int r = bb_chain_unpack(b, sn, c, ids, err);
	if (r >= 0)
		r = kiln_snapshot_mount(sn, ids, c->n, readonly ? KILN_SNAPSHOT_RDONLY : 0, ret,
					err);
	if (r >= 0 && ids_ret)
		*ids_ret = steal_ptr(&ids);
	return r;
}

int bb_chain_mount(struct bb *b, struct kiln_snapshotter *sn, const struct bb_chain *c,
		   int readonly, struct kiln_snapshot_mount **ret, struct kiln_error *err)
{
	return bb_chain_mount_ids(b, sn, c, readonly, ret, NULL, err);
}

/*
 * An overlay's superblock goes when the last reference to its mount does,
 * and until then overlayfs marks its upper directory in use: a mount that
 * stacks that directory as a lower one (the next step's) gets a kernel
 * warning, "undefined behavior". kiln's close of the mount is the last
 * reference only if no other process holds a copy of it, and a process
 * that another stage's thread starts gets a copy of every descriptor kiln
 * has until it closes them (a sandbox's pid 1 does so once it is set up)
 * or execs. kiln_snapshot_unmount() moves what was written out of the upper
 * directory and leaves the overlay to the snapshotter's reaper; where it
 * cannot, it closes the mount here, and that close must be the last. So
 * starts hold the lock shared until then, and the unmount holds it
 * exclusively: no copy of this mount is left anywhere.
 */
int bb_unmount(struct bb *b, struct kiln_snapshot_mount *m, struct kiln_error *err)
{
	(void) pthread_rwlock_wrlock(&b->spawn_lock);
	int r = kiln_snapshot_unmount(m, err);
	(void) pthread_rwlock_unlock(&b->spawn_lock);
	return r;
}

void bb_spawn_begin(struct bb *b)
{
	(void) pthread_rwlock_rdlock(&b->spawn_lock);
}

void bb_spawn_end(struct bb *b)
{
	(void) pthread_rwlock_unlock(&b->spawn_lock);
}

/*
 * A commit: nothing written or hashed. The upper directory is kept under a
 * random id, which no diff_id will ever be, so a later step or build mounts
 * it by that id; its tar is read only when a blob is needed: at once, on a
 * thread, for a layer the image holds (bb_layer_job_start()), and otherwise
 * only if an image or an exported cache needs it.
 */
int bb_commit(struct bb *b, struct kiln_snapshot_mount *m, struct bb_layer *ret,
	      struct kiln_error *err)
{
	uint8_t raw[32];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t) sizeof(raw))
		return kiln_fail_errno(err, "getrandom");
	struct bb_layer l = { .created = (int64_t) time(NULL), .lazy = 1, .has_snap = 1 };
	kiln_digest_from_raw(&l.snap, raw);
	int r = bb_unmount(b, m, err);
	if (r >= 0)
		r = kiln_snapshot_commit(m, -1, NULL, NULL, err);
	if (r >= 0)
		r = kiln_snapshot_keep(m, &l.snap, err);
	if (r < 0)
		return r;
	*ret = l;
	return 0;
}

/* A new blob writer for a layer; its external fd is where the tar goes. */
static int blob_start(struct bb *b, struct kiln_blob_writer **w, struct kiln_error *err)
{
	bb_store_lock(b);
	int r = kiln_store_blob_writer_new(b->st, NULL, -1, w, err);
	bb_store_unlock(b);
	return r;
}

/*
 * Store what the layer writer wrote into `w` (its digests `dg`) as a blob,
 * and give `l` that blob: digest, size and this build's media type.
 */
static int blob_finish(struct bb *b, struct kiln_blob_writer *w,
		       const struct kiln_layer_digests *dg, struct bb_layer *l,
		       struct kiln_error *err)
{
	struct kiln_digest digest;
	int64_t size = 0;
	bb_store_lock(b);
	int r = kiln_blob_writer_commit(w, &digest, &size, err);
	bb_store_unlock(b);
	if (r < 0)
		return kiln_error_prefix(err, r, "storing layer %s", dg->diff_id.str);
	if (!kiln_digest_equal(&digest, &dg->digest))
		return kiln_fail(err, KILN_EDIGEST, 0, "the stored layer is %s, the writer said %s",
				 digest.str, dg->digest.str);
	char *mt = kiln_strdup(b->media_type);
	if (!mt)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	free(l->media_type);
	l->media_type = mt;
	l->digest = digest;
	l->size = size;
	l->lazy = 0;
	return 0;
}

int bb_snapshotter_open(struct bb *b, struct kiln_snapshotter **ret, struct kiln_error *err)
{
	unsigned flags = atomic_exchange(&b->swept, 1) ? KILN_SNAPSHOTTER_NO_SWEEP : 0;
	return kiln_snapshotter_open_flags(&b->ctx, kiln_store_root(b->st), flags, ret, err);
}

int bb_layer_materialize(struct bb *b, struct bb_layer *l, struct kiln_error *err)
{
	if (!l->lazy)
		return 0;
	/* made already, for another stage's copy of the chain or another record */
	int r = bb_cache_blob_of(b, l, err);
	if (r != 0)
		return r < 0 ? r : bb_cache_set_blob(b, l, err);
	cleanup(kiln_snapshotter_freep) struct kiln_snapshotter *sn = NULL;
	r = bb_snapshotter_open(b, &sn, err);
	cleanup(kiln_blob_writer_freep) struct kiln_blob_writer *w = NULL;
	if (r >= 0)
		r = blob_start(b, &w, err);
	if (r < 0)
		return r;
	struct kiln_layer_digests dg;
	r = kiln_snapshot_write_layer(sn, bb_layer_kept_id(l), kiln_blob_writer_external_fd(w),
				      &b->wopts, &dg, err);
	if (r < 0)
		return r;
	/* an unpacked layer is read-only to builds: a change means someone else's hand */
	if (bb_layer_has_diff_id(l) && !kiln_digest_equal(&dg.diff_id, &l->diff_id))
		return kiln_fail(err, KILN_EDIGEST, 0,
				 "the unpacked layer %s now reads as %s; remove it with `kiln "
				 "prune` and build again",
				 l->diff_id.str, dg.diff_id.str);
	l->diff_id = dg.diff_id;
	r = blob_finish(b, w, &dg, l, err);
	if (r >= 0)
		r = bb_cache_set_blob(b, l, err);
	/* whatever looks the layer up by its diff_id (kiln run of the image, a
	 * FROM it) finds it unpacked: not needed, so a failure only costs that */
	if (r >= 0 && l->has_snap) {
		struct kiln_error e = KILN_ERROR_INIT;
		if (kiln_snapshot_alias(sn, &l->diff_id, &l->snap, &e) < 0)
			kiln_debug(&b->ctx, "layer %s: %s", l->snap.str, e.msg ? e.msg : "?");
		kiln_error_release(&e);
	}
	return r;
}

/*
 * A layer the image holds is committed lazily and its blob written here,
 * on a thread, while the stage's next steps run: the tar, its compression
 * and digests of the 2,000 files a-genfiles copies took 12-15 ms that the
 * next steps no longer wait for.
 */
struct bb_layer_job {
	struct bb *b;
	struct bb_layer l; /* a copy of the stage's: lazy, kept under l.snap */
	int line;	   /* the step's, in the Dockerfile */
	pthread_t tid;
	int done; /* under b->jobs_lock */
	int r;
	struct kiln_error err;
	struct bb_layer_job *next;
};

static void *layer_job_main(void *arg)
{
	struct bb_layer_job *j = arg;
	j->r = bb_layer_materialize(j->b, &j->l, &j->err);
	(void) pthread_mutex_lock(&j->b->jobs_lock);
	j->done = 1;
	(void) pthread_cond_broadcast(&j->b->jobs_cv);
	(void) pthread_mutex_unlock(&j->b->jobs_lock);
	return NULL;
}

void bb_layer_job_start(struct bb *b, const struct bb_layer *l, int line)
{
	if (!l->lazy || !l->has_snap || l->remote)
		return;
	struct bb_layer_job *j = kiln_calloc(1, sizeof(*j));
	if (!j)
		return;
	j->b = b;
	j->line = line;
	j->err = (struct kiln_error) KILN_ERROR_INIT;
	j->l = (struct bb_layer){ .created = l->created,
				  .lazy = 1,
				  .snap = l->snap,
				  .has_snap = 1,
				  .chain = l->chain,
				  .has_chain = l->has_chain };
	/* listed before it starts: its end finds itself on the list */
	(void) pthread_mutex_lock(&b->jobs_lock);
	if (kiln_thread_start(&j->tid, layer_job_main, j) != 0) {
		(void) pthread_mutex_unlock(&b->jobs_lock);
		free(j);
		return;
	}
	j->next = b->jobs;
	b->jobs = j;
	(void) pthread_mutex_unlock(&b->jobs_lock);
}

static int all_done(const struct bb_layer_job *jobs)
{
	for (const struct bb_layer_job *j = jobs; j; j = j->next)
		if (!j->done)
			return 0;
	return 1;
}

int bb_layer_jobs_finish(struct bb *b, struct kiln_error *err)
{
	/* the threads hear an interrupt through b->abort, as the stages do */
	(void) pthread_mutex_lock(&b->jobs_lock);
	while (!all_done(b->jobs)) {
		if (kiln_cancelled(b->uctx))
			b->abort = 1;
		bb_cond_wait_a_while(&b->jobs_cv, &b->jobs_lock);
	}
	struct bb_layer_job *jobs = b->jobs;
	b->jobs = NULL;
	(void) pthread_mutex_unlock(&b->jobs_lock);
	int r = 0;
	while (jobs) {
		struct bb_layer_job *j = jobs;
		jobs = j->next;
		(void) pthread_join(j->tid, NULL);
		if (j->r < 0 && r == 0) {
			if (j->r == -KILN_ECANCEL) {
				r = kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
			} else {
				r = kiln_error_prefix(&j->err, j->r, "the layer of this step");
				if (j->err.pos.line == 0)
					kiln_error_set_pos(&j->err, b->df_name, j->line, 0);
				kiln_error_move(err, &j->err);
			}
		}
		bb_layer_release(&j->l);
		kiln_error_release(&j->err);
		free(j);
	}
	return r;
}

int bb_chain_materialize(struct bb *b, struct bb_chain *c, struct kiln_error *err)
{
	for (size_t i = 0; i < c->n; i++) {
		int r = bb_layer_materialize(b, &c->v[i], err);
		if (r < 0)
			return r;
		if (kiln_cancelled(&b->ctx))
			return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
	}
	return 0;
}

int bb_stage_diff_ids(struct bb_stage *s, struct kiln_error *err)
{
	int kept_apart = 0;
	for (size_t i = 0; i < s->chain.n; i++)
		kept_apart |= s->chain.v[i].has_snap;
	if (!kept_apart)
		return 0; /* every diff_id was known when the config got it */
	if (s->config->n_diff_ids != s->chain.n)
		return kiln_fail(err, KILN_EINTERNAL, 0, "%zu layers but %zu diff_ids",
				 s->chain.n, s->config->n_diff_ids);
	for (size_t i = 0; i < s->chain.n; i++) {
		if (!bb_layer_has_diff_id(&s->chain.v[i]))
			return kiln_fail(err, KILN_EINTERNAL, 0, "layer %s has no diff_id yet",
					 s->chain.v[i].snap.str);
		s->config->diff_ids[i] = s->chain.v[i].diff_id;
	}
	return 0;
}
