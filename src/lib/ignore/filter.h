/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "base/strv.h"
#include "ignore/walk.h"

/* Internal to the ignore module: the compiled filter and follow-link resolution. */
struct kiln_ignore_filter {
	struct kiln_ignore_matcher *inc; /* NULL: no include patterns */
	struct kiln_ignore_matcher *exc; /* NULL: no exclude patterns */
};

/**
 * fsutil.FollowLinks: resolve `paths` (symlinks, wildcards in the last
 * component allowed) inside the root into the sorted, de-duplicated list of
 * paths they stand for. *ret_all is set when one of them is the root itself
 * (then there is no include filter at all).
 */
int kiln_ignore_follow_links(int root_fd, const char *const *paths, size_t n,
			     struct kiln_strv *ret, int *ret_all, struct kiln_error *err);

/** fsutil's dedupePaths on a list: drops paths below an earlier kept one; "." means all. */
int kiln_ignore_dedupe_paths(struct kiln_strv *v, int *ret_all, struct kiln_error *err);

/** Open directory `rel_dir` (relative, resolved inside the root); an fd or -errno. */
int kiln_ignore_open_in_root(int root_fd, const char *rel_dir);

/** Open the directory containing `rel` inside the root (RESOLVE_IN_ROOT); *ret_base is its last component. */
int kiln_ignore_open_parent_in_root(int root_fd, const char *rel, int *ret_fd, const char **ret_base);
