/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln load: docker-archive and oci-archive tars into the store, in one
 * pass over the input (a pipe works).
 *
 * Every regular member is streamed into a blob writer as it comes: members
 * named blobs/sha256/<hex> are verified against their name, the rest get
 * their digest computed, and each is read back once to learn whether it is
 * a layer (and its diff_id). Metadata (manifest.json, index.json,
 * oci-layout) is kept in memory. Only after the whole archive has been read
 * are the images checked (every diff_id against its config) and recorded,
 * all in one transaction: a bad archive records nothing. Blobs it brought
 * stay unreferenced until prune.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "layer/layer.h"
#include "ref/ref.h"
#include "store/archive-private.h"

#define CHUNK ((size_t)256 << 10)
#define MEMBERS_MAX 200000
#define LINK_HOPS_MAX 16
#define INDEX_DEPTH_MAX 4

enum member_type { M_FILE, M_SYMLINK, M_HARDLINK, M_DIR, M_META, M_SKIPPED };

struct member {
	char *name;
	enum member_type type;
	char *link; /* resolved archive path of a link target */
	int has_blob;
	struct kiln_digest digest;
	int is_layer;
	struct layer_info li;
	char *why_not_layer;
	char *data; /* M_META content */
	size_t len;
};

struct loader {
	struct kiln_store *st;
	const char *input; /* for messages */
	struct archive *a;
	struct member *m;
	size_t n, alloc;
	char *buf;
};

static void loader_release(struct loader *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->m[i].name);
		free(l->m[i].link);
		free(l->m[i].why_not_layer);
		free(l->m[i].data);
	}
	free(l->m);
	free(l->buf);
	if (l->a)
		archive_read_free(l->a);
}

static int arch_fail(struct loader *l, struct kiln_error *err, const char *what)
{
	const char *m = archive_error_string(l->a);
	return kiln_fail(err, KILN_EPARSE, 0, "%s: %s: %s", l->input, what,
			 m ? m : "corrupt archive");
}

/*
 * Clean a member name: no leading "./" or "/", no "." or empty components,
 * no "..". Returns a heap string, NULL for the archive root (skip), or
 * sets *bad for a name kiln refuses.
 */
static char *clean_name(const char *raw, int *bad)
{
	*bad = 0;
	size_t n = strlen(raw);
	if (n == 0 || n > KILN_ARCHIVE_MEMBER_NAME_MAX) {
		*bad = 1;
		return NULL;
	}
	struct kiln_buf b = KILN_BUF_INIT;
	const char *p = raw;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 0)
			break;
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			kiln_buf_release(&b);
			*bad = 1;
			return NULL;
		}
		if (!(len == 1 && p[0] == '.')) {
			if ((b.len && kiln_buf_addch(&b, '/') < 0) || kiln_buf_add(&b, p, len) < 0) {
				kiln_buf_release(&b);
				*bad = 2;
				return NULL;
			}
		}
		p += len;
	}
	if (b.len == 0) {
		kiln_buf_release(&b);
		return NULL;
	}
	char *s = kiln_buf_detach(&b, NULL);
	if (!s)
		*bad = 2;
	return s;
}

/* The directory part of a cleaned name joined with a relative link target. */
static char *join_link(const char *member, const char *target, int *bad)
{
	if (target[0] == '/')
		return clean_name(target, bad);
	const char *slash = strrchr(member, '/');
	struct kiln_buf b = KILN_BUF_INIT;
	/* resolve ".." against the member's directory before cleaning */
	char *dir = slash ? kiln_strndup(member, (size_t)(slash - member)) : kiln_strdup("");
	if (!dir) {
		*bad = 2;
		return NULL;
	}
	const char *p = target;
	while (strncmp(p, "../", 3) == 0 || strcmp(p, "..") == 0) {
		char *up = strrchr(dir, '/');
		if (!*dir) {
			free(dir);
			*bad = 1; /* leaves the archive */
			return NULL;
		}
		if (up)
			*up = '\0';
		else
			dir[0] = '\0';
		p += p[2] ? 3 : 2;
	}
	int q = kiln_buf_addf(&b, "%s%s%s", dir, *dir ? "/" : "", p);
	free(dir);
	if (q < 0) {
		kiln_buf_release(&b);
		*bad = 2;
		return NULL;
	}
	char *r = clean_name(b.buf, bad);
	kiln_buf_release(&b);
	return r;
}

