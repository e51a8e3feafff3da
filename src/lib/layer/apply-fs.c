/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Filesystem primitives of apply: names cleaned like Docker cleans them,
 * every directory resolved inside the root with openat2(RESOLVE_IN_ROOT),
 * every change made with *at() calls on a resolved parent that never follow
 * the last component, and recursive removal by fd.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "layer/apply.h"

#define REMOVE_MAX_DEPTH 1024

int kiln_layer_apply_clean_name(const char *raw, int clamp, char **ret, int *ret_dotdot)
{
	size_t n = strlen(raw);
	char *out = kiln_malloc(n + 1);
	if (!out)
		return -KILN_ENOMEM;
	size_t o = 0;
	*ret_dotdot = 0;
	const char *p = raw;
	while (*p) {
		while (*p == '/')
			p++;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t len = (size_t) (p - s);
		if (len == 0 || (len == 1 && s[0] == '.'))
			continue;
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			/* "a/../b" is "b" (Go's filepath.Clean, as containerd and
			 * BuildKit clean names); only a name that leaves the root fails */
			if (!o && clamp)
				continue;
			if (!o) {
				*ret_dotdot = 1;
				free(out);
				return -KILN_EPARSE;
			}
			while (o && out[o - 1] != '/')
				o--;
			if (o)
				o--;
			continue;
		}
		if (o)
			out[o++] = '/';
		memcpy(out + o, s, len);
		o += len;
	}
	out[o] = '\0';
	*ret = out;
	return 0;
}

