/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tar reader: USTAR, PAX (local records; global headers skipped), GNU
 * (long names, old sparse), V7 and star, parsed the way Go's archive/tar
 * parses them for Docker and containerd: same checksum rule, same numeric
 * fields (octal or base-256), PAX records overriding header fields, GNU
 * sparse files in all their forms. Every size taken from the stream is
 * bounded by struct kiln_layer_limits.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "layer/apply.h"
#include "layer/tar-read.h"

/* ---------------------------------------------------------------------- */

char kiln_tar_type_char(enum kiln_tar_type t)
{
	static const char chars[] = "-hlcbdp";
	return (unsigned) t < sizeof(chars) - 1 ? chars[t] : '?';
}

void kiln_tar_entry_release(struct kiln_tar_entry *e)
{
	if (!e)
		return;
	free(e->path);
	free(e->link);
	for (size_t i = 0; i < e->n_xattrs; i++) {
		free(e->xattrs[i].name);
		free(e->xattrs[i].value);
	}
	free(e->xattrs);
	memset(e, 0, sizeof(*e));
}

int kiln_layer_quote(const char *s, struct kiln_buf *out)
{
	size_t n = 0;
	int r = 0;
	for (const unsigned char *p = (const unsigned char *) s; *p && r == 0; p++, n++) {
		if (n == 200) {
			r = kiln_buf_addstr(out, "...");
			break;
		}
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			r = kiln_buf_addf(out, "\\x%02x", *p);
		else
			r = kiln_buf_addch(out, (char) *p);
	}
	return r;
}

static void pending_release(struct pending *p)
{
	free(p->path);
	free(p->linkpath);
	free(p->gnu_long);
	free(p->gnu_link);
	free(p->sparse_name);
	for (size_t i = 0; i < p->n_xattrs; i++) {
		free(p->xattrs[i].name);
		free(p->xattrs[i].value);
	}
	free(p->xattrs);
	kiln_buf_release(&p->sparse_map);
	memset(p, 0, sizeof(*p));
	kiln_buf_init(&p->sparse_map, 0);
}

/* "tar entry N 'name' at offset X: " in front of a message. */
__attribute__((format(printf, 5, 6))) int kiln_layer_tr_fail(struct kiln_layer_reader *r,
							     struct kiln_error *err,
							     enum kiln_err code, const char *name,
							     const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cleanup(kiln_buf_release) struct kiln_buf q = KILN_BUF_INIT;
	if (name && *name && kiln_layer_quote(name, &q) == 0)
		return kiln_fail(err, code, 0, "tar entry %llu '%s' at offset %llu: %s",
				 (unsigned long long) r->index + 1, q.buf,
				 (unsigned long long) r->header_off, msg);
	return kiln_fail(err, code, 0, "tar entry %llu at offset %llu: %s",
			 (unsigned long long) r->index + 1, (unsigned long long) r->header_off,
			 msg);
}

/* An error in the data of the entry last returned (the reader has counted it). */
static int data_fail(struct kiln_layer_reader *r, struct kiln_error *err, const char *what)
{
	cleanup(kiln_buf_release) struct kiln_buf q = KILN_BUF_INIT;
	if (r->entry.path && kiln_layer_quote(r->entry.path, &q) == 0)
		return kiln_fail(err, KILN_EPARSE, 0, "tar entry %llu '%s' at offset %llu: %s",
				 (unsigned long long) r->index, q.buf,
				 (unsigned long long) r->header_off, what);
	return kiln_fail(err, KILN_EPARSE, 0, "tar entry %llu at offset %llu: %s",
			 (unsigned long long) r->index, (unsigned long long) r->header_off, what);
}

/* A NUL-terminated copy of a fixed-size field, up to its first NUL. */
static char *field_str(const unsigned char *b, size_t n)
{
	size_t len = strnlen((const char *) b, n);
	return kiln_strndup((const char *) b, len);
}

/* ---------------------------------------------------------------------- */
/* Blocks                                                                  */
/* ---------------------------------------------------------------------- */

/* 0 = block read, 1 = clean EOF before it. */
int kiln_layer_tr_read_block(struct kiln_layer_reader *r, struct kiln_error *err)
{
	int q = kiln_layer_in_read_full(r->pipe, r->blk, TAR_BLOCK, err);
	if (q < 0)
		return q;
	if (q == 2)
		return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL, "truncated header");
	if (q == 0)
		r->tar_off += TAR_BLOCK;
	return q;
}

