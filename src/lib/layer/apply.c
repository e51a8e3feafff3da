/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Applying a layer to a directory: one pass over the tar stream. Each entry
 * is written below its parent directory, resolved inside the root; whiteouts
 * remove (or, for an overlay lower, mark) what lower layers put there; the
 * metadata is applied in the order that keeps it: owner, xattrs, mode,
 * times, with directory modes and times fixed after their children.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/fs.h"
#include "layer/apply.h"

#define APPLY_BUF ((size_t) 256 * 1024)

static int vfail(struct apply *a, struct kiln_error *err, enum kiln_err code, int e,
		 const char *fmt, va_list ap)
{
	char msg[512];
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	cleanup(kiln_buf_release) struct kiln_buf q = KILN_BUF_INIT;
	unsigned long long idx =
		a->r ? (unsigned long long) kiln_layer_reader_entry_index(a->r) : 0;
	if (a->e && a->e->path && kiln_layer_quote(a->e->path, &q) == 0)
		return kiln_fail(err, code, e, "tar entry %llu '%s': %s", idx, q.buf, msg);
	return kiln_fail(err, code, e, "%s", msg);
}

int kiln_layer_apply_fail(struct apply *a, struct kiln_error *err, enum kiln_err code,
			  const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfail(a, err, code, 0, fmt, ap);
	va_end(ap);
	return r;
}

int kiln_layer_apply_fail_errno(struct apply *a, struct kiln_error *err, int e, const char *fmt,
				...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfail(a, err, e == ENOMEM ? KILN_ENOMEM : KILN_EIO, e, fmt, ap);
	va_end(ap);
	return r;
}

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

static const char *opaque_key(const struct apply *a)
{
	return (a->flags & KILN_APPLY_OVERLAY_USER_XATTR) ? "user.overlay.opaque"
							  : "trusted.overlay.opaque";
}

int kiln_layer_apply_overlay_mark_opaque_at(struct apply *a, int pfd, const char *name,
					    const char *path, struct kiln_error *err)
{
	cleanup_close int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return kiln_layer_apply_fail_errno(a, err, errno, "opening '%s'", path);
	if (fsetxattr(fd, opaque_key(a), "y", 1, 0) < 0)
		return kiln_layer_apply_fail_errno(a, err, errno, "marking '%s' opaque (%s)", path,
						   opaque_key(a));
	return 0;
}

