/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Store maintenance: fsck (is every blob what its name says, is every
 * reference satisfied) and prune (delete what nothing references).
 *
 * The set of live blobs is computed in a temporary table: the manifests,
 * configs and layers of image records, repository digests (an index a
 * pull recorded), pins, and the rows of every gc-root query other modules
 * registered. Prune holds the gc lock exclusively, so no process that
 * could add a reference (they all hold it shared) is running meanwhile.
 */
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/archive-private.h"
#include "store/store-private.h"

void kiln_store_fsck_report_release(struct kiln_store_fsck_report *r)
{
	for (size_t i = 0; i < r->n_problems; i++) {
		free(r->problems[i].what);
		free(r->problems[i].object);
	}
	free(r->problems);
	memset(r, 0, sizeof(*r));
}

__attribute__((format(printf, 4, 5))) static int problem(struct kiln_store_fsck_report *rep,
							  struct kiln_error *err,
							  const char *object, const char *fmt, ...)
{
	va_list ap;
	struct kiln_buf b = KILN_BUF_INIT;
	va_start(ap, fmt);
	int q = kiln_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	char *msg = q < 0 ? NULL : kiln_buf_detach(&b, NULL);
	kiln_buf_release(&b);
	char *obj = kiln_strdup(object);
	struct kiln_store_problem *p =
		kiln_reallocarray(rep->problems, rep->n_problems + 1, sizeof(*p));
	if (!msg || !obj || !p) {
		free(msg);
		free(obj);
		if (p)
			rep->problems = p;
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	rep->problems = p;
	p[rep->n_problems].what = msg;
	p[rep->n_problems].object = obj;
	rep->n_problems++;
	return 0;
}

/* Fill temp.gc_live with every referenced blob digest (and the blobs of
 * caches with `keep_caches`). */
static int compute_live(struct kiln_store *st, int keep_caches, struct kiln_error *err)
{
	int r = kiln_store_exec(st,
				"CREATE TEMP TABLE IF NOT EXISTS gc_live (blob TEXT PRIMARY KEY);"
				"DELETE FROM temp.gc_live;"
				"INSERT OR IGNORE INTO temp.gc_live SELECT manifest FROM images;"
				"INSERT OR IGNORE INTO temp.gc_live SELECT blob FROM image_blobs;"
				"INSERT OR IGNORE INTO temp.gc_live SELECT digest FROM repo_digests;"
				"INSERT OR IGNORE INTO temp.gc_live SELECT blob FROM pins;",
				err);
	if (r < 0)
		return kiln_error_prefix(err, r, "collecting referenced blobs");
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	if ((r = store_prepare(st, "SELECT owner, query FROM gc_roots ORDER BY owner", &s, err)) <
	    0)
		return r;
	for (;;) {
		int rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return kiln_store_db_fail(st, err, "reading gc roots");
		const char *owner = (const char *)sqlite3_column_text(s, 0);
		const char *q = (const char *)sqlite3_column_text(s, 1);
		size_t ol = owner ? strlen(owner) : 0, sl = strlen(KILN_STORE_GC_CACHE_SUFFIX);
		if (!keep_caches && ol >= sl &&
		    !strcmp(owner + ol - sl, KILN_STORE_GC_CACHE_SUFFIX))
			continue;
		cleanup_free char *sql =
			kiln_asprintf("INSERT OR IGNORE INTO temp.gc_live SELECT * FROM (%s)",
				      q ? q : "SELECT NULL WHERE 0");
		if (!sql)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		r = kiln_store_exec(st, sql, err);
		if (r < 0)
			return kiln_error_prefix(err, r, "gc root query of '%s'",
						 owner ? owner : "?");
	}
}

static int is_live(struct kiln_store *st, sqlite3_stmt *q, const char *digest_str,
		   struct kiln_error *err)
{
	sqlite3_reset(q);
	sqlite3_bind_text(q, 1, digest_str, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return kiln_store_db_fail(st, err, "checking a blob's references");
}

/* ---- fsck ------------------------------------------------------------------ */

static int fsck_blobs(struct kiln_store *st, unsigned flags, struct kiln_store_fsck_report *rep,
		      struct kiln_error *err)
{
	cleanup(sqlite3_finalizep) sqlite3_stmt *q = NULL;
	int r = store_prepare(st, "SELECT 1 FROM temp.gc_live WHERE blob = ?", &q, err);
	if (r < 0)
		return r;
	int dfd = openat(st->blobs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return kiln_fail_errno(err, "opening %s/blobs/sha256", st->root);
	DIR *d = fdopendir(dfd);
	if (!d) {
		(void)close(dfd);
		return kiln_fail_errno(err, "reading %s/blobs/sha256", st->root);
	}
	struct dirent *de;
	r = 0;
	while (r == 0 && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (kiln_cancelled(st->ctx)) {
			r = kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
			break;
		}
		char digest_str[80];
		(void)snprintf(digest_str, sizeof(digest_str), "sha256:%.64s", de->d_name);
		struct stat sb;
		if (!kiln_digest_is_hex(de->d_name)) {
			r = problem(rep, err, de->d_name,
				    "unexpected file '%s' in blobs/sha256 (not a sha256 digest)",
				    de->d_name);
			continue;
		}
		int fd = openat(st->blobs_fd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
			if (fd >= 0)
				(void)close(fd);
			r = problem(rep, err, digest_str, "blob %s is not a readable regular file",
				    digest_str);
			continue;
		}
		rep->blobs_checked++;
		rep->bytes_checked += sb.st_size;
		if (!(flags & KILN_STORE_FSCK_QUICK)) {
			struct kiln_digest got;
			struct kiln_error herr = KILN_ERROR_INIT;
			int h = store_hash_fd(st->ctx, fd, &got, NULL, &herr);
			if (h < 0) {
				if (h == -KILN_ECANCEL || h == -KILN_ENOMEM) {
					kiln_error_move(err, &herr);
					r = h;
				} else {
					r = problem(rep, err, digest_str, "blob %s cannot be read: %s",
						    digest_str, herr.msg ? herr.msg : "I/O error");
					kiln_error_release(&herr);
				}
			} else if (strcmp(got.hex, de->d_name) != 0) {
				r = problem(rep, err, digest_str,
					    "blob %s is corrupt: its content hashes to %s",
					    digest_str, got.str);
			}
		}
		(void)close(fd);
		if (r < 0)
			break;
		int live = is_live(st, q, digest_str, err);
		if (live < 0)
			r = live;
		else if (!live)
			rep->unreferenced_blobs++;
	}
	if (r == 0 && errno != 0)
		r = kiln_fail_errno(err, "reading %s/blobs/sha256", st->root);
	(void)closedir(d);
	return r;
}

/* Check one image's documents and that its recorded blob list matches them. */
/*
 * Each layer unpacks to the diff_id its config lists, and could be unpacked
 * (a layer a pull took on trust is otherwise first read at its first use).
 * `seen` holds the layers already read: one read per layer, however many
 * images share it.
 */
static int fsck_layers(struct kiln_store *st, const char *manifest_str,
		       const struct kiln_oci_manifest *m, const struct kiln_oci_config *cfg,
		       struct kiln_strv *seen, struct kiln_store_fsck_report *rep,
		       struct kiln_error *err)
{
	for (size_t i = 0; i < m->n_layers && i < cfg->n_diff_ids; i++) {
		const struct kiln_oci_descriptor *d = &m->layers[i];
		if (!d->has_sha256 || kiln_strv_find(seen, d->sha256.str) >= 0)
			continue;
		if (kiln_strv_push(seen, d->sha256.str) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		int known = 0; /* a blob already reported corrupt */
		for (size_t k = 0; !known && k < rep->n_problems; k++)
			known = !strcmp(rep->problems[k].object, d->sha256.str);
		if (known)
			continue;
		int64_t have = -1;
		struct kiln_error e = KILN_ERROR_INIT;
		if (kiln_store_blob_has(st, &d->sha256, &have, &e) != 1 || have != d->size) {
			kiln_error_release(&e);
			continue; /* reported with the blobs */
		}
		struct layer_info li;
		int r = archive_blob_layer_info(st, &d->sha256, &li, &e);
		if (r == -KILN_ENOMEM || r == -KILN_ECANCEL) {
			kiln_error_move(err, &e);
			return r;
		}
		if (r < 0)
			r = problem(rep, err, manifest_str, "image %s: %s", manifest_str,
				    e.msg ? e.msg : "unreadable layer");
		else if (!kiln_digest_equal(&li.diff_id, &cfg->diff_ids[i]))
			r = problem(rep, err, manifest_str,
				    "image %s: layer %s unpacks to %s, the config says %s",
				    manifest_str, d->sha256.str, li.diff_id.str,
				    cfg->diff_ids[i].str);
		kiln_error_release(&e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int fsck_image(struct kiln_store *st, const char *manifest_str, unsigned flags,
		      struct kiln_strv *seen, struct kiln_store_fsck_report *rep,
		      struct kiln_error *err)
{
	struct kiln_digest md;
	if (kiln_digest_parse(manifest_str, &md, NULL) < 0)
		return problem(rep, err, manifest_str, "image record has an invalid digest '%s'",
			       manifest_str);
	cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
	struct kiln_error e = KILN_ERROR_INIT;
	int r = kiln_store_manifest_read(st, &md, &m, &e);
	if (r < 0) {
		if (r == -KILN_ENOMEM) {
			kiln_error_move(err, &e);
			return r;
		}
		r = problem(rep, err, manifest_str, "image %s: %s", manifest_str,
			    e.msg ? e.msg : "unreadable manifest");
		kiln_error_release(&e);
		return r;
	}
	for (size_t i = 0; i <= m->n_layers; i++) {
		const struct kiln_oci_descriptor *d = i ? &m->layers[i - 1] : &m->config;
		const char *role = i ? "layer" : "config";
		int64_t have = -1;
		if (!d->has_sha256) {
			if ((r = problem(rep, err, manifest_str, "image %s: %s %s is not sha256",
					 manifest_str, role, d->digest)) < 0)
				return r;
			continue;
		}
		r = kiln_store_blob_has(st, &d->sha256, &have, &e);
		if (r < 0) {
			r = problem(rep, err, manifest_str, "image %s: %s", manifest_str,
				    e.msg ? e.msg : "cannot look up blob");
			kiln_error_release(&e);
		} else if (r == 0) {
			r = problem(rep, err, manifest_str, "image %s: %s %s is missing",
				    manifest_str, role, d->sha256.str);
		} else if (have != d->size) {
			r = problem(rep, err, manifest_str,
				    "image %s: %s %s has %lld bytes, the manifest says %lld",
				    manifest_str, role, d->sha256.str, (long long)have,
				    (long long)d->size);
		} else {
			r = 0;
		}
		if (r < 0)
			return r;
	}
	/* the recorded blob list is what prune keeps: it must match the manifest */
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	if ((r = store_prepare(st,
			       "SELECT idx, blob FROM image_blobs WHERE manifest = ? ORDER BY idx",
			       &s, err)) < 0)
		return r;
	sqlite3_bind_text(s, 1, manifest_str, -1, SQLITE_STATIC);
	size_t n = 0;
	int mismatch = 0;
	for (;;) {
		int rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW)
			return kiln_store_db_fail(st, err, "reading image blobs");
		int64_t idx = sqlite3_column_int64(s, 0);
		const char *b = (const char *)sqlite3_column_text(s, 1);
		const struct kiln_oci_descriptor *d =
			idx == 0 ? &m->config
				 : ((size_t)idx <= m->n_layers ? &m->layers[idx - 1] : NULL);
		if (!d || (size_t)idx != n || !b || !d->digest || strcmp(b, d->digest) != 0)
			mismatch = 1;
		n++;
	}
	if (mismatch || n != m->n_layers + 1)
		return problem(rep, err, manifest_str,
			       "image %s: the recorded blob list does not match its manifest",
			       manifest_str);
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *cfg = NULL;
	if (!m->config.has_sha256)
		return 0;
	r = kiln_store_config_read(st, &m->config.sha256, &cfg, &e);
	if (r == -KILN_ENOTFOUND) {
		kiln_error_release(&e);
		return 0; /* already reported as missing */
	}
	if (r < 0) {
		r = problem(rep, err, manifest_str, "image %s: %s", manifest_str,
			    e.msg ? e.msg : "unreadable config");
		kiln_error_release(&e);
		return r;
	}
	if (cfg->n_diff_ids != m->n_layers)
		return problem(rep, err, manifest_str,
			       "image %s: the config lists %zu layers, the manifest %zu",
			       manifest_str, cfg->n_diff_ids, m->n_layers);
	if (flags & KILN_STORE_FSCK_QUICK)
		return 0;
	return fsck_layers(st, manifest_str, m, cfg, seen, rep, err);
}

static int fsck_records(struct kiln_store *st, unsigned flags, struct kiln_store_fsck_report *rep,
			struct kiln_error *err)
{
	cleanup(kiln_strv_release) struct kiln_strv seen = KILN_STRV_INIT;
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	int r = store_prepare(st, "SELECT manifest FROM images ORDER BY manifest", &s, err);
	if (r < 0)
		return r;
	for (;;) {
		int rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW)
			return kiln_store_db_fail(st, err, "listing images");
		cleanup_free char *m = store_column_strdup(s, 0);
		if (!m)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		rep->images_checked++;
		if ((r = fsck_image(st, m, flags, &seen, rep, err)) < 0)
			return r;
	}
	/* names whose image is gone (the foreign key should make this impossible) */
	cleanup(sqlite3_finalizep) sqlite3_stmt *n = NULL;
	if ((r = store_prepare(st,
			       "SELECT n.name, n.manifest, i.manifest IS NULL FROM names n "
			       "LEFT JOIN images i ON i.manifest = n.manifest ORDER BY n.name",
			       &n, err)) < 0)
		return r;
	for (;;) {
		int rc = sqlite3_step(n);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW)
			return kiln_store_db_fail(st, err, "listing names");
		rep->names_checked++;
		if (sqlite3_column_int(n, 2)) {
			const char *name = (const char *)sqlite3_column_text(n, 0);
			const char *mf = (const char *)sqlite3_column_text(n, 1);
			if ((r = problem(rep, err, name ? name : "", "name %s points at %s, which is not an image",
					 name ? name : "", mf ? mf : "")) < 0)
				return r;
		}
	}
	return 0;
}

/* Blobs other modules reference (pins, gc-root queries) must be present. */
static int fsck_roots(struct kiln_store *st, struct kiln_store_fsck_report *rep,
		      struct kiln_error *err)
{
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	int r = store_prepare(st,
			      "SELECT blob FROM temp.gc_live WHERE blob NOT IN "
			      "(SELECT digest FROM repo_digests) ORDER BY blob",
			      &s, err);
	if (r < 0)
		return r;
	for (;;) {
		int rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return kiln_store_db_fail(st, err, "listing referenced blobs");
		const char *b = (const char *)sqlite3_column_text(s, 0);
		struct kiln_digest d;
		if (!b || kiln_digest_parse(b, &d, NULL) < 0) {
			if ((r = problem(rep, err, b ? b : "", "a reference names an invalid digest '%s'",
					 b ? b : "")) < 0)
				return r;
			continue;
		}
		r = kiln_store_blob_has(st, &d, NULL, err);
		if (r < 0)
			return r;
		if (r == 0 && (r = problem(rep, err, b, "referenced blob %s is missing", b)) < 0)
			return r;
	}
}

static int count_dir(int dirfd, size_t *ret)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		(void)close(fd);
		return -e;
	}
	struct dirent *de;
	size_t n = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	(void)closedir(d);
	*ret = n;
	return 0;
}

int kiln_store_fsck(struct kiln_store *st, unsigned flags, struct kiln_store_fsck_report *ret,
		    struct kiln_error *err)
{
	struct kiln_store_fsck_report rep = { 0 };
	int r = 0;
	{
		cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
		r = store_prepare(st, "PRAGMA quick_check", &s, err);
		while (r == 0) {
			int rc = sqlite3_step(s);
			if (rc == SQLITE_DONE)
				break;
			if (rc != SQLITE_ROW) {
				r = kiln_store_db_fail(st, err, "checking the database");
				break;
			}
			const char *t = (const char *)sqlite3_column_text(s, 0);
			if (t && strcmp(t, "ok") != 0)
				r = problem(&rep, err, KILN_STORE_DB, "database: %s", t);
		}
	}
	if (r == 0)
		r = compute_live(st, 0, err);
	if (r == 0)
		r = fsck_blobs(st, flags, &rep, err);
	if (r == 0)
		r = fsck_records(st, flags, &rep, err);
	if (r == 0)
		r = fsck_roots(st, &rep, err);
	if (r == 0) {
		int c = count_dir(st->tmp_fd, &rep.temp_files);
		if (c < 0)
			r = kiln_fail(err, KILN_EIO, -c, "reading %s/tmp", st->root);
	}
	if (r < 0) {
		kiln_store_fsck_report_release(&rep);
		return r;
	}
	*ret = rep;
	return 0;
}

/* ---- prune ----------------------------------------------------------------- */

static int prune_blobs(struct kiln_store *st, unsigned flags, struct kiln_store_prune_report *rep,
		       struct kiln_error *err)
{
	cleanup(sqlite3_finalizep) sqlite3_stmt *q = NULL;
	int r = store_prepare(st, "SELECT 1 FROM temp.gc_live WHERE blob = ?", &q, err);
	if (r < 0)
		return r;
	int dfd = openat(st->blobs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return kiln_fail_errno(err, "opening %s/blobs/sha256", st->root);
	DIR *d = fdopendir(dfd);
	if (!d) {
		(void)close(dfd);
		return kiln_fail_errno(err, "reading %s/blobs/sha256", st->root);
	}
	struct dirent *de;
	int removed_any = 0;
	while ((de = readdir(d))) {
		if (!kiln_digest_is_hex(de->d_name))
			continue; /* not ours to delete: fsck reports it */
		char digest_str[80];
		(void)snprintf(digest_str, sizeof(digest_str), "sha256:%.64s", de->d_name);
		int live = is_live(st, q, digest_str, err);
		if (live < 0) {
			r = live;
			break;
		}
		if (live) {
			rep->blobs_kept++;
			continue;
		}
		struct stat sb;
		if (fstatat(st->blobs_fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!(flags & KILN_STORE_PRUNE_DRY_RUN)) {
			if (unlinkat(st->blobs_fd, de->d_name, 0) < 0) {
				r = kiln_fail_errno(err, "removing blob %s", digest_str);
				break;
			}
			removed_any = 1;
		}
		kiln_debug(st->ctx, "store: prune %s (%lld bytes)", digest_str,
			   (long long)sb.st_size);
		rep->blobs_removed++;
		rep->bytes_freed += sb.st_size;
	}
	(void)closedir(d);
	if (r == 0 && removed_any && fsync(st->blobs_fd) < 0 && errno != EINVAL)
		r = kiln_fail_errno(err, "syncing %s/blobs/sha256", st->root);
	return r;
}

static int prune_tmp(struct kiln_store *st, unsigned flags, struct kiln_store_prune_report *rep,
		     struct kiln_error *err)
{
	int dfd = openat(st->tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return kiln_fail_errno(err, "opening %s/tmp", st->root);
	DIR *d = fdopendir(dfd);
	if (!d) {
		(void)close(dfd);
		return kiln_fail_errno(err, "reading %s/tmp", st->root);
	}
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat sb;
		if (fstatat(st->tmp_fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		rep->temp_removed++;
		if (S_ISREG(sb.st_mode))
			rep->bytes_freed += sb.st_size;
		if (flags & KILN_STORE_PRUNE_DRY_RUN)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			cleanup_free char *p = kiln_asprintf("%s/tmp/%s", st->root, de->d_name);
			if (!p)
				r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			else
				r = kiln_rm_rf(p, err);
		} else if (unlinkat(st->tmp_fd, de->d_name, 0) < 0 && errno != ENOENT) {
			r = kiln_fail_errno(err, "removing %s/tmp/%s", st->root, de->d_name);
		}
	}
	(void)closedir(d);
	return r;
}

static int prune_dangling(struct kiln_store *st, struct kiln_store_prune_report *rep,
			  struct kiln_error *err)
{
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	int r = store_prepare(st,
			      "SELECT COUNT(*) FROM images WHERE manifest NOT IN (SELECT manifest "
			      "FROM names)",
			      &s, err);
	if (r < 0)
		return r;
	if (sqlite3_step(s) != SQLITE_ROW)
		return kiln_store_db_fail(st, err, "counting images without a name");
	rep->images_removed = (size_t)sqlite3_column_int64(s, 0);
	return kiln_store_exec(st,
			       "DELETE FROM images WHERE manifest NOT IN (SELECT manifest FROM "
			       "names)",
			       err);
}

int kiln_store_prune(struct kiln_store *st, unsigned flags, struct kiln_store_prune_report *ret,
		     struct kiln_error *err)
{
	struct kiln_store_prune_report rep = { 0 };
	int prev = st->lock_held;
	int r = (flags & KILN_STORE_PRUNE_NOWAIT) ? store_trylock(st, 2, err) : store_lock(st, 2, err);
	if (r < 0) {
		/*
		 * flock converts by dropping the old lock first, so a failed
		 * conversion may have lost the shared one: take it again.
		 */
		struct kiln_error lerr = KILN_ERROR_INIT;
		st->lock_held = 0;
		if (prev && store_lock(st, prev, &lerr) < 0)
			kiln_error_release(&lerr);
		return r;
	}
	/* images without a name go first; in a dry run too, in a transaction
	 * rolled back at the end, so that what their blobs would free is counted */
	int dry_tx = 0;
	if ((flags & KILN_STORE_PRUNE_DANGLING) && (flags & KILN_STORE_PRUNE_DRY_RUN)) {
		r = kiln_store_tx_begin(st, err);
		dry_tx = r == 0;
	}
	if (r == 0 && (flags & KILN_STORE_PRUNE_DANGLING))
		r = prune_dangling(st, &rep, err);
	if (r == 0)
		r = compute_live(st, !!(flags & KILN_STORE_PRUNE_KEEP_CACHES), err);
	if (r == 0)
		r = prune_blobs(st, flags, &rep, err);
	if (r == 0)
		r = prune_tmp(st, flags, &rep, err);
	if (dry_tx)
		kiln_store_tx_rollback(st);
	/* back to what the handle held before (shared for a normal store) */
	struct kiln_error lerr = KILN_ERROR_INIT;
	if (store_lock(st, prev, &lerr) < 0)
		kiln_error_release(&lerr);
	if (r < 0)
		return r;
	*ret = rep;
	return 0;
}
