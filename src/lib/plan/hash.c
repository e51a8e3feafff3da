/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Content digests of selections: file contents hashed on a few threads,
 * remembered in the caller's persistent cache for the context (keyed by
 * device, inode, size, mtime and ctime) and in memory for the run for other
 * trees, then one digest over names, types, permissions, owners, contents
 * and link targets.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "plan/select.h"

#define HASH_BUF_SIZE ((size_t) 256 << 10)
#define HASH_THREADS_DEFAULT 4
#define HASH_THREADS_MAX 64
#define SELECTION_VERSION "kiln-selection-v1\n"

struct memo_slot {
	struct kiln_plan_file_id id;
	uint8_t raw[32]; /* the digest, raw: a slot stays small */
	int used;
};

struct kiln_plan_hasher {
	struct kiln_plan_hash_cache cache;
	int has_cache;
	unsigned threads;
	const struct kiln_ctx *ctx;
	struct memo_slot *memo;
	size_t memo_cap, memo_len;
	struct kiln_plan_hash_stats stats;
};

int kiln_plan_hasher_new(const struct kiln_plan_hash_cache *cache, unsigned threads,
			 const struct kiln_ctx *ctx, struct kiln_plan_hasher **ret,
			 struct kiln_error *err)
{
	struct kiln_plan_hasher *h = kiln_calloc(1, sizeof(*h));
	if (!h)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (cache) {
		h->cache = *cache;
		h->has_cache = 1;
	}
	h->threads = threads ? threads : HASH_THREADS_DEFAULT;
	if (h->threads > HASH_THREADS_MAX)
		h->threads = HASH_THREADS_MAX;
	h->ctx = ctx;
	*ret = h;
	return 0;
}

void kiln_plan_hasher_free(struct kiln_plan_hasher *h)
{
	if (!h)
		return;
	free(h->memo);
	free(h);
}

void kiln_plan_hasher_stats(const struct kiln_plan_hasher *h, struct kiln_plan_hash_stats *ret)
{
	*ret = h->stats;
}

/* ---- the memo: open addressing on the file id ------------------------- */

static uint64_t id_hash(const struct kiln_plan_file_id *id)
{
	uint64_t x = id->dev * 0x9E3779B97F4A7C15ull ^ id->ino;
	x ^= (uint64_t) id->mtime_ns * 0xC2B2AE3D27D4EB4Full;
	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 32;
	return x;
}

