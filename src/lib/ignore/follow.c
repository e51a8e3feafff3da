/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fsutil.FollowLinks: turning "follow paths" (symlinks a build wants the
 * targets of, like a Dockerfile that is a link) into the paths they lead to
 * inside the context. Every lookup is made relative to the context's root
 * fd and resolved inside it, and every link target is anchored at the root,
 * so a chain of links can never lead outside.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/gopath.h"
#include "ignore/filter.h"

/* How deep link chains may go before we call it a loop. */
#define FOLLOW_DEPTH_MAX 255

int kiln_ignore_open_in_root(int root_fd, const char *rel_dir)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, root_fd, rel_dir, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		fd = openat(root_fd, rel_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int kiln_ignore_open_parent_in_root(int root_fd, const char *rel, int *ret_fd, const char **ret_base)
{
	const char *slash = strrchr(rel, '/');
	cleanup_free char *dir = slash ? kiln_strndup(rel, (size_t)(slash - rel)) : kiln_strdup(".");
	if (!dir)
		return -ENOMEM;
	int fd = kiln_ignore_open_in_root(root_fd, *dir ? dir : ".");
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	*ret_base = slash ? slash + 1 : rel;
	return 0;
}

/* filepath.Join(a, b) for slash paths: the non-empty parts joined and cleaned. */
static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *tmp = kiln_malloc(la + lb + 2);
	if (!tmp)
		return NULL;
	size_t n = 0;
	if (la) {
		memcpy(tmp, a, la);
		n = la;
	}
	if (lb) {
		if (n)
			tmp[n++] = '/';
		memcpy(tmp + n, b, lb);
		n += lb;
	}
	if (n == 0) {
		tmp[0] = '\0';
		return tmp;
	}
	char *out = kiln_malloc(n + 2);
	if (out)
		(void)kiln_go_clean(tmp, n, out);
	free(tmp);
	return out;
}

static int contains_wildcards(const char *name)
{
	for (size_t i = 0; name[i]; i++) {
		if (name[i] == '\\' && name[i + 1])
			i++;
		else if (name[i] == '*' || name[i] == '?' || name[i] == '[')
			return 1;
	}
	return 0;
}

static int not_found(int e)
{
	return e == ENOENT || e == ENOTDIR;
}

struct resolver {
	int root_fd;
	struct kiln_strv resolved;
	struct kiln_error *err;
};

static int is_resolved(const struct resolver *r, const char *p)
{
	return kiln_strv_find(&r->resolved, p) >= 0;
}

