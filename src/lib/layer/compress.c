/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compression names and detection, limits, and the output pipeline: tar
 * bytes are hashed (diff_id), compressed, hashed again (digest) and written
 * to the fd through one buffer, in a single pass. gzip chunks of a layer
 * bigger than one chunk are deflated on worker threads, their output
 * written in order: the bytes are the same as with one thread.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include "base/ctx.h"
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
/*
 * Deflate's output room per call, on this thread and a worker's first call
 * alike: a whole chunk's worth and more. At level 1 and up the bytes do not
 * depend on the room, but a stored chunk's blocks are cut to the room each
 * call has, so both must have room for all of it (5 bytes per 64 KiB block).
 */
#define ZOUT_BUF (GZIP_CHUNK + GZIP_CHUNK / 64 + 4096)

/*
 * Parallel gzip: at most GZ_MAX_WORKERS threads deflate chunks, each with its
 * own deflate state; one more chunk than workers is in flight, so the
 * calling thread fills the next chunk (reading files, hashing) while they
 * work. Memory: two chunk-sized buffers (in and out) per chunk in flight and
 * ~270 KiB per deflate state. Chunks of 128 KiB (pigz's default size) keep
 * that under 2 MiB on two cores and cost nothing measurable in size.
 */
#define GZ_MAX_WORKERS 4

