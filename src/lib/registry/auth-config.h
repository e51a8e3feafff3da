/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "base/base.h"

/**
 * Docker's client configuration (config.json) as far as registries care:
 *
 *     { "auths": { "host:port": { "auth": base64("user:password"),
 *                                 "identitytoken": "..." } },
 *       "credsStore": "secretservice",
 *       "credHelpers": { "host:port": "ecr-login" } }
 *
 * Lookup order for a registry: credHelpers[host], then credsStore, then
 * auths[host]. A helper is `docker-credential-<name>` on PATH, run with
 * "get"/"store"/"erase" and the server URL (or a JSON record) on stdin, as
 * docker does. Docker Hub's key is "https://index.docker.io/v1/".
 * Every other key is compared by host: "https://host:5000/v2/" matches
 * "host:5000".
 */

struct kiln_registry_creds {
	char *username;
	char *password;
	char *identity_token; /* OAuth2 refresh token (helpers answer Username "<token>") */
};
void kiln_registry_creds_release(struct kiln_registry_creds *c);

/** Largest answer a credential helper may give. */
#define KILN_REGISTRY_HELPER_OUTPUT_MAX ((size_t) 1 << 20)

/** "USER:PASSWORD" (--creds) into creds; a missing ":" leaves the password empty. */
int kiln_registry_creds_parse(const char *s, struct kiln_registry_creds *ret,
			      struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * The config file to use: `authfile` if given, else $DOCKER_CONFIG/config.json,
 * else $HOME/.docker/config.json.
 */
int kiln_registry_authfile_path(const char *authfile, char **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** "host:port" of a server spelling ("https://host:port/v1/" → "host:port"). */
int kiln_registry_server_host(const char *server, char **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Credentials for a registry domain ("docker.io", "127.0.0.1:5000") from the
 * file at `path` (a missing file means none). Returns 1 and fills `ret` when
 * found, 0 when there are none, < 0 on error (unreadable or malformed file,
 * a failing helper).
 */
int kiln_registry_authfile_lookup(const struct kiln_ctx *ctx, const char *path, const char *domain,
				  struct kiln_registry_creds *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Store credentials for `domain`: through its helper when one is
 * configured (the file then gets an empty auths entry, as docker writes),
 * else base64 in auths. The file is rewritten atomically with mode 0600,
 * other content kept. *ret_where (may be NULL) gets the file path or the
 * helper's program name.
 */
int kiln_registry_authfile_store(const struct kiln_ctx *ctx, const char *path, const char *domain,
				 const char *user, const char *password, char **ret_where,
				 struct kiln_error *err) __attribute__((warn_unused_result));

/** Remove `domain`'s credentials; -KILN_ENOTFOUND when it had none. */
int kiln_registry_authfile_erase(const struct kiln_ctx *ctx, const char *path, const char *domain,
				 struct kiln_error *err) __attribute__((warn_unused_result));

/** Base64 (standard alphabet, padded) of `len` bytes; heap string or NULL. */
char *kiln_registry_base64(const void *data, size_t len) __attribute__((warn_unused_result));
/** Decode standard padded base64; -KILN_EPARSE on bad input. */
int kiln_registry_unbase64(const char *s, char **ret, size_t *ret_len, struct kiln_error *err)
	__attribute__((warn_unused_result));
