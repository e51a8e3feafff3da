/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layer module, compression: the writer's gzip and zstd (checked by
 * decompressing with zlib and libzstd directly), both digests against
 * independent SHA-256s of the bytes, chunk boundaries of the parallel-ready
 * gzip, reading gzip (multi-member), zstd, bzip2, xz and plain tar, corrupt
 * and truncated streams, digest verification, re-compression and the
 * archive test of ADD.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "base/base.h"
#include "layer/internal.h"
#include "layer/layer.h"
#include "layer-util.h"
#include "tap.h"

struct blob {
	unsigned char *data;
	size_t len;
	struct kiln_layer_digests d;
};

static void blob_free(struct blob *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Pseudo-random bytes (xorshift), with runs so that compression has work to do. */
static void fill(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char r = (unsigned char) xorshift(&x);
		p[i] = (i / 4096) % 3 == 0 ? (unsigned char) (i % 61) : r;
	}
}

/* Pseudo-random bytes only: what a compressed file holds. */
static void fill_random(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char) (xorshift(&x) >> 24);
}

/* A layer with files of the given sizes and contents, written through the low-level writer. */
static int make_layer_of(const size_t *sizes, size_t n, enum kiln_compression c, int level,
			 void (*filler)(unsigned char *, size_t, uint64_t), struct blob *out)
{
	int fd = mem_fd(NULL, 0);
	struct kiln_layer_write_opts o = { .compression = c, .level = level };
	struct kiln_layer_writer *w = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_layer_writer_new(fd, &o, &w, &err);
	for (size_t i = 0; i < n && r == 0; i++) {
		char name[32];
		snprintf(name, sizeof(name), "file%zu", i);
		struct kiln_tar_entry e = { .type = KILN_TAR_REG,
					    .path = name,
					    .mode = 0644,
					    .size = sizes[i],
					    .mtime = 1700000000 };
		r = kiln_layer_writer_add(w, &e, &err);
		unsigned char *data = malloc(sizes[i] ? sizes[i] : 1);
		filler(data, sizes[i], i + 7);
		/* odd write sizes, to cross chunk boundaries mid-call */
		for (size_t off = 0; r == 0 && off < sizes[i];) {
			size_t k = sizes[i] - off < 77777 ? sizes[i] - off : 77777;
			r = kiln_layer_writer_write_data(w, data + off, k, &err);
			off += k;
		}
		free(data);
	}
	if (r == 0)
		r = kiln_layer_writer_finish(w, &out->d, &err);
	kiln_layer_writer_free(w);
	if (r < 0)
		tap_diag("make_layer: %s", err.msg);
	kiln_error_release(&err);
	out->data = r == 0 ? fd_bytes(fd, &out->len) : NULL;
	close(fd);
	return r;
}

static int make_layer(const size_t *sizes, size_t n, enum kiln_compression c, int level,
		      struct blob *out)
{
	return make_layer_of(sizes, n, c, level, fill, out);
}

static int sha_is(const void *data, size_t len, const struct kiln_digest *want)
{
	struct kiln_digest d;
	if (kiln_sha256_buf(data, len, &d, NULL) < 0)
		return 0;
	return kiln_digest_equal(&d, want);
}

static unsigned char *gunzip(const unsigned char *in, size_t len, size_t cap, size_t *ret_len)
{
	unsigned char *out = malloc(cap);
	z_stream z = { 0 };
	if (inflateInit2(&z, 31) != Z_OK)
		return NULL;
	z.next_in = (unsigned char *) in;
	z.avail_in = (uInt) len;
	z.next_out = out;
	z.avail_out = (uInt) cap;
	int r = inflate(&z, Z_FINISH);
	*ret_len = cap - z.avail_out;
	int ok = r == Z_STREAM_END && z.avail_in == 0;
	inflateEnd(&z);
	if (!ok) {
		free(out);
		return NULL;
	}
	return out;
}

