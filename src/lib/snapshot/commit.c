/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Committing a writable snapshot: unmount it, drop the directories overlayfs
 * only copied up (to create mount points, say) without changing them, and
 * write the upper directory as a layer; keep that directory as the unpacked
 * layer afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/strv.h"
#include "snapshot/snapshot-private.h"

#define XATTR_LIST_MAX_BYTES 65536
#define TIDY_MAX_DEPTH 512

/*
 * The xattrs of a directory that matter for a layer (not overlayfs's own),
 * as "name=value" records sorted by the kernel's order, into `out`.
 * Returns the length, or -1 when they cannot be read.
 */
static ssize_t xattr_sig(int fd, char *out, size_t cap)
{
	char names[XATTR_LIST_MAX_BYTES];
	ssize_t n = flistxattr(fd, names, sizeof(names));
	if (n < 0)
		return errno == ENOTSUP ? 0 : -1;
	size_t len = 0;
	for (ssize_t i = 0; i < n; i += (ssize_t) strlen(names + i) + 1) {
		const char *name = names + i;
		if (strncmp(name, "trusted.overlay.", 16) == 0 ||
		    strncmp(name, "user.overlay.", 13) == 0)
			continue;
		size_t nl = strlen(name);
		if (len + nl + 1 >= cap)
			return -1;
		memcpy(out + len, name, nl + 1);
		len += nl + 1;
		ssize_t v = fgetxattr(fd, name, out + len, cap - len);
		if (v < 0)
			return -1;
		len += (size_t) v;
	}
	return (ssize_t) len;
}

/* Is an ancestor of `path` (relative, "a/b/c") hidden in this lower layer:
 * a whiteout or an opaque directory on the way? */
