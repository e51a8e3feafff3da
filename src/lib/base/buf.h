/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/**
 * A growable byte buffer with git strbuf's invariants: `buf` is never NULL
 * and always NUL-terminated (so it is a C string when it holds no NUL), and
 * a mandatory cap (curl's habit) so that hostile input cannot grow it
 * without bound. Functions return 0, or -KILN_ENOMEM / -KILN_ELIMIT.
 */
struct kiln_buf {
	char *buf;
	size_t len;
	size_t alloc; /* 0 while buf points at the shared empty string */
	size_t cap;   /* max len; 0 = KILN_BUF_DEFAULT_CAP */
};

#define KILN_BUF_DEFAULT_CAP ((size_t)1 << 30)

extern char kiln_buf_empty_[];
#define KILN_BUF_INIT                                                                            \
	{                                                                                        \
		.buf = kiln_buf_empty_, .len = 0, .alloc = 0, .cap = 0                           \
	}

void kiln_buf_init(struct kiln_buf *b, size_t cap);

/* Inline: most buffers released (at scope exit) never took a block. */
static inline void kiln_buf_release(struct kiln_buf *b)
{
	if (b->alloc)
		free(b->buf);
	b->buf = kiln_buf_empty_;
	b->len = 0;
	b->alloc = 0;
}

/** Empty the buffer but keep its memory. */
static inline void kiln_buf_reset(struct kiln_buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->buf[0] = '\0';
}
/** Take the string out (caller frees); the buffer is left empty. NULL on ENOMEM. */
char *kiln_buf_detach(struct kiln_buf *b, size_t *ret_len);

int kiln_buf_grow(struct kiln_buf *b, size_t extra) __attribute__((warn_unused_result));
/** kiln_buf_add when the bytes do not fit yet: grow, then append. */
int kiln_buf_add_grow(struct kiln_buf *b, const void *data, size_t len)
	__attribute__((warn_unused_result));

/* Appends are most of what a buffer does and most fit: those take no call. */
__attribute__((warn_unused_result)) static inline int kiln_buf_add(struct kiln_buf *b,
								   const void *data, size_t len)
{
	size_t cap = b->cap ? b->cap : KILN_BUF_DEFAULT_CAP;
	if (!(b->alloc - b->len > len && b->len + len <= cap))
		return kiln_buf_add_grow(b, data, len);
	if (len)
		memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
	return 0;
}

__attribute__((warn_unused_result)) static inline int kiln_buf_addch(struct kiln_buf *b, char c)
{
	return kiln_buf_add(b, &c, 1);
}

int kiln_buf_addstr(struct kiln_buf *b, const char *s) __attribute__((warn_unused_result));
/** Lower-case hex of data[0..len). */
int kiln_buf_add_hex(struct kiln_buf *b, const void *data, size_t len)
	__attribute__((warn_unused_result));
/** v in base 8, 10 or 16 (lower case), as printf's %o, %u and %x write it. */
int kiln_buf_add_uint(struct kiln_buf *b, uint64_t v, unsigned base)
	__attribute__((warn_unused_result));
int kiln_buf_addf(struct kiln_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), warn_unused_result));
int kiln_buf_vaddf(struct kiln_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0), warn_unused_result));
void kiln_buf_setlen(struct kiln_buf *b, size_t len);

/** Cleanup helper: `cleanup(kiln_buf_release) struct kiln_buf b = KILN_BUF_INIT;` */
