/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"
#include "base/strv.h"
#include "store/oci.h"

/**
 * Images in and out of the store as files: docker-archive and oci-archive
 * tars (`kiln save` / `kiln load`), OCI image layouts (directories; also the
 * target of `--output type=oci`) and rootfs imports (`kiln import`).
 *
 * Everything read is hostile: tar member names, sizes, JSON and digests are
 * checked, every blob is verified before the store makes it visible, and
 * names are recorded only after all blobs of an image are in. A bad archive
 * fails with an error naming the member and leaves no image record behind
 * (blobs already verified stay until prune).
 */
struct kiln_store;

/* Limits for archives from outside. */
#define KILN_ARCHIVE_MEMBER_NAME_MAX 4096 /* bytes of a tar member name */
#define KILN_ARCHIVE_JSON_MAX ((size_t)16 << 20) /* manifest.json, index.json, repositories */
#define KILN_ARCHIVE_IMAGES_MAX 4096             /* images in one archive or layout */

enum kiln_archive_format {
	KILN_ARCHIVE_AUTO = 0,   /* load: detect */
	KILN_ARCHIVE_DOCKER = 1, /* docker-archive: manifest.json + config + layer tars */
	KILN_ARCHIVE_OCI = 2,    /* oci-archive: an OCI image layout in a tar */
};

/** One image to write, with the name it is saved under (may be NULL). */
struct kiln_store_save_item {
	struct kiln_digest manifest;
	const char *name; /* canonical "domain/path:tag", or NULL for none */
	/* NULL, or more annotations for the image's entry in an OCI layout's
	 * index.json (the name annotations win) */
	const struct kiln_oci_map *annotations;
};

/**
 * Write the images as a tar to `fd` (streamed, no temp files):
 *  - docker-archive as podman and skopeo write it (and docker load and
 *    podman load read): manifest.json with fully qualified RepoTags,
 *    repositories, <config-hex>.json, each layer uncompressed as
 *    <diff_id-hex>.tar, and the legacy <id>/{VERSION,json,layer.tar};
 *  - oci-archive: oci-layout, index.json (ref names in annotations
 *    io.containerd.image.name and org.opencontainers.image.ref.name) and
 *    blobs/sha256/ as stored.
 * Several items may name one image (it is written once, with every name).
 */
int kiln_store_save(struct kiln_store *st, const struct kiln_store_save_item *items, size_t n,
		    enum kiln_archive_format format, int fd, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** What a load or layout read brought into the store. */
struct kiln_store_loaded {
	struct kiln_digest manifest;
	struct kiln_digest config;
	struct kiln_strv names; /* canonical names given to it */
};
struct kiln_store_load_result {
	struct kiln_store_loaded *items;
	size_t len;
	enum kiln_archive_format format; /* what the input was */
};
void kiln_store_load_result_release(struct kiln_store_load_result *r);

/**
 * Load a docker-archive (docker, podman, skopeo; layers plain, gzip or zstd;
 * legacy or OCI-layout-style paths) or an oci-archive, either possibly
 * compressed as a whole, from `path` ("-" = stdin; one pass, so a pipe
 * works). `format` KILN_ARCHIVE_AUTO decides from the content. Names come
 * from manifest.json RepoTags or the io.containerd.image.name /
 * org.opencontainers.image.ref.name annotations (a bare tag names nothing).
 * Docker-archive layers are stored as they are in the archive (uncompressed
 * stays uncompressed) under a manifest kiln writes: docker schema 2 media
 * types, OCI ones when a layer is zstd. All images are recorded in one
 * transaction after every blob and diff_id checked out.
 */
int kiln_store_load(struct kiln_store *st, const char *path, enum kiln_archive_format format,
		    struct kiln_store_load_result *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Write the images into the OCI image layout at `dir` (created if missing;
 * an existing layout is added to, its index.json replaced atomically, an
 * entry with the same ref name replaced).
 */
int kiln_store_layout_write(struct kiln_store *st, const char *dir,
			    const struct kiln_store_save_item *items, size_t n,
			    struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Load the images of the OCI image layout at `dir` into the store. An index
 * entry that is itself an index is followed to the manifest for `platform`
 * (NULL = the host's).
 */
int kiln_store_layout_load(struct kiln_store *st, const char *dir,
			   const struct kiln_oci_platform *platform,
			   struct kiln_store_load_result *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

struct kiln_store_import_opts {
	const char *name;    /* canonical name to tag, or NULL */
	int64_t created;     /* config/history time; -1 = now */
	const char *comment; /* history comment; NULL = "Imported from <source>" */
	const struct kiln_oci_platform *platform; /* NULL = the host's */
	const struct kiln_oci_runconfig *config;  /* NULL = empty */
};

/**
 * Make a one-layer image from a root filesystem, like `docker import`:
 * `source` is a directory or a tar file (plain, gzip or zstd). The layer is
 * stored gzip-compressed; the config gets the platform, created time and a
 * history entry. *ret_manifest receives the new image.
 */
int kiln_store_import(struct kiln_store *st, const char *source,
		      const struct kiln_store_import_opts *opts, struct kiln_digest *ret_manifest,
		      struct kiln_error *err) __attribute__((warn_unused_result));
