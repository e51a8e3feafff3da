/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opening the store: directories, the gc lock, the database and its
 * migrations, transactions and the garbage-collection roots other modules
 * declare.
 */
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store-private.h"

/* The store's own schema. Released steps are never edited, only appended. */
static const struct kiln_store_migration store_steps[] = {
	{ 1, "CREATE TABLE images ("
	     "  manifest TEXT PRIMARY KEY NOT NULL,"
	     "  media_type TEXT NOT NULL,"
	     "  config TEXT NOT NULL,"
	     "  size INTEGER NOT NULL,"
	     "  created TEXT,"
	     "  created_unix INTEGER NOT NULL DEFAULT 0,"
	     "  os TEXT NOT NULL,"
	     "  architecture TEXT NOT NULL,"
	     "  variant TEXT,"
	     "  added_unix INTEGER NOT NULL);"
	     "CREATE INDEX images_config ON images(config);"
	     /* what each image references: idx 0 is the config, 1.. the layers */
	     "CREATE TABLE image_blobs ("
	     "  manifest TEXT NOT NULL REFERENCES images(manifest) ON DELETE CASCADE,"
	     "  idx INTEGER NOT NULL,"
	     "  blob TEXT NOT NULL,"
	     "  media_type TEXT NOT NULL,"
	     "  size INTEGER NOT NULL,"
	     "  PRIMARY KEY (manifest, idx));"
	     "CREATE INDEX image_blobs_blob ON image_blobs(blob);"
	     "CREATE TABLE names ("
	     "  name TEXT PRIMARY KEY NOT NULL,"
	     "  manifest TEXT NOT NULL REFERENCES images(manifest) ON DELETE CASCADE,"
	     "  updated_unix INTEGER NOT NULL);"
	     "CREATE INDEX names_manifest ON names(manifest);"
	     "CREATE TABLE repo_digests ("
	     "  repo TEXT NOT NULL,"
	     "  digest TEXT NOT NULL,"
	     "  manifest TEXT NOT NULL REFERENCES images(manifest) ON DELETE CASCADE,"
	     "  PRIMARY KEY (repo, digest));"
	     "CREATE INDEX repo_digests_manifest ON repo_digests(manifest);"
	     "CREATE TABLE gc_roots (owner TEXT PRIMARY KEY NOT NULL, query TEXT NOT NULL);"
	     "CREATE TABLE pins (owner TEXT NOT NULL, blob TEXT NOT NULL,"
	     "  PRIMARY KEY (owner, blob));" },
};

int kiln_store_default_root(char **ret, struct kiln_error *err)
{
	char *r;
	if (geteuid() == 0) {
		r = kiln_strdup("/var/lib/kiln");
	} else {
		const char *xdg = getenv("XDG_DATA_HOME");
		const char *home = getenv("HOME");
		if (xdg && xdg[0] == '/')
			r = kiln_asprintf("%s/kiln", xdg);
		else if (home && home[0] == '/')
			r = kiln_asprintf("%s/.local/share/kiln", home);
		else
			return kiln_fail(err, KILN_EINVAL, 0,
					 "cannot find a store: set HOME, XDG_DATA_HOME, KILN_ROOT "
					 "or --root");
	}
	if (!r)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	*ret = r;
	return 0;
}

const char *kiln_store_root(const struct kiln_store *st)
{
	return st->root;
}

const struct kiln_ctx *kiln_store_ctx(const struct kiln_store *st)
{
	return st->ctx;
}

char *kiln_store_path(const struct kiln_store *st, const char *rel)
{
	return kiln_asprintf("%s/%s", st->root, rel);
}

struct sqlite3 *kiln_store_db(struct kiln_store *st)
{
	return st->db;
}

int kiln_store_db_fail(struct kiln_store *st, struct kiln_error *err, const char *what)
{
	int code = st->db ? sqlite3_errcode(st->db) : SQLITE_ERROR;
	const char *msg = st->db ? sqlite3_errmsg(st->db) : "no database";
	enum kiln_err k = KILN_EIO;
	if (code == SQLITE_NOMEM)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		k = KILN_EBUSY;
	else if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
		k = KILN_EPARSE;
	else if (code == SQLITE_ERROR)
		k = KILN_EINTERNAL;
	return kiln_fail(err, k, 0, "%s: %s (database %s/" KILN_STORE_DB ")", what, msg, st->root);
}

