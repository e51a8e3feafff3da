/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image records and names. An image is recorded only when its manifest,
 * config and every layer are in blobs/, and its names are set in the same
 * transaction, so a name never points at something incomplete.
 */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ref/ref.h"
#include "store/store-private.h"

void kiln_store_image_free(struct kiln_store_image *img)
{
	if (!img)
		return;
	free(img->media_type);
	free(img->created);
	kiln_oci_platform_release(&img->platform);
	kiln_strv_release(&img->names);
	kiln_strv_release(&img->digests);
	free(img);
}

void kiln_store_image_list_release(struct kiln_store_image_list *l)
{
	for (size_t i = 0; i < l->len; i++)
		kiln_store_image_free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->len = 0;
}

int kiln_store_manifest_read(struct kiln_store *st, const struct kiln_digest *manifest,
			     struct kiln_oci_manifest **ret, struct kiln_error *err)
{
	cleanup_free char *json = NULL;
	size_t len;
	int r = kiln_store_blob_read(st, manifest, KILN_OCI_MANIFEST_MAX, &json, &len, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "reading manifest %s", manifest->str);
	r = kiln_oci_manifest_parse(json, len, ret, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "manifest %s", manifest->str);
	return 0;
}

int kiln_store_config_read(struct kiln_store *st, const struct kiln_digest *config,
			   struct kiln_oci_config **ret, struct kiln_error *err)
{
	cleanup_free char *json = NULL;
	size_t len;
	int r = kiln_store_blob_read(st, config, KILN_OCI_CONFIG_MAX, &json, &len, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "reading image config %s", config->str);
	r = kiln_oci_config_parse(json, len, ret, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "image config %s", config->str);
	return 0;
}

/* A canonical "domain/path:tag" name, as the names table keeps them. */
static int check_name(const char *name, struct kiln_error *err)
{
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	int r = kiln_ref_parse_canonical(name, &ref, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "image name '%s'", name);
	if (!ref->tag || ref->digest)
		return kiln_fail(err, KILN_EINVAL, 0,
				 "image name '%s' must be domain/path:tag without a digest", name);
	cleanup_free char *again = kiln_ref_string(ref);
	if (!again)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (strcmp(again, name) != 0)
		return kiln_fail(err, KILN_EINVAL, 0, "image name '%s' is not canonical ('%s')",
				 name, again);
	return 0;
}

static int set_name_in_tx(struct kiln_store *st, const struct kiln_digest *manifest,
			  const char *name, struct kiln_error *err)
{
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	int r = store_prepare(st,
			      "INSERT OR REPLACE INTO names(name, manifest, updated_unix) "
			      "VALUES (?, ?, ?)",
			      &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, manifest->str, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)time(NULL));
	r = store_step_done(st, s, "setting a name", err);
	if (r < 0 && sqlite3_errcode(st->db) == SQLITE_CONSTRAINT)
		return kiln_fail(err, KILN_ENOTFOUND, 0, "no image %s in the store", manifest->str);
	return r;
}

/* What image_add learned from the documents, before touching the database. */
struct image_facts {
	char *media_type;
	struct kiln_digest config;
	int64_t size;
	char *created;
	int64_t created_unix;
	struct kiln_oci_platform platform;
	struct kiln_oci_manifest *m;
};

static void image_facts_release(struct image_facts *f)
{
	free(f->media_type);
	free(f->created);
	kiln_oci_platform_release(&f->platform);
	kiln_oci_manifest_free(f->m);
}

static int check_blob_present(struct kiln_store *st, const struct kiln_oci_descriptor *d,
			      const char *role, struct kiln_error *err)
{
	struct kiln_digest dg;
	int64_t have = -1;
	int r = kiln_oci_descriptor_sha256(d, &dg, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "%s", role);
	r = kiln_store_blob_has(st, &dg, &have, err);
	if (r < 0)
		return r;
	if (r == 0)
		return kiln_fail(err, KILN_ENOTFOUND, 0, "%s %s is not in the store", role,
				 dg.str);
	if (have != d->size)
		return kiln_fail(err, KILN_EDIGEST, 0,
				 "%s %s has %lld bytes but the manifest says %lld", role, dg.str,
				 (long long)have, (long long)d->size);
	return 0;
}

