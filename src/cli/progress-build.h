/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdio.h>

#include "build/build.h"

/*
 * The displays of `kiln build`'s progress events (progress-plain.c,
 * progress-tty.c): BuildKit's plain log (#N lines) for logs and CI, a view
 * redrawn in place on a terminal, or nothing (quiet).
 */
enum cli_build_progress_mode {
	CLI_BUILD_PROGRESS_PLAIN,
	CLI_BUILD_PROGRESS_TTY,
	CLI_BUILD_PROGRESS_QUIET,
};

struct cli_build_progress;

/** A display writing to `out` (stderr). NULL on ENOMEM. */
struct cli_build_progress *cli_build_progress_new(enum cli_build_progress_mode mode, FILE *out);

/** The kiln_build_event_fn to give the build, with the display as userdata. */
void cli_build_progress_event(void *userdata, const struct kiln_build_event *ev);

/** Stop redrawing and print the summary of a failure, if there was one. */
void cli_build_progress_finish(struct cli_build_progress *p);

void cli_build_progress_free(struct cli_build_progress *p);
KILN_DEFINE_CLEANUP(struct cli_build_progress, cli_build_progress_free)

/* ---- shared by the two displays (progress-plain.c) ---------------------- */

/** A vertex as the displays remember it. */
struct cli_vertex {
	int id;
	char *name;
	int state; /* 0 running, 1 done, 2 cached, 3 error */
	int64_t start_ns, duration_ns;
	char *error;
	char *tail; /* the failed RUN's output */
	size_t tail_len;
	char *logs; /* tty: the last lines of output */
	size_t logs_len;
	char *status;  /* the latest status line */
	char *miss;    /* tty: why the cache missed, a few words */
	char *partial; /* plain: output after the last newline, not printed yet */
	size_t partial_len;
};

struct cli_vertices {
	struct cli_vertex *v;
	size_t n, alloc;
};

struct cli_vertex *cli_vertex_get(struct cli_vertices *vs, const struct kiln_build_event *ev);
void cli_vertices_release(struct cli_vertices *vs);
/** Print the BuildKit-style summary of failed vertices (their output's tail). */
void cli_vertices_print_errors(const struct cli_vertices *vs, FILE *out);

/* the terminal display (progress-tty.c) */
struct cli_tty;
struct cli_tty *cli_tty_new(FILE *out);
void cli_tty_event(struct cli_tty *t, const struct kiln_build_event *ev);
void cli_tty_finish(struct cli_tty *t);
void cli_tty_free(struct cli_tty *t);
