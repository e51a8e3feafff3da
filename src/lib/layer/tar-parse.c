/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tar header fields: numbers (octal or base-256), PAX records (path,
 * linkpath, size, ids, times, SCHILY.xattr, GNU sparse) and the three GNU
 * sparse map formats, parsed as Go's archive/tar parses them.
 */
#include <string.h>

#include "layer/tar-read.h"

/* ---------------------------------------------------------------------- */
/* Field parsing                                                           */
/* ---------------------------------------------------------------------- */

/* Go's parseNumeric: base-256 when the high bit is set, else octal. */
int kiln_layer_tr_numeric(const unsigned char *b, size_t n, int64_t *ret)
{
	if (n > 0 && (b[0] & 0x80)) {
		unsigned char inv = (b[0] & 0x40) ? 0xff : 0x00;
		uint64_t x = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = b[i] ^ inv;
			if (i == 0)
				c &= 0x7f;
			if (x >> 56)
				return -1;
			x = x << 8 | c;
		}
		if (x >> 63)
			return -1;
		*ret = inv ? ~(int64_t) x : (int64_t) x;
		return 0;
	}
	size_t lo = 0, hi = n;
	while (lo < hi && (b[lo] == ' ' || b[lo] == 0))
		lo++;
	while (hi > lo && (b[hi - 1] == ' ' || b[hi - 1] == 0))
		hi--;
	uint64_t x = 0;
	for (size_t i = lo; i < hi; i++) {
		if (b[i] == 0)
			break;
		if (b[i] < '0' || b[i] > '7')
			return -1;
		if (x >> 61)
			return -1;
		x = x << 3 | (uint64_t) (b[i] - '0');
	}
	if (x >> 63)
		return -1;
	*ret = (int64_t) x;
	return 0;
}

int kiln_layer_tr_dec_u64(const char *s, uint64_t *ret)
{
	if (*s == '+')
		s++;
	if (!*s)
		return -1;
	uint64_t x = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t) (*s - '0');
	}
	*ret = x;
	return 0;
}

/* "[-]sec[.frac]" as PAX writes times. */
static int parse_pax_time(const char *s, int64_t *ret_sec, uint32_t *ret_nsec)
{
	int neg = 0;
	const char *p = s;
	if (*p == '-' || *p == '+') {
		neg = *p == '-';
		p++;
	}
	uint64_t sec = 0;
	const char *start = p;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (sec > (UINT64_C(1) << 62) / 10)
			return -1;
		sec = sec * 10 + (uint64_t) (*p - '0');
	}
	if (p == start)
		return -1;
	uint32_t nsec = 0;
	if (*p == '.') {
		p++;
		int digits = 0;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (digits < 9) {
				nsec = nsec * 10 + (uint32_t) (*p - '0');
				digits++;
			}
		}
		for (; digits < 9; digits++)
			nsec *= 10;
	}
	if (*p)
		return -1;
	int64_t s64 = (int64_t) sec;
	if (neg) {
		s64 = -s64;
		if (nsec) {
			s64 -= 1;
			nsec = 1000000000u - nsec;
		}
	}
	*ret_sec = s64;
	*ret_nsec = nsec;
	return 0;
}

static int xattr_set(struct kiln_tar_xattr **xs, size_t *n, const char *name, const void *value,
		     size_t len)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*xs)[i].name, name) == 0) {
			void *v = kiln_memdup(value, len ? len : 1);
			if (!v)
				return -KILN_ENOMEM;
			free((*xs)[i].value);
			(*xs)[i].value = v;
			(*xs)[i].len = len;
			return 0;
		}
	}
	struct kiln_tar_xattr *nx = kiln_reallocarray(*xs, *n + 1, sizeof(**xs));
	if (!nx)
		return -KILN_ENOMEM;
	*xs = nx;
	char *nm = kiln_strdup(name);
	void *v = kiln_memdup(value, len ? len : 1);
	if (!nm || !v) {
		free(nm);
		free(v);
		return -KILN_ENOMEM;
	}
	nx[*n] = (struct kiln_tar_xattr){ .name = nm, .value = v, .len = len };
	(*n)++;
	return 0;
}

