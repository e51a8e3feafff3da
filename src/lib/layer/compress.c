/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compression names and detection, limits, and the output pipeline: tar
 * bytes are hashed (diff_id), compressed, hashed again (digest) and written
 * to the fd through one buffer, in a single pass.
 */
#include <errno.h>
#include <string.h>

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include "layer/internal.h"

const char *kiln_compression_name(enum kiln_compression c)
{
	switch (c) {
	case KILN_COMPRESSION_NONE:
		return "none";
	case KILN_COMPRESSION_GZIP:
		return "gzip";
	case KILN_COMPRESSION_ZSTD:
		return "zstd";
	case KILN_COMPRESSION_BZIP2:
		return "bzip2";
	case KILN_COMPRESSION_XZ:
		return "xz";
	}
	return "unknown";
}

int kiln_compression_parse(const char *s, enum kiln_compression *ret, struct kiln_error *err)
{
	static const struct {
		const char *name;
		enum kiln_compression c;
	} names[] = {
		{ "none", KILN_COMPRESSION_NONE },   { "uncompressed", KILN_COMPRESSION_NONE },
		{ "gzip", KILN_COMPRESSION_GZIP },   { "zstd", KILN_COMPRESSION_ZSTD },
		{ "bzip2", KILN_COMPRESSION_BZIP2 }, { "xz", KILN_COMPRESSION_XZ },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(names); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*ret = names[i].c;
			return 0;
		}
	}
	return kiln_fail(err, KILN_EINVAL, 0, "unknown compression '%s' (want gzip, zstd or none)",
			 s);
}