static int is_meta(const char *name)
{
	return !strcmp(name, "manifest.json") || !strcmp(name, "index.json") ||
	       !strcmp(name, "oci-layout") || !strcmp(name, "repositories");
}

/* Legacy per-layer files of docker archives carry nothing kiln needs. */
static int is_legacy(const char *name)
{
	const char *slash = strchr(name, '/');
	return slash && !strchr(slash + 1, '/') &&
	       (!strcmp(slash + 1, "VERSION") || !strcmp(slash + 1, "json"));
}

static int read_meta(struct loader *l, struct member *m, int64_t size, struct kiln_error *err)
{
	if (size < 0 || (uint64_t)size > KILN_ARCHIVE_JSON_MAX)
		return kiln_fail(err, KILN_ELIMIT, 0, "%s: %s is larger than %zu bytes", l->input,
				 m->name, KILN_ARCHIVE_JSON_MAX);
	m->data = kiln_malloc((size_t)size + 1);
	if (!m->data)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	size_t got = 0;
	for (;;) {
		la_ssize_t n = archive_read_data(l->a, m->data + got, (size_t)size - got + 1);
		if (n < 0)
			return arch_fail(l, err, m->name);
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > (size_t)size)
			return kiln_fail(err, KILN_EPARSE, 0, "%s: %s is longer than its header says",
					 l->input, m->name);
	}
	m->data[got] = '\0';
	m->len = got;
	return 0;
}

static int read_blob(struct loader *l, struct member *m, int64_t size, struct kiln_error *err)
{
	struct kiln_digest expect;
	const struct kiln_digest *e = NULL;
	if (strncmp(m->name, "blobs/sha256/", 13) == 0 && kiln_digest_is_hex(m->name + 13)) {
		cleanup_free char *ds = kiln_asprintf("sha256:%s", m->name + 13);
		if (!ds || kiln_digest_parse(ds, &expect, err) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		e = &expect;
	}
	cleanup(kiln_blob_writer_freep) struct kiln_blob_writer *w = NULL;
	int r = kiln_store_blob_writer_new(l->st, e, size, &w, err);
	if (r < 0)
		return r;
	for (;;) {
		la_ssize_t n = archive_read_data(l->a, l->buf, CHUNK);
		if (n < 0)
			return arch_fail(l, err, m->name);
		if (n == 0)
			break;
		if ((r = kiln_blob_writer_write(w, l->buf, (size_t)n, err)) < 0)
			return kiln_error_prefix(err, r, "%s: %s", l->input, m->name);
	}
	r = archive_probe_layer(w, l->st->ctx, &m->li, &m->why_not_layer, err);
	if (r < 0)
		return r;
	m->is_layer = r;
	if ((r = kiln_blob_writer_commit(w, &m->digest, NULL, err)) < 0)
		return kiln_error_prefix(err, r, "%s: %s", l->input, m->name);
	m->has_blob = 1;
	return 0;
}

static int read_all(struct loader *l, struct kiln_error *err)
{
	struct archive_entry *e;
	for (;;) {
		if (kiln_cancelled(l->st->ctx))
			return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
		int rc = archive_read_next_header(l->a, &e);
		if (rc == ARCHIVE_EOF)
			return 0;
		if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
			return arch_fail(l, err, l->n ? "reading the next member" : "not a tar archive");
		if (l->n >= MEMBERS_MAX)
			return kiln_fail(err, KILN_ELIMIT, 0, "%s: more than %d members", l->input,
					 MEMBERS_MAX);
		int bad = 0;
		cleanup_free char *name = clean_name(archive_entry_pathname(e) ?
							     archive_entry_pathname(e) : "",
						     &bad);
		if (bad == 2)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		if (bad)
			return kiln_fail(err, KILN_EPARSE, 0, "%s: refusing member name '%s'",
					 l->input, archive_entry_pathname(e) ?: "");
		if (!name)
			continue;
		if (l->n == l->alloc) {
			size_t na = l->alloc ? l->alloc * 2 : 64;
			struct member *p = kiln_reallocarray(l->m, na, sizeof(*p));
			if (!p)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			l->m = p;
			l->alloc = na;
		}
		struct member *m = &l->m[l->n];
		memset(m, 0, sizeof(*m));
		m->name = steal_ptr(&name);
		l->n++;
		int r = 0;
		const char *hl = archive_entry_hardlink(e);
		mode_t type = archive_entry_filetype(e);
		if (hl) {
			m->type = M_HARDLINK;
			m->link = clean_name(hl, &bad);
			if (!m->link)
				return kiln_fail(err, bad == 2 ? KILN_ENOMEM : KILN_EPARSE, 0,
						 "%s: %s: bad link target '%s'", l->input, m->name, hl);
		} else if (type == AE_IFLNK) {
			const char *t = archive_entry_symlink(e) ?: "";
			m->type = M_SYMLINK;
			m->link = join_link(m->name, t, &bad);
			if (!m->link)
				return kiln_fail(err, bad == 2 ? KILN_ENOMEM : KILN_EPARSE, 0,
						 "%s: %s: link target '%s' leaves the archive",
						 l->input, m->name, t);
		} else if (type == AE_IFDIR) {
			m->type = M_DIR;
		} else if (type != AE_IFREG) {
			m->type = M_SKIPPED;
		} else if (is_meta(m->name)) {
			m->type = M_META;
			r = read_meta(l, m, archive_entry_size(e), err);
		} else if (is_legacy(m->name)) {
			m->type = M_SKIPPED;
		} else {
			m->type = M_FILE;
			r = read_blob(l, m, archive_entry_size_is_set(e) ? archive_entry_size(e) : -1,
				      err);
		}
		if (r < 0)
			return r;
	}
}

static struct member *find(struct loader *l, const char *name)
{
	for (size_t i = l->n; i-- > 0;)
		if (strcmp(l->m[i].name, name) == 0)
			return &l->m[i];
	return NULL;
}

/* The regular member a path names, following links inside the archive. */
static int resolve(struct loader *l, const char *path, struct member **ret, struct kiln_error *err)
{
	int bad = 0;
	cleanup_free char *name = clean_name(path, &bad);
	if (!name)
		return kiln_fail(err, KILN_EPARSE, 0, "%s: bad path '%s'", l->input, path);
	struct member *m = find(l, name);
	for (int hops = 0; m && (m->type == M_SYMLINK || m->type == M_HARDLINK); hops++) {
		if (hops >= LINK_HOPS_MAX)
			return kiln_fail(err, KILN_ELIMIT, 0, "%s: too many links at '%s'", l->input,
					 path);
		m = find(l, m->link);
	}
	if (!m || m->type != M_FILE || !m->has_blob)
		return kiln_fail(err, KILN_ENOTFOUND, 0, "%s: '%s' is missing from the archive",
				 l->input, path);
	*ret = m;
	return 0;
}

/* Every blob that parsed as a layer, for archive_record_image(). */
static int known_layers(struct loader *l, struct layer_info **ret, size_t *ret_n,
			struct kiln_error *err)
{
	size_t n = 0;
	struct layer_info *k = kiln_calloc(l->n ? l->n : 1, sizeof(*k));
	if (!k)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = 0; i < l->n; i++)
		if (l->m[i].is_layer)
			k[n++] = l->m[i].li;
	*ret = k;
	*ret_n = n;
	return 0;
}

