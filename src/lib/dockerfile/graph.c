/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The build graph: BuildKit's toDispatchState up to the dispatch of the
 * stages (dispatch.c does that part). The order of the steps, and so which
 * error wins when there are several, is BuildKit's:
 *
 *   predefined args -> global ARGs with build args -> every FROM expanded
 *   -> target -> --from references of every stage -> cycles -> base images
 *   checked and ONBUILD triggers of the bases replayed (as long as they add
 *   dependencies) -> the stages dispatched in order -> the schedule.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gotext.h"
#include "goconv.h"
#include "graph-internal.h"

/* what a graph keeps past its walk (g->private_): the ONBUILD triggers' ASTs and model */
struct graph_keep {
	struct kiln_df_ast **asts;
	size_t n_asts;
	struct kiln_df_model *trigger_model;
};

const char *kiln_df_edge_kind_name(enum kiln_df_edge_kind k)
{
	switch (k) {
	case KILN_DF_EDGE_FROM:
		return "from";
	case KILN_DF_EDGE_COPY:
		return "copy";
	case KILN_DF_EDGE_MOUNT:
		return "mount";
	}
	return "?";
}

const char *kiln_df_base_kind_name(enum kiln_df_base_kind k)
{
	switch (k) {
	case KILN_DF_BASE_IMAGE:
		return "image";
	case KILN_DF_BASE_STAGE:
		return "stage";
	case KILN_DF_BASE_SCRATCH:
		return "scratch";
	}
	return "?";
}

int df_fail_at(struct df_graph *gr, struct kiln_error *err, int start, int end, const char *fmt,
	       ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = df_fail_linesv(err, KILN_EPARSE, gr->file, start, end, fmt, ap);
	va_end(ap);
	return r;
}

int df_words_set(struct df_graph *gr, const struct kiln_strv *v, struct kiln_df_words *ret)
{
	return df_words_from_strv(gr->a, v, ret);
}

/* the bytes the shell lexer does not copy as they are (and NUL, the end),
 * with each of the two escape characters a Dockerfile may choose */
#define SPECIAL [0 ... ' '] = 1, [0x7f ... 0xff] = 1, ['$'] = 1, ['\''] = 1, ['"'] = 1
const unsigned char df_special_backslash[256] = { SPECIAL, ['\\'] = 1 };
const unsigned char df_special_backtick[256] = { SPECIAL, ['`'] = 1 };
#undef SPECIAL

static int expand(struct df_graph *gr, const struct kiln_shell_lex *lex, const char *word,
		  const struct kiln_shell_envlist *env, int split, int matched,
		  struct kiln_shell_result *res, struct kiln_error *err)
{
	if (!lex)
		lex = &gr->lex;
	if (df_word_plain(lex, word)) {
		df_result_release(res);
		res->word = kiln_strdup(word);
		if (!res->word || (split && kiln_strv_push(&res->words, word) < 0)) {
			df_result_release(res);
			return df_oom(err);
		}
		return 0;
	}
	struct kiln_shell_lex l = *lex;
	if (!split)
		l.flags |= KILN_SHELL_NO_WORDS;
	if (!matched)
		l.flags |= KILN_SHELL_NO_MATCHED;
	struct kiln_shell_env e = kiln_shell_envlist_env(env);
	return kiln_shell_expand(&l, word, &e, res, err);
}

int df_expand(struct df_graph *gr, const struct kiln_shell_lex *lex, const char *word,
	      const struct kiln_shell_envlist *env, struct kiln_shell_result *res,
	      struct kiln_error *err)
{
	return expand(gr, lex, word, env, 0, !gr->checks_only, res, err);
}

int df_expand_matched(struct df_graph *gr, const char *word, const struct kiln_shell_envlist *env,
		      struct kiln_shell_result *res, struct kiln_error *err)
{
	return expand(gr, NULL, word, env, 0, 1, res, err);
}

int df_expand_words(struct df_graph *gr, const char *word, const struct kiln_shell_envlist *env,
		    struct kiln_shell_result *res, struct kiln_error *err)
{
	return expand(gr, NULL, word, env, 1, !gr->checks_only, res, err);
}

int df_platform_copy(struct df_graph *gr, const struct kiln_df_platform *src,
		     struct kiln_df_platform *ret)
{
	const char *part[4] = { src->os, src->arch, src->variant, src->os_version };
	size_t len[4], total = 0;
	for (size_t i = 0; i < 4; i++) {
		part[i] = part[i] ? part[i] : "";
		len[i] = strlen(part[i]);
		total += len[i] + 1;
	}
	char *p = kiln_arena_alloc(gr->a, total);
	if (!p)
		return -KILN_ENOMEM;
	char **field[4] = { &ret->os, &ret->arch, &ret->variant, &ret->os_version };
	for (size_t i = 0; i < 4; i++) {
		memcpy(p, part[i], len[i] + 1);
		*field[i] = p;
		p += len[i] + 1;
	}
	return 0;
}