enum gz_job_state { JOB_FREE, JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct gz_job {
	unsigned char *in; /* GZIP_CHUNK bytes */
	size_t in_len;
	unsigned char *dict; /* GZIP_DICT bytes: the input before `in` */
	size_t dict_len;
	int flush;
	unsigned char *out;
	size_t out_len;
	size_t out_cap;
	enum gz_job_state state;
	int failed;
};

struct gz_pool;

struct gz_worker {
	struct gz_pool *pool;
	z_stream z;
	int z_init;
	pthread_t th;
	int started;
};

struct gz_pool {
	pthread_mutex_t mu;
	pthread_cond_t work; /* a job was queued, or stop */
	pthread_cond_t done; /* a job is done */
	struct gz_worker w[GZ_MAX_WORKERS];
	size_t nw;
	struct gz_job jobs[GZ_MAX_WORKERS + 1];
	size_t njobs;
	/* jobs head..tail-1 are in flight, in stream order; next is the next
	 * one a worker takes */
	uint64_t head, next, tail;
	int stop;
	int level;
};

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
	struct gz_pool *pool;
	int pool_off;	    /* one thread: one CPU, or the pool could not start */
	size_t chunks_here; /* chunks deflated on this thread before the pool */

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

/* This thread's deflate state and its output buffer (raw deflate: the gzip
 * header and trailer are written here). */
static int gz_local_init(struct kiln_layer_out *p)
{
	if (!p->zout && !(p->zout = kiln_malloc(ZOUT_BUF)))
		return -1;
	if (deflateInit2(&p->z, p->level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	p->z_init = 1;
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
		if (!p->chunk || !p->dict || gz_local_init(p) < 0)
			goto nomem;
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

/*
 * The level a chunk is deflated at: its own, or 0 (stored) when its bytes are
 * spread evenly over all 256 values, as compressed or encrypted data is
 * (archives, images, jars, packages). zlib's level 1 gains nothing on such
 * data and runs at about 33 MB/s on it; storing copies it. The test is
 * Pearson's chi-squared of the chunk's byte counts against an even spread, in
 * integers: random data scores about 255, xz and gzip streams 230-330, an
 * executable 800,000, text far more; at 2,048 a byte's order-0 entropy in a
 * full chunk is within 0.012 bits of 8. Only the chunk's bytes decide, so
 * the output is the same on one thread or many, and on any machine.
 */
#define GZ_STORE_MIN_LEN 4096
#define GZ_STORE_MAX_CHI2 2048
/*
 * Counts only grow, so after each step the bytes already above an even share
 * bound the sum from below: text passes the limit within the first step or
 * two and is not counted further.
 */
#define GZ_STORE_STEP ((size_t) 16 << 10)

int kiln_layer_gz_chunk_level(const unsigned char *in, size_t len, int level)
{
	if (len < GZ_STORE_MIN_LEN)
		return level;
	/* chi2 = sum((256c - len)^2) / (256 len); GZIP_CHUNK keeps each term below 2^50 */
	const uint64_t limit = (uint64_t) GZ_STORE_MAX_CHI2 * 256 * len;
	uint32_t n[4][256] = { { 0 } }; /* four tables: no store waits on the last */
	size_t i = 0;
	for (;;) {
		size_t end = len - i > GZ_STORE_STEP ? i + GZ_STORE_STEP : len;
		for (; i + 4 <= end; i += 4) {
			n[0][in[i]]++;
			n[1][in[i + 1]]++;
			n[2][in[i + 2]]++;
			n[3][in[i + 3]]++;
		}
		for (; i < end; i++)
			n[0][in[i]]++;
		int done = i == len;
		uint64_t sum = 0;
		for (int b = 0; b < 256; b++) {
			int64_t d = 256 * (int64_t) (n[0][b] + n[1][b] + n[2][b] + n[3][b]) -
				    (int64_t) len;
			if (done || d > 0)
				sum += (uint64_t) (d * d);
		}
		if (sum > limit)
			return level;
		if (done)
			return 0;
	}
}

/*
 * A fresh state for a chunk: the level it is deflated at (deflateParams right
 * after a reset only sets it), then the dictionary.
 */
static int gz_chunk_start(z_stream *z, int level, const unsigned char *dict, size_t dict_len)
{
	if (deflateReset(z) != Z_OK || deflateParams(z, level, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	if (dict_len && deflateSetDictionary(z, dict, (uInt) dict_len) != Z_OK)
		return -1;
	return 0;
}

/* A chunk of input was handed to deflate: the CRC, and the dictionary for
 * the next chunk (the last 32 KiB of input so far). */
static void chunk_done(struct kiln_layer_out *p, const unsigned char *in, size_t len)
{
	p->crc = libdeflate_crc32(p->crc, in, len);
	if (len >= GZIP_DICT) {
		memcpy(p->dict, in + len - GZIP_DICT, GZIP_DICT);
		p->dict_len = GZIP_DICT;
	} else {
		size_t keep = p->dict_len + len > GZIP_DICT ? GZIP_DICT - len : p->dict_len;
		memmove(p->dict, p->dict + p->dict_len - keep, keep);
		memcpy(p->dict + keep, in, len);
		p->dict_len = keep + len;
	}
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
	int level = kiln_layer_gz_chunk_level(p->chunk, p->chunk_len, p->level);
	if (gz_chunk_start(&p->z, level, p->dict, p->dict_len) < 0)
		return kiln_fail(err, KILN_EINTERNAL, 0, "deflate refused a new chunk");
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
	chunk_done(p, p->chunk, p->chunk_len);
	p->chunk_len = 0;
	return 0;
}

/* ---- parallel gzip ------------------------------------------------------ */

/* Deflate one job into its growing output buffer (its first call has
 * ZOUT_BUF of room or more, as the calling thread's does). */
static int gz_deflate_job(z_stream *z, struct gz_job *j, int level)
{
	int chunk_level = kiln_layer_gz_chunk_level(j->in, j->in_len, level);
	if (gz_chunk_start(z, chunk_level, j->dict, j->dict_len) < 0)
		return -1;
	z->next_in = j->in;
	z->avail_in = (uInt) j->in_len;
	j->out_len = 0;
	for (;;) {
		if (j->out_cap - j->out_len < 4096) {
			size_t ncap = j->out_cap * 2;
			unsigned char *n = kiln_realloc(j->out, ncap);
			if (!n)
				return -1;
			j->out = n;
			j->out_cap = ncap;
		}
		z->next_out = j->out + j->out_len;
		z->avail_out = (uInt) (j->out_cap - j->out_len);
		int zr = deflate(z, j->flush);
		if (zr == Z_STREAM_ERROR)
			return -1;
		j->out_len = j->out_cap - z->avail_out;
		if (j->flush == Z_FINISH ? zr == Z_STREAM_END : z->avail_out != 0)
			return 0;
	}
}

static void *gz_worker_main(void *arg)
{
	struct gz_worker *w = arg;
	struct gz_pool *pl = w->pool;
	pthread_mutex_lock(&pl->mu);
	for (;;) {
		while (!pl->stop && pl->next == pl->tail)
			pthread_cond_wait(&pl->work, &pl->mu);
		if (pl->stop)
			break;
		struct gz_job *j = &pl->jobs[pl->next % pl->njobs];
		pl->next++;
		j->state = JOB_RUNNING;
		pthread_mutex_unlock(&pl->mu);
		int failed = gz_deflate_job(&w->z, j, pl->level) < 0;
		pthread_mutex_lock(&pl->mu);
		j->failed = failed;
		j->state = JOB_DONE;
		pthread_cond_broadcast(&pl->done);
	}
	pthread_mutex_unlock(&pl->mu);
	return NULL;
}

static void gz_pool_free(struct gz_pool *pl)
{
	if (!pl)
		return;
	pthread_mutex_lock(&pl->mu);
	pl->stop = 1;
	pthread_cond_broadcast(&pl->work);
	pthread_mutex_unlock(&pl->mu);
	for (size_t i = 0; i < pl->nw; i++) {
		if (pl->w[i].started)
			(void) pthread_join(pl->w[i].th, NULL);
		if (pl->w[i].z_init)
			(void) deflateEnd(&pl->w[i].z);
	}
	for (size_t i = 0; i < pl->njobs; i++) {
		free(pl->jobs[i].in);
		free(pl->jobs[i].dict);
		free(pl->jobs[i].out);
	}
	pthread_cond_destroy(&pl->done);
	pthread_cond_destroy(&pl->work);
	pthread_mutex_destroy(&pl->mu);
	free(pl);
}

/* Workers for this layer, or NULL: then it is deflated on this thread (the
 * output is the same). */
static struct gz_pool *gz_pool_new(int level)
{
	size_t nw = kiln_cpus(GZ_MAX_WORKERS);
	if (nw < 2)
		return NULL;
	struct gz_pool *pl = kiln_calloc(1, sizeof(*pl));
	if (!pl)
		return NULL;
	if (pthread_mutex_init(&pl->mu, NULL) != 0) {
		free(pl);
		return NULL;
	}
	if (pthread_cond_init(&pl->work, NULL) != 0) {
		pthread_mutex_destroy(&pl->mu);
		free(pl);
		return NULL;
	}
	if (pthread_cond_init(&pl->done, NULL) != 0) {
		pthread_cond_destroy(&pl->work);
		pthread_mutex_destroy(&pl->mu);
		free(pl);
		return NULL;
	}
	pl->level = level;
	pl->njobs = nw + 1;
	for (size_t i = 0; i < pl->njobs; i++) {
		struct gz_job *j = &pl->jobs[i];
		j->out_cap = ZOUT_BUF;
		j->in = kiln_malloc(GZIP_CHUNK);
		j->dict = kiln_malloc(GZIP_DICT);
		j->out = kiln_malloc(j->out_cap);
		if (!j->in || !j->dict || !j->out)
			goto fail;
	}
	for (size_t i = 0; i < nw; i++) {
		struct gz_worker *w = &pl->w[i];
		w->pool = pl;
		pl->nw = i + 1;
		if (deflateInit2(&w->z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			goto fail;
		w->z_init = 1;
		if (kiln_thread_start(&w->th, gz_worker_main, w) != 0)
			goto fail;
		w->started = 1;
	}
	return pl;
fail:
	gz_pool_free(pl);
	return NULL;
}

/* Write the oldest job's output once it is done. */
static int gz_pool_emit_oldest(struct kiln_layer_out *p, struct kiln_error *err)
{
	struct gz_pool *pl = p->pool;
	struct gz_job *j = &pl->jobs[pl->head % pl->njobs];
	pthread_mutex_lock(&pl->mu);
	while (j->state != JOB_DONE)
		pthread_cond_wait(&pl->done, &pl->mu);
	pthread_mutex_unlock(&pl->mu);
	if (j->failed)
		return kiln_fail(err, KILN_EINTERNAL, 0, "deflate failed");
	int r = emit(p, j->out, j->out_len, err);
	if (r < 0)
		return r;
	j->state = JOB_FREE;
	pl->head++;
	return 0;
}

/* Hand the buffered chunk to the workers. */
static int gz_pool_submit(struct kiln_layer_out *p, int flush, struct kiln_error *err)
{
	struct gz_pool *pl = p->pool;
	int r;
	if (!p->gz_header_done) {
		r = gzip_header(p, err);
		if (r < 0)
			return r;
	}
	while (pl->tail - pl->head == pl->njobs) {
		r = gz_pool_emit_oldest(p, err);
		if (r < 0)
			return r;
	}
	struct gz_job *j = &pl->jobs[pl->tail % pl->njobs];
	/* the chunk becomes the job's input; the job's free buffer the next chunk */
	unsigned char *t = j->in;
	j->in = p->chunk;
	p->chunk = t;
	j->in_len = p->chunk_len;
	memcpy(j->dict, p->dict, p->dict_len);
	j->dict_len = p->dict_len;
	j->flush = flush;
	j->failed = 0;
	chunk_done(p, j->in, j->in_len);
	p->chunk_len = 0;
	pthread_mutex_lock(&pl->mu);
	j->state = JOB_QUEUED;
	pl->tail++;
	pthread_cond_signal(&pl->work);
	pthread_mutex_unlock(&pl->mu);
	return 0;
}

/*
 * Chunks a layer deflates on the calling thread before it starts workers
 * (its first 4 MiB): a small layer never pays for their threads, states and
 * buffers, a big one loses little of the parallel part.
 */
#define GZ_POOL_AFTER_CHUNKS (((size_t) 4 << 20) / GZIP_CHUNK)

/* A full chunk (flush Z_SYNC_FLUSH) or the last one (Z_FINISH). */
static int gz_flush_chunk(struct kiln_layer_out *p, int flush, struct kiln_error *err)
{
	if (!p->pool && !p->pool_off && flush != Z_FINISH &&
	    p->chunks_here++ >= GZ_POOL_AFTER_CHUNKS) {
		/* the workers deflate every chunk from now on: this thread's state
		 * goes first, so that the two are never held at once */
		(void) deflateEnd(&p->z);
		p->z_init = 0;
		free(p->zout);
		p->zout = NULL;
		p->pool = gz_pool_new(p->level);
		if (!p->pool) {
			p->pool_off = 1;
			if (gz_local_init(p) < 0)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
	}
	if (!p->pool)
		return gz_chunk(p, flush, err);
	int r = gz_pool_submit(p, flush, err);
	if (r < 0 || flush != Z_FINISH)
		return r;
	while (p->pool->head != p->pool->tail) {
		r = gz_pool_emit_oldest(p, err);
		if (r < 0)
			return r;
	}
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
				int r = gz_flush_chunk(p, Z_SYNC_FLUSH, err);
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
		r = gz_flush_chunk(p, Z_FINISH, err);
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
	gz_pool_free(p->pool);
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
