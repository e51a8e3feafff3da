/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output files the user names. Replacing them through a rename keeps a
 * failed write from leaving half a file, but a rename over /dev/null, a fifo
 * or the link /dev/stdout would replace the device or the link itself (as
 * root, for the whole machine): those are written in place.
 */
#include "base/output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fs.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

int kiln_output_open(const char *path, mode_t mode, struct kiln_output_file *ret,
		     struct kiln_error *err)
{
	*ret = (struct kiln_output_file) KILN_OUTPUT_FILE_INIT;
	struct stat st;
	int exists = stat(path, &st) == 0;
	if (exists && S_ISDIR(st.st_mode))
		return kiln_fail(err, KILN_EINVAL, EISDIR, "%s is a directory", path);
	if (exists && !S_ISREG(st.st_mode)) {
		ret->fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (ret->fd < 0)
			return kiln_fail_errno(err, "opening %s", path);
		if (!(ret->path = kiln_strdup(path))) {
			kiln_output_abort(ret);
			return oom(err);
		}
		return 0;
	}
	/* a link to a file: replace the file it names */
	char *real = exists ? realpath(path, NULL) : NULL;
	ret->path = real ? kiln_strdup(real) : kiln_strdup(path);
	free(real);
	if (!ret->path || !(ret->tmp = kiln_asprintf("%s.tmp-XXXXXX", ret->path))) {
		kiln_output_abort(ret);
		return oom(err);
	}
	ret->fd = mkostemp(ret->tmp, O_CLOEXEC);
	if (ret->fd < 0) {
		int r = kiln_fail_errno(err, "creating %s", ret->tmp);
		free(ret->tmp);
		ret->tmp = NULL;
		kiln_output_abort(ret);
		return r;
	}
	(void) fchmod(ret->fd, mode);
	return 0;
}

int kiln_output_commit(struct kiln_output_file *f, struct kiln_error *err)
{
	int r = 0;
	if (f->tmp && fsync(f->fd) < 0)
		r = kiln_fail_errno(err, "writing %s", f->path);
	if (close(f->fd) < 0 && r >= 0 && errno != EINTR)
		r = kiln_fail_errno(err, "writing %s", f->path);
	f->fd = -1;
	if (r >= 0 && f->tmp && rename(f->tmp, f->path) < 0)
		r = kiln_fail_errno(err, "renaming %s to %s", f->tmp, f->path);
	if (r >= 0) {
		free(f->tmp);
		f->tmp = NULL;
	}
	kiln_output_abort(f);
	return r;
}

void kiln_output_abort(struct kiln_output_file *f)
{
	if (f->fd >= 0)
		(void) close(f->fd);
	if (f->tmp)
		(void) unlink(f->tmp);
	free(f->tmp);
	free(f->path);
	*f = (struct kiln_output_file) KILN_OUTPUT_FILE_INIT;
}

int kiln_output_write(const char *path, const void *data, size_t len, mode_t mode,
		      struct kiln_error *err)
{
	struct kiln_output_file f;
	int r = kiln_output_open(path, mode, &f, err);
	if (r < 0)
		return r;
	if ((r = kiln_write_all(f.fd, data, len)) < 0) {
		r = kiln_fail(err, KILN_EIO, -r, "writing %s", f.path);
		kiln_output_abort(&f);
		return r;
	}
	return kiln_output_commit(&f, err);
}

int kiln_output_dir_open(const char *path, struct kiln_output_dir *ret, struct kiln_error *err)
{
	*ret = (struct kiln_output_dir){ 0 };
	struct stat st;
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return kiln_fail(err, KILN_EINVAL, ENOTDIR, "%s is not a directory", path);
		return (ret->path = kiln_strdup(path)) ? 0 : oom(err);
	}
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	ret->path = kiln_strndup(path, n);
	cleanup_free char *parent = ret->path ? kiln_strdup(ret->path) : NULL;
	if (!parent) {
		kiln_output_dir_abort(ret);
		return oom(err);
	}
	char *slash = strrchr(parent, '/');
	int r = 0;
	if (slash && slash != parent) {
		*slash = 0;
		r = kiln_mkdir_p(parent, 0755, err);
	}
	if (r >= 0 && !(ret->tmp = kiln_asprintf("%s.tmp-XXXXXX", ret->path)))
		r = oom(err);
	if (r >= 0 && !mkdtemp(ret->tmp)) {
		r = kiln_fail_errno(err, "creating %s", ret->tmp);
		free(ret->tmp);
		ret->tmp = NULL;
	}
	if (r >= 0 && chmod(ret->tmp, 0755) < 0)
		r = kiln_fail_errno(err, "creating %s", ret->tmp);
	if (r < 0)
		kiln_output_dir_abort(ret);
	return r;
}

int kiln_output_dir_commit(struct kiln_output_dir *d, struct kiln_error *err)
{
	if (d->tmp && rename(d->tmp, d->path) < 0)
		return kiln_fail_errno(err, "renaming %s to %s", d->tmp, d->path);
	free(d->tmp);
	d->tmp = NULL;
	return 0;
}

void kiln_output_dir_abort(struct kiln_output_dir *d)
{
	if (d->tmp) {
		struct kiln_error e = KILN_ERROR_INIT;
		(void) kiln_rm_rf(d->tmp, &e);
		kiln_error_release(&e);
	}
	free(d->tmp);
	free(d->path);
	*d = (struct kiln_output_dir){ 0 };
}
