/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include "base/alloc.h"
#include "base/error.h"

/**
 * Image references with Docker's normalization and validation rules
 * (distribution's reference grammar):
 *
 *     reference  := name [ ":" tag ] [ "@" digest ]
 *     name       := [domain "/"] path
 *     domain     := host [":" port]       host: DNS-like name, IPv4, or [IPv6]
 *     path       := component ("/" component)*   lower-case, separators . _ __ -+
 *     tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *     digest     := algorithm ":" hex
 *
 * Normalization: a first path element is a domain when it contains "." or
 * ":", is "localhost", or has upper-case letters; otherwise the domain is
 * docker.io. "index.docker.io" becomes "docker.io", and a one-element path on
 * docker.io gets the "library/" prefix:
 *
 *     busybox                 docker.io/library/busybox
 *     localhost/x:1           localhost/x:1
 *     host:5000/ns/repo@sha256:...
 *
 * Error messages use distribution's wording ("invalid reference format",
 * "repository name must be lowercase", ...) without the input; callers add
 * context with kiln_error_prefix() ("pulling 'x': invalid reference format").
 */

/** Longest repository path (without the domain), as in distribution. */
#define KILN_REF_PATH_MAX 255
/** Longest tag. */
#define KILN_REF_TAG_MAX 128
/** Longest input kiln looks at: domain + path + tag + digest with room to spare. */
#define KILN_REF_INPUT_MAX 4096

/** The default registry and tag of familiar names. */
#define KILN_REF_DEFAULT_DOMAIN "docker.io"
#define KILN_REF_DEFAULT_TAG "latest"

struct kiln_ref {
	char *domain; /* "docker.io", "localhost:5000", "[::1]:5000"; never NULL */
	char *path;   /* "library/busybox"; never NULL */
	char *tag;    /* NULL when the reference has none */
	char *digest; /* "sha256:<hex>" (any algorithm go-digest knows), or NULL */
};

enum kiln_ref_flags {
	/** Add the tag "latest" when the reference has neither tag nor digest. */
	KILN_REF_DEFAULT_TAG_LATEST = 1 << 0,
};

/**
 * Parse a reference as the docker CLI does (ParseNormalizedNamed): familiar
 * names are normalized, a 64-hex-digit string alone is refused (it looks like
 * an image id). With KILN_REF_DEFAULT_TAG_LATEST a name-only reference gets
 * the tag "latest" (TagNameOnly). A tag and a digest may both be present.
 *
 * Errors: -KILN_EPARSE for malformed input, -KILN_ELIMIT for a too-long
 * name or input, -KILN_EUNSUPP for a digest algorithm other than sha256,
 * sha384 and sha512 (the ones go-digest knows).
 */
int kiln_ref_parse(const char *s, unsigned flags, struct kiln_ref **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Parse a reference that must already be in its full, normalized spelling
 * (distribution's ParseNamed): "docker.io/library/busybox:1" is accepted,
 * "busybox:1" and "docker.io/busybox" are refused with "repository name must
 * be canonical". Used to read names kiln stored itself.
 */
int kiln_ref_parse_canonical(const char *s, struct kiln_ref **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

void kiln_ref_free(struct kiln_ref *ref);
KILN_DEFINE_CLEANUP(struct kiln_ref, kiln_ref_free)

/** Deep copy. */
int kiln_ref_dup(const struct kiln_ref *ref, struct kiln_ref **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** Replace the tag (validated; NULL removes it). */
int kiln_ref_set_tag(struct kiln_ref *ref, const char *tag, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Replace the digest (validated; NULL removes it). */
int kiln_ref_set_digest(struct kiln_ref *ref, const char *digest, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** Spellings; each returns a fresh heap string or NULL on allocation failure. */
/** "docker.io/library/busybox" */
char *kiln_ref_name(const struct kiln_ref *ref) __attribute__((warn_unused_result));
/** "docker.io/library/busybox:latest@sha256:..." (tag and digest when present) */
char *kiln_ref_string(const struct kiln_ref *ref) __attribute__((warn_unused_result));
/** "busybox" (docker.io and library/ dropped, as FamiliarName does) */
char *kiln_ref_familiar_name(const struct kiln_ref *ref) __attribute__((warn_unused_result));
/** "busybox:latest@sha256:..." (FamiliarString) */
char *kiln_ref_familiar_string(const struct kiln_ref *ref) __attribute__((warn_unused_result));

/** 1 when `tag` matches the tag grammar. */
int kiln_ref_tag_valid(const char *tag);
/** 1 when `s` is a valid domain[:port] (DomainRegexp). */
int kiln_ref_domain_valid(const char *s, size_t len);
/** 1 when `s` is a valid repository path (lower-case components). */
int kiln_ref_path_valid(const char *s, size_t len);
/**
 * Validate a digest the way go-digest does for sha256/sha384/sha512:
 * 0, or -KILN_EPARSE ("invalid checksum digest format" / "... length") or
 * -KILN_EUNSUPP ("unsupported digest algorithm").
 */
int kiln_ref_digest_validate(const char *s, size_t len, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** 1 when `s` is exactly 64 lower-case hex digits (an image id). */
int kiln_ref_is_identifier(const char *s);
