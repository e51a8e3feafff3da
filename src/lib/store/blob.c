/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Content-addressed blobs. A blob is written to an anonymous file in tmp/
 * (O_TMPFILE; a named temp file where the filesystem lacks it), hashed on
 * the way in, synced, and linked to blobs/sha256/<hex> only once its digest
 * and size checked out. A crash before that leaves at most a temp file that
 * prune removes; a crash after it leaves a complete, verified blob.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store-private.h"

#define COPY_CHUNK ((size_t)256 << 10)
#define WRITEBACK_CHUNK ((int64_t)4 << 20)

struct kiln_blob_writer {
	struct kiln_store *st;
	struct kiln_sha256 *h;
	int fd;
	char *tmp_name; /* NULL when the file is anonymous (O_TMPFILE) */
	int64_t size;
	int64_t flushed; /* bytes handed to writeback before the commit's fsync */
	int64_t expected_size;
	struct kiln_digest expected;
	int has_expected;
	int external; /* written through kiln_blob_writer_external_fd() */
	int done;     /* committed or failed: only free is allowed */
};

static int make_temp(struct kiln_store *st, int *ret_fd, char **ret_name, struct kiln_error *err)
{
	int fd = openat(st->tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0) {
		*ret_fd = fd;
		*ret_name = NULL;
		return 0;
	}
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL && errno != ENOENT)
		return kiln_fail_errno(err, "creating a temp file in %s/tmp", st->root);
	for (int tries = 0; tries < 16; tries++) {
		uint64_t rnd = 0;
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint64_t)getpid() * 2654435761u + (uint64_t)tries;
		char *name = kiln_asprintf("blob-%016llx.%ld", (unsigned long long)rnd,
					   (long)getpid());
		if (!name)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		fd = openat(st->tmp_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			    0600);
		if (fd >= 0) {
			*ret_fd = fd;
			*ret_name = name;
			return 0;
		}
		int e = errno;
		free(name);
		if (e != EEXIST)
			return kiln_fail(err, KILN_EIO, e, "creating a temp file in %s/tmp",
					 st->root);
	}
	return kiln_fail(err, KILN_EIO, EEXIST, "creating a temp file in %s/tmp", st->root);
}

int store_anon_tmpfile(struct kiln_store *st, int *ret_fd, struct kiln_error *err)
{
	cleanup_free char *name = NULL;
	int r = make_temp(st, ret_fd, &name, err);
	if (r < 0)
		return r;
	if (name && unlinkat(st->tmp_fd, name, 0) < 0) {
		int e = errno;
		(void)close(*ret_fd);
		*ret_fd = -1;
		return kiln_fail(err, KILN_EIO, e, "removing %s/tmp/%s", st->root, name);
	}
	return 0;
}

int kiln_store_blob_writer_new(struct kiln_store *st, const struct kiln_digest *expected,
			       int64_t expected_size, struct kiln_blob_writer **ret,
			       struct kiln_error *err)
{
	cleanup(kiln_blob_writer_freep) struct kiln_blob_writer *w = kiln_calloc(1, sizeof(*w));
	if (!w)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	w->st = st;
	w->fd = -1;
	w->expected_size = expected_size;
	/* a writer must keep prune away until its blob is referenced */
	int r = store_lock(st, st->lock_held ? st->lock_held : 1, err);
	if (r < 0)
		return r;
	if (expected) {
		w->expected = *expected;
		w->has_expected = 1;
	}
	r = kiln_sha256_new(&w->h, err);
	if (r < 0)
		return r;
	r = make_temp(st, &w->fd, &w->tmp_name, err);
	if (r < 0)
		return r;
	*ret = steal_ptr(&w);
	return 0;
}

static const char *what(const struct kiln_blob_writer *w)
{
	return w->has_expected ? w->expected.str : "blob";
}