static int add_resolved(struct resolver *r, const char *p)
{
	if (is_resolved(r, p))
		return 0;
	if (kiln_strv_push(&r->resolved, p) < 0)
		return kiln_fail(r->err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

/* Target of the symlink at p, as fsutil anchors it; NULL in *ret when p is no symlink. */
static int read_link_target(struct resolver *r, const char *p, struct kiln_strv *out)
{
	int dfd = -1;
	const char *base;
	int e = kiln_ignore_open_parent_in_root(r->root_fd, p, &dfd, &base);
	if (e < 0) {
		if (not_found(-e) || e == -ELOOP)
			return 0;
		return kiln_fail(r->err, KILN_EIO, -e, "following %s", p);
	}
	cleanup_close int fd = dfd;
	struct stat st;
	if (fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (not_found(errno))
			return 0;
		return kiln_fail_errno(r->err, "following %s", p);
	}
	if (!S_ISLNK(st.st_mode))
		return 0;
	char buf[PATH_MAX + 1];
	ssize_t n = readlinkat(fd, base, buf, sizeof(buf));
	if (n < 0)
		return kiln_fail_errno(r->err, "reading link %s", p);
	if ((size_t)n >= sizeof(buf))
		return kiln_fail(r->err, KILN_ELIMIT, 0, "link %s: target too long", p);
	char clean[PATH_MAX + 2];
	size_t cl = kiln_go_clean(buf, (size_t)n, clean);
	(void)cl;
	char *t;
	if (clean[0] == '/') {
		t = kiln_strdup(clean);
	} else {
		const char *slash = strrchr(p, '/');
		cleanup_free char *dir = slash ? kiln_strndup(p, (size_t)(slash - p)) : kiln_strdup(".");
		cleanup_free char *rel = dir ? join(dir, clean) : NULL;
		t = rel ? join("/", rel) : NULL;
	}
	if (!t)
		return kiln_fail(r->err, KILN_ENOMEM, 0, "out of memory");
	if (kiln_strv_push_owned(out, t) < 0)
		return kiln_fail(r->err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* readSymlink: with a wildcard in the last component, every matching entry's target. */
static int read_symlink(struct resolver *r, const char *p, int allow_wildcard,
			struct kiln_strv *out)
{
	const char *slash = strrchr(p, '/');
	const char *base = slash ? slash + 1 : p;
	if (!allow_wildcard || !contains_wildcards(base))
		return read_link_target(r, p, out);
	cleanup_free char *dir = slash ? kiln_strndup(p, (size_t)(slash - p)) : kiln_strdup(".");
	if (!dir)
		return kiln_fail(r->err, KILN_ENOMEM, 0, "out of memory");
	/* List the directory holding the wildcard, resolved inside the root. */
	int dfd = kiln_ignore_open_in_root(r->root_fd, dir);
	if (dfd < 0) {
		if (not_found(-dfd) || dfd == -ELOOP)
			return 0;
		return kiln_fail(r->err, KILN_EIO, -dfd, "readdir %s", dir);
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		int saved = errno;
		close(dfd);
		return kiln_fail(r->err, KILN_EIO, saved, "readdir %s", dir);
	}
	cleanup(kiln_strv_release) struct kiln_strv names = KILN_STRV_INIT;
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (kiln_strv_push(&names, de->d_name) < 0) {
			rc = kiln_fail(r->err, KILN_ENOMEM, 0, "out of memory");
			break;
		}
	}
	closedir(d);
	if (rc < 0)
		return rc;
	if (names.len)
		qsort(names.items, names.len, sizeof(char *), cmp_str);
	for (size_t i = 0; i < names.len; i++) {
		const char *nm = names.items[i];
		if (kiln_go_match(base, strlen(base), nm, strlen(nm)) <= 0)
			continue;
		cleanup_free char *child = join(dir, nm);
		if (!child)
			return kiln_fail(r->err, KILN_ENOMEM, 0, "out of memory");
		if ((rc = read_symlink(r, child, 0, out)) < 0)
			return rc;
	}
	return 0;
}

static int follow(struct resolver *r, const char *path, int depth)
{
	if (depth > FOLLOW_DEPTH_MAX)
		return kiln_fail(r->err, KILN_ELIMIT, 0,
				 "following %s: more than %d levels of symbolic links", path,
				 FOLLOW_DEPTH_MAX);
	cleanup_free char *current = kiln_strdup(".");
	cleanup_free char *rest = kiln_strdup(path);
	if (!current || !rest)
		return kiln_fail(r->err, KILN_ENOMEM, 0, "out of memory");
	for (;;) {
		char *slash = strchr(rest, '/');
		if (slash)
			*slash = '\0';
		char *next = join(current, rest);
		if (!next)
			return kiln_fail(r->err, KILN_ENOMEM, 0, "out of memory");
		free(current);
		current = next;
		cleanup(kiln_strv_release) struct kiln_strv targets = KILN_STRV_INIT;
		int rc = read_symlink(r, current, 1, &targets);
		if (rc < 0)
			return rc;
		char *tail = kiln_strdup(slash ? slash + 1 : "");
		if (!tail)
			return kiln_fail(r->err, KILN_ENOMEM, 0, "out of memory");
		free(rest);
		rest = tail;
		if ((!*rest || targets.len) && is_resolved(r, current))
			return 0;
		if (targets.len) {
			if ((rc = add_resolved(r, current)) < 0)
				return rc;
			for (size_t i = 0; i < targets.len; i++) {
				cleanup_free char *t = join(targets.items[i], rest);
				if (!t)
					return kiln_fail(r->err, KILN_ENOMEM, 0, "out of memory");
				if ((rc = follow(r, t, depth + 1)) < 0)
					return rc;
			}
			return 0;
		}
		if (!*rest)
			return add_resolved(r, current);
	}
}

int kiln_ignore_dedupe_paths(struct kiln_strv *v, int *ret_all, struct kiln_error *err)
{
	struct kiln_strv out = KILN_STRV_INIT;
	const char *last = "";
	*ret_all = 0;
	for (size_t i = 0; i < v->len; i++) {
		const char *s = v->items[i];
		if (strcmp(s, ".") == 0) {
			kiln_strv_release(&out);
			kiln_strv_release(v);
			*ret_all = 1;
			return 0;
		}
		size_t ll = strlen(last);
		if (strncmp(s, last, ll) == 0 && s[ll] == '/')
			continue;
		if (kiln_strv_push(&out, s) < 0) {
			kiln_strv_release(&out);
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
		last = out.items[out.len - 1];
	}
	kiln_strv_release(v);
	*v = out;
	return 0;
}

int kiln_ignore_follow_links(int root_fd, const char *const *paths, size_t n,
			     struct kiln_strv *ret, int *ret_all, struct kiln_error *err)
{
	struct resolver r = { .root_fd = root_fd, .resolved = KILN_STRV_INIT, .err = err };
	for (size_t i = 0; i < n; i++) {
		/* Anchor the path at the root first: no ".." may lead out of it. */
		size_t len = strlen(paths[i]);
		cleanup_free char *tmp = kiln_malloc(len + 2);
		cleanup_free char *rooted = kiln_malloc(len + 3);
		if (!tmp || !rooted) {
			kiln_strv_release(&r.resolved);
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
		tmp[0] = '/';
		memcpy(tmp + 1, paths[i], len);
		size_t rl = kiln_go_clean(tmp, len + 1, rooted);
		int rc = follow(&r, rl > 1 ? rooted + 1 : ".", 0);
		if (rc < 0) {
			kiln_strv_release(&r.resolved);
			return rc;
		}
	}
	if (r.resolved.len)
		qsort(r.resolved.items, r.resolved.len, sizeof(char *), cmp_str);
	int rc = kiln_ignore_dedupe_paths(&r.resolved, ret_all, err);
	if (rc < 0) {
		kiln_strv_release(&r.resolved);
		return rc;
	}
	*ret = r.resolved;
	return 0;
}
