/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/base.h"
#include "store/archive.h"
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
/** Pin a blob for `owner` (kept by prune until unpinned); idempotent. */
int kiln_store_pin(struct kiln_store *st, const char *owner, const struct kiln_digest *blob,
		   struct kiln_error *err) __attribute__((warn_unused_result));
int kiln_store_unpin(struct kiln_store *st, const char *owner, const struct kiln_digest *blob,
		     struct kiln_error *err) __attribute__((warn_unused_result));

/* ---- Blobs ---------------------------------------------------------------- */

/**
 * A blob being written: data goes to a temp file under tmp/ and through
 * SHA-256; commit checks size and digest against what was expected, syncs,
 * and renames the file to blobs/sha256/<hex>. Nothing is visible before
 * commit; freeing an uncommitted writer deletes the temp file. If the blob
 * already exists, commit just drops the temp file (concurrent writers of one
 * blob both succeed).
 */
struct kiln_blob_writer;

/**
 * `expected` (may be NULL) and `expected_size` (-1 = unknown) are checked:
 * a write past the expected size fails at once with -KILN_EDIGEST, a wrong
 * digest or short size at commit.
 */
int kiln_store_blob_writer_new(struct kiln_store *st, const struct kiln_digest *expected,
			       int64_t expected_size, struct kiln_blob_writer **ret,
			       struct kiln_error *err) __attribute__((warn_unused_result));
int kiln_blob_writer_write(struct kiln_blob_writer *w, const void *data, size_t len,
			   struct kiln_error *err) __attribute__((warn_unused_result));
/** Copy everything from `fd` (until EOF) into the blob. */
int kiln_blob_writer_write_fd(struct kiln_blob_writer *w, int fd, struct kiln_error *err)
	__attribute__((warn_unused_result));
/**
 * The temp file, for reading the content back before commit (pread, or
 * lseek + read: e.g. to check a layer's diff_id). Do not write to it.
 */
int kiln_blob_writer_fd(const struct kiln_blob_writer *w);
/**
 * The temp file, for a producer that writes to an fd itself (the layer
 * writer). Bytes written there are not seen on the way, so commit hashes
 * the whole file from its start instead; kiln_blob_writer_write() may not
 * be mixed with it.
 */
int kiln_blob_writer_external_fd(struct kiln_blob_writer *w);
/** Bytes written so far (a resumed download continues from here). */
int64_t kiln_blob_writer_size(const struct kiln_blob_writer *w);
/**
 * Verify and publish. ret_digest/ret_size may be NULL. After commit, only
 * kiln_blob_writer_free() is allowed (also after a failed commit, which
 * leaves nothing behind).
 */
int kiln_blob_writer_commit(struct kiln_blob_writer *w, struct kiln_digest *ret_digest,
			    int64_t *ret_size, struct kiln_error *err)
	__attribute__((warn_unused_result));
void kiln_blob_writer_free(struct kiln_blob_writer *w);
KILN_DEFINE_CLEANUP(struct kiln_blob_writer, kiln_blob_writer_free)

/** Write a blob from memory (verified against `expected` when non-NULL). */
int kiln_store_blob_put(struct kiln_store *st, const void *data, size_t len,
			const struct kiln_digest *expected, struct kiln_digest *ret_digest,
			struct kiln_error *err) __attribute__((warn_unused_result));

