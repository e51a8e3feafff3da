/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The context walker: a depth-first walk in lexical order (what Go's
 * filepath.WalkDir does under fsutil), fd-relative all the way down
 * (getdents64 on an open directory, fstatat/openat on names), with the
 * filter layers of fsutil's FilterFS applied to each entry as it comes.
 *
 * Each directory level keeps its open fd, its sorted entry names and the
 * index being visited, and the current path lives in one buffer that grows
 * and shrinks with the walk; an entry is named by (level, index, length of
 * its path), so a directory whose emission was deferred (excluded, but with
 * an exception inside) can be stat'ed and emitted later without copies.
 * Only entries that are emitted are stat'ed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/gopath.h"
#include "ignore/filter.h"
#include "walk-prefetch.h"

struct wlevel {
	int fd; /* the directory whose entries these are */
	char *names;
	size_t names_len, names_cap;
	struct wdent *ents;
	size_t n, cap;
	size_t cur;	 /* index being visited */
	size_t base_len; /* length of this directory's path */
	uint32_t gen;	 /* bumped each time the level lists another directory */
};

/* An entry: where it is listed and how long its path is. */
struct went {
	uint32_t level;
	uint32_t index;
	uint32_t gen;
	size_t path_len;
	int is_dir;
};

struct pdir {
	struct went h;
	int called, skipped;
	struct kiln_ignore_match_info inc, exc;
};

struct layer {
	struct kiln_ignore_filter *f;
	struct pdir *stack;
	size_t n, cap;
};

struct walker {
	struct kiln_buf path;
	struct wlevel *levels;
	size_t nlevels; /* allocated */
	struct layer *layers;
	size_t nlayers;
	char *dbuf;
	kiln_ignore_walk_fn fn;
	void *userdata;
	const struct kiln_ctx *ctx;
	struct kiln_error *err;
	char *link;
	struct walk_prefetch *pf; /* NULL: every lstat on this thread */
};

#define DBUF_SIZE ((size_t)64 << 10)
#define LINK_MAX_LEN 4096

static const char *ent_name(const struct walker *w, const struct went *e)
{
	const struct wlevel *l = &w->levels[e->level];
	return l->names + l->ents[e->index].name_off;
}

/* ---- emission to the caller ---- */

static int deliver(struct walker *w, const struct went *e)
{
	const struct wlevel *l = &w->levels[e->level];
	const char *name = ent_name(w, e);
	struct stat st;
	if (walk_prefetch_lstat(w->pf, e->level, e->index, l->fd, name, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0; /* vanished since it was listed */
		return kiln_fail_errno(w->err, "lstat %.*s", (int)e->path_len, w->path.buf);
	}
	const char *target = NULL;
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(l->fd, name, w->link, LINK_MAX_LEN);
		if (n < 0) {
			if (errno == ENOENT)
				return 0;
			return kiln_fail_errno(w->err, "readlink %.*s", (int)e->path_len,
					       w->path.buf);
		}
		if ((size_t)n >= LINK_MAX_LEN)
			return kiln_fail(w->err, KILN_ELIMIT, 0, "link %.*s: target too long",
					 (int)e->path_len, w->path.buf);
		w->link[n] = '\0';
		target = w->link;
	}
	/* An ancestor's path is a prefix of the current one: end it there for the call. */
	char saved = w->path.buf[e->path_len];
	w->path.buf[e->path_len] = '\0';
	struct kiln_ignore_walk_entry we = {
		.path = w->path.buf,
		.path_len = e->path_len,
		.name = name,
		.st = &st,
		.link_target = target,
	};
	int r = w->fn(&we, w->userdata);
	w->path.buf[e->path_len] = saved;
	if (r < 0 && w->err && w->err->code == KILN_OK)
		kiln_fail(w->err, (enum kiln_err)-r, 0, "walk stopped at %s", name);
	return r;
}

/* ---- filter layers (fsutil's filterFS.Walk callback) ---- */

static int visit(struct walker *w, size_t k, const struct went *e, int *ret_skipped);

