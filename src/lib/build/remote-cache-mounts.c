/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RUN --mount=type=cache directories in a remote cache (--cache-to
 * ...,cache-mounts=true): each cache the build's RUN steps use goes out as
 * a layer-like tar blob of its contents, listed in the cache config with
 * its id, seed and the time of its newest change, and in the manifest with
 * annotations. A build reading such a cache seeds its own cache mounts
 * from it before any step runs, cache by cache, when the local one is
 * empty or older than the exported one (its newest change is older); a
 * local cache at least as new is kept. Caches seeded from a stage or an
 * image (from=) are not exported nor seeded: their seed names where they
 * come from, and they fill themselves from it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/mounts.h"
#include "build/remote-cache.h"

#define WALK_DEPTH_MAX 256

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

/* ---- the caches the build uses -------------------------------------------------------- */

struct use {
	char *id;
	char *seed; /* NULL: seeded from a stage or an image */
};

static void uses_free(struct use *u, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(u[i].id);
		free(u[i].seed);
	}
	free(u);
}

static int build_uses(struct bb *b, struct use **ret, size_t *ret_n, struct kiln_error *err)
{
	struct use *v = NULL;
	size_t n = 0;
	int r = 0;
	const char *ns = b->rmx ? b->rmx->cache_ns : NULL;
	for (size_t i = 0; r >= 0 && b->plan && i < b->plan->n_stages; i++)
		for (size_t k = 0; r >= 0 && k < b->plan->stages[i].n_steps; k++) {
			const struct kiln_df_step *st = b->plan->stages[i].steps[k].df;
			if (st->instr.cmd != KILN_DF_RUN)
				continue;
			const struct kiln_df_run *run = &st->instr.u.run;
			for (size_t m = 0; r >= 0 && m < run->n_mounts; m++) {
				if (run->mounts[m].type != KILN_DF_MOUNT_CACHE)
					continue;
				struct bb_mount_spec ms;
				if (bb_mount_resolve(&run->mounts[m], st->workdir, ns, 0, &ms,
						     NULL) < 0)
					continue; /* the step reports it when it runs */
				char *seed = ms.from ? NULL : bb_cache_seed(&ms, NULL);
				int dup = 0;
				for (size_t u = 0; u < n && !dup; u++)
					dup = !strcmp(v[u].id, ms.id) &&
					      ((!seed && !v[u].seed) ||
					       (seed && v[u].seed && !strcmp(seed, v[u].seed)));
				struct use *nv = dup ? v : kiln_reallocarray(v, n + 1, sizeof(*v));
				if (!nv || (!ms.from && !seed)) {
					free(seed);
					bb_mount_spec_release(&ms);
					r = oom(err);
					break;
				}
				v = nv;
				if (!dup) {
					v[n].id = steal_ptr(&ms.id);
					v[n].seed = seed;
					n++;
				} else {
					free(seed);
				}
				bb_mount_spec_release(&ms);
			}
		}
	if (r < 0) {
		uses_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int bb_rcache_mount_ids(struct bb *b, struct kiln_strv *ret, struct kiln_error *err)
{
	struct use *u = NULL;
	size_t n = 0;
	int r = build_uses(b, &u, &n, err);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		int dup = 0;
		for (size_t k = 0; k < ret->len && !dup; k++)
			dup = !strcmp(ret->items[k], u[i].id);
		if (!dup && kiln_strv_push(ret, u[i].id) < 0)
			r = oom(err);
	}
	uses_free(u, n);
	return r;
}

/* ---- what a directory holds ------------------------------------------------------------- */

/* The newest mtime of anything below `dfd` (its own excluded) and whether it is empty. */
static int newest_below(int dfd, int depth, int64_t *newest, int *empty, struct kiln_error *err)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return kiln_fail_errno(err, "reading a cache mount");
	DIR *d = fdopendir(fd);
	if (!d) {
		(void) close(fd);
		return kiln_fail_errno(err, "reading a cache mount");
	}
	int r = 0;
	struct dirent *e;
	while (r >= 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		*empty = 0;
		struct stat s;
		if (fstatat(dirfd(d), e->d_name, &s, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		if (s.st_mtim.tv_sec > *newest)
			*newest = s.st_mtim.tv_sec;
		if (S_ISDIR(s.st_mode) && depth < WALK_DEPTH_MAX) {
			int cfd = openat(dirfd(d), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd >= 0) {
				r = newest_below(cfd, depth + 1, newest, empty, err);
				(void) close(cfd);
			}
		}
	}
	closedir(d);
	return r;
}

/* Remove everything below the directory at `path` (not the directory). */
static int clear_dir(const char *path, struct kiln_error *err)
{
	DIR *d = opendir(path);
	if (!d)
		return kiln_fail_errno(err, "emptying %s", path);
	int r = 0;
	struct dirent *e;
	while (r >= 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = kiln_asprintf("%s/%s", path, e->d_name);
		r = p ? kiln_rm_rf(p, err) : oom(err);
		free(p);
	}
	closedir(d);
	return r;
}

/* ---- export ------------------------------------------------------------------------------ */

static int export_mount(struct bb *b, struct bb_vertex *v, const struct kiln_cachemount_info *in,
			struct kiln_rcache_config *cfg, struct kiln_oci_descriptor *ret,
			struct kiln_error *err)
{
	struct kiln_cachemount_spec cs = { .id = in->id,
					   .seed = in->seed,
					   .sharing = KILN_CACHEMOUNT_SHARED };
	cleanup(kiln_cachemount_releasep) struct kiln_cachemount *cm = NULL;
	int r = kiln_cachemount_acquire(&b->ctx, b->st, &cs, &cm, err);
	if (r < 0)
		return r;
	int fd = kiln_cachemount_fd(cm);
	int64_t newest = 0;
	int empty = 1;
	if ((r = newest_below(fd, 0, &newest, &empty, err)) < 0)
		return r;
	if (empty) {
		bb_status(b, v, "cache mount %s: empty, not exported", in->id);
		return 0;
	}
	cleanup(kiln_blob_writer_freep) struct kiln_blob_writer *w = NULL;
	if ((r = kiln_store_blob_writer_new(b->st, NULL, -1, &w, err)) < 0)
		return r;
	/* the contents as they are (no SOURCE_DATE_EPOCH clamp: the times are the rule) */
	struct kiln_layer_write_opts wo = { .compression = b->wopts.compression,
					    .level = b->wopts.level,
					    .ctx = &b->ctx };
	struct kiln_layer_digests dg;
	struct kiln_digest digest;
	int64_t size = 0;
	if ((r = kiln_layer_write_tree(fd, KILN_TREE_PLAIN, kiln_blob_writer_external_fd(w), &wo,
				       &dg, err)) < 0 ||
	    (r = kiln_blob_writer_commit(w, &digest, &size, err)) < 0)
		return kiln_error_prefix(err, r, "cache mount %s", in->id);
	if ((r = kiln_rcache_config_add_mount(cfg, in->id, in->seed, &digest, newest, err)) < 0)
		return r;
	r = kiln_rcache_blob_descriptor(b->media_type, &digest, size, &dg.diff_id, -1, ret, err);
	cleanup_free char *t = kiln_oci_time_format(newest, 0);
	if (r >= 0 && !t)
		r = oom(err);
	if (r >= 0)
		r = kiln_oci_map_set(&ret->annotations, KILN_RCACHE_ANNOT_MOUNT_ID, in->id, err);
	if (r >= 0)
		r = kiln_oci_map_set(&ret->annotations, KILN_RCACHE_ANNOT_MOUNT_UPDATED, t, err);
	if (r < 0)
		kiln_oci_descriptor_release(ret);
	else
		bb_status(b, v, "cache mount %s: %lld bytes", in->id, (long long) size);
	return r;
}

int bb_rcache_mounts_export(struct bb *b, struct bb_vertex *v, struct kiln_rcache_config *cfg,
			    struct kiln_oci_descriptor **blobs, size_t *n_blobs,
			    struct kiln_error *err)
{
	struct use *u = NULL;
	size_t nu = 0;
	int r = build_uses(b, &u, &nu, err);
	if (r < 0)
		return r;
	struct kiln_cachemount_info *in = NULL;
	size_t n = 0;
	bb_store_lock(b);
	r = kiln_cachemount_list(b->st, &in, &n, err);
	struct kiln_oci_descriptor *out = r >= 0 ? kiln_calloc(n + 1, sizeof(*out)) : NULL;
	if (r >= 0 && !out)
		r = oom(err);
	size_t no = 0;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		int used = 0;
		for (size_t k = 0; k < nu && !used; k++)
			used = u[k].seed && !strcmp(u[k].id, in[i].id) &&
			       !strcmp(u[k].seed, in[i].seed);
		if (!used)
			continue;
		r = export_mount(b, v, &in[i], cfg, &out[no], err);
		if (r >= 0 && out[no].digest)
			no++;
	}
	bb_store_unlock(b);
	if (r >= 0 && !no)
		bb_status(b, v, "no cache mount to export");
	kiln_cachemount_info_free(in, n);
	uses_free(u, nu);
	if (r < 0) {
		for (size_t i = 0; i < no; i++)
			kiln_oci_descriptor_release(&out[i]);
		free(out);
		return r;
	}
	*blobs = out;
	*n_blobs = no;
	return 0;
}

/* ---- seeding ------------------------------------------------------------------------------ */

/*
 * The owner and mode the cache's root was made with: its seed "perm=MODE:UID:GID"
 * (bb_cache_seed()) says them, for a mount with mode=, uid= or gid=; the blob
 * holds what is below the root only. Other seeds: root's 0755.
 */
static void seed_root(const char *seed, struct kiln_cachemount_spec *cs)
{
	unsigned mode, uid, gid;
	char end;
	if (seed && sscanf(seed, "perm=%o:%u:%u%c", &mode, &uid, &gid, &end) == 3 &&
	    !(mode & ~07777u)) {
		cs->mode = (mode_t) mode;
		cs->uid = (uid_t) uid;
		cs->gid = (gid_t) gid;
	}
}

static int seed_mount(struct bb *b, struct bb_rc_src *src, const struct kiln_rcache_mount *m,
		      struct bb_vertex *v, struct kiln_error *err)
{
	const struct kiln_oci_descriptor *d = kiln_rcache_loaded_blob(&src->cache, &m->blob);
	if (!d)
		return kiln_fail(err, KILN_ENOTFOUND, 0, "its blob %s is not in the cache",
				 m->blob.str);
	struct kiln_cachemount_spec cs = { .id = m->id,
					   .seed = m->seed,
					   .sharing = KILN_CACHEMOUNT_LOCKED };
	seed_root(m->seed, &cs);
	cleanup(kiln_cachemount_releasep) struct kiln_cachemount *cm = NULL;
	bb_store_lock(b);
	int r = kiln_cachemount_acquire(&b->ctx, b->st, &cs, &cm, err);
	bb_store_unlock(b);
	if (r < 0)
		return r;
	int64_t newest = 0;
	int empty = 1;
	if ((r = newest_below(kiln_cachemount_fd(cm), 0, &newest, &empty, err)) < 0)
		return r;
	if (!empty && newest >= m->updated) {
		bb_status(b, v, "cache mount %s: the local one is as new, kept", m->id);
		return 0;
	}
	(void) pthread_mutex_lock(&src->lock);
	if (!src->st)
		r = kiln_store_open(&b->ctx, kiln_store_root(b->st), 0, &src->st, err);
	if (r >= 0)
		r = kiln_rcache_loc_fetch(src->loc, src->st, d, 1, err);
	int fd = -1;
	if (r >= 0)
		r = kiln_store_blob_open(src->st, &m->blob, &fd, NULL, err);
	(void) pthread_mutex_unlock(&src->lock);
	if (r < 0)
		return r;
	const char *path = kiln_cachemount_path(cm);
	if (!empty)
		r = clear_dir(path, err);
	struct kiln_layer_apply_opts ao = { .mode = KILN_APPLY_EXTRACT,
					    .expect_digest = &m->blob,
					    .uid = -1,
					    .gid = -1,
					    .ctx = &b->ctx };
	if (r >= 0)
		r = kiln_layer_apply(fd, kiln_cachemount_fd(cm), &ao, NULL, err);
	(void) close(fd);
	if (r < 0) {
		/* no half cache: it starts empty instead */
		struct kiln_error e2 = KILN_ERROR_INIT;
		(void) clear_dir(path, &e2);
		kiln_error_release(&e2);
		return r;
	}
	bb_status(b, v, "cache mount %s: %s from the cache (%lld bytes)", m->id,
		  empty ? "seeded" : "replaced by the newer one", (long long) d->size);
	return 0;
}

int bb_rcache_mounts_seed(struct bb *b, struct bb_rc_src *src, struct bb_vertex *v,
			  struct kiln_error *err)
{
	const struct kiln_rcache_config *c = src->cache.config;
	if (!c || !c->n_mounts)
		return 0;
	struct use *u = NULL;
	size_t nu = 0;
	int r = build_uses(b, &u, &nu, err);
	for (size_t i = 0; r >= 0 && i < c->n_mounts; i++) {
		const struct kiln_rcache_mount *m = &c->mounts[i];
		int used = 0;
		for (size_t k = 0; k < nu && !used; k++)
			used = u[k].seed && !strcmp(u[k].id, m->id) && !strcmp(u[k].seed, m->seed);
		if (!used)
			continue;
		struct kiln_error e = KILN_ERROR_INIT;
		r = seed_mount(b, src, m, v, &e);
		if (r < 0 && r != -KILN_ENOMEM && r != -KILN_ECANCEL) {
			/* a cache mount is a cache: the build goes on with an empty one */
			bb_warn(b, "cache %s: cache mount %s not seeded: %s", src->name, m->id,
				e.msg ? e.msg : kiln_strerror(-r));
			r = 0;
		}
		if (r < 0)
			kiln_error_move(err, &e);
		else
			kiln_error_release(&e);
	}
	uses_free(u, nu);
	return r;
}