static uint64_t pad_of(uint64_t size)
{
	return (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
}

static int skip_bytes(struct kiln_layer_reader *r, uint64_t n, struct kiln_error *err)
{
	int q = kiln_layer_in_skip(r->pipe, n, r->ctx, err);
	if (q < 0)
		return q;
	if (q > 0)
		return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL, "truncated padding");
	r->tar_off += n;
	return 0;
}

/* The data of a special header (PAX, GNU long name), bounded. */
static int read_special(struct kiln_layer_reader *r, int64_t size, char **ret, size_t *ret_len,
			struct kiln_error *err)
{
	if (size < 0)
		return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL, "negative size");
	if ((uint64_t) size > r->lim.max_pax_header)
		return kiln_layer_tr_fail(r, err, KILN_ELIMIT, NULL,
					  "extended header of %lld bytes exceeds the limit of %zu",
					  (long long) size, r->lim.max_pax_header);
	char *d = kiln_malloc((size_t) size + 1);
	if (!d)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int q = size ? kiln_layer_in_read_full(r->pipe, d, (size_t) size, err) : 0;
	if (q != 0) {
		free(d);
		return q < 0 ? q
			     : kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
						  "truncated extended header");
	}
	d[size] = '\0';
	r->tar_off += (uint64_t) size;
	q = skip_bytes(r, pad_of((uint64_t) size), err);
	if (q < 0) {
		free(d);
		return q;
	}
	*ret = d;
	*ret_len = (size_t) size;
	return 0;
}

enum tar_format { FMT_V7, FMT_USTAR, FMT_STAR, FMT_GNU };

static int checksum_ok(const unsigned char *b)
{
	int64_t want;
	if (kiln_layer_tr_numeric(b + 148, 8, &want) < 0)
		return 0;
	int64_t u = 0, s = 0;
	for (int i = 0; i < TAR_BLOCK; i++) {
		unsigned char c = (i >= 148 && i < 156) ? ' ' : b[i];
		u += c;
		s += (signed char) c;
	}
	return want == u || want == s;
}

static enum tar_format block_format(const unsigned char *b)
{
	if (memcmp(b + 257, "ustar\0", 6) == 0 && memcmp(b + 263, "00", 2) == 0)
		return memcmp(b + 508, "tar\0", 4) == 0 ? FMT_STAR : FMT_USTAR;
	if (memcmp(b + 257, "ustar ", 6) == 0 && memcmp(b + 263, " \0", 2) == 0)
		return FMT_GNU;
	return FMT_V7;
}

static int is_zero_block(const unsigned char *b)
{
	for (int i = 0; i < TAR_BLOCK; i++)
		if (b[i])
			return 0;
	return 1;
}

/* ---------------------------------------------------------------------- */
/* The reader                                                              */
/* ---------------------------------------------------------------------- */

int kiln_layer_reader_new(int fd, const struct kiln_layer_read_opts *opts,
			  struct kiln_layer_reader **ret, struct kiln_error *err)
{
	struct kiln_layer_reader *r = kiln_calloc(1, sizeof(*r));
	if (!r)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	kiln_buf_init(&r->pend.sparse_map, 0);
	kiln_layer_limits_resolve(opts ? opts->limits : NULL, &r->lim);
	if (opts) {
		r->ctx = opts->ctx;
		r->check_names = opts->check_names;
		if (opts->expect_digest) {
			r->has_digest = 1;
			r->expect_digest = *opts->expect_digest;
		}
		if (opts->expect_diff_id) {
			r->has_diff_id = 1;
			r->expect_diff_id = *opts->expect_diff_id;
		}
	}
	int q = kiln_layer_in_new(fd, &r->pipe, err);
	if (q < 0) {
		kiln_layer_reader_free(r);
		return q;
	}
	*ret = r;
	return 0;
}

void kiln_layer_reader_free(struct kiln_layer_reader *r)
{
	if (!r)
		return;
	kiln_layer_in_free(r->pipe);
	kiln_tar_entry_release(&r->entry);
	pending_release(&r->pend);
	kiln_buf_release(&r->pend.sparse_map);
	free(r->segs);
	free(r);
}

enum kiln_compression kiln_layer_reader_compression(const struct kiln_layer_reader *r)
{
	return kiln_layer_in_compression(r->pipe);
}

struct kiln_layer_in *kiln_layer_reader_pipe(struct kiln_layer_reader *r)
{
	return r->pipe;
}

uint64_t kiln_layer_reader_entry_index(const struct kiln_layer_reader *r)
{
	return r->index;
}