int kiln_layer_apply_open_in_root(const struct apply *a, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t) (flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	if (!*path)
		path = ".";
	for (int i = 0; i < 32; i++) {
		long fd = syscall(SYS_openat2, a->root, path, &how, sizeof(how));
		if (fd >= 0)
			return (int) fd;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return -EAGAIN;
}

static int resolve_error(struct apply *a, int e, const char *dir, const char *what,
			 struct kiln_error *err)
{
	if (e == ENOSYS)
		return kiln_fail(err, KILN_EUNSUPP, e, "this kernel lacks openat2 (Linux >= 5.6)");
	if (e == ENOTDIR)
		return kiln_layer_apply_fail(a, err, KILN_EINVAL, "%s '%s' is not a directory",
					     what, dir);
	if (e == ELOOP)
		return kiln_layer_apply_fail(a, err, KILN_EINVAL,
					     "%s '%s': too many levels of symlinks", what, dir);
	return kiln_layer_apply_fail_errno(a, err, e, "resolving %s '%s'", what, dir);
}

/* Create the missing directories of `dir` (0755, like Docker), each resolved from the root. */
static int mkdir_parents(struct apply *a, const char *dir, struct kiln_error *err)
{
	cleanup_free char *buf = kiln_strdup(dir);
	if (!buf)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	char *p = buf;
	cleanup_close int prev = fcntl(a->root, F_DUPFD_CLOEXEC, 3);
	if (prev < 0)
		return kiln_fail_errno(err, "dup");
	for (;;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		int fd = kiln_layer_apply_open_in_root(a, buf, O_PATH | O_DIRECTORY);
		if (fd == -ENOENT || fd == -ENOTDIR) {
			const char *comp = strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
			struct stat st;
			int q = kiln_layer_apply_overlay_reclaim(a, prev, comp, buf, err);
			if (q < 0)
				return q;
			if (q == 0 && fstatat(prev, comp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
				if (S_ISLNK(st.st_mode))
					return kiln_layer_apply_fail(
						a, err, KILN_EINVAL,
						"parent '%s' is a symlink that does not lead to "
						"a directory inside the root",
						buf);
				return kiln_layer_apply_fail(a, err, KILN_EINVAL,
							     "parent '%s' is not a directory", buf);
			}
			if (mkdirat(prev, comp, 0755) < 0 && errno != EEXIST)
				return kiln_layer_apply_fail_errno(a, err, errno,
								   "creating directory '%s'", buf);
			if (q == 1) {
				q = kiln_layer_apply_overlay_mark_opaque_at(a, prev, comp, buf,
									    err);
				if (q < 0)
					return q;
			}
			if (a->mode != KILN_APPLY_EXTRACT &&
			    kiln_layer_pathset_add(&a->created, buf, strlen(buf)) < 0)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			fd = kiln_layer_apply_open_in_root(a, buf, O_PATH | O_DIRECTORY);
		}
		if (fd < 0)
			return resolve_error(a, -fd, buf, "parent", err);
		(void) close(prev);
		prev = fd;
		if (!slash)
			return 0;
		*slash = '/';
		p = slash + 1;
	}
}

int kiln_layer_apply_parent(struct apply *a, const char *dir, int create, int *ret_fd,
			    struct kiln_error *err)
{
	if (a->pcache_fd >= 0 && a->pcache_path && strcmp(a->pcache_path, dir) == 0) {
		*ret_fd = a->pcache_fd;
		return 1;
	}
	kiln_layer_apply_parent_forget(a);
	int fd = kiln_layer_apply_open_in_root(a, dir, O_PATH | O_DIRECTORY);
	if ((fd == -ENOENT || fd == -ENOTDIR) && create) {
		int q = mkdir_parents(a, dir, err);
		if (q < 0)
			return q;
		fd = kiln_layer_apply_open_in_root(a, dir, O_PATH | O_DIRECTORY);
	}
	if (fd < 0) {
		if (!create && (fd == -ENOENT || fd == -ENOTDIR))
			return 0;
		return resolve_error(a, -fd, dir, "parent", err);
	}
	a->pcache_path = kiln_strdup(dir);
	if (!a->pcache_path) {
		(void) close(fd);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	a->pcache_fd = fd;
	*ret_fd = fd;
	return 1;
}

void kiln_layer_apply_parent_forget(struct apply *a)
{
	if (a->pcache_fd >= 0)
		(void) close(a->pcache_fd);
	a->pcache_fd = -1;
	free(a->pcache_path);
	a->pcache_path = NULL;
}

static int remove_rec(struct apply *a, int pfd, const char *name, int depth)
{
	if (unlinkat(pfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	if (depth > REMOVE_MAX_DEPTH)
		return -ELOOP;
	int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_dev != a->root_dev) {
		(void) close(fd);
		return -EXDEV; /* never delete across a mount point */
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		(void) close(fd);
		return -e;
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = remove_rec(a, dirfd(d), de->d_name, depth + 1);
	}
	(void) closedir(d);
	if (r < 0)
		return r;
	if (unlinkat(pfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int kiln_layer_apply_remove_at(struct apply *a, int pfd, const char *name, const char *path,
			       struct kiln_error *err)
{
	int r = remove_rec(a, pfd, name, 0);
	if (r == -EXDEV)
		return kiln_layer_apply_fail(a, err, KILN_EINVAL,
					     "'%s' crosses a mount point; not removed", path);
	if (r == -ELOOP)
		return kiln_layer_apply_fail(a, err, KILN_ELIMIT,
					     "'%s' is nested too deeply to remove", path);
	if (r < 0)
		return kiln_layer_apply_fail_errno(a, err, -r, "removing '%s'", path);
	return 0;
}

/*
 * Remove what lower layers put below the directory `dfd` (at `path`):
 * children this layer created are kept, and directories among them are
 * cleared the same way.
 */
int kiln_layer_apply_clear_lower(struct apply *a, int dfd, const char *path, int depth,
				 struct kiln_error *err)
{
	if (depth > REMOVE_MAX_DEPTH)
		return kiln_layer_apply_fail(a, err, KILN_ELIMIT, "'%s' is nested too deeply",
					     path);
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return kiln_layer_apply_fail_errno(a, err, errno, "opening '%s'", path);
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		(void) close(fd);
		return kiln_layer_apply_fail_errno(a, err, e, "reading '%s'", path);
	}
	struct kiln_strv names = KILN_STRV_INIT;
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (kiln_strv_push(&names, de->d_name) < 0) {
			r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			break;
		}
	}
	(void) closedir(d);
	for (size_t i = 0; i < names.len && r == 0; i++) {
		const char *nm = names.items[i];
		cleanup_free char *cp = *path ? kiln_asprintf("%s/%s", path, nm) : kiln_strdup(nm);
		if (!cp) {
			r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			break;
		}
		if (!kiln_layer_pathset_has(&a->created, cp, strlen(cp))) {
			r = kiln_layer_apply_remove_at(a, dfd, nm, cp, err);
			continue;
		}
		struct stat st;
		if (fstatat(dfd, nm, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		int cfd = openat(dfd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0) {
			r = kiln_layer_apply_fail_errno(a, err, errno, "opening '%s'", cp);
			break;
		}
		r = kiln_layer_apply_clear_lower(a, cfd, cp, depth + 1, err);
		(void) close(cfd);
	}
	kiln_strv_release(&names);
	return r;
}
