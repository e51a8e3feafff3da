/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln save: images out of the store as one tar stream.
 *
 * docker-archive follows what podman and skopeo write (containers/image's
 * tarfile writer), which docker load and podman load both read:
 *
 *     <diff_id hex>.tar          each layer, uncompressed
 *     <config hex>.json          the image config, byte for byte
 *     <legacy id>/VERSION, json  legacy per-layer metadata (docker < 1.10)
 *     <legacy id>/layer.tar      symlink to ../<diff_id hex>.tar
 *     manifest.json              [{"Config":..., "RepoTags":[...], "Layers":[...]}]
 *     repositories               {"docker.io/library/busybox": {"latest": "<top id>"}}
 *
 * oci-archive is an OCI image layout in a tar: oci-layout, blobs/sha256/...
 * and index.json with BuildKit's name annotations.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer/layer.h"
#include "ref/ref.h"
#include "store/archive-private.h"
#include "store/json-writer.h"

/* Re-encode a jansson value as Go's json.Marshal of a RawMessage would. */
static void jw_value(struct kiln_jw *w, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *e;
		kiln_jw_obj_open(w);
		json_object_foreach(v, k, e) {
			kiln_jw_key(w, k);
			jw_value(w, e);
		}
		kiln_jw_obj_close(w);
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *e;
		kiln_jw_arr_open(w);
		json_array_foreach(v, i, e)
			jw_value(w, e);
		kiln_jw_arr_close(w);
		break;
	}
	case JSON_STRING:
		kiln_jw_strn(w, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		kiln_jw_int(w, (int64_t)json_integer_value(v));
		break;
	case JSON_REAL: {
		char tmp[64];
		int n = snprintf(tmp, sizeof(tmp), "%.17g", json_real_value(v));
		kiln_jw_raw(w, tmp, (size_t)n);
		break;
	}
	case JSON_TRUE:
	case JSON_FALSE:
		kiln_jw_bool(w, json_is_true(v));
		break;
	case JSON_NULL:
		kiln_jw_null(w);
		break;
	}
}

/* The legacy "json" of one layer (containers/image's algorithm, keys sorted). */
static int legacy_json(json_t *config, const char *parent, const char *layer_id_key,
		       const char *layer_id, int top, char **ret, size_t *ret_len,
		       struct kiln_error *err)
{
	/* every key that may appear, in Go's sorted order */
	static const char *const keys[] = { "architecture", "config",   "container",
					    "container_config", "created", "docker_version",
					    "id",           "layer_id", "os",
					    "parent" };
	static const char *const top_attrs = " architecture config container container_config "
					     "created docker_version os ";
	struct kiln_jw w;
	kiln_jw_init(&w);
	kiln_jw_obj_open(&w);
	for (size_t i = 0; i < KILN_ARRAY_SIZE(keys); i++) {
		const char *k = keys[i];
		char pat[32];
		(void)snprintf(pat, sizeof(pat), " %s ", k);
		if (strcmp(k, "parent") == 0) {
			if (parent)
				kiln_jw_kstr(&w, k, parent);
		} else if (strcmp(k, layer_id_key) == 0) {
			kiln_jw_kstr(&w, k, layer_id);
		} else if (top && strstr(top_attrs, pat)) {
			json_t *v = json_object_get(config, k);
			kiln_jw_key(&w, k);
			if (v)
				jw_value(&w, v);
			else
				kiln_jw_null(&w);
		}
	}
	kiln_jw_obj_close(&w);
	int r = kiln_jw_finish(&w, ret, ret_len, err);
	kiln_jw_release(&w);
	return r;
}

struct written {
	struct kiln_strv paths; /* members already in the archive */
};

