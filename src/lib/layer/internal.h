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

struct out_pipe;

int out_pipe_new(int fd, enum kiln_compression c, int level, struct out_pipe **ret,
		 struct kiln_error *err);
/* Feed tar bytes. */
int out_pipe_write(struct out_pipe *p, const void *buf, size_t len, struct kiln_error *err);
/* Flush the compressor and the fd buffer; fill the digests. */
int out_pipe_finish(struct out_pipe *p, struct kiln_layer_digests *ret, struct kiln_error *err);
void out_pipe_free(struct out_pipe *p);

/*
 * The gzip writer compresses fixed chunks of the tar stream, each with a
 * fresh deflate state primed with the 32 KiB before it and ended with a
 * sync flush: one standard gzip member whose bytes depend only on the input,
 * so chunks can later be compressed in parallel with the same output.
 */
#define GZIP_CHUNK ((size_t)1 << 20)
#define GZIP_DICT 32768

/* ---------------------------------------------------------------------- */
/* Input pipeline: fd -> sha256 (digest) -> decompressor -> sha256          */
/* (diff_id) -> tar parser. decompress.c                                   */
/* ---------------------------------------------------------------------- */

struct in_pipe;

/* Called with every decompressed byte as it is produced (may be NULL). */
typedef int (*in_pipe_tee_fn)(void *userdata, const void *buf, size_t len,
			      struct kiln_error *err);

int in_pipe_new(int fd, struct in_pipe **ret, struct kiln_error *err);
void in_pipe_set_tee(struct in_pipe *p, in_pipe_tee_fn fn, void *userdata);
enum kiln_compression in_pipe_compression(const struct in_pipe *p);
/* Read up to len decompressed bytes; *ret_n == 0 only at the end of the stream. */
int in_pipe_read(struct in_pipe *p, void *buf, size_t len, size_t *ret_n, struct kiln_error *err);
/* Read exactly len bytes: 0, or 1 = EOF before any byte, 2 = EOF after some. */
int in_pipe_read_full(struct in_pipe *p, void *buf, size_t len, struct kiln_error *err);
/* Read and discard n bytes (hashed): 0, or 1 when the stream ends first. */
int in_pipe_skip(struct in_pipe *p, uint64_t n, struct kiln_error *err);
/* Read to the end of the stream; fill digests. */
int in_pipe_finish(struct in_pipe *p, struct kiln_layer_digests *ret, struct kiln_error *err);
void in_pipe_free(struct in_pipe *p);

/* ---------------------------------------------------------------------- */
/* Tar header encoding, Go archive/tar style. tar-write.c                  */
/* ---------------------------------------------------------------------- */

/*
 * Append the header blocks for `e` (already normalised: `name` is the
 * archive name, with the trailing '/' for directories) to `out`.
 */
int tar_encode_header(const struct kiln_tar_entry *e, const char *name, struct kiln_buf *out,
		      struct kiln_error *err);

/* ---------------------------------------------------------------------- */
/* A set of strings (paths). pathset.c                                     */
/* ---------------------------------------------------------------------- */

struct pathset {
	char **slots;
	size_t cap; /* power of two, or 0 */
	size_t len;
};

#define PATHSET_INIT                                                                             \
	{                                                                                        \
		NULL, 0, 0                                                                       \
	}

/* 1 added, 0 already there, -KILN_ENOMEM. */
int pathset_add(struct pathset *s, const char *key, size_t keylen);
int pathset_has(const struct pathset *s, const char *key, size_t keylen);
void pathset_release(struct pathset *s);

/* ---------------------------------------------------------------------- */
/* Small helpers shared by reader and apply.                               */
/* ---------------------------------------------------------------------- */

/* Readable name for an error message: control bytes escaped, long names cut. */
int layer_quote(const char *s, struct kiln_buf *out);

/* Reader internals used by recompress. */
struct in_pipe *layer_reader_pipe(struct kiln_layer_reader *r);
uint64_t layer_reader_entry_index(const struct kiln_layer_reader *r);

/* ---------------------------------------------------------------------- */
/* Writer internals used by the tree walk. tar-write.c, tree.c             */
/* ---------------------------------------------------------------------- */

/* (dev, ino) -> first archive name, for hardlink detection. */
struct link_map;
void link_map_free(struct link_map *m);

unsigned layer_writer_flags(const struct kiln_layer_writer *w);
const struct kiln_ctx *layer_writer_ctx(const struct kiln_layer_writer *w);
struct link_map **layer_writer_links(struct kiln_layer_writer *w);

/* A relative path without empty, "." or ".." components and no slash at either end. */
int layer_path_is_clean(const char *p);