int kiln_layer_apply_overlay_reclaim(struct apply *a, int pfd, const char *name, const char *path,
				     struct kiln_error *err)
{
	struct stat st;
	if (a->mode != KILN_APPLY_OVERLAY || fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (!S_ISCHR(st.st_mode) || st.st_rdev != 0 ||
	    !kiln_layer_pathset_has(&a->whiteouts, path, strlen(path)))
		return 0;
	if (unlinkat(pfd, name, 0) < 0)
		return kiln_layer_apply_fail_errno(a, err, errno, "removing whiteout '%s'", path);
	return 1;
}

static int is_overlay_xattr(const char *name)
{
	return strncmp(name, "trusted.overlay.", 16) == 0 ||
	       strncmp(name, "user.overlay.", 13) == 0;
}

static int set_xattrs(struct apply *a, const struct kiln_tar_entry *e, int pfd, const char *base,
		      int fd, const char *path, struct kiln_error *err)
{
	cleanup_free char *proc = NULL;
	for (size_t i = 0; i < e->n_xattrs; i++) {
		const struct kiln_tar_xattr *x = &e->xattrs[i];
		/* a layer never sets overlayfs metadata on the directories kiln mounts */
		if (is_overlay_xattr(x->name)) {
			a->res.xattrs_ignored++;
			continue;
		}
		if (!strchr(x->name, '.') || strlen(x->name) > 255)
			return kiln_layer_apply_fail(a, err, KILN_EPARSE, "invalid xattr name '%s'",
						     x->name);
		int r;
		if (fd >= 0) {
			r = fsetxattr(fd, x->name, x->value, x->len, 0);
		} else {
			if (!proc)
				proc = kiln_asprintf("/proc/self/fd/%d/%s", pfd, base);
			if (!proc)
				return oom(err);
			r = lsetxattr(proc, x->name, x->value, x->len, 0);
		}
		if (r == 0)
			continue;
		if (errno == ENOTSUP || errno == EOPNOTSUPP ||
		    (a->flags & KILN_APPLY_BEST_EFFORT_XATTRS)) {
			a->res.xattrs_ignored++;
			continue;
		}
		return kiln_layer_apply_fail_errno(a, err, errno, "setting xattr %s on '%s'",
						   x->name, path);
	}
	return 0;
}

static void ids_of(const struct apply *a, const struct kiln_tar_entry *e, uid_t *uid, gid_t *gid)
{
	*uid = a->uid_override >= 0 ? (uid_t) a->uid_override : e->uid;
	*gid = a->gid_override >= 0 ? (gid_t) a->gid_override : e->gid;
}

/* Owner, xattrs, mode, times; on `fd` when there is one, else on (pfd, base) without following. */
static int set_meta(struct apply *a, const struct kiln_tar_entry *e, int pfd, const char *base,
		    int fd, const char *path, struct kiln_error *err)
{
	int is_link = e->type == KILN_TAR_SYMLINK;
	if (a->do_chown) {
		uid_t uid;
		gid_t gid;
		ids_of(a, e, &uid, &gid);
		int r = fd >= 0 ? fchown(fd, uid, gid)
				: fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW);
		if (r < 0)
			return kiln_layer_apply_fail_errno(a, err, errno, "chown %u:%u '%s'",
							   (unsigned) uid, (unsigned) gid, path);
	}
	int q = set_xattrs(a, e, pfd, base, fd, path, err);
	if (q < 0)
		return q;
	if (e->type == KILN_TAR_DIR)
		return 0; /* mode and times once the children are in */
	if (!is_link) {
		int r = fd >= 0 ? fchmod(fd, e->mode) : fchmodat(pfd, base, e->mode, 0);
		if (r < 0)
			return kiln_layer_apply_fail_errno(a, err, errno, "chmod %04o '%s'",
							   e->mode, path);
	}
	struct timespec ts[2] = { { e->mtime, (long) e->mtime_nsec },
				  { e->mtime, (long) e->mtime_nsec } };
	int r = fd >= 0 ? futimens(fd, ts) : utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
	if (r < 0)
		return kiln_layer_apply_fail_errno(a, err, errno, "setting the times of '%s'",
						   path);
	return 0;
}

static int write_file(struct apply *a, const struct kiln_tar_entry *e, int pfd, const char *base,
		      const char *path, struct kiln_error *err)
{
	cleanup_close int fd =
		openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return kiln_layer_apply_fail_errno(a, err, errno, "creating '%s'", path);
	uint64_t end = 0;
	for (;;) {
		uint64_t off;
		size_t n;
		int q = kiln_layer_reader_read_sparse(a->r, a->buf, APPLY_BUF, &off, &n, err);
		if (q < 0)
			return q;
		if (n == 0)
			break;
		q = kiln_pwrite_all(fd, a->buf, n, off);
		if (q < 0)
			return kiln_layer_apply_fail_errno(a, err, -q, "writing '%s'", path);
		if (off + n > end)
			end = off + n;
	}
	if (end < e->size && ftruncate(fd, (off_t) e->size) < 0)
		return kiln_layer_apply_fail_errno(a, err, errno, "extending '%s'", path);
	return set_meta(a, e, pfd, base, fd, path, err);
}

static int record_dir(struct apply *a, const struct kiln_tar_entry *e, int dfd, const char *path,
		      struct kiln_error *err)
{
	struct stat st;
	if (fstat(dfd, &st) < 0)
		return kiln_layer_apply_fail_errno(a, err, errno, "stat '%s'", path);
	if (a->n_dirs == a->cap_dirs) {
		size_t nc = a->cap_dirs ? a->cap_dirs * 2 : 64;
		struct dir_fix *nd = kiln_reallocarray(a->dirs, nc, sizeof(*nd));
		if (!nd)
			return oom(err);
		a->dirs = nd;
		a->cap_dirs = nc;
	}
	char *p = kiln_strdup(path);
	if (!p)
		return oom(err);
	a->dirs[a->n_dirs++] = (struct dir_fix){
		.path = p,
		.mode = e->mode,
		.mtime = e->mtime,
		.mtime_nsec = e->mtime_nsec,
		.dev = st.st_dev,
		.ino = st.st_ino,
	};
	return 0;
}

