/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Explained cache misses. Every layer step has a scope: the context, the
 * Dockerfile, the stage and the step's position in it. The store keeps, per
 * scope, what the step was made of the last time a build ran it (the key's
 * ingredients, the instruction as progress shows it, the list of source
 * files with their digests). When a step misses the cache, the two are
 * compared and the differences said: which source files changed, which
 * build arg, the instruction, the base image, or that the step before was
 * rebuilt (naming the first step that missed). Module-private.
 *
 * explain.c is the comparison (pure, unit-tested); explain-db.c the table,
 * the scopes and what the steps call.
 */
#include "build/build-private.h"

/* Limits: source files named in a message, in the details, and the bytes of
 * a remembered file list (a larger selection is remembered by its digest). */
#define BB_EXPLAIN_MESSAGE_FILES 5
#define BB_EXPLAIN_DETAIL_FILES 100
#define BB_EXPLAIN_MAX_FILES_BYTES ((size_t) 8 << 20)
/* Characters of an instruction or value in a message. */
#define BB_EXPLAIN_TEXT 60

/** What a step was made of: now, or the last time it ran. */
struct bb_explain_state {
	struct kiln_plan_key key; /* digest and ingredients */
	char *text;		  /* the instruction as progress shows it */
	char *files;		  /* the sources, bb_explain_files(); NULL: not known */
	char *hidden;		  /* build args whose values are not shown, one per line */
	char *remote; /* the cache the step was taken from without fetching its layer */
};

void bb_explain_state_release(struct bb_explain_state *s);

/**
 * The sources of a hashed selection, one line per entry, sorted:
 * "path\ttype mode uid:gid content" (content: the file's digest, a link's
 * target). NULL with *ret when the selection is not hashed or the list
 * would pass BB_EXPLAIN_MAX_FILES_BYTES; -KILN_ENOMEM.
 */
int bb_explain_files(const struct kiln_plan_selection *sel, char **ret, struct kiln_error *err);

/** The instruction of a progress name: "[build 2/5] RUN make" -> "RUN make". */
const char *bb_explain_text(const char *progress_name);

/**
 * Why `now` missed: compared with `prev` (NULL: no earlier build of the
 * scope). `first_miss` is the first step of the chain below it that missed
 * in this build (NULL: none), `base` the stage's base image for messages
 * (NULL: none); `no_cache` 1 for --no-cache, 2 for --no-cache-filter. Fills
 * everything in `ret` but `step`.
 */
int bb_explain_compute(const struct bb_explain_state *prev, const struct bb_explain_state *now,
		       const char *first_miss, const char *base, int no_cache,
		       struct kiln_build_miss *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

void bb_explain_miss_release(struct kiln_build_miss *m);

/* ---- explain-db.c: the table and what layer steps call ---------------------- */

struct bb_explain;

/** The scopes of this build (context and Dockerfile) and the table. */
int bb_explain_open(struct bb *b, struct kiln_error *err) __attribute__((warn_unused_result));
/** Free what bb_explain_open() made (b->explain). */
void bb_explain_close(struct bb *b);

/**
 * A step that missed the cache: explain it (a MISS event on `v`, and the
 * build's result) and keep what it is made of, to be remembered when it
 * succeeds (bb_explain_done()). `sel` is what a COPY/ADD read, or NULL.
 */
int bb_explain_miss(struct bb *b, struct bb_stage *s, const struct kiln_plan_step *ps,
		    struct bb_vertex *v, const struct kiln_plan_key *key,
		    const struct kiln_plan_selection *sel, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * A step that succeeded (from the cache or run): remember its key for its
 * scope, unless the scope has it already. `remote`: the name of the cache
 * whose layer it took (NULL: the store's or its own), remembered when the
 * build ends without fetching it.
 */
int bb_explain_done(struct bb *b, struct bb_stage *s, const struct kiln_plan_step *ps,
		    const struct kiln_plan_key *key, const struct kiln_plan_selection *sel,
		    const char *remote, struct kiln_error *err) __attribute__((warn_unused_result));

/** Write what the build learned, in one transaction (at its end, failed or not). */
int bb_explain_flush(struct bb *b, struct kiln_error *err) __attribute__((warn_unused_result));

/** Move the misses, in plan order, into the result. */
void bb_explain_result(struct bb *b, struct kiln_build_result *res);
/** Free a result's misses. */
void bb_explain_misses_free(struct kiln_build_miss *v, size_t n);