/* findStateByName: stage names are compared lower-cased; the last stage of a name wins */
static long find_stage(struct df_graph *gr, const char *name)
{
	if (!gr->n_named)
		return -1; /* no stage has a name: nothing to look up */
	static const unsigned char stop[256] = { [0] = 1, ['A' ... 'Z'] = 1, [0x80 ... 0xff] = 1 };
	const unsigned char *p = (const unsigned char *) name;
	while (!stop[*p]) /* a byte to lower-case or the end: one table test, not three */
		p++;
	if (!*p)
		return df_names_find(gr->names, name);
	struct kiln_buf b = KILN_BUF_INIT;
	if (kiln_go_to_lower(&b, name, strlen(name)) < 0) {
		kiln_buf_release(&b);
		return -2;
	}
	long found = df_names_find(gr->names, b.buf);
	kiln_buf_release(&b);
	return found;
}

/*
 * Room for one more element in an arena array of n: its capacity is implied
 * (2, 4, 8, ...), so it moves when n reaches one. Most stages have one or two
 * edges; the arena owns them all.
 */
static void *arena_grow(struct df_graph *gr, void *v, size_t n, size_t size)
{
	if (n && (n < 2 || (n & (n - 1))))
		return v;
	void *nv = kiln_arena_array_uninit(gr->a, n ? 2 * n : 2, size);
	if (nv && n)
		memcpy(nv, v, n * size);
	return nv;
}

static int add_edge(struct df_graph *gr, size_t i, enum kiln_df_edge_kind kind, size_t to,
		    const char *ref, int line, int onbuild)
{
	struct kiln_df_stage *st = &gr->g->stages[i];
	struct kiln_df_edge *n = arena_grow(gr, st->deps, st->n_deps, sizeof(*n));
	if (!n)
		return -KILN_ENOMEM;
	st->deps = n;
	n[st->n_deps++] = (struct kiln_df_edge){ kind, to, ref, line, onbuild };
	return 0;
}

static int add_image(struct df_graph *gr, size_t i, enum kiln_df_edge_kind kind, const char *ref,
		     int line)
{
	struct kiln_df_stage *st = &gr->g->stages[i];
	struct kiln_df_image_dep *n = arena_grow(gr, st->images, st->n_images, sizeof(*n));
	if (!n)
		return -KILN_ENOMEM;
	st->images = n;
	n[st->n_images++] = (struct kiln_df_image_dep){ kind, ref, line };
	return 0;
}

/* strconv.Atoi, for --from=<index> */
static int go_atoi(const char *s, long *ret)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (!*p)
		return -1;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return -1;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*end)
		return -1;
	*ret = (long) v;
	return 0;
}

/* toCommand: the stages (or images) a COPY --from and RUN mounts read */
static int to_command(struct df_graph *gr, size_t i, struct df_cmd *c, struct kiln_error *err)
{
	const struct kiln_df_instr *in = c->instr;
	int sl = in->start_line, el = in->end_line;
	c->source = -1;
	if (in->cmd == KILN_DF_COPY && in->u.copy.from && *in->u.copy.from) {
		const char *from = in->u.copy.from;
		int r;
		if (!df_word_plain_in(gr->plain, from)) {
			cleanup(df_result_release) struct kiln_shell_result res =
				KILN_SHELL_RESULT_INIT;
			r = df_expand(gr, NULL, from, NULL, &res, err);
			if (r < 0) {
				df_error_locate(err, gr->file, sl, el);
				return r;
			}
			if (strcmp(res.word, from) != 0)
				return df_fail_at(
					gr, err, sl, el,
					"variable expansion is not supported for --from, define a "
					"new stage with FROM using ARG from global scope as a "
					"workaround");
		}
		long idx;
		if (go_atoi(from, &idx) == 0) {
			if (idx < 0 || (size_t) idx >= gr->g->n_stages)
				return df_fail_at(gr, err, sl, el, "invalid stage index %ld", idx);
			c->source = idx;
		} else {
			long k = find_stage(gr, from);
			if (k == -2)
				return df_oom(err);
			c->source = k >= 0 ? k : -2;
		}
		r = c->source >= 0 ? add_edge(gr, i, KILN_DF_EDGE_COPY, (size_t) c->source, from,
					      sl, c->onbuild)
		    : strcmp(from, "scratch") == 0 ? 0
						   : add_image(gr, i, KILN_DF_EDGE_COPY, from, sl);
		if (r < 0)
			return df_oom(err);
	}
	if (in->cmd == KILN_DF_RUN && in->u.run.mount_specs.n) {
		size_t n = in->u.run.mount_specs.n;
		c->n_mounts = n;
		c->mount_sources = kiln_arena_array(gr->a, n, sizeof(long));
		if (!c->mount_sources)
			return df_oom(err);
		for (size_t k = 0; k < n; k++) {
			/* the model's parse kept each from= (a spec it took cannot fail here) */
			const char *mfrom = in->u.run.mount_froms ? in->u.run.mount_froms[k] : NULL;
			if (!in->u.run.mount_froms) {
				struct kiln_df_mount m;
				int r = df_mount_parse(gr->a, in->u.run.mount_specs.v[k], NULL,
						       NULL, &m, err);
				if (r < 0) {
					df_error_locate(err, gr->file, sl, el);
					return r;
				}
				mfrom = m.from;
			}
			int r = 0;
			/* a mount without from= reads "scratch": a stage of that name if any */
			const char *from = mfrom && *mfrom ? mfrom : "scratch";
			long s = find_stage(gr, from);
			if (s == -2)
				return df_oom(err);
			c->mount_sources[k] = s >= 0 ? s : -2;
			if (s >= 0)
				r = add_edge(gr, i, KILN_DF_EDGE_MOUNT, (size_t) s, from, sl,
					     c->onbuild);
			else if (mfrom && *mfrom && strcmp(mfrom, "scratch") != 0)
				r = add_image(gr, i, KILN_DF_EDGE_MOUNT, mfrom, sl);
			if (r < 0)
				return df_oom(err);
		}
	}
	return 0;
}

