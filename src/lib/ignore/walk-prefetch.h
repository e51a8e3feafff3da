/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/*
 * The walker's lstat of a large directory's entries, shared with one helper
 * thread: the walker goes forward through a listing and the helper backward
 * from its end, each entry claimed by whoever reaches it first, so the two
 * meet in the middle and nobody waits for a whole listing. Module-private
 * (walk.c).
 */

/** A listed entry: where its name starts in the listing's names, its d_type. */
struct wdent {
	uint32_t name_off;
	uint8_t type; /* DT_* */
};

struct walk_prefetch;

/** NULL when out of memory. With one CPU (asked at the first long
 * listing) or NULL, every walk_prefetch_* call is a no-op or a plain
 * fstatat. */
struct walk_prefetch *walk_prefetch_new(void);
/** Stops and joins the helper. */
void walk_prefetch_free(struct walk_prefetch *pf);

/**
 * A new listing at `level` (sorted; names and ents stay put until
 * walk_prefetch_drop() for that level). The helper takes it if it is idle.
 */
void walk_prefetch_offer(struct walk_prefetch *pf, size_t level, int fd, const char *names,
			 const struct wdent *ents, size_t n);

/** fstatat(fd, name, st, AT_SYMLINK_NOFOLLOW) of entry `index` of the listing at `level`. */
int walk_prefetch_lstat(struct walk_prefetch *pf, size_t level, size_t index, int fd,
			const char *name, struct stat *st);

/** The listing at `level` is about to be replaced or its fd closed. */
void walk_prefetch_drop(struct walk_prefetch *pf, size_t level);
