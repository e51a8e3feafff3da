/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A COPY that runs again after a change of some of its sources takes the
 * files that did not change from the layer its last run made (the donor),
 * as hard links, instead of writing them again: a rebuild after a one-file
 * edit of a large context writes one file, not thousands, and allocates no
 * inode for the rest.
 *
 * The layer a COPY makes gets a note: the content digest of each regular
 * file it wrote, by path. The next run of the same step (same instruction,
 * same source, whatever the content) finds that layer by name. A file is
 * taken from it when the donor has a regular file at the same path with the
 * same digest in its note and the same size, mode, owner and mtime as the
 * copy would have; it is then left out of the overlay and linked into the
 * upper directory once the overlay is unmounted (overlayfs allows no change
 * of its upper directory while mounted), and its directory gets its times
 * back. Only files whose directory is one the COPY itself sets (and so is in
 * the upper directory) qualify. A file that cannot be linked (the donor was
 * pruned meanwhile, a link count at its limit) is copied there instead.
 *
 * A COPY --from a stage or an image does the same with the source's own
 * layers, on its first run too: the topmost layer with an entry at a
 * file's path holds what overlayfs shows, and overlayfs shows that file's
 * own inode number and times (all layers are on one filesystem, kiln
 * mounts no metacopy), which are checked. The file is linked when the copy
 * would make it alike (mode, owner, times, no xattrs). Layers never change
 * once unpacked or committed, and a later step that changes the file
 * copies it up first, so sharing the inode is safe. A build stage's output
 * copied into the final stage is then linked, not written again.
 *
 * The layer's bytes are the same either way: a layer's tar holds no link
 * count, and a file linked to another layer's is a regular file in its own.
 * What must not show is one inode at two paths of one image (a RUN would
 * see a link count of 2 and `-ef` paths; a local or tar output would write
 * them as hard links, where BuildKit's copy writes two files): a source
 * file is linked only when no other link to it exists yet (a file a COPY
 * already linked somewhere is copied), when its layer is not one the
 * target stands on too (`COPY --from=busybox` into a stage FROM busybox),
 * and once per step.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/fs.h"
#include "build/build-private.h"
#include "snapshot/snapshot.h"

/* a file left out of the overlay, to link after it */
struct reuse_file {
	const struct kiln_plan_item *it;
	/* its directory, times restored after; NULL: the target, which keeps
	 * the times the links give it, as a copy's writes give them */
	const struct kiln_plan_item *dir;
	uint64_t ino;			  /* the inode that was checked */
	int layer; /* -1: the donor, at the file's destination; else a source layer, at its path */
};

struct bb_reuse {
	char name[48]; /* the step's name for its last layer */
	/* the donor: its directory and its note */
	int donor_fd;
	struct bb_note note;
	/* what this run writes: its note, and the files it left out */
	struct kiln_buf out;
	/* COPY --from: the source's layers, top first, and which of them the
	 * target stands on too (their files are in the image already) */
	struct bb_layer_walk src;
	unsigned char *shared;
	int top_read; /* the selection's lstat of each item is the top layer's */
	/* the source inodes this step links, each once (open addressing, 0 = free) */
	uint64_t *inos;
	size_t n_inos, cap_inos;
	char *target; /* the match's destination, relative to the root */
	int64_t fixed_mtime;
	struct reuse_file *files;
	size_t n_files, alloc_files;
};

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

int bb_reuse_open(struct bb *b, struct kiln_snapshotter *sn, const char *shape, int take,
		  struct bb_reuse **ret, struct kiln_error *err)
{
	*ret = NULL;
	struct bb_reuse *ru = kiln_calloc(1, sizeof(*ru));
	if (!ru)
		return oom(err);
	ru->donor_fd = -1;
	ru->out = (struct kiln_buf) KILN_BUF_INIT;
	/* "copy2-": layers named "copy-" may hold a source's inode at two
	 * paths (before links were checked for that), so they are no donors */
	(void) snprintf(ru->name, sizeof(ru->name), "copy2-%.40s", shape);
	struct kiln_digest donor;
	int r = take ? kiln_snapshot_name_get(sn, ru->name, &donor, err) : 0;
	if (r == 1)
		r = bb_note_load(sn, &donor, &ru->note, err);
	if (r == 1) {
		ru->donor_fd = kiln_snapshot_layer_open(sn, &donor, err);
		if (ru->donor_fd >= 0)
			kiln_debug(&b->ctx, "COPY: files that did not change come from layer %s",
				   donor.hex);
	}
	if (ru->donor_fd < 0) {
		/* no donor (or none that reads back): this run writes everything */
		kiln_error_release(err);
		bb_note_release(&ru->note);
	}
	*ret = ru;
	return 0;
}

void bb_reuse_free(struct bb_reuse *ru)
{
	if (!ru)
		return;
	if (ru->donor_fd >= 0)
		(void) close(ru->donor_fd);
	bb_layer_walk_close(&ru->src);
	free(ru->shared);
	free(ru->inos);
	bb_note_release(&ru->note);
	kiln_buf_release(&ru->out);
	free(ru->target);
	free(ru->files);
	free(ru);
}

int bb_reuse_match(struct bb_reuse *ru, const char *target, int64_t fixed_mtime,
		   struct kiln_error *err)
{
	free(ru->target);
	ru->target = kiln_strdup(target);
	ru->fixed_mtime = fixed_mtime;
	return ru->target ? 0 : oom(err);
}

int bb_reuse_record(struct bb_reuse *ru, const struct kiln_plan_item *it, const char *rel,
		    int alone, struct kiln_error *err)
{
	/* a file of unknown content (or one of a group of links) gets no digest,
	 * which also hides what an earlier source wrote to the same path */
	static const uint8_t none[32];
	int known = it->hashed && alone;
	if (kiln_buf_add(&ru->out, known ? it->sum.raw : none, 32) < 0 ||
	    kiln_buf_add(&ru->out, rel, strlen(rel) + 1) < 0)
		return oom(err);
	return 0;
}

int bb_reuse_sources(struct bb_reuse *ru, struct kiln_snapshotter *sn,
		     const struct kiln_digest *ids, size_t n, const struct kiln_digest *target_ids,
		     size_t nt, int top_read, struct kiln_error *err)
{
	if (!(ru->shared = kiln_calloc(n + 1, 1)))
		return oom(err);
	ru->top_read = top_read;
	/* walk layer i is ids[n - 1 - i] */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < nt && !ru->shared[i]; k++)
			ru->shared[i] = kiln_digest_equal(&ids[n - 1 - i], &target_ids[k]);
	int r = bb_layer_walk_open(&ru->src, sn, ids, n, n, err);
	if (r < 0) {
		free(ru->shared);
		ru->shared = NULL;
	}
	return r;
}