/* ---- docker-archive ------------------------------------------------------------ */

static int docker_manifest(struct loader *l, json_t *item, size_t idx, struct kiln_digest *ret,
			   struct kiln_error *err)
{
	json_t *cfgp = json_object_get(item, "Config");
	json_t *layers = json_object_get(item, "Layers");
	if (!json_is_string(cfgp) || !json_is_array(layers))
		return kiln_fail(err, KILN_EPARSE, 0,
				 "%s: manifest.json entry %zu needs Config and Layers", l->input,
				 idx);
	struct member *cm;
	int r = resolve(l, json_string_value(cfgp), &cm, err);
	if (r < 0)
		return r;
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *cfg = NULL;
	if ((r = kiln_store_config_read(l->st, &cm->digest, &cfg, err)) < 0)
		return kiln_error_prefix(err, r, "%s: %s", l->input, json_string_value(cfgp));
	size_t n = json_array_size(layers);
	if (n != cfg->n_diff_ids)
		return kiln_fail(err, KILN_EPARSE, 0,
				 "%s: manifest.json lists %zu layers but the config %zu", l->input,
				 n, cfg->n_diff_ids);
	int64_t config_size = -1;
	if ((r = kiln_store_blob_has(l->st, &cm->digest, &config_size, err)) < 0)
		return r;
	if (r == 0)
		return kiln_fail(err, KILN_ENOTFOUND, 0, "config %s vanished from the store",
				 cm->digest.str);
	r = 0;
	/* docker media types unless a layer needs OCI's (zstd) */
	int docker = 1;
	struct member **lm = kiln_calloc(n ? n : 1, sizeof(*lm));
	if (!lm)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = 0; r == 0 && i < n; i++) {
		json_t *p = json_array_get(layers, i);
		if (!json_is_string(p)) {
			r = kiln_fail(err, KILN_EPARSE, 0, "%s: manifest.json: layer %zu is not a path",
				      l->input, i);
			break;
		}
		if ((r = resolve(l, json_string_value(p), &lm[i], err)) < 0)
			break;
		if (!lm[i]->is_layer)
			r = kiln_fail(err, KILN_EPARSE, 0, "%s: layer %s cannot be unpacked: %s",
				      l->input, json_string_value(p),
				      lm[i]->why_not_layer ? lm[i]->why_not_layer : "unreadable");
		else if (!kiln_digest_equal(&lm[i]->li.diff_id, &cfg->diff_ids[i]))
			r = kiln_fail(err, KILN_EDIGEST, 0,
				      "%s: layer %s unpacks to %s but the config says %s", l->input,
				      json_string_value(p), lm[i]->li.diff_id.str,
				      cfg->diff_ids[i].str);
		else if (lm[i]->li.compression == KILN_COMPRESSION_ZSTD)
			docker = 0;
	}
	cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
	if (r == 0)
		r = kiln_oci_manifest_new(&m, err);
	if (r == 0 && !(m->media_type = kiln_strdup(docker ? KILN_MT_DOCKER_MANIFEST
							  : KILN_MT_OCI_MANIFEST)))
		r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (r == 0)
		r = kiln_oci_descriptor_set(&m->config,
					    docker ? KILN_MT_DOCKER_CONFIG : KILN_MT_OCI_CONFIG,
					    &cm->digest, config_size, err);
	for (size_t i = 0; r == 0 && i < n; i++) {
		const char *mt = kiln_layer_media_type(
			(enum kiln_compression)lm[i]->li.compression, docker);
		struct kiln_oci_descriptor d = { 0 };
		if (!mt) {
			r = kiln_fail(err, KILN_EUNSUPP, 0,
				      "%s: layer %zu is %s-compressed, which images cannot carry",
				      l->input, i,
				      kiln_compression_name((enum kiln_compression)lm[i]->li.compression));
			break;
		}
		r = kiln_oci_descriptor_set(&d, mt, &lm[i]->digest, lm[i]->li.size, err);
		if (r == 0)
			r = kiln_oci_manifest_add_layer(m, &d, err);
		kiln_oci_descriptor_release(&d);
	}
	free(lm);
	cleanup_free char *json = NULL;
	size_t len = 0;
	if (r == 0)
		r = kiln_oci_manifest_to_json(m, 0, &json, &len, err);
	if (r == 0)
		r = kiln_store_blob_put(l->st, json, len, NULL, ret, err);
	return r;
}