int kiln_layer_tr_replace_str(char **dst, const char *src, size_t len)
{
	char *s = kiln_strndup(src, len);
	if (!s)
		return -KILN_ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

#define SCHILY_XATTR "SCHILY.xattr."

/* One PAX record, "key=value" (value may hold NULs). */
static int pax_record(struct kiln_layer_reader *r, const char *key, const char *val, size_t vlen,
		      struct kiln_error *err)
{
	struct pending *p = &r->pend;
	int has_nul = memchr(val, 0, vlen) != NULL;
	int q = 0;

	if (strncmp(key, SCHILY_XATTR, strlen(SCHILY_XATTR)) == 0) {
		const char *name = key + strlen(SCHILY_XATTR);
		if (!*name)
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
						  "PAX xattr record without a name");
		if (strlen(name) > 255)
			return kiln_layer_tr_fail(r, err, KILN_ELIMIT, NULL,
						  "xattr name longer than 255 bytes");
		if (vlen > r->lim.max_xattr_value)
			return kiln_layer_tr_fail(
				r, err, KILN_ELIMIT, NULL,
				"xattr %s value of %zu bytes exceeds the limit of %zu", name, vlen,
				r->lim.max_xattr_value);
		q = xattr_set(&p->xattrs, &p->n_xattrs, name, val, vlen);
		if (q == 0 && p->n_xattrs > r->lim.max_xattrs)
			return kiln_layer_tr_fail(r, err, KILN_ELIMIT, NULL, "more than %zu xattrs",
						  r->lim.max_xattrs);
		goto done;
	}
	if (has_nul)
		return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
					  "PAX record %s holds a NUL byte", key);
	if (vlen == 0)
		return 0; /* an empty value keeps the header's field (Go's rule) */
	if (strcmp(key, "path") == 0) {
		q = kiln_layer_tr_replace_str(&p->path, val, vlen);
	} else if (strcmp(key, "linkpath") == 0) {
		q = kiln_layer_tr_replace_str(&p->linkpath, val, vlen);
	} else if (strcmp(key, "size") == 0 || strcmp(key, "uid") == 0 || strcmp(key, "gid") == 0) {
		uint64_t v;
		if (kiln_layer_tr_dec_u64(val, &v) < 0 || v > INT64_MAX)
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL, "bad PAX %s '%s'", key,
						  val);
		if (key[0] == 's') {
			p->size = v;
			p->has_size = 1;
		} else if (key[0] == 'u') {
			p->uid = v;
			p->has_uid = 1;
		} else {
			p->gid = v;
			p->has_gid = 1;
		}
	} else if (strcmp(key, "mtime") == 0) {
		if (parse_pax_time(val, &p->mtime, &p->mtime_nsec) < 0)
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL, "bad PAX mtime '%s'",
						  val);
		p->has_mtime = 1;
	} else if (strcmp(key, "GNU.sparse.major") == 0 || strcmp(key, "GNU.sparse.minor") == 0) {
		uint64_t v;
		if (kiln_layer_tr_dec_u64(val, &v) < 0 || v > 1000)
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL, "bad %s '%s'", key,
						  val);
		if (strcmp(key, "GNU.sparse.major") == 0)
			p->sparse_major = (int) v;
		else
			p->sparse_minor = (int) v;
		p->has_sparse_version = 1;
	} else if (strcmp(key, "GNU.sparse.name") == 0) {
		q = kiln_layer_tr_replace_str(&p->sparse_name, val, vlen);
	} else if (strcmp(key, "GNU.sparse.size") == 0 || strcmp(key, "GNU.sparse.realsize") == 0) {
		if (kiln_layer_tr_dec_u64(val, &p->sparse_size) < 0 || p->sparse_size > INT64_MAX)
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL, "bad %s '%s'", key,
						  val);
		p->has_sparse_size = 1;
	} else if (strcmp(key, "GNU.sparse.map") == 0) {
		kiln_buf_reset(&p->sparse_map);
		q = kiln_buf_add(&p->sparse_map, val, vlen);
	} else if (strcmp(key, "GNU.sparse.offset") == 0 ||
		   strcmp(key, "GNU.sparse.numbytes") == 0) {
		/* format 0.0: offset/numbytes pairs, in order */
		int is_off = key[11] == 'o';
		if (is_off == p->sparse_expect_numbytes)
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
						  "GNU sparse records out of order");
		p->sparse_expect_numbytes = is_off;
		if (p->sparse_map.len)
			q = kiln_buf_addch(&p->sparse_map, ',');
		if (q == 0)
			q = kiln_buf_add(&p->sparse_map, val, vlen);
	}
