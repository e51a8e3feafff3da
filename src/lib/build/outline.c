/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `--call` asks of a Dockerfile instead of a build, as BuildKit's
 * frontend answers its subrequests: the targets (every stage, its
 * description comment, the last the default) and the outline of a target
 * (the build args its stages use, with the values the build would take and
 * their descriptions, and the secrets and SSH agents its RUN mounts need).
 */
#include <stdlib.h>
#include <string.h>

#include "build/build-private.h"
#include "build/mounts.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

static int dup_or_null(const char *s, char **ret)
{
	*ret = NULL;
	return s && !(*ret = kiln_strdup(s)) ? -1 : 0;
}

int bb_list_targets(struct bb *b, struct kiln_build_result *ret, struct kiln_error *err)
{
	const struct kiln_df_model *m = b->model;
	ret->targets = kiln_calloc(m->n_stages + 1, sizeof(*ret->targets));
	if (!ret->targets)
		return oom(err);
	for (size_t i = 0; i < m->n_stages; i++) {
		const struct kiln_df_instr *from = m->stages[i].from;
		struct kiln_build_target *t = &ret->targets[ret->n_targets++];
		t->is_default = i + 1 == m->n_stages;
		t->line = from->start_line;
		if (dup_or_null(from->u.from.name, &t->name) < 0 ||
		    dup_or_null(from->u.from.comment, &t->description) < 0)
			return oom(err);
	}
	return 0;
}

/* ---- the outline ------------------------------------------------------------------ */

static void items_free(struct kiln_build_outline_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
		free(v[i].description);
	}
	free(v);
}

void bb_outline_release(struct kiln_build_outline *o)
{
	free(o->target);
	free(o->description);
	items_free(o->args, o->n_args);
	items_free(o->secrets, o->n_secrets);
	items_free(o->ssh, o->n_ssh);
	memset(o, 0, sizeof(*o));
}

/* A list of items, one per name (the first one added wins, as BuildKit's visited set). */
struct items {
	struct kiln_build_outline_item *v;
	size_t n, cap;
};

static int items_find(const struct items *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return (int) i;
	return -1;
}

static int items_add(struct items *l, const char *name, size_t name_len, const char *value,
		     const char *description, int required, int line)
{
	cleanup_free char *n = kiln_strndup(name, name_len);
	if (!n)
		return -1;
	if (items_find(l, n) >= 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct kiln_build_outline_item *v = kiln_reallocarray(l->v, cap, sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	struct kiln_build_outline_item *it = &l->v[l->n];
	*it = (struct kiln_build_outline_item){ .required = required, .line = line };
	if (dup_or_null(value, &it->value) < 0 || dup_or_null(description, &it->description) < 0) {
		free(it->value);
		return -1;
	}
	it->name = steal_ptr(&n);
	l->n++;
	return 0;
}

static int by_line(const void *a, const void *b)
{
	const struct kiln_build_outline_item *x = a, *y = b;
	return (x->line > y->line) - (x->line < y->line);
}

static void items_take(struct items *l, struct kiln_build_outline_item **ret, size_t *ret_n)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), by_line);
	*ret = l->v;
	*ret_n = l->n;
	*l = (struct items){ 0 };
}

/* The value a used arg had ("K=V" words), or NULL when `key` is not among them. */
static const char *used_value(const struct kiln_df_words *w, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < w->n; i++)
		if (!strncmp(w->v[i], key, kl) && w->v[i][kl] == '=')
			return w->v[i] + kl + 1;
	return NULL;
}

/* The value the stage's steps (or its FROM line) used for `key`, or NULL: not used. */
static const char *stage_use(const struct kiln_plan_stage *ps, const char *key)
{
	const char *v = used_value(&ps->df->from_args, key);
	for (size_t k = 0; !v && k < ps->n_steps; k++)
		v = used_value(&ps->steps[k].df->used_args, key);
	return v;
}

