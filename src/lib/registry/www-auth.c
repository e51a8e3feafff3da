/* SPDX-License-Identifier: Apache-2.0 */
#include "registry/www-auth.h"

#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"

static int is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_token68_char(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return c && strchr("-._~+/", c) != NULL;
}

struct cursor {
	const unsigned char *s;
	size_t len;
	size_t pos;
};

static int peek(const struct cursor *c)
{
	return c->pos < c->len ? c->s[c->pos] : -1;
}

static void skip_ws(struct cursor *c)
{
	while (c->pos < c->len && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t'))
		c->pos++;
}

/* Skip OWS and empty list elements: " , ,  " */
static void skip_ws_commas(struct cursor *c)
{
	while (c->pos < c->len &&
	       (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' || c->s[c->pos] == ','))
		c->pos++;
}

static size_t token_len(const struct cursor *c, size_t at)
{
	size_t n = 0;
	while (at + n < c->len && is_tchar(c->s[at + n]))
		n++;
	return n;
}

static char *lower_dup(const unsigned char *s, size_t n)
{
	char *r = kiln_strndup((const char *) s, n);
	if (r)
		for (char *p = r; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char) (*p - 'A' + 'a');
	return r;
}

/* At a token: does "token BWS =" follow, with a value (not another '=') after it? */
static int param_ahead(const struct cursor *c)
{
	size_t n = token_len(c, c->pos);
	if (n == 0)
		return 0;
	struct cursor t = *c;
	t.pos += n;
	skip_ws(&t);
	if (peek(&t) != '=')
		return 0;
	t.pos++;
	skip_ws(&t);
	int ch = peek(&t);
	return ch == '"' || (ch >= 0 && ch != '=' && is_tchar((unsigned char) ch));
}

static int parse_quoted(struct cursor *c, char **ret, struct kiln_error *err)
{
	cleanup(kiln_buf_release) struct kiln_buf b = KILN_BUF_INIT;
	c->pos++; /* opening quote */
	for (;;) {
		int ch = peek(c);
		if (ch < 0)
			return kiln_fail(err, KILN_EPARSE, 0,
					 "WWW-Authenticate: unterminated quoted string");
		c->pos++;
		if (ch == '"')
			break;
		if (ch == '\\') {
			ch = peek(c);
			if (ch < 0)
				return kiln_fail(err, KILN_EPARSE, 0,
						 "WWW-Authenticate: unterminated quoted string");
			c->pos++;
		}
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return kiln_fail(err, KILN_EPARSE, 0,
					 "WWW-Authenticate: control character in quoted string");
		if (kiln_buf_addch(&b, (char) ch) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	*ret = kiln_buf_detach(&b, NULL);
	if (!*ret)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

static void challenge_release(struct kiln_auth_challenge *ch)
{
	free(ch->scheme);
	free(ch->token68);
	for (size_t i = 0; i < ch->n_params; i++) {
		free(ch->params[i].name);
		free(ch->params[i].value);
	}
	free(ch->params);
	memset(ch, 0, sizeof(*ch));
}

static int add_param(struct kiln_auth_challenge *ch, char *name, char *value,
		     struct kiln_error *err)
{
	for (size_t i = 0; i < ch->n_params; i++)
		if (strcmp(ch->params[i].name, name) == 0) {
			int r = kiln_fail(err, KILN_EPARSE, 0,
					  "WWW-Authenticate: parameter '%s' given twice", name);
			free(name);
			free(value);
			return r;
		}
	if (ch->n_params >= KILN_WWW_AUTH_PARAMS_MAX) {
		free(name);
		free(value);
		return kiln_fail(err, KILN_ELIMIT, 0,
				 "WWW-Authenticate: more than %d parameters in a challenge",
				 KILN_WWW_AUTH_PARAMS_MAX);
	}
	struct kiln_auth_param *np =
		kiln_reallocarray(ch->params, ch->n_params + 1, sizeof(*ch->params));
	if (!np) {
		free(name);
		free(value);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	ch->params = np;
	ch->params[ch->n_params].name = name;
	ch->params[ch->n_params].value = value;
	ch->n_params++;
	return 0;
}

/* auth-param at the cursor (param_ahead() said so). */
static int parse_param(struct cursor *c, struct kiln_auth_challenge *ch, struct kiln_error *err)
{
	size_t n = token_len(c, c->pos);
	char *name = lower_dup(c->s + c->pos, n);
	if (!name)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	c->pos += n;
	skip_ws(c);
	c->pos++; /* '=' */
	skip_ws(c);
	char *value = NULL;
	if (peek(c) == '"') {
		int r = parse_quoted(c, &value, err);
		if (r < 0) {
			free(name);
			return r;
		}
	} else {
		size_t vn = token_len(c, c->pos);
		value = kiln_strndup((const char *) c->s + c->pos, vn);
		if (!value) {
			free(name);
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
		c->pos += vn;
	}
	return add_param(ch, name, value, err);
}

/* One challenge at the cursor; leaves the cursor after it (at ',' or the end). */
static int parse_challenge(struct cursor *c, struct kiln_auth_challenge *ch, struct kiln_error *err)
{
	size_t n = token_len(c, c->pos);
	if (n == 0)
		return kiln_fail(
			err, KILN_EPARSE, 0,
			"WWW-Authenticate: expected an authentication scheme at offset %zu",
			c->pos);
	ch->scheme = lower_dup(c->s + c->pos, n);
	if (!ch->scheme)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	c->pos += n;
	size_t before = c->pos;
	skip_ws(c);
	if (peek(c) == ',' && c->pos > before) {
		/* "Bearer , realm=x": empty list elements before the first parameter */
		size_t comma = c->pos;
		skip_ws_commas(c);
		if (peek(c) < 0 || !param_ahead(c)) {
			c->pos = comma;
			return 0;
		}
	}
	if (peek(c) < 0 || peek(c) == ',')
		return 0;
	if (c->pos == before)
		return kiln_fail(err, KILN_EPARSE, 0,
				 "WWW-Authenticate: unexpected '%c' after scheme '%s'", peek(c),
				 ch->scheme);
	if (!param_ahead(c)) {
		/* token68 */
		size_t start = c->pos;
		while (c->pos < c->len && is_token68_char(c->s[c->pos]))
			c->pos++;
		if (c->pos == start)
			return kiln_fail(err, KILN_EPARSE, 0,
					 "WWW-Authenticate: unexpected '%c' at offset %zu", peek(c),
					 c->pos);
		while (c->pos < c->len && c->s[c->pos] == '=')
			c->pos++;
		ch->token68 = kiln_strndup((const char *) c->s + start, c->pos - start);
		if (!ch->token68)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		skip_ws(c);
		if (peek(c) >= 0 && peek(c) != ',')
			return kiln_fail(
				err, KILN_EPARSE, 0,
				"WWW-Authenticate: unexpected '%c' after token at offset %zu",
				peek(c), c->pos);
		return 0;
	}
	for (;;) {
		int r = parse_param(c, ch, err);
		if (r < 0)
			return r;
		skip_ws(c);
		if (peek(c) < 0)
			return 0;
		if (peek(c) != ',')
			return kiln_fail(err, KILN_EPARSE, 0,
					 "WWW-Authenticate: expected ',' at offset %zu, found '%c'",
					 c->pos, peek(c));
		size_t comma = c->pos;
		skip_ws_commas(c);
		if (peek(c) < 0 || !param_ahead(c)) {
			/* the next challenge starts here (or the list ended) */
			c->pos = comma;
			return 0;
		}
	}
}

int kiln_www_auth_parse(const char *value, size_t len, struct kiln_auth_challenges *out,
			struct kiln_error *err)
{
	if (len > KILN_WWW_AUTH_MAX)
		return kiln_fail(err, KILN_ELIMIT, 0,
				 "WWW-Authenticate header longer than %d bytes", KILN_WWW_AUTH_MAX);
	if (memchr(value, 0, len))
		return kiln_fail(err, KILN_EPARSE, 0, "WWW-Authenticate: NUL byte in header");
	struct cursor c = { (const unsigned char *) value, len, 0 };
	size_t old_len = out->len;
	int r = 0;
	skip_ws_commas(&c);
	while (peek(&c) >= 0) {
		if (out->len >= KILN_WWW_AUTH_CHALLENGES_MAX) {
			r = kiln_fail(err, KILN_ELIMIT, 0,
				      "WWW-Authenticate: more than %d challenges",
				      KILN_WWW_AUTH_CHALLENGES_MAX);
			break;
		}
		struct kiln_auth_challenge *ni =
			kiln_reallocarray(out->items, out->len + 1, sizeof(*out->items));
		if (!ni) {
			r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			break;
		}
		out->items = ni;
		struct kiln_auth_challenge *ch = &out->items[out->len];
		memset(ch, 0, sizeof(*ch));
		out->len++;
		r = parse_challenge(&c, ch, err);
		if (r < 0)
			break;
		skip_ws_commas(&c);
	}
	if (r < 0) {
		while (out->len > old_len)
			challenge_release(&out->items[--out->len]);
		if (out->len == 0) {
			free(out->items);
			out->items = NULL;
		}
	}
	return r;
}

void kiln_www_auth_release(struct kiln_auth_challenges *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->len; i++)
		challenge_release(&c->items[i]);
	free(c->items);
	c->items = NULL;
	c->len = 0;
}

const struct kiln_auth_challenge *kiln_www_auth_find(const struct kiln_auth_challenges *c,
						     const char *scheme)
{
	for (size_t i = 0; i < c->len; i++)
		if (strcmp(c->items[i].scheme, scheme) == 0)
			return &c->items[i];
	return NULL;
}

const char *kiln_auth_challenge_param(const struct kiln_auth_challenge *c, const char *name)
{
	for (size_t i = 0; i < c->n_params; i++)
		if (strcmp(c->params[i].name, name) == 0)
			return c->params[i].value;
	return NULL;
}