static int emit(struct walker *w, size_t k, const struct went *e)
{
	if (k == w->nlayers)
		return deliver(w, e);
	int skipped;
	return visit(w, k, e, &skipped);
}

static int is_ancestor(const struct walker *w, const struct went *a, const struct went *e)
{
	const struct wlevel *l = &w->levels[a->level];
	return a->level < e->level && l->cur == a->index && l->gen == a->gen &&
	       a->path_len < e->path_len;
}

static int reserve_pdir(struct walker *w, struct layer *L)
{
	if (L->n < L->cap)
		return 0;
	size_t ncap = L->cap ? L->cap * 2 : 16;
	struct pdir *s = kiln_reallocarray(L->stack, ncap, sizeof(*s));
	if (!s)
		return kiln_fail(w->err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = L->cap; i < ncap; i++)
		s[i] = (struct pdir){ .inc = KILN_IGNORE_MATCH_INFO_INIT,
				      .exc = KILN_IGNORE_MATCH_INFO_INIT };
	L->stack = s;
	L->cap = ncap;
	return 0;
}

/* The directory's own slot becomes its parent entry for what lies below it. */
static void push_dir(struct layer *L, struct pdir *dir, const struct went *e, int called)
{
	if (!dir)
		return;
	dir->h = *e;
	dir->called = called;
	dir->skipped = 0;
	L->n++;
}

static int visit(struct walker *w, size_t k, const struct went *e, int *ret_skipped)
{
	struct layer *L = &w->layers[k];
	struct kiln_ignore_filter *f = L->f;
	int has = f->inc || f->exc;
	struct pdir *dir = NULL, *parent = NULL;
	const char *path = w->path.buf;
	size_t len = e->path_len;
	int r, skip = 0;

	*ret_skipped = 0;
	if (has) {
		while (L->n > 0 && !is_ancestor(w, &L->stack[L->n - 1].h, e))
			L->n--;
		if ((r = reserve_pdir(w, L)) < 0)
			return r;
		parent = L->n > 0 ? &L->stack[L->n - 1] : NULL;
		if (e->is_dir)
			dir = &L->stack[L->n];
	}
	if (f->inc) {
		r = kiln_ignore_matches_using_parent(f->inc, path, len, parent ? &parent->inc : NULL,
						     dir ? &dir->inc : NULL, NULL, w->err);
		if (r < 0)
			return kiln_error_prefix(w->err, r, "matching include patterns");
		if (!r) {
			/* Enter only if an include pattern could match something inside. */
			if (e->is_dir && !kiln_ignore_info_could_match_inside(
						 f->inc, &dir->inc, KILN_IGNORE_NORMAL_PATTERNS))
				return KILN_IGNORE_WALK_SKIP;
			skip = 1;
		}
	}
	if (f->exc) {
		r = kiln_ignore_matches_using_parent(f->exc, path, len, parent ? &parent->exc : NULL,
						     dir ? &dir->exc : NULL, NULL, w->err);
		if (r < 0)
			return kiln_error_prefix(w->err, r, "matching exclude patterns");
		if (r) {
			/* Enter only if an exception could re-include something inside. */
			if (e->is_dir && !kiln_ignore_info_could_match_inside(
						 f->exc, &dir->exc, KILN_IGNORE_EXCEPTION_PATTERNS))
				return KILN_IGNORE_WALK_SKIP;
			skip = 1;
		}
	}
	*ret_skipped = skip;
	if (skip) {
		push_dir(L, dir, e, 0);
		return 0;
	}
	/* Emit the parent directories that were held back, outermost first. */
	for (size_t i = 0; i < L->n; i++) {
		struct pdir *pd = &L->stack[i];
		if (pd->skipped) {
			push_dir(L, dir, e, 0);
			return KILN_IGNORE_WALK_SKIP;
		}
		if (pd->called)
			continue;
		pd->called = 1;
		r = emit(w, k + 1, &pd->h);
		if (r == KILN_IGNORE_WALK_SKIP) {
			pd->skipped = 1;
			push_dir(L, dir, e, 0);
			return r;
		}
		if (r < 0) {
			push_dir(L, dir, e, 0);
			return r;
		}
	}
	r = emit(w, k + 1, e);
	push_dir(L, dir, e, 1);
	return r;
}

