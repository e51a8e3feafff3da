/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The build cache in the store's database:
 *
 *   build_cache       key -> the layer a step made (diff_id, blob, size,
 *                     media type, the id it is unpacked under when that is
 *                     not its diff_id), its history text, the key the next step
 *                     builds on, and the key's ingredients (so that a miss
 *                     can be explained later)
 *   build_hash_cache  (dev, ino) + size, mtime, ctime -> sha256 (raw) of a
 *                     context file's contents
 *
 * A record is written only after its blob is in the store, or, for a lazy
 * layer (layers.c), after its snapshot is: such a record has blob '' until
 * bb_cache_set_blob(). The records are a cache gc root ("build:cache"): the
 * prune `kiln rmi` runs keeps their blobs, `kiln prune` frees the blobs (and
 * unpacked layers) of layers no image uses, and a record whose blob (or
 * lazy layer's snapshot) is gone is a miss (and is dropped when found so).
 */
#include <sqlite3.h>
#include <string.h>
#include <time.h>

#include "build/build-private.h"
#include "build/remote-cache.h"
#include "snapshot/snapshot.h"

static const struct kiln_store_migration migrations[] = {
	{ 1, "CREATE TABLE build_cache ("
	     " key TEXT PRIMARY KEY,"
	     " diff_id TEXT NOT NULL,"
	     " blob TEXT NOT NULL,"
	     " size INTEGER NOT NULL,"
	     " media_type TEXT NOT NULL,"
	     " created_by TEXT NOT NULL,"
	     " ingredients TEXT NOT NULL,"
	     " chain_key TEXT NOT NULL,"
	     " created_unix INTEGER NOT NULL,"
	     " used_unix INTEGER NOT NULL);"
	     "CREATE INDEX build_cache_blob ON build_cache (blob);"
	     "CREATE TABLE build_hash_cache ("
	     " dev INTEGER NOT NULL,"
	     " ino INTEGER NOT NULL,"
	     " size INTEGER NOT NULL,"
	     " mtime_ns INTEGER NOT NULL,"
	     " ctime_ns INTEGER NOT NULL,"
	     " sha256 BLOB NOT NULL,"
	     " PRIMARY KEY (dev, ino)) WITHOUT ROWID;"
	     /* a cache, not a reference: `kiln rmi` keeps these blobs, `kiln prune`
	      * frees them (see KILN_STORE_GC_CACHE_SUFFIX) */
	     "INSERT OR REPLACE INTO gc_roots (owner, query) VALUES"
	     " ('build" KILN_STORE_GC_CACHE_SUFFIX "', 'SELECT blob FROM build_cache')" },
	/* lazy layers: a record without a blob (blob = '') until one is needed */
	{ 2, "INSERT OR REPLACE INTO gc_roots (owner, query) VALUES"
	     " ('build" KILN_STORE_GC_CACHE_SUFFIX "',"
	     " 'SELECT blob FROM build_cache WHERE blob <> ''''')" },
	/* the id a layer is unpacked under when it is not its diff_id (a lazy
	 * layer's, whose diff_id is '' until its blob is made) */
	{ 3, "ALTER TABLE build_cache ADD COLUMN snapshot TEXT NOT NULL DEFAULT ''" },
	/* ADD <url>: what the server said of the content last time, and its digest */
	{ 4, "CREATE TABLE build_url_cache ("
	     " url TEXT PRIMARY KEY,"
	     " etag TEXT NOT NULL,"
	     " last_modified TEXT NOT NULL,"
	     " digest TEXT NOT NULL,"
	     " used_unix INTEGER NOT NULL)" },
	/* a layer's records by its snapshot or diff_id (bb_cache_blob_of(), the
	 * export's look for the blob a layer thread wrote): without these, each
	 * look read the whole table, 1.7 ms with 3,000 records */
	{ 5, "CREATE INDEX build_cache_snapshot ON build_cache (snapshot);"
	     "CREATE INDEX build_cache_diff_id ON build_cache (diff_id)" },
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

static int prepare(struct kiln_store *st, const char *sql, sqlite3_stmt **ret,
		   struct kiln_error *err)
{
	if (sqlite3_prepare_v2(kiln_store_db(st), sql, -1, ret, NULL) != SQLITE_OK)
		return kiln_store_db_fail(st, err, "build cache");
	return 0;
}

int bb_cache_init(struct bb *b, struct kiln_error *err)
{
	bb_store_lock(b);
	int r = kiln_store_migrate(b->st, "build", migrations, KILN_ARRAY_SIZE(migrations), err);
	bb_store_unlock(b);
	return r;
}

static int drop(struct bb *b, const struct kiln_digest *key, struct kiln_error *err)
{
	cleanup(finalizep) sqlite3_stmt *s = NULL;
	int r = prepare(b->st, "DELETE FROM build_cache WHERE key = ?1", &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, key->str, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return kiln_store_db_fail(b->st, err, "dropping a stale cache record");
	return 0;
}

static int get_locked(struct bb *b, const struct kiln_digest *key, struct bb_layer *ret,
		      struct kiln_error *err)
{
	cleanup(finalizep) sqlite3_stmt *s = NULL;
	int r = prepare(b->st,
			"SELECT diff_id, blob, size, media_type, created_unix, chain_key, snapshot "
			"FROM build_cache WHERE key = ?1",
			&s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, key->str, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return kiln_store_db_fail(b->st, err, "reading the build cache");
	struct bb_layer l = { 0 };
	const char *blob = (const char *) sqlite3_column_text(s, 1);
	const char *diff_id = (const char *) sqlite3_column_text(s, 0);
	const char *snap = (const char *) sqlite3_column_text(s, 6);
	l.lazy = blob && !*blob;
	l.has_snap = snap && *snap && kiln_digest_parse(snap, &l.snap, NULL) == 0;
	if ((bb_layer_has_diff_id(&l) && kiln_digest_parse(diff_id, &l.diff_id, NULL) < 0) ||
	    (!l.lazy && kiln_digest_parse(blob, &l.digest, NULL) < 0)) {
		finalizep(&s);
		return drop(b, key, err) < 0 ? -KILN_EIO : 0;
	}
	l.size = sqlite3_column_int64(s, 2);
	l.created = sqlite3_column_int64(s, 4);
	l.has_chain =
		kiln_digest_parse((const char *) sqlite3_column_text(s, 5), &l.chain, NULL) == 0;
	l.media_type = kiln_strdup((const char *) sqlite3_column_text(s, 3));
	if (!l.media_type)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	finalizep(&s);
	if (l.lazy) {
		/* no blob: the unpacked layer is the layer */
		r = kiln_snapshot_has_in(kiln_store_root(b->st), bb_layer_kept_id(&l), err);
		if (r <= 0) {
			bb_layer_release(&l);
			return r < 0 ? r : drop(b, key, err);
		}
		*ret = l;
		return 1;
	}
	int64_t size = 0;
	r = kiln_store_blob_has(b->st, &l.digest, &size, err);
	if (r < 0) {
		bb_layer_release(&l);
		return r;
	}
	if (r == 0 || size != l.size) {
		/* pruned: the record is useless now */
		bb_layer_release(&l);
		r = drop(b, key, err);
		return r < 0 ? r : 0;
	}
	*ret = l;
	return 1;
}

int bb_cache_get(struct bb *b, const struct kiln_digest *key, struct bb_layer *ret,
		 struct kiln_error *err)
{
	bb_store_lock(b);
	int r = get_locked(b, key, ret, err);
	bb_store_unlock(b);
	/* not here: a cache imported with --cache-from may have it */
	if (r == 0 && b->rc)
		r = bb_rcache_lookup(b, key, ret, err);
	return r;
}

/* ---- whole records (remote caches) --------------------------------------------------- */

void bb_cache_row_release(struct bb_cache_row *row)
{
	bb_layer_release(&row->layer);
	free(row->created_by);
	free(row->ingredients);
	memset(row, 0, sizeof(*row));
}

int bb_cache_row_get(struct bb *b, const struct kiln_digest *key, struct bb_cache_row *ret,
		     struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	bb_store_lock(b);
	cleanup(finalizep) sqlite3_stmt *s = NULL;
	int r = prepare(
		b->st,
		"SELECT diff_id, blob, size, media_type, created_unix, chain_key, created_by, "
		"ingredients FROM build_cache WHERE key = ?1",
		&s, err);
	if (r >= 0) {
		sqlite3_bind_text(s, 1, key->str, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			struct bb_layer *l = &ret->layer;
			r = kiln_digest_parse((const char *) sqlite3_column_text(s, 0), &l->diff_id,
					      NULL) == 0 &&
					    kiln_digest_parse(
						    (const char *) sqlite3_column_text(s, 1),
						    &l->digest, NULL) == 0
				    ? 1
				    : 0;
			l->size = sqlite3_column_int64(s, 2);
			l->created = sqlite3_column_int64(s, 4);
			l->has_chain = kiln_digest_parse((const char *) sqlite3_column_text(s, 5),
							 &l->chain, NULL) == 0;
			if (r == 1 &&
			    (!(l->media_type =
				       kiln_strdup((const char *) sqlite3_column_text(s, 3))) ||
			     !(ret->created_by =
				       kiln_strdup((const char *) sqlite3_column_text(s, 6))) ||
			     !(ret->ingredients =
				       kiln_strdup((const char *) sqlite3_column_text(s, 7)))))
				r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		} else if (rc != SQLITE_DONE) {
			r = kiln_store_db_fail(b->st, err, "reading the build cache");
		}
	}
	finalizep(&s);
	/* a record whose blob is gone is no record */
	if (r == 1) {
		int64_t size = 0;
		int h = kiln_store_blob_has(b->st, &ret->layer.digest, &size, err);
		if (h < 0)
			r = h;
		else if (h == 0 || size != ret->layer.size)
			r = 0;
	}
	bb_store_unlock(b);
	if (r <= 0)
		bb_cache_row_release(ret);
	return r;
}

int bb_cache_put_row(struct bb *b, const struct kiln_digest *key, const struct bb_cache_row *row,
		     struct kiln_error *err)
{
	const struct bb_layer *l = &row->layer;
	bb_store_lock(b);
	cleanup(finalizep) sqlite3_stmt *s = NULL;
	int r = prepare(
		b->st,
		"INSERT INTO build_cache (key, diff_id, blob, size, media_type, created_by, "
		"ingredients, chain_key, created_unix, used_unix) VALUES (?1, ?2, ?3, ?4, "
		"?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (key) DO NOTHING",
		&s, err);
	if (r >= 0) {
		sqlite3_bind_text(s, 1, key->str, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, l->diff_id.str, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, l->digest.str, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, l->size);
		sqlite3_bind_text(s, 5, l->media_type ? l->media_type : KILN_MT_OCI_LAYER_GZIP, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 6, row->created_by ? row->created_by : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 7, row->ingredients ? row->ingredients : "[]", -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 8, l->has_chain ? l->chain.str : key->str, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 9, l->created > 0 ? l->created : (sqlite3_int64) time(NULL));
		sqlite3_bind_int64(s, 10, (sqlite3_int64) time(NULL));
		if (sqlite3_step(s) != SQLITE_DONE)
			r = kiln_store_db_fail(b->st, err, "writing a build cache record");
	}
	finalizep(&s);
	bb_store_unlock(b);
	return r < 0 ? r : 0;
}

int bb_cache_put(struct bb *b, const struct kiln_plan_key *key, const struct bb_layer *l,
		 const struct kiln_digest *chain, const char *created_by, struct kiln_error *err)
{
	cleanup_free char *json = NULL;
	int r = kiln_plan_key_to_json(key, &json, err);
	if (r < 0)
		return r;
	bb_store_lock(b);
	if (l->remote) {
		/* a layer of a remote cache the store does not hold yet: its records
		 * are written when it is fetched (a record needs its blob) */
		int64_t size = 0;
		r = kiln_store_blob_has(b->st, &l->digest, &size, err);
		if (r <= 0 || size != l->size) {
			bb_store_unlock(b);
			return r < 0 ? r : 0;
		}
	}
	cleanup(finalizep) sqlite3_stmt *s = NULL;
	r = prepare(b->st,
		    "INSERT INTO build_cache (key, diff_id, blob, size, media_type, created_by, "
		    "ingredients, chain_key, created_unix, used_unix, snapshot) VALUES (?1, ?2, "
		    "?3, ?4, ?5, ?6, ?7, ?9, ?8, ?8, ?10) ON CONFLICT (key) DO UPDATE SET diff_id "
		    "= excluded.diff_id, blob = excluded.blob, size = excluded.size, media_type = "
		    "excluded.media_type, created_by = excluded.created_by, ingredients = "
		    "excluded.ingredients, chain_key = excluded.chain_key, created_unix = "
		    "excluded.created_unix, used_unix = excluded.used_unix, snapshot = "
		    "excluded.snapshot",
		    &s, err);
	if (r >= 0) {
		sqlite3_bind_text(s, 1, key->digest.str, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, bb_layer_has_diff_id(l) ? l->diff_id.str : "", -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 3, l->lazy ? "" : l->digest.str, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, l->lazy ? 0 : l->size);
		sqlite3_bind_text(s, 5, l->lazy || !l->media_type ? "" : l->media_type, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 6, created_by, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 7, json, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 8, l->created > 0 ? l->created : (sqlite3_int64) time(NULL));
		sqlite3_bind_text(s, 9, chain ? chain->str : key->digest.str, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 10, l->has_snap ? l->snap.str : "", -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			r = kiln_store_db_fail(b->st, err, "writing a build cache record");
	}
	finalizep(&s);
	bb_store_unlock(b);
	return r < 0 ? r : 0;
}

int bb_cache_blob_of(struct bb *b, struct bb_layer *l, struct kiln_error *err)
{
	bb_store_lock(b);
	cleanup(finalizep) sqlite3_stmt *s = NULL;
	int r = prepare(b->st,
			"SELECT blob, size, media_type, diff_id FROM build_cache WHERE blob <> '' "
			"AND (snapshot = ?1 OR diff_id = ?2) LIMIT 1",
			&s, err);
	struct kiln_digest digest, diff_id;
	int64_t size = 0;
	cleanup_free char *mt = NULL;
	if (r >= 0) {
		/* NULL matches nothing */
		if (l->has_snap)
			sqlite3_bind_text(s, 1, l->snap.str, -1, SQLITE_STATIC);
		if (bb_layer_has_diff_id(l))
			sqlite3_bind_text(s, 2, l->diff_id.str, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		const unsigned char *blob = rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
		const unsigned char *did = rc == SQLITE_ROW ? sqlite3_column_text(s, 3) : NULL;
		if (rc == SQLITE_ROW && kiln_digest_parse((const char *) blob, &digest, NULL) == 0 &&
		    kiln_digest_parse((const char *) did, &diff_id, NULL) == 0) {
			size = sqlite3_column_int64(s, 1);
			if (!(mt = kiln_strdup((const char *) sqlite3_column_text(s, 2))))
				r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			else
				r = 1;
		} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			r = kiln_store_db_fail(b->st, err, "reading the build cache");
		}
	}
	finalizep(&s);
	if (r == 1) {
		int64_t have = 0;
		int h = kiln_store_blob_has(b->st, &digest, &have, err);
		r = h < 0 ? h : h == 1 && have == size ? 1 : 0;
	}
	bb_store_unlock(b);
	if (r != 1)
		return r;
	free(l->media_type);
	l->media_type = steal_ptr(&mt);
	l->digest = digest;
	l->diff_id = diff_id;
	l->size = size;
	l->lazy = 0;
	return 1;
}

int bb_cache_set_blob(struct bb *b, const struct bb_layer *l, struct kiln_error *err)
{
	bb_store_lock(b);
	cleanup(finalizep) sqlite3_stmt *s = NULL;
	int r = prepare(b->st,
			"UPDATE build_cache SET blob = ?2, size = ?3, media_type = ?4, diff_id = ?5 "
			"WHERE blob = '' AND (snapshot = ?1 OR diff_id = ?5)",
			&s, err);
	if (r >= 0) {
		if (l->has_snap) /* else NULL, which matches nothing */
			sqlite3_bind_text(s, 1, l->snap.str, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, l->diff_id.str, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, l->digest.str, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, l->size);
		sqlite3_bind_text(s, 4, l->media_type, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			r = kiln_store_db_fail(b->st, err, "recording a layer's blob");
	}
	finalizep(&s);
	bb_store_unlock(b);
	return r < 0 ? r : 0;
}

int bb_cache_touch(struct bb *b, const struct kiln_digest *keys, size_t n, struct kiln_error *err)
{
	if (!n)
		return 0;
	bb_store_lock(b);
	int r = kiln_store_tx_begin(b->st, err);
	cleanup(finalizep) sqlite3_stmt *s = NULL;
	if (r >= 0)
		/* at most once an hour per record: a no-op rebuild writes (and syncs) nothing */
		r = prepare(
			b->st,
			"UPDATE build_cache SET used_unix = ?2 WHERE key = ?1 AND used_unix < ?2 - "
			"3600",
			&s, err);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, keys[i].str, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (sqlite3_int64) time(NULL));
		if (sqlite3_step(s) != SQLITE_DONE)
			r = kiln_store_db_fail(b->st, err, "marking cache records used");
	}
	finalizep(&s);
	if (r >= 0)
		r = kiln_store_tx_commit(b->st, err);
	else
		kiln_store_tx_rollback(b->st);
	bb_store_unlock(b);
	return r;
}

/* ---- the hash cache of context files -------------------------------------- */

/* Where a lookup's answers go. */
struct hc_answer {
	kiln_plan_sum_found_fn found;
	void *found_ud;
};

/* Whether a cached row still describes file `index`; hands its digest on if so. */
static void hc_take(sqlite3_stmt *s, int col, const struct kiln_plan_file_id *id, size_t index,
		    const struct hc_answer *a)
{
	if ((uint64_t) sqlite3_column_int64(s, col) != id->size ||
	    sqlite3_column_int64(s, col + 1) != id->mtime_ns ||
	    sqlite3_column_int64(s, col + 2) != id->ctime_ns ||
	    sqlite3_column_bytes(s, col + 3) != 32)
		return;
	struct kiln_plan_sum sum;
	memcpy(sum.raw, sqlite3_column_blob(s, col + 3), sizeof(sum.raw));
	a->found(a->found_ud, index, &sum);
}

static int hc_cmp(const void *pa, const void *pb, void *ids)
{
	const struct kiln_plan_file_id *a =
		(const struct kiln_plan_file_id *) ids + *(const size_t *) pa;
	const struct kiln_plan_file_id *b =
		(const struct kiln_plan_file_id *) ids + *(const size_t *) pb;
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	return a->ino < b->ino ? -1 : a->ino > b->ino;
}

/*
 * The files of one device whose inode numbers lie close together (a tree
 * created at once): one scan of the primary key over their range costs a
 * fraction of a lookup per file. `order` holds their indexes, sorted by inode.
 */
static int hc_scan(struct bb *b, const struct kiln_plan_file_id *ids, const size_t *order, size_t n,
		   const struct hc_answer *a, struct kiln_error *err)
{
	cleanup(finalizep) sqlite3_stmt *s = NULL;
	int r = prepare(b->st,
			"SELECT ino, size, mtime_ns, ctime_ns, sha256 FROM build_hash_cache "
			"WHERE dev = ?1 AND ino >= ?2 AND ino <= ?3 ORDER BY ino",
			&s, err);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, (sqlite3_int64) ids[order[0]].dev);
	sqlite3_bind_int64(s, 2, (sqlite3_int64) ids[order[0]].ino);
	sqlite3_bind_int64(s, 3, (sqlite3_int64) ids[order[n - 1]].ino);
	size_t k = 0;
	for (;;) {
		int rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return kiln_store_db_fail(b->st, err, "reading the hash cache");
		uint64_t ino = (uint64_t) sqlite3_column_int64(s, 0);
		while (k < n && ids[order[k]].ino < ino)
			k++;
		/* a hard link is one inode for several paths */
		for (size_t j = k; j < n && ids[order[j]].ino == ino; j++)
			hc_take(s, 1, &ids[order[j]], order[j], a);
		if (k == n)
			return 0;
	}
}

static int hc_lookup(void *ud, const struct kiln_plan_file_id *ids, size_t n,
		     kiln_plan_sum_found_fn found, void *found_ud, struct kiln_error *err)
{
	struct bb *b = ud;
	const struct hc_answer a = { found, found_ud };
	cleanup_free size_t *order = kiln_calloc(n + 1, sizeof(*order));
	if (!order)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), hc_cmp, (void *) ids);
	bb_store_lock(b);
	/* one read transaction for the batch: a statement each would lock and
	 * unlock the database file every time */
	sqlite3 *db = kiln_store_db(b->st);
	int in_tx = sqlite3_get_autocommit(db) &&
		    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	cleanup(finalizep) sqlite3_stmt *s = NULL;
	int r = prepare(b->st,
			"SELECT size, mtime_ns, ctime_ns, sha256 FROM build_hash_cache WHERE dev = "
			"?1 AND ino = ?2",
			&s, err);
	for (size_t i = 0; r >= 0 && i < n;) {
		/* a run of one device with inodes at most 4 apart on average */
		size_t j = i + 1;
		while (j < n && ids[order[j]].dev == ids[order[i]].dev &&
		       ids[order[j]].ino - ids[order[i]].ino <= 4 * (j - i + 1))
			j++;
		if (j - i >= 64) {
			r = hc_scan(b, ids, order + i, j - i, &a, err);
			i = j;
			continue;
		}
		const struct kiln_plan_file_id *id = &ids[order[i]];
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, (sqlite3_int64) id->dev);
		sqlite3_bind_int64(s, 2, (sqlite3_int64) id->ino);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			hc_take(s, 0, id, order[i], &a);
		else if (rc != SQLITE_DONE)
			r = kiln_store_db_fail(b->st, err, "reading the hash cache");
		i++;
	}
	finalizep(&s);
	if (in_tx)
		(void) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	bb_store_unlock(b);
	return r < 0 ? r : 0;
}

