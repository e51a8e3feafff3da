/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln context: walk a context the way a build sends it and count what is
 * in it. The COPY/ADD source checks are in context-sources.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fs.h"
#include "dockerfile/ast.h"
#include "ignore/context-internal.h"
#include "ignore/filter.h"

const char *kiln_ignore_source_problem_name(enum kiln_ignore_source_problem p)
{
	switch (p) {
	case KILN_IGNORE_SOURCE_EXCLUDED:
		return "excluded";
	case KILN_IGNORE_SOURCE_MISSING:
		return "missing";
	case KILN_IGNORE_SOURCE_EMPTIED:
		return "emptied";
	case KILN_IGNORE_SOURCE_UNCHECKED:
		return "unchecked";
	}
	return "?";
}

void kiln_ignore_context_report_free(struct kiln_ignore_context_report *r)
{
	if (!r)
		return;
	free(r->context_dir);
	free(r->ignore_file);
	free(r->dockerfile);
	for (size_t i = 0; i < r->n_largest; i++)
		free(r->largest[i].path);
	free(r->largest);
	for (size_t i = 0; i < r->n_warnings; i++) {
		struct kiln_ignore_source_warning *w = &r->warnings[i];
		free(w->instruction);
		free(w->source);
		free(w->expanded);
		free(w->path);
		free(w->pattern);
		free(w->message);
	}
	free(r->warnings);
	free(r->unused_build_args);
	free(r);
}

/* ---- the path set ---- */

static int paths_add(struct ctx_paths *p, const char *s, size_t n)
{
	if (p->n == p->cap_offs) {
		size_t nc = p->cap_offs ? p->cap_offs * 2 : 1024;
		size_t *o = kiln_reallocarray(p->offs, nc, sizeof(*o));
		if (!o)
			return -KILN_ENOMEM;
		p->offs = o;
		p->cap_offs = nc;
	}
	if (p->len + n + 1 > p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 65536;
		while (nc < p->len + n + 1)
			nc *= 2;
		char *b = kiln_realloc(p->buf, nc);
		if (!b)
			return -KILN_ENOMEM;
		p->buf = b;
		p->cap = nc;
	}
	memcpy(p->buf + p->len, s, n);
	p->buf[p->len + n] = '\0';
	p->offs[p->n++] = p->len;
	p->len += n + 1;
	return 0;
}

static int cmp_off(const void *a, const void *b, void *buf)
{
	return strcmp((const char *)buf + *(const size_t *)a, (const char *)buf + *(const size_t *)b);
}

const char *kiln_ignore_ctx_path(const struct ctx_state *st, size_t i)
{
	return st->paths.buf + st->paths.offs[i];
}