static int make_dir(struct apply *a, const struct kiln_tar_entry *e, int pfd, const char *base,
		    const char *path, int exists, int opaque, struct kiln_error *err)
{
	if (!exists && mkdirat(pfd, base, 0700) < 0)
		return kiln_layer_apply_fail_errno(a, err, errno, "creating directory '%s'", path);
	cleanup_close int dfd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return kiln_layer_apply_fail_errno(a, err, errno, "opening '%s'", path);
	int q = set_meta(a, e, pfd, base, dfd, path, err);
	if (q == 0 && opaque && fsetxattr(dfd, opaque_key(a), "y", 1, 0) < 0)
		q = kiln_layer_apply_fail_errno(a, err, errno, "marking '%s' opaque", path);
	if (q == 0)
		q = record_dir(a, e, dfd, path, err);
	return q;
}

/* Resolve a hardlink's target (which must already exist) before anything is removed. */
static int link_target(struct apply *a, const struct kiln_tar_entry *e, const char *path,
		       int *ret_fd, char **ret_base, struct kiln_error *err)
{
	cleanup_free char *t = NULL;
	int dotdot;
	int q = kiln_layer_apply_clean_name(e->link, a->mode == KILN_APPLY_EXTRACT, &t, &dotdot);
	if (q == -KILN_ENOMEM)
		return oom(err);
	if (q < 0)
		return kiln_layer_apply_fail(a, err, KILN_EPARSE,
					     "hardlink target '%s' leaves the root ('..')",
					     e->link);
	if (!*t)
		return kiln_layer_apply_fail(a, err, KILN_EINVAL, "hardlink to the root directory");
	if (strcmp(t, path) == 0)
		return kiln_layer_apply_fail(a, err, KILN_EINVAL, "hardlink to itself");
	char *slash = strrchr(t, '/');
	const char *tbase = slash ? slash + 1 : t;
	if (slash)
		*slash = '\0';
	int tfd = kiln_layer_apply_open_in_root(a, slash ? t : "", O_PATH | O_DIRECTORY);
	if (slash)
		*slash = '/';
	if (tfd == -ENOENT || tfd == -ENOTDIR)
		return kiln_layer_apply_fail(a, err, KILN_ENOTFOUND,
					     "hardlink target '%s' does not exist", t);
	if (tfd < 0)
		return kiln_layer_apply_fail_errno(a, err, -tfd, "resolving hardlink target '%s'",
						   t);
	struct stat st;
	int e2 = fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0 ? errno : 0;
	if (e2 == 0 && S_ISDIR(st.st_mode))
		e2 = EISDIR;
	if (e2 == 0 && a->mode == KILN_APPLY_OVERLAY && kiln_is_whiteout(&st) &&
	    kiln_layer_pathset_has(&a->whiteouts, t, strlen(t)))
		e2 = ENOENT;
	if (e2) {
		(void) close(tfd);
		if (e2 == ENOENT || e2 == ENOTDIR)
			return kiln_layer_apply_fail(a, err, KILN_ENOTFOUND,
						     "hardlink target '%s' does not exist", t);
		if (e2 == EISDIR)
			return kiln_layer_apply_fail(a, err, KILN_EINVAL,
						     "hardlink to directory '%s'", t);
		return kiln_layer_apply_fail_errno(a, err, e2, "stat hardlink target '%s'", t);
	}
	char *b = kiln_strdup(tbase);
	if (!b) {
		(void) close(tfd);
		return oom(err);
	}
	*ret_fd = tfd;
	*ret_base = b;
	return 0;
}

static int make_node(struct apply *a, const struct kiln_tar_entry *e, int pfd, const char *base,
		     const char *path, struct kiln_error *err)
{
	if (e->type == KILN_TAR_FIFO) {
		if (mkfifoat(pfd, base, 0600) < 0)
			return kiln_layer_apply_fail_errno(a, err, errno, "creating fifo '%s'",
							   path);
		return 1;
	}
	mode_t kind = e->type == KILN_TAR_CHAR ? S_IFCHR : S_IFBLK;
	if (a->privileged &&
	    mknodat(pfd, base, kind | 0600, makedev(e->devmajor, e->devminor)) == 0)
		return 1;
	if (a->privileged && errno != EPERM)
		return kiln_layer_apply_fail_errno(a, err, errno, "creating device '%s'", path);
	if (a->flags & KILN_APPLY_SKIP_DEVICES) {
		a->res.skipped++;
		return 0;
	}
	return kiln_layer_apply_fail(a, err, KILN_EUNSUPP,
				     "device node %u:%u needs root to be created", e->devmajor,
				     e->devminor);
}

