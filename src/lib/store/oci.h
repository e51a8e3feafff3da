/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"
#include "base/digest.h"
#include "base/error.h"
#include "base/strv.h"
#include "store/oci-types.h"

/**
 * OCI image-spec and Docker image-manifest v2 schema 2 documents: descriptor,
 * platform, image manifest, image index (manifest list), image config and the
 * oci-layout header.
 *
 * Parsing is strict and bounded: the input size is capped (KILN_OCI_*_MAX),
 * JSON is read with jansson (duplicate keys and embedded NULs refused), and
 * every field is checked against the OCI schema plus what Go's decoder and
 * go-digest enforce (media-type and digest grammar, known digest algorithms'
 * lengths, padded standard base64 in `data`, RFC 3339 times, `Env` entries
 * `K=V`, non-negative sizes). Unknown fields are ignored. Docker schema 1
 * manifests are refused with -KILN_EUNSUPP.
 *
 * Serialization is deterministic and byte-compatible with what Go's
 * encoding/json writes for the image-spec structs (the order of struct
 * fields, map keys sorted, `omitempty`, HTML-safe escaping of < > &), so an
 * image kiln writes has the digest BuildKit would give the same content.
 *
 * All strings are owned by the struct that holds them; *_free() releases a
 * heap object, *_release() the contents of an embedded one.
 */

