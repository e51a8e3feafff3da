/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layer module, writing side: header encoding as Go's archive/tar does it,
 * the tree walk (order, hardlinks, sockets, whiteout names), determinism
 * and the mtime clamp, compression and both digests in one pass, reading
 * every compression back, re-compression, and an independent check of the
 * output with libarchive.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "base/base.h"
#include "layer/internal.h"
#include "layer/layer.h"
#include "layer-util.h"
#include "tap.h"

static char *root_tmp;

static char *p_join(const char *a, const char *b)
{
	char *p = kiln_asprintf("%s/%s", a, b);
	if (!p)
		abort();
	return p;
}

static void set_mtime(const char *path, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	(void) utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

/* Write the tree at `dir` into a memfd; returns the fd (positioned at 0) or -1. */
static int write_tree(const char *dir, const struct kiln_layer_write_opts *o,
		      enum kiln_layer_tree_mode mode, struct kiln_layer_digests *d,
		      struct kiln_error *err)
{
	int out = mem_fd(NULL, 0);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = kiln_layer_write_tree(dfd, mode, out, o, d, err);
	close(dfd);
	if (r < 0) {
		close(out);
		return -1;
	}
	lseek(out, 0, SEEK_SET);
	return out;
}

/* One entry through the low-level writer, uncompressed; the bytes. */
static unsigned char *one_entry(const struct kiln_tar_entry *e, const char *data, size_t *ret_len)
{
	int out = mem_fd(NULL, 0);
	struct kiln_layer_writer *w = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_layer_writer_new(out, NULL, &w, &err);
	if (r == 0)
		r = kiln_layer_writer_add(w, e, &err);
	if (r == 0 && data)
		r = kiln_layer_writer_write_data(w, data, strlen(data), &err);
	if (r == 0)
		r = kiln_layer_writer_finish(w, NULL, &err);
	kiln_layer_writer_free(w);
	unsigned char *b = r == 0 ? fd_bytes(out, ret_len) : NULL;
	if (r < 0)
		tap_diag("writer: %s", err.msg);
	kiln_error_release(&err);
	close(out);
	return b;
}

static int checksum_ok(const unsigned char *b)
{
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : b[i];
	char want[8];
	snprintf(want, sizeof(want), "%06o", sum);
	return memcmp(b + 148, want, 6) == 0 && b[154] == 0 && b[155] == ' ';
}

/* ---------------------------------------------------------------------- */

static void test_header_bytes(void)
{
	struct kiln_tar_entry e = {
		.type = KILN_TAR_REG,
		.path = "hello",
		.mode = 0100644,
		.size = 5,
		.mtime = 1234567890,
	};
	size_t len = 0;
	unsigned char *b = one_entry(&e, "world", &len);
	TAP_OK(b && len == 2048, "one small file: header, one data block, two end blocks");
	if (!b)
		return;
	/* the field spellings of Go's USTAR writer */
	TAP_OK(memcmp(b, "hello\0", 6) == 0, "name, NUL-terminated");
	TAP_OK(memcmp(b + 100, "0000644\0", 8) == 0,
	       "mode: permission bits only, 7 octal digits + NUL");
	TAP_OK(memcmp(b + 108, "0000000\0", 8) == 0 && memcmp(b + 116, "0000000\0", 8) == 0,
	       "uid and gid fields");
	TAP_OK(memcmp(b + 124, "00000000005\0", 12) == 0, "size field");
	TAP_OK(memcmp(b + 136, "11145401322\0", 12) == 0, "mtime field (octal seconds)");
	TAP_OK(checksum_ok(b), "checksum: 6 octal digits, NUL, space");
	TAP_OK(b[156] == '0', "typeflag '0'");
	TAP_OK(memcmp(b + 257,
		      "ustar\0"
		      "00",
		      8) == 0,
	       "ustar magic and version");
	TAP_OK(b[265] == 0 && b[297] == 0, "uname and gname empty");
	TAP_OK(memcmp(b + 329, "0000000\0", 8) == 0 && memcmp(b + 337, "0000000\0", 8) == 0,
	       "devmajor/devminor written as zero octal");
	TAP_OK(memcmp(b + 512, "world", 5) == 0 && b[517] == 0, "data then zero padding");
	int zeros = 1;
	for (size_t i = 1024; i < 2048; i++)
		zeros &= b[i] == 0;
	TAP_OK(zeros, "two zero blocks end the archive, no record padding");
	free(b);

	e = (struct kiln_tar_entry){
		.type = KILN_TAR_DIR, .path = "a/b", .mode = 041777, .mtime = 1
	};
	b = one_entry(&e, NULL, &len);
	TAP_OK(b && memcmp(b, "a/b/\0", 5) == 0 && b[156] == '5' &&
		       memcmp(b + 100, "0001777\0", 8) == 0,
	       "directory: trailing slash, type '5', sticky bit kept");
	free(b);
	e = (struct kiln_tar_entry){
		.type = KILN_TAR_SYMLINK, .path = "l", .link = "/etc/x", .mode = 0777, .size = 99
	};
	b = one_entry(&e, NULL, &len);
	TAP_OK(b && b[156] == '2' && memcmp(b + 157, "/etc/x\0", 7) == 0 &&
		       memcmp(b + 124, "00000000000\0", 12) == 0,
	       "symlink: type '2', link name, size 0");
	free(b);
	e = (struct kiln_tar_entry){
		.type = KILN_TAR_CHAR, .path = "null", .mode = 0666, .devmajor = 1, .devminor = 3
	};
	b = one_entry(&e, NULL, &len);
	TAP_OK(b && b[156] == '3' && memcmp(b + 329, "0000001\0", 8) == 0 &&
		       memcmp(b + 337, "0000003\0", 8) == 0,
	       "char device numbers");
	free(b);
}

/* The PAX block of a one-entry archive, or NULL when it has none. */
static char *pax_records(const unsigned char *b, size_t len)
{
	if (len < 1024 || b[156] != 'x')
		return NULL;
	unsigned long size = strtoul((const char *) b + 124, NULL, 8);
	char *r = malloc(size + 1);
	memcpy(r, b + 512, size);
	r[size] = '\0';
	return r;
}

static void test_pax_selection(void)
{
	size_t len;
	char name[200];

	/* > 100 bytes with a '/' that splits it: USTAR prefix, no PAX (Go's choice) */
	memset(name, 'p', 150);
	name[60] = '/';
	name[150] = '\0';
	struct kiln_tar_entry e = { .type = KILN_TAR_REG, .path = name, .mode = 0644 };
	unsigned char *b = one_entry(&e, NULL, &len);
	TAP_OK(b && b[156] == '0' && strncmp((char *) b + 345, name, 60) == 0 && b[345 + 60] == 0 &&
		       strncmp((char *) b, name + 61, 89) == 0,
	       "long splittable name: USTAR prefix/name, no PAX header");
	int fd = b ? mem_fd(b, len) : -1;
	char *list = fd >= 0 ? tar_listing(fd, 0) : NULL;
	char want[300];
	snprintf(want, sizeof(want), "- %s\n", name);
	TAP_STR_EQ(list, want, "long splittable name reads back whole");
	free(list);
	close(fd);
	free(b);

	/* > 100 bytes with no '/': PAX path, main name truncated */
	memset(name, 'q', 120);
	name[120] = '\0';
	e.path = name;
	b = one_entry(&e, NULL, &len);
	char *recs = b ? pax_records(b, len) : NULL;
	snprintf(want, sizeof(want), "130 path=%s\n", name);
	TAP_STR_EQ(recs, want, "unsplittable name: PAX path record with its length");
	TAP_OK(b && strncmp((char *) b, "PaxHeaders.0/qqqq", 17) == 0 &&
		       strnlen((char *) b, 100) == 100 && b[99] == 'q' && checksum_ok(b),
	       "PAX header named PaxHeaders.0/<name>, cut to 100 bytes");
	TAP_OK(b && b[1024 + 156] == '0' && strncmp((char *) b + 1024, name, 100) == 0,
	       "main header keeps the first 100 bytes of the name");
	free(recs);
	free(b);

	/* non-ASCII: always PAX, ASCII-only name in the main header */
	e.path = "caf\xc3\xa9";
	b = one_entry(&e, NULL, &len);
	recs = b ? pax_records(b, len) : NULL;
	TAP_STR_EQ(recs, "14 path=caf\xc3\xa9\n", "non-ASCII name: PAX path");
	TAP_OK(b && strcmp((char *) b + 1024, "caf") == 0,
	       "main header name drops non-ASCII bytes");
	free(recs);
	free(b);

	/* big ids, negative mtime */
	e = (struct kiln_tar_entry){ .type = KILN_TAR_REG,
				     .path = "ids",
				     .mode = 0644,
				     .uid = 3000000,
				     .gid = 7,
				     .mtime = -5 };
	b = one_entry(&e, NULL, &len);
	recs = b ? pax_records(b, len) : NULL;
	TAP_STR_EQ(recs, "12 mtime=-5\n15 uid=3000000\n",
		   "uid over 7 octal digits and negative mtime: sorted PAX records");
	TAP_OK(b && memcmp(b + 1024 + 108, "0000000\0", 8) == 0 &&
		       memcmp(b + 1024 + 116, "0000007\0", 8) == 0,
	       "main header: uid zeroed, gid kept");
	free(recs);
	free(b);

	/* xattrs: SCHILY.xattr records sorted, binary values kept */
	struct kiln_tar_xattr xs[] = {
		{ "user.z", "z", 1 },
		{ "security.capability", "\x01\x00\x00\x02\x00", 5 },
	};
	e = (struct kiln_tar_entry){
		.type = KILN_TAR_REG, .path = "caps", .mode = 0755, .xattrs = xs, .n_xattrs = 2
	};
	b = one_entry(&e, NULL, &len);
	recs = b ? pax_records(b, len) : NULL;
	TAP_OK(recs && memcmp(recs,
			      "42 SCHILY.xattr.security.capability=\x01\x00\x00\x02\x00\n"
			      "25 SCHILY.xattr.user.z=z\n",
			      42 + 25) == 0,
	       "xattrs as sorted SCHILY.xattr records");
	fd = b ? mem_fd(b, len) : -1;
	struct kiln_layer_reader *r = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	const struct kiln_tar_entry *got = NULL;
	int ok = fd >= 0 && kiln_layer_reader_new(fd, NULL, &r, &err) == 0 &&
		 kiln_layer_reader_next(r, &got, &err) == 1 && got->n_xattrs == 2;
	int caps_ok = 0;
	for (size_t i = 0; ok && i < got->n_xattrs; i++)
		if (!strcmp(got->xattrs[i].name, "security.capability"))
			caps_ok = got->xattrs[i].len == 5 &&
				  !memcmp(got->xattrs[i].value, xs[1].value, 5);
	TAP_OK(ok && caps_ok, "binary capability xattr reads back");
	kiln_layer_reader_free(r);
	kiln_error_release(&err);
	close(fd);
	free(recs);
	free(b);

	/* size over 8 GiB: a PAX size record (encoder only; no data written) */
	struct kiln_buf out = KILN_BUF_INIT;
	e = (struct kiln_tar_entry){ .type = KILN_TAR_REG,
				     .path = "big",
				     .size = UINT64_C(1) << 33 };
	ok = kiln_layer_tar_encode(&e, "big", &out, &err) == 0;
	recs = ok ? pax_records((unsigned char *) out.buf, out.len) : NULL;
	TAP_STR_EQ(recs, "19 size=8589934592\n", "size >= 8 GiB: PAX size record");
	TAP_OK(ok && memcmp(out.buf + 1024 + 124, "00000000000\0", 12) == 0,
	       "main header size zeroed");
	free(recs);
	kiln_buf_release(&out);

	/* record lengths that change digit count (Go's adjustment) */
	int all = 1;
	for (size_t n = 80; n < 100; n++) {
		char nm[128];
		memset(nm, 'r', n);
		memcpy(nm, "\xc3\xa9", 2);
		nm[n] = '\0';
		e = (struct kiln_tar_entry){ .type = KILN_TAR_REG, .path = nm };
		kiln_buf_reset(&out);
		if (kiln_layer_tar_encode(&e, nm, &out, &err) < 0) {
			all = 0;
			break;
		}
		recs = pax_records((unsigned char *) out.buf, out.len);
		all &= recs && (size_t) atoi(recs) == strlen(recs);
		free(recs);
	}
	TAP_OK(all, "PAX record lengths count themselves across the 99/100 boundary");
	kiln_buf_release(&out);
	kiln_error_release(&err);
}

static void test_writer_misuse(void)
{
	static const char *const bad[] = { "", "/abs", "a//b", "a/../b", "./a", "a/", "..", "a/." };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(bad); i++) {
		int out = mem_fd(NULL, 0);
		struct kiln_layer_writer *w = NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		struct kiln_tar_entry e = { .type = KILN_TAR_REG, .path = (char *) bad[i] };
		int r = kiln_layer_writer_new(out, NULL, &w, &err);
		r = r == 0 ? kiln_layer_writer_add(w, &e, &err) : r;
		TAP_OK(r == -KILN_EINVAL, "writer refuses entry name '%s'", bad[i]);
		kiln_layer_writer_free(w);
		kiln_error_release(&err);
		close(out);
	}
	int out = mem_fd(NULL, 0);
	struct kiln_layer_writer *w = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_tar_entry e = { .type = KILN_TAR_REG, .path = "f", .size = 3 };
	int r = kiln_layer_writer_new(out, NULL, &w, &err);
	r = r == 0 ? kiln_layer_writer_add(w, &e, &err) : r;
	r = r == 0 ? kiln_layer_writer_write_data(w, "abcd", 4, &err) : r;
	TAP_OK(r == -KILN_EINVAL, "more data than the entry's size refused");
	r = kiln_layer_writer_finish(w, NULL, &err);
	TAP_OK(r == -KILN_EINVAL && strstr(err.msg, "after an error"),
	       "writer unusable after an error");
	kiln_layer_writer_free(w);
	kiln_error_release(&err);
	close(out);

	out = mem_fd(NULL, 0);
	w = NULL;
	r = kiln_layer_writer_new(out, NULL, &w, &err);
	r = r == 0 ? kiln_layer_writer_add(w, &e, &err) : r;
	r = r == 0 ? kiln_layer_writer_finish(w, NULL, &err) : r;
	TAP_OK(r == -KILN_EINVAL && strstr(err.msg, "missing 3 bytes"),
	       "finish with data missing refused");
	kiln_layer_writer_free(w);
	kiln_error_release(&err);
	close(out);

	static const struct {
		enum kiln_compression c;
		int level;
		int rc;
	} levels[] = {
		{ KILN_COMPRESSION_GZIP, 10, -KILN_EINVAL },
		{ KILN_COMPRESSION_GZIP, -1, -KILN_EINVAL },
		{ KILN_COMPRESSION_ZSTD, 20, -KILN_EINVAL },
		{ KILN_COMPRESSION_BZIP2, 0, -KILN_EUNSUPP },
		{ KILN_COMPRESSION_XZ, 0, -KILN_EUNSUPP },
		{ KILN_COMPRESSION_GZIP, 9, 0 },
		{ KILN_COMPRESSION_ZSTD, 19, 0 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(levels); i++) {
		struct kiln_layer_write_opts o = { .compression = levels[i].c,
						   .level = levels[i].level };
		w = NULL;
		r = kiln_layer_writer_new(1, &o, &w, &err);
		TAP_INT_EQ(r, levels[i].rc, "writer %s level %d",
			   kiln_compression_name(levels[i].c), levels[i].level);
		kiln_layer_writer_free(w);
		kiln_error_release(&err);
	}
}

/* ---------------------------------------------------------------------- */
/* The tree walk                                                           */
/* ---------------------------------------------------------------------- */

static void test_tree_order(void)
{
	char *d = scratch_dir("order");
	const char *dirs[] = { "a", "a-c", "z", "z/y" };
	const char *files[] = { "B", "a/b", "a/.hidden", "a-c/x", "z/y/deep", "_u", "a0" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(dirs); i++) {
		char *p = p_join(d, dirs[i]);
		mkdir(p, 0755);
		free(p);
	}
	for (size_t i = 0; i < KILN_ARRAY_SIZE(files); i++) {
		char *p = p_join(d, files[i]);
		put_file(p, files[i], 0644);
		free(p);
	}
	/* hardlinks: the first name in archive order carries the data */
	char *t = p_join(d, "z/y/deep"), *l1 = p_join(d, "a0-link"), *l2 = p_join(d, "a/hl");
	(void) !link(t, l1);
	(void) !link(t, l2);
	free(t);
	free(l1);
	free(l2);
	/* a socket is not archived */
	char *sp = p_join(d, "sock");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sp);
	(void) !bind(s, (struct sockaddr *) &sa, sizeof(sa));
	close(s);
	free(sp);

	struct kiln_error err = KILN_ERROR_INIT;
	int fd = write_tree(d, NULL, KILN_TREE_PLAIN, NULL, &err);
	char *list = fd >= 0 ? tar_listing(fd, 0) : NULL;
	TAP_STR_EQ(list,
		   "- B\n"
		   "- _u\n"
		   "d a/\n"
		   "- a/.hidden\n"
		   "- a/b\n"
		   "- a/hl\n"
		   "d a-c/\n"
		   "- a-c/x\n"
		   "- a0\n"
		   "h a0-link -> a/hl\n"
		   "d z/\n"
		   "d z/y/\n"
		   "h z/y/deep -> a/hl\n",
		   "depth first, byte order, hardlinks to the first name, no socket");
	free(list);
	close(fd);
	kiln_error_release(&err);
	remove_tree(d);
	free(d);
}