static unsigned char *gzip_member(const unsigned char *in, size_t len, size_t *ret_len)
{
	z_stream z = { 0 };
	deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
	size_t cap = deflateBound(&z, (uLong) len) + 64;
	unsigned char *out = malloc(cap);
	z.next_in = (unsigned char *) in;
	z.avail_in = (uInt) len;
	z.next_out = out;
	z.avail_out = (uInt) cap;
	deflate(&z, Z_FINISH);
	*ret_len = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

/* Read a blob with kiln's reader to the end; its digests. */
static int read_blob(const void *data, size_t len, const struct kiln_layer_read_opts *o,
		     struct kiln_layer_digests *d, struct kiln_error *err)
{
	int fd = mem_fd(data, len);
	int r = kiln_layer_digest_fd(fd, o, d, err);
	close(fd);
	return r;
}

static void test_write_compressions(void)
{
	const size_t sizes[] = { 0, 1, 511, 512, 513, 100000, (3u << 20) + 12345 };
	struct blob none = { 0 }, gz = { 0 }, zs = { 0 };
	int ok = make_layer(sizes, KILN_ARRAY_SIZE(sizes), KILN_COMPRESSION_NONE, 0, &none) == 0 &&
		 make_layer(sizes, KILN_ARRAY_SIZE(sizes), KILN_COMPRESSION_GZIP, 0, &gz) == 0 &&
		 make_layer(sizes, KILN_ARRAY_SIZE(sizes), KILN_COMPRESSION_ZSTD, 0, &zs) == 0;
	TAP_OK(ok, "layer written uncompressed, gzip and zstd");
	if (!ok)
		return;
	TAP_OK(sha_is(none.data, none.len, &none.d.diff_id) &&
		       kiln_digest_equal(&none.d.diff_id, &none.d.digest) &&
		       none.d.size == none.len && none.d.uncompressed_size == none.len,
	       "uncompressed: diff_id = digest = sha256 of the bytes, sizes counted");
	TAP_OK(kiln_digest_equal(&gz.d.diff_id, &none.d.diff_id) &&
		       kiln_digest_equal(&zs.d.diff_id, &none.d.diff_id),
	       "gzip and zstd layers have the uncompressed tar's diff_id");
	TAP_OK(sha_is(gz.data, gz.len, &gz.d.digest) && gz.d.size == gz.len &&
		       gz.d.uncompressed_size == none.len && gz.len < none.len,
	       "gzip: digest = sha256 of the compressed bytes, sizes counted");
	TAP_OK(sha_is(zs.data, zs.len, &zs.d.digest) && zs.d.size == zs.len && zs.len < none.len,
	       "zstd: digest = sha256 of the compressed bytes");
	TAP_OK(gz.d.compression == KILN_COMPRESSION_GZIP &&
		       zs.d.compression == KILN_COMPRESSION_ZSTD,
	       "digests record the compression");

	static const unsigned char gz_head[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255 };
	TAP_OK(memcmp(gz.data, gz_head, 10) == 0, "gzip header fixed: no name, mtime 0, OS 255");
	size_t ulen = 0;
	unsigned char *u = gunzip(gz.data, gz.len, none.len + 1, &ulen);
	TAP_OK(u && ulen == none.len && memcmp(u, none.data, ulen) == 0,
	       "zlib inflates the gzip layer (one member, several chunks) to the tar");
	free(u);
	unsigned char *zu = malloc(none.len + 1);
	size_t zr = ZSTD_decompress(zu, none.len + 1, zs.data, zs.len);
	TAP_OK(!ZSTD_isError(zr) && zr == none.len && memcmp(zu, none.data, zr) == 0,
	       "libzstd decompresses the zstd layer to the tar");
	free(zu);

	struct kiln_layer_digests d;
	struct kiln_error err = KILN_ERROR_INIT;
	TAP_OK(read_blob(gz.data, gz.len, NULL, &d, &err) == 0 &&
		       kiln_digest_equal(&d.digest, &gz.d.digest) &&
		       kiln_digest_equal(&d.diff_id, &gz.d.diff_id) && d.size == gz.len &&
		       d.compression == KILN_COMPRESSION_GZIP,
	       "reading the gzip layer gives both digests");
	TAP_OK(read_blob(zs.data, zs.len, NULL, &d, &err) == 0 &&
		       kiln_digest_equal(&d.digest, &zs.d.digest) &&
		       kiln_digest_equal(&d.diff_id, &zs.d.diff_id),
	       "reading the zstd layer gives both digests");

	/* other levels: same tar, different bytes, still valid */
	struct blob g1 = { 0 }, g9 = { 0 };
	ok = make_layer(sizes, 4, KILN_COMPRESSION_GZIP, 1, &g1) == 0 &&
	     make_layer(sizes, 4, KILN_COMPRESSION_GZIP, 9, &g9) == 0;
	TAP_OK(ok && g1.data[8] == 4 && g9.data[8] == 2,
	       "gzip XFL byte follows the level (1: 4, 9: 2)");
	TAP_OK(ok && read_blob(g1.data, g1.len, NULL, &d, &err) == 0 &&
		       read_blob(g9.data, g9.len, NULL, NULL, &err) == 0,
	       "gzip levels 1 and 9 read back");
	blob_free(&g1);
	blob_free(&g9);

	/* bzip2, xz (read only), from the same tar */
	unsigned int bzlen = (unsigned int) (none.len + none.len / 50 + 1024);
	char *bz = malloc(bzlen);
	ok = BZ2_bzBuffToBuffCompress(bz, &bzlen, (char *) none.data, (unsigned) none.len, 9, 0,
				      0) == BZ_OK;
	TAP_OK(ok && read_blob(bz, bzlen, NULL, &d, &err) == 0 &&
		       d.compression == KILN_COMPRESSION_BZIP2 &&
		       kiln_digest_equal(&d.diff_id, &none.d.diff_id) &&
		       sha_is(bz, bzlen, &d.digest),
	       "bzip2 layer read: diff_id of the tar, digest of the bytes");
	free(bz);
	size_t xzcap = none.len + 65536, xzlen = 0;
	unsigned char *xz = malloc(xzcap);
	ok = lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, NULL, none.data, none.len, xz, &xzlen,
				     xzcap) == LZMA_OK;
	TAP_OK(ok && read_blob(xz, xzlen, NULL, &d, &err) == 0 &&
		       d.compression == KILN_COMPRESSION_XZ &&
		       kiln_digest_equal(&d.diff_id, &none.d.diff_id) &&
		       sha_is(xz, xzlen, &d.digest),
	       "xz layer read: diff_id of the tar, digest of the bytes");
	free(xz);

	/* gzip in two members, split mid-header */
	size_t l1, l2;
	unsigned char *m1 = gzip_member(none.data, 700, &l1);
	unsigned char *m2 = gzip_member(none.data + 700, none.len - 700, &l2);
	unsigned char *multi = malloc(l1 + l2);
	memcpy(multi, m1, l1);
	memcpy(multi + l1, m2, l2);
	TAP_OK(read_blob(multi, l1 + l2, NULL, &d, &err) == 0 &&
		       kiln_digest_equal(&d.diff_id, &none.d.diff_id),
	       "multi-member gzip reads as one stream");

	/* broken streams */
	struct {
		const char *what;
		const unsigned char *data;
		size_t len;
		const char *msg;
	} broken[] = {
		{ "truncated gzip", gz.data, gz.len - 9, "unexpected end of gzip" },
		{ "truncated zstd", zs.data, zs.len - 9, "zstd" },
		{ "gzip member cut in the second member", multi, l1 + l2 / 2,
		  "unexpected end of gzip" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(broken); i++) {
		int r = read_blob(broken[i].data, broken[i].len, NULL, &d, &err);
		TAP_OK(r == -KILN_EPARSE && strstr(err.msg, broken[i].msg), "refused: %s (%s)",
		       broken[i].what, err.msg ? err.msg : "no error");
		kiln_error_release(&err);
	}
	unsigned char *garbage = malloc(gz.len + 4);
	memcpy(garbage, gz.data, gz.len);
	memcpy(garbage + gz.len, "JUNK", 4);
	int r = read_blob(garbage, gz.len + 4, NULL, &d, &err);
	TAP_OK(r == -KILN_EPARSE && strstr(err.msg, "corrupt gzip"),
	       "bytes after the gzip stream refused");
	kiln_error_release(&err);
	memcpy(garbage, gz.data, gz.len);
	garbage[gz.len / 2] ^= 0x55;
	r = read_blob(garbage, gz.len, NULL, &d, &err);
	TAP_OK(r == -KILN_EPARSE, "a flipped byte in the gzip data refused");
	kiln_error_release(&err);
	free(garbage);
	free(m1);
	free(m2);
	free(multi);

	/* expected digests */
	struct kiln_layer_read_opts o = { .expect_digest = &gz.d.digest,
					  .expect_diff_id = &gz.d.diff_id };
	TAP_OK(read_blob(gz.data, gz.len, &o, NULL, &err) == 0,
	       "matching expected digests accepted");
	o.expect_digest = &zs.d.digest;
	r = read_blob(gz.data, gz.len, &o, NULL, &err);
	TAP_OK(r == -KILN_EDIGEST && strstr(err.msg, "digest mismatch") &&
		       strstr(err.msg, zs.d.digest.str) && strstr(err.msg, gz.d.digest.str),
	       "wrong blob digest: mismatch naming both digests");
	kiln_error_release(&err);
	o.expect_digest = NULL;
	o.expect_diff_id = &gz.d.digest;
	r = read_blob(gz.data, gz.len, &o, NULL, &err);
	TAP_OK(r == -KILN_EDIGEST && strstr(err.msg, "diff_id mismatch"), "wrong diff_id refused");
	kiln_error_release(&err);

	blob_free(&none);
	blob_free(&gz);
	blob_free(&zs);
}

static void test_chunk_boundaries(void)
{
	/* tar sizes at, just below and just above multiples of the gzip chunk */
	static const long deltas[] = { 0, -512, 512 };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(deltas); i++) {
		/* header + data + 1024 end bytes = 2 chunks + delta */
		size_t sz = 2 * GZIP_CHUNK + (size_t) deltas[i] - 512 - 1024;
		struct blob n = { 0 }, g = { 0 };
		int ok = make_layer(&sz, 1, KILN_COMPRESSION_NONE, 0, &n) == 0 &&
			 make_layer(&sz, 1, KILN_COMPRESSION_GZIP, 0, &g) == 0;
		size_t ulen = 0;
		unsigned char *u = ok ? gunzip(g.data, g.len, n.len + 1, &ulen) : NULL;
		TAP_OK(ok && n.len == 2 * GZIP_CHUNK + (size_t) deltas[i] && u && ulen == n.len &&
			       memcmp(u, n.data, ulen) == 0 &&
			       kiln_digest_equal(&g.d.diff_id, &n.d.diff_id),
		       "tar of 2 chunks %+ld bytes: gzip inflates to it", deltas[i]);
		free(u);
		blob_free(&n);
		blob_free(&g);
	}
}