/* room for `extra` more commands (in the graph's arena: a list moves when it grows) */
static int reserve_cmds(struct df_graph *gr, struct df_state *s, size_t extra)
{
	if (s->alloc_cmds - s->n_cmds >= extra)
		return 0;
	struct df_cmd *n = kiln_arena_grow_array(gr->a, s->cmds, s->n_cmds, &s->alloc_cmds, extra,
						 sizeof(*n), 8);
	if (!n)
		return -KILN_ENOMEM;
	s->cmds = n;
	return 0;
}

/* whether to_command has anything to do: a COPY --from or a RUN --mount (push_cmd
 * already made a command that reads no stage) */
static int reads_stages(const struct kiln_df_instr *in)
{
	return (in->cmd == KILN_DF_COPY && in->u.copy.from && *in->u.copy.from) ||
	       (in->cmd == KILN_DF_RUN && in->u.run.mount_specs.n);
}

static int push_cmd(struct df_graph *gr, struct df_state *s, const struct kiln_df_instr *in,
		    int onbuild, size_t at)
{
	if (reserve_cmds(gr, s, 1) < 0)
		return -KILN_ENOMEM;
	if (at < s->n_cmds)
		memmove(&s->cmds[at + 1], &s->cmds[at], (s->n_cmds - at) * sizeof(*s->cmds));
	s->cmds[at] = (struct df_cmd){ .instr = in, .onbuild = onbuild, .source = -1 };
	s->n_cmds++;
	return 0;
}

/* validateCircularDependency over the COPY/mount edges of every stage */
static int check_cycles(struct df_graph *gr, struct kiln_error *err)
{
	struct kiln_df_graph *g = gr->g;
	size_t n = g->n_stages;
	/* every edge to an earlier stage (the usual graph): no path comes back, no walk */
	int backward = 1;
	for (size_t i = 0; backward && i < n; i++)
		for (size_t k = 0; k < g->stages[i].n_deps; k++)
			backward &= g->stages[i].deps[k].stage < i;
	if (backward)
		return 0;
	/* one block: stack and next (words), then the visited and onpath bytes */
	size_t *stack = kiln_arena_array(gr->a, n + 1, 2 * sizeof(size_t) + 2);
	if (!stack)
		return df_oom(err);
	size_t *next = stack + n + 1;
	unsigned char *visited = (unsigned char *) (next + n + 1), *onpath = visited + n + 1;
	for (size_t root = 0; root < n; root++) {
		if (visited[root])
			continue;
		size_t sp = 0;
		stack[sp++] = root;
		visited[root] = onpath[root] = 1;
		next[root] = 0;
		int first_line = 0;
		while (sp) {
			size_t s = stack[sp - 1];
			const struct kiln_df_stage *st = &g->stages[s];
			/* the edge taken from the root: where BuildKit locates the error */
			int found = 0;
			while (next[s] < st->n_deps) {
				const struct kiln_df_edge *e = &st->deps[next[s]++];
				if (e->kind == KILN_DF_EDGE_FROM)
					continue;
				if (sp == 1)
					first_line = e->line;
				if (onpath[e->stage]) {
					int line = first_line ? first_line : e->line;
					return df_fail_at(
						gr, err, line, line,
						"circular dependency detected on stage: %s",
						g->stages[root].id);
				}
				if (!visited[e->stage]) {
					visited[e->stage] = onpath[e->stage] = 1;
					next[e->stage] = 0;
					stack[sp++] = e->stage;
					found = 1;
					break;
				}
			}
			if (!found && next[s] >= st->n_deps) {
				onpath[s] = 0;
				sp--;
			}
		}
	}
	return 0;
}

static void mark_needed(struct kiln_df_graph *g)
{
	for (size_t i = 0; i < g->n_stages; i++)
		g->stages[i].needed = 0;
	g->stages[g->target].needed = 1;
	/* every edge points to an earlier stage or is an error caught later: walk
	 * back from the highest index, then repeat until stable for forward edges */
	int changed = 1;
	while (changed) {
		changed = 0;
		for (size_t i = g->n_stages; i-- > 0;) {
			struct kiln_df_stage *st = &g->stages[i];
			if (!st->needed)
				continue;
			for (size_t k = 0; k < st->n_deps; k++)
				if (!g->stages[st->deps[k].stage].needed) {
					g->stages[st->deps[k].stage].needed = 1;
					changed = 1;
				}
		}
	}
}