static int once(struct written *wr, const char *path, struct kiln_error *err)
{
	if (kiln_strv_find(&wr->paths, path) >= 0)
		return 0;
	if (kiln_strv_push(&wr->paths, path) < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return 1;
}

/* One layer as an uncompressed tar member, decompressing through a temp file if needed. */
static int write_layer(struct kiln_store *st, struct tarw *t, const char *path,
		       const struct kiln_oci_descriptor *l, const struct kiln_digest *diff_id,
		       struct kiln_error *err)
{
	struct kiln_digest d;
	int r = kiln_oci_descriptor_sha256(l, &d, err);
	if (r < 0)
		return r;
	enum kiln_mt_compression c = KILN_MT_COMP_NONE;
	(void)kiln_mt_classify(l->media_type, &c);
	if (c == KILN_MT_COMP_NONE && kiln_digest_equal(&d, diff_id))
		return tarw_blob(t, path, st, &d, err);
	cleanup_close int in = -1;
	if ((r = kiln_store_blob_open(st, &d, &in, NULL, err)) < 0)
		return r;
	cleanup_close int tmp = -1;
	if ((r = store_anon_tmpfile(st, &tmp, err)) < 0)
		return r;
	struct kiln_layer_read_opts ro = { .expect_digest = &d, .expect_diff_id = diff_id,
					   .ctx = st->ctx };
	struct kiln_layer_write_opts wo = { .compression = KILN_COMPRESSION_NONE, .ctx = st->ctx };
	struct kiln_layer_digests out;
	if ((r = kiln_layer_recompress(in, tmp, &ro, &wo, NULL, &out, err)) < 0)
		return kiln_error_prefix(err, r, "decompressing layer %s", d.str);
	if (lseek(tmp, 0, SEEK_SET) < 0)
		return kiln_fail_errno(err, "rewinding a temp file");
	return tarw_fd(t, path, tmp, (int64_t)out.uncompressed_size, err);
}

/*
 * RepoTags and repositories spell names fully qualified, as containers/image
 * does: docker normalizes them to the familiar form on load, and podman
 * keeps the registry instead of guessing "localhost/".
 */
static int split_canonical(const char *name, char **ret_repo, char **ret_tag,
			   struct kiln_error *err)
{
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	int r = kiln_ref_parse_canonical(name, &ref, err);
	if (r < 0)
		return r;
	*ret_repo = kiln_ref_name(ref);
	*ret_tag = kiln_strdup(ref->tag ? ref->tag : "latest");
	if (!*ret_repo || !*ret_tag)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

/* repositories: {"repo": {"tag": "<legacy id>"}}, repos and tags sorted. */
struct repo_entry {
	char *repo, *tag, *id;
};

static int cmp_repo_entry(const void *a, const void *b)
{
	const struct repo_entry *x = a, *y = b;
	int c = strcmp(x->repo, y->repo);
	return c ? c : strcmp(x->tag, y->tag);
}

static int docker_image(struct kiln_store *st, struct tarw *t, struct export_image *x,
			struct written *wr, struct kiln_jw *manifest_json,
			struct repo_entry **repos, size_t *n_repos, struct kiln_error *err)
{
	cleanup(kiln_strv_release) struct kiln_strv layer_paths = KILN_STRV_INIT;
	int r;
	for (size_t i = 0; i < x->m->n_layers; i++) {
		cleanup_free char *path = kiln_asprintf("%s.tar", x->cfg->diff_ids[i].hex);
		if (!path || kiln_strv_push(&layer_paths, path) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		if ((r = once(wr, path, err)) < 0)
			return r;
		if (r == 1 && (r = write_layer(st, t, path, &x->m->layers[i], &x->cfg->diff_ids[i],
					       err)) < 0)
			return r;
	}
	cleanup_free char *cpath = kiln_asprintf("%s.json", x->config.hex);
	if (!cpath)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if ((r = once(wr, cpath, err)) < 0)
		return r;
	if (r == 1 && (r = tarw_bytes(t, cpath, x->config_json, x->config_len, err)) < 0)
		return r;

	/* legacy per-layer metadata */
	json_error_t je;
	json_t *config = json_loadb(x->config_json, x->config_len, 0, &je);
	if (!config)
		return kiln_fail(err, KILN_EPARSE, 0, "config %s: %s", x->config.str, je.text);
	char last[65] = "";
	struct kiln_digest chain = { 0 };
	for (size_t i = 0; r >= 0 && i < x->m->n_layers; i++) {
		const struct kiln_digest *diff = &x->cfg->diff_ids[i];
		if (i == 0) {
			chain = *diff;
		} else {
			cleanup_free char *s = kiln_asprintf("%s %s", chain.str, diff->str);
			if (!s || (r = kiln_sha256_buf(s, strlen(s), &chain, err)) < 0) {
				r = s ? r : kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
				break;
			}
		}
		int top = i + 1 == x->m->n_layers;
		cleanup_free char *j1 = NULL, *j2 = NULL;
		size_t l1, l2;
		struct kiln_digest id;
		if ((r = legacy_json(config, *last ? last : NULL, "layer_id", chain.str, top, &j1, &l1,
				     err)) < 0 ||
		    (r = kiln_sha256_buf(j1, l1, &id, err)) < 0 ||
		    (r = legacy_json(config, *last ? last : NULL, "id", id.hex, top, &j2, &l2, err)) <
			    0)
			break;
		memcpy(last, id.hex, 65);
		cleanup_free char *dir = kiln_asprintf("%s/", id.hex);
		cleanup_free char *ver = kiln_asprintf("%s/VERSION", id.hex);
		cleanup_free char *js = kiln_asprintf("%s/json", id.hex);
		cleanup_free char *lt = kiln_asprintf("%s/layer.tar", id.hex);
		cleanup_free char *target = kiln_asprintf("../%s.tar", diff->hex);
		if (!dir || !ver || !js || !lt || !target) {
			r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			break;
		}
		if ((r = once(wr, dir, err)) <= 0)
			continue;
		if ((r = tarw_dir(t, dir, err)) < 0 || (r = tarw_symlink(t, lt, target, err)) < 0 ||
		    (r = tarw_bytes(t, ver, "1.0", 3, err)) < 0 ||
		    (r = tarw_bytes(t, js, j2, l2, err)) < 0)
			break;
	}
	json_decref(config);
	if (r < 0)
		return r;

	kiln_jw_obj_open(manifest_json);
	kiln_jw_kstr(manifest_json, "Config", cpath);
	kiln_jw_key(manifest_json, "RepoTags");
	kiln_jw_arr_open(manifest_json);
	for (size_t i = 0; i < x->names.len; i++) {
		struct repo_entry e = { 0 };
		if ((r = split_canonical(x->names.items[i], &e.repo, &e.tag, err)) < 0) {
			free(e.repo);
			free(e.tag);
			return r;
		}
		kiln_jw_str(manifest_json, x->names.items[i]);
		e.id = kiln_strdup(last);
		struct repo_entry *p = kiln_reallocarray(*repos, *n_repos + 1, sizeof(*p));
		if (!e.id || !p) {
			free(e.repo);
			free(e.tag);
			free(e.id);
			if (p)
				*repos = p;
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
		*repos = p;
		p[(*n_repos)++] = e;
	}
	kiln_jw_arr_close(manifest_json);
	kiln_jw_key(manifest_json, "Layers");
	kiln_jw_arr_open(manifest_json);
	for (size_t i = 0; i < layer_paths.len; i++)
		kiln_jw_str(manifest_json, layer_paths.items[i]);
	kiln_jw_arr_close(manifest_json);
	kiln_jw_obj_close(manifest_json);
	return 0;
}

static void repos_free(struct repo_entry *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].repo);
		free(r[i].tag);
		free(r[i].id);
	}
	free(r);
}

static int save_docker(struct kiln_store *st, struct export_image *imgs, size_t n, struct tarw *t,
		       struct kiln_error *err)
{
	struct written wr = { KILN_STRV_INIT };
	struct kiln_jw mj;
	struct repo_entry *repos = NULL;
	size_t n_repos = 0;
	int r = 0;
	kiln_jw_init(&mj);
	kiln_jw_arr_open(&mj);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = imgs[i].m ? docker_image(st, t, &imgs[i], &wr, &mj, &repos, &n_repos, err)
			      : kiln_fail(err, KILN_EUNSUPP, 0,
					  "%s is an image index of %zu platforms: a docker "
					  "archive holds one platform's image (an OCI layout "
					  "holds them all)",
					  imgs[i].stored.str, imgs[i].n_subs);
	kiln_jw_arr_close(&mj);
	char *mjson = NULL, *rjson = NULL;
	size_t mlen = 0, rlen = 0;
	if (r == 0)
		r = kiln_jw_finish(&mj, &mjson, &mlen, err);
	if (r == 0) {
		struct kiln_jw rj;
		kiln_jw_init(&rj);
		if (n_repos)
			qsort(repos, n_repos, sizeof(*repos), cmp_repo_entry);
		kiln_jw_obj_open(&rj);
		for (size_t i = 0; i < n_repos; i++) {
			if (i == 0 || strcmp(repos[i].repo, repos[i - 1].repo) != 0) {
				if (i)
					kiln_jw_obj_close(&rj);
				kiln_jw_key(&rj, repos[i].repo);
				kiln_jw_obj_open(&rj);
			}
			kiln_jw_kstr(&rj, repos[i].tag, repos[i].id);
		}
		if (n_repos)
			kiln_jw_obj_close(&rj);
		kiln_jw_obj_close(&rj);
		r = kiln_jw_finish(&rj, &rjson, &rlen, err);
		kiln_jw_release(&rj);
	}
	if (r == 0)
		r = tarw_bytes(t, "manifest.json", mjson, mlen, err);
	if (r == 0)
		r = tarw_bytes(t, "repositories", rjson, rlen, err);
	free(mjson);
	free(rjson);
	kiln_jw_release(&mj);
	repos_free(repos, n_repos);
	kiln_strv_release(&wr.paths);
	return r;
}

static int oci_blob(struct tarw *t, struct written *wr, struct kiln_store *st,
		    const struct kiln_digest *d, const char *data, size_t len,
		    struct kiln_error *err)
{
	cleanup_free char *p = kiln_asprintf("blobs/sha256/%s", d->hex);
	if (!p)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int r = once(wr, p, err);
	if (r <= 0)
		return r;
	return data ? tarw_bytes(t, p, data, len, err) : tarw_blob(t, p, st, d, err);
}

/* Each image's layers, config and manifest; an index's images before it. */
static int oci_image_blobs(struct kiln_store *st, struct export_image *imgs, size_t n,
			   struct tarw *t, struct written *wr, struct kiln_error *err)
{
	int r;
	for (size_t i = 0; i < n; i++) {
		struct export_image *x = &imgs[i];
		if ((r = oci_image_blobs(st, x->subs, x->n_subs, t, wr, err)) < 0)
			return r;
		for (size_t j = 0; x->m && j < x->m->n_layers; j++)
			if ((r = oci_blob(t, wr, st, &x->m->layers[j].sha256, NULL, 0, err)) < 0)
				return r;
		if (x->m &&
		    (r = oci_blob(t, wr, st, &x->config, x->config_json, x->config_len, err)) < 0)
			return r;
		if ((r = oci_blob(t, wr, st, &x->manifest, x->manifest_json, x->manifest_len,
				  err)) < 0)
			return r;
	}
	return 0;
}

static int oci_blobs(struct kiln_store *st, struct export_image *imgs, size_t n, struct tarw *t,
		     struct written *wr, struct kiln_error *err)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	int r;
	if ((r = tarw_bytes(t, "oci-layout", layout, sizeof(layout) - 1, err)) < 0 ||
	    (r = tarw_dir(t, "blobs/", err)) < 0 || (r = tarw_dir(t, "blobs/sha256/", err)) < 0)
		return r;
	return oci_image_blobs(st, imgs, n, t, wr, err);
}