static void test_worker_pool(void)
{
	/* past the first 4 MiB a layer's chunks go to worker threads (on a
	 * machine with two CPUs or more): the stream must stay one member that
	 * inflates to the tar, whichever thread deflated each chunk */
	const size_t sizes[] = { ((size_t) 9 << 20) + 4321, 70000 };
	struct blob n = { 0 }, g = { 0 };
	int ok = make_layer(sizes, 2, KILN_COMPRESSION_NONE, 0, &n) == 0 &&
		 make_layer(sizes, 2, KILN_COMPRESSION_GZIP, 1, &g) == 0;
	size_t ulen = 0;
	unsigned char *u = ok ? gunzip(g.data, g.len, n.len + 1, &ulen) : NULL;
	TAP_OK(ok && u && ulen == n.len && memcmp(u, n.data, ulen) == 0 &&
		       kiln_digest_equal(&g.d.diff_id, &n.d.diff_id),
	       "a 9 MiB layer deflated partly on workers inflates to its tar (%zu chunks)",
	       n.len / GZIP_CHUNK + 1);
	/* and its digests are those of its bytes, whichever thread deflated them */
	TAP_OK(ok && sha_is(n.data, n.len, &g.d.diff_id) && sha_is(g.data, g.len, &g.d.digest) &&
		       g.d.size == g.len,
	       "its diff_id and digest are the SHA-256s of the tar and of the gzip bytes");
	free(u);
	blob_free(&n);
	blob_free(&g);
}

