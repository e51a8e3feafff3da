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

/* a token and its length: a word shorter than the token cannot fold to it (every token letter
 * takes one byte or more), which passes over most words at once */
struct df_token {
	const char *s;
	size_t len;
};

#define TOKEN(s) { s, sizeof(s) - 1 }

/* tokens grouped by first letter: the group of a letter, [first, end) (empty: none) */
struct df_group {
	unsigned char first, end;
};

static int has_word(const char *key, const struct df_token *tokens, size_t nt,
		    const struct df_group groups[26])
{
	static const unsigned char word_end[256] = { [0] = 1, ['_'] = 1 };
	for (const char *p = key;;) {
		/* four bytes a step: none is read past the word's end (the NUL is one) */
		const unsigned char *u = (const unsigned char *) p;
		while (!word_end[u[0]]) {
			if (word_end[u[1]]) {
				u += 1;
				break;
			}
			if (word_end[u[2]]) {
				u += 2;
				break;
			}
			if (word_end[u[3]]) {
				u += 3;
				break;
			}
			u += 4;
		}
		size_t n = (size_t) (u - (const unsigned char *) p);
		/* a token's first letter: ASCII folded, or the start of 'ſ' or the Kelvin sign
		 * (which may fold to any token's: all are tried) */
		unsigned char c0 = (unsigned char) p[0];
		size_t t = 0, end = 0;
		if (c0 >= 0x80) {
			end = nt;
		} else {
			unsigned f0 = (c0 >= 'A' && c0 <= 'Z') ? c0 + 32u : c0;
			if (f0 >= 'a' && f0 <= 'z')
				t = groups[f0 - 'a'].first, end = groups[f0 - 'a'].end;
		}
		for (; t < end; t++)
			if (n >= tokens[t].len && word_is(p, n, tokens[t].s))
				return 1;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

#define GROUP(c, first, end) [(c) - 'a'] = { first, end }

int df_check_secret_key(struct df_graph *gr, const char *instr, const char *key,
			const struct kiln_df_instr *in)
{
	static const struct df_token deny[] = {
		TOKEN("apikey"), TOKEN("auth"),	 TOKEN("credential"), TOKEN("credentials"),
		TOKEN("key"),	 TOKEN("password"), TOKEN("pword"),	TOKEN("passwd"),
		TOKEN("secret"), TOKEN("token"),
	};
	static const struct df_group deny_groups[26] = {
		GROUP('a', 0, 2), GROUP('c', 2, 4), GROUP('k', 4, 5),
		GROUP('p', 5, 8), GROUP('s', 8, 9), GROUP('t', 9, 10),
	};
	static const struct df_token allow[] = { TOKEN("public"), TOKEN("file"), TOKEN("version") };
	static const struct df_group allow_groups[26] = {
		GROUP('p', 0, 1),
		GROUP('f', 1, 2),
		GROUP('v', 2, 3),
	};
	if (!df_lint_wants(gr->lint, DF_RULE_SECRETS_USED_IN_ARG_OR_ENV))
		return 0;
	if (!has_word(key, deny, KILN_ARRAY_SIZE(deny), deny_groups) ||
	    has_word(key, allow, KILN_ARRAY_SIZE(allow), allow_groups))
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
