/* SPDX-License-Identifier: Apache-2.0 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

char kiln_buf_empty_[1];

void kiln_buf_init(struct kiln_buf *b, size_t cap)
{
	b->buf = kiln_buf_empty_;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

char *kiln_buf_detach(struct kiln_buf *b, size_t *ret_len)
{
	char *r;
	if (ret_len)
		*ret_len = b->len;
	if (b->alloc) {
		r = b->buf;
	} else {
		r = kiln_strdup("");
		if (!r)
			return NULL;
	}
	b->buf = kiln_buf_empty_;
	b->len = 0;
	b->alloc = 0;
	return r;
}

int kiln_buf_grow(struct kiln_buf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : KILN_BUF_DEFAULT_CAP;
	size_t need;
	if (kiln_add_size(b->len, extra, &need) < 0 || need > cap)
		return -KILN_ELIMIT;
	if (need + 1 <= b->alloc)
		return 0;
	size_t n = b->alloc ? b->alloc : 128;
	while (n < need + 1) {
		if (n > SIZE_MAX / 2) {
			n = need + 1;
			break;
		}
		n *= 2;
	}
	char *p;
	if (b->alloc) {
		p = kiln_realloc(b->buf, n);
	} else {
		/* a first block: malloc's path, not realloc's */
		p = kiln_malloc(n);
		if (p)
			p[0] = '\0';
	}
	if (!p)
		return -KILN_ENOMEM;
	b->buf = p;
	b->alloc = n;
	return 0;
}

int kiln_buf_add_grow(struct kiln_buf *b, const void *data, size_t len)
{
	int r = kiln_buf_grow(b, len);
	if (r < 0)
		return r;
	if (len)
		memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
	return 0;
}

int kiln_buf_addstr(struct kiln_buf *b, const char *s)
{
	return kiln_buf_add(b, s, strlen(s));
}


int kiln_buf_add_uint(struct kiln_buf *b, uint64_t v, unsigned base)
{
	char tmp[24]; /* 22 octal digits for 2^64 - 1 */
	if (base < 2 || base > 16)
		base = 10;
	size_t n = sizeof(tmp);
	do {
		tmp[--n] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	return kiln_buf_add(b, tmp + n, sizeof(tmp) - n);
}

int kiln_buf_add_hex(struct kiln_buf *b, const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	if (len > SIZE_MAX / 2)
		return -KILN_ELIMIT;
	int r = kiln_buf_grow(b, len * 2);
	if (r < 0)
		return r;
	const unsigned char *p = data;
	char *o = b->buf + b->len; /* not through b: the stores would reload it */
	for (size_t i = 0; i < len; i++) {
		o[2 * i] = digits[p[i] >> 4];
		o[2 * i + 1] = digits[p[i] & 15];
	}
	b->len += len * 2;
	b->buf[b->len] = '\0';
	return 0;
}

/*
 * Formatted straight into the room the buffer has: one vsnprintf pass when
 * the text fits (as most do), a second after growing when not. A failed
 * attempt leaves only bytes past the NUL, which it puts back.
 */
int kiln_buf_vaddf(struct kiln_buf *b, const char *fmt, va_list ap)
{
	int r;
	if (!b->alloc && (r = kiln_buf_grow(b, 0)) < 0)
		return r;
	size_t room = b->alloc - b->len; /* with the NUL's byte */
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(b->buf + b->len, room, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->buf[b->len] = '\0';
		return -KILN_EINVAL;
	}
	if ((size_t) n < room) {
		size_t cap = b->cap ? b->cap : KILN_BUF_DEFAULT_CAP;
		if ((size_t) n > cap - b->len) {
			b->buf[b->len] = '\0';
			return -KILN_ELIMIT;
		}
		b->len += (size_t) n;
		return 0;
	}
	b->buf[b->len] = '\0';
	r = kiln_buf_grow(b, (size_t) n);
	if (r < 0)
		return r;
	(void) vsnprintf(b->buf + b->len, (size_t) n + 1, fmt, ap);
	b->len += (size_t) n;
	return 0;
}

int kiln_buf_addf(struct kiln_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = kiln_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

void kiln_buf_setlen(struct kiln_buf *b, size_t len)
{
	if (!b->alloc)
		return;
	if (len < b->alloc) {
		b->len = len;
		b->buf[len] = '\0';
	}
}