static void test_prefix(void)
{
	char *d = scratch_dir("prefix");
	char *p = p_join(d, "x");
	put_file(p, "x", 0644);
	free(p);
	int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int out = mem_fd(NULL, 0);
	struct kiln_layer_writer *w = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_tar_entry app = { .type = KILN_TAR_DIR, .path = "app", .mode = 0755 };
	int r = kiln_layer_writer_new(out, NULL, &w, &err);
	r = r == 0 ? kiln_layer_writer_add(w, &app, &err) : r;
	r = r == 0 ? kiln_layer_writer_add_tree(w, dfd, "/app/sub/", KILN_TREE_PLAIN, &err) : r;
	r = r == 0 ? kiln_layer_writer_finish(w, NULL, &err) : r;
	kiln_layer_writer_free(w);
	lseek(out, 0, SEEK_SET);
	char *list = r == 0 ? tar_listing(out, 0) : NULL;
	TAP_STR_EQ(list, "d app/\n- app/sub/x\n",
		   "entries under a prefix, after the caller's own entries");
	free(list);
	close(out);
	out = mem_fd(NULL, 0);
	w = NULL;
	r = kiln_layer_writer_new(out, NULL, &w, &err);
	r = r == 0 ? kiln_layer_writer_add_tree(w, dfd, "a/../b", KILN_TREE_PLAIN, &err) : r;
	TAP_OK(r == -KILN_EINVAL && strstr(err.msg, "prefix"), "a prefix with '..' refused");
	kiln_layer_writer_free(w);
	kiln_error_release(&err);

	/* an interrupt stops the walk */
	atomic_int stop = 1;
	struct kiln_ctx ctx = { .cancel = &stop };
	struct kiln_layer_write_opts o = { .ctx = &ctx };
	w = NULL;
	r = kiln_layer_writer_new(out, &o, &w, &err);
	r = r == 0 ? kiln_layer_writer_add_tree(w, dfd, NULL, KILN_TREE_PLAIN, &err) : r;
	TAP_OK(r == -KILN_ECANCEL, "a cancelled context stops the walk");
	kiln_layer_writer_free(w);
	kiln_error_release(&err);
	close(out);
	close(dfd);
	remove_tree(d);
	free(d);
}

