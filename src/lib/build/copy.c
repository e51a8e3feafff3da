/* SPDX-License-Identifier: Apache-2.0 */
/*
 * COPY and ADD into a root filesystem with fsutil's copier semantics, as
 * BuildKit's file operation applies them: the destination is resolved in
 * the root (its symlinks followed inside it), a file onto a directory goes
 * inside it, a directory means its contents, missing parents are made 0755 (or --chmod's),
 * files are replaced, a directory is never replaced by a file, nested
 * directories take the source's metadata after their contents, hard links
 * within a source stay links. Owners are the source's (0:0 for the context)
 * unless --chown; modes the source's unless --chmod (octal or symbolic, on
 * files and directories alike); times the source's. ADD extracts local tar
 * archives instead of copying them.
 *
 * Every path below the root is opened with openat2(RESOLVE_IN_ROOT), so
 * nothing the image holds (an absolute symlink, "..") can make a write land
 * outside it. Data moves with copy_file_range (reflinks where the
 * filesystem has them). When a match holds many files, workers (one per CPU)
 * create and fill the regular files while this thread walks the tree and
 * makes the directories, links and the rest in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "build/build-private.h"

#define COPY_CHUNK ((size_t) 1 << 30)
#define XATTR_LIST_MAX_BYTES 65536

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

int bb_openat2(int dir, const char *rel, int flags, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t) (flags | O_CLOEXEC), .resolve = resolve };
	int fd;
	do
		fd = (int) syscall(SYS_openat2, dir, rel && *rel ? rel : ".", &how, sizeof(how));
	while (fd < 0 && errno == EINTR);
	return fd;
}

int bb_open_in_root(int root, const char *rel, int flags)
{
	return bb_openat2(root, rel, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

int bb_open_beneath(int dir, const char *rel, int flags)
{
	return bb_openat2(dir, rel, flags | O_NOFOLLOW,
			  RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

/* "a/b/c" -> parent "a/b", name "c" (parent "" for a top-level name) */
static void split(const char *rel, char *parent, size_t size, const char **name)
{
	const char *slash = strrchr(rel, '/');
	size_t n = slash ? (size_t) (slash - rel) : 0;
	if (n >= size)
		n = size - 1;
	memcpy(parent, rel, n);
	parent[n] = '\0';
	*name = slash ? slash + 1 : rel;
}