static int id_equal(const struct kiln_plan_file_id *a, const struct kiln_plan_file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

static struct memo_slot *memo_find(struct kiln_plan_hasher *h, const struct kiln_plan_file_id *id)
{
	if (!h->memo_cap)
		return NULL;
	size_t mask = h->memo_cap - 1;
	for (size_t i = id_hash(id) & mask;; i = (i + 1) & mask) {
		struct memo_slot *s = &h->memo[i];
		if (!s->used)
			return NULL;
		if (id_equal(&s->id, id))
			return s;
	}
}

/* Room for `more` entries at most half full (one rehash for a whole batch). */
static int memo_reserve(struct kiln_plan_hasher *h, size_t more)
{
	if ((h->memo_len + more) * 3 <= h->memo_cap * 2)
		return 0;
	size_t nc = h->memo_cap ? h->memo_cap : 1024;
	while ((h->memo_len + more) * 3 > nc * 2)
		nc *= 2;
	struct memo_slot *n = kiln_calloc(nc, sizeof(*n));
	if (!n)
		return -KILN_ENOMEM;
	for (size_t i = 0; i < h->memo_cap; i++) {
		if (!h->memo[i].used)
			continue;
		size_t j = id_hash(&h->memo[i].id) & (nc - 1);
		while (n[j].used)
			j = (j + 1) & (nc - 1);
		n[j] = h->memo[i];
	}
	free(h->memo);
	h->memo = n;
	h->memo_cap = nc;
	return 0;
}

static int memo_put(struct kiln_plan_hasher *h, const struct kiln_plan_file_id *id,
		    const uint8_t *raw)
{
	if ((h->memo_len + 1) * 3 > h->memo_cap * 2) {
		size_t nc = h->memo_cap ? h->memo_cap * 2 : 1024;
		struct memo_slot *n = kiln_calloc(nc, sizeof(*n));
		if (!n)
			return -KILN_ENOMEM;
		for (size_t i = 0; i < h->memo_cap; i++) {
			if (!h->memo[i].used)
				continue;
			size_t j = id_hash(&h->memo[i].id) & (nc - 1);
			while (n[j].used)
				j = (j + 1) & (nc - 1);
			n[j] = h->memo[i];
		}
		free(h->memo);
		h->memo = n;
		h->memo_cap = nc;
	}
	size_t mask = h->memo_cap - 1;
	size_t i = id_hash(id) & mask;
	while (h->memo[i].used && !id_equal(&h->memo[i].id, id))
		i = (i + 1) & mask;
	if (!h->memo[i].used)
		h->memo_len++;
	h->memo[i] = (struct memo_slot){ .id = *id, .used = 1 };
	memcpy(h->memo[i].raw, raw, sizeof(h->memo[i].raw));
	return 0;
}

static void file_id_of(const struct kiln_plan_stat *st, struct kiln_plan_file_id *id)
{
	*id = (struct kiln_plan_file_id){
		.dev = st->dev,
		.ino = st->ino,
		.size = (uint64_t) st->size,
		.mtime_ns = st->mtime_ns,
		.ctime_ns = st->ctime_ns,
	};
}

static void file_id(const struct stat *st, struct kiln_plan_file_id *id)
{
	struct kiln_plan_stat ps;
	kiln_plan_stat_from(&ps, st);
	file_id_of(&ps, id);
}

/* ---- hashing on threads --------------------------------------------------- */

struct job {
	const char *path;
	struct kiln_digest digest;
	int sys_errno; /* 0 ok, else why it failed */
	int changed;   /* the file is not what was listed */
	struct kiln_plan_file_id id;
};

struct pool {
	int root_fd;
	struct job *jobs;
	size_t n;
	atomic_size_t next;
	atomic_uint_fast64_t bytes;
	const struct kiln_ctx *ctx;
};

static void hash_one(struct pool *p, struct job *j, char *buf)
{
	int fd = openat(p->root_fd, j->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		j->sys_errno = errno;
		return;
	}
	struct kiln_sha256 *h = NULL;
	if (kiln_sha256_new(&h, NULL) < 0) {
		(void) close(fd);
		j->sys_errno = ENOMEM;
		return;
	}
	/* Reading stops at the listed size, with no read to see the end: a
	 * file that grew, shrank or changed since it was listed shows another
	 * size or change time to the fstat below, and one that changes after
	 * it does not matter. That, not a second fstat before the reads, is
	 * what ties the digest to the listed identity (a change time never goes
	 * back). Two system calls fewer per small file. */
	uint64_t total = 0;
	while (total < j->id.size) {
		ssize_t n = read(fd, buf, HASH_BUF_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			j->sys_errno = errno;
			break;
		}
		if (n == 0)
			break;
		kiln_sha256_update(h, buf, (size_t) n);
		total += (uint64_t) n;
		if (kiln_cancelled(p->ctx)) {
			j->sys_errno = ECANCELED;
			break;
		}
	}
	/* what was read must be what was listed and must not have changed since:
	 * the digest is remembered under the listed identity */
	struct stat after;
	struct kiln_plan_file_id a;
	if (!j->sys_errno) {
		if (fstat(fd, &after) < 0) {
			j->sys_errno = errno;
		} else {
			file_id(&after, &a);
			if (!id_equal(&a, &j->id) || total != j->id.size)
				j->changed = 1;
		}
	}
	(void) close(fd);
	kiln_sha256_final(h, &j->digest);
	kiln_sha256_free(h);
	atomic_fetch_add(&p->bytes, total);
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	char *buf = kiln_malloc(HASH_BUF_SIZE);
	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->n)
			break;
		if (!buf) {
			p->jobs[i].sys_errno = ENOMEM;
			continue;
		}
		hash_one(p, &p->jobs[i], buf);
	}
	free(buf);
	return NULL;
}