static void test_wh_names_refused(void)
{
	char *d = scratch_dir("wh");
	char *p = p_join(d, ".wh.secret");
	put_file(p, "", 0644);
	struct kiln_error err = KILN_ERROR_INIT;
	int fd = write_tree(d, NULL, KILN_TREE_PLAIN, NULL, &err);
	TAP_OK(fd < 0 && err.code == KILN_EINVAL && strstr(err.msg, ".wh.secret"),
	       "a file named .wh.* cannot go into a layer");
	kiln_error_release(&err);
	free(p);
	remove_tree(d);
	free(d);
}

/* A tree with the same content made in a different creation order. */
static void make_tree(const char *d, int reverse)
{
	static const struct {
		const char *name;
		int dir;
		unsigned mode;
	} items[] = {
		{ "etc", 1, 0755 },	{ "etc/conf", 0, 0640 },      { "usr", 1, 0755 },
		{ "usr/bin", 1, 0755 }, { "usr/bin/tool", 0, 04755 }, { "var", 1, 0700 },
		{ "zzz", 1, 01777 },
	};
	size_t n = KILN_ARRAY_SIZE(items);
	/* pass 0: top-level directories, 1: nested directories, 2: files */
	for (int pass = 0; pass < 3; pass++) {
		for (size_t k = 0; k < n; k++) {
			size_t i = reverse ? n - 1 - k : k;
			int nested = strchr(items[i].name, '/') != NULL;
			if ((pass == 0 && !(items[i].dir && !nested)) ||
			    (pass == 1 && !(items[i].dir && nested)) || (pass == 2 && items[i].dir))
				continue;
			char *p = p_join(d, items[i].name);
			if (items[i].dir)
				mkdir(p, 0700);
			else
				put_file(p, items[i].name, 0600);
			free(p);
		}
	}
	for (size_t i = 0; i < n; i++) {
		char *p = p_join(d, items[i].name);
		chmod(p, items[i].mode);
		set_mtime(p, (time_t) (1000 * (i + 1)));
		free(p);
	}
}

