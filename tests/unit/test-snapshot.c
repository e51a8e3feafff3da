/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snapshot: unpack once (atomically, concurrently), overlay mounts of 0, 1, 2
 * and 150 layers, whiteouts and opaque directories through the overlay,
 * commit of the upper directory and keeping it as a layer, aliases, notes,
 * the reaper, prune. What crashes and restarts leave: test-snapshot-crash.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "base/fs.h"
#include "snapshot-fixture.h"
#include "snapshot/snapshot.h"
#include "tap.h"

/* ---- the tests ---------------------------------------------------------------- */

static char root[64];
static struct layer l1, l2;

static void test_unpack(struct kiln_snapshotter *s)
{
	struct kiln_error err = KILN_ERROR_INIT;
	char path[256];
	struct stat st;
	(void) snprintf(path, sizeof(path), "%s/snapshots", root);
	TAP_OK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0700,
	       "the snapshot directory is private (0700)");

	TAP_INT_EQ(kiln_snapshot_has(s, &l1.d.diff_id, &err), 0, "not unpacked yet");
	/* a wrong diff_id: refused, nothing kept */
	struct layer bad;
	const struct ent bad_ents[] = { { 'f', "x", "x" } };
	if (make_layer(bad_ents, 1, KILN_COMPRESSION_NONE, &bad) == 0) {
		int r = kiln_snapshot_unpack(s, &l1.d.diff_id, bad.fd, NULL, &err);
		TAP_INT_EQ(r, -KILN_EDIGEST,
			   "a layer that does not hash to its diff_id is refused");
		kiln_error_release(&err);
		TAP_INT_EQ(kiln_snapshot_has(s, &l1.d.diff_id, &err), 0,
			   "nothing kept after a digest mismatch");
		(void) snprintf(path, sizeof(path), "%s/snapshots/layers", root);
		TAP_INT_EQ(count_entries(path, "tmp-"), 0, "no temporary directory left");
		(void) close(bad.fd);
	}

	int r = kiln_snapshot_unpack(s, &l1.d.diff_id, l1.fd, &l1.d.digest, &err);
	TAP_INT_EQ(r, 0, "unpack layer 1%s%s", err.msg ? ": " : "", err.msg ? err.msg : "");
	kiln_error_release(&err);
	TAP_INT_EQ(kiln_snapshot_has(s, &l1.d.diff_id, &err), 1, "layer 1 is unpacked");
	TAP_INT_EQ(kiln_snapshot_unpack(s, &l1.d.diff_id, -1, NULL, &err), 0,
		   "unpacking again reads nothing (fd -1 is fine)");

	r = kiln_snapshot_unpack(s, &l2.d.diff_id, l2.fd, &l2.d.digest, &err);
	TAP_INT_EQ(r, 0, "unpack layer 2 (gzip)%s%s", err.msg ? ": " : "", err.msg ? err.msg : "");
	kiln_error_release(&err);

	char *p1 = kiln_snapshot_layer_path(s, &l1.d.diff_id);
	char *p2 = kiln_snapshot_layer_path(s, &l2.d.diff_id);
	int d1 = p1 ? open(p1, O_RDONLY | O_DIRECTORY) : -1;
	int d2 = p2 ? open(p2, O_RDONLY | O_DIRECTORY) : -1;
	TAP_OK(d1 >= 0 && d2 >= 0, "layer directories exist");
	TAP_OK(fstat(d1, &st) == 0 && (st.st_mode & 07777) == 0755,
	       "the root of an unpacked layer is 0755");
	char *a = read_at(d1, "etc/a");
	TAP_STR_EQ(a, "a1\n", "layer 1 holds etc/a");
	TAP_OK(fstatat(d2, "etc/a", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
		       st.st_rdev == makedev(0, 0),
	       "a whiteout is unpacked as a 0:0 character device");
	char x[8] = { 0 };
	TAP_OK(lgetxattr(p2 ? p2 : "", "trusted.overlay.opaque", x, sizeof(x)) < 0,
	       "the layer root itself is not opaque");
	char optp[300];
	(void) snprintf(optp, sizeof(optp), "%s/opt", p2 ? p2 : "");
	ssize_t xn = lgetxattr(optp, "trusted.overlay.opaque", x, sizeof(x) - 1);
	TAP_OK(xn == 1 && x[0] == 'y', "an opaque directory carries trusted.overlay.opaque=y");
	(void) close(d1);
	(void) close(d2);
	free(p1);
	free(p2);
}