int store_prepare(struct kiln_store *st, const char *sql, sqlite3_stmt **ret,
		  struct kiln_error *err)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, ret, NULL) != SQLITE_OK)
		return kiln_store_db_fail(st, err, "preparing a query");
	return 0;
}

int store_step_done(struct kiln_store *st, sqlite3_stmt *s, const char *what,
		    struct kiln_error *err)
{
	int rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return kiln_store_db_fail(st, err, what);
	return 0;
}

char *store_column_strdup(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	return kiln_strdup(t ? (const char *)t : "");
}

int store_digest_from_text(const char *s, struct kiln_digest *ret, struct kiln_error *err)
{
	if (!s || kiln_digest_parse(s, ret, NULL) < 0)
		return kiln_fail(err, KILN_EPARSE, 0, "database holds an invalid digest '%s'",
				 s ? s : "(null)");
	return 0;
}

int kiln_store_exec(struct kiln_store *st, const char *sql, struct kiln_error *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		int r;
		if (rc == SQLITE_NOMEM)
			r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		else
			r = kiln_fail(err, rc == SQLITE_BUSY ? KILN_EBUSY : KILN_EIO, 0,
				      "database: %s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return r;
	}
	return 0;
}

int kiln_store_tx_begin(struct kiln_store *st, struct kiln_error *err)
{
	if (st->tx_depth > 0) {
		st->tx_depth++;
		return 0;
	}
	int r = kiln_store_exec(st, "BEGIN IMMEDIATE", err);
	if (r < 0)
		return kiln_error_prefix(err, r, "starting a database transaction");
	st->tx_depth = 1;
	st->tx_doomed = 0;
	return 0;
}

void kiln_store_tx_rollback(struct kiln_store *st)
{
	if (st->tx_depth == 0)
		return;
	if (--st->tx_depth > 0) {
		st->tx_doomed = 1;
		return;
	}
	(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->tx_doomed = 0;
}

int kiln_store_tx_commit(struct kiln_store *st, struct kiln_error *err)
{
	if (st->tx_depth == 0)
		return kiln_fail(err, KILN_EINTERNAL, 0, "commit without a transaction");
	if (st->tx_depth > 1) {
		st->tx_depth--;
		return 0;
	}
	if (st->tx_doomed) {
		kiln_store_tx_rollback(st);
		return kiln_fail(err, KILN_EINTERNAL, 0,
				 "transaction rolled back: an inner step failed");
	}
	int r = kiln_store_exec(st, "COMMIT", err);
	if (r < 0) {
		kiln_store_tx_rollback(st);
		return kiln_error_prefix(err, r, "committing to the database");
	}
	st->tx_depth = 0;
	return 0;
}

static int migrate_in_tx(struct kiln_store *st, const char *owner,
			 const struct kiln_store_migration *steps, size_t n_steps,
			 struct kiln_error *err)
{
	int r = kiln_store_exec(st,
				"CREATE TABLE IF NOT EXISTS schema_versions ("
				"owner TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL)",
				err);
	if (r < 0)
		return r;
	int64_t have = 0;
	cleanup(sqlite3_finalizep) sqlite3_stmt *q = NULL;
	if ((r = store_prepare(st, "SELECT version FROM schema_versions WHERE owner = ?", &q,
			       err)) < 0)
		return r;
	sqlite3_bind_text(q, 1, owner, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		have = sqlite3_column_int64(q, 0);
	else if (rc != SQLITE_DONE)
		return kiln_store_db_fail(st, err, "reading the schema version");
	int64_t want = n_steps ? steps[n_steps - 1].version : 0;
	if (have > want)
		return kiln_fail(err, KILN_EUNSUPP, 0,
				 "the store's '%s' tables are at version %lld, newer than this "
				 "kiln knows (%lld); use a newer kiln",
				 owner, (long long)have, (long long)want);
	for (size_t i = 0; i < n_steps; i++) {
		if (steps[i].version != (int)i + 1)
			return kiln_fail(err, KILN_EINTERNAL, 0,
					 "migration steps of '%s' are not numbered 1, 2, ...",
					 owner);
		if (steps[i].version <= have)
			continue;
		if ((r = kiln_store_exec(st, steps[i].sql, err)) < 0)
			return kiln_error_prefix(err, r, "migrating '%s' to version %d", owner,
						 steps[i].version);
	}
	if (want == have)
		return 0;
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	if ((r = store_prepare(st,
			       "INSERT OR REPLACE INTO schema_versions(owner, version) VALUES (?, ?)",
			       &s, err)) < 0)
		return r;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, want);
	return store_step_done(st, s, "recording the schema version", err);
}

static void versions_release(struct kiln_store *st)
{
	for (size_t i = 0; i < st->n_versions; i++)
		free(st->versions[i].owner);
	free(st->versions);
	st->versions = NULL;
	st->n_versions = 0;
	st->versions_read = 0;
}

/* Every owner's version, read once; nothing when the table is not there yet
 * or cannot be read (the migration's own transaction then decides). */
static void versions_read(struct kiln_store *st)
{
	st->versions_read = 1;
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db, "SELECT owner, version FROM schema_versions", -1, &q,
			       NULL) != SQLITE_OK) {
		sqlite3_finalize(q);
		return;
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct store_version *n =
			kiln_reallocarray(st->versions, st->n_versions + 1, sizeof(*n));
		char *owner = store_column_strdup(q, 0);
		if (!n || !owner) {
			free(owner);
			if (n)
				st->versions = n;
			break;
		}
		st->versions = n;
		n[st->n_versions++] = (struct store_version){ owner, sqlite3_column_int64(q, 1) };
	}
	sqlite3_finalize(q);
}

