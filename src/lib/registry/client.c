/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One client per registry: which host to dial, http or https, the TLS
 * material of its certificate directory, and the /v2/ ping that tells the
 * scheme and the authentication the registry wants.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "registry/registry-private.h"

#define CERT_FILE_MAX ((size_t) 1 << 20)
#define CA_BUNDLE_MAX ((size_t) 16 << 20)

static int is_loopback_host(const char *domain)
{
	/* strip the port: "[::1]:5000", "localhost:5000", "127.0.0.1:5000" */
	char host[256];
	size_t n;
	if (domain[0] == '[') {
		const char *close = strchr(domain, ']');
		if (!close)
			return 0;
		n = (size_t) (close - domain) + 1;
	} else {
		n = strcspn(domain, ":");
	}
	if (n >= sizeof(host))
		return 0;
	memcpy(host, domain, n);
	host[n] = 0;
	if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
		return 1;
	/* 127.0.0.0/8 in dotted decimal */
	unsigned a, b, c, d;
	char tail;
	if (sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4)
		return a == 127 && b < 256 && c < 256 && d < 256;
	return 0;
}

void reg_event(struct reg_client *c, enum kiln_registry_event_kind kind, const char *digest,
	       const char *what, int64_t done, int64_t total, const char *msg)
{
	if (!c->opts || !c->opts->on_event)
		return;
	struct kiln_registry_event ev = { .kind = kind,
					  .digest = digest,
					  .what = what,
					  .done = done,
					  .total = total,
					  .msg = msg };
	c->opts->on_event(c->opts->event_userdata, &ev);
}

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * Read the certificate directory as podman does: *.crt are CAs (added to the
 * system's), *.cert with the *.key of the same name a client certificate.
 */
static int load_cert_dir(struct reg_client *c, const char *dir, int required,
			 struct kiln_error *err)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (!required && (errno == ENOENT || errno == ENOTDIR))
			return 0;
		return kiln_fail(err, KILN_EIO, errno, "certificate directory %s", dir);
	}
	cleanup(kiln_strv_release) struct kiln_strv names = KILN_STRV_INIT;
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && kiln_strv_push(&names, de->d_name) < 0) {
			r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			break;
		}
	closedir(d);
	if (r < 0)
		return r;
	if (names.len)
		qsort(names.items, names.len, sizeof(char *), cmp_str);
	kiln_debug(c->ctx, "registry %s: certificates from %s", c->domain, dir);

	cleanup(kiln_buf_release) struct kiln_buf pem = KILN_BUF_INIT;
	pem.cap = CA_BUNDLE_MAX;
	int extra_ca = 0;
	for (size_t i = 0; i < names.len; i++) {
		const char *n = names.items[i];
		cleanup_free char *path = kiln_asprintf("%s/%s", dir, n);
		if (!path)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		if (has_suffix(n, ".crt")) {
			cleanup_free char *data = NULL;
			size_t len;
			r = kiln_read_file(path, CERT_FILE_MAX, &data, &len, err);
			if (r < 0)
				return r;
			if (kiln_buf_add(&pem, data, len) < 0 || kiln_buf_addch(&pem, '\n') < 0)
				return kiln_fail(err, KILN_ELIMIT, 0, "%s: too many certificates",
						 dir);
			extra_ca = 1;
		} else if (has_suffix(n, ".cert")) {
			cleanup_free char *key =
				kiln_asprintf("%.*s.key", (int) (strlen(n) - 5), n);
			if (!key)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			if (kiln_strv_find(&names, key) < 0)
				return kiln_fail(err, KILN_EINVAL, 0,
						 "%s: client certificate %s has no key %s", dir, n,
						 key);
			free(c->client_cert);
			free(c->client_key);
			c->client_cert = steal_ptr(&path);
			c->client_key = kiln_asprintf("%s/%s", dir, key);
			if (!c->client_key)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		} else if (has_suffix(n, ".key")) {
			cleanup_free char *cert =
				kiln_asprintf("%.*s.cert", (int) (strlen(n) - 4), n);
			if (!cert)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			if (kiln_strv_find(&names, cert) < 0)
				return kiln_fail(err, KILN_EINVAL, 0,
						 "%s: key %s has no client certificate %s", dir, n,
						 cert);
		}
	}
	if (!extra_ca)
		return 0;
	/* the system's CAs stay trusted */
	const char *bundle = NULL;
	CURL *h = c->curl->easy_init();
	char *def = NULL;
	if (h && c->curl->easy_getinfo(h, CURLINFO_CAINFO, &def) == CURLE_OK && def)
		bundle = def;
	cleanup_free char *sys = NULL;
	size_t sys_len = 0;
	struct kiln_error e = KILN_ERROR_INIT;
	if (kiln_read_file(bundle ? bundle : "/etc/ssl/certs/ca-certificates.crt", CA_BUNDLE_MAX,
			   &sys, &sys_len, &e) < 0)
		kiln_error_release(&e);
	if (h)
		c->curl->easy_cleanup(h);
	cleanup(kiln_buf_release) struct kiln_buf all = KILN_BUF_INIT;
	all.cap = CA_BUNDLE_MAX * 2;
	if ((sys && (kiln_buf_add(&all, sys, sys_len) < 0 || kiln_buf_addch(&all, '\n') < 0)) ||
	    kiln_buf_add(&all, pem.buf, pem.len) < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	free(c->ca_pem);
	c->ca_pem = kiln_buf_detach(&all, &c->ca_len);
	if (!c->ca_pem)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

int reg_client_new(const struct kiln_ctx *ctx, const char *domain,
		   const struct kiln_registry_opts *opts, struct reg_client **ret,
		   struct kiln_error *err)
{
	cleanup(reg_client_freep) struct reg_client *c = kiln_calloc(1, sizeof(*c));
	if (!c)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int r = kiln_http_load(&c->curl, err);
	if (r < 0)
		return r;
	c->ctx = ctx;
	c->opts = opts;
	c->domain = kiln_strdup(domain);
	/* Docker Hub's API lives on another host than its reference domain */
	c->host = kiln_strdup(strcmp(domain, "docker.io") == 0 ? "registry-1.docker.io" : domain);
	if (!c->domain || !c->host)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	c->insecure = opts && (opts->flags & KILN_REGISTRY_INSECURE);
	c->loopback = is_loopback_host(domain);
	c->retries = !opts || opts->retries == 0 ? KILN_REGISTRY_RETRIES_DEFAULT
		     : opts->retries < 0	 ? 0
						 : opts->retries;
	c->parallel =
		!opts || opts->parallel <= 0 ? KILN_REGISTRY_PARALLEL_DEFAULT : opts->parallel;
	if (c->parallel > KILN_REGISTRY_PARALLEL_MAX)
		c->parallel = KILN_REGISTRY_PARALLEL_MAX;

	if (opts && opts->cert_dir) {
		r = load_cert_dir(c, opts->cert_dir, 1, err);
	} else {
		cleanup_free char *d1 = kiln_asprintf("/etc/containers/certs.d/%s", domain);
		cleanup_free char *d2 = kiln_asprintf("/etc/docker/certs.d/%s", domain);
		if (!d1 || !d2)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		struct stat st;
		r = load_cert_dir(c, stat(d1, &st) == 0 ? d1 : d2, 0, err);
	}
	if (r < 0)
		return r;

	c->multi = c->curl->multi_init();
	c->share = c->curl->share_init();
	if (!c->multi || !c->share)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	(void) c->curl->share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	(void) c->curl->share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	(void) c->curl->share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	(void) c->curl->multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
				     (long) c->parallel + 1);

	r = reg_auth_load_creds(c, err);
	if (r < 0)
		return r;
	*ret = steal_ptr(&c);
	return 0;
}