static int add_created(struct apply *a, const char *path, struct kiln_error *err)
{
	if (a->mode == KILN_APPLY_EXTRACT)
		return 0;
	if (kiln_layer_pathset_add(&a->created, path, strlen(path)) < 0)
		return oom(err);
	return 0;
}

static int create_entry(struct apply *a, const struct kiln_tar_entry *e, const char *path,
			const char *dir, const char *base, struct kiln_error *err)
{
	int pfd;
	int q = kiln_layer_apply_parent(a, dir, 1, &pfd, err);
	if (q < 0)
		return q;
	cleanup_close int tfd = -1;
	cleanup_free char *tbase = NULL;
	if (e->type == KILN_TAR_HARDLINK) {
		q = link_target(a, e, path, &tfd, &tbase, err);
		if (q < 0)
			return q;
	}
	struct stat old;
	int exists = fstatat(pfd, base, &old, AT_SYMLINK_NOFOLLOW) == 0;
	if (!exists && errno != ENOENT)
		return kiln_layer_apply_fail_errno(a, err, errno, "stat '%s'", path);
	int opaque = 0;
	if (exists && !(S_ISDIR(old.st_mode) && e->type == KILN_TAR_DIR)) {
		if (e->type == KILN_TAR_HARDLINK) {
			struct stat ts;
			if (fstatat(tfd, tbase, &ts, AT_SYMLINK_NOFOLLOW) == 0 &&
			    ts.st_dev == old.st_dev && ts.st_ino == old.st_ino)
				return add_created(a, path, err); /* already that link */
		}
		opaque = kiln_layer_apply_overlay_reclaim(a, pfd, base, path, err);
		if (opaque < 0)
			return opaque;
		if (!opaque) {
			q = kiln_layer_apply_remove_at(a, pfd, base, path, err);
			if (q < 0)
				return q;
		}
		exists = 0;
	}

	switch (e->type) {
	case KILN_TAR_DIR:
		q = make_dir(a, e, pfd, base, path, exists, opaque, err);
		break;
	case KILN_TAR_REG:
		q = write_file(a, e, pfd, base, path, err);
		break;
	case KILN_TAR_HARDLINK:
		if (linkat(tfd, tbase, pfd, base, 0) < 0)
			return kiln_layer_apply_fail_errno(a, err, errno, "linking '%s' to '%s'",
							   path, e->link);
		q = 0;
		break;
	case KILN_TAR_SYMLINK:
		if (symlinkat(e->link, pfd, base) < 0)
			return kiln_layer_apply_fail_errno(a, err, errno, "creating symlink '%s'",
							   path);
		q = set_meta(a, e, pfd, base, -1, path, err);
		break;
	case KILN_TAR_CHAR:
	case KILN_TAR_BLOCK:
	case KILN_TAR_FIFO:
		q = make_node(a, e, pfd, base, path, err);
		if (q <= 0)
			return q;
		q = set_meta(a, e, pfd, base, -1, path, err);
		break;
	}
	if (q < 0)
		return q;
	a->res.entries++;
	return add_created(a, path, err);
}

