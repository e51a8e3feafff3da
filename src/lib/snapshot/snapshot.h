/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "layer/layer.h"

/**
 * snapshot: layers unpacked once, and root filesystems mounted as overlays
 * of them. See docs/internals/snapshot.md.
 *
 * Under the store root:
 *
 *     snapshots/layers/<diff_id hex>/   an unpacked layer (overlay whiteouts)
 *     snapshots/layers/tmp-<id>[.lock]  an unpack in progress
 *     snapshots/active/<id>/            a writable mount: upper/, work/, root/
 *     snapshots/empty/                  the lower of an empty chain (FROM scratch)
 *     snapshots/notes/<diff_id hex>     a note on an unpacked layer (notes.c)
 *     snapshots/notes/<name>            a name for a layer: a symlink to its hex
 *     snapshots/unsynced/<layer hex>    a layer named before its data was synced:
 *                                       a symlink to the boot id (unsynced.c)
 *
 * A layer is applied into a temporary directory and renamed into place, so
 * a crash never leaves half a layer and concurrent unpacks of one layer all
 * succeed. Nothing waits for the disk: a layer named in a boot that ended
 * before a sync reached it is removed, not trusted (kiln_snapshot_settle()).
 * A mount is a detached overlayfs mount (new mount API, `lowerdir+` per
 * layer, so hundreds of lowers fit): it has no path, no other process sees
 * it, and it disappears when released or when kiln dies. What a crashed
 * process leaves (temporary unpacks, upper directories) is removed by the
 * next kiln_snapshotter_open(). Needs root.
 *
 * A struct kiln_snapshotter and its mounts are used by one thread at a time;
 * any number of processes may share the directory.
 */

/** overlayfs stacks at most this many lower layers. */
#define KILN_SNAPSHOT_MAX_LAYERS 500

struct kiln_snapshotter;
struct kiln_snapshot_mount;
struct kiln_store;

/**
 * Open (creating) `<store_root>/snapshots` and clean up what dead processes
 * left there. `ctx` may be NULL (it is kept for debug logs).
 */