/*
 * The stored blocks of a gzip member, walked with inflate(Z_BLOCK): at each
 * block boundary the next header is read from the input bits. `odd` counts
 * the stored blocks with data whose length is neither 65,535 nor the rest of
 * a chunk after two of those. 0 when the member inflates.
 */
struct stored_blocks {
	size_t longest, odd;
};

static int walk_stored_blocks(const unsigned char *in, size_t len, struct stored_blocks *ret)
{
	static unsigned char out[1 << 16];
	z_stream z = { 0 };
	*ret = (struct stored_blocks) { 0 };
	if (inflateInit2(&z, 31) != Z_OK)
		return -1;
	z.next_in = (unsigned char *) in;
	z.avail_in = (uInt) len;
	int r;
	for (;;) {
		z.next_out = out;
		z.avail_out = sizeof(out);
		r = inflate(&z, Z_BLOCK);
		if (r == Z_STREAM_END || (r != Z_OK && r != Z_BUF_ERROR) ||
		    (r == Z_BUF_ERROR && !z.avail_in))
			break;
		/* a boundary before a block: its 3 header bits start in the last
		 * byte read, in the top `unused` bits, deflate reading LSB first */
		if (!(z.data_type & 128) || (z.data_type & 64) || z.avail_in < 4)
			continue;
		unsigned unused = (unsigned) z.data_type & 7;
		const unsigned char *p = z.next_in;
		unsigned bits = (unused ? p[-1] >> (8 - unused) : 0) | (unsigned) p[0] << unused;
		if ((bits >> 1 & 3) != 0)
			continue; /* Huffman-coded */
		/* stored: the header's byte is done with, LEN follows */
		const unsigned char *lp = unused >= 3 ? p : p + 1;
		size_t n = (size_t) lp[0] | (size_t) lp[1] << 8;
		if (n > ret->longest)
			ret->longest = n;
		if (n && n != 65535 && n != GZIP_CHUNK - 2 * 65535)
			ret->odd++;
	}
	inflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -1;
}

