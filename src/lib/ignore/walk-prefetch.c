/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One helper thread lstat()s a listing from its end while the walker goes
 * from its start. A no-op rebuild of a 5,000-file context spends most of
 * its time in those calls (the path lookup of each name), and the walk
 * delivers entries in order, so only the lookups can move to another CPU.
 *
 * Each entry of an offered listing has a state, claimed with a
 * compare-and-swap by whichever side gets there first: the walker stats
 * what it claims itself; what the helper claimed it waits for (one system
 * call at most) and copies. The helper stops at the first entry the walker
 * has claimed. A listing is dropped (the helper stopped and waited for)
 * before the walker lists another directory at that level or closes it.
 */
#include "walk-prefetch.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/ctx.h"

/* Listings shorter than this are not worth a hand-off. */
#define PF_MIN 48
/* At most this many entries of a listing (its last ones) go to the helper:
 * a bound on the memory of a huge directory's results. */
#define PF_MAX 4096

enum { FREE, HELPER, DONE, FAILED, WALKER };

struct pf_slot {
	struct stat *st;      /* results of entries [base, n) */
	_Atomic uint8_t *state;
	size_t cap;
	size_t base, n;
	int active; /* this listing was offered and taken */
};

struct pf_job {
	size_t level;
	int fd;
	const char *names;
	const struct wdent *ents;
	struct pf_slot *slot;
};

struct walk_prefetch {
	pthread_t th;
	int started;
	int cpus; /* online CPUs, read at the first listing worth a hand-off */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int quit;
	int has_job;	 /* posted, not taken yet */
	int busy;	 /* the helper is working on `job` */
	struct pf_job job;
	atomic_int cancel;
	struct pf_slot *slots; /* by level */
	size_t n_slots;
};

static void run_job(struct walk_prefetch *pf, const struct pf_job *j)
{
	struct pf_slot *s = j->slot;
	for (size_t i = s->n; i-- > s->base;) {
		if (atomic_load_explicit(&pf->cancel, memory_order_relaxed))
			break;
		uint8_t want = FREE;
		if (!atomic_compare_exchange_strong(&s->state[i - s->base], &want, HELPER))
			break; /* the walker is here: the rest is its */
		int r = fstatat(j->fd, j->names + j->ents[i].name_off, &s->st[i - s->base],
				AT_SYMLINK_NOFOLLOW);
		atomic_store_explicit(&s->state[i - s->base], r == 0 ? DONE : FAILED,
				      memory_order_release);
	}
}

static void *helper_main(void *arg)
{
	struct walk_prefetch *pf = arg;
	pthread_mutex_lock(&pf->mu);
	for (;;) {
		while (!pf->has_job && !pf->quit)
			pthread_cond_wait(&pf->cv, &pf->mu);
		if (pf->quit)
			break;
		struct pf_job j = pf->job;
		pf->has_job = 0;
		pf->busy = 1;
		pthread_mutex_unlock(&pf->mu);
		run_job(pf, &j);
		pthread_mutex_lock(&pf->mu);
		pf->busy = 0;
		pthread_cond_broadcast(&pf->cv);
	}
	pthread_mutex_unlock(&pf->mu);
	return NULL;
}

struct walk_prefetch *walk_prefetch_new(void)
{
	struct walk_prefetch *pf = kiln_calloc(1, sizeof(*pf));
	if (!pf)
		return NULL;
	if (pthread_mutex_init(&pf->mu, NULL) != 0) {
		free(pf);
		return NULL;
	}
	if (pthread_cond_init(&pf->cv, NULL) != 0) {
		pthread_mutex_destroy(&pf->mu);
		free(pf);
		return NULL;
	}
	atomic_init(&pf->cancel, 0);
	return pf;
}

void walk_prefetch_free(struct walk_prefetch *pf)
{
	if (!pf)
		return;
	if (pf->started) {
		pthread_mutex_lock(&pf->mu);
		pf->quit = 1;
		atomic_store(&pf->cancel, 1);
		pthread_cond_broadcast(&pf->cv);
		pthread_mutex_unlock(&pf->mu);
		pthread_join(pf->th, NULL);
	}
	for (size_t i = 0; i < pf->n_slots; i++) {
		free(pf->slots[i].st);
		free((void *) pf->slots[i].state);
	}
	free(pf->slots);
	pthread_cond_destroy(&pf->cv);
	pthread_mutex_destroy(&pf->mu);
	free(pf);
}

