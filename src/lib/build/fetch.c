/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ADD's URLs (and a context's): downloaded with libcurl into a scratch
 * directory of the build, the file named after the URL's last path
 * element, mode 0600, Last-Modified as its mtime (else 0), --checksum verified.
 * Git repositories are fetch-git.c's.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/gotext.h"
#include "build/build-private.h"
#include "http/http.h"

#define URL_MAX_BYTES ((curl_off_t) 64 << 30)

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

int bb_is_git(const char *s)
{
	if (!strncmp(s, "git://", 6) || !strncmp(s, "ssh://", 6))
		return 1;
	if (!strncmp(s, "git@", 4) && strchr(s, ':'))
		return 1;
	if (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8)) {
		size_t n = strcspn(s, "#?");
		return n >= 4 && !strncmp(s + n - 4, ".git", 4);
	}
	return 0;
}

int bb_is_url(const char *s)
{
	return (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8)) && !bb_is_git(s);
}

int bb_tmpdir(struct bb *b, const char *what, char **ret, struct kiln_error *err)
{
	char *p = kiln_asprintf("%s/%s-XXXXXX", b->tmp_root, what);
	if (!p)
		return oom(err);
	if (!mkdtemp(p)) {
		int r = kiln_fail_errno(err, "creating a scratch directory in %s", b->tmp_root);
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

/* ---- URLs ----------------------------------------------------------------- */


/* path.Base of the URL's (unescaped) path, "__unnamed__" when it has none */
static char *url_file_name(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	p += strcspn(p, "/?#");
	size_t n = strcspn(p, "?#");
	while (n > 0 && p[n - 1] == '/')
		n--;
	size_t s = n;
	while (s > 0 && p[s - 1] != '/')
		s--;
	char *name = kiln_malloc(n - s + 1);
	if (!name)
		return NULL;
	size_t w = 0;
	for (size_t i = s; i < n; i++) {
		if (p[i] == '%' && i + 2 < n + 1 && kiln_go_unhex(p[i + 1]) >= 0 &&
		    kiln_go_unhex(p[i + 2]) >= 0) {
			name[w++] = (char) (kiln_go_unhex(p[i + 1]) * 16 + kiln_go_unhex(p[i + 2]));
			i += 2;
		} else {
			name[w++] = p[i];
		}
	}
	name[w] = '\0';
	if (!w || !strcmp(name, ".") || !strcmp(name, "..") || memchr(name, '/', w) ||
	    strlen(name) != w) {
		free(name);
		return kiln_strdup("__unnamed__");
	}
	return name;
}

struct download {
	int fd;
	struct kiln_sha256 *h;
	int write_errno;
	const struct kiln_ctx *ctx;
	struct bb_url_validators *seen; /* NULL: not asked for */
	int header_oom;
};

/* "Name: value\r\n" when the header is `name`: a copy of the value */
static int header_value(const char *data, size_t len, const char *name, char **ret)
{
	size_t nl = strlen(name);
	if (len <= nl || data[nl] != ':' || strncasecmp(data, name, nl) != 0)
		return 0;
	const char *v = data + nl + 1;
	size_t vl = len - nl - 1;
	while (vl && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
		vl--;
	free(*ret);
	*ret = vl ? kiln_strndup(v, vl) : NULL;
	return vl && !*ret ? -1 : 1;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	struct download *d = ud;
	size_t len = size * n;
	if (!d->seen)
		return len;
	/* a status line starts a response: a redirect's headers are not the content's */
	if (len >= 5 && !strncmp(data, "HTTP/", 5))
		bb_url_validators_release(d->seen);
	else if (header_value(data, len, "etag", &d->seen->etag) < 0 ||
		 header_value(data, len, "last-modified", &d->seen->last_modified) < 0)
		d->header_oom = 1;
	return len;
}

static size_t on_data(char *data, size_t size, size_t n, void *ud)
{
	struct download *d = ud;
	size_t len = size * n;
	int r = kiln_write_all(d->fd, data, len);
	if (r < 0) {
		d->write_errno = -r;
		return 0;
	}
	kiln_sha256_update(d->h, data, len);
	return len;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void) dt, (void) dn, (void) ut, (void) un;
	struct download *d = ud;
	return kiln_cancelled(d->ctx) ? 1 : 0;
}

int bb_url_checksum(const char *checksum, struct kiln_digest *ret, struct kiln_error *err)
{
	if (strncmp(checksum, "sha256:", 7) != 0)
		return kiln_fail(err, KILN_EUNSUPP, 0,
				 "ADD --checksum=%s: only sha256 checksums are supported", checksum);
	int r = kiln_digest_parse(checksum, ret, err);
	return r < 0 ? kiln_error_prefix(err, r, "ADD --checksum") : 0;
}

static int download(struct bb *b, const struct bb_vertex *v, const char *as, const char *url,
		    const char *checksum, const struct bb_url_validators *known, char **ret_dir,
		    char **ret_name, struct kiln_digest *ret_digest,
		    struct bb_url_validators *ret_seen, struct kiln_error *err)
{
	struct kiln_digest want;
	int r;
	if (checksum && (r = bb_url_checksum(checksum, &want, err)) < 0)
		return r;
	const struct kiln_http_curl *curl;
	if ((r = kiln_http_load(&curl, err)) < 0)
		return kiln_error_prefix(err, r, "%s %s", as, url);
	cleanup_free char *name = url_file_name(url);
	cleanup_free char *dir = NULL;
	if (!name)
		return oom(err);
	if ((r = bb_tmpdir(b, "url", &dir, err)) < 0)
		return r;
	cleanup_free char *path = kiln_asprintf("%s/%s", dir, name);
	if (!path)
		return oom(err);
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return kiln_fail_errno(err, "creating %s", path);
	struct download d = { .fd = fd, .ctx = &b->ctx, .seen = ret_seen };
	/* a conditional request: the content the server had when it said this */
	struct curl_slist *conds = NULL;
	cleanup_free char *inm = known && known->etag
					 ? kiln_asprintf("If-None-Match: %s", known->etag)
					 : NULL;
	cleanup_free char *ims = known && known->last_modified
					 ? kiln_asprintf("If-Modified-Since: %s", known->last_modified)
					 : NULL;
	int conds_oom = (known && known->etag && !inm) || (known && known->last_modified && !ims);
	const char *const cond_headers[] = { inm, ims };
	for (size_t i = 0; !conds_oom && i < KILN_ARRAY_SIZE(cond_headers); i++) {
		if (!cond_headers[i])
			continue;
		struct curl_slist *l = curl->slist_append(conds, cond_headers[i]);
		conds_oom = !l;
		conds = l ? l : conds;
	}
	if (conds_oom || (r = kiln_sha256_new(&d.h, err)) < 0) {
		curl->slist_free_all(conds);
		return conds_oom ? oom(err) : r;
	}
	bb_status(b, v, "downloading %s", url);
	CURL *c = curl->easy_init();
	if (!c) {
		curl->slist_free_all(conds);
		kiln_sha256_free(d.h);
		return kiln_fail(err, KILN_ENOMEM, 0, "libcurl could not start");
	}
	char ebuf[CURL_ERROR_SIZE] = "";
	(void) curl->easy_setopt(c, CURLOPT_URL, url);
	(void) curl->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	(void) curl->easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	(void) curl->easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	(void) curl->easy_setopt(c, CURLOPT_FILETIME, 1L);
	(void) curl->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void) curl->easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	(void) curl->easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, URL_MAX_BYTES);
	(void) curl->easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	(void) curl->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	(void) curl->easy_setopt(c, CURLOPT_WRITEDATA, &d);
	(void) curl->easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	(void) curl->easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	(void) curl->easy_setopt(c, CURLOPT_XFERINFODATA, &d);
	(void) curl->easy_setopt(c, CURLOPT_USERAGENT, "kiln");
	(void) curl->easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	(void) curl->easy_setopt(c, CURLOPT_HEADERDATA, &d);
	if (conds)
		(void) curl->easy_setopt(c, CURLOPT_HTTPHEADER, conds);
	CURLcode cc = kiln_http_tls_ip_names(c);
	if (cc == CURLE_OK)
		cc = curl->easy_perform(c);
	curl_off_t filetime = -1;
	long status = 0;
	(void) curl->easy_getinfo(c, CURLINFO_FILETIME_T, &filetime);
	(void) curl->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl->easy_cleanup(c);
	curl->slist_free_all(conds);
	struct kiln_digest got;
	kiln_sha256_final(d.h, &got);
	kiln_sha256_free(d.h);
	if (cc == CURLE_ABORTED_BY_CALLBACK)
		return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
	if (d.write_errno)
		return kiln_fail(err, KILN_EIO, d.write_errno, "writing the download of %s", url);
	if (cc != CURLE_OK)
		return kiln_fail(err, KILN_ENET, 0, "%s %s: %s", as, url,
				 *ebuf ? ebuf : curl->easy_strerror(cc));
	if (d.header_oom)
		return oom(err);
	if (known && status == 304) {
		/* unchanged: the content is what the record says, nothing was fetched */
		struct kiln_error e = KILN_ERROR_INIT;
		(void) kiln_rm_rf(dir, &e);
		kiln_error_release(&e);
		return 1;
	}
	if (checksum && !kiln_digest_equal(&want, &got))
		return kiln_fail(err, KILN_EDIGEST, 0,
				 "%s %s: checksum mismatch: expected %s, downloaded %s", as, url,
				 want.str, got.str);
	/* Last-Modified becomes the file's time, and without one 1970, as
	 * BuildKit's http source has it (never the time of the download) */
	time_t ft = filetime >= 0 ? (time_t) filetime : 0;
	struct timespec ts[2] = { { ft, 0 }, { ft, 0 } };
	if (futimens(fd, ts) < 0)
		return kiln_fail_errno(err, "setting the time of %s", path);
	if (fchmod(fd, 0600) < 0)
		return kiln_fail_errno(err, "chmod %s", path);
	*ret_dir = steal_ptr(&dir);
	*ret_name = steal_ptr(&name);
	*ret_digest = got;
	return 0;
}

int bb_fetch_url_as(struct bb *b, const struct bb_vertex *v, const char *as, const char *url,
		    const char *checksum, char **ret_dir, char **ret_name,
		    struct kiln_digest *ret_digest, struct kiln_error *err)
{
	return download(b, v, as, url, checksum, NULL, ret_dir, ret_name, ret_digest, NULL, err);
}

int bb_fetch_url_cond(struct bb *b, const struct bb_vertex *v, const char *url,
		      const struct bb_url_validators *known, char **ret_dir, char **ret_name,
		      struct kiln_digest *ret_digest, struct bb_url_validators *ret_seen,
		      struct kiln_error *err)
{
	return download(b, v, "ADD", url, NULL, known, ret_dir, ret_name, ret_digest, ret_seen,
			err);
}

int bb_fetch_url(struct bb *b, const struct bb_vertex *v, const char *url, const char *checksum,
		 char **ret_dir, char **ret_name, struct kiln_digest *ret_digest,
		 struct kiln_error *err)
{
	return bb_fetch_url_as(b, v, "ADD", url, checksum, ret_dir, ret_name, ret_digest, err);
}
