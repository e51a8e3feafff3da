/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/stat.h>

#include "base/ctx.h"
#include "base/error.h"
#include "ignore/ignore.h"

/*
 * The build-context walker: which files of a context a build sees, with the
 * semantics of fsutil's FilterFS and Walk (what BuildKit uses to send a
 * context). Entries come in lexical order, each with its lstat data; the
 * parent directories of an emitted entry are emitted before it even when
 * they are excluded themselves; an excluded directory is entered only when
 * an exception could match something inside it. Symbolic links are never
 * followed (follow paths only add their targets to the include patterns),
 * so a walk never leaves the context.
 */

/** One FilterOpt: what fsutil.NewFilterFS takes. */
struct kiln_ignore_filter_opt {
	const char *const *include; /* IncludePatterns: keep only what matches (none = all) */
	size_t n_include;
	const char *const *exclude; /* ExcludePatterns: what .dockerignore lines become */
	size_t n_exclude;
	const unsigned *exclude_lines; /* optional: source line of each exclude pattern */
	const size_t *exclude_lens;    /* optional: their lengths (they may hold NUL bytes) */
	const char *exclude_source;    /* optional: their file, for messages */
	const char *const *follow;     /* FollowPaths: symlinks resolved into include patterns */
	size_t n_follow;
};

/** A compiled FilterOpt, bound to one context root. */
struct kiln_ignore_filter;

/**
 * Compile `opt` for the context open at `root_fd`. Follow paths are
 * resolved now (inside the root: "..", absolute links and link chains
 * cannot leave it). Bad patterns fail with -KILN_EPARSE.
 */
int kiln_ignore_filter_new(int root_fd, const struct kiln_ignore_filter_opt *opt,
			   struct kiln_ignore_filter **ret, struct kiln_error *err);
void kiln_ignore_filter_free(struct kiln_ignore_filter *f);

/** The compiled include / exclude patterns (NULL when there are none). */
struct kiln_ignore_matcher *kiln_ignore_filter_includes(const struct kiln_ignore_filter *f);
struct kiln_ignore_matcher *kiln_ignore_filter_excludes(const struct kiln_ignore_filter *f);

/**
 * FilterFS.Open's check: 1 when `path` passes the filter (its parents
 * considered), 0 when the filter hides it.
 */
int kiln_ignore_filter_visible(struct kiln_ignore_filter *f, const char *path, size_t len,
			       struct kiln_error *err);

struct kiln_ignore_walk_entry {
	const char *path; /* relative to the root, '/'-separated, NUL-terminated */
	size_t path_len;
	const char *name;        /* the last component */
	const struct stat *st;   /* lstat data */
	const char *link_target; /* a symlink's target, else NULL */
};

/** Returned by a callback: do not enter this directory / skip the rest of this one. */
#define KILN_IGNORE_WALK_SKIP 1

/**
 * Called once per entry. Everything in `e` is valid only during the call.
 * Return 0 to go on, KILN_IGNORE_WALK_SKIP (for a directory: do not enter
 * it; for anything else: skip the rest of its directory, as Go's SkipDir),
 * or a negative -KILN_E... to stop the walk with that result.
 */
typedef int (*kiln_ignore_walk_fn)(const struct kiln_ignore_walk_entry *e, void *userdata);

struct kiln_ignore_walk_opts {
	/* Walk only this entry and what is below it ("" or NULL: the whole context). */
	const char *target;
	/* Filters, innermost first; each sees what the previous one let through. */
	struct kiln_ignore_filter *const *filters;
	size_t n_filters;
	const struct kiln_ctx *ctx; /* cancellation; may be NULL */
	/* lstat a large directory's entries on a second thread too (the order
	 * of the calls to fn is the same) */
	int prefetch_stats;
};

/* Limits on the walked tree. */
#define KILN_IGNORE_WALK_DEPTH_MAX 256
#define KILN_IGNORE_WALK_DIR_ENTRIES_MAX ((size_t)1 << 22)

/**
 * Walk the context open at `root_fd` (which is not consumed or moved).
 * A missing target gives an empty walk, as fsutil does. Entries that vanish
 * during the walk are skipped. An unreadable directory fails the walk unless
 * the (innermost) filter excludes it.
 */
int kiln_ignore_walk(int root_fd, const struct kiln_ignore_walk_opts *opts, kiln_ignore_walk_fn fn,
		     void *userdata, struct kiln_error *err);

/** Open a context directory for kiln_ignore_walk(); symlinks in `dir` itself are followed. */
int kiln_ignore_open_root(const char *dir, int *ret_fd, struct kiln_error *err);