static void set_times(int dirfd, const char *name, int64_t mtime)
{
	if (mtime < 0)
		return;
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
	(void) utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

int bb_mkdir_all(int root_fd, const char *path, mode_t mode, int has_owner, uint32_t uid,
		 uint32_t gid, int64_t mtime, struct kiln_error *err)
{
	cleanup_free char *rel = NULL;
	int r = kiln_plan_resolve_in_root(root_fd, path, 1, &rel, err);
	if (r < 0)
		return r;
	size_t n = strlen(rel);
	for (size_t i = 0; i <= n; i++) {
		if (i < n && rel[i] != '/')
			continue;
		char save = rel[i];
		rel[i] = '\0';
		int fd = bb_open_in_root(root_fd, rel, O_RDONLY | O_DIRECTORY);
		if (fd >= 0) {
			(void) close(fd);
		} else if (errno == ENOENT) {
			char parent[PATH_MAX];
			const char *name;
			split(rel, parent, sizeof(parent), &name);
			int pfd = bb_open_in_root(root_fd, parent, O_RDONLY | O_DIRECTORY);
			if (pfd < 0)
				return kiln_fail_errno(err, "mkdir /%s", rel);
			if (mkdirat(pfd, name, mode) < 0 && errno != EEXIST) {
				r = kiln_fail_errno(err, "mkdir /%s", rel);
				(void) close(pfd);
				return r;
			}
			/* the mode as asked, whatever the umask kiln runs under */
			if (fchmodat(pfd, name, mode, 0) < 0) {
				r = kiln_fail_errno(err, "chmod /%s", rel);
				(void) close(pfd);
				return r;
			}
			if ((has_owner && fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)) {
				r = kiln_fail_errno(err, "chown /%s", rel);
				(void) close(pfd);
				return r;
			}
			set_times(pfd, name, mtime);
			(void) close(pfd);
		} else {
			return kiln_fail(err, KILN_EIO, errno, "mkdir /%s: %s in the way", rel,
					 errno == ENOTDIR ? "a file is" : "something is");
		}
		rel[i] = save;
	}
	return 0;
}

/* ---- copying one entry -------------------------------------------------------- */

struct link_seen {
	dev_t dev;
	ino_t ino;
	char *target; /* relative to the destination root */
};

/* How a copier moves file contents: the first that works, remembered for
 * the step (every file of a step goes between the same two trees). */
enum copy_way { COPY_RANGE, COPY_SENDFILE, COPY_READ_WRITE };

struct copier {
	struct bb *b;
	int dst;
	int src;
	const struct bb_copy_opts *o;
	struct kiln_error *err;
	struct link_seen *links;
	size_t n_links, alloc_links;
	/* directories whose metadata is set once their contents are in */
	struct kiln_strv dirs;
	const struct kiln_plan_item **dir_items; /* the item each came from */
	size_t alloc_dirs;
	/* the parent directory of the last entry, kept open for its siblings */
	char *pdir;
	int pfd;
	/* The directories this match created, along the current path (entries
	 * come depth first): nothing can be in the way inside them, so their
	 * entries skip the lookup of what is there, which on an overlay looks
	 * through every layer to find nothing. */
	struct kiln_strv fresh;
	/* the match's target, when the match created it for a directory's
	 * contents: its files may be linked too (it is in the upper directory) */
	char *fresh_target;
	enum copy_way way;
	struct pool *pool; /* NULL: every file is copied by this thread */
	int reuse_ok;	   /* files of this match may come from the step's last layer */
	const struct kiln_plan_item *items; /* the selection's */
	uint8_t *grouped; /* per item: shares its inode with another item (NULL: none does) */
};

/* Whether a file is one of a group of hard links within the selection. */
static int in_group(const struct copier *c, const struct kiln_plan_item *it)
{
	return c->grouped && c->items && c->grouped[it - c->items];
}

struct inode_ref {
	uint64_t dev, ino;
	size_t item;
};

static int inode_ref_cmp(const void *a, const void *b)
{
	const struct inode_ref *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

/*
 * The hard-link groups within the selection: regular files whose inode
 * another item has too. A link count above 1 alone does not make one: the
 * other links may be outside the selection (in another layer, where a COPY
 * linked the files it took from its last layer).
 */
static int mark_groups(struct copier *c, const struct kiln_plan_selection *sel)
{
	size_t n = 0;
	for (size_t i = 0; i < sel->n_items; i++)
		n += S_ISREG(sel->items[i].st.mode) && sel->items[i].st.nlink > 1;
	c->items = sel->items;
	if (n < 2)
		return 0;
	cleanup_free struct inode_ref *v = kiln_calloc(n, sizeof(*v));
	c->grouped = kiln_calloc(sel->n_items, 1);
	if (!v || !c->grouped)
		return oom(c->err);
	n = 0;
	for (size_t i = 0; i < sel->n_items; i++) {
		const struct kiln_plan_item *it = &sel->items[i];
		if (S_ISREG(it->st.mode) && it->st.nlink > 1)
			v[n++] = (struct inode_ref){ it->st.dev, it->st.ino, i };
	}
	qsort(v, n, sizeof(*v), inode_ref_cmp);
	for (size_t i = 0; i + 1 < n; i++)
		if (!inode_ref_cmp(&v[i], &v[i + 1]))
			c->grouped[v[i].item] = c->grouped[v[i + 1].item] = 1;
	return 0;
}

static void copier_release(struct copier *c)
{
	for (size_t i = 0; i < c->n_links; i++)
		free(c->links[i].target);
	free(c->links);
	kiln_strv_release(&c->dirs);
	kiln_strv_release(&c->fresh);
	free(c->fresh_target);
	free(c->dir_items);
	free(c->grouped);
	free(c->pdir);
	if (c->pfd >= 0)
		(void) close(c->pfd);
}

static int parent_fd(struct copier *c, const char *parent)
{
	if (c->pfd >= 0 && c->pdir && !strcmp(c->pdir, parent))
		return c->pfd;
	if (c->pfd >= 0)
		(void) close(c->pfd);
	free(c->pdir);
	c->pdir = kiln_strdup(parent);
	c->pfd = c->pdir ? bb_open_in_root(c->dst, parent, O_RDONLY | O_DIRECTORY) : -1;
	if (c->pfd < 0) {
		if (!c->pdir)
			return oom(c->err);
		return kiln_fail_errno(c->err, "opening /%s", parent);
	}
	return c->pfd;
}

static int final_mode(struct copier *c, const struct kiln_plan_item *it, mode_t *ret)
{
	uint32_t m = it->st.mode & 07777;
	if (c->o->chmod) {
		uint32_t out;
		int r = kiln_df_chmod_apply(c->o->chmod, it->st.mode, S_ISDIR(it->st.mode),
					    &out, c->err);
		if (r < 0)
			return r;
		m = out & 07777;
	}
	*ret = (mode_t) m;
	return 0;
}

static void owner_of(const struct copier *c, const struct kiln_plan_item *it, uid_t *u, gid_t *g)
{
	*u = c->o->has_owner ? c->o->uid : it->st.uid;
	*g = c->o->has_owner ? c->o->gid : it->st.gid;
}

static void times_of(const struct copier *c, const struct kiln_plan_item *it, struct timespec ts[2])
{
	if (c->o->mtime >= 0) {
		ts[0] = ts[1] = (struct timespec){ c->o->mtime, 0 };
	} else {
		ts[0] = kiln_plan_timespec(it->st.atime_ns);
		ts[1] = kiln_plan_timespec(it->st.mtime_ns);
	}
}

/* copyFileInfo: owner, mode, times */
static int file_info(struct copier *c, int pfd, const char *name, int fd,
		     const struct kiln_plan_item *it, const char *shown)
{
	uid_t u;
	gid_t g;
	owner_of(c, it, &u, &g);
	int r = fd >= 0 ? fchown(fd, u, g) : fchownat(pfd, name, u, g, AT_SYMLINK_NOFOLLOW);
	if (r < 0)
		return kiln_fail_errno(c->err, "chown %s", shown);
	if (!S_ISLNK(it->st.mode)) {
		mode_t m;
		if ((r = final_mode(c, it, &m)) < 0)
			return r;
		r = fd >= 0 ? fchmod(fd, m) : fchmodat(pfd, name, m, 0);
		if (r < 0)
			return kiln_fail_errno(c->err, "chmod %s", shown);
	}
	struct timespec ts[2];
	times_of(c, it, ts);
	r = fd >= 0 ? futimens(fd, ts) : utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW);
	if (r < 0)
		return kiln_fail_errno(c->err, "setting the times of %s", shown);
	return 0;
}

/* xattrs of a file: what the filesystem takes (capabilities, user.*) */
static void copy_xattrs(int from, int to)
{
	char *names = kiln_malloc(XATTR_LIST_MAX_BYTES);
	char *val = kiln_malloc(XATTR_LIST_MAX_BYTES);
	ssize_t n = names ? flistxattr(from, names, XATTR_LIST_MAX_BYTES) : -1;
	for (ssize_t i = 0; val && i < n; i += (ssize_t) strlen(names + i) + 1) {
		const char *k = names + i;
		if (!strncmp(k, "trusted.overlay.", 16) || !strncmp(k, "user.overlay.", 13) ||
		    !strcmp(k, "security.selinux"))
			continue;
		ssize_t vl = fgetxattr(from, k, val, XATTR_LIST_MAX_BYTES);
		if (vl >= 0)
			(void) fsetxattr(to, k, val, (size_t) vl, 0);
	}
	free(names);
	free(val);
}

static int way_refused(int e)
{
	return e == EXDEV || e == EINVAL || e == ENOSYS || e == EOPNOTSUPP || e == EBADF;
}

static int copy_data(struct copier *c, int in, int out, uint64_t size, const char *shown)
{
	uint64_t done = 0;
	char *buf = NULL;
	while (done < size) {
		size_t want = size - done > COPY_CHUNK ? COPY_CHUNK : (size_t) (size - done);
		ssize_t n;
		if (c->way == COPY_RANGE) {
			/* a reflink or an in-kernel copy on one file system */
			n = copy_file_range(in, NULL, out, NULL, want, 0);
			if (n < 0 && way_refused(errno)) {
				c->way = COPY_SENDFILE;
				continue;
			}
		} else if (c->way == COPY_SENDFILE) {
			/* between file systems (the context into an overlay): still
			 * no copy through user space */
			n = sendfile(out, in, NULL, want);
			if (n < 0 && way_refused(errno) && done == 0) {
				c->way = COPY_READ_WRITE;
				continue;
			}
		} else {
			if (!buf && !(buf = kiln_malloc(1 << 17)))
				return oom(c->err);
			n = read(in, buf, 1 << 17);
			if (n > 0 && kiln_write_all(out, buf, (size_t) n) < 0) {
				free(buf);
				return kiln_fail_errno(c->err, "writing %s", shown);
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return kiln_fail_errno(c->err, "copying %s", shown);
		}
		if (n == 0)
			break; /* the source shrank: take what is there */
		done += (uint64_t) n;
	}
	free(buf);
	return 0;
}

static int hardlink_source(struct copier *c, const struct kiln_plan_item *it, const char **ret)
{
	*ret = NULL;
	if (!in_group(c, it))
		return 0;
	for (size_t i = 0; i < c->n_links; i++)
		if (c->links[i].dev == it->st.dev && c->links[i].ino == it->st.ino) {
			*ret = c->links[i].target;
			return 0;
		}
	return 0;
}

static int remember_link(struct copier *c, const struct kiln_plan_item *it, const char *rel)
{
	if (!in_group(c, it))
		return 0;
	if (c->n_links == c->alloc_links) {
		size_t na = c->alloc_links ? c->alloc_links * 2 : 16;
		struct link_seen *n = kiln_reallocarray(c->links, na, sizeof(*n));
		if (!n)
			return oom(c->err);
		c->links = n;
		c->alloc_links = na;
	}
	c->links[c->n_links].target = kiln_strdup(rel);
	if (!c->links[c->n_links].target)
		return oom(c->err);
	c->links[c->n_links].dev = it->st.dev;
	c->links[c->n_links].ino = it->st.ino;
	c->n_links++;
	return 0;
}

static int defer_dir(struct copier *c, const char *rel, const struct kiln_plan_item *it)
{
	if (c->dirs.len == c->alloc_dirs) {
		size_t na = c->alloc_dirs ? c->alloc_dirs * 2 : 16;
		const struct kiln_plan_item **n = kiln_reallocarray(c->dir_items, na, sizeof(*n));
		if (!n)
			return oom(c->err);
		c->dir_items = n;
		c->alloc_dirs = na;
	}
	if (kiln_strv_push(&c->dirs, rel) < 0)
		return oom(c->err);
	c->dir_items[c->dirs.len - 1] = it;
	return 0;
}

/* Whether `parent` is a directory this match created (c->fresh). */
static int parent_is_fresh(struct copier *c, const char *parent)
{
	size_t pl = strlen(parent);
	while (c->fresh.len) {
		const char *top = c->fresh.items[c->fresh.len - 1];
		size_t tl = strlen(top);
		if (tl == pl && !memcmp(top, parent, pl))
			return 1;
		if (tl < pl && !memcmp(top, parent, tl) && parent[tl] == '/')
			return 0; /* an ancestor: parent itself was there already */
		free(c->fresh.items[--c->fresh.len]);
		c->fresh.items[c->fresh.len] = NULL;
	}
	return 0;
}

/* A regular file's contents and metadata, to `name` in `pfd` (`rel` in messages). */
static int copy_file(struct copier *c, const struct kiln_plan_item *it, int pfd, const char *name,
		     const char *rel)
{
	int in = openat(c->src, *it->path ? it->path : ".", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return kiln_fail_errno(c->err, "opening %s", it->path);
	int out = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		int r = kiln_fail_errno(c->err, "creating /%s", rel);
		(void) close(in);
		return r;
	}
	cleanup_free char *shown = kiln_asprintf("/%s", rel);
	int r = shown ? copy_data(c, in, out, (uint64_t) it->st.size, shown) : oom(c->err);
	/* xattrs after the owner: a chown clears security.capability (fsutil's
	 * copy sets the file info first, then the xattrs) */
	if (r >= 0)
		r = file_info(c, pfd, name, out, it, shown);
	if (r >= 0)
		copy_xattrs(in, out);
	(void) close(in);
	if (close(out) < 0 && r >= 0)
		r = kiln_fail_errno(c->err, "writing /%s", rel);
	return r;
}

int bb_copy_file_into(struct bb *b, int dst_fd, int src_fd, const struct kiln_plan_item *it,
		      const char *rel, const struct bb_copy_opts *o, struct kiln_error *err)
{
	struct copier c = { .b = b, .dst = dst_fd, .src = src_fd, .o = o, .err = err, .pfd = -1 };
	char parent[PATH_MAX];
	const char *name;
	if (strlen(rel) >= sizeof(parent))
		return kiln_fail(err, KILN_ELIMIT, ENAMETOOLONG, "/%s: path too long", rel);
	split(rel, parent, sizeof(parent), &name);
	int pfd = bb_open_in_root(dst_fd, parent, O_RDONLY | O_DIRECTORY);
	if (pfd < 0)
		return kiln_fail_errno(err, "opening /%s", parent);
	int r = copy_file(&c, it, pfd, name, rel);
	(void) close(pfd);
	return r;
}

/* ---- workers for regular files ------------------------------------------------ */

#define POOL_MIN_FILES 64 /* fewer are not worth the threads */
#define POOL_MAX_WORKERS 4
#define POOL_RING 256

struct file_job {
	const struct kiln_plan_item *it;
	int pfd;   /* the parent directory, a descriptor of the job's own */
	char *rel; /* relative to the destination root */
};

struct pool {
	const struct copier *c; /* its b, dst, src and o: read only */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct file_job ring[POOL_RING];
	size_t head, n, busy;
	int quit;
	int code;		/* of the first failure, 0 if none */
	struct kiln_error err; /* the first failure */
	pthread_t th[POOL_MAX_WORKERS];
	size_t n_th;
};

static void job_release(struct file_job *j)
{
	if (j->pfd >= 0)
		(void) close(j->pfd);
	free(j->rel);
}

static void *pool_main(void *arg)
{
	struct pool *p = arg;
	struct kiln_error err = KILN_ERROR_INIT;
	struct copier w = { .b = p->c->b,
			    .dst = p->c->dst,
			    .src = p->c->src,
			    .o = p->c->o,
			    .err = &err,
			    .pfd = -1,
			    .way = COPY_RANGE };
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->n && !p->quit)
			pthread_cond_wait(&p->cv, &p->mu);
		if (!p->n)
			break;
		struct file_job j = p->ring[p->head];
		p->head = (p->head + 1) % POOL_RING;
		p->n--;
		p->busy++;
		int skip = p->code != 0;
		pthread_cond_broadcast(&p->cv); /* room in the ring */
		pthread_mutex_unlock(&p->mu);
		const char *slash = strrchr(j.rel, '/');
		int r = skip ? 0 : copy_file(&w, j.it, j.pfd, slash ? slash + 1 : j.rel, j.rel);
		job_release(&j);
		pthread_mutex_lock(&p->mu);
		if (r < 0 && !p->code) {
			p->code = r;
			p->err = err; /* moved: the first failure is the one told */
			err = (struct kiln_error) KILN_ERROR_INIT;
		}
		kiln_error_release(&err);
		p->busy--;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Workers for a selection with many files and a machine with several CPUs. */
static void pool_start(struct copier *c, const struct kiln_plan_selection *sel)
{
	size_t cpus = kiln_cpus(POOL_MAX_WORKERS);
	if (sel->files < POOL_MIN_FILES || cpus < 2)
		return;
	struct pool *p = kiln_calloc(1, sizeof(*p));
	if (!p)
		return; /* one thread does it all */
	p->c = c;
	p->err = (struct kiln_error) KILN_ERROR_INIT;
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p);
		return;
	}
	if (pthread_cond_init(&p->cv, NULL) != 0) {
		(void) pthread_mutex_destroy(&p->mu);
		free(p);
		return;
	}
	while (p->n_th < cpus && kiln_thread_start(&p->th[p->n_th], pool_main, p) == 0)
		p->n_th++;
	c->pool = p;
}

