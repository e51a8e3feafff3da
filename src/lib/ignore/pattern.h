/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ignore/ignore.h"
#include "ignore/regexp.h"

/*
 * One compiled pattern (patternmatcher's Pattern) and the matcher that
 * holds them. Internal to the ignore module: matcher.c, filter.c and the
 * walker share these definitions.
 */
struct ign_pattern {
	char *text; /* cleaned pattern without the '!' */
	size_t len;
	size_t ndirs; /* components, for the legacy Matches */
	unsigned line;
	uint8_t exception;
	uint8_t type; /* enum kiln_ignore_match_type */
	struct kiln_ignore_re *re;
	char *bad; /* why the regexp does not compile: every match of this pattern fails */
	/* Literal text every match must start / end with (regexp type), for a cheap reject. */
	const char *lit_prefix;
	size_t lit_prefix_len;
	const char *lit_suffix;
	size_t lit_suffix_len;
};

struct kiln_ignore_matcher {
	struct ign_pattern *pats;
	size_t n;
	size_t nwords; /* uint64 words of a match info */
	int exceptions;
	char *source;
	/* Scratch for cleaning a parent path. */
	char *scratch;
	size_t scratch_len;
};

/** Compile p->text into p (type, regexp or its error). */
int kiln_ignore_pattern_setup(struct ign_pattern *p, struct kiln_error *err);

/**
 * Pattern.match: 1, 0, or -KILN_EPARSE (naming the pattern) when it cannot
 * compile, -KILN_ELIMIT when matching would take too long.
 */
int kiln_ignore_pattern_match(const struct kiln_ignore_matcher *m, const struct ign_pattern *p,
			      const char *path, size_t len, struct kiln_error *err);

/**
 * Whether p could match a path strictly inside a directory; `dir_slash` is
 * the directory's path followed by '/' (len counts the slash). Conservative.
 */
int kiln_ignore_pattern_could_match_inside(const struct ign_pattern *p, const char *dir_slash,
					   size_t len);