done:
	if (q == -KILN_ELIMIT)
		return kiln_layer_tr_fail(r, err, KILN_ELIMIT, NULL, "PAX header too large");
	if (q < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

/* Go's parsePAX: "%d %s=%s\n" records; the length counts the whole record. */
int kiln_layer_tr_parse_pax(struct kiln_layer_reader *r, char *data, size_t len,
			    struct kiln_error *err)
{
	size_t pos = 0;
	while (pos < len) {
		size_t i = pos;
		uint64_t n = 0;
		while (i < len && data[i] >= '0' && data[i] <= '9' && i - pos < 20) {
			n = n * 10 + (uint64_t) (data[i] - '0');
			i++;
		}
		if (i == pos || i >= len || data[i] != ' ' || n < 5 || n > len - pos)
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
						  "malformed PAX record");
		size_t end = pos + n; /* one past the '\n' */
		if (data[end - 1] != '\n')
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
						  "malformed PAX record");
		char *key = data + i + 1;
		char *eq = memchr(key, '=', (size_t) (data + end - 1 - key));
		if (!eq || eq == key)
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
						  "malformed PAX record");
		if (memchr(key, 0, (size_t) (eq - key)))
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
						  "PAX key holds a NUL byte");
		*eq = '\0';
		char *val = eq + 1;
		size_t vlen = (size_t) (data + end - 1 - val);
		char saved = val[vlen];
		val[vlen] = '\0';
		int q = pax_record(r, key, val, vlen, err);
		val[vlen] = saved;
		if (q < 0)
			return q;
		pos = end;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Sparse maps                                                             */
/* ---------------------------------------------------------------------- */

static int seg_add(struct kiln_layer_reader *r, int64_t off, int64_t len, struct kiln_error *err)
{
	if (off < 0 || len < 0)
		return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
					  "negative sparse offset or length");
	if (r->n_segs >= r->lim.max_sparse)
		return kiln_layer_tr_fail(r, err, KILN_ELIMIT, NULL,
					  "more than %zu sparse segments", r->lim.max_sparse);
	if (r->n_segs == r->cap_segs) {
		size_t nc = r->cap_segs ? r->cap_segs * 2 : 16;
		struct sparse_seg *ns = kiln_reallocarray(r->segs, nc, sizeof(*ns));
		if (!ns)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		r->segs = ns;
		r->cap_segs = nc;
	}
	r->segs[r->n_segs++] = (struct sparse_seg){ (uint64_t) off, (uint64_t) len };
	return 0;
}

/* Old GNU sparse ('S'): entries in the header, more in extension blocks. */
int kiln_layer_tr_old_gnu_sparse(struct kiln_layer_reader *r, uint64_t *ret_size,
				 struct kiln_error *err)
{
	int64_t realsize;
	if (kiln_layer_tr_numeric(r->blk + 483, 12, &realsize) < 0 || realsize < 0)
		return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL, "bad sparse real size");
	*ret_size = (uint64_t) realsize;
	const unsigned char *ents = r->blk + 386;
	int max = 4;
	int ext = r->blk[482];
	for (;;) {
		for (int i = 0; i < max; i++) {
			const unsigned char *e = ents + 24 * i;
			if (e[0] == 0)
				break;
			int64_t off, len;
			if (kiln_layer_tr_numeric(e, 12, &off) < 0 ||
			    kiln_layer_tr_numeric(e + 12, 12, &len) < 0)
				return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
							  "bad sparse entry");
			int q = seg_add(r, off, len, err);
			if (q < 0)
				return q;
		}
		if (!ext)
			return 0;
		int q = kiln_layer_tr_read_block(r, err);
		if (q != 0)
			return q < 0 ? q
				     : kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
							  "truncated sparse map");
		ents = r->blk;
		max = 21;
		ext = r->blk[504];
	}
}

