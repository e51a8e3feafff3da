/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * --cache-from and --cache-to (module-private). docs/internals/remote-cache.md
 * is the design:
 *
 * - remote-cache-opts.c: the options as buildx spells them;
 * - remote-cache-import.c: every --cache-from read before the stages run
 *   (a missing or unusable cache is a warning), its records checked against
 *   their keys and indexed; a key the store's cache lacks is looked up there;
 *   a layer taken from it stays remote until a step mounts it or the image
 *   needs it (lazy blobs), and is recorded in the store's cache once fetched;
 * - remote-cache-export.c: after the image, the records of the build (the
 *   image's layers, or every step with mode=max) written as a cache to a
 *   registry or a directory, or embedded in the image's config (inline);
 * - remote-cache-mounts.c: RUN --mount=type=cache directories exported as
 *   blobs and used to seed a fresh store's.
 */
#include <pthread.h>

#include "build/build-private.h"
#include "rcache/rcache.h"

struct kiln_snapshotter;

/** One imported cache. */
struct bb_rc_src {
	char *name;	      /* for messages */
	pthread_mutex_t lock; /* the location and `st` (fetches from stage threads) */
	struct kiln_rcache_loc *loc;
	struct kiln_rcache_loaded cache;
	char *repository;      /* a registry cache: "domain/path", else NULL */
	struct kiln_store *st; /* a connection of its own for fetches, opened on first use */
};

/** A usable record of an imported cache, by key. */
struct bb_rc_entry {
	struct kiln_digest key;
	struct bb_rc_src *src;
	size_t rec; /* index in src->cache.config->records */
};

struct bb_rcache {
	struct kiln_registry_opts ro; /* the build's, without progress callbacks */
	struct bb_rc_src **srcs;
	size_t n_srcs;
	struct bb_rc_entry *index; /* sorted by key */
	size_t n_index;
};

/* ---- import (remote-cache-import.c) ---------------------------------------------------- */

/**
 * Read every --cache-from (warnings for those missing or unusable) and seed
 * the build's cache mounts from them; set up b->rc when the build reads or
 * writes remote caches. Fails only on allocation failures and interrupts.
 */
int bb_rcache_import(struct bb *b, struct kiln_error *err) __attribute__((warn_unused_result));
void bb_rcache_free(struct bb *b);

/** 1 with *ret (its `remote` set) when an imported cache has `key`, else 0. */
int bb_rcache_lookup(struct bb *b, const struct kiln_digest *key, struct bb_layer *ret,
		     struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Fetch the blobs of the chain's remote layers into the store (those not
 * unpacked already when `sn` is given) and record them in the store's
 * cache. `verify`: check each layer's uncompressed digest too (layers that
 * go into the image without being unpacked).
 */
int bb_rcache_fetch_chain(struct bb *b, struct kiln_snapshotter *sn, const struct bb_chain *c,
			  int verify, struct kiln_error *err) __attribute__((warn_unused_result));

/* ---- records (cache.c) ----------------------------------------------------------------- */

/** A whole record of the store's cache: the layer and what the key was made of. */
struct bb_cache_row {
	struct bb_layer layer; /* layer.chain: the key the next step builds on */
	char *created_by;
	char *ingredients; /* JSON */
};
void bb_cache_row_release(struct bb_cache_row *row);
/** 1 with *ret when the store's cache has `key` and its blob, else 0. */
int bb_cache_row_get(struct bb *b, const struct kiln_digest *key, struct bb_cache_row *ret,
		     struct kiln_error *err) __attribute__((warn_unused_result));
/** Record a row under `key` (its blob must be in the store); an existing record is kept. */
int bb_cache_put_row(struct bb *b, const struct kiln_digest *key, const struct bb_cache_row *row,
		     struct kiln_error *err) __attribute__((warn_unused_result));
/** The row of an imported record: 1 with *ret (layer.remote set), or 0. */
int bb_rcache_row(struct bb *b, const struct kiln_digest *key, struct bb_cache_row *ret,
		  struct kiln_error *err) __attribute__((warn_unused_result));

/* ---- export (remote-cache-export.c) ------------------------------------------------------ */

/** With a --cache-to type=inline: the records of the image embedded in its config JSON. */
int bb_rcache_inline(struct bb *b, struct bb_stage *target, char **json, size_t *len,
		     struct kiln_error *err) __attribute__((warn_unused_result));
/** Every other --cache-to, after the image (failures are warnings with ignore-error=true). */
int bb_rcache_export(struct bb *b, struct bb_stage *target, struct kiln_error *err)
	__attribute__((warn_unused_result));

/* A build of several platforms (platforms.c): each platform's records for
 * a --cache-to are collected into one, and the last platform's build writes
 * the one cache. */
struct bb_rcache_collected;
void bb_rcache_collected_free(struct bb_rcache_collected *c);
/** The collection for --cache-to number `i` (NULL until the first platform's). */
struct bb_rcache_collected **bb_multi_cache(struct bb_multi *m, size_t i);
/** Whether this is the last platform's build. */
int bb_multi_last(const struct bb_multi *m);

/* ---- cache mounts (remote-cache-mounts.c) ------------------------------------------------ */

/** The ids of the cache mounts the build's RUN steps use (resolved as RUN resolves them). */
int bb_rcache_mount_ids(struct bb *b, struct kiln_strv *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
/**
 * Export the build's cache mounts into `cfg` (one blob each, written to the
 * store; their descriptors appended to `blobs`).
 */
int bb_rcache_mounts_export(struct bb *b, struct bb_vertex *v, struct kiln_rcache_config *cfg,
			    struct kiln_oci_descriptor **blobs, size_t *n_blobs,
			    struct kiln_error *err) __attribute__((warn_unused_result));
/** Seed the build's cache mounts from an imported cache (the rule in the design). */
int bb_rcache_mounts_seed(struct bb *b, struct bb_rc_src *src, struct bb_vertex *v,
			  struct kiln_error *err) __attribute__((warn_unused_result));
