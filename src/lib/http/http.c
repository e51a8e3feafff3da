/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl through dlopen(): resolved once per process, on first use.
 *
 * The table lives in one file-scope object, the only one of its kind in
 * src/lib, written inside pthread_once() and read-only afterwards. A context
 * object would not make it less global: the mapping dlopen() makes, and the
 * state curl_global_init() sets up, belong to the process whatever holds the
 * pointers, and neither can be undone safely (OpenSSL's exit handlers stay
 * registered). Loading once per process is what the library allows; the
 * reasoning is in docs/internals/footprint.md.
 */
#include "http/http.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

struct loaded {
	struct kiln_http_curl curl;
	int ok;
	char msg[512]; /* why loading failed, when !ok */
};

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
/* written once, by load() under load_once; never after */
static struct loaded loaded;

#define SYM(name)                                                                                  \
	{                                                                                          \
		"curl_" #name, offsetof(struct kiln_http_curl, name)                               \
	}

static const struct sym {
	const char *name;
	size_t offset;
} syms[] = {
	SYM(version),	    SYM(version_info),	 SYM(global_init),	SYM(getdate),
	SYM(slist_append),  SYM(slist_free_all), SYM(easy_init),	SYM(easy_setopt),
	SYM(easy_getinfo),  SYM(easy_perform),	 SYM(easy_cleanup),	SYM(easy_strerror),
	SYM(multi_init),    SYM(multi_setopt),	 SYM(multi_add_handle), SYM(multi_remove_handle),
	SYM(multi_perform), SYM(multi_poll),	 SYM(multi_info_read),	SYM(multi_cleanup),
	SYM(share_init),    SYM(share_setopt),	 SYM(share_cleanup),
};

_Static_assert(sizeof(syms) / sizeof(syms[0]) * sizeof(void (*)(void)) ==
		       sizeof(struct kiln_http_curl),
	       "every member of struct kiln_http_curl has a row in syms[]");

__attribute__((format(printf, 2, 3))) static void fail(struct loaded *l, const char *fmt, ...)
{
	int n = snprintf(l->msg, sizeof(l->msg), "%s cannot be loaded: ", KILN_HTTP_CURL_SONAME);
	if (n < 0 || (size_t) n >= sizeof(l->msg))
		return;
	va_list ap;
	va_start(ap, fmt);
	(void) vsnprintf(l->msg + n, sizeof(l->msg) - (size_t) n, fmt, ap);
	va_end(ap);
}

static void load(void)
{
	struct loaded *l = &loaded;
	/*
	 * RTLD_NOW: a libcurl with unresolvable dependencies fails here, with a
	 * message, not in the middle of a transfer. RTLD_LOCAL: its symbols (and
	 * those of its OpenSSL, zlib, zstd, nettle) stay out of the global scope.
	 * The other way round holds too: kiln exports no symbol of the static
	 * zlib, zstd or nettle inside it, so libcurl binds to its own.
	 */
	void *h = dlopen(KILN_HTTP_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		fail(l, "%s (kiln needs it for HTTP; Debian's package is libcurl4)",
		     e ? e : "unknown error");
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(h, syms[i].name);
		if (!p) {
			fail(l, "it has no %s", syms[i].name);
			return;
		}
		/* POSIX: a function pointer fits and round-trips through void * */
		memcpy((char *) &l->curl + syms[i].offset, &p, sizeof(p));
	}
	const curl_version_info_data *v = l->curl.version_info(CURLVERSION_NOW);
	if (!v || v->version_num < KILN_HTTP_CURL_MIN) {
		fail(l, "version %s is older than " KILN_HTTP_CURL_MIN_STR ", which kiln needs",
		     v && v->version ? v->version : "(unknown)");
		return;
	}
	CURLcode code = l->curl.global_init(CURL_GLOBAL_DEFAULT);
	if (code != CURLE_OK) {
		fail(l, "curl_global_init: %s", l->curl.easy_strerror(code));
		return;
	}
	l->ok = 1;
}

int kiln_http_load(const struct kiln_http_curl **ret, struct kiln_error *err)
{
	int r = pthread_once(&load_once, load);
	if (r != 0)
		return kiln_fail(err, KILN_EINTERNAL, r, "%s: pthread_once failed",
				 KILN_HTTP_CURL_SONAME);
	if (!loaded.ok)
		return kiln_fail(err, KILN_EUNSUPP, 0, "%s", loaded.msg);
	*ret = &loaded.curl;
	return 0;
}

CURLcode kiln_http_tls_ip_names(CURL *h)
{
	/* libcurl.so.4's OpenSSL checks iPAddress names itself */
	(void) h;
	return CURLE_OK;
}
