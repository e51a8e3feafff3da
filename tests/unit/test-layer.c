/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layer module, format side: compression detection and names, the tar
 * reader on crafted archives (USTAR, PAX, GNU, V7, sparse, malformed), the
 * limits, the writer's header encoding, compression and both digests, and
 * determinism.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

#define BUF_ADDF(...)                                                                              \
	do {                                                                                       \
		if (kiln_buf_addf(__VA_ARGS__) < 0)                                                \
			abort();                                                                   \
	} while (0)

/* ---------------------------------------------------------------------- */
/* Compression names, detection, media types                                */
/* ---------------------------------------------------------------------- */

static void test_compression_table(void)
{
	static const struct {
		const char *what;
		const unsigned char bytes[8];
		size_t len;
		enum kiln_compression want;
	} cases[] = {
		{ "gzip magic", { 0x1f, 0x8b, 8, 0 }, 4, KILN_COMPRESSION_GZIP },
		{ "zstd magic", { 0x28, 0xb5, 0x2f, 0xfd, 4 }, 5, KILN_COMPRESSION_ZSTD },
		{ "bzip2 magic", { 'B', 'Z', 'h', '9' }, 4, KILN_COMPRESSION_BZIP2 },
		{ "xz magic", { 0xfd, '7', 'z', 'X', 'Z', 0 }, 6, KILN_COMPRESSION_XZ },
		{ "xz magic cut short", { 0xfd, '7', 'z', 'X', 'Z' }, 5, KILN_COMPRESSION_NONE },
		{ "tar name bytes", { 'e', 't', 'c', '/' }, 4, KILN_COMPRESSION_NONE },
		{ "one byte of gzip", { 0x1f }, 1, KILN_COMPRESSION_NONE },
		{ "empty", { 0 }, 0, KILN_COMPRESSION_NONE },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++)
		TAP_INT_EQ(kiln_compression_detect(cases[i].bytes, cases[i].len), cases[i].want,
			   "detect: %s", cases[i].what);

	static const struct {
		const char *name;
		int ok;
		enum kiln_compression want;
	} names[] = {
		{ "gzip", 1, KILN_COMPRESSION_GZIP },
		{ "zstd", 1, KILN_COMPRESSION_ZSTD },
		{ "none", 1, KILN_COMPRESSION_NONE },
		{ "uncompressed", 1, KILN_COMPRESSION_NONE },
		{ "xz", 1, KILN_COMPRESSION_XZ },
		{ "bzip2", 1, KILN_COMPRESSION_BZIP2 },
		{ "lz4", 0, 0 },
		{ "GZIP", 0, 0 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(names); i++) {
		enum kiln_compression c = KILN_COMPRESSION_NONE;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_compression_parse(names[i].name, &c, &err);
		if (names[i].ok)
			TAP_OK(r == 0 && c == names[i].want &&
				       (strcmp(kiln_compression_name(c), names[i].name) == 0 ||
					c == KILN_COMPRESSION_NONE),
			       "parse '%s'", names[i].name);
		else
			TAP_OK(r == -KILN_EINVAL && err.msg && strstr(err.msg, names[i].name),
			       "parse '%s' fails naming it", names[i].name);
		kiln_error_release(&err);
	}
	/* the media types of the OCI image spec and Docker's schema 2 */
	TAP_STR_EQ(kiln_layer_media_type(KILN_COMPRESSION_GZIP, 0),
		   "application/vnd.oci.image.layer.v1.tar+gzip", "OCI gzip media type");
	TAP_STR_EQ(kiln_layer_media_type(KILN_COMPRESSION_ZSTD, 0),
		   "application/vnd.oci.image.layer.v1.tar+zstd", "OCI zstd media type");
	TAP_STR_EQ(kiln_layer_media_type(KILN_COMPRESSION_NONE, 0),
		   "application/vnd.oci.image.layer.v1.tar", "OCI tar media type");
	TAP_STR_EQ(kiln_layer_media_type(KILN_COMPRESSION_GZIP, 1),
		   "application/vnd.docker.image.rootfs.diff.tar.gzip", "docker gzip media type");
	TAP_OK(kiln_layer_media_type(KILN_COMPRESSION_ZSTD, 1) == NULL,
	       "docker schema 2 has no zstd layer type");
	TAP_OK(kiln_layer_media_type(KILN_COMPRESSION_XZ, 0) == NULL, "no xz layer media type");

	struct kiln_layer_limits l;
	kiln_layer_limits_resolve(NULL, &l);
	TAP_OK(l.max_path == KILN_LAYER_MAX_PATH_DEFAULT &&
		       l.max_entries == KILN_LAYER_MAX_ENTRIES_DEFAULT,
	       "limits default when not given");
	struct kiln_layer_limits in = { .max_path = 10 };
	kiln_layer_limits_resolve(&in, &l);
	TAP_OK(l.max_path == 10 && l.max_xattrs == KILN_LAYER_MAX_XATTRS_DEFAULT,
	       "given limits kept, zeros defaulted");
}

/* ---------------------------------------------------------------------- */
/* Reading crafted archives                                                */
/* ---------------------------------------------------------------------- */

/* Read every entry; returns the reader's result and the listing with modes/owners/sizes. */
static int read_all(const void *data, size_t len, const struct kiln_layer_limits *lim,
		    char **ret_list, struct kiln_error *err)
{
	int fd = mem_fd(data, len);
	struct kiln_layer_read_opts o = { .limits = lim };
	struct kiln_layer_reader *r = NULL;
	struct kiln_buf out = KILN_BUF_INIT;
	int q = kiln_layer_reader_new(fd, &o, &r, err);
	while (q == 0) {
		const struct kiln_tar_entry *e;
		q = kiln_layer_reader_next(r, &e, err);
		if (q <= 0)
			break;
		BUF_ADDF(&out, "%c %s", kiln_tar_type_char(e->type), e->path);
		if (e->link)
			BUF_ADDF(&out, " -> %s", e->link);
		BUF_ADDF(&out, " %04o %u:%u %llu %lld", e->mode, e->uid, e->gid,
			 (unsigned long long) e->size, (long long) e->mtime);
		if (e->type == KILN_TAR_CHAR || e->type == KILN_TAR_BLOCK)
			BUF_ADDF(&out, " dev=%u,%u", e->devmajor, e->devminor);
		for (size_t i = 0; i < e->n_xattrs; i++) {
			BUF_ADDF(&out, " x:%s=", e->xattrs[i].name);
			for (size_t j = 0; j < e->xattrs[i].len; j++)
				BUF_ADDF(&out, "%02x", ((unsigned char *) e->xattrs[i].value)[j]);
		}
		if (e->type == KILN_TAR_REG && e->size <= 64) {
			char buf[80];
			size_t n = 0, got;
			while (n < sizeof(buf) &&
			       (q = kiln_layer_reader_read(r, buf + n, sizeof(buf) - n, &got,
							   err)) == 0 &&
			       got)
				n += got;
			if (q < 0)
				break;
			BUF_ADDF(&out, " [%.*s]", (int) n, buf);
		}
		BUF_ADDF(&out, "\n");
		q = 0;
	}
	if (q == 0)
		q = kiln_layer_reader_finish(r, NULL, err);
	kiln_layer_reader_free(r);
	close(fd);
	*ret_list = kiln_buf_detach(&out, NULL);
	return q;
}

static void b_plain(struct tb *t)
{
	tb_file(t, &(struct tb_hdr){ .name = "etc/", .type = '5', .mode = 0755, .mtime = 100 },
		NULL, 0);
	tb_file(t,
		&(struct tb_hdr){ .name = "etc/hosts",
				  .type = '0',
				  .mode = 0644,
				  .uid = 1,
				  .gid = 2,
				  .mtime = 200 },
		"127.0.0.1\n", 10);
	tb_file(t,
		&(struct tb_hdr){ .name = "lnk", .type = '2', .link = "etc/hosts", .mode = 0777 },
		NULL, 0);
	tb_file(t, &(struct tb_hdr){ .name = "hard", .type = '1', .link = "etc/hosts" }, NULL, 0);
	tb_file(t,
		&(struct tb_hdr){
			.name = "null", .type = '3', .devmajor = 1, .devminor = 3, .mode = 0666 },
		NULL, 0);
	tb_file(t,
		&(struct tb_hdr){
			.name = "sda", .type = '4', .devmajor = 8, .devminor = 0, .mode = 0660 },
		NULL, 0);
	tb_file(t, &(struct tb_hdr){ .name = "fifo", .type = '6', .mode = 0600 }, NULL, 0);
	tb_file(t, &(struct tb_hdr){ .name = "suid", .type = '0', .mode = 04755 }, "x", 1);
	tb_end(t);
}

static void b_prefix(struct tb *t)
{
	tb_file(t,
		&(struct tb_hdr){ .name = "file.txt", .prefix = "very/long/prefix", .type = '0' },
		"p", 1);
	tb_end(t);
}

static void b_gnu_long(struct tb *t)
{
	char name[300], target[300];
	memset(name, 'n', 250);
	strcpy(name + 250, "/end");
	memset(target, 't', 260);
	target[260] = '\0';
	tb_gnu_long(t, 'L', name);
	tb_gnu_long(t, 'K', target);
	tb_file(t, &(struct tb_hdr){ .name = "short", .type = '2', .link = "short", .gnu = 1 },
		NULL, 0);
	tb_end(t);
}

static void b_pax(struct tb *t)
{
	const struct tb_rec recs[] = {
		{ "path", "pax/\xc3\xa9t\xc3\xa9.txt", 0 },
		{ "uid", "4000000", 0 },
		{ "gid", "5000000", 0 },
		{ "mtime", "1700000000.25", 0 },
		{ "SCHILY.xattr.user.bin", "a\0b", 3 },
		{ "SCHILY.xattr.security.capability", "\x01\x00\x00\x02", 4 },
		{ "comment", "ignored", 0 },
		{ "uname", "ignored-too", 0 },
	};
	tb_pax(t, 'x', recs, KILN_ARRAY_SIZE(recs));
	tb_file(t, &(struct tb_hdr){ .name = "short-name", .type = '0' }, "data", 4);
	tb_end(t);
}

static void b_pax_global(struct tb *t)
{
	tb_pax(t, 'g', (const struct tb_rec[]){ { "comment", "git commit abc", 0 } }, 1);
	tb_file(t, &(struct tb_hdr){ .name = "after-global", .type = '0' }, "g", 1);
	tb_end(t);
}

static void b_pax_size(struct tb *t)
{
	/* the PAX size wins over the header's size field */
	tb_pax(t, 'x', (const struct tb_rec[]){ { "size", "3", 0 } }, 1);
	struct tb_hdr h = { .name = "sized", .type = '0', .size = 999 };
	tb_header(t, &h);
	tb_raw(t, "abc", 3);
	tb_pad(t);
	tb_end(t);
}

static void b_pax_negative_mtime(struct tb *t)
{
	tb_pax(t, 'x', (const struct tb_rec[]){ { "mtime", "-1.5", 0 } }, 1);
	tb_file(t, &(struct tb_hdr){ .name = "old", .type = '0' }, NULL, 0);
	tb_end(t);
}

static void b_base256(struct tb *t)
{
	tb_file(t,
		&(struct tb_hdr){
			.name = "big-uid", .type = '0', .uid = 70000000, .base256_uid = 1 },
		NULL, 0);
	tb_end(t);
}

static void b_v7(struct tb *t)
{
	tb_file(t, &(struct tb_hdr){ .name = "v7dir/", .type = '\0', .v7 = 1, .mode = 0755 }, NULL,
		0);
	tb_file(t, &(struct tb_hdr){ .name = "v7dir/file", .type = '\0', .v7 = 1 }, "v", 1);
	tb_end(t);
}

static void b_signed_checksum(struct tb *t)
{
	tb_file(t, &(struct tb_hdr){ .name = "\xe9t\xe9", .type = '0', .signed_checksum = 1 }, NULL,
		0);
	tb_end(t);
}

static void b_one_zero_block(struct tb *t)
{
	tb_file(t, &(struct tb_hdr){ .name = "a", .type = '0' }, "1", 1);
	tb_zeros(t, 512);
}

static void b_no_end(struct tb *t)
{
	tb_file(t, &(struct tb_hdr){ .name = "a", .type = '0' }, "1", 1);
}

static void b_bad_checksum(struct tb *t)
{
	tb_file(t, &(struct tb_hdr){ .name = "a", .type = '0', .bad_checksum = 1 }, NULL, 0);
	tb_end(t);
}

static void b_truncated_data(struct tb *t)
{
	struct tb_hdr h = { .name = "a", .type = '0', .size = 4096 };
	tb_header(t, &h);
	tb_raw(t, "short", 5);
}

static void b_truncated_header(struct tb *t)
{
	tb_file(t, &(struct tb_hdr){ .name = "a", .type = '0' }, NULL, 0);
	tb_raw(t, "garbage", 7);
}

static void b_data_after_zero(struct tb *t)
{
	tb_zeros(t, 512);
	tb_file(t, &(struct tb_hdr){ .name = "a", .type = '0' }, NULL, 0);
	tb_end(t);
}

static void b_unsupported_type(struct tb *t)
{
	tb_file(t, &(struct tb_hdr){ .name = "volume", .type = 'V' }, NULL, 0);
	tb_end(t);
}

static void b_pax_malformed(struct tb *t)
{
	struct tb_hdr h = { .name = "x", .type = 'x' };
	tb_file(t, &h, "99 path=a\n", 10);
	tb_file(t, &(struct tb_hdr){ .name = "a", .type = '0' }, NULL, 0);
	tb_end(t);
}

static void b_pax_nul_path(struct tb *t)
{
	tb_pax(t, 'x', (const struct tb_rec[]){ { "path", "a\0b", 3 } }, 1);
	tb_file(t, &(struct tb_hdr){ .name = "a", .type = '0' }, NULL, 0);
	tb_end(t);
}

static void b_pax_then_eof(struct tb *t)
{
	tb_pax(t, 'x', (const struct tb_rec[]){ { "path", "dangling", 0 } }, 1);
	tb_end(t);
}

static void b_empty_name(struct tb *t)
{
	tb_file(t, &(struct tb_hdr){ .name = "", .type = '0' }, NULL, 0);
	tb_end(t);
}

static void b_link_no_target(struct tb *t)
{
	tb_file(t, &(struct tb_hdr){ .name = "l", .type = '2' }, NULL, 0);
	tb_end(t);
}

static void b_uid_range(struct tb *t)
{
	tb_pax(t, 'x', (const struct tb_rec[]){ { "uid", "4294967295", 0 } }, 1);
	tb_file(t, &(struct tb_hdr){ .name = "a", .type = '0' }, NULL, 0);
	tb_end(t);
}

static void b_dir_size_no_data(struct tb *t)
{
	/* Go's rule: directories, links and devices carry no data whatever their size says */
	struct tb_hdr h = { .name = "d/", .type = '5', .size = 512 };
	tb_header(t, &h);
	tb_file(t, &(struct tb_hdr){ .name = "d/f", .type = '0' }, "f", 1);
	tb_end(t);
}

static void b_empty_stream(struct tb *t)
{
	(void) t;
}

static void b_only_end(struct tb *t)
{
	tb_end(t);
}

static void test_reader_table(void)
{
	static const struct {
		const char *what;
		void (*build)(struct tb *);
		int rc;
		const char *want; /* listing, or a substring of the error */
	} cases[] = {
		{ "ustar types, modes, owners, devices", b_plain, 0,
		  "d etc/ 0755 0:0 0 100\n"
		  "- etc/hosts 0644 1:2 10 200 [127.0.0.1\n]\n"
		  "l lnk -> etc/hosts 0777 0:0 0 0\n"
		  "h hard -> etc/hosts 0644 0:0 0 0\n"
		  "c null 0666 0:0 0 0 dev=1,3\n"
		  "b sda 0660 0:0 0 0 dev=8,0\n"
		  "p fifo 0600 0:0 0 0\n"
		  "- suid 4755 0:0 1 0 [x]\n" },
		{ "ustar prefix joins the name", b_prefix, 0,
		  "- very/long/prefix/file.txt 0644 0:0 1 0 [p]\n" },
		{ "PAX path, ids, mtime and binary xattrs", b_pax, 0,
		  "- pax/\xc3\xa9t\xc3\xa9.txt 0644 4000000:5000000 4 1700000000"
		  " x:user.bin=610062 x:security.capability=01000002 [data]\n" },
		{ "PAX global header skipped", b_pax_global, 0,
		  "- after-global 0644 0:0 1 0 [g]\n" },
		{ "PAX size overrides the header", b_pax_size, 0, "- sized 0644 0:0 3 0 [abc]\n" },
		{ "PAX negative fractional mtime", b_pax_negative_mtime, 0,
		  "- old 0644 0:0 0 -2 []\n" },
		{ "base-256 uid", b_base256, 0, "- big-uid 0644 70000000:0 0 0 []\n" },
		{ "V7 headers, NUL type with slash is a dir", b_v7, 0,
		  "d v7dir/ 0755 0:0 0 0\n- v7dir/file 0644 0:0 1 0 [v]\n" },
		{ "signed checksum accepted", b_signed_checksum, 0,
		  "- \xe9t\xe9 0644 0:0 0 0 []\n" },
		{ "one zero block then EOF ends the archive", b_one_zero_block, 0,
		  "- a 0644 0:0 1 0 [1]\n" },
		{ "EOF at a header boundary ends the archive", b_no_end, 0,
		  "- a 0644 0:0 1 0 [1]\n" },
		{ "directory size carries no data", b_dir_size_no_data, 0,
		  "d d/ 0644 0:0 0 0\n- d/f 0644 0:0 1 0 [f]\n" },
		{ "empty stream is an empty layer", b_empty_stream, 0, "" },
		{ "end marker only", b_only_end, 0, "" },
		{ "bad checksum", b_bad_checksum, -KILN_EPARSE, "bad header checksum" },
		{ "truncated data", b_truncated_data, -KILN_EPARSE, "truncated" },
		{ "truncated header", b_truncated_header, -KILN_EPARSE, "truncated header" },
		{ "data after the end marker", b_data_after_zero, -KILN_EPARSE, "end-of-archive" },
		{ "unsupported type", b_unsupported_type, -KILN_EPARSE,
		  "unsupported entry type 'V'" },
		{ "malformed PAX record", b_pax_malformed, -KILN_EPARSE, "malformed PAX record" },
		{ "NUL in PAX path", b_pax_nul_path, -KILN_EPARSE, "NUL" },
		{ "PAX header then end", b_pax_then_eof, -KILN_EPARSE, "after an extended header" },
		{ "empty name", b_empty_name, -KILN_EPARSE, "empty name" },
		{ "symlink without target", b_link_no_target, -KILN_EPARSE, "without a target" },
		{ "uid -1 refused", b_uid_range, -KILN_EPARSE, "uid 4294967295 out of range" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct tb t = { 0 };
		cases[i].build(&t);
		struct kiln_error err = KILN_ERROR_INIT;
		char *list = NULL;
		int r = read_all(t.data, t.len, NULL, &list, &err);
		if (cases[i].rc == 0) {
			if (r != 0)
				tap_diag("error: %s", err.msg ? err.msg : "?");
			TAP_STR_EQ(r == 0 ? list : "(failed)", cases[i].want, "read: %s",
				   cases[i].what);
		} else {
			int ok = r == cases[i].rc && err.msg && strstr(err.msg, cases[i].want) &&
				 strstr(err.msg, "tar entry");
			if (!ok)
				tap_diag("rc %d, error: %s", r, err.msg ? err.msg : "(none)");
			TAP_OK(ok, "refused: %s", cases[i].what);
		}
		free(list);
		kiln_error_release(&err);
		tb_free(&t);
	}
}

/* ---------------------------------------------------------------------- */
/* Sparse files                                                            */
/* ---------------------------------------------------------------------- */

/* Logical content of the test sparse file: "AAAA" at 0, "BB" at 10000, size 20000. */
static int check_sparse_content(const void *tar, size_t len, const char *what)
{
	int fd = mem_fd(tar, len);
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_layer_reader *r = NULL;
	int ok = kiln_layer_reader_new(fd, NULL, &r, &err) == 0;
	const struct kiln_tar_entry *e = NULL;
	ok = ok && kiln_layer_reader_next(r, &e, &err) == 1;
	ok = ok && e->size == 20000 && strcmp(e->path, "sparse") == 0;
	unsigned char *flat = calloc(1, 20001);
	size_t total = 0, got = 1;
	while (ok && got) {
		ok = kiln_layer_reader_read(r, flat + total, 20001 - total, &got, &err) == 0;
		total += got;
	}
	int content = ok && total == 20000 && memcmp(flat, "AAAA", 4) == 0 &&
		      memcmp(flat + 10000, "BB", 2) == 0 && flat[4] == 0 && flat[9999] == 0 &&
		      flat[19999] == 0;
	if (!ok)
		tap_diag("%s: %s", what, err.msg ? err.msg : "short");
	TAP_OK(content, "sparse %s: flat read has data and zero holes", what);
	free(flat);
	kiln_layer_reader_free(r);
	kiln_error_release(&err);
	close(fd);

	/* the segment reader gives the data with its offsets */
	fd = mem_fd(tar, len);
	r = NULL;
	ok = kiln_layer_reader_new(fd, NULL, &r, &err) == 0 &&
	     kiln_layer_reader_next(r, &e, &err) == 1;
	char seen[64] = "";
	for (;;) {
		uint64_t off;
		size_t n;
		char b[16];
		if (!ok || kiln_layer_reader_read_sparse(r, b, sizeof(b), &off, &n, &err) < 0) {
			ok = 0;
			break;
		}
		if (!n)
			break;
		snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%llu:%.*s ",
			 (unsigned long long) off, (int) n, b);
	}
	TAP_STR_EQ(ok ? seen : "(failed)", "0:AAAA 10000:BB ", "sparse %s: segments", what);
	ok = ok && kiln_layer_reader_next(r, &e, &err) == 0 &&
	     kiln_layer_reader_finish(r, NULL, &err) == 0;
	TAP_OK(ok, "sparse %s: archive ends cleanly", what);
	kiln_layer_reader_free(r);
	kiln_error_release(&err);
	close(fd);
	return 0;
}

static void put_octal(unsigned char *f, size_t n, unsigned long long v)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%0*llo", (int) (n - 1), v);
	memcpy(f, tmp, n - 1);
}