/* ---- reading directories ---- */

static int level_reserve(struct walker *w, size_t level)
{
	if (level < w->nlevels)
		return 0;
	if (level >= KILN_IGNORE_WALK_DEPTH_MAX)
		return kiln_fail(w->err, KILN_ELIMIT, 0,
				 "%s: the context nests deeper than %d directories", w->path.buf,
				 KILN_IGNORE_WALK_DEPTH_MAX);
	size_t ncap = w->nlevels ? w->nlevels * 2 : 16;
	if (ncap > KILN_IGNORE_WALK_DEPTH_MAX)
		ncap = KILN_IGNORE_WALK_DEPTH_MAX;
	struct wlevel *l = kiln_reallocarray(w->levels, ncap, sizeof(*l));
	if (!l)
		return kiln_fail(w->err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = w->nlevels; i < ncap; i++)
		l[i] = (struct wlevel){ .fd = -1 };
	w->levels = l;
	w->nlevels = ncap;
	return 0;
}

static int add_entry(struct walker *w, struct wlevel *l, const char *name, size_t nlen,
		     uint8_t type)
{
	if (l->n >= KILN_IGNORE_WALK_DIR_ENTRIES_MAX)
		return kiln_fail(w->err, KILN_ELIMIT, 0, "%s: more than %zu entries in a directory",
				 w->path.buf, (size_t)KILN_IGNORE_WALK_DIR_ENTRIES_MAX);
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct wdent *e = kiln_reallocarray(l->ents, ncap, sizeof(*e));
		if (!e)
			return kiln_fail(w->err, KILN_ENOMEM, 0, "out of memory");
		l->ents = e;
		l->cap = ncap;
	}
	if (l->names_len + nlen + 1 > l->names_cap) {
		size_t ncap = l->names_cap ? l->names_cap * 2 : 4096;
		while (ncap < l->names_len + nlen + 1)
			ncap *= 2;
		char *nm = kiln_realloc(l->names, ncap);
		if (!nm)
			return kiln_fail(w->err, KILN_ENOMEM, 0, "out of memory");
		l->names = nm;
		l->names_cap = ncap;
	}
	memcpy(l->names + l->names_len, name, nlen + 1);
	l->ents[l->n++] = (struct wdent){ .name_off = (uint32_t)l->names_len, .type = type };
	l->names_len += nlen + 1;
	return 0;
}

static int cmp_ent(const void *a, const void *b, void *names)
{
	const struct wdent *x = a, *y = b;
	return strcmp((const char *)names + x->name_off, (const char *)names + y->name_off);
}

/*
 * List the directory open at l->fd into l (sorted). Returns 0, a negative
 * -KILN_E..., or 1 when getdents failed (errno in *ret_errno).
 */
static int read_entries(struct walker *w, struct wlevel *l, int *ret_errno)
{
	size_t level = (size_t) (l - w->levels);
	walk_prefetch_drop(w->pf, level);
	l->n = 0;
	l->names_len = 0;
	l->gen++;
	for (;;) {
		ssize_t got = getdents64(l->fd, w->dbuf, DBUF_SIZE);
		if (got < 0) {
			*ret_errno = errno;
			return 1;
		}
		if (got == 0)
			break;
		for (ssize_t off = 0; off < got;) {
			struct dirent64 *d = (struct dirent64 *)(w->dbuf + off);
			off += d->d_reclen;
			const char *nm = d->d_name;
			if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
				continue;
			int r = add_entry(w, l, nm, strlen(nm), d->d_type);
			if (r < 0)
				return r;
		}
	}
	if (l->n > 1)
		qsort_r(l->ents, l->n, sizeof(*l->ents), cmp_ent, l->names);
	walk_prefetch_offer(w->pf, level, l->fd, l->names, l->ents, l->n);
	return 0;
}

