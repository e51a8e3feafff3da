/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transfer engine: HTTP requests on one curl multi handle, several at a
 * time, with retries (exponential backoff, Retry-After), one authentication
 * round per 401, bounded answers, and done callbacks that may queue more.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "registry/registry-private.h"

#define HEADER_LINE_MAX 16384
#define HEADERS_MAX 256
#define BACKOFF_BASE_MS 200
#define BACKOFF_MAX_MS 10000

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int reg_xfer_new(struct reg_client *c, const char *method, const char *url, const char *scope,
		 struct reg_xfer **ret, struct kiln_error *err)
{
	cleanup(reg_xfer_freep) struct reg_xfer *x = kiln_calloc(1, sizeof(*x));
	if (!x)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	x->c = c;
	x->body_fd = -1;
	kiln_buf_init(&x->resp, KILN_REGISTRY_ERROR_BODY_MAX);
	x->resp_max = KILN_REGISTRY_ERROR_BODY_MAX;
	x->method = kiln_strdup(method);
	x->url = kiln_strdup(url);
	x->scope = scope ? kiln_strdup(scope) : NULL;
	if (!x->method || !x->url || (scope && !x->scope))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	*ret = steal_ptr(&x);
	return 0;
}

static void xfer_detach(struct reg_xfer *x)
{
	/* a handle or a header list exists only once x->c loaded libcurl */
	if (x->easy) {
		if (x->c->multi)
			(void) x->c->curl->multi_remove_handle(x->c->multi, x->easy);
		x->c->curl->easy_cleanup(x->easy);
		x->easy = NULL;
	}
	if (x->slist)
		x->c->curl->slist_free_all(x->slist);
	x->slist = NULL;
}

void reg_xfer_free(struct reg_xfer *x)
{
	if (!x)
		return;
	xfer_detach(x);
	free(x->method);
	free(x->url);
	free(x->scope);
	kiln_strv_release(&x->req_headers);
	kiln_strv_release(&x->resp_headers);
	kiln_buf_release(&x->resp);
	kiln_error_release(&x->fail);
	free(x);
}

