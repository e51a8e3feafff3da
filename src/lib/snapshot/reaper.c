/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Read-only mounts released on a thread of their own.
 *
 * The last close of an overlay mount tears its superblock down in the
 * closing thread: every dentry and inode the mount looked up is freed one
 * by one. A read-only view of a stage that a COPY --from walked holds one
 * per file, and its release took 4 ms for 2,000 files, between two steps
 * of the build, with the second core idle. A read-only overlay has no
 * upper or work directory, so nothing else waits for it to be gone: its
 * release goes to a thread that the snapshotter starts on first use, and
 * kiln_snapshotter_free() (or a prune) waits for what is queued.
 *
 * A writable mount comes here from kiln_snapshot_unmount() (commit.c) once
 * what was written has moved out of its upper directory, whose inode
 * overlayfs marks in use until the overlay is gone; its directories under
 * active/ follow at its release, when the commit no longer needs them.
 */
#include <pthread.h>

#include "snapshot/snapshot-private.h"

static void *reaper_main(void *arg)
{
	struct kiln_snapshotter *s = arg;
	pthread_mutex_lock(&s->rp_mu);
	for (;;) {
		struct kiln_snapshot_mount *m = s->rp_head;
		if (!m) {
			if (s->rp_quit)
				break;
			pthread_cond_wait(&s->rp_cv, &s->rp_mu);
			continue;
		}
		s->rp_head = m->rp_next;
		s->rp_busy = 1;
		pthread_mutex_unlock(&s->rp_mu);
		snap_mount_release_now(m);
		pthread_mutex_lock(&s->rp_mu);
		s->rp_busy = 0;
		if (!s->rp_head)
			pthread_cond_broadcast(&s->rp_idle);
	}
	pthread_mutex_unlock(&s->rp_mu);
	return NULL;
}

int snap_reaper_init(struct kiln_snapshotter *s)
{
	if (pthread_mutex_init(&s->rp_mu, NULL) != 0)
		return -1;
	if (pthread_cond_init(&s->rp_cv, NULL) != 0) {
		(void) pthread_mutex_destroy(&s->rp_mu);
		return -1;
	}
	if (pthread_cond_init(&s->rp_idle, NULL) != 0) {
		(void) pthread_cond_destroy(&s->rp_cv);
		(void) pthread_mutex_destroy(&s->rp_mu);
		return -1;
	}
	s->rp_init = 1;
	return 0;
}

int snap_reaper_take(struct kiln_snapshotter *s, struct kiln_snapshot_mount *m)
{
	if (!s->rp_init)
		return 0;
	pthread_mutex_lock(&s->rp_mu);
	if (!s->rp_started && !s->rp_failed) {
		if (kiln_thread_start(&s->rp_thread, reaper_main, s) == 0) {
			s->rp_started = 1;
			(void) pthread_setname_np(s->rp_thread, "kiln-reaper");
		} else {
			s->rp_failed = 1; /* release on the caller's thread, as before */
		}
	}
	int taken = s->rp_started && !s->rp_quit;
	if (taken) {
		/* the order of releases does not matter: a stack will do */
		m->rp_next = s->rp_head;
		s->rp_head = m;
		pthread_cond_signal(&s->rp_cv);
	}
	pthread_mutex_unlock(&s->rp_mu);
	return taken;
}

void snap_reaper_drain(struct kiln_snapshotter *s)
{
	if (!s->rp_init)
		return;
	pthread_mutex_lock(&s->rp_mu);
	while (s->rp_head || s->rp_busy)
		pthread_cond_wait(&s->rp_idle, &s->rp_mu);
	pthread_mutex_unlock(&s->rp_mu);
}

void snap_reaper_fini(struct kiln_snapshotter *s)
{
	if (!s->rp_init)
		return;
	pthread_mutex_lock(&s->rp_mu);
	s->rp_quit = 1;
	pthread_cond_broadcast(&s->rp_cv);
	pthread_mutex_unlock(&s->rp_mu);
	/* the thread empties the queue before it ends */
	if (s->rp_started)
		(void) pthread_join(s->rp_thread, NULL);
	(void) pthread_cond_destroy(&s->rp_idle);
	(void) pthread_cond_destroy(&s->rp_cv);
	(void) pthread_mutex_destroy(&s->rp_mu);
	s->rp_init = 0;
}
