/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Inside the registry module: one client per registry (transport, TLS,
 * authentication) and a transfer engine on a curl multi handle (libcurl's
 * functions come from http/http.h, linked or loaded on first use). Every HTTP
 * request is a struct reg_xfer; the engine runs several at a time, retries
 * them (backoff, Retry-After), answers 401 challenges by fetching a token and
 * trying once more, and hands each finished transfer to its done callback,
 * which may queue follow-up transfers (the steps of a blob upload).
 */

#include <curl/curl.h>
#include <stdint.h>

#include "base/base.h"
#include "http/http.h"
#include "registry/auth-config.h"
#include "registry/registry.h"
#include "registry/www-auth.h"

struct reg_xfer;
struct reg_client;

/*
 * How libcurl with mbedTLS reports a fatal TLS alert from the server (a
 * refused or missing client certificate, ...); mbedTLS does not say which.
 */
#define REG_TLS_ALERT_MBEDTLS "A fatal alert message was received"

/** Called once per finished transfer (any HTTP status); < 0 aborts the run. */
typedef int (*reg_done_fn)(struct reg_client *c, struct reg_xfer *x, void *data,
			   struct kiln_error *err);
/**
 * Streaming body sink for 2xx answers. `begin` runs when the headers of the
 * final answer are in (status 200 or 206 known), before any data, on every
 * attempt; `write` gets the data. Either may fail (-KILN_E...), which ends the
 * transfer with that error and no retry.
 */
struct reg_sink {
	int (*begin)(void *data, struct reg_xfer *x, struct kiln_error *err);
	int (*write)(void *data, struct reg_xfer *x, const void *buf, size_t len,
		     struct kiln_error *err);
	/** Before each attempt: a byte offset to resume from (Range), or 0. */
	int64_t (*resume_from)(void *data, struct reg_xfer *x);
	void *data;
};

struct reg_token {
	char *scope;
	char *token;
};

enum reg_auth {
	REG_AUTH_UNKNOWN = 0,
	REG_AUTH_NONE,
	REG_AUTH_BASIC,
	REG_AUTH_BEARER,
};

struct reg_client {
	const struct kiln_ctx *ctx;
	const struct kiln_http_curl *curl; /* libcurl, loaded by reg_client_new() */
	const struct kiln_registry_opts *opts;
	char *domain; /* as in references: "docker.io", "127.0.0.1:5000" */
	char *host;   /* what is dialled: "registry-1.docker.io", "127.0.0.1:5000" */
	char *base;   /* "https://host" or "http://host", known after the ping */
	int insecure;
	int loopback;
	int retries;
	int parallel;

	/* TLS material from the certificate directory */
	char *ca_pem; /* system bundle + extra CAs, or NULL for curl's default */
	size_t ca_len;
	char *client_cert;
	char *client_key;

	/* authentication */
	struct kiln_registry_creds creds;
	int have_creds;
	enum reg_auth auth;
	char *realm;
	char *service;
	struct reg_token *tokens;
	size_t n_tokens;

	CURLM *multi;
	CURLSH *share;
	struct reg_xfer *queue; /* waiting to start */
	struct reg_xfer *active;
	size_t n_active;
	int aborting;
};

enum reg_xfer_flags {
	REG_XFER_KEEP = 1 << 0,	    /* the caller frees it after the run */
	REG_XFER_NO_AUTH = 1 << 1,  /* never send credentials (foreign URLs) */
	REG_XFER_NO_RETRY = 1 << 2, /* one attempt (uploads from a stream) */
};

struct reg_xfer {
	struct reg_client *c;
	struct reg_xfer *next;
	unsigned flags;
	char *method;
	char *url;
	char *scope; /* "repository:x:pull" (space-separated when several) */
	struct kiln_strv req_headers;
	const char *what; /* "manifest", "blob sha256:..." for messages */

	/* request body: memory or a file range */
	const char *body;
	size_t body_len;
	int body_fd;
	int64_t body_off;
	int64_t body_size;
	int64_t sent;
	int has_body;

	/* response */
	long status;
	struct kiln_strv resp_headers; /* "name: value", name lower-case; final answer only */
	struct kiln_buf resp;	       /* body when no sink took it (capped) */
	size_t resp_max;
	struct reg_sink sink;
	/** Upload progress: called after each piece of the body went out. */
	void (*on_sent)(void *data, struct reg_xfer *x);
	void *on_sent_data;
	int sink_active;
	int64_t received;
	int64_t resume_offset;

	/* engine state */
	int attempt;
	int auth_retried;
	int64_t not_before_ms;
	CURL *easy;
	struct curl_slist *slist;
	char errbuf[CURL_ERROR_SIZE];
	struct kiln_error fail; /* an error raised inside a callback */
	int failed;
	int finished;
	reg_done_fn done;
	void *done_data;
};

/* ---- client ---- */

/** A client for the registry of reference domain `domain`. */
int reg_client_new(const struct kiln_ctx *ctx, const char *domain,
		   const struct kiln_registry_opts *opts, struct reg_client **ret,
		   struct kiln_error *err);
void reg_client_free(struct reg_client *c);
KILN_DEFINE_CLEANUP(struct reg_client, reg_client_free)

/** Probe /v2/ (scheme, authentication) once; later calls do nothing. */
int reg_client_ping(struct reg_client *c, struct kiln_error *err);

