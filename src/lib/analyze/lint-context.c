/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/lint-internal.h"
#include "base/alloc.h"
#include "ignore/ignore.h"
#include "ignore/walk.h"

/*
 * The rules that look at the build context as `docker build` would send
 * it: KL1004 (no .dockerignore), KL1005 (one that misses the usual
 * suspects) and KL1007 (secret files that a COPY sends).
 */

struct secret_walk {
	struct kiln_strv found; /* secret files the build would see */
	size_t entries;
	int truncated;
};

static int on_entry(const struct kiln_ignore_walk_entry *e, void *ud)
{
	struct secret_walk *w = ud;
	if (++w->entries > KILN_LINT_CONTEXT_MAX_ENTRIES) {
		w->truncated = 1;
		return -KILN_ELIMIT;
	}
	if (S_ISDIR(e->st->st_mode))
		return !strcmp(e->name, "node_modules") || !strcmp(e->name, ".git") ? KILN_IGNORE_WALK_SKIP
										     : 0;
	if (!S_ISREG(e->st->st_mode) || !lint_secret_path(e->path))
		return 0;
	if (w->found.len < 64 && kiln_strv_push(&w->found, e->path) < 0)
		return -KILN_ENOMEM;
	return 0;
}

/* Does COPY/ADD source `src` (as written) send context path `path`? */
static int source_covers(const char *src, const char *path)
{
	while (lint_str_has_prefix(src, "./"))
		src += 2;
	if (!*src || !strcmp(src, ".") || !strcmp(src, "*") || !strcmp(src, "/"))
		return 1;
	size_t n = strlen(src);
	while (n && src[n - 1] == '/')
		n--;
	if (strncmp(path, src, n) == 0 && (path[n] == '/' || path[n] == 0))
		return 1;
	return 0;
}

static int context_copies(const struct lint_file *f)
{
	for (size_t i = 0; i < f->n_instrs; i++) {
		const struct lint_instr *in = &f->instrs[i];
		if ((in->cmd == KILN_DF_COPY || in->cmd == KILN_DF_ADD) && !lint_flag(in->node, "from") &&
		    !in->node->n_heredocs && in->node->n_args >= 2)
			return 1;
	}
	return 0;
}

static void kl1007(struct lint_file *f, const struct kiln_strv *found)
{
	for (size_t i = 0; i < f->n_instrs; i++) {
		const struct lint_instr *in = &f->instrs[i];
		const struct kiln_df_node *n = in->node;
		if ((in->cmd != KILN_DF_COPY && in->cmd != KILN_DF_ADD) || lint_flag(n, "from") ||
		    n->n_heredocs)
			continue;
		struct kiln_buf list = KILN_BUF_INIT;
		size_t cnt = 0;
		for (size_t k = 0; k < found->len; k++) {
			int hit = 0;
			for (size_t a = 0; a + 1 < n->n_args && !hit; a++) {
				const char *src = lint_text(&n->args[a]);
				/* a source naming the secret itself is KL1006's */
				if (!lint_secret_path(src))
					hit = source_covers(src, found->items[k]);
			}
			if (!hit)
				continue;
			if (cnt < 3 && kiln_buf_addf(&list, "%s%s", cnt ? ", " : "", found->items[k]) < 0)
				f->nomem = 1;
			cnt++;
		}
		if (cnt)
			lint_emit(f, "KL1007", (int)i, in->line,
				  "%s sends %s%s into the image: exclude %s in .dockerignore or copy only "
				  "what the image needs",
				  lint_text(&n->keyword), list.buf, cnt > 3 ? " and more" : "",
				  cnt > 1 ? "them" : "it");
		kiln_buf_release(&list);
	}
}

void lint_context_memo_init(struct lint_context_memo *m)
{
	*m = (struct lint_context_memo){ 0 };
	pthread_mutex_init(&m->lock, NULL);
}

void lint_context_memo_release(struct lint_context_memo *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].dir);
		free(m->v[i].ignore_path);
		kiln_strv_release(&m->v[i].found);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
	pthread_mutex_destroy(&m->lock);
}

struct kiln_lint_cache *kiln_lint_cache_new(void)
{
	struct kiln_lint_cache *c = kiln_calloc(1, sizeof(*c));
	if (c)
		lint_context_memo_init(&c->memo);
	return c;
}

void kiln_lint_cache_free(struct kiln_lint_cache *c)
{
	if (!c)
		return;
	lint_context_memo_release(&c->memo);
	free(c);
}

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static const struct lint_context_walk *memo_find(const struct lint_context_memo *m, const char *dir,
						 const char *ignore_path)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (!strcmp(m->v[i].dir, dir) && same_str(m->v[i].ignore_path, ignore_path))
			return &m->v[i];
	return NULL;
}

