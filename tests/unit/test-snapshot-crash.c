/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snapshot: what kills and restarts leave. Leftovers of dead processes,
 * removed by the next open (and left by one that does not sweep), and
 * layers named before their data was synced: the mark of the boot, the
 * settle that drops it, and what a mark of another boot does to a layer
 * wherever it is looked up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fs.h"
#include "snapshot-fixture.h"
#include "snapshot/snapshot.h"
#include "tap.h"

static char root[64];
static struct layer l1;

/* Linked with --wrap=syncfs: `during_sync`, when set, runs as a sync begins. */
int __real_syncfs(int fd);
int __wrap_syncfs(int fd);
static void (*during_sync)(void);

int __wrap_syncfs(int fd)
{
	if (during_sync)
		during_sync();
	return __real_syncfs(fd);
}

static void test_crash_cleanup(void)
{
	char p[512];
	/* leftovers of dead processes: their locks are free */
	(void) snprintf(p, sizeof(p), "%s/snapshots/layers/tmp-0000dead0000dead", root);
	int ok = mkdir(p, 0755) == 0;
	(void) snprintf(p, sizeof(p), "%s/snapshots/layers/tmp-0000dead0000dead/half", root);
	ok = ok && mkdir(p, 0755) == 0;
	(void) snprintf(p, sizeof(p), "%s/snapshots/layers/tmp-0000dead0000dead.lock", root);
	int f = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ok = ok && f >= 0;
	if (f >= 0)
		(void) close(f);
	(void) snprintf(p, sizeof(p), "%s/snapshots/layers/trash-00000000orphan", root);
	ok = ok && mkdir(p, 0700) == 0;
	(void) snprintf(p, sizeof(p), "%s/snapshots/active/00000000deadbeef", root);
	ok = ok && mkdir(p, 0700) == 0;
	(void) snprintf(p, sizeof(p), "%s/snapshots/active/00000000deadbeef/upper", root);
	ok = ok && mkdir(p, 0755) == 0;
	(void) snprintf(p, sizeof(p), "%s/snapshots/active/0000000000orphan", root);
	ok = ok && mkdir(p, 0700) == 0;
	/* a live owner: a child holding its lock */
	(void) snprintf(p, sizeof(p), "%s/snapshots/active/00000000000alive", root);
	ok = ok && mkdir(p, 0700) == 0;
	(void) snprintf(p, sizeof(p), "%s/snapshots/active/00000000000alive.lock", root);
	int hold[2], ready[2];
	ok = ok && pipe(hold) == 0 && pipe(ready) == 0;
	pid_t kid = fork();
	if (kid == 0) {
		/* the owner: its own open file description, its own lock */
		char c = 'r';
		(void) close(hold[1]);
		int lfd = open(p, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
		if (lfd < 0 || flock(lfd, LOCK_EX) < 0 || write(ready[1], &c, 1) != 1)
			_exit(1);
		if (read(hold[0], &c, 1) < 0)
			_exit(2);
		_exit(0);
	}
	(void) close(hold[0]);
	(void) close(ready[1]);
	char c;
	ok = ok && kid > 0 && read(ready[0], &c, 1) == 1;
	(void) close(ready[0]);
	TAP_OK(ok, "set up leftovers of a dead process and a live one");

	struct kiln_snapshotter *s = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_snapshotter_open_flags(NULL, root, KILN_SNAPSHOTTER_NO_SWEEP, &s, &err);
	(void) snprintf(p, sizeof(p), "%s/snapshots/layers", root);
	TAP_OK(r == 0 && count_entries(p, "tmp-") == 2 && count_entries(p, "trash-") == 1,
	       "an open that does not sweep leaves them");
	kiln_snapshotter_free(s);
	s = NULL;
	TAP_INT_EQ(kiln_snapshotter_open_flags(NULL, root, 2, &s, &err), -KILN_EINVAL,
		   "unknown snapshotter flags");
	kiln_error_release(&err);
	r = kiln_snapshotter_open(NULL, root, &s, &err);
	TAP_INT_EQ(r, 0, "reopen cleans up");
	TAP_INT_EQ(count_entries(p, "tmp-"), 0, "a dead unpack and its lock are gone");
	TAP_INT_EQ(count_entries(p, "trash-"), 0, "a half-removed layer without a lock is gone");
	(void) snprintf(p, sizeof(p), "%s/snapshots/active", root);
	TAP_INT_EQ(count_entries(p, "00000000deadbeef"), 0, "a dead mount's upper is gone");
	TAP_INT_EQ(count_entries(p, "0000000000orphan"), 0, "an upper without a lock is gone");
	TAP_INT_EQ(count_entries(p, "00000000000alive"), 2, "a live mount's upper and lock stay");
	kiln_snapshotter_free(s);

	(void) close(hold[1]); /* the owner exits */
	(void) waitpid(kid, NULL, 0);
	r = kiln_snapshotter_open(NULL, root, &s, &err);
	TAP_INT_EQ(count_entries(p, "00000000000alive"), 0, "once its owner died, it goes too");
	kiln_snapshotter_free(s);
	kiln_error_release(&err);
}

/* Keep a one-file layer on top of layer 1 under id `tag` (every byte). */
static int keep_tagged(struct kiln_snapshotter *s, uint8_t tag, struct kiln_digest *id,
		       char **ret_volatile)
{
	struct kiln_error err = KILN_ERROR_INIT;
	uint8_t raw[32];
	memset(raw, tag, sizeof(raw));
	kiln_digest_from_raw(id, raw);
	struct kiln_snapshot_mount *m = NULL;
	int r = kiln_snapshot_mount(s, &l1.d.diff_id, 1, 0, &m, &err);
	int fd = r == 0 ? kiln_snapshot_mount_fd(m) : -1;
	int f = fd >= 0 ? openat(fd, "unsynced", O_CREAT | O_WRONLY | O_CLOEXEC, 0644) : -1;
	r = f >= 0 && write(f, "data\n", 5) == 5 ? 0 : -1;
	if (f >= 0)
		(void) close(f);
	if (r == 0 && ret_volatile) {
		/* overlayfs's own record of a volatile mount, in its work directory */
		char *up = kiln_strdup(kiln_snapshot_mount_upper(m));
		char *slash = up ? strrchr(up, '/') : NULL;
		if (slash)
			*slash = '\0';
		*ret_volatile = slash ? kiln_asprintf("%s/work/work/incompat/volatile", up) : NULL;
		struct stat st;
		if (*ret_volatile && stat(*ret_volatile, &st) < 0) {
			free(*ret_volatile);
			*ret_volatile = NULL;
		}
		free(up);
	}
	r = r == 0 ? kiln_snapshot_commit(m, -1, NULL, NULL, &err) : r;
	r = r == 0 ? kiln_snapshot_keep(m, id, &err) : r;
	kiln_snapshot_mount_release(m);
	kiln_error_release(&err);
	return r;
}

/* The mark of layer `id`: its target, "" when there is none. */
static const char *mark_of(const struct kiln_digest *id)
{
	static char target[128];
	char p[256];
	(void) snprintf(p, sizeof(p), "%s/snapshots/unsynced/%s", root, id->hex);
	ssize_t n = readlink(p, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	return target;
}

/* Make the mark of layer `id` another boot's, as after a restart. */
static int mark_stale(const struct kiln_digest *id, const char *target)
{
	char p[256];
	(void) snprintf(p, sizeof(p), "%s/snapshots/unsynced/%s", root, id->hex);
	(void) unlink(p);
	return symlink(target, p);
}

static int layer_dir_exists(const struct kiln_digest *id)
{
	char p[256];
	struct stat st;
	(void) snprintf(p, sizeof(p), "%s/snapshots/layers/%s", root, id->hex);
	return lstat(p, &st) == 0;
}

/* A layer pruned and kept again while a settle syncs: its mark, made again
 * after the sync began, is a new file under the same name, and often with
 * the same inode. What makes a layer takes longer than the clock's tick,
 * so the pause. */
static struct kiln_digest remade;

static void make_mark_again(void)
{
	char p[256], boot[64];
	(void) snprintf(p, sizeof(p), "%s/snapshots/unsynced/%s", root, remade.hex);
	ssize_t n = readlink(p, boot, sizeof(boot) - 1);
	boot[n > 0 ? n : 0] = '\0';
	(void) usleep(20 * 1000);
	if (n <= 0 || unlink(p) < 0 || symlink(boot, p) < 0)
		TAP_OK(0, "make the mark of %s again", remade.hex);
}

/*
 * Layers named before their data is synced: the mark with this boot's id,
 * a sync that drops it, and what a mark of another boot (a restart before
 * the sync) does to the layer wherever it is looked up.
 */
static void test_unsynced(void)
{
	struct kiln_snapshotter *s = open_another(root, "unsynced");
	if (!s)
		return;
	struct kiln_error err = KILN_ERROR_INIT;
	char boot[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (!f || !fgets(boot, sizeof(boot), f))
		boot[0] = '\0';
	if (f)
		fclose(f);
	boot[strcspn(boot, "\n")] = '\0';
	const char *other = "00000000-0000-4000-8000-000000000000";

	struct kiln_digest a, b, c, d, e, alias;
	char *vol = NULL;
	TAP_INT_EQ(keep_tagged(s, 0xa1, &a, &vol), 0, "unsynced: keep a layer");
	TAP_OK(vol != NULL, "its writable overlay was volatile (no sync when it goes)");
	free(vol);
	TAP_STR_EQ(mark_of(&a), boot, "the kept layer is marked with this boot's id");
	TAP_INT_EQ(kiln_snapshot_has(s, &a, &err), 1, "and is a layer");
	TAP_INT_EQ(kiln_snapshot_has_in(root, &a, &err), 1, "for a look without a snapshotter too");
	int n = kiln_snapshot_settle(root, 0, &err);
	TAP_OK(n >= 1 && !*mark_of(&a), "settling syncs and drops the marks (%d)", n);
	TAP_INT_EQ(kiln_snapshot_has(s, &a, &err), 1, "the layer stays");
	TAP_INT_EQ(kiln_snapshot_settle(root, 0, &err), 0, "a second settle finds nothing");
	TAP_INT_EQ(keep_tagged(s, 0xa2, &remade, NULL), 0, "unsynced: keep one more");
	during_sync = make_mark_again;
	n = kiln_snapshot_settle(root, 0, &err);
	during_sync = NULL;
	TAP_OK(n >= 1 && !strcmp(mark_of(&remade), boot),
	       "a mark made again while the sync ran is not the one it was for: it stays");
	TAP_OK(kiln_snapshot_settle(root, 0, &err) >= 1 && !*mark_of(&remade),
	       "the next settle drops it");

	/* a restart before the sync: the layer is gone wherever it is looked up */
	TAP_INT_EQ(keep_tagged(s, 0xb2, &b, NULL), 0, "keep another");
	TAP_INT_EQ(mark_stale(&b, other), 0, "its mark made another boot's");
	TAP_INT_EQ(kiln_snapshot_has_in(root, &b, &err), 0,
		   "a look without a snapshotter: no layer");
	TAP_OK(layer_dir_exists(&b), "(which removes nothing)");
	struct kiln_snapshot_mount *m = NULL;
	struct kiln_digest chain[2] = { l1.d.diff_id, b };
	TAP_INT_EQ(kiln_snapshot_mount(s, chain, 2, KILN_SNAPSHOT_RDONLY, &m, &err),
		   -KILN_ENOTFOUND, "a mount does not stack it");
	kiln_snapshot_mount_release(m);
	kiln_error_release(&err);
	TAP_OK(!layer_dir_exists(&b) && !*mark_of(&b), "and it is removed, with its mark");
	TAP_INT_EQ(keep_tagged(s, 0xb2, &b, NULL), 0, "the same id kept again");
	TAP_OK(kiln_snapshot_has(s, &b, &err) == 1 && !strcmp(mark_of(&b), boot),
	       "is a layer again, marked by this boot");

	/* an empty mark (its target lost) counts as another boot's */
	TAP_INT_EQ(keep_tagged(s, 0xc3, &c, NULL), 0, "keep a third");
	TAP_INT_EQ(mark_stale(&c, "x"), 0, "its mark made unreadable as a boot id");
	TAP_INT_EQ(kiln_snapshot_has(s, &c, &err), 0, "it is no layer");

	/* an alias of a layer that went: no layer, and replaced by a new alias */
	TAP_INT_EQ(keep_tagged(s, 0xd4, &d, NULL), 0, "keep a fourth");
	uint8_t raw[32];
	memset(raw, 0xee, sizeof(raw));
	kiln_digest_from_raw(&alias, raw);
	TAP_INT_EQ(kiln_snapshot_alias(s, &alias, &d, &err), 0, "name it by an alias");
	TAP_INT_EQ(mark_stale(&d, other), 0, "the layer's mark made another boot's");
	TAP_INT_EQ(kiln_snapshot_has(s, &alias, &err), 0, "the alias names no layer");
	TAP_INT_EQ(keep_tagged(s, 0xe5, &e, NULL), 0, "keep a fifth");
	TAP_INT_EQ(kiln_snapshot_alias(s, &alias, &e, &err), 0, "the same alias for it");
	char name[80] = "", p[256];
	(void) snprintf(p, sizeof(p), "%s/snapshots/layers/%s", root, alias.hex);
	ssize_t len = readlink(p, name, sizeof(name) - 1);
	name[len > 0 ? len : 0] = '\0';
	TAP_OK(kiln_snapshot_has(s, &alias, &err) == 1 && !strcmp(name, e.hex),
	       "replaces the alias of the layer that went");
	/* a keep under a name that is an alias of nothing */
	struct kiln_digest g;
	memset(raw, 0x77, sizeof(raw));
	kiln_digest_from_raw(&g, raw);
	(void) snprintf(p, sizeof(p), "%s/snapshots/layers/%s", root, g.hex);
	TAP_INT_EQ(symlink(d.hex, p), 0, "an alias of the removed layer, under another name");
	TAP_INT_EQ(keep_tagged(s, 0x77, &g, NULL), 0, "a keep under that name");
	struct stat st;
	TAP_OK(lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && kiln_snapshot_has(s, &g, &err) == 1,
	       "replaces the dangling alias with the layer");
	kiln_snapshotter_free(s);

	/* what an open does: another boot's marks, and this boot's old ones */
	TAP_INT_EQ(mark_stale(&e, other), 0, "the fifth's mark made another boot's");
	struct timespec old[2] = { { 0, UTIME_OMIT }, { time(NULL) - 3600, 0 } };
	(void) snprintf(p, sizeof(p), "%s/snapshots/unsynced/%s", root, b.hex);
	TAP_INT_EQ(utimensat(AT_FDCWD, p, old, AT_SYMLINK_NOFOLLOW), 0,
		   "the second's mark made an hour old");
	s = open_another(root, "unsynced, reopened");
	if (!s)
		return;
	TAP_OK(!layer_dir_exists(&e) && !*mark_of(&e), "an open removes the other boot's layer");
	TAP_OK(layer_dir_exists(&b) && !*mark_of(&b), "and syncs and unmarks this boot's old one");
	TAP_OK(layer_dir_exists(&g) && !strcmp(mark_of(&g), boot), "a new mark stays");

	/* detached: a process of its own drops the marks */
	n = kiln_snapshot_settle(root, KILN_SNAPSHOT_SETTLE_DETACH, &err);
	for (int i = 0; i < 500 && *mark_of(&g); i++)
		(void) usleep(10 * 1000);
	TAP_OK(n >= 1 && !*mark_of(&g), "a detached settle drops the marks too (%d)", n);
	TAP_INT_EQ(kiln_snapshot_settle(root, 4, &err), -KILN_EINVAL, "unknown settle flags");
	kiln_snapshotter_free(s);
	kiln_error_release(&err);
}

int main(void)
{
	if (fixture_root(root, sizeof(root), "snapshot-crash", "snapshot crash tests") < 0)
		return tap_done();
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_snapshotter *s = NULL;
	int ok = make_layer(l1_ents, KILN_ARRAY_SIZE(l1_ents), KILN_COMPRESSION_NONE, &l1) == 0;
	TAP_OK(ok, "build a layer");
	int r = kiln_snapshotter_open(NULL, root, &s, &err);
	TAP_INT_EQ(r, 0, "open the snapshotter%s%s", err.msg ? ": " : "", err.msg ? err.msg : "");
	r = ok && r == 0 ? kiln_snapshot_unpack(s, &l1.d.diff_id, l1.fd, NULL, &err) : -1;
	TAP_INT_EQ(r, 0, "unpack it%s%s", err.msg ? ": " : "", err.msg ? err.msg : "");
	if (r == 0) {
		test_unsynced();
		test_crash_cleanup();
	}
	kiln_snapshotter_free(s);
	kiln_error_release(&err);
	fixture_root_remove(root);
	return tap_done();
}