/* `.wh.<victim>` in directory `dir`. */
static int whiteout(struct apply *a, const struct kiln_tar_entry *e, const char *dir,
		    const char *victim, struct kiln_error *err)
{
	if (!*victim || !strcmp(victim, ".") || !strcmp(victim, ".."))
		return kiln_layer_apply_fail(a, err, KILN_EPARSE, "invalid whiteout name");
	cleanup_free char *vpath = *dir ? kiln_asprintf("%s/%s", dir, victim) : kiln_strdup(victim);
	if (!vpath)
		return oom(err);
	a->res.whiteouts++;
	int pfd;
	/* the parent is made if missing, as Docker and containerd do */
	int q = kiln_layer_apply_parent(a, dir, 1, &pfd, err);
	if (q < 0)
		return q;
	struct stat st;
	int exists = fstatat(pfd, victim, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (!exists && errno != ENOENT)
		return kiln_layer_apply_fail_errno(a, err, errno, "stat '%s'", vpath);

	if (kiln_layer_pathset_has(&a->created, vpath, strlen(vpath))) {
		/* this layer's own entry stays; only what lower layers had below it goes */
		if (!exists || !S_ISDIR(st.st_mode))
			return 0;
		if (a->mode == KILN_APPLY_OVERLAY)
			return kiln_layer_apply_overlay_mark_opaque_at(a, pfd, victim, vpath, err);
		cleanup_close int dfd =
			openat(pfd, victim, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			return kiln_layer_apply_fail_errno(a, err, errno, "opening '%s'", vpath);
		return kiln_layer_apply_clear_lower(a, dfd, vpath, 0, err);
	}
	if (a->mode == KILN_APPLY_LAYER)
		return exists ? kiln_layer_apply_remove_at(a, pfd, victim, vpath, err) : 0;

	/* KILN_APPLY_OVERLAY: a 0:0 character device hides the lower entry */
	if (exists) {
		if (kiln_is_whiteout(&st))
			return 0;
		q = kiln_layer_apply_remove_at(a, pfd, victim, vpath, err);
		if (q < 0)
			return q;
	}
	if (mknodat(pfd, victim, S_IFCHR, makedev(0, 0)) < 0)
		return kiln_layer_apply_fail_errno(a, err, errno, "creating whiteout device '%s'",
						   vpath);
	if (a->do_chown && fchownat(pfd, victim, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return kiln_layer_apply_fail_errno(a, err, errno, "chown whiteout '%s'", vpath);
	if (kiln_layer_pathset_add(&a->whiteouts, vpath, strlen(vpath)) < 0)
		return oom(err);
	return 0;
}

/* `.wh..wh..opq` in directory `dir`. */
static int opaque(struct apply *a, const char *dir, struct kiln_error *err)
{
	a->res.whiteouts++;
	int pfd;
	int q = kiln_layer_apply_parent(a, dir, 1, &pfd, err);
	if (q < 0)
		return q;
	cleanup_close int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return kiln_layer_apply_fail_errno(a, err, errno, "opening '%s'", *dir ? dir : "/");
	if (a->mode == KILN_APPLY_OVERLAY) {
		if (fsetxattr(dfd, opaque_key(a), "y", 1, 0) < 0)
			return kiln_layer_apply_fail_errno(a, err, errno,
							   "marking '%s' opaque (%s)",
							   *dir ? dir : "/", opaque_key(a));
		return 0;
	}
	return kiln_layer_apply_clear_lower(a, dfd, dir, 0, err);
}

static int apply_entry(struct apply *a, const struct kiln_tar_entry *e, struct kiln_error *err)
{
	cleanup_free char *path = NULL;
	int dotdot;
	int q = kiln_layer_apply_clean_name(e->path, a->mode == KILN_APPLY_EXTRACT, &path,
					    &dotdot);
	if (q == -KILN_ENOMEM)
		return oom(err);
	if (q < 0)
		return kiln_layer_apply_fail(a, err, KILN_EPARSE, "path leaves the root ('..')");
	if (!*path) {
		a->res.skipped++; /* the root itself: its metadata is the caller's */
		return 0;
	}
	for (const char *c = path; *c;) {
		size_t n = strcspn(c, "/");
		if (n > NAME_MAX)
			return kiln_layer_apply_fail(a, err, KILN_ELIMIT,
						     "a name component is longer than %d bytes",
						     NAME_MAX);
		c += n + (c[n] == '/');
	}
	char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *dir = "";
	if (slash) {
		*slash = '\0';
		dir = path;
	}
	cleanup_free char *full = slash ? kiln_asprintf("%s/%s", dir, base) : kiln_strdup(base);
	if (!full)
		return oom(err);

	if (a->mode != KILN_APPLY_EXTRACT) {
		/* AUFS metadata (.wh..wh.plnk, .wh..wh.aufs, ...) is not content */
		if ((strncmp(full, ".wh..wh.", 8) == 0 || strncmp(base, ".wh..wh.", 8) == 0) &&
		    strcmp(base, ".wh..wh..opq") != 0) {
			a->res.skipped++;
			return 0;
		}
		if (strcmp(base, ".wh..wh..opq") == 0)
			return opaque(a, dir, err);
		if (strncmp(base, ".wh.", 4) == 0)
			return whiteout(a, e, dir, base + 4, err);
	}
	return create_entry(a, e, full, dir, base, err);
}

/* Directory modes and times, last entry first so the last one for a path wins. */
static int fix_dirs(struct apply *a, struct kiln_error *err)
{
	struct kiln_layer_pathset done = KILN_LAYER_PATHSET_INIT;
	int r = 0;
	for (size_t i = a->n_dirs; i-- > 0 && r == 0;) {
		struct dir_fix *d = &a->dirs[i];
		int added = kiln_layer_pathset_add(&done, d->path, strlen(d->path));
		if (added < 0) {
			r = oom(err);
			break;
		}
		if (added == 0)
			continue;
		int fd = kiln_layer_apply_open_in_root(a, d->path,
						       O_PATH | O_DIRECTORY | O_NOFOLLOW);
		if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP)
			continue; /* replaced by a later entry */
		if (fd < 0) {
			r = kiln_fail(err, KILN_EIO, -fd, "resolving directory '%s'", d->path);
			break;
		}
		struct stat st;
		char proc[64];
		(void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (fstat(fd, &st) == 0 && st.st_dev == d->dev && st.st_ino == d->ino) {
			struct timespec ts[2] = { { d->mtime, (long) d->mtime_nsec },
						  { d->mtime, (long) d->mtime_nsec } };
			if (fchmodat(AT_FDCWD, proc, d->mode, 0) < 0)
				r = kiln_fail(err, KILN_EIO, errno, "chmod %04o '%s'", d->mode,
					      d->path);
			else if (utimensat(AT_FDCWD, proc, ts, 0) < 0)
				r = kiln_fail(err, KILN_EIO, errno, "setting the times of '%s'",
					      d->path);
		}
		(void) close(fd);
	}
	kiln_layer_pathset_release(&done);
	return r;
}

static int run(struct apply *a, int fd, const struct kiln_layer_apply_opts *o,
	       struct kiln_error *err)
{
	struct kiln_layer_read_opts ro = {
		.limits = o->limits,
		.expect_digest = o->expect_digest,
		.expect_diff_id = o->expect_diff_id,
		.ctx = o->ctx,
	};
	int q = kiln_layer_reader_new(fd, &ro, &a->r, err);
	if (q < 0)
		return q;
	for (;;) {
		const struct kiln_tar_entry *e;
		a->e = NULL;
		q = kiln_layer_reader_next(a->r, &e, err);
		if (q < 0)
			return q;
		if (q == 0)
			break;
		a->e = e;
		q = apply_entry(a, e, err);
		if (q < 0)
			return q;
	}
	a->e = NULL;
	kiln_layer_apply_parent_forget(a);
	q = kiln_layer_reader_finish(a->r, &a->res.digests, err);
	if (q < 0)
		return q;
	return fix_dirs(a, err);
}

int kiln_layer_apply(int fd, int root_fd, const struct kiln_layer_apply_opts *opts,
		     struct kiln_layer_apply_result *ret, struct kiln_error *err)
{
	struct kiln_layer_apply_opts o = { .uid = -1, .gid = -1 };
	if (opts)
		o = *opts;
	if (o.mode != KILN_APPLY_LAYER && o.mode != KILN_APPLY_OVERLAY &&
	    o.mode != KILN_APPLY_EXTRACT)
		return kiln_fail(err, KILN_EINVAL, 0, "unknown layer apply mode %d", (int) o.mode);
	if (o.uid > (int64_t) UINT32_MAX - 1 || o.gid > (int64_t) UINT32_MAX - 1)
		return kiln_fail(err, KILN_EINVAL, 0, "owner %lld:%lld out of range",
				 (long long) o.uid, (long long) o.gid);
	struct stat st;
	if (fstat(root_fd, &st) < 0)
		return kiln_fail_errno(err, "stat the destination directory");
	if (!S_ISDIR(st.st_mode))
		return kiln_fail(err, KILN_EINVAL, ENOTDIR, "the destination is not a directory");

	struct apply a = {
		.root = root_fd,
		.root_dev = st.st_dev,
		.mode = o.mode,
		.flags = o.flags,
		.ctx = o.ctx,
		.privileged = geteuid() == 0,
		.uid_override = o.uid,
		.gid_override = o.gid,
		.created = KILN_LAYER_PATHSET_INIT,
		.whiteouts = KILN_LAYER_PATHSET_INIT,
		.pcache_fd = -1,
	};
	a.do_chown = a.privileged && !(o.flags & KILN_APPLY_NO_CHOWN);
	a.buf = kiln_malloc(APPLY_BUF);
	int q = a.buf ? run(&a, fd, &o, err) : oom(err);
	if (q == 0 && ret)
		*ret = a.res;

	kiln_layer_apply_parent_forget(&a);
	kiln_layer_reader_free(a.r);
	kiln_layer_pathset_release(&a.created);
	kiln_layer_pathset_release(&a.whiteouts);
	for (size_t i = 0; i < a.n_dirs; i++)
		free(a.dirs[i].path);
	free(a.dirs);
	free(a.buf);
	return q;
}
