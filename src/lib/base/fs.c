/* SPDX-License-Identifier: Apache-2.0 */
#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"

int kiln_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int kiln_pwrite_all(int fd, const void *data, size_t len, uint64_t off)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* The first buffer step for reading fd: a regular file is read into a buffer of its
 * size, not of 64 KiB steps (a build reads many small JSON files). */
static size_t first_step(const struct stat *st, size_t limit)
{
	if (S_ISREG(st->st_mode) && st->st_size >= 0 && (uint64_t)st->st_size < limit)
		return (size_t)st->st_size + 1;
	return 65536;
}

/* The size a regular file had when fstat() was taken, or -1: what its reader may stop at. */
static off_t regular_size(const struct stat *st)
{
	return S_ISREG(st->st_mode) ? st->st_size : -1;
}

/*
 * Reads fd to its end, the first buffer step bytes large (st has been taken
 * already). A regular file that gave exactly its fstat() size in a read that
 * asked for more is at its end: that saves the read() that would return 0,
 * one system call of five per Dockerfile that `kiln lint` reads. A short read
 * of less (a FUSE or network file system may give one) reads on.
 */
static int read_fd_step(int fd, size_t limit, size_t step, off_t size, char **ret_data,
			size_t *ret_len, struct kiln_error *err)
{
	cleanup(kiln_buf_release) struct kiln_buf b = KILN_BUF_INIT;
	b.cap = limit;
	for (;;) {
		size_t room = limit - b.len;
		if (room == 0) {
			/* at the limit: one more byte means the input is too large */
			char c;
			ssize_t n;
			do
				n = read(fd, &c, 1);
			while (n < 0 && errno == EINTR);
			if (n == 0)
				break;
			return kiln_fail(err, KILN_ELIMIT, 0, "input larger than %zu bytes", limit);
		}
		if (b.alloc <= b.len + 1) {
			if (kiln_buf_grow(&b, room < step ? room : step) < 0)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			step = 65536;
		}
		size_t want = b.alloc - b.len - 1;
		if (want > room)
			want = room;
		ssize_t n = read(fd, b.buf + b.len, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return kiln_fail_errno(err, "read");
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		b.buf[b.len] = '\0';
		if ((size_t)n < want && size >= 0 && b.len == (uint64_t)size)
			break;
	}
	size_t len;
	char *d = kiln_buf_detach(&b, &len);
	if (!d)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	*ret_data = d;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int kiln_read_fd(int fd, size_t limit, char **ret_data, size_t *ret_len, struct kiln_error *err)
{
	struct stat st;
	size_t step = 65536;
	if (fstat(fd, &st) == 0)
		step = first_step(&st, limit);
	else
		st.st_mode = 0; /* unknown: read to the end */
	return read_fd_step(fd, limit, step, regular_size(&st), ret_data, ret_len, err);
}

int kiln_read_file_at(int dirfd, const char *path, size_t limit, char **ret_data, size_t *ret_len,
		      struct kiln_error *err)
{
	cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return kiln_fail(err, e == ENOENT ? KILN_ENOTFOUND : KILN_EIO, e, "open %s", path);
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return kiln_fail_errno(err, "stat %s", path);
	if (S_ISDIR(st.st_mode))
		return kiln_fail(err, KILN_EINVAL, EISDIR, "read %s", path);
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > limit)
		return kiln_fail(err, KILN_ELIMIT, 0, "%s is larger than %zu bytes", path, limit);
	/* one fstat per file: its result also sizes the read buffer */
	size_t step = first_step(&st, limit);
	int r = read_fd_step(fd, limit, step, regular_size(&st), ret_data, ret_len, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "reading %s", path);
	return 0;
}

int kiln_read_file(const char *path, size_t limit, char **ret_data, size_t *ret_len,
		   struct kiln_error *err)
{
	return kiln_read_file_at(AT_FDCWD, path, limit, ret_data, ret_len, err);
}

static int fsync_dir_at(int dirfd, const char *dir)
{
	cleanup_close int fd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0 && errno != EINVAL)
		return -errno;
	return 0;
}

