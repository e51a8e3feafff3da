/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Resolving the sources of a COPY/ADD in a tree: wildcards as fsutil's
 * ResolveWildcards, symlinks followed inside the root as fsutil's RootPath,
 * the .dockerignore view of the context, --exclude and --parents, and the
 * list of entries that will be copied.
 */
#include "plan/select.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/strv.h"
#include "ignore/ignore.h"
#include "ignore/walk.h"
#include "plan/path.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

void kiln_plan_selection_free(struct kiln_plan_selection *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_matches; i++) {
		free(s->matches[i].source);
		free(s->matches[i].path);
		free(s->matches[i].base);
		free(s->matches[i].real);
	}
	free(s->matches);
	free(s->items);
	kiln_arena_free(s->strings);
	free(s);
}

/* ---- resolving a path inside the root ----------------------------------- */

int kiln_plan_resolve_in_root(int root_fd, const char *path, int follow_last, char **ret,
			      struct kiln_error *err)
{
	struct kiln_strv done = KILN_STRV_INIT; /* resolved components */
	struct kiln_strv todo = KILN_STRV_INIT; /* components left, in reverse order */
	char link[PATH_MAX + 1];
	int links = 0, r = 0;

	/* push the components of `p` so that the first one is popped first */
#define PUSH_PATH(p)                                                                               \
	do {                                                                                       \
		const char *s_ = (p);                                                              \
		size_t n_ = strlen(s_);                                                            \
		while (r >= 0 && n_ > 0) {                                                         \
			while (n_ > 0 && s_[n_ - 1] == '/')                                        \
				n_--;                                                              \
			size_t e_ = n_;                                                            \
			while (n_ > 0 && s_[n_ - 1] != '/')                                        \
				n_--;                                                              \
			if (e_ > n_ && kiln_strv_pushn(&todo, s_ + n_, e_ - n_) < 0)               \
				r = oom(err);                                                      \
		}                                                                                  \
	} while (0)

	PUSH_PATH(path);
	struct kiln_buf cand = KILN_BUF_INIT;
	while (r >= 0 && todo.len) {
		char *c = todo.items[--todo.len];
		todo.items[todo.len] = NULL;
		if (!strcmp(c, ".") || !*c) {
			free(c);
			continue;
		}
		if (!strcmp(c, "..")) {
			free(c);
			if (done.len) {
				free(done.items[--done.len]);
				done.items[done.len] = NULL;
			}
			continue;
		}
		kiln_buf_reset(&cand);
		for (size_t i = 0; r >= 0 && i < done.len; i++)
			if (kiln_buf_addstr(&cand, done.items[i]) < 0 ||
			    kiln_buf_addch(&cand, '/') < 0)
				r = oom(err);
		if (r >= 0 && kiln_buf_addstr(&cand, c) < 0)
			r = oom(err);
		if (r < 0) {
			free(c);
			break;
		}
		ssize_t n = -1;
		if (follow_last || todo.len)
			n = readlinkat(root_fd, cand.buf, link, sizeof(link) - 1);
		if (n < 0) {
			/* not a link, missing, or below a file: taken as written */
			if (kiln_strv_push_owned(&done, c) < 0)
				r = oom(err);
			continue;
		}
		free(c);
		if (++links > KILN_PLAN_MAX_SYMLINKS) {
			r = kiln_fail(err, KILN_ELIMIT, ELOOP,
				      "%s: too many levels of symbolic links", path);
			break;
		}
		link[n] = '\0';
		if (link[0] == '/') {
			kiln_strv_release(&done);
			done = (struct kiln_strv) KILN_STRV_INIT;
		}
		PUSH_PATH(link);
	}
#undef PUSH_PATH
	kiln_buf_release(&cand);
	kiln_strv_release(&todo);
	if (r < 0) {
		kiln_strv_release(&done);
		return r;
	}
	struct kiln_buf out = KILN_BUF_INIT;
	for (size_t i = 0; r >= 0 && i < done.len; i++)
		if ((i && kiln_buf_addch(&out, '/') < 0) ||
		    kiln_buf_addstr(&out, done.items[i]) < 0)
			r = oom(err);
	kiln_strv_release(&done);
	if (r < 0) {
		kiln_buf_release(&out);
		return r;
	}
	*ret = kiln_buf_detach(&out, NULL);
	if (!*ret)
		return oom(err);
	return 0;
}