static void test_determinism(void)
{
	char *a = scratch_dir("det-a"), *b = scratch_dir("det-b");
	make_tree(a, 0);
	make_tree(b, 1);
	struct kiln_layer_write_opts o = { .compression = KILN_COMPRESSION_GZIP };
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_layer_digests d1, d2, d3;
	int f1 = write_tree(a, &o, KILN_TREE_PLAIN, &d1, &err);
	int f2 = write_tree(a, &o, KILN_TREE_PLAIN, &d2, &err);
	int f3 = write_tree(b, &o, KILN_TREE_PLAIN, &d3, &err);
	size_t l1 = 0, l2 = 0, l3 = 0;
	unsigned char *b1 = f1 >= 0 ? fd_bytes(f1, &l1) : NULL;
	unsigned char *b2 = f2 >= 0 ? fd_bytes(f2, &l2) : NULL;
	unsigned char *b3 = f3 >= 0 ? fd_bytes(f3, &l3) : NULL;
	TAP_OK(b1 && b2 && l1 == l2 && memcmp(b1, b2, l1) == 0 &&
		       kiln_digest_equal(&d1.digest, &d2.digest),
	       "same tree twice: byte-identical gzip layer");
	TAP_OK(b1 && b3 && l1 == l3 && memcmp(b1, b3, l1) == 0,
	       "same content created in another order: byte-identical layer");
	free(b1);
	free(b2);
	free(b3);
	close(f1);
	close(f2);
	close(f3);

	/* SOURCE_DATE_EPOCH clamp: mtimes above it become it, older ones stay */
	struct kiln_layer_write_opts c = { .flags = KILN_WRITE_CLAMP_MTIME, .mtime_clamp = 3500 };
	int fd = write_tree(a, &c, KILN_TREE_PLAIN, NULL, &err);
	struct kiln_layer_reader *r = NULL;
	struct kiln_buf got = KILN_BUF_INIT;
	int ok = fd >= 0 && kiln_layer_reader_new(fd, NULL, &r, &err) == 0;
	for (;;) {
		const struct kiln_tar_entry *e;
		if (!ok || kiln_layer_reader_next(r, &e, &err) != 1)
			break;
		if (kiln_buf_addf(&got, "%s=%lld ", e->path, (long long) e->mtime) < 0)
			abort();
	}
	TAP_STR_EQ(got.buf,
		   "etc/=1000 etc/conf=2000 usr/=3000 usr/bin/=3500 usr/bin/tool=3500 var/=3500 "
		   "zzz/=3500 ",
		   "mtime clamp applied to files and directories above the epoch only");
	kiln_buf_release(&got);
	kiln_layer_reader_free(r);
	close(fd);
	kiln_error_release(&err);
	remove_tree(a);
	remove_tree(b);
	free(a);
	free(b);
}

