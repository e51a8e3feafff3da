/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/base.h"
#include "store/archive.h"
#include "store/blob.h"
#include "store/image.h"
#include "store/oci.h"

/**
 * The image store: content-addressed blobs in files, everything else in one
 * SQLite database (WAL mode). Layout under the root (docs/store.md):
 *
 *     <root>/store.db        names, image records, other modules' tables
 *     <root>/blobs/sha256/   one file per blob, named by its hex digest
 *     <root>/tmp/            blobs being written (removed by prune)
 *     <root>/gc.lock         held shared by writers, exclusive by prune
 *
 * Invariants: a file under blobs/ is complete and hashes to its name (it is
 * renamed there only after the digest checked out and the data was synced);
 * a database row that names a blob is committed only after the blob is in
 * blobs/; prune deletes blobs only under the exclusive gc lock, so no
 * process that might still reference a blob it just wrote or found is
 * running. Other modules may keep files in their own directories under the
 * root (kiln_store_path()); the store never touches them.
 *
 * A struct kiln_store is used by one thread at a time.
 */
struct kiln_store;
struct sqlite3;

/** Name of the database file under the root. */
#define KILN_STORE_DB "store.db"
/** How long a database write waits for another process's transaction. */
#define KILN_STORE_BUSY_TIMEOUT_MS 60000
/** Largest blob kiln_store_blob_read() returns in memory (manifests, configs). */
#define KILN_STORE_READ_MAX KILN_OCI_CONFIG_MAX

enum kiln_store_open_flags {
	/**
	 * Do not take the gc lock: for commands that only read names and
	 * records (images, inspect) and may run while prune does. Blob reads
	 * may then fail with -KILN_ENOTFOUND if prune removed the blob.
	 */
	KILN_STORE_NO_GC_LOCK = 1 << 0,
	/**
	 * Commits do not wait for the disk (SQLite's synchronous=NORMAL: a
	 * power loss may take the last commits back, and never corrupts the
	 * database): for a command that syncs the store's file system as it
	 * ends (kiln build: kiln_snapshot_settle()). Blobs are synced still.
	 */
	KILN_STORE_SYNC_LATER = 1 << 1,
};

/**
 * The default root: /var/lib/kiln for root, else $XDG_DATA_HOME/kiln, else
 * ~/.local/share/kiln. A fresh heap string in *ret.
 */
