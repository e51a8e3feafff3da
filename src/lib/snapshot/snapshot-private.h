/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <pthread.h>

#include "snapshot/snapshot.h"

/* a boot id: 36 characters and the NUL, with room to spare */
#define SNAP_BOOT_ID_SIZE 48

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
	/* <dir>/unsynced (unsynced.c), -1 when it cannot be opened */
	int unsynced_fd;
	char boot_id[SNAP_BOOT_ID_SIZE]; /* "" when /proc does not tell */
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
	struct kiln_snapshot_mount *rp_next; /* queued for the reaper */
};

/**
 * The name in layers/ of layer `d`: its hex, or the hex its alias names.
 * 1 with `name` set, 0 when it is not unpacked (or its alias names a
 * pruned layer).
 */
int snap_layer_name(struct kiln_snapshotter *s, const struct kiln_digest *d, char name[65],
		    struct kiln_error *err);
/**
 * Give directory `from` (relative to `from_dirfd`) the name `hex` in layers/.
 * 1 renamed; 0 when a layer has that name already (the same content: it
 * stays); -errno. An alias of a layer that is gone does not count: it is
 * replaced.
 */
int snap_layer_rename(struct kiln_snapshotter *s, int from_dirfd, const char *from,
		      const char *hex);
/** Remove `hex` in layers/ when it is an alias of no layer: 1 removed, 0 not, -1 error. */
int snap_drop_dangling(struct kiln_snapshotter *s, const char *hex);
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

/**
 * Remove layer `name` (a directory in layers/) with its note and mark, as a
 * prune does: 1 removed, 0 when it is not there, 2 when a mount holds it.
 */
int snap_layer_remove(struct kiln_snapshotter *s, const char *name, struct kiln_error *err);

/*
 * Layers named before their data is on the disk (unsynced.c).
 * open: read the boot id, open `dir` (<dir>/unsynced); with `sweep`, remove
 * the layers other boots marked, sync and unmark this boot's old marks.
 * Best effort.
 * mark: before directory `dfd` is renamed to `name` in layers/; when no mark
 * can be made, syncfs(dfd) instead. trusted: 0 when `name` carries another
 * boot's mark (the layer is then removed), 1 otherwise; _in: the same check,
 * removing nothing, without a snapshotter.
 */
int snap_boot_id(char out[SNAP_BOOT_ID_SIZE]);
void snap_unsynced_open(struct kiln_snapshotter *s, const char *dir, int sweep);
int snap_unsynced_mark(struct kiln_snapshotter *s, const char *name, int dfd,
		       struct kiln_error *err);
int snap_unsynced_trusted(struct kiln_snapshotter *s, const char *name);
int snap_unsynced_trusted_in(const char *store_root, const char *name);
