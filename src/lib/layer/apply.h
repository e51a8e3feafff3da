/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* State and helpers shared by apply.c and apply-fs.c; not part of the public API. */

#include <sys/types.h>

#include "layer/internal.h"

struct dir_fix {
	char *path;
	uint32_t mode;
	int64_t mtime;
	uint32_t mtime_nsec;
	dev_t dev;
	ino_t ino;
};

struct apply {
	int root;
	dev_t root_dev;
	enum kiln_layer_apply_mode mode;
	unsigned flags;
	const struct kiln_ctx *ctx;
	int privileged; /* euid 0: devices may be made */
	int do_chown;
	int64_t uid_override, gid_override;

	struct kiln_layer_reader *r;
	const struct kiln_tar_entry *e; /* the entry being applied (for messages) */

	/* KILN_APPLY_LAYER / OVERLAY: what this layer created (kept by its own whiteouts) */
	struct kiln_layer_pathset created;
	/* KILN_APPLY_OVERLAY: whiteout devices this layer made */
	struct kiln_layer_pathset whiteouts;

	struct dir_fix *dirs;
	size_t n_dirs, cap_dirs;

	/* the last parent directory resolved, reused by its siblings */
	char *pcache_path;
	int pcache_fd;

	unsigned char *buf;
	struct kiln_layer_apply_result res;
};

/* "tar entry N 'name': <msg>" for the entry being applied. */
int kiln_layer_apply_fail(struct apply *a, struct kiln_error *err, enum kiln_err code,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int kiln_layer_apply_fail_errno(struct apply *a, struct kiln_error *err, int e, const char *fmt,
				...) __attribute__((format(printf, 4, 5)));

/*
 * Clean an archive name: leading '/' stripped (as Docker does), empty and
 * "." components dropped, a ".." component takes the one before it away; a
 * ".." with nothing before it (the name leaves the root) fails with
 * -KILN_EPARSE and *ret_dotdot set, or with `clamp` stays at the root (Go's
 * Clean of "/" + name: what ADD's extraction does with it, as containerd's
 * archive.Apply). "" names the root. *ret is owned by the caller.
 */
int kiln_layer_apply_clean_name(const char *raw, int clamp, char **ret, int *ret_dotdot);

/* openat2(root, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): fd or -errno. */
int kiln_layer_apply_open_in_root(const struct apply *a, const char *path, int flags);

/*
 * An O_PATH fd of directory `dir` (relative to the root; "" = the root),
 * owned by the apply state and valid until the next call. With `create`,
 * missing directories are made (0755). Returns 1 with *ret_fd, or 0 (only
 * without `create`) when the directory does not exist.
 */
int kiln_layer_apply_parent(struct apply *a, const char *dir, int create, int *ret_fd,
			    struct kiln_error *err);
void kiln_layer_apply_parent_forget(struct apply *a);

/* rm -rf of `name` below `pfd`, never crossing a mount point. */
int kiln_layer_apply_remove_at(struct apply *a, int pfd, const char *name, const char *path,
			       struct kiln_error *err);

/* Remove every lower-layer child of directory `dfd` (children this layer created stay). */
int kiln_layer_apply_clear_lower(struct apply *a, int dfd, const char *path, int depth,
				 struct kiln_error *err);

/*
 * KILN_APPLY_OVERLAY: if `name` below `pfd` is a whiteout device this layer
 * made, remove it and return 1 (the directory made in its place must then
 * be marked opaque); 0 otherwise.
 */
int kiln_layer_apply_overlay_reclaim(struct apply *a, int pfd, const char *name, const char *path,
				     struct kiln_error *err);
int kiln_layer_apply_overlay_mark_opaque_at(struct apply *a, int pfd, const char *name,
					    const char *path, struct kiln_error *err);