/* Keep a walk's result; a failure only costs the next file a walk. */
static void memo_add(struct lint_context_memo *m, const char *dir, const char *ignore_path,
		     const struct secret_walk *w)
{
	if (!m)
		return;
	struct lint_context_walk *n = kiln_reallocarray(m->v, m->n + 1, sizeof(*n));
	if (!n)
		return;
	m->v = n;
	struct lint_context_walk e = { .dir = kiln_strdup(dir),
				       .ignore_path = ignore_path ? kiln_strdup(ignore_path) : NULL,
				       .found = KILN_STRV_INIT,
				       .truncated = w->truncated };
	int ok = e.dir && (!ignore_path || e.ignore_path) &&
		 kiln_strv_copy(&e.found, &w->found) >= 0;
	if (!ok) {
		free(e.dir);
		free(e.ignore_path);
		kiln_strv_release(&e.found);
		return;
	}
	m->v[m->n++] = e;
}

int lint_rules_context(struct lint_file *f, struct kiln_error *err)
{
	const char *dir = f->opts->context_dir;
	if (!context_copies(f))
		return 0;
	int root = -1;
	int r = kiln_ignore_open_root(dir, &root, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "build context %s", dir);
	struct kiln_ignore_list list = KILN_IGNORE_LIST_INIT;
	char *ignore_path = NULL;
	r = kiln_ignore_load_for_build(dir, f->opts->dockerfile_path, &list, &ignore_path, err);
	if (r < 0) {
		close(root);
		return r;
	}
	/* what the Dockerfile author should not send, present at the top of the context */
	static const char *const suspects[] = { ".git", "node_modules", ".env", NULL };
	struct kiln_strv present = KILN_STRV_INIT;
	for (size_t i = 0; suspects[i]; i++) {
		struct stat st;
		if (fstatat(root, suspects[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    kiln_strv_push(&present, suspects[i]) < 0)
			f->nomem = 1;
	}
	struct kiln_ignore_matcher *m = NULL;
	if (ignore_path && list.patterns.len)
		r = kiln_ignore_matcher_new_list(&list, &m, err);
	if (r >= 0 && present.len) {
		struct kiln_buf miss = KILN_BUF_INIT;
		for (size_t i = 0; i < present.len && r >= 0; i++) {
			int ex = m ? kiln_ignore_matches_or_parent(m, present.items[i],
								   strlen(present.items[i]), NULL, err)
				   : 0;
			if (ex < 0) {
				r = ex;
				break;
			}
			if (!ex && kiln_buf_addf(&miss, "%s%s", miss.len ? ", " : "", present.items[i]) < 0)
				f->nomem = 1;
		}
		if (r >= 0 && miss.len && !ignore_path)
			lint_emit(f, "KL1004", -1, 1,
				  "there is no .dockerignore, so the build sends %s with the context: add a "
				  ".dockerignore that excludes %s",
				  miss.buf, present.len > 1 ? "them" : "it");
		else if (r >= 0 && miss.len)
			lint_emit(f, "KL1005", -1, 1,
				  "%s does not exclude %s, which the context holds: add %s",
				  ignore_path, miss.buf, strchr(miss.buf, ',') ? "these entries" : "the entry");
		kiln_buf_release(&miss);
	}
	kiln_ignore_matcher_free(m);
	kiln_strv_release(&present);
	/* held through the walk: files that share a context walk it once */
	if (f->ctx_memo)
		pthread_mutex_lock(&f->ctx_memo->lock);
	const struct lint_context_walk *known =
		r >= 0 ? memo_find(f->ctx_memo, dir, ignore_path) : NULL;
	if (known) {
		if (known->truncated)
			lint_note(f,
				  "the build context has more than %d entries; only the first were "
				  "searched for secret files",
				  KILN_LINT_CONTEXT_MAX_ENTRIES);
		kl1007(f, &known->found);
	} else if (r >= 0) {
		struct kiln_ignore_filter *flt = NULL;
		struct kiln_ignore_filter_opt fo = {
			.exclude = (const char *const *)list.patterns.items,
			.n_exclude = list.patterns.len,
			.exclude_lines = list.lines,
			.exclude_source = list.source,
		};
		r = kiln_ignore_filter_new(root, &fo, &flt, err);
		if (r >= 0) {
			struct secret_walk w = { .found = KILN_STRV_INIT };
			struct kiln_ignore_walk_opts wo = { .filters = &flt, .n_filters = 1,
							    .ctx = f->opts->ctx };
			r = kiln_ignore_walk(root, &wo, on_entry, &w, err);
			if (r == -KILN_ELIMIT && w.truncated) {
				kiln_error_release(err);
				r = 0;
				lint_note(f, "the build context has more than %d entries; only the first were "
					     "searched for secret files",
					  KILN_LINT_CONTEXT_MAX_ENTRIES);
			}
			if (r >= 0) {
				kl1007(f, &w.found);
				memo_add(f->ctx_memo, dir, ignore_path, &w);
			}
			kiln_strv_release(&w.found);
			kiln_ignore_filter_free(flt);
		}
	}
	if (f->ctx_memo)
		pthread_mutex_unlock(&f->ctx_memo->lock);
	kiln_ignore_list_release(&list);
	free(ignore_path);
	close(root);
	return r < 0 ? r : 0;
}
