/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/types.h>

#include "error.h"

/**
 * A file the user named for output (`-o FILE`, `--iidfile`, an archive's
 * dest). A regular file, or a name not there yet, is written through a
 * temporary file beside it and renamed into place on commit, so a failed
 * command leaves what was there. A symbolic link is followed: the file it
 * names is the one replaced, the link stays. Anything else (a character
 * device such as /dev/null or a terminal, a fifo) is opened and written
 * directly, as docker and tar write to it; never replaced.
 */
struct kiln_output_file {
	int fd;
	char *tmp;  /* the temporary file; NULL when written directly */
	char *path; /* where it lands */
};

#define KILN_OUTPUT_FILE_INIT { .fd = -1 }

int kiln_output_open(const char *path, mode_t mode, struct kiln_output_file *ret,
		     struct kiln_error *err) __attribute__((warn_unused_result));
/** Flush it and put it in place (fsync and rename; nothing to rename when
 *  written directly), then close it. Released either way. */
int kiln_output_commit(struct kiln_output_file *f, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Give up: remove the temporary file, close. Safe on a committed or unopened one. */
void kiln_output_abort(struct kiln_output_file *f);

/** kiln_output_open, write `data`, commit. */
int kiln_output_write(const char *path, const void *data, size_t len, mode_t mode,
		      struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * A directory the user named for output (`-o type=local,dest=DIR`, an OCI
 * layout). One that is not there yet is made under a temporary name beside
 * it and renamed into place on commit, so a failed command leaves no half
 * a tree; one that exists is written into, as BuildKit writes into it.
 */
struct kiln_output_dir {
	char *path; /* where it lands */
	char *tmp;  /* the temporary directory; NULL when writing in place */
};

/** Write into `kiln_output_dir_at(d)`. */
int kiln_output_dir_open(const char *path, struct kiln_output_dir *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
static inline const char *kiln_output_dir_at(const struct kiln_output_dir *d)
{
	return d->tmp ? d->tmp : d->path;
}
int kiln_output_dir_commit(struct kiln_output_dir *d, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Give up: remove the temporary directory. Safe after a commit. */
void kiln_output_dir_abort(struct kiln_output_dir *d);