static int set_path(struct walker *w, size_t base_len, const char *name)
{
	kiln_buf_setlen(&w->path, base_len);
	int r = 0;
	if (base_len > 0)
		r = kiln_buf_addch(&w->path, '/');
	if (r == 0)
		r = kiln_buf_addstr(&w->path, name);
	if (r < 0)
		return kiln_fail(w->err, -r, 0, "path too long in the context");
	return 0;
}

static int walk_level(struct walker *w, size_t level);

/* Open and list directory entry e, then walk it. */
static int descend(struct walker *w, const struct went *e, int skipped)
{
	struct wlevel *parent = &w->levels[e->level];
	int r = level_reserve(w, e->level + 1);
	if (r < 0)
		return r;
	parent = &w->levels[e->level];
	struct wlevel *l = &w->levels[e->level + 1];
	int fd = openat(parent->fd, ent_name(w, e), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int saved = errno;
		/* Gone, or replaced by a non-directory (or a link) since it was listed. */
		if (saved == ENOENT || saved == ENOTDIR || saved == ELOOP)
			return 0;
		if ((saved == EACCES || saved == EPERM) && skipped)
			return 0;
		return kiln_fail(w->err, KILN_EIO, saved, "open %s", w->path.buf);
	}
	l->fd = fd;
	l->base_len = e->path_len;
	int saved = 0;
	r = read_entries(w, l, &saved);
	if (r > 0) {
		close(l->fd);
		l->fd = -1;
		if (saved == ENOENT || saved == ENOTDIR)
			return 0;
		if ((saved == EACCES || saved == EPERM) && skipped)
			return 0;
		return kiln_fail(w->err, KILN_EIO, saved, "read directory %s", w->path.buf);
	}
	if (r == 0)
		r = walk_level(w, e->level + 1);
	/* walk_level may have grown (moved) the levels array */
	l = &w->levels[e->level + 1];
	walk_prefetch_drop(w->pf, e->level + 1);
	close(l->fd);
	l->fd = -1;
	return r;
}