void reg_client_free(struct reg_client *c)
{
	if (!c)
		return;
	while (c->active) {
		struct reg_xfer *x = c->active;
		c->active = x->next;
		reg_xfer_free(x);
	}
	while (c->queue) {
		struct reg_xfer *x = c->queue;
		c->queue = x->next;
		reg_xfer_free(x);
	}
	if (c->multi)
		c->curl->multi_cleanup(c->multi);
	if (c->share)
		c->curl->share_cleanup(c->share);
	free(c->domain);
	free(c->host);
	free(c->base);
	free(c->ca_pem);
	free(c->client_cert);
	free(c->client_key);
	kiln_registry_creds_release(&c->creds);
	free(c->realm);
	free(c->service);
	for (size_t i = 0; i < c->n_tokens; i++) {
		free(c->tokens[i].scope);
		if (c->tokens[i].token)
			explicit_bzero(c->tokens[i].token, strlen(c->tokens[i].token));
		free(c->tokens[i].token);
	}
	free(c->tokens);
	free(c);
}

int reg_curl_setup(struct reg_client *c, CURL *h, const char *url, struct kiln_error *err)
{
	int https = strncmp(url, "https://", 8) == 0;
	if (c->curl->easy_setopt(h, CURLOPT_URL, url) != CURLE_OK)
		return kiln_fail(err, KILN_EINVAL, 0, "registry %s: bad URL %s", c->domain, url);
	(void) c->curl->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	(void) c->curl->easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR,
				    https && !c->insecure ? "https" : "http,https");
	(void) c->curl->easy_setopt(h, CURLOPT_SHARE, c->share);
	(void) c->curl->easy_setopt(h, CURLOPT_USERAGENT, "kiln");
	(void) c->curl->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	(void) c->curl->easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	(void) c->curl->easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	(void) c->curl->easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	(void) c->curl->easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	/* per transfer, several at once; larger ones bought no speed on loopback and
	 * cost 1.3 MiB of a push's peak (docs/benchmarks.md, registry) */
	(void) c->curl->easy_setopt(h, CURLOPT_BUFFERSIZE, 128L * 1024);
	(void) c->curl->easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 128L * 1024);
	if (kiln_http_tls_ip_names(h) != CURLE_OK)
		return kiln_fail(err, KILN_EINTERNAL, 0, "registry %s: cannot set up TLS checks",
				 c->domain);
	if (https) {
		if (c->insecure) {
			(void) c->curl->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
			(void) c->curl->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
		}
		if (c->ca_pem) {
			struct curl_blob blob = { .data = c->ca_pem,
						  .len = c->ca_len,
						  .flags = CURL_BLOB_NOCOPY };
			(void) c->curl->easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
		}
		if (c->client_cert) {
			(void) c->curl->easy_setopt(h, CURLOPT_SSLCERT, c->client_cert);
			(void) c->curl->easy_setopt(h, CURLOPT_SSLKEY, c->client_key);
		}
	}
	return 0;
}