/** 1 if the blob is present (size in *ret_size when non-NULL), 0 if not, < 0 on error. */
int kiln_store_blob_has(struct kiln_store *st, const struct kiln_digest *d, int64_t *ret_size,
			struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Read a whole blob into memory, verifying its digest (-KILN_EDIGEST on a
 * mismatch). Larger than `limit` → -KILN_ELIMIT; absent → -KILN_ENOTFOUND.
 * The buffer is NUL-terminated (not counted in *ret_len).
 */
int kiln_store_blob_read(struct kiln_store *st, const struct kiln_digest *d, size_t limit,
			 char **ret_data, size_t *ret_len, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * A streaming reader that verifies the digest: the read that reaches the end
 * fails with -KILN_EDIGEST if the content does not match (so a consumer that
 * reads to EOF never accepts bad data silently).
 */
struct kiln_blob_reader;
int kiln_store_blob_reader_new(struct kiln_store *st, const struct kiln_digest *d,
			       struct kiln_blob_reader **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Read up to `len` bytes; *ret_n == 0 means end of blob (verified). */
int kiln_blob_reader_read(struct kiln_blob_reader *r, void *buf, size_t len, size_t *ret_n,
			  struct kiln_error *err) __attribute__((warn_unused_result));
int64_t kiln_blob_reader_size(const struct kiln_blob_reader *r);
void kiln_blob_reader_free(struct kiln_blob_reader *r);
KILN_DEFINE_CLEANUP(struct kiln_blob_reader, kiln_blob_reader_free)

/**
 * Open a blob read-only without verification (O_CLOEXEC fd in *ret_fd), for
 * consumers that hash it themselves (layer unpacking checks the diff_id).
 */
int kiln_store_blob_open(struct kiln_store *st, const struct kiln_digest *d, int *ret_fd,
			 int64_t *ret_size, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Path of a blob's file (it may not exist), heap string. */
int kiln_store_blob_path(struct kiln_store *st, const struct kiln_digest *d, char **ret,
			 struct kiln_error *err) __attribute__((warn_unused_result));

/* ---- Images and names --------------------------------------------------- */

/**
 * An image: a single-platform manifest whose config and layers are all in
 * the store. Identified by its manifest digest; its image id (as docker
 * and podman show it) is the config digest.
 */
struct kiln_store_image {
	struct kiln_digest manifest;
	char *media_type; /* of the manifest */
	struct kiln_digest config;
	int64_t size;    /* bytes of config + layer blobs */
	char *created;   /* from the config, RFC 3339; NULL when absent */
	int64_t created_unix;
	struct kiln_oci_platform platform;
	int64_t added_unix;       /* when the store recorded it */
	struct kiln_strv names;   /* "docker.io/library/busybox:latest", sorted */
	struct kiln_strv digests; /* "docker.io/library/busybox@sha256:...", sorted */
};
void kiln_store_image_free(struct kiln_store_image *img);
KILN_DEFINE_CLEANUP(struct kiln_store_image, kiln_store_image_free)

struct kiln_store_image_list {
	struct kiln_store_image **items;
	size_t len;
};
void kiln_store_image_list_release(struct kiln_store_image_list *l);

/**
 * Record the image whose manifest blob `manifest` is in the store. Parses
 * the manifest (it must be a single-platform manifest, not an index) and the
 * config, checks that the config and every layer blob are present, and in
 * one transaction inserts the record (idempotent) and points each of
 * `names` (canonical "domain/path:tag" references, may be NULL/0) at it,
 * moving a name away from another image if needed.
 */
int kiln_store_image_add(struct kiln_store *st, const struct kiln_digest *manifest,
			 const char *const *names, size_t n_names, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Remember that `repo` ("docker.io/library/busybox") knows the image as
 * `digest` (the digest it was pulled by: the manifest's own, or an index
 * that points at it). Shown as RepoDigests; resolvable as repo@digest.
 */
int kiln_store_repo_digest_add(struct kiln_store *st, const char *repo,
			       const struct kiln_digest *digest,
			       const struct kiln_digest *manifest, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** Point canonical `name` ("domain/path:tag") at an image. */
int kiln_store_tag(struct kiln_store *st, const struct kiln_digest *manifest, const char *name,
		   struct kiln_error *err) __attribute__((warn_unused_result));
/** Remove a name; -KILN_ENOTFOUND when absent. */
int kiln_store_untag(struct kiln_store *st, const char *name, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** The manifest a canonical name points at; -KILN_ENOTFOUND when absent. */
int kiln_store_name_get(struct kiln_store *st, const char *name, struct kiln_digest *ret_manifest,
			struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Resolve what a user typed to an image: a reference ("busybox",
 * "host:5000/x:1", "repo@sha256:..."; normalized as docker does), a full
 * "sha256:<hex>" manifest or config digest, or an image-id prefix (at least
 * 3 hex digits; ambiguous prefixes fail with -KILN_EINVAL). A name wins over
 * an id prefix, as in docker. -KILN_ENOTFOUND when nothing matches.
 */
int kiln_store_resolve(struct kiln_store *st, const char *spec, struct kiln_digest *ret_manifest,
		       struct kiln_error *err) __attribute__((warn_unused_result));

int kiln_store_image_get(struct kiln_store *st, const struct kiln_digest *manifest,
			 struct kiln_store_image **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Every image, newest first (then by manifest digest). */
int kiln_store_image_list(struct kiln_store *st, struct kiln_store_image_list *ret,
			  struct kiln_error *err) __attribute__((warn_unused_result));
/** Read and parse an image's manifest / config (verified). */
int kiln_store_manifest_read(struct kiln_store *st, const struct kiln_digest *manifest,
			     struct kiln_oci_manifest **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
int kiln_store_config_read(struct kiln_store *st, const struct kiln_digest *config,
			   struct kiln_oci_config **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Delete an image record and its names (blobs stay until prune). Returns
 * -KILN_ENOTFOUND when there is no such image.
 */
int kiln_store_image_remove(struct kiln_store *st, const struct kiln_digest *manifest,
			    struct kiln_error *err) __attribute__((warn_unused_result));

enum kiln_store_rmi_flags {
	/** Remove an image named in several repositories when given by id. */
	KILN_STORE_RMI_FORCE = 1 << 0,
};

struct kiln_store_rmi_result {
	struct kiln_strv untagged; /* canonical names removed */
	int deleted;               /* the image record went too */
	struct kiln_digest manifest;
	struct kiln_digest config;
};
void kiln_store_rmi_result_release(struct kiln_store_rmi_result *r);

/**
 * `kiln rmi` with docker's rules, in one transaction: a name ("busybox")
 * removes that name, and the image when it was its last one; an id or
 * digest removes every name and the image, but refuses (-KILN_EBUSY) an
 * image named in more than one repository unless KILN_STORE_RMI_FORCE.
 * Blobs are left for prune.
 */
int kiln_store_rmi(struct kiln_store *st, const char *spec, unsigned flags,
		   struct kiln_store_rmi_result *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * A docker-inspect-like JSON object for an image (4-space indented): Id,
 * RepoTags, RepoDigests, Created, Author, Config (the config's `config`
 * as stored), Architecture, Variant, Os, Size, RootFS, History, plus the
 * manifest (Digest, MediaType, Manifest).
 */
int kiln_store_inspect(struct kiln_store *st, const struct kiln_digest *manifest, char **ret,
		       size_t *ret_len, struct kiln_error *err) __attribute__((warn_unused_result));

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
	size_t blobs_removed;
	int64_t bytes_freed; /* blob and temp-file bytes removed */
	size_t temp_removed;
	size_t blobs_kept;
};

enum kiln_store_prune_flags {
	KILN_STORE_PRUNE_DRY_RUN = 1 << 0,  /* report what would go */
	KILN_STORE_PRUNE_DANGLING = 1 << 1, /* also remove images without a name */
	KILN_STORE_PRUNE_NOWAIT = 1 << 2,   /* -KILN_EBUSY instead of waiting for the lock */
};

/**
 * Remove every blob no image, pin or gc-root query references, and every
 * temp file. Takes the gc lock exclusively (waits for other writers to
 * close their stores; ctx->cancel interrupts).
 */
int kiln_store_prune(struct kiln_store *st, unsigned flags, struct kiln_store_prune_report *ret,
		     struct kiln_error *err) __attribute__((warn_unused_result));
