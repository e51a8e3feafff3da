/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "registry/registry.h"
#include "store/store.h"

/**
 * One repository of a registry, for content that is not an image (build
 * caches): manifests and indexes fetched and put as bytes, blobs fetched
 * into the store and pushed from it, with the transport, authentication,
 * retries and parallel transfers of kiln_registry_pull()/push(). A handle is
 * used by one thread at a time.
 */
struct kiln_registry_repo;

/**
 * Parse `ref` ("host:5000/cache:main", "cache@sha256:..."; a missing tag is
 * "latest"), connect to its registry (the /v2/ ping: scheme and
 * authentication) and return a handle. `o` (may be NULL) must outlive it.
 */
int kiln_registry_repo_open(const struct kiln_ctx *ctx, const char *ref,
			    const struct kiln_registry_opts *o, struct kiln_registry_repo **ret,
			    struct kiln_error *err) __attribute__((warn_unused_result));
void kiln_registry_repo_free(struct kiln_registry_repo *r);
KILN_DEFINE_CLEANUP(struct kiln_registry_repo, kiln_registry_repo_free)

/** "127.0.0.1:5000/cache:main" (canonical); the domain; the tag or digest the reference names. */
const char *kiln_registry_repo_name(const struct kiln_registry_repo *r);
const char *kiln_registry_repo_domain(const struct kiln_registry_repo *r);
const char *kiln_registry_repo_reference(const struct kiln_registry_repo *r);

/** "127.0.0.1:5000/cache" (domain and path, no tag): heap string, NULL on ENOMEM. */
char *kiln_registry_repo_repository(const struct kiln_registry_repo *r)
	__attribute__((warn_unused_result));

/**
 * GET the manifest or index `reference` names (a tag or a digest; NULL: the
 * reference the handle was opened with): its bytes and digest, verified
 * against a digest reference. -KILN_ENOTFOUND when the registry has none.
 */
int kiln_registry_repo_get_manifest(struct kiln_registry_repo *r, const char *reference,
				    char **ret_body, size_t *ret_len,
				    struct kiln_digest *ret_digest, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** Fetch the blobs of `d` the store lacks into it, several at a time, each verified. */
int kiln_registry_repo_fetch(struct kiln_registry_repo *r, struct kiln_store *st,
			     const struct kiln_oci_descriptor *d, size_t n, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Push the blobs of `d` from the store: those the repository has are left
 * alone, those another repository of the registry has are mounted, the
 * others uploaded.
 */
int kiln_registry_repo_push(struct kiln_registry_repo *r, struct kiln_store *st,
			    const struct kiln_oci_descriptor *d, size_t n, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Remember that the repository holds the blobs of `d` (read from its
 * manifest), so that a push of them to another repository of the registry
 * mounts them instead of uploading.
 */
int kiln_registry_repo_note_blobs(struct kiln_registry_repo *r, struct kiln_store *st,
				  const struct kiln_oci_descriptor *d, size_t n,
				  struct kiln_error *err) __attribute__((warn_unused_result));

/** PUT a manifest or index (bytes as they are) under `tag` (NULL: the handle's tag). */
int kiln_registry_repo_put_manifest(struct kiln_registry_repo *r, const char *tag,
				    const char *media_type, const char *body, size_t len,
				    struct kiln_error *err) __attribute__((warn_unused_result));
