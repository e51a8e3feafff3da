/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's cache-mount directories (cachemount.h). Locks:
 *
 * - the cache's directory <key>/ (flock LOCK_EX, held briefly) serializes
 *   looking for an instance, creating one and pruning, so that two shared
 *   users arriving together end up in the same new instance, and a prune
 *   never removes what an acquire is about to take;
 * - each instance directory <key>/<n>/ carries the users' locks (LOCK_SH
 *   shared, LOCK_EX locked/private) for as long as they use it.
 *
 * A new instance is made as <key>/.new-<random>, locked, filled, then
 * renamed to the lowest free number (RENAME_NOREPLACE). What an interrupted
 * creation or removal leaves (.new-*, .trash-*) is removed by the prune.
 * Waiting never blocks in flock(2): it polls, as BuildKit does for a
 * locked cache, so that an interrupt ends the wait.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/ctx.h"
#include "build/cachemount.h"
#include "store/store.h"

#define KEY_PREFIX "kiln-cachemount-v1"
#define INFO_FILE "info.json"

struct kiln_cachemount {
	char *path;
	int fd;
	unsigned instance;
};

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

int kiln_cachemount_key(const char *id, const char *seed, char ret[65], struct kiln_error *err)
{
	if (!id || !*id)
		return kiln_fail(err, KILN_EINVAL, 0, "a cache mount needs an id");
	if (!seed)
		seed = "";
	size_t il = strlen(id), sl = strlen(seed);
	if (il > KILN_CACHEMOUNT_MAX_ID || sl > KILN_CACHEMOUNT_MAX_ID)
		return kiln_fail(err, KILN_ELIMIT, 0, "cache mount id longer than %d bytes",
				 KILN_CACHEMOUNT_MAX_ID);
	struct kiln_sha256 *h = NULL;
	int r = kiln_sha256_new(&h, err);
	if (r < 0)
		return r;
	kiln_sha256_update(h, KEY_PREFIX, sizeof(KEY_PREFIX)); /* with its NUL */
	kiln_sha256_update(h, id, il + 1);
	kiln_sha256_update(h, seed, sl);
	struct kiln_digest d;
	kiln_sha256_final(h, &d);
	kiln_sha256_free(h);
	memcpy(ret, d.hex, 65);
	return 0;
}

/* ---- small helpers ------------------------------------------------------------- */

/* "0", "1", ... "255": an instance's name */
static int instance_number(const char *name, unsigned *ret)
{
	if (!name[0] || (name[0] == '0' && name[1]))
		return -1;
	unsigned v = 0;
	for (const char *p = name; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned) (*p - '0');
		if (v >= KILN_CACHEMOUNT_MAX_INSTANCES)
			return -1;
	}
	*ret = v;
	return 0;
}

static void pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Lock `fd` with `op`, polling while someone else holds it. 1 when it had to wait. */
static int lock_wait(const struct kiln_ctx *ctx, int fd, int op, void (*on_wait)(void *), void *ud,
		     int *waited, struct kiln_error *err)
{
	long delay = 5;
	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return kiln_fail_errno(err, "locking a cache mount");
		if (kiln_cancelled(ctx))
			return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
		if (!*waited && on_wait)
			on_wait(ud);
		*waited = 1;
		pause_ms(delay);
		if (delay < 100)
			delay *= 2;
	}
}

/* Is `name` in `dfd` still the directory `fd` has open? */
static int still_linked(int dfd, const char *name, int fd)
{
	struct stat a, b;
	return fstatat(dfd, name, &a, AT_SYMLINK_NOFOLLOW) == 0 && fstat(fd, &b) == 0 &&
	       a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static int random_name(const char *prefix, char *buf, size_t len, struct kiln_error *err)
{
	unsigned char raw[8];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, raw, sizeof(raw)) : -1;
	if (fd >= 0)
		(void) close(fd);
	if (n != (ssize_t) sizeof(raw))
		return kiln_fail(err, KILN_EIO, errno, "reading /dev/urandom");
	size_t o = (size_t) snprintf(buf, len, "%s", prefix);
	for (size_t i = 0; i < sizeof(raw) && o + 2 < len; i++, o += 2)
		(void) snprintf(buf + o, len - o, "%02x", raw[i]);
	return 0;
}

/* The instances present, ascending. */
static int list_instances(int kfd, unsigned *v, size_t *n, struct kiln_error *err)
{
	int dup = openat(kfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	if (!d) {
		if (dup >= 0)
			(void) close(dup);
		return kiln_fail_errno(err, "reading a cache mount directory");
	}
	*n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		unsigned k;
		if (instance_number(e->d_name, &k) == 0 && *n < KILN_CACHEMOUNT_MAX_INSTANCES)
			v[(*n)++] = k;
	}
	closedir(d);
	for (size_t i = 1; i < *n; i++)
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			unsigned t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return 0;
}

