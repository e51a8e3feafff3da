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
				const char *src = lint_ntext(n, &n->args[a]);
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

static void context_dir_free(struct lint_context_dir *d)
{
	if (!d)
		return;
	free(d->dir);
	kiln_ignore_list_release(&d->ignore);
	free(d->ignore_path);
	for (size_t i = 0; i < d->n_walks; i++) {
		free(d->walks[i].ignore_path);
		kiln_strv_release(&d->walks[i].found);
	}
	free(d->walks);
	free(d);
}

void lint_context_memo_release(struct lint_context_memo *m)
{
	for (size_t i = 0; i < m->cap; i++)
		context_dir_free(m->slots[i]);
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
	pthread_mutex_destroy(&m->lock);
}

static uint64_t dir_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Keep the table at most half full; on failure it stays as it was. */
static int memo_grow(struct lint_context_memo *m)
{
	if (2 * (m->n + 1) <= m->cap)
		return 0;
	size_t cap = m->cap ? 2 * m->cap : 16;
	struct lint_context_dir **slots = kiln_calloc(cap, sizeof(*slots));
	if (!slots)
		return -KILN_ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->slots[i])
			continue;
		size_t k = (size_t)m->slots[i]->hash & (cap - 1);
		while (slots[k])
			k = (k + 1) & (cap - 1);
		slots[k] = m->slots[i];
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

/* The directory's record, made on first use with whether it exists; the
 * caller holds the memo's lock. Many directories (a monorepo's services)
 * are one lookup each, not a scan of the others. */
