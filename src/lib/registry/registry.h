/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "store/store.h"

/**
 * The registry client: OCI distribution spec 1.1 over libcurl.
 *
 * pull:  resolve a tag or digest, pick a platform from an index / manifest
 *        list, download the config and the layers that are not in the store
 *        yet (several at a time, each verified for size and digest while it
 *        streams into the store), then record the manifest and point the
 *        name at it: a failed pull leaves no name and no partial blob.
 * push:  for each blob HEAD, else a cross-repository mount when the blob is
 *        known in another repository of the same registry, else an upload
 *        (one PUT, or PATCH chunks above a threshold); then the manifest PUT
 *        under the tag. A re-push of an unchanged image moves no blob.
 * auth:  the WWW-Authenticate challenge of the registry: Bearer tokens
 *        (anonymous or with credentials, per repository and action) or Basic;
 *        credentials from --creds, or the docker config.json (auths,
 *        credsStore, credHelpers).
 * transport: https with verified certificates (extra CAs and client
 *        certificates from --cert-dir or /etc/containers/certs.d/<host>/);
 *        plain http only for loopback registries or with KILN_REGISTRY_INSECURE.
 *        429, 5xx and broken connections are retried with exponential backoff
 *        (Retry-After honoured), a bounded number of times.
 *
 * Errors name the registry and the URL: "registry 127.0.0.1:5000: GET
 * http://127.0.0.1:5000/v2/x/manifests/1: 404 Not Found: MANIFEST_UNKNOWN:
 * manifest unknown". Codes: -KILN_ENET (transport, HTTP), -KILN_EAUTH
 * (credentials refused), -KILN_ENOTFOUND (no such image or tag), -KILN_EDIGEST
 * (content does not match), -KILN_EPARSE (garbage from the registry),
 * -KILN_ELIMIT (oversized answers), -KILN_ECANCEL.
 */

/** Defaults and limits. */
#define KILN_REGISTRY_PARALLEL_DEFAULT 3
#define KILN_REGISTRY_PARALLEL_MAX 16
#define KILN_REGISTRY_RETRIES_DEFAULT 5
#define KILN_REGISTRY_CHUNK_DEFAULT ((int64_t) 16 << 20)
#define KILN_REGISTRY_RETRY_AFTER_MAX 120 /* seconds kiln agrees to wait */
#define KILN_REGISTRY_TOKEN_MAX ((size_t) 64 << 10)
#define KILN_REGISTRY_ERROR_BODY_MAX ((size_t) 64 << 10)
#define KILN_REGISTRY_AUTHFILE_MAX ((size_t) 4 << 20)

enum kiln_registry_flags {
	/** --tls-verify=false / --insecure: no certificate checks, http allowed. */
	KILN_REGISTRY_INSECURE = 1 << 0,
	/** Push: always upload in chunks (testing; normally above chunk_size only). */
	KILN_REGISTRY_FORCE_CHUNKED = 1 << 1,
	/** Push: never try a cross-repository mount. */
	KILN_REGISTRY_NO_MOUNT = 1 << 2,
};

/** What a pull or push is doing, for progress display. */
enum kiln_registry_event_kind {
	KILN_REG_EV_RESOLVED,	   /* msg: "name@digest (platform)" */
	KILN_REG_EV_BLOB_START,	   /* digest, total */
	KILN_REG_EV_BLOB_PROGRESS, /* digest, done, total */
	KILN_REG_EV_BLOB_DONE,	   /* digest, done == total */
	KILN_REG_EV_BLOB_EXISTS,   /* present already (locally on pull, remotely on push) */
	KILN_REG_EV_BLOB_MOUNTED,  /* push: mounted from msg (a repository) */
	KILN_REG_EV_RETRY,	   /* msg: why, done: attempt, total: delay in ms */
	KILN_REG_EV_MANIFEST,	   /* digest: the manifest written or pushed; msg: the name */
};

struct kiln_registry_event {
	enum kiln_registry_event_kind kind;
	const char *digest; /* "sha256:..." or NULL */
	const char *what;   /* "config", "layer", "manifest", or NULL */
	int64_t done;
	int64_t total; /* -1 when unknown */
	const char *msg;
};

typedef void (*kiln_registry_event_fn)(void *userdata, const struct kiln_registry_event *ev);