static int dispatches(struct df_graph *gr, size_t i)
{
	return (gr->opts->flags & KILN_DF_GRAPH_ALL_STAGES) || gr->g->stages[i].needed;
}

/* Parse ONBUILD trigger texts into commands (initOnBuildTriggers). */
static int add_triggers(struct df_graph *gr, size_t i, const char *const *texts, size_t n,
			int *new_deps, struct kiln_error *err)
{
	struct kiln_df_stage *st = &gr->g->stages[i];
	struct df_state *s = &gr->states[i];
	int sl = st->start_line, el = st->model->from->end_line;
	for (size_t k = 0; k < n; k++) {
		struct kiln_df_ast *ast = NULL;
		int r = kiln_df_parse(texts[k], strlen(texts[k]), gr->file, &ast, err);
		if (r < 0) {
			if (err) {
				err->pos.line = 0;
				df_error_locate(err, gr->file, sl, el);
			}
			return r;
		}
		struct kiln_df_ast **na =
			kiln_reallocarray(gr->trigger_asts, gr->n_trigger_asts + 1, sizeof(*na));
		if (!na) {
			kiln_df_ast_free(ast);
			return df_oom(err);
		}
		gr->trigger_asts = na;
		na[gr->n_trigger_asts++] = ast;
		if (ast->n_nodes != 1)
			return df_fail_at(gr, err, sl, el,
					  "onbuild trigger should be a single expression");
		/* the trigger's location is the stage's FROM */
		ast->nodes[0].start_line = sl;
		ast->nodes[0].end_line = el;
		struct kiln_df_instr *in = kiln_arena_alloc(gr->a, sizeof(*in));
		if (!in)
			return df_oom(err);
		/* made for the first trigger: most Dockerfiles have none */
		if (!gr->trigger_model) {
			struct graph_keep *keep = gr->g->private_;
			r = kiln_df_model_empty(gr->g->model->ast, &keep->trigger_model, err);
			if (r < 0)
				return r;
			gr->trigger_model = keep->trigger_model;
		}
		if ((r = kiln_df_instr_parse(gr->trigger_model, &ast->nodes[0], in, err)) < 0)
			return r;
		if (in->cmd == KILN_DF_FROM)
			return df_fail_at(gr, err, sl, el, "FROM is not a command type");
		in->node = NULL;
		in->flags |= KILN_DF_INSTR_FROM_ONBUILD;
		if ((r = push_cmd(gr, s, in, 1, k)) < 0)
			return df_oom(err);
		size_t before = st->n_deps + st->n_images;
		if ((r = to_command(gr, i, &s->cmds[k], err)) < 0)
			return r;
		if (st->n_deps + st->n_images != before)
			*new_deps = 1;
	}
	return 0;
}

static int image_config(struct df_graph *gr, size_t i, struct kiln_error *err)
{
	struct kiln_df_stage *st = &gr->g->stages[i];
	struct df_state *s = &gr->states[i];
	if (!gr->hooks || !gr->hooks->image_config)
		return 0;
	struct kiln_df_image_config c = { 0 };
	int r = gr->hooks->image_config(gr->hooks->userdata, st->base, &st->platform, &c, err);
	if (r <= 0)
		return r;
	for (size_t k = 0; k < c.n_env; k++) {
		const char *eq = strchr(c.env[k], '=');
		cleanup_free char *key = eq ? kiln_strndup(c.env[k], (size_t) (eq - c.env[k]))
					    : kiln_strdup(c.env[k]);
		if (!key)
			return df_oom(err);
		if ((r = kiln_shell_envlist_set(s->env, key, eq ? eq + 1 : "", err)) < 0)
			return r;
	}
	if (c.working_dir && *c.working_dir && !(s->workdir = df_astrdup(gr->a, c.working_dir)))
		return df_oom(err);
	if (c.user && !(s->user = df_astrdup(gr->a, c.user)))
		return df_oom(err);
	for (size_t k = 0; k < c.n_shell; k++)
		if (kiln_strv_push(&s->shell, c.shell[k]) < 0)
			return df_oom(err);
	for (size_t k = 0; k < c.n_onbuild; k++)
		if (kiln_strv_push(&s->onbuild, c.onbuild[k]) < 0)
			return df_oom(err);
	/* InvalidBaseImagePlatform: the image is not for the stage's platform */
	if (c.os && c.arch && st->needed &&
	    (strcmp(c.os, st->platform.os) || strcmp(c.arch, st->platform.arch))) {
		struct kiln_df_platform actual = { (char *) c.os, (char *) c.arch,
						   (char *) (c.variant ? c.variant : ""),
						   (char *) "" };
		cleanup_free char *a = kiln_df_platform_format_all(&actual);
		cleanup_free char *e = kiln_df_platform_format_all(&st->platform);
		struct kiln_buf qa = KILN_BUF_INIT, qe = KILN_BUF_INIT;
		r = (a && e) ? kiln_go_quote(&qa, a, strlen(a)) : -KILN_ENOMEM;
		if (r >= 0)
			r = kiln_go_quote(&qe, e, strlen(e));
		if (r >= 0)
			r = df_lint_run(
				gr->lint, DF_RULE_INVALID_BASE_IMAGE_PLATFORM, NULL, st->start_line,
				st->model->from->end_line,
				"Base image %s was pulled with platform %s, expected %s for "
				"current build",
				st->base, qa.buf, qe.buf);
		kiln_buf_release(&qa);
		kiln_buf_release(&qe);
		if (r < 0)
			return df_oom(err);
	}
	return 0;
}