static int write_info(int kfd, const struct kiln_cachemount_spec *spec, struct kiln_error *err)
{
	if (faccessat(kfd, INFO_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	json_t *j = json_pack("{s:s,s:s,s:I}", "id", spec->id, "seed", spec->seed ? spec->seed : "",
			      "created", (json_int_t) time(NULL));
	char *s = j ? json_dumps(j, JSON_SORT_KEYS) : NULL;
	json_decref(j);
	if (!s)
		return oom(err);
	int r = kiln_write_file_atomic_at(kfd, INFO_FILE, s, strlen(s), 0600, err);
	free(s);
	return r;
}

/* ---- acquire ------------------------------------------------------------------- */

static int take(struct kiln_cachemount *cm, const char *kdir, unsigned n, int fd,
		struct kiln_error *err)
{
	cm->path = kiln_asprintf("%s/%u", kdir, n);
	if (!cm->path)
		return oom(err);
	cm->fd = fd;
	cm->instance = n;
	return 0;
}

/* Make, fill and publish a new instance; locked EX (SH for shared) on success. */
static int create_instance(int kfd, const char *kdir, const struct kiln_cachemount_spec *spec,
			   struct kiln_cachemount *cm, struct kiln_error *err)
{
	char tmp[64];
	int r = random_name(".new-", tmp, sizeof(tmp), err);
	if (r < 0)
		return r;
	if (mkdirat(kfd, tmp, 0700) < 0)
		return kiln_fail_errno(err, "creating a cache mount in %s", kdir);
	int fd = openat(kfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = kiln_fail_errno(err, "creating a cache mount in %s", kdir);
		goto fail;
	}
	if (fchown(fd, spec->uid, spec->gid) < 0 ||
	    fchmod(fd, spec->mode ? spec->mode & 07777 : 0755) < 0) {
		r = kiln_fail_errno(err, "preparing a cache mount in %s", kdir);
		goto fail;
	}
	if (spec->seed_fn && (r = spec->seed_fn(spec->seed_userdata, fd, err)) < 0)
		goto fail;
	for (unsigned n = 0; n < KILN_CACHEMOUNT_MAX_INSTANCES; n++) {
		char name[16];
		(void) snprintf(name, sizeof(name), "%u", n);
		if (renameat2(kfd, tmp, kfd, name, RENAME_NOREPLACE) == 0) {
			if (spec->sharing == KILN_CACHEMOUNT_SHARED && flock(fd, LOCK_SH) < 0) {
				r = kiln_fail_errno(err, "locking a cache mount");
				(void) close(fd);
				return r;
			}
			return take(cm, kdir, n, fd, err);
		}
		if (errno != EEXIST && errno != ENOTEMPTY) {
			r = kiln_fail_errno(err, "creating a cache mount in %s", kdir);
			goto fail;
		}
	}
	r = kiln_fail(err, KILN_ELIMIT, 0, "cache mount %s: more than %d instances in use",
		      spec->id, KILN_CACHEMOUNT_MAX_INSTANCES);
fail:
	if (fd >= 0)
		(void) close(fd);
	cleanup_free char *p = kiln_asprintf("%s/%s", kdir, tmp);
	struct kiln_error e = KILN_ERROR_INIT;
	if (p)
		(void) kiln_rm_rf(p, &e);
	kiln_error_release(&e);
	return r;
}

/*
 * One attempt, under the cache's lock: 1 with `cm` filled, 0 when LOCKED
 * must wait for instance *wait_for (an fd in *wait_fd).
 */
static int try_acquire(int kfd, const char *kdir, const struct kiln_cachemount_spec *spec,
		       struct kiln_cachemount *cm, unsigned *wait_for, int *wait_fd,
		       struct kiln_error *err)
{
	unsigned v[KILN_CACHEMOUNT_MAX_INSTANCES];
	size_t n = 0;
	int r = list_instances(kfd, v, &n, err);
	if (r < 0)
		return r;
	int op = spec->sharing == KILN_CACHEMOUNT_SHARED ? LOCK_SH : LOCK_EX;
	for (size_t i = 0; i < n; i++) {
		char name[16];
		(void) snprintf(name, sizeof(name), "%u", v[i]);
		int fd = openat(kfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, op | LOCK_NB) == 0) {
			if ((r = take(cm, kdir, v[i], fd, err)) < 0) {
				(void) close(fd);
				return r;
			}
			return 1;
		}
		if (spec->sharing == KILN_CACHEMOUNT_LOCKED && *wait_fd < 0) {
			*wait_fd = fd;
			*wait_for = v[i];
			continue;
		}
		(void) close(fd);
	}
	if (*wait_fd >= 0)
		return 0;
	/* none yet, or all busy for a shared or private user: a new one */
	if ((r = write_info(kfd, spec, err)) < 0)
		return r;
	if ((r = create_instance(kfd, kdir, spec, cm, err)) < 0)
		return r;
	return 1;
}

int kiln_cachemount_acquire(const struct kiln_ctx *ctx, struct kiln_store *st,
			    const struct kiln_cachemount_spec *spec, struct kiln_cachemount **ret,
			    struct kiln_error *err)
{
	char key[65];
	int r = kiln_cachemount_key(spec->id, spec->seed, key, err);
	if (r < 0)
		return r;
	if (spec->sharing > KILN_CACHEMOUNT_LOCKED)
		return kiln_fail(err, KILN_EINVAL, 0, "unknown cache sharing mode %d",
				 (int) spec->sharing);
	cleanup_free char *base = kiln_store_path(st, KILN_CACHEMOUNT_DIR);
	cleanup_free char *kdir = base ? kiln_asprintf("%s/%s", base, key) : NULL;
	if (!kdir)
		return oom(err);
	if ((r = kiln_mkdir_p(base, 0700, err)) < 0)
		return r;
	struct kiln_cachemount *cm = kiln_calloc(1, sizeof(*cm));
	if (!cm)
		return oom(err);
	cm->fd = -1;
	int waited = 0;
	for (;;) {
		if (mkdir(kdir, 0700) < 0 && errno != EEXIST) {
			r = kiln_fail_errno(err, "creating %s", kdir);
			break;
		}
		int kfd = open(kdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (kfd < 0) {
			if (errno == ENOENT)
				continue; /* pruned meanwhile */
			r = kiln_fail_errno(err, "opening %s", kdir);
			break;
		}
		r = lock_wait(ctx, kfd, LOCK_EX, spec->on_wait, spec->wait_userdata, &waited, err);
		if (r >= 0 && !still_linked(AT_FDCWD, kdir, kfd)) {
			(void) close(kfd);
			continue;
		}
		unsigned wait_for = 0;
		int wait_fd = -1;
		if (r >= 0)
			r = try_acquire(kfd, kdir, spec, cm, &wait_for, &wait_fd, err);
		(void) close(kfd); /* and its lock */
		if (r < 0 || r == 1) {
			if (wait_fd >= 0)
				(void) close(wait_fd);
			break;
		}
		/* LOCKED and every instance busy: wait for the first */
		r = lock_wait(ctx, wait_fd, LOCK_EX, spec->on_wait, spec->wait_userdata, &waited,
			      err);
		char name[16];
		(void) snprintf(name, sizeof(name), "%u", wait_for);
		int linked = 0;
		if (r >= 0) {
			int k2 = open(kdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			linked = k2 >= 0 && still_linked(k2, name, wait_fd);
			if (k2 >= 0)
				(void) close(k2);
		}
		if (r >= 0 && linked) {
			r = take(cm, kdir, wait_for, wait_fd, err);
			if (r < 0)
				(void) close(wait_fd);
			break;
		}
		(void) close(wait_fd);
		if (r < 0)
			break;
		/* removed while we waited: look again */
	}
	if (r < 0) {
		kiln_cachemount_release(cm);
		return r;
	}
	*ret = cm;
	return 0;
}

const char *kiln_cachemount_path(const struct kiln_cachemount *cm)
{
	return cm->path;
}

int kiln_cachemount_fd(const struct kiln_cachemount *cm)
{
	return cm->fd;
}

unsigned kiln_cachemount_instance(const struct kiln_cachemount *cm)
{
	return cm->instance;
}

void kiln_cachemount_release(struct kiln_cachemount *cm)
{
	if (!cm)
		return;
	if (cm->fd >= 0)
		(void) close(cm->fd);
	free(cm->path);
	free(cm);
}

/* ---- list ------------------------------------------------------------------------ */

void kiln_cachemount_info_free(struct kiln_cachemount_info *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].key);
		free(v[i].id);
		free(v[i].seed);
		free(v[i].path);
	}
	free(v);
}

