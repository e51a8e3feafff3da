/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "error.h"

/** Whether an lstat is an overlayfs whiteout: a 0:0 character device. */
static inline int kiln_is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == 0;
}

/**
 * Read a whole file (at `dirfd`-relative `path`; AT_FDCWD for plain paths)
 * into a NUL-terminated heap buffer. Files larger than `limit` bytes fail with
 * -KILN_ELIMIT. A missing file fails with -KILN_ENOTFOUND.
 */
int kiln_read_file_at(int dirfd, const char *path, size_t limit, char **ret_data, size_t *ret_len,
		      struct kiln_error *err);
int kiln_read_file(const char *path, size_t limit, char **ret_data, size_t *ret_len,
		   struct kiln_error *err);
/** Read all of an fd (a pipe or stdin) with the same limit rules. */
int kiln_read_fd(int fd, size_t limit, char **ret_data, size_t *ret_len, struct kiln_error *err);

/**
 * Crash-safe write: temp file in the same directory, write, fsync, rename
 * over `path`, fsync the directory. Readers see the old or the new content,
 * never a mix.
 */
int kiln_write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len,
			      mode_t mode, struct kiln_error *err);
int kiln_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			   struct kiln_error *err);

/** write() all bytes, retrying on EINTR and short writes. 0 or -errno. */
int kiln_write_all(int fd, const void *data, size_t len);
/** pwrite() all bytes at `off`, retrying on EINTR and short writes. 0 or -errno. */
int kiln_pwrite_all(int fd, const void *data, size_t len, uint64_t off);

/** mkdir -p. Existing directories are fine. */
int kiln_mkdir_p(const char *path, mode_t mode, struct kiln_error *err);

/** rm -rf of a path (no error when it is absent). Does not cross mount points. */
int kiln_rm_rf(const char *path, struct kiln_error *err);

/** fsync a directory by path. */
int kiln_fsync_dir(const char *path, struct kiln_error *err);

/**
 * llistxattr(2) of `name` in directory `dirfd`, not following a symlink:
 * listxattrat(2) where the kernel has it (Linux 6.13), else through
 * "/proc/self/fd/<dirfd>/<name>", a longer walk.
 */
ssize_t kiln_listxattrat(int dirfd, const char *name, char *buf, size_t len);
