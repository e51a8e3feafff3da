/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "registry/registry.h"
#include "store/store.h"

/*
 * rcache: build caches that leave the machine. A cache is BuildKit's
 * distributable cache (cache/remotecache/v1): a *cache config* document
 * (application/vnd.buildkit.cacheconfig.v0) that lists layers (blobs chained
 * by parent index) and records (cache keys, the records they build on, the
 * layer each resolves to), and an envelope that carries it with the blobs:
 *
 *   an OCI image manifest whose config is the cache config and whose layers
 *   are the blobs (BuildKit's image-manifest=true, its registry default), or
 *   an OCI image index listing the blobs and, last, the cache config
 *   (BuildKit's local default), or
 *   the records alone, base64 in an image config's "moby.buildkit.cache.v0"
 *   field (inline: the layers are the image's own).
 *
 * The keys are kiln's (plan/key.h), not BuildKit's LLB digests, so the two
 * builders never hit each other's records; what kiln adds to the format is a
 * "kiln" object per record (chain key, history text, the key's ingredients)
 * and a top-level "kiln" object listing exported cache mounts.
 * docs/internals/remote-cache.md is the specification.
 *
 * This header is the codec (pure, bounded, for documents that come from
 * registries) and the places caches live (local.c: an OCI layout directory;
 * remote.c: a registry repository).
 */

#define KILN_RCACHE_MT_CONFIG "application/vnd.buildkit.cacheconfig.v0"
/* The image config field of an inline cache. */
#define KILN_RCACHE_INLINE_KEY "moby.buildkit.cache.v0"
/* Layer descriptor annotations BuildKit writes and reads. */
#define KILN_RCACHE_ANNOT_UNCOMPRESSED "containerd.io/uncompressed"
#define KILN_RCACHE_ANNOT_CREATED "buildkit/createdat"
#define KILN_RCACHE_ANNOT_DESCRIPTION "buildkit/description"
/* kiln's annotations on a cache mount's blob. */
#define KILN_RCACHE_ANNOT_MOUNT_ID "dev.kiln.cache-mount.id"
#define KILN_RCACHE_ANNOT_MOUNT_UPDATED "dev.kiln.cache-mount.updated"

/* Limits for documents from outside. */
#define KILN_RCACHE_CONFIG_MAX ((size_t) 32 << 20) /* cache config bytes */
#define KILN_RCACHE_LAYERS_MAX 65536
#define KILN_RCACHE_RECORDS_MAX 65536
#define KILN_RCACHE_INPUTS_MAX 64	 /* inputs of one record, and links per input */
#define KILN_RCACHE_RESULTS_MAX 64	 /* results of one record */
#define KILN_RCACHE_INGREDIENTS_MAX 1024 /* ingredients of one key */
#define KILN_RCACHE_MOUNTS_MAX 1024
#define KILN_RCACHE_STRING_MAX ((size_t) 1 << 20) /* one string */

/** One layer of a chain: a blob and the layer below it. */
struct kiln_rcache_layer {
	struct kiln_digest blob;
	long parent; /* index in layers, -1 for none */
	/* the "annotations" object (BuildKit's LayerAnnotations); absent: NULL / 0 / -1 */
	char *media_type;
	struct kiln_digest diff_id;
	int has_diff_id;
	int64_t size;	 /* -1: unknown */
	int64_t created; /* unix seconds; -1: unknown */
};

struct kiln_rcache_input {
	long link; /* index in records */
	char *selector;
};

struct kiln_rcache_inputs {
	struct kiln_rcache_input *v;
	size_t n;
};

struct kiln_rcache_result {
	long layer;	 /* index in layers: the result is the chain that ends there */
	int64_t created; /* unix seconds; -1: unknown */
};

