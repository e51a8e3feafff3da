/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "analyze/lint-internal.h"
#include "base/alloc.h"
#include "base/arena.h"
#include "base/ctx.h"
#include "dockerfile/graph.h"

/*
 * Many files at once: kiln_lint_run_many() (all or nothing) and
 * kiln_lint_run_stream() (groups handed over in order as they complete,
 * each file failing on its own). The files are linted by one thread per CPU,
 * the caller's included, each taking the next file: they share nothing but
 * the context memo, which has its lock. Small runs stay on the caller's thread.
 */
#define LINT_FILES_PER_THREAD 8
#define LINT_MAX_THREADS 8

struct batch {
	const struct kiln_lint_input *in;
	const struct kiln_lint_opts *base; /* the caller's */
	/* with ShellCheck, each file's state between the phases (and its options with its
	 * context); NULL: a file is linted in one go, its state on the linting thread */
	struct lint_file *files;
	struct kiln_lint_opts *opts;
	struct kiln_lint_report **reps; /* NULL until the file is begun */
	size_t n;
	struct lint_context_memo contexts; /* without opts->cache */
	struct kiln_df_graph_defaults *df_defaults; /* read-only while the threads run */
};

static void batch_release(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->files)
			lint_file_release(&b->files[i]);
		kiln_lint_report_free(b->reps[i]);
	}
	free(b->files);
	free(b->opts);
	free(b->reps);
	lint_context_memo_release(&b->contexts);
	kiln_df_graph_defaults_free(b->df_defaults);
}

/*
 * What every file shares. A file's own state is made by the thread that
 * lints it (file_begin): made here for 2,400 files, it was a millisecond in
 * which the other CPU waited.
 */
static int batch_init(struct batch *b, const struct kiln_lint_input *in, size_t n,
		      const struct kiln_lint_opts *opts, int keep_files, struct kiln_error *err)
{
	*b = (struct batch){ .in = in, .base = opts, .n = n };
	lint_context_memo_init(&b->contexts);
	b->reps = kiln_calloc(n ? n : 1, sizeof(*b->reps));
	if (keep_files) {
		b->files = kiln_calloc(n ? n : 1, sizeof(*b->files));
		b->opts = kiln_calloc(n ? n : 1, sizeof(*b->opts));
	}
	if (!b->reps || (keep_files && (!b->files || !b->opts)))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	/* the BuildKit checks' predefined args: the same for every file */
	struct kiln_df_graph_opts go = { .build_args = opts->build_args,
					 .n_build_args = opts->n_build_args };
	return kiln_df_graph_defaults_new(&go, &b->df_defaults, err);
}

/* File i's state in *f, its options in *o and its report in b->reps[i]. */
static int file_begin(struct batch *b, size_t i, struct lint_file *f, struct kiln_lint_opts *o,
		      struct kiln_error *err)
{
	const struct kiln_lint_input *in = &b->in[i];
	const char *name = in->filename ? in->filename : "Dockerfile";
	*o = *b->base;
	o->context_dir = in->context_dir;
	o->dockerfile_path = in->dockerfile_path;
	struct kiln_lint_report *rep = lint_report_new(name);
	if (!rep)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	b->reps[i] = rep;
	*f = (struct lint_file){ .filename = name,
				 .data = in->data,
				 .path = in->path,
				 .len = in->len,
				 .cfg = b->base->config,
				 .opts = o,
				 .notes = &rep->notes,
				 .strings = rep->strings,
				 .ctx_memo = b->base->cache ? &b->base->cache->memo : &b->contexts,
				 .df_defaults = b->df_defaults };
	return 0;
}

enum lint_phase {
	PHASE_PREPARE = 1 << 0,
	PHASE_FINISH = 1 << 1,
};

/* Files [next, hi) of a batch, to be taken one by one by the threads. */
struct pool {
	struct batch *b;
	size_t hi;
	unsigned phases;
	atomic_size_t next;
	atomic_int stop;
	/* each file fails on its own (errs[i], failed[i]); NULL: the first failure stops all */
	struct kiln_error *errs;
	unsigned char *failed;
	/* done[g]: files of group g (`group` files each) linted; NULL: not counted */
	atomic_size_t *done;
	size_t group;
	pthread_mutex_t lock; /* guards r and err, and the wait for a group */
	pthread_cond_t group_done;
	int r;
	struct kiln_error err; /* the first failure, without errs */
};