/* BuildKit's tar export rounds times to the second; layers drop the fraction. */
static void test_round_mtime(void)
{
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_tar_entry e = { .type = KILN_TAR_REG, .path = (char *) "f", .mode = 0644 };
	static const struct {
		int64_t sec;
		uint32_t nsec;
		unsigned flags;
		int64_t want;
	} cases[] = {
		{ 1000, 700000000, KILN_WRITE_ROUND_MTIME, 1001 },
		{ 1000, 500000000, KILN_WRITE_ROUND_MTIME, 1001 },
		{ 1000, 499999999, KILN_WRITE_ROUND_MTIME, 1000 },
		{ 1000, 700000000, 0, 1000 },
		{ 1000, 700000000, KILN_WRITE_ROUND_MTIME | KILN_WRITE_CLAMP_MTIME, 1000 },
	};
	int ok = 1;
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		int out = mem_fd(NULL, 0);
		struct kiln_layer_write_opts o = { .flags = cases[i].flags, .mtime_clamp = 1000 };
		struct kiln_layer_writer *w = NULL;
		e.mtime = cases[i].sec;
		e.mtime_nsec = cases[i].nsec;
		int r = kiln_layer_writer_new(out, &o, &w, &err);
		if (r == 0)
			r = kiln_layer_writer_add(w, &e, &err);
		if (r == 0)
			r = kiln_layer_writer_finish(w, NULL, &err);
		kiln_layer_writer_free(w);
		struct kiln_layer_reader *rd = NULL;
		const struct kiln_tar_entry *got = NULL;
		lseek(out, 0, SEEK_SET);
		if (r == 0 && kiln_layer_reader_new(out, NULL, &rd, &err) == 0 &&
		    kiln_layer_reader_next(rd, &got, &err) == 1 && got->mtime == cases[i].want)
			;
		else {
			tap_diag("case %zu: got %lld", i, got ? (long long) got->mtime : -1LL);
			ok = 0;
		}
		kiln_layer_reader_free(rd);
		close(out);
	}
	TAP_OK(ok, "KILN_WRITE_ROUND_MTIME rounds half up before the clamp; without it the "
		   "fraction is dropped");
	kiln_error_release(&err);
}

