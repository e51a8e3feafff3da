/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/** A sha256 digest: raw bytes plus the "sha256:<hex>" spelling. */
struct kiln_digest {
	uint8_t raw[32];
	char hex[65];     /* 64 lower-case hex digits, NUL-terminated */
	char str[7 + 65]; /* "sha256:" + hex */
};

/** Streaming SHA-256 (libcrypto). Opaque. */
struct kiln_sha256;

int kiln_sha256_new(struct kiln_sha256 **ret, struct kiln_error *err);
void kiln_sha256_update(struct kiln_sha256 *h, const void *data, size_t len);
/** The digest of what was added since the last final (or new); h starts a new message. */
void kiln_sha256_final(struct kiln_sha256 *h, struct kiln_digest *ret);
void kiln_sha256_free(struct kiln_sha256 *h);

/** One-shot digest of a buffer. */
int kiln_sha256_buf(const void *data, size_t len, struct kiln_digest *ret, struct kiln_error *err);

/**
 * Parse "sha256:<64 lower-case hex>" (go-digest's validation for sha256).
 * Other algorithms give -KILN_EUNSUPP; malformed strings -KILN_EINVAL.
 */
int kiln_digest_parse(const char *s, struct kiln_digest *ret, struct kiln_error *err);

/** 1 if `s` is exactly 64 lower-case hex digits (a sha256 digest's hex, a
 *  blob or layer name), else 0. */
int kiln_digest_is_hex(const char *s);

/** Fill hex/str from raw. */
void kiln_digest_from_raw(struct kiln_digest *d, const uint8_t raw[32]);

int kiln_digest_equal(const struct kiln_digest *a, const struct kiln_digest *b);
