/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writeback while snapshots are being written.
 *
 * A layer is made durable (syncfs) before it is kept. The kernel starts
 * writing dirty pages back on its own only after 30 seconds or past a tenth
 * of memory, so a step that wrote 200 MB then waited for all of it at the
 * end, with the CPUs idle: 130-150 ms of a 0.9 s build. While any writable
 * mount is open, one thread per snapshotter asks for writeback (syncfs) over
 * and over, a pause between rounds, and the disk works while the step runs;
 * the syncfs of the commit then finds little left to write.
 */
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "snapshot/snapshot-private.h"

/*
 * The pause between two rounds: 50 ms while rounds find data to write (take
 * more than 2 ms), doubling up to 800 ms while they do not, so that a long
 * step that writes little (a compiler, a download) costs a few calls a
 * second, each with its cache flush, not twenty.
 */
#define PAUSE_MIN_NS (50 * 1000 * 1000L)
#define PAUSE_MAX_NS (800 * 1000 * 1000L)
#define BUSY_ROUND_NS (2 * 1000 * 1000L)

static int64_t now_ns(void)
{
	struct timespec t;
	(void) clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t) t.tv_sec * 1000000000L + t.tv_nsec;
}

static void *writeback_main(void *arg)
{
	struct kiln_snapshotter *s = arg;
	int64_t pause = PAUSE_MIN_NS;
	pthread_mutex_lock(&s->wb_mu);
	while (!s->wb_quit) {
		if (s->wb_writers == 0) {
			pause = PAUSE_MIN_NS;
			pthread_cond_wait(&s->wb_cv, &s->wb_mu);
			continue;
		}
		pthread_mutex_unlock(&s->wb_mu);
		int64_t start = now_ns();
		(void) syncfs(s->layers_fd);
		int64_t end = now_ns();
		if (end - start > BUSY_ROUND_NS)
			pause = PAUSE_MIN_NS;
		else if (pause < PAUSE_MAX_NS)
			pause *= 2;
		pthread_mutex_lock(&s->wb_mu);
		int64_t until_ns = end + pause;
		struct timespec until = { until_ns / 1000000000L, until_ns % 1000000000L };
		while (!s->wb_quit && s->wb_writers &&
		       pthread_cond_timedwait(&s->wb_cv, &s->wb_mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&s->wb_mu);
	return NULL;
}

int snap_writeback_init(struct kiln_snapshotter *s)
{
	pthread_condattr_t ca;
	if (pthread_condattr_init(&ca) != 0)
		return -1;
	int r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (r == 0)
		r = pthread_cond_init(&s->wb_cv, &ca);
	(void) pthread_condattr_destroy(&ca);
	if (r != 0)
		return -1;
	if (pthread_mutex_init(&s->wb_mu, NULL) != 0) {
		(void) pthread_cond_destroy(&s->wb_cv);
		return -1;
	}
	s->wb_init = 1;
	return 0;
}

void snap_writeback_hold(struct kiln_snapshotter *s)
{
	if (!s->wb_init)
		return;
	pthread_mutex_lock(&s->wb_mu);
	/* best effort: without the thread, commits wait as they did */
	if (!s->wb_started && kiln_thread_start(&s->wb_thread, writeback_main, s) == 0) {
		s->wb_started = 1;
		/* the name shows in top -H and perf, and lets a test find it */
		(void) pthread_setname_np(s->wb_thread, "kiln-writeback");
	}
	s->wb_writers++;
	pthread_cond_broadcast(&s->wb_cv);
	pthread_mutex_unlock(&s->wb_mu);
}

void snap_writeback_drop(struct kiln_snapshotter *s)
{
	if (!s->wb_init)
		return;
	pthread_mutex_lock(&s->wb_mu);
	if (s->wb_writers > 0)
		s->wb_writers--;
	pthread_mutex_unlock(&s->wb_mu);
}

void snap_writeback_fini(struct kiln_snapshotter *s)
{
	if (!s->wb_init)
		return;
	pthread_mutex_lock(&s->wb_mu);
	s->wb_quit = 1;
	pthread_cond_broadcast(&s->wb_cv);
	pthread_mutex_unlock(&s->wb_mu);
	if (s->wb_started)
		(void) pthread_join(s->wb_thread, NULL);
	(void) pthread_cond_destroy(&s->wb_cv);
	(void) pthread_mutex_destroy(&s->wb_mu);
	s->wb_init = 0;
}
