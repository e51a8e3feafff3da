/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What OCI and docker documents are made of: limits, media types, digest
 * validation, string maps, platforms and times. The documents themselves
 * are in store/oci.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"
#include "base/strv.h"

/* Limits for documents from outside (registries, archives, layouts). */
#define KILN_OCI_MANIFEST_MAX ((size_t)4 << 20) /* manifest or index bytes */
#define KILN_OCI_CONFIG_MAX ((size_t)8 << 20)   /* image config bytes */
#define KILN_OCI_LAYERS_MAX 1024                /* layers in one manifest */
#define KILN_OCI_MANIFESTS_MAX 4096             /* entries in one index */
#define KILN_OCI_MAP_MAX 16384                  /* annotations, labels, ports, volumes */
#define KILN_OCI_LIST_MAX 65536                 /* Env, Cmd, history, urls, ... */
#define KILN_OCI_JSON_DEPTH_MAX 64              /* nesting of any document */

/* Media types. */
#define KILN_MT_OCI_DESCRIPTOR "application/vnd.oci.descriptor.v1+json"
#define KILN_MT_OCI_LAYOUT_HEADER "application/vnd.oci.layout.header.v1+json"
#define KILN_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define KILN_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define KILN_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define KILN_MT_OCI_EMPTY "application/vnd.oci.empty.v1+json"
#define KILN_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define KILN_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define KILN_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define KILN_MT_OCI_LAYER_ND "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define KILN_MT_OCI_LAYER_ND_GZIP "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define KILN_MT_OCI_LAYER_ND_ZSTD "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
#define KILN_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define KILN_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define KILN_MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define KILN_MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define KILN_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define KILN_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define KILN_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define KILN_MT_DOCKER_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

/* Annotations kiln reads and writes in layouts and archives. */
#define KILN_ANNOT_REF_NAME "org.opencontainers.image.ref.name"
#define KILN_ANNOT_CONTAINERD_NAME "io.containerd.image.name"
#define KILN_ANNOT_CREATED "org.opencontainers.image.created"

/** What a media type names. */
enum kiln_mt_kind {
	KILN_MT_KIND_UNKNOWN = 0,
	KILN_MT_KIND_MANIFEST, /* OCI manifest or docker schema 2 */
	KILN_MT_KIND_INDEX,    /* OCI index or docker manifest list */
	KILN_MT_KIND_CONFIG,   /* OCI or docker image config */
	KILN_MT_KIND_LAYER,    /* any layer type below */
	KILN_MT_KIND_SCHEMA1,  /* docker schema 1: refused */
};

/** How a layer blob is compressed. */
enum kiln_mt_compression {
	KILN_MT_COMP_NONE = 0,
	KILN_MT_COMP_GZIP,
	KILN_MT_COMP_ZSTD,
};

/**
 * Classify a media type. For layers, `ret_comp` (may be NULL) says the
 * compression; other kinds leave it at KILN_MT_COMP_NONE.
 */
enum kiln_mt_kind kiln_mt_classify(const char *media_type, enum kiln_mt_compression *ret_comp);
/** 1 for a docker (not OCI) media type. */
int kiln_mt_is_docker(const char *media_type);
/** 1 when `s` matches the OCI media-type grammar (type/subtype, 127 chars each). */
int kiln_mt_valid(const char *s);

/**
 * Validate a descriptor digest as go-digest does: the generic grammar
 * `algorithm:encoded`, and for the algorithms it knows (sha256, sha384,
 * sha512) lower-case hex of the right length. 0 or -KILN_EPARSE.
 */
int kiln_oci_digest_validate(const char *s, struct kiln_error *err);

/** A string-to-string map (annotations, labels), kept sorted by key. */
struct kiln_oci_kv {
	char *key;
	char *value;
};
struct kiln_oci_map {
	struct kiln_oci_kv *items;
	size_t len;
	size_t alloc;
};
void kiln_oci_map_release(struct kiln_oci_map *m);
/** Set (insert or replace) key=value, keeping the map sorted. */
int kiln_oci_map_set(struct kiln_oci_map *m, const char *key, const char *value,
		     struct kiln_error *err) __attribute__((warn_unused_result));
/** The value for key, or NULL. */
const char *kiln_oci_map_get(const struct kiln_oci_map *m, const char *key);
int kiln_oci_map_remove(struct kiln_oci_map *m, const char *key); /* 1 removed, 0 absent */
int kiln_oci_map_copy(struct kiln_oci_map *dst, const struct kiln_oci_map *src,
		      struct kiln_error *err) __attribute__((warn_unused_result));

struct kiln_oci_platform {
	char *architecture; /* required */
	char *os;           /* required */
	char *os_version;   /* NULL when absent */
	struct kiln_strv os_features;
	char *variant; /* NULL when absent */
};
void kiln_oci_platform_release(struct kiln_oci_platform *p);
int kiln_oci_platform_copy(struct kiln_oci_platform *dst, const struct kiln_oci_platform *src,
			   struct kiln_error *err) __attribute__((warn_unused_result));
/** The platform kiln runs on ("linux", GOARCH spelling, arm variant). */
int kiln_oci_platform_host(struct kiln_oci_platform *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Parse "os/arch[/variant]" (e.g. "linux/arm64/v8"); GOARCH aliases normalized. */
int kiln_oci_platform_parse(const char *s, struct kiln_oci_platform *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** "linux/amd64" or "linux/arm/v7"; NULL on allocation failure. */
char *kiln_oci_platform_string(const struct kiln_oci_platform *p);
/** 1 when `have` satisfies `want` (os and architecture equal, variant if `want` names one). */
int kiln_oci_platform_match(const struct kiln_oci_platform *want,
			    const struct kiln_oci_platform *have);

/**
 * RFC 3339 times as Go's time.Time reads and writes them. parse: seconds
 * since the epoch (fraction dropped) or -KILN_EPARSE. format: UTC with "Z"
 * and nanoseconds with trailing zeros trimmed (RFC3339Nano), into a heap
 * string.
 */
int kiln_oci_time_parse(const char *s, int64_t *ret_unix, struct kiln_error *err)
	__attribute__((warn_unused_result));
char *kiln_oci_time_format(int64_t unix_sec, long nsec) __attribute__((warn_unused_result));
