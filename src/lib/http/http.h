/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * libcurl, loaded the first time a command needs HTTP.
 *
 * kiln links no -lcurl: Debian's libcurl.so.4 brings about 30 shared
 * libraries with it (OpenSSL, GnuTLS, Kerberos, LDAP, SASL, ssh2, rtmp, ...),
 * which cost a process 6 to 7 MiB of resident memory and most of its start-up
 * time before main() (docs/internals/footprint.md). So the binary maps it
 * only when a pull, a push, a login or a build that fetches something asks
 * for it, through this table. Types and constants come from <curl/curl.h> as
 * usual; only the functions come from here:
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
 * The libcurl functions kiln calls, resolved from libcurl.so.4. Filled once
 * per process and never written again; call through it from any thread.
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

/** The shared object kiln loads (its SONAME). */
#define KILN_HTTP_CURL_SONAME "libcurl.so.4"
/** The oldest libcurl kiln accepts: 7.85.0 has CURLOPT_PROTOCOLS_STR. */
#define KILN_HTTP_CURL_MIN 0x075500
#define KILN_HTTP_CURL_MIN_STR "7.85.0"

/**
 * Load libcurl.so.4 and run curl_global_init(CURL_GLOBAL_DEFAULT), once per
 * process (the first caller does it, concurrent callers wait for it), and
 * point *ret at its function table. A failure is final for the process:
 * every later call fails the same way, KILN_EUNSUPP with
 * "libcurl.so.4 cannot be loaded: ...". libcurl stays loaded until the
 * process exits (no curl_global_cleanup(), no dlclose()).
 */
int kiln_http_load(const struct kiln_http_curl **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
