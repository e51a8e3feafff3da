/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"
#include "base/ctx.h"
#include "base/error.h"
#include "ignore/walk.h"

/*
 * What a build would send as its context: the walk after the ignore rules
 * (Dockerfile.dockerignore over .dockerignore, as BuildKit picks them), its
 * size, its largest files, and the COPY/ADD sources of the Dockerfile that
 * the rules exclude or that match nothing. The sources are those of the
 * Dockerfile's stage graph, expanded with the build args as a build expands
 * them. This is `kiln context`.
 */

struct kiln_ignore_context_entry {
	char *path;
	uint64_t size;
};

enum kiln_ignore_source_problem {
	KILN_IGNORE_SOURCE_EXCLUDED,  /* it exists, but the ignore rules leave it out */
	KILN_IGNORE_SOURCE_MISSING,   /* nothing in the context matches it */
	KILN_IGNORE_SOURCE_EMPTIED,   /* a directory whose whole content is excluded */
	KILN_IGNORE_SOURCE_UNCHECKED, /* uses a variable kiln cannot know (a note, not a problem) */
};

/** "excluded", "missing", "emptied", "unchecked". */
const char *kiln_ignore_source_problem_name(enum kiln_ignore_source_problem p);

struct kiln_ignore_source_warning {
	enum kiln_ignore_source_problem problem;
	char *instruction; /* the keyword as written: "COPY", "add" */
	int line;	   /* of the instruction in the Dockerfile */
	char *source;	   /* as written */
	char *expanded;	   /* after variable expansion (NULL if it could not be expanded) */
	char *path;	   /* EXCLUDED: the context path the rules drop */
	char *pattern;	   /* EXCLUDED: the deciding ignore pattern ("*.env", "!x") */
	unsigned pattern_line;
	char *message; /* one line for humans, without the Dockerfile position */
};

struct kiln_ignore_context_report {
	char *context_dir;
	char *ignore_file; /* the ignore file used, NULL when none */
	size_t n_patterns;
	char *dockerfile; /* the Dockerfile checked, NULL when none */
	uint64_t files, dirs, symlinks, others;
	uint64_t total_bytes; /* sizes of the regular files */
	struct kiln_ignore_context_entry *largest; /* biggest files first */
	size_t n_largest;
	struct kiln_ignore_source_warning *warnings; /* in Dockerfile order */
	size_t n_warnings;
	size_t n_sources; /* COPY/ADD context sources looked at */
	/* docker's "[Warning] One or more build-args [A B] were not consumed", or NULL */
	char *unused_build_args;
};

void kiln_ignore_context_report_free(struct kiln_ignore_context_report *r);
KILN_DEFINE_CLEANUP(struct kiln_ignore_context_report, kiln_ignore_context_report_free)

struct kiln_ignore_context_opts {
	/* The Dockerfile; NULL: <dir>/Dockerfile (or <dir>/dockerfile) when present. */
	const char *dockerfile;
	/*
	 * The Dockerfile's text, when it is not a file (`-f -`): `dockerfile`
	 * then only names it in messages (NULL: "<stdin>"), and the ignore file
	 * is <dir>/.dockerignore, as for a build that reads its Dockerfile from
	 * stdin.
	 */
	const char *dockerfile_data;
	size_t dockerfile_len;
	/* Build args, "K=V", as a build takes them (a later K wins). */
	const char *const *build_args;
	size_t n_build_args;
	/* How many of the largest files to keep (0: 10). */
	size_t top;
	/* Called for every entry the build would see, in walk order (may be NULL). */
	kiln_ignore_walk_fn on_entry;
	void *userdata;
	const struct kiln_ctx *ctx;
};

/* Limits for the source checks. */
#define KILN_IGNORE_CONTEXT_TOP_MAX 1000

/**
 * Walk the context `dir` as a build would and fill a report. Fails on an
 * unreadable context, an ignore file or Dockerfile that cannot be read, a
 * Dockerfile a build would reject (parse, instruction and stage-graph
 * errors, with file:line), and a bad ignore pattern (-KILN_EPARSE).
 */
int kiln_ignore_context_scan(const char *dir, const struct kiln_ignore_context_opts *opts,
			     struct kiln_ignore_context_report **ret, struct kiln_error *err);
