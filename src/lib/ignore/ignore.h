/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/strv.h"

/*
 * .dockerignore: reading the file and matching paths against its patterns,
 * with the semantics of moby/patternmatcher and its ignorefile package, which
 * is what BuildKit and the Docker CLI use. docs/internals/ignore.md explains
 * where kiln follows them exactly and why.
 *
 * Paths are slash-separated and relative to the build context ("src/a.c").
 * A pattern matches a path when it matches the whole path or, for the
 * *_or_parent and walker variants, one of its parent directories. Patterns
 * are applied in order; `!pattern` re-includes what earlier ones excluded.
 */

/* Limits on outside input. */
#define KILN_IGNORE_FILE_MAX ((size_t)16 << 20) /* bytes in one .dockerignore */
#define KILN_IGNORE_LINE_MAX ((size_t)64 << 10) /* bytes in one line (Go's bufio.Scanner) */
#define KILN_IGNORE_PATTERNS_MAX 100000          /* patterns in one matcher */

/** The patterns of one ignore file, as ignorefile.ReadAll returns them. */
struct kiln_ignore_list {
	struct kiln_strv patterns;
	unsigned *lines; /* 1-based source line of each pattern; NULL when unknown */
	char *source;    /* the file's name for messages; NULL when unknown */
	/*
	 * Byte length of each pattern; NULL means strlen. A line may hold NUL
	 * bytes, which Go keeps: such a pattern then matches no real path.
	 */
	size_t *lens;
};

#define KILN_IGNORE_LIST_INIT                                                                    \
	{                                                                                        \
		KILN_STRV_INIT, NULL, NULL, NULL                                                 \
	}

void kiln_ignore_list_release(struct kiln_ignore_list *l);

/**
 * ignorefile.ReadAll: parse .dockerignore text. A UTF-8 BOM at the start is
 * dropped; a line whose first byte is '#' is a comment; lines are trimmed
 * (Unicode white space) and empty ones skipped; a leading '!' (and the space
 * after it) marks an exception; the rest is cleaned like filepath.Clean and
 * loses one leading '/'. `source` (may be NULL) names the file in errors
 * and is kept in `ret`. A line longer than KILN_IGNORE_LINE_MAX fails with
 * -KILN_ELIMIT at its line; so does a file larger than KILN_IGNORE_FILE_MAX.
 */
int kiln_ignore_read_all(const char *data, size_t len, const char *source,
			 struct kiln_ignore_list *ret, struct kiln_error *err);

/**
 * Read the ignore file `path` if it exists: 1 when read (`ret` holds its
 * patterns), 0 when there is no such file, <0 on a read or parse error.
 */
int kiln_ignore_load_file(const char *path, struct kiln_ignore_list *ret, struct kiln_error *err);

/**
 * Find and read the ignore file of a build as BuildKit does: the
 * Dockerfile's own path plus ".dockerignore" (build/app.Dockerfile ->
 * build/app.Dockerfile.dockerignore) wins over <context>/.dockerignore.
 * `dockerfile` may be NULL (only the context's file is tried). On success
 * `*ret_path` is the file used (heap string) or NULL when there is none, and
 * `ret` holds its patterns (empty when none).
 */
int kiln_ignore_load_for_build(const char *context_dir, const char *dockerfile,
			       struct kiln_ignore_list *ret, char **ret_path,
			       struct kiln_error *err);

/** How a pattern is matched (patternmatcher's matchType). */
enum kiln_ignore_match_type {
	KILN_IGNORE_MATCH_EXACT,  /* string equality */
	KILN_IGNORE_MATCH_PREFIX, /* "dir/" + "**": a prefix test */
	KILN_IGNORE_MATCH_SUFFIX, /* "**" + literal tail: a suffix test */
	KILN_IGNORE_MATCH_REGEXP, /* anything with wildcards or escapes */
};

/** "exact", "prefix", "suffix", "regexp". */
const char *kiln_ignore_match_type_name(enum kiln_ignore_match_type t);

/**
 * Classify a cleaned pattern (without '!') and build the regular expression
 * it compiles to, with `sep` ('/' or, to reproduce Windows, '\\') as the path
 * separator. `*ret_regexp` is a heap string, or NULL unless the type is
 * KILN_IGNORE_MATCH_REGEXP.
 */
int kiln_ignore_pattern_compile(const char *pattern, char sep, enum kiln_ignore_match_type *ret_type,
				char **ret_regexp, struct kiln_error *err);

/**
 * A compiled list of patterns (patternmatcher.PatternMatcher). It keeps
 * scratch space for matching: like upstream's, one matcher must not be used
 * from two threads at once.
 */
struct kiln_ignore_matcher;

/**
 * patternmatcher.New: trim each pattern, drop empty ones, clean them, note
 * '!' exceptions, and check their syntax the way filepath.Match does (an
 * unclosed '[', a trailing '\', bad ranges, ... anywhere in the pattern).
 * A lone "!" or a syntax error fails with -KILN_EPARSE naming the pattern.
 * A pattern whose regular expression Go would reject at match time (e.g.
 * "[z-a]") is accepted here, as upstream does; matching it fails instead.
 */