/* "mbedTLS/2.28.3", as libcurl names its TLS library */
static const char *tls_library(const struct reg_client *c)
{
	const curl_version_info_data *v = c->curl->version_info(CURLVERSION_NOW);
	return v && v->ssl_version ? v->ssl_version : "kiln's TLS library";
}

static int tls_fallback_ok(CURLcode code)
{
	/* what a plain-http server does to a TLS handshake */
	return code == CURLE_SSL_CONNECT_ERROR || code == CURLE_RECV_ERROR ||
	       code == CURLE_GOT_NOTHING || code == CURLE_SEND_ERROR ||
	       code == CURLE_UNSUPPORTED_PROTOCOL;
}

/*
 * Which schemes to try, in order. A loopback registry is tried over plain
 * http first (the traffic never leaves the machine, and it saves a TLS
 * handshake against the common plain local registry); a TLS-only one answers
 * that with 400 or a reset, and https follows. --tls-verify=false on another
 * host tries https first, as docker does for insecure registries.
 */
static int ping_schemes(const struct reg_client *c, const char *ret[2])
{
	if (c->loopback) {
		ret[0] = "http";
		ret[1] = "https";
		return 2;
	}
	ret[0] = "https";
	ret[1] = "http";
	return c->insecure ? 2 : 1;
}

