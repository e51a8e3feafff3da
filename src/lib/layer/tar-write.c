/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tar writer. Headers are encoded the way Go's archive/tar encodes the
 * headers containerd and BuildKit give it (Format PAX, no uname/gname, no
 * atime/ctime, whole-second mtimes): a plain USTAR block when every field
 * fits (long names split into prefix/name), otherwise a PAX extended header
 * with sorted records followed by the USTAR block. The archive ends with
 * two zero blocks and no record padding.
 */
#include <stdio.h>
#include <string.h>

#include "layer/internal.h"

#define PAX_MAX ((size_t) 1 << 20) /* Go's maxSpecialFileSize */

static const unsigned char zero_blocks[2 * TAR_BLOCK];

/* ---------------------------------------------------------------------- */
/* Header encoding                                                         */
/* ---------------------------------------------------------------------- */

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char) *s >= 0x80)
			return 0;
	return 1;
}

/* Go's toASCII: drop every non-ASCII byte. */
static char *to_ascii(const char *s)
{
	char *o = kiln_strdup(s);
	if (!o)
		return NULL;
	char *w = o;
	for (const char *p = s; *p; p++)
		if ((unsigned char) *p < 0x80)
			*w++ = *p;
	*w = '\0';
	return o;
}

static int fits_octal(size_t n, int64_t x)
{
	unsigned bits = (unsigned) (n - 1) * 3;
	return x >= 0 && (n >= 22 || (uint64_t) x < (UINT64_C(1) << bits));
}

/* Go's formatOctal: zero-padded digits and a NUL; 0 when the value does not fit. */
static void fmt_octal(unsigned char *b, size_t n, int64_t x)
{
	if (!fits_octal(n, x))
		x = 0;
	for (size_t i = n - 1; i-- > 0;) {
		b[i] = (unsigned char) ('0' + (x & 7));
		x >>= 3;
	}
	b[n - 1] = 0;
}

/* Go's formatString: copy what fits, NUL-terminate when there is room. */
static void fmt_str(unsigned char *b, size_t n, const char *s)
{
	size_t len = strlen(s);
	memcpy(b, s, len < n ? len : n);
	if (len < n)
		b[len] = 0;
}

static void set_ustar_magic_and_checksum(unsigned char *b)
{
	memcpy(b + 257, "ustar\0", 6);
	memcpy(b + 263, "00", 2);
	memset(b + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < TAR_BLOCK; i++)
		sum += b[i];
	fmt_octal(b + 148, 7, sum);
	b[155] = ' ';
}

/* Go's splitUSTARPath: prefix (<= 155) + "/" + name (<= 100). */
static int split_ustar(const char *name, size_t *ret_prefix_len)
{
	size_t len = strlen(name);
	if (len <= 100 || !is_ascii(name))
		return 0;
	size_t length = len;
	if (length > 156)
		length = 156;
	else if (name[length - 1] == '/')
		length--;
	size_t i = length;
	while (i > 0 && name[i - 1] != '/')
		i--;
	if (i == 0)
		return 0;
	i--; /* index of the '/' */
	size_t nlen = len - i - 1;
	if (i == 0 || nlen > 100 || nlen == 0 || i > 155)
		return 0;
	*ret_prefix_len = i;
	return 1;
}

struct pax_rec {
	const char *key;
	const void *val;
	size_t len;
	char *owned_key;
};

static int rec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pax_rec *) a)->key, ((const struct pax_rec *) b)->key);
}

static int add_record(struct kiln_buf *out, const char *key, const void *val, size_t vlen)
{
	/* the length field counts itself */
	size_t size = strlen(key) + vlen + 3;
	char digits[24];
	int nd = snprintf(digits, sizeof(digits), "%zu", size);
	size += (size_t) nd;
	nd = snprintf(digits, sizeof(digits), "%zu", size);
	if (strlen(key) + vlen + 3 + (size_t) nd != size)
		size++;
	int r = kiln_buf_addf(out, "%zu %s=", size, key);
	if (r == 0)
		r = kiln_buf_add(out, val, vlen);
	if (r == 0)
		r = kiln_buf_addch(out, '\n');
	return r;
}

