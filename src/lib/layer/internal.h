/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the files of the layer module share; not part of the public API. */

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "layer/layer.h"

#define TAR_BLOCK 512

/* ---------------------------------------------------------------------- */
/* Output pipeline: tar bytes -> sha256 (diff_id) -> compressor -> sha256  */
/* (digest) -> fd. compress.c                                              */
/* ---------------------------------------------------------------------- */

struct kiln_layer_out;

int kiln_layer_out_new(int fd, enum kiln_compression c, int level, struct kiln_layer_out **ret,
		       struct kiln_error *err);
/* Feed tar bytes. */
int kiln_layer_out_write(struct kiln_layer_out *p, const void *buf, size_t len,
			 struct kiln_error *err);
/* Flush the compressor and the fd buffer; fill the digests. */
int kiln_layer_out_finish(struct kiln_layer_out *p, struct kiln_layer_digests *ret,
			  struct kiln_error *err);
void kiln_layer_out_free(struct kiln_layer_out *p);

/*
 * The gzip writer compresses fixed chunks of the tar stream, each with a
 * fresh deflate state primed with the 32 KiB before it and ended with a
 * sync flush: one standard gzip member whose bytes depend only on the input,
 * so chunks can later be compressed in parallel with the same output.
 */
#define GZIP_CHUNK ((size_t) 128 << 10)
#define GZIP_DICT 32768
/* The level a chunk is deflated at: `level`, or 0 (stored) for bytes spread evenly over all
 * 256 values, such as compressed data. */
int kiln_layer_gz_chunk_level(const unsigned char *in, size_t len, int level);

/* ---------------------------------------------------------------------- */
/* Input pipeline: fd -> sha256 (digest) -> decompressor -> sha256          */
/* (diff_id) -> tar parser. decompress.c                                   */
/* ---------------------------------------------------------------------- */

struct kiln_layer_in;

/* Called with every decompressed byte as it is produced (may be NULL). */
typedef int (*kiln_layer_in_tee_fn)(void *userdata, const void *buf, size_t len,
				    struct kiln_error *err);

int kiln_layer_in_new(int fd, struct kiln_layer_in **ret, struct kiln_error *err);
void kiln_layer_in_set_tee(struct kiln_layer_in *p, kiln_layer_in_tee_fn fn, void *userdata);
enum kiln_compression kiln_layer_in_compression(const struct kiln_layer_in *p);
/* Read up to len decompressed bytes; *ret_n == 0 only at the end of the stream. */
int kiln_layer_in_read(struct kiln_layer_in *p, void *buf, size_t len, size_t *ret_n,
		       struct kiln_error *err);
/* Read exactly len bytes: 0, or 1 = EOF before any byte, 2 = EOF after some. */
int kiln_layer_in_read_full(struct kiln_layer_in *p, void *buf, size_t len, struct kiln_error *err);
/* Read and discard n bytes (hashed): 0, or 1 when the stream ends first. */
int kiln_layer_in_skip(struct kiln_layer_in *p, uint64_t n, const struct kiln_ctx *ctx,
		       struct kiln_error *err);
/* Read to the end of the stream; fill digests. */
int kiln_layer_in_finish(struct kiln_layer_in *p, struct kiln_layer_digests *ret,
			 struct kiln_error *err);
void kiln_layer_in_free(struct kiln_layer_in *p);

/* ---------------------------------------------------------------------- */
/* Tar header encoding, Go archive/tar style. tar-write.c                  */
/* ---------------------------------------------------------------------- */

/*
 * Append the header blocks for `e` (already normalised: `name` is the
 * archive name, with the trailing '/' for directories) to `out`.
 */
int kiln_layer_tar_encode(const struct kiln_tar_entry *e, const char *name, struct kiln_buf *out,
			  struct kiln_error *err);

/* ---------------------------------------------------------------------- */
/* A set of strings (paths). pathset.c                                     */
/* ---------------------------------------------------------------------- */

struct kiln_layer_pathset {
	char **slots;
	size_t cap; /* power of two, or 0 */
	size_t len;
};

#define KILN_LAYER_PATHSET_INIT                                                                    \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* 1 added, 0 already there, -KILN_ENOMEM. */
int kiln_layer_pathset_add(struct kiln_layer_pathset *s, const char *key, size_t keylen);
int kiln_layer_pathset_has(const struct kiln_layer_pathset *s, const char *key, size_t keylen);
void kiln_layer_pathset_release(struct kiln_layer_pathset *s);

/* ---------------------------------------------------------------------- */
/* Small helpers shared by reader and apply.                               */
/* ---------------------------------------------------------------------- */

/* Readable name for an error message: control bytes escaped, long names cut. */
int kiln_layer_quote(const char *s, struct kiln_buf *out);

/* Reader internals used by recompress. */
struct kiln_layer_in *kiln_layer_reader_pipe(struct kiln_layer_reader *r);
uint64_t kiln_layer_reader_entry_index(const struct kiln_layer_reader *r);

/* ---------------------------------------------------------------------- */
/* Writer internals used by the tree walk. tar-write.c, tree.c             */
/* ---------------------------------------------------------------------- */

/* (dev, ino) -> first archive name, for hardlink detection. */
struct link_map;
void kiln_layer_link_map_free(struct link_map *m);

unsigned kiln_layer_writer_flags(const struct kiln_layer_writer *w);
const struct kiln_ctx *kiln_layer_writer_ctx(const struct kiln_layer_writer *w);
struct link_map **kiln_layer_writer_links(struct kiln_layer_writer *w);

/* A relative path without empty, "." or ".." components and no slash at either end. */
int kiln_layer_path_is_clean(const char *p);