static void fix_checksum(unsigned char *b)
{
	memset(b + 148, ' ', 8);
	unsigned s = 0;
	for (int i = 0; i < 512; i++)
		s += b[i];
	char ck[8];
	snprintf(ck, sizeof(ck), "%06o", s);
	memcpy(b + 148, ck, 7);
}

static void test_sparse(void)
{
	/* old GNU 'S': one entry in the header, one in an extension block */
	struct tb t = { 0 };
	tb_header(&t, &(struct tb_hdr){ .name = "sparse", .type = 'S', .size = 6, .gnu = 1 });
	unsigned char *h = t.data;
	put_octal(h + 386, 12, 0);
	put_octal(h + 398, 12, 4);
	h[482] = 1; /* isextended */
	put_octal(h + 483, 12, 20000);
	fix_checksum(h);
	unsigned char ext[512] = { 0 };
	put_octal(ext, 12, 10000);
	put_octal(ext + 12, 12, 2);
	tb_raw(&t, ext, 512);
	tb_raw(&t, "AAAABB", 6);
	tb_pad(&t);
	tb_end(&t);
	check_sparse_content(t.data, t.len, "GNU old format");
	tb_free(&t);

	/* PAX 0.1: GNU.sparse.map */
	const struct tb_rec r01[] = {
		{ "GNU.sparse.major", "0", 0 },		{ "GNU.sparse.minor", "1", 0 },
		{ "GNU.sparse.name", "sparse", 0 },	{ "GNU.sparse.size", "20000", 0 },
		{ "GNU.sparse.map", "0,4,10000,2", 0 },
	};
	tb_pax(&t, 'x', r01, KILN_ARRAY_SIZE(r01));
	tb_file(&t, &(struct tb_hdr){ .name = "GNUSparseFile.0/sparse", .type = '0' }, "AAAABB", 6);
	tb_end(&t);
	check_sparse_content(t.data, t.len, "PAX 0.1");
	tb_free(&t);

	/* PAX 1.0: the map heads the data */
	const struct tb_rec r10[] = {
		{ "GNU.sparse.major", "1", 0 },
		{ "GNU.sparse.minor", "0", 0 },
		{ "GNU.sparse.name", "sparse", 0 },
		{ "GNU.sparse.realsize", "20000", 0 },
	};
	tb_pax(&t, 'x', r10, KILN_ARRAY_SIZE(r10));
	unsigned char data[512 + 6] = { 0 };
	memcpy(data, "2\n0\n4\n10000\n2\n", 14);
	memcpy(data + 512, "AAAABB", 6);
	tb_file(&t, &(struct tb_hdr){ .name = "GNUSparseFile.0/sparse", .type = '0' }, data,
		sizeof(data));
	tb_end(&t);
	check_sparse_content(t.data, t.len, "PAX 1.0");
	tb_free(&t);

	/* a map that claims more data than stored */
	const struct tb_rec bad[] = {
		{ "GNU.sparse.major", "0", 0 },
		{ "GNU.sparse.minor", "1", 0 },
		{ "GNU.sparse.size", "100", 0 },
		{ "GNU.sparse.map", "0,50", 0 },
	};
	tb_pax(&t, 'x', bad, KILN_ARRAY_SIZE(bad));
	tb_file(&t, &(struct tb_hdr){ .name = "s", .type = '0' }, "xx", 2);
	tb_end(&t);
	struct kiln_error err = KILN_ERROR_INIT;
	char *list = NULL;
	int rc = read_all(t.data, t.len, NULL, &list, &err);
	TAP_OK(rc == -KILN_EPARSE && strstr(err.msg, "sparse map"),
	       "sparse map not matching the data refused");
	free(list);
	kiln_error_release(&err);
	tb_free(&t);

	/* segments out of order */
	const struct tb_rec unordered[] = {
		{ "GNU.sparse.size", "100", 0 },
		{ "GNU.sparse.map", "50,1,0,1", 0 },
	};
	tb_pax(&t, 'x', unordered, KILN_ARRAY_SIZE(unordered));
	tb_file(&t, &(struct tb_hdr){ .name = "s", .type = '0' }, "xx", 2);
	tb_end(&t);
	rc = read_all(t.data, t.len, NULL, &list, &err);
	TAP_OK(rc == -KILN_EPARSE && strstr(err.msg, "invalid sparse map"),
	       "unordered sparse map refused");
	free(list);
	kiln_error_release(&err);
	tb_free(&t);
}

