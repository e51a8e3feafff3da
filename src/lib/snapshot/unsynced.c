/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layers named before their data reaches the disk.
 *
 * A build keeps every step's upper directory as a layer (commit.c) and an
 * unpack renames a finished directory into layers/ (snapshot.c). Neither
 * waits for the disk: a syncfs there, and the writeback beside the step
 * that kept it short, cost a touch build of a-genfiles about 20 ms of its
 * 0.45 s. What that wait bought is safety against a crash: the kernel may
 * have written the rename but not yet the files, and the next build would
 * trust a layer of empty files.
 *
 * So, before a directory gets its name in layers/, it gets a mark:
 * unsynced/<name>, a symlink whose target is the boot id. A symlink, because
 * its target is written with its creation, as one metadata change, and
 * journaled file systems (ext4, XFS, btrfs) write metadata changes in the
 * order they were made: the mark is on the disk no later than the rename.
 * A layer whose mark names another boot, or cannot be read, may have lost
 * data: it is no layer, and is removed where it is found. A mark is removed
 * once a syncfs that started after it has returned: kiln_snapshot_settle()
 * does that after a command, in a child process, and a snapshotter's open
 * does it for marks older than the kernel's own writeback interval.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/strv.h"
#include "snapshot/snapshot-private.h"

/* The kernel writes a dirty page back once it is 30 s old
 * (vm.dirty_expire_centisecs): a sync of older marks finds little to do. */
#define SETTLED_AFTER_S 30

#define IOPRIO_CLASS_BE 2
#define IOPRIO_PRIO(class, level) (((class) << 13) | (level))
#define IOPRIO_WHO_PROCESS 1

int snap_boot_id(char out[SNAP_BOOT_ID_SIZE])
{
	out[0] = '\0';
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, out, SNAP_BOOT_ID_SIZE - 1);
	(void) close(fd);
	if (n <= 0)
		return -1;
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		n--;
	out[n] = '\0';
	return n > 0 ? 0 : -1;
}

enum mark { MARK_NONE, MARK_OURS, MARK_STALE };

/* `boot`: this boot's id, or NULL to read it (only when there is a mark) */
static enum mark mark_of(int dirfd, const char *name, const char *boot)
{
	char target[SNAP_BOOT_ID_SIZE + 1], own[SNAP_BOOT_ID_SIZE];
	ssize_t n = readlinkat(dirfd, name, target, sizeof(target));
	if (n < 0)
		return errno == ENOENT ? MARK_NONE : MARK_STALE;
	if (!boot)
		boot = snap_boot_id(own) == 0 ? own : "";
	if (!*boot || (size_t) n >= sizeof(target))
		return MARK_STALE;
	target[n] = '\0';
	return strcmp(target, boot) == 0 ? MARK_OURS : MARK_STALE;
}

/* A layer that may have lost data: out of the way, as a prune would. */
static void discard(struct kiln_snapshotter *s, const char *name)
{
	struct kiln_error e = KILN_ERROR_INIT;
	int r = snap_layer_remove(s, name, &e);
	if (r < 0)
		kiln_debug(s->ctx, "snapshot: removing layer %s of another boot: %s", name,
			   e.msg ? e.msg : "?");
	else if (r > 0)
		kiln_debug(s->ctx, "snapshot: layer %s was named in another boot, unsynced: %s",
			   name, r == 1 ? "removed" : "in use, left");
	kiln_error_release(&e);
	if (r == 0) /* no such layer: the mark alone (a removal drops it too) */
		(void) unlinkat(s->unsynced_fd, name, 0);
}

int snap_unsynced_trusted(struct kiln_snapshotter *s, const char *name)
{
	if (s->unsynced_fd < 0 || mark_of(s->unsynced_fd, name, s->boot_id) != MARK_STALE)
		return 1;
	discard(s, name);
	return 0;
}

