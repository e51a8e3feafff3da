/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The global scope and the FROM lines (BuildKit's defaultArgs,
 * buildMetaArgs and the per-stage loop of toDispatchState): predefined args,
 * the ARGs before the first FROM with build args applied, and every FROM's
 * image and --platform expanded there, with the checks BuildKit runs on
 * them (UndefinedArgInFrom, InvalidDefaultArgInFrom, RedundantTargetPlatform,
 * FromPlatformFlagConstDisallowed).
 */
#include <stdlib.h>
#include <string.h>

#include "base/gotext.h"
#include "goconv.h"
#include "graph-internal.h"

/* "K=V" entries of a list, in order */
int df_env_words(struct df_graph *gr, const struct kiln_shell_envlist *l, struct kiln_df_words *ret)
{
	size_t n = kiln_shell_envlist_count(l);
	ret->n = n;
	ret->v = kiln_arena_array(gr->a, n + 1, sizeof(char *));
	if (!ret->v)
		return -KILN_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *k = kiln_shell_envlist_name(l, i);
		cleanup_free char *kv = kiln_asprintf("%s=%s", k, kiln_shell_envlist_get(l, k));
		if (!kv || !(ret->v[i] = df_astrdup(gr->a, kv)))
			return -KILN_ENOMEM;
	}
	return 0;
}

/*
 * defaultArgs: the predefined platform args, build args winning, into
 * `global`, then TARGETSTAGE, whose value (the graph's target) df_default_args sets.
 */
static int set_default_args(struct kiln_shell_envlist *global,
			    const struct kiln_shell_envlist *build_args,
			    const struct kiln_df_platform *build,
			    const struct kiln_df_platform *tgt, struct kiln_error *err)
{
	cleanup_free char *bp = kiln_df_platform_format(build);
	cleanup_free char *tp = kiln_df_platform_format_all(tgt);
	if (!bp || !tp)
		return df_oom(err);
	const char *kv[][2] = {
		{ "BUILDPLATFORM", bp },
		{ "BUILDOS", build->os },
		{ "BUILDOSVERSION", build->os_version },
		{ "BUILDARCH", build->arch },
		{ "BUILDVARIANT", build->variant },
		{ "TARGETPLATFORM", tp },
		{ "TARGETOS", tgt->os },
		{ "TARGETOSVERSION", tgt->os_version },
		{ "TARGETARCH", tgt->arch },
		{ "TARGETVARIANT", tgt->variant },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(kv); i++) {
		if (!kv[i][1])
			continue;
		const char *ov = kiln_shell_envlist_get(build_args, kv[i][0]);
		int r = kiln_shell_envlist_set(global, kv[i][0], ov ? ov : kv[i][1], err);
		if (r < 0)
			return r;
	}
	return kiln_shell_envlist_set(global, "TARGETSTAGE", "", err);
}

struct kiln_df_graph_defaults {
	struct kiln_df_platform build_platform, target_platform;
	struct kiln_shell_envlist *build_args;
	struct kiln_shell_envlist *predefined; /* TARGETSTAGE last, its value df_default_args' */
	struct kiln_shell_envlist *path_env;   /* PATH alone: an empty stage environment's */
};

void kiln_df_graph_defaults_free(struct kiln_df_graph_defaults *d)
{
	if (!d)
		return;
	kiln_df_platform_release(&d->build_platform);
	kiln_df_platform_release(&d->target_platform);
	kiln_shell_envlist_free(d->build_args);
	kiln_shell_envlist_free(d->predefined);
	kiln_shell_envlist_free(d->path_env);
	free(d);
}

