/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Directory tree -> tar entries. Depth first, each directory's children in
 * byte order (whiteouts first, the opaque marker before them), hardlinks by
 * (dev, ino). For an overlayfs upper directory, overlay whiteouts (0:0
 * character devices) and opaque directories become OCI whiteouts.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/fs.h"
#include "layer/internal.h"

#define MAX_DEPTH 512
#define COPY_BUF ((size_t) 256 * 1024)
#define XATTR_LIST_MAX_BYTES 65536
#define XATTR_VALUE_MAX_BYTES 65536

/* ---------------------------------------------------------------------- */
/* (dev, ino) -> name                                                      */
/* ---------------------------------------------------------------------- */

struct link_slot {
	dev_t dev;
	ino_t ino;
	char *name;
};

struct link_map {
	struct link_slot *slots;
	size_t cap, len;
};

void kiln_layer_link_map_free(struct link_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].name);
	free(m->slots);
	free(m);
}

static size_t link_find(const struct link_map *m, dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t) dev * UINT64_C(0x9e3779b97f4a7c15)) ^
		     ((uint64_t) ino * 0xff51afd7ed558ccdULL);
	size_t i = (size_t) (h ^ (h >> 29)) & (m->cap - 1);
	while (m->slots[i].name && !(m->slots[i].dev == dev && m->slots[i].ino == ino))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static const char *link_get(const struct link_map *m, dev_t dev, ino_t ino)
{
	if (!m || !m->cap)
		return NULL;
	return m->slots[link_find(m, dev, ino)].name;
}