int snap_unsynced_trusted_in(const char *store_root, const char *name)
{
	cleanup_free char *p = kiln_asprintf("%s/snapshots/unsynced/%s", store_root, name);
	if (!p)
		return 1; /* the caller's next step fails on the same allocation */
	return mark_of(AT_FDCWD, p, NULL) != MARK_STALE;
}

int snap_unsynced_mark(struct kiln_snapshotter *s, const char *name, int dfd,
		       struct kiln_error *err)
{
	for (int tries = 0; s->unsynced_fd >= 0 && s->boot_id[0] && tries < 2; tries++) {
		if (symlinkat(s->boot_id, s->unsynced_fd, name) == 0)
			return 0;
		if (errno != EEXIST)
			break;
		if (mark_of(s->unsynced_fd, name, s->boot_id) == MARK_OURS)
			return 0;
		/* another boot's: its layer goes first, then the mark is ours */
		int r = snap_layer_remove(s, name, err);
		if (r < 0)
			return r;
		if (r == 2)
			return kiln_fail(err, KILN_EBUSY, 0,
					 "layer %s, unsynced in an earlier boot, is in use", name);
		(void) unlinkat(s->unsynced_fd, name, 0);
	}
	if (s->unsynced_fd >= 0 && s->boot_id[0])
		kiln_debug(s->ctx, "snapshot: no mark for %s (%s): syncing it instead", name,
			   strerror(errno));
	/* no mark, so durable before it is named, whatever it costs */
	if (syncfs(dfd) < 0)
		return kiln_fail_errno(err, "syncing layer %s", name);
	return 0;
}

/* Marks found by a listing, each with its inode and change time: a mark
 * removed and made again (its layer pruned and made again) while a sync ran
 * is not the one the sync was for, though it may get the same inode. */
struct mark_id {
	ino_t ino;
	struct timespec ctime;
};

struct marks {
	struct kiln_strv names;
	struct mark_id *ids;
	size_t cap;
};

static int same_mark(const struct mark_id *id, const struct stat *st)
{
	return st->st_ino == id->ino && st->st_ctim.tv_sec == id->ctime.tv_sec &&
	       st->st_ctim.tv_nsec == id->ctime.tv_nsec;
}

static void marks_release(struct marks *m)
{
	kiln_strv_release(&m->names);
	free(m->ids);
}

static int marks_push(struct marks *m, const char *name, const struct stat *st)
{
	if (m->names.len == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 16;
		struct mark_id *ids = kiln_reallocarray(m->ids, cap, sizeof(*ids));
		if (!ids)
			return -1;
		m->ids = ids;
		m->cap = cap;
	}
	if (kiln_strv_push(&m->names, name) < 0)
		return -1;
	m->ids[m->names.len - 1] = (struct mark_id){ st->st_ino, st->st_ctim };
	return 0;
}

/* The marks of this boot in `dirfd` (older than `older_than`, when not 0),
 * and, into `stale` when given, those of other boots; tmp- names are marks
 * being made. */
