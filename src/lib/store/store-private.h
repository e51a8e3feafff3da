/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Internals shared by the store's own files; not for other modules. */
#include <sqlite3.h>

#include "store/store.h"

struct kiln_store {
	const struct kiln_ctx *ctx;
	char *root;
	int root_fd;    /* O_PATH|O_DIRECTORY of the root */
	int blobs_fd;   /* blobs/sha256 */
	int tmp_fd;     /* tmp */
	int lock_fd;    /* gc.lock */
	int lock_held;  /* 0 none, 1 shared, 2 exclusive */
	sqlite3 *db;
	int tx_depth;   /* nesting of kiln_store_tx_begin */
	int tx_doomed;  /* an inner level rolled back */
	/* schema_versions as read once without a write transaction: a store
	 * whose tables are current needs no write lock to say so */
	struct store_version *versions;
	size_t n_versions;
	int versions_read;
};

struct store_version {
	char *owner;
	int64_t version;
};

KILN_DEFINE_CLEANUP(sqlite3_stmt, sqlite3_finalize)

/** Prepare `sql`; on failure fill err with "<sql error>". */
int store_prepare(struct kiln_store *st, const char *sql, sqlite3_stmt **ret,
		  struct kiln_error *err) __attribute__((warn_unused_result));
/** Step a statement that returns no rows (SQLITE_DONE), else fail with `what`. */
int store_step_done(struct kiln_store *st, sqlite3_stmt *s, const char *what,
		    struct kiln_error *err) __attribute__((warn_unused_result));
/** A text column as a fresh heap string ("" for NULL); NULL on allocation failure. */
char *store_column_strdup(sqlite3_stmt *s, int col);

/** Take / drop the gc lock: 1 shared, 2 exclusive. Honours ctx->cancel. */
int store_lock(struct kiln_store *st, int mode, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Like store_lock() but -KILN_EBUSY at once when another process holds it. */
int store_trylock(struct kiln_store *st, int mode, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** "sha256:<hex>" text to digest; -KILN_EPARSE if the database holds garbage. */
int store_digest_from_text(const char *s, struct kiln_digest *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * An anonymous read-write temp file in tmp/ (O_TMPFILE, else a named file
 * unlinked at once): scratch space that vanishes with the process.
 */
int store_anon_tmpfile(struct kiln_store *st, int *ret_fd, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** Hash an open fd from its start; ret_size gets the byte count. */
int store_hash_fd(const struct kiln_ctx *ctx, int fd, struct kiln_digest *ret, int64_t *ret_size,
		  struct kiln_error *err) __attribute__((warn_unused_result));
