/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Image records and names of the store (see store/store.h for the store itself). */
#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"
#include "base/digest.h"
#include "base/error.h"
#include "base/strv.h"
#include "store/oci.h"

struct kiln_store;

/**
 * An image: a single-platform manifest whose config and layers are all in
 * the store. Identified by its manifest digest; its image id (as docker
 * and podman show it) is the config digest.
 */
struct kiln_store_image {
	struct kiln_digest manifest;
	char *media_type; /* of the manifest */
	struct kiln_digest config;
	int64_t size;    /* bytes of config + layer blobs */
	char *created;   /* from the config, RFC 3339; NULL when absent */
	int64_t created_unix;
	struct kiln_oci_platform platform;
	int64_t added_unix;       /* when the store recorded it */
	struct kiln_strv names;   /* "docker.io/library/busybox:latest", sorted */
	struct kiln_strv digests; /* "docker.io/library/busybox@sha256:...", sorted */
};
void kiln_store_image_free(struct kiln_store_image *img);
KILN_DEFINE_CLEANUP(struct kiln_store_image, kiln_store_image_free)

struct kiln_store_image_list {
	struct kiln_store_image **items;
	size_t len;
};
void kiln_store_image_list_release(struct kiln_store_image_list *l);

/**
 * Record the image whose manifest blob `manifest` is in the store. Parses
 * the manifest (it must be a single-platform manifest, not an index) and the
 * config, checks that the config and every layer blob are present, and in
 * one transaction inserts the record (idempotent) and points each of
 * `names` (canonical "domain/path:tag" references, may be NULL/0) at it,
 * moving a name away from another image if needed.
 */
int kiln_store_image_add(struct kiln_store *st, const struct kiln_digest *manifest,
			 const char *const *names, size_t n_names, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Remember that `repo` ("docker.io/library/busybox") knows the image as
 * `digest` (the digest it was pulled by: the manifest's own, or an index
 * that points at it). Shown as RepoDigests; resolvable as repo@digest.
 */
int kiln_store_repo_digest_add(struct kiln_store *st, const char *repo,
			       const struct kiln_digest *digest,
			       const struct kiln_digest *manifest, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** Point canonical `name` ("domain/path:tag") at an image. */
int kiln_store_tag(struct kiln_store *st, const struct kiln_digest *manifest, const char *name,
		   struct kiln_error *err) __attribute__((warn_unused_result));
/** Remove a name; -KILN_ENOTFOUND when absent. */
int kiln_store_untag(struct kiln_store *st, const char *name, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** The manifest a canonical name points at; -KILN_ENOTFOUND when absent. */
int kiln_store_name_get(struct kiln_store *st, const char *name, struct kiln_digest *ret_manifest,
			struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Resolve what a user typed to an image: a reference ("busybox",
 * "host:5000/x:1", "repo@sha256:..."; normalized as docker does), a full
 * "sha256:<hex>" manifest or config digest, or an image-id prefix (at least
 * 3 hex digits; ambiguous prefixes fail with -KILN_EINVAL). A name wins over
 * an id prefix, as in docker. -KILN_ENOTFOUND when nothing matches.
 */
int kiln_store_resolve(struct kiln_store *st, const char *spec, struct kiln_digest *ret_manifest,
		       struct kiln_error *err) __attribute__((warn_unused_result));

int kiln_store_image_get(struct kiln_store *st, const struct kiln_digest *manifest,
			 struct kiln_store_image **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Every image, newest first (then by manifest digest). */
int kiln_store_image_list(struct kiln_store *st, struct kiln_store_image_list *ret,
			  struct kiln_error *err) __attribute__((warn_unused_result));
/** Read and parse an image's manifest / config (verified). */
int kiln_store_manifest_read(struct kiln_store *st, const struct kiln_digest *manifest,
			     struct kiln_oci_manifest **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
int kiln_store_config_read(struct kiln_store *st, const struct kiln_digest *config,
			   struct kiln_oci_config **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Delete an image record and its names (blobs stay until prune). Returns
 * -KILN_ENOTFOUND when there is no such image.
 */
int kiln_store_image_remove(struct kiln_store *st, const struct kiln_digest *manifest,
			    struct kiln_error *err) __attribute__((warn_unused_result));

enum kiln_store_rmi_flags {
	/** Remove an image named in several repositories when given by id. */
	KILN_STORE_RMI_FORCE = 1 << 0,
};

struct kiln_store_rmi_result {
	struct kiln_strv untagged; /* canonical names removed */
	int deleted;               /* the image record went too */
	struct kiln_digest manifest;
	struct kiln_digest config;
};
void kiln_store_rmi_result_release(struct kiln_store_rmi_result *r);

/**
 * `kiln rmi` with docker's rules, in one transaction: a name ("busybox")
 * removes that name, and the image when it was its last one; an id or
 * digest removes every name and the image, but refuses (-KILN_EBUSY) an
 * image named in more than one repository unless KILN_STORE_RMI_FORCE.
 * Blobs are left for prune.
 */
int kiln_store_rmi(struct kiln_store *st, const char *spec, unsigned flags,
		   struct kiln_store_rmi_result *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * A docker-inspect-like JSON object for an image (4-space indented): Id,
 * RepoTags, RepoDigests, Created, Author, Config (the config's `config`
 * as stored), Architecture, Variant, Os, Size, RootFS, History, plus the
 * manifest (Digest, MediaType, Manifest).
 */
int kiln_store_inspect(struct kiln_store *st, const struct kiln_digest *manifest, char **ret,
		       size_t *ret_len, struct kiln_error *err) __attribute__((warn_unused_result));