static int list_ours(int dirfd, const char *boot, time_t older_than, struct marks *ours,
		     struct kiln_strv *stale, struct kiln_error *err)
{
	int dup = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	if (!d) {
		int r = kiln_fail_errno(err, "reading the marks of unsynced layers");
		if (dup >= 0)
			(void) close(dup);
		return r;
	}
	rewinddir(d);
	int r = 0;
	struct dirent *e;
	while (r == 0 && (e = readdir(d))) {
		const char *n = e->d_name;
		if (n[0] == '.' || strncmp(n, "tmp-", 4) == 0)
			continue;
		enum mark m = mark_of(dirfd, n, boot);
		struct stat st;
		if (m == MARK_STALE && stale) {
			r = kiln_strv_push(stale, n);
		} else if (m == MARK_OURS && fstatat(dirfd, n, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (older_than && st.st_mtim.tv_sec > older_than)
				continue;
			r = marks_push(ours, n, &st);
		}
	}
	closedir(d);
	return r < 0 ? kiln_fail(err, KILN_ENOMEM, 0, "out of memory") : 0;
}

/* syncfs(`sync_fd`), then remove the marks `m` in `dirfd` that are still the
 * ones listed: every one was made before the sync began. Only system calls:
 * the settle's child runs it. */
static int sync_then_unmark(int sync_fd, int dirfd, const struct marks *m)
{
	if (syncfs(sync_fd) < 0)
		return -1;
	for (size_t i = 0; i < m->names.len; i++) {
		struct stat st;
		if (fstatat(dirfd, m->names.items[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    same_mark(&m->ids[i], &st))
			(void) unlinkat(dirfd, m->names.items[i], 0);
	}
	return 0;
}

void snap_unsynced_open(struct kiln_snapshotter *s, const char *dir, int sweep)
{
	(void) snap_boot_id(s->boot_id);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return;
	s->unsynced_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->unsynced_fd < 0 || !sweep)
		return;
	struct marks old = { .names = KILN_STRV_INIT };
	struct kiln_strv stale = KILN_STRV_INIT;
	if (list_ours(s->unsynced_fd, s->boot_id, time(NULL) - SETTLED_AFTER_S, &old, &stale,
		      NULL) == 0) {
		for (size_t i = 0; i < stale.len; i++)
			discard(s, stale.items[i]);
		/* one process syncs; the others go on (the marks stay until then) */
		if (old.names.len && flock(s->unsynced_fd, LOCK_EX | LOCK_NB) == 0) {
			(void) sync_then_unmark(s->layers_fd, s->unsynced_fd, &old);
			(void) flock(s->unsynced_fd, LOCK_UN);
		}
	}
	marks_release(&old);
	kiln_strv_release(&stale);
}

/* In the child: only what is safe after a fork of a threaded process. */
static void __attribute__((noreturn)) settle_child(int dirfd, const struct marks *m)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3 && null >= 0; fd++)
		(void) dup2(null, fd);
	/* nothing of the parent's stays open here: pipes it was given, locks */
	(void) syscall(SYS_close_range, 3, (unsigned) dirfd - 1, 0);
	(void) syscall(SYS_close_range, (unsigned) dirfd + 1, ~0U, 0);
	(void) setpriority(PRIO_PROCESS, 0, 10);
	(void) syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO(IOPRIO_CLASS_BE, 7));
	(void) sync_then_unmark(dirfd, dirfd, m);
	_exit(0);
}

int kiln_snapshot_settle(const char *store_root, unsigned flags, struct kiln_error *err)
{
	if (flags & ~(unsigned) KILN_SNAPSHOT_SETTLE_DETACH)
		return kiln_fail(err, KILN_EINVAL, 0, "unknown settle flags 0x%x", flags);
	cleanup_free char *dir = kiln_asprintf("%s/snapshots/unsynced", store_root);
	if (!dir)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : kiln_fail_errno(err, "opening %s", dir);
	char boot[SNAP_BOOT_ID_SIZE];
	if (snap_boot_id(boot) < 0)
		return 0; /* then no mark of this boot was made */
	struct marks ours = { .names = KILN_STRV_INIT };
	int r = list_ours(dfd, boot, 0, &ours, NULL, err);
	if (r < 0) {
		marks_release(&ours);
		return r;
	}
	int n = (int) ours.names.len;
	if (n && !(flags & KILN_SNAPSHOT_SETTLE_DETACH)) {
		if (sync_then_unmark(dfd, dfd, &ours) < 0)
			r = kiln_fail_errno(err, "syncing %s", store_root);
	} else if (n) {
		/* twice, so that the one that syncs is nobody's child to reap */
		pid_t pid = fork();
		if (pid == 0) {
			if (fork() == 0)
				settle_child(dfd, &ours);
			_exit(0);
		}
		if (pid < 0)
			r = kiln_fail_errno(err, "starting the sync of %s", store_root);
		else
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
	}
	marks_release(&ours);
	return r < 0 ? r : n;
}
