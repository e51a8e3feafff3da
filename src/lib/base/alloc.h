/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * All allocation in kiln goes through these wrappers so that a failmalloc
 * build can fail the Nth call (curl's torture test) and so that size
 * arithmetic is overflow-checked in one place.
 */
#ifdef KILN_FAILMALLOC
void *kiln_malloc(size_t size) __attribute__((malloc, warn_unused_result));
void *kiln_calloc(size_t nmemb, size_t size) __attribute__((malloc, warn_unused_result));
void *kiln_realloc(void *ptr, size_t size) __attribute__((warn_unused_result));
#else
/* Without fault injection the wrappers are a size rule each: inline, no call of their own. */
__attribute__((malloc, warn_unused_result)) static inline void *kiln_malloc(size_t size)
{
	return malloc(size ? size : 1);
}

__attribute__((malloc, warn_unused_result)) static inline void *kiln_calloc(size_t nmemb,
									    size_t size)
{
	if (nmemb == 0 || size == 0)
		return calloc(1, 1);
	return calloc(nmemb, size);
}

__attribute__((warn_unused_result)) static inline void *kiln_realloc(void *ptr, size_t size)
{
	return realloc(ptr, size ? size : 1);
}
#endif
void *kiln_reallocarray(void *ptr, size_t nmemb, size_t size) __attribute__((warn_unused_result));
char *kiln_strdup(const char *s) __attribute__((malloc, warn_unused_result));
char *kiln_strndup(const char *s, size_t n) __attribute__((malloc, warn_unused_result));
void *kiln_memdup(const void *p, size_t n) __attribute__((malloc, warn_unused_result));
/** printf into a fresh heap string; NULL on failure. */
char *kiln_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2), warn_unused_result));

/**
 * Fault injection: when KILN_FAILMALLOC is set in the environment of a
 * failmalloc build (-Dfailmalloc=true), the Nth allocation fails. Outside
 * such builds this does nothing.
 */
void kiln_alloc_fail_after(long n);

/* Scope-bound cleanup, crun's spelling. */
#define cleanup(fn) __attribute__((__cleanup__(fn)))
#define cleanup_free cleanup(kiln_freep)
#define cleanup_close cleanup(kiln_closep)

static inline void kiln_freep(void *p)
{
	void **pp = (void **)p;
	free(*pp);
	*pp = NULL;
}

static inline void kiln_closep(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

/** Generate `fnp(type **)` from `fn(type *)` for use with cleanup(). */
#define KILN_DEFINE_CLEANUP(type, fn)                                                            \
	static inline void fn##p(type **p)                                                       \
	{                                                                                        \
		if (*p)                                                                          \
			fn(*p);                                                                  \
		*p = NULL;                                                                       \
	}

/** Hand ownership out of a cleanup-managed variable. */
#define steal_ptr(pp)                                                                            \
	({                                                                                       \
		__typeof__(*(pp)) steal_tmp_ = *(pp);                                            \
		*(pp) = NULL;                                                                    \
		steal_tmp_;                                                                      \
	})

static inline int steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

#define KILN_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/** Overflow-checked a*b; returns 0 and sets *ret, or -1 on overflow. */
static inline int kiln_mul_size(size_t a, size_t b, size_t *ret)
{
	return __builtin_mul_overflow(a, b, ret) ? -1 : 0;
}
static inline int kiln_add_size(size_t a, size_t b, size_t *ret)
{
	return __builtin_add_overflow(a, b, ret) ? -1 : 0;
}