/* Whether this step has not linked inode `ino` yet; it has from now on. */
static int first_link(struct bb_reuse *ru, uint64_t ino)
{
	uint64_t key = ino + 1; /* 0 marks a free slot */
	if (2 * (ru->n_inos + 1) > ru->cap_inos) {
		size_t cap = ru->cap_inos ? 2 * ru->cap_inos : 256;
		uint64_t *n = kiln_calloc(cap, sizeof(*n));
		if (!n)
			return 0; /* no memory to remember it: copy the file */
		for (size_t i = 0; i < ru->cap_inos; i++) {
			if (!ru->inos[i])
				continue;
			size_t j = (size_t) (ru->inos[i] * 0x9e3779b97f4a7c15ULL) & (cap - 1);
			while (n[j])
				j = (j + 1) & (cap - 1);
			n[j] = ru->inos[i];
		}
		free(ru->inos);
		ru->inos = n;
		ru->cap_inos = cap;
	}
	size_t j = (size_t) (key * 0x9e3779b97f4a7c15ULL) & (ru->cap_inos - 1);
	for (; ru->inos[j]; j = (j + 1) & (ru->cap_inos - 1))
		if (ru->inos[j] == key)
			return 0;
	ru->inos[j] = key;
	ru->n_inos++;
	return 1;
}

/* Whether a file is what the copy would make: a regular file of this size,
 * mode, owner and mtime. */
static int alike(const struct stat *st, const struct kiln_plan_item *it, mode_t mode, uid_t uid,
		 gid_t gid, const struct timespec *mtime)
{
	if (!S_ISREG(st->st_mode) || st->st_size != it->st.size ||
	    (st->st_mode & 07777) != mode || st->st_uid != uid || st->st_gid != gid ||
	    st->st_mtim.tv_sec != mtime->tv_sec || st->st_mtim.tv_nsec != mtime->tv_nsec)
		return 0;
	return 1;
}

