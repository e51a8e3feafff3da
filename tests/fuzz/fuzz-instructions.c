/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for everything after the parser: arbitrary bytes are parsed,
 * typed, walked into a stage graph (expanded, with build args, a target,
 * hooks that answer like a build would) and checked with BuildKit's build
 * checks, in build and lint modes. Besides never crashing, it checks what
 * must hold for every input: errors have messages (and lines when an
 * instruction is at fault), the target is needed, every needed stage's
 * dependencies are scheduled in earlier levels, dispatched stages have one
 * expanded step per command, warnings are sorted and complete.
 *
 * The first byte of the input (when there is more than one) picks the
 * options: bit 0 all stages, bit 1 duplicate names allowed, bit 2 the
 * first named stage as target, bit 3 a target platform of linux/arm64.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dockerfile/dockerfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ref_check(void *ud, const char *s, struct kiln_error *err)
{
	(void) ud;
	size_t n = strlen(s);
	if (n == 0 || n > 255 || s[n - 1] == ':' || strchr(s, ' '))
		return kiln_fail(err, KILN_EPARSE, 0, "invalid reference format");
	for (const char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			return kiln_fail(err, KILN_EPARSE, 0, "invalid reference format");
	return 0;
}

static int image_config(void *ud, const char *ref, const struct kiln_df_platform *p,
			struct kiln_df_image_config *ret, struct kiln_error *err)
{
	static const char *const env[] = { "PATH=/bin", "HOME=/root", "EMPTY" };
	static const char *const shell[] = { "/bin/bash", "-c" };
	static const char *const onbuild[] = { "RUN echo $HOME", "COPY --from=0 /a /b",
					       "ENV X=${HOME}" };
	(void) ud;
	(void) p;
	(void) err;
	if (strncmp(ref, "onbuild", 7) == 0) {
		*ret = (struct kiln_df_image_config){ .env = env,
						      .n_env = 3,
						      .working_dir = "work",
						      .user = "u",
						      .shell = shell,
						      .n_shell = 2,
						      .onbuild = onbuild,
						      .n_onbuild = 3,
						      .os = "linux",
						      .arch = "s390x" };
		return 1;
	}
	return 0;
}

static int ignore_matches(void *ud, const char *path, struct kiln_error *err)
{
	(void) ud;
	(void) err;
	return path[0] == 'x' || path[0] == '.';
}

static void check_error(int r, const struct kiln_error *err)
{
	if (r >= 0)
		return;
	if (r != -(int) err->code || !err->msg)
		abort();
}

static void check_graph(const struct kiln_df_graph *g, unsigned flags)
{
	if (g->target >= g->n_stages || !g->stages[g->target].needed)
		abort();
	size_t scheduled = 0;
	for (size_t l = 0; l < g->n_levels; l++)
		scheduled += g->level_sizes[l];
	size_t needed = 0;
	for (size_t i = 0; i < g->n_stages; i++) {
		const struct kiln_df_stage *st = &g->stages[i];
		if (!st->id || !st->base || !st->platform.os)
			abort();
		if (st->base_kind == KILN_DF_BASE_STAGE && st->base_stage >= i)
			abort();
		if (!st->needed) {
			if (st->level != -1)
				abort();
			if (st->dispatched && !(flags & KILN_DF_GRAPH_ALL_STAGES))
				abort();
			continue;
		}
		needed++;
		if (!st->dispatched || st->level < 0 || (size_t) st->level >= g->n_levels)
			abort();
		for (size_t k = 0; k < st->n_deps; k++) {
			const struct kiln_df_stage *d = &g->stages[st->deps[k].stage];
			if (!d->needed || d->level >= st->level)
				abort();
		}
		for (size_t k = 0; k < st->n_steps; k++) {
			const struct kiln_df_step *s = &st->steps[k];
			if (!(s->instr.flags & KILN_DF_INSTR_EXPANDED) || !s->workdir ||
			    s->workdir[0] != '/' || !s->user)
				abort();
			if ((s->instr.cmd == KILN_DF_COPY || s->instr.cmd == KILN_DF_ADD) &&
			    (!s->dest || !*s->dest))
				abort();
			if (s->instr.cmd == KILN_DF_COPY && *s->instr.u.copy.chmod) {
				uint32_t mode;
				if (kiln_df_chmod_apply(s->instr.u.copy.chmod, 0100644, 0, &mode,
							NULL) < 0)
					abort(); /* validated by the walk */
			}
			for (size_t u = 0; u < s->used_args.n; u++)
				if (!strchr(s->used_args.v[u], '='))
					abort();
		}
	}
	if (needed != scheduled)
		abort();
	char *w = kiln_df_graph_unused_args_warning(g);
	free(w);
}

static void check_result(const struct kiln_df_check_result *res)
{
	for (size_t i = 0; i < res->n_warnings; i++) {
		const struct kiln_df_check_warning *w = &res->warnings[i];
		if (!w->rule || !w->rule->name || !w->rule->description || !w->message)
			abort();
		if (i && (w[-1].line > w->line ||
			  (w[-1].line == w->line && strcmp(w[-1].message, w->message) > 0)))
			abort();
		char *s = kiln_df_check_format_short(w);
		free(s);
	}
	if (res->error && !*res->error)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned opt = size > 1 ? data[0] : 0;
	const char *text = size > 1 ? (const char *) data + 1 : (const char *) data;
	size_t len = size > 1 ? size - 1 : size;
	struct kiln_df_ast *ast = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	if (kiln_df_parse(text, len, "Dockerfile", &ast, &err) < 0) {
		kiln_error_release(&err);
		return 0;
	}
	struct kiln_df_hooks hooks = { .reference_check = ref_check,
				       .image_config = image_config,
				       .ignore_matches = ignore_matches };
	static const char *const args[] = { "A=1", "B=", "HTTP_PROXY=http://p", "TARGETOS=plan9",
					    "UNUSED=1" };
	struct kiln_df_platform arm = { 0 };
	int have_arm = (opt & 8) && kiln_df_platform_parse("linux/arm64", &arm, NULL) == 0;

	struct kiln_df_model *m = NULL;
	int r = kiln_df_model_new(ast, &m, &err);
	check_error(r, &err);
	if (r < 0 && err.code == KILN_EPARSE && err.pos.line == 0 &&
	    strcmp(err.msg, "dockerfile contains no stages to build") != 0)
		abort(); /* instruction errors are located */
	kiln_error_release(&err);
	if (r == 0) {
		const char *target = NULL;
		if (opt & 4)
			for (size_t i = 0; i < m->n_stages && !target; i++)
				target = m->stages[i].from->u.from.name;
		unsigned flags = opt & 1 ? KILN_DF_GRAPH_ALL_STAGES : 0;
		struct kiln_df_graph_opts o = { .target = target,
						.build_args = args,
						.n_build_args = KILN_ARRAY_SIZE(args),
						.target_platform = have_arm ? &arm : NULL,
						.flags = flags,
						.hooks = &hooks };
		struct kiln_df_graph *g = NULL;
		r = kiln_df_graph_new(m, &o, &g, &err);
		check_error(r, &err);
		if (r == 0)
			check_graph(g, flags);
		kiln_df_graph_free(g);
		kiln_error_release(&err);
	}
	kiln_df_model_free(m);

	for (int mode = 0; mode < 2; mode++) {
		struct kiln_df_check_opts co = {
			.mode = mode ? KILN_DF_CHECK_LINT : KILN_DF_CHECK_BUILD,
			.build_args = args,
			.n_build_args = KILN_ARRAY_SIZE(args),
			.target_platform = have_arm ? &arm : NULL,
			.hooks = &hooks,
		};
		struct kiln_df_check_result *res = NULL;
		r = kiln_df_check_ast(ast, &co, &res, &err);
		check_error(r, &err);
		if (r == 0)
			check_result(res);
		kiln_df_check_result_free(res);
		kiln_error_release(&err);
	}
	kiln_df_platform_release(&arm);
	kiln_df_ast_free(ast);
	return 0;
}