static int run_pool(struct kiln_plan_hasher *h, struct pool *p, struct kiln_error *err)
{
	size_t nt = h->threads;
	if (nt > p->n)
		nt = p->n;
	cleanup_free pthread_t *tids = kiln_calloc(nt ? nt : 1, sizeof(pthread_t));
	if (!tids)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	size_t started = 0;
	/* the calling thread works too; extra threads only for bigger batches */
	for (size_t i = 1; i < nt && p->n > 8; i++) {
		if (kiln_thread_start(&tids[started], worker, p) != 0)
			break;
		started++;
	}
	worker(p);
	for (size_t i = 0; i < started; i++)
		(void) pthread_join(tids[i], NULL);
	return 0;
}

/* ---- the selection digest --------------------------------------------- */

static char type_char(mode_t m)
{
	return S_ISREG(m)    ? 'f'
	       : S_ISDIR(m)  ? 'd'
	       : S_ISLNK(m)  ? 'l'
	       : S_ISCHR(m)  ? 'c'
	       : S_ISBLK(m)  ? 'b'
	       : S_ISFIFO(m) ? 'p'
			     : 's';
}

static int selection_digest(struct kiln_plan_selection *s, struct kiln_error *err)
{
	struct kiln_sha256 *h = NULL;
	int r = kiln_sha256_new(&h, err);
	if (r < 0)
		return r;
	struct kiln_buf b = KILN_BUF_INIT;
	kiln_sha256_update(h, SELECTION_VERSION, strlen(SELECTION_VERSION));
	for (size_t m = 0; r >= 0 && m < s->n_matches; m++) {
		const struct kiln_plan_match *mt = &s->matches[m];
		kiln_buf_reset(&b);
		r = kiln_buf_addf(&b, "match\t%s\t%c%s\n", mt->base, mt->is_dir ? 'd' : 'f',
				  mt->parents ? "\tparents" : "");
		if (r >= 0)
			kiln_sha256_update(h, b.buf, b.len);
		/* by hand, not printf: this runs once per file of a large context */
		for (size_t i = mt->first; r >= 0 && i < mt->first + mt->n; i++) {
			const struct kiln_plan_item *it = &s->items[i];
			uint32_t md = it->st.mode;
			kiln_buf_reset(&b);
			r = kiln_buf_add(&b, it->rel, strlen(it->rel) + 1);
			if (r >= 0)
				r = kiln_buf_addch(&b, type_char(md));
			if (r >= 0)
				r = kiln_buf_addch(&b, '\t');
			if (r >= 0)
				r = kiln_buf_add_uint(&b, md & 07777, 8);
			if (r >= 0)
				r = kiln_buf_addch(&b, '\t');
			if (r >= 0)
				r = kiln_buf_add_uint(&b, it->st.uid, 10);
			if (r >= 0)
				r = kiln_buf_addch(&b, '\t');
			if (r >= 0)
				r = kiln_buf_add_uint(&b, it->st.gid, 10);
			if (r >= 0)
				r = kiln_buf_add(&b, it->parent_only ? "\t1\t" : "\t0\t", 3);
			if (r >= 0 && S_ISREG(md))
				r = kiln_buf_add_hex(&b, it->sum.raw, sizeof(it->sum.raw));
			else if (r >= 0 && S_ISLNK(md) && it->link)
				r = kiln_buf_add(&b, it->link, strlen(it->link) + 1);
			else if (r >= 0 && (S_ISCHR(md) || S_ISBLK(md))) {
				r = kiln_buf_add_uint(&b, major(it->st.rdev), 10);
				if (r >= 0)
					r = kiln_buf_addch(&b, ':');
				if (r >= 0)
					r = kiln_buf_add_uint(&b, minor(it->st.rdev), 10);
			}
			if (r >= 0)
				r = kiln_buf_addch(&b, '\n');
			if (r >= 0)
				kiln_sha256_update(h, b.buf, b.len);
		}
	}
	kiln_buf_release(&b);
	if (r < 0) {
		kiln_sha256_free(h);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	kiln_sha256_final(h, &s->digest);
	kiln_sha256_free(h);
	s->hashed = 1;
	return 0;
}

/* What the persistent cache knows goes straight into the items. */
struct cache_found {
	struct kiln_plan_selection *s;
	const size_t *todo;
	size_t n;
};

static void cache_found(void *ud, size_t k, const struct kiln_plan_sum *sum)
{
	struct cache_found *cf = ud;
	if (k >= cf->n)
		return;
	struct kiln_plan_item *it = &cf->s->items[cf->todo[k]];
	it->sum = *sum;
	it->hashed = 1;
}

int kiln_plan_selection_hash(struct kiln_plan_selection *s, const struct kiln_plan_tree *t,
			     struct kiln_plan_hasher *h, struct kiln_error *err)
{
	size_t n = s->n_items;
	cleanup_free size_t *todo = kiln_calloc(n + 1, sizeof(size_t));
	cleanup_free struct kiln_plan_file_id *ids = kiln_calloc(n + 1, sizeof(*ids));
	if (!todo || !ids)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	/* The persistent cache, when there is one, remembers for this run too:
	 * a memo beside it would hold a second copy of every digest of a large
	 * context for the rare file that two COPYs select. */
	int persistent = t->context && h->has_cache;
	size_t nt = 0;
	for (size_t i = 0; i < n; i++) {
		struct kiln_plan_item *it = &s->items[i];
		if (!S_ISREG(it->st.mode) || it->hashed)
			continue;
		h->stats.files++;
		struct kiln_plan_file_id id;
		file_id_of(&it->st, &id);
		struct memo_slot *ms = persistent ? NULL : memo_find(h, &id);
		if (ms) {
			memcpy(it->sum.raw, ms->raw, sizeof(it->sum.raw));
			it->hashed = 1;
			h->stats.memo_hits++;
			continue;
		}
		ids[nt] = id;
		todo[nt++] = i;
	}
	int r;
	if (nt && !persistent && memo_reserve(h, nt) < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (nt && persistent) {
		struct cache_found cf = { .s = s, .todo = todo, .n = nt };
		r = h->cache.lookup(h->cache.userdata, ids, nt, cache_found, &cf, err);
		if (r < 0)
			return r;
		size_t keep = 0;
		for (size_t k = 0; k < nt; k++) {
			if (s->items[todo[k]].hashed) {
				h->stats.cache_hits++;
				continue;
			}
			ids[keep] = ids[k];
			todo[keep++] = todo[k];
		}
		nt = keep;
	}
	if (nt) {
		cleanup_free struct job *jobs = kiln_calloc(nt, sizeof(*jobs));
		if (!jobs)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		for (size_t k = 0; k < nt; k++)
			jobs[k] = (struct job){ .path = s->items[todo[k]].path, .id = ids[k] };
		struct pool p = { .root_fd = s->read_fd >= 0 ? s->read_fd : t->root_fd,
				  .jobs = jobs,
				  .n = nt,
				  .ctx = h->ctx };
		atomic_init(&p.next, 0);
		atomic_init(&p.bytes, 0);
		if ((r = run_pool(h, &p, err)) < 0)
			return r;
		h->stats.bytes += atomic_load(&p.bytes);
		for (size_t k = 0; k < nt; k++) {
			struct job *j = &jobs[k];
			if (j->sys_errno == ECANCELED)
				return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
			if (j->sys_errno)
				return kiln_fail(
					err, j->sys_errno == ENOENT ? KILN_ENOTFOUND : KILN_EIO,
					j->sys_errno, "reading %s in %s", j->path, t->name);
			if (j->changed)
				return kiln_fail(err, KILN_EIO, 0,
						 "%s in %s changed while it was read; try again",
						 j->path, t->name);
			struct kiln_plan_item *it = &s->items[todo[k]];
			memcpy(it->sum.raw, j->digest.raw, sizeof(it->sum.raw));
			it->hashed = 1;
			h->stats.hashed++;
			if (!persistent && memo_put(h, &ids[k], j->digest.raw) < 0)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
		if (persistent) {
			cleanup_free struct kiln_plan_sum *d = kiln_calloc(nt, sizeof(*d));
			if (!d)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			for (size_t k = 0; k < nt; k++)
				memcpy(d[k].raw, jobs[k].digest.raw, sizeof(d[k].raw));
			r = h->cache.store(h->cache.userdata, ids, d, nt, err);
			if (r < 0)
				return r;
		}
	}
	return selection_digest(s, err);
}
