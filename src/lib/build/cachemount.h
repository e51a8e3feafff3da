/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/base.h"

/*
 * The persistent directories behind RUN --mount=type=cache, kept in the
 * store (one store's caches are its own; a fresh store starts empty):
 *
 *   <root>/build-cache-mounts/<key>/info.json   {"id", "seed", "created"}
 *   <root>/build-cache-mounts/<key>/<n>/        instance n = 0, 1, ...
 *
 * <key> is kiln_cachemount_key(id, seed): the cache id (after the
 * BUILDKIT_CACHE_MOUNT_NS namespace) and what a new instance starts from
 * ("" = empty; otherwise the mount's from=/source= or its mode/uid/gid, as
 * BuildKit keys a cache by its id and base). Instance 0 is the cache;
 * more instances appear only when `private` users found every existing
 * one busy (BuildKit's behaviour), and are reused afterwards.
 *
 * An instance is in use while an open description of its directory holds
 * flock(2): LOCK_SH for `shared` users (any number at once, the same
 * directory), LOCK_EX for `locked` and `private` users. That works between
 * kiln processes and between the RUNs of one build. Other users of these
 * directories (exporting or importing cache contents) go through the same
 * calls: kiln_cachemount_acquire() with SHARED to read while builds may
 * write, with LOCKED to replace the contents alone. Nothing else may touch
 * an instance directory without holding its lock.
 *
 * Cache mounts are never part of a layer nor of a step's cache key. `kiln
 * prune` keeps them; `kiln prune --cache-mounts` (kiln_cachemount_prune())
 * deletes those not in use.
 */

struct kiln_ctx;
struct kiln_store;

/** The store directory that holds them, relative to the store root. */
#define KILN_CACHEMOUNT_DIR "build-cache-mounts"
/** Limits: the bytes of an id or a seed, the instances of one cache. */
#define KILN_CACHEMOUNT_MAX_ID 4096
#define KILN_CACHEMOUNT_MAX_INSTANCES 256
#define KILN_CACHEMOUNT_MAX_INFO ((size_t) 64 << 10)

enum kiln_cachemount_sharing {
	KILN_CACHEMOUNT_SHARED = 0, /* every user at once in the same directory */
	KILN_CACHEMOUNT_PRIVATE,    /* a free instance, or a new one when all are busy */
	KILN_CACHEMOUNT_LOCKED,	    /* a free instance, else wait for instance 0 */
};

/**
 * Fill a new instance before anyone uses it: `dir_fd` is its directory
 * (empty, owned by the caller's lock). A failure discards the instance.
 */
typedef int (*kiln_cachemount_seed_fn)(void *userdata, int dir_fd, struct kiln_error *err);

struct kiln_cachemount_spec {
	const char *id;	  /* not empty */
	const char *seed; /* NULL or "": a new instance starts empty */
	enum kiln_cachemount_sharing sharing;
	/* the root directory of a new instance (seed_fn may change it) */
	mode_t mode; /* 0 = 0755 */
	uid_t uid;
	gid_t gid;
	kiln_cachemount_seed_fn seed_fn; /* NULL: nothing to fill in */
	void *seed_userdata;
	/* called once, before waiting for a busy instance (LOCKED) */
	void (*on_wait)(void *userdata);
	void *wait_userdata;
};

/** A held instance: its lock lasts until kiln_cachemount_release(). */
struct kiln_cachemount;

/**
 * The directory name of a cache: lowercase hex SHA-256 of
 * "kiln-cachemount-v1\0" id "\0" seed (seed NULL = ""). `ret` gets 64
 * characters and a NUL.
 */
int kiln_cachemount_key(const char *id, const char *seed, char ret[65], struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Take an instance of the cache `spec` names, creating the cache (and
 * info.json) or a new instance when needed, and lock it as the sharing
 * mode says. A LOCKED acquire that must wait polls (like BuildKit) and
 * gives up with -KILN_ECANCEL when ctx->cancel is set.
 */
int kiln_cachemount_acquire(const struct kiln_ctx *ctx, struct kiln_store *st,
			    const struct kiln_cachemount_spec *spec, struct kiln_cachemount **ret,
			    struct kiln_error *err) __attribute__((warn_unused_result));

/** The instance's directory (absolute), valid until release. */
const char *kiln_cachemount_path(const struct kiln_cachemount *cm);
/** An O_DIRECTORY fd of it (owned by `cm`). */
int kiln_cachemount_fd(const struct kiln_cachemount *cm);
/** Which instance it is (0 = the cache itself). */
unsigned kiln_cachemount_instance(const struct kiln_cachemount *cm);
/** Unlock and free; NULL is fine. */
void kiln_cachemount_release(struct kiln_cachemount *cm);
KILN_DEFINE_CLEANUP(struct kiln_cachemount, kiln_cachemount_release)

/** One cache of the store, as kiln_cachemount_list() finds it. */
struct kiln_cachemount_info {
	char *key;  /* the directory name */
	char *id;   /* from info.json */
	char *seed; /* "" when it starts empty */
	int64_t created;
	unsigned n_instances;
	char *path; /* instance 0's directory (absolute); read it under a SHARED acquire */
};

/** Every cache of the store with a readable info.json, sorted by id then seed. */
int kiln_cachemount_list(struct kiln_store *st, struct kiln_cachemount_info **ret, size_t *n,
			 struct kiln_error *err) __attribute__((warn_unused_result));
void kiln_cachemount_info_free(struct kiln_cachemount_info *v, size_t n);

enum kiln_cachemount_prune_flags {
	KILN_CACHEMOUNT_PRUNE_DRY_RUN = 1 << 0,
};

struct kiln_cachemount_prune_report {
	size_t removed; /* instances deleted (or that would be) */
	size_t busy;	/* instances kept because a build uses them */
	uint64_t bytes; /* their size on disk */
};

/**
 * Delete the instances no one holds (all caches, or only those of `id`),
 * and the caches left with none; also what is not a cache (leftovers of an
 * interrupted creation, other layouts). Never waits for a busy instance.
 */
int kiln_cachemount_prune(struct kiln_store *st, const char *id, unsigned flags,
			  struct kiln_cachemount_prune_report *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
