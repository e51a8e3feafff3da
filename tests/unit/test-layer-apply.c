/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layer module, applying: round trips dir -> tar -> dir with every file
 * type, owners, modes and xattrs; OCI whiteouts and opaque directories
 * across layers (the spec's ordering rules); overlay lowers checked through
 * a real overlay mount; an overlay upper turned into a layer; ADD-style
 * extraction; replacing entries of another type; and every hostile case
 * with a sentinel outside the root that must stay untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/base.h"
#include "layer/layer.h"
#include "layer-util.h"
#include "tap.h"

static char *base_dir;
static int is_root;

static char *pj(const char *a, const char *b)
{
	return path_join(a, b);
}

static void set_times(const char *path, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	(void) utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

static char *fresh(const char *name)
{
	char *p = pj(base_dir, name);
	remove_tree(p);
	mkdir(p, 0755);
	return p;
}

static char *read_text(const char *path)
{
	char *data = NULL;
	if (kiln_read_file(path, 1 << 20, &data, NULL, NULL) < 0)
		return NULL;
	return data;
}

/* ---------------------------------------------------------------------- */
/* Round trip                                                              */
/* ---------------------------------------------------------------------- */

/* file capability v2: cap_net_bind_service=ep */
static const unsigned char caps_v2[20] = { 0x01, 0, 0, 0x02, 0, 0x04, 0, 0 };

static void build_source(const char *s)
{
	char *p;
	mkdir(p = pj(s, "bin"), 0755), free(p);
	mkdir(p = pj(s, "etc"), 0755), free(p);
	mkdir(p = pj(s, "tmp"), 01777), free(p);
	mkdir(p = pj(s, "shared"), 02775), free(p);
	mkdir(p = pj(s, "ro"), 0755), free(p);
	mkdir(p = pj(s, "dev"), 0755), free(p);
	put_file(p = pj(s, "ro/inside"), "in a read-only dir\n", 0644), free(p);
	chmod(p = pj(s, "ro"), 0500), free(p);
	put_file(p = pj(s, "etc/empty"), "", 0644), free(p);
	put_file(p = pj(s, "etc/conf"), "key=value\n", 0640), free(p);
	/* unreadable files can only be archived by root */
	put_file(p = pj(s, "etc/none"), "no permissions\n", is_root ? 0000 : 0400), free(p);
	p = pj(s, "bin/big");
	FILE *f = fopen(p, "wb");
	for (int i = 0; f && i < (1 << 20) + 333; i++)
		fputc((i * 7 + i / 1000) & 0xff, f);
	if (f)
		fclose(f);
	free(p);
	p = pj(s, "bin/suid");
	put_file(p, "#!/bin/sh\n", 0755);
	if (is_root)
		(void) !chown(p, 1000, 1000);
	chmod(p, 04755);
	free(p);
	p = pj(s, "bin/ping");
	put_file(p, "ping", 0755);
	if (is_root)
		(void) setxattr(p, "security.capability", caps_v2, sizeof(caps_v2), 0);
	free(p);
	p = pj(s, "etc/noted");
	put_file(p, "noted", 0644);
	(void) setxattr(p, "user.comment", "binary\0value", 12, 0);
	free(p);
	(void) setxattr(p = pj(s, "etc"), "user.dirnote", "d", 1, 0), free(p);
	char *t = pj(s, "etc/conf");
	(void) !link(t, p = pj(s, "bin/conf-link")), free(p);
	free(t);
	(void) !symlink("../etc/conf", p = pj(s, "bin/rel")), free(p);
	(void) !symlink("/etc/conf", p = pj(s, "bin/abs")), free(p);
	(void) !symlink("nowhere/at/all", p = pj(s, "bin/dangling")), free(p);
	if (is_root)
		(void) !lchown(p = pj(s, "bin/rel"), 1234, 4321), free(p);
	mkfifo(p = pj(s, "dev/fifo"), 0620), free(p);
	if (is_root) {
		mknod(p = pj(s, "dev/null"), S_IFCHR | 0666, makedev(1, 3)), free(p);
		mknod(p = pj(s, "dev/loop9"), S_IFBLK | 0660, makedev(7, 9)), free(p);
		(void) !chown(p = pj(s, "shared"), 100, 200), free(p);
		(void) !chown(p = pj(s, "etc/conf"), 0, 42), free(p);
	}
	chmod(p = pj(s, "shared"), 02775), free(p);
	/* times last, directories after their children */
	const char *leaves[] = { "etc/empty", "etc/conf",  "etc/none", "bin/big",  "bin/suid",
				 "bin/ping",  "etc/noted", "bin/rel",  "bin/abs",  "bin/dangling",
				 "dev/fifo",  "ro/inside", "dev/null", "dev/loop9" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(leaves); i++)
		set_times(p = pj(s, leaves[i]), (time_t) (1500000000 + i)), free(p);
	const char *dirs[] = { "bin", "etc", "tmp", "shared", "ro", "dev" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(dirs); i++)
		set_times(p = pj(s, dirs[i]), (time_t) (1600000000 + i)), free(p);
}

static void test_round_trip(void)
{
	char *src = fresh("rt-src"), *dst = fresh("rt-dst"), *dst2 = fresh("rt-dst2");
	build_source(src);
	char why[512];
	struct kiln_error err = KILN_ERROR_INIT;

	struct kiln_layer_write_opts wo = { .compression = KILN_COMPRESSION_GZIP,
					    .flags = KILN_WRITE_ALL_XATTRS };
	int r = copy_via_layer(src, dst, KILN_TREE_PLAIN, &wo, NULL, &err);
	if (r < 0)
		tap_diag("%s", err.msg);
	TAP_OK(r == 0, "tree -> gzip layer -> tree");
	int eq = r == 0 && tree_equal(src, dst, 1, why, sizeof(why)) == 0;
	if (!eq)
		tap_diag("%s", why);
	TAP_OK(eq, "round trip keeps types, modes, owners, sizes, content, links, xattrs, times");

	struct stat st;
	char *p = pj(dst, "bin/suid");
	TAP_OK(stat(p, &st) == 0 && (st.st_mode & 07777) == 04755 &&
		       (!is_root || (st.st_uid == 1000 && st.st_gid == 1000)),
	       "setuid survives the chown");
	free(p);
	p = pj(dst, "ro");
	TAP_OK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0500,
	       "read-only directory got its content, then its mode");
	free(p);
	struct stat a, b;
	char *p1 = pj(dst, "etc/conf"), *p2 = pj(dst, "bin/conf-link");
	TAP_OK(stat(p1, &a) == 0 && stat(p2, &b) == 0 && a.st_ino == b.st_ino && a.st_nlink == 2,
	       "hardlink restored as one inode");
	free(p1);
	free(p2);

	/* by default only security.capability is written (as Docker does) */
	wo.flags = 0;
	r = copy_via_layer(src, dst2, KILN_TREE_PLAIN, &wo, NULL, &err);
	char *noted = pj(dst2, "etc/noted"), *ping = pj(dst2, "bin/ping");
	unsigned char v[64];
	ssize_t n = getxattr(noted, "user.comment", v, sizeof(v));
	TAP_OK(r == 0 && n < 0, "default writer drops user xattrs");
	if (is_root) {
		n = getxattr(ping, "security.capability", v, sizeof(v));
		TAP_OK(n == (ssize_t) sizeof(caps_v2) && memcmp(v, caps_v2, sizeof(caps_v2)) == 0,
		       "security.capability kept by default");
	} else {
		tap_skip("not root", "security.capability kept by default");
	}
	free(noted);
	free(ping);
	kiln_error_release(&err);
	remove_tree(src);
	remove_tree(dst);
	remove_tree(dst2);
	free(src);
	free(dst);
	free(dst2);
}

/* ---------------------------------------------------------------------- */
/* Whiteouts                                                               */
/* ---------------------------------------------------------------------- */

#define DIR_(n) tb_file(&t, &(struct tb_hdr){ .name = (n), .type = '5', .mode = 0755 }, NULL, 0)
#define FILE_(n, c)                                                                                \
	tb_file(&t, &(struct tb_hdr){ .name = (n), .type = '0', .mode = 0644 }, (c), strlen(c))

static void lower_layer(struct tb *tp)
{
	struct tb t = { 0 };
	DIR_("a/");
	DIR_("a/b/");
	DIR_("a/b/c/");
	FILE_("a/b/c/bar", "bar");
	FILE_("a/keep", "lower keep");
	DIR_("top/");
	FILE_("top/x", "x");
	FILE_("top/y", "y");
	FILE_("top/z", "z");
	DIR_("gone/");
	FILE_("gone/deep", "deep");
	FILE_("f", "f");
	tb_end(&t);
	*tp = t;
}

/*
 * The spec's example, opaque marker after the same-layer entries (or
 * before). `nodir` adds a whiteout in a directory no layer has: Docker
 * creates the directory; an overlay lower then lists the whiteout in
 * readdir (a directory no other layer merges with is read as is), so the
 * overlay comparison leaves it out.
 */
static void upper_layer(struct tb *tp, int opaque_first, int nodir)
{
	struct tb t = { 0 };
	DIR_("a/");
	if (opaque_first)
		FILE_("a/.wh..wh..opq", "");
	DIR_("a/b/");
	DIR_("a/b/c/");
	FILE_("a/b/c/foo", "foo");
	if (!opaque_first)
		FILE_("a/.wh..wh..opq", "");
	FILE_(".wh.f", "");
	FILE_("top/.wh.x", "");
	FILE_("top/.wh.z", "");
	FILE_(".wh.gone", "");
	FILE_("new", "new");
	FILE_(".wh.new", "");
	if (nodir)
		FILE_("nodir/.wh.nothing", "");
	tb_end(&t);
	*tp = t;
}

static const char *const after_upper_exists[] = { "a/b/c/foo", "top/y", "new", "nodir" };
static const char *const after_upper_absent[] = { "a/b/c/bar",	  "a/keep", "f",
						  "top/x",	  "top/z",  "gone",
						  "nodir/nothing" };

static void check_after_upper(const char *d, const char *what)
{
	int ok = 1;
	for (size_t i = 0; i < KILN_ARRAY_SIZE(after_upper_exists); i++) {
		char *p = pj(d, after_upper_exists[i]);
		if (!path_exists(p)) {
			tap_diag("%s: %s missing", what, after_upper_exists[i]);
			ok = 0;
		}
		free(p);
	}
	for (size_t i = 0; i < KILN_ARRAY_SIZE(after_upper_absent); i++) {
		char *p = pj(d, after_upper_absent[i]);
		if (path_exists(p)) {
			tap_diag("%s: %s still there", what, after_upper_absent[i]);
			ok = 0;
		}
		free(p);
	}
	char *wh = pj(d, ".wh.f"), *opq = pj(d, "a/.wh..wh..opq");
	if (path_exists(wh) || path_exists(opq)) {
		tap_diag("%s: whiteout files left behind", what);
		ok = 0;
	}
	free(wh);
	free(opq);
	TAP_OK(ok, "%s", what);
}

static void test_whiteouts(void)
{
	for (int first = 0; first < 2; first++) {
		char *d = fresh("wh");
		struct tb lo, up;
		lower_layer(&lo);
		upper_layer(&up, first, 1);
		struct kiln_error err = KILN_ERROR_INIT;
		struct kiln_layer_apply_result res = { 0 };
		int r = apply_tb(&lo, d, NULL, NULL, &err);
		r = r == 0 ? apply_tb(&up, d, NULL, &res, &err) : r;
		if (r < 0)
			tap_diag("%s", err.msg);
		TAP_OK(r == 0 && res.whiteouts == 7,
		       "two layers applied (opaque marker %s its siblings)",
		       first ? "before" : "after");
		check_after_upper(
			d, first ? "whiteouts and opaque (marker first) hide only lower content"
				 : "whiteouts and opaque (marker last) hide only lower content");
		kiln_error_release(&err);
		tb_free(&lo);
		tb_free(&up);
		remove_tree(d);
		free(d);
	}

	/* AUFS metadata is skipped */
	char *d = fresh("aufs");
	struct tb t = { 0 };
	DIR_(".wh..wh.plnk/");
	FILE_(".wh..wh.plnk/123.456", "x");
	FILE_(".wh..wh.aufs", "");
	FILE_("real", "r");
	tb_end(&t);
	struct kiln_layer_apply_result res = { 0 };
	struct kiln_error err = KILN_ERROR_INIT;
	int r = apply_tb(&t, d, NULL, &res, &err);
	char *pl = pj(d, ".wh..wh.plnk"), *real = pj(d, "real");
	TAP_OK(r == 0 && !path_exists(pl) && path_exists(real) && res.skipped == 3,
	       "AUFS metadata entries skipped");
	free(pl);
	free(real);
	tb_free(&t);
	remove_tree(d);
	free(d);
	kiln_error_release(&err);
}

/* ---------------------------------------------------------------------- */
/* Overlay lowers and uppers, through real overlay mounts                  */
/* ---------------------------------------------------------------------- */

static int overlay_mount(const char *lower, const char *upper, const char *work, const char *at)
{
	char opts[4096];
	if (upper)
		snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper,
			 work);
	else
		snprintf(opts, sizeof(opts), "lowerdir=%s", lower);
	if (mount("overlay", at, "overlay", 0, opts) < 0) {
		tap_diag("mount overlay (%s): %s", opts, strerror(errno));
		return -1;
	}
	return 0;
}