int reg_xfer_header(struct reg_xfer *x, const char *line, struct kiln_error *err)
{
	if (kiln_strv_push(&x->req_headers, line) < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

const char *reg_xfer_get(const struct reg_xfer *x, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < x->resp_headers.len; i++) {
		const char *h = x->resp_headers.items[i];
		if (strncmp(h, name, n) == 0 && h[n] == ':')
			return h + n + (h[n + 1] == ' ' ? 2 : 1);
	}
	return NULL;
}

static int fail_in_callback(struct reg_xfer *x, struct kiln_error *e)
{
	kiln_error_move(&x->fail, e);
	x->failed = 1;
	return 0;
}

static int final_status(const struct reg_xfer *x)
{
	if (x->status < 200)
		return 0;
	/* curl follows a redirect only when it has a Location */
	if (x->status >= 300 && x->status < 400 && reg_xfer_get(x, "location") &&
	    (strcmp(x->method, "GET") == 0 || strcmp(x->method, "HEAD") == 0))
		return 0;
	return 1;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct reg_xfer *x = userdata;
	size_t len = size * nitems;
	size_t n = len;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		const char *sp = memchr(buf, ' ', n);
		x->status = 0;
		if (sp && sp + 4 <= buf + n)
			x->status = strtol(sp + 1, NULL, 10);
		kiln_strv_release(&x->resp_headers);
		return len;
	}
	if (n == 0) {
		if (final_status(x) && x->status >= 200 && x->status < 300 && x->sink.begin &&
		    !x->sink_active) {
			struct kiln_error e = KILN_ERROR_INIT;
			if (x->sink.begin(x->sink.data, x, &e) < 0)
				return fail_in_callback(x, &e);
			x->sink_active = 1;
		}
		return len;
	}
	if (n > HEADER_LINE_MAX || x->resp_headers.len >= HEADERS_MAX) {
		struct kiln_error e = KILN_ERROR_INIT;
		kiln_fail(&e, KILN_ELIMIT, 0, "more than %d headers or a header past %d bytes",
			  HEADERS_MAX, HEADER_LINE_MAX);
		return fail_in_callback(x, &e);
	}
	const char *colon = memchr(buf, ':', n);
	if (!colon)
		return len; /* obs-fold or junk: ignored */
	size_t nl = (size_t) (colon - buf);
	const char *v = colon + 1;
	while (v < buf + n && (*v == ' ' || *v == '\t'))
		v++;
	size_t vl = (size_t) (buf + n - v);
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	char *line = kiln_asprintf("%.*s: %.*s", (int) nl, buf, (int) vl, v);
	if (!line) {
		struct kiln_error e = KILN_ERROR_INIT;
		kiln_fail(&e, KILN_ENOMEM, 0, "out of memory");
		return fail_in_callback(x, &e);
	}
	for (size_t i = 0; i < nl; i++)
		if (line[i] >= 'A' && line[i] <= 'Z')
			line[i] = (char) (line[i] - 'A' + 'a');
	if (kiln_strv_push_owned(&x->resp_headers, line) < 0) {
		struct kiln_error e = KILN_ERROR_INIT;
		kiln_fail(&e, KILN_ENOMEM, 0, "out of memory");
		return fail_in_callback(x, &e);
	}
	return len;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct reg_xfer *x = userdata;
	size_t n = size * nmemb;
	if (x->failed)
		return 0;
	if (x->sink_active) {
		struct kiln_error e = KILN_ERROR_INIT;
		if (x->sink.write(x->sink.data, x, ptr, n, &e) < 0)
			return fail_in_callback(x, &e);
		x->received += (int64_t) n;
		return n;
	}
	int ok2xx = x->status >= 200 && x->status < 300;
	if (x->resp.len + n > x->resp_max) {
		if (!ok2xx)
			return n; /* the start of an error body is enough */
		struct kiln_error e = KILN_ERROR_INIT;
		kiln_fail(&e, KILN_ELIMIT, 0, "answer larger than %zu bytes", x->resp_max);
		return fail_in_callback(x, &e);
	}
	if (kiln_buf_add(&x->resp, ptr, n) < 0) {
		struct kiln_error e = KILN_ERROR_INIT;
		kiln_fail(&e, KILN_ENOMEM, 0, "out of memory");
		return fail_in_callback(x, &e);
	}
	x->received += (int64_t) n;
	return n;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct reg_xfer *x = userdata;
	size_t want = size * nitems;
	int64_t total = x->body_fd >= 0 ? x->body_size : (int64_t) x->body_len;
	int64_t left = total - x->sent;
	if (left <= 0)
		return 0;
	if ((int64_t) want > left)
		want = (size_t) left;
	if (x->body_fd >= 0) {
		ssize_t n;
		do
			n = pread(x->body_fd, buf, want, (off_t) (x->body_off + x->sent));
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			struct kiln_error e = KILN_ERROR_INIT;
			if (n < 0)
				kiln_fail_errno(&e, "reading the blob to upload");
			else
				kiln_fail(&e, KILN_EIO, 0,
					  "the blob to upload is shorter than expected");
			fail_in_callback(x, &e);
			return CURL_READFUNC_ABORT;
		}
		x->sent += n;
		if (x->on_sent)
			x->on_sent(x->on_sent_data, x);
		return (size_t) n;
	}
	memcpy(buf, x->body + x->sent, want);
	x->sent += (int64_t) want;
	if (x->on_sent)
		x->on_sent(x->on_sent_data, x);
	return want;
}

static int add_header(const struct reg_client *c, struct curl_slist **l, const char *h)
{
	struct curl_slist *n = c->curl->slist_append(*l, h);
	if (!n)
		return -1;
	*l = n;
	return 0;
}