static int gather_facts(struct kiln_store *st, const struct kiln_digest *manifest,
			struct image_facts *f, struct kiln_error *err)
{
	cleanup_free char *json = NULL;
	size_t len;
	int r = kiln_store_blob_read(st, manifest, KILN_OCI_MANIFEST_MAX, &json, &len, err);
	if (r < 0)
		return r;
	enum kiln_mt_kind kind;
	if ((r = kiln_oci_detect(json, len, &kind, err)) < 0)
		return r;
	if (kind == KILN_MT_KIND_INDEX)
		return kiln_fail(err, KILN_EINVAL, 0,
				 "%s is an image index; record one of its platform manifests",
				 manifest->str);
	if ((r = kiln_oci_manifest_parse(json, len, &f->m, err)) < 0)
		return r;
	struct kiln_oci_manifest *m = f->m;
	f->media_type = kiln_strdup(m->media_type ? m->media_type : KILN_MT_OCI_MANIFEST);
	if (!f->media_type)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (kiln_mt_classify(m->config.media_type, NULL) != KILN_MT_KIND_CONFIG)
		return kiln_fail(err, KILN_EUNSUPP, 0,
				 "%s is not a container image (config media type '%s')",
				 manifest->str, m->config.media_type);
	if ((r = check_blob_present(st, &m->config, "image config", err)) < 0)
		return r;
	f->config = m->config.sha256;
	f->size = m->config.size;
	for (size_t i = 0; i < m->n_layers; i++) {
		const struct kiln_oci_descriptor *l = &m->layers[i];
		if (kiln_mt_classify(l->media_type, NULL) != KILN_MT_KIND_LAYER)
			return kiln_fail(err, KILN_EUNSUPP, 0,
					 "layer %zu of %s has media type '%s', not a layer", i,
					 manifest->str, l->media_type);
		if ((r = check_blob_present(st, l, "layer", err)) < 0)
			return r;
		f->size += l->size;
	}
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *cfg = NULL;
	if ((r = kiln_store_config_read(st, &f->config, &cfg, err)) < 0)
		return r;
	if (cfg->n_diff_ids != m->n_layers)
		return kiln_fail(err, KILN_EPARSE, 0,
				 "image %s: the config lists %zu layers but the manifest %zu",
				 manifest->str, cfg->n_diff_ids, m->n_layers);
	if (cfg->created) {
		if ((r = kiln_oci_time_parse(cfg->created, &f->created_unix, err)) < 0)
			return r;
		f->created = steal_ptr(&cfg->created);
	}
	f->platform = cfg->platform;
	memset(&cfg->platform, 0, sizeof(cfg->platform));
	return 0;
}

static int insert_image(struct kiln_store *st, const struct kiln_digest *manifest,
			const struct image_facts *f, struct kiln_error *err)
{
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	int r = store_prepare(st,
			      "INSERT OR IGNORE INTO images(manifest, media_type, config, size, "
			      "created, created_unix, os, architecture, variant, added_unix) "
			      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			      &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, manifest->str, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, f->media_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, f->config.str, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, f->size);
	if (f->created)
		sqlite3_bind_text(s, 5, f->created, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, f->created_unix);
	sqlite3_bind_text(s, 7, f->platform.os, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, f->platform.architecture, -1, SQLITE_STATIC);
	if (f->platform.variant)
		sqlite3_bind_text(s, 9, f->platform.variant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 10, (sqlite3_int64)time(NULL));
	if ((r = store_step_done(st, s, "recording an image", err)) < 0)
		return r;
	cleanup(sqlite3_finalizep) sqlite3_stmt *b = NULL;
	if ((r = store_prepare(st,
			       "INSERT OR IGNORE INTO image_blobs(manifest, idx, blob, media_type, "
			       "size) VALUES (?, ?, ?, ?, ?)",
			       &b, err)) < 0)
		return r;
	for (size_t i = 0; i <= f->m->n_layers; i++) {
		const struct kiln_oci_descriptor *d = i ? &f->m->layers[i - 1] : &f->m->config;
		sqlite3_reset(b);
		sqlite3_bind_text(b, 1, manifest->str, -1, SQLITE_STATIC);
		sqlite3_bind_int64(b, 2, (sqlite3_int64)i);
		sqlite3_bind_text(b, 3, d->sha256.str, -1, SQLITE_STATIC);
		sqlite3_bind_text(b, 4, d->media_type, -1, SQLITE_STATIC);
		sqlite3_bind_int64(b, 5, d->size);
		if ((r = store_step_done(st, b, "recording an image", err)) < 0)
			return r;
	}
	return 0;
}