static void test_mount(struct kiln_snapshotter *s)
{
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_digest chain[3] = { l1.d.diff_id, l2.d.diff_id, l1.d.diff_id };
	struct kiln_snapshot_mount *m = NULL;
	int r = kiln_snapshot_mount(s, chain, 2, 0, &m, &err);
	TAP_INT_EQ(r, 0, "mount layers 1+2 writable%s%s", err.msg ? ": " : "",
		   err.msg ? err.msg : "");
	if (r != 0) {
		kiln_error_release(&err);
		return;
	}
	int fd = kiln_snapshot_mount_fd(m);
	TAP_OK(!exists_at(fd, "etc/a"), "a whiteout hides etc/a");
	TAP_STR_EQ(read_at(fd, "etc/b"), "b1\n", "etc/b comes from layer 1");
	TAP_STR_EQ(read_at(fd, "etc/c"), "c2\n", "etc/c comes from layer 2");
	TAP_OK(!exists_at(fd, "opt/x") && exists_at(fd, "opt/y"),
	       "an opaque directory hides layer 1's opt/x");
	TAP_STR_EQ(read_at(fd, "keep/k"), "k\n", "untouched directories come through");

	/* change things: add, delete, modify, make a directory opaque */
	int ok = mkdirat(fd, "new", 0755) == 0;
	int nf = openat(fd, "new/file", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ok = ok && nf >= 0 && write(nf, "n\n", 2) == 2;
	if (nf >= 0)
		(void) close(nf);
	ok = ok && unlinkat(fd, "etc/b", 0) == 0;
	int cf = openat(fd, "etc/c", O_WRONLY | O_TRUNC | O_CLOEXEC);
	ok = ok && cf >= 0 && write(cf, "c3\n", 3) == 3;
	if (cf >= 0)
		(void) close(cf);
	ok = ok && unlinkat(fd, "keep/k", 0) == 0 && unlinkat(fd, "keep", AT_REMOVEDIR) == 0 &&
	     mkdirat(fd, "keep", 0700) == 0;
	TAP_OK(ok, "the mount is writable");

	/* the layers themselves are untouched */
	char *p1 = kiln_snapshot_layer_path(s, &l1.d.diff_id);
	int d1 = p1 ? open(p1, O_RDONLY | O_DIRECTORY) : -1;
	TAP_STR_EQ(read_at(d1, "etc/b"), "b1\n", "layer 1 still has etc/b");
	if (d1 >= 0)
		(void) close(d1);
	free(p1);

	int out = memfd_create("commit", MFD_CLOEXEC);
	struct kiln_layer_digests dg;
	r = kiln_snapshot_commit(m, out, NULL, &dg, &err);
	TAP_INT_EQ(r, 0, "commit the upper directory%s%s", err.msg ? ": " : "",
		   err.msg ? err.msg : "");
	kiln_error_release(&err);
	char *list = list_layer(out);
	TAP_STR_EQ(
		list,
		"d etc/\n- etc/.wh.b\n- etc/c\nd keep/\n- keep/.wh..wh..opq\nd new/\n- new/file\n",
		"the committed layer holds exactly the changes, with OCI whiteouts");
	free(list);
	(void) close(out);

	const char *upper = kiln_snapshot_mount_upper(m);
	char active[256];
	(void) snprintf(active, sizeof(active), "%s/snapshots/active", root);
	TAP_OK(upper && strncmp(upper, active, strlen(active)) == 0, "the upper lives in active/");
	TAP_INT_EQ(count_entries(active, ""), 2, "one active directory and its lock");
	kiln_snapshot_mount_release(m);
	/* on the reaper thread, after the overlay */
	size_t left = count_entries(active, "");
	for (int i = 0; left && i < 500; i++) {
		(void) usleep(10 * 1000);
		left = count_entries(active, "");
	}
	TAP_INT_EQ(left, 0, "release removes the upper directory and lock");

	/* directories only copied up (mount points made and removed, times put
	 * back, as exec does) are not part of the layer; changed ones are */
	r = kiln_snapshot_mount(s, chain, 1, 0, &m, &err);
	TAP_INT_EQ(r, 0, "mount layer 1 writable");
	if (r == 0) {
		fd = kiln_snapshot_mount_fd(m);
		struct stat est;
		int ok2 = fstatat(fd, "etc", &est, 0) == 0;
		int sf = openat(fd, "etc/stub", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		ok2 = ok2 && sf >= 0 && unlinkat(fd, "etc/stub", 0) == 0;
		if (sf >= 0)
			(void) close(sf);
		struct timespec ts[2] = { est.st_atim, est.st_mtim };
		ok2 = ok2 && utimensat(fd, "etc", ts, 0) == 0;
		ok2 = ok2 && fchmodat(fd, "opt", 0700, 0) == 0;
		int kf = openat(fd, "keep/tmp", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		ok2 = ok2 && kf >= 0 && unlinkat(fd, "keep/tmp", 0) == 0;
		if (kf >= 0)
			(void) close(kf);
		TAP_OK(ok2, "copy up etc, opt and keep");
		out = memfd_create("commit2", MFD_CLOEXEC);
		r = kiln_snapshot_commit(m, out, NULL, NULL, &err);
		TAP_INT_EQ(r, 0, "commit");
		kiln_error_release(&err);
		list = list_layer(out);
		TAP_STR_EQ(list, "d keep/\nd opt/\n",
			   "an unchanged copied-up directory is dropped, changed ones stay");
		free(list);
		(void) close(out);
		TAP_INT_EQ(kiln_snapshot_mount_fd(m), -1, "commit unmounts");
		kiln_snapshot_mount_release(m);
	}

	/* a layer twice: the highest copy counts */
	r = kiln_snapshot_mount(s, chain, 3, KILN_SNAPSHOT_RDONLY, &m, &err);
	TAP_INT_EQ(r, 0, "a chain with a repeated layer mounts%s%s", err.msg ? ": " : "",
		   err.msg ? err.msg : "");
	kiln_error_release(&err);
	if (r == 0) {
		fd = kiln_snapshot_mount_fd(m);
		TAP_OK(exists_at(fd, "etc/a") && exists_at(fd, "opt/x") && exists_at(fd, "etc/c"),
		       "layer 1 on top of 2 brings etc/a and opt/x back");
		TAP_OK(mkdirat(fd, "ro", 0755) < 0 && errno == EROFS,
		       "a read-only view refuses writes");
		r = kiln_snapshot_commit(m, 1, NULL, NULL, &err);
		TAP_INT_EQ(r, -KILN_EINVAL, "a read-only view cannot be committed");
		kiln_error_release(&err);
		kiln_snapshot_mount_release(m);
	}

	/* one layer, read-only: a bind */
	r = kiln_snapshot_mount(s, chain, 1, KILN_SNAPSHOT_RDONLY, &m, &err);
	TAP_INT_EQ(r, 0, "one layer read-only");
	if (r == 0) {
		fd = kiln_snapshot_mount_fd(m);
		TAP_OK(exists_at(fd, "etc/a") && mkdirat(fd, "ro", 0755) < 0 && errno == EROFS,
		       "one-layer view has the layer and refuses writes");
		kiln_snapshot_mount_release(m);
	}

	/* an empty chain: FROM scratch */
	for (int ro = 0; ro < 2; ro++) {
		r = kiln_snapshot_mount(s, NULL, 0, ro ? KILN_SNAPSHOT_RDONLY : 0, &m, &err);
		TAP_INT_EQ(r, 0, "an empty chain mounts (%s)", ro ? "read-only" : "writable");
		kiln_error_release(&err);
		if (r < 0)
			continue;
		fd = kiln_snapshot_mount_fd(m);
		int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
		size_t n = 0;
		struct dirent *e;
		while (d && (e = readdir(d)))
			n += e->d_name[0] != '.';
		if (d)
			closedir(d);
		TAP_INT_EQ(n, 0, "an empty chain is an empty root");
		if (!ro) {
			int f = openat(fd, "hello", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
			TAP_OK(f >= 0, "and it is writable");
			if (f >= 0)
				(void) close(f);
		}
		kiln_snapshot_mount_release(m);
	}
	char empty[256];
	(void) snprintf(empty, sizeof(empty), "%s/snapshots/empty", root);
	TAP_INT_EQ(count_entries(empty, ""), 0, "the shared empty lower stays empty");
}

static void test_many_lowers(struct kiln_snapshotter *s)
{
	enum { N = 150 };
	struct kiln_digest chain[N];
	struct kiln_error err = KILN_ERROR_INIT;
	int ok = 1;
	for (int i = 0; i < N && ok; i++) {
		char name[32], content[32];
		(void) snprintf(name, sizeof(name), "files/f%03d", i);
		(void) snprintf(content, sizeof(content), "%d\n", i);
		struct ent ents[] = { { 'd', "files", NULL },
				      { 'f', name, content },
				      { 'f', "top", content } };
		struct layer l;
		if (make_layer(ents, 3, KILN_COMPRESSION_NONE, &l) < 0) {
			ok = 0;
			break;
		}
		chain[i] = l.d.diff_id;
		if (kiln_snapshot_unpack(s, &chain[i], l.fd, NULL, &err) < 0) {
			tap_diag("unpack %d: %s", i, err.msg);
			ok = 0;
		}
		(void) close(l.fd);
	}
	TAP_OK(ok, "unpack %d layers", N);
	kiln_error_release(&err);
	if (!ok)
		return;
	/* the layer paths alone are far more than a page */
	char *p = kiln_snapshot_layer_path(s, &chain[0]);
	TAP_OK(p && strlen(p) * N > 4096, "their paths would not fit in one page of mount options");
	free(p);
	for (int ro = 0; ro < 2; ro++) {
		struct kiln_snapshot_mount *m = NULL;
		int r = kiln_snapshot_mount(s, chain, N, ro ? KILN_SNAPSHOT_RDONLY : 0, &m, &err);
		TAP_INT_EQ(r, 0, "mount %d lowers (%s)%s%s", N, ro ? "read-only" : "writable",
			   err.msg ? ": " : "", err.msg ? err.msg : "");
		kiln_error_release(&err);
		if (r < 0)
			continue;
		int fd = kiln_snapshot_mount_fd(m);
		TAP_STR_EQ(read_at(fd, "top"), "149\n", "the top layer wins");
		int dfd = openat(fd, "files", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
		size_t n = 0;
		struct dirent *e;
		while (d && (e = readdir(d)))
			n += e->d_name[0] == 'f';
		if (d)
			closedir(d);
		TAP_INT_EQ(n, N, "every layer contributes its file");
		kiln_snapshot_mount_release(m);
	}
	struct kiln_snapshot_mount *m = NULL;
	static struct kiln_digest big[KILN_SNAPSHOT_MAX_LAYERS + 1];
	int r = kiln_snapshot_mount(s, big, KILN_SNAPSHOT_MAX_LAYERS + 1, 0, &m, &err);
	TAP_INT_EQ(r, -KILN_ELIMIT, "more layers than overlayfs stacks are refused");
	kiln_error_release(&err);
	struct kiln_digest missing;
	(void) kiln_sha256_buf("not unpacked", 12, &missing, NULL);
	r = kiln_snapshot_mount(s, &missing, 1, 0, &m, &err);
	TAP_INT_EQ(r, -KILN_ENOTFOUND, "a layer that is not unpacked: not found");
	kiln_error_release(&err);
}

static void test_concurrent_unpack(void)
{
	enum { KIDS = 4 };
	struct layer l;
	char big[65536];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct ent ents[40];
	char names[40][16];
	for (int i = 0; i < 40; i++) {
		(void) snprintf(names[i], sizeof(names[i]), "c%02d", i);
		ents[i] = (struct ent){ 'f', names[i], big };
	}
	if (!TAP_OK(make_layer(ents, 40, KILN_COMPRESSION_ZSTD, &l) == 0, "a layer to race on"))
		return;
	int go[2];
	if (pipe(go) < 0)
		return;
	pid_t pids[KIDS];
	for (int k = 0; k < KIDS; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			char c;
			(void) close(go[1]);
			if (read(go[0], &c, 1) != 0)
				_exit(3);
			struct kiln_snapshotter *s = NULL;
			if (kiln_snapshotter_open(NULL, root, &s, NULL) < 0)
				_exit(4);
			/* each child reads the blob through its own description */
			char fdp[64];
			(void) snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", l.fd);
			int fd = open(fdp, O_RDONLY | O_CLOEXEC);
			int r = kiln_snapshot_unpack(s, &l.d.diff_id, fd, &l.d.digest, NULL);
			kiln_snapshotter_free(s);
			_exit(r == 0 ? 0 : 5);
		}
	}
	(void) close(go[0]);
	(void) close(go[1]); /* all start now */
	int all = 1;
	for (int k = 0; k < KIDS; k++) {
		int st = 0;
		(void) waitpid(pids[k], &st, 0);
		all = all && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	TAP_OK(all, "%d concurrent unpacks of one layer all succeed", KIDS);
	char path[256];
	(void) snprintf(path, sizeof(path), "%s/snapshots/layers", root);
	TAP_INT_EQ(count_entries(path, "tmp-"), 0, "and leave no temporary directory");
	(void) snprintf(path, sizeof(path), "%s/snapshots/layers/%s", root, l.d.diff_id.hex);
	TAP_INT_EQ(count_entries(path, "c"), 40, "the layer is complete");
	(void) close(l.fd);
}

/* Notes beside layers and names for layers: hints that never mislead. */
static void test_notes(struct kiln_snapshotter *s)
{
	struct kiln_error err = KILN_ERROR_INIT;
	char *data = NULL;
	size_t len = 0;
	TAP_INT_EQ(kiln_snapshot_note_write(s, &l1.d.diff_id, "abc\0def", 7, &err), 0,
		   "write a note");
	TAP_INT_EQ(kiln_snapshot_note_read(s, &l1.d.diff_id, &data, &len, &err), 1,
		   "read it back");
	TAP_OK(len == 7 && data && !memcmp(data, "abc\0def", 7), "the same bytes");
	free(data);
	data = NULL;
	TAP_INT_EQ(kiln_snapshot_note_read(s, &l2.d.diff_id, &data, &len, &err), 0,
		   "a layer without a note has none");
	char p[512];
	(void) snprintf(p, sizeof(p), "%s/snapshots/notes/%s", root, l1.d.diff_id.hex);
	FILE *f = fopen(p, "a");
	TAP_OK(f && fputc('x', f) == 'x' && fclose(f) == 0, "change the note by hand");
	TAP_INT_EQ(kiln_snapshot_note_read(s, &l1.d.diff_id, &data, &len, &err), 0,
		   "a note that does not check out reads as none");
	TAP_OK(!data && !err.msg, "and is no error");
	TAP_INT_EQ(kiln_snapshot_note_write(s, &l2.d.diff_id, "", 0, &err), 0, "an empty note");
	TAP_INT_EQ(kiln_snapshot_note_read(s, &l2.d.diff_id, &data, &len, &err), 1,
		   "an empty note reads as one");
	free(data);

	struct kiln_digest got;
	TAP_INT_EQ(kiln_snapshot_name_get(s, "copy-x", &got, &err), 0, "an unset name");
	TAP_INT_EQ(kiln_snapshot_name_set(s, "copy-x", &l1.d.diff_id, &err), 0, "name layer 1");
	TAP_OK(kiln_snapshot_name_get(s, "copy-x", &got, &err) == 1 &&
		       kiln_digest_equal(&got, &l1.d.diff_id),
	       "the name gives layer 1");
	TAP_INT_EQ(kiln_snapshot_name_set(s, "copy-x", &l2.d.diff_id, &err), 0,
		   "name layer 2 instead");
	TAP_OK(kiln_snapshot_name_get(s, "copy-x", &got, &err) == 1 &&
		       kiln_digest_equal(&got, &l2.d.diff_id),
	       "the name gives layer 2");
	struct kiln_digest none;
	TAP_INT_EQ(kiln_sha256_buf("no such layer", 13, &none, &err), 0, "a digest of no layer");
	TAP_INT_EQ(kiln_snapshot_name_set(s, "copy-gone", &none, &err), 0, "name it");
	TAP_INT_EQ(kiln_snapshot_name_get(s, "copy-gone", &got, &err), 0,
		   "a name whose layer is not there is unset");
	TAP_INT_EQ(kiln_snapshot_name_set(s, "../x", &l1.d.diff_id, &err), -KILN_EINVAL,
		   "a name with a slash is refused");
	kiln_error_release(&err);
	TAP_INT_EQ(kiln_snapshot_name_set(s, l1.d.diff_id.hex, &l1.d.diff_id, &err),
		   -KILN_EINVAL, "a name that looks like a layer is refused");
	kiln_error_release(&err);
	int fd = kiln_snapshot_layer_open(s, &l1.d.diff_id, &err);
	TAP_OK(fd >= 0, "open layer 1");
	if (fd >= 0)
		(void) close(fd);
	TAP_INT_EQ(kiln_snapshot_layer_open(s, &none, &err), -KILN_ENOTFOUND,
		   "a layer that is not there");
	kiln_error_release(&err);
}

static void test_prune(struct kiln_snapshotter *s)
{
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_snapshot_mount *m = NULL;
	/* layer 2 is in use by a mount; layer 1 is kept; the rest goes */
	int r = kiln_snapshot_mount(s, &l2.d.diff_id, 1, KILN_SNAPSHOT_RDONLY, &m, &err);
	TAP_INT_EQ(r, 0, "mount layer 2 to keep it busy");
	struct kiln_snapshot_prune_report rep = { 0 };
	r = kiln_snapshot_prune(s, &l1.d.diff_id, 1, &rep, &err);
	TAP_INT_EQ(r, 0, "prune%s%s", err.msg ? ": " : "", err.msg ? err.msg : "");
	kiln_error_release(&err);
	TAP_INT_EQ(rep.kept, 1, "the kept layer is counted");
	TAP_INT_EQ(rep.busy, 1, "the mounted layer is busy");
	TAP_OK(rep.removed >= 150, "the unused layers are removed (%zu)", rep.removed);
	TAP_OK(rep.bytes_freed > 0, "bytes freed are counted");
	TAP_INT_EQ(kiln_snapshot_has(s, &l1.d.diff_id, NULL), 1, "kept layer stays");
	TAP_INT_EQ(kiln_snapshot_has(s, &l2.d.diff_id, NULL), 1, "busy layer stays");
	if (m) {
		TAP_STR_EQ(read_at(kiln_snapshot_mount_fd(m), "etc/c"), "c2\n",
			   "the mount still reads its layer");
		kiln_snapshot_mount_release(m);
	}
	/* what a writer that died left in notes/, and what a live one is writing */
	char t[600];
	(void) snprintf(t, sizeof(t), "%s/snapshots/notes/.tmp-old", root);
	FILE *f = fopen(t, "w");
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	TAP_OK(f && fclose(f) == 0 && utimensat(AT_FDCWD, t, old, 0) == 0, "an old temporary note");
	(void) snprintf(t, sizeof(t), "%s/snapshots/notes/.tmp-new", root);
	f = fopen(t, "w");
	TAP_OK(f && fclose(f) == 0, "a new temporary note");
	/* a file linked from elsewhere (COPY links files between layers) counts
	 * half: removing this one of its two links frees none of it */
	char big[600], other[600];
	(void) snprintf(big, sizeof(big), "%s/snapshots/layers/%s/big", root, l2.d.diff_id.hex);
	(void) snprintf(other, sizeof(other), "%s/big-link", root);
	static char mib[1 << 20];
	memset(mib, 'x', sizeof(mib));
	f = fopen(big, "w");
	TAP_OK(f && fwrite(mib, 1, sizeof(mib), f) == sizeof(mib) && fclose(f) == 0 &&
		       link(big, other) == 0,
	       "a 1 MiB file in layer 2, linked from outside");
	r = kiln_snapshot_prune(s, NULL, 0, &rep, &err);
	TAP_OK(r == 0 && rep.removed == 2 && rep.busy == 0, "once unmounted, everything can go");
	TAP_OK(rep.bytes_freed >= sizeof(mib) / 2 && rep.bytes_freed < sizeof(mib),
	       "the linked file counts half (%" PRIu64 " bytes freed)", rep.bytes_freed);
	TAP_OK(unlink(other) == 0, "its other link stays");
	TAP_INT_EQ(kiln_snapshot_has(s, &l2.d.diff_id, NULL), 0, "layer 2 is gone");
	char *note = NULL;
	size_t len = 0;
	TAP_INT_EQ(kiln_snapshot_note_read(s, &l2.d.diff_id, &note, &len, &err), 0,
		   "its note went with it");
	struct kiln_digest got;
	TAP_INT_EQ(kiln_snapshot_name_get(s, "copy-x", &got, &err), 0, "its name is unset");
	char n[512];
	(void) snprintf(n, sizeof(n), "%s/snapshots/notes", root);
	TAP_INT_EQ(count_entries(n, ""), 0, "no note or name is left for layers not there");
	(void) snprintf(n, sizeof(n), "%s/snapshots/notes/.tmp-old", root);
	TAP_OK(access(n, F_OK) < 0, "a dead writer's file is removed");
	(void) snprintf(n, sizeof(n), "%s/snapshots/notes/.tmp-new", root);
	TAP_OK(access(n, F_OK) == 0, "a live writer's is not");
	char p[256];
	(void) snprintf(p, sizeof(p), "%s/snapshots/layers", root);
	TAP_INT_EQ(count_entries(p, ""), 0, "nothing left in layers/");
	kiln_error_release(&err);
}

/* A committed upper directory kept as the unpacked layer it is. */
static void test_keep(struct kiln_snapshotter *s)
{
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_snapshot_mount *m = NULL;
	int r = kiln_snapshot_mount(s, &l1.d.diff_id, 1, 0, &m, &err);
	TAP_INT_EQ(r, 0, "keep: mount layer 1 writable");
	if (r != 0) {
		kiln_error_release(&err);
		return;
	}
	int fd = kiln_snapshot_mount_fd(m);
	int ok = mkdirat(fd, "kept", 0750) == 0;
	int f = openat(fd, "kept/file", O_CREAT | O_WRONLY | O_CLOEXEC, 0640);
	ok = ok && f >= 0 && write(f, "kept\n", 5) == 5 && unlinkat(fd, "etc/a", 0) == 0;
	if (f >= 0)
		(void) close(f);
	TAP_OK(ok, "keep: write a directory, a file and a deletion");
	struct kiln_digest dummy = l2.d.diff_id;
	TAP_INT_EQ(kiln_snapshot_keep(m, &dummy, &err), -KILN_EINVAL,
		   "keep before commit is refused");
	kiln_error_release(&err);
	int out = memfd_create("keep", MFD_CLOEXEC);
	struct kiln_layer_digests dg;
	r = kiln_snapshot_commit(m, out, NULL, &dg, &err);
	(void) close(out);
	TAP_INT_EQ(r, 0, "keep: commit");
	TAP_INT_EQ(kiln_snapshot_has(s, &dg.diff_id, &err), 0, "the new layer is not unpacked yet");
	r = kiln_snapshot_keep(m, &dg.diff_id, &err);
	TAP_INT_EQ(r, 0, "keep the upper as layer %s%s%s", dg.diff_id.hex, err.msg ? ": " : "",
		   err.msg ? err.msg : "");
	kiln_error_release(&err);
	kiln_snapshot_mount_release(m);
	TAP_INT_EQ(kiln_snapshot_has(s, &dg.diff_id, &err), 1,
		   "it is an unpacked layer, still there after the mount is released");
	struct kiln_digest chain[2] = { l1.d.diff_id, dg.diff_id };
	r = kiln_snapshot_mount(s, chain, 2, KILN_SNAPSHOT_RDONLY, &m, &err);
	TAP_INT_EQ(r, 0, "mount layer 1 + the kept layer");
	if (r == 0) {
		fd = kiln_snapshot_mount_fd(m);
		struct stat st;
		TAP_STR_EQ(read_at(fd, "kept/file"), "kept\n", "the kept layer's file is there");
		TAP_OK(fstatat(fd, "kept", &st, 0) == 0 && (st.st_mode & 07777) == 0750,
		       "with its directory's mode");
		TAP_OK(!exists_at(fd, "etc/a") && exists_at(fd, "etc/b"),
		       "its whiteout still hides etc/a");
		kiln_snapshot_mount_release(m);
	}
	/* the same layer again: the first one stays */
	r = kiln_snapshot_mount(s, &l1.d.diff_id, 1, 0, &m, &err);
	if (r == 0) {
		fd = kiln_snapshot_mount_fd(m);
		ok = mkdirat(fd, "kept", 0750) == 0;
		f = openat(fd, "kept/file", O_CREAT | O_WRONLY | O_CLOEXEC, 0640);
		ok = ok && f >= 0 && write(f, "kept\n", 5) == 5 && unlinkat(fd, "etc/a", 0) == 0;
		if (f >= 0)
			(void) close(f);
		out = memfd_create("keep2", MFD_CLOEXEC);
		r = kiln_snapshot_commit(m, out, NULL, NULL, &err);
		(void) close(out);
		TAP_OK(ok && r == 0 && kiln_snapshot_keep(m, &dg.diff_id, &err) == 0,
		       "keeping a layer that is already unpacked succeeds and changes nothing");
		kiln_snapshot_mount_release(m);
	}
	kiln_error_release(&err);
}

/* kept under an id of the caller's without a tar: a later write gives the diff_id a commit gives */
static void test_keep_unwritten(struct kiln_snapshotter *s)
{
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_digest id, want = { 0 };
	/* the two passes make their files at different times */
	const struct kiln_layer_write_opts clamp = { .flags = KILN_WRITE_CLAMP_MTIME,
						     .mtime_clamp = 1000000 };
	uint8_t raw[32];
	memset(raw, 0x5a, sizeof(raw));
	kiln_digest_from_raw(&id, raw);
	for (int pass = 0; pass < 2; pass++) {
		struct kiln_snapshot_mount *m = NULL;
		int r = kiln_snapshot_mount(s, &l1.d.diff_id, 1, 0, &m, &err);
		int fd = r == 0 ? kiln_snapshot_mount_fd(m) : -1;
		int f = fd >= 0 ? openat(fd, "etc/own", O_CREAT | O_WRONLY | O_CLOEXEC, 0600) : -1;
		int ok = f >= 0 && write(f, "own\n", 4) == 4 && unlinkat(fd, "etc/a", 0) == 0;
		if (f >= 0)
			(void) close(f);
		TAP_OK(ok, "unwritten keep (pass %d): a file and a deletion", pass);
		struct kiln_layer_digests dg;
		memset(&dg, 0x11, sizeof(dg));
		int out = pass ? -1 : memfd_create("full", MFD_CLOEXEC);
		r = r == 0 ? kiln_snapshot_commit(m, out, &clamp, &dg, &err) : r;
		if (out >= 0)
			(void) close(out);
		if (pass == 0) {
			want = dg.diff_id;
			TAP_INT_EQ(r, 0, "a commit that writes: diff_id %s", want.hex);
		} else {
			TAP_OK(r == 0 && dg.diff_id.raw[0] == 0x11,
			       "a commit with no fd writes nothing and leaves the digests alone");
			r = kiln_snapshot_keep(m, &id, &err);
			TAP_INT_EQ(r, 0, "kept under the caller's id%s%s", err.msg ? ": " : "",
				   err.msg ? err.msg : "");
		}
		kiln_snapshot_mount_release(m);
		kiln_error_release(&err);
	}
	TAP_INT_EQ(kiln_snapshot_has(s, &id, &err), 1, "the layer is there under that id");
	struct kiln_digest chain[2] = { l1.d.diff_id, id };
	struct kiln_snapshot_mount *m = NULL;
	if (kiln_snapshot_mount(s, chain, 2, KILN_SNAPSHOT_RDONLY, &m, &err) == 0) {
		int fd = kiln_snapshot_mount_fd(m);
		const char *own = read_at(fd, "etc/own");
		TAP_OK(own && strcmp(own, "own\n") == 0 && !exists_at(fd, "etc/a"),
		       "mounted by that id: its file, its deletion");
		kiln_snapshot_mount_release(m);
	} else {
		TAP_OK(0, "mount the layer kept under its own id: %s", err.msg ? err.msg : "?");
		kiln_error_release(&err);
	}
	int out = memfd_create("later", MFD_CLOEXEC);
	struct kiln_layer_digests dg;
	int r = kiln_snapshot_write_layer(s, &id, out, &clamp, &dg, &err);
	(void) close(out);
	TAP_OK(r == 0 && kiln_digest_equal(&dg.diff_id, &want),
	       "written later, its diff_id is the one a commit gives");
	kiln_error_release(&err);
}

/*
 * The layer test_keep_unwritten() kept under an id of its own, named by its
 * diff_id afterwards: found, mounted and opened by either, kept by a prune
 * that keeps the diff_id, and the alias removed by one that does not.
 */
static void test_alias(struct kiln_snapshotter *s)
{
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_digest id;
	uint8_t raw[32];
	memset(raw, 0x5a, sizeof(raw));
	kiln_digest_from_raw(&id, raw);
	int out = memfd_create("alias", MFD_CLOEXEC);
	struct kiln_layer_digests dg;
	int r = kiln_snapshot_write_layer(s, &id, out, NULL, &dg, &err);
	TAP_INT_EQ(r, 0, "alias: the tar of a layer kept under its own id");
	if (r < 0) {
		(void) close(out);
		kiln_error_release(&err);
		return;
	}
	const struct kiln_digest *d = &dg.diff_id;
	TAP_INT_EQ(kiln_snapshot_has(s, d, &err), 0, "its diff_id is not unpacked");
	TAP_INT_EQ(kiln_snapshot_alias(s, d, &id, &err), 0, "name it by its diff_id");
	TAP_INT_EQ(kiln_snapshot_has(s, d, &err), 1, "then the diff_id is unpacked");
	TAP_INT_EQ(kiln_snapshot_alias(s, d, &id, &err), 0, "naming it again is no error");
	char p[600];
	struct stat st;
	(void) snprintf(p, sizeof(p), "%s/snapshots/layers/%s", root, d->hex);
	r = lseek(out, 0, SEEK_SET) == 0 ? kiln_snapshot_unpack(s, d, out, &dg.digest, &err) : -1;
	TAP_OK(r == 0 && lstat(p, &st) == 0 && S_ISLNK(st.st_mode),
	       "unpacking the diff_id's blob finds it there and unpacks nothing");
	(void) close(out);
	struct kiln_digest chain[3] = { l1.d.diff_id, d[0], id };
	for (size_t n = 2; n <= 3; n++) {
		struct kiln_snapshot_mount *m = NULL;
		r = kiln_snapshot_mount(s, chain, n, KILN_SNAPSHOT_RDONLY, &m, &err);
		const char *own = r == 0 ? read_at(kiln_snapshot_mount_fd(m), "etc/own") : NULL;
		TAP_OK(own && strcmp(own, "own\n") == 0,
		       n == 2 ? "mounted by its diff_id" : "mounted by both names in one chain");
		kiln_snapshot_mount_release(m);
		kiln_error_release(&err);
	}
	int fd = kiln_snapshot_layer_open(s, d, &err);
	TAP_OK(fd >= 0 && exists_at(fd, "etc/own"), "opened by its diff_id");
	if (fd >= 0)
		(void) close(fd);
	/* a name whose layer is gone */
	struct kiln_digest gone;
	memset(raw, 0x6b, sizeof(raw));
	kiln_digest_from_raw(&gone, raw);
	(void) snprintf(p, sizeof(p), "%s/snapshots/layers/%s", root, gone.hex);
	static const char nowhere[] =
		"7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c";
	TAP_OK(symlink(nowhere, p) == 0 && kiln_snapshot_has(s, &gone, &err) == 0,
	       "an alias of a layer that is gone is not a layer");
	struct kiln_digest keep[3] = { l1.d.diff_id, l2.d.diff_id, d[0] };
	struct kiln_snapshot_prune_report rep = { 0 };
	r = kiln_snapshot_prune(s, keep, 3, &rep, &err);
	TAP_OK(r == 0 && kiln_snapshot_has(s, &id, &err) == 1 && kiln_snapshot_has(s, d, &err) == 1,
	       "a prune that keeps the diff_id keeps the layer it names");
	TAP_OK(lstat(p, &st) < 0 && errno == ENOENT, "and removes the alias no image needs");
	r = kiln_snapshot_prune(s, keep, 2, &rep, &err);
	(void) snprintf(p, sizeof(p), "%s/snapshots/layers/%s", root, d->hex);
	TAP_OK(r == 0 && kiln_snapshot_has(s, &id, &err) == 0 && lstat(p, &st) < 0,
	       "one that does not removes both");
	kiln_error_release(&err);
}

/* The threads of this process that carry `name` (kiln-reaper). */
static int count_tasks(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char path[300], comm[32] = "";
		(void) snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "re");
		if (f && fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = '\0';
			n += strcmp(comm, name) == 0;
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

/*
 * pthread_join() returns once the thread has cleared its id, which the
 * kernel does before it removes the task from /proc: wait for that, up to
 * five seconds, before counting.
 */
static int tasks_when(const char *name, int want)
{
	int n = count_tasks(name);
	for (int i = 0; n != want && i < 500; i++) {
		(void) usleep(10 * 1000);
		n = count_tasks(name);
	}
	return n;
}

/*
 * The release of a read-only mount goes to the snapshotter's reaper
 * thread, which starts with the first such release (a writable mount's is
 * done in place) and is joined, its queue done, when the snapshotter is
 * freed: the layers are unlocked then.
 */
static void test_reaper(void)
{
	struct kiln_snapshotter *s = open_another(root, "reaper");
	if (!s)
		return;
	struct kiln_error err = KILN_ERROR_INIT;
	int n0 = count_tasks("kiln-reaper"); /* the first snapshotter's, if it has one */
	struct kiln_digest two[2] = { l1.d.diff_id, l2.d.diff_id };
	struct kiln_snapshot_mount *m = NULL;
	int r = kiln_snapshot_mount(s, &l1.d.diff_id, 1, 0, &m, &err);
	kiln_snapshot_mount_release(m);
	m = NULL;
	TAP_OK(r == 0 && count_tasks("kiln-reaper") == n0,
	       "a writable mount is released in place: no thread");
	r = kiln_snapshot_mount(s, two, 2, KILN_SNAPSHOT_RDONLY, &m, &err);
	TAP_STR_EQ(r == 0 ? read_at(kiln_snapshot_mount_fd(m), "etc/c") : NULL, "c2\n",
		   "a read-only overlay of two layers reads the top one");
	kiln_snapshot_mount_release(m);
	m = NULL;
	TAP_INT_EQ(count_tasks("kiln-reaper"), n0 + 1, "its release starts the reaper");
	r = kiln_snapshot_mount(s, two, 2, KILN_SNAPSHOT_RDONLY, &m, &err);
	kiln_snapshot_mount_release(m);
	TAP_OK(r == 0 && count_tasks("kiln-reaper") == n0 + 1, "the next release shares it");
	kiln_snapshotter_free(s);
	TAP_INT_EQ(tasks_when("kiln-reaper", n0), n0, "freeing the snapshotter joins it");
	int locked = 0;
	for (size_t i = 0; i < 2; i++) {
		char p[600];
		(void) snprintf(p, sizeof(p), "%s/snapshots/layers/%s", root, two[i].hex);
		int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		locked += fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0;
		if (fd >= 0)
			(void) close(fd);
	}
	TAP_INT_EQ(locked, 0, "every released mount's layers are unlocked by then");
	kiln_error_release(&err);
}

/*
 * Unmounting a writable mount moves what was written to a new directory
 * beside the upper one (whose inode overlayfs marks in use until the
 * overlay is gone) and leaves the overlay to the reaper; the commit and the
 * kept layer read the new directory. When the new directory cannot be made,
 * the overlay goes on the spot and nothing moves.
 */
static void test_unmount_moves(void)
{
	struct kiln_snapshotter *s = open_another(root, "unmount");
	if (!s)
		return;
	struct kiln_error err = KILN_ERROR_INIT;
	int n0 = count_tasks("kiln-reaper");
	struct kiln_snapshot_mount *m = NULL;
	int r = kiln_snapshot_mount(s, &l1.d.diff_id, 1, 0, &m, &err);
	int fd = r == 0 ? kiln_snapshot_mount_fd(m) : -1;
	int f = fd >= 0 ? openat(fd, "moved", O_CREAT | O_WRONLY | O_CLOEXEC, 0644) : -1;
	int ok = f >= 0 && write(f, "moved\n", 6) == 6 && unlinkat(fd, "etc/a", 0) == 0;
	if (f >= 0)
		(void) close(f);
	TAP_OK(ok, "unmount: a file and a deletion through a writable mount");
	if (!ok) {
		kiln_snapshot_mount_release(m);
		kiln_snapshotter_free(s);
		kiln_error_release(&err);
		return;
	}
	char *old = kiln_strdup(kiln_snapshot_mount_upper(m));
	r = kiln_snapshot_unmount(m, &err);
	const char *now = kiln_snapshot_mount_upper(m);
	TAP_INT_EQ(r, 0, "unmount");
	TAP_OK(kiln_snapshot_mount_fd(m) < 0, "the mount is closed");
	TAP_OK(old && now && strcmp(old, now) != 0 && count_entries(old, "") == 0,
	       "the upper directory is empty and another one names what was written");
	struct stat st;
	char p[600];
	(void) snprintf(p, sizeof(p), "%s/etc/a", now ? now : "");
	TAP_OK(now && count_entries(now, "") == 2 && stat(p, &st) == 0 && kiln_is_whiteout(&st),
	       "it holds the file and the whiteout");
	TAP_INT_EQ(tasks_when("kiln-reaper", n0 + 1), n0 + 1, "the reaper tears the overlay down");
	int out = memfd_create("moved", MFD_CLOEXEC);
	struct kiln_layer_digests dg;
	r = kiln_snapshot_commit(m, out, NULL, &dg, &err);
	char *list = r == 0 ? list_layer(out) : NULL;
	TAP_STR_EQ(list, "d etc/\n- etc/.wh.a\n- moved\n", "the commit writes the moved entries");
	free(list);
	(void) close(out);
	r = r == 0 ? kiln_snapshot_keep(m, &dg.diff_id, &err) : r;
	TAP_INT_EQ(r, 0, "and keeps them as the layer");
	kiln_snapshot_mount_release(m);
	m = NULL;
	for (int i = 0; old && access(old, F_OK) == 0 && i < 500; i++)
		(void) usleep(10 * 1000);
	TAP_OK(old && access(old, F_OK) < 0 && errno == ENOENT,
	       "releasing the mount removes the upper directory (on the reaper)");
	free(old);
	struct kiln_digest chain[2] = { l1.d.diff_id, dg.diff_id };
	r = kiln_snapshot_mount(s, chain, 2, KILN_SNAPSHOT_RDONLY, &m, &err);
	fd = r == 0 ? kiln_snapshot_mount_fd(m) : -1;
	TAP_OK(fd >= 0 && read_at(fd, "moved") && !strcmp(read_at(fd, "moved"), "moved\n") &&
		       !exists_at(fd, "etc/a") && exists_at(fd, "etc/b"),
	       "the kept layer stacks: its file is there and etc/a is hidden");
	kiln_snapshot_mount_release(m);
	m = NULL;

	/* a "root" already there: no new directory, the overlay goes here */
	r = kiln_snapshot_mount(s, &l1.d.diff_id, 1, 0, &m, &err);
	fd = r == 0 ? kiln_snapshot_mount_fd(m) : -1;
	f = fd >= 0 ? openat(fd, "stays", O_CREAT | O_WRONLY | O_CLOEXEC, 0644) : -1;
	if (f >= 0)
		(void) close(f);
	old = r == 0 ? kiln_strdup(kiln_snapshot_mount_upper(m)) : NULL;
	char *slash = old ? strrchr(old, '/') : NULL;
	int blocker = -1;
	if (slash) {
		(void) snprintf(p, sizeof(p), "%.*s/root", (int) (slash - old), old);
		blocker = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	}
	TAP_OK(f >= 0 && blocker >= 0, "unmount: a second mount, and a file where the new "
				       "directory would go");
	if (blocker >= 0)
		(void) close(blocker);
	r = m ? kiln_snapshot_unmount(m, &err) : -1;
	now = m ? kiln_snapshot_mount_upper(m) : NULL;
	TAP_OK(r == 0 && now && old && strcmp(old, now) == 0 && kiln_snapshot_mount_fd(m) < 0,
	       "unmount closes the mount and the upper directory stays where it was");
	(void) snprintf(p, sizeof(p), "%s/stays", old ? old : "");
	TAP_OK(access(p, F_OK) == 0, "with what was written in it");
	free(old);
	kiln_snapshot_mount_release(m);
	kiln_snapshotter_free(s);
	TAP_INT_EQ(tasks_when("kiln-reaper", n0), n0, "freeing the snapshotter joins the reaper");
	kiln_error_release(&err);
}

int main(void)
{
	if (fixture_root(root, sizeof(root), "snapshot", "snapshot tests") < 0)
		return tap_done();
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_snapshotter *s = NULL;
	int ok = make_layer(l1_ents, KILN_ARRAY_SIZE(l1_ents), KILN_COMPRESSION_NONE, &l1) == 0 &&
		 make_layer(l2_ents, KILN_ARRAY_SIZE(l2_ents), KILN_COMPRESSION_GZIP, &l2) == 0;
	TAP_OK(ok, "build two layers");
	int r = kiln_snapshotter_open(NULL, root, &s, &err);
	TAP_INT_EQ(r, 0, "open the snapshotter%s%s", err.msg ? ": " : "", err.msg ? err.msg : "");
	if (ok && r == 0) {
		test_unpack(s);
		test_mount(s);
		test_keep(s);
		test_keep_unwritten(s);
		test_alias(s);
		test_reaper();
		test_unmount_moves();
		test_many_lowers(s);
		test_concurrent_unpack();
		test_notes(s);
		test_prune(s);
	}
	kiln_snapshotter_free(s);
	kiln_error_release(&err);
	fixture_root_remove(root);
	return tap_done();
}