static int hc_store(void *ud, const struct kiln_plan_file_id *ids,
		    const struct kiln_plan_sum *digests, size_t n, struct kiln_error *err)
{
	struct bb *b = ud;
	bb_store_lock(b);
	int r = kiln_store_tx_begin(b->st, err);
	cleanup(finalizep) sqlite3_stmt *s = NULL;
	if (r >= 0)
		r = prepare(b->st,
			    "INSERT OR REPLACE INTO build_hash_cache (dev, ino, size, mtime_ns, "
			    "ctime_ns, sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			    &s, err);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, (sqlite3_int64) ids[i].dev);
		sqlite3_bind_int64(s, 2, (sqlite3_int64) ids[i].ino);
		sqlite3_bind_int64(s, 3, (sqlite3_int64) ids[i].size);
		sqlite3_bind_int64(s, 4, ids[i].mtime_ns);
		sqlite3_bind_int64(s, 5, ids[i].ctime_ns);
		sqlite3_bind_blob(s, 6, digests[i].raw, 32, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			r = kiln_store_db_fail(b->st, err, "writing the hash cache");
	}
	finalizep(&s);
	if (r >= 0)
		r = kiln_store_tx_commit(b->st, err);
	else
		kiln_store_tx_rollback(b->st);
	bb_store_unlock(b);
	return r < 0 ? r : 0;
}

const struct kiln_plan_hash_cache bb_hash_cache_ops = {
	.lookup = hc_lookup,
	.store = hc_store,
};

/* ---- URLs ADD downloaded --------------------------------------------------------- */

void bb_url_validators_release(struct bb_url_validators *v)
{
	free(v->etag);
	free(v->last_modified);
	memset(v, 0, sizeof(*v));
}

int bb_url_cache_get(struct bb *b, const char *url, struct bb_url_validators *ret,
		     struct kiln_digest *ret_digest, struct kiln_error *err)
{
	bb_store_lock(b);
	cleanup(finalizep) sqlite3_stmt *s = NULL;
	int r = prepare(b->st,
			"SELECT etag, last_modified, digest FROM build_url_cache WHERE url = ?1",
			&s, err);
	if (r >= 0) {
		sqlite3_bind_text(s, 1, url, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			const char *etag = (const char *) sqlite3_column_text(s, 0);
			const char *lm = (const char *) sqlite3_column_text(s, 1);
			const char *d = (const char *) sqlite3_column_text(s, 2);
			struct kiln_error e = KILN_ERROR_INIT;
			/* a record that does not read back is no record */
			r = d && kiln_digest_parse(d, ret_digest, &e) >= 0 &&
			    ((etag && *etag) || (lm && *lm));
			kiln_error_release(&e);
			if (r && etag && *etag && !(ret->etag = kiln_strdup(etag)))
				r = oom(err);
			if (r > 0 && lm && *lm && !(ret->last_modified = kiln_strdup(lm)))
				r = oom(err);
		} else if (rc != SQLITE_DONE) {
			r = kiln_store_db_fail(b->st, err, "reading a URL record");
		}
	}
	bb_store_unlock(b);
	if (r <= 0)
		bb_url_validators_release(ret);
	return r;
}

int bb_url_cache_put(struct bb *b, const char *url, const struct bb_url_validators *v,
		     const struct kiln_digest *digest, struct kiln_error *err)
{
	bb_store_lock(b);
	cleanup(finalizep) sqlite3_stmt *s = NULL;
	int r = prepare(b->st,
			"INSERT OR REPLACE INTO build_url_cache"
			" (url, etag, last_modified, digest, used_unix) VALUES (?1, ?2, ?3, ?4, ?5)",
			&s, err);
	if (r >= 0) {
		sqlite3_bind_text(s, 1, url, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, v->etag ? v->etag : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, v->last_modified ? v->last_modified : "", -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 4, digest->str, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, (sqlite3_int64) time(NULL));
		if (sqlite3_step(s) != SQLITE_DONE)
			r = kiln_store_db_fail(b->st, err, "recording a URL");
	}
	bb_store_unlock(b);
	return r;
}