int kiln_fsync_dir(const char *path, struct kiln_error *err)
{
	int r = fsync_dir_at(AT_FDCWD, path);
	if (r < 0)
		return kiln_fail(err, KILN_EIO, -r, "fsync %s", path);
	return 0;
}

int kiln_write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len,
			      mode_t mode, struct kiln_error *err)
{
	cleanup_free char *dir = kiln_strdup(path);
	if (!dir)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	char *slash = strrchr(dir, '/');
	const char *base = path;
	if (slash) {
		base = path + (slash - dir) + 1;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	} else {
		dir[0] = '.';
		dir[1] = '\0';
	}
	cleanup_free char *tmp = kiln_asprintf("%s/.tmp-%s.%ld", dir, base, (long)getpid());
	if (!tmp)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	cleanup_close int fd =
		openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return kiln_fail_errno(err, "create %s", tmp);
	int r = kiln_write_all(fd, data, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlinkat(dirfd, tmp, 0);
		return kiln_fail(err, KILN_EIO, -r, "write %s", tmp);
	}
	if (renameat(dirfd, tmp, dirfd, path) < 0) {
		int e = errno;
		(void)unlinkat(dirfd, tmp, 0);
		return kiln_fail(err, KILN_EIO, e, "rename %s", path);
	}
	r = fsync_dir_at(dirfd, dir);
	if (r < 0)
		return kiln_fail(err, KILN_EIO, -r, "fsync %s", dir);
	return 0;
}

int kiln_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			   struct kiln_error *err)
{
	return kiln_write_file_atomic_at(AT_FDCWD, path, data, len, mode, err);
}

int kiln_mkdir_p(const char *path, mode_t mode, struct kiln_error *err)
{
	cleanup_free char *p = kiln_strdup(path);
	if (!p)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return kiln_fail_errno(err, "mkdir %s", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0) {
		int e = errno;
		struct stat st;
		if (e == EEXIST && stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		return kiln_fail(err, KILN_EIO, e, "mkdir %s", p);
	}
	return 0;
}

static int rm_rf_at(int parent_fd, const char *name, dev_t dev, int depth)
{
	if (depth > 4096)
		return -ELOOP;
	if (unlinkat(parent_fd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_dev != dev) {
		/* a mount point below the tree: never delete across it */
		int e = errno;
		(void)close(fd);
		return st.st_dev != dev ? -EXDEV : -e;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		(void)close(fd);
		return -e;
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int q = rm_rf_at(dirfd(d), de->d_name, dev, depth + 1);
		if (q < 0 && r == 0)
			r = q;
	}
	(void)closedir(d);
	if (r < 0)
		return r;
	if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int kiln_rm_rf(const char *path, struct kiln_error *err)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return kiln_fail_errno(err, "stat %s", path);
	}
	int r = rm_rf_at(AT_FDCWD, path, st.st_dev, 0);
	if (r < 0)
		return kiln_fail(err, KILN_EIO, -r, "remove %s", path);
	return 0;
}

/* listxattrat(2): one number on every architecture the kernel's unified
 * table covers; elsewhere only what the headers say */
#if !defined(SYS_listxattrat) && (defined(__x86_64__) || defined(__aarch64__))
#define SYS_listxattrat 465
#endif

ssize_t kiln_listxattrat(int dirfd, const char *name, char *buf, size_t len)
{
#ifdef SYS_listxattrat
	ssize_t n = syscall(SYS_listxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, buf, len);
	if (n >= 0 || errno != ENOSYS)
		return n;
#endif
	char proc[PATH_MAX];
	int w = snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", dirfd, name);
	if (w < 0 || (size_t) w >= sizeof(proc)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return llistxattr(proc, buf, len);
}