static int pending_empty(const struct pending *p)
{
	return !p->path && !p->linkpath && !p->gnu_long && !p->gnu_link && !p->has_size &&
	       !p->has_uid && !p->has_gid && !p->has_mtime && !p->n_xattrs && !p->sparse_name &&
	       !p->has_sparse_version && !p->sparse_map.len;
}

/* Read header blocks up to the next real entry; 1 = an entry's header is in r->blk. */
static int next_header(struct kiln_layer_reader *r, struct kiln_error *err)
{
	for (;;) {
		int q = kiln_layer_tr_read_block(r, err);
		if (q < 0)
			return q;
		if (q == 0 && is_zero_block(r->blk)) {
			/* end of archive: two zero blocks (or one and EOF) */
			q = kiln_layer_tr_read_block(r, err);
			if (q < 0)
				return q;
			if (q == 0 && !is_zero_block(r->blk))
				return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
							  "data after an end-of-archive block");
			q = 1;
		}
		if (q == 1) {
			if (!pending_empty(&r->pend))
				return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
							  "archive ends after an extended header");
			return 0;
		}
		if (!checksum_ok(r->blk))
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
						  "bad header checksum (not a tar archive?)");
		int64_t size;
		if (kiln_layer_tr_numeric(r->blk + 124, 12, &size) < 0 || size < 0)
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL, "bad size field");
		char type = (char) r->blk[156];
		if (type != 'x' && type != 'g' && type != 'L' && type != 'K')
			return 1;
		char *data = NULL;
		size_t len = 0;
		q = read_special(r, size, &data, &len, err);
		if (q < 0)
			return q;
		if (type == 'x') {
			q = kiln_layer_tr_parse_pax(r, data, len, err);
		} else if (type == 'L' || type == 'K') {
			char **dst = type == 'L' ? &r->pend.gnu_long : &r->pend.gnu_link;
			q = kiln_layer_tr_replace_str(dst, data, strnlen(data, len));
			if (q < 0)
				q = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
		/* 'g': PAX global headers are skipped, as Docker does */
		free(data);
		if (q < 0)
			return q;
	}
}

static int check_id(struct kiln_layer_reader *r, int64_t v, const char *what, uint32_t *ret,
		    struct kiln_error *err)
{
	if (v < 0 || (uint64_t) v >= UINT32_MAX)
		return kiln_layer_tr_fail(r, err, KILN_EPARSE, r->entry.path,
					  "%s %lld out of range", what, (long long) v);
	*ret = (uint32_t) v;
	return 0;
}

