/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What save, load, layout and import share: a tar writer with normalized
 * headers, images prepared for export (with docker manifests rewritten to
 * OCI media types where a format wants OCI), names, and the checks that
 * turn blobs from outside into an image record.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "layer/layer.h"
#include "ref/ref.h"
#include "store/archive-private.h"

#define CHUNK ((size_t)256 << 10)

/* ---- tar writer ------------------------------------------------------------- */

struct tarw {
	struct archive *a;
	struct archive_entry *e;
	const struct kiln_ctx *ctx; /* its cancel flag stops a long write */
};

static int tar_fail(struct tarw *t, struct kiln_error *err, const char *what, const char *path)
{
	const char *m = archive_error_string(t->a);
	int e = archive_errno(t->a);
	return kiln_fail(err, KILN_EIO, e > 0 ? e : 0, "writing %s %s: %s", what, path,
			 m ? m : "archive error");
}

void tarw_free(struct tarw *t)
{
	if (!t)
		return;
	if (t->e)
		archive_entry_free(t->e);
	if (t->a)
		archive_write_free(t->a);
	free(t);
}

int tarw_open(int fd, const struct kiln_ctx *ctx, struct tarw **ret, struct kiln_error *err)
{
	cleanup(tarw_freep) struct tarw *t = kiln_calloc(1, sizeof(*t));
	if (!t)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	t->ctx = ctx;
	t->a = archive_write_new();
	t->e = archive_entry_new();
	if (!t->a || !t->e)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	/* ustar headers, pax only when a name needs it; no padding past the end marker */
	if (archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(t->a, fd) != ARCHIVE_OK)
		return tar_fail(t, err, "archive", "header");
	*ret = steal_ptr(&t);
	return 0;
}

static int header(struct tarw *t, const char *path, unsigned type, unsigned perm, int64_t size,
		  const char *link, struct kiln_error *err)
{
	archive_entry_clear(t->e);
	archive_entry_set_pathname(t->e, path);
	archive_entry_set_filetype(t->e, type);
	archive_entry_set_perm(t->e, perm);
	archive_entry_set_size(t->e, size);
	archive_entry_set_uid(t->e, 0);
	archive_entry_set_gid(t->e, 0);
	archive_entry_set_mtime(t->e, 0, 0);
	if (link)
		archive_entry_set_symlink(t->e, link);
	if (archive_write_header(t->a, t->e) != ARCHIVE_OK)
		return tar_fail(t, err, "member", path);
	return 0;
}

int tarw_dir(struct tarw *t, const char *path, struct kiln_error *err)
{
	return header(t, path, AE_IFDIR, 0755, 0, NULL, err);
}