/*
 * Wait until every queued file is copied. A worker's failure, the first, goes
 * to c->err and its code is returned if `report`; else (the caller has its
 * own error to tell) it is dropped.
 */
static int pool_drain(struct copier *c, int report)
{
	struct pool *p = c->pool;
	if (!p)
		return 0;
	pthread_mutex_lock(&p->mu);
	while (p->n || p->busy)
		pthread_cond_wait(&p->cv, &p->mu);
	int r = report ? p->code : 0;
	if (r) {
		kiln_error_release(c->err);
		*c->err = p->err;
		p->err = (struct kiln_error) KILN_ERROR_INIT;
	}
	kiln_error_release(&p->err);
	p->code = 0;
	pthread_mutex_unlock(&p->mu);
	return r;
}

static void pool_stop(struct copier *c)
{
	struct pool *p = c->pool;
	if (!p)
		return;
	(void) pool_drain(c, 0);
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->n_th; i++)
		(void) pthread_join(p->th[i], NULL);
	kiln_error_release(&p->err);
	(void) pthread_cond_destroy(&p->cv);
	(void) pthread_mutex_destroy(&p->mu);
	free(p);
	c->pool = NULL;
}

/* Queue a regular file for the workers; copied here when that fails. */
static int pool_add(struct copier *c, const struct kiln_plan_item *it, int pfd, const char *rel)
{
	struct pool *p = c->pool;
	struct file_job j = { it, fcntl(pfd, F_DUPFD_CLOEXEC, 0), kiln_strdup(rel) };
	if (j.pfd < 0 || !j.rel || !p->n_th) {
		job_release(&j);
		const char *slash = strrchr(rel, '/');
		return copy_file(c, it, pfd, slash ? slash + 1 : rel, rel);
	}
	pthread_mutex_lock(&p->mu);
	while (p->n == POOL_RING)
		pthread_cond_wait(&p->cv, &p->mu);
	int failed = p->code != 0;
	if (!failed) {
		p->ring[(p->head + p->n) % POOL_RING] = j;
		p->n++;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	if (failed) {
		job_release(&j);
		return pool_drain(c, 1); /* the worker's failure, reported now */
	}
	return 0;
}

/*
 * Leave a file out when the step's last layer has it as the copy would make
 * it (copy-reuse.c): 1 if left out. Only in a directory of this match, which
 * the copy sets, so that the directory is in the upper directory for the link.
 */
static int offer_reuse(struct copier *c, const struct kiln_plan_item *it, const char *parent,
		       const char *rel)
{
	if (!c->reuse_ok)
		return 0;
	const struct kiln_plan_item *dir = NULL;
	for (size_t i = c->dirs.len; i-- > 0 && !dir;)
		if (!strcmp(c->dirs.items[i], parent))
			dir = c->dir_items[i];
	/* the target itself has no item: its times are the copy's, as written */
	if (!dir && !(c->fresh_target && !strcmp(c->fresh_target, parent)))
		return 0;
	mode_t mode;
	int r = final_mode(c, it, &mode);
	if (r < 0)
		return r;
	uid_t u;
	gid_t g;
	owner_of(c, it, &u, &g);
	struct timespec ts[2];
	times_of(c, it, ts);
	return bb_reuse_offer(c->o->reuse, it, dir, rel, mode, u, g, &ts[1], c->err);
}

/* Copy one item to `rel` (relative to the destination root). */
static int copy_item(struct copier *c, const struct kiln_plan_item *it, const char *rel)
{
	char parent[PATH_MAX];
	const char *name;
	if (strlen(rel) >= sizeof(parent))
		return kiln_fail(c->err, KILN_ELIMIT, ENAMETOOLONG, "/%s: path too long", rel);
	split(rel, parent, sizeof(parent), &name);
	int pfd = parent_fd(c, parent);
	if (pfd < 0)
		return pfd;
	struct stat cur;
	int exists = !parent_is_fresh(c, parent) &&
		     fstatat(pfd, name, &cur, AT_SYMLINK_NOFOLLOW) == 0;
	mode_t mode = it->st.mode;
	int r;
	if (S_ISDIR(mode)) {
		if (exists && !S_ISDIR(cur.st_mode))
			return kiln_fail(c->err, KILN_EINVAL, ENOTDIR,
					 "cannot copy to non-directory: /%s", rel);
		int created = !exists;
		if (created && mkdirat(pfd, name, 0700) < 0)
			return kiln_fail_errno(c->err, "mkdir /%s", rel);
		if (created && kiln_strv_push(&c->fresh, rel) < 0)
			return oom(c->err);
		/* a parent made only for what matched below keeps its metadata when it
		 * was there already (fsutil's createParentDirs) */
		if (created || !it->parent_only)
			return defer_dir(c, rel, it);
		return 0;
	}
	if (exists) {
		if (S_ISDIR(cur.st_mode))
			return kiln_fail(c->err, KILN_EINVAL, EISDIR,
					 "cannot replace to directory /%s with file", rel);
		if (unlinkat(pfd, name, 0) < 0)
			return kiln_fail_errno(c->err, "replacing /%s", rel);
	}
	if (S_ISREG(mode)) {
		const char *first;
		if ((r = hardlink_source(c, it, &first)) < 0)
			return r;
		if (first) {
			int root = bb_open_in_root(c->dst, "", O_RDONLY | O_DIRECTORY);
			if (root < 0)
				return kiln_fail_errno(c->err, "opening the destination");
			r = linkat(root, first, pfd, name, 0);
			(void) close(root);
			if (r < 0)
				return kiln_fail_errno(c->err, "linking /%s to /%s", rel, first);
			return 0;
		}
		int grouped = in_group(c, it);
		if (c->o->reuse) {
			if ((r = bb_reuse_record(c->o->reuse, it, rel, !grouped, c->err)) < 0)
				return r;
			if (!exists && !grouped && (r = offer_reuse(c, it, parent, rel)) != 0)
				return r < 0 ? r : 0;
		}
		/* a file with other links in the selection is copied here, before
		 * its links */
		if (c->pool && !grouped)
			return pool_add(c, it, pfd, rel);
		if ((r = copy_file(c, it, pfd, name, rel)) < 0)
			return r;
		return remember_link(c, it, rel);
	}
	if (S_ISLNK(mode)) {
		if (symlinkat(it->link ? it->link : "", pfd, name) < 0)
			return kiln_fail_errno(c->err, "symlink /%s", rel);
	} else if (S_ISCHR(mode) || S_ISBLK(mode) || S_ISFIFO(mode)) {
		if (mknodat(pfd, name, mode & (S_IFMT | 07777), it->st.rdev) < 0)
			return kiln_fail_errno(c->err, "mknod /%s", rel);
	} else {
		return 0; /* sockets are not copied */
	}
	cleanup_free char *shown = kiln_asprintf("/%s", rel);
	return shown ? file_info(c, pfd, name, -1, it, shown) : oom(c->err);
}

/* Directories' metadata, deepest first, after everything below them is in. */
static int finish_dirs(struct copier *c)
{
	for (size_t i = c->dirs.len; i-- > 0;) {
		const char *rel = c->dirs.items[i];
		int fd = bb_open_in_root(c->dst, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		if (fd < 0)
			return kiln_fail_errno(c->err, "opening /%s", rel);
		cleanup_free char *shown = kiln_asprintf("/%s", rel);
		int r = shown ? file_info(c, -1, NULL, fd, c->dir_items[i], shown) : oom(c->err);
		(void) close(fd);
		if (r < 0)
			return r;
	}
	kiln_strv_release(&c->dirs);
	c->dirs = (struct kiln_strv) KILN_STRV_INIT;
	return 0;
}

static char *join_rel(const char *a, const char *b)
{
	if (!*a)
		return kiln_strdup(b);
	if (!*b)
		return kiln_strdup(a);
	return kiln_asprintf("%s/%s", a, b);
}

/* ADD of a local archive: extracted into the destination directory. */
static int try_unpack(struct copier *c, const struct kiln_plan_match *m, int *done)
{
	*done = 0;
	int fd = openat(c->src, m->real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return kiln_fail_errno(c->err, "opening %s", m->real);
	int r = kiln_layer_is_archive(fd, c->err);
	if (r <= 0) {
		(void) close(fd);
		return r;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		r = kiln_fail_errno(c->err, "rewinding %s", m->real);
		(void) close(fd);
		return r;
	}
	cleanup_free char *dest = kiln_plan_path_clean(c->o->dest);
	if (!dest) {
		(void) close(fd);
		return oom(c->err);
	}
	r = bb_mkdir_all(c->dst, dest, 0755, c->o->has_owner, c->o->uid, c->o->gid, c->o->mtime,
			 c->err);
	cleanup_free char *rel = NULL;
	if (r >= 0)
		r = kiln_plan_resolve_in_root(c->dst, dest, 1, &rel, c->err);
	int dfd = r >= 0 ? bb_open_in_root(c->dst, rel, O_RDONLY | O_DIRECTORY) : -1;
	if (r >= 0 && dfd < 0)
		r = kiln_fail_errno(c->err, "opening %s", dest);
	if (r >= 0) {
		struct kiln_layer_apply_opts ao = {
			.mode = KILN_APPLY_EXTRACT,
			.uid = c->o->has_owner ? (int64_t) c->o->uid : -1,
			.gid = c->o->has_owner ? (int64_t) c->o->gid : -1,
			.ctx = &c->b->ctx,
		};
		r = kiln_layer_apply(fd, dfd, &ao, NULL, c->err);
		if (r < 0)
			r = kiln_error_prefix(c->err, r, "extracting %s", m->source);
	}
	if (dfd >= 0)
		(void) close(dfd);
	(void) close(fd);
	if (r >= 0)
		*done = 1;
	return r;
}

/* Whether anything is at `path` in the destination (symlinks followed in it). */
static int target_exists(int dst_fd, const char *path)
{
	int fd = bb_open_in_root(dst_fd, path, O_PATH);
	if (fd < 0)
		return errno != ENOENT; /* an error other than "none" counts as there */
	(void) close(fd);
	return 1;
}

/*
 * The mode of the directories a copy makes on the way to its files (the
 * destination's parents, the directory a directory source fills): 0755, or
 * --chmod's, as BuildKit makes them since fsutil's "fix custom chmod for
 * parent directories" (moby/buildkit#4945); never the special bits, which
 * mkdir does not set.
 */
static int created_dir_mode(const struct bb_copy_opts *o, mode_t *ret, struct kiln_error *err)
{
	*ret = 0755;
	if (!o->chmod)
		return 0;
	uint32_t m;
	int r = kiln_df_chmod_apply(o->chmod, S_IFDIR | 0755, 1, &m, err);
	if (r >= 0)
		*ret = (mode_t) (m & 0777);
	return r;
}

int bb_copy(struct bb *b, int dst_fd, int src_fd, const struct kiln_plan_selection *sel,
	    const struct bb_copy_opts *o, struct kiln_error *err)
{
	struct copier c = { .b = b,
			    .dst = dst_fd,
			    .src = src_fd,
			    .o = o,
			    .err = err,
			    .dirs = KILN_STRV_INIT,
			    .fresh = KILN_STRV_INIT,
			    .pfd = -1 };
	/* a wildcard that matched nothing copies nothing and makes no
	 * directory: BuildKit's copy returns before it makes the destination */
	if (!sel->n_matches)
		return 0;
	/* the destination's directory first (fsutil's ensureDstPath) */
	cleanup_free char *dest_dir = kiln_plan_dest_dir(o->dest);
	cleanup_free char *clean = kiln_plan_path_clean(o->dest);
	if (!dest_dir || !clean)
		return oom(err);
	mode_t dir_mode;
	int r = created_dir_mode(o, &dir_mode, err);
	if (r >= 0)
		r = mark_groups(&c, sel);
	if (r >= 0)
		r = bb_mkdir_all(dst_fd, dest_dir, dir_mode, o->has_owner, o->uid, o->gid, o->mtime,
				 err);
	cleanup_free char *dst = NULL;
	if (r >= 0)
		r = kiln_plan_resolve_in_root(dst_fd, clean, 1, &dst, err);
	if (r >= 0)
		pool_start(&c, sel);
	for (size_t mi = 0; r >= 0 && mi < sel->n_matches; mi++) {
		const struct kiln_plan_match *m = &sel->matches[mi];
		if (kiln_cancelled(&b->ctx)) {
			r = kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
			break;
		}
		if (o->unpack && !m->is_dir && !m->parents) {
			int done = 0;
			if ((r = try_unpack(&c, m, &done)) < 0)
				break;
			if (done)
				continue;
		}
		struct stat ds;
		int fd = bb_open_in_root(dst_fd, dst, O_PATH);
		int exists = fd >= 0 && fstat(fd, &ds) == 0;
		if (fd >= 0)
			(void) close(fd);
		cleanup_free char *abs = kiln_asprintf("/%s", dst);
		struct kiln_plan_target t = { 0 };
		if (!abs) {
			r = oom(err);
			break;
		}
		r = kiln_plan_copy_target(abs, exists, exists && S_ISDIR(ds.st_mode), m->base,
					  m->is_dir || m->parents, 1, &t, err);
		int target_new = r >= 0 && (m->is_dir || m->parents) && !target_exists(dst_fd, t.path);
		if (r >= 0)
			r = bb_mkdir_all(dst_fd, t.mkdir, dir_mode, o->has_owner, o->uid, o->gid,
					 o->mtime, err);
		cleanup_free char *target = NULL;
		if (r >= 0)
			r = kiln_plan_resolve_in_root(dst_fd, t.path, 0, &target, err);
		kiln_plan_target_release(&t);
		if (r >= 0 && target_new && *target &&
		    (!(c.fresh_target = kiln_strdup(target)) ||
		     kiln_strv_push(&c.fresh, target) < 0))
			r = oom(err);
		if (r < 0)
			break;
		if (m->is_dir || m->parents) {
			/* the directory the contents go into must be one */
			int tfd = bb_open_in_root(dst_fd, target, O_PATH | O_NOFOLLOW);
			struct stat ts;
			int bad = tfd >= 0 && fstat(tfd, &ts) == 0 && !S_ISDIR(ts.st_mode);
			if (tfd >= 0)
				(void) close(tfd);
			if (bad) {
				r = kiln_fail(err, KILN_EINVAL, ENOTDIR,
					      "cannot copy to non-directory: /%s", target);
				break;
			}
		}
		/* one match only: the files left out are linked under its target */
		c.reuse_ok = o->reuse && sel->n_matches == 1;
		if (c.reuse_ok)
			r = bb_reuse_match(o->reuse, target, o->mtime, err);
		for (size_t i = m->first; r >= 0 && i < m->first + m->n; i++) {
			const struct kiln_plan_item *it = &sel->items[i];
			if (!*it->rel && (m->is_dir || m->parents))
				continue; /* a directory source means its contents */
			cleanup_free char *rel = join_rel(target, it->rel);
			r = rel ? copy_item(&c, it, rel) : oom(err);
			if (r >= 0 && kiln_cancelled(&b->ctx))
				r = kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
		}
		/* every file in before the directories get their times, and before
		 * the next match may write where this one did */
		int pr = pool_drain(&c, r >= 0);
		if (pr < 0)
			r = pr;
		if (r >= 0)
			r = finish_dirs(&c);
		/* a new match may replace what the parent fd points at, and write
		 * into what this one created */
		kiln_strv_release(&c.fresh);
		c.fresh = (struct kiln_strv) KILN_STRV_INIT;
		free(c.fresh_target);
		c.fresh_target = NULL;
		free(c.pdir);
		c.pdir = NULL;
		if (c.pfd >= 0)
			(void) close(c.pfd);
		c.pfd = -1;
		for (size_t k = 0; k < c.n_links; k++)
			free(c.links[k].target);
		c.n_links = 0;
	}
	pool_stop(&c);
	copier_release(&c);
	return r < 0 ? r : 0;
}