/* ---------------------------------------------------------------------- */
/* Writing a layer again (rewrite-timestamp at export)                     */
/* ---------------------------------------------------------------------- */

/* kiln_layer_rewrite() of `in` with `o`, into a memfd (at 0), or -1 */
static int rewrite_fd(int in, const struct kiln_layer_write_opts *o, struct kiln_layer_digests *d,
		      struct kiln_error *err)
{
	int out = mem_fd(NULL, 0);
	lseek(in, 0, SEEK_SET);
	if (kiln_layer_rewrite(in, out, NULL, o, NULL, d, err) < 0) {
		tap_diag("rewrite: %s", err->msg);
		close(out);
		return -1;
	}
	lseek(out, 0, SEEK_SET);
	return out;
}

static void test_rewrite(void)
{
	char *a = scratch_dir("rewrite");
	make_tree(a, 0);
	/* what else a layer holds: links, a long name (PAX), a non-ASCII one */
	char *p = p_join(a, "usr/bin/tool"), *l = p_join(a, "usr/bin/hard"),
	     *s = p_join(a, "etc/link"), *u = p_join(a, "etc/caf\xc3\xa9"), *longdir = NULL;
	if (link(p, l) < 0 || symlink("conf", s) < 0)
		abort();
	put_file(u, "accent", 0644);
	longdir = p_join(a, "var/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	put_file(longdir, "long", 0644);
	set_mtime(longdir, 9000);
	set_mtime(u, 8000);
	char *var = p_join(a, "var"), *etc = p_join(a, "etc");
	set_mtime(var, 6000);
	set_mtime(etc, 1000);
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_layer_write_opts gz = { .compression = KILN_COMPRESSION_GZIP };
	struct kiln_layer_write_opts gz_clamped = gz;
	gz_clamped.flags = KILN_WRITE_CLAMP_MTIME;
	gz_clamped.mtime_clamp = 3500;
	struct kiln_layer_digests orig, same, clamped, direct;
	int f0 = write_tree(a, &gz, KILN_TREE_PLAIN, &orig, &err);
	int f1 = f0 >= 0 ? rewrite_fd(f0, &gz, &same, &err) : -1;
	size_t l0 = 0, l1 = 0;
	unsigned char *b0 = f0 >= 0 ? (lseek(f0, 0, SEEK_SET), fd_bytes(f0, &l0)) : NULL;
	unsigned char *b1 = f1 >= 0 ? fd_bytes(f1, &l1) : NULL;
	TAP_OK(b0 && b1 && l0 == l1 && !memcmp(b0, b1, l0) &&
		       kiln_digest_equal(&orig.diff_id, &same.diff_id),
	       "rewrite without a clamp: the layer byte for byte");
	int f2 = f0 >= 0 ? rewrite_fd(f0, &gz_clamped, &clamped, &err) : -1;
	int f3 = write_tree(a, &gz_clamped, KILN_TREE_PLAIN, &direct, &err);
	TAP_OK(f2 >= 0 && f3 >= 0 && kiln_digest_equal(&clamped.diff_id, &direct.diff_id) &&
		       kiln_digest_equal(&clamped.digest, &direct.digest) &&
		       !kiln_digest_equal(&clamped.diff_id, &orig.diff_id),
	       "rewrite with a clamp: the layer a clamped write of the tree makes");
	/* a broken input fails, naming why */
	int bad = mem_fd("not a tar at all", 16);
	int fb = rewrite_fd(bad, &gz, NULL, &err);
	TAP_OK(fb < 0 && err.code != 0, "rewrite of something that is no layer fails");
	kiln_error_release(&err);
	free(b0);
	free(b1);
	for (int *fd = (int[]){ f0, f1, f2, f3, bad, fb, -2 }; *fd != -2; fd++)
		if (*fd >= 0)
			close(*fd);
	remove_tree(a);
	free(a);
	free(p);
	free(l);
	free(s);
	free(u);
	free(longdir);
	free(var);
	free(etc);
}

/* ---------------------------------------------------------------------- */
/* An independent reader agrees                                            */
/* ---------------------------------------------------------------------- */

static char type_of_mode(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return '-';
	case S_IFDIR:
		return 'd';
	case S_IFLNK:
		return 'l';
	case S_IFCHR:
		return 'c';
	case S_IFBLK:
		return 'b';
	case S_IFIFO:
		return 'p';
	}
	return '?';
}

