/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registry authentication: the challenge from a 401, Bearer tokens from the
 * realm it names (anonymous, Basic-authenticated, or an OAuth2 refresh token
 * as docker keeps them), one token per scope, and Basic auth.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry-private.h"

int reg_auth_load_creds(struct reg_client *c, struct kiln_error *err)
{
	int r;
	if (c->opts && c->opts->creds) {
		r = kiln_registry_creds_parse(c->opts->creds, &c->creds, err);
		if (r < 0)
			return r;
		c->have_creds = 1;
		return 0;
	}
	cleanup_free char *path = NULL;
	struct kiln_error e = KILN_ERROR_INIT;
	r = kiln_registry_authfile_path(c->opts ? c->opts->authfile : NULL, &path, &e);
	if (r < 0) {
		/* no HOME: anonymous access still works */
		kiln_error_release(&e);
		return 0;
	}
	r = kiln_registry_authfile_lookup(c->ctx, path, c->domain, &c->creds, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "credentials for %s", c->domain);
	c->have_creds = r > 0;
	if (r > 0)
		kiln_debug(c->ctx, "registry %s: credentials from %s", c->domain, path);
	return 0;
}

static int set_str(char **dst, const char *v)
{
	char *n = v ? kiln_strdup(v) : NULL;
	if (v && !n)
		return -1;
	free(*dst);
	*dst = n;
	return 0;
}