/* what source_layer() looks at of an item's lstat, as a struct stat */
static void stat_of_item(const struct kiln_plan_item *it, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = (dev_t) it->st.dev;
	st->st_ino = (ino_t) it->st.ino;
	st->st_mode = it->st.mode;
	st->st_nlink = it->st.nlink;
	st->st_uid = it->st.uid;
	st->st_gid = it->st.gid;
	st->st_size = it->st.size;
	st->st_mtim = kiln_plan_timespec(it->st.mtime_ns);
	st->st_ctim = kiln_plan_timespec(it->st.ctime_ns);
}

/* xattrs, which the copy may not all keep (and overlayfs's own, which it
 * drops), of `name` in the directory `dir_fd` */
static int has_xattrs(int dir_fd, const char *name)
{
	return kiln_listxattrat(dir_fd, name, NULL, 0) != 0; /* an error counts as having some */
}

/*
 * The source layer (index into the walk's layers) whose file at the item's
 * path is the one the source showed, if the copy would make it alike; -1 if
 * none. That is the topmost layer with anything at the path (overlayfs
 * shows the topmost entry), and it must be the inode shown: the same inode
 * number and change time. A file that a step copied up (a RUN changed its
 * mode, say) carries overlayfs's xattrs, so it is written anew, as a file
 * with xattrs is.
 */
static int source_layer(struct bb_reuse *ru, const struct kiln_plan_item *it, mode_t mode,
			uid_t uid, gid_t gid, const struct timespec *mtime, uint64_t *ino,
			uint64_t *shared_ino)
{
	struct stat st;
	const char *name;
	int i;
	if (ru->top_read) {
		/* the walk's own lstat, of the same file in a layer that does not
		 * change: 2,000 fewer fstatat for 2,000 files */
		i = bb_layer_walk_top(&ru->src, it->path, &name);
		stat_of_item(it, &st);
	} else {
		i = bb_layer_walk_find(&ru->src, it->path, &st, &name);
	}
	if (i >= 0 && ru->shared[i])
		*shared_ino = (uint64_t) st.st_ino; /* in the image already */
	if (i < 0 || ru->shared[i] || st.st_nlink != 1 || !bb_listed_file(&st, it) ||
	    !alike(&st, it, mode, uid, gid, mtime) || has_xattrs(ru->src.dir_fds[i], name) ||
	    !first_link(ru, (uint64_t) st.st_ino))
		return -1;
	*ino = (uint64_t) st.st_ino;
	return i;
}

static int leave_out(struct bb_reuse *ru, const struct kiln_plan_item *it,
		     const struct kiln_plan_item *dir, uint64_t ino, int layer,
		     struct kiln_error *err)
{
	if (ru->n_files == ru->alloc_files) {
		size_t na = ru->alloc_files ? ru->alloc_files * 2 : 64;
		struct reuse_file *n = kiln_reallocarray(ru->files, na, sizeof(*n));
		if (!n)
			return oom(err);
		ru->files = n;
		ru->alloc_files = na;
	}
	ru->files[ru->n_files++] =
		(struct reuse_file){ .it = it, .dir = dir, .ino = ino, .layer = layer };
	return 1;
}

int bb_reuse_offer(struct bb_reuse *ru, const struct kiln_plan_item *it,
		   const struct kiln_plan_item *dir, const char *rel, mode_t mode, uid_t uid,
		   gid_t gid, const struct timespec *mtime, struct kiln_error *err)
{
	if (!ru->target)
		return 0;
	uint64_t ino, shared_ino = 0;
	int layer = ru->src.n ? source_layer(ru, it, mode, uid, gid, mtime, &ino, &shared_ino)
			      : -1;
	if (layer >= 0)
		return leave_out(ru, it, dir, ino, layer, err);
	if (ru->donor_fd < 0 || !it->hashed)
		return 0;
	const uint8_t *sum = bb_note_sum(&ru->note, rel);
	if (!sum || memcmp(sum, it->sum.raw, sizeof(it->sum.raw)) != 0)
		return 0;
	struct stat st;
	int fd = bb_open_beneath(ru->donor_fd, rel, O_PATH);
	int found = fd >= 0 && fstat(fd, &st) == 0 && alike(&st, it, mode, uid, gid, mtime);
	if (fd >= 0)
		(void) close(fd);
	/* the donor's file may be a link to the source's, in a layer the target
	 * now stands on too (its FROM changed, its COPY did not): write it */
	if (found && shared_ino && (uint64_t) st.st_ino == shared_ino)
		found = 0;
	return found ? leave_out(ru, it, dir, (uint64_t) st.st_ino, -1, err) : 0;
}