/* The slot of `level` with room for `n` results; NULL when out of memory. */
static struct pf_slot *slot_for(struct walk_prefetch *pf, size_t level, size_t n)
{
	if (level >= pf->n_slots) {
		size_t nn = level + 8;
		struct pf_slot *s = kiln_reallocarray(pf->slots, nn, sizeof(*s));
		if (!s)
			return NULL;
		memset(s + pf->n_slots, 0, (nn - pf->n_slots) * sizeof(*s));
		pf->slots = s;
		pf->n_slots = nn;
	}
	struct pf_slot *s = &pf->slots[level];
	if (s->cap < n) {
		struct stat *st = kiln_reallocarray(s->st, n, sizeof(*st));
		if (!st)
			return NULL;
		s->st = st;
		_Atomic uint8_t *state = kiln_reallocarray((void *) s->state, n, sizeof(*state));
		if (!state)
			return NULL;
		s->state = state;
		s->cap = n;
	}
	return s;
}

void walk_prefetch_offer(struct walk_prefetch *pf, size_t level, int fd, const char *names,
			 const struct wdent *ents, size_t n)
{
	if (!pf || n < PF_MIN)
		return;
	/* asked here, not when the walk starts: most walks list nothing this long */
	if (!pf->cpus)
		pf->cpus = (int) kiln_cpus(2);
	if (pf->cpus < 2)
		return;
	pthread_mutex_lock(&pf->mu);
	/* the helper works on one listing at a time; a busy one keeps its own */
	if (pf->busy || pf->has_job) {
		pthread_mutex_unlock(&pf->mu);
		return;
	}
	size_t base = n > PF_MAX ? n - PF_MAX : 0;
	struct pf_slot *s = slot_for(pf, level, n - base);
	if (!s) {
		pthread_mutex_unlock(&pf->mu);
		return;
	}
	s->base = base;
	s->n = n;
	for (size_t i = 0; i < n - base; i++)
		atomic_init(&s->state[i], FREE);
	if (!pf->started) {
		if (kiln_thread_start(&pf->th, helper_main, pf) != 0) {
			pthread_mutex_unlock(&pf->mu);
			return;
		}
		pf->started = 1;
	}
	s->active = 1;
	atomic_store(&pf->cancel, 0);
	pf->job = (struct pf_job){ level, fd, names, ents, s };
	pf->has_job = 1;
	pthread_cond_broadcast(&pf->cv);
	pthread_mutex_unlock(&pf->mu);
}

int walk_prefetch_lstat(struct walk_prefetch *pf, size_t level, size_t index, int fd,
			const char *name, struct stat *st)
{
	struct pf_slot *s = pf && level < pf->n_slots ? &pf->slots[level] : NULL;
	if (!s || !s->active || index < s->base || index >= s->n)
		return fstatat(fd, name, st, AT_SYMLINK_NOFOLLOW);
	_Atomic uint8_t *state = &s->state[index - s->base];
	uint8_t v = FREE;
	if (atomic_compare_exchange_strong(state, &v, WALKER))
		return fstatat(fd, name, st, AT_SYMLINK_NOFOLLOW);
	/* the helper has it: one lstat away at most */
	for (unsigned spins = 0; (v = atomic_load_explicit(state, memory_order_acquire)) == HELPER;
	     spins++)
		if (spins > 64)
			sched_yield();
	if (v == DONE) {
		*st = s->st[index - s->base];
		return 0;
	}
	/* failed (the walker's own call says how), or delivered before */
	return fstatat(fd, name, st, AT_SYMLINK_NOFOLLOW);
}

void walk_prefetch_drop(struct walk_prefetch *pf, size_t level)
{
	if (!pf || level >= pf->n_slots || !pf->slots[level].active)
		return;
	pthread_mutex_lock(&pf->mu);
	if (pf->job.level == level && (pf->has_job || pf->busy)) {
		pf->has_job = 0;
		atomic_store(&pf->cancel, 1);
		while (pf->busy)
			pthread_cond_wait(&pf->cv, &pf->mu);
		atomic_store(&pf->cancel, 0);
	}
	pf->slots[level].active = 0;
	pthread_mutex_unlock(&pf->mu);
}
