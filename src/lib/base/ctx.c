/* SPDX-License-Identifier: Apache-2.0 */
#include "ctx.h"

#include <sched.h>
#include <signal.h>
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

static int thread_start_with(pthread_t *tid, const pthread_attr_t *attr, void *(*fn)(void *),
			     void *arg)
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
	e = pthread_create(tid, attr, fn, arg);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e;
}

int kiln_thread_start(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	return thread_start_with(tid, NULL, fn, arg);
}

/* What a thread started apart runs first: its own CPUs given back, then fn. */
struct apart {
	void *(*fn)(void *);
	void *arg;
	cpu_set_t allowed;
};

static void *apart_main(void *p)
{
	struct apart a = *(struct apart *)p;
	free(p);
	/* placed: the scheduler may move it to any CPU the caller could use again */
	(void)sched_setaffinity(0, sizeof(a.allowed), &a.allowed);
	return a.fn(a.arg);
}

int kiln_thread_start_apart(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	struct apart *a = kiln_malloc(sizeof(*a));
	int cpu = sched_getcpu();
	cpu_set_t others;
	if (a && cpu >= 0 && cpu < CPU_SETSIZE &&
	    sched_getaffinity(0, sizeof(a->allowed), &a->allowed) == 0) {
		others = a->allowed;
		CPU_CLR(cpu, &others);
	} else {
		CPU_ZERO(&others);
	}
	pthread_attr_t attr;
	/* one CPU, or no way to tell: an ordinary start */
	if (CPU_COUNT(&others) == 0 || pthread_attr_init(&attr) != 0) {
		free(a);
		return kiln_thread_start(tid, fn, arg);
	}
	a->fn = fn;
	a->arg = arg;
	int placed = pthread_attr_setaffinity_np(&attr, sizeof(others), &others) == 0;
	int e = placed ? thread_start_with(tid, &attr, apart_main, a)
		       : thread_start_with(tid, NULL, fn, arg);
	(void)pthread_attr_destroy(&attr);
	if (e || !placed)
		free(a); /* otherwise apart_main() frees it */
	return e;
}
