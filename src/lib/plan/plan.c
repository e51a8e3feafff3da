/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plan of a build: the needed stages in dependency order and, per step,
 * whether it makes a layer, what it waits for and its progress name.
 */
#include "plan/plan.h"

#include <ctype.h>
#include <string.h>

#include "base/buf.h"
#include "base/gotext.h"
#include "dockerfile/syntax.h"
#include "shell/shell.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

void kiln_plan_free(struct kiln_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_stages; i++) {
		struct kiln_plan_stage *s = &p->stages[i];
		for (size_t k = 0; k < s->n_steps; k++) {
			free(s->steps[k].name);
			free(s->steps[k].mount_stages);
		}
		free(s->steps);
		free(s->label);
	}
	free(p->stages);
	free(p);
}

char *kiln_plan_step_name(const struct kiln_plan *p, const struct kiln_plan_stage *s, int index,
			  const char *text)
{
	struct kiln_buf b = KILN_BUF_INIT;
	int r = kiln_buf_addch(&b, '[');
	if (r >= 0 && !p->lone && *s->label)
		r = kiln_buf_addf(&b, "%s%s", s->label, index ? " " : "");
	if (r >= 0 && index) {
		int width = 1;
		for (int t = s->total; t >= 10; t /= 10)
			width++;
		r = kiln_buf_addf(&b, "%*d/%d", width, index, s->total);
	}
	if (r >= 0)
		r = kiln_buf_addf(&b, "] %s", text);
	if (r < 0) {
		kiln_buf_release(&b);
		return NULL;
	}
	return kiln_buf_detach(&b, NULL);
}

/* what a step's name is expanded with: its environment, where a secret a
 * mount exposes as a variable reads "****" (BuildKit's withSecretEnvMask) */
struct name_env {
	const struct kiln_df_words *env;
	const struct kiln_df_instr *in;
};

static int secret_env(const struct kiln_df_instr *in, const char *name)
{
	for (size_t i = 0; in->cmd == KILN_DF_RUN && i < in->u.run.n_mounts; i++) {
		const struct kiln_df_mount *m = &in->u.run.mounts[i];
		if (m->type == KILN_DF_MOUNT_SECRET && m->has_env && m->env &&
		    !strcmp(m->env, name))
			return 1;
	}
	return 0;
}

static int env_lookup(void *ud, const char *name, const char **ret)
{
	const struct name_env *ne = ud;
	if (secret_env(ne->in, name)) {
		*ret = "****";
		return 1;
	}
	const struct kiln_df_words *env = ne->env;
	size_t nl = strlen(name);
	for (size_t i = env->n; i-- > 0;)
		if (!strncmp(env->v[i], name, nl) && env->v[i][nl] == '=') {
			*ret = env->v[i] + nl + 1;
			return 1;
		}
	return 0;
}

/* The text of a step as BuildKit shows it: the keyword upper-cased, a RUN
 * expanded with its environment (quotes kept, unknown variables left). */
/*
 * A RUN that is one heredoc and nothing else is named with its first line,
 * as BuildKit names it: "RUN <<EOF (apt-get update...)".
 */
static int add_heredoc_summary(const struct kiln_df_step *st, struct kiln_buf *b)
{
	const struct kiln_df_cmdline *cl = &st->instr.u.run.cmd;
	if (st->instr.cmd != KILN_DF_RUN || !kiln_df_cmdline_is_heredoc(cl))
		return 0;
	const char *s = cl->files[0].data;
	size_t n = strlen(s);
	kiln_go_trim_space(&s, &n); /* summarizeHeredoc's strings.TrimSpace */
	const char *nl = memchr(s, '\n', n);
	size_t first = nl ? (size_t) (nl - s) : n;
	if (nl && first && s[first - 1] == '\r')
		first--;
	return kiln_buf_addf(b, " (%.*s%s)", (int) first, s, nl ? "..." : "");
}

static int step_text(const struct kiln_df_step *st, int escape, char **ret)
{
	const struct kiln_df_instr *in = &st->instr;
	const char *orig = in->original ? in->original : "";
	cleanup_free char *expanded = NULL;
	if (in->cmd == KILN_DF_RUN && (st->env.n || in->u.run.n_mounts)) {
		struct kiln_shell_lex lex = { .escape = (char) escape,
					      .flags = KILN_SHELL_RAW_QUOTES |
						       KILN_SHELL_SKIP_UNSET_ENV };
		struct name_env ne = { &st->env, in };
		struct kiln_shell_env env = { .lookup = env_lookup, .userdata = &ne };
		if (kiln_shell_process_word(&lex, orig, &env, &expanded, NULL) < 0)
			expanded = NULL; /* as BuildKit: shown unexpanded */
	}
	const char *text = expanded ? expanded : orig;
	size_t kw = strcspn(text, " \t");
	struct kiln_buf b = KILN_BUF_INIT;
	int r = 0;
	if (in->flags & KILN_DF_INSTR_FROM_ONBUILD)
		r = kiln_buf_addstr(&b, "ONBUILD ");
	for (size_t i = 0; r >= 0 && i < kw; i++)
		r = kiln_buf_addch(&b, (char) toupper((unsigned char) text[i]));
	if (r >= 0)
		r = kiln_buf_addstr(&b, text + kw);
	if (r >= 0)
		r = add_heredoc_summary(st, &b);
	if (r < 0) {
		kiln_buf_release(&b);
		return -KILN_ENOMEM;
	}
	*ret = kiln_buf_detach(&b, NULL);
	return *ret ? 0 : -KILN_ENOMEM;
}

