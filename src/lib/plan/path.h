/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include "base/error.h"

/*
 * The path rules of COPY and ADD, as BuildKit's file operation and fsutil's
 * copier apply them: Go's path.Clean, filepath.Match per component,
 * fsutil's wildcard split and prefix match (COPY --parents), and the choice
 * of where one source lands. Pure string functions; docs/internals/build.md
 * has the table of cases they reproduce.
 */

/** Go's path.Clean (Unix): a fresh heap string, "." for "". NULL on ENOMEM. */
char *kiln_plan_path_clean(const char *p) __attribute__((warn_unused_result));

/** path.Join(a, b) then Clean. NULL on ENOMEM. */
char *kiln_plan_path_join(const char *a, const char *b) __attribute__((warn_unused_result));

/** The last element of a cleaned path ("a/b" -> "b", "/" -> "/", "" -> "."), heap. */
char *kiln_plan_path_base(const char *p) __attribute__((warn_unused_result));

/**
 * Go's filepath.Match on Unix: `*` and `?` never match '/', `[...]`
 * classes with ranges and `^` negation, `\` escapes. Returns 1 on a
 * match, 0 on none, -1 for a malformed pattern (ErrBadPattern).
 */
int kiln_plan_match(const char *pattern, const char *name);

/** Whether a path has an unescaped `*`, `?` or `[` (fsutil's containsWildcards). */
int kiln_plan_has_wildcards(const char *p);

/**
 * fsutil's splitWildcards: the components before the first one holding a
 * wildcard (`*ret_dir`, "" when the first component has one, "/" for an
 * absolute path whose first component has one) and the rest (`*ret_pattern`, "" when there is no
 * wildcard). Heap strings; -KILN_ENOMEM.
 */
int kiln_plan_split_wildcards(const char *p, char **ret_dir, char **ret_pattern,
			      struct kiln_error *err) __attribute__((warn_unused_result));

/** Where one COPY/ADD source lands (fsutil's prepareTargetDir). */
struct kiln_plan_target {
	char *path;  /* the destination of the source itself */
	char *mkdir; /* the directory to create (with parents) first */
};

void kiln_plan_target_release(struct kiln_plan_target *t);

/**
 * Decide the target of copying a source whose base name is `src_base` (a
 * directory when `src_is_dir`) to `dest` (absolute and cleaned, after
 * symlinks were resolved), where `dest_exists`/`dest_is_dir` describe what
 * is at `dest` now. `dir_contents` is COPY's rule that a directory source
 * means its contents. The rules:
 *   - a file onto an existing directory goes inside it (dest/base);
 *   - a directory without dir_contents onto an existing path goes inside it;
 *   - otherwise the source becomes `dest` itself;
 *   - the directory created first is dest for directory contents onto a
 *     missing dest, else dest's parent.
 */
int kiln_plan_copy_target(const char *dest, int dest_exists, int dest_is_dir, const char *src_base,
			  int src_is_dir, int dir_contents, struct kiln_plan_target *ret,
			  struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * The directory COPY creates before anything else for a destination as
 * written after expansion (fsutil's ensureDstPath): `dest` itself when it
 * ends in '/' (or is "/"), else its parent. Heap string, cleaned.
 */
char *kiln_plan_dest_dir(const char *dest) __attribute__((warn_unused_result));

/**
 * COPY --parents: split a source at its "/./" pivot (BuildKit's rule).
 * `*ret_root` is the part before the pivot ("/" without one) and
 * `*ret_pattern` the part after, cleaned and without a leading '/'.
 */
int kiln_plan_parents_split(const char *src, char **ret_root, char **ret_pattern,
			    struct kiln_error *err) __attribute__((warn_unused_result));
