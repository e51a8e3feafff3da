/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>

/**
 * What a library call needs from its caller that is not data: where debug
 * logs go and whether the user asked to stop. No global mutable state: the
 * CLI makes one context and passes it down.
 */
enum kiln_log_level {
	KILN_LOG_ERROR = 0,
	KILN_LOG_WARN = 1,
	KILN_LOG_INFO = 2,
	KILN_LOG_DEBUG = 3,
};

struct kiln_ctx {
	enum kiln_log_level log_level;
	/** Receives log lines at or below log_level; NULL = dropped. */
	void (*log_fn)(void *userdata, enum kiln_log_level level, const char *msg);
	void *log_userdata;
	/** Set (by a signal handler the CLI owns, or by another thread) when the
	 *  work is to stop. Lock-free, so a signal handler may store to it. */
	atomic_int *cancel;
};

void kiln_log(const struct kiln_ctx *ctx, enum kiln_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define kiln_debug(ctx, ...) kiln_log((ctx), KILN_LOG_DEBUG, __VA_ARGS__)

static inline int kiln_cancelled(const struct kiln_ctx *ctx)
{
	return ctx && ctx->cancel && atomic_load_explicit(ctx->cancel, memory_order_relaxed);
}

/** The machine's online CPUs, at least 1 and at most `max` (0: no bound): how
 *  many threads or processes a parallel part of kiln starts. */
size_t kiln_cpus(size_t max);

/** pthread_create() for kiln's own threads, which take no asynchronous
 *  signal: SIGINT and SIGTERM reach the thread that set the handlers (or that
 *  forwards them to a sandbox, which blocks them only in itself). Faults stay
 *  with the thread that causes them. Returns 0 or pthread_create()'s error. */
int kiln_thread_start(pthread_t *tid, void *(*fn)(void *), void *arg);

/** kiln_thread_start() for a pool's helper: the thread is placed on another
 *  CPU than the caller's, then given back every CPU the caller may use. Left
 *  to itself, Linux here often started it on the caller's CPU and let the two
 *  take turns for the first 6-12 ms of a run (`kiln lint` of 2,400 files
 *  takes about 45 ms). With one CPU allowed, an ordinary start. */
int kiln_thread_start_apart(pthread_t *tid, void *(*fn)(void *), void *arg);