static size_t group_size(const struct pool *p, size_t g)
{
	size_t first = g * p->group;
	return p->b->n - first < p->group ? p->b->n - first : p->group;
}

/* The state a pool thread keeps across its files (each part NULL: none) */
struct thread_state {
	/* for the AST and the models, when a file is linted in one go */
	struct kiln_arena *spare;
	struct lint_rule_cache *rules;
};

/*
 * The spare arena's first chunk, kept across files: a typical file's AST, lint model,
 * typed model and stage graph fit in it, where 16 KiB took another chunk malloc()ed
 * and freed per file (about 560 instructions per file).
 */
#define LINT_SPARE_CHUNK ((size_t)64 * 1024)

static void thread_state_init(struct thread_state *t)
{
	t->spare = kiln_arena_new_sized(LINT_SPARE_CHUNK);
	t->rules = kiln_calloc(1, sizeof(*t->rules));
}

static void thread_state_release(struct thread_state *t)
{
	kiln_arena_free(t->spare);
	free(t->rules);
}

static int lint_one(struct batch *b, size_t i, unsigned phases, const struct thread_state *t,
		    struct kiln_error *err)
{
	int whole = (phases & (PHASE_PREPARE | PHASE_FINISH)) == (PHASE_PREPARE | PHASE_FINISH);
	struct lint_file own;
	struct kiln_lint_opts own_opts;
	struct lint_file *f = b->files ? &b->files[i] : &own;
	int r = 0;
	if (phases & PHASE_PREPARE)
		r = file_begin(b, i, f, b->files ? &b->opts[i] : &own_opts, err);
	if (r < 0)
		return r;
	f->rule_cache = t->rules;
	f->spare = whole ? t->spare : NULL;
	if (phases & PHASE_PREPARE)
		r = lint_file_prepare(f, err);
	if (r >= 0 && (phases & PHASE_FINISH))
		r = lint_file_finish(f, b->reps[i], err);
	/* on the thread that linted it: the caller would free the batch alone; a failed file
	 * too when its state is the thread's, or its model in the thread's arena, which the
	 * next file empties */
	if ((r >= 0 && (phases & PHASE_FINISH)) || f->spare || f == &own)
		lint_file_release(f);
	f->spare = NULL;
	f->rule_cache = NULL;
	return r;
}

/* Lint the pool's next file; 0 when none is left to take. */
static int pool_take(struct pool *p, const struct thread_state *t)
{
	if (atomic_load_explicit(&p->stop, memory_order_relaxed))
		return 0;
	size_t i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
	if (i >= p->hi)
		return 0;
	if (!p->failed || !p->failed[i]) {
		struct kiln_error e = KILN_ERROR_INIT;
		int r = lint_one(p->b, i, p->phases, t, p->errs ? &p->errs[i] : &e);
		if (r < 0 && p->errs) {
			p->failed[i] = 1;
			if (p->b->files)
				lint_file_release(&p->b->files[i]);
		} else if (r < 0) {
			pthread_mutex_lock(&p->lock);
			if (p->r >= 0) {
				p->r = r;
				kiln_error_move(&p->err, &e);
			}
			pthread_mutex_unlock(&p->lock);
			kiln_error_release(&e);
			atomic_store(&p->stop, 1);
		}
	}
	if (p->done) {
		size_t g = i / p->group;
		if (atomic_fetch_add(&p->done[g], 1) + 1 == group_size(p, g)) {
			pthread_mutex_lock(&p->lock);
			pthread_cond_broadcast(&p->group_done);
			pthread_mutex_unlock(&p->lock);
		}
	}
	return 1;
}

static void *pool_work(void *arg)
{
	/* made once for the thread's files (what cannot be made, each file does without) */
	struct thread_state t;
	thread_state_init(&t);
	while (pool_take(arg, &t))
		;
	thread_state_release(&t);
	return NULL;
}