static int repo_tags(struct loader *l, json_t *item, struct kiln_strv *names,
		     struct kiln_error *err)
{
	json_t *tags = json_object_get(item, "RepoTags");
	if (!tags || json_is_null(tags))
		return 0;
	if (!json_is_array(tags))
		return kiln_fail(err, KILN_EPARSE, 0, "%s: manifest.json: RepoTags is not a list",
				 l->input);
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t) {
		if (!json_is_string(t))
			return kiln_fail(err, KILN_EPARSE, 0, "%s: manifest.json: a RepoTag is not a string",
					 l->input);
		char *name = archive_canonical_name(json_string_value(t));
		if (!name)
			return kiln_fail(err, KILN_EPARSE, 0, "%s: manifest.json: invalid RepoTag '%s'",
					 l->input, json_string_value(t));
		if (kiln_strv_find(names, name) >= 0) {
			free(name);
			continue;
		}
		if (kiln_strv_push_owned(names, name) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	return 0;
}

/* Record every pending image in one transaction; fill the result. */
static int record_all(struct loader *l, struct pending *p, size_t n,
		      struct kiln_store_load_result *res, struct kiln_error *err)
{
	struct layer_info *known = NULL;
	size_t n_known = 0;
	int r = known_layers(l, &known, &n_known, err);
	if (r < 0)
		return r;
	r = archive_record_pending(l->st, l->input, p, n, known, n_known, res, err);
	free(known);
	return r;
}

static int load_docker(struct loader *l, struct member *mj, struct kiln_store_load_result *res,
		       struct kiln_error *err)
{
	json_error_t je;
	json_t *arr = json_loadb(mj->data, mj->len, JSON_REJECT_DUPLICATES, &je);
	if (!arr)
		return kiln_fail(err, KILN_EPARSE, 0, "%s: manifest.json: line %d: %s", l->input,
				 je.line, je.text);
	int r = 0;
	size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
	if (!json_is_array(arr) || n == 0)
		r = kiln_fail(err, KILN_EPARSE, 0, "%s: manifest.json is not a list of images",
			      l->input);
	else if (n > KILN_ARCHIVE_IMAGES_MAX)
		r = kiln_fail(err, KILN_ELIMIT, 0, "%s: more than %d images", l->input,
			      KILN_ARCHIVE_IMAGES_MAX);
	struct pending *p = r == 0 ? kiln_calloc(n, sizeof(*p)) : NULL;
	if (r == 0 && !p)
		r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = 0; r == 0 && i < n; i++) {
		json_t *item = json_array_get(arr, i);
		if (!json_is_object(item))
			r = kiln_fail(err, KILN_EPARSE, 0, "%s: manifest.json entry %zu is not an object",
				      l->input, i);
		if (r == 0)
			r = docker_manifest(l, item, i, &p[i].manifest, err);
		if (r == 0)
			r = repo_tags(l, item, &p[i].names, err);
	}
	if (r == 0)
		r = record_all(l, p, n, res, err);
	pending_free(p, n);
	json_decref(arr);
	return r;
}