static int link_put(struct link_map **mp, dev_t dev, ino_t ino, const char *name)
{
	if (!*mp) {
		*mp = kiln_calloc(1, sizeof(**mp));
		if (!*mp)
			return -KILN_ENOMEM;
	}
	struct link_map *m = *mp;
	if ((m->len + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		struct link_slot *ns = kiln_calloc(ncap, sizeof(*ns));
		if (!ns)
			return -KILN_ENOMEM;
		struct link_map tmp = { ns, ncap, 0 };
		for (size_t i = 0; i < m->cap; i++)
			if (m->slots[i].name)
				ns[link_find(&tmp, m->slots[i].dev, m->slots[i].ino)] = m->slots[i];
		free(m->slots);
		m->slots = ns;
		m->cap = ncap;
	}
	char *n = kiln_strdup(name);
	if (!n)
		return -KILN_ENOMEM;
	size_t i = link_find(m, dev, ino);
	free(m->slots[i].name);
	m->slots[i] = (struct link_slot){ dev, ino, n };
	m->len++;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* xattrs                                                                  */
/* ---------------------------------------------------------------------- */

struct walk {
	struct kiln_layer_writer *w;
	enum kiln_layer_tree_mode mode;
	unsigned flags;
	const struct kiln_ctx *ctx;
	unsigned char *buf;
};

/* An object's xattrs are reached through its fd, or else "/proc/self/fd/<dirfd>/<name>". */
struct obj {
	int fd;
	int dfd;
	const char *name;
	char proc[64 + 256];
};

static void obj_init(struct obj *o, int fd, int dfd, const char *name)
{
	o->fd = fd;
	o->dfd = dfd;
	o->name = name;
	(void) snprintf(o->proc, sizeof(o->proc), "/proc/self/fd/%d/%s", dfd, name);
}

static ssize_t obj_getxattr(const struct obj *o, const char *key, void *buf, size_t len)
{
	if (o->fd >= 0)
		return fgetxattr(o->fd, key, buf, len);
	return lgetxattr(o->proc, key, buf, len);
}

static ssize_t obj_listxattr(const struct obj *o, char *buf, size_t len)
{
	if (o->fd >= 0)
		return flistxattr(o->fd, buf, len);
	return kiln_listxattrat(o->dfd, o->name, buf, len);
}

static int xattr_absent(int e)
{
	return e == ENODATA || e == ENOTSUP || e == EOPNOTSUPP || e == EPERM;
}

/* 1 when the xattr exists (value in buf, length in *ret_len), 0 when not. */
static int get_one(const struct obj *o, const char *key, char *buf, size_t cap, size_t *ret_len,
		   const char *path, struct kiln_error *err)
{
	ssize_t n = obj_getxattr(o, key, buf, cap);
	if (n < 0) {
		if (xattr_absent(errno))
			return 0;
		if (errno == ERANGE)
			return kiln_fail(err, KILN_ELIMIT, 0,
					 "xattr %s of '%s' larger than %zu bytes", key, path, cap);
		return kiln_fail_errno(err, "reading xattr %s of '%s'", key, path);
	}
	*ret_len = (size_t) n;
	return 1;
}

static int skip_xattr(const char *name)
{
	return strncmp(name, "trusted.overlay.", 16) == 0 ||
	       strncmp(name, "user.overlay.", 13) == 0 || strcmp(name, "security.selinux") == 0;
}

static int push_xattr(struct kiln_tar_entry *e, const char *name, const void *val, size_t len)
{
	struct kiln_tar_xattr *nx = kiln_reallocarray(e->xattrs, e->n_xattrs + 1, sizeof(*nx));
	if (!nx)
		return -KILN_ENOMEM;
	e->xattrs = nx;
	char *n = kiln_strdup(name);
	void *v = kiln_memdup(val, len ? len : 1);
	if (!n || !v) {
		free(n);
		free(v);
		return -KILN_ENOMEM;
	}
	nx[e->n_xattrs++] = (struct kiln_tar_xattr){ n, v, len };
	return 0;
}

/*
 * An object's xattr names, listed once: the checks below look them up
 * instead of asking the kernel for each name they care about (an overlay
 * upper's file took five getxattr calls, all answering ENODATA).
 */
struct xnames {
	char small[1024];
	char *buf; /* small, or allocated when the list is longer */
	size_t len;
};

static void xnames_release(struct xnames *x)
{
	if (x->buf && x->buf != x->small)
		free(x->buf);
}

static int xnames_read(const struct obj *o, struct xnames *x, const char *path,
		       struct kiln_error *err)
{
	x->buf = x->small;
	x->len = 0;
	ssize_t n = obj_listxattr(o, x->small, sizeof(x->small));
	if (n < 0 && errno == ERANGE) {
		x->buf = kiln_malloc(XATTR_LIST_MAX_BYTES);
		if (!x->buf)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		n = obj_listxattr(o, x->buf, XATTR_LIST_MAX_BYTES);
	}
	if (n < 0) {
		if (errno == ENOTSUP || errno == EOPNOTSUPP)
			return 0;
		return kiln_fail_errno(err, "listing xattrs of '%s'", path);
	}
	x->len = (size_t) n;
	return 0;
}

static int xnames_has(const struct xnames *x, const char *name)
{
	for (const char *p = x->buf; p < x->buf + x->len; p += strlen(p) + 1)
		if (!strcmp(p, name))
			return 1;
	return 0;
}

static int read_xattrs(struct walk *wk, const struct obj *o, const struct xnames *x, int is_reg,
		       struct kiln_tar_entry *e, const char *path, struct kiln_error *err)
{
	int all = !!(wk->flags & KILN_WRITE_ALL_XATTRS);
	/* file capabilities only, as Docker and BuildKit write them */
	if (!all && (!is_reg || !xnames_has(x, "security.capability")))
		return 0;
	cleanup_free char *val = kiln_malloc(XATTR_VALUE_MAX_BYTES);
	if (!val)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	size_t len = 0;
	/* sorted by the encoder; the list order does not matter */
	for (const char *p = x->buf; p < x->buf + x->len; p += strlen(p) + 1) {
		if (!*p || skip_xattr(p) || (!all && strcmp(p, "security.capability")))
			continue;
		int r = get_one(o, p, val, XATTR_VALUE_MAX_BYTES, &len, path, err);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if (push_xattr(e, p, val, len) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	return 0;
}

/* Overlay metadata kiln does not produce and cannot express in a tar. */
static int check_overlay_unsupported(const struct xnames *x, const char *path,
				     struct kiln_error *err)
{
	static const char *const keys[] = {
		"trusted.overlay.redirect",
		"user.overlay.redirect",
		"trusted.overlay.metacopy",
		"user.overlay.metacopy",
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(keys); i++)
		if (xnames_has(x, keys[i]))
			return kiln_fail(
				err, KILN_EUNSUPP, 0,
				"'%s' has %s: overlayfs redirect_dir/metacopy uppers cannot "
				"be turned into a layer",
				path, keys[i]);
	return 0;
}

static int is_opaque(const struct obj *o, const struct xnames *x)
{
	static const char *const keys[] = { "trusted.overlay.opaque", "user.overlay.opaque" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(keys); i++) {
		char v[4];
		if (xnames_has(x, keys[i]) && obj_getxattr(o, keys[i], v, sizeof(v)) == 1 &&
		    v[0] == 'y')
			return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* The walk                                                                */
/* ---------------------------------------------------------------------- */

struct child {
	char *name;
	char *out; /* name in the archive (".wh.<name>" for whiteouts) */
	int whiteout;
	struct stat st;
};

static int child_cmp(const void *a, const void *b)
{
	const struct child *x = a, *y = b;
	if (x->whiteout != y->whiteout)
		return x->whiteout ? -1 : 1;
	return strcmp(x->out, y->out);
}

static void children_free(struct child *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].name);
		free(c[i].out);
	}
	free(c);
}

static char *join(const char *dir, const char *name)
{
	return *dir ? kiln_asprintf("%s/%s", dir, name) : kiln_strdup(name);
}

static void entry_from_stat(struct kiln_tar_entry *e, const struct stat *st)
{
	e->mode = st->st_mode & 07777;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->mtime = st->st_mtim.tv_sec;
	e->mtime_nsec = (uint32_t) st->st_mtim.tv_nsec; /* for KILN_WRITE_ROUND_MTIME */
}

static int copy_file(struct walk *wk, int fd, uint64_t size, const char *path,
		     struct kiln_error *err)
{
	uint64_t left = size;
	/* the last read asks for one byte more than is left: a file that grew
	 * gives it, and one that did not ends the read short (a regular file's
	 * read is short only at its end), so no read of its own looks for the
	 * end; a layer of small files makes one read per file, not two */
	int at_end = 0;
	while (left > 0) {
		size_t want = left < COPY_BUF ? (size_t) left + 1 : COPY_BUF;
		ssize_t n = read(fd, wk->buf, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return kiln_fail_errno(err, "reading '%s'", path);
		}
		if (n == 0)
			return kiln_fail(err, KILN_EIO, 0, "'%s' shrank while it was being read",
					 path);
		if ((uint64_t) n > left)
			return kiln_fail(err, KILN_EIO, 0, "'%s' grew while it was being read",
					 path);
		int r = kiln_layer_writer_write_data(wk->w, wk->buf, (size_t) n, err);
		if (r < 0)
			return r;
		at_end = (size_t) n < want;
		left -= (uint64_t) n;
	}
	if (at_end)
		return 0;
	ssize_t n;
	do
		n = read(fd, wk->buf, 1);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return kiln_fail(err, KILN_EIO, 0, "'%s' grew while it was being read", path);
	return 0;
}

static int walk_dir(struct walk *wk, int dfd, const char *rel, int depth, int opaque,
		    const struct stat *dst, struct kiln_error *err);

static int emit_child(struct walk *wk, int dfd, const char *rel, struct child *c, int depth,
		      struct kiln_error *err)
{
	cleanup(kiln_tar_entry_release) struct kiln_tar_entry e = { 0 };
	const struct stat *st = &c->st;
	int r;

	e.path = join(rel, c->out);
	if (!e.path)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	entry_from_stat(&e, st);

	if (c->whiteout) {
		/* as Docker converts overlay whiteouts: an empty 0600 file */
		e.type = KILN_TAR_REG;
		e.mode = 0600;
		return kiln_layer_writer_add(wk->w, &e, err);
	}

	if (S_ISDIR(st->st_mode)) {
		cleanup_close int fd =
			openat(dfd, c->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return kiln_fail_errno(err, "opening '%s'", e.path);
		struct obj o;
		obj_init(&o, fd, dfd, c->name);
		/* a directory has no capability: only overlay markers or
		 * KILN_WRITE_ALL_XATTRS make its names worth listing */
		cleanup(xnames_release) struct xnames x = { .buf = x.small };
		if ((wk->mode == KILN_TREE_OVERLAY_UPPER || (wk->flags & KILN_WRITE_ALL_XATTRS)) &&
		    (r = xnames_read(&o, &x, e.path, err)) < 0)
			return r;
		int op = 0;
		if (wk->mode == KILN_TREE_OVERLAY_UPPER) {
			r = check_overlay_unsupported(&x, e.path, err);
			if (r < 0)
				return r;
			op = is_opaque(&o, &x);
		}
		r = read_xattrs(wk, &o, &x, 0, &e, e.path, err);
		if (r < 0)
			return r;
		e.type = KILN_TAR_DIR;
		r = kiln_layer_writer_add(wk->w, &e, err);
		if (r < 0)
			return r;
		return walk_dir(wk, fd, e.path, depth + 1, op, st, err);
	}

	struct link_map **links = kiln_layer_writer_links(wk->w);
	const char *first = st->st_nlink > 1 ? link_get(*links, st->st_dev, st->st_ino) : NULL;

	if (S_ISREG(st->st_mode)) {
		cleanup_close int fd =
			openat(dfd, c->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
		if (fd < 0 && errno == EPERM)
			fd = openat(dfd, c->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return kiln_fail_errno(err, "opening '%s'", e.path);
		struct stat fst;
		if (fstat(fd, &fst) < 0)
			return kiln_fail_errno(err, "stat '%s'", e.path);
		if (fst.st_ino != st->st_ino || fst.st_dev != st->st_dev || !S_ISREG(fst.st_mode))
			return kiln_fail(err, KILN_EIO, 0, "'%s' changed while it was being read",
					 e.path);
		struct obj o;
		obj_init(&o, fd, dfd, c->name);
		cleanup(xnames_release) struct xnames x = { .buf = NULL };
		if ((r = xnames_read(&o, &x, e.path, err)) < 0)
			return r;
		if (wk->mode == KILN_TREE_OVERLAY_UPPER) {
			r = check_overlay_unsupported(&x, e.path, err);
			if (r < 0)
				return r;
		}
		r = read_xattrs(wk, &o, &x, 1, &e, e.path, err);
		if (r < 0)
			return r;
		if (first) {
			e.type = KILN_TAR_HARDLINK;
			e.link = kiln_strdup(first);
			if (!e.link)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			return kiln_layer_writer_add(wk->w, &e, err);
		}
		if (fst.st_nlink > 1 && link_put(links, st->st_dev, st->st_ino, e.path) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		e.type = KILN_TAR_REG;
		e.size = (uint64_t) fst.st_size;
		e.mtime = fst.st_mtim.tv_sec;
		e.mtime_nsec = (uint32_t) fst.st_mtim.tv_nsec;
		r = kiln_layer_writer_add(wk->w, &e, err);
		if (r < 0)
			return r;
		return copy_file(wk, fd, e.size, e.path, err);
	}

	struct obj o;
	obj_init(&o, -1, dfd, c->name);
	if (S_ISLNK(st->st_mode)) {
		char target[KILN_LAYER_MAX_PATH_DEFAULT + 1];
		ssize_t n = readlinkat(dfd, c->name, target, sizeof(target));
		if (n < 0)
			return kiln_fail_errno(err, "reading link '%s'", e.path);
		if ((size_t) n >= sizeof(target))
			return kiln_fail(err, KILN_ELIMIT, 0, "link target of '%s' is too long",
					 e.path);
		target[n] = '\0';
		e.type = KILN_TAR_SYMLINK;
		e.link = kiln_strdup(target);
		if (!e.link)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		e.type = S_ISCHR(st->st_mode) ? KILN_TAR_CHAR : KILN_TAR_BLOCK;
		e.devmajor = major(st->st_rdev);
		e.devminor = minor(st->st_rdev);
	} else if (S_ISFIFO(st->st_mode)) {
		e.type = KILN_TAR_FIFO;
	} else {
		return 0; /* sockets are not archived (Docker and containerd skip them) */
	}
	/* a link or a device has no capability: only KILN_WRITE_ALL_XATTRS lists */
	cleanup(xnames_release) struct xnames x = { .buf = x.small };
	if ((wk->flags & KILN_WRITE_ALL_XATTRS) && (r = xnames_read(&o, &x, e.path, err)) < 0)
		return r;
	r = read_xattrs(wk, &o, &x, 0, &e, e.path, err);
	if (r < 0)
		return r;
	if (first) {
		free(e.link);
		e.type = KILN_TAR_HARDLINK;
		e.link = kiln_strdup(first);
		if (!e.link)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	} else if (st->st_nlink > 1 && link_put(links, st->st_dev, st->st_ino, e.path) < 0) {
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	return kiln_layer_writer_add(wk->w, &e, err);
}

static int list_children(struct walk *wk, int dfd, const char *rel, struct child **ret,
			 size_t *ret_n, struct kiln_error *err)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return kiln_fail_errno(err, "opening '%s'", *rel ? rel : ".");
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		(void) close(fd);
		return kiln_fail(err, KILN_EIO, e, "reading directory '%s'", *rel ? rel : ".");
	}
	struct child *c = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			struct child *nc = kiln_reallocarray(c, ncap, sizeof(*nc));
			if (!nc) {
				r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
				break;
			}
			c = nc;
			cap = ncap;
		}
		memset(&c[n], 0, sizeof(c[n]));
		c[n].name = kiln_strdup(de->d_name);
		if (!c[n].name) {
			r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			break;
		}
		n++;
		errno = 0;
	}
	if (r == 0 && errno)
		r = kiln_fail_errno(err, "reading directory '%s'", *rel ? rel : ".");
	(void) closedir(d);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct child *ch = &c[i];
		if (fstatat(dfd, ch->name, &ch->st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = kiln_fail_errno(err, "stat '%s/%s'", rel, ch->name);
			break;
		}
		ch->whiteout = wk->mode == KILN_TREE_OVERLAY_UPPER && kiln_is_whiteout(&ch->st);
		if (!ch->whiteout && strncmp(ch->name, ".wh.", 4) == 0) {
			r = kiln_fail(err, KILN_EINVAL, 0,
				      "'%s%s%s' cannot be stored in a layer: names starting with "
				      "'.wh.' mark deletions",
				      rel, *rel ? "/" : "", ch->name);
			break;
		}
		ch->out = ch->whiteout ? kiln_asprintf(".wh.%s", ch->name) : kiln_strdup(ch->name);
		if (!ch->out)
			r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	if (r < 0) {
		children_free(c, n);
		return r;
	}
	if (n > 1)
		qsort(c, n, sizeof(*c), child_cmp);
	*ret = c;
	*ret_n = n;
	return 0;
}

static int walk_dir(struct walk *wk, int dfd, const char *rel, int depth, int opaque,
		    const struct stat *dst, struct kiln_error *err)
{
	if (depth > MAX_DEPTH)
		return kiln_fail(err, KILN_ELIMIT, 0, "'%s' is nested deeper than %d directories",
				 rel, MAX_DEPTH);
	if (kiln_cancelled(wk->ctx))
		return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
	if (opaque) {
		/* as Docker writes it: right after the directory, with its owner and mode */
		cleanup(kiln_tar_entry_release) struct kiln_tar_entry m = { 0 };
		m.type = KILN_TAR_REG;
		m.path = join(rel, ".wh..wh..opq");
		if (!m.path)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		m.mode = dst->st_mode & 0777;
		m.uid = dst->st_uid;
		m.gid = dst->st_gid;
		int r = kiln_layer_writer_add(wk->w, &m, err);
		if (r < 0)
			return r;
	}
	struct child *c = NULL;
	size_t n = 0;
	int r = list_children(wk, dfd, rel, &c, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++)
		r = emit_child(wk, dfd, rel, &c[i], depth, err);
	children_free(c, n);
	return r;
}

int kiln_layer_writer_add_tree(struct kiln_layer_writer *w, int dir_fd, const char *prefix,
			       enum kiln_layer_tree_mode mode, struct kiln_error *err)
{
	cleanup_free char *pfx = kiln_strdup(prefix ? prefix : "");
	if (!pfx)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	char *p = pfx;
	while (*p == '/')
		p++;
	size_t n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		p[--n] = '\0';
	if (*p && !kiln_layer_path_is_clean(p))
		return kiln_fail(err, KILN_EINVAL, 0, "invalid layer path prefix '%s'", prefix);

	cleanup_close int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return kiln_fail_errno(err, "opening the layer's source directory");
	struct stat st;
	if (fstat(fd, &st) < 0)
		return kiln_fail_errno(err, "stat the layer's source directory");
	cleanup_free unsigned char *buf = kiln_malloc(COPY_BUF);
	if (!buf)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	struct walk wk = {
		.w = w,
		.mode = mode,
		.flags = kiln_layer_writer_flags(w),
		.ctx = kiln_layer_writer_ctx(w),
		.buf = buf,
	};
	int opaque = 0;
	if (mode == KILN_TREE_OVERLAY_UPPER) {
		struct obj o;
		obj_init(&o, fd, dir_fd, ".");
		cleanup(xnames_release) struct xnames x = { .buf = NULL };
		int r = xnames_read(&o, &x, p, err);
		if (r < 0)
			return r;
		opaque = is_opaque(&o, &x);
	}
	return walk_dir(&wk, fd, p, 0, opaque && *p, &st, err);
}
