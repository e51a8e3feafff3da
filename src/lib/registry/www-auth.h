/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include "base/error.h"

/**
 * WWW-Authenticate parsing (RFC 7235 section 4.1 with RFC 9110's grammar):
 *
 *     challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *     auth-param = token BWS "=" BWS ( token / quoted-string )
 *
 * One header may hold several comma-separated challenges
 * (`Bearer realm="https://a/token",service="a", Basic realm="a"`); a
 * parameter is told from the next challenge by the "=" after its name.
 * Scheme and parameter names are case-insensitive and kept lower-case;
 * quoted-string escapes are undone. Input comes from any server kiln talks
 * to, so it is bounded (KILN_WWW_AUTH_MAX bytes, KILN_WWW_AUTH_PARAMS_MAX
 * parameters) and anything malformed fails with -KILN_EPARSE rather than
 * being guessed at.
 */

#define KILN_WWW_AUTH_MAX 16384
#define KILN_WWW_AUTH_PARAMS_MAX 64
#define KILN_WWW_AUTH_CHALLENGES_MAX 16

struct kiln_auth_param {
	char *name; /* lower-case */
	char *value;
};

struct kiln_auth_challenge {
	char *scheme;  /* lower-case: "bearer", "basic", ... */
	char *token68; /* NULL unless the challenge carried a token68 */
	struct kiln_auth_param *params;
	size_t n_params;
};

struct kiln_auth_challenges {
	struct kiln_auth_challenge *items;
	size_t len;
};

#define KILN_AUTH_CHALLENGES_INIT                                                                  \
	{                                                                                          \
		NULL, 0                                                                            \
	}

/**
 * Parse one header value and append its challenges to `out` (so that several
 * WWW-Authenticate headers of one response add up). On failure `out` keeps
 * what it held before the call.
 */
int kiln_www_auth_parse(const char *value, size_t len, struct kiln_auth_challenges *out,
			struct kiln_error *err) __attribute__((warn_unused_result));

void kiln_www_auth_release(struct kiln_auth_challenges *c);

/** The first challenge with this (lower-case) scheme, or NULL. */
const struct kiln_auth_challenge *kiln_www_auth_find(const struct kiln_auth_challenges *c,
						     const char *scheme);
/** A parameter's value (name lower-case), or NULL. */
const char *kiln_auth_challenge_param(const struct kiln_auth_challenge *c, const char *name);