/* First index whose path is >= (s, n). */
static size_t lower_bound(const struct ctx_state *st, const char *s, size_t n)
{
	size_t lo = 0, hi = st->paths.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *p = kiln_ignore_ctx_path(st, mid);
		size_t pl = strlen(p), k = pl < n ? pl : n;
		int c = memcmp(p, s, k);
		if (c < 0 || (c == 0 && pl < n))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int kiln_ignore_ctx_has(const struct ctx_state *st, const char *path, size_t len)
{
	size_t i = lower_bound(st, path, len);
	if (i >= st->paths.n)
		return 0;
	const char *p = kiln_ignore_ctx_path(st, i);
	return strlen(p) == len && memcmp(p, path, len) == 0;
}

void kiln_ignore_ctx_range(const struct ctx_state *st, const char *prefix, size_t len,
			   size_t *first, size_t *n)
{
	size_t i = lower_bound(st, prefix, len), j = i;
	while (j < st->paths.n && strncmp(kiln_ignore_ctx_path(st, j), prefix, len) == 0)
		j++;
	*first = i;
	*n = j - i;
}

int kiln_ignore_ctx_has_below(const struct ctx_state *st, const char *dir, size_t len)
{
	cleanup_free char *pre = kiln_malloc(len + 2);
	if (!pre)
		return 1; /* no memory: claim yes, so no false warning */
	memcpy(pre, dir, len);
	pre[len] = '/';
	size_t first, n;
	kiln_ignore_ctx_range(st, pre, len + 1, &first, &n);
	return n > 0;
}

/* ---- the walk ---- */

struct walk_acc {
	struct ctx_state *st;
	const struct kiln_ignore_context_opts *opts;
	size_t top;
	int keep_paths;
	int err;
};

/* A min-heap on (size, path reversed) of the `top` largest files. */
static int heap_less(const struct kiln_ignore_context_entry *a,
		     const struct kiln_ignore_context_entry *b)
{
	if (a->size != b->size)
		return a->size < b->size;
	return strcmp(a->path, b->path) > 0;
}

static void heap_down(struct kiln_ignore_context_entry *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && heap_less(&h[l], &h[m]))
			m = l;
		if (r < n && heap_less(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		struct kiln_ignore_context_entry t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void heap_up(struct kiln_ignore_context_entry *h, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!heap_less(&h[i], &h[p]))
			return;
		struct kiln_ignore_context_entry t = h[i];
		h[i] = h[p];
		h[p] = t;
		i = p;
	}
}

static int offer_largest(struct walk_acc *a, const char *path, uint64_t size)
{
	struct kiln_ignore_context_report *rep = a->st->rep;
	struct kiln_ignore_context_entry cand = { (char *)path, size };
	if (rep->n_largest == a->top && !heap_less(&rep->largest[0], &cand))
		return 0;
	char *copy = kiln_strdup(path);
	if (!copy)
		return -KILN_ENOMEM;
	if (rep->n_largest < a->top) {
		rep->largest[rep->n_largest] = (struct kiln_ignore_context_entry){ copy, size };
		heap_up(rep->largest, rep->n_largest++);
	} else {
		free(rep->largest[0].path);
		rep->largest[0] = (struct kiln_ignore_context_entry){ copy, size };
		heap_down(rep->largest, rep->n_largest, 0);
	}
	return 0;
}

static int on_entry(const struct kiln_ignore_walk_entry *e, void *userdata)
{
	struct walk_acc *a = userdata;
	struct kiln_ignore_context_report *rep = a->st->rep;
	int r;
	mode_t m = e->st->st_mode;
	if (S_ISREG(m)) {
		rep->files++;
		rep->total_bytes += (uint64_t)e->st->st_size;
		if ((r = offer_largest(a, e->path, (uint64_t)e->st->st_size)) < 0)
			return r;
	} else if (S_ISDIR(m)) {
		rep->dirs++;
	} else if (S_ISLNK(m)) {
		rep->symlinks++;
	} else {
		rep->others++;
	}
	if (a->keep_paths && (r = paths_add(&a->st->paths, e->path, e->path_len)) < 0)
		return r;
	if (a->opts->on_entry)
		return a->opts->on_entry(e, a->opts->userdata);
	return 0;
}

static int cmp_largest(const void *x, const void *y)
{
	const struct kiln_ignore_context_entry *a = x, *b = y;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	return strcmp(a->path, b->path);
}

/* The Dockerfile to check: the one given, else <dir>/Dockerfile or <dir>/dockerfile. */
static int find_dockerfile(const char *dir, const char *given, char **ret, struct kiln_error *err)
{
	struct stat st;
	if (given) {
		if (stat(given, &st) < 0)
			return kiln_fail(err, errno == ENOENT ? KILN_ENOTFOUND : KILN_EIO, errno,
					 "Dockerfile %s", given);
		*ret = kiln_strdup(given);
		return *ret ? 0 : kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	static const char *const names[] = { "Dockerfile", "dockerfile" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(names); i++) {
		size_t dl = strlen(dir);
		char *p = kiln_asprintf("%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", names[i]);
		if (!p)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			*ret = p;
			return 0;
		}
		free(p);
	}
	*ret = NULL;
	return 0;
}

/* The COPY/ADD sources of the Dockerfile given as text, or of the file found. */
static int check_dockerfile(struct ctx_state *st, const struct kiln_ignore_context_opts *opts,
			    struct kiln_error *err)
{
	if (opts->dockerfile_data)
		return kiln_ignore_context_check_sources(st, opts->dockerfile_data,
							 opts->dockerfile_len, opts, err);
	cleanup_free char *data = NULL;
	size_t len = 0;
	int r = kiln_read_file(st->rep->dockerfile, KILN_DF_MAX_FILE, &data, &len, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "reading the Dockerfile");
	return kiln_ignore_context_check_sources(st, data, len, opts, err);
}

static void state_release(struct ctx_state *st)
{
	if (st->root_fd >= 0)
		close(st->root_fd);
	free(st->paths.buf);
	free(st->paths.offs);
}

static int scan(const char *dir, const struct kiln_ignore_context_opts *opts,
		struct kiln_ignore_context_report *rep, struct ctx_state *st,
		struct kiln_error *err)
{
	size_t top = opts && opts->top ? opts->top : 10;
	if (top > KILN_IGNORE_CONTEXT_TOP_MAX)
		top = KILN_IGNORE_CONTEXT_TOP_MAX;
	static const struct kiln_ignore_context_opts no_opts = { 0 };
	if (!opts)
		opts = &no_opts;
	int r = kiln_ignore_open_root(dir, &st->root_fd, err);
	if (r < 0)
		return r;
	if (!(rep->context_dir = kiln_strdup(dir)))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (opts->dockerfile_data) {
		rep->dockerfile = kiln_strdup(opts->dockerfile ? opts->dockerfile : "<stdin>");
		if (!rep->dockerfile)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	} else if ((r = find_dockerfile(dir, opts->dockerfile, &rep->dockerfile, err)) < 0) {
		return r;
	}

	struct kiln_ignore_list list;
	r = kiln_ignore_load_for_build(dir, opts->dockerfile_data ? NULL : rep->dockerfile, &list,
				       &rep->ignore_file, err);
	if (r < 0)
		return r;
	struct kiln_ignore_filter *f = NULL;
	struct kiln_ignore_filter_opt fo = {
		.exclude = (const char *const *)list.patterns.items,
		.n_exclude = list.patterns.len,
		.exclude_lines = list.lines,
		.exclude_lens = list.lens,
		.exclude_source = list.source,
	};
	r = kiln_ignore_filter_new(st->root_fd, &fo, &f, err);
	kiln_ignore_list_release(&list);
	if (r < 0)
		return r;
	st->excludes = kiln_ignore_filter_excludes(f);
	rep->n_patterns = st->excludes ? kiln_ignore_matcher_count(st->excludes) : 0;
	st->ignore_file = rep->ignore_file;

	rep->largest = kiln_calloc(top, sizeof(*rep->largest));
	if (!rep->largest) {
		kiln_ignore_filter_free(f);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	struct walk_acc acc = { .st = st, .opts = opts, .top = top, .keep_paths = !!rep->dockerfile };
	struct kiln_ignore_walk_opts wo = {
		.filters = &f,
		.n_filters = 1,
		.ctx = opts->ctx,
	};
	r = kiln_ignore_walk(st->root_fd, &wo, on_entry, &acc, err);
	if (r == 0 && rep->n_largest > 1)
		qsort(rep->largest, rep->n_largest, sizeof(*rep->largest), cmp_largest);
	if (r == 0 && rep->dockerfile) {
		if (st->paths.n > 1)
			qsort_r(st->paths.offs, st->paths.n, sizeof(size_t), cmp_off, st->paths.buf);
		r = check_dockerfile(st, opts, err);
	}
	st->excludes = NULL;
	kiln_ignore_filter_free(f);
	return r;
}

int kiln_ignore_context_scan(const char *dir, const struct kiln_ignore_context_opts *opts,
			     struct kiln_ignore_context_report **ret, struct kiln_error *err)
{
	cleanup(kiln_ignore_context_report_freep) struct kiln_ignore_context_report *rep =
		kiln_calloc(1, sizeof(*rep));
	if (!rep)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	struct ctx_state st = { .root_fd = -1, .rep = rep, .ctx = opts ? opts->ctx : NULL };
	int r = scan(dir, opts, rep, &st, err);
	state_release(&st);
	if (r < 0)
		return r;
	*ret = steal_ptr(&rep);
	return 0;
}