struct kiln_rcache_record {
	struct kiln_digest digest; /* the cache key */
	struct kiln_rcache_inputs *inputs;
	size_t n_inputs;
	struct kiln_rcache_result *results;
	size_t n_results;
	/* kiln's "kiln" object; has_kiln = 0 in a record another builder wrote */
	int has_kiln;
	struct kiln_digest chain; /* the key the next step builds on */
	int has_chain;
	char *created_by;  /* the history text of the step */
	char *ingredients; /* the key's ingredients: compact JSON [[name, value], ...] */
};

/** An exported `RUN --mount=type=cache` directory. */
struct kiln_rcache_mount {
	char *id;
	char *seed;		 /* what a new instance starts from (cachemount.h); "" = empty */
	struct kiln_digest blob; /* a layer-like tar of the directory's contents */
	int64_t updated;	 /* unix seconds: the newest change in it when exported */
};

struct kiln_rcache_config {
	struct kiln_rcache_layer *layers;
	size_t n_layers;
	struct kiln_rcache_record *records;
	size_t n_records;
	struct kiln_rcache_mount *mounts;
	size_t n_mounts;
};

void kiln_rcache_config_free(struct kiln_rcache_config *c);
KILN_DEFINE_CLEANUP(struct kiln_rcache_config, kiln_rcache_config_free)

