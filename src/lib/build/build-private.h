/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What the files of the build module share: one build's state (struct bb),
 * the per-stage state, layer chains, resolved images, and the helpers each
 * file provides. Module-private.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "build/build.h"
#include "dockerfile/dockerfile.h"
#include "ignore/ignore.h"
#include "ignore/walk.h"
#include "plan/plan.h"
#include "store/store.h"

struct kiln_snapshotter;
struct kiln_snapshot_mount;
struct bb_runmounts;
struct bb_rcache;
struct bb_rc_src;
struct bb_multi;
struct kiln_layer_writer;

/* ---- layers and chains --------------------------------------------------- */

struct bb_layer {
	struct kiln_digest diff_id;
	struct kiln_digest digest;
	int64_t size;
	char *media_type;
	int64_t created; /* when the layer was first made (its history time) */
	/* from the cache: the key the next step builds on (the content key of a
	 * COPY --from, which a later build may reach by another definition) */
	struct kiln_digest chain;
	int has_chain;
	/* from a remote cache (remote-cache.h): where the blob is while the store
	 * lacks it; fetched when a step or the export needs it */
	struct bb_rc_src *remote;
	/* no blob yet: a layer of a stage the image does not hold is kept only
	 * unpacked (its snapshot); bb_layer_materialize() writes the blob when
	 * an image or an exported cache needs it */
	int lazy;
	/* unpacked under `snap` rather than under its diff_id: a lazy layer is
	 * kept under an id of its own, so that its tar is not read and hashed
	 * until a blob is made; until then `diff_id` is unknown */
	struct kiln_digest snap;
	int has_snap;
};

/* Whether l->diff_id is known: not for a lazy layer kept under its own id. */
static inline int bb_layer_has_diff_id(const struct bb_layer *l)
{
	return !(l->lazy && l->has_snap);
}

/* The id of the directory a build kept the layer in. */
static inline const struct kiln_digest *bb_layer_kept_id(const struct bb_layer *l)
{
	return l->has_snap ? &l->snap : &l->diff_id;
}

struct bb_chain {
	struct bb_layer *v;
	size_t n, alloc;
};

int bb_chain_push(struct bb_chain *c, const struct bb_layer *l);
int bb_chain_copy(struct bb_chain *dst, const struct bb_chain *src);
void bb_chain_release(struct bb_chain *c);
void bb_layer_release(struct bb_layer *l);

/* ---- images used by the build (bases, COPY --from=<image>) -------------- */

struct bb_image {
	char *ref;	/* as the Dockerfile has it, expanded */
	char *platform; /* "linux/amd64" */
	char *name;	/* canonical "docker.io/library/busybox:latest" */
	char *display;	/* name@manifest-digest, for FROM's progress name */
	struct kiln_digest manifest;
	struct kiln_oci_config *config;
	struct bb_chain chain;
	int pulled;
};

/* ---- stages ---------------------------------------------------------------- */

struct bb_stage {
	struct kiln_plan_stage *ps;
	size_t index;
	/* 0, or why its steps skip the cache: 1 --no-cache, 2 --no-cache-filter */
	int no_cache;
	pthread_t tid;
	int started;
	int done; /* under bb.lock */
	int ok;
	struct kiln_oci_config *config; /* the stage's image config as it goes */
	struct bb_chain chain;
	char *key;		/* the cache key of the last layer step, or base:/scratch */
	struct bb_image *image; /* the base image, when it is one */
	int cmd_set;		/* CMD given in this stage (ENTRYPOINT's reset rule) */
	int holds_slot;
	struct kiln_error err;
	int64_t failed_at;
	struct kiln_build_step_record *records;
	size_t n_records;
	int exported;	     /* the image holds its layers: their blobs are written at once */
	char *first_miss;    /* the first step of its chain that missed the cache (explain.h) */
	/* the platform it is built for ("linux/amd64"): its FROM --platform, its
	 * base stage's, or the target's; its RUN steps execute only if that is
	 * this machine's, and its keys name it */
	char *platform;
	/* the stage's snapshotter, opened by its first step that mounts, shared by
	 * its later steps (one writeback thread and one cleanup scan per stage) */
	struct kiln_snapshotter *sn;
};

/* ---- one build --------------------------------------------------------- */

struct bb {
	struct kiln_store *st;
	const struct kiln_ctx *uctx;
	struct kiln_ctx ctx; /* the caller's, with cancel pointing at `abort` */
	atomic_int abort;    /* the stages' and layer threads' cancel flag (ctx.cancel) */
	atomic_int swept;    /* a snapshotter of this build cleaned the store up */
	const struct kiln_build_opts *o;

