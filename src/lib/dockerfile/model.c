/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A whole Dockerfile typed: BuildKit's instructions.Parse. ARGs before the
 * first FROM are the global (meta) ARGs; every FROM starts a stage.
 */
#include <stdlib.h>
#include <string.h>

#include "model-internal.h"

int kiln_df_model_empty(const struct kiln_df_ast *ast, struct kiln_df_model **ret,
			struct kiln_error *err)
{
	/* the model lives in its own arena (one allocation fewer, freed with it),
	 * or in the AST's when that is the caller's, which empties it per file */
	int borrowed = ast && ast->arena_borrowed_;
	struct kiln_arena *a =
		borrowed ? ast->arena_ : kiln_arena_new_sized(KILN_ARENA_SMALL_CHUNK);
	struct kiln_df_model *m = a ? kiln_arena_alloc(a, sizeof(*m)) : NULL;
	if (!m) {
		if (!borrowed)
			kiln_arena_free(a);
		return df_oom(err);
	}
	m->arena_ = a;
	m->arena_borrowed_ = borrowed;
	m->ast = ast;
	*ret = m;
	return 0;
}

void kiln_df_model_free(struct kiln_df_model *m)
{
	if (m && !m->arena_borrowed_)
		kiln_arena_free(m->arena_); /* m itself too */
}

int kiln_df_model_new(const struct kiln_df_ast *ast, struct kiln_df_model **ret,
		      struct kiln_error *err)
{
	return df_model_build(ast, NULL, 0, NULL, ret, NULL, err);
}

int df_model_build(const struct kiln_df_ast *ast, df_model_hook hook, uint32_t hook_cmds,
		   void *ud, struct kiln_df_model **ret, int *ret_failed_line,
		   struct kiln_error *err)
{
	cleanup(kiln_df_model_freep) struct kiln_df_model *m = NULL;
	int r = kiln_df_model_empty(ast, &m, err);
	if (r < 0)
		return r;
	const char *file = ast->filename.str ? ast->filename.str : "Dockerfile";
	size_t n = ast->n_nodes;
	/*
	 * kiln_df_instr_parse() zeroes each instruction it fills, so only the
	 * one past the end needs it here (zeroing them all twice cost about
	 * 2,700 instructions per file)
	 */
	struct kiln_df_instr *all = kiln_arena_array_uninit(m->arena_, n + 1, sizeof(*all));
	/* at most one stage per node */
	m->stages = kiln_arena_array(m->arena_, n + 1, sizeof(*m->stages));
	if (!all || !m->stages)
		return df_oom(err);
	memset(&all[n], 0, sizeof(all[n]));
	for (size_t i = 0; i < n; i++) {
		const struct kiln_df_node *node = &ast->nodes[i];
		struct kiln_df_instr *in = &all[i];
		/* most nodes are of no interest to the hook: no call through a pointer */
		int hooked = hook && (hook_cmds >> node->cmd & 1);
		r = kiln_df_instr_parse(m, node, in, err);
		if (r < 0) {
			if (r == -KILN_ENOMEM)
				return r;
			/* the checks of the node alone still run, as they would have first */
			if (hooked && hook(ud, node, NULL) < 0) {
				kiln_error_release(err);
				return df_oom(err);
			}
			if (ret_failed_line)
				*ret_failed_line = node->start_line;
			return r;
		}
		if (hooked && (r = hook(ud, node, in)) < 0)
			return df_oom(err);
		if (m->n_stages == 0 && in->cmd == KILN_DF_ARG) {
			if (!m->meta_args)
				m->meta_args = in;
			m->n_meta_args++;
			continue;
		}
		if (in->cmd == KILN_DF_FROM) {
			struct kiln_df_model_stage *st = &m->stages[m->n_stages++];
			st->from = st->instrs = in;
			st->n_instrs = 1;
			continue;
		}
		if (m->n_stages == 0)
			return df_fail_lines(err, KILN_EPARSE, file, node->start_line,
					     node->end_line, "no build stage in current context");
		m->stages[m->n_stages - 1].n_instrs++;
	}
	if (m->n_stages == 0) /* BuildKit's words; the file, as it has no line */
		return kiln_fail_at(err, KILN_EPARSE, file, 0, 0,
				    "dockerfile contains no stages to build");
	*ret = steal_ptr(&m);
	return 0;
}
