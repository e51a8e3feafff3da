/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The snapshot directory: opening it (and cleaning up after dead processes)
 * and unpacking layers into it, once each, atomically.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snapshot-private.h"

int kiln_snapshot_random_id(char id[17], struct kiln_error *err)
{
	uint8_t raw[8];
	size_t got = 0;
	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return kiln_fail_errno(err, "getrandom");
		}
		got += (size_t) n;
	}
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof(raw); i++) {
		id[2 * i] = hex[raw[i] >> 4];
		id[2 * i + 1] = hex[raw[i] & 15];
	}
	id[16] = '\0';
	return 0;
}

static int same_file(int dirfd, const char *name, int fd)
{
	struct stat a, b;
	return fstatat(dirfd, name, &a, AT_SYMLINK_NOFOLLOW) == 0 && fstat(fd, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int kiln_snapshot_lock_new(int dirfd, const char *prefix, char id[17], int *ret_fd,
			   struct kiln_error *err)
{
	for (int attempt = 0; attempt < 16; attempt++) {
		int r = kiln_snapshot_random_id(id, err);
		if (r < 0)
			return r;
		char name[64];
		(void) snprintf(name, sizeof(name), "%s%s.lock", prefix, id);
		int fd = openat(dirfd, name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			return kiln_fail_errno(err, "creating lock %s", name);
		}
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				int e = errno;
				(void) close(fd);
				(void) unlinkat(dirfd, name, 0);
				return kiln_fail(err, KILN_EIO, e, "locking %s", name);
			}
		}
		if (same_file(dirfd, name, fd)) {
			*ret_fd = fd;
			return 0;
		}
		/* a cleaner took it between our create and our lock: try another */
		(void) close(fd);
	}
	return kiln_fail(err, KILN_EBUSY, 0, "could not create a lock file");
}