static int setup_easy(struct reg_client *c, struct reg_xfer *x, struct kiln_error *err)
{
	xfer_detach(x);
	x->status = 0;
	kiln_strv_release(&x->resp_headers);
	kiln_buf_reset(&x->resp);
	x->sink_active = 0;
	x->received = 0;
	x->sent = 0;
	x->failed = 0;
	kiln_error_release(&x->fail);
	x->resume_offset = x->sink.resume_from ? x->sink.resume_from(x->sink.data, x) : 0;

	x->easy = c->curl->easy_init();
	if (!x->easy)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int r = reg_curl_setup(c, x->easy, x->url, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < x->req_headers.len; i++)
		if (add_header(c, &x->slist, x->req_headers.items[i]) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (add_header(c, &x->slist, "Expect:") < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (!(x->flags & REG_XFER_NO_AUTH)) {
		cleanup_free char *auth = NULL;
		r = reg_auth_header(c, x->scope, x->auth_retried == 1, &auth, err);
		if (r < 0)
			return r;
		if (x->auth_retried == 1)
			x->auth_retried = 2;
		if (auth && add_header(c, &x->slist, auth) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	if (x->resume_offset > 0) {
		char range[64];
		snprintf(range, sizeof(range), "Range: bytes=%lld-", (long long) x->resume_offset);
		if (add_header(c, &x->slist, range) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	CURL *h = x->easy;
	(void) c->curl->easy_setopt(h, CURLOPT_HTTPHEADER, x->slist);
	(void) c->curl->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	(void) c->curl->easy_setopt(h, CURLOPT_HEADERDATA, x);
	(void) c->curl->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	(void) c->curl->easy_setopt(h, CURLOPT_WRITEDATA, x);
	(void) c->curl->easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	(void) c->curl->easy_setopt(h, CURLOPT_PRIVATE, x);
	x->errbuf[0] = 0;
	int is_get = strcmp(x->method, "GET") == 0;
	if (strcmp(x->method, "HEAD") == 0) {
		(void) c->curl->easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!is_get) {
		(void) c->curl->easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
		if (x->has_body || strcmp(x->method, "PUT") == 0 ||
		    strcmp(x->method, "PATCH") == 0 || strcmp(x->method, "POST") == 0) {
			int64_t size = x->body_fd >= 0 ? x->body_size : (int64_t) x->body_len;
			(void) c->curl->easy_setopt(h, CURLOPT_UPLOAD, 1L);
			(void) c->curl->easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t) size);
			(void) c->curl->easy_setopt(h, CURLOPT_READFUNCTION, on_read);
			(void) c->curl->easy_setopt(h, CURLOPT_READDATA, x);
		}
	}
	/* registries redirect blob downloads to storage; never other methods */
	if (is_get || strcmp(x->method, "HEAD") == 0) {
		(void) c->curl->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		(void) c->curl->easy_setopt(h, CURLOPT_MAXREDIRS, 8L);
	}
	return 0;
}

static int attempt_start(struct reg_client *c, struct reg_xfer *x, struct kiln_error *err)
{
	kiln_debug(c->ctx, "registry %s: %s %s", c->domain, x->method, x->url);
	int r = setup_easy(c, x, err);
	if (r < 0)
		return r;
	if (c->curl->multi_add_handle(c->multi, x->easy) != CURLM_OK)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	x->next = c->active;
	c->active = x;
	c->n_active++;
	return 0;
}

void reg_queue(struct reg_client *c, struct reg_xfer *x)
{
	x->next = NULL;
	struct reg_xfer **p = &c->queue;
	while (*p)
		p = &(*p)->next;
	*p = x;
}

static void requeue(struct reg_client *c, struct reg_xfer *x, int64_t delay_ms, const char *why)
{
	xfer_detach(x);
	x->attempt++;
	x->not_before_ms = now_ms() + delay_ms;
	reg_event(c, KILN_REG_EV_RETRY, NULL, x->what, x->attempt, delay_ms, why);
	kiln_debug(c->ctx, "registry %s: %s %s: %s; attempt %d in %lld ms", c->host, x->method,
		   x->url, why, x->attempt + 1, (long long) delay_ms);
	reg_queue(c, x);
}

static int64_t backoff_ms(int attempt)
{
	int64_t d = BACKOFF_BASE_MS;
	for (int i = 0; i < attempt && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	return d > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : d;
}

/* Retry-After in ms (delta-seconds or an HTTP date), -1 when absent or unreadable. */
static int64_t retry_after_ms(const struct reg_xfer *x)
{
	const char *v = reg_xfer_get(x, "retry-after");
	if (!v || !*v)
		return -1;
	char *end;
	errno = 0;
	long long s = strtoll(v, &end, 10);
	if (end != v && *end == 0 && errno == 0 && s >= 0)
		return s > 86400 ? 86400000LL : s * 1000;
	time_t t = x->c->curl->getdate(v, NULL);
	if (t < 0)
		return -1;
	time_t now = time(NULL);
	return t > now ? (int64_t) (t - now) * 1000 : 0;
}

/*
 * A TLS alert from the peer (a refused client certificate, ...) does not go
 * away on retry. In OpenSSL's words (Debian's libcurl.so.4), or mbedTLS's
 * (the linked libcurl), which do not name the alert.
 */
static int tls_refused(const struct reg_xfer *x)
{
	return strstr(x->errbuf, "SSL routines") || strstr(x->errbuf, " alert ") ||
	       strstr(x->errbuf, REG_TLS_ALERT_MBEDTLS);
}

static int retriable_curl(CURLcode code)
{
	switch (code) {
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

int reg_fail(struct reg_client *c, const struct reg_xfer *x, enum kiln_err code,
	     struct kiln_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (x->attempt > 0)
		return kiln_fail(err, code, 0, "registry %s: %s %s: %s (after %d attempts)",
				 c->domain, x->method, x->url, msg, x->attempt + 1);
	return kiln_fail(err, code, 0, "registry %s: %s %s: %s", c->domain, x->method, x->url, msg);
}

static const char *reason(long status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 416:
		return "Range Not Satisfiable";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "";
	}
}

int reg_fail_status(struct reg_client *c, const struct reg_xfer *x, struct kiln_error *err)
{
	enum kiln_err code = KILN_ENET;
	if (x->status == 404)
		code = KILN_ENOTFOUND;
	else if (x->status == 401 || x->status == 403)
		code = KILN_EAUTH;
	/* distribution's error body: {"errors":[{"code":"...","message":"...","detail":...}]} */
	char detail[512] = "";
	if (x->resp.len > 0) {
		json_error_t je;
		json_t *root = json_loadb(x->resp.buf, x->resp.len, 0, &je);
		json_t *errs = root ? json_object_get(root, "errors") : NULL;
		json_t *e0 = json_is_array(errs) ? json_array_get(errs, 0) : NULL;
		const char *ecode = e0 ? json_string_value(json_object_get(e0, "code")) : NULL;
		const char *emsg = e0 ? json_string_value(json_object_get(e0, "message")) : NULL;
		if (ecode || emsg)
			snprintf(detail, sizeof(detail), ": %s%s%s", ecode ? ecode : "",
				 ecode && emsg ? ": " : "", emsg ? emsg : "");
		json_decref(root);
	}
	return reg_fail(c, x, code, err, "%ld %s%s", x->status, reason(x->status), detail);
}

/* The engine is done with `x`: the caller keeps it or it goes. */
static void drop(struct reg_xfer *x)
{
	xfer_detach(x);
	if (!(x->flags & REG_XFER_KEEP))
		reg_xfer_free(x);
}

/*
 * One attempt of `x` ended with curl's `code`: retry, authenticate, or
 * finish. `x` is requeued or dropped here on every path.
 */
static int attempt_done(struct reg_client *c, struct reg_xfer *x, CURLcode code,
			struct kiln_error *err)
{
	int max = c->retries;
	int r;
	if (x->flags & REG_XFER_NO_RETRY)
		max = 0;
	if (x->failed) {
		struct kiln_error e = KILN_ERROR_INIT;
		kiln_error_move(&e, &x->fail);
		r = reg_fail(c, x, e.code, err, "%s", e.msg ? e.msg : kiln_strerror(e.code));
		kiln_error_release(&e);
		drop(x);
		return r;
	}
	if (code != CURLE_OK) {
		const char *msg = x->errbuf[0] ? x->errbuf : c->curl->easy_strerror(code);
		if (retriable_curl(code) && !tls_refused(x) && x->attempt < max) {
			requeue(c, x, backoff_ms(x->attempt), msg);
			return 0;
		}
		r = reg_fail(c, x, KILN_ENET, err, "%s", msg);
		drop(x);
		return r;
	}
	if (x->status == 401 && !(x->flags & REG_XFER_NO_AUTH)) {
		if (!x->auth_retried) {
			r = reg_auth_challenge(c, x, err);
			if (r < 0) {
				drop(x);
				return r;
			}
			x->auth_retried = 1;
			xfer_detach(x);
			x->not_before_ms = 0;
			reg_queue(c, x);
			return 0;
		}
		if (c->auth == REG_AUTH_BEARER)
			r = reg_fail(c, x, KILN_EAUTH, err,
				     "401 Unauthorized again with a fresh token%s",
				     c->have_creds ? " (do the credentials allow this access?)"
						   : "; log in with 'kiln login'");
		else
			r = reg_fail(c, x, KILN_EAUTH, err,
				     "401 Unauthorized: the registry refused the credentials");
		drop(x);
		return r;
	}
	if ((x->status == 429 || x->status == 500 || x->status == 502 || x->status == 503 ||
	     x->status == 504) &&
	    x->attempt < max) {
		int64_t delay = retry_after_ms(x);
		if (delay > (int64_t) KILN_REGISTRY_RETRY_AFTER_MAX * 1000) {
			r = reg_fail(c, x, KILN_ENET, err,
				     "%ld %s: asked to retry after %lld s, more than kiln waits",
				     x->status, reason(x->status), (long long) (delay / 1000));
			drop(x);
			return r;
		}
		char why[64];
		snprintf(why, sizeof(why), "%ld %s", x->status, reason(x->status));
		requeue(c, x, delay >= 0 ? delay : backoff_ms(x->attempt), why);
		return 0;
	}
	x->finished = 1;
	r = 0;
	if (x->done)
		r = x->done(c, x, x->done_data, err);
	drop(x);
	return r;
}

static void unlink_active(struct reg_client *c, struct reg_xfer *x)
{
	for (struct reg_xfer **p = &c->active; *p; p = &(*p)->next)
		if (*p == x) {
			*p = x->next;
			c->n_active--;
			break;
		}
	x->next = NULL;
}

static void abort_all(struct reg_client *c)
{
	while (c->active) {
		struct reg_xfer *x = c->active;
		unlink_active(c, x);
		xfer_detach(x);
		if (!(x->flags & REG_XFER_KEEP))
			reg_xfer_free(x);
	}
	while (c->queue) {
		struct reg_xfer *x = c->queue;
		c->queue = x->next;
		x->next = NULL;
		if (!(x->flags & REG_XFER_KEEP))
			reg_xfer_free(x);
	}
}

int reg_run(struct reg_client *c, struct kiln_error *err)
{
	int r = reg_client_ping(c, err);
	if (r < 0) {
		abort_all(c);
		return r;
	}
	for (;;) {
		if (kiln_cancelled(c->ctx)) {
			abort_all(c);
			return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
		}
		int64_t now = now_ms();
		int64_t wait = 250;
		for (struct reg_xfer **p = &c->queue; *p && c->n_active < (size_t) c->parallel;) {
			struct reg_xfer *x = *p;
			if (x->not_before_ms > now) {
				if (x->not_before_ms - now < wait)
					wait = x->not_before_ms - now;
				p = &x->next;
				continue;
			}
			*p = x->next;
			x->next = NULL;
			r = attempt_start(c, x, err);
			if (r < 0) {
				if (c->active == x) {
					c->active = x->next;
					c->n_active--;
				}
				drop(x);
				abort_all(c);
				return r;
			}
		}
		if (!c->queue && c->n_active == 0)
			return 0;
		int running = 0;
		if (c->curl->multi_perform(c->multi, &running) != CURLM_OK) {
			abort_all(c);
			return kiln_fail(err, KILN_ENET, 0, "registry %s: curl multi failure",
					 c->domain);
		}
		CURLMsg *m;
		int left;
		while ((m = c->curl->multi_info_read(c->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct reg_xfer *x = NULL;
			CURLcode code = m->data.result;
			(void) c->curl->easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
						     (char **) &x);
			if (!x)
				continue;
			unlink_active(c, x);
			r = attempt_done(c, x, code, err);
			if (r < 0) {
				abort_all(c);
				return r;
			}
		}
		/* a finished transfer may have freed a slot for one that can start now */
		now = now_ms();
		for (struct reg_xfer *q = c->queue; q && c->n_active < (size_t) c->parallel;
		     q = q->next)
			if (q->not_before_ms <= now) {
				wait = 0;
				break;
			} else if (q->not_before_ms - now < wait) {
				wait = q->not_before_ms - now;
			}
		if (wait > 0 && (c->n_active > 0 || c->queue))
			(void) c->curl->multi_poll(c->multi, NULL, 0, (int) wait, NULL);
	}
}

int reg_do(struct reg_client *c, struct reg_xfer *x, struct kiln_error *err)
{
	x->flags |= REG_XFER_KEEP;
	reg_queue(c, x);
	return reg_run(c, err);
}

static int sleep_ms(const struct kiln_ctx *ctx, int64_t ms)
{
	int64_t end = now_ms() + ms;
	for (;;) {
		if (kiln_cancelled(ctx))
			return -1;
		int64_t left = end - now_ms();
		if (left <= 0)
			return 0;
		if (left > 100)
			left = 100;
		struct timespec ts = { 0, (long) left * 1000000L };
		(void) nanosleep(&ts, NULL);
	}
}

int reg_xfer_perform(struct reg_client *c, struct reg_xfer *x, CURLcode *ret_code,
		     struct kiln_error *err)
{
	int max = (x->flags & REG_XFER_NO_RETRY) ? 0 : c->retries;
	for (;;) {
		int r = setup_easy(c, x, err);
		if (r < 0) {
			xfer_detach(x);
			return r;
		}
		CURLcode code = c->curl->easy_perform(x->easy);
		xfer_detach(x);
		if (x->failed) {
			struct kiln_error e = KILN_ERROR_INIT;
			kiln_error_move(&e, &x->fail);
			r = reg_fail(c, x, e.code, err, "%s",
				     e.msg ? e.msg : kiln_strerror(e.code));
			kiln_error_release(&e);
			return r;
		}
		int64_t delay = -1;
		if (code != CURLE_OK && retriable_curl(code) && !tls_refused(x))
			delay = backoff_ms(x->attempt);
		else if (code == CURLE_OK && (x->status == 429 || x->status >= 500)) {
			delay = retry_after_ms(x);
			if (delay < 0)
				delay = backoff_ms(x->attempt);
			if (delay > (int64_t) KILN_REGISTRY_RETRY_AFTER_MAX * 1000)
				delay = -1;
		}
		if (delay < 0 || x->attempt >= max) {
			*ret_code = code;
			return 0;
		}
		x->attempt++;
		reg_event(c, KILN_REG_EV_RETRY, NULL, x->what, x->attempt, delay,
			  code != CURLE_OK ? c->curl->easy_strerror(code) : reason(x->status));
		if (sleep_ms(c->ctx, delay) < 0)
			return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
	}
}