static int save_oci(struct kiln_store *st, struct export_image *imgs, size_t n, struct tarw *t,
		    struct kiln_error *err)
{
	struct written wr = { KILN_STRV_INIT };
	int r = oci_blobs(st, imgs, n, t, &wr, err);
	kiln_strv_release(&wr.paths);
	if (r < 0)
		return r;
	cleanup_free char *idx = NULL;
	size_t idx_len = 0;
	if ((r = export_layout_index(imgs, n, NULL, 0, &idx, &idx_len, err)) < 0)
		return r;
	return tarw_bytes(t, "index.json", idx, idx_len, err);
}

int kiln_store_save(struct kiln_store *st, const struct kiln_store_save_item *items, size_t n,
		    enum kiln_archive_format format, int fd, struct kiln_error *err)
{
	if (n == 0)
		return kiln_fail(err, KILN_EINVAL, 0, "nothing to save");
	if (format != KILN_ARCHIVE_DOCKER && format != KILN_ARCHIVE_OCI)
		return kiln_fail(err, KILN_EINVAL, 0, "save needs docker-archive or oci-archive");
	for (size_t i = 0; i < n; i++) {
		if (!items[i].name)
			continue;
		cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
		int r = kiln_ref_parse_canonical(items[i].name, &ref, err);
		if (r < 0)
			return kiln_error_prefix(err, r, "image name '%s'", items[i].name);
	}
	struct export_image *imgs = NULL;
	size_t m = 0;
	int r = export_images_prepare(st, items, n, format == KILN_ARCHIVE_OCI ? EXPORT_OCI : 0,
				      &imgs, &m, err);
	if (r < 0)
		return r;
	struct tarw *t = NULL;
	r = tarw_open(fd, st->ctx, &t, err);
	if (r == 0)
		r = format == KILN_ARCHIVE_OCI ? save_oci(st, imgs, m, t, err)
					       : save_docker(st, imgs, m, t, err);
	if (r == 0)
		r = tarw_close(t, err);
	tarw_free(t);
	export_images_free(imgs, m);
	return r;
}