static void pool_init(struct pool *p, struct batch *b, size_t lo, size_t hi, unsigned phases)
{
	*p = (struct pool){ .b = b, .hi = hi, .phases = phases, .err = KILN_ERROR_INIT };
	atomic_init(&p->next, lo);
	atomic_init(&p->stop, 0);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->group_done, NULL);
}

/* Start the helper threads for files [lo, hi); returns how many started. */
static size_t pool_start(struct pool *p, size_t lo, pthread_t *tids)
{
	size_t want = kiln_cpus(LINT_MAX_THREADS);
	if (want > (p->hi - lo) / LINT_FILES_PER_THREAD)
		want = (p->hi - lo) / LINT_FILES_PER_THREAD;
	size_t started = 0;
	/* a thread that cannot start leaves its share to the others */
	while (started + 1 < want && kiln_thread_start_apart(&tids[started], pool_work, p) == 0)
		started++;
	return started;
}

static int pool_end(struct pool *p, pthread_t *tids, size_t started, struct kiln_error *err)
{
	for (size_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_cond_destroy(&p->group_done);
	pthread_mutex_destroy(&p->lock);
	if (p->r < 0)
		kiln_error_move(err, &p->err);
	return p->r;
}

/* Run `phases` over files [lo, hi), the caller's thread taking its share. */
static int batch_phases(struct batch *b, size_t lo, size_t hi, unsigned phases,
			struct kiln_error *errs, unsigned char *failed, struct kiln_error *err)
{
	struct pool p;
	pool_init(&p, b, lo, hi, phases);
	p.errs = errs;
	p.failed = failed;
	pthread_t tids[LINT_MAX_THREADS];
	size_t started = pool_start(&p, lo, tids);
	pool_work(&p);
	return pool_end(&p, tids, started, err);
}

/* Files [lo, hi): parsed and checked, one ShellCheck run for them all, then finished. */
static int batch_run(struct batch *b, size_t lo, size_t hi, struct kiln_error *errs,
		     unsigned char *failed, struct kiln_error *err)
{
	int shellcheck = hi > lo && b->base->shellcheck;
	int r = batch_phases(b, lo, hi, shellcheck ? PHASE_PREPARE : PHASE_PREPARE | PHASE_FINISH,
			     errs, failed, err);
	if (r < 0 || !shellcheck)
		return r;
	struct lint_file **parsed = kiln_calloc(hi - lo, sizeof(*parsed));
	if (!parsed)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	size_t np = 0;
	for (size_t i = lo; i < hi; i++)
		if (b->files[i].ast && (!failed || !failed[i]))
			parsed[np++] = &b->files[i];
	r = lint_shellcheck(parsed, np, err);
	free(parsed);
	if (r < 0)
		return r;
	return batch_phases(b, lo, hi, PHASE_FINISH, errs, failed, err);
}

int kiln_lint_run_many(const struct kiln_lint_input *in, size_t n,
		       const struct kiln_lint_opts *opts, struct kiln_lint_report **ret,
		       struct kiln_error *err)
{
	static const struct kiln_lint_opts no_opts;
	struct batch b;
	if (!opts)
		opts = &no_opts;
	int r = batch_init(&b, in, n, opts, opts->shellcheck != NULL, err);
	if (r >= 0)
		r = batch_run(&b, 0, n, NULL, NULL, err);
	if (r >= 0)
		for (size_t i = 0; i < n; i++)
			ret[i] = steal_ptr(&b.reps[i]);
	batch_release(&b);
	return r < 0 ? r : 0;
}

int kiln_lint_run(const char *data, size_t len, const char *filename,
		  const struct kiln_lint_opts *opts, struct kiln_lint_report **ret,
		  struct kiln_error *err)
{
	struct kiln_lint_input in = { .data = data, .len = len, .filename = filename,
				      .context_dir = opts ? opts->context_dir : NULL,
				      .dockerfile_path = opts ? opts->dockerfile_path : NULL };
	return kiln_lint_run_many(&in, 1, opts, ret, err);
}

struct stream {
	struct batch b;
	struct kiln_error *errs;
	unsigned char *failed;
	kiln_lint_group_fn fn;
	void *ud;
};

/* Hand files [first, first + n) over to the caller's function, which takes them. */
static int deliver(struct stream *s, size_t first, size_t n)
{
	for (size_t i = first; i < first + n; i++)
		if (s->failed[i]) {
			kiln_lint_report_free(s->b.reps[i]);
			s->b.reps[i] = NULL;
		}
	int r = s->fn(s->ud, first, s->b.reps + first, s->errs + first, n);
	for (size_t i = first; i < first + n; i++) {
		s->b.reps[i] = NULL;
		kiln_error_release(&s->errs[i]);
	}
	return r;
}

/*
 * Without ShellCheck: one pool for every file, and the caller's thread hands
 * each group over as soon as it is complete, linting files of later groups
 * while it waits. A group's boundary costs no thread start, no join and no
 * idle CPU while the output is written.
 */
static int stream_pooled(struct stream *s, size_t group, struct kiln_error *err)
{
	size_t n = s->b.n, n_groups = (n + group - 1) / group;
	atomic_size_t *done = kiln_calloc(n_groups ? n_groups : 1, sizeof(*done));
	if (!done)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t g = 0; g < n_groups; g++)
		atomic_init(&done[g], 0);
	struct pool p;
	pool_init(&p, &s->b, 0, n, PHASE_PREPARE | PHASE_FINISH);
	p.errs = s->errs;
	p.failed = s->failed;
	p.done = done;
	p.group = group;
	pthread_t tids[LINT_MAX_THREADS];
	size_t started = pool_start(&p, 0, tids);
	struct thread_state t; /* see pool_work */
	thread_state_init(&t);
	int r = 0;
	for (size_t g = 0; g < n_groups && r >= 0; g++) {
		size_t size = group_size(&p, g);
		while (atomic_load(&done[g]) < size && pool_take(&p, &t))
			;
		pthread_mutex_lock(&p.lock);
		while (atomic_load(&done[g]) < size)
			pthread_cond_wait(&p.group_done, &p.lock);
		pthread_mutex_unlock(&p.lock);
		r = deliver(s, g * group, size);
		if (r < 0)
			atomic_store(&p.stop, 1);
	}
	struct kiln_error unused = KILN_ERROR_INIT; /* files fail on their own here */
	(void)pool_end(&p, tids, started, &unused);
	kiln_error_release(&unused);
	thread_state_release(&t);
	free(done);
	return r;
}