static void test_stored_chunks(void)
{
	unsigned char *buf = malloc(GZIP_CHUNK);
	fill_random(buf, GZIP_CHUNK, 3);
	TAP_INT_EQ(kiln_layer_gz_chunk_level(buf, GZIP_CHUNK, 1), 0, "a random chunk is stored");
	TAP_INT_EQ(kiln_layer_gz_chunk_level(buf, 4095, 1), 1, "a short one is deflated");
	fill(buf, GZIP_CHUNK, 3);
	TAP_INT_EQ(kiln_layer_gz_chunk_level(buf, GZIP_CHUNK, 6), 6,
		   "a chunk with runs is deflated at its level");
	for (size_t i = 0; i < GZIP_CHUNK; i++)
		buf[i] = (unsigned char) "FROM busybox\nRUN make\n"[i % 22];
	TAP_INT_EQ(kiln_layer_gz_chunk_level(buf, GZIP_CHUNK, 1), 1, "text is deflated");
	memset(buf, 0, GZIP_CHUNK);
	TAP_INT_EQ(kiln_layer_gz_chunk_level(buf, GZIP_CHUNK, 1), 1, "zeros are deflated");
	free(buf);

	/* a random 9 MiB file: its chunks stored, on this thread (the first 4
	 * MiB) and on workers, each as two 65,535-byte blocks and the rest (zlib's
	 * level 1 ends a block every 16,383 literals, stored or not) */
	const size_t size = ((size_t) 9 << 20) + 999;
	struct blob n = { 0 }, g = { 0 };
	int ok = make_layer_of(&size, 1, KILN_COMPRESSION_NONE, 0, fill_random, &n) == 0 &&
		 make_layer_of(&size, 1, KILN_COMPRESSION_GZIP, 1, fill_random, &g) == 0;
	size_t ulen = 0;
	unsigned char *u = ok ? gunzip(g.data, g.len, n.len + 1, &ulen) : NULL;
	TAP_OK(ok && u && ulen == n.len && memcmp(u, n.data, ulen) == 0 &&
		       sha_is(n.data, n.len, &g.d.diff_id) && sha_is(g.data, g.len, &g.d.digest),
	       "a layer of random bytes inflates to its tar, digests right");
	struct stored_blocks sb = { 0 };
	int walked = ok && walk_stored_blocks(g.data, g.len, &sb) == 0;
	TAP_OK(walked && sb.longest == 65535 && sb.odd <= 2,
	       "its chunks are stored in blocks of 65,535 bytes (longest %zu, %zu others)",
	       sb.longest, sb.odd);
	free(u);
	blob_free(&n);
	blob_free(&g);

	/* a layer with runs keeps level 1's blocks */
	ok = make_layer(&size, 1, KILN_COMPRESSION_GZIP, 1, &g) == 0;
	walked = ok && walk_stored_blocks(g.data, g.len, &sb) == 0;
	TAP_OK(walked && sb.longest < 32768,
	       "a compressible layer is deflated (longest stored block %zu)", sb.longest);
	blob_free(&g);
}