int kiln_snapshotter_open(const struct kiln_ctx *ctx, const char *store_root,
			  struct kiln_snapshotter **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/* Leave the clean-up to another snapshotter of this process that did it: it
 * reads every name in layers/, thousands in a store that has built a lot. */
#define KILN_SNAPSHOTTER_NO_SWEEP 1u

/** kiln_snapshotter_open() with flags (KILN_SNAPSHOTTER_NO_SWEEP). */
int kiln_snapshotter_open_flags(const struct kiln_ctx *ctx, const char *store_root, unsigned flags,
				struct kiln_snapshotter **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
void kiln_snapshotter_free(struct kiln_snapshotter *s);
KILN_DEFINE_CLEANUP(struct kiln_snapshotter, kiln_snapshotter_free)

/** The directory of an unpacked layer (it may not exist): a fresh heap string, NULL on ENOMEM. */
char *kiln_snapshot_layer_path(const struct kiln_snapshotter *s, const struct kiln_digest *diff_id)
	__attribute__((warn_unused_result));

/** 1 if the layer is unpacked, 0 if not, < 0 on error. */
int kiln_snapshot_has(struct kiln_snapshotter *s, const struct kiln_digest *diff_id,
		      struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * The same for the store at `store_root`, without opening (and cleaning up)
 * a snapshotter: for a quick look from code that holds no snapshotter.
 */
int kiln_snapshot_has_in(const char *store_root, const struct kiln_digest *diff_id,
			 struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Unpack the layer blob read from `fd` (any compression the layer module
 * reads) as `diff_id`, unless it already is. The uncompressed stream must
 * hash to `diff_id` and, when `digest` is non-NULL, the blob to `digest`
 * (-KILN_EDIGEST otherwise, and nothing is kept). Safe against concurrent
 * unpacks of the same layer, in this or other processes.
 */
int kiln_snapshot_unpack(struct kiln_snapshotter *s, const struct kiln_digest *diff_id, int fd,
			 const struct kiln_digest *digest, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Unpack every layer of an image in the store (those not unpacked yet) and
 * return its chain of diff_ids, bottom layer first (kiln_malloc'd).
 */
int kiln_snapshot_unpack_image(struct kiln_snapshotter *s, struct kiln_store *st,
			       const struct kiln_digest *manifest, struct kiln_digest **ret_chain,
			       size_t *ret_n, struct kiln_error *err)
	__attribute__((warn_unused_result));

enum kiln_snapshot_mount_flags {
	/** A read-only view (COPY --from, inspection): no upper directory. */
	KILN_SNAPSHOT_RDONLY = 1 << 0,
};

/**
 * Mount the layers `chain[0..n)` (bottom first, as rootfs.diff_ids lists
 * them; all unpacked) as one root filesystem. Writable mounts get a fresh,
 * empty upper directory. n == 0 is an empty root (FROM scratch). The layers
 * are locked against kiln_snapshot_prune() while mounted. -KILN_ENOTFOUND
 * when a layer is not unpacked, -KILN_ELIMIT past KILN_SNAPSHOT_MAX_LAYERS.
 */
int kiln_snapshot_mount(struct kiln_snapshotter *s, const struct kiln_digest *chain, size_t n,
			unsigned flags, struct kiln_snapshot_mount **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * The mounted root filesystem: a directory fd of the detached mount, for
 * openat2(RESOLVE_IN_ROOT), for kiln_exec_spec.rootfs_fd, or as the path
 * "/proc/self/fd/<fd>". Owned by the mount; -1 after a commit.
 */
int kiln_snapshot_mount_fd(const struct kiln_snapshot_mount *m);

/** The upper directory (what was written), NULL for a read-only mount. */
const char *kiln_snapshot_mount_upper(const struct kiln_snapshot_mount *m);

/**
 * Write what changed as a layer to `out_fd`: the mount is unmounted first
 * (its fd closed; nothing else may still hold the mount), directories
 * overlayfs only copied up without changing them (to make a mount point,
 * say) are dropped, and the upper directory is written with overlay
 * whiteouts turned into OCI whiteouts. After this only
 * kiln_snapshot_mount_upper() and kiln_snapshot_mount_release() are left.
 * `opts` may be NULL (uncompressed). With `out_fd` -1 nothing is written
 * and `ret` is left alone: the upper directory is only made ready to be
 * kept under an id of the caller's. -KILN_EINVAL on a read-only mount.
 */
int kiln_snapshot_commit(struct kiln_snapshot_mount *m, int out_fd,
			 const struct kiln_layer_write_opts *opts, struct kiln_layer_digests *ret,
			 struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * After kiln_snapshot_commit(): keep the committed upper directory as the
 * unpacked layer `diff_id` (the diff_id the commit produced, or, after a
 * commit that wrote nothing, any id no layer has), so that a
 * layer a build just made is never unpacked from its blob again. The upper
 * directory holds exactly that layer in the unpacked format (overlay
 * whiteouts), with the nanoseconds and xattrs the tar leaves out. When the
 * layer is already unpacked, nothing changes. It is renamed into place,
 * marked as not synced yet, so a crash leaves it whole or absent. Afterwards only
 * kiln_snapshot_mount_release() is left. -KILN_EINVAL before a commit.
 */
int kiln_snapshot_keep(struct kiln_snapshot_mount *m, const struct kiln_digest *diff_id,
		       struct kiln_error *err) __attribute__((warn_unused_result));

#define KILN_SNAPSHOT_SETTLE_DETACH 1u

/**
 * Make the layers that this boot named without waiting for the disk (keeps,
 * unpacks) durable: syncfs the store, then drop their marks. Until then a
 * restart of the machine removes them (their steps run again, their blobs
 * are unpacked again). With KILN_SNAPSHOT_SETTLE_DETACH the sync runs in a
 * process of its own, at low priority, that outlives the caller if need
 * be: for a command about to exit. The number of marks found (0: nothing
 * to do, no process started), or < 0.
 */
int kiln_snapshot_settle(const char *store_root, unsigned flags, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Write an unpacked layer as a layer tar again, as kiln_snapshot_commit()
 * wrote it: the same options give the same diff_id (the caller checks it).
 * For a layer a build kept without writing its blob. -KILN_ENOTFOUND when
 * the layer is not unpacked.
 */
int kiln_snapshot_write_layer(struct kiln_snapshotter *s, const struct kiln_digest *diff_id,
			      int out_fd, const struct kiln_layer_write_opts *opts,
			      struct kiln_layer_digests *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Unmount a writable snapshot before its commit, so that the caller may
 * change the upper directory (kiln_snapshot_mount_upper()) directly, which
 * overlayfs forbids while it is mounted. kiln_snapshot_commit() follows.
 * Every process that wrote through the mount must be gone. The upper
 * directory's entries may move to a new directory, which
 * kiln_snapshot_mount_upper() then names, while the overlay is torn down on
 * another thread. Fails only when some of them moved and could not move
 * back.
 */
int kiln_snapshot_unmount(struct kiln_snapshot_mount *m, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Notes: what a build knows of an unpacked layer it made, kept beside it and
 * removed with it. A note is written whole and checksummed; one that does
 * not check out (a crash, a hand) reads as none. note_read gives 1 and a
 * heap buffer, or 0 when there is no valid note.
 */
int kiln_snapshot_note_write(struct kiln_snapshotter *s, const struct kiln_digest *layer,
			     const void *data, size_t len, struct kiln_error *err)
	__attribute__((warn_unused_result));
int kiln_snapshot_note_read(struct kiln_snapshotter *s, const struct kiln_digest *layer,
			    char **data, size_t *len, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Names for unpacked layers ([a-z0-9-], not 64 hex digits), replaced
 * atomically. name_get gives 1 and the layer while that layer is unpacked,
 * 0 when the name is unset or its layer was pruned.
 */
int kiln_snapshot_name_set(struct kiln_snapshotter *s, const char *name,
			   const struct kiln_digest *layer, struct kiln_error *err)
	__attribute__((warn_unused_result));
int kiln_snapshot_name_get(struct kiln_snapshotter *s, const char *name, struct kiln_digest *ret,
			   struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Give the unpacked layer `kept` (an id a build kept it under before its
 * diff_id was known) the name `diff_id` as well, so that whatever looks it
 * up by diff_id (an image's config) finds it unpacked. The name is a
 * symlink in layers/ (an alias); nothing changes when `diff_id` is unpacked
 * or named already. A prune that keeps `diff_id` keeps `kept`.
 */
int kiln_snapshot_alias(struct kiln_snapshotter *s, const struct kiln_digest *diff_id,
			const struct kiln_digest *kept, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** A directory fd of an unpacked layer (read only: layers never change), or < 0. */
int kiln_snapshot_layer_open(struct kiln_snapshotter *s, const struct kiln_digest *layer,
			     struct kiln_error *err) __attribute__((warn_unused_result));

/** Unmount (close the mount), delete the upper directory, unlock the layers. NULL is fine. */
void kiln_snapshot_mount_release(struct kiln_snapshot_mount *m);
KILN_DEFINE_CLEANUP(struct kiln_snapshot_mount, kiln_snapshot_mount_release)

struct kiln_snapshot_prune_report {
	size_t removed;
	size_t kept;
	size_t busy; /* in use by a mount, kept */
	uint64_t bytes_freed;
};

/**
 * Remove every unpacked layer not in `keep[0..n_keep)` and not mounted by
 * any process (a mount holds a lock on each of its layers).
 */
int kiln_snapshot_prune(struct kiln_snapshotter *s, const struct kiln_digest *keep, size_t n_keep,
			struct kiln_snapshot_prune_report *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** Prune keeping the layers of every image in the store. */
int kiln_snapshot_prune_store(struct kiln_snapshotter *s, struct kiln_store *st,
			      struct kiln_snapshot_prune_report *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