int kiln_store_image_add(struct kiln_store *st, const struct kiln_digest *manifest,
			 const char *const *names, size_t n_names, struct kiln_error *err)
{
	int r;
	for (size_t i = 0; i < n_names; i++)
		if ((r = check_name(names[i], err)) < 0)
			return r;
	struct image_facts f = { 0 };
	r = gather_facts(st, manifest, &f, err);
	if (r < 0) {
		image_facts_release(&f);
		return kiln_error_prefix(err, r, "recording image %s", manifest->str);
	}
	r = kiln_store_tx_begin(st, err);
	if (r == 0)
		r = insert_image(st, manifest, &f, err);
	for (size_t i = 0; r == 0 && i < n_names; i++)
		r = set_name_in_tx(st, manifest, names[i], err);
	if (r == 0)
		r = kiln_store_tx_commit(st, err);
	else
		kiln_store_tx_rollback(st);
	image_facts_release(&f);
	if (r == 0)
		kiln_debug(st->ctx, "store: image %s recorded with %zu name(s)", manifest->str,
			   n_names);
	return r;
}

int kiln_store_repo_digest_add(struct kiln_store *st, const char *repo,
			       const struct kiln_digest *digest,
			       const struct kiln_digest *manifest, struct kiln_error *err)
{
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	int r = kiln_ref_parse_canonical(repo, &ref, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "repository '%s'", repo);
	if (ref->tag || ref->digest)
		return kiln_fail(err, KILN_EINVAL, 0, "'%s' is not a bare repository name", repo);
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	if ((r = store_prepare(st,
			       "INSERT OR REPLACE INTO repo_digests(repo, digest, manifest) "
			       "VALUES (?, ?, ?)",
			       &s, err)) < 0)
		return r;
	sqlite3_bind_text(s, 1, repo, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, digest->str, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, manifest->str, -1, SQLITE_STATIC);
	r = store_step_done(st, s, "recording a repository digest", err);
	if (r < 0 && sqlite3_errcode(st->db) == SQLITE_CONSTRAINT)
		return kiln_fail(err, KILN_ENOTFOUND, 0, "no image %s in the store", manifest->str);
	return r;
}

int kiln_store_tag(struct kiln_store *st, const struct kiln_digest *manifest, const char *name,
		   struct kiln_error *err)
{
	int r = check_name(name, err);
	if (r < 0)
		return r;
	return set_name_in_tx(st, manifest, name, err);
}