static void test_libarchive_crosscheck(void)
{
	char *d = scratch_dir("xcheck");
	char longname[160], longlink[200];
	memset(longname, 'L', 130);
	longname[130] = '\0';
	memset(longlink, 'k', 150);
	longlink[150] = '\0';
	const char *dirs[] = { "dir", "dir/sub",
			       ("\xc3\xbc"
				"ber") };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(dirs); i++) {
		char *p = p_join(d, dirs[i]);
		mkdir(p, 0750);
		free(p);
	}
	char *p = p_join(d, longname);
	put_file(p, "long name content", 0600);
	(void) setxattr(p, "user.note", "hello\0world", 11, 0);
	free(p);
	p = p_join(d, "dir/sub/file");
	put_file(p, "file content", 02755);
	chmod(p, 02755);
	char *h = p_join(d, "hard");
	(void) !link(p, h);
	free(h);
	free(p);
	p = p_join(d, "dir/link");
	(void) !symlink(longlink, p);
	free(p);
	p = p_join(d, "\xc3\xbc"
		      "ber/fifo");
	mkfifo(p, 0640);
	free(p);
	p = p_join(d, "empty");
	put_file(p, "", 0444);
	free(p);

	struct kiln_layer_write_opts o = { .flags = KILN_WRITE_ALL_XATTRS };
	struct kiln_error err = KILN_ERROR_INIT;
	int fd = write_tree(d, &o, KILN_TREE_PLAIN, NULL, &err);
	size_t len = 0;
	unsigned char *bytes = fd >= 0 ? fd_bytes(fd, &len) : NULL;
	if (!bytes)
		tap_diag("write: %s", err.msg ? err.msg : "?");

	struct kiln_buf ours = KILN_BUF_INIT, theirs = KILN_BUF_INIT;
	struct kiln_layer_reader *r = NULL;
	lseek(fd, 0, SEEK_SET);
	int ok = bytes && kiln_layer_reader_new(fd, NULL, &r, &err) == 0;
	for (;;) {
		const struct kiln_tar_entry *e;
		if (!ok || kiln_layer_reader_next(r, &e, &err) != 1)
			break;
		char data[64] = "";
		size_t n = 0;
		if (e->type == KILN_TAR_REG &&
		    kiln_layer_reader_read(r, data, sizeof(data) - 1, &n, &err) < 0)
			break;
		data[n] = '\0';
		if (kiln_buf_addf(&ours, "%c %s %o %u:%u %lld %s [%s] x%zu\n",
				  kiln_tar_type_char(e->type), e->path, e->mode, e->uid, e->gid,
				  (long long) e->mtime, e->link ? e->link : "-", data,
				  e->n_xattrs) < 0)
			abort();
	}
	kiln_layer_reader_free(r);

	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_support_filter_none(a);
	ok = bytes && archive_read_open_memory(a, bytes, len) == ARCHIVE_OK;
	struct archive_entry *ae;
	while (ok && archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		char data[64] = "";
		la_ssize_t n = 0;
		mode_t m = archive_entry_mode(ae);
		const char *hl = archive_entry_hardlink(ae), *sl = archive_entry_symlink(ae);
		char t = hl ? 'h' : type_of_mode(m);
		if (t == '-')
			n = archive_read_data(a, data, sizeof(data) - 1);
		data[n > 0 ? n : 0] = '\0';
		if (kiln_buf_addf(&theirs, "%c %s %o %lld:%lld %lld %s [%s] x%d\n", t,
				  archive_entry_pathname(ae), (unsigned) (m & 07777),
				  (long long) archive_entry_uid(ae),
				  (long long) archive_entry_gid(ae),
				  (long long) archive_entry_mtime(ae),
				  hl   ? hl
				  : sl ? sl
				       : "-",
				  data, archive_entry_xattr_count(ae)) < 0)
			abort();
	}
	archive_read_free(a);
	TAP_OK(ours.len > 0, "kiln reads its own layer");
	TAP_STR_EQ(theirs.buf, ours.buf,
		   "libarchive reads the same entries, names, modes, owners, times, links, data "
		   "and xattr counts");
	kiln_buf_release(&ours);
	kiln_buf_release(&theirs);
	free(bytes);
	if (fd >= 0)
		close(fd);
	kiln_error_release(&err);
	remove_tree(d);
	free(d);
}