/* The name Go gives a PAX header: dir/PaxHeaders.0/file, ASCII, <= 100. */
static char *pax_header_name(const char *name)
{
	const char *slash = strrchr(name, '/');
	cleanup_free char *joined = NULL;
	if (!slash)
		joined = kiln_asprintf("PaxHeaders.0/%s", name);
	else if (slash[1] == '\0')
		joined = kiln_asprintf("%.*s/PaxHeaders.0", (int) (slash - name), name);
	else
		joined = kiln_asprintf("%.*sPaxHeaders.0/%s", (int) (slash - name + 1), name,
				       slash + 1);
	if (!joined)
		return NULL;
	char *a = to_ascii(joined);
	if (!a)
		return NULL;
	if (strlen(a) > 100)
		a[100] = '\0';
	size_t n = strlen(a);
	while (n > 0 && a[n - 1] == '/')
		a[--n] = '\0';
	return a;
}

static char typeflag_of(enum kiln_tar_type t)
{
	static const char flags[] = "0123456";
	return flags[t];
}

int kiln_layer_tar_encode(const struct kiln_tar_entry *e, const char *name, struct kiln_buf *out,
			  struct kiln_error *err)
{
	const int64_t max_id = 07777777, max_num = 077777777777;
	const char *link = e->link ? e->link : "";
	struct pax_rec recs[6];
	size_t n_recs = 0;
	int need_pax = e->n_xattrs > 0;
	char uid_s[24], gid_s[24], size_s[24], mtime_s[24];

	if (!is_ascii(name) || strlen(name) > 100) {
		size_t pl;
		recs[n_recs++] = (struct pax_rec){ "path", name, strlen(name), NULL };
		if (!split_ustar(name, &pl))
			need_pax = 1;
	}
	if (!is_ascii(link) || strlen(link) > 100) {
		recs[n_recs++] = (struct pax_rec){ "linkpath", link, strlen(link), NULL };
		need_pax = 1;
	}
	if (e->uid > max_id) {
		(void) snprintf(uid_s, sizeof(uid_s), "%u", e->uid);
		recs[n_recs++] = (struct pax_rec){ "uid", uid_s, strlen(uid_s), NULL };
		need_pax = 1;
	}
	if (e->gid > max_id) {
		(void) snprintf(gid_s, sizeof(gid_s), "%u", e->gid);
		recs[n_recs++] = (struct pax_rec){ "gid", gid_s, strlen(gid_s), NULL };
		need_pax = 1;
	}
	if (e->size > (uint64_t) max_num) {
		(void) snprintf(size_s, sizeof(size_s), "%llu", (unsigned long long) e->size);
		recs[n_recs++] = (struct pax_rec){ "size", size_s, strlen(size_s), NULL };
		need_pax = 1;
	}
	if (e->mtime < 0 || e->mtime > max_num) {
		(void) snprintf(mtime_s, sizeof(mtime_s), "%lld", (long long) e->mtime);
		recs[n_recs++] = (struct pax_rec){ "mtime", mtime_s, strlen(mtime_s), NULL };
		need_pax = 1;
	}
	if (e->devmajor > max_id || e->devminor > max_id)
		return kiln_fail(err, KILN_EINVAL, 0, "device number of '%s' too large for tar",
				 name);