int kiln_store_untag(struct kiln_store *st, const char *name, struct kiln_error *err)
{
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	int r = store_prepare(st, "DELETE FROM names WHERE name = ?", &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if ((r = store_step_done(st, s, "removing a name", err)) < 0)
		return r;
	if (sqlite3_changes(st->db) == 0)
		return kiln_fail(err, KILN_ENOTFOUND, 0, "no image is named %s", name);
	return 0;
}

/* Run `sql` with one text parameter; the first column of the first row as a digest. */
static int lookup_digest(struct kiln_store *st, const char *sql, const char *arg,
			 struct kiln_digest *ret, struct kiln_error *err)
{
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	int r = store_prepare(st, sql, &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return kiln_store_db_fail(st, err, "looking up an image");
	r = store_digest_from_text((const char *)sqlite3_column_text(s, 0), ret, err);
	return r < 0 ? r : 1;
}

int kiln_store_name_get(struct kiln_store *st, const char *name, struct kiln_digest *ret_manifest,
			struct kiln_error *err)
{
	int r = lookup_digest(st, "SELECT manifest FROM names WHERE name = ?", name, ret_manifest,
			      err);
	if (r == 0)
		return kiln_fail(err, KILN_ENOTFOUND, 0, "no image is named %s", name);
	return r < 0 ? r : 0;
}

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* An image-id prefix: the config digest (or the manifest's) starts with it. */
static int resolve_prefix(struct kiln_store *st, const char *hex, struct kiln_digest *ret,
			  struct kiln_error *err)
{
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	int r = store_prepare(st,
			      "SELECT manifest, config FROM images WHERE substr(config, 8, ?1) = ?2 "
			      "OR substr(manifest, 8, ?1) = ?2 ORDER BY added_unix DESC, manifest",
			      &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_int(s, 1, (int)strlen(hex));
	sqlite3_bind_text(s, 2, hex, -1, SQLITE_STATIC);
	char first_config[80] = "";
	int found = 0;
	for (;;) {
		int rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW)
			return kiln_store_db_fail(st, err, "looking up an image id");
		const char *m = (const char *)sqlite3_column_text(s, 0);
		const char *c = (const char *)sqlite3_column_text(s, 1);
		if (!found) {
			if ((r = store_digest_from_text(m, ret, err)) < 0)
				return r;
			(void)snprintf(first_config, sizeof(first_config), "%s", c ? c : "");
			found = 1;
		} else if (!c || strcmp(c, first_config) != 0) {
			return kiln_fail(err, KILN_EINVAL, 0,
					 "image id prefix '%s' is ambiguous: give more digits", hex);
		}
	}
	return found;
}

int kiln_store_resolve(struct kiln_store *st, const char *spec, struct kiln_digest *ret_manifest,
		       struct kiln_error *err)
{
	int r;
	size_t n = strlen(spec);
	if (n == 0)
		return kiln_fail(err, KILN_EINVAL, 0, "empty image reference");
	/* a full digest: manifest or config (image id) */
	if (n == 71 && strncmp(spec, "sha256:", 7) == 0 && is_hex(spec + 7, 64)) {
		r = lookup_digest(st,
				  "SELECT manifest FROM images WHERE manifest = ?1 OR config = ?1 "
				  "ORDER BY manifest = ?1 DESC, added_unix DESC",
				  spec, ret_manifest, err);
		if (r == 0)
			return kiln_fail(err, KILN_ENOTFOUND, 0, "no such image: %s", spec);
		return r < 0 ? r : 0;
	}
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	struct kiln_error rerr = KILN_ERROR_INIT;
	int pr = kiln_ref_parse(spec, KILN_REF_DEFAULT_TAG_LATEST, &ref, &rerr);
	if (pr == 0 && ref->digest) {
		kiln_error_release(&rerr);
		cleanup_free char *repo = kiln_ref_name(ref);
		if (!repo)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		r = lookup_digest(st, "SELECT manifest FROM images WHERE manifest = ?", ref->digest,
				  ret_manifest, err);
		if (r == 0) {
			cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
			if ((r = store_prepare(st,
					       "SELECT manifest FROM repo_digests WHERE repo = ? AND "
					       "digest = ?",
					       &s, err)) < 0)
				return r;
			sqlite3_bind_text(s, 1, repo, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 2, ref->digest, -1, SQLITE_STATIC);
			int rc = sqlite3_step(s);
			if (rc == SQLITE_ROW)
				r = store_digest_from_text((const char *)sqlite3_column_text(s, 0),
							   ret_manifest, err) < 0
					    ? -KILN_EPARSE
					    : 1;
			else if (rc != SQLITE_DONE)
				return kiln_store_db_fail(st, err, "looking up an image");
		}
		if (r == 0)
			return kiln_fail(err, KILN_ENOTFOUND, 0, "no such image: %s", spec);
		return r < 0 ? r : 0;
	}
	if (pr == 0) {
		kiln_error_release(&rerr);
		cleanup_free char *name = kiln_ref_string(ref);
		if (!name)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		r = lookup_digest(st, "SELECT manifest FROM names WHERE name = ?", name,
				  ret_manifest, err);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	/* not a known name: an image id (prefix), as docker tries next */
	const char *hex = strncmp(spec, "sha256:", 7) == 0 ? spec + 7 : spec;
	size_t hn = strlen(hex);
	if (hn >= 3 && hn <= 64 && is_hex(hex, hn)) {
		kiln_error_release(&rerr);
		r = resolve_prefix(st, hex, ret_manifest, err);
		if (r != 0)
			return r < 0 ? r : 0;
		return kiln_fail(err, KILN_ENOTFOUND, 0, "no such image: %s", spec);
	}
	if (pr < 0) {
		kiln_error_move(err, &rerr);
		return kiln_error_prefix(err, pr, "image reference '%s'", spec);
	}
	return kiln_fail(err, KILN_ENOTFOUND, 0, "no such image: %s", spec);
}

static int load_strings(struct kiln_store *st, const char *sql, const struct kiln_digest *manifest,
			struct kiln_strv *out, struct kiln_error *err)
{
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	int r = store_prepare(st, sql, &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, manifest->str, -1, SQLITE_STATIC);
	for (;;) {
		int rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return kiln_store_db_fail(st, err, "reading names");
		const char *t = (const char *)sqlite3_column_text(s, 0);
		if (kiln_strv_push(out, t ? t : "") < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
}

#define IMAGE_COLUMNS                                                                             \
	"manifest, media_type, config, size, created, created_unix, os, architecture, variant, " \
	"added_unix"

static int image_from_row(struct kiln_store *st, sqlite3_stmt *s, struct kiln_store_image **ret,
			  struct kiln_error *err)
{
	cleanup(kiln_store_image_freep) struct kiln_store_image *img = kiln_calloc(1, sizeof(*img));
	if (!img)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int r;
	if ((r = store_digest_from_text((const char *)sqlite3_column_text(s, 0), &img->manifest,
					err)) < 0 ||
	    (r = store_digest_from_text((const char *)sqlite3_column_text(s, 2), &img->config,
					err)) < 0)
		return r;
	img->media_type = store_column_strdup(s, 1);
	img->size = sqlite3_column_int64(s, 3);
	if (sqlite3_column_type(s, 4) != SQLITE_NULL)
		img->created = store_column_strdup(s, 4);
	img->created_unix = sqlite3_column_int64(s, 5);
	img->platform.os = store_column_strdup(s, 6);
	img->platform.architecture = store_column_strdup(s, 7);
	if (sqlite3_column_type(s, 8) != SQLITE_NULL)
		img->platform.variant = store_column_strdup(s, 8);
	img->added_unix = sqlite3_column_int64(s, 9);
	if (!img->media_type || !img->platform.os || !img->platform.architecture ||
	    (sqlite3_column_type(s, 4) != SQLITE_NULL && !img->created) ||
	    (sqlite3_column_type(s, 8) != SQLITE_NULL && !img->platform.variant))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if ((r = load_strings(st, "SELECT name FROM names WHERE manifest = ? ORDER BY name",
			      &img->manifest, &img->names, err)) < 0 ||
	    (r = load_strings(st,
			      "SELECT repo || '@' || digest FROM repo_digests WHERE manifest = ? "
			      "ORDER BY 1",
			      &img->manifest, &img->digests, err)) < 0)
		return r;
	*ret = steal_ptr(&img);
	return 0;
}

int kiln_store_image_get(struct kiln_store *st, const struct kiln_digest *manifest,
			 struct kiln_store_image **ret, struct kiln_error *err)
{
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	int r = store_prepare(st, "SELECT " IMAGE_COLUMNS " FROM images WHERE manifest = ?", &s,
			      err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, manifest->str, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return kiln_fail(err, KILN_ENOTFOUND, 0, "no image %s in the store", manifest->str);
	if (rc != SQLITE_ROW)
		return kiln_store_db_fail(st, err, "reading an image");
	return image_from_row(st, s, ret, err);
}

int kiln_store_image_list(struct kiln_store *st, struct kiln_store_image_list *ret,
			  struct kiln_error *err)
{
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	int r = store_prepare(st,
			      "SELECT " IMAGE_COLUMNS
			      " FROM images ORDER BY created_unix DESC, added_unix DESC, manifest",
			      &s, err);
	if (r < 0)
		return r;
	struct kiln_store_image_list l = { 0 };
	size_t alloc = 0;
	for (;;) {
		int rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			kiln_store_image_list_release(&l);
			return kiln_store_db_fail(st, err, "listing images");
		}
		if (l.len == alloc) {
			size_t na = alloc ? alloc * 2 : 16;
			struct kiln_store_image **p = kiln_reallocarray(l.items, na, sizeof(*p));
			if (!p) {
				kiln_store_image_list_release(&l);
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			}
			l.items = p;
			alloc = na;
		}
		r = image_from_row(st, s, &l.items[l.len], err);
		if (r < 0) {
			kiln_store_image_list_release(&l);
			return r;
		}
		l.len++;
	}
	*ret = l;
	return 0;
}

int kiln_store_image_remove(struct kiln_store *st, const struct kiln_digest *manifest,
			    struct kiln_error *err)
{
	cleanup(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	int r = store_prepare(st, "DELETE FROM images WHERE manifest = ?", &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, manifest->str, -1, SQLITE_STATIC);
	if ((r = store_step_done(st, s, "removing an image", err)) < 0)
		return r;
	if (sqlite3_changes(st->db) == 0)
		return kiln_fail(err, KILN_ENOTFOUND, 0, "no image %s in the store", manifest->str);
	return 0;
}

/* ---- rmi ---------------------------------------------------------------------- */

void kiln_store_rmi_result_release(struct kiln_store_rmi_result *r)
{
	kiln_strv_release(&r->untagged);
	memset(r, 0, sizeof(*r));
}

static int count_repos(const struct kiln_strv *names)
{
	int n = 0;
	for (size_t i = 0; i < names->len; i++) {
		const char *a = names->items[i];
		const char *ac = strrchr(a, ':');
		size_t al = ac ? (size_t)(ac - a) : strlen(a);
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++) {
			const char *b = names->items[j];
			const char *bc = strrchr(b, ':');
			size_t bl = bc ? (size_t)(bc - b) : strlen(b);
			seen = al == bl && memcmp(a, b, al) == 0;
		}
		n += !seen;
	}
	return n;
}

static int rmi_in_tx(struct kiln_store *st, const char *spec, unsigned flags,
		     struct kiln_store_rmi_result *res, struct kiln_error *err)
{
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	cleanup_free char *name = NULL;
	int r;
	if (kiln_ref_parse(spec, KILN_REF_DEFAULT_TAG_LATEST, &ref, NULL) == 0 && !ref->digest) {
		name = kiln_ref_string(ref);
		if (!name)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		r = lookup_digest(st, "SELECT manifest FROM names WHERE name = ?", name,
				  &res->manifest, err);
		if (r < 0)
			return r;
		if (r == 0) {
			free(name);
			name = NULL;
		}
	}
	if (!name && (r = kiln_store_resolve(st, spec, &res->manifest, err)) < 0)
		return r;
	cleanup(kiln_store_image_freep) struct kiln_store_image *img = NULL;
	if ((r = kiln_store_image_get(st, &res->manifest, &img, err)) < 0)
		return r;
	res->config = img->config;
	if (name) {
		if ((r = kiln_store_untag(st, name, err)) < 0)
			return r;
		if (kiln_strv_push(&res->untagged, name) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		if (img->names.len > 1)
			return 0;
	} else {
		if (count_repos(&img->names) > 1 && !(flags & KILN_STORE_RMI_FORCE))
			return kiln_fail(err, KILN_EBUSY, 0,
					 "unable to delete %.12s (must be forced): the image is "
					 "referenced in multiple repositories",
					 img->config.hex);
		if (kiln_strv_copy(&res->untagged, &img->names) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	if ((r = kiln_store_image_remove(st, &res->manifest, err)) < 0)
		return r;
	res->deleted = 1;
	return 0;
}

int kiln_store_rmi(struct kiln_store *st, const char *spec, unsigned flags,
		   struct kiln_store_rmi_result *ret, struct kiln_error *err)
{
	struct kiln_store_rmi_result res = { 0 };
	int r = kiln_store_tx_begin(st, err);
	if (r < 0)
		return r;
	r = rmi_in_tx(st, spec, flags, &res, err);
	if (r == 0)
		r = kiln_store_tx_commit(st, err);
	else
		kiln_store_tx_rollback(st);
	if (r < 0) {
		kiln_store_rmi_result_release(&res);
		return r;
	}
	*ret = res;
	return 0;
}