int bb_reuse_pending(const struct bb_reuse *ru)
{
	return ru && ru->n_files > 0;
}

static char *file_rel(const struct bb_reuse *ru, const struct kiln_plan_item *it)
{
	return *ru->target ? kiln_asprintf("%s/%s", ru->target, it->rel) : kiln_strdup(it->rel);
}

static void dir_times(const struct bb_reuse *ru, const struct kiln_plan_item *dir,
		      struct timespec ts[2])
{
	if (ru->fixed_mtime >= 0) {
		ts[0] = ts[1] = (struct timespec){ ru->fixed_mtime, 0 };
	} else {
		ts[0] = kiln_plan_timespec(dir->st.atime_ns);
		ts[1] = kiln_plan_timespec(dir->st.mtime_ns);
	}
}

/* The links to make, by runs of files of one directory, on a few threads. */
struct apply {
	struct bb *b;
	struct bb_reuse *ru;
	const char *upper;
	int up, src_fd;
	const struct bb_copy_opts *o;
	size_t *runs; /* run k is files runs[k] .. runs[k + 1] - 1 */
	size_t n_runs;
	atomic_size_t next;
	atomic_size_t linked, from_source, copied;
	pthread_mutex_t mu;
	int code; /* of the first failure, 0 if none */
	struct kiln_error err;
};

/* The directory a file is linked from, kept open for the next files: those
 * of one run mostly come from one directory of one layer. */
struct src_dir {
	int fd;	    /* O_PATH; -1: none open */
	int root;   /* the layer's (or the donor's) fd it is beneath */
	char *path; /* its path there */
};

static void src_dir_release(struct src_dir *sd)
{
	if (sd->fd >= 0)
		(void) close(sd->fd);
	free(sd->path);
}

/* the directory of `path` beneath `root`, -1 if it cannot be opened; *name
 * gets the last component */
static int src_dir_of(struct src_dir *sd, int root, const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t) (slash - path) : 0;
	*name = slash ? slash + 1 : path;
	if (sd->fd >= 0 && sd->root == root && strlen(sd->path) == len &&
	    !memcmp(sd->path, path, len))
		return sd->fd;
	src_dir_release(sd);
	sd->fd = -1;
	sd->root = root;
	sd->path = kiln_strndup(path, len);
	if (sd->path)
		sd->fd = bb_open_beneath(root, len ? sd->path : ".", O_PATH | O_DIRECTORY);
	return sd->fd;
}

/* One directory's files in a row, then the directory's own times again (a
 * link changes its mtime). */
