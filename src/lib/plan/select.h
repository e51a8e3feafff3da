/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/ctx.h"
#include "base/digest.h"
#include "base/error.h"

/*
 * What a COPY or ADD reads: its sources resolved in a tree (the build
 * context behind its .dockerignore, or a stage's root filesystem), every
 * entry it will copy, and the content digest of that selection for the
 * cache key. The walk and the rules are BuildKit's (fsutil's
 * ResolveWildcards, symlinks of a source followed inside the tree,
 * directories meaning their contents, --exclude, --parents); the digest
 * covers names, types, permissions, owners, file contents and link
 * targets, never times. Reading the tree is the only I/O here.
 */

struct kiln_ignore_filter;
struct kiln_ignore_matcher;

/** A file's contents' SHA-256, raw: one per context file, so 32 bytes, not a struct kiln_digest. */
struct kiln_plan_sum {
	uint8_t raw[32];
};

/** The identity of a file's content for the hash cache: a change of any field is a miss. */
struct kiln_plan_file_id {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
};

/**
 * A persistent cache of file digests, supplied by the caller (the build
 * engine keeps it in the store's database). Both calls come from the
 * thread that runs kiln_plan_selection_hash(), one at a time.
 */
typedef void (*kiln_plan_sum_found_fn)(void *found_ud, size_t index,
				       const struct kiln_plan_sum *sum);

struct kiln_plan_hash_cache {
	void *userdata;
	/** Call found(found_ud, i, sum) for each ids[i] it knows (no array of
	 * results: a large context's would be as big as its ids). */
	int (*lookup)(void *userdata, const struct kiln_plan_file_id *ids, size_t n,
		      kiln_plan_sum_found_fn found, void *found_ud, struct kiln_error *err);
	/** Remember freshly computed sums. */
	int (*store)(void *userdata, const struct kiln_plan_file_id *ids,
		     const struct kiln_plan_sum *sums, size_t n, struct kiln_error *err);
};

/**
 * Hashes file contents on a few threads. The context's digests go through the
 * persistent cache (it remembers them for the run too); other trees' are
 * remembered in memory for the run.
 */
struct kiln_plan_hasher;

struct kiln_plan_hash_stats {
	uint64_t files;	     /* regular files whose digest was asked for */
	uint64_t memo_hits;  /* known from earlier in this run (trees without the cache) */
	uint64_t cache_hits; /* known from the persistent cache */
	uint64_t hashed;     /* read and hashed */
	uint64_t bytes;	     /* bytes read for that */
};

/** `cache` may be NULL (no persistence); `threads` 0 means 4. */
int kiln_plan_hasher_new(const struct kiln_plan_hash_cache *cache, unsigned threads,
			 const struct kiln_ctx *ctx, struct kiln_plan_hasher **ret,
			 struct kiln_error *err) __attribute__((warn_unused_result));
void kiln_plan_hasher_free(struct kiln_plan_hasher *h);
KILN_DEFINE_CLEANUP(struct kiln_plan_hasher, kiln_plan_hasher_free)
void kiln_plan_hasher_stats(const struct kiln_plan_hasher *h, struct kiln_plan_hash_stats *ret);

/** A tree sources are read from. */
struct kiln_plan_tree {
	int root_fd;			    /* a directory fd (not consumed) */
	struct kiln_ignore_filter *filter;  /* the .dockerignore filter, NULL for none */
	struct kiln_ignore_matcher *ignore; /* its patterns, to name the rule that hid a source */
	const char *ignore_file;	    /* its file name for messages (".dockerignore") */
	const char *name;		    /* for messages: "the build context", "stage build" */
	/* The build context: owners read as 0:0 (as BuildKit's client sends them),
	 * and digests are remembered in the hash cache. */
	int context;
	/*
	 * Optional: a directory fd in which the directory `real` (the only
	 * match, relative to the root) and everything below it read as from
	 * root_fd, except that overlayfs whiteouts there (0:0 character
	 * devices) stand for nothing; -1 to read it from root_fd. The fd stays
	 * the caller's, open until the selection is hashed. A COPY --from
	 * gives the top layer of its source when the directory lies in that
	 * layer alone, so that the walk and the reads skip overlayfs.
	 */
	int (*subtree_fd)(void *userdata, const char *real);
	void *subtree_userdata;
};

struct kiln_plan_select_opts {
	const char *const *sources; /* as in the instruction (expanded) */
	size_t n_sources;
	const char *const *excludes; /* COPY --exclude patterns */
	size_t n_excludes;
	int parents; /* COPY --parents */
	int literal; /* sources are names, not wildcards (a COPY heredoc's) */
};