int reg_auth_challenge(struct reg_client *c, const struct reg_xfer *x, struct kiln_error *err)
{
	cleanup(kiln_www_auth_release) struct kiln_auth_challenges ch = KILN_AUTH_CHALLENGES_INIT;
	for (size_t i = 0; i < x->resp_headers.len; i++) {
		const char *h = x->resp_headers.items[i];
		if (strncmp(h, "www-authenticate:", 17) != 0)
			continue;
		const char *v = h + 17;
		while (*v == ' ')
			v++;
		struct kiln_error e = KILN_ERROR_INIT;
		int r = kiln_www_auth_parse(v, strlen(v), &ch, &e);
		if (r < 0) {
			r = reg_fail(c, x, e.code, err, "%s", e.msg ? e.msg : "bad header");
			kiln_error_release(&e);
			return r;
		}
	}
	const struct kiln_auth_challenge *b = kiln_www_auth_find(&ch, "bearer");
	if (b) {
		const char *realm = kiln_auth_challenge_param(b, "realm");
		if (!realm || !*realm)
			return reg_fail(c, x, KILN_EAUTH, err, "Bearer challenge without a realm");
		if (strncmp(realm, "https://", 8) != 0 && strncmp(realm, "http://", 7) != 0)
			return reg_fail(c, x, KILN_EAUTH, err,
					"Bearer realm '%s' is not an http(s) URL", realm);
		if (set_str(&c->realm, realm) < 0 ||
		    set_str(&c->service, kiln_auth_challenge_param(b, "service")) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		c->auth = REG_AUTH_BEARER;
		return 0;
	}
	if (kiln_www_auth_find(&ch, "basic")) {
		c->auth = REG_AUTH_BASIC;
		if (!c->have_creds)
			return reg_fail(c, x, KILN_EAUTH, err,
					"the registry wants a user name and password: run 'kiln "
					"login %s' or pass --creds",
					c->domain);
		return 0;
	}
	if (ch.len)
		return reg_fail(c, x, KILN_EAUTH, err,
				"401 Unauthorized with an authentication scheme kiln does not know "
				"('%s')",
				ch.items[0].scheme);
	return reg_fail(c, x, KILN_EAUTH, err,
			"401 Unauthorized without a WWW-Authenticate "
			"challenge");
}

/* Percent-encode for a query component. */
static int add_escaped(struct kiln_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
		int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' ||
			    *p == '~';
		int r = plain ? kiln_buf_addch(b, (char) *p)
			      : kiln_buf_addf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* "service=...&scope=a&scope=b" (scopes are space-separated in `scope`) */
static int token_query(struct reg_client *c, const char *scope, struct kiln_buf *q)
{
	int r = 0;
	if (c->service && *c->service)
		r = kiln_buf_addstr(q, "service=") ?: add_escaped(q, c->service);
	const char *s = scope ? scope : "";
	while (r == 0 && *s) {
		size_t n = strcspn(s, " ");
		if (n > 0) {
			cleanup_free char *one = kiln_strndup(s, n);
			if (!one)
				return -KILN_ENOMEM;
			r = kiln_buf_addstr(q, q->len ? "&scope=" : "scope=")
				    ?: add_escaped(q, one);
		}
		s += n;
		while (*s == ' ')
			s++;
	}
	return r;
}

static int fetch_token(struct reg_client *c, const char *scope, char **ret, struct kiln_error *err)
{
	int https = strncmp(c->realm, "https://", 8) == 0;
	if (!https && !c->loopback && !c->insecure && c->have_creds)
		return kiln_fail(err, KILN_EAUTH, 0,
				 "registry %s: token realm %s is plain http; kiln sends no "
				 "credentials there (--tls-verify=false to allow it)",
				 c->domain, c->realm);
	cleanup(kiln_buf_release) struct kiln_buf q = KILN_BUF_INIT;
	if (token_query(c, scope, &q) < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int refresh = c->have_creds && c->creds.identity_token && *c->creds.identity_token;
	cleanup_free char *url = NULL;
	cleanup(kiln_buf_release) struct kiln_buf form = KILN_BUF_INIT;
	if (refresh) {
		/* docker's OAuth2 flow for identity tokens */
		url = kiln_strdup(c->realm);
		if (!url ||
		    kiln_buf_addstr(&form, "grant_type=refresh_token&client_id=kiln&"
					   "refresh_token=") < 0 ||
		    add_escaped(&form, c->creds.identity_token) < 0 ||
		    (q.len &&
		     (kiln_buf_addch(&form, '&') < 0 || kiln_buf_add(&form, q.buf, q.len) < 0)))
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	} else {
		url = kiln_asprintf("%s%s%s", c->realm,
				    q.len ? (strchr(c->realm, '?') ? "&" : "?") : "", q.buf);
		if (!url)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	cleanup(reg_xfer_freep) struct reg_xfer *x = NULL;
	int r = reg_xfer_new(c, refresh ? "POST" : "GET", url, NULL, &x, err);
	if (r < 0)
		return r;
	x->flags |= REG_XFER_NO_AUTH;
	x->what = "token";
	x->resp_max = KILN_REGISTRY_TOKEN_MAX;
	x->resp.cap = KILN_REGISTRY_TOKEN_MAX;
	if (refresh) {
		x->body = form.buf;
		x->body_len = form.len;
		x->has_body = 1;
		r = reg_xfer_header(x, "Content-Type: application/x-www-form-urlencoded", err);
		if (r < 0)
			return r;
	} else if (c->have_creds && c->creds.username) {
		cleanup_free char *up = kiln_asprintf("%s:%s", c->creds.username,
						      c->creds.password ? c->creds.password : "");
		cleanup_free char *b64 = up ? kiln_registry_base64(up, strlen(up)) : NULL;
		cleanup_free char *h = b64 ? kiln_asprintf("Authorization: Basic %s", b64) : NULL;
		if (up)
			explicit_bzero(up, strlen(up));
		if (!h)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		r = reg_xfer_header(x, h, err);
		explicit_bzero(h, strlen(h));
		if (r < 0)
			return r;
	}
	kiln_debug(c->ctx, "registry %s: token for '%s' from %s", c->domain, scope ? scope : "",
		   c->realm);
	CURLcode code;
	r = reg_xfer_perform(c, x, &code, err);
	if (r < 0)
		return r;
	if (code != CURLE_OK)
		return reg_fail(c, x, KILN_ENET, err, "%s",
				x->errbuf[0] ? x->errbuf : c->curl->easy_strerror(code));
	if (x->status == 401 || x->status == 403) {
		if (c->have_creds)
			return reg_fail(c, x, KILN_EAUTH, err,
					"%ld: the token server refused the credentials%s%s",
					x->status, c->creds.username ? " of " : "",
					c->creds.username ? c->creds.username : "");
		return reg_fail(c, x, KILN_EAUTH, err,
				"%ld: the token server refused anonymous access; log in with "
				"'kiln login %s'",
				x->status, c->domain);
	}
	if (x->status != 200)
		return reg_fail_status(c, x, err);
	json_error_t je;
	cleanup(json_decrefp) json_t *root = json_loadb(x->resp.buf, x->resp.len, 0, &je);
	if (!json_is_object(root))
		return reg_fail(c, x, KILN_EPARSE, err, "the token answer is not a JSON object");
	const char *tok = json_string_value(json_object_get(root, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(root, "access_token"));
	if (!tok || !*tok)
		return reg_fail(c, x, KILN_EPARSE, err,
				"the token answer has neither 'token' nor 'access_token'");
	for (const char *p = tok; *p; p++)
		if ((unsigned char) *p < 0x21 || (unsigned char) *p > 0x7e)
			return reg_fail(c, x, KILN_EPARSE, err,
					"the token holds characters a header cannot carry");
	*ret = kiln_strdup(tok);
	if (!*ret)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

static struct reg_token *token_slot(struct reg_client *c, const char *scope)
{
	for (size_t i = 0; i < c->n_tokens; i++)
		if (strcmp(c->tokens[i].scope, scope) == 0)
			return &c->tokens[i];
	return NULL;
}

int reg_auth_header(struct reg_client *c, const char *scope, int force_new, char **ret,
		    struct kiln_error *err)
{
	*ret = NULL;
	if (c->auth == REG_AUTH_BASIC) {
		if (!c->have_creds || !c->creds.username)
			return 0;
		cleanup_free char *up = kiln_asprintf("%s:%s", c->creds.username,
						      c->creds.password ? c->creds.password : "");
		cleanup_free char *b64 = up ? kiln_registry_base64(up, strlen(up)) : NULL;
		if (up)
			explicit_bzero(up, strlen(up));
		*ret = b64 ? kiln_asprintf("Authorization: Basic %s", b64) : NULL;
		if (!*ret)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		return 0;
	}
	if (c->auth != REG_AUTH_BEARER)
		return 0;
	const char *key = scope ? scope : "";
	struct reg_token *t = token_slot(c, key);
	if (!t || force_new) {
		cleanup_free char *tok = NULL;
		int r = fetch_token(c, scope, &tok, err);
		if (r < 0)
			return r;
		t = token_slot(c, key);
		if (!t) {
			struct reg_token *nt =
				kiln_reallocarray(c->tokens, c->n_tokens + 1, sizeof(*c->tokens));
			if (!nt)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			c->tokens = nt;
			t = &c->tokens[c->n_tokens];
			t->scope = kiln_strdup(key);
			t->token = NULL;
			if (!t->scope)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			c->n_tokens++;
		}
		free(t->token);
		t->token = steal_ptr(&tok);
	}
	*ret = kiln_asprintf("Authorization: Bearer %s", t->token);
	if (!*ret)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}