	struct kiln_exec_filters *filters; /* seccomp programs of the RUN steps */
	pthread_mutex_t store_lock; /* the store (one thread at a time) */
	pthread_mutex_t lock;	    /* stage states and job slots */
	pthread_cond_t cond;
	unsigned slots;
	pthread_mutex_t ev_lock; /* events are delivered one at a time */
	int next_vertex;
	int64_t t0;

	struct kiln_df_ast *ast;
	struct kiln_df_model *model;
	struct kiln_df_graph *graph;
	struct kiln_plan *plan;
	const char *df_name;

	/* the context */
	int context_fd;
	char *context_dir;
	struct kiln_ignore_filter *filter;
	struct kiln_ignore_matcher *ignore;
	char *ignore_file;
	struct kiln_plan_tree ctx_tree;
	pthread_mutex_t hash_lock;
	struct kiln_plan_hasher *hasher;

	/* images, pulled or found once per build */
	pthread_mutex_t image_lock;
	struct bb_image **images;
	size_t n_images;
	int images_offline; /* the first graph pass: no pulls */
	int images_unknown; /* ... and an image was not in the store */

	struct bb_stage *stages;
	size_t n_stages;

	struct kiln_df_platform platform; /* the target platform */
	char *platform_str;
	char *run_key; /* --add-host, --ulimit, --shm-size: RUN keys' "sandbox", or NULL */
	const char *hostname; /* RUN's: buildkitsandbox, or BUILDKIT_SANDBOX_HOSTNAME's */
	struct kiln_df_platform host; /* this machine's platform */
	int64_t created;
	char *tmp_root; /* this build's scratch directory under the store */
	int tmp_lock;
	struct kiln_layer_write_opts wopts;
	const char *media_type; /* of new layers */

	struct bb_multi *multi; /* a build of several platforms: this is one of them */
	struct bb_explain *explain; /* why steps missed the cache (explain.h) */
	struct bb_contexts *named;  /* --build-context (contexts.h) */

	/* shared while a process starts with a copy of kiln's descriptors,
	 * exclusive while a writable snapshot is unmounted (bb_unmount()) */
	pthread_rwlock_t spawn_lock;

	pthread_mutex_t fail_lock;
	long failed_stage; /* the first stage that failed, -1 */
	int64_t failed_at;

	struct bb_runmounts *rmx; /* secrets, SSH agents, cache namespace (mounts.h) */
	struct bb_rcache *rc;	  /* --cache-from / --cache-to (remote-cache.h) */

	/* blobs of the image's layers written on threads (bb_layer_job_start()) */
	pthread_mutex_t jobs_lock;
	pthread_cond_t jobs_cv; /* a job is done */
	struct bb_layer_job *jobs;
};

/** Whether a RUN for platform p executes on this machine (same OS and
 *  architecture; kiln does not emulate). */
int bb_runs_here(const struct bb *b, const struct kiln_df_platform *p);
/** Whether a machine of platform `host` runs p's programs (same OS and architecture). */
int bb_platform_runs_on(const struct kiln_df_platform *host, const struct kiln_df_platform *p);

/* ---- events (events.c) ---------------------------------------------------- */

struct bb_vertex {
	int id;
	char *name;
	int64_t start;
};