int kiln_store_migrate(struct kiln_store *st, const char *owner,
		       const struct kiln_store_migration *steps, size_t n_steps,
		       struct kiln_error *err)
{
	if (!st->versions_read && !st->tx_depth)
		versions_read(st);
	int64_t want = n_steps ? steps[n_steps - 1].version : 0;
	for (size_t i = 0; i < st->n_versions; i++)
		if (!strcmp(st->versions[i].owner, owner) && st->versions[i].version == want)
			return 0; /* current: no write transaction */
	/* read again after a migration: another process may have moved too */
	versions_release(st);
	int r = kiln_store_tx_begin(st, err);
	if (r < 0)
		return r;
	r = migrate_in_tx(st, owner, steps, n_steps, err);
	if (r < 0) {
		kiln_store_tx_rollback(st);
		return r;
	}
	return kiln_store_tx_commit(st, err);
}

int store_lock(struct kiln_store *st, int mode, struct kiln_error *err)
{
	if (st->lock_held == mode)
		return 0;
	int op = mode == 2 ? LOCK_EX : mode == 1 ? LOCK_SH : LOCK_UN;
	for (;;) {
		if (flock(st->lock_fd, op) == 0)
			break;
		if (errno != EINTR)
			return kiln_fail_errno(err, "locking %s/gc.lock", st->root);
		if (kiln_cancelled(st->ctx))
			return kiln_fail(err, KILN_ECANCEL, 0, "interrupted while waiting for %s",
					 mode == 2 ? "other kiln processes to finish"
						   : "a running prune to finish");
	}
	st->lock_held = mode;
	return 0;
}