int kiln_df_graph_defaults_new(const struct kiln_df_graph_opts *o,
			       struct kiln_df_graph_defaults **ret, struct kiln_error *err)
{
	cleanup(kiln_df_graph_defaults_freep) struct kiln_df_graph_defaults *d =
		kiln_calloc(1, sizeof(*d));
	if (!d)
		return df_oom(err);
	/* as graph_setup makes them for one graph */
	int r = o->build_platform
			? kiln_df_platform_copy(o->build_platform, &d->build_platform, err)
			: kiln_df_platform_host(&d->build_platform, err);
	if (r < 0)
		return r;
	r = kiln_df_platform_copy(o->target_platform ? o->target_platform : &d->build_platform,
				  &d->target_platform, err);
	if (r < 0 || (r = kiln_shell_envlist_new(&d->build_args, err)) < 0 ||
	    (r = kiln_shell_envlist_new(&d->predefined, err)) < 0)
		return r;
	for (size_t i = 0; i < o->n_build_args; i++)
		if ((r = kiln_shell_envlist_put(d->build_args, o->build_args[i], err)) < 0)
			return r;
	r = set_default_args(d->predefined, d->build_args, &d->build_platform,
			     &d->target_platform, err);
	if (r < 0 || (r = kiln_shell_envlist_new(&d->path_env, err)) < 0 ||
	    (r = kiln_shell_envlist_set_borrowed(d->path_env, "PATH", DF_DEFAULT_PATH, err)) < 0)
		return r;
	*ret = steal_ptr(&d);
	return 0;
}

int df_defaults_use(struct df_graph *gr, const struct kiln_df_graph_defaults *d,
		    struct kiln_error *err)
{
	struct kiln_df_graph *g = gr->g;
	if (d != gr->own_defaults) {
		/* shared defaults outlive the graph (graph.h): their strings are borrowed */
		g->build_platform = d->build_platform;
		g->target_platform = d->target_platform;
	} else if (df_platform_copy(gr, &d->build_platform, &g->build_platform) < 0 ||
		   df_platform_copy(gr, &d->target_platform, &g->target_platform) < 0) {
		return df_oom(err);
	}
	gr->build_args = d->build_args;
	gr->path_env = d->path_env;
	return kiln_shell_envlist_copy_shared_in(gr->a, d->predefined, &gr->global, err);
}

int df_default_args(struct df_graph *gr, const char *target, struct kiln_error *err)
{
	/* gr->global is the predefined args copied (df_defaults_use), TARGETSTAGE
	 * last, after them as in BuildKit's list: its value, set in place */
	const char *ov = kiln_shell_envlist_get(gr->build_args, "TARGETSTAGE");
	/* the build args and the target outlive the walk, whose arena holds gr->global */
	size_t last = kiln_shell_envlist_count(gr->global) - 1;
	if (kiln_shell_envlist_set_value_at(gr->global, last, ov ? ov : target) == 0)
		return 0;
	return kiln_shell_envlist_set_borrowed(gr->global, "TARGETSTAGE", ov ? ov : target, err);
}

/* buildMetaArgs: the global ARGs in order, build args replacing defaults */
int df_meta_args(struct df_graph *gr, struct kiln_shell_envlist *args, int with_build_args,
		 int declare, struct kiln_error *err)
{
	const struct kiln_df_model *m = gr->g->model;
	/* the names are the model's (it outlives the graph): room for all of them, borrowed */
	if (declare && !gr->meta_keys) {
		size_t total = 0;
		for (size_t i = 0; i < m->n_meta_args; i++)
			total += m->meta_args[i].u.args.n;
		if (!(gr->meta_keys = kiln_arena_array_uninit(gr->a, total + 1, sizeof(char *))))
			return df_oom(err);
	}
	for (size_t i = 0; i < m->n_meta_args; i++) {
		const struct kiln_df_instr *in = &m->meta_args[i];
		for (size_t k = 0; k < in->u.args.n; k++) {
			const struct kiln_df_argdef *d = &in->u.args.v[k];
			const char *bv = with_build_args
						 ? kiln_shell_envlist_get(gr->build_args, d->key)
						 : NULL;
			cleanup(df_result_release) struct kiln_shell_result res =
				KILN_SHELL_RESULT_INIT;
			const char *value = bv;
			int r;
			/* a plain word is its own expansion (the model outlives the walk) */
			if (!bv && d->value && df_word_plain_in(gr->plain, d->value)) {
				value = d->value;
			} else if (!bv && d->value) {
				r = df_expand_arena(gr, &gr->lex, d->value, args, &res, &value,
						    err);
				if (r < 0) {
					df_error_locate(err, gr->file, in->start_line,
							in->end_line);
					return r;
				}
			}
			/* `args` is in the walk's arena, as the expansion is: borrowed */
			if (value &&
			    (r = kiln_shell_envlist_set_borrowed(args, d->key, value, err)) < 0)
				return r;
			size_t seen = 0;
			while (declare && seen < gr->n_meta_keys &&
			       strcmp(gr->meta_keys[seen], d->key))
				seen++;
			if (declare && seen == gr->n_meta_keys)
				gr->meta_keys[gr->n_meta_keys++] = d->key;
		}
	}
	return 0;
}

