/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where blobs were seen: (registry, repository, digest) rows in the store's
 * database, written after a pull fetched or a push sent a blob. A push uses
 * them to offer the registry a cross-repository mount instead of an upload.
 * The rows are hints, not references: prune ignores them, and a mount that
 * fails just falls back to an upload (and drops the stale row).
 */
#include <sqlite3.h>
#include <string.h>
#include <time.h>

#include "registry/registry-private.h"
#include "store/store.h"

static const struct kiln_store_migration migrations[] = {
	{ 1, "CREATE TABLE registry_blob_location ("
	     " registry TEXT NOT NULL,"
	     " repository TEXT NOT NULL,"
	     " digest TEXT NOT NULL,"
	     " seen_unix INTEGER NOT NULL,"
	     " PRIMARY KEY (registry, digest, repository))" },
};

static void finalizep(sqlite3_stmt **s)
{
	if (*s)
		sqlite3_finalize(*s);
	*s = NULL;
}

int reg_blobinfo_init(struct kiln_store *st, struct kiln_error *err)
{
	return kiln_store_migrate(st, "registry", migrations, KILN_ARRAY_SIZE(migrations), err);
}

static int prepare(struct kiln_store *st, const char *sql, sqlite3_stmt **ret,
		   struct kiln_error *err)
{
	if (sqlite3_prepare_v2(kiln_store_db(st), sql, -1, ret, NULL) != SQLITE_OK)
		return kiln_store_db_fail(st, err, "registry blob locations");
	return 0;
}

int reg_blobinfo_add(struct kiln_store *st, const char *domain, const char *repo,
		     const char *digest, struct kiln_error *err)
{
	cleanup(finalizep) sqlite3_stmt *s = NULL;
	int r = prepare(st,
			/* a known row stays as it is: a warm push or pull writes nothing */
			"INSERT INTO registry_blob_location (registry, repository, digest, "
			"seen_unix) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
			&s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, repo, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64) time(NULL));
	if (sqlite3_step(s) != SQLITE_DONE)
		return kiln_store_db_fail(st, err, "recording a blob location");
	return 0;
}

int reg_blobinfo_find(struct kiln_store *st, const char *domain, const char *digest,
		      const char *not_repo, char **ret, struct kiln_error *err)
{
	*ret = NULL;
	cleanup(finalizep) sqlite3_stmt *s = NULL;
	int r = prepare(st,
			"SELECT repository FROM registry_blob_location WHERE registry = ?1 AND "
			"digest = ?2 AND repository != ?3 ORDER BY seen_unix DESC LIMIT 1",
			&s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, not_repo, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return kiln_store_db_fail(st, err, "looking up a blob location");
	*ret = kiln_strdup((const char *) sqlite3_column_text(s, 0));
	if (!*ret)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

int reg_blobinfo_remove(struct kiln_store *st, const char *domain, const char *repo,
			const char *digest, struct kiln_error *err)
{
	cleanup(finalizep) sqlite3_stmt *s = NULL;
	int r = prepare(st,
			"DELETE FROM registry_blob_location WHERE registry = ?1 AND "
			"repository = ?2 AND digest = ?3",
			&s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, repo, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, digest, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return kiln_store_db_fail(st, err, "forgetting a blob location");
	return 0;
}
