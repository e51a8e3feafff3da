/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Helpers for the layer tests: a raw tar builder written from the format
 * (independent of kiln's writer) for crafted and hostile archives, memfd
 * plumbing, scratch directories and a tree comparison.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "layer/layer.h"

/* A growable byte buffer for building archives. */
struct tb {
	unsigned char *data;
	size_t len, cap;
};

void tb_free(struct tb *t);
void tb_raw(struct tb *t, const void *p, size_t n);
void tb_zeros(struct tb *t, size_t n);
/* Pad to a 512-byte boundary. */
void tb_pad(struct tb *t);

struct tb_hdr {
	const char *name;
	char type; /* '0', '5', '2', ... */
	uint64_t size;
	unsigned mode; /* default 0644 when 0 and not set_mode */
	int set_mode;
	unsigned uid, gid;
	int64_t mtime;
	const char *link;
	const char *prefix; /* ustar prefix field */
	unsigned devmajor, devminor;
	int gnu;	 /* GNU magic instead of ustar */
	int v7;		 /* no magic at all */
	int base256_uid; /* encode uid as base-256 */
	int bad_checksum;
	int signed_checksum;
};

/* One header block (raw; no data). */
void tb_header(struct tb *t, const struct tb_hdr *h);
/* Header plus `size` bytes of data (h->size is set from len) and padding. */
void tb_file(struct tb *t, const struct tb_hdr *h, const void *data, size_t len);
/* A PAX extended header ('x' or 'g') holding the given records (key, value pairs; value may hold
 * NULs with explicit lengths). */
struct tb_rec {
	const char *key;
	const char *val;
	size_t len; /* 0 = strlen(val) */
};
void tb_pax(struct tb *t, char type, const struct tb_rec *recs, size_t n);
/* A GNU long name ('L') or long link ('K') header. */
void tb_gnu_long(struct tb *t, char type, const char *name);
/* Two zero blocks. */
void tb_end(struct tb *t);

/* A memfd holding the bytes, positioned at 0. */
int mem_fd(const void *data, size_t len);
/* Read all of an fd from offset 0 (malloc'ed). */
unsigned char *fd_bytes(int fd, size_t *ret_len);

/* mkdtemp under $TMPDIR; caller frees and removes. */
char *scratch_dir(const char *tag);
void remove_tree(const char *path);
/* Create a file with content, mode, times. */
void put_file(const char *path, const char *content, unsigned mode);
int path_exists(const char *path);

/*
 * Compare two trees: type, mode, uid, gid, size, content, link target,
 * xattrs (all names except security.selinux), mtimes of non-directories
 * when `times` is set, and hardlink identity. Returns 0 when equal, else
 * writes the first difference into `why`.
 */
int tree_equal(const char *a, const char *b, int times, char *why, size_t why_len);

/* "type path [-> target]" lines of a tar (via kiln's reader), in order or sorted. NULL on error. */
char *tar_listing(int fd, int sorted);

/* "a/b", allocated (aborts on ENOMEM). */
char *path_join(const char *a, const char *b);

/* Apply a layer fd / built archive to directory `dir`. */
int apply_fd(int fd, const char *dir, const struct kiln_layer_apply_opts *o,
	     struct kiln_layer_apply_result *res, struct kiln_error *err);
int apply_tb(struct tb *t, const char *dir, const struct kiln_layer_apply_opts *o,
	     struct kiln_layer_apply_result *res, struct kiln_error *err);
/* Write directory `src` as a layer (mode `tm`) and apply it to `dst`. */
int copy_via_layer(const char *src, const char *dst, enum kiln_layer_tree_mode tm,
		   const struct kiln_layer_write_opts *wo, const struct kiln_layer_apply_opts *ao,
		   struct kiln_error *err);