static int entry_type(struct walker *w, struct wlevel *l, struct wdent *d)
{
	if (d->type != DT_UNKNOWN)
		return 0;
	/* Some file systems do not fill d_type. */
	struct stat st;
	if (fstatat(l->fd, l->names + d->name_off, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 1;
		return kiln_fail_errno(w->err, "lstat %s", w->path.buf);
	}
	d->type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_REG;
	return 0;
}

static int walk_level(struct walker *w, size_t level)
{
	for (size_t i = 0; i < w->levels[level].n; i++) {
		struct wlevel *l = &w->levels[level];
		if (kiln_cancelled(w->ctx))
			return kiln_fail(w->err, KILN_ECANCEL, 0, "interrupted");
		int r = set_path(w, l->base_len, l->names + l->ents[i].name_off);
		if (r < 0)
			return r;
		r = entry_type(w, l, &l->ents[i]);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		l->cur = i;
		struct went e = { .level = (uint32_t)level,
				  .index = (uint32_t)i,
				  .gen = l->gen,
				  .path_len = w->path.len,
				  .is_dir = l->ents[i].type == DT_DIR };
		int skipped = 0;
		r = w->nlayers ? visit(w, 0, &e, &skipped) : deliver(w, &e);
		if (r < 0)
			return r;
		if (r == KILN_IGNORE_WALK_SKIP) {
			if (e.is_dir)
				continue;
			break; /* SkipDir on a file skips the rest of its directory */
		}
		if (e.is_dir && (r = descend(w, &e, skipped)) < 0)
			return r;
	}
	return 0;
}

/* ---- entry point ---- */

static void walker_release(struct walker *w)
{
	walk_prefetch_free(w->pf); /* the helper reads the levels' listings and fds */
	w->pf = NULL;
	for (size_t i = 0; i < w->nlevels; i++) {
		if (w->levels[i].fd >= 0)
			close(w->levels[i].fd);
		free(w->levels[i].names);
		free(w->levels[i].ents);
	}
	free(w->levels);
	for (size_t k = 0; k < w->nlayers; k++) {
		for (size_t i = 0; i < w->layers[k].cap; i++) {
			kiln_ignore_match_info_release(&w->layers[k].stack[i].inc);
			kiln_ignore_match_info_release(&w->layers[k].stack[i].exc);
		}
		free(w->layers[k].stack);
	}
	free(w->layers);
	free(w->dbuf);
	free(w->link);
	kiln_buf_release(&w->path);
}

/* Set up level 0: the whole root, or a one-entry listing holding the target. */
static int start(struct walker *w, int root_fd, const char *target, int *ret_empty)
{
	int r = level_reserve(w, 0);
	if (r < 0)
		return r;
	struct wlevel *l = &w->levels[0];
	size_t tl = target ? strlen(target) : 0;
	cleanup_free char *tmp = kiln_malloc(tl + 2);
	cleanup_free char *clean = kiln_malloc(tl + 3);
	if (!tmp || !clean)
		return kiln_fail(w->err, KILN_ENOMEM, 0, "out of memory");
	tmp[0] = '/';
	if (tl)
		memcpy(tmp + 1, target, tl);
	size_t cl = kiln_go_clean(tmp, tl + 1, clean);
	*ret_empty = 0;
	if (cl == 1) {
		l->fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (l->fd < 0)
			return kiln_fail_errno(w->err, "open the context");
		l->base_len = 0;
		int saved = 0;
		r = read_entries(w, l, &saved);
		if (r > 0)
			return kiln_fail(w->err, KILN_EIO, saved, "read the context directory");
		return r;
	}
	const char *rel = clean + 1, *base;
	int fd = -1;
	r = kiln_ignore_open_parent_in_root(root_fd, rel, &fd, &base);
	if (r < 0) {
		if (r == -ENOENT || r == -ENOTDIR) {
			*ret_empty = 1;
			return 0;
		}
		return kiln_fail(w->err, KILN_EIO, -r, "open %s in the context", rel);
	}
	l->fd = fd;
	struct stat st;
	if (fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			*ret_empty = 1;
			return 0;
		}
		return kiln_fail_errno(w->err, "lstat %s", rel);
	}
	size_t dir_len = (size_t)(base - rel) ? (size_t)(base - rel) - 1 : 0;
	if (kiln_buf_add(&w->path, rel, dir_len) < 0)
		return kiln_fail(w->err, KILN_ENOMEM, 0, "out of memory");
	l->base_len = dir_len;
	uint8_t type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_REG;
	return add_entry(w, l, base, strlen(base), type);
}

int kiln_ignore_walk(int root_fd, const struct kiln_ignore_walk_opts *opts, kiln_ignore_walk_fn fn,
		     void *userdata, struct kiln_error *err)
{
	struct walker w = {
		.path = KILN_BUF_INIT,
		.fn = fn,
		.userdata = userdata,
		.ctx = opts ? opts->ctx : NULL,
		.err = err,
	};
	int r = 0;
	w.dbuf = kiln_malloc(DBUF_SIZE);
	w.link = kiln_malloc(LINK_MAX_LEN + 1);
	size_t nl = opts ? opts->n_filters : 0;
	w.layers = kiln_calloc(nl ? nl : 1, sizeof(*w.layers));
	if (!w.dbuf || !w.link || !w.layers) {
		walker_release(&w);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	for (size_t k = 0; k < nl; k++) {
		if (!opts->filters[k]) {
			walker_release(&w);
			return kiln_fail(err, KILN_EINVAL, 0, "walk: filter %zu is missing", k);
		}
		w.layers[k].f = opts->filters[k];
	}
	w.nlayers = nl;
	if (opts && opts->prefetch_stats)
		w.pf = walk_prefetch_new(); /* NULL (no memory): no helper */
	int empty = 0;
	r = start(&w, root_fd, opts ? opts->target : NULL, &empty);
	if (r == 0 && !empty)
		r = walk_level(&w, 0);
	walker_release(&w);
	return r < 0 ? r : 0;
}

int kiln_ignore_open_root(const char *dir, int *ret_fd, struct kiln_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return kiln_fail(err, KILN_ENOTFOUND, errno, "context %s not found", dir);
		return kiln_fail_errno(err, "open context %s", dir);
	}
	*ret_fd = fd;
	return 0;
}