int df_ref_check(struct df_graph *gr, const char *ref, struct kiln_error *err)
{
	if (!gr->hooks || !gr->hooks->reference_check)
		return 0;
	return gr->hooks->reference_check(gr->hooks->userdata, ref, err);
}

/* validateBaseImagesWithDefaultArgs (lint only) */
int df_lint_default_args(struct df_graph *gr, struct kiln_error *err)
{
	if (!df_lint_wants(gr->lint, DF_RULE_INVALID_DEFAULT_ARG_IN_FROM) || !gr->hooks ||
	    !gr->hooks->reference_check)
		return 0;
	const struct kiln_df_model *m = gr->g->model;
	cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *own = NULL;
	/* the predefined args, and the global ARGs with their defaults (no build args) */
	const struct kiln_shell_envlist *args = gr->global;
	struct kiln_error e = KILN_ERROR_INIT;
	/*
	 * When no build arg names a global ARG, these are the values the FROM
	 * lines are expanded with later (df_stage_from): keep the expansions.
	 */
	int same = 1;
	for (size_t i = 0; same && i < m->n_meta_args; i++)
		for (size_t k = 0; same && k < m->meta_args[i].u.args.n; k++)
			same = !kiln_shell_envlist_get(gr->build_args,
						       m->meta_args[i].u.args.v[k].key);
	if (m->n_meta_args && same) {
		/* the scope is the walk's own: build it once, for both (a failure is the walk's) */
		int r = df_meta_args(gr, gr->global, 1, 1, err);
		if (r < 0)
			return r;
		gr->meta_done = 1;
	} else if (m->n_meta_args) {
		int r = kiln_shell_envlist_copy_shared_in(gr->a, gr->global, &own, err);
		if (r < 0)
			return r;
		if (df_meta_args(gr, own, 0, 0, &e) < 0) {
			int oom = e.code == KILN_ENOMEM;
			kiln_error_release(&e);
			return oom ? df_oom(err) : 0; /* the real walk fails the same way later */
		}
		args = own;
	}
	if (same &&
	    (!(gr->from_exp = kiln_arena_array(gr->a, m->n_stages + 1, sizeof(*gr->from_exp))) ||
	     !(gr->from_word = kiln_arena_array(gr->a, m->n_stages + 1, sizeof(char *)))))
		return df_oom(err);
	int r;
	for (size_t s = 0; s < m->n_stages; s++) {
		const struct kiln_df_instr *from = m->stages[s].from;
		const char *base = from->u.from.base;
		cleanup(df_result_release) struct kiln_shell_result res =
			KILN_SHELL_RESULT_INIT;
		/* a plain word is its own expansion (the model outlives the graph);
		 * another is expanded into the arena, where df_stage_from takes it */
		const char *word = base;
		int plain = df_word_plain_in(gr->plain, base);
		if (!plain && df_expand_arena(gr, &gr->lex, base, args, &res, &word, &e) < 0) {
			int oom = e.code == KILN_ENOMEM;
			kiln_error_release(&e);
			return oom ? df_oom(err) : 0;
		}
		r = df_ref_check(gr, word, &e);
		int code = e.code;
		kiln_error_release(&e);
		if (r < 0 && code == KILN_ENOMEM)
			return df_oom(err);
		if (r >= 0)
			gr->ref_ok[s] = word;
		if (!plain && gr->from_exp) {
			gr->from_exp[s] = res;
			gr->from_word[s] = word;
			res = (struct kiln_shell_result) KILN_SHELL_RESULT_INIT;
		}
		if (r < 0 &&
		    df_lint_run(
			    gr->lint, DF_RULE_INVALID_DEFAULT_ARG_IN_FROM, NULL, from->start_line,
			    from->end_line,
			    "Default value for ARG %s results in empty or invalid base image name",
			    from->u.from.base) < 0)
			return df_oom(err);
	}
	return 0;
}