int store_trylock(struct kiln_store *st, int mode, struct kiln_error *err)
{
	if (st->lock_held == mode)
		return 0;
	int op = (mode == 2 ? LOCK_EX : mode == 1 ? LOCK_SH : LOCK_UN) | LOCK_NB;
	for (;;) {
		if (flock(st->lock_fd, op) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			return kiln_fail(err, KILN_EBUSY, 0, "the store is in use by another kiln");
		return kiln_fail_errno(err, "locking %s/gc.lock", st->root);
	}
	st->lock_held = mode;
	return 0;
}

static int open_dir(struct kiln_store *st, const char *rel, int *ret, struct kiln_error *err)
{
	if (mkdirat(st->root_fd, rel, 0755) < 0 && errno != EEXIST)
		return kiln_fail_errno(err, "creating %s/%s", st->root, rel);
	int fd = openat(st->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return kiln_fail_errno(err, "opening %s/%s", st->root, rel);
	*ret = fd;
	return 0;
}

void kiln_store_close(struct kiln_store *st)
{
	if (!st)
		return;
	if (st->tx_depth) {
		st->tx_depth = 1;
		kiln_store_tx_rollback(st);
	}
	versions_release(st);
	if (st->db)
		(void)sqlite3_close_v2(st->db);
	if (st->lock_fd >= 0)
		(void)close(st->lock_fd); /* drops the flock */
	if (st->root_fd >= 0)
		(void)close(st->root_fd);
	if (st->blobs_fd >= 0)
		(void)close(st->blobs_fd);
	if (st->tmp_fd >= 0)
		(void)close(st->tmp_fd);
	free(st->root);
	free(st);
}

/* Whether a file holds nothing (missing, or 0 bytes). */
static int file_empty_at(int dirfd, const char *name)
{
	struct stat sb;
	return fstatat(dirfd, name, &sb, 0) < 0 || sb.st_size == 0;
}

/*
 * A database with nothing in it (and no write-ahead log to recover) over a
 * store that holds blobs is a lost database, not a new store: opening it
 * would start an empty one, and the next prune would delete every blob.
 */
static int check_db_not_lost(struct kiln_store *st, struct kiln_error *err)
{
	if (!file_empty_at(st->root_fd, KILN_STORE_DB) ||
	    !file_empty_at(st->root_fd, KILN_STORE_DB "-wal"))
		return 0;
	int fd = openat(st->blobs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int e = errno;
		if (fd >= 0)
			(void) close(fd);
		return kiln_fail(err, KILN_EIO, e, "reading %s/blobs/sha256", st->root);
	}
	int blobs = 0;
	struct dirent *e;
	while (!blobs && (e = readdir(d)))
		blobs = e->d_name[0] != '.';
	closedir(d);
	if (!blobs)
		return 0;
	return kiln_fail(err, KILN_EIO, 0,
			 "%s/%s is missing or empty, but the store holds blobs: its database "
			 "was lost; kiln will not start a new one over them (move the store "
			 "aside to keep them, or remove it)",
			 st->root, KILN_STORE_DB);
}

static int open_db(struct kiln_store *st, unsigned flags, struct kiln_error *err)
{
	cleanup_free char *path = kiln_store_path(st, KILN_STORE_DB);
	if (!path)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int r0 = check_db_not_lost(st, err);
	if (r0 < 0)
		return r0;
	int rc = sqlite3_open_v2(path, &st->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		if (!st->db)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		return kiln_store_db_fail(st, err, "opening the database");
	}
	(void)sqlite3_extended_result_codes(st->db, 0);
	sqlite3_busy_timeout(st->db, KILN_STORE_BUSY_TIMEOUT_MS);
	/*
	 * WAL: readers never block the writer and a crash leaves the last
	 * committed state. Switching modes needs the database to itself for a
	 * moment, and SQLite answers SQLITE_BUSY there without calling the busy
	 * handler when another process is opening a new store at the same
	 * time: retry for as long as the busy timeout.
	 */
	for (int waited_ms = 0;; waited_ms += 10) {
		rc = sqlite3_exec(st->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			break;
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) ||
		    waited_ms >= KILN_STORE_BUSY_TIMEOUT_MS)
			return kiln_error_prefix(err, kiln_store_db_fail(st, err, "database"),
						 "opening %s", path);
		(void)usleep(10 * 1000);
	}
	int r;
	/* A page cache of 256 KiB, not SQLite's 2 MiB: kiln reads its tables in
	 * passes (a context's hash cache, a step's file list) that gain nothing
	 * from keeping the pages, and a build's peak memory would. */
	r = kiln_store_exec(st,
			    flags & KILN_STORE_SYNC_LATER
				    ? "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
				      "PRAGMA cache_size=-256"
				    : "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
				      "PRAGMA cache_size=-256",
			    err);
	if (r < 0)
		return kiln_error_prefix(err, r, "opening %s", path);
	/* the last handle's close copies the log into the database and syncs
	 * both (2.7 ms at the end of a build): left to a later commit's
	 * automatic checkpoint, and the log to the build's background sync */
	if (flags & KILN_STORE_SYNC_LATER)
		(void)sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	return 0;
}

int kiln_store_open(const struct kiln_ctx *ctx, const char *root, unsigned flags,
		    struct kiln_store **ret, struct kiln_error *err)
{
	cleanup(kiln_store_closep) struct kiln_store *st = kiln_calloc(1, sizeof(*st));
	if (!st)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	st->ctx = ctx;
	st->root_fd = st->blobs_fd = st->tmp_fd = st->lock_fd = -1;
	int r;
	if (root && *root) {
		st->root = kiln_strdup(root);
		if (!st->root)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	} else if ((r = kiln_store_default_root(&st->root, err)) < 0) {
		return r;
	}
	/* trailing slashes make ugly messages */
	for (size_t n = strlen(st->root); n > 1 && st->root[n - 1] == '/'; n--)
		st->root[n - 1] = '\0';
	if ((r = kiln_mkdir_p(st->root, 0700, err)) < 0)
		return kiln_error_prefix(err, r, "creating the store");
	/* other modules build paths from the root: make it absolute */
	if (st->root[0] != '/') {
		char *abs = realpath(st->root, NULL);
		char *copy = abs ? kiln_strdup(abs) : NULL;
		int e = errno;
		free(abs);
		if (!copy)
			return kiln_fail(err, abs ? KILN_ENOMEM : KILN_EIO, abs ? 0 : e,
					 "resolving the store path %s", st->root);
		free(st->root);
		st->root = copy;
	}
	st->root_fd = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->root_fd < 0)
		return kiln_fail_errno(err, "opening the store %s", st->root);
	st->lock_fd = openat(st->root_fd, "gc.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			     0600);
	if (st->lock_fd < 0)
		return kiln_fail_errno(err, "opening %s/gc.lock", st->root);
	if (!(flags & KILN_STORE_NO_GC_LOCK) && (r = store_lock(st, 1, err)) < 0)
		return r;
	if (mkdirat(st->root_fd, "blobs", 0755) < 0 && errno != EEXIST)
		return kiln_fail_errno(err, "creating %s/blobs", st->root);
	if ((r = open_dir(st, "blobs/sha256", &st->blobs_fd, err)) < 0 ||
	    (r = open_dir(st, "tmp", &st->tmp_fd, err)) < 0)
		return r;
	if ((r = open_db(st, flags, err)) < 0)
		return r;
	r = kiln_store_migrate(st, "store", store_steps, KILN_ARRAY_SIZE(store_steps), err);
	if (r < 0)
		return kiln_error_prefix(err, r, "opening the store %s", st->root);
	kiln_debug(ctx, "store: opened %s", st->root);
	*ret = steal_ptr(&st);
	return 0;
}

/* ---- gc roots ------------------------------------------------------------ */

int kiln_store_gc_root_set(struct kiln_store *st, const char *owner, const char *select_sql,
			   struct kiln_error *err)
{
	/* check that it compiles and yields one column before storing it */
	cleanup(sqlite3_finalizep) sqlite3_stmt *q = NULL;
	int r = store_prepare(st, select_sql, &q, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "gc root query of '%s'", owner);
	if (!sqlite3_stmt_readonly(q) || sqlite3_column_count(q) != 1)
		return kiln_fail(err, KILN_EINVAL, 0,
				 "gc root query of '%s' must be a SELECT of one column", owner);
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	if ((r = store_prepare(st, "INSERT OR REPLACE INTO gc_roots(owner, query) VALUES (?, ?)",
			       &s, err)) < 0)
		return r;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, select_sql, -1, SQLITE_STATIC);
	return store_step_done(st, s, "recording a gc root query", err);
}

static int pin_op(struct kiln_store *st, const char *sql, const char *owner,
		  const struct kiln_digest *blob, struct kiln_error *err)
{
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	int r = store_prepare(st, sql, &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, blob->str, -1, SQLITE_STATIC);
	return store_step_done(st, s, "updating pins", err);
}

int kiln_store_pin(struct kiln_store *st, const char *owner, const struct kiln_digest *blob,
		   struct kiln_error *err)
{
	return pin_op(st, "INSERT OR IGNORE INTO pins(owner, blob) VALUES (?, ?)", owner, blob,
		      err);
}

int kiln_store_unpin(struct kiln_store *st, const char *owner, const struct kiln_digest *blob,
		     struct kiln_error *err)
{
	return pin_op(st, "DELETE FROM pins WHERE owner = ? AND blob = ?", owner, blob, err);
}