	unsigned char *pax_blk = NULL;
	if (need_pax) {
		size_t total = n_recs + e->n_xattrs;
		struct pax_rec *all = kiln_calloc(total ? total : 1, sizeof(*all));
		if (!all)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		memcpy(all, recs, n_recs * sizeof(*all));
		int r = 0;
		for (size_t i = 0; i < e->n_xattrs && r == 0; i++) {
			const struct kiln_tar_xattr *x = &e->xattrs[i];
			if (!x->name[0] || strchr(x->name, '=')) {
				r = kiln_fail(err, KILN_EINVAL, 0,
					      "xattr name '%s' of '%s' cannot be stored in tar",
					      x->name, name);
				break;
			}
			all[n_recs + i].owned_key = kiln_asprintf("SCHILY.xattr.%s", x->name);
			if (!all[n_recs + i].owned_key) {
				r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
				break;
			}
			all[n_recs + i].key = all[n_recs + i].owned_key;
			all[n_recs + i].val = x->value;
			all[n_recs + i].len = x->len;
		}
		cleanup(kiln_buf_release) struct kiln_buf data = KILN_BUF_INIT;
		if (r == 0) {
			if (total > 1)
				qsort(all, total, sizeof(*all), rec_cmp);
			for (size_t i = 1; i < total && r == 0; i++)
				if (strcmp(all[i - 1].key, all[i].key) == 0)
					r = kiln_fail(err, KILN_EINVAL, 0,
						      "duplicate xattr on '%s'", name);
			for (size_t i = 0; i < total && r == 0; i++)
				if (add_record(&data, all[i].key, all[i].val, all[i].len) < 0)
					r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
		for (size_t i = 0; i < total; i++)
			free(all[i].owned_key);
		free(all);
		if (r < 0)
			return r;
		if (data.len > PAX_MAX)
			return kiln_fail(err, KILN_ELIMIT, 0,
					 "extended header of '%s' larger than %zu bytes", name,
					 PAX_MAX);
		cleanup_free char *pname = pax_header_name(name);
		if (!pname)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		size_t at = out->len;
		if (kiln_buf_grow(out, TAR_BLOCK) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		memset(out->buf + at, 0, TAR_BLOCK);
		pax_blk = (unsigned char *) out->buf + at;
		pax_blk[156] = 'x';
		fmt_str(pax_blk, 100, pname);
		fmt_octal(pax_blk + 100, 8, 0);
		fmt_octal(pax_blk + 108, 8, 0);
		fmt_octal(pax_blk + 116, 8, 0);
		fmt_octal(pax_blk + 124, 12, (int64_t) data.len);
		fmt_octal(pax_blk + 136, 12, 0);
		set_ustar_magic_and_checksum(pax_blk);
		kiln_buf_setlen(out, at + TAR_BLOCK);
		size_t padded = (data.len + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
		if (kiln_buf_add(out, data.buf, data.len) < 0 ||
		    kiln_buf_grow(out, padded - data.len) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		memset(out->buf + out->len, 0, padded - data.len);
		kiln_buf_setlen(out, out->len + padded - data.len);
	}

	size_t at = out->len;
	if (kiln_buf_grow(out, TAR_BLOCK) < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	unsigned char *b = (unsigned char *) out->buf + at;
	memset(b, 0, TAR_BLOCK);
	b[156] = (unsigned char) typeflag_of(e->type);
	if (need_pax) {
		cleanup_free char *an = to_ascii(name);
		cleanup_free char *al = to_ascii(link);
		if (!an || !al)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		fmt_str(b, 100, an);
		fmt_str(b + 157, 100, al);
	} else {
		size_t pl;
		if (strlen(name) > 100 && split_ustar(name, &pl)) {
			cleanup_free char *prefix = kiln_strndup(name, pl);
			if (!prefix)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			fmt_str(b, 100, name + pl + 1);
			fmt_str(b + 345, 155, prefix);
		} else {
			fmt_str(b, 100, name);
		}
		fmt_str(b + 157, 100, link);
	}
	fmt_octal(b + 100, 8, e->mode & 07777);
	fmt_octal(b + 108, 8, e->uid);
	fmt_octal(b + 116, 8, e->gid);
	fmt_octal(b + 124, 12, (int64_t) e->size);
	fmt_octal(b + 136, 12, e->mtime);
	fmt_str(b + 265, 32, "");
	fmt_str(b + 297, 32, "");
	fmt_octal(b + 329, 8, e->devmajor);
	fmt_octal(b + 337, 8, e->devminor);
	set_ustar_magic_and_checksum(b);
	kiln_buf_setlen(out, at + TAR_BLOCK);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* The writer                                                              */
/* ---------------------------------------------------------------------- */

struct kiln_layer_writer {
	struct kiln_layer_out *out;
	unsigned flags;
	int64_t clamp;
	const struct kiln_ctx *ctx;
	uint64_t data_left;
	uint64_t pad;
	struct kiln_buf hdr;
	struct link_map *links;
	int finished;
	int failed;
};

int kiln_layer_writer_new(int out_fd, const struct kiln_layer_write_opts *opts,
			  struct kiln_layer_writer **ret, struct kiln_error *err)
{
	struct kiln_layer_write_opts o = { 0 };
	if (opts)
		o = *opts;
	struct kiln_layer_writer *w = kiln_calloc(1, sizeof(*w));
	if (!w)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	w->flags = o.flags;
	w->clamp = o.mtime_clamp;
	w->ctx = o.ctx;
	kiln_buf_init(&w->hdr, 0);
	int r = kiln_layer_out_new(out_fd, o.compression, o.level, &w->out, err);
	if (r < 0) {
		kiln_layer_writer_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

void kiln_layer_writer_free(struct kiln_layer_writer *w)
{
	if (!w)
		return;
	kiln_layer_out_free(w->out);
	kiln_buf_release(&w->hdr);
	kiln_layer_link_map_free(w->links);
	free(w);
}

unsigned kiln_layer_writer_flags(const struct kiln_layer_writer *w)
{
	return w->flags;
}

const struct kiln_ctx *kiln_layer_writer_ctx(const struct kiln_layer_writer *w)
{
	return w->ctx;
}

struct link_map **kiln_layer_writer_links(struct kiln_layer_writer *w)
{
	return &w->links;
}

/* A relative path without empty, "." or ".." components and no slash at either end. */
int kiln_layer_path_is_clean(const char *p)
{
	if (!*p || *p == '/')
		return 0;
	for (;;) {
		const char *s = strchr(p, '/');
		size_t n = s ? (size_t) (s - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!s)
			return 1;
		p = s + 1;
	}
}

static int writer_check(struct kiln_layer_writer *w, struct kiln_error *err)
{
	if (w->failed)
		return kiln_fail(err, KILN_EINVAL, 0, "layer writer used after an error");
	if (w->finished)
		return kiln_fail(err, KILN_EINVAL, 0, "layer writer used after finish");
	return 0;
}

static int fail_writer(struct kiln_layer_writer *w, int r)
{
	if (r < 0)
		w->failed = 1;
	return r;
}

int kiln_layer_writer_add(struct kiln_layer_writer *w, const struct kiln_tar_entry *e,
			  struct kiln_error *err)
{
	int r = writer_check(w, err);
	if (r < 0)
		return r;
	if (w->data_left)
		return fail_writer(w, kiln_fail(err, KILN_EINVAL, 0,
						"previous entry is missing %llu bytes of data",
						(unsigned long long) w->data_left));
	if (!e->path || !kiln_layer_path_is_clean(e->path))
		return kiln_fail(err, KILN_EINVAL, 0, "invalid layer entry name '%s'",
				 e->path ? e->path : "(null)");
	if ((unsigned) e->type > KILN_TAR_FIFO)
		return kiln_fail(err, KILN_EINVAL, 0, "invalid entry type for '%s'", e->path);
	if ((e->type == KILN_TAR_SYMLINK || e->type == KILN_TAR_HARDLINK) &&
	    (!e->link || !e->link[0]))
		return kiln_fail(err, KILN_EINVAL, 0, "link '%s' without a target", e->path);
	if (e->type == KILN_TAR_HARDLINK && !kiln_layer_path_is_clean(e->link))
		return kiln_fail(err, KILN_EINVAL, 0, "invalid hardlink target '%s' for '%s'",
				 e->link, e->path);

	struct kiln_tar_entry n = *e;
	if (n.type != KILN_TAR_REG)
		n.size = 0;
	if (n.type != KILN_TAR_SYMLINK && n.type != KILN_TAR_HARDLINK)
		n.link = NULL;
	if (n.type != KILN_TAR_CHAR && n.type != KILN_TAR_BLOCK)
		n.devmajor = n.devminor = 0;
	n.mode &= 07777;
	if ((w->flags & KILN_WRITE_ROUND_MTIME) && n.mtime_nsec >= 500000000u)
		n.mtime++;
	n.mtime_nsec = 0;
	if ((w->flags & KILN_WRITE_CLAMP_MTIME) && n.mtime > w->clamp)
		n.mtime = w->clamp;

	cleanup_free char *name =
		n.type == KILN_TAR_DIR ? kiln_asprintf("%s/", n.path) : kiln_strdup(n.path);
	if (!name)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	kiln_buf_reset(&w->hdr);
	r = kiln_layer_tar_encode(&n, name, &w->hdr, err);
	if (r < 0)
		return r;
	r = kiln_layer_out_write(w->out, w->hdr.buf, w->hdr.len, err);
	if (r < 0)
		return fail_writer(w, r);
	w->data_left = n.size;
	w->pad = (TAR_BLOCK - n.size % TAR_BLOCK) % TAR_BLOCK;
	return 0;
}

int kiln_layer_writer_write_data(struct kiln_layer_writer *w, const void *buf, size_t len,
				 struct kiln_error *err)
{
	int r = writer_check(w, err);
	if (r < 0)
		return r;
	if (len > w->data_left)
		return fail_writer(w,
				   kiln_fail(err, KILN_EINVAL, 0,
					     "%zu bytes of data for an entry expecting %llu more",
					     len, (unsigned long long) w->data_left));
	r = kiln_layer_out_write(w->out, buf, len, err);
	if (r < 0)
		return fail_writer(w, r);
	w->data_left -= len;
	if (w->data_left == 0 && w->pad) {
		r = kiln_layer_out_write(w->out, zero_blocks, (size_t) w->pad, err);
		if (r < 0)
			return fail_writer(w, r);
		w->pad = 0;
	}
	return 0;
}

int kiln_layer_writer_finish(struct kiln_layer_writer *w, struct kiln_layer_digests *ret,
			     struct kiln_error *err)
{
	int r = writer_check(w, err);
	if (r < 0)
		return r;
	if (w->data_left)
		return fail_writer(w, kiln_fail(err, KILN_EINVAL, 0,
						"last entry is missing %llu bytes of data",
						(unsigned long long) w->data_left));
	r = kiln_layer_out_write(w->out, zero_blocks, sizeof(zero_blocks), err);
	if (r == 0)
		r = kiln_layer_out_finish(w->out, ret, err);
	if (r < 0)
		return fail_writer(w, r);
	w->finished = 1;
	return 0;
}

int kiln_layer_write_tree(int dir_fd, enum kiln_layer_tree_mode mode, int out_fd,
			  const struct kiln_layer_write_opts *opts, struct kiln_layer_digests *ret,
			  struct kiln_error *err)
{
	cleanup(kiln_layer_writer_freep) struct kiln_layer_writer *w = NULL;
	int r = kiln_layer_writer_new(out_fd, opts, &w, err);
	if (r < 0)
		return r;
	r = kiln_layer_writer_add_tree(w, dir_fd, NULL, mode, err);
	if (r < 0)
		return r;
	return kiln_layer_writer_finish(w, ret, err);
}

/* ---------------------------------------------------------------------- */
/* Re-compression                                                          */
/* ---------------------------------------------------------------------- */

static int tee_to_out(void *userdata, const void *buf, size_t len, struct kiln_error *err)
{
	return kiln_layer_out_write(userdata, buf, len, err);
}

int kiln_layer_recompress(int in_fd, int out_fd, const struct kiln_layer_read_opts *ropts,
			  const struct kiln_layer_write_opts *wopts,
			  struct kiln_layer_digests *ret_in, struct kiln_layer_digests *ret_out,
			  struct kiln_error *err)
{
	cleanup(kiln_layer_reader_freep) struct kiln_layer_reader *r = NULL;
	struct kiln_layer_out *out = NULL;
	int q = kiln_layer_reader_new(in_fd, ropts, &r, err);
	if (q < 0)
		return q;
	q = kiln_layer_out_new(out_fd, wopts ? wopts->compression : KILN_COMPRESSION_NONE,
			       wopts ? wopts->level : 0, &out, err);
	if (q < 0)
		return q;
	kiln_layer_in_set_tee(kiln_layer_reader_pipe(r), tee_to_out, out);
	for (;;) {
		const struct kiln_tar_entry *e;
		q = kiln_layer_reader_next(r, &e, err);
		if (q <= 0)
			break;
	}
	struct kiln_layer_digests din, dout;
	if (q == 0)
		q = kiln_layer_reader_finish(r, &din, err);
	if (q == 0)
		q = kiln_layer_out_finish(out, &dout, err);
	kiln_layer_out_free(out);
	if (q < 0)
		return q;
	if (!kiln_digest_equal(&din.diff_id, &dout.diff_id))
		return kiln_fail(err, KILN_EINTERNAL, 0, "re-compressed layer changed its diff_id");
	if (ret_in)
		*ret_in = din;
	if (ret_out)
		*ret_out = dout;
	return 0;
}