static int info_cmp(const void *a, const void *b)
{
	const struct kiln_cachemount_info *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	return c ? c : strcmp(x->seed, y->seed);
}

/* info.json of a cache; 0 when absent or unreadable (not a cache) */
static int read_info(int kfd, struct kiln_cachemount_info *ci, struct kiln_error *err)
{
	cleanup_free char *data = NULL;
	size_t len = 0;
	struct kiln_error e = KILN_ERROR_INIT;
	int r = kiln_read_file_at(kfd, INFO_FILE, KILN_CACHEMOUNT_MAX_INFO, &data, &len, &e);
	kiln_error_release(&e);
	if (r < 0)
		return r == -KILN_ENOMEM ? oom(err) : 0;
	json_t *j = json_loadb(data, len, 0, NULL);
	const char *id = NULL, *seed = NULL;
	json_int_t created = 0;
	if (!j ||
	    json_unpack(j, "{s:s,s:s,s?I}", "id", &id, "seed", &seed, "created", &created) < 0) {
		json_decref(j);
		return 0;
	}
	ci->id = kiln_strdup(id);
	ci->seed = kiln_strdup(seed);
	ci->created = (int64_t) created;
	json_decref(j);
	return ci->id && ci->seed ? 1 : oom(err);
}

int kiln_cachemount_list(struct kiln_store *st, struct kiln_cachemount_info **ret, size_t *n,
			 struct kiln_error *err)
{
	*ret = NULL;
	*n = 0;
	cleanup_free char *base = kiln_store_path(st, KILN_CACHEMOUNT_DIR);
	if (!base)
		return oom(err);
	DIR *d = opendir(base);
	if (!d)
		return errno == ENOENT ? 0 : kiln_fail_errno(err, "reading %s", base);
	struct kiln_cachemount_info *v = NULL;
	size_t cnt = 0, alloc = 0;
	int r = 0;
	struct dirent *e;
	while (r >= 0 && (e = readdir(d))) {
		if (!kiln_digest_is_hex(e->d_name))
			continue;
		int kfd = openat(dirfd(d), e->d_name,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (kfd < 0)
			continue;
		struct kiln_cachemount_info ci = { 0 };
		r = read_info(kfd, &ci, err);
		unsigned inst[KILN_CACHEMOUNT_MAX_INSTANCES];
		size_t ni = 0;
		struct kiln_error e2 = KILN_ERROR_INIT;
		if (r == 1 && list_instances(kfd, inst, &ni, &e2) < 0)
			ni = 0;
		kiln_error_release(&e2);
		(void) close(kfd);
		if (r != 1 || ni == 0) {
			free(ci.id);
			free(ci.seed);
			continue;
		}
		ci.key = kiln_strdup(e->d_name);
		ci.path = kiln_asprintf("%s/%s/%u", base, e->d_name, inst[0]);
		ci.n_instances = (unsigned) ni;
		if (cnt == alloc) {
			size_t na = alloc ? alloc * 2 : 16;
			struct kiln_cachemount_info *nv = kiln_reallocarray(v, na, sizeof(*v));
			if (nv) {
				v = nv;
				alloc = na;
			}
		}
		if (!ci.key || !ci.path || cnt == alloc) {
			free(ci.key);
			free(ci.id);
			free(ci.seed);
			free(ci.path);
			r = oom(err);
			break;
		}
		v[cnt++] = ci;
		r = 0;
	}
	closedir(d);
	if (r < 0) {
		kiln_cachemount_info_free(v, cnt);
		return r;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), info_cmp);
	*ret = v;
	*n = cnt;
	return 0;
}

