/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The input pipeline: bytes read from the fd are hashed (the blob digest),
 * decompressed (gzip, zstd, bzip2, xz or none, from the magic bytes) and
 * hashed again (the diff_id) before the tar parser sees them. One pass,
 * bounded buffers.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "layer/internal.h"

#define IN_BUF ((size_t) 128 * 1024)
#define SKIP_BUF ((size_t) 64 * 1024)
/* xz streams whose dictionary needs more than this are refused. */
#define XZ_MEMLIMIT ((uint64_t) 512 << 20)

struct kiln_layer_in {
	int fd;
	enum kiln_compression c;
	struct kiln_sha256 *blob_hash;
	struct kiln_sha256 *tar_hash;
	uint64_t blob_bytes;
	uint64_t tar_bytes;

	unsigned char *in;
	size_t in_pos, in_len;
	int in_eof;

	z_stream z;
	int z_init;
	int member_done; /* gzip / bzip2: a member ended; more may follow */
	ZSTD_DCtx *zd;
	size_t zstd_hint; /* 0 when the last frame is complete */
	bz_stream bz;
	int bz_init;
	lzma_stream xz;
	int xz_init;

	int stream_end;
	unsigned char *scratch;

	kiln_layer_in_tee_fn tee;
	void *tee_data;
};

static int refill(struct kiln_layer_in *p, struct kiln_error *err)
{
	if (p->in_pos < p->in_len || p->in_eof)
		return 0;
	ssize_t n;
	do
		n = read(p->fd, p->in, IN_BUF);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return kiln_fail_errno(err, "reading layer");
	p->in_pos = 0;
	p->in_len = (size_t) n;
	if (n == 0) {
		p->in_eof = 1;
		return 0;
	}
	kiln_sha256_update(p->blob_hash, p->in, (size_t) n);
	p->blob_bytes += (uint64_t) n;
	return 0;
}

int kiln_layer_in_new(int fd, struct kiln_layer_in **ret, struct kiln_error *err)
{
	struct kiln_layer_in *p = kiln_calloc(1, sizeof(*p));
	if (!p)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	p->fd = fd;
	int r = kiln_sha256_new(&p->blob_hash, err);
	if (r == 0)
		r = kiln_sha256_new(&p->tar_hash, err);
	if (r < 0) {
		kiln_layer_in_free(p);
		return r;
	}
	p->in = kiln_malloc(IN_BUF);
	p->scratch = kiln_malloc(SKIP_BUF);
	if (!p->in || !p->scratch) {
		kiln_layer_in_free(p);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	/* enough bytes for the longest magic (xz: 6), unless the stream is shorter */
	while (!p->in_eof && p->in_len < 6) {
		ssize_t n;
		do
			n = read(fd, p->in + p->in_len, IN_BUF - p->in_len);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			kiln_layer_in_free(p);
			return kiln_fail_errno(err, "reading layer");
		}
		if (n == 0)
			p->in_eof = 1;
		kiln_sha256_update(p->blob_hash, p->in + p->in_len, (size_t) n);
		p->blob_bytes += (uint64_t) n;
		p->in_len += (size_t) n;
	}
	p->c = kiln_compression_detect(p->in, p->in_len);
	int ok = 1;
	switch (p->c) {
	case KILN_COMPRESSION_GZIP:
		ok = inflateInit2(&p->z, 15 + 16) == Z_OK;
		p->z_init = ok;
		break;
	case KILN_COMPRESSION_ZSTD:
		p->zd = ZSTD_createDCtx();
		ok = p->zd != NULL;
		break;
	case KILN_COMPRESSION_BZIP2:
		ok = BZ2_bzDecompressInit(&p->bz, 0, 0) == BZ_OK;
		p->bz_init = ok;
		break;
	case KILN_COMPRESSION_XZ:
		ok = lzma_stream_decoder(&p->xz, XZ_MEMLIMIT, LZMA_CONCATENATED) == LZMA_OK;
		p->xz_init = ok;
		break;
	case KILN_COMPRESSION_NONE:
		break;
	}
	if (!ok) {
		kiln_layer_in_free(p);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory (decompressor)");
	}
	*ret = p;
	return 0;
}

void kiln_layer_in_set_tee(struct kiln_layer_in *p, kiln_layer_in_tee_fn fn, void *userdata)
{
	p->tee = fn;
	p->tee_data = userdata;
}

enum kiln_compression kiln_layer_in_compression(const struct kiln_layer_in *p)
{
	return p->c;
}

static int truncated(struct kiln_layer_in *p, struct kiln_error *err)
{
	return kiln_fail(err, KILN_EPARSE, 0, "unexpected end of %s stream",
			 kiln_compression_name(p->c));
}

