/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The tar reader's state, shared by tar-read.c and tar-parse.c; not public. */

#include "layer/internal.h"

struct sparse_seg {
	uint64_t off;
	uint64_t len;
};

/* What PAX and GNU special headers said about the next entry. */
struct pending {
	char *path;	/* PAX path */
	char *linkpath; /* PAX linkpath */
	char *gnu_long; /* GNU 'L' */
	char *gnu_link; /* GNU 'K' */
	int has_size, has_uid, has_gid, has_mtime;
	uint64_t size;
	uint64_t uid, gid;
	int64_t mtime;
	uint32_t mtime_nsec;
	struct kiln_tar_xattr *xattrs;
	size_t n_xattrs;
	/* GNU sparse in PAX records */
	int sparse_major, sparse_minor, has_sparse_version;
	char *sparse_name;
	int has_sparse_size;
	uint64_t sparse_size;
	struct kiln_buf sparse_map; /* "off,len,off,len" (0.0 and 0.1) */
	int sparse_expect_numbytes;
};

struct kiln_layer_reader {
	struct kiln_layer_in *pipe;
	struct kiln_layer_limits lim;
	const struct kiln_ctx *ctx;
	int check_names;
	int has_digest, has_diff_id;
	struct kiln_digest expect_digest, expect_diff_id;

	struct kiln_tar_entry entry;
	struct pending pend;
	uint64_t index;	     /* entries returned so far */
	uint64_t header_off; /* offset of the current entry's first header block */
	uint64_t tar_off;    /* bytes of the tar stream consumed */
	uint64_t total_size;

	uint64_t data_left; /* stored data bytes of the current entry still unread */
	uint64_t pad;	    /* padding after them */

	int sparse;
	struct sparse_seg *segs;
	size_t n_segs, cap_segs;
	size_t seg_idx;
	uint64_t seg_done;
	uint64_t logical_pos;

	int at_end;
	int finished;
	unsigned char blk[TAR_BLOCK];
};

/* "tar entry N 'name' at offset X: <msg>" for the entry being parsed. */
int kiln_layer_tr_fail(struct kiln_layer_reader *r, struct kiln_error *err, enum kiln_err code,
		       const char *name, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Go's parseNumeric: base-256 when the high bit is set, else octal. 0 or -1. */
int kiln_layer_tr_numeric(const unsigned char *b, size_t n, int64_t *ret);
/* Decimal digits (an optional '+'), no overflow. 0 or -1. */
int kiln_layer_tr_dec_u64(const char *s, uint64_t *ret);
/* Replace *dst by a copy of src[0..len). 0 or -KILN_ENOMEM. */
int kiln_layer_tr_replace_str(char **dst, const char *src, size_t len);
/* One 512-byte block into r->blk: 0, 1 = clean EOF, or an error. */
int kiln_layer_tr_read_block(struct kiln_layer_reader *r, struct kiln_error *err);
/* The records of a PAX extended header into r->pend. */
int kiln_layer_tr_parse_pax(struct kiln_layer_reader *r, char *data, size_t len,
			    struct kiln_error *err);
/* Sparse maps: old GNU ('S' header + extension blocks), PAX 0.x records, PAX 1.0 data. */
int kiln_layer_tr_old_gnu_sparse(struct kiln_layer_reader *r, uint64_t *ret_size,
				 struct kiln_error *err);
int kiln_layer_tr_sparse_map_01(struct kiln_layer_reader *r, struct kiln_error *err);
int kiln_layer_tr_sparse_map_10(struct kiln_layer_reader *r, struct kiln_error *err);
int kiln_layer_tr_check_sparse(struct kiln_layer_reader *r, uint64_t size, uint64_t stored,
			       struct kiln_error *err);
