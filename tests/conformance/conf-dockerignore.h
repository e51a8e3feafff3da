/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include "base/strv.h"

/* Shared by the dockerignore conformance runner's two files. */
struct conf_set {
	const char *name;
	int passed, total;
};

void conf_set_case(struct conf_set *s, int ok);
int conf_read_file(const char *path, char **ret, size_t *ret_len);
/* Lines split on '\n' only (the data never has CR). */
int conf_read_lines(const char *path, struct kiln_strv *lines);
/* Split on TAB in place; returns the number of fields (at most max). */
size_t conf_split_tabs(char *s, char **fields, size_t max);

/*
 * TAP output lives in conf-dockerignore.c (tap.h keeps its counters per file):
 * the walk cases report through these.
 */
int conf_tap_ok(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void conf_tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void conf_tap_diag_block(const char *label, const char *s);

/* walk/: the 33 fsutil cases (conf-dockerignore-walk.c). */
void conf_walk_run(const char *dir);