/* ---- prune ------------------------------------------------------------------------ */

/* Bytes a tree holds on disk (st_blocks), not crossing mount points. */
static uint64_t du_at(int dfd, const char *name, dev_t dev, int depth)
{
	struct stat s;
	if (fstatat(dfd, name, &s, AT_SYMLINK_NOFOLLOW) < 0 || s.st_dev != dev)
		return 0;
	uint64_t total = (uint64_t) s.st_blocks * 512;
	if (!S_ISDIR(s.st_mode) || depth > 256)
		return total;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			(void) close(fd);
		return total;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			total += du_at(dirfd(d), e->d_name, dev, depth + 1);
	closedir(d);
	return total;
}

/* Move `name` out of the way, then delete it. */
static int remove_entry(int kfd, const char *kdir, const char *name, struct kiln_error *err)
{
	char trash[64];
	int r = 0;
	const char *victim = name;
	if (strncmp(name, ".trash-", 7) != 0) {
		if ((r = random_name(".trash-", trash, sizeof(trash), err)) < 0)
			return r;
		if (renameat(kfd, name, kfd, trash) < 0)
			return kiln_fail_errno(err, "removing %s/%s", kdir, name);
		victim = trash;
	}
	cleanup_free char *p = kiln_asprintf("%s/%s", kdir, victim);
	if (!p)
		return oom(err);
	return kiln_rm_rf(p, err);
}