/* reportUnusedFromArgs: UndefinedArgInFrom for names neither declared nor predefined */
static int report_from_args(struct df_graph *gr, const struct kiln_df_instr *from,
			    const struct kiln_strv *unmatched)
{
	if (!unmatched->len || !df_lint_wants(gr->lint, DF_RULE_UNDEFINED_ARG_IN_FROM))
		return 0;
	cleanup(kiln_strv_release) struct kiln_strv keys = KILN_STRV_INIT;
	for (size_t i = 0; i < gr->n_meta_keys; i++)
		if (kiln_strv_push(&keys, gr->meta_keys[i]) < 0)
			return -KILN_ENOMEM;
	for (size_t i = 0; i < kiln_shell_envlist_count(gr->global); i++) {
		const char *k = kiln_shell_envlist_name(gr->global, i);
		if (kiln_strv_find(&keys, k) < 0 && kiln_strv_push(&keys, k) < 0)
			return -KILN_ENOMEM;
	}
	for (size_t i = 0; i < unmatched->len; i++) {
		const char *u = unmatched->items[i];
		if (kiln_strv_find(&keys, u) >= 0)
			continue;
		cleanup_free char *owned = NULL;
		const char *sug =
			df_suggest(u, (const char *const *) keys.items, keys.len, 1, &owned);
		int r = sug ? df_lint_run(gr->lint, DF_RULE_UNDEFINED_ARG_IN_FROM, from->node,
					  from->start_line, from->end_line,
					  "FROM argument '%s' is not declared (did you mean %s?)",
					  u, sug)
			    : df_lint_run(gr->lint, DF_RULE_UNDEFINED_ARG_IN_FROM, from->node,
					  from->start_line, from->end_line,
					  "FROM argument '%s' is not declared", u);
		if (r < 0)
			return r;
	}
	return 0;
}

/* wrapSuggestAny: " (did you mean X?)" for the first unmatched name close to a global */
static void suggest_any(struct df_graph *gr, struct kiln_error *err,
			const struct kiln_strv *unmatched)
{
	size_t n = kiln_shell_envlist_count(gr->global);
	const char **opts = kiln_calloc(n + 1, sizeof(char *));
	if (!opts)
		return;
	for (size_t i = 0; i < n; i++)
		opts[i] = kiln_shell_envlist_name(gr->global, i);
	for (size_t i = 0; i < unmatched->len; i++) {
		cleanup_free char *owned = NULL;
		if (df_suggest(unmatched->items[i], opts, n, 1, &owned)) {
			(void) df_error_suggest(err, 0, unmatched->items[i], opts, n, 1);
			break;
		}
	}
	free(opts);
}