struct kiln_registry_opts {
	unsigned flags;	      /* enum kiln_registry_flags */
	const char *platform; /* "os/arch[/variant]"; NULL = the host's */
	const char *cert_dir; /* NULL = /etc/containers/certs.d/<host:port>/ */
	const char *authfile; /* NULL = $DOCKER_CONFIG/config.json or ~/.docker/config.json */
	const char *creds;    /* "USER:PASSWORD" or "USER"; NULL = from the authfile */
	int parallel;	      /* blobs at a time; 0 = KILN_REGISTRY_PARALLEL_DEFAULT */
	int retries;	      /* 0 = KILN_REGISTRY_RETRIES_DEFAULT; -1 = none */
	int64_t chunk_size;   /* push: chunked above this; 0 = KILN_REGISTRY_CHUNK_DEFAULT */
	kiln_registry_event_fn on_event;
	void *event_userdata;
};

struct kiln_registry_pull_result {
	char *name;		     /* canonical name pointed at the image, NULL if by digest */
	char *repository;	     /* "docker.io/library/busybox" */
	struct kiln_digest resolved; /* what the tag pointed at (index or manifest) */
	struct kiln_digest manifest; /* the image's manifest */
	struct kiln_digest config;   /* the image id */
	char *platform;		     /* "linux/amd64" */
	size_t blobs_fetched;
	size_t blobs_present;
	int64_t bytes_fetched;
};
void kiln_registry_pull_result_release(struct kiln_registry_pull_result *r);

/**
 * Pull `ref` (a reference as users type it: "busybox", "host:5000/x:1",
 * "x@sha256:...") into the store. A tag beside a digest is ignored, as
 * docker does. `ret` may be NULL.
 */
int kiln_registry_pull(struct kiln_store *st, const char *ref, const struct kiln_registry_opts *o,
		       struct kiln_registry_pull_result *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

struct kiln_registry_push_result {
	char *dest;		     /* canonical "domain/path:tag" pushed */
	struct kiln_digest manifest; /* digest of the pushed manifest */
	size_t blobs_uploaded;
	size_t blobs_existing;
	size_t blobs_mounted;
	int64_t bytes_uploaded;
};
void kiln_registry_push_result_release(struct kiln_registry_push_result *r);

/**
 * Push the image `src` (anything kiln_store_resolve() accepts) to `dest` (a
 * reference with a tag or none, which means "latest"; NULL = push under
 * `src`'s own name). The manifest goes out byte for byte, so its digest is
 * the same in the registry. `ret` may be NULL.
 */
int kiln_registry_push(struct kiln_store *st, const char *src, const char *dest,
		       const struct kiln_registry_opts *o, struct kiln_registry_push_result *ret,
		       struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Push the image index `index` (a blob in the store, as a build of several
 * platforms makes it; its entries are images in the store) to `dest`: every
 * image's blobs, each image's manifest by digest, then the index under the
 * tag. ret->manifest is the index's digest. `ret` may be NULL.
 */
int kiln_registry_push_index(struct kiln_store *st, const struct kiln_digest *index,
			     const char *dest, const struct kiln_registry_opts *o,
			     struct kiln_registry_push_result *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * The key kiln files a server's credentials under in config.json:
 * "https://index.docker.io/v1/" for Docker Hub, else "host[:port]" (scheme
 * and path dropped). Heap string in *ret.
 */
int kiln_registry_auth_key(const char *server, char **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Check `user`/`password` against `server` (the registry's own
 * authentication: a token request or a Basic-authenticated /v2/) and, when
 * they are accepted, store them: through the configured credential helper,
 * else base64 in the authfile's "auths" (written atomically, mode 0600).
 * -KILN_EAUTH when the registry refuses them. *ret_where (may be NULL) says
 * where they went (the file path or "docker-credential-<helper>").
 */
int kiln_registry_login(const struct kiln_ctx *ctx, const char *server, const char *user,
			const char *password, const struct kiln_registry_opts *o, char **ret_where,
			struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Forget the credentials of `server` (helper erase and/or the auths entry).
 * -KILN_ENOTFOUND when there were none.
 */
int kiln_registry_logout(const struct kiln_ctx *ctx, const char *server,
			 const struct kiln_registry_opts *o, struct kiln_error *err)
	__attribute__((warn_unused_result));