int64_t bb_mono_ns(void);
/** Nanoseconds since the build started. */
int64_t bb_now(const struct bb *b);
/** Start a vertex (a progress line); 0 or -KILN_ENOMEM. */
int bb_vertex_start(struct bb *b, struct bb_vertex *v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void bb_vertex_cached(struct bb *b, struct bb_vertex *v);
void bb_vertex_done(struct bb *b, struct bb_vertex *v);
void bb_vertex_error(struct bb *b, struct bb_vertex *v, const char *msg, const char *tail,
		     size_t tail_len);
/** Why a vertex missed the cache: lines, and a few words for one line. */
void bb_vertex_miss(struct bb *b, struct bb_vertex *v, const char *message, const char *summary);
void bb_vertex_release(struct bb_vertex *v);
/** End a vertex by the outcome r: an error (err's message, else `fallback`)
 *  or done; release it. Returns r. */
int bb_vertex_end(struct bb *b, struct bb_vertex *v, int r, const struct kiln_error *err,
		  const char *fallback);
void bb_log(struct bb *b, const struct bb_vertex *v, const char *data, size_t len, int stream);
void bb_status(struct bb *b, const struct bb_vertex *v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void bb_warn(struct bb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- rewrite-timestamp at export (export-rewrite.c) ---------------------------- */

/* A pass over a layer's tar, reading one blob and writing another (layer.h). */
typedef int (*bb_layer_pass_fn)(int in_fd, int out_fd, const struct kiln_layer_read_opts *ropts,
				const struct kiln_layer_write_opts *wopts,
				struct kiln_layer_digests *ret_in, struct kiln_layer_digests *ret_out,
				struct kiln_error *err);
/**
 * The stored blob of `l` written again by `pass` (kiln_layer_recompress,
 * kiln_layer_rewrite) with `wo` into a new blob of the store (export.c):
 * its digest and size, and what `pass` wrote.
 */
int bb_layer_pass_blob(struct bb *b, const struct bb_layer *l, bb_layer_pass_fn pass,
		       const struct kiln_layer_write_opts *wo, struct kiln_digest *ret_digest,
		       int64_t *ret_size, struct kiln_layer_digests *ret_out, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** The build's layer write options with rewrite-timestamp's clamp to the epoch added. */
void bb_rewrite_wopts(const struct bb *b, struct kiln_layer_write_opts *ret);
/** Whether the export rewrites the times of the build's layers (rewrite-timestamp=true with an epoch). */
int bb_rewrite_active(const struct bb *b);
/**
 * `l` written again with every time later than the epoch set to it, as
 * the build compresses layers: a new blob in the store, or the one an
 * earlier build made (remembered in the store's cache). *ret is the caller's
 * to release.
 */
int bb_rewrite_times(struct bb *b, const struct bb_layer *l, struct bb_layer *ret,
		     struct kiln_error *err) __attribute__((warn_unused_result));

/* ---- the store under its lock ------------------------------------------------ */

void bb_store_lock(struct bb *b);
void bb_store_unlock(struct bb *b);

/* ---- cache records and the hash cache (cache.c) --------------------------- */

int bb_cache_init(struct bb *b, struct kiln_error *err);
/**
 * 1 with *ret when a record for `key` exists and its blob is in the store
 * (or, for a lazy layer, its snapshot is unpacked), 0 when not.
 */
int bb_cache_get(struct bb *b, const struct kiln_digest *key, struct bb_layer *ret,
		 struct kiln_error *err);
/**
 * Record a committed layer under `key` (its blob must be in the store);
 * `chain` is the key the next step builds on (NULL: `key` itself).
 */
int bb_cache_put(struct bb *b, const struct kiln_plan_key *key, const struct bb_layer *l,
		 const struct kiln_digest *chain, const char *created_by, struct kiln_error *err);
/**
 * The blob another record of the layer has (the same snapshot, or the same
 * diff_id for a layer kept under it), if it is in the store: 1 with
 * l->diff_id, digest, size and media type filled in (and lazy cleared), 0
 * when none.
 */
int bb_cache_blob_of(struct bb *b, struct bb_layer *l, struct kiln_error *err);
/**
 * A lazy layer got its blob (and its diff_id): every record of the layer
 * without one gets them.
 */
int bb_cache_set_blob(struct bb *b, const struct bb_layer *l, struct kiln_error *err);
/** Mark the records used by this build (one write at the end). */
int bb_cache_touch(struct bb *b, const struct kiln_digest *keys, size_t n, struct kiln_error *err);

/* What a server said of a URL's content, for a conditional download next time. */
struct bb_url_validators {
	char *etag;	     /* the ETag header's value, or NULL */
	char *last_modified; /* the Last-Modified header's value, or NULL */
};
void bb_url_validators_release(struct bb_url_validators *v);
/** What an earlier download of `url` recorded: 1 with its validators and digest, 0 if none. */
int bb_url_cache_get(struct bb *b, const char *url, struct bb_url_validators *ret,
		     struct kiln_digest *ret_digest, struct kiln_error *err);
int bb_url_cache_put(struct bb *b, const char *url, const struct bb_url_validators *v,
		     const struct kiln_digest *digest, struct kiln_error *err);
extern const struct kiln_plan_hash_cache bb_hash_cache_ops;

/* ---- images (images.c) --------------------------------------------------- */

/** Find (or pull) an image for the target platform; the result lives as long as the build. */
int bb_image_get(struct bb *b, const char *ref, const struct kiln_df_platform *platform,
		 struct bb_image **ret, struct kiln_error *err);
/** The kiln_df_hooks image_config hook. */
int bb_image_config_hook(void *userdata, const char *ref, const struct kiln_df_platform *platform,
			 struct kiln_df_image_config *ret, struct kiln_error *err);
void bb_images_free(struct bb *b);

/* ---- snapshots of chains (layers.c) --------------------------------------- */

/** The id a layer is unpacked under (its kept snapshot, else its diff_id):
 *  1 with *ret, 0 when it is not unpacked, < 0 on an error. */
int bb_layer_unpacked_id(struct kiln_snapshotter *sn, const struct bb_layer *l,
			 struct kiln_digest *ret, struct kiln_error *err);
/**
 * Unpack every layer of the chain that is not unpacked yet; `ids` (NULL, or
 * one per layer) gets the id each one is unpacked under, to mount them.
 */
int bb_chain_unpack(struct bb *b, struct kiln_snapshotter *sn, const struct bb_chain *c,
		    struct kiln_digest *ids, struct kiln_error *err);
/** Mount a chain (unpacked first): writable with a fresh upper, or read-only. */
int bb_chain_mount(struct bb *b, struct kiln_snapshotter *sn, const struct bb_chain *c,
		   int readonly, struct kiln_snapshot_mount **ret, struct kiln_error *err);
/** The same, and the id of each layer as mounted (`*ids_ret`, c->n of them, to free). */
int bb_chain_mount_ids(struct bb *b, struct kiln_snapshotter *sn, const struct bb_chain *c,
		       int readonly, struct kiln_snapshot_mount **ret, struct kiln_digest **ids_ret,
		       struct kiln_error *err);
/**
 * Unmount a writable snapshot (kiln_snapshot_unmount()) so that no process
 * keeps its overlay alive over the directory a mount will stack (layers.c).
 * Around the start of any process that gets a copy of kiln's descriptors:
 * bb_spawn_begin() and bb_spawn_end(), the latter once the process holds
 * none of them (has closed them or exec'd).
 */
int bb_unmount(struct bb *b, struct kiln_snapshot_mount *m, struct kiln_error *err)
	__attribute__((warn_unused_result));
void bb_spawn_begin(struct bb *b);
void bb_spawn_end(struct bb *b);

/* A snapshotter for the build: the first one it opens cleans the store up
 * (kiln_snapshotter_open()), the others skip that. */
int bb_snapshotter_open(struct bb *b, struct kiln_snapshotter **ret, struct kiln_error *err);

/**
 * Commit a writable mount: keep the upper directory as an unpacked layer
 * under a new random id (ret->snap) and fill `ret`, lazy, its diff_id
 * unknown. Nothing is written or hashed: bb_layer_materialize() writes the
 * blob.
 */
int bb_commit(struct bb *b, struct kiln_snapshot_mount *m, struct bb_layer *ret,
	      struct kiln_error *err);
/**
 * A lazy layer's blob: written from its snapshot (checked against its
 * diff_id when that is known) into the store, its cache records updated;
 * `l` gets the blob and the diff_id. Nothing to do for a layer that has one.
 */
int bb_layer_materialize(struct bb *b, struct bb_layer *l, struct kiln_error *err);
/** bb_layer_materialize() for every layer of a chain. */
int bb_chain_materialize(struct bb *b, struct bb_chain *c, struct kiln_error *err);
/**
 * bb_layer_materialize() of a copy of the lazy layer `l` on a thread of its
 * own, while the stage goes on: for a layer the image holds, committed
 * lazily so that its blob is written beside the next steps. Starts nothing
 * when the thread cannot start (the export writes the blob then). `line`:
 * the step's, for an error.
 */
void bb_layer_job_start(struct bb *b, const struct bb_layer *l, int line);
/** pthread_cond_wait() for at most 50 ms: a waiter that also watches the user's interrupt. */
void bb_cond_wait_a_while(pthread_cond_t *cond, pthread_mutex_t *lock);
/**
 * Wait for every job, passing the user's interrupt on to them (b->abort).
 * Fails with the first job's error. Before anything changes b->ctx: the
 * jobs read it. The jobs' blobs are in the cache records of their layers,
 * where bb_layer_materialize() finds them.
 */
int bb_layer_jobs_finish(struct bb *b, struct kiln_error *err);
/**
 * The stage's config lists its chain's diff_ids: after bb_chain_materialize()
 * of a chain whose layers a build stage kept under ids of their own.
 */
int bb_stage_diff_ids(struct bb_stage *s, struct kiln_error *err);

/* ---- the image config (config.c) ------------------------------------------ */

int bb_config_scratch(struct bb *b, struct kiln_oci_config **ret, struct kiln_error *err);
int bb_config_from_image(const struct kiln_oci_config *img, struct kiln_oci_config **ret,
			 struct kiln_error *err);
/** Apply a metadata instruction (ENV, LABEL, CMD, ...) and add its history entry. */
int bb_config_apply(struct bb *b, struct bb_stage *s, const struct kiln_df_step *step,
		    struct kiln_error *err);
/** The history text BuildKit writes for a layer step ("RUN /bin/sh -c make # buildkit"). */
int bb_created_by(const struct kiln_df_step *step, const char *const *argv, size_t argc, char **ret,
		  struct kiln_error *err);
/**
 * Add a history entry (empty_layer when `empty`) created at `when` (unix
 * seconds), or with no time yet (-1): bb_config_finish() gives those the
 * time of the next new layer, or of the layer before, as BuildKit does.
 */
int bb_config_history(struct bb *b, struct kiln_oci_config *c, const char *created_by, int empty,
		      int64_t when, struct kiln_error *err);
/** The final touches on the target's config: --label, platform. */
int bb_config_finish(struct bb *b, struct kiln_oci_config *c, struct kiln_error *err);

/* ---- steps (run.c, copy.c, fetch.c) ----------------------------------------- */

/** What a layer step runs against. */
struct bb_step_ctx {
	struct bb *b;
	struct bb_stage *s;
	const struct kiln_plan_step *ps;
	struct bb_vertex *v;
	struct kiln_snapshotter *sn;
};

/** RUN: execute into the writable mount `m` (argv/env from the step). */
int bb_run(struct bb_step_ctx *sc, struct kiln_snapshot_mount *m, const char *const *argv,
	   size_t argc, struct kiln_error *err);
/**
 * The RUN --mount descriptions that are part of the step's key (waiting for
 * the stages they read): "bind from=stage:<key> source=... target=... rw=0".
 */
int bb_run_mounts_key(struct bb_step_ctx *sc, struct kiln_strv *ret, struct kiln_error *err);
/** The argv of a RUN (shell form through the shell, heredocs as BuildKit runs them). */
int bb_run_argv(const struct kiln_df_step *step, struct kiln_strv *argv, struct kiln_strv *files,
		struct kiln_error *err);

/** COPY/ADD options resolved for the copier. */
struct bb_copy_opts {
	const char *dest; /* absolute, as the step has it (a trailing '/' means a directory) */
	int has_owner;
	uint32_t uid, gid;
	const char *chmod; /* NULL or the --chmod value */
	int unpack;	   /* ADD: extract local archives */
	int64_t mtime;	   /* >= 0: every time set to this (SOURCE_DATE_EPOCH) */
	struct bb_reuse *reuse; /* NULL, or files to link from existing layers (copy-reuse.c) */
};

/* ---- what --call answers (outline.c) --------------------------------------- */

/** --call=targets: every stage of the model, with its description. */
int bb_list_targets(struct bb *b, struct kiln_build_result *ret, struct kiln_error *err);
/** --call=outline: the build args, secrets and SSH agents the target's stages use. */
int bb_outline(struct bb *b, struct kiln_build_result *ret, struct kiln_error *err);
void bb_outline_release(struct kiln_build_outline *o);

/** Select in the build context and hash (its hash cache is shared by the stages: locked). */
int bb_context_select(struct bb *b, const struct kiln_plan_select_opts *so,
		      struct kiln_plan_selection **ret, struct kiln_error *err);
/** Copy a selection from the tree at `src_fd` into the root at `dst_fd`. */
int bb_copy(struct bb *b, int dst_fd, int src_fd, const struct kiln_plan_selection *sel,
	    const struct bb_copy_opts *o, struct kiln_error *err);
/** openat2() of `rel` ("" or NULL: `dir` itself) below `dir`, O_CLOEXEC, retried on EINTR. */
int bb_openat2(int dir, const char *rel, int flags, uint64_t resolve);
/** bb_openat2() with RESOLVE_IN_ROOT: symlinks resolved inside `root`. */
int bb_open_in_root(int root, const char *rel, int flags);
/* A path below `dir` with no symlink on the way, the last one not followed
 * either: layers are not the image's root, and nothing may lead out of them. */
int bb_open_beneath(int dir, const char *rel, int flags);
/** One regular file of a selection to `rel` (parents there) in the tree `dst_fd`, as bb_copy(). */
int bb_copy_file_into(struct bb *b, int dst_fd, int src_fd, const struct kiln_plan_item *it,
		      const char *rel, const struct bb_copy_opts *o, struct kiln_error *err);

/* A COPY layer's note, indexed by path (copy-sums.c). */
struct bb_note {
	char *buf;
	size_t len;
	uint32_t *slots; /* offsets into buf + 1 (0: empty), open addressing */
	size_t n_slots;
};
/* 1 and the note, or 0 when the layer has none that reads back */
int bb_note_load(struct kiln_snapshotter *sn, const struct kiln_digest *layer,
		 struct bb_note *no, struct kiln_error *err);
/* the noted SHA-256 (32 raw bytes) of the file at `path`, or NULL */
const uint8_t *bb_note_sum(const struct bb_note *no, const char *path);
void bb_note_release(struct bb_note *no);
/* Whether `st`, of a file in one of a source's layers, is the very file a
 * selection listed as `it` through the overlay (inode number, change time). */
int bb_listed_file(const struct stat *st, const struct kiln_plan_item *it);
/*
 * The layers of a COPY --from source, top first, for finding the layer
 * that holds what the source shows at a path (copy-sums.c): the topmost one
 * with an entry there. The path's directory is kept open in each layer for
 * its siblings; a walk is used by one thread at a time.
 */
struct bb_layer_walk {
	size_t n;
	int *fds;     /* the layers' directories */
	int *dir_fds; /* the current directory in each (-1: not a directory there) */
	char *dir;
};
/* the top `top` of the `n` layers `ids` (bottom first) */
int bb_layer_walk_open(struct bb_layer_walk *w, struct kiln_snapshotter *sn,
		       const struct kiln_digest *ids, size_t n, size_t top, struct kiln_error *err);
/* the topmost layer with an entry at `path`, its lstat and its name in
 * w->dir_fds[layer]; -1 if none (or on an error) */
int bb_layer_walk_find(struct bb_layer_walk *w, const char *path, struct stat *st,
		       const char **name);
/* `path`'s directory in layer 0, the top (w->dir_fds[0]), and its name there;
 * -1 if it is no directory there (or on an error) */
int bb_layer_walk_top(struct bb_layer_walk *w, const char *path, const char **name);
void bb_layer_walk_close(struct bb_layer_walk *w);
/*
 * COPY --from: the digests of selected files that the source shows from a
 * COPY layer, taken from its note (the item marked hashed) instead of read
 * again. `ids[0..n)` are the source's layers, bottom first. The count taken.
 */
size_t bb_known_sums(struct kiln_snapshotter *sn, const struct kiln_digest *ids, size_t n,
		     struct kiln_plan_selection *sel);

/*
 * COPY's files from the step's last layer (copy-reuse.c). bb_reuse_open()
 * finds the layer named for the step's `shape`, unless `take` is 0 (none:
 * everything is written, and the note of this run is still made). bb_copy() records each
 * regular file it writes and offers the ones it may leave out; after the
 * copy, with the overlay unmounted, bb_reuse_apply() links them into the
 * upper directory; after the commit, bb_reuse_keep() notes the new layer
 * and names it for the next run.
 */
struct bb_reuse;
int bb_reuse_open(struct bb *b, struct kiln_snapshotter *sn, const char *shape, int take,
		  struct bb_reuse **ret, struct kiln_error *err);
void bb_reuse_free(struct bb_reuse *ru);
KILN_DEFINE_CLEANUP(struct bb_reuse, bb_reuse_free)
/* bb_copy(): the only match goes to `target`; its times are fixed_mtime's when >= 0 */
int bb_reuse_match(struct bb_reuse *ru, const char *target, int64_t fixed_mtime,
		   struct kiln_error *err);
/* `alone`: not one of a group of hard links within the selection */
int bb_reuse_record(struct bb_reuse *ru, const struct kiln_plan_item *it, const char *rel,
		    int alone, struct kiln_error *err);
/* a file alone: 1 if it is left out for bb_reuse_apply(), 0 if it is to be copied */
int bb_reuse_offer(struct bb_reuse *ru, const struct kiln_plan_item *it,
		   const struct kiln_plan_item *dir, const char *rel, mode_t mode, uid_t uid,
		   gid_t gid, const struct timespec *mtime, struct kiln_error *err);
/*
 * COPY --from: the unpacked layers of the source, `ids[0..n)` bottom first as
 * mounted. A file is then also taken, as a link, from the layer that holds the
 * very inode the source shows, when the copy would make it alike (mode,
 * owner, times, no xattrs) and the image would show that inode nowhere else:
 * not from a layer the target stands on too (`target_ids[0..nt)`), not a file
 * with another link already, not twice in one step. `top_read`: the
 * selection was walked in the top layer alone, so each item's lstat is that
 * layer's file's, and is not taken again. On an error no file comes from
 * them.
 */
int bb_reuse_sources(struct bb_reuse *ru, struct kiln_snapshotter *sn,
		     const struct kiln_digest *ids, size_t n, const struct kiln_digest *target_ids,
		     size_t nt, int top_read, struct kiln_error *err);
int bb_reuse_pending(const struct bb_reuse *ru);
int bb_reuse_apply(struct bb *b, struct bb_reuse *ru, const char *upper, int src_fd,
		   const struct bb_copy_opts *o, struct kiln_error *err);
void bb_reuse_keep(struct bb *b, struct kiln_snapshotter *sn, struct bb_reuse *ru,
		   const struct kiln_digest *layer);

/** mkdir -p of an absolute path inside a root, new directories `mode` owned by uid:gid. */
int bb_mkdir_all(int root_fd, const char *path, mode_t mode, int has_owner, uint32_t uid,
		 uint32_t gid, int64_t mtime, struct kiln_error *err);
/**
 * --chown / WORKDIR owner: "user[:group]" resolved as BuildKit does, by
 * name in the root's /etc/passwd and /etc/group (a missing name is 0, with
 * a warning), a number as itself (a lone uid is also the gid).
 */
int bb_resolve_owner(struct bb *b, int root_fd, const char *spec, uint32_t *uid, uint32_t *gid,
		     struct kiln_error *err);

/** ADD <url> / ADD <git>: fetch into a fresh directory under the store's tmp/. */
int bb_fetch_url(struct bb *b, const struct bb_vertex *v, const char *url, const char *checksum,
		 char **ret_dir, char **ret_name, struct kiln_digest *ret_digest,
		 struct kiln_error *err);
/* `keep_git_dir`: -1 not said, 0, 1; `checksum`: NULL, or a hex prefix of the
 * commit (or annotated tag) the ref names. The URL may say both too (git-url.h). */
int bb_fetch_git(struct bb *b, const struct bb_vertex *v, const char *url, int keep_git_dir,
		 const char *checksum, char **ret_dir, struct kiln_error *err);
/* The same for another user than ADD (`as` starts their messages: "context web"). */
int bb_fetch_url_as(struct bb *b, const struct bb_vertex *v, const char *as, const char *url,
		    const char *checksum, char **ret_dir, char **ret_name,
		    struct kiln_digest *ret_digest, struct kiln_error *err);
int bb_fetch_git_as(struct bb *b, const struct bb_vertex *v, const char *as, const char *url,
		    int keep_git_dir, const char *checksum, char **ret_dir,
		    struct kiln_error *err);
/**
 * ADD <url> with what an earlier download recorded (`known`, or NULL): 1
 * when the server says the content is unchanged (304), nothing fetched;
 * 0 when downloaded as bb_fetch_url() does, *ret_seen then what the
 * server said of it.
 */
int bb_fetch_url_cond(struct bb *b, const struct bb_vertex *v, const char *url,
		      const struct bb_url_validators *known, char **ret_dir, char **ret_name,
		      struct kiln_digest *ret_digest, struct bb_url_validators *ret_seen,
		      struct kiln_error *err);
int bb_is_url(const char *s);
/** An ADD --checksum for a URL, parsed: a sha256 digest, or an error saying why not. */
int bb_url_checksum(const char *checksum, struct kiln_digest *ret, struct kiln_error *err);
int bb_is_git(const char *s);
/** A fresh directory under <store>/tmp/, heap path. */
int bb_tmpdir(struct bb *b, const char *what, char **ret, struct kiln_error *err);

/* ---- stage execution (stage.c) and outputs (export.c) ---------------------- */

void *bb_stage_main(void *arg);
struct bb_stage_arg {
	struct bb *b;
	struct bb_stage *s;
};
int bb_wait_stage(struct bb *b, struct bb_stage *self, size_t other, struct kiln_error *err);
void bb_fail(struct bb *b, struct bb_stage *s);

/* ---- several platforms (platforms.c) ------------------------------------ */

/** One build, the whole of kiln_build() for one platform; `multi` NULL, or
 *  the build of several platforms this one is part of. */
int bb_build_one(struct kiln_store *st, const struct kiln_ctx *ctx,
		 const struct kiln_build_opts *o, struct bb_multi *multi,
		 struct kiln_build_result *ret, struct kiln_error *err);
/** kiln_build() with several platforms; `force_index`: an image index even
 *  for one (BUILDKIT_MULTI_PLATFORM=1). */
int bb_build_platforms(struct kiln_store *st, const struct kiln_ctx *ctx,
		       const struct kiln_build_opts *o, int force_index,
		       struct kiln_build_result *ret, struct kiln_error *err);
/** Vertex numbering shared by the platforms' builds, and the platform that
 *  goes in front of a vertex name ("[linux/arm64 build 2/3]"); NULL alone. */
int *bb_multi_vertex_counter(struct bb_multi *m);
int64_t bb_multi_t0(const struct bb_multi *m);
const char *bb_multi_platform(const struct bb_multi *m);
/** The end of one platform's build (bb_export calls it once the image is in
 *  the store): its image and its root filesystem's layers kept; after the
 *  last platform, the index and every output. */
int bb_multi_export(struct bb *b, struct bb_stage *target, const struct kiln_digest *manifest,
		    int64_t manifest_size, int docker_types, const struct kiln_digest *config,
		    struct kiln_build_result *res, struct kiln_error *err);
/** A step's name as progress shows it: "[linux/arm64 build 2/3] ..." in a
 *  build of several platforms, else `name`. Heap string, NULL without memory. */
char *bb_step_name(const struct bb *b, const char *name);

/* export.c, for the index */
/** Push the image (`index` NULL: res->manifest) or the index to `name`;
 *  "name@digest" goes into res->pushed. */
int bb_push(struct bb *b, const char *name, const struct kiln_digest *index,
	    struct kiln_build_result *res, struct kiln_error *err);
int bb_put_blob(struct bb *b, const char *data, size_t len, struct kiln_digest *ret,
		struct kiln_error *err);
/** The canonical names an output gives the image: its name=, else the tags
 *  (-t); `out` NULL: the tags. Each once. */
int bb_output_names(struct bb *b, const struct kiln_build_output *out, struct kiln_strv *ret,
		    struct kiln_error *err);
/** The names the image gets in the store: every image output's (the tags
 *  when there is no output); *name_it 0 when no output names it there. */
int bb_store_names(struct bb *b, struct kiln_strv *ret, int *name_it, struct kiln_error *err);
/** An archive's items: the manifest once per name (once unnamed without). */
int bb_save_items(const struct kiln_digest *manifest, const struct kiln_strv *names,
		  const struct kiln_oci_map *annotations, struct kiln_store_save_item **ret,
		  size_t *n, struct kiln_error *err);
/** A file output (`dest`, "-" the output fd) that `fill` writes into `fd`;
 *  through a temporary file renamed into place, which a failure removes. */
typedef int (*bb_output_fill_fn)(struct bb *b, int fd, void *arg, struct kiln_error *err);
int bb_write_output(struct bb *b, const char *dest, bb_output_fill_fn fill, void *arg,
		    struct kiln_error *err);
/** bb_write_output() of the store's images as an archive, or of the root
 *  filesystem at `rootfs_fd` (>= 0) as a tar. */
int bb_write_file_output(struct bb *b, const char *dest, enum kiln_archive_format fmt,
			 const struct kiln_store_save_item *items, size_t n, int rootfs_fd,
			 struct kiln_error *err);
/** How a root filesystem is written as a tar output: plain, its times
 *  clamped to SOURCE_DATE_EPOCH when there is one. */
void bb_rootfs_tar_opts(const struct bb *b, struct kiln_layer_write_opts *wo);
/** A local or tar output of the image's root filesystem; `subdir`: under
 *  that directory of `out` (NULL: all of it); `tw`: added to that tar
 *  writer instead, under `subdir`. */
int bb_export_rootfs(struct bb *b, const struct bb_chain *chain,
		     const struct kiln_build_output *out, const char *subdir,
		     struct kiln_layer_writer *tw, struct kiln_error *err);

int bb_export(struct bb *b, struct bb_stage *target, struct kiln_build_result *res,
	      struct kiln_error *err);