/* The ARG that defines `key` for a stage: its own first one, else the global one. */
static const struct kiln_df_argdef *arg_def(const struct kiln_df_model *m,
					    const struct kiln_df_model_stage *ms, const char *key,
					    int *line)
{
	for (size_t i = 0; ms && i < ms->n_instrs; i++) {
		const struct kiln_df_instr *in = &ms->instrs[i];
		for (size_t a = 0; in->cmd == KILN_DF_ARG && a < in->u.args.n; a++)
			if (!strcmp(in->u.args.v[a].key, key)) {
				*line = in->start_line;
				return &in->u.args.v[a];
			}
	}
	for (size_t i = 0; i < m->n_meta_args; i++) {
		const struct kiln_df_instr *in = &m->meta_args[i];
		for (size_t a = 0; a < in->u.args.n; a++)
			if (!strcmp(in->u.args.v[a].key, key)) {
				*line = in->start_line;
				return &in->u.args.v[a];
			}
	}
	return NULL;
}

/* Every ARG name a stage could use: its own and the global ones. */
static int stage_args(struct bb *b, const struct kiln_plan_stage *ps, struct items *args)
{
	const struct kiln_df_model *m = b->model;
	const struct kiln_df_model_stage *ms = ps->df->model;
	for (int pass = 0; pass < 2; pass++) {
		const struct kiln_df_instr *v = pass ? m->meta_args : ms ? ms->instrs : NULL;
		size_t n = pass ? m->n_meta_args : ms ? ms->n_instrs : 0;
		for (size_t i = 0; i < n; i++) {
			const struct kiln_df_instr *in = &v[i];
			for (size_t a = 0; in->cmd == KILN_DF_ARG && a < in->u.args.n; a++) {
				const char *key = in->u.args.v[a].key;
				const char *used = stage_use(ps, key);
				int line = 0;
				const struct kiln_df_argdef *d = arg_def(m, ms, key, &line);
				if (!used || !d)
					continue;
				if (items_add(args, key, strlen(key), used, d->comment, 0, line) < 0)
					return -1;
			}
		}
	}
	return 0;
}

/* The secrets and SSH agents a stage's RUN mounts. */
static int stage_mounts(const struct kiln_plan_stage *ps, struct items *secrets,
			struct items *ssh)
{
	for (size_t k = 0; k < ps->n_steps; k++) {
		const struct kiln_df_instr *in = &ps->steps[k].df->instr;
		for (size_t i = 0; in->cmd == KILN_DF_RUN && i < in->u.run.n_mounts; i++) {
			const struct kiln_df_mount *mt = &in->u.run.mounts[i];
			int r = 0;
			if (mt->type == KILN_DF_MOUNT_SECRET) {
				/* the id is the source, else the id, else the target's base name */
				const char *id = mt->source && *mt->source ? mt->source
						 : mt->id && *mt->id		 ? mt->id
										 : NULL;
				cleanup_free char *base =
					id || !mt->target ? NULL : kiln_plan_path_base(mt->target);
				if (!id && mt->target && !base)
					return -1;
				if (id || base)
					r = items_add(secrets, id ? id : base, strlen(id ? id : base),
						      NULL, NULL, mt->required, in->start_line);
			} else if (mt->type == KILN_DF_MOUNT_SSH) {
				const char *id = mt->id && *mt->id ? mt->id : BB_SSH_DEFAULT_ID;
				r = items_add(ssh, id, strlen(id), NULL, NULL, mt->required,
					      in->start_line);
			}
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int bb_outline(struct bb *b, struct kiln_build_result *ret, struct kiln_error *err)
{
	const struct kiln_plan *p = b->plan;
	const struct kiln_df_stage *target = p->stages[p->target].df;
	struct kiln_build_outline *o = &ret->outline;
	struct items args = { 0 }, secrets = { 0 }, ssh = { 0 };
	int r = dup_or_null(target->name, &o->target) < 0 ||
			dup_or_null(target->model ? target->model->from->u.from.comment : NULL,
				    &o->description) < 0
		? -1
		: 0;
	/* the target first: a name it defines wins over its bases' and the global one */
	for (size_t n = 0; r >= 0 && n < p->n_stages; n++) {
		size_t i = n == 0 ? p->target : n - 1 + (n - 1 >= p->target);
		r = stage_args(b, &p->stages[i], &args);
		if (r >= 0)
			r = stage_mounts(&p->stages[i], &secrets, &ssh);
	}
	items_take(&args, &o->args, &o->n_args);
	items_take(&secrets, &o->secrets, &o->n_secrets);
	items_take(&ssh, &o->ssh, &o->n_ssh);
	return r < 0 ? oom(err) : 0;
}