static int corrupt(struct kiln_layer_in *p, const char *why, struct kiln_error *err)
{
	return kiln_fail(err, KILN_EPARSE, 0, "corrupt %s stream: %s", kiln_compression_name(p->c),
			 why);
}

static int read_none(struct kiln_layer_in *p, unsigned char *buf, size_t len, size_t *n,
		     struct kiln_error *err)
{
	int r = refill(p, err);
	if (r < 0)
		return r;
	size_t have = p->in_len - p->in_pos;
	size_t k = have < len ? have : len;
	memcpy(buf, p->in + p->in_pos, k);
	p->in_pos += k;
	*n = k;
	if (k == 0)
		p->stream_end = 1;
	return 0;
}

static int read_gzip(struct kiln_layer_in *p, unsigned char *buf, size_t len, size_t *n,
		     struct kiln_error *err)
{
	*n = 0;
	while (*n == 0) {
		int r = refill(p, err);
		if (r < 0)
			return r;
		if (p->in_pos == p->in_len) {
			if (p->member_done) {
				p->stream_end = 1;
				return 0;
			}
			return truncated(p, err);
		}
		if (p->member_done) {
			/* more bytes after a member: another member must start here */
			if (inflateReset(&p->z) != Z_OK)
				return kiln_fail(err, KILN_EINTERNAL, 0, "inflateReset failed");
			p->member_done = 0;
		}
		p->z.next_in = p->in + p->in_pos;
		p->z.avail_in = (uInt) (p->in_len - p->in_pos);
		p->z.next_out = buf;
		p->z.avail_out = (uInt) (len > UINT32_MAX ? UINT32_MAX : len);
		uInt before = p->z.avail_out;
		int zr = inflate(&p->z, Z_NO_FLUSH);
		p->in_pos = p->in_len - p->z.avail_in;
		*n = before - p->z.avail_out;
		if (zr == Z_STREAM_END)
			p->member_done = 1;
		else if (zr == Z_MEM_ERROR)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory (gzip)");
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			return corrupt(p, p->z.msg ? p->z.msg : "inflate failed", err);
	}
	return 0;
}

static int read_zstd(struct kiln_layer_in *p, unsigned char *buf, size_t len, size_t *n,
		     struct kiln_error *err)
{
	*n = 0;
	while (*n == 0) {
		int r = refill(p, err);
		if (r < 0)
			return r;
		ZSTD_inBuffer in = { p->in + p->in_pos, p->in_len - p->in_pos, 0 };
		ZSTD_outBuffer out = { buf, len, 0 };
		if (in.size == 0 && p->zstd_hint == 0) {
			p->stream_end = 1;
			return 0;
		}
		size_t zr = ZSTD_decompressStream(p->zd, &out, &in);
		if (ZSTD_isError(zr))
			return corrupt(p, ZSTD_getErrorName(zr), err);
		p->in_pos += in.pos;
		p->zstd_hint = zr;
		*n = out.pos;
		if (*n == 0 && in.size == 0)
			return truncated(p, err); /* no input left, frame incomplete */
	}
	return 0;
}

static int read_bzip2(struct kiln_layer_in *p, unsigned char *buf, size_t len, size_t *n,
		      struct kiln_error *err)
{
	*n = 0;
	while (*n == 0) {
		int r = refill(p, err);
		if (r < 0)
			return r;
		if (p->in_pos == p->in_len) {
			if (p->member_done) {
				p->stream_end = 1;
				return 0;
			}
			return truncated(p, err);
		}
		if (p->member_done) {
			(void) BZ2_bzDecompressEnd(&p->bz);
			p->bz_init = 0;
			memset(&p->bz, 0, sizeof(p->bz));
			if (BZ2_bzDecompressInit(&p->bz, 0, 0) != BZ_OK)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory (bzip2)");
			p->bz_init = 1;
			p->member_done = 0;
		}
		p->bz.next_in = (char *) (p->in + p->in_pos);
		p->bz.avail_in = (unsigned) (p->in_len - p->in_pos);
		p->bz.next_out = (char *) buf;
		p->bz.avail_out = (unsigned) (len > UINT32_MAX ? UINT32_MAX : len);
		unsigned before = p->bz.avail_out;
		int br = BZ2_bzDecompress(&p->bz);
		p->in_pos = p->in_len - p->bz.avail_in;
		*n = before - p->bz.avail_out;
		if (br == BZ_STREAM_END)
			p->member_done = 1;
		else if (br == BZ_MEM_ERROR)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory (bzip2)");
		else if (br != BZ_OK)
			return corrupt(p, "bad data", err);
	}
	return 0;
}

