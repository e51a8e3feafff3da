/* SPDX-License-Identifier: Apache-2.0 */
#include "alloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "copy-short.h"

#ifdef KILN_FAILMALLOC
#include <stdatomic.h>
/* The countdown is the one piece of process-wide state the library keeps: it
 * exists only in fault-injection builds. */
static atomic_long failmalloc_countdown = -1;
static atomic_int failmalloc_init;

static void failmalloc_read_env(void)
{
	int expected = 0;
	if (atomic_compare_exchange_strong(&failmalloc_init, &expected, 1)) {
		const char *s = getenv("KILN_FAILMALLOC");
		if (s && *s)
			atomic_store(&failmalloc_countdown, strtol(s, NULL, 10));
	}
}

void kiln_alloc_fail_after(long n)
{
	atomic_store(&failmalloc_init, 1);
	atomic_store(&failmalloc_countdown, n);
}

static int should_fail(void)
{
	failmalloc_read_env();
	long v = atomic_load(&failmalloc_countdown);
	if (v < 0)
		return 0;
	if (v == 0)
		return 1;
	atomic_fetch_sub(&failmalloc_countdown, 1);
	return 0;
}
#else
void kiln_alloc_fail_after(long n)
{
	(void)n;
}
static inline int should_fail(void)
{
	return 0;
}
#endif

#ifdef KILN_FAILMALLOC
/* (otherwise alloc.h defines these inline) */
void *kiln_malloc(size_t size)
{
	if (should_fail())
		return NULL;
	return malloc(size ? size : 1);
}

void *kiln_calloc(size_t nmemb, size_t size)
{
	if (should_fail())
		return NULL;
	if (nmemb == 0 || size == 0)
		return calloc(1, 1);
	return calloc(nmemb, size);
}

void *kiln_realloc(void *ptr, size_t size)
{
	if (should_fail())
		return NULL;
	return realloc(ptr, size ? size : 1);
}
#endif

void *kiln_reallocarray(void *ptr, size_t nmemb, size_t size)
{
	size_t total;
	if (kiln_mul_size(nmemb, size, &total) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	/* a first array: malloc's path, not realloc's */
	return ptr ? kiln_realloc(ptr, total) : kiln_malloc(total);
}

char *kiln_strdup(const char *s)
{
	/* the length is known: no second scan through kiln_strndup's strnlen */
	size_t len = strlen(s);
	char *r = kiln_malloc(len + 1);
	if (!r)
		return NULL;
	if (len >= 16)
		return memcpy(r, s, len + 1);
	kiln_copy_short(r, s, len + 1);
	return r;
}

char *kiln_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *r = kiln_malloc(len + 1);
	if (!r)
		return NULL;
	memcpy(r, s, len);
	r[len] = '\0';
	return r;
}

void *kiln_memdup(const void *p, size_t n)
{
	void *r = kiln_malloc(n);
	if (!r)
		return NULL;
	if (n)
		memcpy(r, p, n);
	return r;
}

char *kiln_asprintf(const char *fmt, ...)
{
	/* formatted once into a stack buffer, which most texts fit; a second
	 * pass into the heap block only for longer ones */
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *r = kiln_malloc((size_t)n + 1);
	if (!r)
		return NULL;
	if ((size_t)n < sizeof(small))
		return memcpy(r, small, (size_t)n + 1);
	va_start(ap, fmt);
	(void)vsnprintf(r, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return r;
}