static int apply_run(struct apply *a, size_t first, size_t end, struct kiln_error *err)
{
	struct bb_reuse *ru = a->ru;
	const struct reuse_file *d = &ru->files[first];
	cleanup_free char *drel = d->dir ? file_rel(ru, d->dir) : kiln_strdup(ru->target);
	if (!drel)
		return oom(err);
	cleanup_close int dfd = bb_open_beneath(a->up, drel, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return kiln_fail_errno(err, "opening /%s in %s", drel, a->upper);
	struct src_dir sd = { .fd = -1 };
	int r = 0;
	for (size_t i = first; r >= 0 && i < end; i++) {
		const struct reuse_file *f = &ru->files[i];
		char *rel = file_rel(ru, f->it);
		if (!rel) {
			r = oom(err);
			break;
		}
		/* the name in its directory must still be the inode that was
		 * checked: a donor can be pruned; a source layer does not change
		 * (its name was looked at in this step, and at worst is gone,
		 * which the link finds out) */
		const char *src_name;
		int src = f->layer >= 0
				  ? src_dir_of(&sd, ru->src.fds[f->layer], f->it->path, &src_name)
				  : src_dir_of(&sd, ru->donor_fd, rel, &src_name);
		struct stat st;
		int ok = src >= 0 &&
			 (f->layer >= 0 || (fstatat(src, src_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
					    S_ISREG(st.st_mode) && (uint64_t) st.st_ino == f->ino));
		const char *slash = strrchr(rel, '/');
		const char *name = slash ? slash + 1 : rel;
		if (ok && linkat(src, src_name, dfd, name, 0) == 0) {
			atomic_fetch_add(&a->linked, 1);
			if (f->layer >= 0)
				atomic_fetch_add(&a->from_source, 1);
		} else if (!ok || errno != EEXIST) {
			/* the donor is gone, or the inode has all the links it can
			 * (EEXIST: the step wrote the path after leaving the file out) */
			r = bb_copy_file_into(a->b, a->up, a->src_fd, f->it, rel, a->o, err);
			atomic_fetch_add(&a->copied, 1);
		}
		free(rel);
	}
	src_dir_release(&sd);
	struct timespec ts[2];
	if (r >= 0 && d->dir) {
		dir_times(ru, d->dir, ts);
		if (futimens(dfd, ts) < 0)
			r = kiln_fail_errno(err, "setting the times of /%s", drel);
	}
	return r;
}

static void *apply_main(void *arg)
{
	struct apply *a = arg;
	for (;;) {
		size_t k = atomic_fetch_add(&a->next, 1);
		if (k >= a->n_runs)
			break;
		struct kiln_error e = KILN_ERROR_INIT;
		int r = apply_run(a, a->runs[k], a->runs[k + 1], &e);
		if (r < 0) {
			pthread_mutex_lock(&a->mu);
			if (!a->code) {
				a->code = r;
				a->err = e;
				e = (struct kiln_error) KILN_ERROR_INIT;
			}
			pthread_mutex_unlock(&a->mu);
			atomic_store(&a->next, a->n_runs); /* the others stop too */
		}
		kiln_error_release(&e);
	}
	return NULL;
}

/* Links into different directories go on at once: a directory's lock is
 * all they share. Fewer files than this are not worth a thread. */
#define APPLY_THREADS_MIN_FILES 256
#define APPLY_MAX_THREADS 4

int bb_reuse_apply(struct bb *b, struct bb_reuse *ru, const char *upper, int src_fd,
		   const struct bb_copy_opts *o, struct kiln_error *err)
{
	cleanup_close int up = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (up < 0)
		return kiln_fail_errno(err, "opening %s", upper);
	cleanup_free size_t *runs = kiln_calloc(ru->n_files + 1, sizeof(*runs));
	if (!runs)
		return oom(err);
	size_t n_runs = 0;
	for (size_t i = 0; i < ru->n_files; i++)
		if (i == 0 || ru->files[i].dir != ru->files[i - 1].dir)
			runs[n_runs++] = i;
	runs[n_runs] = ru->n_files;
	struct apply a = { .b = b, .ru = ru, .upper = upper, .up = up, .src_fd = src_fd, .o = o,
			   .runs = runs, .n_runs = n_runs, .err = KILN_ERROR_INIT };
	atomic_init(&a.next, 0);
	atomic_init(&a.linked, 0);
	atomic_init(&a.from_source, 0);
	atomic_init(&a.copied, 0);
	pthread_mutex_init(&a.mu, NULL);
	pthread_t th[APPLY_MAX_THREADS];
	size_t nt = 0, want = ru->n_files >= APPLY_THREADS_MIN_FILES ? kiln_cpus(APPLY_MAX_THREADS) : 1;
	/* this thread works too; the others only while a thread can start */
	for (size_t t = 1; t < want && t < n_runs; t++)
		if (kiln_thread_start(&th[nt], apply_main, &a) == 0)
			nt++;
	apply_main(&a);
	for (size_t t = 0; t < nt; t++)
		(void) pthread_join(th[t], NULL);
	pthread_mutex_destroy(&a.mu);
	if (a.code) {
		*err = a.err;
		return a.code;
	}
	kiln_debug(&b->ctx, "COPY: %zu files linked (%zu from the source's layers), %zu copied",
		   atomic_load(&a.linked), atomic_load(&a.from_source), atomic_load(&a.copied));
	return 0;
}

void bb_reuse_keep(struct bb *b, struct kiln_snapshotter *sn, struct bb_reuse *ru,
		   const struct kiln_digest *layer)
{
	struct kiln_error e = KILN_ERROR_INIT;
	/* hints for the next run: a failure costs that run its links, nothing more */
	if (kiln_snapshot_note_write(sn, layer, ru->out.buf, ru->out.len, &e) < 0 ||
	    kiln_snapshot_name_set(sn, ru->name, layer, &e) < 0)
		kiln_debug(&b->ctx, "COPY: no note for the next run: %s", e.msg ? e.msg : "");
	kiln_error_release(&e);
}