static void test_overlay_lowers(void)
{
	/* each layer unpacked once into its own directory, mounted as overlay lowers */
	char *l1 = fresh("ovl-l1"), *l2 = fresh("ovl-l2"), *m = fresh("ovl-m"),
	     *flat = fresh("ovl-flat");
	struct tb lo, up;
	lower_layer(&lo);
	upper_layer(&up, 0, 0);
	struct kiln_layer_apply_opts ov = { .mode = KILN_APPLY_OVERLAY, .uid = -1, .gid = -1 };
	struct kiln_error err = KILN_ERROR_INIT;
	int r = apply_tb(&lo, l1, &ov, NULL, &err);
	r = r == 0 ? apply_tb(&up, l2, &ov, NULL, &err) : r;
	if (r < 0)
		tap_diag("%s", err.msg);
	TAP_OK(r == 0, "layers applied as overlay lowers");
	struct stat st;
	char *wf = pj(l2, "f");
	TAP_OK(lstat(wf, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == 0,
	       ".wh.f became a 0:0 character device");
	free(wf);
	char *a = pj(l2, "a"), v[4];
	TAP_OK(getxattr(a, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y',
	       "a/.wh..wh..opq became trusted.overlay.opaque=y");
	free(a);
	char *nw = pj(l2, "new");
	TAP_OK(lstat(nw, &st) == 0 && S_ISREG(st.st_mode), "same-layer whiteout keeps the entry");
	free(nw);

	r = apply_tb(&lo, flat, NULL, NULL, &err);
	r = r == 0 ? apply_tb(&up, flat, NULL, NULL, &err) : r;
	char lowers[2048];
	snprintf(lowers, sizeof(lowers), "%s:%s", l2, l1);
	int mounted = r == 0 && overlay_mount(lowers, NULL, NULL, m) == 0;
	char why[512] = "";
	int eq = mounted && tree_equal(m, flat, 0, why, sizeof(why)) == 0;
	if (!eq)
		tap_diag("%s", why);
	TAP_OK(eq, "overlay of the two lowers shows what applying both to one directory gives");
	if (mounted)
		umount2(m, MNT_DETACH);
	kiln_error_release(&err);

	/* overlay-mode corner cases: whiteout then directory, directory then whiteout */
	char *d = fresh("ovl-corner");
	struct tb t = { 0 };
	FILE_(".wh.w1", "");
	DIR_("w1/");
	DIR_("w2/");
	FILE_(".wh.w2", "");
	FILE_(".wh.w3", "");
	FILE_("w3/implicit", "i");
	FILE_(".wh.gone", "");
	tb_file(&t, &(struct tb_hdr){ .name = "hl", .type = '1', .link = "gone" }, NULL, 0);
	tb_end(&t);
	r = apply_tb(&t, d, &ov, NULL, &err);
	TAP_OK(r == -KILN_ENOTFOUND && strstr(err.msg, "'hl'"),
	       "hardlink to a whited-out path refused");
	kiln_error_release(&err);
	int opaque_all = 1;
	const char *ws[] = { "w1", "w2", "w3" };
	for (size_t i = 0; i < 3; i++) {
		char *p = pj(d, ws[i]);
		opaque_all &= lstat(p, &st) == 0 && S_ISDIR(st.st_mode) &&
			      getxattr(p, "trusted.overlay.opaque", v, sizeof(v)) == 1;
		free(p);
	}
	TAP_OK(opaque_all,
	       "a directory and a whiteout of the same name in one layer: opaque directory");
	tb_free(&t);
	remove_tree(d);
	free(d);

	tb_free(&lo);
	tb_free(&up);
	remove_tree(l1);
	remove_tree(l2);
	remove_tree(m);
	remove_tree(flat);
	free(l1);
	free(l2);
	free(m);
	free(flat);
}

static void test_overlay_upper(void)
{
	char *lower = fresh("up-lower"), *upper = fresh("up-upper"), *work = fresh("up-work");
	char *m = fresh("up-merged"), *seen = fresh("up-seen"), *rebuilt = fresh("up-rebuilt");
	char *p;
	mkdir(p = pj(lower, "dir"), 0755), free(p);
	put_file(p = pj(lower, "dir/old1"), "old1", 0644), free(p);
	put_file(p = pj(lower, "dir/old2"), "old2", 0644), free(p);
	mkdir(p = pj(lower, "keep"), 0755), free(p);
	put_file(p = pj(lower, "keep/a"), "a", 0644), free(p);
	put_file(p = pj(lower, "keep/b"), "b", 0644), free(p);
	put_file(p = pj(lower, "file"), "lower file", 0644), free(p);
	put_file(p = pj(lower, "chm"), "mode change", 0644), free(p);

	int ok = overlay_mount(lower, upper, work, m) == 0;
	TAP_OK(ok, "overlay mounted with an upper directory");
	if (!ok)
		goto out;
	/* changes in the merged view */
	unlink(p = pj(m, "keep/a")), free(p);	/* whiteout */
	remove_tree(p = pj(m, "dir")), free(p); /* dir removed... */
	mkdir(p = pj(m, "dir"), 0700), free(p); /* ...and recreated: opaque */
	put_file(p = pj(m, "dir/new"), "new", 0600), free(p);
	put_file(p = pj(m, "file"), "upper file", 0644), free(p); /* copy-up */
	chmod(p = pj(m, "chm"), 0600), free(p);			  /* metadata copy-up */
	put_file(p = pj(m, "added"), "added", 0644), free(p);

	struct kiln_error err = KILN_ERROR_INIT;
	int r = copy_via_layer(m, seen, KILN_TREE_PLAIN, NULL, NULL, &err);
	umount2(m, 0);
	TAP_OK(r == 0, "merged view captured");

	int out = mem_fd(NULL, 0);
	int ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = kiln_layer_write_tree(ufd, KILN_TREE_OVERLAY_UPPER, out, NULL, NULL, &err);
	close(ufd);
	if (r < 0)
		tap_diag("%s", err.msg);
	lseek(out, 0, SEEK_SET);
	char *list = r == 0 ? tar_listing(out, 0) : NULL;
	TAP_STR_EQ(list,
		   "- added\n"
		   "- chm\n"
		   "d dir/\n"
		   "- dir/.wh..wh..opq\n"
		   "- dir/new\n"
		   "- file\n"
		   "d keep/\n"
		   "- keep/.wh.a\n",
		   "upper dir as a layer: whiteout, opaque marker first in its directory");
	free(list);

	/* lower + that layer == the merged view */
	r = copy_via_layer(lower, rebuilt, KILN_TREE_PLAIN, NULL, NULL, &err);
	lseek(out, 0, SEEK_SET);
	r = r == 0 ? apply_fd(out, rebuilt, NULL, NULL, &err) : r;
	char why[512] = "";
	int eq = r == 0 && tree_equal(seen, rebuilt, 0, why, sizeof(why)) == 0;
	if (!eq)
		tap_diag("%s %s", why, err.msg ? err.msg : "");
	TAP_OK(eq, "lower + upper layer applied == the merged overlay view");
	close(out);

	/* redirect_dir and metacopy cannot be expressed in a layer */
	(void) setxattr(p = pj(upper, "dir"), "trusted.overlay.redirect", "/x", 2, 0), free(p);
	out = mem_fd(NULL, 0);
	ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = kiln_layer_write_tree(ufd, KILN_TREE_OVERLAY_UPPER, out, NULL, NULL, &err);
	TAP_OK(r == -KILN_EUNSUPP && strstr(err.msg, "redirect"),
	       "redirect_dir upper refused clearly");
	kiln_error_release(&err);
	close(out);
	close(ufd);
	removexattr(p = pj(upper, "dir"), "trusted.overlay.redirect"), free(p);

	/* user.overlay.opaque (rootless overlay) is read too */
	char *plain = fresh("up-user");
	mkdir(p = pj(plain, "o"), 0755), free(p);
	(void) setxattr(p = pj(plain, "o"), "user.overlay.opaque", "y", 1, 0), free(p);
	out = mem_fd(NULL, 0);
	ufd = open(plain, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = kiln_layer_write_tree(ufd, KILN_TREE_OVERLAY_UPPER, out, NULL, NULL, &err);
	close(ufd);
	lseek(out, 0, SEEK_SET);
	list = r == 0 ? tar_listing(out, 0) : NULL;
	TAP_STR_EQ(list, "d o/\n- o/.wh..wh..opq\n",
		   "user.overlay.opaque=y gives an opaque marker");
	free(list);
	close(out);
	remove_tree(plain);
	free(plain);
	kiln_error_release(&err);
out:
	remove_tree(lower);
	remove_tree(upper);
	remove_tree(work);
	remove_tree(m);
	remove_tree(seen);
	remove_tree(rebuilt);
	free(lower);
	free(upper);
	free(work);
	free(m);
	free(seen);
	free(rebuilt);
}

/* ---------------------------------------------------------------------- */
/* ADD-style extraction, replacement, sparse, digests                      */
/* ---------------------------------------------------------------------- */

static void test_extract(void)
{
	char *d = fresh("extract");
	char *p;
	mkdir(p = pj(d, "dir"), 0755), free(p);
	put_file(p = pj(d, "dir/old"), "old", 0644), free(p);
	put_file(p = pj(d, "was-file"), "file", 0644), free(p);
	struct tb t = { 0 };
	DIR_("dir/");
	FILE_("dir/.wh.bar", "wh");
	FILE_(".wh..wh..opq", "opq");
	FILE_(".wh.dir", "not a whiteout");
	DIR_("was-file/");
	FILE_("was-file/x", "x");
	tb_end(&t);
	struct kiln_layer_apply_opts o = { .mode = KILN_APPLY_EXTRACT,
					   .uid = is_root ? 4321 : -1,
					   .gid = is_root ? 8765 : -1 };
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_layer_apply_result res = { 0 };
	int r = apply_tb(&t, d, &o, &res, &err);
	if (r < 0)
		tap_diag("%s", err.msg);
	char *wh = pj(d, "dir/.wh.bar"), *opq = pj(d, ".wh..wh..opq"), *old = pj(d, "dir/old");
	char *wd = pj(d, ".wh.dir"), *x = pj(d, "was-file/x");
	char *txt = read_text(wh);
	TAP_OK(r == 0 && txt && !strcmp(txt, "wh") && path_exists(opq) && path_exists(wd) &&
		       res.whiteouts == 0,
	       "extract: .wh. names are ordinary files");
	TAP_OK(path_exists(old), "extract: an existing directory is merged");
	struct stat st;
	TAP_OK(stat(x, &st) == 0 && S_ISREG(st.st_mode), "extract: a file replaced by a directory");
	if (is_root)
		TAP_OK(stat(x, &st) == 0 && st.st_uid == 4321 && st.st_gid == 8765,
		       "extract: owner override (ADD --chown)");
	else
		tap_skip("not root", "extract: owner override (ADD --chown)");
	free(txt);
	free(wh);
	free(opq);
	free(old);
	free(wd);
	free(x);
	tb_free(&t);
	kiln_error_release(&err);
	remove_tree(d);
	free(d);
}

static void test_replace_types(void)
{
	char *d = fresh("replace"), *outside = fresh("replace-outside");
	char *p;
	mkdir(p = pj(d, "x"), 0755), free(p);
	put_file(p = pj(d, "x/child"), "c", 0644), free(p);
	put_file(p = pj(d, "y"), "y", 0644), free(p);
	(void) !symlink(outside, p = pj(d, "z")), free(p);
	(void) !symlink("target", p = pj(d, "w")), free(p);
	struct tb t = { 0 };
	FILE_("x", "now a file");
	DIR_("y/");
	DIR_("z/");
	FILE_("z/inside", "in");
	tb_file(&t, &(struct tb_hdr){ .name = "w", .type = '6' }, NULL, 0);
	tb_end(&t);
	struct kiln_error err = KILN_ERROR_INIT;
	int r = apply_tb(&t, d, NULL, NULL, &err);
	struct stat sx, sy, sz, sw;
	char *px = pj(d, "x"), *py = pj(d, "y"), *pz = pj(d, "z"), *pw = pj(d, "w");
	char *leak = pj(outside, "inside");
	TAP_OK(r == 0 && lstat(px, &sx) == 0 && S_ISREG(sx.st_mode),
	       "directory replaced by a file");
	TAP_OK(lstat(py, &sy) == 0 && S_ISDIR(sy.st_mode), "file replaced by a directory");
	TAP_OK(lstat(pz, &sz) == 0 && S_ISDIR(sz.st_mode) && !path_exists(leak),
	       "symlink replaced by a directory, not followed");
	TAP_OK(lstat(pw, &sw) == 0 && S_ISFIFO(sw.st_mode), "symlink replaced by a fifo");
	free(px);
	free(py);
	free(pz);
	free(pw);
	free(leak);
	tb_free(&t);
	kiln_error_release(&err);
	remove_tree(d);
	remove_tree(outside);
	free(d);
	free(outside);
}

static void test_sparse_and_digests(void)
{
	char *d = fresh("sparse");
	struct tb t = { 0 };
	const struct tb_rec r10[] = {
		{ "GNU.sparse.major", "1", 0 },
		{ "GNU.sparse.minor", "0", 0 },
		{ "GNU.sparse.name", "holes", 0 },
		{ "GNU.sparse.realsize", "3000000", 0 },
	};
	tb_pax(&t, 'x', r10, KILN_ARRAY_SIZE(r10));
	unsigned char data[512 + 8] = { 0 };
	memcpy(data, "2\n0\n4\n2999996\n4\n", 17);
	memcpy(data + 512, "HEADTAIL", 8);
	tb_file(&t, &(struct tb_hdr){ .name = "GNUSparseFile.0/holes", .type = '0' }, data,
		sizeof(data));
	tb_end(&t);
	struct kiln_error err = KILN_ERROR_INIT;
	int r = apply_tb(&t, d, NULL, NULL, &err);
	char *p = pj(d, "holes");
	struct stat st;
	int fd = open(p, O_RDONLY);
	char head[4], tail[4], mid[4] = { 1, 1, 1, 1 };
	int ok = r == 0 && fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 3000000 &&
		 pread(fd, head, 4, 0) == 4 && pread(fd, tail, 4, 2999996) == 4 &&
		 pread(fd, mid, 4, 1500000) == 4 && !memcmp(head, "HEAD", 4) &&
		 !memcmp(tail, "TAIL", 4) && !memcmp(mid, "\0\0\0\0", 4);
	TAP_OK(ok, "sparse file applied: size, data, zero hole");
	TAP_OK(ok && (uint64_t) st.st_blocks * 512 < 1000000,
	       "sparse file keeps its holes on disk");
	if (fd >= 0)
		close(fd);
	free(p);

	/* digests checked while applying */
	struct kiln_layer_apply_result res = { 0 };
	char *d2 = fresh("sparse2");
	r = apply_tb(&t, d2, NULL, &res, &err);
	struct kiln_digest want;
	(void) kiln_sha256_buf(t.data, t.len, &want, NULL);
	TAP_OK(r == 0 && kiln_digest_equal(&res.digests.diff_id, &want) &&
		       kiln_digest_equal(&res.digests.digest, &want),
	       "apply reports the layer's digests");
	struct kiln_digest wrong = want;
	wrong.raw[0] ^= 1;
	kiln_digest_from_raw(&wrong, wrong.raw);
	struct kiln_layer_apply_opts o = { .expect_diff_id = &wrong, .uid = -1, .gid = -1 };
	remove_tree(d2);
	mkdir(d2, 0755);
	r = apply_tb(&t, d2, &o, NULL, &err);
	TAP_OK(r == -KILN_EDIGEST && strstr(err.msg, "diff_id mismatch"),
	       "apply with a wrong expected diff_id fails");
	kiln_error_release(&err);
	remove_tree(d2);
	free(d2);
	tb_free(&t);
	remove_tree(d);
	free(d);
}

static void test_flags(void)
{
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_layer_apply_result res = { 0 };

	/* user.* xattrs cannot go on a symlink: an error, or ignored when asked */
	struct tb t = { 0 };
	tb_pax(&t, 'x', (const struct tb_rec[]){ { "SCHILY.xattr.user.note", "n", 0 } }, 1);
	tb_file(&t, &(struct tb_hdr){ .name = "l", .type = '2', .link = "x" }, NULL, 0);
	tb_end(&t);
	char *d = fresh("flags");
	int r = apply_tb(&t, d, NULL, NULL, &err);
	TAP_OK(r == -KILN_EIO && strstr(err.msg, "setting xattr user.note on 'l'"),
	       "an xattr the filesystem refuses fails the apply");
	kiln_error_release(&err);
	remove_tree(d);
	mkdir(d, 0755);
	struct kiln_layer_apply_opts o = { .flags = KILN_APPLY_BEST_EFFORT_XATTRS,
					   .uid = -1,
					   .gid = -1 };
	r = apply_tb(&t, d, &o, &res, &err);
	TAP_OK(r == 0 && res.xattrs_ignored == 1,
	       "... or is counted and skipped with BEST_EFFORT_XATTRS");
	tb_free(&t);

	/* NO_CHOWN leaves files to the caller */
	tb_file(&t, &(struct tb_hdr){ .name = "owned", .type = '0', .uid = 1234, .gid = 4321 }, "o",
		1);
	tb_end(&t);
	remove_tree(d);
	mkdir(d, 0755);
	o = (struct kiln_layer_apply_opts){ .flags = KILN_APPLY_NO_CHOWN, .uid = -1, .gid = -1 };
	r = apply_tb(&t, d, &o, NULL, &err);
	char *p = pj(d, "owned");
	struct stat st;
	TAP_OK(r == 0 && stat(p, &st) == 0 && st.st_uid == geteuid() && st.st_gid == getegid(),
	       "NO_CHOWN: entries owned by the caller");
	free(p);
	tb_free(&t);

	/* rootless overlay lowers mark opaque directories with user.overlay.opaque */
	tb_file(&t, &(struct tb_hdr){ .name = "o/", .type = '5', .mode = 0755 }, NULL, 0);
	tb_file(&t, &(struct tb_hdr){ .name = "o/.wh..wh..opq", .type = '0' }, NULL, 0);
	tb_end(&t);
	remove_tree(d);
	mkdir(d, 0755);
	o = (struct kiln_layer_apply_opts){ .mode = KILN_APPLY_OVERLAY,
					    .flags = KILN_APPLY_OVERLAY_USER_XATTR,
					    .uid = -1,
					    .gid = -1 };
	r = apply_tb(&t, d, &o, NULL, &err);
	p = pj(d, "o");
	char v[4];
	TAP_OK(r == 0 && getxattr(p, "user.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y' &&
		       getxattr(p, "trusted.overlay.opaque", v, sizeof(v)) < 0,
	       "OVERLAY_USER_XATTR: user.overlay.opaque=y");
	free(p);
	tb_free(&t);

	/* an interrupt stops the apply */
	atomic_int stop = 1;
	struct kiln_ctx ctx = { .cancel = &stop };
	tb_file(&t, &(struct tb_hdr){ .name = "f", .type = '0' }, "f", 1);
	tb_end(&t);
	o = (struct kiln_layer_apply_opts){ .ctx = &ctx, .uid = -1, .gid = -1 };
	r = apply_tb(&t, d, &o, NULL, &err);
	TAP_OK(r == -KILN_ECANCEL, "a cancelled context stops the apply");
	kiln_error_release(&err);
	tb_free(&t);

	o = (struct kiln_layer_apply_opts){ .mode = 7, .uid = -1, .gid = -1 };
	r = apply_tb(&t, d, &o, NULL, &err);
	TAP_OK(r == -KILN_EINVAL, "an unknown mode is refused");
	kiln_error_release(&err);
	remove_tree(d);
	free(d);
}

int main(void)
{
	is_root = geteuid() == 0;
	base_dir = scratch_dir("apply");
	if (!base_dir) {
		puts("Bail out! cannot make a scratch directory");
		return 1;
	}
	test_round_trip();
	test_whiteouts();
	if (is_root && unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0) {
		test_overlay_lowers();
		test_overlay_upper();
	} else {
		tap_skip("needs root and a private mount namespace", "overlay lowers and uppers");
	}
	test_extract();
	test_replace_types();
	test_sparse_and_digests();
	test_flags();
	remove_tree(base_dir);
	free(base_dir);
	return tap_done();
}