static int push_matched(struct df_graph *gr, struct kiln_strv *used,
			const struct kiln_strv *matched)
{
	for (size_t i = 0; i < matched->len; i++) {
		const char *k = matched->items[i];
		const char *v = kiln_shell_envlist_get(gr->global, k);
		cleanup_free char *kv = kiln_asprintf("%s=%s", k, v ? v : "");
		if (!kv)
			return -KILN_ENOMEM;
		if (kiln_strv_find(used, kv) < 0 && kiln_strv_push(used, kv) < 0)
			return -KILN_ENOMEM;
	}
	return 0;
}

static int str_contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* The FROM line of one stage: base and platform expanded in the global scope. */
int df_stage_from(struct df_graph *gr, size_t i, struct kiln_error *err)
{
	struct kiln_df_graph *g = gr->g;
	struct kiln_df_stage *st = &g->stages[i];
	const struct kiln_df_model_stage *ms = &g->model->stages[i];
	const struct kiln_df_instr *from = ms->from;
	const struct kiln_df_from *f = &from->u.from;
	int sl = from->start_line, el = from->end_line;
	cleanup(kiln_strv_release) struct kiln_strv used = KILN_STRV_INIT;

	st->index = i;
	st->model = ms;
	st->level = -1;
	st->start_line = sl;
	st->end_line = ms->instrs[ms->n_instrs - 1].end_line;
	st->base_raw = f->base;
	st->platform_raw = f->platform;
	st->name = f->name;
	/* the usual unnamed stages' ids, static: no copy in the arena */
	static const char *const ids[] = { "stage-0", "stage-1", "stage-2", "stage-3",
					   "stage-4", "stage-5", "stage-6", "stage-7" };
	if (f->name)
		st->id = f->name;
	else if (i < KILN_ARRAY_SIZE(ids))
		st->id = ids[i];
	else {
		/* "stage-%zu", written out: printf costs more than the rest of the line */
		char buf[32], digits[24];
		size_t nd = 0, v = i;
		do
			digits[nd++] = (char) ('0' + v % 10);
		while ((v /= 10));
		memcpy(buf, "stage-", 6);
		for (size_t k = 0; k < nd; k++)
			buf[6 + k] = digits[nd - 1 - k];
		if (!(st->id = df_astrndup(gr->a, buf, 6 + nd)))
			return df_oom(err);
	}

	cleanup(df_result_release) struct kiln_shell_result res = KILN_SHELL_RESULT_INIT;
	struct kiln_error e = KILN_ERROR_INIT;
	int r = 0;
	/* df_lint_default_args kept a valid plain base as itself: no second scan */
	if ((gr->ref_ok && gr->ref_ok[i] == f->base) || df_word_plain_in(gr->plain, f->base)) {
		/* its own expansion, no variables: the model outlives the graph */
		st->base = f->base;
	} else {
		const char *word = NULL; /* in the arena: none made yet */
		if (gr->from_word && gr->from_word[i]) {
			/* df_lint_default_args expanded it with these values */
			res = gr->from_exp[i];
			word = gr->from_word[i];
			gr->from_exp[i] = (struct kiln_shell_result) KILN_SHELL_RESULT_INIT;
		} else {
			r = df_expand(gr, NULL, f->base, gr->global, &res, &e);
		}
		if (report_from_args(gr, from, &res.unmatched) < 0) {
			kiln_error_release(&e);
			return df_oom(err);
		}
		if (r < 0) {
			kiln_error_move(err, &e);
			df_error_locate(err, gr->file, sl, el);
			return r;
		}
		if (!*(word ? word : res.word))
			return df_fail_at(gr, err, sl, el, "base name (%s) should not be blank",
					  f->base);
		if (!(st->base = word ? word : df_astrdup(gr->a, res.word)) ||
		    (!gr->checks_only && push_matched(gr, &used, &res.matched) < 0))
			return df_oom(err);
	}

	if (f->platform) {
		cleanup(df_result_release) struct kiln_shell_result pm =
			KILN_SHELL_RESULT_INIT;
		r = df_expand_matched(gr, f->platform, gr->global, &pm, &e);
		if (report_from_args(gr, from, &pm.unmatched) < 0) {
			kiln_error_release(&e);
			return df_oom(err);
		}
		if (r >= 0 && pm.matched.len == 1 && pm.unmatched.len == 0 &&
		    !strcmp(pm.matched.items[0], "TARGETPLATFORM")) {
			const char *tp = kiln_shell_envlist_get(gr->global, "TARGETPLATFORM");
			if (tp && !strcmp(pm.word, tp) &&
			    df_lint_run(gr->lint, DF_RULE_REDUNDANT_TARGET_PLATFORM, from->node, sl,
					el,
					"Setting platform to predefined %s in FROM is redundant as "
					"this is the default behavior",
					f->platform) < 0)
				return df_oom(err);
		}
		if (r >= 0 && pm.matched.len == 0 && pm.unmatched.len == 0) {
			struct kiln_df_platform p;
			struct kiln_error pe = KILN_ERROR_INIT;
			if (kiln_df_platform_parse(pm.word, &p, &pe) >= 0) {
				const char *name = f->name ? f->name : "";
				if (!str_contains(name, p.os) && !str_contains(name, p.arch)) {
					struct kiln_buf q = KILN_BUF_INIT;
					int lr = kiln_go_quote(&q, pm.word, strlen(pm.word));
					if (lr >= 0)
						lr = df_lint_run(
							gr->lint,
							DF_RULE_FROM_PLATFORM_FLAG_CONST_DISALLOWED,
							from->node, sl, el,
							"FROM --platform flag should not use "
							"constant "
							"value %s",
							q.buf);
					kiln_buf_release(&q);
					if (lr < 0) {
						kiln_df_platform_release(&p);
						return df_oom(err);
					}
				}
				kiln_df_platform_release(&p);
			}
			kiln_error_release(&pe);
		}
		if (r < 0) {
			int rr = kiln_fail(err, e.code, 0,
					   "failed to process arguments for platform : %s",
					   e.msg ? e.msg : "");
			kiln_error_release(&e);
			df_error_locate(err, gr->file, sl, el);
			return rr;
		}
		if (!*pm.word) {
			r = df_fail_at(gr, err, sl, el, "empty platform value from expression %s",
				       f->platform);
			suggest_any(gr, err, &pm.unmatched);
			return r;
		}
		struct kiln_df_platform parsed;
		r = kiln_df_platform_parse(pm.word, &parsed, err);
		if (r >= 0) {
			r = df_platform_copy(gr, &parsed, &st->platform);
			kiln_df_platform_release(&parsed);
			if (r < 0)
				return df_oom(err);
		}
		if (r < 0) {
			if (r == -KILN_ENOMEM)
				return r;
			suggest_any(gr, err, &pm.unmatched);
			r = kiln_error_prefix(err, r, "failed to parse platform %s", f->platform);
			df_error_locate(err, gr->file, sl, el);
			return r;
		}
		st->has_platform = 1;
		if (!gr->checks_only && push_matched(gr, &used, &pm.matched) < 0)
			return df_oom(err);
	}
	if (!gr->checks_only && df_words_set(gr, &used, &st->from_args) < 0)
		return df_oom(err);
	return 0;
}

/* addState: the base is an earlier stage when its expanded name equals one exactly */
void df_stage_base(struct df_graph *gr, size_t i)
{
	struct kiln_df_stage *st = &gr->g->stages[i];
	st->base_kind = KILN_DF_BASE_IMAGE;
	/* no stage named, or none before the first: no lookup */
	long k = gr->n_named && i ? df_names_find_before(gr->names, st->base, i) : -1;
	if (k >= 0) {
		st->base_kind = KILN_DF_BASE_STAGE;
		st->base_stage = (size_t) k;
		return;
	}
	if (st->base[0] == 's' && !strcmp(st->base, "scratch"))
		st->base_kind = KILN_DF_BASE_SCRATCH;
}