/* ---- oci-archive --------------------------------------------------------------- */

/* Follow index entries down to a platform manifest (nested indexes are in the store). */
static int oci_entry_manifest(struct loader *l, const struct kiln_oci_descriptor *d, int depth,
			      struct kiln_digest *ret, struct kiln_error *err)
{
	struct kiln_digest dg;
	int r = kiln_oci_descriptor_sha256(d, &dg, err);
	if (r < 0)
		return r;
	/* the archive's blobs are in the store by now: this one, of its size */
	int64_t have = -1;
	if ((r = kiln_store_blob_has(l->st, &dg, &have, err)) < 0)
		return r;
	if (r == 0)
		return kiln_fail(err, KILN_ENOTFOUND, 0, "%s: %s is missing from the archive",
				 l->input, dg.str);
	if (have != d->size)
		return kiln_fail(err, KILN_EDIGEST, 0, "%s: %s has %lld bytes, its entry says %lld",
				 l->input, dg.str, (long long) have, (long long) d->size);
	enum kiln_mt_kind kind = kiln_mt_classify(d->media_type, NULL);
	if (kind == KILN_MT_KIND_MANIFEST) {
		*ret = dg;
		return 0;
	}
	if (kind != KILN_MT_KIND_INDEX)
		return kiln_fail(err, KILN_EUNSUPP, 0, "%s: index entry %s is a '%s', not an image",
				 l->input, d->digest, d->media_type);
	if (depth >= INDEX_DEPTH_MAX)
		return kiln_fail(err, KILN_ELIMIT, 0, "%s: indexes nested too deeply", l->input);
	cleanup_free char *json = NULL;
	size_t len;
	if ((r = kiln_store_blob_read(l->st, &dg, KILN_OCI_MANIFEST_MAX, &json, &len, err)) < 0)
		return kiln_error_prefix(err, r, "%s", l->input);
	cleanup(kiln_oci_index_freep) struct kiln_oci_index *x = NULL;
	if ((r = kiln_oci_index_parse(json, len, &x, err)) < 0)
		return kiln_error_prefix(err, r, "%s: index %s", l->input, dg.str);
	struct kiln_oci_platform host;
	if ((r = kiln_oci_platform_host(&host, err)) < 0)
		return r;
	const struct kiln_oci_descriptor *pick = NULL;
	r = archive_index_pick(x, &host, &pick, err);
	kiln_oci_platform_release(&host);
	if (r < 0)
		return kiln_error_prefix(err, r, "%s: index %s", l->input, dg.str);
	return oci_entry_manifest(l, pick, depth + 1, ret, err);
}

