/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Helpers shared by save, load, layout and import; not for other modules. */
#include <jansson.h>
#include <stdint.h>

#include "store/store-private.h"

/* ---- a streaming tar writer (libarchive), Go archive/tar style headers ---- */
struct tarw;
int tarw_open(int fd, const struct kiln_ctx *ctx, struct tarw **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
int tarw_dir(struct tarw *t, const char *path, struct kiln_error *err)
	__attribute__((warn_unused_result));
int tarw_bytes(struct tarw *t, const char *path, const void *data, size_t len,
	       struct kiln_error *err) __attribute__((warn_unused_result));
/** A member of `size` bytes read from `fd` (from its current position). */
int tarw_fd(struct tarw *t, const char *path, int fd, int64_t size, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** A member streamed from a store blob, verified on the way. */
int tarw_blob(struct tarw *t, const char *path, struct kiln_store *st,
	      const struct kiln_digest *d, struct kiln_error *err)
	__attribute__((warn_unused_result));
int tarw_symlink(struct tarw *t, const char *path, const char *target, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Finish the archive (end marker); the fd stays open. */
int tarw_close(struct tarw *t, struct kiln_error *err) __attribute__((warn_unused_result));
void tarw_free(struct tarw *t);
KILN_DEFINE_CLEANUP(struct tarw, tarw_free)

/* ---- an image as it leaves the store ---------------------------------------- */
struct export_image {
	struct kiln_digest stored;   /* the manifest in the store */
	struct kiln_digest manifest; /* of manifest_json (differs when rewritten to OCI) */
	char *manifest_json;
	size_t manifest_len;
	char *manifest_media_type;
	struct kiln_oci_manifest *m;
	struct kiln_digest config;
	char *config_json;
	size_t config_len;
	struct kiln_oci_config *cfg;
	struct kiln_strv names; /* canonical names */
	const struct kiln_oci_map *annotations; /* the save item's, borrowed */
	/* An image index (a build of several platforms): manifest_json is the
	 * index, m and cfg are NULL, and these are its images, whose blobs go
	 * with it (only an OCI layout or archive holds one). */
	struct export_image *subs;
	size_t n_subs;
};
void export_image_release(struct export_image *x);

enum export_flags {
	/* docker schema 2 manifests are rewritten with OCI media types (as skopeo does) */
	EXPORT_OCI = 1 << 0,
};

/** Read an image's documents; its config and layers must be present. An
 *  image index is read with its images, which must be manifests (not
 *  indexes) in the store, written unchanged. */
int export_image_prepare(struct kiln_store *st, const struct kiln_digest *manifest,
			 unsigned flags, struct export_image *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Group save items by image (several names for one image are written
 * once). *ret gets an array of n_ret prepared images.
 */
int export_images_prepare(struct kiln_store *st, const struct kiln_store_save_item *items,
			  size_t n, unsigned flags, struct export_image **ret, size_t *ret_n,
			  struct kiln_error *err) __attribute__((warn_unused_result));
void export_images_free(struct export_image *x, size_t n);

/** The index.json of an OCI layout holding `imgs` (compact, as skopeo writes it). */
int export_layout_index(const struct export_image *imgs, size_t n, const char *existing_json,
			size_t existing_len, char **ret, size_t *ret_len, struct kiln_error *err)
	__attribute__((warn_unused_result));

/* ---- names ------------------------------------------------------------------ */

/** "busybox:latest" / "docker.io/library/busybox:latest" → canonical name; NULL if not one. */
char *archive_canonical_name(const char *s);
/** The tag of a canonical name ("latest"); points into `name`. */
const char *archive_name_tag(const char *name);
/** The repository of a canonical name, heap ("docker.io/library/busybox"). */
char *archive_name_repo(const char *name);

/* ---- layers read on the way in ------------------------------------------------ */

/** What kiln learned about a blob that parsed as a layer. */
struct layer_info {
	struct kiln_digest digest;
	struct kiln_digest diff_id;
	int compression; /* enum kiln_compression */
	int64_t size;
};

/**
 * Check that the blob writer's content is a layer (a tar, possibly
 * compressed): reads the temp file back. 1 and `ret` filled when it is, 0
 * when it is not (reason in `why` if non-NULL), < 0 on I/O errors.
 */
int archive_probe_layer(struct kiln_blob_writer *w, const struct kiln_ctx *ctx,
			struct layer_info *ret, char **why, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** Compute a stored blob's layer digests (diff_id etc.). */
int archive_blob_layer_info(struct kiln_store *st, const struct kiln_digest *d,
			    struct layer_info *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Record a loaded image whose blobs are all in the store: each layer's
 * diff_id (from `known`, or computed now) must match the config's.
 * Runs inside the caller's transaction.
 */
int archive_record_image(struct kiln_store *st, const struct kiln_digest *manifest,
			 const struct layer_info *known, size_t n_known, const struct kiln_strv *names,
			 struct kiln_error *err) __attribute__((warn_unused_result));

/** An image whose blobs are in the store, waiting to be recorded. */
struct pending {
	struct kiln_digest manifest;
	struct kiln_strv names;
};
void pending_free(struct pending *p, size_t n);

/**
 * Check and record every pending image in one transaction (nothing is
 * recorded if one fails), then append them to `res`. `input` names the
 * source in messages.
 */
int archive_record_pending(struct kiln_store *st, const char *input, struct pending *p, size_t n,
			   const struct layer_info *known, size_t n_known,
			   struct kiln_store_load_result *res, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** Append one loaded image to a load result. */
int load_result_add(struct kiln_store_load_result *r, const struct kiln_digest *manifest,
		    const struct kiln_digest *config, const struct kiln_strv *names,
		    struct kiln_error *err) __attribute__((warn_unused_result));

/** Pick the manifest for `want` from an index (its first match). */
int archive_index_pick(const struct kiln_oci_index *x, const struct kiln_oci_platform *want,
		       const struct kiln_oci_descriptor **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** Names for an OCI layout index entry, from its annotations. */
int archive_names_from_annotations(const struct kiln_oci_map *a, struct kiln_strv *out,
				   struct kiln_error *err) __attribute__((warn_unused_result));