static int build_entry(struct kiln_layer_reader *r, struct kiln_error *err)
{
	struct kiln_tar_entry *e = &r->entry;
	struct pending *p = &r->pend;
	const unsigned char *b = r->blk;
	enum tar_format fmt = block_format(b);
	char type = (char) b[156];
	int64_t v;

	/* name: GNU long name, else PAX path, else prefix + name */
	if (p->gnu_long) {
		e->path = steal_ptr(&p->gnu_long);
	} else if (p->path) {
		e->path = steal_ptr(&p->path);
	} else {
		cleanup_free char *name = field_str(b, 100);
		cleanup_free char *prefix = NULL;
		if (fmt == FMT_USTAR || fmt == FMT_STAR)
			prefix = field_str(b + 345, fmt == FMT_USTAR ? 155 : 131);
		if (!name || ((fmt == FMT_USTAR || fmt == FMT_STAR) && !prefix))
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		if (prefix && *prefix)
			e->path = kiln_asprintf("%s/%s", prefix, name);
		else
			e->path = steal_ptr(&name);
	}
	if (p->gnu_link)
		e->link = steal_ptr(&p->gnu_link);
	else if (p->linkpath)
		e->link = steal_ptr(&p->linkpath);
	else
		e->link = field_str(b + 157, 100);
	if (!e->path || !e->link)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");

	if (kiln_layer_tr_numeric(b + 100, 8, &v) < 0)
		return kiln_layer_tr_fail(r, err, KILN_EPARSE, e->path, "bad mode field");
	e->mode = (uint32_t) v & 07777;
	if (p->has_uid)
		v = p->uid > INT64_MAX ? -1 : (int64_t) p->uid;
	else if (kiln_layer_tr_numeric(b + 108, 8, &v) < 0)
		return kiln_layer_tr_fail(r, err, KILN_EPARSE, e->path, "bad uid field");
	int q = check_id(r, v, "uid", &e->uid, err);
	if (q < 0)
		return q;
	if (p->has_gid)
		v = p->gid > INT64_MAX ? -1 : (int64_t) p->gid;
	else if (kiln_layer_tr_numeric(b + 116, 8, &v) < 0)
		return kiln_layer_tr_fail(r, err, KILN_EPARSE, e->path, "bad gid field");
	q = check_id(r, v, "gid", &e->gid, err);
	if (q < 0)
		return q;
	if (p->has_mtime) {
		e->mtime = p->mtime;
		e->mtime_nsec = p->mtime_nsec;
	} else if (kiln_layer_tr_numeric(b + 136, 12, &e->mtime) < 0) {
		return kiln_layer_tr_fail(r, err, KILN_EPARSE, e->path, "bad mtime field");
	}
	if (fmt != FMT_V7) {
		int64_t maj, min;
		if (kiln_layer_tr_numeric(b + 329, 8, &maj) < 0 ||
		    kiln_layer_tr_numeric(b + 337, 8, &min) < 0 || maj < 0 || min < 0 ||
		    maj > UINT32_MAX || min > UINT32_MAX)
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, e->path,
						  "bad device number");
		e->devmajor = (uint32_t) maj;
		e->devminor = (uint32_t) min;
	}

	int64_t hsize;
	(void) kiln_layer_tr_numeric(b + 124, 12, &hsize); /* checked in next_header */
	uint64_t stored = p->has_size ? p->size : (uint64_t) hsize;
	uint64_t data = 0;
	switch (type) {
	case '0':
	case '7':
	case 'S':
		e->type = KILN_TAR_REG;
		data = stored;
		break;
	case '\0': {
		size_t n = strlen(e->path);
		e->type = n && e->path[n - 1] == '/' ? KILN_TAR_DIR : KILN_TAR_REG;
		data = e->type == KILN_TAR_REG ? stored : 0;
		break;
	}
	case '1':
		e->type = KILN_TAR_HARDLINK;
		break;
	case '2':
		e->type = KILN_TAR_SYMLINK;
		break;
	case '3':
		e->type = KILN_TAR_CHAR;
		break;
	case '4':
		e->type = KILN_TAR_BLOCK;
		break;
	case '5':
		e->type = KILN_TAR_DIR;
		break;
	case '6':
		e->type = KILN_TAR_FIFO;
		break;
	case 'D':
		/* GNU dumpdir: a directory whose data (a name list) is skipped */
		e->type = KILN_TAR_DIR;
		data = stored;
		break;
	default:
		if (type >= 0x20 && type < 0x7f)
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, e->path,
						  "unsupported entry type '%c'", type);
		return kiln_layer_tr_fail(r, err, KILN_EPARSE, e->path,
					  "unsupported entry type 0x%02x", (unsigned char) type);
	}
	if (e->type != KILN_TAR_HARDLINK && e->type != KILN_TAR_SYMLINK) {
		free(e->link);
		e->link = NULL;
	} else if (!e->link[0]) {
		return kiln_layer_tr_fail(r, err, KILN_EPARSE, e->path, "link without a target");
	}
	r->data_left = data;
	r->pad = pad_of(data);
	e->size = e->type == KILN_TAR_REG ? data : 0;

	/* sparse files */
	r->n_segs = 0;
	r->sparse = 0;
	if (type == 'S') {
		if (fmt != FMT_GNU)
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, e->path,
						  "sparse entry not in GNU format");
		q = kiln_layer_tr_old_gnu_sparse(r, &e->size, err);
		if (q < 0)
			return q;
		r->sparse = 1;
	} else if (e->type == KILN_TAR_REG &&
		   (p->has_sparse_version ? (p->sparse_major == 0 && p->sparse_minor <= 1) ||
						    (p->sparse_major == 1 && p->sparse_minor == 0)
					  : p->sparse_map.len > 0)) {
		int v10 = p->has_sparse_version && p->sparse_major == 1;
		if (p->sparse_name) {
			free(e->path);
			e->path = steal_ptr(&p->sparse_name);
		}
		if (p->has_sparse_size)
			e->size = p->sparse_size;
		q = v10 ? kiln_layer_tr_sparse_map_10(r, err) : kiln_layer_tr_sparse_map_01(r, err);
		if (q < 0)
			return q;
		r->sparse = 1;
	}
	if (r->sparse) {
		q = kiln_layer_tr_check_sparse(r, e->size, r->data_left, err);
		if (q < 0)
			return q;
	}

	size_t plen = strlen(e->path);
	if (plen == 0)
		return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL, "entry with an empty name");
	if (plen > r->lim.max_path)
		return kiln_layer_tr_fail(r, err, KILN_ELIMIT, NULL,
					  "name of %zu bytes exceeds the limit of %zu", plen,
					  r->lim.max_path);
	if (e->link && strlen(e->link) > r->lim.max_path)
		return kiln_layer_tr_fail(r, err, KILN_ELIMIT, e->path,
					  "link target of %zu bytes exceeds the limit of %zu",
					  strlen(e->link), r->lim.max_path);
	if (e->size > r->lim.max_entry_size)
		return kiln_layer_tr_fail(
			r, err, KILN_ELIMIT, e->path, "size %llu exceeds the limit of %llu bytes",
			(unsigned long long) e->size, (unsigned long long) r->lim.max_entry_size);
	r->total_size += e->size;
	if (r->total_size > r->lim.max_total_size)
		return kiln_layer_tr_fail(
			r, err, KILN_ELIMIT, e->path,
			"the layer's files exceed the limit of %llu bytes in total",
			(unsigned long long) r->lim.max_total_size);
	e->xattrs = steal_ptr(&p->xattrs);
	e->n_xattrs = p->n_xattrs;
	p->n_xattrs = 0;
	return 0;
}