/* ---- the tree's view ---------------------------------------------------- */

struct inside {
	size_t len;
	int found;
};

static int on_inside(const struct kiln_ignore_walk_entry *e, void *userdata)
{
	struct inside *in = userdata;
	if (e->path_len <= in->len)
		return 0; /* the directory itself */
	in->found = 1;
	return -KILN_ECANCEL; /* one is enough */
}

/*
 * An excluded directory is still in the context when a '!' rule lets
 * something inside it through: BuildKit's context (fsutil's filtered walk)
 * sends the directories on the way to what it sends, so `COPY node_modules
 * /nm/` copies what `!node_modules/keep` re-includes.
 */
static int visible_inside(const struct kiln_plan_tree *t, const char *path, size_t len,
			  struct kiln_error *err)
{
	struct kiln_ignore_matcher *exc = kiln_ignore_filter_excludes(t->filter);
	if (!exc || !kiln_ignore_could_match_inside(exc, path, len, KILN_IGNORE_EXCEPTION_PATTERNS))
		return 0;
	struct stat st;
	if (fstatat(t->root_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	struct inside in = { .len = len };
	struct kiln_ignore_walk_opts wo = { .target = path, .filters = &t->filter, .n_filters = 1 };
	struct kiln_error e = KILN_ERROR_INIT;
	int r = kiln_ignore_walk(t->root_fd, &wo, on_inside, &in, &e);
	if (r < 0 && !in.found) {
		kiln_error_move(err, &e);
		return r;
	}
	kiln_error_release(&e);
	return in.found;
}

static int visible(const struct kiln_plan_tree *t, const char *path, struct kiln_error *err)
{
	if (!t->filter || !*path)
		return 1;
	size_t len = strlen(path);
	int r = kiln_ignore_filter_visible(t->filter, path, len, err);
	return r != 0 ? r : visible_inside(t, path, len, err);
}

/* 1 with *st when `path` exists in the tree's view, 0 when not. */
static int lookup(const struct kiln_plan_tree *t, const char *path, struct stat *st,
		  struct kiln_error *err)
{
	if (fstatat(t->root_fd, *path ? path : ".", st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return kiln_fail_errno(err, "lstat %s in %s", path, t->name);
	}
	return visible(t, path, err);
}

/* The error for a source the tree does not have, naming the ignore rule. */
static int not_found(const struct kiln_plan_tree *t, const char *source, const char *path,
		     struct kiln_error *err)
{
	if (t->ignore && *path) {
		long pat = -1;
		cleanup_free char *real = NULL;
		struct stat st;
		int r = kiln_plan_resolve_in_root(t->root_fd, path, 0, &real, err);
		if (r < 0)
			return r;
		int exists = fstatat(t->root_fd, *real ? real : ".", &st, AT_SYMLINK_NOFOLLOW) == 0;
		int m = exists ? kiln_ignore_matches_or_parent(t->ignore, path, strlen(path), &pat,
							       err)
			       : 0;
		if (m < 0)
			return m;
		if (m == 1 && pat >= 0) {
			struct kiln_ignore_pattern_info info;
			kiln_ignore_matcher_pattern(t->ignore, (size_t) pat, &info);
			const char *file = info.source	    ? info.source
					   : t->ignore_file ? t->ignore_file
							    : ".dockerignore";
			if (info.line)
				return kiln_fail(
					err, KILN_ENOTFOUND, 0,
					"source \"%s\" is excluded by %s:%u (pattern \"%s\")",
					source, file, info.line, info.pattern);
			return kiln_fail(err, KILN_ENOTFOUND, 0,
					 "source \"%s\" is excluded by %s (pattern \"%s\")", source,
					 file, info.pattern);
		}
	}
	return kiln_fail(err, KILN_ENOTFOUND, 0, "source \"%s\" not found in %s", source, t->name);
}

/* ---- collecting ---------------------------------------------------------- */

struct collect {
	const struct kiln_plan_tree *t;
	struct kiln_plan_selection *s;
	size_t alloc_items;
	struct kiln_error *err;
	const struct kiln_ctx *ctx;
	/* the current match */
	const char *real; /* walk root, relative to the tree root */
	size_t real_len;
	int alone;   /* the only match of the only source */
	int read_fd; /* walked in t->subtree_fd's directory (whiteouts are nothing), or -1 */
	struct kiln_ignore_matcher *excludes;
	/* --parents: the pattern below the pivot, as fsutil's include pattern */
	const char *pattern;
	struct kiln_ignore_matcher *pmatch;
	struct kiln_strv pending;  /* partial directories above, not emitted yet */
	struct kiln_strv included; /* directories whose whole subtree is included */
};

static const char *rel_of(struct collect *c, const char *path)
{
	if (!c->real_len)
		return path;
	if (strlen(path) == c->real_len)
		return "";
	return path + c->real_len + 1;
}

void kiln_plan_stat_from(struct kiln_plan_stat *ret, const struct stat *st)
{
	*ret = (struct kiln_plan_stat){
		.dev = st->st_dev,
		.ino = st->st_ino,
		.rdev = st->st_rdev,
		.size = st->st_size,
		.atime_ns = (int64_t) st->st_atim.tv_sec * 1000000000 + st->st_atim.tv_nsec,
		.mtime_ns = (int64_t) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
		.ctime_ns = (int64_t) st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec,
		.mode = st->st_mode,
		.uid = st->st_uid,
		.gid = st->st_gid,
		.nlink = (uint32_t) st->st_nlink,
	};
}

static int add_item(struct collect *c, const char *path, const struct stat *st, const char *link,
		    int parent_only)
{
	struct kiln_plan_selection *s = c->s;
	if (s->n_items >= KILN_PLAN_SELECT_MAX_ITEMS)
		return kiln_fail(c->err, KILN_ELIMIT, 0, "more than %zu entries to copy",
				 KILN_PLAN_SELECT_MAX_ITEMS);
	if (s->n_items == c->alloc_items) {
		/* half again: a large context's array is the selection's largest part */
		size_t na = c->alloc_items ? c->alloc_items + c->alloc_items / 2 : 64;
		struct kiln_plan_item *n = kiln_reallocarray(s->items, na, sizeof(*n));
		if (!n)
			return oom(c->err);
		s->items = n;
		c->alloc_items = na;
	}
	struct kiln_plan_item *it = &s->items[s->n_items];
	*it = (struct kiln_plan_item){ .parent_only = (uint8_t) parent_only };
	kiln_plan_stat_from(&it->st, st);
	size_t len = strlen(path);
	it->path = kiln_arena_strndup_packed(s->strings, path, len);
	it->link = link ? kiln_arena_strndup_packed(s->strings, link, strlen(link)) : NULL;
	if (!it->path || (link && !it->link))
		return oom(c->err);
	/* what rel_of() says, as a suffix of the copy: "" is its terminator */
	it->rel = it->path + (!c->real_len ? 0 : len == c->real_len ? len : c->real_len + 1);
	if (c->t->context) {
		it->st.uid = 0;
		it->st.gid = 0;
	}
	s->n_items++;
	if (S_ISREG(st->st_mode)) {
		s->files++;
		s->bytes += (uint64_t) st->st_size;
	}
	return 0;
}

static int under(const char *dir, const char *path)
{
	size_t n = strlen(dir);
	return !strncmp(dir, path, n) && path[n] == '/';
}

/* --parents: the include decision for one entry (fsutil's include()) */
static int parents_entry(struct collect *c, const struct kiln_ignore_walk_entry *e, const char *rel)
{
	/* leave the pending and included directories that are not above us */
	while (c->pending.len && !under(c->pending.items[c->pending.len - 1], rel)) {
		free(c->pending.items[--c->pending.len]);
		c->pending.items[c->pending.len] = NULL;
	}
	while (c->included.len && !under(c->included.items[c->included.len - 1], rel)) {
		free(c->included.items[--c->included.len]);
		c->included.items[c->included.len] = NULL;
	}
	int r;
	if (!c->included.len) {
		/* patternmatcher's rules, as fsutil's copy includes: "**" spans
		 * directories; a directory that does not match is walked into
		 * while the pattern could match below it, and made only when
		 * something below it is copied */
		size_t len = strlen(rel);
		int m = kiln_ignore_matches_or_parent(c->pmatch, rel, len, NULL, c->err);
		if (m < 0)
			return m;
		if (!m) {
			if (!S_ISDIR(e->st->st_mode))
				return 0;
			if (!kiln_ignore_could_match_inside(c->pmatch, rel, len,
							    KILN_IGNORE_NORMAL_PATTERNS))
				return KILN_IGNORE_WALK_SKIP;
			return kiln_strv_push(&c->pending, rel) < 0 ? oom(c->err) : 0;
		}
		/* a full match: its parents first, then it (and all below it) */
		for (size_t i = 0; i < c->pending.len; i++) {
			cleanup_free char *p =
				c->real_len ? kiln_asprintf("%s/%s", c->real, c->pending.items[i])
					    : kiln_strdup(c->pending.items[i]);
			struct stat st;
			if (!p)
				return oom(c->err);
			if (fstatat(c->t->root_fd, p, &st, AT_SYMLINK_NOFOLLOW) < 0)
				return kiln_fail_errno(c->err, "lstat %s", p);
			if ((r = add_item(c, p, &st, NULL, 1)) < 0)
				return r;
		}
		kiln_strv_release(&c->pending);
		c->pending = (struct kiln_strv) KILN_STRV_INIT;
		if (S_ISDIR(e->st->st_mode) && kiln_strv_push(&c->included, rel) < 0)
			return oom(c->err);
	}
	return add_item(c, e->path, e->st, e->link_target, 0);
}

static int on_entry(const struct kiln_ignore_walk_entry *e, void *userdata)
{
	struct collect *c = userdata;
	if (kiln_cancelled(c->ctx))
		return kiln_fail(c->err, KILN_ECANCEL, 0, "interrupted");
	const char *rel = rel_of(c, e->path);
	if (c->read_fd >= 0 && kiln_is_whiteout(e->st))
		return 0; /* a whiteout: what it hides is not in this layer's view */
	if (*rel && c->excludes) {
		long pat = -1;
		int m = kiln_ignore_matches_or_parent(c->excludes, rel, strlen(rel), &pat, c->err);
		if (m < 0)
			return m;
		if (m) {
			if (S_ISDIR(e->st->st_mode) &&
			    !kiln_ignore_could_match_inside(c->excludes, rel, strlen(rel),
							    KILN_IGNORE_EXCEPTION_PATTERNS))
				return KILN_IGNORE_WALK_SKIP;
			if (!S_ISDIR(e->st->st_mode))
				return 0;
		}
	}
	if (c->pattern && *rel)
		return parents_entry(c, e, rel);
	return add_item(c, e->path, e->st, e->link_target, 0);
}

static struct kiln_ignore_filter *const *filters(const struct kiln_plan_tree *t, size_t *n)
{
	*n = t->filter ? 1 : 0;
	return t->filter ? &t->filter : NULL;
}

/* Walk one match into items. */
static int collect_match(struct collect *c, struct kiln_plan_match *m)
{
	struct kiln_plan_selection *s = c->s;
	m->first = s->n_items;
	c->real = m->real;
	c->real_len = strlen(m->real);
	int r = 0;
	if (!*m->real) {
		/* the root itself is not in a walk of the whole tree */
		struct stat st;
		if (fstat(c->t->root_fd, &st) < 0)
			return kiln_fail_errno(c->err, "stat %s", c->t->name);
		if ((r = add_item(c, "", &st, NULL, 0)) < 0)
			return r;
	}
	size_t nf;
	struct kiln_ignore_filter *const *f = filters(c->t, &nf);
	struct kiln_ignore_walk_opts wo = {
		.target = *m->real ? m->real : NULL,
		.filters = f,
		.n_filters = nf,
		.ctx = c->ctx,
		.prefetch_stats = 1,
	};
	/* one directory, walked whole, and its files read there too: the only
	 * match (all items from one tree), not --parents, no .dockerignore */
	int walk_fd = c->alone && *m->real && m->is_dir && !m->parents && !nf && c->t->subtree_fd
			      ? c->t->subtree_fd(c->t->subtree_userdata, m->real)
			      : -1;
	c->read_fd = walk_fd;
	r = kiln_ignore_walk(walk_fd >= 0 ? walk_fd : c->t->root_fd, &wo, on_entry, c, c->err);
	kiln_strv_release(&c->pending);
	kiln_strv_release(&c->included);
	c->pending = (struct kiln_strv) KILN_STRV_INIT;
	c->included = (struct kiln_strv) KILN_STRV_INIT;
	if (r < 0)
		return r;
	m->n = s->n_items - m->first;
	return 0;
}

static int add_match(struct collect *c, const char *source, const char *path, int parents,
		     struct kiln_plan_match **ret)
{
	struct kiln_plan_selection *s = c->s;
	struct kiln_plan_match *n = kiln_reallocarray(s->matches, s->n_matches + 1, sizeof(*n));
	if (!n)
		return oom(c->err);
	s->matches = n;
	struct kiln_plan_match *m = &n[s->n_matches];
	*m = (struct kiln_plan_match){ .parents = parents };
	m->source = kiln_strdup(source);
	m->path = kiln_strdup(path);
	m->base = kiln_plan_path_base(*path ? path : "/");
	if (!m->source || !m->path || !m->base) {
		free(m->source);
		free(m->path);
		free(m->base);
		return oom(c->err);
	}
	s->n_matches++;
	*ret = m;
	return 0;
}

/* Follow the match's symlinks and check it is there. */
static int realize(struct collect *c, struct kiln_plan_match *m)
{
	int r = kiln_plan_resolve_in_root(c->t->root_fd, m->path, 1, &m->real, c->err);
	if (r < 0)
		return r;
	/* a source hidden by the ignore rules is not in the context, even when it
	 * is a symlink to something that is */
	r = visible(c->t, m->path, c->err);
	if (r < 0)
		return r;
	if (r == 0)
		return not_found(c->t, m->source, m->path, c->err);
	struct stat st;
	r = lookup(c->t, m->real, &st, c->err);
	if (r < 0)
		return r;
	if (r == 0)
		return not_found(c->t, m->source, m->real, c->err);
	m->is_dir = S_ISDIR(st.st_mode);
	return 0;
}

/* The items of the wildcard source `pattern` below the directory `dir`. */
struct wild {
	struct collect *c;
	const char *source;
	const char *dir; /* resolved, relative to the root */
	size_t dir_len;
	const char *pattern;
	size_t depth; /* components in pattern */
	struct kiln_strv found;
};

static int on_wild(const struct kiln_ignore_walk_entry *e, void *userdata)
{
	struct wild *w = userdata;
	if (kiln_cancelled(w->c->ctx))
		return kiln_fail(w->c->err, KILN_ECANCEL, 0, "interrupted");
	const char *rel =
		w->dir_len ? (e->path_len == w->dir_len ? "" : e->path + w->dir_len + 1) : e->path;
	if (!*rel)
		return 0;
	int m = kiln_plan_match(w->pattern, rel);
	if (m < 0)
		return kiln_fail(w->c->err, KILN_EPARSE, 0,
				 "source \"%s\": syntax error in pattern", w->source);
	if (m) {
		if (kiln_strv_push(&w->found, e->path) < 0)
			return oom(w->c->err);
		return S_ISDIR(e->st->st_mode) ? KILN_IGNORE_WALK_SKIP : 0;
	}
	/* '*' never crosses '/': nothing deeper than the pattern can match */
	size_t depth = 1;
	for (const char *p = rel; *p; p++)
		depth += *p == '/';
	if (S_ISDIR(e->st->st_mode) && depth >= w->depth)
		return KILN_IGNORE_WALK_SKIP;
	return 0;
}

static int resolve_wildcards(struct collect *c, const char *source, const char *abs,
			     struct kiln_strv *ret)
{
	cleanup_free char *d1 = NULL, *d2 = NULL;
	int r = kiln_plan_split_wildcards(abs, &d1, &d2, c->err);
	if (r < 0)
		return r;
	const char *d1rel = d1[0] == '/' ? d1 + 1 : d1;
	if (!*d2)
		return kiln_strv_push(ret, d1rel) < 0 ? oom(c->err) : 0;
	if (kiln_plan_match(d2, "") < 0)
		return kiln_fail(c->err, KILN_EPARSE, 0, "source \"%s\": syntax error in pattern",
				 source);
	cleanup_free char *dir = NULL;
	if ((r = kiln_plan_resolve_in_root(c->t->root_fd, d1rel, 1, &dir, c->err)) < 0)
		return r;
	struct stat st;
	if ((r = lookup(c->t, dir, &st, c->err)) < 0)
		return r;
	if (!r || !S_ISDIR(st.st_mode)) {
		if (r)
			return kiln_fail(c->err, KILN_ENOTFOUND, ENOTDIR,
					 "source \"%s\": %s is not a directory in %s", source,
					 d1rel, c->t->name);
		return not_found(c->t, source, dir, c->err);
	}
	struct wild w = { .c = c,
			  .source = source,
			  .dir = dir,
			  .dir_len = strlen(dir),
			  .pattern = d2,
			  .depth = 1,
			  .found = KILN_STRV_INIT };
	for (const char *p = d2; *p; p++)
		w.depth += *p == '/';
	size_t nf;
	struct kiln_ignore_filter *const *f = filters(c->t, &nf);
	struct kiln_ignore_walk_opts wo = {
		.target = *dir ? dir : NULL, .filters = f, .n_filters = nf, .ctx = c->ctx
	};
	r = kiln_ignore_walk(c->t->root_fd, &wo, on_wild, &w, c->err);
	if (r >= 0) {
		/* --exclude applies below each match, never to a match itself: BuildKit's
		 * copy (fsutil) filters only what it walks inside a source, so
		 * `COPY --exclude=a * /d/` copies a (moby/buildkit#5489; its tests
		 * expect `ADD --exclude=* dir* /d` to make an empty /d) */
		for (size_t i = 0; i < w.found.len; i++) {
			if (kiln_strv_push(ret, w.found.items[i]) < 0) {
				r = oom(c->err);
				break;
			}
		}
	}
	kiln_strv_release(&w.found);
	return r;
}

/* --parents below one pivot directory `root` (relative to the tree's root). */
static int parents_below(struct collect *c, const char *src, const char *root,
			 const char *pattern)
{
	struct kiln_plan_match *m;
	int r;
	if ((r = add_match(c, src, root, 1, &m)) < 0 || (r = realize(c, m)) < 0)
		return r;
	if (!m->is_dir || !*pattern) {
		/* nothing to filter: an ordinary copy of the root's contents */
		m->parents = 0;
		return collect_match(c, m);
	}
	if (!kiln_plan_has_wildcards(root) && !kiln_plan_has_wildcards(pattern)) {
		/* BuildKit's RequiredPaths: a literal path must exist */
		cleanup_free char *req = kiln_plan_path_join(root, pattern);
		cleanup_free char *real = NULL;
		struct stat st;
		if (!req)
			return oom(c->err);
		if ((r = kiln_plan_resolve_in_root(c->t->root_fd, req, 0, &real, c->err)) < 0 ||
		    (r = lookup(c->t, real, &st, c->err)) < 0)
			return r;
		if (!r)
			return not_found(c->t, src, real, c->err);
	}
	const char *pats[] = { pattern };
	if ((r = kiln_ignore_matcher_new(pats, 1, &c->pmatch, c->err)) < 0)
		return kiln_error_prefix(c->err, r, "source \"%s\"", src);
	c->pattern = pattern;
	r = collect_match(c, m);
	c->pattern = NULL;
	kiln_ignore_matcher_free(c->pmatch);
	c->pmatch = NULL;
	return r;
}

static int select_source(struct collect *c, const struct kiln_plan_select_opts *o, const char *src)
{
	int r;
	struct kiln_plan_match *m;
	if (o->parents) {
		cleanup_free char *root = NULL, *pattern = NULL;
		if ((r = kiln_plan_parents_split(src, &root, &pattern, c->err)) < 0)
			return r;
		if (kiln_plan_match(pattern, "") < 0)
			return kiln_fail(c->err, KILN_EPARSE, 0,
					 "source \"%s\": syntax error in pattern", src);
		if (!kiln_plan_has_wildcards(root))
			return parents_below(c, src, root + 1, pattern);
		/* a wildcard before the pivot: each directory it matches is one */
		cleanup(kiln_strv_release) struct kiln_strv found = KILN_STRV_INIT;
		if ((r = resolve_wildcards(c, src, root, &found)) < 0)
			return r;
		for (size_t i = 0; r >= 0 && i < found.len; i++)
			r = parents_below(c, src, found.items[i], pattern);
		return r;
	}
	cleanup_free char *abs = kiln_plan_path_join("/", src);
	if (!abs)
		return oom(c->err);
	cleanup(kiln_strv_release) struct kiln_strv found = KILN_STRV_INIT;
	if (o->literal)
		r = kiln_strv_push(&found, abs + 1) < 0 ? oom(c->err) : 0;
	else
		r = resolve_wildcards(c, src, abs, &found);
	if (r < 0)
		return r;
	c->alone = o->n_sources == 1 && found.len == 1;
	for (size_t i = 0; i < found.len; i++) {
		if ((r = add_match(c, src, found.items[i], 0, &m)) < 0 || (r = realize(c, m)) < 0 ||
		    (r = collect_match(c, m)) < 0)
			return r;
	}
	return 0;
}

int kiln_plan_select(const struct kiln_plan_tree *t, const struct kiln_plan_select_opts *o,
		     const struct kiln_ctx *ctx, struct kiln_plan_selection **ret,
		     struct kiln_error *err)
{
	cleanup(kiln_plan_selection_freep) struct kiln_plan_selection *s =
		kiln_calloc(1, sizeof(*s));
	if (!s || !(s->strings = kiln_arena_new()))
		return oom(err);
	struct collect c = { .t = t,
			     .s = s,
			     .err = err,
			     .ctx = ctx,
			     .read_fd = -1,
			     .pending = KILN_STRV_INIT,
			     .included = KILN_STRV_INIT };
	s->read_fd = -1;
	int r = 0;
	if (o->n_excludes) {
		r = kiln_ignore_matcher_new(o->excludes, o->n_excludes, &c.excludes, err);
		if (r < 0)
			return kiln_error_prefix(err, r, "--exclude");
	}
	for (size_t i = 0; r >= 0 && i < o->n_sources; i++)
		r = select_source(&c, o, o->sources[i]);
	kiln_ignore_matcher_free(c.excludes);
	kiln_strv_release(&c.pending);
	kiln_strv_release(&c.included);
	if (r < 0)
		return r;
	s->read_fd = c.read_fd;
	*ret = steal_ptr(&s);
	return 0;
}