int kiln_store_default_root(char **ret, struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Open (creating if needed) the store at `root` (NULL = the default). Takes
 * the gc lock shared (waiting while a prune runs; ctx->cancel interrupts),
 * opens the database, and applies the store's schema migrations.
 */
int kiln_store_open(const struct kiln_ctx *ctx, const char *root, unsigned flags,
		    struct kiln_store **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
void kiln_store_close(struct kiln_store *st);
KILN_DEFINE_CLEANUP(struct kiln_store, kiln_store_close)

const char *kiln_store_root(const struct kiln_store *st);
const struct kiln_ctx *kiln_store_ctx(const struct kiln_store *st);
/** "<root>/<rel>" in a fresh heap string (NULL on allocation failure). */
char *kiln_store_path(const struct kiln_store *st, const char *rel)
	__attribute__((warn_unused_result));

/* ---- Database access for other modules ---------------------------------- */

/** The SQLite handle (foreign keys on, busy timeout set). Owned by the store. */
struct sqlite3 *kiln_store_db(struct kiln_store *st);

/**
 * One step of a module's schema. Versions start at 1 and increase by one;
 * a released step is never edited, only followed by new ones.
 */
struct kiln_store_migration {
	int version;
	const char *sql; /* one or more statements */
};

/**
 * Bring the tables of `owner` (a module name: "snapshot", "build-cache")
 * to the last version in `steps`: in one IMMEDIATE transaction, run every
 * step newer than the version recorded for `owner` and record the new one.
 * Safe when several processes do it at once. A database newer than `steps`
 * (a later kiln wrote it) fails with -KILN_EUNSUPP.
 */
int kiln_store_migrate(struct kiln_store *st, const char *owner,
		       const struct kiln_store_migration *steps, size_t n_steps,
		       struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Transactions: begin takes the write lock at once (BEGIN IMMEDIATE) so that
 * a transaction never fails half-way because another process wrote first.
 * They nest: an inner begin/commit joins the outer transaction (store calls
 * such as kiln_store_image_add() can run inside a caller's transaction), an
 * inner rollback dooms the outer one. rollback is safe without a transaction.
 */
int kiln_store_tx_begin(struct kiln_store *st, struct kiln_error *err)
	__attribute__((warn_unused_result));
int kiln_store_tx_commit(struct kiln_store *st, struct kiln_error *err)
	__attribute__((warn_unused_result));
void kiln_store_tx_rollback(struct kiln_store *st);
/** Run SQL without results (statements separated by ';'). */
int kiln_store_exec(struct kiln_store *st, const char *sql, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Fill `err` from the database's last error: "<what>: <sqlite message>". */
int kiln_store_db_fail(struct kiln_store *st, struct kiln_error *err, const char *what);

/* ---- Garbage-collection roots ------------------------------------------- */

/**
 * Register (or replace) the query through which `owner` tells prune which
 * blobs its tables reference: a SELECT returning one column of
 * "sha256:<hex>" strings. Run by prune and fsck; typically set from the
 * owner's migration step. Example:
 *   kiln_store_gc_root_set(st, "build-cache", "SELECT layer FROM build_cache", err)
 */
int kiln_store_gc_root_set(struct kiln_store *st, const char *owner, const char *select_sql,
			   struct kiln_error *err) __attribute__((warn_unused_result));
/**
 * An owner whose name ends in this suffix ("build" + ":cache") registers a
 * cache, not a reference: its blobs are kept by a prune given
 * KILN_STORE_PRUNE_KEEP_CACHES (the one `kiln rmi` runs) and freed by any
 * other (`kiln prune`); fsck neither counts them as references nor requires
 * them to be present.
 */
#define KILN_STORE_GC_CACHE_SUFFIX ":cache"
/** Pin a blob for `owner` (kept by prune until unpinned); idempotent. */
int kiln_store_pin(struct kiln_store *st, const char *owner, const struct kiln_digest *blob,
		   struct kiln_error *err) __attribute__((warn_unused_result));
int kiln_store_unpin(struct kiln_store *st, const char *owner, const struct kiln_digest *blob,
		     struct kiln_error *err) __attribute__((warn_unused_result));

/* ---- Maintenance ---------------------------------------------------------- */

/** One problem fsck found. */
struct kiln_store_problem {
	char *what;   /* "blob sha256:... is corrupt: content hashes to sha256:..." */
	char *object; /* the blob, image or name concerned */
};
struct kiln_store_fsck_report {
	struct kiln_store_problem *problems;
	size_t n_problems;
	size_t blobs_checked;
	int64_t bytes_checked;
	size_t images_checked;
	size_t names_checked;
	size_t unreferenced_blobs; /* prunable, not a problem */
	size_t temp_files;         /* left by interrupted writes, not a problem */
};
void kiln_store_fsck_report_release(struct kiln_store_fsck_report *r);

enum kiln_store_fsck_flags {
	KILN_STORE_FSCK_QUICK = 1 << 0, /* sizes only, do not re-hash blobs */
};

/**
 * Check the store: every blob hashes to its name, the database passes
 * SQLite's integrity check, every name points at an image, every image's
 * manifest, config and layers are present and parse, every pinned or
 * gc-root blob is present. Returns 0 when it could check (problems are in
 * the report), < 0 when it could not run.
 */
int kiln_store_fsck(struct kiln_store *st, unsigned flags, struct kiln_store_fsck_report *ret,
		    struct kiln_error *err) __attribute__((warn_unused_result));

struct kiln_store_prune_report {
	size_t images_removed; /* KILN_STORE_PRUNE_DANGLING: images without a name */
	size_t blobs_removed;
	int64_t bytes_freed; /* blob and temp-file bytes removed */
	size_t temp_removed;
	size_t blobs_kept;
};

enum kiln_store_prune_flags {
	KILN_STORE_PRUNE_DRY_RUN = 1 << 0,     /* report what would go */
	KILN_STORE_PRUNE_DANGLING = 1 << 1,    /* also remove images without a name */
	KILN_STORE_PRUNE_NOWAIT = 1 << 2,      /* -KILN_EBUSY instead of waiting for the lock */
	KILN_STORE_PRUNE_KEEP_CACHES = 1 << 3, /* keep what cache gc roots name (see above) */
};

/**
 * Remove every blob no image, pin or gc-root query references, and every
 * temp file. Takes the gc lock exclusively (waits for other writers to
 * close their stores; ctx->cancel interrupts).
 */
int kiln_store_prune(struct kiln_store *st, unsigned flags, struct kiln_store_prune_report *ret,
		     struct kiln_error *err) __attribute__((warn_unused_result));