/* Order the needed stages so that each comes after what it uses (the graph's
 * levels already are such an order). */
static int order_stages(const struct kiln_df_graph *g, size_t *order, size_t *n)
{
	*n = 0;
	for (size_t l = 0; l < g->n_levels; l++)
		for (size_t k = 0; k < g->level_sizes[l]; k++)
			order[(*n)++] = g->levels[l][k];
	return 0;
}

int kiln_plan_new(const struct kiln_df_graph *g, struct kiln_plan **ret, struct kiln_error *err)
{
	cleanup(kiln_plan_freep) struct kiln_plan *p = kiln_calloc(1, sizeof(*p));
	cleanup_free size_t *order = kiln_calloc(g->n_stages + 1, sizeof(size_t));
	cleanup_free long *plan_index = kiln_calloc(g->n_stages + 1, sizeof(long));
	if (!p || !order || !plan_index)
		return oom(err);
	p->graph = g;
	size_t n = 0;
	(void) order_stages(g, order, &n);
	p->stages = kiln_calloc(n + 1, sizeof(*p->stages));
	if (!p->stages)
		return oom(err);
	for (size_t i = 0; i < g->n_stages; i++)
		plan_index[i] = -1;
	for (size_t i = 0; i < n; i++)
		plan_index[order[i]] = (long) i;

	/* BuildKit drops the stage label when the Dockerfile has one state only
	 * (COPY --from=<image> adds a state of its own) */
	size_t states = g->n_stages;
	for (size_t i = 0; i < g->n_stages; i++)
		for (size_t k = 0; k < g->stages[i].n_images; k++)
			if (g->stages[i].images[k].kind != KILN_DF_EDGE_FROM)
				states++;
	p->lone = states == 1;
	int escape = g->model && g->model->ast ? g->model->ast->escape : '\\';

	for (size_t i = 0; i < n; i++) {
		const struct kiln_df_stage *ds = &g->stages[order[i]];
		struct kiln_plan_stage *s = &p->stages[p->n_stages++];
		s->df = ds;
		s->graph_index = order[i];
		s->label = kiln_strdup(ds->id ? ds->id : "");
		if (!s->label)
			return oom(err);
		if (!ds->dispatched)
			return kiln_fail(err, KILN_EINTERNAL, 0, "stage %s was not dispatched",
					 ds->id);
		s->base_stage =
			ds->base_kind == KILN_DF_BASE_STAGE ? plan_index[ds->base_stage] : -1;
		s->from_numbered = ds->base_kind == KILN_DF_BASE_IMAGE;
		s->total = s->from_numbered;
		for (size_t k = 0; k < ds->n_steps; k++) {
			enum kiln_df_cmd c = ds->steps[k].instr.cmd;
			if (c == KILN_DF_RUN || c == KILN_DF_COPY || c == KILN_DF_ADD ||
			    c == KILN_DF_WORKDIR)
				s->total++;
		}
		s->steps = kiln_calloc(ds->n_steps + 1, sizeof(*s->steps));
		if (!s->steps)
			return oom(err);
		int index = s->from_numbered;
		for (size_t k = 0; k < ds->n_steps; k++) {
			const struct kiln_df_step *dst = &ds->steps[k];
			struct kiln_plan_step *ps = &s->steps[s->n_steps++];
			enum kiln_df_cmd c = dst->instr.cmd;
			ps->df = dst;
			ps->wait_stage =
				dst->source_stage >= 0 ? plan_index[dst->source_stage] : -1;
			ps->layer = c == KILN_DF_RUN || c == KILN_DF_COPY || c == KILN_DF_ADD ||
				    (c == KILN_DF_WORKDIR && strcmp(dst->workdir, "/") != 0);
			if (ps->layer)
				ps->index = ++index;
			if (c == KILN_DF_RUN && dst->instr.u.run.n_mounts) {
				ps->n_mounts = dst->instr.u.run.n_mounts;
				ps->mount_stages = kiln_calloc(ps->n_mounts, sizeof(long));
				if (!ps->mount_stages)
					return oom(err);
				for (size_t m = 0; m < ps->n_mounts; m++)
					ps->mount_stages[m] =
						dst->mount_stages[m] >= 0
							? plan_index[dst->mount_stages[m]]
							: -1;
			}
			cleanup_free char *text = NULL;
			if (step_text(dst, escape, &text) < 0)
				return oom(err);
			ps->name = kiln_plan_step_name(p, s, ps->index, text);
			if (!ps->name)
				return oom(err);
		}
	}
	p->target = plan_index[g->target] >= 0 ? (size_t) plan_index[g->target] : 0;
	if (plan_index[g->target] < 0)
		return kiln_fail(err, KILN_EINTERNAL, 0, "the target stage is not scheduled");
	*ret = steal_ptr(&p);
	return 0;
}