/** An empty config to fill. */
int kiln_rcache_config_new(struct kiln_rcache_config **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Append a layer (media_type copied); its index in *ret_index. The parent
 * must exist already (or be -1).
 */
int kiln_rcache_config_add_layer(struct kiln_rcache_config *c, const struct kiln_rcache_layer *l,
				 long *ret_index, struct kiln_error *err)
	__attribute__((warn_unused_result));
/**
 * Append a record with at most one input (`link`, -1 for none) and one
 * result (`layer`, -1 for none) and kiln's fields (strings copied; NULL
 * allowed). Its index in *ret_index.
 */
int kiln_rcache_config_add_record(struct kiln_rcache_config *c, const struct kiln_digest *digest,
				  long link, long layer, int64_t created,
				  const struct kiln_digest *chain, const char *created_by,
				  const char *ingredients, long *ret_index, struct kiln_error *err)
	__attribute__((warn_unused_result));
int kiln_rcache_config_add_mount(struct kiln_rcache_config *c, const char *id, const char *seed,
				 const struct kiln_digest *blob, int64_t updated,
				 struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Parse a cache config. Strict and bounded: indexes in range, parent chains
 * without loops, digests valid, limits above. Fields kiln does not use
 * (BuildKit's "chains") are accepted and dropped. -KILN_EPARSE / -KILN_ELIMIT
 * with the path of the bad field.
 */
int kiln_rcache_config_parse(const char *json, size_t len, struct kiln_rcache_config **ret,
			     struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Sort layers (by blob, then by the blobs of their parents) and records (by
 * key, then by their inputs' keys), renumbering every reference, as BuildKit
 * does: the same cache gives the same bytes whatever order it was made in.
 */
int kiln_rcache_config_sort(struct kiln_rcache_config *c, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Sort the records only: an inline cache's layer numbers are the image's
 * layer positions (its manifest holds the layers), so they keep their order.
 */
int kiln_rcache_config_sort_records(struct kiln_rcache_config *c, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * The config as Go's encoding/json writes BuildKit's CacheConfig (field
 * order, omitempty, escaping), kiln's objects included. Heap string.
 */
int kiln_rcache_config_to_json(const struct kiln_rcache_config *c, char **ret, size_t *ret_len,
			       struct kiln_error *err) __attribute__((warn_unused_result));

/** 1 when at least one record carries kiln's fields (the cache is kiln's). */
int kiln_rcache_config_is_kilns(const struct kiln_rcache_config *c);

/* ---- envelopes ---------------------------------------------------------- */

enum kiln_rcache_kind {
	KILN_RCACHE_NOT_CACHE = 0,  /* a document that is no cache */
	KILN_RCACHE_CACHE_MANIFEST, /* image manifest, config = cache config */
	KILN_RCACHE_CACHE_INDEX,    /* index listing blobs and the cache config */
	KILN_RCACHE_IMAGE_MANIFEST, /* an image: its config may hold an inline cache */
	KILN_RCACHE_IMAGE_INDEX,    /* an image index: its manifests may */
};

/** What a manifest-like document is, and where a cache's parts are in it. */
struct kiln_rcache_envelope {
	enum kiln_rcache_kind kind;
	/* CACHE_*: the cache config; IMAGE_MANIFEST: the image config */
	struct kiln_oci_descriptor config;
	/* CACHE_*: the blobs; IMAGE_MANIFEST: the image's layers; IMAGE_INDEX: its manifests */
	struct kiln_oci_descriptor *blobs;
	size_t n_blobs;
};
void kiln_rcache_envelope_release(struct kiln_rcache_envelope *e);

/**
 * Classify and take apart a manifest or index (as fetched: bytes). A
 * document that parses as neither gives -KILN_EPARSE; one that is not a
 * cache or an image is KILN_RCACHE_NOT_CACHE (not an error).
 */
int kiln_rcache_envelope_parse(const char *json, size_t len, struct kiln_rcache_envelope *ret,
			       struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * The envelope for a cache config (its digest and size) and its blobs:
 * an OCI image manifest (`image_manifest`) or an OCI index, compact JSON as
 * BuildKit writes it. The media type of the result in *ret_media_type
 * (static string).
 */
int kiln_rcache_envelope_write(const struct kiln_digest *config, int64_t config_size,
			       const struct kiln_oci_descriptor *blobs, size_t n_blobs,
			       int image_manifest, char **ret, size_t *ret_len,
			       const char **ret_media_type, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * The descriptor of a blob in the cache's envelope: media type, digest,
 * size and the annotations BuildKit reads (uncompressed digest, creation
 * time when >= 0).
 */
int kiln_rcache_blob_descriptor(const char *media_type, const struct kiln_digest *digest,
				int64_t size, const struct kiln_digest *diff_id, int64_t created,
				struct kiln_oci_descriptor *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/* ---- inline caches -------------------------------------------------------- */

/** The records alone, as BuildKit embeds them (a JSON array). Heap string. */
int kiln_rcache_records_to_json(const struct kiln_rcache_config *c, char **ret, size_t *ret_len,
				struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * An image config (compact JSON, keys sorted, as kiln and BuildKit write it)
 * with the records embedded under "moby.buildkit.cache.v0" (base64 of the
 * records' JSON) at their sorted place. A field of that name already there
 * is replaced. Heap string.
 */
int kiln_rcache_inline_embed(const char *config, size_t config_len, const char *records,
			     size_t records_len, char **ret, size_t *ret_len,
			     struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * The inline cache of an image: the records from its config's
 * "moby.buildkit.cache.v0" field, the layers from its manifest (each on the
 * one before it, diff ids from rootfs.diff_ids, times from the history of
 * the entries that made a layer). 1 with *ret, or 0 when the config holds
 * none (or does not match its manifest).
 */
int kiln_rcache_inline_parse(const char *config, size_t config_len,
			     const struct kiln_oci_descriptor *layers, size_t n_layers,
			     struct kiln_rcache_config **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/* ---- where caches live (loc.c) -------------------------------------------- */

/** A registry repository (`ref`) or an OCI layout directory (`dir`). */
struct kiln_rcache_target {
	const char *ref;    /* "host:5000/cache:main" */
	const char *dir;    /* an OCI layout directory */
	const char *tag;    /* dir: the name in index.json; NULL = "latest" */
	const char *digest; /* dir, reading: the manifest by its digest instead */
};

struct kiln_rcache_loc;

/**
 * Open a cache location. A registry is connected to (its /v2/ ping); a
 * directory is created when `write` (else -KILN_ENOTFOUND when missing).
 * `ro` (may be NULL) must outlive the handle, which one thread uses at a
 * time.
 */
int kiln_rcache_loc_open(const struct kiln_ctx *ctx, const struct kiln_rcache_target *t,
			 const struct kiln_registry_opts *ro, int write,
			 struct kiln_rcache_loc **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
void kiln_rcache_loc_free(struct kiln_rcache_loc *l);
KILN_DEFINE_CLEANUP(struct kiln_rcache_loc, kiln_rcache_loc_free)

/** "127.0.0.1:5000/cache:main", "DIR (latest)": for messages. */
const char *kiln_rcache_loc_name(const struct kiln_rcache_loc *l);
int kiln_rcache_loc_is_local(const struct kiln_rcache_loc *l);
/** The registry's domain, NULL for a directory. */
const char *kiln_rcache_loc_domain(const struct kiln_rcache_loc *l);
/** A registry location's repository handle (NULL for a directory). */
struct kiln_registry_repo *kiln_rcache_loc_repo(const struct kiln_rcache_loc *l);
/** A registry location's "domain/path" (heap string; NULL for a directory or on ENOMEM). */
char *kiln_rcache_loc_repository(const struct kiln_rcache_loc *l)
	__attribute__((warn_unused_result));

/** The document the location names (the tag's manifest or index). -KILN_ENOTFOUND when none. */
int kiln_rcache_loc_get_root(struct kiln_rcache_loc *l, char **ret, size_t *ret_len,
			     struct kiln_digest *ret_digest, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** A manifest by digest (a child of an index), verified. */
int kiln_rcache_loc_get_manifest(struct kiln_rcache_loc *l, const struct kiln_digest *d, char **ret,
				 size_t *ret_len, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** A small blob (a config) into memory, verified; at most `limit` bytes. */
int kiln_rcache_loc_read_blob(struct kiln_rcache_loc *l, struct kiln_store *st,
			      const struct kiln_oci_descriptor *d, size_t limit, char **ret,
			      size_t *ret_len, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Blobs into the store (those it lacks), each verified. */
int kiln_rcache_loc_fetch(struct kiln_rcache_loc *l, struct kiln_store *st,
			  const struct kiln_oci_descriptor *d, size_t n, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Blobs from the store to the location (those it lacks). */
int kiln_rcache_loc_push(struct kiln_rcache_loc *l, struct kiln_store *st,
			 const struct kiln_oci_descriptor *d, size_t n, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** The cache's manifest or index, named by the location's tag (its blobs pushed first). */
int kiln_rcache_loc_put_root(struct kiln_rcache_loc *l, const char *media_type, const char *body,
			     size_t len, struct kiln_error *err)
	__attribute__((warn_unused_result));

/* ---- reading a cache (load.c) --------------------------------------------- */

/** A cache as read from a location: its config and the descriptors of its blobs. */
struct kiln_rcache_loaded {
	struct kiln_rcache_config *config;
	struct kiln_oci_descriptor *blobs; /* every blob the envelope lists */
	size_t n_blobs;
	struct kiln_digest root; /* the manifest or index read */
	int is_inline;		 /* the records of an image's config */
};
void kiln_rcache_loaded_release(struct kiln_rcache_loaded *c);

/**
 * Read the cache at a location: the document it names, then the cache
 * config (a cache manifest or index) or the inline records (an image, or
 * the image for `platform` in an index). Errors say what was wrong:
 * -KILN_ENOTFOUND (nothing there), -KILN_EUNSUPP (a document that is no
 * build cache, or an image without an inline cache), -KILN_EPARSE /
 * -KILN_EDIGEST / -KILN_ELIMIT (a corrupt cache). The config's blobs stay
 * where they are; `st` only receives the small documents of a registry.
 */
int kiln_rcache_load(struct kiln_rcache_loc *l, struct kiln_store *st, const char *platform,
		     struct kiln_rcache_loaded *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** The descriptor of a blob the loaded cache lists, or NULL. */
const struct kiln_oci_descriptor *kiln_rcache_loaded_blob(const struct kiln_rcache_loaded *c,
							  const struct kiln_digest *d);