int kiln_blob_writer_write(struct kiln_blob_writer *w, const void *data, size_t len,
			   struct kiln_error *err)
{
	if (w->done || w->external)
		return kiln_fail(err, KILN_EINTERNAL, 0, "write to a finished blob writer");
	if (len > (size_t)INT64_MAX - (size_t)w->size)
		return kiln_fail(err, KILN_ELIMIT, 0, "blob too large");
	if (w->expected_size >= 0 && w->size + (int64_t)len > w->expected_size) {
		w->done = 1;
		return kiln_fail(err, KILN_EDIGEST, 0,
				 "%s is larger than the %lld bytes it should have", what(w),
				 (long long)w->expected_size);
	}
	if (kiln_cancelled(w->st->ctx))
		return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
	int r = kiln_write_all(w->fd, data, len);
	if (r < 0) {
		w->done = 1;
		return kiln_fail(err, KILN_EIO, -r, "writing %s to %s/tmp", what(w), w->st->root);
	}
	kiln_sha256_update(w->h, data, len);
	w->size += (int64_t)len;
	/* start writing back what has come so far: the fsync at the commit then
	 * waits for the tail only, not for the whole blob after the last byte */
	if (w->size - w->flushed >= WRITEBACK_CHUNK) {
		(void)sync_file_range(w->fd, w->flushed, w->size - w->flushed,
				      SYNC_FILE_RANGE_WRITE);
		w->flushed = w->size;
	}
	return 0;
}

int kiln_blob_writer_write_fd(struct kiln_blob_writer *w, int fd, struct kiln_error *err)
{
	cleanup_free char *buf = kiln_malloc(COPY_CHUNK);
	if (!buf)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (;;) {
		ssize_t n = read(fd, buf, COPY_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return kiln_fail_errno(err, "reading");
		}
		if (n == 0)
			return 0;
		int r = kiln_blob_writer_write(w, buf, (size_t)n, err);
		if (r < 0)
			return r;
	}
}

int kiln_blob_writer_fd(const struct kiln_blob_writer *w)
{
	return w->fd;
}

int kiln_blob_writer_external_fd(struct kiln_blob_writer *w)
{
	w->external = 1;
	return w->fd;
}

int64_t kiln_blob_writer_size(const struct kiln_blob_writer *w)
{
	return w->size;
}

static int fsync_fd_dir(int dirfd)
{
	if (fsync(dirfd) < 0 && errno != EINVAL)
		return -errno;
	return 0;
}