/*
 * What a selection keeps of an entry's lstat: a COPY of a large context
 * holds one per file, so it is half the size of a struct stat.
 */
struct kiln_plan_stat {
	uint64_t dev, ino, rdev;
	int64_t size;
	int64_t atime_ns, mtime_ns, ctime_ns;
	uint32_t mode, uid, gid, nlink;
};

void kiln_plan_stat_from(struct kiln_plan_stat *ret, const struct stat *st);

/** One of its times as a timespec (tv_nsec in [0, 1e9) before 1970 too). */
static inline struct timespec kiln_plan_timespec(int64_t ns)
{
	struct timespec ts = { (time_t) (ns / 1000000000), (long) (ns % 1000000000) };
	if (ts.tv_nsec < 0) {
		ts.tv_nsec += 1000000000;
		ts.tv_sec--;
	}
	return ts;
}

/** One entry to copy. Its strings live in the selection's arena. */
struct kiln_plan_item {
	char *path;		  /* relative to the tree's root ("" for the root itself) */
	const char *rel;	  /* relative to its match ("" for the match itself), in path */
	char *link;		  /* a symlink's target */
	struct kiln_plan_stat st; /* lstat; for the context, uid and gid are 0 */
	struct kiln_plan_sum sum; /* regular files, after hashing */
	uint8_t hashed;
	/* --parents: a directory copied only because something below it matched */
	uint8_t parent_only;
};

/** One source after wildcards and symlinks. */
struct kiln_plan_match {
	char *source; /* the source as written */
	char *path;   /* as matched, relative to the root ("" = the root) */
	char *base;   /* the last element of `path`: a file copied into a directory gets it */
	char *real;   /* `path` with symlinks followed: what is read */
	int is_dir;
	int parents;	 /* --parents: copy what matched below `real`, keeping the structure */
	size_t first, n; /* its items */
};

struct kiln_plan_selection {
	struct kiln_plan_match *matches;
	size_t n_matches;
	struct kiln_plan_item *items;
	size_t n_items;
	struct kiln_arena *strings; /* the items' paths and link targets */
	uint64_t files, bytes;	   /* regular files and their sizes */
	struct kiln_digest digest; /* after kiln_plan_selection_hash() */
	int hashed;
	/* where kiln_plan_selection_hash() opens the files: the tree's
	 * subtree_fd when the one match was walked there, or -1 (its root_fd) */
	int read_fd;
};

void kiln_plan_selection_free(struct kiln_plan_selection *s);
KILN_DEFINE_CLEANUP(struct kiln_plan_selection, kiln_plan_selection_free)

/* Limits on what one selection may hold. */
#define KILN_PLAN_SELECT_MAX_ITEMS ((size_t) 4 << 20)
#define KILN_PLAN_MAX_SYMLINKS 255

/**
 * Resolve the sources of one COPY/ADD in `t` and list what they copy.
 * Errors (-KILN_ENOTFOUND): a source that does not exist, naming it and,
 * for the context, the .dockerignore rule that excluded it ("source
 * \"app.env\" is excluded by .dockerignore:3 (pattern \"*.env\")"); a
 * wildcard whose directory is missing. A wildcard matching nothing selects
 * nothing, as in BuildKit. -KILN_EPARSE for a malformed wildcard or
 * --exclude pattern, -KILN_ELIMIT past KILN_PLAN_SELECT_MAX_ITEMS.
 */
int kiln_plan_select(const struct kiln_plan_tree *t, const struct kiln_plan_select_opts *o,
		     const struct kiln_ctx *ctx, struct kiln_plan_selection **ret,
		     struct kiln_error *err) __attribute__((warn_unused_result));

/** Hash every regular file of the selection and compute its digest. */
int kiln_plan_selection_hash(struct kiln_plan_selection *s, const struct kiln_plan_tree *t,
			     struct kiln_plan_hasher *h, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Resolve `path` (relative or absolute, cleaned inside the root) in the
 * directory tree at `root_fd` the way fsutil's RootPath does: symlinks are
 * followed (the last one too when `follow_last`), ".." and absolute link
 * targets stop at the root, missing components are kept as written. The
 * result is relative to the root ("" for the root). -KILN_ELIMIT after
 * KILN_PLAN_MAX_SYMLINKS links.
 */
int kiln_plan_resolve_in_root(int root_fd, const char *path, int follow_last, char **ret,
			      struct kiln_error *err) __attribute__((warn_unused_result));