int reg_client_ping(struct reg_client *c, struct kiln_error *err)
{
	if (c->base)
		return 0;
	const char *schemes[2];
	int n_schemes = ping_schemes(c, schemes);
	for (int i = 0; i < n_schemes; i++) {
		int last = i + 1 == n_schemes;
		int https = strcmp(schemes[i], "https") == 0;
		cleanup_free char *url = kiln_asprintf("%s://%s/v2/", schemes[i], c->host);
		if (!url)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		cleanup(reg_xfer_freep) struct reg_xfer *x = NULL;
		int r = reg_xfer_new(c, "GET", url, NULL, &x, err);
		if (r < 0)
			return r;
		x->flags |= REG_XFER_NO_AUTH;
		x->what = "ping";
		CURLcode code;
		r = reg_xfer_perform(c, x, &code, err);
		if (r < 0)
			return r;
		if (code != CURLE_OK) {
			if (!last && tls_fallback_ok(code)) {
				kiln_debug(c->ctx, "registry %s: no %s (%s), trying %s", c->domain,
					   schemes[i],
					   x->errbuf[0] ? x->errbuf : c->curl->easy_strerror(code),
					   schemes[i + 1]);
				continue;
			}
			const char *msg = x->errbuf[0] ? x->errbuf : c->curl->easy_strerror(code);
			if (code == CURLE_PEER_FAILED_VERIFICATION)
				return reg_fail(
					c, x, KILN_ENET, err,
					"%s (trust its CA with --cert-dir or "
					"/etc/containers/certs.d/%s/, or use --tls-verify=false)",
					msg, c->domain);
			if (strstr(msg, "alert bad certificate") ||
			    strstr(msg, "alert certificate required"))
				return reg_fail(
					c, x, KILN_EAUTH, err,
					"%s (the registry wants a client certificate: NAME.cert "
					"and NAME.key in --cert-dir or "
					"/etc/containers/certs.d/%s/)",
					msg, c->domain);
			/* a plain http server answering the handshake, in mbedTLS's
			 * words and OpenSSL's */
			if (https && (strstr(msg, "invalid SSL record") ||
				      strstr(msg, "wrong version number")))
				return reg_fail(c, x, KILN_ENET, err,
						"%s (the registry seems to speak plain http: "
						"--tls-verify=false allows it)",
						msg);
			/* mbedTLS does not name the alert: the two usual causes */
			if (https && code == CURLE_SSL_CONNECT_ERROR && !c->client_cert)
				return reg_fail(
					c, x, KILN_ENET, err,
					"%s (the registry ended the TLS handshake: it may want a "
					"client certificate, NAME.cert and NAME.key in --cert-dir "
					"or /etc/containers/certs.d/%s/, or a TLS version that "
					"%s does not speak)",
					msg, c->domain, tls_library(c));
			return reg_fail(c, x, KILN_ENET, err, "%s", msg);
		}
		/* a TLS server answers plain http with 400 */
		if (!https && !last && x->status == 400) {
			kiln_debug(c->ctx, "registry %s: http answered 400, trying https",
				   c->domain);
			continue;
		}
		c->base = kiln_asprintf("%s://%s", schemes[i], c->host);
		if (!c->base)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		if (x->status == 200) {
			c->auth = REG_AUTH_NONE;
		} else if (x->status == 401) {
			r = reg_auth_challenge(c, x, err);
			if (r < 0)
				return r;
		} else {
			r = reg_fail_status(c, x, err);
			free(c->base);
			c->base = NULL;
			return kiln_error_prefix(err, r, "not a registry");
		}
		kiln_debug(c->ctx, "registry %s: %s, auth %s", c->domain, c->base,
			   c->auth == REG_AUTH_BEARER  ? "bearer"
			   : c->auth == REG_AUTH_BASIC ? "basic"
						       : "none");
		return 0;
	}
	return kiln_fail(err, KILN_ENET, 0, "registry %s: cannot reach it", c->domain);
}

char *reg_url(struct reg_client *c, const char *repo, const char *suffix)
{
	return kiln_asprintf("%s/v2/%s/%s", c->base, repo, suffix);
}

char *reg_resolve_location(struct reg_client *c, const char *location)
{
	if (strncmp(location, "http://", 7) == 0 || strncmp(location, "https://", 8) == 0)
		return kiln_strdup(location);
	if (location[0] == '/')
		return kiln_asprintf("%s%s", c->base, location);
	return kiln_asprintf("%s/%s", c->base, location);
}
