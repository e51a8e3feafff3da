/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <pthread.h>

#include "snapshot/snapshot.h"

struct kiln_snapshotter {
	const struct kiln_ctx *ctx;
	char *dir;    /* <root>/snapshots */
	char *layers; /* <dir>/layers */
	char *active; /* <dir>/active */
	char *empty;  /* <dir>/empty */
	char *notes;  /* <dir>/notes (notes.c) */
	int layers_fd;
	int active_fd;
	int notes_fd;
	/* writeback while writable mounts are open (writeback.c) */
	pthread_mutex_t wb_mu;
	pthread_cond_t wb_cv;
	pthread_t wb_thread;
	int wb_init, wb_started, wb_quit;
	unsigned wb_writers;
	/* read-only mounts released on a thread of their own (reaper.c) */
	pthread_mutex_t rp_mu;
	pthread_cond_t rp_cv, rp_idle;
	pthread_t rp_thread;
	struct kiln_snapshot_mount *rp_head;
	int rp_init, rp_started, rp_failed, rp_quit, rp_busy;
};

struct kiln_snapshot_mount {
	struct kiln_snapshotter *s;
	int fd;		/* the detached mount */
	int *layer_fds; /* each layer directory, top first, flock(LOCK_SH) held */
	size_t n_layer_fds;
	char *active_path; /* <active>/<id>, writable mounts only */
	char *upper;
	char lock_name[32];
	int lock_fd;
	int wb_held; /* counted in s->wb_writers */
	struct kiln_snapshot_mount *rp_next; /* queued for the reaper */
};

/**
 * The name in layers/ of layer `d`: its hex, or the hex its alias names.
 * 1 with `name` set, 0 when it is not unpacked (or its alias names a
 * pruned layer).
 */
int snap_layer_name(struct kiln_snapshotter *s, const struct kiln_digest *d, char name[65],
		    struct kiln_error *err);
/** Open layer `d`'s directory (its name in `name`); -KILN_ENOTFOUND when it is not unpacked. */
int snap_layer_open(struct kiln_snapshotter *s, const struct kiln_digest *d, char name[65],
		    struct kiln_error *err);

/** 16 random hex digits (and a NUL) for temporary names. */
int kiln_snapshot_random_id(char id[17], struct kiln_error *err);

/**
 * Create "<prefix><id>.lock" in `dirfd`, exclusively, and hold an flock on
 * it; `id` receives the chosen id. A cleaner that takes such a lock (its
 * owner died) deletes what the id names and then the lock file, so after
 * locking we check that the file is still ours.
 */
int kiln_snapshot_lock_new(int dirfd, const char *prefix, char id[17], int *ret_fd,
			   struct kiln_error *err);

/**
 * Writeback while writable mounts are open (writeback.c): init and fini
 * with the snapshotter; hold from a writable mount's creation until its
 * overlay is gone, drop then. Best effort: a failure only means commits
 * wait for all of their data at once.
 */
/** Remove the note of a layer that is being pruned. */
void snap_notes_forget(struct kiln_snapshotter *s, const char *layer_hex);
/** After a prune: names of pruned layers, notes of layers not there, dead writers' files. */
void snap_notes_sweep(struct kiln_snapshotter *s);

/**
 * The reaper (reaper.c): init and fini with the snapshotter (fini waits
 * for the queue). take: 1 when the reaper will release `m`
 * (snap_mount_release_now()), 0 when the caller must. drain: wait until
 * every mount handed over is released.
 */
int snap_reaper_init(struct kiln_snapshotter *s);
int snap_reaper_take(struct kiln_snapshotter *s, struct kiln_snapshot_mount *m);
void snap_reaper_drain(struct kiln_snapshotter *s);
void snap_reaper_fini(struct kiln_snapshotter *s);
/** Unmount and free `m` on this thread (mount.c). */
void snap_mount_release_now(struct kiln_snapshot_mount *m);

int snap_writeback_init(struct kiln_snapshotter *s);
void snap_writeback_hold(struct kiln_snapshotter *s);
void snap_writeback_drop(struct kiln_snapshotter *s);
void snap_writeback_fini(struct kiln_snapshotter *s);