static void test_recompress(void)
{
	const size_t sizes[] = { 10, 200000 };
	struct blob gz = { 0 };
	if (make_layer(sizes, 2, KILN_COMPRESSION_GZIP, 0, &gz) < 0)
		return;
	int in = mem_fd(gz.data, gz.len), out = mem_fd(NULL, 0);
	struct kiln_layer_write_opts w = { .compression = KILN_COMPRESSION_ZSTD };
	struct kiln_layer_digests din, dout;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_layer_recompress(in, out, NULL, &w, &din, &dout, &err);
	size_t len = 0;
	unsigned char *b = r == 0 ? fd_bytes(out, &len) : NULL;
	TAP_OK(r == 0 && kiln_digest_equal(&din.digest, &gz.d.digest) &&
		       kiln_digest_equal(&dout.diff_id, &gz.d.diff_id) &&
		       dout.compression == KILN_COMPRESSION_ZSTD && b &&
		       sha_is(b, len, &dout.digest) && dout.size == len,
	       "gzip -> zstd: same diff_id, digest of the new bytes");
	free(b);
	close(in);
	close(out);

	in = mem_fd("this is not a tar archive, just some text that is long enough", 62);
	out = mem_fd(NULL, 0);
	r = kiln_layer_recompress(in, out, NULL, &w, NULL, NULL, &err);
	TAP_OK(r == -KILN_EPARSE, "re-compressing a non-tar refused");
	kiln_error_release(&err);
	close(in);
	close(out);
	blob_free(&gz);
}

static void test_is_archive(void)
{
	const size_t sizes[] = { 10 };
	struct blob t = { 0 }, g = { 0 };
	make_layer(sizes, 1, KILN_COMPRESSION_NONE, 0, &t);
	make_layer(sizes, 1, KILN_COMPRESSION_GZIP, 0, &g);
	char text[1024];
	memset(text, 'x', sizeof(text));
	size_t gtl;
	unsigned char *gzipped_text = gzip_member((unsigned char *) text, sizeof(text), &gtl);
	static const unsigned char empty_tar[1024];
	struct {
		const char *what;
		const void *data;
		size_t len;
		int want;
	} cases[] = {
		{ "a tar", t.data, t.len, 1 },
		{ "a gzipped tar", g.data, g.len, 1 },
		{ "text", text, sizeof(text), 0 },
		{ "gzipped text", gzipped_text, gtl, 0 },
		{ "an empty file", "", 0, 0 },
		{ "a tar with no entries", empty_tar, sizeof(empty_tar), 0 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		int fd = mem_fd(cases[i].data, cases[i].len);
		TAP_INT_EQ(kiln_layer_is_archive(fd, NULL), cases[i].want, "is_archive: %s",
			   cases[i].what);
		close(fd);
	}
	free(gzipped_text);
	blob_free(&t);
	blob_free(&g);
}

int main(void)
{
	test_write_compressions();
	test_chunk_boundaries();
	test_worker_pool();
	test_stored_chunks();
	test_recompress();
	test_is_archive();
	return tap_done();
}
