/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What explanations compare with: per scope (the context, the Dockerfile,
 * the stage, the step's position), what the step was made of the last time
 * a build ran it or found it in the cache:
 *
 *   build_explain  scope -> key, ingredients (JSON), the instruction's
 *                  text, the source files (COPY/ADD), the build args whose
 *                  values are not shown
 *
 * Read once per layer step (only the key on a cache hit), written at the
 * end of a build, in one transaction, for the scopes whose key changed; a
 * no-op rebuild writes nothing. Rows of scopes no build used for 180 days
 * are dropped then too. Until then the file lists (half a megabyte for a
 * COPY of a 5,000-file context) wait in an unlinked file in the build's
 * scratch directory, not in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build/explain.h"

#define STALE_SECONDS (180 * 24 * 3600)

static const struct kiln_store_migration migrations[] = {
	{ 1, "CREATE TABLE build_explain ("
	     " scope TEXT PRIMARY KEY,"
	     " key TEXT NOT NULL,"
	     " ingredients TEXT NOT NULL,"
	     " text TEXT NOT NULL,"
	     " files TEXT,"
	     " hidden TEXT NOT NULL,"
	     " used_unix INTEGER NOT NULL)" },
	/* the cache a step was taken from without its layer, which the next
	 * build then lacks for a reason that is no prune */
	{ 2, "ALTER TABLE build_explain ADD COLUMN remote TEXT" },
};

struct pending {
	struct kiln_digest scope;
	char *key, *ingredients, *text;
	char *remote; /* the cache the layer is in, not fetched; NULL: the store has it */
	char *files; /* the file list, when it could not be set aside */
	int spilled; /* the file list is at files_off in the spill file */
	off_t files_off;
	size_t files_len;
};

struct miss_entry {
	size_t stage, step;
	struct kiln_build_miss miss;
};

struct bb_explain {
	char *base;   /* the context and the Dockerfile, the part of every scope */
	char *hidden; /* o->hidden_args, one per line */
	pthread_mutex_t lock;
	struct pending *pend;
	size_t n_pend;
	struct miss_entry *misses;
	size_t n_misses;
	int spill_fd; /* pending file lists; -1 until the first */
	off_t spill_len;
};

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

static void finalizep(sqlite3_stmt **s)
{
	if (*s)
		sqlite3_finalize(*s);
	*s = NULL;
}

static char *real_or_given(const char *p)
{
	char buf[PATH_MAX];
	return kiln_strdup(realpath(p, buf) ? buf : p);
}

int bb_explain_open(struct bb *b, struct kiln_error *err)
{
	const struct kiln_build_opts *o = b->o;
	struct bb_explain *e = kiln_calloc(1, sizeof(*e));
	if (!e)
		return oom(err);
	(void) pthread_mutex_init(&e->lock, NULL);
	e->spill_fd = -1;
	b->explain = e;
	cleanup_free char *ctx = o->context_url	      ? kiln_strdup(o->context_url)
				 : o->context_tar_fd >= 0 ? kiln_strdup("(a tar on stdin)")
				 : o->context_dir     ? real_or_given(o->context_dir)
						      : kiln_strdup("(no context)");
	cleanup_free char *df = o->dockerfile_path && o->context_dir && !o->context_url &&
					o->context_tar_fd < 0
					? real_or_given(o->dockerfile_path)
					: kiln_strdup(b->df_name);
	struct kiln_buf h = KILN_BUF_INIT;
	int r = kiln_buf_addstr(&h, "");
	for (size_t i = 0; r >= 0 && i < o->n_hidden_args; i++)
		r = kiln_buf_addf(&h, "%s\n", o->hidden_args[i]);
	e->hidden = r >= 0 ? kiln_buf_detach(&h, NULL) : NULL;
	kiln_buf_release(&h);
	if (!ctx || !df || !e->hidden)
		return oom(err);
	e->base = kiln_asprintf("kiln-explain-v1\n%s\n%s\n", ctx, df);
	if (!e->base)
		return oom(err);
	bb_store_lock(b);
	r = kiln_store_migrate(b->st, "build-explain", migrations, KILN_ARRAY_SIZE(migrations),
			       err);
	bb_store_unlock(b);
	return r;
}

static void pending_release(struct pending *p)
{
	free(p->remote);
	free(p->key);
	free(p->ingredients);
	free(p->text);
	free(p->files);
}

void bb_explain_close(struct bb *b)
{
	struct bb_explain *e = b->explain;
	if (!e)
		return;
	for (size_t i = 0; i < e->n_pend; i++)
		pending_release(&e->pend[i]);
	free(e->pend);
	for (size_t i = 0; i < e->n_misses; i++)
		bb_explain_miss_release(&e->misses[i].miss);
	free(e->misses);
	free(e->base);
	free(e->hidden);
	if (e->spill_fd >= 0)
		(void) close(e->spill_fd);
	(void) pthread_mutex_destroy(&e->lock);
	free(e);
	b->explain = NULL;
}

/*
 * The scope of a step: this build's context and Dockerfile, the stage, and
 * which of the stage's steps of its kind it is (its second RUN), so that an
 * ARG, ENV or WORKDIR added above it still finds the step it was.
 */
static int scope_of(struct bb *b, const struct bb_stage *s, const struct kiln_plan_step *ps,
		    struct kiln_digest *ret, struct kiln_error *err)
{
	enum kiln_df_cmd cmd = ps->df->instr.cmd;
	size_t nth = 0;
	for (const struct kiln_plan_step *q = s->ps->steps; q < ps; q++)
		nth += q->layer && q->df->instr.cmd == cmd;
	cleanup_free char *text = kiln_asprintf("%s%s\n%s %zu\n", b->explain->base, s->ps->df->id,
						kiln_df_cmd_upper(cmd), nth);
	if (!text)
		return oom(err);
	return kiln_sha256_buf(text, strlen(text), ret, err);
}

/* The last row of a scope, the store locked: 1 with *ret, 0 without. */
static int last_locked(struct bb *b, const struct kiln_digest *scope, int key_only,
		       struct bb_explain_state *ret, struct kiln_error *err)
{
	cleanup(finalizep) sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(kiln_store_db(b->st),
			       key_only ? "SELECT key, remote FROM build_explain WHERE scope = ?1"
					: "SELECT key, remote, ingredients, text, files, hidden FROM "
					  "build_explain WHERE scope = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return kiln_store_db_fail(b->st, err, "reading what explains cache misses");
	sqlite3_bind_text(st, 1, scope->str, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return kiln_store_db_fail(b->st, err, "reading what explains cache misses");
	struct kiln_digest d;
	if (kiln_digest_parse((const char *) sqlite3_column_text(st, 0), &d, NULL) < 0)
		return 0; /* unreadable: as if there were none */
	const char *remote = (const char *) sqlite3_column_text(st, 1);
	if (remote && !(ret->remote = kiln_strdup(remote)))
		return oom(err);
	if (key_only) {
		ret->key.digest = d;
		return 1;
	}
	if (kiln_plan_key_from_json((const char *) sqlite3_column_text(st, 2), &ret->key, NULL) <
	    0) {
		bb_explain_state_release(ret);
		return 0;
	}
	ret->key.digest = d;
	const char *files = (const char *) sqlite3_column_text(st, 4);
	ret->text = kiln_strdup((const char *) sqlite3_column_text(st, 3));
	ret->files = files ? kiln_strdup(files) : NULL;
	ret->hidden = kiln_strdup((const char *) sqlite3_column_text(st, 5));
	if (!ret->text || (files && !ret->files) || !ret->hidden) {
		bb_explain_state_release(ret);
		return oom(err);
	}
	return 1;
}

/* The last row of a scope: 1 with *ret (the key only, or all), 0 without. */
static int last_of(struct bb *b, const struct kiln_digest *scope, int key_only,
		   struct bb_explain_state *ret, struct kiln_error *err)
{
	bb_store_lock(b);
	int r = last_locked(b, scope, key_only, ret, err);
	bb_store_unlock(b);
	return r;
}

/* Move a file list to the spill file; it stays in memory when that fails. */
static void spill(struct bb *b, struct pending *p)
{
	struct bb_explain *e = b->explain;
	size_t len = strlen(p->files);
	(void) pthread_mutex_lock(&e->lock);
	if (e->spill_fd < 0 && b->tmp_root)
		e->spill_fd = open(b->tmp_root, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	off_t off = e->spill_len;
	if (e->spill_fd >= 0)
		e->spill_len += (off_t) len;
	int fd = e->spill_fd;
	(void) pthread_mutex_unlock(&e->lock);
	if (fd < 0)
		return;
	if (kiln_pwrite_all(fd, p->files, len, (uint64_t) off) < 0)
		return;
	free(p->files);
	p->files = NULL;
	p->spilled = 1;
	p->files_off = off;
	p->files_len = len;
}

/* A pending file list back from the spill file (caller frees), or NULL. */
static char *unspill(struct bb_explain *e, const struct pending *p)
{
	char *buf = kiln_malloc(p->files_len + 1);
	if (!buf) {
		errno = ENOMEM;
		return NULL;
	}
	errno = 0;
	for (size_t done = 0; done < p->files_len;) {
		ssize_t n = pread(e->spill_fd, buf + done, p->files_len - done,
				  p->files_off + (off_t) done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return NULL;
		}
		done += (size_t) n;
	}
	buf[p->files_len] = '\0';
	return buf;
}

static int queue(struct bb *b, const struct kiln_digest *scope, const struct kiln_plan_key *key,
		 const char *text, char *files, const char *remote, struct kiln_error *err)
{
	struct bb_explain *e = b->explain;
	struct pending p = { .scope = *scope, .files = files };
	if (remote && !(p.remote = kiln_strdup(remote))) {
		free(files);
		return oom(err);
	}
	if (p.files)
		spill(b, &p);
	int r = kiln_plan_key_to_json(key, &p.ingredients, err);
	if (r < 0) {
		pending_release(&p);
		return r;
	}
	p.key = kiln_strdup(key->digest.str);
	p.text = kiln_strdup(text);
	if (!p.key || !p.text) {
		pending_release(&p);
		return oom(err);
	}
	(void) pthread_mutex_lock(&e->lock);
	struct pending *n = kiln_reallocarray(e->pend, e->n_pend + 1, sizeof(*n));
	if (n) {
		e->pend = n;
		n[e->n_pend++] = p;
	}
	(void) pthread_mutex_unlock(&e->lock);
	if (!n) {
		pending_release(&p);
		return oom(err);
	}
	return 0;
}

/* The base image a stage stands on, for messages (through FROM <stage>). */
static const char *base_name(struct bb *b, const struct bb_stage *s)
{
	while (s && !s->image && s->ps->base_stage >= 0)
		s = &b->stages[s->ps->base_stage];
	return s && s->image ? s->image->name : NULL;
}

/* An explanation that cannot be made is a warning, never a failed build. */
static int soft(struct bb *b, const struct kiln_plan_step *ps, int r, struct kiln_error *err)
{
	if (r >= 0 || r == -KILN_ENOMEM)
		return r;
	bb_warn(b, "%s: the cache miss is not explained: %s", ps->name,
		err && err->msg ? err->msg : kiln_strerror((enum kiln_err) - r));
	kiln_error_release(err);
	return 0;
}

int bb_explain_miss(struct bb *b, struct bb_stage *s, const struct kiln_plan_step *ps,
		    struct bb_vertex *v, const struct kiln_plan_key *key,
		    const struct kiln_plan_selection *sel, struct kiln_error *err)
{
	struct bb_explain *e = b->explain;
	if (!e)
		return 0;
	int no_cache = s->no_cache;
	struct kiln_digest scope;
	int r = scope_of(b, s, ps, &scope, err);
	if (r < 0)
		return r;
	struct bb_explain_state prev = { .key = KILN_PLAN_KEY_INIT };
	struct bb_explain_state now = { .key = *key, .hidden = e->hidden };
	now.text = (char *) (ps->df->instr.original ? ps->df->instr.original
						    : bb_explain_text(ps->name));
	int found = 0;
	if (!no_cache) {
		found = last_of(b, &scope, 0, &prev, err);
		if (found < 0) {
			bb_explain_state_release(&prev);
			return soft(b, ps, found, err);
		}
	}
	r = bb_explain_files(sel, &now.files, err);
	struct miss_entry me = { .stage = s->index, .step = (size_t) (ps - s->ps->steps) };
	if (r >= 0)
		r = bb_explain_compute(found ? &prev : NULL, &now, s->first_miss, base_name(b, s),
				       no_cache, &me.miss, err);
	bb_explain_state_release(&prev);
	if (r < 0) {
		free(now.files);
		return r;
	}
	me.miss.step = bb_step_name(b, ps->name);
	if (!s->first_miss)
		s->first_miss = kiln_strdup(ps->name);
	if (!me.miss.step || !s->first_miss) {
		free(now.files);
		bb_explain_miss_release(&me.miss);
		return oom(err);
	}
	bb_vertex_miss(b, v, me.miss.message, me.miss.summary);
	(void) pthread_mutex_lock(&e->lock);
	struct miss_entry *n = kiln_reallocarray(e->misses, e->n_misses + 1, sizeof(*n));
	if (n) {
		e->misses = n;
		n[e->n_misses++] = me;
	}
	(void) pthread_mutex_unlock(&e->lock);
	if (!n) {
		free(now.files);
		bb_explain_miss_release(&me.miss);
		return oom(err);
	}
	/* remembered when the step succeeds, listed again then: a large
	 * context's list is not held while the step runs */
	free(now.files);
	return 0;
}

int bb_explain_done(struct bb *b, struct bb_stage *s, const struct kiln_plan_step *ps,
		    const struct kiln_plan_key *key, const struct kiln_plan_selection *sel,
		    const char *remote, struct kiln_error *err)
{
	if (!b->explain || !key)
		return 0;
	struct kiln_digest scope;
	int r = scope_of(b, s, ps, &scope, err);
	if (r < 0)
		return r;
	/* nothing to remember when the scope has this key already (a hit) */
	struct bb_explain_state last = { .key = KILN_PLAN_KEY_INIT };
	r = last_of(b, &scope, 1, &last, err);
	/* the same key, unless it was a remote layer that this build has made or fetched */
	int same = r == 1 && kiln_digest_equal(&last.key.digest, &key->digest) &&
		   (!last.remote || remote);
	bb_explain_state_release(&last);
	if (r < 0)
		return soft(b, ps, r, err);
	if (same)
		return 0;
	char *files = NULL;
	if ((r = bb_explain_files(sel, &files, err)) < 0)
		return r;
	const char *text =
		ps->df->instr.original ? ps->df->instr.original : bb_explain_text(ps->name);
	return queue(b, &scope, key, text, files, remote, err);
}

/* Whether the store's cache has `key` (the store locked): a remote layer was fetched. */
static int stored_key(sqlite3 *db, const char *key)
{
	cleanup(finalizep) sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM build_cache WHERE key = ?1", -1, &st, NULL) !=
	    SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	return sqlite3_step(st) == SQLITE_ROW;
}

int bb_explain_flush(struct bb *b, struct kiln_error *err)
{
	struct bb_explain *e = b->explain;
	if (!e || !e->n_pend)
		return 0;
	bb_store_lock(b);
	int r = kiln_store_tx_begin(b->st, err);
	cleanup(finalizep) sqlite3_stmt *st = NULL;
	sqlite3 *db = kiln_store_db(b->st);
	if (r >= 0 &&
	    sqlite3_prepare_v2(db,
			       "INSERT OR REPLACE INTO build_explain (scope, key, ingredients, text, "
			       "files, hidden, used_unix, remote) "
			       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			       -1, &st, NULL) != SQLITE_OK)
		r = kiln_store_db_fail(b->st, err, "remembering what explains cache misses");
	sqlite3_int64 now = (sqlite3_int64) time(NULL);
	for (size_t i = 0; r >= 0 && i < e->n_pend; i++) {
		const struct pending *p = &e->pend[i];
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, p->scope.str, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, p->key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, p->ingredients, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, p->text, -1, SQLITE_STATIC);
		if (p->spilled) {
			char *files = unspill(e, p);
			if (!files) {
				r = kiln_fail(err, KILN_EIO, errno ? errno : EIO,
					      "reading back the file list of %s", p->text);
				break;
			}
			sqlite3_bind_text(st, 5, files, -1, free);
		} else if (p->files) {
			sqlite3_bind_text(st, 5, p->files, -1, SQLITE_STATIC);
		} else {
			sqlite3_bind_null(st, 5);
		}
		sqlite3_bind_text(st, 6, e->hidden, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, now);
		/* a remote layer the build fetched after all is the store's now */
		if (p->remote && !stored_key(db, p->key))
			sqlite3_bind_text(st, 8, p->remote, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 8);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = kiln_store_db_fail(b->st, err,
					       "remembering what explains cache misses");
	}
	finalizep(&st);
	if (r >= 0 && sqlite3_prepare_v2(db, "DELETE FROM build_explain WHERE used_unix < ?1", -1,
					 &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, now - STALE_SECONDS);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = kiln_store_db_fail(b->st, err, "dropping stale explanations");
	}
	finalizep(&st);
	if (r >= 0)
		r = kiln_store_tx_commit(b->st, err);
	else
		kiln_store_tx_rollback(b->st);
	bb_store_unlock(b);
	return r;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct miss_entry *x = a, *y = b;
	if (x->stage != y->stage)
		return x->stage < y->stage ? -1 : 1;
	return x->step < y->step ? -1 : x->step > y->step;
}

void bb_explain_result(struct bb *b, struct kiln_build_result *res)
{
	struct bb_explain *e = b->explain;
	if (!e || !e->n_misses)
		return;
	qsort(e->misses, e->n_misses, sizeof(*e->misses), cmp_entry);
	struct kiln_build_miss *v = kiln_calloc(e->n_misses, sizeof(*v));
	if (!v)
		return; /* the result goes without them rather than failing */
	for (size_t i = 0; i < e->n_misses; i++) {
		v[i] = e->misses[i].miss;
		memset(&e->misses[i].miss, 0, sizeof(e->misses[i].miss));
	}
	res->misses = v;
	res->n_misses = e->n_misses;
}

void bb_explain_misses_free(struct kiln_build_miss *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bb_explain_miss_release(&v[i]);
	free(v);
}
