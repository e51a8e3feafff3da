/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Blobs of the store (see store/store.h for the store itself). */
#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"
#include "base/digest.h"
#include "base/error.h"

struct kiln_store;

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