/* resolveReachableStages + initOnBuildTriggers, until no trigger adds a dependency */
static int resolve(struct df_graph *gr, struct kiln_error *err)
{
	struct kiln_df_graph *g = gr->g;
	/* per stage, how many of its image dependencies were checked; then, in
	 * the same block, whether its base was checked and configured */
	size_t *images_checked = kiln_arena_array(gr->a, g->n_stages + 1, sizeof(size_t) + 2);
	if (!images_checked)
		return df_oom(err);
	unsigned char *checked = (unsigned char *) (images_checked + g->n_stages + 1);
	unsigned char *configured = checked + g->n_stages + 1;
	for (;;) {
		mark_needed(g);
		/* every image base is parsed as a reference, needed or not */
		for (size_t i = 0; i < g->n_stages; i++) {
			struct kiln_df_stage *st = &g->stages[i];
			if (st->base_kind == KILN_DF_BASE_IMAGE && !checked[i]) {
				checked[i] = 1;
				int r = gr->ref_ok[i] && (gr->ref_ok[i] == st->base ||
							  !strcmp(gr->ref_ok[i], st->base))
						? 0
						: df_ref_check(gr, st->base, err);
				if (r < 0) {
					if (r == -KILN_ENOMEM)
						return r;
					r = kiln_error_prefix(err, r,
							      "failed to parse stage name \"%s\"",
							      st->base);
					df_error_locate(err, gr->file, st->start_line,
							st->model->from->end_line);
					return r;
				}
			}
			if (st->base_kind == KILN_DF_BASE_IMAGE && !configured[i] &&
			    dispatches(gr, i)) {
				configured[i] = 1;
				int r = image_config(gr, i, err);
				if (r < 0) {
					df_error_locate(err, gr->file, st->start_line,
							st->model->from->end_line);
					return r;
				}
			}
		}
		/* COPY --from=image and mount from=image (ONBUILD's too) are image states */
		for (size_t i = 0; i < g->n_stages; i++) {
			const struct kiln_df_stage *st = &g->stages[i];
			for (size_t k = images_checked[i]; k < st->n_images; k++) {
				images_checked[i] = k + 1;
				if (st->images[k].kind == KILN_DF_EDGE_FROM)
					continue;
				int r = df_ref_check(gr, st->images[k].ref, err);
				if (r < 0) {
					if (r == -KILN_ENOMEM)
						return r;
					r = kiln_error_prefix(err, r,
							      "failed to parse stage name \"%s\"",
							      st->images[k].ref);
					df_error_locate(err, gr->file, st->images[k].line,
							st->images[k].line);
					return r;
				}
			}
		}
		int new_deps = 0;
		for (size_t i = 0; i < g->n_stages; i++) {
			struct kiln_df_stage *st = &g->stages[i];
			struct df_state *s = &gr->states[i];
			if (!st->needed || s->triggers_added || st->replaced)
				continue;
			s->triggers_added = 1;
			cleanup_free const char **texts = NULL;
			size_t nt = 0;
			if (st->base_kind == KILN_DF_BASE_STAGE) {
				const struct kiln_df_model_stage *b =
					g->stages[st->base_stage].model;
				texts = kiln_calloc(b->n_instrs + 1, sizeof(char *));
				if (!texts)
					return df_oom(err);
				for (size_t k = 1; k < b->n_instrs; k++)
					if (b->instrs[k].cmd == KILN_DF_ONBUILD)
						texts[nt++] = b->instrs[k].u.onbuild.expression;
			} else if (s->onbuild.len) {
				texts = kiln_calloc(s->onbuild.len + 1, sizeof(char *));
				if (!texts)
					return df_oom(err);
				for (size_t k = 0; k < s->onbuild.len; k++)
					texts[nt++] = s->onbuild.items[k];
			}
			if (nt) {
				int r = add_triggers(gr, i, texts, nt, &new_deps, err);
				if (r < 0)
					return r;
			}
		}
		if (!new_deps)
			return 0;
		int r = check_cycles(gr, err);
		if (r < 0)
			return r;
	}
}

