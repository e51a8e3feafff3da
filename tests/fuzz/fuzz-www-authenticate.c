/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WWW-Authenticate parsing: never crash, and what is accepted survives a
 * round trip: written back with quoted values, it parses to the same
 * challenges (lower-case schemes and names, same values).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "registry/www-auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int serialize(const struct kiln_auth_challenges *c, struct kiln_buf *b)
{
	int r = 0;
	for (size_t i = 0; i < c->len && r == 0; i++) {
		const struct kiln_auth_challenge *ch = &c->items[i];
		r = kiln_buf_addf(b, "%s%s", i ? ", " : "", ch->scheme);
		if (ch->token68) {
			r |= kiln_buf_addf(b, " %s", ch->token68);
			continue;
		}
		for (size_t j = 0; j < ch->n_params && r == 0; j++) {
			r = kiln_buf_addf(b, "%s%s=\"", j ? "," : " ", ch->params[j].name);
			for (const char *v = ch->params[j].value; *v && r == 0; v++) {
				if (*v == '"' || *v == '\\')
					r = kiln_buf_addch(b, '\\');
				r |= kiln_buf_addch(b, *v);
			}
			r |= kiln_buf_addch(b, '"');
		}
	}
	return r;
}

static void check_same(const struct kiln_auth_challenges *a, const struct kiln_auth_challenges *b)
{
	if (a->len != b->len)
		__builtin_trap();
	for (size_t i = 0; i < a->len; i++) {
		const struct kiln_auth_challenge *x = &a->items[i], *y = &b->items[i];
		if (strcmp(x->scheme, y->scheme) != 0 || x->n_params != y->n_params ||
		    (!x->token68 != !y->token68) || (x->token68 && strcmp(x->token68, y->token68)))
			__builtin_trap();
		for (const char *p = x->scheme; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				__builtin_trap();
		for (size_t j = 0; j < x->n_params; j++)
			if (strcmp(x->params[j].name, y->params[j].name) != 0 ||
			    strcmp(x->params[j].value, y->params[j].value) != 0)
				__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kiln_auth_challenges c = KILN_AUTH_CHALLENGES_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_www_auth_parse((const char *) data, size, &c, &err);
	if (r < 0) {
		if (!err.msg || c.len != 0)
			__builtin_trap();
		kiln_error_release(&err);
		return 0;
	}
	struct kiln_buf b = KILN_BUF_INIT;
	if (serialize(&c, &b) == 0 && b.len <= KILN_WWW_AUTH_MAX) {
		struct kiln_auth_challenges again = KILN_AUTH_CHALLENGES_INIT;
		if (kiln_www_auth_parse(b.buf, b.len, &again, NULL) < 0)
			__builtin_trap();
		check_same(&c, &again);
		kiln_www_auth_release(&again);
	}
	kiln_buf_release(&b);
	for (size_t i = 0; i < c.len; i++)
		(void) kiln_auth_challenge_param(&c.items[i], "realm");
	(void) kiln_www_auth_find(&c, "bearer");
	kiln_www_auth_release(&c);
	return 0;
}