static int load_oci(struct loader *l, struct member *layout, struct member *ij,
		    struct kiln_store_load_result *res, struct kiln_error *err)
{
	if (!layout)
		return kiln_fail(err, KILN_EPARSE, 0, "%s: not an OCI layout: no oci-layout file",
				 l->input);
	int r = kiln_oci_layout_header_parse(layout->data, layout->len, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "%s", l->input);
	cleanup(kiln_oci_index_freep) struct kiln_oci_index *x = NULL;
	if ((r = kiln_oci_index_parse(ij->data, ij->len, &x, err)) < 0)
		return kiln_error_prefix(err, r, "%s: index.json", l->input);
	if (x->n_manifests == 0)
		return kiln_fail(err, KILN_EPARSE, 0, "%s: index.json lists no images", l->input);
	struct pending *p = kiln_calloc(x->n_manifests, sizeof(*p));
	size_t n = 0;
	if (!p)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = 0; r == 0 && i < x->n_manifests; i++) {
		struct kiln_digest md;
		r = oci_entry_manifest(l, &x->manifests[i], 0, &md, err);
		if (r < 0)
			break;
		/* several entries (names) for one image become one image with every name */
		size_t j = 0;
		while (j < n && !kiln_digest_equal(&p[j].manifest, &md))
			j++;
		if (j == n)
			p[n++].manifest = md;
		r = archive_names_from_annotations(&x->manifests[i].annotations, &p[j].names, err);
	}
	if (r == 0)
		r = record_all(l, p, n, res, err);
	pending_free(p, x->n_manifests);
	return r;
}

int kiln_store_load(struct kiln_store *st, const char *path, enum kiln_archive_format format,
		    struct kiln_store_load_result *ret, struct kiln_error *err)
{
	struct loader l = { .st = st, .input = strcmp(path, "-") == 0 ? "stdin" : path };
	cleanup_close int fd = strcmp(path, "-") == 0 ? fcntl(0, F_DUPFD_CLOEXEC, 0)
						 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kiln_fail(err, errno == ENOENT ? KILN_ENOTFOUND : KILN_EIO, errno,
				 "opening %s", l.input);
	struct kiln_store_load_result res = { 0 };
	int r = 0;
	l.buf = kiln_malloc(CHUNK);
	l.a = archive_read_new();
	if (!l.buf || !l.a)
		r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (r == 0 && (archive_read_support_filter_all(l.a) != ARCHIVE_OK ||
		       archive_read_support_format_tar(l.a) != ARCHIVE_OK ||
		       archive_read_open_fd(l.a, fd, 65536) != ARCHIVE_OK))
		r = arch_fail(&l, err, "not a tar archive");
	if (r == 0)
		r = read_all(&l, err);
	struct member *mj = r == 0 ? find(&l, "manifest.json") : NULL;
	struct member *ij = r == 0 ? find(&l, "index.json") : NULL;
	if (r == 0 && mj && mj->type != M_META)
		mj = NULL;
	if (r == 0 && ij && ij->type != M_META)
		ij = NULL;
	if (r == 0) {
		struct member *lay0 = find(&l, "oci-layout");
		enum kiln_archive_format asked = format;
		/* docker 25 writes both: the OCI side keeps the manifest's own digest */
		if (format == KILN_ARCHIVE_AUTO)
			format = ij && lay0 ? KILN_ARCHIVE_OCI : KILN_ARCHIVE_DOCKER;
		if (format == KILN_ARCHIVE_DOCKER && mj) {
			res.format = KILN_ARCHIVE_DOCKER;
			r = load_docker(&l, mj, &res, err);
		} else if (format == KILN_ARCHIVE_OCI && ij) {
			struct member *lay = find(&l, "oci-layout");
			res.format = KILN_ARCHIVE_OCI;
			r = load_oci(&l, lay && lay->type == M_META ? lay : NULL, ij, &res, err);
		} else if (asked == KILN_ARCHIVE_AUTO) {
			r = kiln_fail(err, KILN_EPARSE, 0,
				      "%s: neither a docker-archive nor an oci-archive: it has no "
				      "manifest.json or index.json",
				      l.input);
		} else {
			r = kiln_fail(err, KILN_EPARSE, 0, "%s: not a %s: it has no %s", l.input,
				      asked == KILN_ARCHIVE_OCI ? "oci-archive" : "docker-archive",
				      asked == KILN_ARCHIVE_OCI ? "index.json" : "manifest.json");
		}
	}
	loader_release(&l);
	if (r < 0) {
		kiln_store_load_result_release(&res);
		return r;
	}
	*ret = res;
	return 0;
}