static int schedule(struct df_graph *gr, struct kiln_error *err)
{
	struct kiln_df_graph *g = gr->g;
	size_t maxlevel = 0;
	for (size_t i = 0; i < g->n_stages; i++) {
		struct kiln_df_stage *st = &g->stages[i];
		if (!st->needed)
			continue;
		int lvl = 0;
		for (size_t k = 0; k < st->n_deps; k++) {
			const struct kiln_df_stage *d = &g->stages[st->deps[k].stage];
			if (d->level + 1 > lvl)
				lvl = d->level + 1;
		}
		st->level = lvl;
		if ((size_t) lvl + 1 > maxlevel)
			maxlevel = (size_t) lvl + 1;
	}
	g->n_levels = maxlevel;
	g->levels = kiln_arena_array(gr->a, maxlevel + 1, sizeof(size_t *));
	g->level_sizes = kiln_arena_array(gr->a, maxlevel + 1, sizeof(size_t));
	if (!g->levels || !g->level_sizes)
		return df_oom(err);
	/* count first: a chain of n stages has n levels of one stage each */
	for (size_t i = 0; i < g->n_stages; i++)
		if (g->stages[i].needed)
			g->level_sizes[g->stages[i].level]++;
	for (size_t l = 0; l < maxlevel; l++) {
		g->levels[l] = kiln_arena_array(gr->a, g->level_sizes[l] + 1, sizeof(size_t));
		if (!g->levels[l])
			return df_oom(err);
		g->level_sizes[l] = 0;
	}
	for (size_t i = 0; i < g->n_stages; i++)
		if (g->stages[i].needed) {
			size_t l = (size_t) g->stages[i].level;
			g->levels[l][g->level_sizes[l]++] = i;
		}
	return 0;
}