/* Link the verified temp file at its final name; an existing blob is kept. */
static int publish(struct kiln_blob_writer *w, const struct kiln_digest *d,
		   struct kiln_error *err)
{
	struct kiln_store *st = w->st;
	if (w->tmp_name) {
		if (renameat(st->tmp_fd, w->tmp_name, st->blobs_fd, d->hex) < 0)
			return kiln_fail_errno(err, "storing blob %s", d->str);
		free(w->tmp_name);
		w->tmp_name = NULL;
	} else {
		char proc[64];
		(void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
		int rc = linkat(AT_FDCWD, proc, st->blobs_fd, d->hex, AT_SYMLINK_FOLLOW);
		if (rc < 0 && errno == ENOENT) /* no /proc: needs CAP_DAC_READ_SEARCH */
			rc = linkat(w->fd, "", st->blobs_fd, d->hex, AT_EMPTY_PATH);
		if (rc < 0 && errno != EEXIST)
			return kiln_fail_errno(err, "storing blob %s", d->str);
	}
	int r = fsync_fd_dir(st->blobs_fd);
	if (r < 0)
		return kiln_fail(err, KILN_EIO, -r, "syncing %s/blobs/sha256", st->root);
	return 0;
}

int kiln_blob_writer_commit(struct kiln_blob_writer *w, struct kiln_digest *ret_digest,
			    int64_t *ret_size, struct kiln_error *err)
{
	if (w->done)
		return kiln_fail(err, KILN_EINTERNAL, 0, "commit of a finished blob writer");
	w->done = 1;
	struct kiln_digest d;
	if (w->external) {
		int r = store_hash_fd(w->st->ctx, w->fd, &d, &w->size, err);
		if (r < 0)
			return kiln_error_prefix(err, r, "hashing a new blob");
	} else {
		kiln_sha256_final(w->h, &d);
	}
	if (w->expected_size >= 0 && w->size != w->expected_size)
		return kiln_fail(err, KILN_EDIGEST, 0,
				 "%s is truncated: got %lld of %lld bytes", what(w),
				 (long long)w->size, (long long)w->expected_size);
	if (w->has_expected && !kiln_digest_equal(&d, &w->expected))
		return kiln_fail(err, KILN_EDIGEST, 0,
				 "content does not match its digest: expected %s, got %s",
				 w->expected.str, d.str);
	if (fchmod(w->fd, 0444) < 0 || fsync(w->fd) < 0)
		return kiln_fail_errno(err, "syncing blob %s", d.str);
	int r = publish(w, &d, err);
	if (r < 0)
		return r;
	kiln_debug(w->st->ctx, "store: blob %s (%lld bytes) stored", d.str, (long long)w->size);
	if (ret_digest)
		*ret_digest = d;
	if (ret_size)
		*ret_size = w->size;
	return 0;
}

void kiln_blob_writer_free(struct kiln_blob_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		(void)close(w->fd);
	if (w->tmp_name)
		(void)unlinkat(w->st->tmp_fd, w->tmp_name, 0);
	free(w->tmp_name);
	kiln_sha256_free(w->h);
	free(w);
}

int kiln_store_blob_put(struct kiln_store *st, const void *data, size_t len,
			const struct kiln_digest *expected, struct kiln_digest *ret_digest,
			struct kiln_error *err)
{
	struct kiln_digest d;
	int r = kiln_sha256_buf(data, len, &d, err);
	if (r < 0)
		return r;
	if (expected && !kiln_digest_equal(expected, &d))
		return kiln_fail(err, KILN_EDIGEST, 0,
				 "content does not match its digest: expected %s, got %s",
				 expected->str, d.str);
	if (ret_digest)
		*ret_digest = d;
	int64_t have = -1;
	r = kiln_store_blob_has(st, &d, &have, err);
	if (r < 0)
		return r;
	if (r > 0 && have == (int64_t)len)
		return 0;
	cleanup(kiln_blob_writer_freep) struct kiln_blob_writer *w = NULL;
	if ((r = kiln_store_blob_writer_new(st, &d, (int64_t)len, &w, err)) < 0 ||
	    (r = kiln_blob_writer_write(w, data, len, err)) < 0 ||
	    (r = kiln_blob_writer_commit(w, NULL, NULL, err)) < 0)
		return r;
	return 0;
}

int kiln_store_blob_has(struct kiln_store *st, const struct kiln_digest *d, int64_t *ret_size,
			struct kiln_error *err)
{
	struct stat s;
	if (fstatat(st->blobs_fd, d->hex, &s, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return kiln_fail_errno(err, "looking up blob %s", d->str);
	}
	if (!S_ISREG(s.st_mode))
		return kiln_fail(err, KILN_EIO, 0, "blob %s is not a regular file", d->str);
	if (ret_size)
		*ret_size = (int64_t)s.st_size;
	return 1;
}

int kiln_store_blob_open(struct kiln_store *st, const struct kiln_digest *d, int *ret_fd,
			 int64_t *ret_size, struct kiln_error *err)
{
	int fd = openat(st->blobs_fd, d->hex, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int e = errno;
		return kiln_fail(err, e == ENOENT ? KILN_ENOTFOUND : KILN_EIO, e,
				 "blob %s is not in the store", d->str);
	}
	struct stat s;
	if (fstat(fd, &s) < 0 || !S_ISREG(s.st_mode)) {
		(void)close(fd);
		return kiln_fail(err, KILN_EIO, 0, "blob %s is not a regular file", d->str);
	}
	*ret_fd = fd;
	if (ret_size)
		*ret_size = (int64_t)s.st_size;
	return 0;
}

int kiln_store_blob_path(struct kiln_store *st, const struct kiln_digest *d, char **ret,
			 struct kiln_error *err)
{
	char *p = kiln_asprintf("%s/blobs/sha256/%s", st->root, d->hex);
	if (!p)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	*ret = p;
	return 0;
}

int store_hash_fd(const struct kiln_ctx *ctx, int fd, struct kiln_digest *ret, int64_t *ret_size,
		  struct kiln_error *err)
{
	cleanup_free char *buf = kiln_malloc(COPY_CHUNK);
	struct kiln_sha256 *h = NULL;
	if (!buf)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int r = kiln_sha256_new(&h, err);
	if (r < 0)
		return r;
	int64_t total = 0;
	off_t off = 0;
	for (;;) {
		if (kiln_cancelled(ctx)) {
			kiln_sha256_free(h);
			return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
		}
		ssize_t n = pread(fd, buf, COPY_CHUNK, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			kiln_sha256_free(h);
			return kiln_fail(err, KILN_EIO, e, "reading");
		}
		if (n == 0)
			break;
		kiln_sha256_update(h, buf, (size_t)n);
		off += n;
		total += n;
	}
	kiln_sha256_final(h, ret);
	kiln_sha256_free(h);
	if (ret_size)
		*ret_size = total;
	return 0;
}

int kiln_store_blob_read(struct kiln_store *st, const struct kiln_digest *d, size_t limit,
			 char **ret_data, size_t *ret_len, struct kiln_error *err)
{
	cleanup_free char *data = NULL;
	size_t len = 0;
	int r = kiln_read_file_at(st->blobs_fd, d->hex, limit, &data, &len, err);
	if (r == -KILN_ENOTFOUND)
		return kiln_fail(err, KILN_ENOTFOUND, ENOENT, "blob %s is not in the store", d->str);
	if (r < 0)
		return kiln_error_prefix(err, r, "reading blob %s", d->str);
	struct kiln_digest got;
	if ((r = kiln_sha256_buf(data, len, &got, err)) < 0)
		return r;
	if (!kiln_digest_equal(&got, d))
		return kiln_fail(err, KILN_EDIGEST, 0,
				 "blob %s is corrupt: its content hashes to %s (run kiln fsck)",
				 d->str, got.str);
	*ret_data = steal_ptr(&data);
	if (ret_len)
		*ret_len = len;
	return 0;
}

/* ---- verifying reader ------------------------------------------------------ */

struct kiln_blob_reader {
	struct kiln_digest want;
	struct kiln_sha256 *h;
	int fd;
	int64_t size; /* from fstat at open */
	int64_t got;
	int eof;
};

int kiln_store_blob_reader_new(struct kiln_store *st, const struct kiln_digest *d,
			       struct kiln_blob_reader **ret, struct kiln_error *err)
{
	cleanup(kiln_blob_reader_freep) struct kiln_blob_reader *r = kiln_calloc(1, sizeof(*r));
	if (!r)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	r->fd = -1;
	r->want = *d;
	int q = kiln_sha256_new(&r->h, err);
	if (q < 0)
		return q;
	if ((q = kiln_store_blob_open(st, d, &r->fd, &r->size, err)) < 0)
		return q;
	*ret = steal_ptr(&r);
	return 0;
}

int kiln_blob_reader_read(struct kiln_blob_reader *r, void *buf, size_t len, size_t *ret_n,
			  struct kiln_error *err)
{
	*ret_n = 0;
	if (len == 0)
		return kiln_fail(err, KILN_EINVAL, 0, "blob read into an empty buffer");
	if (r->eof)
		return 0;
	for (;;) {
		ssize_t n = read(r->fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return kiln_fail_errno(err, "reading blob %s", r->want.str);
		}
		if (n > 0) {
			kiln_sha256_update(r->h, buf, (size_t)n);
			r->got += n;
			*ret_n = (size_t)n;
			if (r->got > r->size)
				return kiln_fail(err, KILN_EDIGEST, 0,
						 "blob %s grew while being read", r->want.str);
			return 0;
		}
		break;
	}
	r->eof = 1;
	struct kiln_digest d;
	kiln_sha256_final(r->h, &d);
	if (r->got != r->size || !kiln_digest_equal(&d, &r->want))
		return kiln_fail(err, KILN_EDIGEST, 0,
				 "blob %s is corrupt: its content hashes to %s (run kiln fsck)",
				 r->want.str, d.str);
	return 0;
}

int64_t kiln_blob_reader_size(const struct kiln_blob_reader *r)
{
	return r->size;
}

void kiln_blob_reader_free(struct kiln_blob_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		(void)close(r->fd);
	kiln_sha256_free(r->h);
	free(r);
}
