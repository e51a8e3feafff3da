/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "snapshot/snapshot.h"

struct kiln_snapshotter {
	const struct kiln_ctx *ctx;
	char *dir;    /* <root>/snapshots */
	char *layers; /* <dir>/layers */
	char *active; /* <dir>/active */
	char *empty;  /* <dir>/empty */
	int layers_fd;
	int active_fd;
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
};

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