static int data(struct tarw *t, const char *path, const void *buf, size_t len,
		struct kiln_error *err)
{
	const char *p = buf;
	if (kiln_cancelled(t->ctx))
		return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
	while (len > 0) {
		la_ssize_t n = archive_write_data(t->a, p, len);
		if (n <= 0)
			return tar_fail(t, err, "member", path);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int tarw_bytes(struct tarw *t, const char *path, const void *buf, size_t len,
	       struct kiln_error *err)
{
	int r = header(t, path, AE_IFREG, 0644, (int64_t)len, NULL, err);
	if (r < 0)
		return r;
	return data(t, path, buf, len, err);
}

int tarw_fd(struct tarw *t, const char *path, int fd, int64_t size, struct kiln_error *err)
{
	cleanup_free char *buf = kiln_malloc(CHUNK);
	if (!buf)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int r = header(t, path, AE_IFREG, 0644, size, NULL, err);
	if (r < 0)
		return r;
	int64_t done = 0;
	while (done < size) {
		size_t want = (size_t)(size - done) < CHUNK ? (size_t)(size - done) : CHUNK;
		ssize_t n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kiln_fail_errno(err, "reading %s", path);
		if (n == 0)
			return kiln_fail(err, KILN_EIO, 0, "%s: ended after %lld of %lld bytes", path,
					 (long long)done, (long long)size);
		if ((r = data(t, path, buf, (size_t)n, err)) < 0)
			return r;
		done += n;
	}
	return 0;
}

int tarw_blob(struct tarw *t, const char *path, struct kiln_store *st,
	      const struct kiln_digest *d, struct kiln_error *err)
{
	cleanup(kiln_blob_reader_freep) struct kiln_blob_reader *rd = NULL;
	cleanup_free char *buf = kiln_malloc(CHUNK);
	if (!buf)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int r = kiln_store_blob_reader_new(st, d, &rd, err);
	if (r < 0)
		return r;
	if ((r = header(t, path, AE_IFREG, 0644, kiln_blob_reader_size(rd), NULL, err)) < 0)
		return r;
	for (;;) {
		size_t n = 0;
		if ((r = kiln_blob_reader_read(rd, buf, CHUNK, &n, err)) < 0)
			return r;
		if (n == 0)
			return 0;
		if ((r = data(t, path, buf, n, err)) < 0)
			return r;
	}
}

int tarw_symlink(struct tarw *t, const char *path, const char *target, struct kiln_error *err)
{
	return header(t, path, AE_IFLNK, 0777, 0, target, err);
}

int tarw_close(struct tarw *t, struct kiln_error *err)
{
	if (archive_write_close(t->a) != ARCHIVE_OK)
		return tar_fail(t, err, "archive", "end");
	return 0;
}

/* ---- names -------------------------------------------------------------------- */

char *archive_canonical_name(const char *s)
{
	struct kiln_ref *ref = NULL;
	if (kiln_ref_parse(s, KILN_REF_DEFAULT_TAG_LATEST, &ref, NULL) < 0)
		return NULL;
	char *out = NULL;
	if (!ref->digest)
		out = kiln_ref_string(ref);
	kiln_ref_free(ref);
	return out;
}

const char *archive_name_tag(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *colon = strrchr(slash ? slash : name, ':');
	return colon ? colon + 1 : "latest";
}

char *archive_name_repo(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *colon = strrchr(slash ? slash : name, ':');
	return colon ? kiln_strndup(name, (size_t)(colon - name)) : kiln_strdup(name);
}

int archive_names_from_annotations(const struct kiln_oci_map *a, struct kiln_strv *out,
				   struct kiln_error *err)
{
	const char *full = kiln_oci_map_get(a, KILN_ANNOT_CONTAINERD_NAME);
	const char *ref = kiln_oci_map_get(a, KILN_ANNOT_REF_NAME);
	cleanup_free char *name = NULL;
	if (full)
		name = archive_canonical_name(full);
	/* a bare tag ("latest") names no repository; a full reference does */
	if (!name && ref && (strchr(ref, '/') || strchr(ref, ':')))
		name = archive_canonical_name(ref);
	if (!name)
		return 0;
	if (kiln_strv_find(out, name) >= 0)
		return 0;
	if (kiln_strv_push(out, name) < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

/* ---- export ------------------------------------------------------------------- */

void export_image_release(struct export_image *x)
{
	free(x->manifest_json);
	free(x->manifest_media_type);
	kiln_oci_manifest_free(x->m);
	free(x->config_json);
	kiln_oci_config_free(x->cfg);
	kiln_strv_release(&x->names);
	export_images_free(x->subs, x->n_subs);
	memset(x, 0, sizeof(*x));
}

void export_images_free(struct export_image *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		export_image_release(&x[i]);
	free(x);
}

static const char *oci_layer_type(const char *docker_mt)
{
	if (strcmp(docker_mt, KILN_MT_DOCKER_LAYER) == 0)
		return KILN_MT_OCI_LAYER;
	if (strcmp(docker_mt, KILN_MT_DOCKER_LAYER_GZIP) == 0)
		return KILN_MT_OCI_LAYER_GZIP;
	if (strcmp(docker_mt, KILN_MT_DOCKER_LAYER_FOREIGN) == 0)
		return KILN_MT_OCI_LAYER_ND_GZIP;
	return docker_mt;
}

/* Rewrite a docker schema 2 manifest with OCI media types (same blobs). */
static int to_oci(struct export_image *x, struct kiln_error *err)
{
	struct kiln_oci_manifest *m = x->m;
	char *mt = kiln_strdup(KILN_MT_OCI_MANIFEST);
	char *cmt = kiln_strdup(KILN_MT_OCI_CONFIG);
	if (!mt || !cmt) {
		free(mt);
		free(cmt);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	free(m->media_type);
	m->media_type = mt;
	free(m->config.media_type);
	m->config.media_type = cmt;
	for (size_t i = 0; i < m->n_layers; i++) {
		char *l = kiln_strdup(oci_layer_type(m->layers[i].media_type));
		if (!l)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		free(m->layers[i].media_type);
		m->layers[i].media_type = l;
	}
	if (m->n_layers == 0)
		return kiln_fail(err, KILN_EUNSUPP, 0,
				 "image %s has no layers, which an OCI manifest cannot express",
				 x->manifest.str);
	free(x->manifest_json);
	x->manifest_json = NULL;
	int r = kiln_oci_manifest_to_json(m, 0, &x->manifest_json, &x->manifest_len, err);
	if (r < 0)
		return r;
	return kiln_sha256_buf(x->manifest_json, x->manifest_len, &x->manifest, err);
}

/* An index says so in its mediaType (kiln's own always do). */
static int blob_is_index(const char *json, size_t len)
{
	cleanup(kiln_oci_index_freep) struct kiln_oci_index *idx = NULL;
	return kiln_oci_index_parse(json, len, &idx, NULL) == 0 && idx->media_type &&
	       kiln_mt_classify(idx->media_type, NULL) == KILN_MT_KIND_INDEX;
}

static int prepare_index(struct kiln_store *st, struct export_image *x, struct kiln_error *err)
{
	cleanup(kiln_oci_index_freep) struct kiln_oci_index *idx = NULL;
	int r = kiln_oci_index_parse(x->manifest_json, x->manifest_len, &idx, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "index %s", x->stored.str);
	if (!(x->manifest_media_type = kiln_strdup(idx->media_type)))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (idx->n_manifests && !(x->subs = kiln_calloc(idx->n_manifests, sizeof(*x->subs))))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = 0; i < idx->n_manifests; i++) {
		struct kiln_digest d;
		if ((r = kiln_oci_descriptor_sha256(&idx->manifests[i], &d, err)) < 0)
			return r;
		/* as the index names them: no rewrite to OCI types */
		r = export_image_prepare(st, &d, 0, &x->subs[i], err);
		x->n_subs = i + 1;
		if (r == 0 && !x->subs[i].m)
			r = kiln_fail(err, KILN_EUNSUPP, 0, "index %s holds an index, %s",
				      x->stored.str, d.str);
		if (r < 0)
			return kiln_error_prefix(err, r, "index %s", x->stored.str);
	}
	return 0;
}

int export_image_prepare(struct kiln_store *st, const struct kiln_digest *manifest,
			 unsigned flags, struct export_image *x, struct kiln_error *err)
{
	memset(x, 0, sizeof(*x));
	x->manifest = *manifest;
	x->stored = *manifest;
	int r = kiln_store_blob_read(st, manifest, KILN_OCI_MANIFEST_MAX, &x->manifest_json,
				     &x->manifest_len, err);
	if (r < 0)
		return r;
	if (blob_is_index(x->manifest_json, x->manifest_len))
		return prepare_index(st, x, err);
	if ((r = kiln_oci_manifest_parse(x->manifest_json, x->manifest_len, &x->m, err)) < 0)
		return kiln_error_prefix(err, r, "manifest %s", manifest->str);
	if ((flags & EXPORT_OCI) && x->m->media_type &&
	    strcmp(x->m->media_type, KILN_MT_DOCKER_MANIFEST) == 0 && (r = to_oci(x, err)) < 0)
		return r;
	x->manifest_media_type = kiln_strdup(x->m->media_type ? x->m->media_type
							      : KILN_MT_OCI_MANIFEST);
	if (!x->manifest_media_type)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if ((r = kiln_oci_descriptor_sha256(&x->m->config, &x->config, err)) < 0)
		return r;
	if ((r = kiln_store_blob_read(st, &x->config, KILN_OCI_CONFIG_MAX, &x->config_json,
				      &x->config_len, err)) < 0)
		return r;
	if ((r = kiln_oci_config_parse(x->config_json, x->config_len, &x->cfg, err)) < 0)
		return kiln_error_prefix(err, r, "config %s", x->config.str);
	for (size_t i = 0; i < x->m->n_layers; i++) {
		struct kiln_digest d;
		if ((r = kiln_oci_descriptor_sha256(&x->m->layers[i], &d, err)) < 0)
			return r;
		r = kiln_store_blob_has(st, &d, NULL, err);
		if (r < 0)
			return r;
		if (r == 0)
			return kiln_fail(err, KILN_ENOTFOUND, 0, "layer %s of %s is not in the store",
					 d.str, manifest->str);
	}
	return 0;
}

int export_images_prepare(struct kiln_store *st, const struct kiln_store_save_item *items,
			  size_t n, unsigned flags, struct export_image **ret, size_t *ret_n,
			  struct kiln_error *err)
{
	if (n > KILN_ARCHIVE_IMAGES_MAX)
		return kiln_fail(err, KILN_ELIMIT, 0, "more than %d images", KILN_ARCHIVE_IMAGES_MAX);
	struct export_image *x = n ? kiln_calloc(n, sizeof(*x)) : NULL;
	size_t m = 0;
	if (n && !x)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		/* the same stored image under several names is written once */
		for (; j < m; j++)
			if (kiln_digest_equal(&x[j].stored, &items[i].manifest))
				break;
		int r = 0;
		if (j == m)
			r = export_image_prepare(st, &items[i].manifest, flags, &x[m++], err);
		if (r == 0 && items[i].annotations)
			x[j].annotations = items[i].annotations;
		if (r == 0 && items[i].name && kiln_strv_find(&x[j].names, items[i].name) < 0 &&
		    kiln_strv_push(&x[j].names, items[i].name) < 0)
			r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		if (r < 0) {
			export_images_free(x, m);
			return r;
		}
	}
	*ret = x;
	*ret_n = m;
	return 0;
}

/* ---- layout index ------------------------------------------------------------- */

static int entry_for(const struct export_image *x, const char *name, struct kiln_oci_index *idx,
		     struct kiln_error *err)
{
	struct kiln_oci_descriptor d = { 0 };
	int r = kiln_oci_descriptor_set(&d, x->manifest_media_type, &x->manifest,
					(int64_t)x->manifest_len, err);
	if (r == 0 && x->annotations)
		r = kiln_oci_map_copy(&d.annotations, x->annotations, err);
	if (r == 0 && name) {
		r = kiln_oci_map_set(&d.annotations, KILN_ANNOT_CONTAINERD_NAME, name, err);
		if (r == 0)
			r = kiln_oci_map_set(&d.annotations, KILN_ANNOT_REF_NAME,
					     archive_name_tag(name), err);
	}
	if (r == 0)
		r = kiln_oci_index_add(idx, &d, err);
	kiln_oci_descriptor_release(&d);
	return r;
}

/* Does a new entry replace `old`? Same ref name (the key tools look images up by). */
static int replaced(const struct kiln_oci_descriptor *old, const struct export_image *imgs,
		    size_t n)
{
	const char *ref = kiln_oci_map_get(&old->annotations, KILN_ANNOT_REF_NAME);
	const char *full = kiln_oci_map_get(&old->annotations, KILN_ANNOT_CONTAINERD_NAME);
	for (size_t i = 0; i < n; i++) {
		if (!ref && !full && imgs[i].names.len == 0 && old->digest &&
		    strcmp(old->digest, imgs[i].manifest.str) == 0)
			return 1;
		for (size_t j = 0; j < imgs[i].names.len; j++) {
			const char *name = imgs[i].names.items[j];
			if ((full && strcmp(full, name) == 0) ||
			    (ref && strcmp(ref, archive_name_tag(name)) == 0))
				return 1;
		}
	}
	return 0;
}

int export_layout_index(const struct export_image *imgs, size_t n, const char *existing_json,
			size_t existing_len, char **ret, size_t *ret_len, struct kiln_error *err)
{
	cleanup(kiln_oci_index_freep) struct kiln_oci_index *idx = NULL;
	cleanup(kiln_oci_index_freep) struct kiln_oci_index *old = NULL;
	int r = kiln_oci_index_new(&idx, err);
	if (r < 0)
		return r;
	idx->media_type = kiln_strdup(KILN_MT_OCI_INDEX);
	if (!idx->media_type)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (existing_json) {
		r = kiln_oci_index_parse(existing_json, existing_len, &old, err);
		if (r < 0)
			return kiln_error_prefix(err, r, "existing index.json");
		for (size_t i = 0; i < old->n_manifests; i++)
			if (!replaced(&old->manifests[i], imgs, n) &&
			    (r = kiln_oci_index_add(idx, &old->manifests[i], err)) < 0)
				return r;
		if ((r = kiln_oci_map_copy(&idx->annotations, &old->annotations, err)) < 0)
			return r;
	}
	for (size_t i = 0; i < n; i++) {
		if (imgs[i].names.len == 0 && (r = entry_for(&imgs[i], NULL, idx, err)) < 0)
			return r;
		for (size_t j = 0; j < imgs[i].names.len; j++)
			if ((r = entry_for(&imgs[i], imgs[i].names.items[j], idx, err)) < 0)
				return r;
	}
	return kiln_oci_index_to_json(idx, KILN_OCI_JSON_COMPACT, ret, ret_len, err);
}

/* ---- layers ------------------------------------------------------------------- */

static int layer_info_from_fd(int fd, const struct kiln_ctx *ctx, struct layer_info *ret,
			      char **why, struct kiln_error *err)
{
	if (lseek(fd, 0, SEEK_SET) < 0)
		return kiln_fail_errno(err, "rewinding a blob");
	struct kiln_layer_read_opts o = { .ctx = ctx, .check_names = 1 };
	struct kiln_layer_digests dg;
	struct kiln_error e = KILN_ERROR_INIT;
	int r = kiln_layer_digest_fd(fd, &o, &dg, &e);
	if (r == -KILN_EPARSE || r == -KILN_ELIMIT || r == -KILN_EDIGEST || r == -KILN_EUNSUPP) {
		if (why)
			*why = steal_ptr(&e.msg);
		kiln_error_release(&e);
		return 0;
	}
	if (r < 0) {
		kiln_error_move(err, &e);
		return r;
	}
	ret->digest = dg.digest;
	ret->diff_id = dg.diff_id;
	ret->compression = (int)dg.compression;
	ret->size = (int64_t)dg.size;
	return 1;
}

int archive_probe_layer(struct kiln_blob_writer *w, const struct kiln_ctx *ctx,
			struct layer_info *ret, char **why, struct kiln_error *err)
{
	return layer_info_from_fd(kiln_blob_writer_fd(w), ctx, ret, why, err);
}

int archive_blob_layer_info(struct kiln_store *st, const struct kiln_digest *d,
			    struct layer_info *ret, struct kiln_error *err)
{
	cleanup_close int fd = -1;
	int r = kiln_store_blob_open(st, d, &fd, NULL, err);
	if (r < 0)
		return r;
	cleanup_free char *why = NULL;
	r = layer_info_from_fd(fd, kiln_store_ctx(st), ret, &why, err);
	if (r == 0)
		return kiln_fail(err, KILN_EPARSE, 0, "layer %s cannot be unpacked: %s", d->str,
				 why ? why : "unreadable");
	if (r < 0)
		return r;
	if (!kiln_digest_equal(&ret->digest, d))
		return kiln_fail(err, KILN_EDIGEST, 0, "layer %s hashes to %s", d->str,
				 ret->digest.str);
	return 0;
}

static enum kiln_compression mt_compression(const char *mt)
{
	enum kiln_mt_compression c = KILN_MT_COMP_NONE;
	(void)kiln_mt_classify(mt, &c);
	return c == KILN_MT_COMP_GZIP ? KILN_COMPRESSION_GZIP
	       : c == KILN_MT_COMP_ZSTD ? KILN_COMPRESSION_ZSTD
					 : KILN_COMPRESSION_NONE;
}

int archive_record_image(struct kiln_store *st, const struct kiln_digest *manifest,
			 const struct layer_info *known, size_t n_known, const struct kiln_strv *names,
			 struct kiln_error *err)
{
	cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *cfg = NULL;
	int r = kiln_store_manifest_read(st, manifest, &m, err);
	if (r < 0)
		return r;
	struct kiln_digest cd;
	if ((r = kiln_oci_descriptor_sha256(&m->config, &cd, err)) < 0)
		return r;
	if ((r = kiln_store_config_read(st, &cd, &cfg, err)) < 0)
		return r;
	if (cfg->n_diff_ids != m->n_layers)
		return kiln_fail(err, KILN_EPARSE, 0,
				 "image %s: the config lists %zu layers but the manifest %zu",
				 manifest->str, cfg->n_diff_ids, m->n_layers);
	for (size_t i = 0; i < m->n_layers; i++) {
		struct kiln_digest ld;
		if ((r = kiln_oci_descriptor_sha256(&m->layers[i], &ld, err)) < 0)
			return r;
		struct layer_info li;
		const struct layer_info *k = NULL;
		for (size_t j = 0; j < n_known && !k; j++)
			if (kiln_digest_equal(&known[j].digest, &ld))
				k = &known[j];
		if (!k) {
			if ((r = archive_blob_layer_info(st, &ld, &li, err)) < 0)
				return kiln_error_prefix(err, r, "image %s", manifest->str);
			k = &li;
		}
		if (!kiln_digest_equal(&k->diff_id, &cfg->diff_ids[i]))
			return kiln_fail(err, KILN_EDIGEST, 0,
					 "layer %zu (%s) unpacks to %s but the config says %s", i,
					 ld.str, k->diff_id.str, cfg->diff_ids[i].str);
		enum kiln_compression want = mt_compression(m->layers[i].media_type);
		if ((int)want != k->compression)
			return kiln_fail(err, KILN_EPARSE, 0,
					 "layer %zu (%s) is %s but its media type '%s' says %s", i,
					 ld.str, kiln_compression_name((enum kiln_compression)k->compression),
					 m->layers[i].media_type, kiln_compression_name(want));
	}
	return kiln_store_image_add(st, manifest, (const char *const *)names->items, names->len,
				    err);
}

int load_result_add(struct kiln_store_load_result *res, const struct kiln_digest *manifest,
		    const struct kiln_digest *config, const struct kiln_strv *names,
		    struct kiln_error *err)
{
	struct kiln_store_loaded *p = kiln_reallocarray(res->items, res->len + 1, sizeof(*p));
	if (!p)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	res->items = p;
	struct kiln_store_loaded *e = &p[res->len];
	memset(e, 0, sizeof(*e));
	e->manifest = *manifest;
	e->config = *config;
	if (kiln_strv_copy(&e->names, names) < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	res->len++;
	return 0;
}

void kiln_store_load_result_release(struct kiln_store_load_result *r)
{
	for (size_t i = 0; i < r->len; i++)
		kiln_strv_release(&r->items[i].names);
	free(r->items);
	memset(r, 0, sizeof(*r));
}

int archive_index_pick(const struct kiln_oci_index *x, const struct kiln_oci_platform *want,
		       const struct kiln_oci_descriptor **ret, struct kiln_error *err)
{
	const struct kiln_oci_descriptor *no_platform = NULL;
	size_t n_no_platform = 0;
	for (size_t i = 0; i < x->n_manifests; i++) {
		const struct kiln_oci_descriptor *d = &x->manifests[i];
		if (kiln_mt_classify(d->media_type, NULL) != KILN_MT_KIND_MANIFEST)
			continue;
		if (!d->platform) {
			no_platform = d;
			n_no_platform++;
			continue;
		}
		if (kiln_oci_platform_match(want, d->platform)) {
			*ret = d;
			return 0;
		}
	}
	if (n_no_platform == 1) {
		*ret = no_platform;
		return 0;
	}
	cleanup_free char *p = kiln_oci_platform_string(want);
	return kiln_fail(err, KILN_ENOTFOUND, 0, "the index has no image for %s",
			 p ? p : "this platform");
}

void pending_free(struct pending *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kiln_strv_release(&p[i].names);
	free(p);
}

int archive_record_pending(struct kiln_store *st, const char *input, struct pending *p, size_t n,
			   const struct layer_info *known, size_t n_known,
			   struct kiln_store_load_result *res, struct kiln_error *err)
{
	int r = kiln_store_tx_begin(st, err);
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = archive_record_image(st, &p[i].manifest, known, n_known, &p[i].names, err);
		if (r < 0)
			r = kiln_error_prefix(err, r, "%s", input);
	}
	if (r == 0)
		r = kiln_store_tx_commit(st, err);
	else
		kiln_store_tx_rollback(st);
	for (size_t i = 0; r == 0 && i < n; i++) {
		cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
		if ((r = kiln_store_manifest_read(st, &p[i].manifest, &m, err)) == 0)
			r = load_result_add(res, &p[i].manifest, &m->config.sha256, &p[i].names, err);
	}
	return r;
}
