/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdarg.h>

/*
 * test-ignore is two files; tap.h keeps its counters per file, so the walker
 * tests report through these (defined in test-ignore.c).
 */
int ignore_tap_ok(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ignore_tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* test-ignore-walk.c */
void test_walk(void);
void test_walk_prefetch(void);
void test_load_for_build(void);