/*
 * File contents through the tree walk at the sizes where its reads change:
 * empty, small, one byte either side of the read buffer (256 KiB) and
 * several buffers, each read back from the layer byte for byte.
 */
static void test_file_sizes(void)
{
	static const size_t sizes[] = { 0, 1, 100, 262143, 262144, 262145, 786433 };
	char *src = scratch_dir("sizes-src"), *dst = scratch_dir("sizes-dst");
	int ok = 1;
	for (size_t i = 0; i < KILN_ARRAY_SIZE(sizes); i++) {
		char name[32];
		(void) snprintf(name, sizeof(name), "f%zu", sizes[i]);
		char *p = p_join(src, name);
		unsigned char *b = malloc(sizes[i] + 1);
		for (size_t k = 0; b && k < sizes[i]; k++)
			b[k] = (unsigned char) (k * 31 + i);
		int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		ok = ok && b && fd >= 0 &&
		     (sizes[i] == 0 || write(fd, b, sizes[i]) == (ssize_t) sizes[i]);
		if (fd >= 0)
			close(fd);
		free(b);
		free(p);
	}
	TAP_OK(ok, "files of %zu sizes", KILN_ARRAY_SIZE(sizes));
	struct kiln_error err = KILN_ERROR_INIT;
	int r = copy_via_layer(src, dst, KILN_TREE_PLAIN, NULL, NULL, &err);
	char why[512] = "";
	TAP_OK(r == 0 && tree_equal(src, dst, 1, why, sizeof(why)) == 0,
	       "each reads back whole, nothing more%s%s", *why ? ": " : "", why);
	kiln_error_release(&err);
	remove_tree(src);
	remove_tree(dst);
	free(src);
	free(dst);
}

/* The tree with one file bind-mounted from `from` in a mount namespace of its own; the error. */
static int write_with_bound(const char *from, struct kiln_error *err)
{
	char *d = scratch_dir("bound");
	char *f = p_join(d, "f");
	put_file(f, "", 0644);
	int r = -1;
	if (mount(from, f, NULL, MS_BIND, NULL) == 0) {
		int fd = write_tree(d, NULL, KILN_TREE_PLAIN, NULL, err);
		r = fd >= 0 ? 0 : -1;
		if (fd >= 0)
			close(fd);
		(void) umount2(f, MNT_DETACH);
	} else {
		kiln_fail_errno(err, "bind-mounting %s", from);
	}
	remove_tree(d);
	free(f);
	free(d);
	return r;
}

/*
 * A file whose content is not the size its stat gave fails the layer: a
 * procfs file (size 0, content after it) grew, a sysfs one (size 4096,
 * a few bytes) shrank.
 */
static void test_changed_size(void)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		tap_skip("needs root and a mount namespace", "files whose size is not their stat's");
		return;
	}
	struct kiln_error err = KILN_ERROR_INIT;
	int r = write_with_bound("/proc/self/stat", &err);
	TAP_OK(r < 0 && err.msg && strstr(err.msg, "grew while it was being read"),
	       "content past the stat's size: grew (%s)", err.msg ? err.msg : "no error");
	kiln_error_release(&err);
	struct stat st;
	if (stat("/sys/kernel/uevent_seqnum", &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 64) {
		tap_skip("no /sys/kernel/uevent_seqnum", "a file shorter than its stat");
		return;
	}
	r = write_with_bound("/sys/kernel/uevent_seqnum", &err);
	TAP_OK(r < 0 && err.msg && strstr(err.msg, "shrank while it was being read"),
	       "content short of the stat's size: shrank (%s)", err.msg ? err.msg : "no error");
	kiln_error_release(&err);
}

int main(void)
{
	setlocale(LC_ALL, "C.UTF-8");
	root_tmp = scratch_dir("write");
	test_header_bytes();
	test_pax_selection();
	test_writer_misuse();
	test_tree_order();
	test_wh_names_refused();
	test_prefix();
	test_determinism();
	test_rewrite();
	test_round_mtime();
	test_libarchive_crosscheck();
	test_file_sizes();
	test_changed_size();
	remove_tree(root_tmp);
	free(root_tmp);
	return tap_done();
}
