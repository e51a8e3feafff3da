/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include "base/ctx.h"
#include "base/error.h"
#include "ignore/context.h"

/* Shared by context.c (the walk, the numbers) and context-sources.c (COPY/ADD checks). */

/** Every path the build would see, for lookups: NUL-separated, sorted by strcmp. */
struct ctx_paths {
	char *buf;
	size_t len, cap;
	size_t *offs;
	size_t n, cap_offs;
};

struct ctx_state {
	int root_fd;
	struct kiln_ignore_matcher *excludes; /* NULL when there is no ignore file */
	const char *ignore_file;	      /* for messages */
	struct ctx_paths paths;
	struct kiln_ignore_context_report *rep;
	const struct kiln_ctx *ctx;
};

/** Whether exactly this path is in the context. */
int kiln_ignore_ctx_has(const struct ctx_state *st, const char *path, size_t len);

/** Whether something below directory `dir` is in the context. */
int kiln_ignore_ctx_has_below(const struct ctx_state *st, const char *dir, size_t len);

/** Paths [*first, *first + *n) of the context that start with `prefix`. */
void kiln_ignore_ctx_range(const struct ctx_state *st, const char *prefix, size_t len,
			   size_t *first, size_t *n);

/** The i-th path in sorted order. */
const char *kiln_ignore_ctx_path(const struct ctx_state *st, size_t i);

/**
 * Check the COPY/ADD sources of the Dockerfile `data` (named st->rep->dockerfile
 * in messages), expanded with the build args of `opts`.
 */
int kiln_ignore_context_check_sources(struct ctx_state *st, const char *data, size_t len,
				      const struct kiln_ignore_context_opts *opts,
				      struct kiln_error *err);