/* The names an unpack would refuse: the entry's, a hard link's target. */
static int check_names(struct kiln_layer_reader *r, struct kiln_error *err)
{
	const struct kiln_tar_entry *e = &r->entry;
	for (int k = 0; k < 2; k++) {
		const char *name = k ? e->link : e->path;
		if (k && e->type != KILN_TAR_HARDLINK)
			break;
		cleanup_free char *clean = NULL;
		int dotdot;
		int q = kiln_layer_apply_clean_name(name ? name : "", 0, &clean, &dotdot);
		if (q == -KILN_ENOMEM)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		if (q < 0)
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, e->path, "%s leaves the root",
						  k ? "its hard link's target" : "the path");
	}
	return 0;
}

int kiln_layer_reader_next(struct kiln_layer_reader *r, const struct kiln_tar_entry **ret_entry,
			   struct kiln_error *err)
{
	*ret_entry = NULL;
	if (r->at_end)
		return 0;
	if (kiln_cancelled(r->ctx))
		return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
	int q = kiln_layer_in_skip(r->pipe, r->data_left + r->pad, r->ctx, err);
	if (q < 0)
		return q;
	if (q > 0)
		return data_fail(r, err, "truncated data");
	r->tar_off += r->data_left + r->pad;
	r->data_left = r->pad = 0;
	kiln_tar_entry_release(&r->entry);
	pending_release(&r->pend);
	r->seg_idx = 0;
	r->seg_done = 0;
	r->logical_pos = 0;
	r->header_off = r->tar_off;

	q = next_header(r, err);
	if (q < 0)
		return q;
	if (q == 0) {
		r->at_end = 1;
		return 0;
	}
	if (r->index >= r->lim.max_entries)
		return kiln_layer_tr_fail(r, err, KILN_ELIMIT, NULL, "more than %llu entries",
					  (unsigned long long) r->lim.max_entries);
	q = build_entry(r, err);
	if (q < 0)
		return q;
	if (r->check_names && (q = check_names(r, err)) < 0)
		return q;
	r->index++;
	*ret_entry = &r->entry;
	return 1;
}

static int read_stored(struct kiln_layer_reader *r, void *buf, size_t len, size_t *ret_n,
		       struct kiln_error *err)
{
	size_t k = r->data_left < len ? (size_t) r->data_left : len;
	*ret_n = 0;
	if (k == 0)
		return 0;
	if (kiln_cancelled(r->ctx))
		return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
	size_t got;
	int q = kiln_layer_in_read(r->pipe, buf, k, &got, err);
	if (q < 0)
		return q;
	if (got == 0)
		return data_fail(r, err, "truncated data");
	r->data_left -= got;
	r->tar_off += got;
	*ret_n = got;
	return 0;
}

static void seg_advance(struct kiln_layer_reader *r)
{
	while (r->seg_idx < r->n_segs && r->seg_done == r->segs[r->seg_idx].len) {
		r->seg_idx++;
		r->seg_done = 0;
	}
}