struct kiln_oci_descriptor {
	char *media_type;
	char *digest;              /* as written (any valid algorithm) */
	struct kiln_digest sha256; /* the parsed digest when has_sha256 */
	int has_sha256;
	int64_t size;
	struct kiln_strv urls;
	struct kiln_oci_map annotations;
	uint8_t *data; /* decoded `data`; has_data says whether the field was present */
	size_t data_len;
	int has_data;
	struct kiln_oci_platform *platform; /* NULL when absent */
	char *artifact_type;                /* NULL when absent */
};
void kiln_oci_descriptor_release(struct kiln_oci_descriptor *d);
int kiln_oci_descriptor_copy(struct kiln_oci_descriptor *dst,
			     const struct kiln_oci_descriptor *src, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Fill a descriptor for sha256 content (media type and digest copied). */
int kiln_oci_descriptor_set(struct kiln_oci_descriptor *d, const char *media_type,
			    const struct kiln_digest *digest, int64_t size, struct kiln_error *err)
	__attribute__((warn_unused_result));
/**
 * The sha256 digest kiln stores content under; -KILN_EUNSUPP (naming the
 * descriptor's algorithm) when it has another one.
 */
int kiln_oci_descriptor_sha256(const struct kiln_oci_descriptor *d, struct kiln_digest *ret,
			       struct kiln_error *err) __attribute__((warn_unused_result));

/** An image manifest: OCI (mediaType optional) or docker schema 2. */
struct kiln_oci_manifest {
	int schema_version;  /* always 2 */
	char *media_type;    /* NULL when absent (allowed by OCI) */
	char *artifact_type; /* NULL when absent */
	struct kiln_oci_descriptor config;
	struct kiln_oci_descriptor *layers;
	size_t n_layers;
	struct kiln_oci_descriptor *subject; /* NULL when absent */
	struct kiln_oci_map annotations;
};

/** An image index (OCI) or manifest list (docker). */
struct kiln_oci_index {
	int schema_version;
	char *media_type;
	char *artifact_type;
	struct kiln_oci_descriptor *manifests;
	size_t n_manifests;
	struct kiln_oci_descriptor *subject;
	struct kiln_oci_map annotations;
};

struct kiln_oci_history {
	char *created; /* RFC 3339, or NULL */
	char *created_by;
	char *author;
	char *comment;
	int empty_layer;
};

/** Docker's HEALTHCHECK (durations in nanoseconds, as Go writes them). */
struct kiln_oci_healthcheck {
	struct kiln_strv test;
	int64_t interval;
	int64_t timeout;
	int64_t start_period;
	int64_t start_interval;
	int64_t retries;
};

/**
 * The runtime part of an image config (`config`): OCI's ImageConfig plus
 * Docker's extensions that BuildKit writes (Healthcheck, OnBuild, Shell).
 * Port and volume sets are kept sorted.
 */
struct kiln_oci_runconfig {
	char *user;
	struct kiln_strv exposed_ports; /* "80/tcp" */
	struct kiln_strv env;           /* "K=V" */
	struct kiln_strv entrypoint;
	struct kiln_strv cmd;
	struct kiln_strv volumes;
	char *working_dir;
	struct kiln_oci_map labels;
	char *stop_signal;
	int args_escaped;
	struct kiln_oci_healthcheck *healthcheck; /* NULL when absent */
	struct kiln_strv on_build;
	struct kiln_strv shell;
};

/** An image config (OCI or docker; docker-only fields are not kept). */
struct kiln_oci_config {
	char *created; /* RFC 3339, or NULL */
	char *author;
	struct kiln_oci_platform platform; /* architecture, os, os.version, os.features, variant */
	struct kiln_oci_runconfig config;
	int has_config; /* the `config` object was present */
	struct kiln_digest *diff_ids;
	size_t n_diff_ids;
	struct kiln_oci_history *history;
	size_t n_history;
};

/* Parsers. `json`/`len` need not be NUL-terminated. On failure nothing is returned. */
int kiln_oci_descriptor_parse(const char *json, size_t len, struct kiln_oci_descriptor *ret,
			      struct kiln_error *err) __attribute__((warn_unused_result));
int kiln_oci_manifest_parse(const char *json, size_t len, struct kiln_oci_manifest **ret,
			    struct kiln_error *err) __attribute__((warn_unused_result));
int kiln_oci_index_parse(const char *json, size_t len, struct kiln_oci_index **ret,
			 struct kiln_error *err) __attribute__((warn_unused_result));
int kiln_oci_config_parse(const char *json, size_t len, struct kiln_oci_config **ret,
			  struct kiln_error *err) __attribute__((warn_unused_result));
/** The `oci-layout` file: imageLayoutVersion must be "1.0.0". */
int kiln_oci_layout_header_parse(const char *json, size_t len, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Which kind of document a manifest-like blob is: from its `mediaType`
 * field, else from its shape (`manifests` → index, `layers`/`config` →
 * manifest). Returns a kind (> 0), or a negative error for non-JSON input or
 * a document kiln does not handle (schema 1 → -KILN_EUNSUPP).
 */
int kiln_oci_detect(const char *json, size_t len, enum kiln_mt_kind *ret_kind,
		    struct kiln_error *err) __attribute__((warn_unused_result));

void kiln_oci_manifest_free(struct kiln_oci_manifest *m);
void kiln_oci_index_free(struct kiln_oci_index *x);
void kiln_oci_config_free(struct kiln_oci_config *c);
void kiln_oci_history_release(struct kiln_oci_history *h);
void kiln_oci_runconfig_release(struct kiln_oci_runconfig *c);
KILN_DEFINE_CLEANUP(struct kiln_oci_manifest, kiln_oci_manifest_free)
KILN_DEFINE_CLEANUP(struct kiln_oci_index, kiln_oci_index_free)
KILN_DEFINE_CLEANUP(struct kiln_oci_config, kiln_oci_config_free)

/** Empty heap objects to fill in and serialize (schema_version 2). */
int kiln_oci_manifest_new(struct kiln_oci_manifest **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
int kiln_oci_index_new(struct kiln_oci_index **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
int kiln_oci_config_new(struct kiln_oci_config **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Deep copy of a config (a build step starts from its parent's). */
int kiln_oci_config_copy(const struct kiln_oci_config *src, struct kiln_oci_config **ret,
			 struct kiln_error *err) __attribute__((warn_unused_result));
/** Append a layer descriptor (copied) / an index entry (copied). */
int kiln_oci_manifest_add_layer(struct kiln_oci_manifest *m, const struct kiln_oci_descriptor *d,
				struct kiln_error *err) __attribute__((warn_unused_result));
int kiln_oci_index_add(struct kiln_oci_index *x, const struct kiln_oci_descriptor *d,
		       struct kiln_error *err) __attribute__((warn_unused_result));
/** Append a diff_id / a history entry (copied). */
int kiln_oci_config_add_diff_id(struct kiln_oci_config *c, const struct kiln_digest *diff_id,
				struct kiln_error *err) __attribute__((warn_unused_result));
int kiln_oci_config_add_history(struct kiln_oci_config *c, const struct kiln_oci_history *h,
				struct kiln_error *err) __attribute__((warn_unused_result));

/*
 * Serializers, in Go's encoding/json spelling. Manifests and indexes are
 * laid out as BuildKit writes them (json.MarshalIndent with three spaces)
 * unless KILN_OCI_JSON_COMPACT is given (index.json of a layout, as
 * skopeo writes it); configs are compact with top-level keys sorted (as
 * BuildKit's exporter re-marshals them), descriptors compact. The result is
 * a fresh NUL-terminated heap string (*ret_len without the NUL). They refuse
 * (-KILN_EINVAL) a document that would not parse back (missing required
 * field, invalid digest or media type).
 */
enum kiln_oci_json_flags {
	KILN_OCI_JSON_COMPACT = 1 << 0,
};
int kiln_oci_descriptor_to_json(const struct kiln_oci_descriptor *d, char **ret,
				size_t *ret_len, struct kiln_error *err)
	__attribute__((warn_unused_result));
int kiln_oci_manifest_to_json(const struct kiln_oci_manifest *m, unsigned flags, char **ret,
			      size_t *ret_len, struct kiln_error *err)
	__attribute__((warn_unused_result));
int kiln_oci_index_to_json(const struct kiln_oci_index *x, unsigned flags, char **ret,
			   size_t *ret_len, struct kiln_error *err)
	__attribute__((warn_unused_result));
int kiln_oci_config_to_json(const struct kiln_oci_config *c, char **ret, size_t *ret_len,
			    struct kiln_error *err) __attribute__((warn_unused_result));