static int context_dir_get(struct lint_context_memo *m, const char *dir,
			   struct lint_context_dir **ret, struct kiln_error *err)
{
	uint64_t h = dir_hash(dir);
	if (m->cap)
		for (size_t k = (size_t)h & (m->cap - 1); m->slots[k]; k = (k + 1) & (m->cap - 1))
			if (m->slots[k]->hash == h && !strcmp(m->slots[k]->dir, dir)) {
				*ret = m->slots[k];
				return 0;
			}
	if (memo_grow(m) < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	struct lint_context_dir *d = kiln_calloc(1, sizeof(*d));
	if (d)
		d->dir = kiln_strdup(dir);
	if (!d || !d->dir) {
		free(d);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	d->hash = h;
	d->ignore = (struct kiln_ignore_list)KILN_IGNORE_LIST_INIT;
	d->exists = access(dir, F_OK) == 0;
	size_t k = (size_t)h & (m->cap - 1);
	while (m->slots[k])
		k = (k + 1) & (m->cap - 1);
	m->slots[k] = d;
	m->n++;
	*ret = d;
	return 0;
}

/* DIR/.dockerignore, read once for the directory; the caller holds the lock. */
static int context_dir_ignore(struct lint_context_dir *d, struct kiln_error *err)
{
	if (d->ignore_read)
		return 0;
	size_t dl = strlen(d->dir);
	cleanup_free char *path = kiln_asprintf("%s%s.dockerignore", d->dir,
						dl && d->dir[dl - 1] == '/' ? "" : "/");
	if (!path)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int r = kiln_ignore_load_file(path, &d->ignore, err);
	if (r < 0)
		return r;
	if (r > 0)
		d->ignore_path = steal_ptr(&path);
	d->ignore_read = 1;
	return 0;
}

/*
 * As kiln_ignore_load_for_build(): DOCKERFILE.dockerignore wins over
 * CONTEXT/.dockerignore. The context's side is the memo's, shared by the
 * files of the directory.
 */
int lint_context_load(struct lint_file *f, struct kiln_error *err)
{
	if (f->ctx_loaded)
		return 0;
	struct lint_context_memo *m = f->ctx_memo;
	struct lint_context_dir *d = NULL;
	pthread_mutex_lock(&m->lock);
	int r = context_dir_get(m, f->opts->context_dir, &d, err);
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		return r;
	if (!d->exists) {
		f->ctx_loaded = 1;
		return 0;
	}
	const char *df = f->opts->dockerfile_path;
	if (df && *df) {
		size_t dl = strlen(df);
		cleanup_free char *own = kiln_malloc(dl + sizeof(".dockerignore"));
		if (!own)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		memcpy(mempcpy(own, df, dl), ".dockerignore", sizeof(".dockerignore"));
		/* most Dockerfiles have none: tell so without an error message made and dropped */
		int fd = open(own, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
		r = fd < 0 && errno == ENOENT ? 0 : kiln_ignore_load_file(own, &f->own_ignore, err);
		if (r < 0)
			return r;
		if (r > 0) {
			f->own_ignore_path = steal_ptr(&own);
			f->ignore = &f->own_ignore;
			f->ignore_path = f->own_ignore_path;
		}
	}
	if (!f->ignore_path) {
		pthread_mutex_lock(&m->lock);
		r = context_dir_ignore(d, err);
		pthread_mutex_unlock(&m->lock);
		if (r < 0)
			return r;
		if (d->ignore_path) {
			f->ignore = &d->ignore;
			f->ignore_path = d->ignore_path;
		}
	}
	f->ctx_dir = d;
	f->ctx_loaded = 1;
	return 0;
}

int lint_context_matcher(struct lint_file *f, struct kiln_ignore_matcher **ret,
			 struct kiln_error *err)
{
	*ret = NULL;
	if (!f->ignore || !f->ignore->patterns.len)
		return 0;
	if (!f->ignore_matcher) {
		int r = kiln_ignore_matcher_new_list(f->ignore, &f->ignore_matcher, err);
		if (r < 0)
			return r;
	}
	*ret = f->ignore_matcher;
	return 0;
}

void lint_context_release(struct lint_file *f)
{
	kiln_ignore_matcher_free(f->ignore_matcher);
	f->ignore_matcher = NULL;
	kiln_ignore_list_release(&f->own_ignore);
	free(f->own_ignore_path);
	f->own_ignore_path = NULL;
	f->ignore = NULL;
	f->ignore_path = NULL;
	f->ctx_dir = NULL;
	f->ctx_loaded = 0;
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

static const struct lint_context_walk *walk_find(const struct lint_context_dir *d,
						 const char *ignore_path)
{
	for (size_t i = 0; i < d->n_walks; i++)
		if (same_str(d->walks[i].ignore_path, ignore_path))
			return &d->walks[i];
	return NULL;
}

/* Keep a walk's result; a failure only costs the next file a walk. */
static void walk_add(struct lint_context_dir *d, const char *ignore_path,
		     const struct secret_walk *w)
{
	struct lint_context_walk *n = kiln_reallocarray(d->walks, d->n_walks + 1, sizeof(*n));
	if (!n)
		return;
	d->walks = n;
	struct lint_context_walk e = { .ignore_path = ignore_path ? kiln_strdup(ignore_path) : NULL,
				       .found = KILN_STRV_INIT,
				       .truncated = w->truncated };
	if ((ignore_path && !e.ignore_path) || kiln_strv_copy(&e.found, &w->found) < 0) {
		free(e.ignore_path);
		kiln_strv_release(&e.found);
		return;
	}
	d->walks[d->n_walks++] = e;
}

/* what the Dockerfile author should not send, present at the top of the context */
static const char *const suspects[] = { ".git", "node_modules", ".env", NULL };

/* The context's root, opened on first need (`*root` -1 until then). */
static int root_open(const struct lint_file *f, int *root, struct kiln_error *err)
{
	if (*root >= 0)
		return 0;
	int r = kiln_ignore_open_root(f->opts->context_dir, root, err);
	return r < 0 ? kiln_error_prefix(err, r, "build context %s", f->opts->context_dir) : 0;
}

/* Which suspects the context holds (bit i: suspects[i]), looked at once per directory. */
static int context_suspects(struct lint_file *f, int *root, unsigned *ret, struct kiln_error *err)
{
	struct lint_context_dir *d = f->ctx_dir;
	int r = 0;
	pthread_mutex_lock(&f->ctx_memo->lock);
	if (!d->suspects_known) {
		r = root_open(f, root, err);
		for (size_t i = 0; r >= 0 && suspects[i]; i++) {
			struct stat st;
			if (fstatat(*root, suspects[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
				d->suspects |= 1u << i;
		}
		d->suspects_known = r >= 0;
	}
	*ret = d->suspects;
	pthread_mutex_unlock(&f->ctx_memo->lock);
	return r;
}

/* KL1004 and KL1005: suspects the context holds that no ignore file excludes. */
static int unexcluded_suspects(struct lint_file *f, unsigned present, struct kiln_error *err)
{
	struct kiln_ignore_matcher *m = NULL;
	int r = lint_context_matcher(f, &m, err);
	if (r < 0)
		return r;
	struct kiln_buf miss = KILN_BUF_INIT;
	size_t n_present = 0;
	for (size_t i = 0; suspects[i]; i++) {
		if (!(present & (1u << i)))
			continue;
		n_present++;
		int ex = m ? kiln_ignore_matches_or_parent(m, suspects[i], strlen(suspects[i]),
							   NULL, err)
			   : 0;
		if (ex < 0) {
			kiln_buf_release(&miss);
			return ex;
		}
		if (!ex && kiln_buf_addf(&miss, "%s%s", miss.len ? ", " : "", suspects[i]) < 0)
			f->nomem = 1;
	}
	if (miss.len && !f->ignore_path)
		lint_emit(f, "KL1004", -1, 1,
			  "there is no .dockerignore, so the build sends %s with the context: "
			  "add a .dockerignore that excludes %s",
			  miss.buf, n_present > 1 ? "them" : "it");
	else if (miss.len)
		lint_emit(f, "KL1005", -1, 1,
			  "%s does not exclude %s, which the context holds: add %s", f->ignore_path,
			  miss.buf, strchr(miss.buf, ',') ? "these entries" : "the entry");
	kiln_buf_release(&miss);
	return 0;
}

static void note_truncated(struct lint_file *f)
{
	lint_note(f,
		  "the build context has more than %d entries; only the first were searched for "
		  "secret files",
		  KILN_LINT_CONTEXT_MAX_ENTRIES);
}

/* KL1007: walk the context once per directory and ignore file, for secret files. */
static int secret_files(struct lint_file *f, int *root, struct kiln_error *err)
{
	static const struct kiln_ignore_list no_patterns = KILN_IGNORE_LIST_INIT;
	int r = 0;
	/* held through the walk: files that share a context walk it once */
	pthread_mutex_lock(&f->ctx_memo->lock);
	const struct lint_context_walk *known = walk_find(f->ctx_dir, f->ignore_path);
	if (known) {
		if (known->truncated)
			note_truncated(f);
		kl1007(f, &known->found);
	} else if ((r = root_open(f, root, err)) >= 0) {
		const struct kiln_ignore_list *il = f->ignore ? f->ignore : &no_patterns;
		struct kiln_ignore_filter *flt = NULL;
		struct kiln_ignore_filter_opt fo = {
			.exclude = (const char *const *)il->patterns.items,
			.n_exclude = il->patterns.len,
			.exclude_lines = il->lines,
			.exclude_source = il->source,
		};
		r = kiln_ignore_filter_new(*root, &fo, &flt, err);
		if (r >= 0) {
			struct secret_walk w = { .found = KILN_STRV_INIT };
			struct kiln_ignore_walk_opts wo = { .filters = &flt, .n_filters = 1,
							    .ctx = f->opts->ctx };
			r = kiln_ignore_walk(*root, &wo, on_entry, &w, err);
			if (r == -KILN_ELIMIT && w.truncated) {
				kiln_error_release(err);
				r = 0;
				note_truncated(f);
			}
			if (r >= 0) {
				kl1007(f, &w.found);
				walk_add(f->ctx_dir, f->ignore_path, &w);
			}
			kiln_strv_release(&w.found);
			kiln_ignore_filter_free(flt);
		}
	}
	pthread_mutex_unlock(&f->ctx_memo->lock);
	return r;
}

int lint_rules_context(struct lint_file *f, struct kiln_error *err)
{
	if (!context_copies(f))
		return 0;
	int r = lint_context_load(f, err);
	if (r < 0)
		return r;
	cleanup_close int root = -1;
	if (!f->ctx_dir) /* it does not exist: fail as opening it does */
		return root_open(f, &root, err);
	unsigned present = 0;
	if ((r = context_suspects(f, &root, &present, err)) < 0)
		return r;
	if (present && (r = unexcluded_suspects(f, present, err)) < 0)
		return r;
	return secret_files(f, &root, err);
}
