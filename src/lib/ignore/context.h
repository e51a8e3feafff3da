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
 * the rules exclude or that match nothing. This is `kiln context`.
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
};

void kiln_ignore_context_report_free(struct kiln_ignore_context_report *r);
KILN_DEFINE_CLEANUP(struct kiln_ignore_context_report, kiln_ignore_context_report_free)

struct kiln_ignore_context_opts {
	/* The Dockerfile; NULL: <dir>/Dockerfile (or <dir>/dockerfile) when present. */
	const char *dockerfile;
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
 * unreadable context, an ignore file or Dockerfile that cannot be read or
 * parsed (with file:line), and a bad ignore pattern (-KILN_EPARSE).
 */
int kiln_ignore_context_scan(const char *dir, const struct kiln_ignore_context_opts *opts,
			     struct kiln_ignore_context_report **ret, struct kiln_error *err);