static int hidden_in(int layer, const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	if (len >= sizeof(buf))
		return 1;
	memcpy(buf, path, len + 1);
	for (char *slash = strchr(buf, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		struct stat st;
		int found = fstatat(layer, buf, &st, AT_SYMLINK_NOFOLLOW) == 0;
		if (found && kiln_is_whiteout(&st))
			return 1;
		if (found && S_ISDIR(st.st_mode)) {
			char v[2];
			int dfd =
				openat(layer, buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			ssize_t x = dfd >= 0 ? fgetxattr(dfd, "trusted.overlay.opaque", v, 1) : -1;
			if (dfd >= 0)
				(void) close(dfd);
			if (x == 1 && v[0] == 'y')
				return 1;
		}
		*slash = '/';
	}
	return 0;
}

/*
 * Does the lower stack have `path` as a directory with the same mode,
 * owner, mtime and xattrs as the upper directory `dfd`?
 */
static int same_as_lower(struct kiln_snapshot_mount *m, const char *path, int dfd)
{
	struct stat us;
	if (fstat(dfd, &us) < 0)
		return 0;
	for (size_t i = 0; i < m->n_layer_fds; i++) {
		int layer = m->layer_fds[i];
		struct stat ls;
		if (fstatat(layer, path, &ls, AT_SYMLINK_NOFOLLOW) < 0) {
			if (hidden_in(layer, path))
				return 0;
			continue;
		}
		if (!S_ISDIR(ls.st_mode))
			return 0; /* a whiteout or a file: the upper directory is new */
		if (ls.st_mode != us.st_mode || ls.st_uid != us.st_uid || ls.st_gid != us.st_gid ||
		    ls.st_mtim.tv_sec != us.st_mtim.tv_sec ||
		    ls.st_mtim.tv_nsec != us.st_mtim.tv_nsec)
			return 0;
		int lfd = openat(layer, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (lfd < 0)
			return 0;
		static const size_t cap = XATTR_LIST_MAX_BYTES;
		char *a = kiln_malloc(cap), *b = kiln_malloc(cap);
		ssize_t la = a ? xattr_sig(lfd, a, cap) : -1;
		ssize_t lb = b ? xattr_sig(dfd, b, cap) : -1;
		int same = la >= 0 && la == lb && memcmp(a, b, (size_t) la) == 0;
		free(a);
		free(b);
		(void) close(lfd);
		return same;
	}
	return 0; /* not in any lower: made by the process */
}

/*
 * Post-order walk of the upper directory: remove every directory that holds
 * nothing (any more) and that overlayfs merely copied up. Returns 1 when
 * `dfd` itself ended up empty.
 */
static int tidy(struct kiln_snapshot_mount *m, int dfd, char *path, size_t plen, int depth)
{
	if (depth > TIDY_MAX_DEPTH)
		return 0;
	int dup = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	if (!d) {
		if (dup >= 0)
			(void) close(dup);
		return 0;
	}
	int empty = 1;
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		size_t nl = strlen(n);
		struct stat st;
		if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) {
			empty = 0;
			continue;
		}
		if (fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
		    plen + nl + 2 >= PATH_MAX) {
			empty = 0;
			continue;
		}
		int sub = openat(dfd, n, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (sub < 0) {
			empty = 0;
			continue;
		}
		size_t sl = plen;
		if (plen)
			path[sl++] = '/';
		memcpy(path + sl, n, nl + 1);
		char v[2];
		int opaque = fgetxattr(sub, "trusted.overlay.opaque", v, 1) == 1 && v[0] == 'y';
		int gone = 0;
		if (!opaque && tidy(m, sub, path, sl + nl, depth + 1) &&
		    same_as_lower(m, path, sub))
			gone = unlinkat(dfd, n, AT_REMOVEDIR) == 0;
		(void) close(sub);
		path[plen] = '\0';
		if (!gone)
			empty = 0;
	}
	closedir(d);
	return empty;
}

static void unmount_now(struct kiln_snapshot_mount *m)
{
	if (m->fd >= 0) {
		(void) close(m->fd);
		m->fd = -1;
	}
}

/* The names in directory `fd`, but "." and "..". */
static int list_names(int fd, struct kiln_strv *ret, struct kiln_error *err)
{
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	if (!d) {
		int e = errno;
		if (dup >= 0)
			(void) close(dup);
		return kiln_fail(err, KILN_EIO, e, "reading the upper directory");
	}
	int r = 0;
	struct dirent *e;
	errno = 0;
	while (r == 0 && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    kiln_strv_push(ret, e->d_name) < 0)
			r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		errno = 0;
	}
	if (r == 0 && errno)
		r = kiln_fail_errno(err, "reading the upper directory");
	closedir(d);
	return r;
}

/*
 * Move the entries of the upper directory to a new directory beside it,
 * with the upper directory's mode and owner; on failure move back what was
 * moved. Returns the new directory's path, or NULL with `err` set and
 * `*whole` telling whether the upper directory is as it was.
 */
static char *move_upper(struct kiln_snapshot_mount *m, int *whole, struct kiln_error *err)
{
	*whole = 1;
	char *root = kiln_asprintf("%s/root", m->active_path);
	if (!root) {
		(void) kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		return NULL;
	}
	cleanup_close int from = open(m->upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (from < 0 || fstat(from, &st) < 0) {
		(void) kiln_fail_errno(err, "opening %s", m->upper);
		free(root);
		return NULL;
	}
	if (mkdir(root, 0700) < 0) {
		(void) kiln_fail_errno(err, "creating %s", root);
		free(root);
		return NULL;
	}
	cleanup_close int to = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup(kiln_strv_release) struct kiln_strv names = KILN_STRV_INIT;
	int r = to < 0 ? kiln_fail_errno(err, "opening %s", root) : 0;
	if (r == 0 && (fchown(to, st.st_uid, st.st_gid) < 0 || fchmod(to, st.st_mode & 07777) < 0))
		r = kiln_fail_errno(err, "setting the owner and mode of %s", root);
	if (r == 0)
		r = list_names(from, &names, err);
	size_t moved = 0;
	for (; r == 0 && moved < names.len; moved++)
		if (renameat2(from, names.items[moved], to, names.items[moved], RENAME_NOREPLACE) <
		    0)
			r = kiln_fail_errno(err, "moving %s out of %s", names.items[moved],
					    m->upper);
	if (r == 0)
		return root;
	while (moved-- > 0)
		if (renameat2(to, names.items[moved], from, names.items[moved], RENAME_NOREPLACE) <
		    0)
			*whole = 0;
	if (*whole)
		(void) rmdir(root);
	free(root);
	return NULL;
}

/*
 * The last close of an overlay tears it down in the closing thread, one
 * dentry and inode at a time (8.6 ms after a RUN that wrote 2,000 files),
 * and until it is gone overlayfs marks its upper directory in use: a mount
 * that stacks that directory as a lower one gets a kernel warning. The mark
 * is on the upper directory's inode alone. So the upper directory's entries
 * move to a new directory beside it, which is what is committed and kept,
 * and the overlay, over an upper directory now empty that nothing will
 * stack, goes to the reaper. The processes that wrote through it are gone:
 * nothing uses it any more.
 */
int kiln_snapshot_unmount(struct kiln_snapshot_mount *m, struct kiln_error *err)
{
	if (m->fd < 0 || !m->upper || !m->active_path) {
		unmount_now(m);
		return 0;
	}
	struct kiln_snapshot_mount *t = kiln_calloc(1, sizeof(*t));
	if (!t) {
		unmount_now(m);
		return 0;
	}
	int whole = 1;
	struct kiln_error e = KILN_ERROR_INIT;
	char *root = move_upper(m, &whole, &e);
	if (!root) {
		free(t);
		if (!whole) {
			int code = -(int) e.code;
			kiln_error_move(err, &e);
			return kiln_error_prefix(err, code, "half of the upper directory moved");
		}
		/* as before: the teardown on this thread */
		kiln_debug(m->s->ctx, "snapshot: %s; unmounting here", e.msg ? e.msg : "?");
		kiln_error_release(&e);
		unmount_now(m);
		return 0;
	}
	t->s = m->s;
	t->fd = m->fd;
	t->lock_fd = -1;
	m->fd = -1;
	free(m->upper);
	m->upper = root;
	if (!snap_reaper_take(m->s, t))
		snap_mount_release_now(t);
	return 0;
}

int kiln_snapshot_commit(struct kiln_snapshot_mount *m, int out_fd,
			 const struct kiln_layer_write_opts *opts, struct kiln_layer_digests *ret,
			 struct kiln_error *err)
{
	if (!m->upper)
		return kiln_fail(err, KILN_EINVAL, 0, "a read-only snapshot has nothing to commit");
	/* unmount first: the upper directory may only be changed (and is only
	 * stable) when no overlay uses it */
	int r = kiln_snapshot_unmount(m, err);
	if (r < 0)
		return r;
	cleanup_close int dfd = open(m->upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return kiln_fail_errno(err, "opening %s", m->upper);
	char *path = kiln_malloc(PATH_MAX);
	if (!path)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	path[0] = '\0';
	(void) tidy(m, dfd, path, 0, 0);
	free(path);
	if (out_fd < 0)
		return 0;
	r = kiln_layer_write_tree(dfd, KILN_TREE_OVERLAY_UPPER, out_fd, opts, ret, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "committing the snapshot");
	return 0;
}

int kiln_snapshot_keep(struct kiln_snapshot_mount *m, const struct kiln_digest *diff_id,
		       struct kiln_error *err)
{
	if (!m->upper || m->fd >= 0)
		return kiln_fail(err, KILN_EINVAL, 0, "only a committed snapshot can be kept");
	struct kiln_snapshotter *s = m->s;
	int r = kiln_snapshot_has(s, diff_id, err);
	if (r != 0)
		return r < 0 ? r : 0;
	cleanup_close int dfd = open(m->upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return kiln_fail_errno(err, "opening %s", m->upper);
	/* marked, not synced, before it is visible under its name, as an unpack is */
	r = snap_unsynced_mark(s, diff_id->hex, dfd, err);
	if (r < 0)
		return r;
	r = snap_layer_rename(s, AT_FDCWD, m->upper, diff_id->hex);
	if (r == 0)
		return 0; /* unpacked meanwhile: same content */
	if (r < 0)
		return kiln_fail(err, KILN_EIO, -r, "keeping %s as layer %s", m->upper,
				 diff_id->str);
	kiln_debug(s->ctx, "snapshot: kept the upper directory as %s", diff_id->str);
	free(m->upper);
	m->upper = NULL;
	return 0;
}

int kiln_snapshot_write_layer(struct kiln_snapshotter *s, const struct kiln_digest *diff_id,
			      int out_fd, const struct kiln_layer_write_opts *opts,
			      struct kiln_layer_digests *ret, struct kiln_error *err)
{
	cleanup_close int dfd = kiln_snapshot_layer_open(s, diff_id, err);
	if (dfd < 0)
		return dfd;
	int r = kiln_layer_write_tree(dfd, KILN_TREE_OVERLAY_UPPER, out_fd, opts, ret, err);
	return r < 0 ? kiln_error_prefix(err, r, "writing layer %s", diff_id->str) : 0;
}
