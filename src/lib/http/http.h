/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * libcurl, set up the first time a command needs HTTP.
 *
 * Debian's libcurl.so.4 brings about 30 shared libraries with it (OpenSSL,
 * GnuTLS, Kerberos, LDAP, SASL, ssh2, rtmp, ...), which cost a process 6 to
 * 8 MiB of resident memory (docs/internals/footprint.md). So kiln either
 * links the HTTP(S)-only libcurl that scripts/build-libcurl makes
 * (http-linked.c; Meson's default when it is there), or, without it, maps
 * Debian's libcurl.so.4 only when a pull, a push, a login or a build that
 * fetches something asks for it (http.c). Both fill this table, so callers
 * do not know which. Types and constants come from <curl/curl.h> as usual;
 * only the functions come from here:
 *
 *	const struct kiln_http_curl *curl;
 *	int r = kiln_http_load(&curl, err);
 *	if (r < 0)
 *		return r;
 *	CURL *h = curl->easy_init();
 *	(void) curl->easy_setopt(h, CURLOPT_URL, url);
 */

#include <curl/curl.h>

struct kiln_error;

/* A member with the name `name` and the type of curl_`name` from curl.h. */
#define KILN_HTTP_CURL_FN(name) __typeof__(curl_##name) *name

/**
 * The libcurl functions kiln calls, linked or resolved from libcurl.so.4.
 * Filled once per process and never written again; call through it from any
 * thread.
 */
struct kiln_http_curl {
	KILN_HTTP_CURL_FN(version);
	KILN_HTTP_CURL_FN(version_info);
	KILN_HTTP_CURL_FN(global_init);
	KILN_HTTP_CURL_FN(getdate);
	KILN_HTTP_CURL_FN(slist_append);
	KILN_HTTP_CURL_FN(slist_free_all);
	KILN_HTTP_CURL_FN(easy_init);
	KILN_HTTP_CURL_FN(easy_setopt);
	KILN_HTTP_CURL_FN(easy_getinfo);
	KILN_HTTP_CURL_FN(easy_perform);
	KILN_HTTP_CURL_FN(easy_cleanup);
	KILN_HTTP_CURL_FN(easy_strerror);
	KILN_HTTP_CURL_FN(multi_init);
	KILN_HTTP_CURL_FN(multi_setopt);
	KILN_HTTP_CURL_FN(multi_add_handle);
	KILN_HTTP_CURL_FN(multi_remove_handle);
	KILN_HTTP_CURL_FN(multi_perform);
	KILN_HTTP_CURL_FN(multi_poll);
	KILN_HTTP_CURL_FN(multi_info_read);
	KILN_HTTP_CURL_FN(multi_cleanup);
	KILN_HTTP_CURL_FN(share_init);
	KILN_HTTP_CURL_FN(share_setopt);
	KILN_HTTP_CURL_FN(share_cleanup);
};

/** The shared object kiln loads when libcurl is not linked (its SONAME). */
#define KILN_HTTP_CURL_SONAME "libcurl.so.4"
/** The oldest libcurl kiln accepts: 7.85.0 has CURLOPT_PROTOCOLS_STR. */
#define KILN_HTTP_CURL_MIN 0x075500
#define KILN_HTTP_CURL_MIN_STR "7.85.0"

/**
 * Load libcurl.so.4 if it is not linked, and run
 * curl_global_init(CURL_GLOBAL_DEFAULT), once per process (the first caller
 * does it, concurrent callers wait for it), and point *ret at its function
 * table. A failure is final for the process: every later call fails the same
 * way, KILN_EUNSUPP with "libcurl.so.4 cannot be loaded: ...". libcurl stays
 * set up until the process exits (no curl_global_cleanup(), no dlclose()).
 */
int kiln_http_load(const struct kiln_http_curl **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Have every https connection of h accept a server certificate for an
 * IP-address host by the address in its subjectAltName, as RFC 6125 asks
 * (a registry reached as 10.0.0.5:5000). mbedTLS 2.28, the linked libcurl's
 * TLS library, compares the host with DNS names and the CN only; with
 * libcurl.so.4 (OpenSSL) this does nothing. Sets CURLOPT_SSL_CTX_FUNCTION.
 */
CURLcode kiln_http_tls_ip_names(CURL *h);
