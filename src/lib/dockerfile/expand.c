/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dispatch's expansion of a word that is not plain: built in the graph's
 * one scratch buffer and copied once into its arena, where a result of its
 * own would be allocated, copied and freed for every word; the UndefinedVar
 * check of the names an expansion left unmatched; and dispatch's word
 * expanders, which record what a build reads of them.
 */
#include <string.h>

#include "goconv.h"
#include "graph-internal.h"

/* A reference of a simple word: the name's span and whether it is set. */
struct simple_ref {
	const char *name;
	size_t len;
	int set;
};

/* collect_names' order of the lexer's references: unset first, then by name */
static int ref_cmp(const struct simple_ref *x, const struct simple_ref *y)
{
	if (x->set != y->set)
		return x->set - y->set;
	int c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* a span of the result: literal text or a value */
struct simple_piece {
	const char *s;
	size_t len;
};

enum { SIMPLE_MAX_REFS = 8, SIMPLE_MAX_PIECES = 20 };

/*
 * A word of bytes the lexer copies as they are (`plain`'s), $NAME or ${NAME}
 * references (NAME an ASCII letter or '_', then letters, digits and '_';
 * nothing after it the lexer would read as more of it) and, when `quotes`,
 * double quotes around ASCII text and such references, or single quotes
 * around ASCII text (no escape inside either): what the lexer makes of it,
 * without it. 0 with *ret and the names in `res` as the lexer orders them,
 * 1 for any other word (the lexer's), <0 on failure.
 */
static int simple_expand(struct df_graph *gr, const unsigned char *plain, int quotes,
			 const char *word, const struct kiln_shell_envlist *env,
			 struct kiln_shell_result *res, const char **ret, struct kiln_error *err)
{
	static const unsigned char name_byte[256] = {
		['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['_'] = 1, ['0' ... '9'] = 2
	};
	/* the bytes ending a run inside double quotes: either escape character too */
	static const unsigned char dq_end[256] = { [0] = 1,   [0x80 ... 0xff] = 1, ['"'] = 1,
						   ['$'] = 1, ['\\'] = 1, ['`'] = 1 };
	static const unsigned char sq_end[256] = { [0] = 1, [0x80 ... 0xff] = 1, ['\''] = 1 };
	struct simple_ref refs[SIMPLE_MAX_REFS];
	struct simple_piece pieces[SIMPLE_MAX_PIECES];
	size_t nrefs = 0, npieces = 0, total = 0;
	int dq = 0; /* inside double quotes */
	struct kiln_shell_env e = kiln_shell_envlist_env(env);
	const char *p = word;
	for (;;) {
		/* a run of bytes copied as they are: '$', quotes and the NUL are special too */
		const char *lit = p;
		const unsigned char *t = dq ? dq_end : plain;
		while (!t[(unsigned char) *p])
			p++;
		if (p > lit) {
			if (npieces == SIMPLE_MAX_PIECES)
				return 1;
			pieces[npieces++] = (struct simple_piece){ lit, (size_t) (p - lit) };
			total += (size_t) (p - lit);
		}
		if (!*p) {
			if (dq)
				return 1; /* unterminated: the lexer's error */
			break;
		}
		if (*p == '"' && quotes) {
			dq = !dq;
			p++;
			continue;
		}
		if (*p == '\'' && quotes && !dq) {
			const char *q = p + 1;
			while (!sq_end[(unsigned char) *q])
				q++;
			if (*q != '\'' || npieces == SIMPLE_MAX_PIECES)
				return 1;
			pieces[npieces++] = (struct simple_piece){ p + 1, (size_t) (q - p - 1) };
			total += (size_t) (q - p - 1);
			p = q + 1;
			continue;
		}
		if (*p != '$')
			return 1;
		int braced = p[1] == '{';
		const char *n = p + 1 + braced, *q = n + 1;
		if (name_byte[(unsigned char) *n] != 1 || nrefs == SIMPLE_MAX_REFS ||
		    npieces == SIMPLE_MAX_PIECES)
			return 1;
		while (name_byte[(unsigned char) *q])
			q++;
		/* a byte past 0x7f may go on with the name (a Unicode letter): the lexer's */
		if (braced ? *q != '}' : (unsigned char) *q >= 0x80)
			return 1;
		struct simple_ref *r = &refs[nrefs++];
		r->name = n;
		r->len = (size_t) (q - n);
		const char *value = NULL;
		r->set = e.lookup_n(e.userdata, n, r->len, &value) > 0;
		if (!r->set || !value)
			value = "";
		size_t vlen = strlen(value);
		pieces[npieces++] = (struct simple_piece){ value, vlen };
		total += vlen;
		if (total > KILN_SHELL_MAX_OUTPUT)
			return 1; /* the lexer's to refuse */
		p = q + braced;
	}
	char *out = kiln_arena_array_uninit(gr->a, total + 1, 1), *o = out;
	if (!out)
		return df_oom(err);
	for (size_t k = 0; k < npieces; k++) {
		memcpy(o, pieces[k].s, pieces[k].len);
		o += pieces[k].len;
	}
	*o = '\0';
	/* the names as collect_names() gives them: sorted, each once, matched ones only
	 * when a build reads them */
	for (size_t i = 1; i < nrefs; i++)
		for (size_t j = i; j > 0 && ref_cmp(&refs[j - 1], &refs[j]) > 0; j--) {
			struct simple_ref t = refs[j];
			refs[j] = refs[j - 1];
			refs[j - 1] = t;
		}
	df_result_release(res);
	for (size_t i = 0; i < nrefs; i++) {
		if ((refs[i].set && gr->checks_only) ||
		    (i > 0 && ref_cmp(&refs[i - 1], &refs[i]) == 0))
			continue;
		if (kiln_strv_pushn(refs[i].set ? &res->matched : &res->unmatched, refs[i].name,
				    refs[i].len) < 0)
			return df_oom(err);
	}
	*ret = out;
	return 0;
}

int df_expand_arena(struct df_graph *gr, const struct kiln_shell_lex *lex, const char *word,
		    const struct kiln_shell_envlist *env, struct kiln_shell_result *res,
		    const char **ret, struct kiln_error *err)
{
	/* the escapes a Dockerfile can choose are neither '$' nor a name's byte */
	const unsigned char *plain = df_plain_table(lex->escape);
	if (!(lex->flags & KILN_SHELL_SKIP_UNSET_ENV) && plain) {
		/* quotes the lexer removes, or a character like any other */
		const unsigned kept = KILN_SHELL_SKIP_PROCESS_QUOTES | KILN_SHELL_RAW_QUOTES;
		int quotes = !(lex->flags & kept);
		int r = simple_expand(gr, plain, quotes, word, env, res, ret, err);
		if (r <= 0)
			return r;
	}
	/* df_expand's flags: the word alone, the names matched only when a build reads them */
	struct kiln_shell_lex l = *lex;
	l.flags |= KILN_SHELL_NO_WORDS;
	if (gr->checks_only)
		l.flags |= KILN_SHELL_NO_MATCHED;
	struct kiln_shell_env e = kiln_shell_envlist_env(env);
	int r = kiln_shell_expand_scratch(&l, word, &e, res, &gr->xbuf, err);
	if (r < 0)
		return r;
	*ret = df_astrdup(gr->a, gr->xbuf.buf);
	return *ret ? 0 : df_oom(err);
}

static int declared(const struct df_state *s, const char *k)
{
	for (size_t i = 0; i < s->n_args; i++)
		if (!strcmp(s->args[i].key, k))
			return 1;
	return 0;
}

int df_report_unmatched(struct df_graph *gr, struct df_state *st, const struct kiln_df_instr *in,
			const struct kiln_strv *unmatched)
{
	if (!unmatched->len || !df_lint_wants(gr->lint, DF_RULE_UNDEFINED_VAR))
		return 0;
	size_t n = 0;
	cleanup_free const char **keys = NULL;
	for (size_t i = 0; i < unmatched->len; i++) {
		const char *u = unmatched->items[i];
		if (!*u || declared(st, u) || df_non_env_arg(u))
			continue;
		/* the names to suggest from, only once a name is reported: most are declared */
		if (!keys) {
			n = kiln_shell_envlist_count(st->env);
			if (!(keys = kiln_calloc(n + 1, sizeof(char *))))
				return -KILN_ENOMEM;
			for (size_t j = 0; j < n; j++)
				keys[j] = kiln_shell_envlist_name(st->env, j);
		}
		cleanup_free char *owned = NULL;
		const char *sug = df_suggest(u, keys, n, 1, &owned);
		int r = sug ? df_lint_run(gr->lint, DF_RULE_UNDEFINED_VAR, in->node, in->start_line,
					  in->end_line,
					  "Usage of undefined variable '$%s' (did you mean $%s?)",
					  u, sug)
			    : df_lint_run(gr->lint, DF_RULE_UNDEFINED_VAR, in->node, in->start_line,
					  in->end_line, "Usage of undefined variable '$%s'", u);
		if (r < 0)
			return r;
	}
	return 0;
}

int df_note_used(struct df_xctx *x, const struct kiln_strv *matched)
{
	if (x->gr->checks_only)
		return 0;
	for (size_t i = 0; i < matched->len; i++) {
		const char *k = matched->items[i];
		if (!df_set_get(&x->s->arg_env, k))
			continue;
		cleanup_free char *kv =
			kiln_asprintf("%s=%s", k, kiln_shell_envlist_get(x->s->env, k));
		if (!kv)
			return -KILN_ENOMEM;
		if (kiln_strv_find(&x->used, kv) < 0 && kiln_strv_push(&x->used, kv) < 0)
			return -KILN_ENOMEM;
	}
	return 0;
}

int df_note_unset(struct df_xctx *x, const struct kiln_strv *unmatched)
{
	if (x->gr->checks_only)
		return 0;
	for (size_t i = 0; i < unmatched->len; i++) {
		const char *k = unmatched->items[i];
		if (*k && kiln_strv_find(&x->unset, k) < 0 && kiln_strv_push(&x->unset, k) < 0)
			return -KILN_ENOMEM;
	}
	return 0;
}

/* heredoc bodies: quotes kept, backslash escapes */
static const struct kiln_shell_lex raw_lex = { .escape = '\\',
					       .flags = KILN_SHELL_SKIP_PROCESS_QUOTES };

int df_xword_expand(struct df_xctx *x, const char *word, const char **ret,
		    struct kiln_error *err)
{
	cleanup(df_result_release) struct kiln_shell_result res = KILN_SHELL_RESULT_INIT;
	int r = df_expand_arena(x->gr, x->raw ? &raw_lex : &x->gr->lex, word, x->s->env, &res,
				ret, err);
	if (r < 0)
		return r;
	if (df_report_unmatched(x->gr, x->s, x->in, &res.unmatched) < 0 ||
	    df_note_used(x, &res.matched) < 0 || df_note_unset(x, &res.unmatched) < 0)
		return df_oom(err);
	return 0;
}

int df_xword_mount(void *ud, const char *word, const char **ret, struct kiln_error *err)
{
	return df_xword(ud, word, ret, err);
}

int df_xwords(struct df_xctx *x, struct kiln_df_words *w, struct kiln_error *err)
{
	const char **v = w->v;
	for (size_t i = 0; i < w->n; i++) {
		const char *e;
		int r = df_xword(x, w->v[i], &e, err);
		if (r < 0)
			return r;
		if (e == w->v[i])
			continue;
		if (v == w->v) {
			if (!(v = kiln_arena_array(x->gr->a, w->n + 1, sizeof(char *))))
				return df_oom(err);
			memcpy(v, w->v, w->n * sizeof(char *));
		}
		v[i] = e;
	}
	w->v = v;
	return 0;
}