enum kiln_compression kiln_compression_detect(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return KILN_COMPRESSION_GZIP;
	if (len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
		return KILN_COMPRESSION_ZSTD;
	if (len >= 3 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h')
		return KILN_COMPRESSION_BZIP2;
	if (len >= 6 && memcmp(p,
			       "\xfd"
			       "7zXZ\0",
			       6) == 0)
		return KILN_COMPRESSION_XZ;
	return KILN_COMPRESSION_NONE;
}

const char *kiln_layer_media_type(enum kiln_compression c, int docker)
{
	switch (c) {
	case KILN_COMPRESSION_NONE:
		return docker ? "application/vnd.docker.image.rootfs.diff.tar"
			      : "application/vnd.oci.image.layer.v1.tar";
	case KILN_COMPRESSION_GZIP:
		return docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
			      : "application/vnd.oci.image.layer.v1.tar+gzip";
	case KILN_COMPRESSION_ZSTD:
		return docker ? NULL : "application/vnd.oci.image.layer.v1.tar+zstd";
	case KILN_COMPRESSION_BZIP2:
	case KILN_COMPRESSION_XZ:
		break;
	}
	return NULL;
}

void kiln_layer_limits_resolve(const struct kiln_layer_limits *in, struct kiln_layer_limits *out)
{
	struct kiln_layer_limits l = { 0 };
	if (in)
		l = *in;
	if (!l.max_entries)
		l.max_entries = KILN_LAYER_MAX_ENTRIES_DEFAULT;
	if (!l.max_entry_size)
		l.max_entry_size = KILN_LAYER_MAX_ENTRY_SIZE_DEFAULT;
	if (!l.max_total_size)
		l.max_total_size = KILN_LAYER_MAX_TOTAL_SIZE_DEFAULT;
	if (!l.max_path)
		l.max_path = KILN_LAYER_MAX_PATH_DEFAULT;
	if (!l.max_xattrs)
		l.max_xattrs = KILN_LAYER_MAX_XATTRS_DEFAULT;
	if (!l.max_xattr_value)
		l.max_xattr_value = KILN_LAYER_MAX_XATTR_VALUE_DEFAULT;
	if (!l.max_pax_header)
		l.max_pax_header = KILN_LAYER_MAX_PAX_HEADER_DEFAULT;
	if (!l.max_sparse)
		l.max_sparse = KILN_LAYER_MAX_SPARSE_DEFAULT;
	*out = l;
}

/* ---------------------------------------------------------------------- */

#define OUT_BUF ((size_t) 256 * 1024)
#define ZOUT_BUF ((size_t) 128 * 1024)

struct kiln_layer_out {
	int fd;
	enum kiln_compression c;
	int level;
	struct kiln_sha256 *tar_hash;
	struct kiln_sha256 *blob_hash;
	uint64_t tar_bytes;
	uint64_t blob_bytes;

	unsigned char *buf; /* compressed bytes waiting for write() */
	size_t buf_len;

	/* gzip */
	z_stream z;
	int z_init;
	unsigned char *chunk;
	size_t chunk_len;
	unsigned char *dict;
	size_t dict_len;
	uint32_t crc;
	int gz_header_done;

	/* zstd */
	ZSTD_CCtx *zc;

	unsigned char *zout;
	int finished;
};

static int flush_fd(struct kiln_layer_out *p, struct kiln_error *err)
{
	if (p->buf_len == 0)
		return 0;
	int r = kiln_write_all(p->fd, p->buf, p->buf_len);
	if (r < 0)
		return kiln_fail(err, KILN_EIO, -r, "writing layer");
	p->buf_len = 0;
	return 0;
}

/* Compressed bytes: hash, count, buffer, write. */
static int emit(struct kiln_layer_out *p, const void *data, size_t len, struct kiln_error *err)
{
	const unsigned char *d = data;
	if (p->c != KILN_COMPRESSION_NONE)
		kiln_sha256_update(p->blob_hash, d, len);
	p->blob_bytes += len;
	while (len > 0) {
		size_t room = OUT_BUF - p->buf_len;
		size_t n = len < room ? len : room;
		memcpy(p->buf + p->buf_len, d, n);
		p->buf_len += n;
		d += n;
		len -= n;
		if (p->buf_len == OUT_BUF) {
			int r = flush_fd(p, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int kiln_layer_out_new(int fd, enum kiln_compression c, int level, struct kiln_layer_out **ret,
		       struct kiln_error *err)
{
	if (c != KILN_COMPRESSION_NONE && c != KILN_COMPRESSION_GZIP && c != KILN_COMPRESSION_ZSTD)
		return kiln_fail(err, KILN_EUNSUPP, 0,
				 "kiln writes layers as gzip, zstd or none, not %s",
				 kiln_compression_name(c));
	if (c == KILN_COMPRESSION_GZIP) {
		if (level == 0)
			level = KILN_LAYER_GZIP_LEVEL_DEFAULT;
		if (level < 1 || level > 9)
			return kiln_fail(err, KILN_EINVAL, 0, "gzip level %d out of range 1-9",
					 level);
	} else if (c == KILN_COMPRESSION_ZSTD) {
		if (level == 0)
			level = KILN_LAYER_ZSTD_LEVEL_DEFAULT;
		if (level < 1 || level > 19)
			return kiln_fail(err, KILN_EINVAL, 0, "zstd level %d out of range 1-19",
					 level);
	}

	struct kiln_layer_out *p = kiln_calloc(1, sizeof(*p));
	if (!p)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	p->fd = fd;
	p->c = c;
	p->level = level;
	int r = kiln_sha256_new(&p->tar_hash, err);
	if (r == 0 && c != KILN_COMPRESSION_NONE)
		r = kiln_sha256_new(&p->blob_hash, err);
	if (r < 0) {
		kiln_layer_out_free(p);
		return r;
	}
	p->buf = kiln_malloc(OUT_BUF);
	if (!p->buf)
		goto nomem;
	if (c == KILN_COMPRESSION_GZIP) {
		p->chunk = kiln_malloc(GZIP_CHUNK);
		p->dict = kiln_malloc(GZIP_DICT);
		p->zout = kiln_malloc(ZOUT_BUF);
		if (!p->chunk || !p->dict || !p->zout)
			goto nomem;
		/* raw deflate: the gzip header and trailer are written here */
		if (deflateInit2(&p->z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			goto nomem;
		p->z_init = 1;
		p->crc = 0;
	} else if (c == KILN_COMPRESSION_ZSTD) {
		p->zout = kiln_malloc(ZOUT_BUF);
		p->zc = ZSTD_createCCtx();
		if (!p->zout || !p->zc)
			goto nomem;
		if (ZSTD_isError(ZSTD_CCtx_setParameter(p->zc, ZSTD_c_compressionLevel, level)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(p->zc, ZSTD_c_checksumFlag, 1))) {
			kiln_layer_out_free(p);
			return kiln_fail(err, KILN_EINTERNAL, 0, "zstd refused its parameters");
		}
	}
	*ret = p;
	return 0;
nomem:
	kiln_layer_out_free(p);
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

static int gzip_header(struct kiln_layer_out *p, struct kiln_error *err)
{
	/*
	 * Fixed for reproducibility: no name, mtime 0, OS "unknown" (255, as
	 * Go's compress/gzip writes it); XFL as gzip sets it for the level.
	 */
	unsigned char h[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255 };
	h[8] = p->level == 9 ? 2 : p->level == 1 ? 4 : 0;
	p->gz_header_done = 1;
	return emit(p, h, sizeof(h), err);
}

/* Compress the buffered chunk with a fresh state primed by the dictionary. */
static int gz_chunk(struct kiln_layer_out *p, int flush, struct kiln_error *err)
{
	int r;
	if (!p->gz_header_done) {
		r = gzip_header(p, err);
		if (r < 0)
			return r;
	}
	if (deflateReset(&p->z) != Z_OK)
		return kiln_fail(err, KILN_EINTERNAL, 0, "deflateReset failed");
	if (p->dict_len && deflateSetDictionary(&p->z, p->dict, (uInt) p->dict_len) != Z_OK)
		return kiln_fail(err, KILN_EINTERNAL, 0, "deflateSetDictionary failed");
	p->z.next_in = p->chunk;
	p->z.avail_in = (uInt) p->chunk_len;
	int zr;
	for (;;) {
		p->z.next_out = p->zout;
		p->z.avail_out = (uInt) ZOUT_BUF;
		zr = deflate(&p->z, flush);
		if (zr == Z_STREAM_ERROR)
			return kiln_fail(err, KILN_EINTERNAL, 0, "deflate failed");
		size_t produced = ZOUT_BUF - p->z.avail_out;
		r = emit(p, p->zout, produced, err);
		if (r < 0)
			return r;
		if (flush == Z_FINISH ? zr == Z_STREAM_END : p->z.avail_out != 0)
			break;
	}
	p->crc = libdeflate_crc32(p->crc, p->chunk, p->chunk_len);
	/* the dictionary for the next chunk: the last 32 KiB of input so far */
	if (p->chunk_len >= GZIP_DICT) {
		memcpy(p->dict, p->chunk + p->chunk_len - GZIP_DICT, GZIP_DICT);
		p->dict_len = GZIP_DICT;
	} else {
		size_t keep = p->dict_len + p->chunk_len > GZIP_DICT ? GZIP_DICT - p->chunk_len
								     : p->dict_len;
		memmove(p->dict, p->dict + p->dict_len - keep, keep);
		memcpy(p->dict + keep, p->chunk, p->chunk_len);
		p->dict_len = keep + p->chunk_len;
	}
	p->chunk_len = 0;
	return 0;
}

static int zstd_feed(struct kiln_layer_out *p, const void *buf, size_t len, ZSTD_EndDirective mode,
		     struct kiln_error *err)
{
	ZSTD_inBuffer in = { buf, len, 0 };
	for (;;) {
		ZSTD_outBuffer out = { p->zout, ZOUT_BUF, 0 };
		size_t left = ZSTD_compressStream2(p->zc, &out, &in, mode);
		if (ZSTD_isError(left))
			return kiln_fail(err, KILN_EINTERNAL, 0, "zstd: %s",
					 ZSTD_getErrorName(left));
		int r = emit(p, p->zout, out.pos, err);
		if (r < 0)
			return r;
		if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

int kiln_layer_out_write(struct kiln_layer_out *p, const void *buf, size_t len,
			 struct kiln_error *err)
{
	if (len == 0)
		return 0;
	kiln_sha256_update(p->tar_hash, buf, len);
	p->tar_bytes += len;
	switch (p->c) {
	case KILN_COMPRESSION_GZIP: {
		const unsigned char *d = buf;
		while (len > 0) {
			size_t room = GZIP_CHUNK - p->chunk_len;
			size_t n = len < room ? len : room;
			memcpy(p->chunk + p->chunk_len, d, n);
			p->chunk_len += n;
			d += n;
			len -= n;
			if (p->chunk_len == GZIP_CHUNK) {
				int r = gz_chunk(p, Z_SYNC_FLUSH, err);
				if (r < 0)
					return r;
			}
		}
		return 0;
	}
	case KILN_COMPRESSION_ZSTD:
		return zstd_feed(p, buf, len, ZSTD_e_continue, err);
	default:
		return emit(p, buf, len, err);
	}
}

int kiln_layer_out_finish(struct kiln_layer_out *p, struct kiln_layer_digests *ret,
			  struct kiln_error *err)
{
	int r = 0;
	if (p->finished)
		return kiln_fail(err, KILN_EINTERNAL, 0, "layer output finished twice");
	p->finished = 1;
	if (p->c == KILN_COMPRESSION_GZIP) {
		/* the last chunk (possibly empty) ends the deflate stream */
		r = gz_chunk(p, Z_FINISH, err);
		if (r < 0)
			return r;
		unsigned char t[8];
		uint32_t isize = (uint32_t) p->tar_bytes;
		for (int i = 0; i < 4; i++) {
			t[i] = (unsigned char) (p->crc >> (8 * i));
			t[4 + i] = (unsigned char) (isize >> (8 * i));
		}
		r = emit(p, t, sizeof(t), err);
	} else if (p->c == KILN_COMPRESSION_ZSTD) {
		r = zstd_feed(p, "", 0, ZSTD_e_end, err);
	}
	if (r < 0)
		return r;
	r = flush_fd(p, err);
	if (r < 0)
		return r;
	struct kiln_layer_digests d = { 0 };
	kiln_sha256_final(p->tar_hash, &d.diff_id);
	if (p->c == KILN_COMPRESSION_NONE)
		d.digest = d.diff_id;
	else
		kiln_sha256_final(p->blob_hash, &d.digest);
	d.size = p->blob_bytes;
	d.uncompressed_size = p->tar_bytes;
	d.compression = p->c;
	if (ret)
		*ret = d;
	return 0;
}

void kiln_layer_out_free(struct kiln_layer_out *p)
{
	if (!p)
		return;
	if (p->z_init)
		(void) deflateEnd(&p->z);
	ZSTD_freeCCtx(p->zc);
	kiln_sha256_free(p->tar_hash);
	kiln_sha256_free(p->blob_hash);
	free(p->buf);
	free(p->chunk);
	free(p->dict);
	free(p->zout);
	free(p);
}