static int prune_cache(int bfd, const char *base, const char *key, const char *id, unsigned flags,
		       struct kiln_cachemount_prune_report *rep, struct kiln_error *err)
{
	int dry = !!(flags & KILN_CACHEMOUNT_PRUNE_DRY_RUN);
	int kfd = openat(bfd, key, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (kfd < 0)
		return 0;
	cleanup_free char *kdir = kiln_asprintf("%s/%s", base, key);
	if (!kdir) {
		(void) close(kfd);
		return oom(err);
	}
	int r = 0;
	if (id) {
		struct kiln_cachemount_info ci = { 0 };
		r = read_info(kfd, &ci, err);
		int match = r == 1 && !strcmp(ci.id, id);
		free(ci.id);
		free(ci.seed);
		if (r < 0 || !match) {
			(void) close(kfd);
			return r < 0 ? r : 0;
		}
	}
	/* an acquire or another prune inside: everything counts as busy */
	int busy = flock(kfd, LOCK_EX | LOCK_NB) < 0;
	struct stat ks;
	unsigned inst[KILN_CACHEMOUNT_MAX_INSTANCES];
	size_t ni = 0;
	r = fstat(kfd, &ks) < 0 ? kiln_fail_errno(err, "reading %s", kdir)
				: list_instances(kfd, inst, &ni, err);
	if (r < 0 || busy) {
		if (r >= 0)
			rep->busy += ni;
		(void) close(kfd);
		return r;
	}
	size_t left = 0;
	for (size_t i = 0; r >= 0 && i < ni; i++) {
		char name[16];
		(void) snprintf(name, sizeof(name), "%u", inst[i]);
		int fd = openat(kfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			rep->busy++;
			left++;
		} else {
			rep->bytes += du_at(kfd, name, ks.st_dev, 0);
			rep->removed++;
			if (!dry)
				r = remove_entry(kfd, kdir, name, err);
			if (dry)
				left++;
		}
		(void) close(fd);
	}
	/* leftovers of interrupted creations and removals */
	int dup = r >= 0 ? openat(kfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	if (!d && dup >= 0)
		(void) close(dup);
	struct dirent *e;
	while (d && r >= 0 && (e = readdir(d))) {
		if (strncmp(e->d_name, ".new-", 5) && strncmp(e->d_name, ".trash-", 7))
			continue;
		rep->bytes += du_at(kfd, e->d_name, ks.st_dev, 0);
		if (!dry)
			r = remove_entry(kfd, kdir, e->d_name, err);
	}
	if (d)
		closedir(d);
	if (r >= 0 && !dry && left == 0) {
		/* the cache itself: gone once it has no instance */
		(void) unlinkat(kfd, INFO_FILE, 0);
		if (unlinkat(bfd, key, AT_REMOVEDIR) < 0 && errno != ENOTEMPTY && errno != EEXIST)
			r = kiln_fail_errno(err, "removing %s", kdir);
	}
	(void) close(kfd);
	return r;
}

int kiln_cachemount_prune(struct kiln_store *st, const char *id, unsigned flags,
			  struct kiln_cachemount_prune_report *ret, struct kiln_error *err)
{
	*ret = (struct kiln_cachemount_prune_report){ 0 };
	cleanup_free char *base = kiln_store_path(st, KILN_CACHEMOUNT_DIR);
	if (!base)
		return oom(err);
	DIR *d = opendir(base);
	if (!d)
		return errno == ENOENT ? 0 : kiln_fail_errno(err, "reading %s", base);
	struct stat bs;
	int r = fstat(dirfd(d), &bs) < 0 ? kiln_fail_errno(err, "reading %s", base) : 0;
	struct dirent *e;
	while (r >= 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (kiln_digest_is_hex(e->d_name)) {
			r = prune_cache(dirfd(d), base, e->d_name, id, flags, ret, err);
			continue;
		}
		if (id)
			continue;
		/* not a cache of this layout: nothing can use it */
		ret->bytes += du_at(dirfd(d), e->d_name, bs.st_dev, 0);
		ret->removed++;
		if (!(flags & KILN_CACHEMOUNT_PRUNE_DRY_RUN)) {
			cleanup_free char *p = kiln_asprintf("%s/%s", base, e->d_name);
			r = p ? kiln_rm_rf(p, err) : oom(err);
		}
	}
	closedir(d);
	return r;
}
