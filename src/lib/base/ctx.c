/* SPDX-License-Identifier: Apache-2.0 */
#include "ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "alloc.h"

void kiln_log(const struct kiln_ctx *ctx, enum kiln_log_level level, const char *fmt, ...)
{
	if (!ctx || !ctx->log_fn || level > ctx->log_level)
		return;
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		ctx->log_fn(ctx->log_userdata, level, small);
		return;
	}
	char *big = kiln_malloc((size_t)n + 1);
	if (!big) {
		ctx->log_fn(ctx->log_userdata, level, small);
		return;
	}
	va_start(ap, fmt);
	(void)vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ctx->log_fn(ctx->log_userdata, level, big);
	free(big);
}

size_t kiln_cpus(size_t max)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	size_t c = n > 1 ? (size_t)n : 1;
	return max && c > max ? max : c;
}

int kiln_thread_start(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	static const int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS };
	sigset_t all, old;
	sigfillset(&all);
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		sigdelset(&all, faults[i]);
	/* the new thread inherits the mask of the one that creates it */
	int e = pthread_sigmask(SIG_BLOCK, &all, &old);
	if (e)
		return e;
	e = pthread_create(tid, NULL, fn, arg);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e;
}