/* Take the lock of a dead owner: 1 = taken (fd in *ret), 0 = owner alive. */
static int try_stale(int dirfd, const char *lock, int *ret)
{
	int fd = openat(dirfd, lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || !same_file(dirfd, lock, fd)) {
		(void) close(fd);
		return 0;
	}
	*ret = fd;
	return 1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/*
 * Remove what dead processes left in `dir`: every "<name>.lock" whose flock
 * we can take, with the "<name>" it guards; "<name>" entries matching one of
 * `orphan_prefixes` that have no lock file at all (their owner removed the
 * lock last, so they were abandoned half-deleted). One pass over the
 * directory, however many prefixes.
 */
static void clean_dir(struct kiln_snapshotter *s, int dirfd, const char *path,
		      const char *const *orphan_prefixes, size_t n_prefixes)
{
	int dfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0)
		return;
	DIR *d = fdopendir(dfd);
	if (!d) {
		(void) close(dfd);
		return;
	}
	rewinddir(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (n[0] == '.')
			continue;
		char target[256], lock[sizeof(e->d_name) + 8];
		int orphan = 0;
		for (size_t i = 0; i < n_prefixes && !orphan; i++)
			orphan = strncmp(n, orphan_prefixes[i], strlen(orphan_prefixes[i])) == 0;
		if (ends_with(n, ".lock")) {
			size_t len = strlen(n) - 5;
			if (len >= sizeof(target))
				continue;
			memcpy(target, n, len);
			target[len] = '\0';
			int lfd;
			if (!try_stale(dirfd, n, &lfd))
				continue;
			cleanup_free char *full = kiln_asprintf("%s/%s", path, target);
			struct kiln_error err = KILN_ERROR_INIT;
			if (full && kiln_rm_rf(full, &err) == 0)
				(void) unlinkat(dirfd, n, 0);
			kiln_debug(s->ctx, "snapshot: removed %s left by a dead process", target);
			kiln_error_release(&err);
			(void) close(lfd);
		} else if (orphan) {
			(void) snprintf(lock, sizeof(lock), "%s.lock", n);
			if (faccessat(dirfd, lock, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
				continue;
			cleanup_free char *full = kiln_asprintf("%s/%s", path, n);
			struct kiln_error err = KILN_ERROR_INIT;
			if (full)
				(void) kiln_rm_rf(full, &err);
			kiln_error_release(&err);
		}
	}
	closedir(d);
}

void kiln_snapshotter_free(struct kiln_snapshotter *s)
{
	if (!s)
		return;
	snap_reaper_fini(s);
	if (s->layers_fd >= 0)
		(void) close(s->layers_fd);
	if (s->unsynced_fd >= 0)
		(void) close(s->unsynced_fd);
	if (s->active_fd >= 0)
		(void) close(s->active_fd);
	if (s->notes_fd >= 0)
		(void) close(s->notes_fd);
	free(s->notes);
	free(s->dir);
	free(s->layers);
	free(s->active);
	free(s->empty);
	free(s);
}

int kiln_snapshotter_open(const struct kiln_ctx *ctx, const char *store_root,
			  struct kiln_snapshotter **ret, struct kiln_error *err)
{
	return kiln_snapshotter_open_flags(ctx, store_root, 0, ret, err);
}

int kiln_snapshotter_open_flags(const struct kiln_ctx *ctx, const char *store_root, unsigned flags,
				struct kiln_snapshotter **ret, struct kiln_error *err)
{
	if (flags & ~(unsigned) KILN_SNAPSHOTTER_NO_SWEEP)
		return kiln_fail(err, KILN_EINVAL, 0, "unknown snapshotter flags 0x%x", flags);
	if (!store_root || !*store_root)
		return kiln_fail(err, KILN_EINVAL, 0, "no store root");
	cleanup(kiln_snapshotter_freep) struct kiln_snapshotter *s = kiln_calloc(1, sizeof(*s));
	if (!s)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	s->ctx = ctx;
	s->layers_fd = s->active_fd = s->notes_fd = s->unsynced_fd = -1;
	s->dir = kiln_asprintf("%s/snapshots", store_root);
	s->layers = kiln_asprintf("%s/snapshots/layers", store_root);
	s->active = kiln_asprintf("%s/snapshots/active", store_root);
	s->empty = kiln_asprintf("%s/snapshots/empty", store_root);
	s->notes = kiln_asprintf("%s/snapshots/notes", store_root);
	if (!s->dir || !s->layers || !s->active || !s->empty || !s->notes)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");

	/* 0700: unpacked layers hold the images' setuid binaries */
	int r = kiln_mkdir_p(s->dir, 0700, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "creating %s", s->dir);
	const char *sub[] = { s->layers, s->active, s->empty, s->notes };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(sub); i++) {
		if (mkdir(sub[i], 0755) < 0 && errno != EEXIST)
			return kiln_fail_errno(err, "creating %s", sub[i]);
	}
	s->layers_fd = open(s->layers, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->layers_fd < 0)
		return kiln_fail_errno(err, "opening %s", s->layers);
	s->active_fd = open(s->active, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->active_fd < 0)
		return kiln_fail_errno(err, "opening %s", s->active);
	s->notes_fd = open(s->notes, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->notes_fd < 0)
		return kiln_fail_errno(err, "opening %s", s->notes);
	(void) snap_reaper_init(s);

	int sweep = !(flags & KILN_SNAPSHOTTER_NO_SWEEP);
	if (sweep) {
		static const char *const in_layers[] = { "tmp-", "trash-" };
		static const char *const in_active[] = { "" };
		clean_dir(s, s->layers_fd, s->layers, in_layers, KILN_ARRAY_SIZE(in_layers));
		clean_dir(s, s->active_fd, s->active, in_active, KILN_ARRAY_SIZE(in_active));
	}
	cleanup_free char *unsynced = kiln_asprintf("%s/unsynced", s->dir);
	if (!unsynced)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	snap_unsynced_open(s, unsynced, sweep);
	*ret = steal_ptr(&s);
	return 0;
}

char *kiln_snapshot_layer_path(const struct kiln_snapshotter *s, const struct kiln_digest *diff_id)
{
	return kiln_asprintf("%s/%s", s->layers, diff_id->hex);
}

/* snap_layer_name() of the entry `hex` in layers/ */
static int layer_name(struct kiln_snapshotter *s, const char *hex, char name[65],
		      struct kiln_error *err)
{
	struct stat st;
	if (fstatat(s->layers_fd, hex, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return kiln_fail_errno(err, "looking for layer sha256:%s", hex);
	}
	if (S_ISDIR(st.st_mode)) {
		memcpy(name, hex, 65);
		return snap_unsynced_trusted(s, name);
	}
	if (S_ISLNK(st.st_mode)) {
		/* an alias (kiln_snapshot_alias()): the hex of a layer kept under another id */
		ssize_t n = readlinkat(s->layers_fd, hex, name, 65);
		if (n == 64) {
			name[64] = '\0';
			if (kiln_digest_is_hex(name) &&
			    fstatat(s->layers_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISDIR(st.st_mode))
				return snap_unsynced_trusted(s, name);
			if (kiln_digest_is_hex(name) && errno == ENOENT)
				return 0; /* what it named was pruned */
		}
	}
	return kiln_fail(err, KILN_EIO, 0, "%s/%s is not a directory", s->layers, hex);
}

int snap_layer_name(struct kiln_snapshotter *s, const struct kiln_digest *d, char name[65],
		    struct kiln_error *err)
{
	return layer_name(s, d->hex, name, err);
}

int snap_drop_dangling(struct kiln_snapshotter *s, const char *hex)
{
	struct stat st;
	char name[65];
	if (fstatat(s->layers_fd, hex, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
		return 0;
	struct kiln_error e = KILN_ERROR_INIT;
	int r = layer_name(s, hex, name, &e);
	kiln_error_release(&e);
	if (r != 0)
		return 0;
	if (unlinkat(s->layers_fd, hex, 0) < 0 && errno != ENOENT)
		return -1;
	kiln_debug(s->ctx, "snapshot: removed the alias %s of a layer gone", hex);
	return 1;
}

int snap_layer_rename(struct kiln_snapshotter *s, int from_dirfd, const char *from, const char *hex)
{
	for (int retried = 0;; retried = 1) {
		if (renameat2(from_dirfd, from, s->layers_fd, hex, RENAME_NOREPLACE) == 0)
			return 1;
		if (errno != EEXIST && errno != ENOTEMPTY)
			return -errno;
		int r = retried ? 0 : snap_drop_dangling(s, hex);
		if (r <= 0)
			return r < 0 ? -EIO : 0;
	}
}

int kiln_snapshot_has(struct kiln_snapshotter *s, const struct kiln_digest *diff_id,
		      struct kiln_error *err)
{
	char name[65];
	return snap_layer_name(s, diff_id, name, err);
}

int snap_layer_open(struct kiln_snapshotter *s, const struct kiln_digest *d, char name[65],
		    struct kiln_error *err)
{
	int r = snap_layer_name(s, d, name, err);
	if (r < 0)
		return r;
	int fd = r ? openat(s->layers_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
		   : -1;
	if (fd >= 0)
		return fd;
	if (!r || errno == ENOENT)
		return kiln_fail(err, KILN_ENOTFOUND, 0, "layer %s is not unpacked", d->str);
	return kiln_fail_errno(err, "opening layer %s", d->str);
}

int kiln_snapshot_alias(struct kiln_snapshotter *s, const struct kiln_digest *diff_id,
			const struct kiln_digest *kept, struct kiln_error *err)
{
	char name[65];
	int fd = snap_layer_open(s, kept, name, err);
	if (fd < 0)
		return fd;
	(void) close(fd);
	/* not synced: an alias lost in a crash costs an unpack from the blob */
	for (int retried = 0; symlinkat(name, s->layers_fd, diff_id->hex) < 0; retried = 1) {
		if (errno != EEXIST)
			return kiln_fail_errno(err, "naming layer %s %s", kept->str, diff_id->str);
		/* unpacked, or named, already; or an alias of a layer gone since */
		int r = retried ? 0 : snap_drop_dangling(s, diff_id->hex);
		if (r < 0)
			return kiln_fail_errno(err, "replacing the alias %s", diff_id->str);
		if (r == 0)
			return 0;
	}
	kiln_debug(s->ctx, "snapshot: %s is layer %s", diff_id->str, kept->str);
	return 0;
}

int kiln_snapshot_has_in(const char *store_root, const struct kiln_digest *diff_id,
			 struct kiln_error *err)
{
	cleanup_free char *p = kiln_asprintf("%s/snapshots/layers/%s", store_root, diff_id->hex);
	if (!p)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	struct stat st;
	if (stat(p, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return kiln_fail_errno(err, "looking for layer %s", diff_id->str);
	}
	if (!S_ISDIR(st.st_mode))
		return 0;
	/* the name its mark would have: an alias's is the layer it names */
	char name[65];
	ssize_t n = readlink(p, name, sizeof(name));
	if (n != 64)
		memcpy(name, diff_id->hex, 65);
	name[64] = '\0';
	return snap_unsynced_trusted_in(store_root, name);
}

int kiln_snapshot_unpack(struct kiln_snapshotter *s, const struct kiln_digest *diff_id, int fd,
			 const struct kiln_digest *digest, struct kiln_error *err)
{
	int r = kiln_snapshot_has(s, diff_id, err);
	if (r != 0)
		return r < 0 ? r : 0;

	char id[17];
	cleanup_close int lock = -1;
	r = kiln_snapshot_lock_new(s->layers_fd, "tmp-", id, &lock, err);
	if (r < 0)
		return r;
	char tmp[32], lockname[40];
	(void) snprintf(tmp, sizeof(tmp), "tmp-%s", id);
	(void) snprintf(lockname, sizeof(lockname), "tmp-%s.lock", id);
	cleanup_free char *tmp_path = kiln_asprintf("%s/%s", s->layers, tmp);
	if (!tmp_path) {
		(void) unlinkat(s->layers_fd, lockname, 0);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}

	kiln_debug(s->ctx, "snapshot: unpacking %s", diff_id->str);
	r = 0;
	if (mkdirat(s->layers_fd, tmp, 0755) < 0)
		r = kiln_fail_errno(err, "creating %s", tmp_path);
	cleanup_close int dfd = -1;
	if (r >= 0) {
		dfd = openat(s->layers_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (dfd < 0)
			r = kiln_fail_errno(err, "opening %s", tmp_path);
	}
	/* the root of the layer is the root of the image: 0755 unless the tar says */
	if (r >= 0 && fchmod(dfd, 0755) < 0)
		r = kiln_fail_errno(err, "chmod %s", tmp_path);
	if (r >= 0) {
		struct kiln_layer_apply_opts opts = {
			.mode = KILN_APPLY_OVERLAY,
			.expect_diff_id = diff_id,
			.expect_digest = digest,
			.uid = -1,
			.gid = -1,
			.ctx = s->ctx,
		};
		r = kiln_layer_apply(fd, dfd, &opts, NULL, err);
		if (r < 0)
			r = kiln_error_prefix(err, r, "unpacking layer %s", diff_id->str);
	}
	if (r >= 0)
		r = snap_unsynced_mark(s, diff_id->hex, dfd, err);
	if (r >= 0) {
		r = snap_layer_rename(s, s->layers_fd, tmp, diff_id->hex);
		if (r == 0) /* another unpack of this layer won: same content, keep theirs */
			kiln_debug(s->ctx, "snapshot: %s was unpacked concurrently", diff_id->str);
		else if (r < 0)
			r = kiln_fail(err, KILN_EIO, -r, "renaming %s to %s", tmp, diff_id->hex);
	}
	struct kiln_error e2 = KILN_ERROR_INIT;
	(void) kiln_rm_rf(tmp_path, &e2); /* nothing left when renamed */
	kiln_error_release(&e2);
	(void) unlinkat(s->layers_fd, lockname, 0);
	return r < 0 ? r : 0;
}