/* ---------------------------------------------------------------------- */
/* Limits                                                                  */
/* ---------------------------------------------------------------------- */

static void test_limits(void)
{
	struct tb t = { 0 };
	struct kiln_error err = KILN_ERROR_INIT;
	char *list = NULL;
	int rc;

	for (int i = 0; i < 11; i++) {
		char n[16];
		snprintf(n, sizeof(n), "f%d", i);
		tb_file(&t, &(struct tb_hdr){ .name = n, .type = '0' }, NULL, 0);
	}
	tb_end(&t);
	rc = read_all(t.data, t.len, &(struct kiln_layer_limits){ .max_entries = 10 }, &list, &err);
	TAP_OK(rc == -KILN_ELIMIT && strstr(err.msg, "more than 10 entries"), "entry count limit");
	free(list);
	kiln_error_release(&err);
	rc = read_all(t.data, t.len, &(struct kiln_layer_limits){ .max_entries = 11 }, &list, &err);
	TAP_OK(rc == 0, "entry count at the limit is fine");
	free(list);
	list = NULL;
	kiln_error_release(&err);
	tb_free(&t);

	char longname[76];
	memset(longname, 'a', 75);
	longname[75] = '\0';
	tb_gnu_long(&t, 'L', longname);
	tb_file(&t, &(struct tb_hdr){ .name = "x", .type = '0' }, NULL, 0);
	tb_end(&t);
	rc = read_all(t.data, t.len, &(struct kiln_layer_limits){ .max_path = 64 }, &list, &err);
	TAP_OK(rc == -KILN_ELIMIT && strstr(err.msg, "name of 75 bytes"), "path length limit");
	free(list);
	list = NULL;
	kiln_error_release(&err);
	tb_free(&t);

	/* a header that declares a huge size: refused before any data is read */
	tb_header(&t, &(struct tb_hdr){ .name = "huge", .type = '0', .size = 07777777777 });
	tb_end(&t);
	rc = read_all(t.data, t.len, &(struct kiln_layer_limits){ .max_entry_size = 1 << 20 },
		      &list, &err);
	TAP_OK(rc == -KILN_ELIMIT && strstr(err.msg, "'huge'") &&
		       strstr(err.msg, "exceeds the limit"),
	       "entry size limit names the entry");
	free(list);
	list = NULL;
	kiln_error_release(&err);
	tb_free(&t);

	tb_file(&t, &(struct tb_hdr){ .name = "a", .type = '0' }, "12345678", 8);
	tb_file(&t, &(struct tb_hdr){ .name = "b", .type = '0' }, "12345678", 8);
	tb_end(&t);
	rc = read_all(t.data, t.len, &(struct kiln_layer_limits){ .max_total_size = 12 }, &list,
		      &err);
	TAP_OK(rc == -KILN_ELIMIT && strstr(err.msg, "in total"), "total size limit");
	free(list);
	list = NULL;
	kiln_error_release(&err);
	tb_free(&t);

	struct tb_rec xs[5];
	char keys[5][32];
	for (int i = 0; i < 5; i++) {
		snprintf(keys[i], sizeof(keys[i]), "SCHILY.xattr.user.k%d", i);
		xs[i] = (struct tb_rec){ keys[i], "v", 0 };
	}
	tb_pax(&t, 'x', xs, 5);
	tb_file(&t, &(struct tb_hdr){ .name = "x", .type = '0' }, NULL, 0);
	tb_end(&t);
	rc = read_all(t.data, t.len, &(struct kiln_layer_limits){ .max_xattrs = 4 }, &list, &err);
	TAP_OK(rc == -KILN_ELIMIT && strstr(err.msg, "more than 4 xattrs"), "xattr count limit");
	free(list);
	list = NULL;
	kiln_error_release(&err);
	tb_free(&t);

	char big[3000];
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tb_pax(&t, 'x', (const struct tb_rec[]){ { "SCHILY.xattr.user.big", big, 0 } }, 1);
	tb_file(&t, &(struct tb_hdr){ .name = "x", .type = '0' }, NULL, 0);
	tb_end(&t);
	rc = read_all(t.data, t.len, &(struct kiln_layer_limits){ .max_xattr_value = 1024 }, &list,
		      &err);
	TAP_OK(rc == -KILN_ELIMIT && strstr(err.msg, "user.big"), "xattr value size limit");
	free(list);
	kiln_error_release(&err);
	rc = read_all(t.data, t.len, &(struct kiln_layer_limits){ .max_pax_header = 2048 }, &list,
		      &err);
	TAP_OK(rc == -KILN_ELIMIT && strstr(err.msg, "extended header"), "PAX header size limit");
	free(list);
	list = NULL;
	kiln_error_release(&err);
	tb_free(&t);

	const struct tb_rec many[] = {
		{ "GNU.sparse.size", "100", 0 },
		{ "GNU.sparse.map", "0,1,2,1,4,1", 0 },
	};
	tb_pax(&t, 'x', many, 2);
	tb_file(&t, &(struct tb_hdr){ .name = "s", .type = '0' }, "abc", 3);
	tb_end(&t);
	rc = read_all(t.data, t.len, &(struct kiln_layer_limits){ .max_sparse = 2 }, &list, &err);
	TAP_OK(rc == -KILN_ELIMIT && strstr(err.msg, "sparse segments"), "sparse segment limit");
	free(list);
	kiln_error_release(&err);
	tb_free(&t);
}

static void test_gnu_long(void)
{
	struct tb t = { 0 };
	b_gnu_long(&t);
	struct kiln_error err = KILN_ERROR_INIT;
	char *list = NULL;
	int r = read_all(t.data, t.len, NULL, &list, &err);
	char want[700];
	char n[251], l[261];
	memset(n, 'n', 250);
	n[250] = '\0';
	memset(l, 't', 260);
	l[260] = '\0';
	snprintf(want, sizeof(want), "l %s/end -> %s 0644 0:0 0 0\n", n, l);
	TAP_STR_EQ(r == 0 ? list : "(failed)", want, "read: GNU long name and long link");
	free(list);
	kiln_error_release(&err);
	tb_free(&t);
}

int main(void)
{
	test_compression_table();
	test_reader_table();
	test_sparse();
	test_limits();
	test_gnu_long();
	return tap_done();
}
