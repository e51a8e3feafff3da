/* SPDX-License-Identifier: Apache-2.0 */
/*
 * .dockerignore handling on arbitrary bytes: ReadAll, New, and matching
 * paths every way the matcher can be asked. Input: the ignore file, then
 * a NUL byte, then paths separated by '\n' (without a NUL, the file's own
 * lines are the paths). Never a crash, and the answers must agree where
 * they are meant to:
 *   - every error carries a message;
 *   - a path MatchesExact finds excluded must also be excluded for
 *     MatchesOrParentMatches, and no subtree that holds it may be pruned
 *     (kiln_ignore_could_match_inside on each of its parents);
 *   - asking twice gives the same answer (a bad pattern fails again);
 *   - each pattern's regexp answers the same with the bit-set engine and
 *     with the general simulation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "ignore/ignore.h"
#include "ignore/regexp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 8192
#define MAX_PATHS 64

static void check_path(struct kiln_ignore_matcher *m, const char *p, size_t n)
{
	struct kiln_error err = KILN_ERROR_INIT;
	int a = kiln_ignore_matches_or_parent(m, p, n, NULL, &err);
	if (a < 0 && !err.msg)
		__builtin_trap();
	kiln_error_release(&err);
	int a2 = kiln_ignore_matches_or_parent(m, p, n, NULL, &err);
	if (a2 != a)
		__builtin_trap();
	kiln_error_release(&err);

	int x = kiln_ignore_matches_exact(m, p, n, &err);
	kiln_error_release(&err);
	/* the exact verdict of a path is one of the candidates of the parent walk */
	if (x == 1 && a == 0 && !kiln_ignore_matcher_has_exceptions(m))
		__builtin_trap();
	if (x == 1) {
		/* walkers ask about a directory only for paths strictly inside it */
		for (size_t j = 0; j + 1 < n; j++)
			if (p[j] == '/' &&
			    !kiln_ignore_could_match_inside(m, p, j, KILN_IGNORE_NORMAL_PATTERNS))
				__builtin_trap();
	}

	/* walker style: each prefix with its parent's info */
	struct kiln_ignore_match_info i1 = KILN_IGNORE_MATCH_INFO_INIT, i2 = i1;
	int w = 0;
	for (size_t j = 0; j <= n && w >= 0; j++) {
		if (j < n && p[j] != '/')
			continue;
		w = kiln_ignore_matches_using_parent(m, p, j, &i1, &i2, NULL, &err);
		struct kiln_ignore_match_info t = i1;
		i1 = i2;
		i2 = t;
		kiln_error_release(&err);
	}
	(void)kiln_ignore_matches_using_parent(m, p, n, NULL, NULL, NULL, &err);
	kiln_error_release(&err);
	kiln_ignore_match_info_release(&i1);
	kiln_ignore_match_info_release(&i2);

	cleanup_free char *c = kiln_strndup(p, n);
	if (c)
		(void)kiln_ignore_matches_legacy(m, c, strlen(c), &err);
	kiln_error_release(&err);
}

/* The pattern's regexp on each path (and path prefix): both engines must agree. */
static void compare_engines(const char *pattern, const char *paths, size_t plen)
{
	enum kiln_ignore_match_type t;
	cleanup_free char *src = NULL;
	if (kiln_ignore_pattern_compile(pattern, '/', &t, &src, NULL) < 0 || !src)
		return;
	struct kiln_ignore_re *re = NULL;
	if (kiln_ignore_re_compile(src, strlen(src), &re, NULL) < 0)
		return;
	for (size_t count = 0; plen > 0 && count < MAX_PATHS; count++) {
		const char *nl = memchr(paths, '\n', plen);
		size_t n = nl ? (size_t)(nl - paths) : plen;
		if (kiln_ignore_re_match(re, paths, n) != kiln_ignore_re_match_general(re, paths, n))
			__builtin_trap();
		if (kiln_ignore_re_prefix_viable(re, paths, n) !=
		    kiln_ignore_re_prefix_viable_general(re, paths, n))
			__builtin_trap();
		if (!nl)
			break;
		plen -= n + 1;
		paths = nl + 1;
	}
	kiln_ignore_re_free(re);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_INPUT)
		return 0;
	const char *s = (const char *)data;
	const char *nul = memchr(s, '\0', size);
	size_t flen = nul ? (size_t)(nul - s) : size;

	struct kiln_ignore_list l = KILN_IGNORE_LIST_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	if (kiln_ignore_read_all(s, flen, "fuzz.dockerignore", &l, &err) < 0) {
		if (!err.msg)
			__builtin_trap();
		kiln_error_release(&err);
		return 0;
	}
	struct kiln_ignore_matcher *m = NULL;
	int r = kiln_ignore_matcher_new_list(&l, &m, &err);
	if (r < 0 && !err.msg)
		__builtin_trap();
	kiln_error_release(&err);

	/* filepath.Match on each pattern against "." and against itself */
	for (size_t i = 0; i < l.patterns.len; i++) {
		const char *p = l.patterns.items[i];
		size_t pl = l.lens ? l.lens[i] : strlen(p);
		(void)kiln_go_match(p, pl, ".", 1);
		(void)kiln_go_match(p, pl, p, pl);
		compare_engines(p, nul ? nul + 1 : s, nul ? size - flen - 1 : flen);
	}

	if (m) {
		const char *paths = nul ? nul + 1 : s;
		size_t plen = nul ? size - flen - 1 : flen;
		size_t count = 0;
		while (plen > 0 && count < MAX_PATHS) {
			const char *nl = memchr(paths, '\n', plen);
			size_t n = nl ? (size_t)(nl - paths) : plen;
			check_path(m, paths, n);
			(void)kiln_ignore_could_match_inside(m, paths, n,
							     KILN_IGNORE_NORMAL_PATTERNS |
								     KILN_IGNORE_EXCEPTION_PATTERNS);
			count++;
			if (!nl)
				break;
			plen -= n + 1;
			paths = nl + 1;
		}
	}
	kiln_ignore_matcher_free(m);
	kiln_ignore_list_release(&l);
	return 0;
}