static int read_xz(struct kiln_layer_in *p, unsigned char *buf, size_t len, size_t *n,
		   struct kiln_error *err)
{
	*n = 0;
	while (*n == 0) {
		int r = refill(p, err);
		if (r < 0)
			return r;
		p->xz.next_in = p->in + p->in_pos;
		p->xz.avail_in = p->in_len - p->in_pos;
		p->xz.next_out = buf;
		p->xz.avail_out = len;
		lzma_ret lr = lzma_code(&p->xz, p->in_eof ? LZMA_FINISH : LZMA_RUN);
		p->in_pos = p->in_len - p->xz.avail_in;
		*n = len - p->xz.avail_out;
		if (lr == LZMA_STREAM_END) {
			if (*n == 0)
				p->stream_end = 1;
			return 0;
		}
		if (lr == LZMA_MEM_ERROR)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory (xz)");
		if (lr == LZMA_MEMLIMIT_ERROR)
			return kiln_fail(err, KILN_ELIMIT, 0, "xz stream needs more than %llu MiB",
					 (unsigned long long) (XZ_MEMLIMIT >> 20));
		if (lr == LZMA_BUF_ERROR && p->in_eof)
			return truncated(p, err);
		if (lr != LZMA_OK && lr != LZMA_BUF_ERROR)
			return corrupt(p, lr == LZMA_FORMAT_ERROR ? "not xz data" : "bad data",
				       err);
	}
	return 0;
}

int kiln_layer_in_read(struct kiln_layer_in *p, void *buf, size_t len, size_t *ret_n,
		       struct kiln_error *err)
{
	size_t n = 0;
	int r = 0;
	*ret_n = 0;
	if (p->stream_end || len == 0)
		return 0;
	switch (p->c) {
	case KILN_COMPRESSION_NONE:
		r = read_none(p, buf, len, &n, err);
		break;
	case KILN_COMPRESSION_GZIP:
		r = read_gzip(p, buf, len, &n, err);
		break;
	case KILN_COMPRESSION_ZSTD:
		r = read_zstd(p, buf, len, &n, err);
		break;
	case KILN_COMPRESSION_BZIP2:
		r = read_bzip2(p, buf, len, &n, err);
		break;
	case KILN_COMPRESSION_XZ:
		r = read_xz(p, buf, len, &n, err);
		break;
	}
	if (r < 0)
		return r;
	if (n > 0) {
		kiln_sha256_update(p->tar_hash, buf, n);
		p->tar_bytes += n;
		if (p->tee) {
			r = p->tee(p->tee_data, buf, n, err);
			if (r < 0)
				return r;
		}
	}
	*ret_n = n;
	return 0;
}

int kiln_layer_in_read_full(struct kiln_layer_in *p, void *buf, size_t len, struct kiln_error *err)
{
	size_t got = 0;
	while (got < len) {
		size_t n;
		int r = kiln_layer_in_read(p, (unsigned char *) buf + got, len - got, &n, err);
		if (r < 0)
			return r;
		if (n == 0)
			return got == 0 ? 1 : 2;
		got += n;
	}
	return 0;
}

int kiln_layer_in_skip(struct kiln_layer_in *p, uint64_t n, const struct kiln_ctx *ctx,
		       struct kiln_error *err)
{
	while (n > 0) {
		if (kiln_cancelled(ctx)) /* a large entry skipped is a long read too */
			return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
		size_t want = n < SKIP_BUF ? (size_t) n : SKIP_BUF;
		size_t got;
		int r = kiln_layer_in_read(p, p->scratch, want, &got, err);
		if (r < 0)
			return r;
		if (got == 0)
			return 1;
		n -= got;
	}
	return 0;
}

int kiln_layer_in_finish(struct kiln_layer_in *p, struct kiln_layer_digests *ret,
			 struct kiln_error *err)
{
	for (;;) {
		size_t got;
		int r = kiln_layer_in_read(p, p->scratch, SKIP_BUF, &got, err);
		if (r < 0)
			return r;
		if (got == 0)
			break;
	}
	/*
	 * Every decoder reports the end only once the fd is at EOF: bytes after
	 * a compressed stream were already refused as corrupt.
	 */
	struct kiln_layer_digests d = { 0 };
	kiln_sha256_final(p->blob_hash, &d.digest);
	kiln_sha256_final(p->tar_hash, &d.diff_id);
	d.size = p->blob_bytes;
	d.uncompressed_size = p->tar_bytes;
	d.compression = p->c;
	if (ret)
		*ret = d;
	return 0;
}

void kiln_layer_in_free(struct kiln_layer_in *p)
{
	if (!p)
		return;
	if (p->z_init)
		(void) inflateEnd(&p->z);
	ZSTD_freeDCtx(p->zd);
	if (p->bz_init)
		(void) BZ2_bzDecompressEnd(&p->bz);
	if (p->xz_init)
		lzma_end(&p->xz);
	kiln_sha256_free(p->blob_hash);
	kiln_sha256_free(p->tar_hash);
	free(p->in);
	free(p->scratch);
	free(p);
}