/** Emit a progress event to the caller's callback. */
void reg_event(struct reg_client *c, enum kiln_registry_event_kind kind, const char *digest,
	       const char *what, int64_t done, int64_t total, const char *msg);

/** "https://host/v2/<repo>/<suffix>"; NULL on ENOMEM. */
char *reg_url(struct reg_client *c, const char *repo, const char *suffix);
/** Resolve a Location header against the registry's base URL. */
char *reg_resolve_location(struct reg_client *c, const char *location);

/* ---- authentication (auth.c) ---- */

/** The Authorization header line for a scope (may fetch a token), or NULL in *ret. */
int reg_auth_header(struct reg_client *c, const char *scope, int force_new, char **ret,
		    struct kiln_error *err);
/** Take a 401 answer's challenge into account (scheme, realm, service). */
int reg_auth_challenge(struct reg_client *c, const struct reg_xfer *x, struct kiln_error *err);
/** Fill c->creds from opts->creds or the authfile. */
int reg_auth_load_creds(struct reg_client *c, struct kiln_error *err);
/** Set up a curl handle with the client's TLS and protocol settings. */
int reg_curl_setup(struct reg_client *c, CURL *h, const char *url, struct kiln_error *err);

/* ---- transfers (xfer.c) ---- */

int reg_xfer_new(struct reg_client *c, const char *method, const char *url, const char *scope,
		 struct reg_xfer **ret, struct kiln_error *err);
void reg_xfer_free(struct reg_xfer *x);
KILN_DEFINE_CLEANUP(struct reg_xfer, reg_xfer_free)
int reg_xfer_header(struct reg_xfer *x, const char *line, struct kiln_error *err);
/** A response header value (name lower-case), or NULL. */
const char *reg_xfer_get(const struct reg_xfer *x, const char *name);
/** Queue a transfer (the engine owns it unless REG_XFER_KEEP). */
void reg_queue(struct reg_client *c, struct reg_xfer *x);
/** Run until every queued transfer finished; the first error aborts the rest. */
int reg_run(struct reg_client *c, struct kiln_error *err);
/**
 * Run one transfer now, outside the engine (the ping, token requests), with
 * the same retries; curl's result in *ret_code (the caller judges it and the
 * status). Never authenticates on its own.
 */
int reg_xfer_perform(struct reg_client *c, struct reg_xfer *x, CURLcode *ret_code,
		     struct kiln_error *err);
/** Queue `x` (kept) and run. */
int reg_do(struct reg_client *c, struct reg_xfer *x, struct kiln_error *err);
/**
 * Fail with the registry's own words for an unexpected status:
 * "registry H: GET URL: 404 Not Found: MANIFEST_UNKNOWN: manifest unknown".
 * The code is KILN_ENOTFOUND for 404, KILN_EAUTH for 401/403, else KILN_ENET.
 */
int reg_fail_status(struct reg_client *c, const struct reg_xfer *x, struct kiln_error *err);
/** Like kiln_fail, with "registry H: METHOD URL: " before the message. */
int reg_fail(struct reg_client *c, const struct reg_xfer *x, enum kiln_err code,
	     struct kiln_error *err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- the blob-location table (blobinfo.c) ---- */

struct kiln_store;
/** Create or upgrade the table (once per operation, outside transactions). */
int reg_blobinfo_init(struct kiln_store *st, struct kiln_error *err);
/** Remember that `repo` ("path") of registry `domain` holds `digest` (kept if known). */
int reg_blobinfo_add(struct kiln_store *st, const char *domain, const char *repo,
		     const char *digest, struct kiln_error *err);
/** Another repository of `domain` known to hold `digest` (heap string), or NULL. */
int reg_blobinfo_find(struct kiln_store *st, const char *domain, const char *digest,
		      const char *not_repo, char **ret, struct kiln_error *err);
/** Forget that `repo` holds `digest` (a mount from it failed). */
int reg_blobinfo_remove(struct kiln_store *st, const char *domain, const char *repo,
			const char *digest, struct kiln_error *err);

/* ---- content that is not an image (pull.c, push.c; used by repo.c) ---- */

/** GET a manifest or index by tag or digest: its bytes and digest (checked against `want`). */
int reg_fetch_manifest(struct reg_client *c, const char *repo, const char *reference,
		       const struct kiln_digest *want, int64_t want_size, char **ret_body,
		       size_t *ret_len, struct kiln_digest *ret_digest, struct kiln_error *err);
/** Download the blobs the store lacks (several at a time, verified); remember where they are. */
int reg_fetch_blobs(struct reg_client *c, struct kiln_store *st, const char *repo,
		    const struct kiln_oci_descriptor *d, size_t n, struct kiln_error *err);
/** Push blobs from the store: HEAD, else a cross-repository mount, else an upload. */
int reg_push_blobs(struct reg_client *c, struct kiln_store *st, const char *repo,
		   const struct kiln_oci_descriptor *d, size_t n, struct kiln_error *err);
/** PUT a manifest or index under a tag (or its digest), byte for byte. */
int reg_put_manifest(struct reg_client *c, const char *repo, const char *tag,
		     const char *media_type, const char *body, size_t len,
		     const struct kiln_digest *d, struct kiln_error *err);
