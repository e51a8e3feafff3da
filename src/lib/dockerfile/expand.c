/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dispatch's expansion of a word that is not plain: built in the graph's
 * one scratch buffer and copied once into its arena, where a result of its
 * own would be allocated, copied and freed for every word.
 */
#include "graph-internal.h"

int df_expand_arena(struct df_graph *gr, const struct kiln_shell_lex *lex, const char *word,
		    const struct kiln_shell_envlist *env, struct kiln_shell_result *res,
		    const char **ret, struct kiln_error *err)
{
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
