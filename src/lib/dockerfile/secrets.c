/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SecretsUsedInArgOrEnv: an ARG or ENV name with a word that names a secret
 * (BuildKit's secretsRegexp and its allow list), matched the way RE2 folds
 * case.
 */
#include <string.h>

#include "base/gotext.h"
#include "graph-internal.h"

/* (?i)(?:_|^)TOKEN(?:_|$): an '_'-separated word equal to a token, with
 * RE2's case folding ('ſ' folds to s, the Kelvin sign to k) */
static int word_is(const char *w, size_t n, const char *token)
{
	size_t i = 0;
	for (; *token; token++) {
		if (i >= n)
			return 0;
		unsigned char c = (unsigned char) w[i];
		char f;
		if (c < 0x80) {
			f = (char) ((c >= 'A' && c <= 'Z') ? c + 32 : c);
			i++;
		} else if (c == 0xC5 && i + 1 < n && (unsigned char) w[i + 1] == 0xBF) {
			f = 's';
			i += 2;
		} else if (c == 0xE2 && i + 2 < n && (unsigned char) w[i + 1] == 0x84 &&
			   (unsigned char) w[i + 2] == 0xAA) {
			f = 'k';
			i += 3;
		} else {
			return 0;
		}
		if (f != *token)
			return 0;
	}
	return i == n;
}

#define LETTER(c) (1u << ((c) - 'a'))

/* `firsts`: the first letters of the tokens (LETTER bits), to pass over other words at once */
/* a token and its length: a word shorter than the token cannot fold to it (every token letter
 * takes one byte or more), which passes over most words at once */
struct df_token {
	const char *s;
	size_t len;
};

#define TOKEN(s) { s, sizeof(s) - 1 }

static int has_word(const char *key, const struct df_token *tokens, size_t nt, unsigned firsts)
{
	for (const char *p = key;;) {
		size_t n = (size_t) (strchrnul(p, '_') - p);
		/* a token's first letter: ASCII folded, or the start of 'ſ' or the Kelvin sign */
		unsigned char c0 = (unsigned char) p[0];
		char f0 = (char) ((c0 >= 'A' && c0 <= 'Z') ? c0 + 32 : c0);
		int maybe = c0 >= 0x80 || (f0 >= 'a' && f0 <= 'z' && (firsts & LETTER(f0)));
		for (size_t t = 0; t < nt && n && maybe; t++)
			if (n >= tokens[t].len && (f0 == tokens[t].s[0] || c0 >= 0x80) &&
			    word_is(p, n, tokens[t].s))
				return 1;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

int df_check_secret_key(struct df_graph *gr, const char *instr, const char *key,
			const struct kiln_df_instr *in)
{
	static const struct df_token deny[] = {
		TOKEN("apikey"), TOKEN("auth"),	  TOKEN("credential"), TOKEN("credentials"),
		TOKEN("key"),	 TOKEN("password"), TOKEN("pword"),	 TOKEN("passwd"),
		TOKEN("secret"), TOKEN("token"),
	};
	static const struct df_token allow[] = { TOKEN("public"), TOKEN("file"), TOKEN("version") };
	if (!df_lint_wants(gr->lint, DF_RULE_SECRETS_USED_IN_ARG_OR_ENV))
		return 0;
	static const unsigned deny_firsts =
		LETTER('a') | LETTER('c') | LETTER('k') | LETTER('p') | LETTER('s') | LETTER('t');
	static const unsigned allow_firsts = LETTER('p') | LETTER('f') | LETTER('v');
	if (!has_word(key, deny, KILN_ARRAY_SIZE(deny), deny_firsts) ||
	    has_word(key, allow, KILN_ARRAY_SIZE(allow), allow_firsts))
		return 0;
	struct kiln_buf q = KILN_BUF_INIT;
	int r = kiln_go_quote(&q, key, strlen(key));
	if (r >= 0)
		r = df_lint_run(gr->lint, DF_RULE_SECRETS_USED_IN_ARG_OR_ENV, in->node,
				in->start_line, in->end_line,
				"Do not use ARG or ENV instructions for sensitive data (%s %s)",
				instr, q.buf);
	kiln_buf_release(&q);
	return r;
}