int kiln_ignore_matcher_new(const char *const *patterns, size_t n,
			    struct kiln_ignore_matcher **ret, struct kiln_error *err);

/** Like kiln_ignore_matcher_new(); errors and descriptions carry the list's file:line. */
int kiln_ignore_matcher_new_list(const struct kiln_ignore_list *l,
				 struct kiln_ignore_matcher **ret, struct kiln_error *err);

void kiln_ignore_matcher_free(struct kiln_ignore_matcher *m);

/** Patterns kept after New dropped the empty ones. */
size_t kiln_ignore_matcher_count(const struct kiln_ignore_matcher *m);

/** Whether any pattern is a '!' exception (PatternMatcher.Exclusions). */
int kiln_ignore_matcher_has_exceptions(const struct kiln_ignore_matcher *m);

struct kiln_ignore_pattern_info {
	const char *pattern; /* cleaned, without the '!' */
	int exception;       /* it was "!pattern" */
	enum kiln_ignore_match_type type;
	const char *source; /* file it came from, or NULL */
	unsigned line;      /* its line there, or 0 */
};

void kiln_ignore_matcher_pattern(const struct kiln_ignore_matcher *m, size_t i,
				 struct kiln_ignore_pattern_info *ret);

/**
 * PatternMatcher.MatchesOrParentMatches: 1 when `path` (taken as given, not
 * cleaned) is excluded, 0 when not. The parent directories of the path are
 * tried too. `*ret_pattern` (may be NULL) gets the index of the last pattern
 * that decided the answer, or -1. A pattern that cannot be compiled fails
 * with -KILN_EPARSE when it is reached.
 */
int kiln_ignore_matches_or_parent(struct kiln_ignore_matcher *m, const char *path, size_t len,
				  long *ret_pattern, struct kiln_error *err);

/** PatternMatcher.MatchesExact: no parent matching. */
int kiln_ignore_matches_exact(struct kiln_ignore_matcher *m, const char *path, size_t len,
			      struct kiln_error *err);

/**
 * The deprecated PatternMatcher.Matches: tries only the one parent prefix
 * with as many components as the pattern. Kept for its callers' answers.
 */
int kiln_ignore_matches_legacy(struct kiln_ignore_matcher *m, const char *path, size_t len,
			       struct kiln_error *err);

/**
 * The package-level patternmatcher.Matches(file, patterns): New, then clean
 * the path; "." never matches; then the legacy method.
 */
int kiln_ignore_matches_patterns(const char *path, const char *const *patterns, size_t n,
				 struct kiln_error *err);

/**
 * What MatchesUsingParentResults remembers about a directory: one bit per
 * pattern. Initialise with KILN_IGNORE_MATCH_INFO_INIT (= "no parent
 * information"); release with kiln_ignore_match_info_release().
 */
struct kiln_ignore_match_info {
	uint64_t *bits;	  /* patterns that matched this path or an ancestor */
	uint64_t *inside; /* patterns that could match something inside this path */
	size_t nwords;
	int valid;
};

#define KILN_IGNORE_MATCH_INFO_INIT                                                              \
	{                                                                                        \
		NULL, NULL, 0, 0                                                                 \
	}

void kiln_ignore_match_info_release(struct kiln_ignore_match_info *info);

/**
 * PatternMatcher.MatchesUsingParentResults, for walkers: decide `path` from
 * its parent directory's result (`parent`; NULL or invalid = none, then the
 * parent directories are tried as in kiln_ignore_matches_or_parent) without
 * re-matching ancestors. Stores this path's own info in `ret_info` (may be
 * NULL; sized on first use): pass it for directories, whose children are
 * then matched only against the patterns that could reach inside them (the
 * answers are the same; the work is less). Returns 1 / 0 as the other
 * matchers do.
 */
int kiln_ignore_matches_using_parent(struct kiln_ignore_matcher *m, const char *path, size_t len,
				     const struct kiln_ignore_match_info *parent,
				     struct kiln_ignore_match_info *ret_info, long *ret_pattern,
				     struct kiln_error *err);

enum kiln_ignore_which {
	KILN_IGNORE_NORMAL_PATTERNS = 1 << 0,    /* patterns without '!' */
	KILN_IGNORE_EXCEPTION_PATTERNS = 1 << 1, /* '!' patterns */
};

/**
 * Whether any pattern of the given kind could match some path strictly
 * inside directory `dir` (dir + "/" + something). Conservative: 1 unless it
 * is certain that none can. A walker uses it to skip a subtree.
 */
int kiln_ignore_could_match_inside(struct kiln_ignore_matcher *m, const char *dir, size_t len,
				   unsigned which);

/** The same question about the directory whose info kiln_ignore_matches_using_parent() filled. */
int kiln_ignore_info_could_match_inside(const struct kiln_ignore_matcher *m,
					const struct kiln_ignore_match_info *info, unsigned which);