static int builtin_arg(const char *k)
{
	static const char *const proxies[] = { "HTTP_PROXY",  "http_proxy", "HTTPS_PROXY",
					       "https_proxy", "FTP_PROXY",  "ftp_proxy",
					       "NO_PROXY",    "no_proxy",   "ALL_PROXY",
					       "all_proxy" };
	static const char *const predefined[] = {
		"BUILDPLATFORM", "BUILDOS",	   "BUILDOSVERSION", "BUILDARCH",
		"BUILDVARIANT",	 "TARGETPLATFORM", "TARGETOS",	     "TARGETOSVERSION",
		"TARGETARCH",	 "TARGETVARIANT",  "TARGETSTAGE",    "SOURCE_DATE_EPOCH",
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(proxies); i++)
		if (!strcmp(k, proxies[i]))
			return 1;
	for (size_t i = 0; i < KILN_ARRAY_SIZE(predefined); i++)
		if (!strcmp(k, predefined[i]))
			return 1;
	return strncmp(k, "BUILDKIT_", 9) == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int unused_args(struct df_graph *gr, struct kiln_error *err)
{
	cleanup(kiln_strv_release) struct kiln_strv unused = KILN_STRV_INIT;
	for (size_t i = 0; i < kiln_shell_envlist_count(gr->build_args); i++) {
		const char *k = kiln_shell_envlist_name(gr->build_args, i);
		if (builtin_arg(k) || df_set_get(&gr->consumed, k))
			continue;
		if (kiln_strv_push(&unused, k) < 0)
			return df_oom(err);
	}
	if (unused.len)
		qsort(unused.items, unused.len, sizeof(char *), cmp_str);
	return df_words_set(gr, &unused, &gr->g->unused_build_args) < 0 ? df_oom(err) : 0;
}

char *kiln_df_graph_unused_args_warning(const struct kiln_df_graph *g)
{
	if (!g->unused_build_args.n)
		return NULL;
	struct kiln_buf b = KILN_BUF_INIT;
	int r = kiln_buf_addstr(&b, "[Warning] One or more build-args [");
	for (size_t i = 0; r >= 0 && i < g->unused_build_args.n; i++)
		r = kiln_buf_addf(&b, "%s%s", i ? " " : "", g->unused_build_args.v[i]);
	if (r >= 0)
		r = kiln_buf_addstr(&b, "] were not consumed");
	if (r < 0) {
		kiln_buf_release(&b);
		return NULL;
	}
	return kiln_buf_detach(&b, NULL);
}

void kiln_df_graph_free(struct kiln_df_graph *g)
{
	if (!g)
		return;
	struct graph_keep *k = g->private_;
	if (k) {
		for (size_t i = 0; i < k->n_asts; i++)
			kiln_df_ast_free(k->asts[i]);
		free(k->asts);
		kiln_df_model_free(k->trigger_model);
	}
	kiln_arena_free(g->arena_); /* g itself, and its platforms' strings if copied */
}

static void gr_release(struct df_graph *gr)
{
	kiln_shell_envlist_free(gr->global);
	kiln_df_graph_defaults_free(gr->own_defaults);
	kiln_buf_release(&gr->xbuf);
	df_set_release(&gr->consumed);
	df_names_release(&gr->own_names);
	/* the environments and ARG lists live in the arena; most stages have no SHELL or trigger */
	for (size_t i = 0; gr->states && i < gr->g->n_stages; i++) {
		struct df_state *s = &gr->states[i];
		df_set_release(&s->arg_env);
		if (s->shell.items)
			kiln_strv_release(&s->shell);
		if (s->onbuild.items)
			kiln_strv_release(&s->onbuild);
	}
	for (size_t i = 0; gr->from_exp && i < gr->g->n_stages; i++)
		df_result_release(&gr->from_exp[i]);
}

static int graph_setup(struct df_graph *gr, struct kiln_error *err)
{
	struct kiln_df_graph *g = gr->g;
	const struct kiln_df_graph_opts *o = gr->opts;
	/* without shared defaults the graph makes its own, the same way; the
	 * graph's platforms borrow shared defaults' strings, else live in its
	 * arena, and stages share them */
	const struct kiln_df_graph_defaults *d = o->defaults;
	int r = 0;
	if (!d && (r = kiln_df_graph_defaults_new(o, &gr->own_defaults, err)) < 0)
		return r;
	if ((r = df_defaults_use(gr, d ? d : gr->own_defaults, err)) < 0)
		return r;
	/* the graph's arena outlives what it keeps and the walk's state */
	struct graph_keep *k = kiln_arena_alloc(gr->a, sizeof(*k));
	if (!k)
		return df_oom(err);
	g->private_ = k;
	g->n_stages = g->model->n_stages;
	g->stages = kiln_arena_array(gr->a, g->n_stages + 1, sizeof(*g->stages));
	gr->states = kiln_arena_array(gr->a, g->n_stages + 1, sizeof(*gr->states));
	if (!g->stages || !gr->states)
		return df_oom(err);
	/* a checks-only walk without image configs leaves each environment to its
	 * dispatch (df_dispatch_stage): it starts as its base stage's or the PATH alone */
	int lazy = gr->checks_only && gr->path_env && !(gr->hooks && gr->hooks->image_config);
	for (size_t i = 0; !lazy && i < g->n_stages; i++)
		if ((r = kiln_shell_envlist_new_in(gr->a, &gr->states[i].env, err)) < 0)
			return r;
	if (!gr->names) {
		if (df_names_init(&gr->own_names, g->n_stages) < 0)
			return df_oom(err);
		gr->names = &gr->own_names;
	}
	if (!(gr->ref_ok = kiln_arena_array(gr->a, g->n_stages + 1, sizeof(char *))))
		return df_oom(err);
	return 0;
}

static int graph_walk(struct df_graph *gr, struct kiln_error *err)
{
	struct kiln_df_graph *g = gr->g;
	const struct kiln_df_model *m = g->model;
	const struct kiln_df_graph_opts *o = gr->opts;
	int r;
	const char *last = m->stages[m->n_stages - 1].from->u.from.name;
	if ((r = df_default_args(gr, o->target ? o->target : (last ? last : ""), err)) < 0)
		return r;
	if ((r = df_lint_default_args(gr, err)) < 0)
		return r;
	if (!gr->meta_done && (r = df_meta_args(gr, gr->global, 1, 1, err)) < 0)
		return r;
	if (!gr->checks_only) {
		for (size_t i = 0; i < gr->n_meta_keys; i++)
			if (df_set_put(&gr->consumed, gr->meta_keys[i], 1) < 0)
				return df_oom(err);
		if ((r = df_env_words(gr, gr->global, &g->global_args)) < 0)
			return df_oom(err);
	}

	for (size_t i = 0; i < g->n_stages; i++) {
		if ((r = df_stage_from(gr, i, err)) < 0)
			return r;
		df_stage_base(gr, i);
		struct kiln_df_stage *st = &g->stages[i];
		if (st->name && gr->hooks && gr->hooks->named_context) {
			r = gr->hooks->named_context(gr->hooks->userdata, st->name, err);
			if (r < 0) {
				df_error_locate(err, gr->file, st->start_line,
						st->model->from->end_line);
				return r;
			}
			if (r) {
				st->replaced = 1;
				st->base_kind = KILN_DF_BASE_IMAGE;
				st->base = st->name;
			}
		}
		if (st->base_kind == KILN_DF_BASE_STAGE &&
		    add_edge(gr, i, KILN_DF_EDGE_FROM, st->base_stage, st->base_raw, st->start_line,
			     0) < 0)
			return df_oom(err);
		if (st->base_kind == KILN_DF_BASE_IMAGE &&
		    add_image(gr, i, KILN_DF_EDGE_FROM, st->base, st->start_line) < 0)
			return df_oom(err);
		/* a name used twice is BuildKit's DuplicateStageName warning, not
		 * an error: FROM finds the latest of the name before it, --from
		 * and --target the last (the tables keep every one) */
		if (st->name && gr->names == &gr->own_names)
			(void) df_names_add(&gr->own_names, st->name, i);
		gr->n_named += st->name != NULL;
	}
	/* a stage's platform: its own --platform, a base stage's, or the target's */
	for (size_t i = 0; i < g->n_stages; i++) {
		struct kiln_df_stage *st = &g->stages[i];
		const struct kiln_df_platform *p = NULL;
		if (st->base_kind == KILN_DF_BASE_STAGE)
			p = &g->stages[st->base_stage].platform;
		else if (!st->has_platform)
			p = &g->target_platform;
		if (p)
			st->platform = *p;
	}

	if (o->target) {
		long t = find_stage(gr, o->target);
		if (t == -2)
			return df_oom(err);
		if (t < 0) {
			r = kiln_fail(err, KILN_ENOTFOUND, 0,
				      "target stage \"%s\" could not be found", o->target);
			cleanup_free const char **ids =
				kiln_calloc(g->n_stages + 1, sizeof(char *));
			if (!ids)
				return df_oom(err);
			for (size_t i = 0; i < g->n_stages; i++)
				ids[i] = g->stages[i].id;
			return df_error_suggest(err, r, o->target, ids, g->n_stages, 1);
		}
		g->target = (size_t) t;
	} else {
		g->target = g->n_stages - 1;
	}

	for (size_t i = 0; i < g->n_stages; i++) {
		struct df_state *s = &gr->states[i];
		const struct kiln_df_model_stage *ms = &m->stages[i];
		for (size_t k = 0; k < s->n_cmds; k++)
			if (reads_stages(s->cmds[k].instr) &&
			    (r = to_command(gr, i, &s->cmds[k], err)) < 0)
				return r;
		if (!g->stages[i].replaced) {
			if (reserve_cmds(gr, s, ms->n_instrs - 1) < 0)
				return df_oom(err);
			/* appended in order into the room just reserved (push_cmd inserts),
			 * each made a command as it is appended (to_command reads no other) */
			for (size_t k = 1; k < ms->n_instrs; k++) {
				const struct kiln_df_instr *in = &ms->instrs[k];
				struct df_cmd *d = &s->cmds[s->n_cmds];
				*d = (struct df_cmd){ .instr = in, .source = -1 };
				s->n_cmds++;
				if (reads_stages(in) && (r = to_command(gr, i, d, err)) < 0)
					return r;
			}
		}
	}
	if ((r = check_cycles(gr, err)) < 0)
		return r;
	if ((r = resolve(gr, err)) < 0)
		return r;
	for (size_t i = 0; i < g->n_stages; i++)
		if (dispatches(gr, i) && (r = df_dispatch_stage(gr, i, err)) < 0)
			return r;
	if (gr->checks_only)
		return 0;
	if ((r = schedule(gr, err)) < 0)
		return r;
	return unused_args(gr, err);
}

int df_graph_new_in(const struct kiln_df_model *model, struct kiln_arena *in,
		    const struct df_names *names, const struct kiln_df_graph_opts *opts,
		    struct kiln_df_graph **ret, struct kiln_error *err)
{
	static const struct kiln_df_graph_opts defaults = { 0 };
	/* the graph lives in its own arena (one allocation fewer, freed with it) or in `in` */
	struct kiln_arena *a = in ? in : kiln_arena_new_sized(KILN_ARENA_SMALL_CHUNK);
	cleanup(kiln_df_graph_freep) struct kiln_df_graph *g =
		a ? kiln_arena_alloc(a, sizeof(*g)) : NULL;
	if (!g) {
		if (!in)
			kiln_arena_free(a);
		return df_oom(err);
	}
	g->arena_ = in ? NULL : a; /* what kiln_df_graph_free frees */
	g->model = model;
	if (model->n_stages == 0)
		return kiln_fail(err, KILN_EPARSE, 0, "dockerfile contains no stages to build");
	/* zeroed but the names' inline table (df_names_init sets what it reads) */
	struct df_graph gr;
	memset(&gr, 0, offsetof(struct df_graph, own_names));
	gr.own_names.slots = NULL; /* all gr_release reads of a table not made */
	gr.names = names;
	gr.g = g;
	gr.opts = opts ? opts : &defaults;
	gr.a = a;
	gr.xbuf = (struct kiln_buf) KILN_BUF_INIT;
	gr.file = model->ast && model->ast->filename.str ? model->ast->filename.str : "Dockerfile";
	gr.hooks = gr.opts->hooks;
	gr.lint = gr.opts->lint;
	gr.checks_only = !!(gr.opts->flags & KILN_DF_GRAPH_CHECKS_ONLY);
	gr.lex.escape = model->ast ? (char) model->ast->escape : '\\';
	gr.plain = df_plain_table(gr.lex.escape);
	int r = graph_setup(&gr, err);
	if (r >= 0)
		r = graph_walk(&gr, err);
	struct graph_keep *k = g->private_;
	if (k) {
		k->asts = gr.trigger_asts;
		k->n_asts = gr.n_trigger_asts;
	} else {
		for (size_t i = 0; i < gr.n_trigger_asts; i++)
			kiln_df_ast_free(gr.trigger_asts[i]);
		free(gr.trigger_asts);
	}
	gr_release(&gr);
	if (r < 0)
		return r;
	*ret = steal_ptr(&g);
	return 0;
}

int kiln_df_graph_new(const struct kiln_df_model *model, const struct kiln_df_graph_opts *opts,
		      struct kiln_df_graph **ret, struct kiln_error *err)
{
	return df_graph_new_in(model, NULL, NULL, opts, ret, err);
}