/* PAX 0.0 / 0.1: "off,len,off,len,..." */
int kiln_layer_tr_sparse_map_01(struct kiln_layer_reader *r, struct kiln_error *err)
{
	const char *s = r->pend.sparse_map.buf;
	if (!*s)
		return 0;
	uint64_t off = 0;
	size_t k = 0;
	for (;;) {
		const char *c = strchr(s, ',');
		size_t n = c ? (size_t) (c - s) : strlen(s);
		char tmp[24];
		uint64_t v;
		if (n == 0 || n >= sizeof(tmp))
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL, "bad GNU sparse map");
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		if (kiln_layer_tr_dec_u64(tmp, &v) < 0 || v > INT64_MAX)
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL, "bad GNU sparse map");
		if (k++ % 2 == 0) {
			off = v;
		} else {
			int q = seg_add(r, (int64_t) off, (int64_t) v, err);
			if (q < 0)
				return q;
		}
		if (!c)
			break;
		s = c + 1;
	}
	if (k % 2)
		return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
					  "odd number of values in GNU sparse map");
	return 0;
}

/* PAX 1.0: the map is decimal lines at the start of the data, in whole blocks. */
int kiln_layer_tr_sparse_map_10(struct kiln_layer_reader *r, struct kiln_error *err)
{
	char line[32];
	size_t line_len = 0;
	size_t blk_pos = TAR_BLOCK;
	uint64_t count = 0, have = 0;
	int64_t pending_off = 0;
	int got_count = 0;
	for (;;) {
		if (got_count && have == count * 2)
			break;
		if (blk_pos == TAR_BLOCK) {
			if (r->data_left < TAR_BLOCK)
				return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
							  "truncated sparse map");
			int q = kiln_layer_tr_read_block(r, err);
			if (q != 0)
				return q < 0 ? q
					     : kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
								  "truncated sparse map");
			r->data_left -= TAR_BLOCK;
			blk_pos = 0;
		}
		char c = (char) r->blk[blk_pos++];
		if (c != '\n') {
			if (c < '0' || c > '9' || line_len + 1 >= sizeof(line))
				return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
							  "bad sparse map");
			line[line_len++] = c;
			continue;
		}
		line[line_len] = '\0';
		uint64_t v;
		if (kiln_layer_tr_dec_u64(line, &v) < 0 || v > INT64_MAX)
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL, "bad sparse map");
		line_len = 0;
		if (!got_count) {
			if (v > r->lim.max_sparse)
				return kiln_layer_tr_fail(r, err, KILN_ELIMIT, NULL,
							  "more than %zu sparse segments",
							  r->lim.max_sparse);
			count = v;
			got_count = 1;
		} else if (have++ % 2 == 0) {
			pending_off = (int64_t) v;
		} else {
			int q = seg_add(r, pending_off, (int64_t) v, err);
			if (q < 0)
				return q;
		}
	}
	return 0;
}

/* Go's validateSparseEntries plus: the segments must account for the stored data. */
int kiln_layer_tr_check_sparse(struct kiln_layer_reader *r, uint64_t size, uint64_t stored,
			       struct kiln_error *err)
{
	uint64_t end = 0, sum = 0;
	for (size_t i = 0; i < r->n_segs; i++) {
		const struct sparse_seg *s = &r->segs[i];
		if (s->off > INT64_MAX - s->len || s->off + s->len > size || s->off < end)
			return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL, "invalid sparse map");
		end = s->off + s->len;
		sum += s->len;
	}
	if (sum != stored)
		return kiln_layer_tr_fail(r, err, KILN_EPARSE, NULL,
					  "sparse map covers %llu bytes but the entry stores %llu",
					  (unsigned long long) sum, (unsigned long long) stored);
	return 0;
}