int kiln_layer_reader_read_sparse(struct kiln_layer_reader *r, void *buf, size_t len,
				  uint64_t *ret_offset, size_t *ret_n, struct kiln_error *err)
{
	*ret_n = 0;
	*ret_offset = r->logical_pos;
	if (r->entry.type != KILN_TAR_REG || r->at_end)
		return 0;
	if (!r->sparse) {
		int q = read_stored(r, buf, len, ret_n, err);
		r->logical_pos += *ret_n;
		return q;
	}
	seg_advance(r);
	if (r->seg_idx == r->n_segs)
		return 0;
	const struct sparse_seg *s = &r->segs[r->seg_idx];
	uint64_t left = s->len - r->seg_done;
	size_t k = left < len ? (size_t) left : len;
	*ret_offset = s->off + r->seg_done;
	int q = read_stored(r, buf, k, ret_n, err);
	if (q < 0)
		return q;
	r->seg_done += *ret_n;
	r->logical_pos = *ret_offset + *ret_n;
	return 0;
}

int kiln_layer_reader_read(struct kiln_layer_reader *r, void *buf, size_t len, size_t *ret_n,
			   struct kiln_error *err)
{
	*ret_n = 0;
	if (r->entry.type != KILN_TAR_REG || r->at_end)
		return 0;
	if (!r->sparse) {
		int q = read_stored(r, buf, len, ret_n, err);
		r->logical_pos += *ret_n;
		return q;
	}
	if (r->logical_pos >= r->entry.size || len == 0)
		return 0;
	seg_advance(r);
	if (r->seg_idx < r->n_segs && r->logical_pos >= r->segs[r->seg_idx].off) {
		const struct sparse_seg *s = &r->segs[r->seg_idx];
		uint64_t left = s->len - r->seg_done;
		size_t k = left < len ? (size_t) left : len;
		int q = read_stored(r, buf, k, ret_n, err);
		if (q < 0)
			return q;
		r->seg_done += *ret_n;
		r->logical_pos += *ret_n;
		return 0;
	}
	uint64_t next = r->seg_idx < r->n_segs ? r->segs[r->seg_idx].off : r->entry.size;
	uint64_t hole = next - r->logical_pos;
	size_t k = hole < len ? (size_t) hole : len;
	memset(buf, 0, k);
	r->logical_pos += k;
	*ret_n = k;
	return 0;
}

int kiln_layer_reader_finish(struct kiln_layer_reader *r, struct kiln_layer_digests *ret,
			     struct kiln_error *err)
{
	if (r->finished)
		return kiln_fail(err, KILN_EINTERNAL, 0, "layer reader finished twice");
	r->finished = 1;
	struct kiln_layer_digests d;
	int q = kiln_layer_in_finish(r->pipe, &d, err);
	if (q < 0)
		return q;
	if (ret)
		*ret = d;
	if (r->has_digest && !kiln_digest_equal(&r->expect_digest, &d.digest))
		return kiln_fail(err, KILN_EDIGEST, 0, "layer digest mismatch: expected %s, got %s",
				 r->expect_digest.str, d.digest.str);
	if (r->has_diff_id && !kiln_digest_equal(&r->expect_diff_id, &d.diff_id))
		return kiln_fail(err, KILN_EDIGEST, 0,
				 "layer diff_id mismatch: expected %s, got %s",
				 r->expect_diff_id.str, d.diff_id.str);
	return 0;
}

int kiln_layer_digest_fd(int fd, const struct kiln_layer_read_opts *opts,
			 struct kiln_layer_digests *ret, struct kiln_error *err)
{
	cleanup(kiln_layer_reader_freep) struct kiln_layer_reader *r = NULL;
	int q = kiln_layer_reader_new(fd, opts, &r, err);
	if (q < 0)
		return q;
	for (;;) {
		const struct kiln_tar_entry *e;
		q = kiln_layer_reader_next(r, &e, err);
		if (q < 0)
			return q;
		if (q == 0)
			break;
	}
	return kiln_layer_reader_finish(r, ret, err);
}

int kiln_layer_is_archive(int fd, struct kiln_error *err)
{
	cleanup(kiln_layer_reader_freep) struct kiln_layer_reader *r = NULL;
	struct kiln_error e = KILN_ERROR_INIT;
	int q = kiln_layer_reader_new(fd, NULL, &r, &e);
	if (q == 0) {
		const struct kiln_tar_entry *ent;
		q = kiln_layer_reader_next(r, &ent, &e);
	}
	if (q == -KILN_EIO || q == -KILN_ENOMEM) {
		if (err)
			kiln_error_move(err, &e);
		kiln_error_release(&e);
		return q;
	}
	kiln_error_release(&e);
	return q == 1 ? 1 : 0;
}