int kiln_lint_run_stream(const struct kiln_lint_input *in, size_t n, size_t group,
			 const struct kiln_lint_opts *opts, kiln_lint_group_fn fn, void *ud,
			 struct kiln_error *err)
{
	static const struct kiln_lint_opts no_opts;
	if (!opts)
		opts = &no_opts;
	if (!group || group > n)
		group = n ? n : 1;
	struct stream s = { .fn = fn, .ud = ud };
	int r = batch_init(&s.b, in, n, opts, opts->shellcheck != NULL, err);
	if (r >= 0) {
		s.errs = kiln_calloc(n ? n : 1, sizeof(*s.errs));
		s.failed = kiln_calloc(n ? n : 1, sizeof(*s.failed));
		if (!s.errs || !s.failed)
			r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	if (r >= 0 && !opts->shellcheck)
		r = stream_pooled(&s, group, err);
	/* with ShellCheck, a group at a time: one ShellCheck run per dialect and group */
	for (size_t first = 0; r >= 0 && opts->shellcheck && first < n; first += group) {
		size_t size = n - first < group ? n - first : group;
		r = batch_run(&s.b, first, first + size, s.errs, s.failed, err);
		if (r >= 0)
			r = deliver(&s, first, size);
	}
	for (size_t i = 0; s.errs && i < n; i++)
		kiln_error_release(&s.errs[i]);
	free(s.errs);
	free(s.failed);
	batch_release(&s.b);
	return r < 0 ? r : 0;
}
